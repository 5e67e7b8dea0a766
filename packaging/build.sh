#!/bin/sh
# Configures (or reconfigures) and builds nodeqos in a build directory.
# Usage: packaging/build.sh [BUILD_DIR] [MESON_SETUP_OPTIONS...]
set -eu

cd "$(dirname "$0")/.."
dir="${1:-build}"
[ $# -gt 0 ] && shift

# -Dbpf=enabled: the eBPF sensors are part of the agent; a machine that
# cannot build them (no clang, bpftool or kernel BTF) fails here, loudly,
# rather than building an agent without them.
if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" -Dwerror=true -Dbpf=enabled "$@" >/dev/null
else
        meson setup "$dir" -Dwerror=true -Dbpf=enabled "$@"
fi
meson compile -C "$dir"
