#!/usr/bin/env bash
# Probe overhead (docs/architecture.md, performance budgets): the reference syscall storm and compile workload,
# alone, with `vigild trace` attached, and (storm only) with an equivalent bpftrace script. Prints the
# median of N runs of each and the ratios next to the design budgets. Printed, never asserted.
#
# Env: ROUNDS (storm rounds, default 1000000), N (runs per configuration, default 5),
#      VIGIL_SHARED_BENCH (folder of syscall-storm.c and compile-workload.sh, default ../shared/bench
#      beside the repository), SKIP_BPFTRACE=1 (the bpftrace runs take about 7x the storm each),
#      RULES (colon-separated rule files or directories: measure the whole daemon, `vigild run
#      --rules` with each, instead of `vigild trace`; the probes then send what those rules need,
#      e.g. RULES=rules against RULES=../shared/falco/falco_rules.yaml for Falco's stable file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${VIGIL_SHARED_BENCH:-$root/../shared/bench}
ROUNDS=${ROUNDS:-1000000}
N=${N:-5}
[ -f "$shared/syscall-storm.c" ] || { echo "overhead.sh: no $shared/syscall-storm.c (set VIGIL_SHARED_BENCH)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "overhead.sh: needs root (BPF)" >&2; exit 1; }

work=$(mktemp -d /tmp/vigil-bench.XXXXXX)
tracer_pid=
bt_pid=
cleanup() {
	[ -n "$tracer_pid" ] && kill "$tracer_pid" 2>/dev/null && wait "$tracer_pid" 2>/dev/null
	[ -n "$bt_pid" ] && kill "$bt_pid" 2>/dev/null && wait "$bt_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

storm=$work/syscall-storm
cc -O2 -o "$storm" "$shared/syscall-storm.c"
compile() { rm -f "$work"/out/*.o; mkdir -p "$work/out"; sh "$shared/compile-workload.sh" "$work/out"; }
run_storm() { "$storm" "$ROUNDS"; }

# Seconds (with ns) that "$@" took.
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}
# Median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
show_runs() { local label=$1; shift; printf '  %-22s runs: %s\n' "$label" "$(printf '%.3f ' "$@")" >&2; }
# Median of N timed runs of "$@"; the single runs go to stderr.
median_of() {
	local label=$1; shift
	local times=()
	for _ in $(seq 1 "$N"); do times+=("$(timed "$@")"); done
	show_runs "$label" "${times[@]}"
	median "${times[@]}"
}
# Alone and with vigil, interleaved run by run (a fresh tracer for each), so that drift in the
# machine's load hits both alike. Sets alone_med and vigil_med.
alone_vs_vigil() {
	local a=() v=() counters=
	for _ in $(seq 1 "$N"); do
		a+=("$(timed "$@")")
		start_vigil
		v+=("$(timed "$@")")
		counters=$(vigil_counters)
		stop_vigil
	done
	show_runs alone "${a[@]}"
	show_runs vigil "${v[@]}"
	echo "  vigil (last run): $counters" >&2
	alone_med=$(median "${a[@]}")
	vigil_med=$(median "${v[@]}")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# Wait until FILE contains PATTERN or the process PID dies; 30 s at most.
wait_for() {
	local file=$1 pattern=$2 pid=$3
	for _ in $(seq 1 300); do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "overhead.sh: process exited before '$pattern':" >&2; cat "$file" >&2; return 1; }
		sleep 0.1
	done
	echo "overhead.sh: timed out waiting for '$pattern':" >&2; cat "$file" >&2; return 1
}

start_vigil() {
	if [ -n "${RULES:-}" ]; then
		local args=() r
		IFS=: read -ra rule_paths <<<"$RULES"
		for r in "${rule_paths[@]}"; do args+=(--rules "$r"); done
		rm -rf "$work/data"
		bin/vigild run "${args[@]}" --data-dir "$work/data" --api-socket "$work/vigil.sock" --http "127.0.0.1:$((19400 + RANDOM % 400))" >/dev/null 2>"$work/vigil.err" &
		tracer_pid=$!
		wait_for "$work/vigil.err" '"msg":"vigild ready"' "$tracer_pid"
	else
		bin/vigild trace -o json >/dev/null 2>"$work/vigil.err" &
		tracer_pid=$!
		wait_for "$work/vigil.err" 'vigild trace: ready' "$tracer_pid"
	fi
	sleep 0.3 # let the start-up work (process table seeding) finish before timing
}
# Emitted/dropped totals of the kernel counters (vg_counters) of OUR tracer, read while it runs: the
# map is found through the tracer's own fds (another tracer on the machine has its own map).
vigil_counters() {
	VIGIL_PID=$tracer_pid node -e '
		const { execFileSync } = require("node:child_process");
		const fs = require("node:fs");
		try {
			const pid = process.env.VIGIL_PID, ids = new Set();
			for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
				const m = /^map_id:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
				if (m) ids.add(Number(m[1]));
			}
			const maps = JSON.parse(execFileSync("bpftool", ["-j", "map", "show"], { encoding: "utf8" }));
			const map = maps.find((m) => m.name === "vg_counters" && ids.has(m.id));
			if (!map) throw new Error("no vg_counters map among the tracer fds");
			const dump = JSON.parse(execFileSync("bpftool", ["-j", "map", "dump", "id", String(map.id)], { encoding: "utf8" }));
			let emitted = 0n, dropped = 0n;
			for (const entry of dump) for (const v of entry.formatted.values) {
				for (const x of v.value.emitted) emitted += BigInt(x);
				for (const x of v.value.dropped) dropped += BigInt(x);
			}
			console.log(`kernel records emitted ${emitted}, dropped ${dropped}`);
		} catch (e) { console.log(`kernel counters: unreadable (${e.message})`); }' 
}
stop_vigil() {
	kill -TERM "$tracer_pid"; wait "$tracer_pid" || true; tracer_pid=
}

# What the design's bpftrace comparison does: print every openat, stat and execve.
BT_SCRIPT='
BEGIN { printf("vgl-ready\n"); }
tracepoint:syscalls:sys_enter_openat { printf("%d %s openat %s\n", pid, comm, str(args->filename)); }
tracepoint:syscalls:sys_enter_newfstatat { printf("%d %s stat %s\n", pid, comm, str(args->filename)); }
tracepoint:syscalls:sys_enter_statx { printf("%d %s statx %s\n", pid, comm, str(args->filename)); }
tracepoint:syscalls:sys_enter_newstat { printf("%d %s stat %s\n", pid, comm, str(args->filename)); }
tracepoint:syscalls:sys_enter_execve { printf("%d %s execve %s\n", pid, comm, str(args->filename)); }
'
start_bpftrace() {
	if [ ! -d /sys/kernel/tracing/events ]; then
		echo "  (mounting tracefs on /sys/kernel/tracing for bpftrace)" >&2
		mount -t tracefs tracefs /sys/kernel/tracing
	fi
	: >"$work/bt.ready"
	rm -f "$work/bt.fifo"; mkfifo "$work/bt.fifo"
	# The reader marks readiness at bpftrace's first line, then discards the rest as fast as it can.
	{ read -r _; echo ready >"$work/bt.ready"; cat >/dev/null; } <"$work/bt.fifo" &
	bpftrace -e "$BT_SCRIPT" >"$work/bt.fifo" 2>"$work/bt.err" &
	bt_pid=$!
	wait_for "$work/bt.ready" ready "$bt_pid"
}
stop_bpftrace() {
	kill -INT "$bt_pid" 2>/dev/null || true
	wait "$bt_pid" 2>/dev/null || true; bt_pid=
	wait # the reader ends at bpftrace's end of output
	grep -i 'lost' "$work/bt.err" | sed 's/^/  bpftrace: /' || true
}

echo "vigil probe overhead: syscall storm ($ROUNDS rounds + 300 fork/exec), compile workload (25 cc), median of $N"
echo "kernel $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
if [ -n "${RULES:-}" ]; then echo "vigil: vigild run --rules ${RULES//:/ --rules }"; else echo "vigil: vigild trace (default syscalls and watches)"; fi
compile >/dev/null # warm the compiler's caches once

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes the ratios noisy)"
echo "storm:"
alone_vs_vigil run_storm
storm_alone=$alone_med storm_vigil=$vigil_med
if [ "${SKIP_BPFTRACE:-0}" != 1 ]; then
	start_bpftrace
	storm_bt=$(median_of bpftrace run_storm)
	stop_bpftrace
else
	storm_bt=
fi
echo "compile:"
alone_vs_vigil compile
compile_alone=$alone_med compile_vigil=$vigil_med
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
printf '%-10s %10s %10s %10s %12s %12s   %s\n' workload alone vigil bpftrace vigil/alone bpftrace/alone budget
printf '%-10s %9.3fs %9.3fs %10s %11sx %13s   %s\n' storm "$storm_alone" "$storm_vigil" \
	"${storm_bt:+$(printf '%.3fs' "$storm_bt")}" "$(ratio "$storm_vigil" "$storm_alone")" \
	"${storm_bt:+$(ratio "$storm_bt" "$storm_alone")x}" "<= 1.25x (floor 1.19x: empty programs on every syscall; bpftrace 7.6x)"
printf '%-10s %9.3fs %9.3fs %10s %11sx %13s   %s\n' compile "$compile_alone" "$compile_vigil" "" \
	"$(ratio "$compile_vigil" "$compile_alone")" "" "<= 1.03x"
