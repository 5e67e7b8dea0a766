/* SPDX-License-Identifier: Apache-2.0 */
/* The reclaim sensor on the real kernel (root): a process reading a file
 * four times the memory limit of its cgroup (v1 memory.limit_in_bytes, v2
 * memory.max) stalls in memcg reclaim, and only its cgroup shows it. The
 * file is read from disk with the page cache dropped first: clean file
 * pages are reclaimed without swap and without an OOM kill. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "sensor-test.h"

static SensorTest t;
static const char *const rels[] = { "tight", "roomy", NULL };
enum { TIGHT, ROOMY, _N_CGROUPS };
static uint64_t ids[_N_CGROUPS];
static char data_path[128];

#define LIMIT_BYTES (32ULL << 20)
#define FILE_BYTES (128ULL << 20)

static int write_data_file(void) {
        static char block[1 << 20];
        _cleanup_close_ int fd = -1;

        (void) snprintf(data_path, sizeof(data_path), "/var/tmp/nodeqos-test-reclaim-%d.data", (int) getpid());
        fd = open(data_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        memset(block, 0x5a, sizeof(block));
        for (size_t done = 0; done < FILE_BYTES; done += sizeof(block))
                if (write(fd, block, sizeof(block)) != (ssize_t) sizeof(block))
                        return -EIO;
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

/* Reads the whole file after dropping it from the page cache, so that the
 * pages come from disk and are charged to the reader's cgroup. */
static int reader_main(void *arg) {
        static char buf[1 << 16];
        int fd = open(data_path, O_RDONLY | O_CLOEXEC);
        ssize_t k;
        uint64_t total = 0;

        if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
                return 1;
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                total += (uint64_t) k;
        close(fd);
        return total == FILE_BYTES ? 0 : 2;
}

static int setup(void **state) {
        const char *mount;
        char value[32];
        int r = sensor_test_setup(&t, "reclaim", rels, 1U << SENSOR_RECLAIM);

        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return -1;
        }
        mount = t.layout.controller_mount[CGROUP_CONTROLLER_MEMORY];
        (void) snprintf(value, sizeof(value), "%llu", LIMIT_BYTES);
        if (t.layout.mode == CGROUP_MODE_V2) {
                (void) cgroup_test_tree_write(&t.tree, mount, "", "cgroup.subtree_control", "+memory");
                r = cgroup_test_tree_write(&t.tree, mount, "tight", "memory.max", value);
        } else
                r = cgroup_test_tree_write(&t.tree, mount, "tight", "memory.limit_in_bytes", value);
        if (r < 0) {
                fprintf(stderr, "setting the memory limit: %s\n", strerror(-r));
                return -1;
        }
        for (int i = 0; i < _N_CGROUPS; i++)
                if (sensor_test_cgroup_id(&t, SENSOR_RECLAIM, rels[i], &ids[i]) < 0)
                        return -1;
        r = write_data_file();
        if (r < 0) {
                fprintf(stderr, "writing %s: %s\n", data_path, strerror(-r));
                return -1;
        }
        return 0;
}

static int teardown(void **state) {
        if (data_path[0])
                (void) unlink(data_path);
        return sensor_test_teardown(&t) < 0 ? -1 : 0;
}

static void run_reader(const char *rel) {
        pid_t pid = sensor_test_spawn(&t, rel, -1, reader_main, NULL, NULL);

        assert_true(pid > 0);
        assert_int_equal(sensor_test_wait(&t, pid), 0);
}

static void test_reclaim_charged_to_tight_cgroup(void **state) {
        CgroupSensorDelta acc[_N_CGROUPS] = {};

        assert_int_equal(sensor_test_read_into(&t, SENSOR_RECLAIM, NULL, 0, NULL), 0);
        run_reader("roomy");
        run_reader("tight");
        assert_int_equal(sensor_test_read_into(&t, SENSOR_RECLAIM, ids, _N_CGROUPS, acc), 0);

        for (int i = 0; i < _N_CGROUPS; i++)
                printf("%-6s (id %llu): reclaim %llu ns in %llu stalls\n", rels[i], (unsigned long long) ids[i],
                       (unsigned long long) acc[i].reclaim_ns, (unsigned long long) acc[i].reclaim_count);

        /* Reading 4x the limit: the cgroup reclaims again and again. */
        assert_true(acc[TIGHT].reclaim_count >= 10);
        assert_true(acc[TIGHT].reclaim_ns > 0);
        /* The same reading without a limit (24 GiB here) never reclaims. */
        assert_int_equal(acc[ROOMY].reclaim_count, 0);
        assert_int_equal(acc[ROOMY].kinds, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reclaim_charged_to_tight_cgroup),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
