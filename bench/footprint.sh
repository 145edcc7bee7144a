#!/usr/bin/env bash
# Daemon footprint: RSS of bin/vigild idle with one running runc container (after its first sweeps
# and forecasts), then its peak RSS while two eventgen processes open files below a watched directory
# at 50,000/s each
# (100,000 events/s through the ring buffer, decoders, enrichment and the detector) and 20 gRPC
# subscribers take every event and alert (bench/subscribers.ts, a process of its own), with the drop
# counters at the end. RSS is the daemon process's: every thread (the forecast worker too) shares it.
# Budgets (docs/architecture.md, performance budgets): under 100 MB idle, under 200 MB at 100k events/s.
# Usage: bench/footprint.sh [IDLE_SECONDS=180] [LOAD_SECONDS=40]   (LOAD_SECONDS=0: idle only)
# Env: VIGILD (the launcher, default bin/vigild; one that execs node, to compare flags side by side),
#      SUBSCRIBERS (default 20), QUEUE_SIZE (the queue_size each subscriber asks for; default the
#      daemon's), SMAPS (a file: /proc/PID/smaps at the end of the idle window).
# Idle is read after 180 s by default: the first forecasts run about 60 s in (once series have 12
# points) and the worker's WASM memory settles by about 150 s.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-180}
load=${2:-40}
vigild=${VIGILD:-bin/vigild}
subscribers=${SUBSCRIBERS:-20}
dir=$(mktemp -d)
# The load phase opens 16,384 files below one watched directory in turn: the probes coalesce repeated
# opens of one file (one record a second per process and file), so one file would send a few records.
watched=$dir/gen/
mkdir -p "$watched"
port=$((19500 + RANDOM % 400))
node dist/js/bench/hold-container.js > "$dir/container" & holder=$!
for _ in $(seq 1 100); do [ -s "$dir/container" ] && break; sleep 0.2; done
[ -s "$dir/container" ] || { echo "footprint: the container did not start" >&2; exit 1; }
# The default configuration but for the monitored targets: the host and this one container, where
# the default (all, host) would also sample and forecast the containers that other users' tests start
# on a shared machine; the budget is for a host with one container. The events of every process on
# the host still go through the sensor.
printf 'sensor:\n  watches: ["prefix:%s"]\ndefault_targets: ["host", "id:%s"]\n' "$watched" "$(cat "$dir/container")" > "$dir/vigild.yaml"
"$vigild" run --config "$dir/vigild.yaml" --data-dir "$dir" --http "127.0.0.1:$port" --api-socket "$dir/vigil.sock" > "$dir/log" 2>&1 &
daemon=$!
subs=
trap 'kill $daemon $holder $subs 2>/dev/null; wait $daemon $holder $subs 2>/dev/null; rm -rf "$dir"' EXIT
# The idle clock starts once the daemon is ready (probes verified and attached, API up): on a busy
# machine the verifier alone can take a minute.
started=$SECONDS
until grep -q '"msg":"vigild ready"' "$dir/log" 2>/dev/null; do
	kill -0 "$daemon" 2>/dev/null || { echo "footprint: vigild exited:" >&2; tail -5 "$dir/log" >&2; exit 1; }
	[ $((SECONDS - started)) -lt 600 ] || { echo "footprint: vigild not ready after 600 s" >&2; exit 1; }
	sleep 1
done
echo "footprint: $vigild (pid $daemon) ready after $((SECONDS - started)) s, machine load:$(uptime | sed 's/.*load average://')"
# A metric's sum over its labels from /metrics, printed with the format $2 (default an integer; GC
# seconds want "%.2f"); 0 when the daemon does not answer within 10 s (under a flood its event loop
# can be that busy), never a failure that would end the script.
metric() { { curl -s --max-time 10 "http://127.0.0.1:$port/metrics" || true; } | awk -v re="^$1" -v fmt="${2:-%d}" '$0 ~ re { s += $NF } END { printf fmt, s }'; }
fmetric() { metric "$1" '%.2f'; }
# The daemon's CPU time in clock ticks (user and system, every thread): what a memory lever costs in
# work, printed next to what it saves.
cpu() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
rss() { awk '/^VmRSS/{print int($2/1024)}' "/proc/$daemon/status"; }
# Anonymous (heaps, WASM memory, stacks), file-backed (node's binary text, shared with every node
# process, and the ring buffer's pages, which are a mapped BPF map) and shared memory, in MB.
parts() { awk '/^Rss(Anon|File|Shmem)/{sub(/^Rss/, "", $1); printf "%s %d ", $1, $2/1024}' "/proc/$daemon/status"; }
# Sampled every 5 s: a forecast round (every 30 s) makes the forecast worker busy for a second or two,
# so one sample alone says little; the mean and the maximum from 60 s on (after the first sweeps and
# fits) are the figures to compare.
events0=$(metric 'vigil_events_total'); t0=$SECONDS
sum=0; n=0; max=0
for t in $(seq 5 5 "$idle"); do
	sleep 5
	r=$(rss)
	if [ "$t" -ge 60 ]; then sum=$((sum + r)); n=$((n + 1)); [ "$r" -gt "$max" ] && max=$r; fi
	if [ $((t % 30)) -eq 0 ]; then echo "idle ${t} s: RSS ${r} MB ($(parts)), threads $(awk '/^Threads/{print $2}' "/proc/$daemon/status")"; fi
done
[ "$n" -gt 0 ] || { echo "footprint: IDLE_SECONDS must be at least 60" >&2; exit 1; }
# Where the resident pages are at the end of the idle window: the largest mappings by name (anonymous
# ones together), in MB.
awk '/^[0-9a-f]+-[0-9a-f]+ /{name = (NF >= 6 ? $6 : "[anon]")} /^Rss:/{rss[name] += $2}
	END {for (m in rss) if (rss[m] >= 1024) printf "%d %s\n", rss[m] / 1024, m}' "/proc/$daemon/smaps" |
	sort -rn | head -8 | awk '{printf "  %4d MB  %s\n", $1, $2}'
# RSS counts every mapped page once per mapping: node's text, shared with every node process on the
# host, in full, and the ring buffer's data (mapped once by native/src/poller.cc). PSS shares each page
# among its mappings; private pages are this process's alone.
echo "  PSS $(awk '/^Pss:/{print int($2/1024)}' "/proc/$daemon/smaps_rollup") MB, private $(awk '/^Private_(Clean|Dirty):/{s += $2} END {print int(s/1024)}' "/proc/$daemon/smaps_rollup") MB (context only: the budget is RSS)"
# The main thread's V8 heap by space (the forecast worker's is not in these), committed MB.
heap() { echo "  main V8 heap: $(curl -s --max-time 10 "http://127.0.0.1:$port/metrics" | awk -F'[="}]+' '/^nodejs_heap_space_size_total_bytes/ && $NF > 0 {printf "%s %d, ", $2, $NF / 1048576}')external $(($(metric 'nodejs_external_memory_bytes') / 1048576))"; }
heap
[ -n "${SMAPS:-}" ] && cp "/proc/$daemon/smaps" "$SMAPS"
mean=$((sum / n))
# What "idle" was: the events the sensor decoded meanwhile (every process on the host, other users'
# tests included), the targets sampled and the containers running.
events1=$(metric 'vigil_events_total')
if [ "$events0" -gt 0 ] && [ "$events1" -gt 0 ]; then events="$(((events1 - events0) / (SECONDS - t0))) events/s"; else events="(/metrics did not answer) events/s"; fi
echo "idle window: ${events} decoded, $(metric 'vigil_metrics_sweep_targets') targets sampled, $(metric 'vigil_containers\\{state="running"') containers running on the host"
echo "IDLE RSS with one container, ${idle} s: mean ${mean} MB, max ${max} MB from 60 s on (budget 100 MB: $([ "$max" -lt 100 ] && echo met || echo NOT met)), machine load:$(uptime | sed 's/.*load average://')"
[ "$load" -gt 0 ] || exit 0
node dist/js/bench/subscribers.js "$dir/vigil.sock" "$subscribers" > "$dir/subs" & subs=$!
for _ in $(seq 1 300); do grep -q ready "$dir/subs" 2>/dev/null && break; sleep 0.2; done
grep -q ready "$dir/subs" || { echo "footprint: the subscribers did not connect" >&2; exit 1; }
dist/helpers/eventgen "${watched}a" 50000 "$load" 16384 > "$dir/gen1" & g1=$!
dist/helpers/eventgen "${watched}b" 50000 "$load" 16384 > "$dir/gen2" & g2=$!
peak=0; cpu0=$(cpu); gc0=$(fmetric 'nodejs_gc_duration_seconds_sum'); major0=$(fmetric 'nodejs_gc_duration_seconds_sum\\{kind="major"'); decoded0=$(metric 'vigil_events_total'); t0=$SECONDS
for _ in $(seq 1 "$load"); do
	sleep 1
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
done
wait $g1 $g2
rate=$(cat "$dir/gen1" "$dir/gen2" | sed -n 's/.*"rate":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s }')
echo "LOAD peak RSS at ${rate} events/s for ${load} s with ${subscribers} subscribers: ${peak} MB (budget 200 MB: $([ "$peak" -lt 200 ] && echo met || echo NOT met)), now $(parts), machine load:$(uptime | sed 's/.*load average://')"
# The same at the end of the load (committed MB, live data is less): what the heap grew to.
heap
cpu1=$(cpu); gc1=$(fmetric 'nodejs_gc_duration_seconds_sum'); major1=$(fmetric 'nodejs_gc_duration_seconds_sum\\{kind="major"'); decoded1=$(metric 'vigil_events_total')
ticks=$(getconf CLK_TCK)
awk -v c=$((cpu1 - cpu0)) -v hz="$ticks" -v t=$((SECONDS - t0)) -v n=$((decoded1 - decoded0)) -v g0="$gc0" -v g1="$gc1" -v m0="$major0" -v m1="$major1" 'BEGIN {
	printf "daemon CPU over the load: %.1f s in %d s (%.0f%% of one core), %.1f us per event decoded; GC %.1f s, of which major %.1f s\n",
		c / hz, t, 100 * c / hz / t, (n > 0 ? 1e6 * c / hz / n : 0), g1 - g0, m1 - m0 }'
{ curl -s --max-time 30 "http://127.0.0.1:$port/metrics" || echo 'footprint: /metrics did not answer' >&2; } | awk '
	/^vigil_events_total\{kind="file"\}/ { print "file events decoded: " $2 }
	/^vigil_events_dropped_total/ { drops += $2 }
	/^vigil_detector_queue_dropped_total/ { drops += $2 }
	/^vigil_subscriber_dropped_total/ { lost += $2 }
	END { print "events dropped (kernel, queues, detector): " drops; print "messages the subscribers lost (their queues full): " lost }'
kill "$subs"; wait "$subs" 2>/dev/null || true; subs=
echo "subscribers: $(tail -1 "$dir/subs")"
