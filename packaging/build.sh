#!/bin/sh
# Configures (or reconfigures) and builds nodeqos in a build directory.
# Usage: packaging/build.sh [BUILD_DIR] [MESON_SETUP_OPTIONS...]
set -eu

cd "$(dirname "$0")/.."
dir="${1:-build}"
[ $# -gt 0 ] && shift

if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null
else
        meson setup "$dir" -Dwerror=true "$@"
fi
meson compile -C "$dir"
