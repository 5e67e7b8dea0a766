/* SPDX-License-Identifier: Apache-2.0 */
/* The budget plugins on this machine's real (hybrid) kernel, v1
 * controllers: the CFS quota and cpu.idle the kernel reads back, a cpuset
 * pool shrunk and grown under a group with a child (the v1 rule that a
 * child stays within its parent), the memory limits with a floor, and IO
 * throttling of a real disk. In throwaway cgroups, removed afterwards. The
 * values on every layout: test-budget-plugins.c. */

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
#include "plugins/budget-plugins.h"
#include "plugins/cpu-topology.h"
#include "qos/cgroup-layout.h"
#include "tests/lib/cgroup-test-tree.h"
#include "tests/lib/test-block-device.h"
#include "tests/lib/test-fs.h"

#define MIB (INT64_C(1) << 20)

typedef struct Kernel {
        CgroupTestTree tree; /* nodeqos-test-plugins-<pid>: the managed root */
        CgroupLayout layout;
        CgroupWriter *w;
        char group[96], member[128];
        char *groups[1], *members[1];
        BestEffortCgroups be;
} Kernel;

/* The kernel's value, without the trailing newline. */
static const char *kernel_read(const Kernel *k, CgroupController c, const char *cgroup, const char *file) {
        char path[PATH_MAX];
        const char *s;

        (void) snprintf(path, sizeof(path), "%s/%s/%s", k->layout.controller_mount[c], cgroup, file);
        s = test_read_value(path);
        assert_non_null(s);
        return s;
}

static int kernel_teardown(void **state) {
        Kernel *k = *state;

        if (!k)
                return 0;
        cgroup_writer_free(k->w);
        (void) cgroup_test_tree_done(&k->tree);
        cgroup_layout_done(&k->layout);
        free(k);
        return 0;
}

static int kernel_setup_failed(void **state, const char *what, int r) {
        print_error("%s: %s\n", what, strerror(-r));
        (void) kernel_teardown(state);
        *state = NULL;
        return -1;
}

/* A new v1 cpuset has no CPUs and no memory nodes, and takes no task
 * before it has both: the tree's root, the group and the member get the
 * whole machine's, as the kubelet's cgroups have. */
static int cpuset_fill(Kernel *k) {
        const char *mount = k->layout.controller_mount[CGROUP_CONTROLLER_CPUSET];
        const char *levels[] = { "", "group", "group/member" };
        char cpus[256], mems[256], path[PATH_MAX];
        const char *s;

        if (!mount || k->layout.mode == CGROUP_MODE_V2)
                return 0;
        (void) snprintf(path, sizeof(path), "%s/cpuset.cpus", mount);
        s = test_read_value(path);
        if (!s)
                return -EIO;
        (void) snprintf(cpus, sizeof(cpus), "%s", s);
        (void) snprintf(path, sizeof(path), "%s/cpuset.mems", mount);
        s = test_read_value(path);
        if (!s)
                return -EIO;
        (void) snprintf(mems, sizeof(mems), "%s", s);
        for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
                int r = cgroup_test_tree_write(&k->tree, mount, levels[i], "cpuset.cpus", cpus);

                if (r == 0)
                        r = cgroup_test_tree_write(&k->tree, mount, levels[i], "cpuset.mems", mems);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int kernel_setup(void **state) {
        Kernel *k = calloc(1, sizeof(*k));
        char *roots[1];
        int r;

        if (!k)
                return -1;
        *state = k;
        r = cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &k->layout, NULL);
        if (r < 0)
                return kernel_setup_failed(state, "layout", r);
        r = cgroup_test_tree_new(&k->layout, CGROUP_TEST_PREFIX "plugins",
                                 CGROUP_TEST_TREE_CPUSET | CGROUP_TEST_TREE_CONTROLLERS_ONLY, &k->tree);
        if (r < 0)
                return kernel_setup_failed(state, "test tree", r);
        r = cgroup_test_tree_mkdir(&k->tree, "group/member");
        if (r < 0)
                return kernel_setup_failed(state, "mkdir group/member", r);
        r = cpuset_fill(k);
        if (r < 0)
                return kernel_setup_failed(state, "cpuset", r);
        (void) snprintf(k->group, sizeof(k->group), "%s/group", k->tree.name);
        (void) snprintf(k->member, sizeof(k->member), "%s/group/member", k->tree.name);
        k->groups[0] = k->group;
        k->members[0] = k->member;
        k->be = (BestEffortCgroups) { k->groups, 1, k->members, 1 };
        roots[0] = k->tree.name;
        r = cgroup_writer_new(&k->layout, roots, 1, &k->w);
        if (r < 0)
                return kernel_setup_failed(state, "writer", r);
        return 0;
}

static void test_kernel_cpu(void **state) {
        Kernel *k = *state;
        const CgroupController cpu = CGROUP_CONTROLLER_CPU;
        PluginApplyCounts c;

        assert_int_equal(cpu_plugin_apply(k->w, &k->be, 1500, NULL, &c), 0);
        assert_int_equal(c.failed, 0);
        assert_string_equal(kernel_read(k, cpu, k->group, "cpu.cfs_quota_us"), "150000");
        assert_string_equal(kernel_read(k, cpu, k->group, "cpu.cfs_period_us"), "100000");
        /* The member is idle: the kernel shows the idle weight as shares. */
        assert_string_equal(kernel_read(k, cpu, k->member, "cpu.idle"), "1");
        assert_string_equal(kernel_read(k, cpu, k->member, "cpu.shares"), "3");
        assert_string_equal(kernel_read(k, cpu, k->member, "cpu.cfs_quota_us"), "-1");
        /* The group holds the quota and is not idle itself. */
        assert_string_equal(kernel_read(k, cpu, k->group, "cpu.idle"), "0");

        /* No budget: the minimum the kernel takes, 1 ms per period. */
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, 0, NULL, &c), 0);
        assert_int_equal(c.written, 1);
        assert_string_equal(kernel_read(k, cpu, k->group, "cpu.cfs_quota_us"), "1000");

        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, NULL, &c), 0);
        assert_string_equal(kernel_read(k, cpu, k->group, "cpu.cfs_quota_us"), "-1");
        assert_string_equal(kernel_read(k, cpu, k->member, "cpu.idle"), "1");
}

static void assert_cpus(const Kernel *k, const char *want) {
        const CgroupController cs = CGROUP_CONTROLLER_CPUSET;

        assert_string_equal(kernel_read(k, cs, k->group, "cpuset.cpus"), want);
        assert_string_equal(kernel_read(k, cs, k->member, "cpuset.cpus"), want);
}

static void test_kernel_cpuset(void **state) {
        Kernel *k = *state;
        char path[PATH_MAX], a[16], b[16], both[32];
        CpuMask online;
        PluginApplyCounts c;
        const char *s;
        int first, second;

        if (!k->layout.controller_mount[CGROUP_CONTROLLER_CPUSET])
                skip();
        (void) snprintf(path, sizeof(path), "%s/cpuset.cpus", k->layout.controller_mount[CGROUP_CONTROLLER_CPUSET]);
        s = test_read_file(path);
        assert_non_null(s);
        assert_int_equal(cpu_list_parse_string(s, &online), 0);
        first = cpu_mask_next(&online, 0);
        second = first < 0 ? -1 : cpu_mask_next(&online, (unsigned) first + 1);
        if (second < 0) {
                print_message("one CPU: no pool to shrink\n");
                skip();
        }
        (void) snprintf(a, sizeof(a), "%d", first);
        (void) snprintf(b, sizeof(b), "%d", second);
        (void) snprintf(both, sizeof(both), second == first + 1 ? "%d-%d" : "%d,%d", first, second);

        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, NULL, &c), 0);
        assert_int_equal(c.failed, 0);

        /* Shrink to one CPU: the group, refused while the member holds
         * more, is written after it. */
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, a, &c), 0);
        assert_int_equal(c.written, 2);
        assert_int_equal(c.failed, 0);
        assert_cpus(k, a);

        /* Grow back: the group first, or the member's write is refused. */
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, both, &c), 0);
        assert_int_equal(c.written, 2);
        assert_int_equal(c.failed, 0);
        assert_cpus(k, both);

        /* Shrink to the other CPU, then move to the first: a pool that
         * gains and loses CPUs has no order v1 accepts (documented); the
         * union first, then the new pool, works. */
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, b, &c), 0);
        assert_cpus(k, b);
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, a, &c), -EACCES);
        assert_int_equal(c.failed, 2);
        assert_cpus(k, b);
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, both, &c), 0);
        assert_int_equal(cpu_plugin_apply(k->w, &k->be, -1, a, &c), 0);
        assert_int_equal(c.failed, 0);
        assert_cpus(k, a);
}

static void test_kernel_memory(void **state) {
        Kernel *k = *state;
        const CgroupController mem = CGROUP_CONTROLLER_MEMORY;
        const int64_t page = sysconf(_SC_PAGESIZE);
        const uint64_t floor[] = { 300 * MIB };
        PluginApplyCounts c;
        char unlimited[32];

        /* 256 MiB asked, 300 MiB unreclaimable: the floor, and an eighth
         * above it as the hard limit. */
        assert_int_equal(memory_plugin_apply(k->w, &k->be, 256 * MIB, floor, &c), 0);
        assert_int_equal(c.written, 2);
        assert_string_equal(kernel_read(k, mem, k->group, "memory.soft_limit_in_bytes"), "314572800");
        assert_string_equal(kernel_read(k, mem, k->group, "memory.limit_in_bytes"), "353894400");

        assert_int_equal(memory_plugin_apply(k->w, &k->be, 1024 * MIB, floor, &c), 0);
        assert_string_equal(kernel_read(k, mem, k->group, "memory.soft_limit_in_bytes"), "1073741824");
        assert_string_equal(kernel_read(k, mem, k->group, "memory.limit_in_bytes"), "1207959552");

        (void) snprintf(unlimited, sizeof(unlimited), "%" PRId64, INT64_MAX / page * page);
        assert_int_equal(memory_plugin_apply(k->w, &k->be, -1, floor, &c), 0);
        assert_string_equal(kernel_read(k, mem, k->group, "memory.soft_limit_in_bytes"), unlimited);
        assert_string_equal(kernel_read(k, mem, k->group, "memory.limit_in_bytes"), unlimited);
        /* The member keeps no limit of its own. */
        assert_string_equal(kernel_read(k, mem, k->member, "memory.limit_in_bytes"), unlimited);
}

static void test_kernel_io(void **state) {
        Kernel *k = *state;
        const CgroupController blk = CGROUP_CONTROLLER_BLKIO;
        BlockDevice dev = {};
        PluginApplyCounts c;
        char line[64];

        if (!k->layout.controller_mount[blk])
                skip();
        if (!test_find_block_device(&dev.major, &dev.minor, dev.name, sizeof(dev.name))) {
                print_message("no block device\n");
                skip();
        }
        print_message("throttling %s (%u:%u)\n", dev.name, dev.major, dev.minor);

        assert_int_equal(io_plugin_apply(k->w, &k->be, &dev, 1, 8 * MIB, &c), 0);
        assert_int_equal(c.written, 1);
        (void) snprintf(line, sizeof(line), "%u:%u 8388608", dev.major, dev.minor);
        assert_string_equal(kernel_read(k, blk, k->group, "blkio.throttle.read_bps_device"), line);
        assert_string_equal(kernel_read(k, blk, k->group, "blkio.throttle.write_bps_device"), line);
        assert_string_equal(kernel_read(k, blk, k->group, "blkio.throttle.read_iops_device"), "");

        assert_int_equal(io_plugin_apply(k->w, &k->be, &dev, 1, -1, &c), 0);
        assert_string_equal(kernel_read(k, blk, k->group, "blkio.throttle.read_bps_device"), "");
        assert_string_equal(kernel_read(k, blk, k->group, "blkio.throttle.write_bps_device"), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_kernel_cpu, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_cpuset, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_memory, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_kernel_io, kernel_setup, kernel_teardown),
        };

        /* v1 controllers (this machine's hybrid layout); a pure v2 host is
         * covered by the fixtures alone. */
        if (access("/sys/fs/cgroup/cpu", F_OK) < 0) {
                print_message("/sys/fs/cgroup/cpu is absent: real-kernel part skipped\n");
                return 77;
        }
        return cmocka_run_group_tests_name("kernel", tests, NULL, NULL);
}
