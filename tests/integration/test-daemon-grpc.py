#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The real daemon's gRPC API over its unix sockets, with a Python client:
health (Check and Watch), plugin registration on both QRM plugin sockets,
the QRM plugin options (the semantics: test-daemon-qrm.py), the admin reads and SetDryRun, and the
transport's refusals: unknown methods UNIMPLEMENTED at once, malformed
requests INVALID_ARGUMENT, oversized ones RESOURCE_EXHAUSTED; sockets mode
0600; a second daemon (same runtime_dir, or only the same socket) refused
without taking the socket over; a stale socket taken over; 10 000 mixed bad
requests survived; a clean stop that removes the sockets.

Usage: test-daemon-grpc.py NODEQOSD PROTO_DIR HEALTH_PROTO_DIR

Run with /usr/bin/python3 (Debian's python3-grpcio and python3-protobuf).
The message modules are generated at test time with protoc --python_out
into the test's temporary directory, which also holds the daemon's
configuration, runtime_dir and sockets.
"""

import concurrent.futures
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

try:
    import grpc
except ImportError:
    print("python3-grpcio is missing: skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nodeqos_harness import check, failures, generate_modules  # noqa: E402

NODEQOSD, PROTO_DIR, HEALTH_DIR = sys.argv[1:4] if len(sys.argv) == 4 else (None, None, None)
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 2.0
# A call to a method nobody answers must come back at once, not at the
# deadline: the deadline is long, the bound short.
UNKNOWN_DEADLINE = 10.0
UNKNOWN_BOUND = 1.0
MAX_REQUEST = 1024 * 1024
N_BAD = 10000
BAD_BUDGET_SECONDS = 30.0
# The daemon's RSS may grow this much over the bad requests (allocator
# caches, gRPC's per-connection buffers), not more: a leak per call would.
RSS_GROWTH_MAX_KB = 64 * 1024

RP = "/resourceplugin.v1alpha1.ResourcePlugin/"
REG = "/pluginregistration.Registration/"
ADM = "/nodeqos.v1.Admin/"
HEALTH = "/grpc.health.v1.Health/"

def raw(b):
    return b


class Client:
    """A channel to one socket; calls by path with our message classes or raw bytes."""

    def __init__(self, path):
        self.path = path
        self.channel = grpc.insecure_channel("unix:" + path)

    def call(self, method, request, response_class, timeout=5.0):
        ser = raw if isinstance(request, bytes) else (lambda m: m.SerializeToString())
        stub = self.channel.unary_unary(method, request_serializer=ser,
                                        response_deserializer=response_class.FromString)
        return stub(request, timeout=timeout)

    def code(self, method, request, response_class=None, timeout=5.0):
        """(status code, details, response or None)."""
        try:
            r = self.call(method, request, response_class or _Bytes, timeout)
            return grpc.StatusCode.OK, "", r
        except grpc.RpcError as e:
            return e.code(), e.details(), None

    def close(self):
        self.channel.close()


class _Bytes:
    @staticmethod
    def FromString(b):
        return b


class Daemon:
    def __init__(self, workdir, name, runtime_dir, admin_socket, plugin_dir):
        self.config = os.path.join(workdir, name + ".yaml")
        with open(self.config, "w") as f:
            f.write("tick_interval_ms: 200\n"
                    "runtime_dir: %s\n"
                    "api: {admin_socket: %s, kubelet_plugin_dir: %s, state_dir: %s}\n"
                    "metrics: {enabled: false}\n"
                    "pressure_triggers: {enabled: false}\n"
                    % (runtime_dir, admin_socket, plugin_dir, os.path.join(workdir, "state")))
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID")}
        self.proc = subprocess.Popen([NODEQOSD, "--config", self.config], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.log_file)

    def log(self):
        self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if self.wait_exit(5) is None:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode

    def sanitized(self):
        """Whether the daemon runs under AddressSanitizer (whose quarantine
        holds freed memory: RSS says nothing about leaks then)."""
        try:
            with open("/proc/%d/maps" % self.proc.pid) as f:
                return "libasan" in f.read()
        except OSError:
            return False

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def wait_serving(path, timeout=READY_TIMEOUT):
    import health_pb2
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            c = Client(path)
            code, _, r = c.code(HEALTH + "Check", health_pb2.HealthCheckRequest(), health_pb2.HealthCheckResponse,
                                timeout=1.0)
            c.close()
            if code == grpc.StatusCode.OK:
                return r.status == health_pb2.HealthCheckResponse.SERVING
        time.sleep(0.05)
    return False


def test_health(admin, cpu):
    import health_pb2
    for c in (admin, cpu):
        code, _, r = c.code(HEALTH + "Check", health_pb2.HealthCheckRequest(), health_pb2.HealthCheckResponse)
        check("Health/Check on %s: SERVING" % os.path.basename(c.path),
              code == grpc.StatusCode.OK and r.status == health_pb2.HealthCheckResponse.SERVING, code)
    code, _, r = cpu.code(HEALTH + "Check", health_pb2.HealthCheckRequest(service="resourceplugin.v1alpha1.ResourcePlugin"),
                          health_pb2.HealthCheckResponse)
    check("Health/Check of a served service: SERVING",
          code == grpc.StatusCode.OK and r.status == health_pb2.HealthCheckResponse.SERVING, code)
    code, _, _ = cpu.code(HEALTH + "Check", health_pb2.HealthCheckRequest(service="nodeqos.v1.Admin"),
                          health_pb2.HealthCheckResponse)
    check("Health/Check of a service another socket serves: NOT_FOUND", code == grpc.StatusCode.NOT_FOUND, code)

    watch = admin.channel.unary_stream(HEALTH + "Watch", request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=health_pb2.HealthCheckResponse.FromString)
    it = watch(health_pb2.HealthCheckRequest(), timeout=5)
    first = next(it)
    check("Health/Watch: first message SERVING", first.status == health_pb2.HealthCheckResponse.SERVING, first)
    it.cancel()
    it = watch(health_pb2.HealthCheckRequest(service="no.Such"), timeout=5)
    first = next(it)
    check("Health/Watch of an unknown service: SERVICE_UNKNOWN",
          first.status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, first)
    it.cancel()


def test_registration(plugins):
    import pluginregistration_pb2 as pr
    for name, c in plugins.items():
        code, _, info = c.code(REG + "GetInfo", pr.InfoRequest(), pr.PluginInfo)
        check("GetInfo on the %s socket answers" % name, code == grpc.StatusCode.OK, code)
        if info is None:
            continue
        check("GetInfo %s: type ResourcePlugin, name, endpoint, versions" % name,
              info.type == "ResourcePlugin" and info.name == name and info.endpoint == c.path
              and list(info.supported_versions) == ["v1alpha1"], info)
    code, _, _ = plugins["cpu"].code(REG + "NotifyRegistrationStatus", pr.RegistrationStatus(plugin_registered=True),
                                     pr.RegistrationStatusResponse)
    check("NotifyRegistrationStatus (registered) accepted", code == grpc.StatusCode.OK, code)
    code, _, _ = plugins["memory"].code(REG + "NotifyRegistrationStatus",
                                        pr.RegistrationStatus(plugin_registered=False, error="name conflict"),
                                        pr.RegistrationStatusResponse)
    check("NotifyRegistrationStatus (refused) accepted", code == grpc.StatusCode.OK, code)


def test_qrm(cpu):
    import resourceplugin_pb2 as rp
    code, _, o = cpu.code(RP + "GetResourcePluginOptions", rp.Empty(), rp.ResourcePluginOptions)
    check("GetResourcePluginOptions: pre_start_required=false, with_topology_alignment, need_reconcile",
          code == grpc.StatusCode.OK and not o.pre_start_required and o.with_topology_alignment and o.need_reconcile,
          (code, o))
    code, _, _ = cpu.code(RP + "PreStartContainer",
                          rp.PreStartContainerRequest(pod_uid="u", pod_namespace="ns", pod_name="p", container_name="c"),
                          rp.PreStartContainerResponse)
    check("PreStartContainer: empty success", code == grpc.StatusCode.OK, code)
    # The semantics are wired in (test-daemon-qrm.py tests them): an unknown
    # pod is NOT_FOUND, no longer UNIMPLEMENTED.
    code, _, _ = cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid="u"), rp.RemovePodResponse)
    check("RemovePod of an unknown pod: NOT_FOUND", code == grpc.StatusCode.NOT_FOUND, code)
    code, _, _ = cpu.code(RP + "AllocateAssociatedDevice", b"", None)
    check("AllocateAssociatedDevice (optional): UNIMPLEMENTED", code == grpc.StatusCode.UNIMPLEMENTED, code)


def test_admin(admin, plugins):
    import nodeqos_admin_pb2 as ad
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    check("GetStatus answers", code == grpc.StatusCode.OK, code)
    if st is not None:
        check("GetStatus: version, pid, layout, per-resource terms",
              st.version and st.pid > 0 and st.cgroup_layout.mode in ("v1", "v2", "hybrid")
              and "cpu" in st.cgroup_layout.controller_mounts
              and [r.resource for r in st.resources] == ["cpu", "memory", "io"]
              and st.resources[0].indicator_name and st.resources[0].target > 0, st)
        reg = {p.resource: p for p in st.plugins}
        check("GetStatus: the kubelet's registration outcome per plugin",
              reg.get("cpu") is not None and reg["cpu"].notified and reg["cpu"].registered
              and reg["cpu"].socket == plugins["cpu"].path
              and reg.get("memory") is not None and reg["memory"].notified and not reg["memory"].registered
              and reg["memory"].error == "name conflict", st.plugins)
        check("GetStatus: call counters", st.api.calls > 0, st.api)
        check("GetStatus: each eBPF sensor with its state",
              [x.name for x in st.sensors] == ["runqueue", "reclaim", "block_io"]
              and all(x.up or x.reason for x in st.sensors), st.sensors)
        check("GetStatus: class counts", set(st.counts.by_class) ==
              {"system_cores", "dedicated_cores", "shared_cores", "reclaimed_cores"}, st.counts)

    # The first tick may not have run yet: UNAVAILABLE until it has.
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        code, details, pods = admin.code(ADM + "ListPods", ad.ListPodsRequest(), ad.ListPodsResponse)
        if code != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check("ListPods answers from a snapshot", code == grpc.StatusCode.OK and pods.tick > 0, (code, details))
    code, _, _ = admin.code(ADM + "ListPods", ad.ListPodsRequest(qos_class="gold"), ad.ListPodsResponse)
    check("ListPods with an unknown class: INVALID_ARGUMENT", code == grpc.StatusCode.INVALID_ARGUMENT, code)
    code, _, pods = admin.code(ADM + "ListPods", ad.ListPodsRequest(qos_class="reclaimed_cores"), ad.ListPodsResponse)
    check("ListPods filtered by class", code == grpc.StatusCode.OK
          and all(p.qos_class == "reclaimed_cores" for p in pods.pods), code)

    code, _, r = admin.code(ADM + "SetDryRun", ad.SetDryRunRequest(dry_run=True), ad.SetDryRunResponse)
    check("SetDryRun on (answered by the loop)", code == grpc.StatusCode.OK and r.dry_run and not r.previous,
          (code, r))
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    check("GetStatus shows dry run at once", code == grpc.StatusCode.OK and st.dry_run, code)
    code, _, r = admin.code(ADM + "SetDryRun", ad.SetDryRunRequest(dry_run=False), ad.SetDryRunResponse)
    check("SetDryRun off", code == grpc.StatusCode.OK and not r.dry_run and r.previous, (code, r))
    test_app_latency(admin)
    test_reclaimable(admin)


def test_app_latency(admin):
    import nodeqos_admin_pb2 as ad
    uid = "aaaaaaaa-0000-0000-0000-00000000000a"
    good = dict(pod_uid=uid, app="checkout", latency_us=1200.0, objective_us=1000.0, quantile=0.99, window_ms=10000)
    code, details, _ = admin.code(ADM + "ReportAppLatency", ad.ReportAppLatencyRequest(**good),
                                  ad.ReportAppLatencyResponse)
    check("ReportAppLatency: accepted", code == grpc.StatusCode.OK, (code, details))
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    sig = [x for x in st.app_signals if x.pod_uid == uid] if st else []
    check("GetStatus shows the report at once: latency, objective, slack -0.2",
          len(sig) == 1 and sig[0].latency_us == 1200 and sig[0].objective_us == 1000
          and abs(sig[0].slack + 0.2) < 1e-9 and sig[0].age_ms < 5000, st.app_signals if st else code)
    bad = [
        ("an empty pod_uid", dict(pod_uid="")),
        ("a pod_uid with a slash", dict(pod_uid="../x")),
        ("a pod_uid of 200 bytes", dict(pod_uid="a" * 200)),
        ("latency_us 0", dict(latency_us=0.0)),
        ("latency_us negative", dict(latency_us=-5.0)),
        ("latency_us NaN", dict(latency_us=float("nan"))),
        ("latency_us infinite", dict(latency_us=float("inf"))),
        ("objective_us 0", dict(objective_us=0.0)),
        ("objective_us NaN", dict(objective_us=float("nan"))),
        ("quantile 0 (unset)", dict(quantile=0.0)),
        ("quantile 1.5", dict(quantile=1.5)),
        ("quantile NaN", dict(quantile=float("nan"))),
    ]
    for what, change in bad:
        req = dict(good, pod_uid="bbbbbbbb-0000-0000-0000-00000000000b")
        req.update(change)
        code, details, _ = admin.code(ADM + "ReportAppLatency", ad.ReportAppLatencyRequest(**req),
                                      ad.ReportAppLatencyResponse)
        check("ReportAppLatency with %s: INVALID_ARGUMENT (%s)" % (what, details),
              code == grpc.StatusCode.INVALID_ARGUMENT and details != "", (code, details))
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    check("... and none of them was stored", st is not None and [x.pod_uid for x in st.app_signals] == [uid],
          st.app_signals if st else code)


def test_reclaimable(admin):
    import nodeqos_admin_pb2 as ad
    code, details, r = admin.code(ADM + "GetReclaimable", ad.GetReclaimableRequest(), ad.GetReclaimableResponse)
    # Before the controllers produce an estimate it is UNAVAILABLE (never
    # zeros, which would read as "nothing to reclaim"); then the known ones.
    if code == grpc.StatusCode.UNAVAILABLE:
        check("GetReclaimable without an estimate: UNAVAILABLE saying why", "no reclaimable estimate" in details,
              details)
    else:
        check("GetReclaimable: the known resources with their terms",
              code == grpc.StatusCode.OK and len(r.resources) > 0
              and all(abs(x.reclaimable - max(0.0, x.capacity - x.ls_peak - x.reserve)) < 1e-6 * max(1.0, x.capacity)
                      for x in r.resources), (code, details, r))


def test_refusals(admin, cpu):
    import nodeqos_admin_pb2 as ad
    import pluginregistration_pb2 as pr
    start = time.monotonic()
    code, details, _ = admin.code("/no.Such.Service/Method", b"\x08\x01", None, timeout=UNKNOWN_DEADLINE)
    took = time.monotonic() - start
    check("unknown method: UNIMPLEMENTED", code == grpc.StatusCode.UNIMPLEMENTED, (code, details))
    check("unknown method: answered at once (%.3f s), not at the deadline" % took, took < UNKNOWN_BOUND, took)
    code, _, _ = cpu.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status, timeout=UNKNOWN_DEADLINE)
    check("admin method on a plugin socket: UNIMPLEMENTED", code == grpc.StatusCode.UNIMPLEMENTED, code)

    code, details, _ = cpu.code(REG + "NotifyRegistrationStatus", b"\xff\xff\xff", None)
    check("malformed bytes: INVALID_ARGUMENT", code == grpc.StatusCode.INVALID_ARGUMENT, (code, details))
    code, details, _ = cpu.code(REG + "NotifyRegistrationStatus", b"\x12\x02\xc3\x28", None)
    check("a string that is not UTF-8: INVALID_ARGUMENT naming the field",
          code == grpc.StatusCode.INVALID_ARGUMENT and "error" in details, (code, details))
    code, details, _ = cpu.code(REG + "NotifyRegistrationStatus", b"\x12\x03a\x00b", None)
    check("a string with a NUL: INVALID_ARGUMENT", code == grpc.StatusCode.INVALID_ARGUMENT, (code, details))
    # PluginInfo where RegistrationStatus is expected: field 2 is a string in
    # both, field 1 a string in PluginInfo but a bool here.
    code, details, _ = cpu.code(REG + "NotifyRegistrationStatus",
                                pr.PluginInfo(type="ResourcePlugin").SerializeToString(), None)
    check("the wrong message (wire types clash): INVALID_ARGUMENT", code == grpc.StatusCode.INVALID_ARGUMENT,
          (code, details))
    big = pr.RegistrationStatus(error="x" * (MAX_REQUEST + 16)).SerializeToString()
    code, details, _ = cpu.code(REG + "NotifyRegistrationStatus", big, None)
    check("a request over 1 MiB: RESOURCE_EXHAUSTED", code == grpc.StatusCode.RESOURCE_EXHAUSTED, (code, details))
    code, _, _ = cpu.code(REG + "NotifyRegistrationStatus",
                          pr.RegistrationStatus(error="x" * (MAX_REQUEST - 1024)).SerializeToString(), None)
    check("a request just under 1 MiB: accepted", code == grpc.StatusCode.OK, code)


BAD_METHODS = [RP + "PreStartContainer", REG + "NotifyRegistrationStatus", ADM + "ListPods", RP + "Allocate",
               HEALTH + "Check", "/x/y", "", "/resourceplugin.v1alpha1.ResourcePlugin/", REG + "GetInfo"]
BAD_PAYLOADS = [b"\xff", b"\x0a\x05abc", b"\x12\x02\xc3\x28", b"\x0a\x01\x00", b"\x08" + b"\xff" * 11,
                b"\x0b\x0c", b"\x00", b"\x12\x7f", b"\x0a\x80\x80\x80\x80\x10", b"\x0d\x00\x00"]


def bad_request(i, admin_path, cpu_path, channels):
    """One of a mix of bad calls, which must end with a status (any: the
    point is that it ends). Returns 1 if the call certainly reached the
    daemon (not given up by the client first), else 0."""
    path = (admin_path, cpu_path)[i % 2]
    c = channels[path]
    kind = i % 7
    reaches = 0 if kind == 5 or (kind == 6 and i % 70 == 13 and i % 700 != 6) else 1
    try:
        if kind == 5:
            # A deadline too short to meet: the client may give up first.
            c.call(BAD_METHODS[i % len(BAD_METHODS)], BAD_PAYLOADS[i % len(BAD_PAYLOADS)], _Bytes, timeout=0.0005)
        elif kind == 6 and i % 700 == 6:
            # A few oversized ones (they cost the client most).
            c.call(REG + "NotifyRegistrationStatus", b"\x12" + b"\xff\xff\x7f" + b"x" * (2 * MAX_REQUEST), _Bytes)
        elif kind == 6 and i % 70 == 13:
            # A client that drops its connection mid-call.
            ch = grpc.insecure_channel("unix:" + path)
            fut = ch.unary_unary(ADM + "SetDryRun", request_serializer=raw,
                                 response_deserializer=_Bytes.FromString).future(b"\x08\x00", timeout=5)
            ch.close()
            try:
                fut.result()
            except (grpc.RpcError, grpc.FutureCancelledError):
                pass
        else:
            c.call(BAD_METHODS[(i * 7 + kind) % len(BAD_METHODS)], BAD_PAYLOADS[(i * 3 + kind) % len(BAD_PAYLOADS)],
                   _Bytes, timeout=5)
    except grpc.RpcError:
        pass
    return reaches


def test_many_bad(daemon, admin, cpu):
    import health_pb2
    import nodeqos_admin_pb2 as ad
    rss_before = daemon.rss_kb()
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    calls_before, failed_before = (st.api.calls, st.api.failed) if st else (0, 0)
    channels = {admin.path: Client(admin.path), cpu.path: Client(cpu.path)}
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: bad_request(i, admin.path, cpu.path, channels), range(N_BAD), chunksize=64))
    took = time.monotonic() - start
    reached = sum(results)
    for c in channels.values():
        c.close()
    check("%d mixed bad requests all ended (%.1f s)" % (N_BAD, took), len(results) == N_BAD, len(results))
    check("... within %d s" % BAD_BUDGET_SECONDS, took < BAD_BUDGET_SECONDS, took)
    check("the daemon is still running", daemon.proc.poll() is None, daemon.proc.returncode)
    code, _, r = admin.code(HEALTH + "Check", health_pb2.HealthCheckRequest(), health_pb2.HealthCheckResponse)
    check("... and still SERVING", code == grpc.StatusCode.OK and r.status == health_pb2.HealthCheckResponse.SERVING,
          code)
    code, _, st = admin.code(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
    # GetStatus itself is a call: +1.
    check("... and counted them as failed calls (at least the %d that surely arrived)" % reached,
          code == grpc.StatusCode.OK and st.api.calls - calls_before >= reached + 1
          and st.api.failed - failed_before >= reached, st.api if st else code)
    growth = daemon.rss_kb() - rss_before
    if daemon.sanitized():
        print("note: RSS grew by %d KiB; not checked under AddressSanitizer (its quarantine keeps freed memory)"
              % growth)
    else:
        check("RSS grew by %d KiB at most %d" % (growth, RSS_GROWTH_MAX_KB), growth < RSS_GROWTH_MAX_KB, growth)


class Load:
    """Threads calling the daemon until stopped: loop-side changes
    (SetDryRun), reads (GetStatus, GetInfo) and health watches."""

    def __init__(self, admin_path, cpu_path):
        import threading
        self.stopping = threading.Event()
        self.served = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i, admin_path, cpu_path)) for i in range(4)]
        for t in self.threads:
            t.start()

    def run(self, i, admin_path, cpu_path):
        import health_pb2
        import nodeqos_admin_pb2 as ad
        import pluginregistration_pb2 as pr
        admin, cpu = Client(admin_path), Client(cpu_path)
        watches = []
        n = 0
        while not self.stopping.is_set():
            n += 1
            try:
                if i == 0:
                    admin.call(ADM + "SetDryRun", ad.SetDryRunRequest(dry_run=n % 2 == 0), ad.SetDryRunResponse)
                elif i == 1:
                    admin.call(ADM + "GetStatus", ad.GetStatusRequest(), ad.Status)
                elif i == 2:
                    cpu.call(REG + "GetInfo", pr.InfoRequest(), pr.PluginInfo)
                elif len(watches) < 8:
                    w = admin.channel.unary_stream(HEALTH + "Watch", request_serializer=lambda m: m.SerializeToString(),
                                                   response_deserializer=health_pb2.HealthCheckResponse.FromString)
                    it = w(health_pb2.HealthCheckRequest(), timeout=10)
                    next(it)
                    watches.append(it)
                else:
                    time.sleep(0.01)
                    continue
                with self.lock:
                    self.served += 1
            except (grpc.RpcError, StopIteration):
                time.sleep(0.01)
        for w in watches:
            w.cancel()
        admin.close()
        cpu.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()
        return self.served


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def main():
    for tool in ("protoc",):
        if not shutil.which(tool):
            print("%s is missing (Debian: protobuf-compiler): skipped" % tool)
            return 77
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-grpc-")
    daemons = []
    clients = []
    try:
        generate_modules(os.path.join(workdir, "py"), PROTO_DIR, HEALTH_DIR)
        run = os.path.join(workdir, "run")
        plugin_dir = os.path.join(workdir, "plugins")
        os.mkdir(plugin_dir)
        admin_path = os.path.join(run, "nodeqos.sock")
        plugin_paths = {r: os.path.join(plugin_dir, "nodeqos-%s.sock" % r) for r in ("cpu", "memory")}

        d = Daemon(workdir, "main", run, admin_path, plugin_dir)
        daemons.append(d)
        ready = wait_serving(admin_path) and all(wait_serving(p) for p in plugin_paths.values())
        if not check("the daemon serves the admin and both plugin sockets", ready, d.log()):
            return 1
        for p in [admin_path] + list(plugin_paths.values()):
            check("%s has mode 0600" % os.path.basename(p), mode_of(p) == 0o600, oct(mode_of(p)))

        admin = Client(admin_path)
        plugins = {r: Client(p) for r, p in plugin_paths.items()}
        clients += [admin] + list(plugins.values())

        test_health(admin, plugins["cpu"])
        test_registration(plugins)
        test_qrm(plugins["cpu"])
        test_admin(admin, plugins)
        test_refusals(admin, plugins["cpu"])

        # A second daemon on the same runtime_dir: the instance lock.
        inode = os.lstat(admin_path).st_ino
        d2 = Daemon(workdir, "second", run, admin_path, plugin_dir)
        daemons.append(d2)
        rc = d2.wait_exit(READY_TIMEOUT)
        check("a second daemon on the same runtime_dir is refused", rc == 1, (rc, d2.log()))
        # Another runtime_dir, the same admin socket: gRPC would unlink it.
        other_run = os.path.join(workdir, "run2")
        d3 = Daemon(workdir, "third", other_run, admin_path, os.path.join(workdir, "no-kubelet"))
        daemons.append(d3)
        rc = d3.wait_exit(READY_TIMEOUT)
        check("a daemon with another runtime_dir but the same socket is refused", rc == 1, (rc, d3.log()))
        check("... saying why", ("Another process serves %s" % admin_path) in d3.log(), d3.log())
        check("... and the socket is still the first daemon's", os.lstat(admin_path).st_ino == inode)
        check("... which still answers", wait_serving(admin_path, 2.0))

        test_many_bad(d, admin, plugins["cpu"])

        for c in clients:
            c.close()
        clients = []
        # Stop under load: calls for the loop queued, watches open, reads
        # in flight; the daemon must still end cleanly and in time.
        load = Load(admin_path, plugin_paths["cpu"])
        time.sleep(0.3)
        start = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        rc = d.wait_exit(5)
        took = time.monotonic() - start
        served = load.stop()
        check("SIGTERM under load (%d calls answered meanwhile) stops the daemon cleanly (%.2f s)" % (served, took),
              rc == 0 and took < STOP_TIMEOUT and served > 0, (rc, took, served))
        d.stop()
        left = [p for p in [admin_path] + list(plugin_paths.values()) if os.path.lexists(p)]
        check("its sockets are removed", not left, left)

        # Something that is not a socket where the socket goes: refused.
        with open(admin_path, "w") as f:
            f.write("not a socket\n")
        d4 = Daemon(workdir, "fourth", run, admin_path, plugin_dir)
        daemons.append(d4)
        rc = d4.wait_exit(READY_TIMEOUT)
        check("a regular file at the socket path is refused, not replaced",
              rc == 1 and "is not a socket" in d4.log() and open(admin_path).read() == "not a socket\n",
              (rc, d4.log()))
        os.unlink(admin_path)

        # A stale socket (nobody listens) is taken over.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(admin_path)
        s.close()
        d5 = Daemon(workdir, "fifth", run, admin_path, plugin_dir)
        daemons.append(d5)
        check("a stale socket is taken over", wait_serving(admin_path), d5.log())
        check("... with mode 0600", mode_of(admin_path) == 0o600, oct(mode_of(admin_path)))
        rc = d5.stop()
        check("... and that daemon stops cleanly too", rc == 0, rc)
    finally:
        for c in clients:
            c.close()
        for d in daemons:
            d.stop()
        # In a sanitizer build a report (leak at exit, memory error, UB)
        # ends up in the daemon's stderr: any is a failure.
        for d in daemons:
            log = d.log() if not d.log_file.closed else open(d.log_path).read()
            reports = [line for line in log.splitlines()
                       if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                       or "runtime error:" in line]
            check("no sanitizer report from %s" % os.path.basename(d.config), not reports, reports[:3])
        shutil.rmtree(workdir, ignore_errors=True)

    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if NODEQOSD is None:
        print("usage: test-daemon-grpc.py NODEQOSD PROTO_DIR HEALTH_PROTO_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
