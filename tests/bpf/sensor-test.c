/* SPDX-License-Identifier: Apache-2.0 */
#include "sensor-test.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "bpf/latency-histogram.h"

static const CgroupController sensor_controller[_SENSOR_MAX] = {
        [SENSOR_RUNQUEUE] = CGROUP_CONTROLLER_CPU,
        [SENSOR_RECLAIM] = CGROUP_CONTROLLER_MEMORY,
        [SENSOR_BLOCK_IO] = CGROUP_CONTROLLER_BLKIO,
};

void sensor_test_sleep_ms(unsigned msec) {
        struct timespec ts = { .tv_sec = msec / 1000, .tv_nsec = (long) (msec % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

const char *sensor_test_mount(const SensorTest *t, SensorKind kind) {
        if (t->layout.mode == CGROUP_MODE_V2)
                return t->layout.unified_mount;
        return t->layout.controller_mount[sensor_controller[kind]];
}

int sensor_test_cgroup_id(const SensorTest *t, SensorKind kind, const char *rel, uint64_t *ret) {
        const char *mount = sensor_test_mount(t, kind);
        char path[PATH_MAX];
        struct stat st;

        if (!mount)
                return -ENOMEDIUM;
        (void) snprintf(path, sizeof(path), "%s/%s%s%s", mount, t->tree.name, *rel ? "/" : "", rel);
        if (stat(path, &st) < 0)
                return negative_errno();
        *ret = (uint64_t) st.st_ino;
        return 0;
}

static bool reason_is_skip(const char *reason) {
        return strstr(reason, "kernel lacks") || strstr(reason, "kernel has no") ||
               strstr(reason, "built without BPF");
}

int sensor_test_setup(SensorTest *t, const char *what, const char *const *rels, unsigned kinds_mask) {
        char prefix[64];
        const char *missing = NULL;
        SensorsOptions o = {};
        int r;

        *t = (SensorTest) {};
        if (geteuid() != 0) {
                fprintf(stderr, "sensor tests need root: skipped\n");
                exit(EXIT_TEST_SKIP);
        }
        r = cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &t->layout, &missing);
        if (r < 0) {
                fprintf(stderr, "no usable cgroup layout (%s): skipped\n", strna(missing));
                exit(EXIT_TEST_SKIP);
        }
        (void) snprintf(prefix, sizeof(prefix), "%s%s", CGROUP_TEST_PREFIX, what);
        r = cgroup_test_tree_new(&t->layout, prefix, 0, &t->tree);
        if (r < 0) {
                cgroup_layout_done(&t->layout);
                return r;
        }
        t->rels = rels;
        for (size_t i = 0; rels && rels[i]; i++) {
                r = cgroup_test_tree_mkdir(&t->tree, rels[i]);
                if (r < 0)
                        goto fail;
        }

        o.mode = t->layout.mode;
        for (int k = 0; k < _SENSOR_MAX; k++)
                o.disabled[k] = !(kinds_mask & (1U << k));
        r = sensors_open(&o, &t->sensors);
        if (r < 0)
                goto fail;
        for (int k = 0; k < _SENSOR_MAX; k++) {
                const char *reason = sensors_down_reason(t->sensors, (SensorKind) k);

                if (!(kinds_mask & (1U << k)) || !reason)
                        continue;
                fprintf(stderr, "sensor %s down: %s\n", sensor_kind_to_string((SensorKind) k), reason);
                if (reason_is_skip(reason)) {
                        (void) sensor_test_teardown(t);
                        exit(EXIT_TEST_SKIP);
                }
                r = -EIO;
                goto fail;
        }
        return 0;

fail:
        (void) sensor_test_teardown(t);
        return r;
}

static void forget_child(SensorTest *t, pid_t pid) {
        for (size_t i = 0; i < t->n_children; i++)
                if (t->children[i] == pid) {
                        t->children[i] = t->children[--t->n_children];
                        return;
                }
}

int sensor_test_kill_cgroup(SensorTest *t, const char *rel) {
        const char *mount = cgroup_layout_primary_mount(&t->layout);
        char path[PATH_MAX];

        if (!mount || !t->tree.name[0])
                return 0;
        (void) snprintf(path, sizeof(path), "%s/%s%s%s/cgroup.procs", mount, t->tree.name, *rel ? "/" : "", rel);
        /* A fork racing with the kill shows up in the next round. */
        for (int round = 0; round < 200; round++) {
                FILE *f = fopen(path, "re");
                bool any = false;
                int pid;

                if (!f)
                        return errno == ENOENT ? 0 : negative_errno();
                while (fscanf(f, "%d", &pid) == 1) {
                        any = true;
                        (void) kill(pid, SIGKILL);
                }
                fclose(f);
                /* Reap our own children so they leave the cgroup. */
                for (size_t i = 0; i < t->n_children;) {
                        pid_t c = t->children[i];

                        if (waitpid(c, NULL, WNOHANG) == c)
                                forget_child(t, c);
                        else
                                i++;
                }
                if (!any)
                        return 0;
                sensor_test_sleep_ms(10);
        }
        return -EBUSY;
}

int sensor_test_teardown(SensorTest *t) {
        int r = 0;

        if (t->tree.name[0]) {
                for (size_t i = 0; t->rels && t->rels[i]; i++)
                        (void) sensor_test_kill_cgroup(t, t->rels[i]);
                (void) sensor_test_kill_cgroup(t, "");
        }
        for (size_t i = 0; i < t->n_children; i++) {
                (void) kill(t->children[i], SIGKILL);
                (void) waitpid(t->children[i], NULL, 0);
        }
        t->n_children = 0;
        t->sensors = sensors_free(t->sensors);
        if (t->tree.name[0])
                r = cgroup_test_tree_done(&t->tree);
        cgroup_layout_done(&t->layout);
        return r;
}

pid_t sensor_test_spawn(SensorTest *t, const char *rel, int start_fd, int (*fn)(void *), void *arg,
                        char *const argv[]) {
        pid_t parent = getpid(), pid;

        if (t->n_children >= SENSOR_TEST_MAX_CHILDREN)
                return -ENOSPC;
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                char c;

                /* Dies with the test, whatever happens to it. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                if (cgroup_test_tree_move(&t->tree, rel, getpid()) < 0)
                        _exit(126);
                if (start_fd >= 0 && read(start_fd, &c, 1) != 1)
                        _exit(125);
                if (fn)
                        _exit(fn(arg));
                execvp(argv[0], argv);
                _exit(124);
        }
        t->children[t->n_children++] = pid;
        return pid;
}

int sensor_test_wait(SensorTest *t, pid_t pid) {
        int status;

        if (waitpid(pid, &status, 0) != pid)
                return negative_errno();
        forget_child(t, pid);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

static void delta_add(CgroupSensorDelta *dst, const CgroupSensorDelta *src, SensorKind kind) {
        dst->kinds |= 1U << kind;
        switch (kind) {
        case SENSOR_RUNQUEUE:
                latency_histogram_add(&dst->runqueue, &src->runqueue);
                dst->preempted += src->preempted;
                dst->preempted_by_other += src->preempted_by_other;
                for (int i = 0; i < SENSORS_TOP_PREEMPTORS; i++)
                        cgroup_preemptors_add(dst->preemptors, src->preemptors[i].cgroup_id,
                                              src->preemptors[i].count);
                break;
        case SENSOR_RECLAIM:
                dst->reclaim_ns += src->reclaim_ns;
                dst->reclaim_count += src->reclaim_count;
                break;
        case SENSOR_BLOCK_IO:
                for (int w = 0; w < 2; w++) {
                        latency_histogram_add(&dst->io[w], &src->io[w]);
                        dst->io_bytes[w] += src->io_bytes[w];
                }
                break;
        default:
                break;
        }
}

int sensor_test_read_into(SensorTest *t, SensorKind kind, const uint64_t *ids, size_t n_ids,
                          CgroupSensorDelta *accs) {
        _cleanup_free_ CgroupSensorDelta *d = NULL;
        size_t n = 0;
        int r = sensors_read(t->sensors, &d, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!(d[i].kinds & (1U << kind)))
                        continue;
                for (size_t j = 0; j < n_ids; j++)
                        if (accs && d[i].cgroup_id == ids[j]) {
                                accs[j].cgroup_id = ids[j];
                                delta_add(&accs[j], &d[i], kind);
                        }
        }
        return 0;
}
