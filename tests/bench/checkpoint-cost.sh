#!/bin/sh
# What one QRM checkpoint save costs at 100, 1000 and 5000 pods: building
# the text, and each way of making it durable (bench-checkpoint.c), in a
# temporary directory under /var/tmp (on disk, like /var/lib/nodeqos).
#   tests/bench/checkpoint-cost.sh [BUILD_DIR] [ITERATIONS]
# NODEQOS_BENCH_TMPDIR=/dev/shm measures without the disk.
set -eu
cd "$(dirname "$0")/../.."
dir="${1:-build}"
[ $# -gt 0 ] && shift
./packaging/build.sh "$dir" >/dev/null

work=$(mktemp -d "${NODEQOS_BENCH_TMPDIR:-/var/tmp}/nodeqos-bench-checkpoint.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
uptime
"$dir/tests/bench/bench-checkpoint" "$work" "$@"
