#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The real daemon's eBPF sensors: loaded and said up at start-up, off by
configuration, refused when the agent lacks the capabilities (it keeps
running on PSI and cgroup statistics, says so in the log and in STATUS=),
and gone from the kernel once the agent exits.

Usage: test-daemon-sensors.py NODEQOSD
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nodeqos_harness as harness  # noqa: E402
from nodeqos_harness import check, failures  # noqa: E402

NODEQOSD = sys.argv[1]
WAIT = 8.0
SENSORS = ("runqueue", "reclaim", "block_io")


def sensor_programs():
    """The ids of the loaded BPF programs named like ours (nq_*). Another
    process may load them too (a developer's agent): the test compares ids,
    not names."""
    out = subprocess.run(["bpftool", "-j", "prog", "list"], capture_output=True, text=True, check=True).stdout
    return {p["id"] for p in json.loads(out or "[]") if p.get("name", "").startswith("nq_")}


def run(workdir, name, extra="", prefix=()):
    d = os.path.join(workdir, name)
    os.mkdir(d)
    return harness.Daemon(NODEQOSD, d, harness.config(d, extra), prefix)


def main():
    workdir = tempfile.mkdtemp(prefix="nodeqos-test-daemonsensors-")
    daemons = []
    try:
        before = sensor_programs()

        # All sensors up on this machine.
        d = run(workdir, "up")
        daemons.append(d)
        check("READY=1", d.wait_ready(WAIT), d.log())
        for s in SENSORS:
            check("sensor %s up in the log" % s, ("eBPF sensor %s up." % s) in d.log(), d.log())
        check("STATUS says every sensor is up",
              d.wait_status(r"sensors: runqueue up, reclaim up, block_io up", WAIT), d.status)
        ours = sensor_programs() - before
        check("its programs are in the kernel", len(ours) >= 3, str(ours))
        d.stop()
        check("stops cleanly", d.proc.returncode == 0, str(d.proc.returncode))
        # The kernel frees programs after their last reference goes, which
        # may take a grace period after the process is gone.
        deadline = time.monotonic() + 3.0
        left = ours & sensor_programs()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = ours & sensor_programs()
        check("no program of its remains after exit", not left, str(left))

        # Off by configuration: down, with the reason, still ticking.
        d = run(workdir, "off", "sensors: {runqueue: false, reclaim: false, block_io: false}\n")
        daemons.append(d)
        check("READY=1 with the sensors off", d.wait_ready(WAIT), d.log())
        check("the reason is logged",
              "eBPF sensor runqueue down (disabled by configuration): running on PSI and cgroup statistics" in d.log(),
              d.log())
        check("STATUS says down and keeps ticking",
              d.wait_status(r"tick [2-9]\d* .*sensors: runqueue down, reclaim down, block_io down", WAIT), d.status)
        d.stop()

        # The capabilities BPF needs dropped: refused by the kernel, the agent
        # runs on. capsh drops them from the bounding set and the process.
        if shutil.which("capsh"):
            d = run(workdir, "nocaps", prefix=("capsh", "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--"
                                               , "-c", 'exec "$0" "$@"'))
            daemons.append(d)
            check("READY=1 without CAP_BPF", d.wait_ready(WAIT), d.log())
            check("the refusal is logged for each sensor",
                  all(("eBPF sensor %s down (" % s) in d.log() for s in SENSORS), d.log())
            check("STATUS says down and keeps ticking without CAP_BPF",
                  d.wait_status(r"tick [2-9]\d* .*sensors: runqueue down, reclaim down, block_io down", WAIT),
                  d.status)
            d.stop()
            check("stops cleanly without CAP_BPF", d.proc.returncode == 0, str(d.proc.returncode))
        else:
            check("capsh is installed (libcap2-bin)", False)
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print("# %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root")
        sys.exit(77)
    sys.exit(main())
