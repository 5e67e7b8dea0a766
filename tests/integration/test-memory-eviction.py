#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The memory controller and the eviction manager on the real kernel: a
best-effort memory hog on a node made "tight" by a high watermark gets its
memory budget lowered to its unreclaimable floor; the latency-sensitive
process is never touched; with eviction on and the budget at its minimum
the hog is only reported in dry-run, and killed (and counted) for real.

Usage: test-memory-eviction.py NODEQOSD NODEQOSCTL

The pods live in the throwaway tree of tests/bench/colocation_tree.py
(nodeqos-test-memevict-<pid>). The node is made tight without exhausting
it: the hog allocates (and touches) enough anonymous memory to bring
MemAvailable to ~82% of MemTotal (at least 256 MiB), then a reload raises
the watermark, controllers.memory.target, to 0.9 (keep 90% available).
Phases:
 0. LS `sleep` in the burstable pod; with the default watermark (10%) the
    agent's memory budget grows: the besteffort tier's memory.limit_in_bytes
    rises above half of MemTotal. The hog allocates under it.
 1. The watermark goes to 0.9 (eviction on, dry run): the limit falls below
    half of MemTotal, but never below the floor (the hog's anon memory);
    "Eviction (dry run)" is logged; the hog is still alive.
 2. Reload with dry_run off: the hog is SIGKILLed by the agent, "Evicted"
    is logged; the LS process lives and its pod's limit never changed.
"""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import colocation_tree as ct  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1] if len(sys.argv) > 1 else None
NODEQOSCTL = sys.argv[2] if len(sys.argv) > 2 else None
TICK_MS = 250
WAIT_S = 20.0
MIB = 1024 * 1024

HOG = r"""
import sys, time
n = int(sys.argv[1])
b = bytearray(n)
b[::4096] = b"\x01" * len(range(0, n, 4096))  # touch every page: anon, unreclaimable without swap
print("hog ready", flush=True)
time.sleep(1000)
"""


def meminfo():
    values = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, rest = line.split(":", 1)
            values[key] = int(rest.split()[0]) * 1024
    return values["MemTotal"], values["MemAvailable"]


def config(target, dry_run):
    return ("controllers:\n"
            "  cpu: {enabled: false}\n"
            "  io: {enabled: false}\n"
            "  memory: {target: %s, kp: 1.0, ki: 2.0, min: 67108864, step_up: 4294967296, step_down: 8589934592}\n"
            "eviction: {enabled: true, dry_run: %s, violation_seconds: 1, cooldown_seconds: 1}\n"
            "pressure_triggers: {enabled: false}\n" % (target, "true" if dry_run else "false"))


def reload(daemon, tree, workdir, target, dry_run):
    with open(daemon.config, "w") as f:
        f.write(ct.agent_config(tree, workdir, TICK_MS, extra=config(target, dry_run)))
    daemon.proc.send_signal(signal.SIGHUP)


def limit(tree, rel):
    return int(tree.read("memory", rel, "memory.limit_in_bytes"))


def evictions(workdir):
    """The memory controller's eviction counts from `nodeqosctl status -o json`."""
    out = subprocess.run([NODEQOSCTL, "--socket", os.path.join(workdir, "run", "nodeqos.sock"), "-o", "json",
                          "status"], capture_output=True, text=True, timeout=20).stdout
    for r in json.loads(out).get("resources", []):
        if r.get("resource") == "memory":
            e = r.get("evictions", {})
            return int(e.get("evicted", 0)), int(e.get("dry_run", 0))
    return None


def main():
    case = ct.Case("memevict")
    try:
        with case:
            tree, workdir = case.tree, case.workdir
            total, _ = meminfo()
            ls = case.spawn(ct.LS_CONTAINER, ["sleep", "1000"])
            ls_limit = limit(tree, ct.LS_POD)
            daemon = case.daemon = ct.start_agent(NODEQOSD, tree, workdir, tick_ms=TICK_MS,
                                                  extra=config(0.1, dry_run=True))

            check("(0) with room on the node the best-effort memory budget grows above half of MemTotal",
                  ct.wait_for(daemon, WAIT_S, lambda: limit(tree, ct.BE_TIER) > total // 2),
                  "limit %d of %d" % (limit(tree, ct.BE_TIER), total))

            _, available = meminfo()
            hog_bytes = max(256 * MIB, available - int(0.82 * total))
            print("# MemTotal %d MiB, MemAvailable %d MiB: the hog takes %d MiB" % (total // MIB, available // MIB,
                                                                                  hog_bytes // MIB))
            hog = case.spawn(ct.BE_CONTAINER, [sys.executable, "-c", HOG, str(hog_bytes)], stdout=subprocess.PIPE)
            check("the hog has its memory", hog.stdout.readline().strip() == b"hog ready")
            # The agent's floor is what it sampled: let it see the whole hog.
            daemon.messages(time.monotonic() + 4 * TICK_MS / 1000)

            reload(daemon, tree, workdir, 0.9, dry_run=True)
            check("(1) the tight node lowers the best-effort memory limit below half of MemTotal",
                  ct.wait_for(daemon, WAIT_S, lambda: limit(tree, ct.BE_TIER) < total // 2),
                  "limit %d" % limit(tree, ct.BE_TIER))
            check("... never below the hog's unreclaimable memory (the floor)",
                  limit(tree, ct.BE_TIER) >= hog_bytes * 0.95,
                  "limit %d, hog %d" % (limit(tree, ct.BE_TIER), hog_bytes))
            check("... dry run: the eviction is reported",
                  ct.wait_for(daemon, WAIT_S, lambda: "Eviction (dry run)" in daemon.log()), daemon.log()[-2000:])
            check("... and the hog lives", hog.poll() is None, hog.returncode)
            counts = evictions(workdir)
            check("... counted as a dry-run eviction, none real (nodeqosctl status)",
                  counts is not None and counts[0] == 0 and counts[1] >= 1, counts)

            reload(daemon, tree, workdir, 0.9, dry_run=False)
            killed = ct.wait_for(daemon, WAIT_S, lambda: hog.poll() is not None)
            check("(2) eviction for real: the hog is killed", killed and hog.returncode == -signal.SIGKILL,
                  hog.returncode)
            check("... by the agent: the kill is logged", ct.wait_for(daemon, 5, lambda: "Evicted " in daemon.log()),
                  daemon.log()[-2000:])
            counts = evictions(workdir)
            check("... and counted (nodeqosctl status)", counts is not None and counts[0] == 1, counts)
            check("the latency-sensitive process is never touched", ls.poll() is None, ls.returncode)
            check("... nor its pod's memory limit", limit(tree, ct.LS_POD) == ls_limit,
                  "%d != %d" % (limit(tree, ct.LS_POD), ls_limit))
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
