#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fail-safe on the real kernel: when an indicator stops being fed (the
run-queue sensor switched off by a reload), the CPU controller drives the
best-effort budget to its minimum after stale_ticks, never towards
unlimited; once the sensor is back, the budget grows again.

Usage: test-failsafe.py NODEQOSD

The pods live in the throwaway tree of tests/bench/colocation_tree.py
(nodeqos-test-failsafe-<pid>); the latency-sensitive side is idle, so with
the sensor up the CPU budget grows from its minimum (500 millicores) towards
the node's capacity; the besteffort tier's cfs quota shows it.
"""

import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import colocation_tree as ct  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1] if len(sys.argv) > 1 else None
TICK_MS = 250
WAIT_S = 15.0
MIN_MC = 500


def config(runqueue):
    return ("controllers:\n"
            "  cpu: {min: %d, step_up: 1000, stale_ticks: 2}\n"
            "  memory: {enabled: false}\n"
            "  io: {enabled: false}\n"
            "sensors: {runqueue: %s}\n"
            "pressure_triggers: {enabled: false}\n" % (MIN_MC, "true" if runqueue else "false"))


def quota_mc(tree):
    quota, period = tree.cpu_quota(ct.BE_TIER)
    return -1 if quota < 0 else quota * 1000 // period


def reload(daemon, tree, workdir, runqueue):
    with open(daemon.config, "w") as f:
        f.write(ct.agent_config(tree, workdir, TICK_MS, extra=config(runqueue)))
    daemon.proc.send_signal(signal.SIGHUP)


def main():
    case = ct.Case("failsafe")
    try:
        with case:
            tree, workdir = case.tree, case.workdir
            daemon = case.daemon = ct.start_agent(NODEQOSD, tree, workdir, tick_ms=TICK_MS, extra=config(runqueue=True))
            check("with the indicators fed, the best-effort CPU budget grows above its minimum",
                  ct.wait_for(daemon, WAIT_S, lambda: quota_mc(tree) > 2 * MIN_MC), quota_mc(tree))

            reload(daemon, tree, workdir, runqueue=False)
            check("the run-queue sensor off: the budget goes to its minimum (a finite quota)",
                  ct.wait_for(daemon, WAIT_S, lambda: quota_mc(tree) == MIN_MC), quota_mc(tree))
            check("... STATUS says fail-safe", ct.wait_for(daemon, 5, lambda: "fail-safe: cpu" in daemon.status),
                  daemon.status)
            check("... logged once", daemon.log().count("best-effort budget held at its minimum (fail-safe)") == 1,
                  daemon.log()[-2000:])
            # It stays there: never towards unlimited while the signal is out.
            samples = []
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                samples.append(quota_mc(tree))
                daemon.messages(time.monotonic() + 0.1)
            check("... and stays there", all(q == MIN_MC for q in samples), samples)

            reload(daemon, tree, workdir, runqueue=True)
            check("the sensor back: the budget grows again",
                  ct.wait_for(daemon, WAIT_S, lambda: quota_mc(tree) > 2 * MIN_MC), quota_mc(tree))
            daemon.stop()
            check("the agent stops cleanly", daemon.proc.returncode == 0, str(daemon.proc.returncode))
    except ct.SetupError as e:
        check("set-up", False, str(e))
    check("no cgroup or process left behind", not case.left, str(case.left))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root (cgroups, eBPF)")
        sys.exit(77)
    sys.exit(main())
