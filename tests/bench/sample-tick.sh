#!/bin/sh
# The cost of one sample tick for 1000 containers (250 pods x 4) on this
# machine's real cgroups; run as root from the checkout:
#   tests/bench/sample-tick.sh [BUILD_DIR] [-p PODS] [-c PER_POD] [-t TICKS]
set -eu
cd "$(dirname "$0")/../.."
dir="${1:-build}"
[ $# -gt 0 ] && shift
./packaging/build.sh "$dir" >/dev/null
exec "$dir/tests/bench/bench-sample-tick" "$@"
