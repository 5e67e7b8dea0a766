# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the integration tests that run the real nodeqosd: a
daemon in a private directory with its own NOTIFY_SOCKET, its stderr log,
a check() that counts failures, and the gRPC tests' message modules."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

failures = []


def check(what, ok, detail=""):
    print("%s: %s%s" % ("ok" if ok else "FAIL", what, (" (" + str(detail) + ")") if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


def generate_modules(outdir, proto_dir, health_dir):
    """The Python message modules of our protos and grpc.health.v1, made
    importable from outdir."""
    os.mkdir(outdir)
    protos = [os.path.join(proto_dir, f) for f in sorted(os.listdir(proto_dir)) if f.endswith(".proto")]
    subprocess.run(["protoc", "--proto_path=" + proto_dir, "--proto_path=" + health_dir, "--python_out=" + outdir]
                   + protos + [os.path.join(health_dir, "health.proto")], check=True)
    sys.path.insert(0, outdir)


def config(workdir, extra="", metrics_listen=None):
    """A configuration keeping the daemon out of the system's paths; the
    metrics endpoint off unless metrics_listen ("127.0.0.1:PORT") is given."""
    metrics = ("metrics: {enabled: true, listen: '%s'}\n" % metrics_listen if metrics_listen
               else "metrics: {enabled: false}\n")
    return ("tick_interval_ms: 200\n"
            "runtime_dir: %s/run\n"
            "api: {admin_socket: %s/run/nodeqos.sock, kubelet_plugin_dir: %s/plugins, state_dir: %s/state}\n"
            "%s%s") % (workdir, workdir, workdir, workdir, metrics, extra)


def free_port():
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_hierarchies():
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


class ThrowawayCgroups:
    """A cgroup tree of the test's own, named NAME in every hierarchy (a
    throwaway kubelet root: kubelet_cgroup_root points at /NAME)."""

    def __init__(self, name):
        self.name = name

    def make(self, rel):
        for h in cgroup_hierarchies():
            os.makedirs(os.path.join(h, self.name, rel), exist_ok=True)

    def remove(self, rel):
        for h in cgroup_hierarchies():
            try:
                os.rmdir(os.path.join(h, self.name, rel))
            except FileNotFoundError:
                pass

    def remove_all(self):
        for h in cgroup_hierarchies():
            top = os.path.join(h, self.name)
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass

    def left_behind(self):
        return [h for h in cgroup_hierarchies() if os.path.exists(os.path.join(h, self.name))]


class Daemon:
    def __init__(self, nodeqosd, workdir, config_text, prefix=()):
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
        self.proc = subprocess.Popen(list(prefix) + [nodeqosd, "--config", self.config], env=env,
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

    def wait_ready(self, timeout):
        return self.messages(time.monotonic() + timeout, lambda m: "READY=1" in m) is not None

    def wait_status(self, pattern, timeout):
        self.messages(time.monotonic() + timeout, lambda m: re.search(pattern, self.status) is not None)
        return re.search(pattern, self.status) is not None

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
        if self.sock.fileno() >= 0:
            self.sock.close()
        if not self.stderr.closed:
            self.stderr.close()
