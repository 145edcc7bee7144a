#!/bin/sh
# Fault benchmark (issue 12): full disk, torn LevelDB log, kill -9 in a flood; prints alerts produced,
# persisted, delivered, lost and reused for each fault. Needs root (tmpfs, BPF) and `make build`.
# A thin driver around the scenarios of test/integration/faults.ts (the tests assert the same things).
set -eu
cd "$(dirname "$0")/.."
exec node dist/js/bench/faults.js "$@"
