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
import signal
import socket
import subprocess
import sys
import tempfile
import time

NODEQOSD = sys.argv[1]
CGROUP_ROOT = "/sys/fs/cgroup"
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

failures = []


def check(what, ok, detail=""):
    print("%s: %s%s" % ("ok" if ok else "FAIL", what, (" (" + detail + ")") if detail and not ok else ""))
    if not ok:
        failures.append(what)


def hierarchies():
    """Every cgroup hierarchy below /sys/fs/cgroup but v1 cpuset (whose
    children need cpus and mems before use) and name=systemd."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, tail = line.partition(" - ")
            mount = fields.split()[4]
            fstype, _, options = tail.split()[:3]
            if not mount.startswith(CGROUP_ROOT + "/") and mount != CGROUP_ROOT:
                continue
            opts = options.split(",")
            if fstype == "cgroup2" or (fstype == "cgroup" and any(
                    c in opts for c in ("cpu", "cpuacct", "memory", "blkio"))):
                found.append(mount)
    return found


def make(rel):
    for h in hierarchies():
        os.makedirs(os.path.join(h, NAME, rel), exist_ok=True)


def remove(rel):
    for h in hierarchies():
        try:
            os.rmdir(os.path.join(h, NAME, rel))
        except FileNotFoundError:
            pass


def remove_all():
    for h in hierarchies():
        top = os.path.join(h, NAME)
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


class Daemon:
    def __init__(self, workdir, config_text):
        self.workdir = workdir
        self.config = os.path.join(workdir, "nodeqos.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.sock_path = os.path.join(workdir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.2)
        self.stderr = open(os.path.join(workdir, "stderr.log"), "w+")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env["NOTIFY_SOCKET"] = self.sock_path
        self.proc = subprocess.Popen([NODEQOSD, "--config", self.config], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.status = ""

    def messages(self, until, stop=lambda m: False):
        """Reads notify messages until the deadline or stop(message)."""
        while time.monotonic() < until:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                if self.proc.poll() is not None:
                    return None
                continue
            for line in data.split("\n"):
                if line.startswith("STATUS="):
                    self.status = line[len("STATUS="):]
            if stop(data):
                return data
        return None

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()
        self.stderr.close()


def config(workdir, extra=""):
    return ("tick_interval_ms: 200\n"
            "runtime_dir: %s/run\n"
            "api: {admin_socket: %s/run/nodeqos.sock, kubelet_plugin_dir: %s/plugins}\n"
            "metrics: {enabled: false}\n"
            "cgroup:\n  kubelet_cgroup_root: /%s\n%s") % (workdir, workdir, workdir, NAME, extra)


def wait_status(d, pattern):
    d.messages(time.monotonic() + WAIT, lambda m: re.search(pattern, d.status) is not None)
    return re.search(pattern, d.status) is not None


def main():
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-daemonpods-")
    daemons = []
    try:
        for rel in TREE:
            make(rel)

        d = Daemon(workdir, config(workdir))
        daemons.append(d)
        ready = d.messages(time.monotonic() + WAIT, lambda m: "READY=1" in m)
        check("READY=1 arrives", ready is not None, d.log())
        log = d.log()
        check("the layout is logged", re.search(r"cgroup layout: (v1|v2|hybrid); cpu at /sys/fs/cgroup", log) is not None, log)
        check("the driver and the pods' place are logged",
              re.search(r"Kubernetes: kubelet cgroup driver cgroupfs, pods under \S+/%s/kubepods\." % NAME, log)
              is not None, log)
        check("the managed pods are logged with their classes",
              "Managing 3 pods, 2 containers, 0 other cgroups (0 system_cores, 0 dedicated_cores, "
              "2 shared_cores, 1 reclaimed_cores)" in log, log)
        check("STATUS= shows the counts", wait_status(d, r"\b3 pods, 2 containers\b"), d.status)

        make("kubepods/besteffort/pod" + UID[3])
        check("a new pod is picked up", wait_status(d, r"\b4 pods, 2 containers\b"), d.status)
        check("the change is logged", "Workloads changed: now 4 pods" in d.log(), d.log())
        make("kubepods/besteffort/pod" + UID[3] + "/" + "3" * 64)
        check("a new container is picked up", wait_status(d, r"\b4 pods, 3 containers\b"), d.status)
        remove("kubepods/besteffort/pod" + UID[3] + "/" + "3" * 64)
        remove("kubepods/besteffort/pod" + UID[3])
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
        bad = Daemon(bad_dir, config(bad_dir, "  mount: %s\n" % empty))
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
        remove_all()
        shutil.rmtree(workdir, ignore_errors=True)

    left = [h for h in hierarchies() if os.path.exists(os.path.join(h, NAME))]
    check("no cgroup left behind", not left, str(left))
    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.path.isdir(CGROUP_ROOT):
        print("needs root and cgroups")
        sys.exit(77)
    sys.exit(main())
