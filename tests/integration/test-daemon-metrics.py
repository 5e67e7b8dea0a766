#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The Prometheus endpoint of the real daemon, with pods on real cgroups
and the eBPF sensors loaded: `promtool check metrics` passes on the live
output; a real Prometheus server, started here on loopback, scrapes the
agent (it asks for OpenMetrics first) and its HTTP API finds
nodeqos_build_info and a per-pod series; /healthz and /readyz answer; bad
requests (unknown paths, other methods, huge headers, 500 connections at
once) are answered or refused cleanly and the agent keeps ticking.

Usage: test-daemon-metrics.py NODEQOSD GRAFANA_DASHBOARD_JSON

The Grafana dashboard's queries are checked too: each metric it names is
exposed, and each query evaluates in the Prometheus server.

Needs root (cgroups, sensors) and Debian's prometheus package (promtool,
prometheus; packaging/install-deps.sh). Everything lives in a temporary
directory and a throwaway kubelet root, nodeqos-test-metrics-<pid>.
"""

import http.client
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodeqos_harness as harness  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1]
DASHBOARD = sys.argv[2]
NAME = "nodeqos-test-metrics-%d" % os.getpid()
CGROUPS = harness.ThrowawayCgroups(NAME)
POD_UID = "5f2c0e4a-7b1d-4c5e-9f60-7a8b9c0d1e2f"
TREE = [
    "kubepods",
    "kubepods/burstable",
    "kubepods/burstable/pod" + POD_UID,
    "kubepods/burstable/pod" + POD_UID + "/" + "4" * 64,
]
WAIT = 10.0
# Prometheus's first scrape comes after up to one interval, its TSDB
# start takes a few seconds on a loaded 2-CPU machine.
PROMETHEUS_WAIT = 60.0
CONNECTIONS = 500
IDLE_CONNECTIONS = 60
METRICS_MAX_CONNECTIONS = 16  # agent/metrics-server.h


def get(port, path, headers=None, method="GET", timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def raw_request(port, data, timeout=10):
    """Sends bytes, returns what comes back before the close (b"" if the
    connection is closed or reset without an answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)
        except (ConnectionResetError, BrokenPipeError):
            return b""


def status_of(answer):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None


def tick_of(d):
    m = re.search(r"tick (\d+) every", d.status)
    return int(m.group(1)) if m else -1


def wait_for(what, timeout, d):
    """Polls what() while reading d's notify socket: the agent's sd_notify
    blocks once ten STATUS= datagrams wait there unread (systemd reads its
    socket at once; the test must too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = what()
        if result:
            return result
        d.messages(time.monotonic() + 0.2)
    return what()


def check_live_output(port, d):
    def pod_sampled():
        status, _, body = get(port, "/metrics")
        return body if status == 200 and ('pod_uid="%s"' % POD_UID) in body else None

    body = wait_for(pod_sampled, WAIT, d)
    check("/metrics shows the pod", body is not None)
    status, ctype, body = get(port, "/metrics")
    check("/metrics answers 200 in the text format", status == 200 and ctype.startswith("text/plain; version=0.0.4"),
          "%s %s" % (status, ctype))
    for series in ("nodeqos_build_info{", "nodeqos_ticks_total ", "nodeqos_tick_duration_seconds_bucket{le=",
                   'nodeqos_sensor_up{sensor="runqueue"} 1',
                   'nodeqos_pod_cpu_usage_seconds_total{pod_uid="%s",class="shared_cores"}' % POD_UID,
                   'nodeqos_pod_runqueue_latency_seconds_bucket{pod_uid="%s"' % POD_UID,
                   'nodeqos_controller_target{resource="cpu"', "nodeqos_grpc_requests_total{"):
        check("the live output has %s" % series, series in body, body[:3000])
    check_dashboard_names(body)
    lint = subprocess.run(["promtool", "check", "metrics"], input=body.encode(), capture_output=True)
    check("promtool check metrics passes", lint.returncode == 0,
          lint.stdout.decode() + lint.stderr.decode())

    status, ctype, om = get(port, "/metrics", {"Accept": "application/openmetrics-text;version=1.0.0"})
    check("OpenMetrics when asked", status == 200 and ctype.startswith("application/openmetrics-text; version=1.0.0")
          and om.endswith("# EOF\n") and "# TYPE nodeqos_build info" in om, ctype)

    status, _, text = get(port, "/healthz")
    check("/healthz is 200", status == 200 and text.startswith("ok: tick"), "%s %s" % (status, text))
    status, _, text = get(port, "/readyz")
    check("/readyz is 200 and names the sensors", status == 200 and "runqueue up" in text, "%s %s" % (status, text))


def check_bad_requests(port, d):
    status, _, _ = get(port, "/nope")
    check("an unknown path is 404", status == 404, status)
    status, _, _ = get(port, "/metrics/../healthz")
    check("a path with dots is 404 (no normalising into another page)", status in (400, 404), status)
    status, _, _ = get(port, "/metrics", method="POST")
    check("POST is 405", status == 405, status)

    huge = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * (256 * 1024) + b"\r\n\r\n"
    answer = raw_request(port, huge)
    check("huge headers are refused (431/413) or the connection closed", answer == b"" or status_of(answer) in (
        413, 431), answer[:200])
    many = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n"
    answer = raw_request(port, many)
    check("thousands of headers are refused or closed", answer == b"" or status_of(answer) in (413, 431),
          answer[:200])
    answer = raw_request(port, b"\x16\x03\x01garbage that is not HTTP\r\n\r\n")
    check("garbage gets a 400 or a close", answer == b"" or status_of(answer) == 400, answer[:200])

    # Many connections at once: each is answered, or closed by the
    # connection limit, never left hanging; the loop keeps ticking.
    results = []
    lock = threading.Lock()

    def client():
        try:
            r = status_of(raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                      timeout=20))
        except OSError as e:
            r = type(e).__name__
        with lock:
            results.append(r)

    before = tick_of(d) if d.wait_status(r"tick \d+", 2) else -1
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - started
    answered = sum(1 for r in results if r == 200)
    hanging = sum(1 for t in threads if t.is_alive())
    odd = [r for r in results if r not in (200, None, "ConnectionResetError", "ConnectionRefusedError")]
    print("# %d connections: %d answered 200, %d closed without answer, %.1f s" % (
        CONNECTIONS, answered, len(results) - answered - len(odd), elapsed), flush=True)
    check("%d connections: none hangs" % CONNECTIONS, hanging == 0, hanging)
    check("%d connections: answered or closed cleanly" % CONNECTIONS, not odd, odd[:10])
    check("%d connections: the endpoint answered many of them" % CONNECTIONS, answered >= METRICS_MAX_CONNECTIONS,
          answered)
    check("the agent keeps ticking", d.wait_status(r"tick (?!%d\b)\d+ every" % before, 5) and tick_of(d) > before,
          "%d -> %d" % (before, tick_of(d)))
    status, _, text = get(port, "/healthz")
    check("/healthz is still 200 afterwards", status == 200, "%s %s" % (status, text))

    # Connections that say nothing: the agent holds at most its limit of
    # them (until they time out); the rest wait in the kernel's backlog or
    # are closed. None takes the loop down.
    fds_before = len(os.listdir("/proc/%d/fd" % d.proc.pid))
    idle = []
    for _ in range(IDLE_CONNECTIONS):
        try:
            # the kernel drops SYNs once the backlog is full: no need to wait
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=0.3))
        except OSError:
            pass
    d.messages(time.monotonic() + 1)
    readable, _, _ = select.select(idle, [], [], 0)
    closed = 0
    for s in readable:
        try:
            closed += s.recv(1) == b""
        except OSError:
            closed += 1
    fds_held = len(os.listdir("/proc/%d/fd" % d.proc.pid)) - fds_before
    print("# %d idle connections: %d closed by the agent at once, the agent holds %d more descriptors" % (
        len(idle), closed, fds_held), flush=True)
    # +1: a connection libmicrohttpd accepts only to close it
    check("the agent holds no more than its connection limit", fds_held <= METRICS_MAX_CONNECTIONS + 1, fds_held)
    check("and holds some (the test reached it)", fds_held > 0, fds_held)
    check("the agent ticks while they are held", d.wait_status(r"tick \d+ every", 2))
    for s in idle:
        s.close()
    status, _, text = wait_for(lambda: get(port, "/healthz"), 5, d)
    check("/healthz answers once they are gone", status == 200, "%s %s" % (status, text))


def prometheus_api(port, query):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": query}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400 for a query that does not parse
        return json.load(e)


def prometheus_query(port, query):
    answer = prometheus_api(port, query)
    return answer["data"]["result"] if answer.get("status") == "success" else []


def dashboard_queries():
    """Every PromQL expression of the dashboard (panels, annotations),
    with Grafana's variables replaced by values Prometheus accepts."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in dash["annotations"]["list"] if "expr" in a]
    subst = {"$__rate_interval": "1m", "$instance": ".*", "$resource": "cpu"}
    for i, e in enumerate(exprs):
        for k, v in subst.items():
            e = e.replace(k, v)
        exprs[i] = e
    return exprs


def check_dashboard_names(body):
    exposed = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    used = set()
    for e in dashboard_queries():
        used.update(re.findall(r"\b(nodeqos_[a-z0-9_]+)", e))
    unknown = sorted(n for n in used if n not in exposed and re.sub(r"_(bucket|sum|count)$", "", n) not in exposed)
    check("every metric the Grafana dashboard names is exposed", used and not unknown, unknown)


def check_dashboard_queries(prom_port):
    bad = []
    for e in dashboard_queries():
        answer = prometheus_api(prom_port, e)
        if answer.get("status") != "success":
            bad.append("%s: %s" % (e, answer.get("error")))
    check("every query of the Grafana dashboard evaluates", not bad, bad)


def check_prometheus(workdir, port, d):
    prom_port = harness.free_port()
    prom_dir = os.path.join(workdir, "prometheus")
    os.mkdir(prom_dir)
    with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
        f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: nodeqos\n"
                "    static_configs: [{targets: ['127.0.0.1:%d']}]\n" % port)
    log = open(os.path.join(prom_dir, "prometheus.log"), "w+")
    prom = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(prom_dir, "prometheus.yml"),
                             "--storage.tsdb.path=" + os.path.join(prom_dir, "data"),
                             "--web.listen-address=127.0.0.1:%d" % prom_port],
                            stdout=log, stderr=log)
    try:
        def query(q):
            try:
                return prometheus_query(prom_port, q)
            except OSError:
                return []

        build = wait_for(lambda: query("nodeqos_build_info"), PROMETHEUS_WAIT, d)
        log.flush()
        log.seek(0)
        check("Prometheus scraped nodeqos_build_info", bool(build) and build[0]["metric"].get("version"),
              log.read()[-3000:])
        pod = wait_for(lambda: query('nodeqos_pod_cpu_usage_seconds_total{pod_uid="%s"}' % POD_UID), WAIT, d)
        check("Prometheus has the pod's CPU usage", bool(pod) and pod[0]["metric"].get("class") == "shared_cores",
              pod)
        hist = query('nodeqos_pod_runqueue_latency_seconds_count{pod_uid="%s"}' % POD_UID)
        check("Prometheus has the pod's run-queue histogram", bool(hist), hist)
        up = query('up{job="nodeqos"}')
        check("the target is up", bool(up) and up[0]["value"][1] == "1", up)
        check_dashboard_queries(prom_port)
    finally:
        prom.terminate()
        try:
            prom.wait(10)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()


def main():
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-metrics-")
    d = None
    try:
        for rel in TREE:
            CGROUPS.make(rel)
        port = harness.free_port()
        d = harness.Daemon(NODEQOSD, workdir, harness.config(
            workdir, "cgroup:\n  kubelet_cgroup_root: /%s\n" % NAME, metrics_listen="127.0.0.1:%d" % port))
        check("READY=1 arrives", d.wait_ready(WAIT), d.log())
        check("the endpoint is logged", ("Metrics on http://127.0.0.1:%d/metrics" % port) in d.log(), d.log())

        check_live_output(port, d)
        check_bad_requests(port, d)
        check_prometheus(workdir, port, d)

        d.messages(time.monotonic() + 0.5)  # see wait_for()
        stop_started = time.monotonic()
        d.stop()
        check("stops cleanly within 2 s", d.proc.returncode == 0 and time.monotonic() - stop_started < 2,
              "%s after %.1f s: %s" % (d.proc.returncode, time.monotonic() - stop_started,
                                                  open(os.path.join(workdir, "stderr.log")).read()[-2000:]))
        try:
            get(port, "/healthz", timeout=2)
            closed = False
        except OSError:
            closed = True
        check("the port is closed after the stop", closed)

        # A port already taken: logged, and the agent runs without it.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            busy_port = taken.getsockname()[1]
            bdir = os.path.join(workdir, "busy")
            os.mkdir(bdir)
            d = harness.Daemon(NODEQOSD, bdir, harness.config(bdir, metrics_listen="127.0.0.1:%d" % busy_port))
            check("with its port taken the agent still starts", d.wait_ready(WAIT), d.log())
            check("and says why", ("Cannot serve metrics on 127.0.0.1:%d: Address already in use; running without "
                                   "the metrics endpoint." % busy_port) in d.log(), d.log())
    finally:
        if d:
            d.stop()
        CGROUPS.remove_all()
        shutil.rmtree(workdir, ignore_errors=True)

    check("no cgroup left behind", not CGROUPS.left_behind(), CGROUPS.left_behind())
    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.path.isdir(harness.CGROUP_ROOT):
        print("needs root and cgroups")
        sys.exit(77)
    missing = [p for p in ("promtool", "prometheus") if not shutil.which(p)]
    if missing:
        print("needs %s (Debian package prometheus: packaging/install-deps.sh)" % ", ".join(missing))
        sys.exit(77)
    sys.exit(main())
