#!/usr/bin/env bash
# CPU overhead of recording (goal 6): instructions per message of examples/overhead.rs, counted by
# callgrind, in three modes: `on` (recording), `idle` (handles resolved, nothing recorded: the
# same heap as `on`) and `off` (no metrics at all). Each mode runs for N and 2N messages; the
# difference is the steady-state cost of N messages, so start-up cancels out.
#
# Prints two lines:
#   overhead: <percent>% (on <instr>/msg, idle <instr>/msg)    diagnostic: recording alone, same heap
#   overhead_vs_off: <percent>% (on <instr>/msg, off <instr>/msg)   the goal: metrics on vs off
# The second also moves with where glibc's malloc finds free chunks once the handles' memory is
# allocated (a few dozen instructions per message either way; see BENCHMARKS.md).
# OVERHEAD_MESSAGES sets N (default 100000: one second of 100k messages/s).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "overhead: valgrind is not on PATH" >&2
    exit 2
fi
n="${OVERHEAD_MESSAGES:-100000}"
cargo build --quiet --release --example overhead
bin="${CARGO_TARGET_DIR:-target}/release/examples/overhead"

# Instructions executed (callgrind's Ir total) by one run.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 >/dev/null \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

per_n() { echo $(( $(instructions "$1" $((2 * n))) - $(instructions "$1" "$n") )); }
on=$(per_n on)
idle=$(per_n idle)
off=$(per_n off)
awk -v on="$on" -v idle="$idle" -v off="$off" -v n="$n" 'BEGIN {
    printf "overhead: %.4f%% (on %.1f instr/msg, idle %.1f instr/msg)\n", 100 * (on - idle) / idle, on / n, idle / n
    printf "overhead_vs_off: %.4f%% (on %.1f instr/msg, off %.1f instr/msg)\n", 100 * (on - off) / off, on / n, off / n
}'
