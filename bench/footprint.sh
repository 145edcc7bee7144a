#!/usr/bin/env bash
# Daemon footprint: RSS of bin/vigild idle with one running runc container (after its first sweeps
# and forecasts), then its peak RSS
# while two eventgen processes open a watched file at 50,000/s each (100,000 events/s through the
# ring buffer, decoders, enrichment and the detector), with the drop counters at the end.
# Budgets (docs/architecture.md, performance budgets): under 100 MB idle, under 200 MB at 100k events/s.
# Usage: bench/footprint.sh [IDLE_SECONDS=180] [LOAD_SECONDS=40]
# Idle is read after 180 s by default: the forecast worker starts with the first fits (about 60 s in,
# once series have 12 points) and its WASM memory settles by about 150 s.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-180}
load=${2:-40}
dir=$(mktemp -d)
watched=$dir/watched
port=$((19500 + RANDOM % 400))
touch "$watched"
printf 'sensor:\n  watches: ["exact:%s"]\n' "$watched" > "$dir/vigild.yaml"
node dist/js/bench/hold-container.js > "$dir/container" & holder=$!
for _ in $(seq 1 100); do [ -s "$dir/container" ] && break; sleep 0.2; done
[ -s "$dir/container" ] || { echo "footprint: the container did not start" >&2; exit 1; }
bin/vigild run --config "$dir/vigild.yaml" --data-dir "$dir" --http "127.0.0.1:$port" --api-socket "$dir/vigil.sock" > "$dir/log" 2>&1 &
daemon=$!
trap 'kill $daemon $holder 2>/dev/null; wait $daemon $holder 2>/dev/null; rm -rf "$dir"' EXIT
rss() { awk '/^VmRSS/{print int($2/1024)}' "/proc/$daemon/status"; }
# Anonymous (heaps, WASM memory, ring buffer pages touched), file-backed (node's binary text, shared
# with every node process) and shared memory, in MB.
parts() { awk '/^Rss(Anon|File|Shmem)/{sub(/^Rss/, "", $1); printf "%s %d ", $1, $2/1024}' "/proc/$daemon/status"; }
# Sampled every 5 s: a forecast round (every 30 s) starts the forecast worker for a second or two
# (it stops again after 5 s without work), so one sample alone says little; the mean and the maximum
# from 60 s on (after the first sweeps and fits) are the figures to compare.
sum=0; n=0; max=0
for t in $(seq 5 5 "$idle"); do
	sleep 5
	r=$(rss)
	if [ "$t" -ge 60 ]; then sum=$((sum + r)); n=$((n + 1)); [ "$r" -gt "$max" ] && max=$r; fi
	if [ $((t % 30)) -eq 0 ]; then echo "idle ${t} s: RSS ${r} MB ($(parts))"; fi
done
[ "$n" -gt 0 ] || { echo "footprint: IDLE_SECONDS must be at least 60" >&2; exit 1; }
echo "idle RSS with one container, ${idle} s: mean $((sum / n)) MB, max ${max} MB from 60 s on, last $(rss) MB (budget 100 MB)"
dist/helpers/eventgen "$watched" 50000 "$load" > "$dir/gen1" & g1=$!
dist/helpers/eventgen "$watched" 50000 "$load" > "$dir/gen2" & g2=$!
peak=0
for _ in $(seq 1 "$load"); do
	sleep 1
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
done
wait $g1 $g2
rate=$(cat "$dir/gen1" "$dir/gen2" | sed -n 's/.*"rate":\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s }')
echo "peak RSS at ${rate} events/s for ${load} s: ${peak} MB (budget 200 MB)"
curl -s "http://127.0.0.1:$port/metrics" | awk '
	/^vigil_events_total\{kind="file"\}/ { print "file events decoded: " $2 }
	/^vigil_events_dropped_total/ { drops += $2 }
	/^vigil_detector_queue_dropped_total/ { drops += $2 }
	END { print "events dropped (kernel, queues, detector): " drops }'
