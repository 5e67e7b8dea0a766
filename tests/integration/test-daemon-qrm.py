#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The kubelet-hook semantics through the real daemon's sockets: the QRM
ResourcePlugin (cpu and memory) for pods of each class (shared, reclaimed,
dedicated with exclusive CPUs), hints, topology-aware reads, the checkpoint
across a kill -9 and a restart, a corrupted checkpoint kept aside, hostile
requests refused with their gRPC code and no state change, and
Koordinator's runtime hooks for a best-effort and a latency-sensitive
container.

Usage: test-daemon-qrm.py NODEQOSD PROTO_DIR HEALTH_PROTO_DIR

Run with /usr/bin/python3 (Debian's python3-grpcio and python3-protobuf);
everything lives in a temporary directory (sockets, runtime_dir, state_dir).
"""

import os
import shutil
import signal
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
RP = "/resourceplugin.v1alpha1.ResourcePlugin/"
HOOK = "/runtime.v1alpha1.RuntimeHookService/"
HEALTH = "/grpc.health.v1.Health/"
QOS = "katalyst.kubewharf.io/qos_level"
KOORD = "koordinator.sh/qosClass"
# The best-effort CPU budget the runtime hooks apply: the test pins it
# (controllers.cpu.min = max) so that the answer does not depend on the
# node's pressure; the memory controller is off, so no memory limit.
BE_MILLICORES = 1500
# The hostile map: 100 000 entries; the daemon's request limit; how long
# decoding and refusing it may take (measured here: see the check's line).
HUGE_MAP = 100000
MAX_REQUEST = 1024 * 1024
HUGE_MAP_BOUND = 2.0

class Client:
    def __init__(self, path):
        self.path = path
        self.channel = grpc.insecure_channel("unix:" + path)

    def code(self, method, request, response_class, timeout=5.0):
        """(status code, details, response or None)."""
        stub = self.channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                                        response_deserializer=response_class.FromString)
        try:
            return grpc.StatusCode.OK, "", stub(request, timeout=timeout)
        except grpc.RpcError as e:
            return e.code(), e.details(), None

    def close(self):
        self.channel.close()


class Daemon:
    def __init__(self, workdir, name):
        self.workdir = workdir
        self.run = os.path.join(workdir, "run")
        self.admin = os.path.join(self.run, "nodeqos.sock")
        self.plugin_dir = os.path.join(workdir, "plugins")
        self.state_dir = os.path.join(workdir, "state")
        os.makedirs(self.plugin_dir, exist_ok=True)
        self.sockets = {r: os.path.join(self.plugin_dir, "nodeqos-%s.sock" % r) for r in ("cpu", "memory")}
        self.config = os.path.join(workdir, name + ".yaml")
        with open(self.config, "w") as f:
            f.write("tick_interval_ms: 200\n"
                    "runtime_dir: %s\n"
                    "api: {admin_socket: %s, kubelet_plugin_dir: %s, state_dir: %s}\n"
                    "controllers: {cpu: {min: %d, max: %d}, memory: {enabled: false}}\n"
                    "metrics: {enabled: false}\n"
                    "pressure_triggers: {enabled: false}\n"
                    % (self.run, self.admin, self.plugin_dir, self.state_dir, BE_MILLICORES, BE_MILLICORES))
        self.log_path = os.path.join(workdir, name + ".log")
        self.log_file = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM", "WATCHDOG_USEC", "WATCHDOG_PID")}
        self.proc = subprocess.Popen([NODEQOSD, "--config", self.config], env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.log_file)
        self.clients = []

    def wait_serving(self):
        import health_pb2
        deadline = time.monotonic() + READY_TIMEOUT
        for path in [self.admin] + list(self.sockets.values()):
            while True:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    return False
                if os.path.exists(path):
                    c = Client(path)
                    code, _, r = c.code(HEALTH + "Check", health_pb2.HealthCheckRequest(),
                                        health_pb2.HealthCheckResponse, timeout=1.0)
                    c.close()
                    if code == grpc.StatusCode.OK:
                        break
                time.sleep(0.05)
        self.clients = [Client(self.admin), Client(self.sockets["cpu"]), Client(self.sockets["memory"])]
        return True

    @property
    def hooks(self):
        return self.clients[0]

    @property
    def cpu(self):
        return self.clients[1]

    @property
    def memory(self):
        return self.clients[2]

    def log(self):
        self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        for c in self.clients:
            c.close()
        self.clients = []
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log_file.closed:
            self.log_file.close()
        return self.proc.returncode


def request(uid, container="app", resource="cpu", cpu=None, memory=None, annotations=None, labels=None,
            ctype=None, hint=None):
    import resourceplugin_pb2 as rp
    r = rp.ResourceRequest(pod_uid=uid, pod_namespace="default", pod_name="pod-" + uid[:8],
                           container_name=container, container_type=rp.MAIN if ctype is None else ctype,
                           resource_name=resource)
    if cpu is not None:
        r.resource_requests["cpu"] = cpu
    if memory is not None:
        r.resource_requests["memory"] = memory
    for k, v in (annotations or {}).items():
        r.annotations[k] = v
    for k, v in (labels or {}).items():
        r.labels[k] = v
    if hint is not None:
        r.hint.nodes.extend(hint)
        r.hint.preferred = True
    return r


def allocate(client, req):
    import resourceplugin_pb2 as rp
    return client.code(RP + "Allocate", req, rp.ResourceAllocationResponse)


def allocations(client):
    """GetResourcesAllocation as {pod: {container: (oci, quantity, result)}}."""
    import resourceplugin_pb2 as rp
    code, details, r = client.code(RP + "GetResourcesAllocation", rp.GetResourcesAllocationRequest(),
                                   rp.GetResourcesAllocationResponse)
    if code != grpc.StatusCode.OK:
        return None
    out = {}
    for pod, cr in r.pod_resources.items():
        out[pod] = {}
        for name, alloc in cr.container_resources.items():
            for res, info in alloc.resource_allocation.items():
                out[pod][name] = (res, info.oci_property_name, info.allocated_quantity, info.allocation_result)
    return out


def cpu_list(s):
    cpus = set()
    for part in filter(None, s.split(",")):
        a, _, b = part.partition("-")
        cpus.update(range(int(a), int(b or a) + 1))
    return cpus


def online_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        return cpu_list(f.read().strip())


SHARED, RECLAIMED, DEDICATED, DEDICATED2 = ("11111111-0000-0000-0000-000000000001",
                                            "22222222-0000-0000-0000-000000000002",
                                            "33333333-0000-0000-0000-000000000003",
                                            "44444444-0000-0000-0000-000000000004")


def test_qrm_flow(d):
    import resourceplugin_pb2 as rp
    online = online_cpus()
    n_cpus = len(online)
    print("# %d online CPUs: %s" % (n_cpus, sorted(online)))

    code, details, r = allocate(d.cpu, request(SHARED, cpu=0.5, annotations={QOS: "shared_cores"}))
    ok = code == grpc.StatusCode.OK
    info = r.allocation_result.resource_allocation["cpu"] if ok else None
    check("Allocate shared_cores: CpusetCpus = the shared pool (all online CPUs)",
          ok and info.oci_property_name == "CpusetCpus" and cpu_list(info.allocation_result) == online
          and r.pod_uid == SHARED and r.container_name == "app", (code, details, r))
    code, details, r = allocate(d.memory, request(SHARED, resource="memory", memory=64 << 20,
                                                  annotations={QOS: "shared_cores"}))
    ok = code == grpc.StatusCode.OK
    info = r.allocation_result.resource_allocation["memory"] if ok else None
    check("Allocate memory (memory socket): CpusetMems, the bytes requested",
          ok and info.oci_property_name == "CpusetMems" and info.allocated_quantity == 64 << 20
          and info.allocation_result != "", (code, details, r))

    code, details, r = allocate(d.cpu, request(RECLAIMED, labels={KOORD: "BE"}))
    ok = code == grpc.StatusCode.OK
    info = r.allocation_result.resource_allocation["cpu"] if ok else None
    check("Allocate reclaimed_cores (Koordinator BE label): the reclaimed pool",
          ok and cpu_list(info.allocation_result) == online, (code, details, r))

    # Hints: no preference for shared, NUMA nodes for dedicated.
    code, details, r = d.cpu.code(RP + "GetTopologyHints", request(SHARED, cpu=0.5), rp.ResourceHintsResponse)
    check("GetTopologyHints shared: answered, no hints (no preference)",
          code == grpc.StatusCode.OK and "cpu" in r.resource_hints and len(r.resource_hints["cpu"].hints) == 0,
          (code, details, r))
    code, details, r = d.cpu.code(RP + "GetTopologyHints",
                                  request(DEDICATED, cpu=1, annotations={QOS: "dedicated_cores"}),
                                  rp.ResourceHintsResponse)
    hints = list(r.resource_hints["cpu"].hints) if code == grpc.StatusCode.OK else []
    check("GetTopologyHints dedicated (1 CPU): a preferred hint on node 0",
          any(list(h.nodes) == [0] and h.preferred for h in hints), (code, details, r))
    code, details, r = d.cpu.code(RP + "GetPodTopologyHints",
                                  rp.PodResourceRequest(pod_uid=DEDICATED2, resource_name="cpu",
                                                        resource_requests={"cpu": 1},
                                                        annotations={QOS: "dedicated_cores"}),
                                  rp.PodResourceHintsResponse)
    check("GetPodTopologyHints dedicated: hints", code == grpc.StatusCode.OK
          and len(r.resource_hints["cpu"].hints) > 0, (code, details, r))

    # Dedicated: 1 exclusive CPU fits (the shared pool keeps 1).
    code, details, r = allocate(d.cpu, request(DEDICATED, cpu=1, annotations={QOS: "dedicated_cores"}, hint=[0]))
    ok = code == grpc.StatusCode.OK
    info = r.allocation_result.resource_allocation["cpu"] if ok else None
    exclusive = cpu_list(info.allocation_result) if ok else set()
    check("Allocate dedicated_cores (1 CPU): 1 exclusive CPU, quantity 1, hint node 0",
          ok and len(exclusive) == 1 and exclusive <= online and info.allocated_quantity == 1
          and [list(h.nodes) for h in info.resource_hints.hints] == [[0]], (code, details, r))
    code, details, r = allocate(d.cpu, request(DEDICATED, cpu=1, annotations={QOS: "dedicated_cores"}, hint=[0]))
    check("... allocated again with the same request: the same answer",
          code == grpc.StatusCode.OK
          and cpu_list(r.allocation_result.resource_allocation["cpu"].allocation_result) == exclusive, (code, r))
    code, details, r = allocate(d.cpu, request(SHARED, cpu=0.5, annotations={QOS: "shared_cores"}))
    check("... and the shared pool no longer holds it",
          code == grpc.StatusCode.OK
          and cpu_list(r.allocation_result.resource_allocation["cpu"].allocation_result) == online - exclusive,
          (code, r))

    # Dedicated 2 CPUs on this node: never fits while the shared pool needs
    # one (n_cpus of n_cpus would leave it none).
    before = allocations(d.cpu)
    code, details, r = allocate(d.cpu, request(DEDICATED2, cpu=n_cpus, annotations={QOS: "dedicated_cores"}))
    check("Allocate dedicated_cores of every CPU (%d): RESOURCE_EXHAUSTED" % n_cpus,
          code == grpc.StatusCode.RESOURCE_EXHAUSTED, (code, details))
    check("... saying why (%s)" % details, "CPU" in details or "cpu" in details, details)
    check("... and nothing changed", allocations(d.cpu) == before, (before, allocations(d.cpu)))

    # AllocateForPod, then the reads.
    code, details, r = d.cpu.code(RP + "AllocateForPod",
                                  rp.PodResourceRequest(pod_uid=DEDICATED2, resource_name="cpu",
                                                        resource_requests={"cpu": 0.2},
                                                        annotations={QOS: "shared_cores"}),
                                  rp.PodResourceAllocationResponse)
    check("AllocateForPod shared: the shared pool", code == grpc.StatusCode.OK
          and cpu_list(r.allocation_result.resource_allocation["cpu"].allocation_result) == online - exclusive,
          (code, details, r))

    a = allocations(d.cpu)
    check("GetResourcesAllocation (cpu): every pod, the pod-level entry as container \"\"",
          a is not None and set(a) == {SHARED, RECLAIMED, DEDICATED, DEDICATED2}
          and a[DEDICATED]["app"][3] == info.allocation_result and "" in a[DEDICATED2]
          and all(v[0] == "cpu" for p in a.values() for v in p.values()), a)
    m = allocations(d.memory)
    check("GetResourcesAllocation (memory): only what the memory plugin allocated",
          m is not None and set(m) == {SHARED} and m[SHARED]["app"][0] == "memory", m)

    code, details, r = d.cpu.code(RP + "GetTopologyAwareResources",
                                  rp.GetTopologyAwareResourcesRequest(pod_uid=DEDICATED, container_name="app"),
                                  rp.GetTopologyAwareResourcesResponse)
    ok = code == grpc.StatusCode.OK
    t = r.container_topology_aware_resources.allocated_resources["cpu"] if ok else None
    check("GetTopologyAwareResources dedicated: 1 CPU on node 0",
          ok and t.aggregated_quantity == 1 and [(q.node, q.resource_value) for q in t.topology_aware_quantity_list]
          == [(0, 1.0)] and r.container_topology_aware_resources.container_name == "app", (code, details, r))
    code, details, _ = d.cpu.code(RP + "GetTopologyAwareResources",
                                  rp.GetTopologyAwareResourcesRequest(pod_uid="nobody", container_name="app"),
                                  rp.GetTopologyAwareResourcesResponse)
    check("GetTopologyAwareResources of an unknown container: NOT_FOUND", code == grpc.StatusCode.NOT_FOUND,
          (code, details))
    code, details, r = d.cpu.code(RP + "GetTopologyAwareAllocatableResources",
                                  rp.GetTopologyAwareAllocatableResourcesRequest(),
                                  rp.GetTopologyAwareAllocatableResourcesResponse)
    ok = code == grpc.StatusCode.OK
    t = r.allocatable_resources["cpu"] if ok else None
    check("GetTopologyAwareAllocatableResources (cpu): capacity = allocatable = %d CPUs" % n_cpus,
          ok and t.aggregated_capacity_quantity == n_cpus and t.aggregated_allocatable_quantity == n_cpus
          and len(t.topology_aware_capacity_quantity_list) >= 1, (code, details, r))
    code, details, r = d.memory.code(RP + "GetTopologyAwareAllocatableResources",
                                     rp.GetTopologyAwareAllocatableResourcesRequest(),
                                     rp.GetTopologyAwareAllocatableResourcesResponse)
    check("GetTopologyAwareAllocatableResources (memory): answered for memory",
          code == grpc.StatusCode.OK and "memory" in r.allocatable_resources, (code, details, r))
    return exclusive


def test_hostile(d):
    import resourceplugin_pb2 as rp
    import runtimehooks_pb2 as rh
    before = allocations(d.cpu)
    before_mem = allocations(d.memory)
    cases = [
        ("Allocate with an empty pod_uid", lambda: allocate(d.cpu, request("", cpu=1)),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("AllocateForPod with an empty pod_uid",
         lambda: d.cpu.code(RP + "AllocateForPod", rp.PodResourceRequest(pod_uid="", resource_name="cpu"),
                            rp.PodResourceAllocationResponse), grpc.StatusCode.INVALID_ARGUMENT),
        ("GetTopologyHints with an empty pod_uid",
         lambda: d.cpu.code(RP + "GetTopologyHints", request(""), rp.ResourceHintsResponse),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("RemovePod with an empty pod_uid",
         lambda: d.cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid=""), rp.RemovePodResponse),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("RemovePod of an unknown pod",
         lambda: d.cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid="no-such-pod"), rp.RemovePodResponse),
         grpc.StatusCode.NOT_FOUND),
        ("Allocate of an unknown resource", lambda: allocate(d.cpu, request("x-pod", resource="gpu", cpu=1)),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("Allocate with a negative request", lambda: allocate(d.cpu, request("x-pod", cpu=-1)),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("Allocate dedicated MAIN without a CPU request",
         lambda: allocate(d.cpu, request("x-pod", annotations={QOS: "dedicated_cores"})),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("Allocate with a hint on a node that does not exist",
         lambda: allocate(d.cpu, request("x-pod", cpu=1, annotations={QOS: "dedicated_cores"}, hint=[7])),
         grpc.StatusCode.INVALID_ARGUMENT),
        # An invalid class name falls through to the next source (README):
        # for the dedicated container it then resolves to shared_cores,
        # which differs from its allocation.
        ("Allocate the dedicated container again with an invalid class name",
         lambda: allocate(d.cpu, request(DEDICATED, cpu=1, annotations={QOS: "golden_cores"})),
         grpc.StatusCode.INVALID_ARGUMENT),
        ("PreCreateContainerHook with a cgroup parent holding ..",
         lambda: d.hooks.code(HOOK + "PreCreateContainerHook", rh.ContainerResourceHookRequest(
             pod_meta=rh.PodSandboxMetadata(name="p", uid="x-pod", namespace="default"),
             container_meta=rh.ContainerMetadata(name="c", id="abc"),
             pod_labels={KOORD: "BE"},
             pod_cgroup_parent="/kubepods/besteffort/../../system.slice"),
             rh.ContainerResourceHookResponse), grpc.StatusCode.PERMISSION_DENIED),
        ("PreRunPodSandboxHook with a cgroup parent outside the managed roots",
         lambda: d.hooks.code(HOOK + "PreRunPodSandboxHook", rh.PodSandboxHookRequest(
             pod_meta=rh.PodSandboxMetadata(name="p", uid="x-pod", namespace="default"),
             cgroup_parent="/system.slice"), rh.PodSandboxHookResponse), grpc.StatusCode.PERMISSION_DENIED),
        ("PreRunPodSandboxHook without a pod uid",
         lambda: d.hooks.code(HOOK + "PreRunPodSandboxHook", rh.PodSandboxHookRequest(),
                              rh.PodSandboxHookResponse), grpc.StatusCode.INVALID_ARGUMENT),
        ("PreUpdateContainerResourcesHook with a malformed cpu list",
         lambda: d.hooks.code(HOOK + "PreUpdateContainerResourcesHook", rh.ContainerResourceHookRequest(
             pod_meta=rh.PodSandboxMetadata(name="p", uid="x-pod", namespace="default"),
             container_meta=rh.ContainerMetadata(name="c", id="abc"),
             container_resources=rh.LinuxContainerResources(cpuset_cpus="0-"),
             pod_cgroup_parent="kubepods-besteffort-podx.slice"),
             rh.ContainerResourceHookResponse), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for what, call, want in cases:
        code, details, _ = call()
        check("%s: %s (%s)" % (what, want.name, details), code == want and details != "", (code, details))
    check("... and none of them changed the state", allocations(d.cpu) == before
          and allocations(d.memory) == before_mem, (before, allocations(d.cpu)))

    test_huge_map(d, before, before_mem)

    # An invalid class name on a new pod is not an error: it falls through
    # to the default, shared_cores (as Katalyst does).
    code, details, r = allocate(d.cpu, request("55555555-0000-0000-0000-000000000005", cpu=0.1,
                                               annotations={QOS: "golden_cores"}))
    check("Allocate a new pod with an invalid class name: shared_cores (the documented fallback)",
          code == grpc.StatusCode.OK and r.allocation_result.resource_allocation["cpu"].allocation_result
          == before[SHARED]["app"][3], (code, details, r))
    code, _, _ = d.cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid="55555555-0000-0000-0000-000000000005"),
                            rp.RemovePodResponse)
    check("... and RemovePod frees it", code == grpc.StatusCode.OK and allocations(d.cpu) == before, code)


def huge_annotations(value):
    """HUGE_MAP distinct 4-character keys (base 62), each with value."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return {"k" + digits[i // 3844 % 62] + digits[i // 62 % 62] + digits[i % 62] if i < 238328 else "K%03d" % i: value
            for i in range(HUGE_MAP)}


def test_huge_map(d, before, before_mem):
    """An Allocate whose annotations map has 100 000 entries, for a new pod
    that would otherwise be allocated: under the 1 MiB request limit it is
    decoded and refused (Kubernetes's 256 KiB of annotations), over it
    gRPC refuses it unread; neither changes anything, both are answered
    quickly, and the agent serves on."""
    import resourceplugin_pb2 as rp
    uid = "99999999-0000-0000-0000-000000000009"
    # Bytes made beforehand, sent as they are: the time is the daemon's
    # (transport, check, decode, refusal), not Python's encoding.
    raw = d.cpu.channel.unary_unary(RP + "Allocate", request_serializer=lambda b: b,
                                    response_deserializer=rp.ResourceAllocationResponse.FromString)
    for value, want, what in (("", grpc.StatusCode.INVALID_ARGUMENT, "under the 1 MiB limit"),
                              ("x" * 8, grpc.StatusCode.RESOURCE_EXHAUSTED, "over the 1 MiB limit")):
        data = request(uid, cpu=0.1, annotations=huge_annotations(value)).SerializeToString()
        size = len(data)
        start = time.monotonic()
        try:
            raw(data, timeout=10)
            code, details = grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            code, details = e.code(), e.details()
        took = time.monotonic() - start
        check("Allocate with %d annotations (%d bytes, %s): %s in %.3f s (%s)"
              % (HUGE_MAP, size, what, want.name, took, details),
              code == want and (size < MAX_REQUEST) == (want == grpc.StatusCode.INVALID_ARGUMENT), (code, details))
        check("... answered within %.1f s" % HUGE_MAP_BOUND, took < HUGE_MAP_BOUND, took)
        check("... and nothing changed", allocations(d.cpu) == before and allocations(d.memory) == before_mem,
              allocations(d.cpu))
    code, details, r = allocate(d.cpu, request(uid, cpu=0.1, annotations={QOS: "shared_cores"}))
    check("... the agent still serves: the same pod with normal annotations is allocated",
          code == grpc.StatusCode.OK, (code, details))
    code, _, _ = d.cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid=uid), rp.RemovePodResponse)
    check("... and removed again", code == grpc.StatusCode.OK and allocations(d.cpu) == before, code)


def test_hooks(d, exclusive):
    import runtimehooks_pb2 as rh
    online = online_cpus()
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    be_uid = "66666666-0000-0000-0000-000000000006"
    code, details, r = d.hooks.code(HOOK + "PreRunPodSandboxHook", rh.PodSandboxHookRequest(
        pod_meta=rh.PodSandboxMetadata(name="be", uid=be_uid, namespace="default"),
        labels={KOORD: "BE"}, cgroup_parent="kubepods-besteffort.slice",
        resources=rh.LinuxContainerResources(cpu_period=100000, cpu_shares=2)), rh.PodSandboxHookResponse)
    check("PreRunPodSandboxHook BE: answered", code == grpc.StatusCode.OK, (code, details))

    code, details, r = d.hooks.code(HOOK + "PreCreateContainerHook", rh.ContainerResourceHookRequest(
        pod_meta=rh.PodSandboxMetadata(name="be", uid=be_uid, namespace="default"),
        container_meta=rh.ContainerMetadata(name="work", id="0123abcd"),
        pod_labels={KOORD: "BE"},
        pod_cgroup_parent="kubepods-besteffort-pod66666666_0000_0000_0000_000000000006.slice",
        container_resources=rh.LinuxContainerResources(cpu_period=100000, cpu_shares=102, cpu_quota=-1)),
        rh.ContainerResourceHookResponse)
    ok = code == grpc.StatusCode.OK and r.HasField("container_resources")
    res = r.container_resources if ok else None
    want_quota = BE_MILLICORES * 100000 // 1000
    check("PreCreateContainerHook BE: cpu_shares 2, cpu_quota from the CPU budget (%d), period 100 ms"
          % want_quota, ok and res.cpu_shares == 2 and res.cpu_quota == want_quota and res.cpu_period == 100000,
          (code, details, r))
    check("... cpuset = the reclaimed pool (every non-exclusive CPU)",
          ok and cpu_list(res.cpuset_cpus) == online - exclusive, res)
    check("... no memory limit (the memory controller is off)", ok and res.memory_limit_in_bytes == 0,
          res)
    if v2:
        check("... cgroup v2: unified cpu.idle 1", ok and res.unified.get("cpu.idle") == "1", res)
    else:
        check("... cgroup v1: no unified files", ok and len(res.unified) == 0, res)

    code, details, r = d.hooks.code(HOOK + "PreCreateContainerHook", rh.ContainerResourceHookRequest(
        pod_meta=rh.PodSandboxMetadata(name="ls", uid="77777777-0000-0000-0000-000000000007", namespace="default"),
        container_meta=rh.ContainerMetadata(name="web", id="4567abcd"),
        pod_labels={KOORD: "LS"},
        pod_cgroup_parent="kubepods-burstable-pod77777777_0000_0000_0000_000000000007.slice",
        container_resources=rh.LinuxContainerResources(cpu_period=100000, cpu_shares=512, cpu_quota=50000)),
        rh.ContainerResourceHookResponse)
    res = r.container_resources if code == grpc.StatusCode.OK else None
    check("PreCreateContainerHook LS: the request unchanged",
          res is not None and res.cpu_shares == 512 and res.cpu_quota == 50000 and res.cpu_period == 100000
          and res.cpuset_cpus == "", (code, details, r))

    code, details, r = d.hooks.code(HOOK + "PreStartContainerHook", rh.ContainerResourceHookRequest(
        pod_meta=rh.PodSandboxMetadata(name="ded", uid=DEDICATED, namespace="default"),
        container_meta=rh.ContainerMetadata(name="app", id="89abcdef"),
        pod_annotations={QOS: "dedicated_cores"},
        pod_cgroup_parent="kubepods-pod33333333_0000_0000_0000_000000000003.slice",
        container_resources=rh.LinuxContainerResources(cpu_period=100000, cpu_shares=1024, cpu_quota=100000)),
        rh.ContainerResourceHookResponse)
    res = r.container_resources if code == grpc.StatusCode.OK else None
    check("PreStartContainerHook dedicated: its exclusive cpuset",
          res is not None and cpu_list(res.cpuset_cpus) == exclusive, (code, details, r))

    code, details, _ = d.hooks.code(HOOK + "PostStopContainerHook", rh.ContainerResourceHookRequest(
        pod_meta=rh.PodSandboxMetadata(name="nobody", uid="88888888-0000-0000-0000-000000000008",
                                       namespace="default"),
        container_meta=rh.ContainerMetadata(name="gone", id="fedcba98")), rh.ContainerResourceHookResponse)
    check("PostStopContainerHook of an unknown container: fine", code == grpc.StatusCode.OK, (code, details))


def main():
    if not shutil.which("protoc"):
        print("protoc is missing (Debian: protobuf-compiler): skipped")
        return 77
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-qrm-")
    daemons = []
    try:
        generate_modules(os.path.join(workdir, "py"), PROTO_DIR, HEALTH_DIR)
        import resourceplugin_pb2 as rp

        d = Daemon(workdir, "first")
        daemons.append(d)
        if not check("the daemon serves its sockets", d.wait_serving(), d.log()):
            return 1
        check("no checkpoint yet: starting empty", allocations(d.cpu) == {}, allocations(d.cpu))

        exclusive = test_qrm_flow(d)
        test_hostile(d)
        test_hooks(d, exclusive)

        checkpoint = os.path.join(d.state_dir, "qrm-checkpoint")
        check("the checkpoint is written, mode 0600", os.path.exists(checkpoint)
              and (os.stat(checkpoint).st_mode & 0o777) == 0o600)
        before = allocations(d.cpu), allocations(d.memory)

        # kill -9: no chance to save anything at exit.
        d.stop(signal.SIGKILL)
        d2 = Daemon(workdir, "second")
        daemons.append(d2)
        if not check("a restarted daemon serves again", d2.wait_serving(), d2.log()):
            return 1
        after = allocations(d2.cpu), allocations(d2.memory)
        check("after kill -9 and a restart, GetResourcesAllocation answers the same", after == before,
              (before, after))
        check("... and logs the restore", "QRM checkpoint restored" in d2.log(), d2.log())
        code, _, r = allocate(d2.cpu, request(DEDICATED, cpu=1, annotations={QOS: "dedicated_cores"}, hint=[0]))
        check("... and re-allocating the dedicated container answers its CPUs",
              code == grpc.StatusCode.OK
              and cpu_list(r.allocation_result.resource_allocation["cpu"].allocation_result) == exclusive, (code, r))

        # RemovePod of each, then empty.
        for uid in (SHARED, RECLAIMED, DEDICATED, DEDICATED2):
            code, details, _ = d2.cpu.code(RP + "RemovePod", rp.RemovePodRequest(pod_uid=uid), rp.RemovePodResponse)
            check("RemovePod %s" % uid[:8], code == grpc.StatusCode.OK, (code, details))
        check("... everything freed (both plugins share one state)",
              allocations(d2.cpu) == {} and allocations(d2.memory) == {}, (allocations(d2.cpu), allocations(d2.memory)))
        code, _, r = allocate(d2.cpu, request(SHARED, cpu=0.5))
        check("... the shared pool is every CPU again",
              code == grpc.StatusCode.OK
              and cpu_list(r.allocation_result.resource_allocation["cpu"].allocation_result) == online_cpus(), r)
        rc = d2.stop()
        check("that daemon stops cleanly", rc == 0, rc)

        # A torn checkpoint file (what a power loss during a save leaves):
        # the other file, the previous save, is read. d2's last save
        # allocated SHARED; every later call changed nothing.
        alternate = checkpoint + ".alt"
        check("both checkpoint files are written", os.path.exists(checkpoint) and os.path.exists(alternate))
        newest = max((checkpoint, alternate), key=lambda p: int(open(p, "rb").read().split(b"\n")[1].split()[1]))
        with open(newest, "r+b") as f:
            f.seek(60)
            f.write(b"#")
        d_torn = Daemon(workdir, "torn")
        daemons.append(d_torn)
        if check("a daemon with one torn checkpoint file starts", d_torn.wait_serving(), d_torn.log()):
            check("... restoring the previous save (every pod removed)",
                  allocations(d_torn.cpu) == {} and "QRM checkpoint restored" in d_torn.log()
                  and "not usable" not in d_torn.log(), (allocations(d_torn.cpu), d_torn.log()))
        rc = d_torn.stop()
        check("that daemon stops cleanly", rc == 0, rc)

        # Both corrupted: logged, kept aside, started empty.
        for path in (checkpoint, alternate):
            with open(path, "w") as f:
                f.write("nodeqos-qrm-checkpoint 2\ngarbage\n")
        d3 = Daemon(workdir, "third")
        daemons.append(d3)
        if check("a daemon with a corrupted checkpoint starts", d3.wait_serving(), d3.log()):
            check("... logging why", "is not usable" in d3.log(), d3.log())
            check("... keeping them aside as qrm-checkpoint{,.alt}.corrupt",
                  os.path.exists(checkpoint + ".corrupt") and os.path.exists(alternate + ".corrupt"))
            check("... with an empty state", allocations(d3.cpu) == {}, allocations(d3.cpu))
        rc = d3.stop()
        check("that daemon stops cleanly", rc == 0, rc)
    finally:
        for d in daemons:
            d.stop()
        for d in daemons:
            with open(d.log_path) as f:
                log = f.read()
            reports = [line for line in log.splitlines()
                       if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                       or "runtime error:" in line]
            check("no sanitizer report from %s" % os.path.basename(d.config), not reports, reports[:3])
        shutil.rmtree(workdir, ignore_errors=True)

    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if NODEQOSD is None:
        print("usage: test-daemon-qrm.py NODEQOSD PROTO_DIR HEALTH_PROTO_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
