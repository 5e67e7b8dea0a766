#!/bin/sh
# Builds nodeqos and runs the whole test suite (as root: the integration
# tests use real cgroups, eBPF and signals). The last line is the count.
# Usage: tests/run-suite.sh [BUILD_DIR] [MESON_SETUP_OPTIONS...]
set -eu

cd "$(dirname "$0")/.."
dir="${1:-build}"
[ $# -gt 0 ] && shift

./packaging/build.sh "$dir" "$@"

# Undefined behaviour and leaks fail the tests in sanitizer builds.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

status=0
meson test -C "$dir" --print-errorlogs || status=$?

/usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0, "ERROR": 0}
with open(sys.argv[1]) as f:
    for line in f:
        line = line.strip()
        if line:
            r = json.loads(line)["result"]
            counts[r] = counts.get(r, 0) + 1
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["UNEXPECTEDPASS"] + counts["ERROR"]
print("%d passed, %d failed, %d skipped" % (passed, failed, counts["SKIP"]))
PY
exit $status
