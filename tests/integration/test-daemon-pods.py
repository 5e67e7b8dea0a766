#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The real daemon on this machine's real cgroups: at start it logs the
detected layout and the pods it manages, STATUS= shows the counts, a pod
created or removed while it runs is picked up at once (inotify), and a
cgroup mount without hierarchies is refused with a clear reason.

Usage: test-daemon-pods.py NODEQOSD

The kubelet hierarchy is a throwaway one, nodeqos-test-daemonpods-<pid>, in
every hierarchy the readers use (cgroup.kubelet_cgroup_root points there);
the daemon's files live in a private temporary directory. Everything is
removed on the way out.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodeqos_harness as harness  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1]
CGROUP_ROOT = harness.CGROUP_ROOT
NAME = "nodeqos-test-daemonpods-%d" % os.getpid()
UID = ["0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f", "11111111-2222-3333-4444-555555555555",
       "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "99999999-8888-7777-6666-555555555555"]
CID = ["1" * 64, "2" * 64]
# cgroupfs driver layout: tiers as plain directories.
TREE = [
    "kubepods",
    "kubepods/besteffort",
    "kubepods/besteffort/pod" + UID[0],
    "kubepods/besteffort/pod" + UID[0] + "/" + CID[0],
    "kubepods/burstable",
    "kubepods/burstable/pod" + UID[1],
    "kubepods/pod" + UID[2],
    "kubepods/pod" + UID[2] + "/" + CID[1],
]
WAIT = 8.0

cgroups = harness.ThrowawayCgroups(NAME)


def config(workdir, extra=""):
    return harness.config(workdir, "cgroup:\n  kubelet_cgroup_root: /%s\n%s" % (NAME, extra))


def wait_status(d, pattern):
    return d.wait_status(pattern, WAIT)


def main():
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-daemonpods-")
    daemons = []
    try:
        for rel in TREE:
            cgroups.make(rel)

        d = harness.Daemon(NODEQOSD, workdir, config(workdir))
        daemons.append(d)
        check("READY=1 arrives", d.wait_ready(WAIT), d.log())
        log = d.log()
        check("the layout is logged", re.search(r"cgroup layout: (v1|v2|hybrid); cpu at /sys/fs/cgroup", log) is not None, log)
        check("the driver and the pods' place are logged",
              re.search(r"Kubernetes: kubelet cgroup driver cgroupfs, pods under \S+/%s/kubepods\." % NAME, log)
              is not None, log)
        check("the managed pods are logged with their classes",
              "Managing 3 pods, 2 containers, 0 other cgroups (0 system_cores, 0 dedicated_cores, "
              "2 shared_cores, 1 reclaimed_cores)" in log, log)
        check("STATUS= shows the counts", wait_status(d, r"\b3 pods, 2 containers\b"), d.status)

        cgroups.make("kubepods/besteffort/pod" + UID[3])
        check("a new pod is picked up", wait_status(d, r"\b4 pods, 2 containers\b"), d.status)
        check("the change is logged", "Workloads changed: now 4 pods" in d.log(), d.log())
        cgroups.make("kubepods/besteffort/pod" + UID[3] + "/" + "3" * 64)
        check("a new container is picked up", wait_status(d, r"\b4 pods, 3 containers\b"), d.status)
        cgroups.remove("kubepods/besteffort/pod" + UID[3] + "/" + "3" * 64)
        cgroups.remove("kubepods/besteffort/pod" + UID[3])
        check("a removed pod drops out", wait_status(d, r"\b3 pods, 2 containers\b"), d.status)

        # CPU contention: more busy processes than CPUs. The node's PSI
        # trigger fires and the daemon ticks early.
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(2 * os.cpu_count())]
        try:
            woke = wait_status(d, r"\b[1-9][0-9]* pressure wakeups\b")
        finally:
            for p in busy:
                p.kill()
                p.wait()
        check("a pressure spike wakes the daemon early", woke, d.status)
        check("the triggers were armed", re.search(r"\b[1-9][0-9]* pressure triggers armed", d.log()) is not None,
              d.log())

        d.stop()
        check("stops cleanly", d.proc.returncode == 0, str(d.proc.returncode))

        # No cgroup hierarchy where cgroup.mount points: refused, with why.
        empty = os.path.join(workdir, "no-cgroups")
        os.mkdir(empty)
        bad_dir = os.path.join(workdir, "bad")
        os.mkdir(bad_dir)
        bad = harness.Daemon(NODEQOSD, bad_dir, config(bad_dir, "  mount: %s\n" % empty))
        daemons.append(bad)
        try:
            bad.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            pass
        check("a mount without cgroups is refused", bad.proc.returncode == 1, str(bad.proc.returncode))
        check("with the reason", ("No cgroup hierarchy is mounted at or below %s (cgroup.mount)" % empty) in bad.log(),
              bad.log())
    finally:
        for d in daemons:
            d.stop()
        cgroups.remove_all()
        shutil.rmtree(workdir, ignore_errors=True)

    left = cgroups.left_behind()
    check("no cgroup left behind", not left, str(left))
    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.path.isdir(CGROUP_ROOT):
        print("needs root and cgroups")
        sys.exit(77)
    sys.exit(main())
