/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup writer on this machine's real (hybrid) kernel: the values the
 * kernel reads back, its refusals, and the writer's own. Runs in cgroups of
 * its own (tests/lib/cgroup-test-tree.h), removed afterwards. The exact
 * strings and files on every layout: test-cgroup-writer.c. */

#include <inttypes.h>
#include <limits.h>
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
#include "plugins/cgroup-writer.h"
#include "qos/cgroup-layout.h"
#include "tests/lib/cgroup-test-tree.h"
#include "tests/lib/test-block-device.h"
#include "tests/lib/test-fs.h"

static const IoLimits io_none = {};

typedef struct Kernel {
        CgroupTestTree tree; /* nodeqos-test-writer-<pid>: its root is our managed root */
        const char *root;    /* tree.name */
        char child[80];
        CgroupLayout layout;
        CgroupWriter *w;
} Kernel;

static const char *kernel_path(const Kernel *k, CgroupController c, const char *cgroup, const char *file) {
        static char path[PATH_MAX];

        (void) snprintf(path, sizeof(path), "%s/%s%s%s", k->layout.controller_mount[c], cgroup, file ? "/" : "",
                        file ?: "");
        return path;
}

/* The kernel's value, without the trailing newline. */
static const char *kernel_read(const Kernel *k, CgroupController c, const char *cgroup, const char *file) {
        const char *s = test_read_value(kernel_path(k, c, cgroup, file));

        assert_non_null(s);
        return s;
}

static int kernel_teardown(void **state) {
        Kernel *k = *state;

        if (!k)
                return 0;
        cgroup_writer_free(k->w);
        /* Bottom-up; only the tree this test made. */
        (void) cgroup_test_tree_done(&k->tree);
        cgroup_layout_done(&k->layout);
        free(k);
        return 0;
}

/* cmocka runs no teardown when the setup fails: undo here what was made. */
static int kernel_setup_failed(void **state) {
        (void) kernel_teardown(state);
        *state = NULL;
        return -1;
}

static int kernel_setup(void **state) {
        Kernel *k = calloc(1, sizeof(*k));
        char *roots[1];
        int r;

        if (!k)
                return -1;
        *state = k;
        if (cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &k->layout, NULL) < 0)
                return kernel_setup_failed(state);
        /* The controllers the writer writes, v1 cpuset included; not the
         * controller-less unified tree. */
        r = cgroup_test_tree_new(&k->layout, CGROUP_TEST_PREFIX "writer",
                                 CGROUP_TEST_TREE_CPUSET | CGROUP_TEST_TREE_CONTROLLERS_ONLY, &k->tree);
        if (r < 0) {
                print_error("creating nodeqos-test-writer-%d: %s\n", (int) getpid(), strerror(-r));
                return kernel_setup_failed(state);
        }
        k->root = k->tree.name;
        (void) snprintf(k->child, sizeof(k->child), "%s/child", k->root);
        r = cgroup_test_tree_mkdir(&k->tree, "child");
        if (r < 0) {
                print_error("mkdir %s: %s\n", k->child, strerror(-r));
                return kernel_setup_failed(state);
        }
        roots[0] = k->tree.name;
        if (cgroup_writer_new(&k->layout, roots, 1, &k->w) < 0)
                return kernel_setup_failed(state);
        return 0;
}

static void test_kernel_cpu(void **state) {
        Kernel *k = *state;
        const CgroupController cpu = CGROUP_CONTROLLER_CPU;

        /* Limit the root to half a CPU... */
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->root, 50000, 100000), 1);
        assert_string_equal(kernel_read(k, cpu, k->root, "cpu.cfs_quota_us"), "50000");
        assert_string_equal(kernel_read(k, cpu, k->root, "cpu.cfs_period_us"), "100000");
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->root, 50000, 100000), 0);

        /* ... then a child goes from 20000/100000 to 10000/20000: period
         * first would pass through 20000/20000 (a whole CPU, above the
         * root's half) and the kernel refuses that; the other order works. */
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->child, 20000, 100000), 1);
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->child, 10000, 20000), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.cfs_quota_us"), "10000");
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.cfs_period_us"), "20000");
        /* No limit. */
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->child, -1, 100000), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.cfs_quota_us"), "-1");
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.cfs_period_us"), "100000");
        /* A quota the kernel refuses (below its 1 ms minimum). */
        assert_int_equal(cgroup_set_cpu_quota(k->w, k->child, 500, 100000), -EINVAL);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.cfs_quota_us"), "-1");

        /* Weight 100 (the v2 default) -> 2597 shares. */
        assert_int_equal(cgroup_set_cpu_weight(k->w, k->child, 100), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.shares"), "2597");

        /* cpu.idle on v1. While idle the kernel shows the idle weight (3)
         * as shares and refuses new shares; clearing idle resets the shares
         * to the default 1024, not to what they were. The writer forgets the
         * weight on an idle change, so the next call puts it back. */
        assert_int_equal(cgroup_set_cpu_idle(k->w, k->child, true), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.idle"), "1");
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.shares"), "3");
        assert_int_equal(cgroup_set_cpu_weight(k->w, k->child, 200), -EINVAL);
        assert_int_equal(cgroup_set_cpu_idle(k->w, k->child, true), 0);
        assert_int_equal(cgroup_set_cpu_idle(k->w, k->child, false), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.idle"), "0");
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.shares"), "1024");
        assert_int_equal(cgroup_set_cpu_weight(k->w, k->child, 100), 1);
        assert_string_equal(kernel_read(k, cpu, k->child, "cpu.shares"), "2597");
}

static void test_kernel_memory(void **state) {
        Kernel *k = *state;
        const CgroupController mem = CGROUP_CONTROLLER_MEMORY;
        const int64_t page = sysconf(_SC_PAGESIZE);
        char unlimited[32];

        /* The kernel keeps whole pages: the odd bytes are rounded down. */
        assert_int_equal(cgroup_set_memory_max(k->w, k->child, 100 * 1024 * 1024 + 100), 1);
        assert_string_equal(kernel_read(k, mem, k->child, "memory.limit_in_bytes"), "104857600");
        assert_int_equal(cgroup_set_memory_max(k->w, k->child, 100 * 1024 * 1024 + 100), 0);
        assert_int_equal(cgroup_set_memory_high(k->w, k->child, 50 * 1024 * 1024 + 1), 1);
        assert_string_equal(kernel_read(k, mem, k->child, "memory.soft_limit_in_bytes"), "52428800");

        /* No limit reads back as the largest page-aligned value. */
        (void) snprintf(unlimited, sizeof(unlimited), "%" PRId64, INT64_MAX / page * page);
        assert_int_equal(cgroup_set_memory_max(k->w, k->child, -1), 1);
        assert_string_equal(kernel_read(k, mem, k->child, "memory.limit_in_bytes"), unlimited);
        assert_int_equal(cgroup_set_memory_high(k->w, k->child, -1), 1);
        assert_string_equal(kernel_read(k, mem, k->child, "memory.soft_limit_in_bytes"), unlimited);
}

static void test_kernel_cpuset(void **state) {
        Kernel *k = *state;
        const CgroupController cs = CGROUP_CONTROLLER_CPUSET;
        char cpus[256], mems[256];

        if (!k->layout.controller_mount[cs])
                skip();
        /* A new v1 cpuset is empty and a child's must be a subset of its
         * parent's: copy the hierarchy root's into our root, then the child. */
        (void) snprintf(cpus, sizeof(cpus), "%s", kernel_read(k, cs, ".", "cpuset.cpus"));
        (void) snprintf(mems, sizeof(mems), "%s", kernel_read(k, cs, ".", "cpuset.mems"));
        assert_int_equal(cgroup_set_cpuset_cpus(k->w, k->root, cpus), 1);
        assert_int_equal(cgroup_set_cpuset_mems(k->w, k->root, mems), 1);
        assert_int_equal(cgroup_set_cpuset_cpus(k->w, k->child, cpus), 1);
        assert_int_equal(cgroup_set_cpuset_mems(k->w, k->child, mems), 1);
        assert_string_equal(kernel_read(k, cs, k->child, "cpuset.cpus"), cpus);
        assert_string_equal(kernel_read(k, cs, k->child, "cpuset.mems"), mems);
        assert_int_equal(cgroup_set_cpuset_cpus(k->w, k->child, "0"), 1);
        assert_string_equal(kernel_read(k, cs, k->child, "cpuset.cpus"), "0");
        /* Outside the parent's set: the kernel refuses. */
        assert_true(cgroup_set_cpuset_cpus(k->w, k->child, "4095") < 0);
        assert_string_equal(kernel_read(k, cs, k->child, "cpuset.cpus"), "0");
}

static void test_kernel_io(void **state) {
        Kernel *k = *state;
        const CgroupController blk = CGROUP_CONTROLLER_BLKIO;
        IoLimits limits = { .read_bps = 1048576, .write_iops = 100 };
        unsigned maj = 0, min = 0;
        char name[NAME_MAX + 1], line[64];
        int r;

        if (!k->layout.controller_mount[blk])
                skip();
        if (!test_find_block_device(&maj, &min, name, sizeof(name))) {
                print_message("no block device: io.max not checked\n");
                skip();
        }
        print_message("throttling %s (%u:%u)\n", name, maj, min);

        assert_int_equal(cgroup_set_io_max(k->w, k->child, maj, min, &limits), 1);
        (void) snprintf(line, sizeof(line), "%u:%u 1048576", maj, min);
        assert_string_equal(kernel_read(k, blk, k->child, "blkio.throttle.read_bps_device"), line);
        (void) snprintf(line, sizeof(line), "%u:%u 100", maj, min);
        assert_string_equal(kernel_read(k, blk, k->child, "blkio.throttle.write_iops_device"), line);
        /* 0 is no limit: no line at all. */
        assert_string_equal(kernel_read(k, blk, k->child, "blkio.throttle.write_bps_device"), "");
        assert_int_equal(cgroup_set_io_max(k->w, k->child, maj, min, &limits), 0);

        assert_int_equal(cgroup_set_io_max(k->w, k->child, maj, min, &io_none), 1);
        assert_string_equal(kernel_read(k, blk, k->child, "blkio.throttle.read_bps_device"), "");
        assert_string_equal(kernel_read(k, blk, k->child, "blkio.throttle.write_iops_device"), "");

        /* v1 IO weight: whichever file this kernel has (BFQ's here). */
        r = cgroup_set_io_weight(k->w, k->child, 100);
        if (r == -EOPNOTSUPP)
                print_message("no v1 IO weight file\n");
        else {
                assert_int_equal(r, 1);
                if (access(kernel_path(k, blk, k->child, "blkio.weight"), F_OK) == 0)
                        assert_string_equal(kernel_read(k, blk, k->child, "blkio.weight"), "19");
                else
                        assert_string_equal(kernel_read(k, blk, k->child, "blkio.bfq.weight"), "10");
        }
}

static void test_kernel_refusals(void **state) {
        Kernel *k = *state;
        char path[128];

        /* The hierarchy root and siblings are not ours. */
        assert_int_equal(cgroup_set_cpu_weight(k->w, ".", 100), -EPERM);
        (void) snprintf(path, sizeof(path), "%s-evil", k->root);
        assert_int_equal(cgroup_set_cpu_weight(k->w, path, 100), -EPERM);
        (void) snprintf(path, sizeof(path), "%s/../system.slice", k->root);
        assert_int_equal(cgroup_set_cpu_weight(k->w, path, 100), -EPERM);
        (void) snprintf(path, sizeof(path), "%s/gone", k->root);
        assert_int_equal(cgroup_set_cpu_weight(k->w, path, 100), -ENOENT);
}

int main(void) {
        const struct CMUnitTest kernel_tests[] = {
                cmocka_unit_test_setup_teardown(test_kernel_cpu, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_memory, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_cpuset, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_io, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_refusals, kernel_setup, kernel_teardown),
        };

        /* The real-kernel part needs v1 controllers (this machine's hybrid
         * layout); a pure v2 host is covered by the fixtures alone. */
        if (access("/sys/fs/cgroup/cpu", F_OK) < 0) {
                print_message("/sys/fs/cgroup/cpu is absent: real-kernel part skipped\n");
                return 77;
        }
        return cmocka_run_group_tests_name("kernel", kernel_tests, NULL, NULL);
}
