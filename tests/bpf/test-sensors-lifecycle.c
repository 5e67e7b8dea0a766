/* SPDX-License-Identifier: Apache-2.0 */
/* The sensors' life on the real kernel (root): every sensor down with a
 * reason when disabled or refused (a child without CAP_BPF, CAP_PERFMON
 * and CAP_SYS_ADMIN), nothing of ours left in the kernel after
 * sensors_free, the entries of a removed cgroup deleted by the reads, and a
 * full map counted as dropped events, not a failure. */

#include <errno.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "agent/macro.h"
#include "bpf/sensors-private.h"
#include "sensor-test.h"

static const SensorsOptions *options_for(CgroupMode mode, bool disabled) {
        static SensorsOptions o;

        o = (SensorsOptions) { .mode = mode };
        for (int k = 0; k < _SENSOR_MAX; k++)
                o.disabled[k] = disabled;
        return &o;
}

static void test_all_disabled(void **state) {
        Sensors *s = NULL;
        CgroupSensorDelta *d = (CgroupSensorDelta *) 1;
        size_t n = 1;

        assert_int_equal(sensors_open(options_for(CGROUP_MODE_HYBRID, true), &s), 0);
        assert_non_null(s);
        for (int k = 0; k < _SENSOR_MAX; k++) {
                assert_false(sensors_up(s, (SensorKind) k));
                assert_string_equal(sensors_down_reason(s, (SensorKind) k), "disabled by configuration");
        }
        assert_int_equal(sensors_read(s, &d, &n), 0);
        assert_int_equal(n, 0);
        free(d);
        sensors_forget(s, 42);
        assert_int_equal(sensors_dropped(s), 0);
        assert_null(sensors_free(s));
        assert_null(sensors_free(NULL));

        assert_string_equal(sensor_kind_to_string(SENSOR_RUNQUEUE), "runqueue");
        assert_string_equal(sensor_kind_to_string(SENSOR_RECLAIM), "reclaim");
        assert_string_equal(sensor_kind_to_string(SENSOR_BLOCK_IO), "block_io");
        assert_null(sensor_kind_to_string(_SENSOR_MAX));
}

static int drop_capabilities(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct c[2] = {};
        static const int drop[] = { CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN };

        if (syscall(SYS_capget, &h, c) < 0)
                return negative_errno();
        for (size_t i = 0; i < ELEMENTSOF(drop); i++) {
                c[drop[i] / 32].effective &= ~(1U << (drop[i] % 32));
                c[drop[i] / 32].permitted &= ~(1U << (drop[i] % 32));
                c[drop[i] / 32].inheritable &= ~(1U << (drop[i] % 32));
        }
        return syscall(SYS_capset, &h, c) < 0 ? negative_errno() : 0;
}

static unsigned libbpf_lines;

static void count_libbpf_line(const char *line, void *userdata) {
        libbpf_lines++;
}

/* In a child: without the capabilities, every sensor is down, saying why,
 * and the rest of the API still works. Exit status: 0 or the failed step. */
static int refused_child(void) {
        SensorsOptions o = { .mode = CGROUP_MODE_HYBRID, .libbpf_log = count_libbpf_line };
        Sensors *s = NULL;
        CgroupSensorDelta *d = NULL;
        size_t n = 1;

        if (drop_capabilities() < 0)
                return 10;
        if (sensors_open(&o, &s) < 0 || !s)
                return 11;
        for (int k = 0; k < _SENSOR_MAX; k++) {
                const char *reason = sensors_down_reason(s, (SensorKind) k);

                printf("without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: %s down: %s\n",
                       sensor_kind_to_string((SensorKind) k), strna(reason));
                if (sensors_up(s, (SensorKind) k) || !reason)
                        return 12;
                if (!strstr(reason, "Operation not permitted") || !strstr(reason, "CAP_BPF"))
                        return 13;
        }
        printf("libbpf said %u lines\n", libbpf_lines);
        if (sensors_read(s, &d, &n) < 0 || n != 0)
                return 14;
        free(d);
        sensors_free(s);
        return 0;
}

static void test_refused_without_capabilities(void **state) {
        int status;
        pid_t pid;

        if (geteuid() != 0)
                skip();
        fflush(stdout);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = refused_child();

                fflush(stdout);
                _exit(r);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static bool prog_exists(uint32_t id) {
        int fd = bpf_prog_get_fd_by_id(id);

        if (fd >= 0)
                close(fd);
        return fd >= 0 || fd != -ENOENT;
}

static bool map_exists(uint32_t id) {
        int fd = bpf_map_get_fd_by_id(id);

        if (fd >= 0)
                close(fd);
        return fd >= 0 || fd != -ENOENT;
}

static SensorTest t;
static const char *const rels[] = { "a", "b", "c", "d", "e", "f", "g", "h", NULL };

static void test_nothing_left_after_free(void **state) {
        _cleanup_free_ uint32_t *progs = NULL, *maps = NULL;
        size_t n_progs = 0, n_maps = 0, left = 0;

        assert_int_equal(sensor_test_setup(&t, "lifecycle", NULL, (1U << _SENSOR_MAX) - 1), 0);
        assert_int_equal(sensors_object_ids(t.sensors, &progs, &n_progs, &maps, &n_maps), 0);
        printf("loaded: %zu programs, %zu maps\n", n_progs, n_maps);
        /* 4 + 5 + 3 programs; 4 + 3 + 3 maps and each object's .rodata,
         * .bss and .kconfig (block IO) */
        assert_true(n_progs >= 12);
        assert_true(n_maps >= 10);
        for (size_t i = 0; i < n_progs; i++)
                assert_true(prog_exists(progs[i]));
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        assert_int_equal(sensor_test_teardown(&t), 0);

        /* Programs and maps are freed after an RCU grace period. */
        for (int round = 0; round < 100; round++) {
                left = 0;
                for (size_t i = 0; i < n_progs; i++)
                        left += prog_exists(progs[i]);
                for (size_t i = 0; i < n_maps; i++)
                        left += map_exists(maps[i]);
                if (left == 0)
                        break;
                sensor_test_sleep_ms(100);
        }
        assert_int_equal(left, 0);
}

static int busy_main(void *arg) {
        for (int i = 0; i < 50; i++)
                sensor_test_sleep_ms(1);
        return 0;
}

static void run_in(const char *rel) {
        pid_t pid = sensor_test_spawn(&t, rel, -1, busy_main, NULL, NULL);

        assert_true(pid > 0);
        assert_int_equal(sensor_test_wait(&t, pid), 0);
}

static bool ids_contain(const uint64_t *ids, size_t n, uint64_t id) {
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

static void test_removed_cgroup_deleted(void **state) {
        uint64_t a = 0, b = 0;
        _cleanup_free_ uint64_t *before = NULL;
        uint64_t *after = NULL;
        size_t n_before = 0, n_after = 0;
        CgroupSensorDelta acc[2] = {};
        uint64_t ab[2];

        assert_int_equal(sensor_test_setup(&t, "lifecycle", rels, 1U << SENSOR_RUNQUEUE), 0);
        assert_int_equal(sensor_test_cgroup_id(&t, SENSOR_RUNQUEUE, "a", &a), 0);
        assert_int_equal(sensor_test_cgroup_id(&t, SENSOR_RUNQUEUE, "b", &b), 0);
        run_in("a");
        run_in("b");
        assert_int_equal(sensors_debug_map_ids(t.sensors, SENSOR_RUNQUEUE, &before, &n_before), 0);
        assert_true(ids_contain(before, n_before, a));
        assert_true(ids_contain(before, n_before, b));
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);

        /* a goes (rmdir, as the kubelet removes a pod's cgroup), b stays;
         * b runs once more, a's id must not come back. */
        assert_int_equal(cgroup_test_tree_remove(&t.tree, "a"), 0);
        run_in("b");
        ab[0] = a;
        ab[1] = b;
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, ab, 2, acc), 0);
        assert_true(acc[1].runqueue.count > 0);
        assert_int_equal(sensors_debug_map_ids(t.sensors, SENSOR_RUNQUEUE, &after, &n_after), 0);
        assert_false(ids_contain(after, n_after, a));
        assert_true(ids_contain(after, n_after, b));
        free(after);

        /* sensors_forget: b's entry goes at once */
        sensors_forget(t.sensors, b);
        assert_int_equal(sensors_debug_map_ids(t.sensors, SENSOR_RUNQUEUE, &after, &n_after), 0);
        assert_false(ids_contain(after, n_after, b));
        free(after);
        /* and comes back from zero: the next read shows b's new events
         * only, not a negative or huge delta */
        run_in("b");
        memset(acc, 0, sizeof(acc));
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, ab, 2, acc), 0);
        assert_true(acc[1].runqueue.count > 0);
        assert_true(acc[1].runqueue.count < 10000);
        assert_int_equal(acc[0].kinds, 0);

        assert_int_equal(sensor_test_teardown(&t), 0);
}

static void test_full_map_counts_drops(void **state) {
        SensorsOptions o = {};
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0;

        assert_int_equal(sensor_test_setup(&t, "lifecycle", rels, 0), 0);
        /* Our own sensors, with room for 4 cgroups: the root and the
         * machine's own take some, our 8 cgroups cannot all fit. */
        o.mode = t.layout.mode;
        o.max_cgroups = 4;
        o.disabled[SENSOR_RECLAIM] = o.disabled[SENSOR_BLOCK_IO] = true;
        t.sensors = sensors_free(t.sensors); /* the setup's, all disabled */
        assert_int_equal(sensors_open(&o, &t.sensors), 0);
        assert_true(sensors_up(t.sensors, SENSOR_RUNQUEUE));
        for (size_t i = 0; rels[i]; i++)
                run_in(rels[i]);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        assert_int_equal(sensors_debug_map_ids(t.sensors, SENSOR_RUNQUEUE, &ids, &n), 0);
        printf("map of 4: %zu entries, %llu events dropped\n", n, (unsigned long long) sensors_dropped(t.sensors));
        assert_true(n <= 4);
        assert_true(sensors_dropped(t.sensors) > 0);
        assert_int_equal(sensor_test_teardown(&t), 0);
}

/* v2 ids: the task's cgroup in the unified tree. On a hybrid machine the
 * unified tree has no controllers but every task has its cgroup there, so
 * the v2 code path runs here too (what a pure v2 node does). */
static void test_v2_ids(void **state) {
        SensorsOptions o = { .mode = CGROUP_MODE_V2 };
        _cleanup_free_ uint64_t *ids = NULL;
        CgroupSensorDelta acc[1] = {};
        char path[512];
        struct stat st;
        uint64_t id;
        size_t n = 0;

        assert_int_equal(sensor_test_setup(&t, "lifecycle", rels, 0), 0);
        if (!t.layout.unified_mount)
                skip();
        (void) snprintf(path, sizeof(path), "%s/%s/a", t.layout.unified_mount, t.tree.name);
        assert_int_equal(stat(path, &st), 0);
        id = (uint64_t) st.st_ino;
        o.disabled[SENSOR_RECLAIM] = o.disabled[SENSOR_BLOCK_IO] = true;
        t.sensors = sensors_free(t.sensors);
        assert_int_equal(sensors_open(&o, &t.sensors), 0);
        assert_true(sensors_up(t.sensors, SENSOR_RUNQUEUE));

        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        run_in("a");
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, &id, 1, acc), 0);
        printf("v2 id %llu of %s: %llu wakeups\n", (unsigned long long) id, path,
               (unsigned long long) acc[0].runqueue.count);
        assert_true(acc[0].runqueue.count >= 40);

        /* removed from the unified tree: gone from the map */
        assert_int_equal(cgroup_test_tree_remove(&t.tree, "a"), 0);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RUNQUEUE, NULL, 0, NULL), 0);
        assert_int_equal(sensors_debug_map_ids(t.sensors, SENSOR_RUNQUEUE, &ids, &n), 0);
        assert_false(ids_contain(ids, n, id));
        assert_int_equal(sensor_test_teardown(&t), 0);
}

static int teardown(void **state) {
        return sensor_test_teardown(&t) < 0 ? -1 : 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_disabled),
                cmocka_unit_test(test_refused_without_capabilities),
                cmocka_unit_test_teardown(test_nothing_left_after_free, teardown),
                cmocka_unit_test_teardown(test_removed_cgroup_deleted, teardown),
                cmocka_unit_test_teardown(test_full_map_counts_drops, teardown),
                cmocka_unit_test_teardown(test_v2_ids, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
