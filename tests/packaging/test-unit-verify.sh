#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks the generated systemd unit offline (systemd need not be PID 1):
# systemd-analyze verify on a copy whose Exec lines run the freshly built
# daemon, the settings the daemon relies on, the hardening exposure score,
# and that the shipped default configuration passes --check-config.
#
# Usage: test-unit-verify.sh UNIT DAEMON CONFIG
# Exit: 0 pass, 1 fail, 77 skip (systemd-analyze not installed).

set -eu

# Exposure score from `systemd-analyze security`, 0..100 (the score shown
# times 10). The unit scores 32 on systemd 252; dropping a hardening setting
# by accident pushes it over this.
readonly MAX_EXPOSURE=40

if [ $# -ne 3 ]; then
        echo "usage: $0 UNIT DAEMON CONFIG" >&2
        exit 1
fi
# meson passes build-tree paths relative to the build directory; Exec lines
# need absolute ones.
unit=$(realpath -- "$1")
daemon=$(realpath -- "$2")
config=$(realpath -- "$3")

if ! command -v systemd-analyze >/dev/null 2>&1; then
        echo "SKIP: systemd-analyze not installed"
        exit 77
fi

failures=0
fail() {
        echo "FAIL: $*"
        failures=$((failures + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nodeqos-unit-verify.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# The unit's name must stay nodeqosd.service: verify derives the type from it
# and the output filter below looks for it.
copy=$tmp/nodeqosd.service

# Every Exec line that runs the installed daemon runs the built one instead,
# so that verify's "is executable" check means something before installation.
sed -E "s#^(Exec[A-Za-z]*=[-+!@:]*)/[^ ]*/nodeqosd( |\$)#\\1$daemon\\2#" "$unit" >"$copy"

echo "== unit under test ($copy)"
grep -E '^Exec' "$copy"

# --- settings the daemon depends on -------------------------------------
if grep -nE '@[A-Za-z0-9_]+@' "$unit"; then
        fail "unsubstituted @VARIABLE@ left in $unit"
fi

# Each entry: an extended regex that must match a whole line, and why.
require() {
        if ! grep -qxE "$1" "$copy"; then
                fail "unit lacks a line matching '$1' ($2)"
        fi
}
require 'Type=notify' 'the daemon sends READY=1 and STOPPING=1'
require 'WatchdogSec=[1-9][0-9]*(s|min)?' 'the event loop pings the watchdog'
require 'Restart=on-failure' 'a crashed or hung agent must come back'
# shellcheck disable=SC2016  # $MAINPID is for systemd to expand, not the shell
require 'ExecReload=/bin/kill -HUP \$MAINPID' 'SIGHUP reloads the configuration'
require 'NoNewPrivileges=yes' 'hardening'
require 'RuntimeDirectory=nodeqos' 'the instance lock lives in /run/nodeqos'
require 'StateDirectory=nodeqos' 'the checkpoint lives in /var/lib/nodeqos'
require 'ReadWritePaths=.*/sys/fs/cgroup( .*)?' 'cgroup files are the actuator'

if ! grep -qxF "ExecStart=$daemon" "$copy"; then
        fail "ExecStart= does not run $daemon"
fi
if grep -qE '^ProtectControlGroups=(yes|true|on|1)' "$copy"; then
        fail "ProtectControlGroups= would make /sys/fs/cgroup read-only"
fi

# --- systemd-analyze verify ---------------------------------------------
# --recursive-errors=no: only our unit decides the exit code; warnings about
# unrelated units that ours pulls in (sysinit.target, ...) differ between
# machines and are filtered out of the output below for the same reason.
echo "== systemd-analyze verify"
rc=0
out=$(systemd-analyze verify --man=no --recursive-errors=no "$copy" 2>&1) || rc=$?
if [ -n "$out" ]; then
        printf '%s\n' "$out"
else
        echo "(nothing reported)"
fi
ours=$(printf '%s\n' "$out" | grep -F 'nodeqosd.service' || true)
if [ -n "$ours" ]; then
        fail "systemd-analyze verify reported problems in our unit:"
        printf '  %s\n' "$ours"
fi
if [ "$rc" -ne 0 ]; then
        fail "systemd-analyze verify exited with $rc"
fi

# --- hardening exposure --------------------------------------------------
echo "== systemd-analyze security (threshold $MAX_EXPOSURE)"
rc=0
out=$(systemd-analyze security --offline=yes --threshold="$MAX_EXPOSURE" "$copy" 2>&1) || rc=$?
printf '%s\n' "$out" | grep -F 'Overall exposure level' || printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
        fail "exposure above $MAX_EXPOSURE/100 (or systemd-analyze security failed, exit $rc)"
fi

# --- default configuration ----------------------------------------------
echo "== $daemon --config=$config --check-config"
rc=0
out=$("$daemon" --config="$config" --check-config 2>&1) || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -qx 'configuration OK'; then
        fail "the shipped configuration does not pass --check-config (exit $rc)"
fi

if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
fi
echo "PASS"
