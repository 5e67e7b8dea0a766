/* SPDX-License-Identifier: Apache-2.0 */
/* The run-queue sensor on the real kernel (root): a periodic sleeper in
 * one cgroup, CPU hogs (stress-ng) in a sibling. The sleeper's cgroup
 * waits far longer for a CPU with the hogs than without, only the cgroups
 * that ran show up, the hogs' cgroup is who preempts the sleeper's, and the
 * sensor agrees with Debian's libbpf-tools runqlat on the same process. */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "bpf/latency-histogram.h"
#include "sensor-test.h"

static SensorTest t;
static const char *const rels[] = { "stress", "sleeper", "idle", NULL };
enum { STRESS, SLEEPER, IDLE, _N_CGROUPS };
static uint64_t ids[_N_CGROUPS];

/* The sleeper: a latency-sensitive task in miniature. Each period it works
 * for spin_us, then sleeps sleep_us: it is woken once a period. Working
 * longer than a scheduler tick (4 ms here), a neighbour preempts it. */
typedef struct Sleeper {
        unsigned iterations, sleep_us, spin_us;
        int cpu; /* >= 0: pinned there */
} Sleeper;

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int sleeper_main(void *arg) {
        const Sleeper *s = arg;

        if (s->cpu >= 0) {
                cpu_set_t set;

                CPU_ZERO(&set);
                CPU_SET(s->cpu, &set);
                if (sched_setaffinity(0, sizeof(set), &set) < 0)
                        return 3;
        }

        for (unsigned i = 0; i < s->iterations; i++) {
                uint64_t end = now_us() + s->spin_us;
                struct timespec ts = { .tv_nsec = (long) s->sleep_us * 1000 };

                while (now_us() < end)
                        ;
                nanosleep(&ts, NULL);
        }
        return 0;
}

static const Sleeper sleeper = { .iterations = 600, .sleep_us = 1000, .spin_us = 100, .cpu = -1 };
/* A neighbour that wakes every millisecond, and a worker of the sleeper's
 * cgroup busy on the same CPU meanwhile: each wakeup preempts the worker. */
static const Sleeper waker = { .iterations = 300, .sleep_us = 1000, .spin_us = 20, .cpu = 0 };
static const Sleeper worker = { .iterations = 1, .sleep_us = 0, .spin_us = 400000, .cpu = 0 };

/* CPU weights as the kubelet sets them: a latency-sensitive pod asking
 * for 100m (102 shares) next to a neighbour asking for 4 CPUs (4096). With
 * equal weights this kernel's EEVDF lets the sleeper preempt the hogs at
 * once, and it hardly waits. */
static int set_cpu_weight(const char *rel, unsigned shares) {
        const char *mount = t.layout.controller_mount[CGROUP_CONTROLLER_CPU];
        char value[32];

        if (t.layout.mode == CGROUP_MODE_V2) {
                /* the kubelet's conversion from shares to cpu.weight */
                (void) snprintf(value, sizeof(value), "%u", 1 + (shares - 2) * 9999 / 262142);
                return cgroup_test_tree_write(&t.tree, mount, rel, "cpu.weight", value);
        }
        (void) snprintf(value, sizeof(value), "%u", shares);
        return cgroup_test_tree_write(&t.tree, mount, rel, "cpu.shares", value);
}

static int setup(void **state) {
        int r = sensor_test_setup(&t, "runqueue", rels, 1U << SENSOR_RUNQUEUE);

        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return -1;
        }
        if (t.layout.mode == CGROUP_MODE_V2)
                (void) cgroup_test_tree_write(&t.tree, t.layout.unified_mount, "", "cgroup.subtree_control", "+cpu");
        r = set_cpu_weight("sleeper", 102);
        if (r == 0)
                r = set_cpu_weight("stress", 4096);
        if (r < 0) {
                fprintf(stderr, "setting CPU weights: %s\n", strerror(-r));
                return -1;
        }
        for (int i = 0; i < _N_CGROUPS; i++)
                if (sensor_test_cgroup_id(&t, SENSOR_RUNQUEUE, rels[i], &ids[i]) < 0)
                        return -1;
        return 0;
}

static int teardown(void **state) {
        return sensor_test_teardown(&t) < 0 ? -1 : 0;
}

/* Runs the sleeper once; acc[] gets what the sensor saw of each cgroup
 * meanwhile. */
static void measure_sleeper(const Sleeper *s, int start_fd, CgroupSensorDelta acc[static _N_CGROUPS]) {
        pid_t pid;

        memset(acc, 0, sizeof(CgroupSensorDelta) * _N_CGROUPS);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        pid = sensor_test_spawn(&t, "sleeper", start_fd, sleeper_main, (void *) s, NULL);
        assert_true(pid > 0);
        assert_int_equal(sensor_test_wait(&t, pid), 0);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, ids, _N_CGROUPS, acc), 0);
}

static void print_cgroup(const char *phase, const char *name, const CgroupSensorDelta *d) {
        printf("%-8s %-8s count %6llu  p50 %9.0f ns  p99 %10.0f ns  mean %9.0f ns  preempted %5llu (by other %5llu:",
               phase, name, (unsigned long long) d->runqueue.count, latency_histogram_quantile(&d->runqueue, 0.5),
               latency_histogram_quantile(&d->runqueue, 0.99), latency_histogram_mean(&d->runqueue),
               (unsigned long long) d->preempted, (unsigned long long) d->preempted_by_other);
        for (int i = 0; i < SENSORS_TOP_PREEMPTORS && d->preemptors[i].count > 0; i++)
                printf(" %llu x%llu", (unsigned long long) d->preemptors[i].cgroup_id,
                       (unsigned long long) d->preemptors[i].count);
        printf(")\n");
}

/* How often the hogs' cgroup preempted the sleeper's, if among its top. */
static uint64_t preempted_by(const CgroupSensorDelta *d, uint64_t aggressor) {
        for (int i = 0; i < SENSORS_TOP_PREEMPTORS; i++)
                if (d->preemptors[i].count > 0 && d->preemptors[i].cgroup_id == aggressor)
                        return d->preemptors[i].count;
        return 0;
}

/* The worker in the sleeper's cgroup, the waker in the hogs' (the hogs
 * gone), both on CPU 0, the sleeper's cgroup at the weight of the root
 * cgroup's tasks so that those do not starve it. */
static void measure_preemption(CgroupSensorDelta acc[static _N_CGROUPS]) {
        pid_t worker_pid, waker_pid;

        memset(acc, 0, sizeof(CgroupSensorDelta) * _N_CGROUPS);
        assert_int_equal(set_cpu_weight("sleeper", 1024), 0);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        worker_pid = sensor_test_spawn(&t, "sleeper", -1, sleeper_main, (void *) &worker, NULL);
        assert_true(worker_pid > 0);
        waker_pid = sensor_test_spawn(&t, "stress", -1, sleeper_main, (void *) &waker, NULL);
        assert_true(waker_pid > 0);
        assert_int_equal(sensor_test_wait(&t, waker_pid), 0);
        assert_int_equal(sensor_test_wait(&t, worker_pid), 0);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, ids, _N_CGROUPS, acc), 0);
        assert_int_equal(set_cpu_weight("sleeper", 102), 0);
}

static pid_t start_stress(void) {
        static char *const argv[] = { "stress-ng", "--cpu", "4", "--timeout", "120s", "--quiet", NULL };
        pid_t pid = sensor_test_spawn(&t, "stress", -1, NULL, NULL, argv);

        assert_true(pid > 0);
        /* Let the workers start and settle. */
        sensor_test_sleep_ms(700);
        return pid;
}

static bool have_stress_ng(void) {
        if (system("command -v stress-ng >/dev/null 2>&1") == 0)
                return true;
        fprintf(stderr, "stress-ng not installed (Debian package stress-ng): skipped\n");
        return false;
}

static void test_latency_under_load(void **state) {
        CgroupSensorDelta quiet[_N_CGROUPS], loaded[_N_CGROUPS], preempting[_N_CGROUPS];
        double quiet_p50, loaded_p50, quiet_p99, loaded_p99;

        if (!have_stress_ng())
                skip();

        measure_sleeper(&sleeper, -1, quiet);
        (void) start_stress();
        measure_sleeper(&sleeper, -1, loaded);
        assert_int_equal(sensor_test_kill_cgroup(&t, "stress"), 0);
        measure_preemption(preempting);

        for (int i = 0; i < _N_CGROUPS; i++) {
                print_cgroup("quiet", rels[i], &quiet[i]);
                print_cgroup("loaded", rels[i], &loaded[i]);
                print_cgroup("worker", rels[i], &preempting[i]);
        }
        printf("cgroup ids: stress %llu, sleeper %llu, idle %llu; %llu events dropped\n",
               (unsigned long long) ids[STRESS], (unsigned long long) ids[SLEEPER], (unsigned long long) ids[IDLE],
               (unsigned long long) sensors_dropped(t.sensors));

        /* Only the cgroups that ran: every wakeup of the sleeper counted
         * (one per period, and its start), the hogs only while they ran. */
        /* (An iteration whose timer fires before it is switched out has
         * no switch to time: a few on a busy machine, runqlat agrees.) */
        assert_true(quiet[SLEEPER].runqueue.count >= sleeper.iterations * 9 / 10);
        assert_true(loaded[SLEEPER].runqueue.count >= sleeper.iterations * 9 / 10);
        assert_int_equal(quiet[STRESS].runqueue.count, 0);
        assert_true(loaded[STRESS].runqueue.count > 0);
        assert_int_equal(quiet[IDLE].kinds, 0);
        assert_int_equal(loaded[IDLE].kinds, 0);
        assert_int_equal(preempting[IDLE].kinds, 0);

        /* The sleeper waits for the hogs: its typical and its worst wait
         * grow by far more than the machine's other noise moves them. */
        quiet_p50 = latency_histogram_quantile(&quiet[SLEEPER].runqueue, 0.5);
        loaded_p50 = latency_histogram_quantile(&loaded[SLEEPER].runqueue, 0.5);
        quiet_p99 = latency_histogram_quantile(&quiet[SLEEPER].runqueue, 0.99);
        loaded_p99 = latency_histogram_quantile(&loaded[SLEEPER].runqueue, 0.99);
        printf("sleeper p50: quiet %.0f ns, loaded %.0f ns (x%.1f); p99: quiet %.0f ns, loaded %.0f ns (x%.1f)\n",
               quiet_p50, loaded_p50, loaded_p50 / quiet_p50, quiet_p99, loaded_p99, loaded_p99 / quiet_p99);
        assert_true(loaded_p50 > 10 * quiet_p50);
        assert_true(loaded_p99 > 3 * quiet_p99);
        assert_true(loaded_p99 > 1000000);

        /* Who preempts whom: the waker's 300 wakeups preempt the worker
         * (most of them: the worker may be waiting for the CPU already,
         * preempted by the machine's own tasks in the root cgroup). */
        assert_true(preempting[SLEEPER].preempted_by_other >= 100);
        assert_true(preempting[SLEEPER].preempted_by_other <= preempting[SLEEPER].preempted);
        assert_true(preempted_by(&preempting[SLEEPER], ids[STRESS]) >= 100);
        assert_true(preempting[SLEEPER].preemptors[0].cgroup_id == ids[STRESS]);
        assert_true(preempted_by(&preempting[SLEEPER], ids[STRESS]) <= preempting[SLEEPER].preempted_by_other);
        /* ... and the hogs, which never sleep, by each other */
        assert_true(loaded[STRESS].preempted > loaded[STRESS].preempted_by_other);
}

/* ---- against runqlat ---- */

/* runqlat's histogram: "     16 -> 31         : 22       |*****   |", in
 * microseconds, each bucket [lo, hi]. */
typedef struct RunqlatBucket {
        double lo_us, hi_us;
        uint64_t count;
} RunqlatBucket;

static size_t parse_runqlat(const char *text, RunqlatBucket *ret, size_t max) {
        size_t n = 0;

        for (const char *line = text; line && *line && n < max; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                unsigned long long lo, hi, count;

                if (sscanf(line, " %llu -> %llu : %llu", &lo, &hi, &count) == 3)
                        ret[n++] = (RunqlatBucket) { (double) lo, (double) hi + 1, count };
        }
        return n;
}

/* The median of runqlat's histogram, interpolated in its bucket as ours
 * is, in ns. */
static double runqlat_median_ns(const RunqlatBucket *b, size_t n, uint64_t *ret_total) {
        uint64_t total = 0;
        double below = 0;

        for (size_t i = 0; i < n; i++)
                total += b[i].count;
        *ret_total = total;
        for (size_t i = 0; i < n && total > 0; i++) {
                if (below + (double) b[i].count >= total / 2.0 && b[i].count > 0) {
                        double f = (total / 2.0 - below) / (double) b[i].count;

                        return 1000.0 * (b[i].lo_us + f * (b[i].hi_us - b[i].lo_us));
                }
                below += (double) b[i].count;
        }
        return 0;
}

/* Reads what fd has until EOF or timeout_ms, appending to buf; returns
 * whether needle was seen. */
static bool read_until(int fd, char *buf, size_t size, const char *needle, int timeout_ms) {
        size_t len = strlen(buf);

        while (!(needle && strstr(buf, needle))) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (poll(&p, 1, timeout_ms) <= 0)
                        return false;
                k = read(fd, buf + len, size - 1 - len);
                if (k <= 0)
                        return needle == NULL;
                len += (size_t) k;
                buf[len] = 0;
        }
        return true;
}

static void test_agrees_with_runqlat(void **state) {
        static const Sleeper s = { .iterations = 400, .sleep_us = 1000, .spin_us = 100 };
        CgroupSensorDelta ours[_N_CGROUPS];
        RunqlatBucket buckets[64];
        char text[16384] = "", pidbuf[16];
        int start[2], out[2], status;
        pid_t sleeper_pid, runqlat_pid;
        double our_median, their_median;
        uint64_t their_total;
        size_t n;

        if (access("/usr/sbin/runqlat", X_OK) < 0) {
                fprintf(stderr, "/usr/sbin/runqlat not installed (Debian package libbpf-tools): skipped\n");
                skip();
        }
        if (!have_stress_ng())
                skip();
        (void) start_stress();

        assert_int_equal(pipe2(start, O_CLOEXEC), 0);
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        memset(ours, 0, sizeof(ours));
        sleeper_pid = sensor_test_spawn(&t, "sleeper", start[0], sleeper_main, (void *) &s, NULL);
        assert_true(sleeper_pid > 0);

        /* runqlat -p: that process only, until SIGINT; line-buffered, so
         * that its "Tracing..." says it is attached. */
        (void) snprintf(pidbuf, sizeof(pidbuf), "%d", (int) sleeper_pid);
        runqlat_pid = fork();
        assert_true(runqlat_pid >= 0);
        if (runqlat_pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(out[1], STDOUT_FILENO);
                execlp("stdbuf", "stdbuf", "-oL", "/usr/sbin/runqlat", "-p", pidbuf, (char *) NULL);
                _exit(127);
        }
        close(out[1]);
        assert_true(read_until(out[0], text, sizeof(text), "Tracing", 20000));

        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        assert_int_equal(write(start[1], "x", 1), 1);
        assert_int_equal(sensor_test_wait(&t, sleeper_pid), 0);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, ids, _N_CGROUPS, ours), 0);

        assert_int_equal(kill(runqlat_pid, SIGINT), 0);
        (void) read_until(out[0], text, sizeof(text), NULL, 20000);
        assert_int_equal(waitpid(runqlat_pid, &status, 0), runqlat_pid);
        close(out[0]);
        close(start[0]);
        close(start[1]);
        assert_int_equal(sensor_test_kill_cgroup(&t, "stress"), 0);

        n = parse_runqlat(text, buckets, ELEMENTSOF(buckets));
        their_median = runqlat_median_ns(buckets, n, &their_total);
        our_median = latency_histogram_quantile(&ours[SLEEPER].runqueue, 0.5);
        print_cgroup("runqlat", "sleeper", &ours[SLEEPER]);
        printf("median: ours %.0f ns over %llu events, runqlat %.0f ns over %llu events (ratio %.2f)\n", our_median,
               (unsigned long long) ours[SLEEPER].runqueue.count, their_median, (unsigned long long) their_total,
               our_median / their_median);

        /* One sleep per iteration, but a sleep whose timer fires before the
         * task is off the CPU is no wakeup at all (seen under load: 399 of
         * 400, by both tools alike): nearly every iteration, and the same
         * count within 2%. */
        assert_true(their_total >= s.iterations * 98 / 100);
        assert_true(ours[SLEEPER].runqueue.count >= s.iterations * 98 / 100);
        assert_true(ours[SLEEPER].runqueue.count * 100 >= their_total * 98 &&
                    their_total * 100 >= ours[SLEEPER].runqueue.count * 98);
        assert_true(our_median > 0 && their_median > 0);
        assert_true(our_median <= 2 * their_median);
        assert_true(their_median <= 2 * our_median);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_latency_under_load),
                cmocka_unit_test(test_agrees_with_runqlat),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
