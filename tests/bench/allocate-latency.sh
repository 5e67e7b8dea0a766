#!/bin/sh
# Allocate latency of the QRM cpu plugin over its unix socket at a fixed
# open-loop rate (default 200 requests/s for 20 s; goal: p99 <= 1 ms),
# against a nodeqosd of its own (configuration, sockets and checkpoint in
# a temporary directory under /var/tmp, on disk like /var/lib/nodeqos).
# Run as root from the checkout:
#   tests/bench/allocate-latency.sh [BUILD_DIR] [RATE_PER_SEC [SECONDS [LIVE]]]
# LIVE > 0 keeps about LIVE pods (each removed LIVE requests after its
# Allocate) instead of accumulating all of them (bench-allocate.c).
# NODEQOS_BENCH_TMPDIR=/dev/shm puts the checkpoint on tmpfs (no disk
# flush), to tell the checkpoint's cost apart.
set -eu
cd "$(dirname "$0")/../.."
dir="${1:-build}"
[ $# -gt 0 ] && shift
./packaging/build.sh "$dir" >/dev/null

work=$(mktemp -d "${NODEQOS_BENCH_TMPDIR:-/var/tmp}/nodeqos-bench-allocate.XXXXXX")
pid=
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir "$work/plugins"
cat >"$work/nodeqos.yaml" <<CONFIG
runtime_dir: $work/run
api: {admin_socket: $work/run/nodeqos.sock, kubelet_plugin_dir: $work/plugins, state_dir: $work/state}
metrics: {enabled: false}
CONFIG
"$dir/agent/nodeqosd" --config "$work/nodeqos.yaml" 2>"$work/nodeqosd.log" &
pid=$!

socket="$work/plugins/nodeqos-cpu.sock"
i=0
until [ -S "$socket" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
                echo "nodeqosd did not start:" >&2
                cat "$work/nodeqosd.log" >&2
                exit 1
        fi
        sleep 0.1
done

uptime
"$dir/tests/bench/bench-allocate" "$socket" "$@"
