# SPDX-License-Identifier: Apache-2.0
"""A throwaway kubepods-like cgroup hierarchy on this machine's real
cgroups, shared by tests/bench/colocation and
tests/integration/test-colocation.py.

    <mount>/<name>/kubepods/burstable/pod<LS uid>/<id>     (shared_cores)
    <mount>/<name>/kubepods/besteffort/pod<BE uid>/<id>    (reclaimed_cores)

in every v1 controller hierarchy the agent or the workloads use and in the
unified (v2) tree of a hybrid layout, which holds the per-cgroup pressure
files the agent reads. Names follow the kubelet's cgroupfs driver
(qos/kube-cgroup.c). Processes are started through a wrapper that joins
every hierarchy's cgroup before exec, so no workload ever runs outside;
destroy() kills whatever is inside and removes the cgroups deepest first.

Nothing outside <mount>/<name> is ever written: every path goes through
_own(), which refuses anything else (the machine's own cgroups
included).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

CGROUP_ROOT = "/sys/fs/cgroup"
# The v1 controllers whose hierarchies get the tree: those the agent reads
# or writes (cpu, cpuacct, cpuset, memory, blkio), freezer (a whole pod can
# be stopped at once, as the kubelet's runtime does) and pids. Others
# (devices, net_cls, perf_event, name=systemd) play no part here.
V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "blkio", "freezer", "pids")
# Our top-level names start with one of these; _own() checks it.
NAME_PREFIXES = ("nodeqos-bench-", "nodeqos-test-")

# Made-up pod UIDs (the shape the agent parses: lower-case hex and dashes).
LS_UID = "1c0c0a7e-0000-4000-8000-00000000000a"
BE_UID = "be000000-0000-4000-8000-00000000000b"
KUBEPODS = "kubepods"
LS_TIER = "kubepods/burstable"
BE_TIER = "kubepods/besteffort"
LS_POD = LS_TIER + "/pod" + LS_UID
BE_POD = BE_TIER + "/pod" + BE_UID
# One container in each pod (a container runtime's 64-hex id): workloads
# run there, as under a real kubelet, not in the pod cgroup itself.
LS_CONTAINER = LS_POD + "/" + "1c" * 32
BE_CONTAINER = BE_POD + "/" + "be" * 32
TREE = ["", KUBEPODS, LS_TIER, LS_POD, LS_CONTAINER, BE_TIER, BE_POD, BE_CONTAINER]

# The kubelet's cpu.shares for this tree (cgroupfs driver, no reservations):
# kubepods gets the node's allocatable CPU (MilliCPUToShares: 1024 per
# CPU), the burstable tier the sum of its pods' requests, besteffort pods
# and their tier the minimum of 2. The LS pod (its one container) requests
# one CPU.
LS_POD_SHARES = 1024
BE_SHARES = 2

# A v1 cpu child cgroup starts with cpu.rt_runtime_us 0, where asking for
# SCHED_FIFO fails with EPERM. cyclictest does ask at start-up even with
# --policy=other (a privilege check that sets SCHED_FIFO and back), so the
# LS container's chain gets a token RT budget; the LS workloads themselves
# run SCHED_OTHER, as LS pods do.
LS_RT_RUNTIME_US = 1000

# cpu.cfs_period_us the kubelet (and the static policy) use.
CFS_PERIOD_US = 100000

# The wrapper: join every cgroup named in $NODEQOS_BENCH_CGROUPS
# (colon-separated cgroup.procs paths), and only then exec the workload; a
# failed join exits 126 before the workload ever runs.
_JOIN_WRAPPER = (
    'IFS=:; for f in $NODEQOS_BENCH_CGROUPS; do '
    'echo $$ > "$f" || { echo "cannot join the cgroup $f" >&2; exit 126; }; done; '
    'unset IFS NODEQOS_BENCH_CGROUPS; exec "$@"')


class SetupError(Exception):
    """The machine cannot run this: said why, for the user."""


def require_root():
    if os.geteuid() != 0:
        raise SetupError("must run as root (it creates cgroups and moves processes into them)")


def require_tools(names):
    """Each of names must be on PATH; else a SetupError naming the missing
    ones and the script that installs them."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise SetupError("missing tools: %s (install them with packaging/install-deps.sh)" % ", ".join(missing))


class Hierarchy:
    def __init__(self, mount, controllers, v2):
        self.mount = mount
        self.controllers = controllers
        self.v2 = v2

    def __repr__(self):
        return "%s(%s)" % (self.mount, ",".join(sorted(self.controllers)) or "v2")


def hierarchies(mountinfo="/proc/self/mountinfo"):
    """The hierarchies the tree goes into, from the mount table: each v1
    mount with one of V1_CONTROLLERS, and a cgroup2 mount below
    /sys/fs/cgroup (hybrid's unified tree). A pure v2 machine (cgroup2 at
    /sys/fs/cgroup itself) is refused: the bench drives the v1 knobs
    (cpu.cfs_quota_us, cpuacct.usage) the way the kubelet does there."""
    found = []
    with open(mountinfo) as f:
        for line in f:
            fields, _, tail = line.partition(" - ")
            mount = fields.split()[4]
            fstype, _, options = tail.split()[:3]
            if fstype == "cgroup2" and mount == CGROUP_ROOT:
                raise SetupError("pure cgroup v2 at %s: this bench supports v1 and hybrid layouts only" % mount)
            if not mount.startswith(CGROUP_ROOT + "/"):
                continue
            if fstype == "cgroup2":
                found.append(Hierarchy(mount, set(), True))
            elif fstype == "cgroup":
                ctrls = set(options.split(",")) & set(V1_CONTROLLERS)
                if ctrls:
                    found.append(Hierarchy(mount, ctrls, False))
    for needed in ("cpu", "cpuacct", "memory"):
        if not any(needed in h.controllers for h in found):
            raise SetupError("no cgroup v1 %s hierarchy under %s" % (needed, CGROUP_ROOT))
    return found


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def _read(path):
    with open(path) as f:
        return f.read().strip()


def free_tcp_port():
    """A loopback port nobody listens on now (there is a small race with
    other programs, acceptable for a bench)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tree:
    """The hierarchy named name in every hierarchy()."""

    def __init__(self, name):
        if not name.startswith(NAME_PREFIXES) or "/" in name:
            raise ValueError("refusing cgroup name %r" % name)
        self.name = name
        self.hierarchies = hierarchies()
        self.ncpu = os.cpu_count()

    # Paths ----------------------------------------------------------------

    def _own(self, path):
        """path, if it lies in our tree of some hierarchy; else an error."""
        real = os.path.normpath(path)
        for h in self.hierarchies:
            top = os.path.join(h.mount, self.name)
            if real == top or real.startswith(top + "/"):
                return real
        raise ValueError("refusing to touch %s: not in %s" % (path, self.name))

    def hierarchy(self, controller):
        for h in self.hierarchies:
            if controller in h.controllers:
                return h
        return None

    def path(self, controller, rel, filename=""):
        """The file (or directory) of the cgroup rel in controller's
        hierarchy ("unified" for the v2 tree)."""
        if controller == "unified":
            h = next((x for x in self.hierarchies if x.v2), None)
        else:
            h = self.hierarchy(controller)
        if h is None:
            return None
        return self._own(os.path.join(h.mount, self.name, rel, filename))

    def write(self, controller, rel, filename, value):
        _write(self.path(controller, rel, filename), value)

    def read(self, controller, rel, filename):
        return _read(self.path(controller, rel, filename))

    # Life cycle -----------------------------------------------------------

    def create(self):
        """Makes the tree in every hierarchy with the kubelet's settings.
        The top directory must not exist yet (it would be someone else's)."""
        for h in self.hierarchies:
            for rel in TREE:
                d = self._own(os.path.join(h.mount, self.name, rel))
                os.mkdir(d)
                if "cpuset" in h.controllers:
                    # A v1 cpuset child starts with no CPUs and no memory
                    # nodes, and nothing can join it until they are set.
                    parent = os.path.dirname(d)
                    for f in ("cpuset.cpus", "cpuset.mems"):
                        _write(os.path.join(d, f), _read(os.path.join(parent, f)))
        # Parents first: a child's RT budget must fit in its parent's.
        for rel in ("", KUBEPODS, LS_TIER, LS_POD, LS_CONTAINER):
            path = self.path("cpu", rel, "cpu.rt_runtime_us")
            if os.path.exists(path):
                try:
                    _write(path, LS_RT_RUNTIME_US)
                except OSError as e:
                    raise SetupError("cannot give %s an RT budget of %d us (%s): the root's "
                                     "cpu.rt_runtime_us is used up by other cgroups" % (path, LS_RT_RUNTIME_US, e))
        self.apply_kubelet_defaults()

    def apply_kubelet_defaults(self):
        """Sets (again) what the kubelet sets and removes anything an agent
        or policy wrote: run before every case, since the agent leaves its
        last budget in place when it stops (on purpose, see DESIGN.md)."""
        shares = {KUBEPODS: 1024 * self.ncpu, LS_TIER: LS_POD_SHARES, LS_POD: LS_POD_SHARES,
                  LS_CONTAINER: LS_POD_SHARES, BE_TIER: BE_SHARES, BE_POD: BE_SHARES, BE_CONTAINER: BE_SHARES}
        # Top-down: a v1 child's quota may not exceed its parent's, so the
        # parents are unlimited first.
        for rel in TREE[1:]:
            if os.path.exists(self.path("cpu", rel, "cpu.idle")):
                # Leaving idle resets the weight, so shares come after.
                self.write("cpu", rel, "cpu.idle", 0)
            self.write("cpu", rel, "cpu.cfs_quota_us", -1)
            self.write("cpu", rel, "cpu.cfs_period_us", CFS_PERIOD_US)
            if os.path.exists(self.path("cpu", rel, "cpu.cfs_burst_us")):
                self.write("cpu", rel, "cpu.cfs_burst_us", 0)
            self.write("cpu", rel, "cpu.shares", shares[rel])
        for rel in TREE[1:]:
            for f in ("memory.limit_in_bytes", "memory.soft_limit_in_bytes"):
                if os.path.exists(self.path("memory", rel, f)):
                    self.write("memory", rel, f, -1)
            if self.hierarchy("blkio"):
                for f in ("blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                          "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"):
                    path = self.path("blkio", rel, f)
                    if not os.path.exists(path):
                        continue
                    # Each rule is "MAJ:MIN VALUE"; writing 0 removes it.
                    for line in _read(path).splitlines():
                        if line.split():
                            _write(path, "%s 0" % line.split()[0])
            if self.hierarchy("cpuset"):
                parent = os.path.dirname(rel)
                for f in ("cpuset.cpus", "cpuset.mems"):
                    self.write("cpuset", rel, f, self.read("cpuset", parent, f))

    def procs_files(self, rel):
        """cgroup.procs of rel in every hierarchy: what the wrapper joins."""
        return [self._own(os.path.join(h.mount, self.name, rel, "cgroup.procs")) for h in self.hierarchies]

    def spawn(self, rel, argv, **kwargs):
        """Starts argv inside the cgroup rel of every hierarchy, in its own
        session (a Ctrl-C at the terminal reaches only the caller, which
        then cleans up in order)."""
        env = dict(kwargs.pop("env", None) or os.environ)
        env["NODEQOS_BENCH_CGROUPS"] = ":".join(self.procs_files(rel))
        return subprocess.Popen(["/bin/sh", "-c", _JOIN_WRAPPER, "nodeqos-bench-join"] + list(argv),
                                env=env, start_new_session=True, **kwargs)

    def pids(self, rel=""):
        """Every process in rel or below, in any hierarchy."""
        found = set()
        for h in self.hierarchies:
            top = os.path.join(h.mount, self.name, rel)
            for dirpath, _, files in os.walk(top):
                if "cgroup.procs" in files:
                    try:
                        found.update(int(x) for x in _read(os.path.join(dirpath, "cgroup.procs")).split())
                    except OSError:
                        pass
        return found

    def kill_all(self, rel="", timeout=10.0):
        """SIGKILLs every process in rel or below until none is left (forks
        racing with the kill are caught by the next round). Returns the
        pids still there at the timeout (none normally)."""
        kill_file = self.path("unified", rel, "cgroup.kill")
        deadline = time.monotonic() + timeout
        while True:
            left = self.pids(rel)
            if not left or time.monotonic() > deadline:
                return left
            if kill_file and os.path.exists(kill_file):
                # Kills the whole v2 subtree at once, forks included; every
                # process we start is in the unified tree too.
                try:
                    _write(kill_file, 1)
                except OSError:
                    pass
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def destroy(self):
        """Kills what is inside and removes the tree deepest first in every
        hierarchy. Returns what could not be removed (empty normally)."""
        left_procs = self.kill_all()
        left = []
        for h in self.hierarchies:
            top = os.path.join(h.mount, self.name)
            if not os.path.isdir(top):
                continue
            dirs = [d for d, _, _ in os.walk(top)]
            for d in sorted(dirs, key=lambda p: -p.count("/")):
                d = self._own(d)
                for attempt in range(50):
                    try:
                        os.rmdir(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        # A killed task can take a moment to leave.
                        time.sleep(0.02)
                else:
                    left.append(d)
        if left_procs:
            left.append("processes %s" % sorted(left_procs))
        return left

    # Knobs and counters ---------------------------------------------------

    def cpu_quota(self, rel):
        """(cfs_quota_us, cfs_period_us) of rel; quota -1 is unlimited."""
        return int(self.read("cpu", rel, "cpu.cfs_quota_us")), int(self.read("cpu", rel, "cpu.cfs_period_us"))

    def quota_cores(self, rel):
        """rel's CPU limit in CPUs, at most the node's: unlimited counts as
        the node's capacity, since no quota above it gives more CPU."""
        quota, period = self.cpu_quota(rel)
        if quota < 0:
            return float(self.ncpu)
        return min(quota / period, float(self.ncpu))

    def set_cpu_quota(self, rel, quota_us):
        self.write("cpu", rel, "cpu.cfs_quota_us", int(quota_us))

    def cpu_usage_ns(self, rel):
        return int(self.read("cpuacct", rel, "cpuacct.usage"))


def harness_module():
    """tests/integration/nodeqos_harness.py (how every test starts nodeqosd:
    NOTIFY_SOCKET, READY=1, STATUS=), imported from its one place."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "integration"))
    import nodeqos_harness
    return nodeqos_harness


def agent_config(tree, workdir, tick_ms=1000, metrics_port=None, extra=""):
    """nodeqosd's configuration for the tree: its defaults except the
    cgroup location, and every file or socket of its own in workdir so that
    it cannot collide with an installed agent or another test."""
    for sub in ("run", "plugins", "state"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    text = ("tick_interval_ms: %d\n"
            "runtime_dir: %s/run\n"
            "cgroup: {kubelet_cgroup_root: /%s, driver: cgroupfs}\n"
            "api: {admin_socket: %s/run/nodeqos.sock, kubelet_plugin_dir: %s/plugins, state_dir: %s/state}\n"
            % (tick_ms, workdir, tree.name, workdir, workdir, workdir))
    if metrics_port is None:
        text += "metrics: {enabled: false}\n"
    else:
        text += "metrics: {listen: \"127.0.0.1:%d\"}\n" % metrics_port
    # A test's own settings (controllers, eviction) come last: the keys
    # above are not repeated there.
    return text + extra


def start_agent(nodeqosd, tree, workdir, tick_ms=1000, metrics_port=None, timeout=15.0, extra=""):
    """Starts nodeqosd on the tree and waits until it is ready and manages
    both pods. Returns the harness Daemon; raises SetupError (with its log)
    if it does not get there in time."""
    harness = harness_module()
    d = harness.Daemon(nodeqosd, workdir, agent_config(tree, workdir, tick_ms, metrics_port, extra))
    if not d.wait_ready(timeout) or not d.wait_status(r"(^|[^0-9])2 pods, 2 containers", timeout):
        log = d.log()
        d.stop()
        raise SetupError("nodeqosd did not become ready with 2 pods within %.0f s; its log:\n%s" % (timeout, log))
    return d


def wait_for(daemon, seconds, predicate):
    """Polls predicate() for up to seconds while draining the agent's notify
    socket (it blocks once its STATUS messages pile up unread)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        daemon.messages(time.monotonic() + 0.1)
    return predicate()


class Case:
    """One test's tree (nodeqos-test-<what>-<pid>), work directory, agent
    and processes, all gone when the with-block ends, also on errors and
    SIGTERM: the processes killed, the agent stopped, the tree destroyed.
    self.left then lists what could not be removed (nothing normally)."""

    def __init__(self, what):
        self.name = "nodeqos-test-%s-%d" % (what, os.getpid())
        self.tree = None
        self.daemon = None
        self.procs = []
        self.left = []
        self.workdir = None

    def __enter__(self):
        import tempfile
        self.workdir = tempfile.mkdtemp(prefix=self.name + "-")
        self.tree = Tree(self.name)
        self.tree.create()
        return self

    def spawn(self, rel, argv, **kwargs):
        p = self.tree.spawn(rel, argv, **kwargs)
        self.procs.append(p)
        return p

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if self.daemon:
            self.daemon.stop()
        if self.tree:
            self.left = self.tree.destroy()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return False
