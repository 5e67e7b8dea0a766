#!/bin/sh
# The run-queue sensor's overhead on a context-switch-heavy workload,
# against Debian's libbpf-tools runqlat doing the same job, in one run;
# then the cost of one sensors_read(). Run as root from the checkout:
#   tests/bench/sensors-overhead.sh [BUILD_DIR] [-l LOOPS] [-r ROUNDS] [-n CGROUPS]
# The workload is `perf bench sched pipe -l LOOPS` pinned to one CPU (two
# tasks waking each other: every operation is two wakeups and two context
# switches, the sensor's hot path). The three ways (none, ours, runqlat)
# alternate ROUNDS times. The figure is the CPU time (user + system) of the
# workload's processes, where the BPF programs' time is charged: unlike its
# wall time, it hardly moves when other work shares the machine. Each
# round's overheads are taken against that round's bare run; the medians
# of the rounds are reported.
set -eu
cd "$(dirname "$0")/../.."
dir="${1:-build}"
[ $# -gt 0 ] && shift
loops=500000 rounds=7 cgroups=1000
while getopts l:r:n: o; do
        case $o in
        l) loops=$OPTARG ;;
        r) rounds=$OPTARG ;;
        n) cgroups=$OPTARG ;;
        *) exit 2 ;;
        esac
done
[ "$(id -u)" -eq 0 ] || { echo "sensors-overhead.sh: run as root" >&2; exit 1; }
for p in perf runqlat stdbuf taskset /usr/bin/time; do
        command -v $p >/dev/null 2>&1 || [ -x /usr/sbin/$p ] ||
                { echo "sensors-overhead.sh: needs $p (Debian: linux-perf, libbpf-tools, coreutils, util-linux, time)" >&2; exit 1; }
done
./packaging/build.sh "$dir" >/dev/null
bench="$dir/tests/bench/bench-sensors"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "CPU-seconds wall-seconds" of one workload run.
workload() {
        /usr/bin/time -f '%U %S %e' -o "$tmp/time" taskset -c 0 perf bench sched pipe -l "$loops" >/dev/null
        awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$tmp/time"
}

# Starts a tracer with its stdout on a fifo and waits for the line that
# says it is attached.
start_tracer() { # fifo ready-word command...
        fifo=$1 word=$2
        shift 2
        mkfifo "$fifo"
        "$@" >"$fifo" 2>"$tmp/tracer.err" &
        tracer=$!
        exec 3<"$fifo"
        while read -r line <&3; do
                case $line in *"$word"*) return 0 ;; esac
        done
        echo "sensors-overhead.sh: tracer did not start: $(cat "$tmp/tracer.err")" >&2
        exit 1
}

stop_tracer() {
        kill -INT "$tracer"
        cat <&3 >/dev/null || true
        wait "$tracer" || true
        exec 3<&-
        rm -f "$fifo"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$tmp/none"; : >"$tmp/ours"; : >"$tmp/runqlat"
i=0
while [ $i -lt "$rounds" ]; do
        workload >>"$tmp/none"
        start_tracer "$tmp/fifo" ready "$bench" hold runqueue
        workload >>"$tmp/ours"
        stop_tracer
        start_tracer "$tmp/fifo" Tracing stdbuf -oL runqlat
        workload >>"$tmp/runqlat"
        stop_tracer
        i=$((i + 1))
done

# Per round: overhead of ours and of runqlat against that round's bare run.
paste "$tmp/none" "$tmp/ours" "$tmp/runqlat" | awk '{
        print $3 / $1 - 1 > "'"$tmp/ours.over"'"
        print $5 / $1 - 1 > "'"$tmp/runqlat.over"'"
        if ($5 > $1) print ($3 - $1) / ($5 - $1) > "'"$tmp/ratio"'"
}'
cpu() { cut -d' ' -f1 <"$1" | median; }
wall() { cut -d' ' -f2 <"$1" | median; }
list() { cut -d' ' -f1 <"$1" | tr '\n' ' '; }
echo "perf bench sched pipe -l $loops on CPU 0, $rounds rounds; CPU seconds (user + sys) of the workload, median [all rounds]; wall median:"
echo "  no sensor:            $(cpu "$tmp/none")  [$(list "$tmp/none")]  wall $(wall "$tmp/none")"
echo "  our runqueue sensor:  $(cpu "$tmp/ours")  [$(list "$tmp/ours")]  wall $(wall "$tmp/ours")"
echo "  runqlat:              $(cpu "$tmp/runqlat")  [$(list "$tmp/runqlat")]  wall $(wall "$tmp/runqlat")"
ours_over=$(median <"$tmp/ours.over")
runqlat_over=$(median <"$tmp/runqlat.over")
ratio=$(median <"$tmp/ratio" 2>/dev/null || echo nan)
awk -v o="$ours_over" -v r="$runqlat_over" -v q="$ratio" -v n="$(cpu "$tmp/none")" -v l="$loops" 'BEGIN {
        printf "  overhead (median of rounds): ours %.1f%%, runqlat %.1f%%\n", o * 100, r * 100
        printf "  per operation (2 wakeups + 2 switches): %.0f ns CPU bare, +%.0f ns ours, +%.0f ns runqlat\n", n / l * 1e9, o * n / l * 1e9, r * n / l * 1e9
        printf "  ours / runqlat overhead: %.2f (median of rounds; goal <= 0.7)\n", q
}'
"$bench" read "$cgroups"
