#!/bin/sh
# The agent's CPU time for one scrape of /metrics on a node of 1000
# containers (250 pods x 4, a fixture state: no root needed); run from the
# checkout:
#   tests/bench/metrics-scrape.sh [BUILD_DIR] [-p PODS] [-c PER_POD] [-n SCRAPES]
set -eu
cd "$(dirname "$0")/../.."
dir="${1:-build}"
[ $# -gt 0 ] && shift
./packaging/build.sh "$dir" >/dev/null
exec "$dir/tests/bench/bench-metrics-scrape" "$@"
