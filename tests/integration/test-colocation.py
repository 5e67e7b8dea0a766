#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The CPU controller end to end on the real kernel: a best-effort pod runs
`stress-ng --cpu 2`; when a latency-sensitive pod comes under pressure,
nodeqosd takes CPU away from the besteffort tier within two ticks, and gives
it back once the pressure is gone.

Usage: test-colocation.py NODEQOSD

The pods live in the throwaway tree of tests/bench/colocation_tree.py
(nodeqos-test-colo-<pid> in every hierarchy, kubelet cgroupfs naming and
cpu.shares); the agent runs with its defaults and a 1 s tick, its files in a
private temporary directory. Phases and verdicts:

 0. An "idle" LS process (wakes every 50 ms, does nothing) stays in the
    burstable pod throughout, so that the LS side's signals are fresh and
    low rather than absent; BE stress-ng starts. We wait until the
    besteffort tier's CPU limit has stayed the same for SETTLE_S (at most
    SETTLE_MAX_S) and call it q_idle, in CPUs (quota/period; no quota
    counts as the node's CPUs).
 1. The LS probe starts: 2 x CPUs processes in the burstable pod, each
    looping "run 2 ms, sleep 1 ms" and timing its own wakeups. They want
    more CPU than the node has, so the LS pod's run-queue latency and CPU
    pressure rise well above the defaults' targets whatever the aggressor.
    PASS (1) if, at some sample no later than DOWN_WITHIN_S (2 ticks + 0.5 s
    of slack for start-up and sampling) after the probe started, the tier's
    cpu.cfs_quota_us is finite (not -1), below the node's capacity
    (ncpu x period) and below q_idle.
 2. The probe stops (after PROBE_S); the LS side is idle again. q_low is the
    lowest limit seen while the probe ran.
    PASS (2) if, at some sample within UP_WITHIN_S after the probe stopped,
    the limit is above q_low and back to at least q_idle - UP_TOLERANCE x
    ncpu (the controller may settle a dead band short of where it was).
Also checked: the agent stops cleanly; no cgroup or process is left.
The quota trace is printed for diagnosis. Exits 1 if a check failed, 77 if
not root.
"""

import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import colocation_tree as ct  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1] if len(sys.argv) > 1 else None
TICK_S = 1.0
SAMPLE_S = 0.1
SETTLE_S = 3.0
SETTLE_MAX_S = 10.0
DOWN_WITHIN_S = 2 * TICK_S + 0.5
PROBE_S = 6.0
UP_WITHIN_S = 15.0
UP_TOLERANCE = 0.05

# The LS probe: N processes (argv[1]) for D seconds (argv[2]), each running
# BUSY_MS then sleeping SLEEP_MS; prints the p99 of its wakeup lateness.
PROBE = r"""
import os, sys, time
n, duration = int(sys.argv[1]), float(sys.argv[2])
BUSY, SLEEP = 0.002, 0.001
for _ in range(n - 1):
    if os.fork() == 0:
        break
late = []
end = time.monotonic() + duration
while time.monotonic() < end:
    t = time.monotonic()
    while time.monotonic() - t < BUSY:
        pass
    t = time.monotonic()
    time.sleep(SLEEP)
    late.append(time.monotonic() - t - SLEEP)
late.sort()
if late:
    print("probe %d: %d wakeups, p99 lateness %.0f us" % (os.getpid(), len(late), late[int(len(late) * 0.99)] * 1e6),
          flush=True)
"""
IDLE_LS = "import time\nwhile True: time.sleep(0.05)\n"


class Trace:
    """Samples of the besteffort tier's CPU limit, with their times."""

    def __init__(self, tree, daemon):
        self.tree = tree
        self.daemon = daemon
        self.samples = []  # (monotonic time, quota_us, period_us, cores)

    def sample(self):
        quota, period = self.tree.cpu_quota(ct.BE_TIER)
        s = (time.monotonic(), quota, period, self.tree.quota_cores(ct.BE_TIER))
        self.samples.append(s)
        return s

    def wait(self, seconds):
        # Reading the notify socket meanwhile keeps it drained.
        self.daemon.messages(time.monotonic() + seconds)

    def print(self, t0):
        """Each change of the limit (and the first and last sample)."""
        last = None
        for i, (t, quota, period, cores) in enumerate(self.samples):
            if (quota, period) != last or i == len(self.samples) - 1:
                print("#   t=%+6.1f s  cfs_quota_us=%d period=%d  (%.2f CPUs)" % (t - t0, quota, period, cores))
                last = (quota, period)


def settle(trace):
    """q_idle: the limit once it has not changed for SETTLE_S."""
    start = time.monotonic()
    last, since = None, start
    while time.monotonic() - start < SETTLE_MAX_S:
        _, quota, period, cores = trace.sample()
        if (quota, period) != last:
            last, since = (quota, period), time.monotonic()
        elif time.monotonic() - since >= SETTLE_S:
            break
        trace.wait(SAMPLE_S)
    return trace.samples[-1][3]


def main():
    for tool in ("stress-ng",):
        if shutil.which(tool) is None:
            print("FAIL: %s is missing (packaging/install-deps.sh installs it)" % tool)
            return 1
    case = ct.Case("colo")
    try:
        with case:
            tree, procs = case.tree, case.procs
            daemon = case.daemon = ct.start_agent(NODEQOSD, tree, case.workdir, tick_ms=int(TICK_S * 1000))
            check("the agent is ready and manages both pods", True)
            trace = Trace(tree, daemon)
            ncpu = tree.ncpu

            procs.append(tree.spawn(ct.LS_CONTAINER, [sys.executable, "-c", IDLE_LS]))
            procs.append(tree.spawn(ct.BE_CONTAINER, ["stress-ng", "--cpu", "2", "--timeout", "600", "--quiet"]))
            q_idle = settle(trace)
            print("# q_idle: %.2f CPUs (LS idle, BE stress-ng --cpu 2)" % q_idle)

            t_probe = time.monotonic()
            probe = tree.spawn(ct.LS_CONTAINER, [sys.executable, "-c", PROBE, str(2 * ncpu), str(PROBE_S)])
            procs.append(probe)
            down = None
            while time.monotonic() - t_probe < PROBE_S and probe.poll() is None:
                t, quota, period, cores = trace.sample()
                if (down is None and t - t_probe <= DOWN_WITHIN_S and 0 <= quota < ncpu * period
                        and cores < q_idle):
                    down = t - t_probe
                trace.wait(SAMPLE_S)
            probe.wait(PROBE_S + 10)
            t_stop = time.monotonic()
            during = [s[3] for s in trace.samples if t_probe <= s[0] <= t_stop]
            q_low = min(during) if during else q_idle
            if down is not None:
                print("# the limit went down %.1f s after the probe started" % down)
            check("(1) the besteffort quota goes down below capacity and q_idle within %.1f s of LS pressure"
                  % DOWN_WITHIN_S, down is not None,
                  "q_idle %.2f CPUs, lowest while the probe ran %.2f CPUs" % (q_idle, q_low))

            up = None
            while time.monotonic() - t_stop < UP_WITHIN_S:
                t, _, _, cores = trace.sample()
                if cores > q_low and cores >= q_idle - UP_TOLERANCE * ncpu:
                    up = t - t_stop
                    break
                trace.wait(SAMPLE_S)
            if up is not None:
                print("# the limit was back up %.1f s after the probe stopped" % up)
            check("(2) the besteffort quota goes back up to q_idle within %.0f s of the LS side going idle"
                  % UP_WITHIN_S, up is not None,
                  "q_idle %.2f, q_low %.2f, last %.2f CPUs" % (q_idle, q_low, trace.samples[-1][3]))

            print("# besteffort tier's limit (t from the probe's start; the probe ran %.1f s):" % (t_stop - t_probe))
            trace.print(t_probe)
            daemon.stop()
            check("the agent stops cleanly", daemon.proc.returncode == 0, str(daemon.proc.returncode))
    except ct.SetupError as e:
        check("set-up", False, str(e))
    check("no cgroup or process left behind", not case.left, str(case.left))
    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.path.isdir(ct.CGROUP_ROOT):
        print("needs root and cgroups")
        sys.exit(77)
    if not NODEQOSD:
        print("usage: test-colocation.py NODEQOSD")
        sys.exit(2)

    def on_term(sig, frame):
        # meson's timeout sends SIGTERM: unwind through the finally blocks
        # so that the agent, the workloads and the cgroups go too.
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_term)
    sys.exit(main())
