#!/usr/bin/env bash
# make soak-containers: the checks whose outcome used to depend on scheduling (container identity
# and posture, `vigil ps`, the DoS techniques), run SOAK_RUNS times in a row (default 20) on an idle
# machine and again beside two CPU-bound processes, with a pass count per check. Not part of
# `make test`. Exit status 1 when any run of any check failed; each failed run's output is kept
# under $SOAK_LOGS (default dist/soak) for a look.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${SOAK_RUNS:-20}
logs=${SOAK_LOGS:-dist/soak}
mkdir -p "$logs"
js=dist/js/test/integration

# name | test file | test name pattern ('' for the whole file)
checks=(
	"containers|$js/containers.test.js|"
	"cli ps|$js/cli.test.js|^ps "
	"dos fork bomb|$js/techniques-dos.test.js|"
	"dos daemon|$js/dos-daemon.test.js|"
)

hogs=()
stop_hogs() {
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
	hogs=()
}
trap stop_hogs EXIT

declare -A passed
failed_any=0
for load in idle cpu; do
	if [ "$load" = cpu ]; then
		for _ in 1 2; do
			(while :; do :; done) &
			hogs+=("$!")
		done
	fi
	for ((i = 1; i <= runs; i++)); do
		for c in "${checks[@]}"; do
			IFS='|' read -r name file pattern <<<"$c"
			# No --test-force-exit: it can drop a file's last verdicts (nodejs/node#64833); the time
			# limit ends a file that leaves a handle open instead.
			args=(--test --test-concurrency=1 --test-timeout=300000)
			[ -n "$pattern" ] && args+=("--test-name-pattern=$pattern")
			out=$(timeout --kill-after=10 900 node "${args[@]}" "$file" 2>&1)
			rc=$?
			# A run passes when the file exits 0 with at least one test passed and none failed (a name
			# pattern makes the file's other tests count as skipped).
			if [ $rc -eq 0 ] && grep -Eq '^# pass [1-9]' <<<"$out" && grep -Eq '^# fail 0$' <<<"$out"; then
				passed["$load|$name"]=$((${passed["$load|$name"]:-0} + 1))
				verdict=pass
			else
				failed_any=1
				verdict=FAIL
				printf '%s\n' "$out" >"$logs/${load}-${name// /-}-run$i.log"
			fi
			# One line a check and run, so an interrupted soak still leaves its counts.
			printf '%s run %d/%d %s: %s\n' "$load" "$i" "$runs" "$name" "$verdict" >&2
		done
	done
	stop_hogs
done

printf '\n%-16s %10s %16s\n' check idle "2 CPU hogs"
for c in "${checks[@]}"; do
	IFS='|' read -r name _ _ <<<"$c"
	printf '%-16s %10s %16s\n' "$name" "${passed["idle|$name"]:-0}/$runs" "${passed["cpu|$name"]:-0}/$runs"
done
exit $failed_any
