#!/bin/sh
# Installs every Debian 12 package nodeqos needs to build, run and test.
# The one list: the README's Quick start and CI both call this script.
set -eu

PACKAGES="
  gcc libc6-dev pkg-config meson ninja-build python3
  libsystemd-dev libcyaml-dev libyaml-dev libcgroup-dev libbpf-dev
  libprotobuf-c-dev protobuf-c-compiler libgrpc-dev libmicrohttpd-dev
  protobuf-compiler python3-grpcio python3-protobuf grpc-proto
  libcmocka-dev systemd
  clang llvm libclang-rt-14-dev bpftool
  stress-ng fio libbpf-tools linux-perf time
  rt-tests redis-server gnuplot-nox
  prometheus
"

if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
                exec sudo "$0" "$@"
        fi
        echo "install-deps.sh: run as root (apt-get needs it)" >&2
        exit 1
fi

missing=""
for p in $PACKAGES; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done

if [ -z "$missing" ]; then
        echo "install-deps.sh: all packages present"
        exit 0
fi

echo "install-deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # the list is meant to split into words
apt-get install -y -q --no-install-recommends $missing
