/* SPDX-License-Identifier: Apache-2.0 */
/* Layout detection from mountinfo: v1, v2, hybrid, and refusals. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/cgroup-layout.h"

/* This build machine's own mountinfo (hybrid), shortened. */
static const char hybrid[] =
        "25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* A classic v1 host: cpu and cpuacct mounted together, no unified tree. */
static const char v1[] =
        "30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
        "33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
        "34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory\n"
        "35 30 0:31 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,blkio\n"
        /* a container's bind mount of the same hierarchy comes later: ignored */
        "90 30 0:29 /kubepods /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        /* outside the cgroup root: ignored */
        "91 25 0:40 / /var/lib/other\\040cgroup rw - cgroup cgroup rw,pids\n";

static void test_hybrid(void **state) {
        CgroupLayout l = {};

        assert_int_equal(cgroup_layout_parse(hybrid, "/sys/fs/cgroup", &l, NULL), 0);
        assert_int_equal(l.mode, CGROUP_MODE_HYBRID);
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_CPU], "/sys/fs/cgroup/cpu");
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_CPUACCT], "/sys/fs/cgroup/cpuacct");
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_MEMORY], "/sys/fs/cgroup/memory");
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_BLKIO], "/sys/fs/cgroup/blkio");
        assert_string_equal(l.unified_mount, "/sys/fs/cgroup/unified");
        assert_string_equal(l.freezer_mount, "/sys/fs/cgroup/freezer");
        assert_string_equal(cgroup_layout_pressure_mount(&l), "/sys/fs/cgroup/unified");
        assert_string_equal(cgroup_layout_primary_mount(&l), "/sys/fs/cgroup/cpu");
        cgroup_layout_done(&l);
}

static void test_v1(void **state) {
        CgroupLayout l = {};

        assert_int_equal(cgroup_layout_parse(v1, "/sys/fs/cgroup", &l, NULL), 0);
        assert_int_equal(l.mode, CGROUP_MODE_V1);
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_CPU], "/sys/fs/cgroup/cpu,cpuacct");
        assert_string_equal(l.controller_mount[CGROUP_CONTROLLER_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
        assert_null(l.controller_mount[CGROUP_CONTROLLER_CPUSET]);
        assert_null(l.unified_mount);
        assert_null(l.freezer_mount);
        assert_null(cgroup_layout_pressure_mount(&l));
        cgroup_layout_done(&l);
}

static void test_v2(void **state) {
        char dir[] = "/tmp/nodeqos-test-layout-XXXXXX", path[256], mountinfo[512], cmd[128];
        CgroupLayout l = {};
        const char *missing = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("cpuset cpu io memory hugetlb pids rdma misc\n", f);
        fclose(f);
        snprintf(mountinfo, sizeof(mountinfo),
                 "26 22 0:23 / %s rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", dir);

        assert_int_equal(cgroup_layout_parse(mountinfo, dir, &l, NULL), 0);
        assert_int_equal(l.mode, CGROUP_MODE_V2);
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                assert_string_equal(l.controller_mount[c], dir);
        assert_null(l.freezer_mount);
        cgroup_layout_done(&l);

        /* Without the memory controller enabled at the root: refused, named. */
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("cpuset cpu io pids\n", f);
        fclose(f);
        assert_int_equal(cgroup_layout_parse(mountinfo, dir, &l, &missing), -EOPNOTSUPP);
        assert_string_equal(missing, "memory");

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_refusals(void **state) {
        CgroupLayout l = {};
        const char *missing = NULL;

        assert_int_equal(cgroup_layout_parse("", "/sys/fs/cgroup", &l, NULL), -ENOMEDIUM);
        assert_int_equal(cgroup_layout_parse("garbage\n - \n1 2 3\n", "/sys/fs/cgroup", &l, NULL), -ENOMEDIUM);
        /* Hierarchies elsewhere do not count. */
        assert_int_equal(cgroup_layout_parse(hybrid, "/mnt/cgroup", &l, NULL), -ENOMEDIUM);
        /* v1 without memory. */
        assert_int_equal(cgroup_layout_parse("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n",
                                             "/sys/fs/cgroup", &l, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "memory");
}

static void test_this_machine(void **state) {
        /* The real thing: whatever this kernel has, detection must succeed
         * and find cpu and memory. */
        CgroupLayout l = {};

        assert_int_equal(cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &l, NULL), 0);
        assert_non_null(l.controller_mount[CGROUP_CONTROLLER_CPU]);
        assert_non_null(l.controller_mount[CGROUP_CONTROLLER_MEMORY]);
        print_message("this machine: %s, cpu at %s\n", cgroup_mode_to_string(l.mode),
                      l.controller_mount[CGROUP_CONTROLLER_CPU]);
        cgroup_layout_done(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hybrid),
                cmocka_unit_test(test_v1),
                cmocka_unit_test(test_v2),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_this_machine),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
