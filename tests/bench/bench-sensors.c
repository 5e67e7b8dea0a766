/* SPDX-License-Identifier: Apache-2.0 */
/* The eBPF sensors' costs, as root (tests/bench/sensors-overhead.sh):
 *
 *   bench-sensors hold [runqueue|reclaim|block_io|all]
 *       loads the sensors (default: runqueue), prints "ready", reads them
 *       every second as the agent does, until SIGTERM or SIGINT;
 *       the script times a workload meanwhile.
 *   bench-sensors read [N]
 *       the CPU time of sensors_read() with N cgroups (default 1000) whose
 *       entries all changed, in every sensor, written as fake entries into
 *       the maps. */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "bpf/sensors-private.h"
#include "bpf/sensors.h"
#include "qos/cgroup-layout.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

static double cpu_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static double wall_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static CgroupMode detect_mode(void) {
        CgroupLayout l = {};
        const char *missing = NULL;
        CgroupMode m = CGROUP_MODE_V2;

        if (cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &l, &missing) == 0)
                m = l.mode;
        cgroup_layout_done(&l);
        return m;
}

static int open_sensors(const char *which, Sensors **ret) {
        SensorsOptions o = { .mode = detect_mode() };
        int r;

        for (int k = 0; k < _SENSOR_MAX; k++)
                o.disabled[k] = strcmp(which, "all") != 0 && strcmp(which, sensor_kind_to_string((SensorKind) k)) != 0;
        r = sensors_open(&o, ret);
        if (r < 0)
                return r;
        for (int k = 0; k < _SENSOR_MAX; k++)
                if (!o.disabled[k] && !sensors_up(*ret, (SensorKind) k)) {
                        fprintf(stderr, "sensor %s down: %s\n", sensor_kind_to_string((SensorKind) k),
                                sensors_down_reason(*ret, (SensorKind) k));
                        return -EIO;
                }
        return 0;
}

static int hold(const char *which) {
        Sensors *s = NULL;
        double read_ms = 0;
        unsigned reads = 0;
        int r = open_sensors(which, &s);

        if (r < 0) {
                sensors_free(s);
                return 1;
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        printf("ready\n");
        fflush(stdout);
        while (!stop) {
                CgroupSensorDelta *d = NULL;
                size_t n = 0;
                double t0;

                (void) poll(NULL, 0, 1000);
                if (stop)
                        break;
                t0 = cpu_msec();
                if (sensors_read(s, &d, &n) < 0)
                        break;
                read_ms += cpu_msec() - t0;
                reads++;
                free(d);
        }
        fprintf(stderr, "bench-sensors hold: %u reads, %.3f ms CPU each, %llu events dropped\n", reads,
                reads ? read_ms / reads : 0.0, (unsigned long long) sensors_dropped(s));
        sensors_free(s);
        return 0;
}

static int read_cost(unsigned n) {
        Sensors *s = NULL;
        CgroupSensorDelta *d = NULL;
        size_t m = 0;
        double cpu, wall, best = 1e9;
        const int rounds = 20;
        int r = open_sensors("all", &s);

        /* Far above any real cgroup's inode, and three sensors' maps: on
         * v1 three entries per cgroup, merged into one on v2. */
        const uint64_t first = UINT64_C(1) << 40;

        if (r < 0 || n == 0) {
                sensors_free(s);
                return 1;
        }
        r = sensors_debug_fill(s, first, n, 1);
        if (r == 0)
                r = sensors_read(s, &d, &m);
        free(d);
        for (int i = 0; r == 0 && i < rounds; i++) {
                r = sensors_debug_fill(s, first, n, (uint64_t) i + 2);
                if (r < 0)
                        break;
                cpu = cpu_msec();
                wall = wall_msec();
                r = sensors_read(s, &d, &m);
                cpu = cpu_msec() - cpu;
                wall = wall_msec() - wall;
                free(d);
                if (cpu < best)
                        best = cpu;
                if (i == rounds - 1)
                        printf("sensors_read, %u cgroups changed in each of 3 sensors: %zu entries out, last %.3f ms CPU (%.3f ms wall), best %.3f ms CPU\n",
                               n, m, cpu, wall, best);
        }
        for (unsigned j = 0; j < n; j++)
                sensors_forget(s, first + j);
        sensors_free(s);
        if (r < 0) {
                fprintf(stderr, "bench-sensors read: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

int main(int argc, char **argv) {
        if (geteuid() != 0) {
                fprintf(stderr, "bench-sensors: run as root\n");
                return 77;
        }
        if (argc >= 2 && strcmp(argv[1], "hold") == 0)
                return hold(argc >= 3 ? argv[2] : "runqueue");
        if (argc >= 2 && strcmp(argv[1], "read") == 0)
                return read_cost(argc >= 3 ? (unsigned) strtoul(argv[2], NULL, 10) : 1000);
        fprintf(stderr, "usage: bench-sensors hold [runqueue|reclaim|block_io|all] | read [N]\n");
        return 2;
}
