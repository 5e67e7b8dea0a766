/* SPDX-License-Identifier: Apache-2.0 */
/* The block IO sensor on the real kernel (root): dd with O_DIRECT in a
 * throwaway cgroup writes and reads a file; the sensor charges the requests
 * to that cgroup (bio->bi_blkg: the blkio hierarchy's cgroup on v1, the io
 * controller's on v2), reads and writes apart, with their bytes. A cgroup
 * doing nothing shows nothing. */

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
#include "bpf/latency-histogram.h"
#include "sensor-test.h"

static SensorTest t;
static const char *const rels[] = { "io", "quiet", NULL };
enum { IO, QUIET, _N_CGROUPS };
static uint64_t ids[_N_CGROUPS];
static char data_path[128];

#define MIB 64

static int setup(void **state) {
        int r = sensor_test_setup(&t, "block-io", rels, 1U << SENSOR_BLOCK_IO);

        if (r < 0) {
                fprintf(stderr, "setup: %s\n", strerror(-r));
                return -1;
        }
        if (t.layout.mode == CGROUP_MODE_V2)
                (void) cgroup_test_tree_write(&t.tree, t.layout.unified_mount, "", "cgroup.subtree_control", "+io");
        for (int i = 0; i < _N_CGROUPS; i++)
                if (sensor_test_cgroup_id(&t, SENSOR_BLOCK_IO, rels[i], &ids[i]) < 0)
                        return -1;
        (void) snprintf(data_path, sizeof(data_path), "/var/tmp/nodeqos-test-block-io-%d.data", (int) getpid());
        return 0;
}

static int teardown(void **state) {
        if (data_path[0])
                (void) unlink(data_path);
        return sensor_test_teardown(&t) < 0 ? -1 : 0;
}

static void run_in(const char *rel, char *const argv[]) {
        pid_t pid = sensor_test_spawn(&t, rel, -1, NULL, NULL, argv);

        assert_true(pid > 0);
        assert_int_equal(sensor_test_wait(&t, pid), 0);
}

static void print_io(const char *name, const CgroupSensorDelta *d) {
        for (int w = 0; w < 2; w++)
                printf("%-6s %-5s %5llu requests, %9llu bytes, p50 %8.0f ns, p99 %9.0f ns\n", name,
                       w ? "write" : "read", (unsigned long long) d->io[w].count,
                       (unsigned long long) d->io_bytes[w], latency_histogram_quantile(&d->io[w], 0.5),
                       latency_histogram_quantile(&d->io[w], 0.99));
}

static void test_direct_io_charged(void **state) {
        char of[160], iff[160], count[16];
        char *const write_argv[] = { "dd", "if=/dev/zero", of, "bs=1M", count, "oflag=direct", "status=none", NULL };
        char *const read_argv[] = { "dd", iff, "of=/dev/null", "bs=1M", "iflag=direct", "status=none", NULL };
        CgroupSensorDelta acc[_N_CGROUPS] = {};
        const uint64_t bytes = (uint64_t) MIB << 20;

        (void) snprintf(of, sizeof(of), "of=%s", data_path);
        (void) snprintf(iff, sizeof(iff), "if=%s", data_path);
        (void) snprintf(count, sizeof(count), "count=%d", MIB);

        assert_int_equal(sensor_test_read_into(&t, SENSOR_BLOCK_IO, NULL, 0, NULL), 0);
        run_in("io", write_argv);
        run_in("io", read_argv);
        assert_int_equal(sensor_test_read_into(&t, SENSOR_BLOCK_IO, ids, _N_CGROUPS, acc), 0);
        print_io("io", &acc[IO]);
        print_io("quiet", &acc[QUIET]);
        printf("dropped events: %llu\n", (unsigned long long) sensors_dropped(t.sensors));

        /* What dd moved went through requests charged to its cgroup (the
         * filesystem may add a little: metadata, journal). Not every byte:
         * on this VM's kernel (6.18, virtio-blk) a run now and then has a
         * millisecond in which block_rq_complete reaches no BPF program
         * at all, ours nor a separate tracer's, without a recursion miss:
         * one to four requests of 64 go uncounted. */
        assert_true(acc[IO].io_bytes[0] >= bytes * 9 / 10);
        assert_true(acc[IO].io_bytes[1] >= bytes * 9 / 10);
        assert_true(acc[IO].io_bytes[0] < 2 * bytes);
        assert_true(acc[IO].io_bytes[1] < 2 * bytes);
        /* A 1 MiB block goes as one request or, here now and then, as two
         * of 512 KiB: at least one request per block. */
        assert_true(acc[IO].io[0].count >= MIB * 9 / 10);
        assert_true(acc[IO].io[1].count >= MIB * 9 / 10);
        /* A request takes at least a microsecond, at most seconds. */
        assert_true(latency_histogram_quantile(&acc[IO].io[0], 0.5) > 1000);
        assert_true(latency_histogram_quantile(&acc[IO].io[1], 0.5) > 1000);
        assert_true(latency_histogram_quantile(&acc[IO].io[1], 0.5) < 5e9);
        assert_true(acc[IO].io[1].sum_ns > 0);
        assert_int_equal(acc[QUIET].kinds, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_direct_io_charged),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
