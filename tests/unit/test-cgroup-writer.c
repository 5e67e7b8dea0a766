/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup writer on v2, v1 and hybrid fixture trees: the exact string each
 * knob writes to the exact file, identical writes skipped, missing files and
 * bad arguments, forgetting. Refusals: test-cgroup-writer-confinement.c; the
 * values the real kernel reads back: test-cgroup-writer-kernel.c. */

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
#include "cgroup-writer-fixture.h"
#include "plugins/cgroup-writer.h"
#include "qos/cgroup-layout.h"
#include "tests/lib/test-fs.h"

/* ------------------------------------------------------------------ */
/* Which string lands in which file                                    */
/* ------------------------------------------------------------------ */

static const IoLimits io_some = { .read_bps = 1048576, .write_iops = 100 };
static const IoLimits io_none = {};

static int quota_half(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_quota(w, cg, 50000, 100000);
}
static int quota_none(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_quota(w, cg, -1, 100000);
}
static int weight_1(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_weight(w, cg, 1);
}
static int weight_100(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_weight(w, cg, 100);
}
static int weight_10000(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_weight(w, cg, 10000);
}
static int idle_on(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_idle(w, cg, true);
}
static int idle_off(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpu_idle(w, cg, false);
}
static int cpus_list(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpuset_cpus(w, cg, "0-3,8");
}
static int cpus_empty(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpuset_cpus(w, cg, "");
}
static int mems_0(CgroupWriter *w, const char *cg) {
        return cgroup_set_cpuset_mems(w, cg, "0");
}
static int high_1g(CgroupWriter *w, const char *cg) {
        return cgroup_set_memory_high(w, cg, INT64_C(1) << 30);
}
static int high_none(CgroupWriter *w, const char *cg) {
        return cgroup_set_memory_high(w, cg, -1);
}
static int max_2g(CgroupWriter *w, const char *cg) {
        return cgroup_set_memory_max(w, cg, INT64_C(2) << 30);
}
static int max_none(CgroupWriter *w, const char *cg) {
        return cgroup_set_memory_max(w, cg, -1);
}
static int io_max_some(CgroupWriter *w, const char *cg) {
        return cgroup_set_io_max(w, cg, 254, 0, &io_some);
}
static int io_max_none(CgroupWriter *w, const char *cg) {
        return cgroup_set_io_max(w, cg, 254, 0, &io_none);
}
static int io_weight_1(CgroupWriter *w, const char *cg) {
        return cgroup_set_io_weight(w, cg, 1);
}
static int io_weight_100(CgroupWriter *w, const char *cg) {
        return cgroup_set_io_weight(w, cg, 100);
}
static int io_weight_10000(CgroupWriter *w, const char *cg) {
        return cgroup_set_io_weight(w, cg, 10000);
}

typedef struct Expect {
        const char *hierarchy, *file, *content;
} Expect;

typedef struct WriteCase {
        const char *name;
        int (*set)(CgroupWriter *w, const char *cgroup);
        int error;        /* 0: success, expect[] written; else the -errno */
        Expect expect[4]; /* ends at hierarchy NULL */
} WriteCase;

static const WriteCase v2_cases[] = {
        { "quota", quota_half, 0, { { "unified", "cpu.max", "50000 100000" } } },
        { "quota none", quota_none, 0, { { "unified", "cpu.max", "max 100000" } } },
        { "weight 1", weight_1, 0, { { "unified", "cpu.weight", "1" } } },
        { "weight 100", weight_100, 0, { { "unified", "cpu.weight", "100" } } },
        { "weight 10000", weight_10000, 0, { { "unified", "cpu.weight", "10000" } } },
        { "idle", idle_on, 0, { { "unified", "cpu.idle", "1" } } },
        { "not idle", idle_off, 0, { { "unified", "cpu.idle", "0" } } },
        { "cpus", cpus_list, 0, { { "unified", "cpuset.cpus", "0-3,8" } } },
        { "cpus empty", cpus_empty, 0, { { "unified", "cpuset.cpus", "\n" } } },
        { "mems", mems_0, 0, { { "unified", "cpuset.mems", "0" } } },
        { "high", high_1g, 0, { { "unified", "memory.high", "1073741824" } } },
        { "high none", high_none, 0, { { "unified", "memory.high", "max" } } },
        { "max", max_2g, 0, { { "unified", "memory.max", "2147483648" } } },
        { "max none", max_none, 0, { { "unified", "memory.max", "max" } } },
        { "io.max", io_max_some, 0, { { "unified", "io.max", "254:0 rbps=1048576 wbps=max riops=max wiops=100" } } },
        { "io.max none", io_max_none, 0, { { "unified", "io.max", "254:0 rbps=max wbps=max riops=max wiops=max" } } },
        { "io.weight 1", io_weight_1, 0, { { "unified", "io.weight", "default 1" } } },
        { "io.weight 100", io_weight_100, 0, { { "unified", "io.weight", "default 100" } } },
        { "io.weight 10000", io_weight_10000, 0, { { "unified", "io.weight", "default 10000" } } },
};

/* Pure v1 and systemd's hybrid write the same v1 files; hybrid must leave
 * its unified tree alone. */
static const WriteCase v1_cases[] = {
        { "quota",
          quota_half,
          0,
          { { "cpu,cpuacct", "cpu.cfs_period_us", "100000" }, { "cpu,cpuacct", "cpu.cfs_quota_us", "50000" } } },
        { "quota none",
          quota_none,
          0,
          { { "cpu,cpuacct", "cpu.cfs_period_us", "100000" }, { "cpu,cpuacct", "cpu.cfs_quota_us", "-1" } } },
        /* shares = 2 + (weight - 1) * 262142 / 9999 */
        { "weight 1", weight_1, 0, { { "cpu,cpuacct", "cpu.shares", "2" } } },
        { "weight 100", weight_100, 0, { { "cpu,cpuacct", "cpu.shares", "2597" } } },
        { "weight 10000", weight_10000, 0, { { "cpu,cpuacct", "cpu.shares", "262144" } } },
        { "idle", idle_on, 0, { { "cpu,cpuacct", "cpu.idle", "1" } } },
        { "not idle", idle_off, 0, { { "cpu,cpuacct", "cpu.idle", "0" } } },
        { "cpus", cpus_list, 0, { { "cpuset", "cpuset.cpus", "0-3,8" } } },
        { "mems", mems_0, 0, { { "cpuset", "cpuset.mems", "0" } } },
        { "high", high_1g, 0, { { "memory", "memory.soft_limit_in_bytes", "1073741824" } } },
        { "high none", high_none, 0, { { "memory", "memory.soft_limit_in_bytes", "-1" } } },
        { "max", max_2g, 0, { { "memory", "memory.limit_in_bytes", "2147483648" } } },
        { "max none", max_none, 0, { { "memory", "memory.limit_in_bytes", "-1" } } },
        { "io.max",
          io_max_some,
          0,
          { { "blkio", "blkio.throttle.read_bps_device", "254:0 1048576" },
            { "blkio", "blkio.throttle.write_bps_device", "254:0 0" },
            { "blkio", "blkio.throttle.read_iops_device", "254:0 0" },
            { "blkio", "blkio.throttle.write_iops_device", "254:0 100" } } },
        { "io.max none",
          io_max_none,
          0,
          { { "blkio", "blkio.throttle.read_bps_device", "254:0 0" },
            { "blkio", "blkio.throttle.write_bps_device", "254:0 0" },
            { "blkio", "blkio.throttle.read_iops_device", "254:0 0" },
            { "blkio", "blkio.throttle.write_iops_device", "254:0 0" } } },
        /* blkio.weight = 10 + (weight - 1) * 990 / 9999 */
        { "io.weight 1", io_weight_1, 0, { { "blkio", "blkio.weight", "10" } } },
        { "io.weight 100", io_weight_100, 0, { { "blkio", "blkio.weight", "19" } } },
        { "io.weight 10000", io_weight_10000, 0, { { "blkio", "blkio.weight", "1000" } } },
};

/* Hybrid with memory on the unified tree (its v2 files) and no blkio. */
static const WriteCase mixed_cases[] = {
        { "quota",
          quota_half,
          0,
          { { "cpu,cpuacct", "cpu.cfs_period_us", "100000" }, { "cpu,cpuacct", "cpu.cfs_quota_us", "50000" } } },
        { "weight 100", weight_100, 0, { { "cpu,cpuacct", "cpu.shares", "2597" } } },
        { "cpus", cpus_list, 0, { { "cpuset", "cpuset.cpus", "0-3,8" } } },
        { "high", high_1g, 0, { { "unified", "memory.high", "1073741824" } } },
        { "max none", max_none, 0, { { "unified", "memory.max", "max" } } },
        { "io.max", io_max_some, -EOPNOTSUPP, {} },
        { "io.weight", io_weight_100, -EOPNOTSUPP, {} },
};

static size_t n_expected(const WriteCase *c) {
        size_t n = 0;

        while (n < ELEMENTSOF(c->expect) && c->expect[n].hierarchy)
                n++;
        return n;
}

/* After a call, exactly the expected files hold exactly the expected
 * strings and every other file of every hierarchy is still empty. */
static void assert_written(const Fixture *f, const char *cgroup, const WriteCase *c) {
        fixture_allow_none();
        for (size_t e = 0; e < n_expected(c); e++) {
                char rest[256];
                const char *got;

                (void) snprintf(rest, sizeof(rest), "%s/%s", cgroup, c->expect[e].file);
                got = test_read_file(fixture_allow(fixture_path(f, c->expect[e].hierarchy, rest)));
                assert_non_null(got);
                if (strcmp(got, c->expect[e].content) != 0)
                        fail_msg("case '%s': %s/%s: wrote '%s', expected '%s'", c->name, c->expect[e].hierarchy,
                                 rest, got, c->expect[e].content);
        }
        assert_empty_but_allowed(f);
}

static void run_cases(FixtureLayout layout, const WriteCase *cases, size_t n_cases, void **state) {
        static const char cg[] = "kubepods.slice/pod1";
        Fixture *f = *state = fixture_new(layout);

        for (size_t i = 0; i < n_cases; i++) {
                const WriteCase *c = &cases[i];
                size_t n = n_expected(c);
                CgroupWriterStats st;

                /* A fresh writer per case: nothing remembered from the last. */
                cgroup_writer_free(f->w);
                f->w = NULL;
                assert_int_equal(cgroup_writer_new(&f->layout, managed, ELEMENTSOF(managed), &f->w), 0);

                if (c->error != 0) {
                        assert_int_equal(c->set(f->w, cg), c->error);
                        assert_all_empty(f);
                        st = cgroup_writer_stats(f->w);
                        assert_int_equal(st.failed, 1);
                        assert_int_equal(st.written, 0);
                        continue;
                }

                int r = c->set(f->w, cg);
                if (r != 1)
                        fail_msg("case '%s': returned %d", c->name, r);
                assert_written(f, cg, c);
                assert_int_equal(cgroup_writer_stats(f->w).written, n);

                /* The same value again: not written (the emptied files stay
                 * empty). */
                fixture_truncate_allowed();
                assert_int_equal(c->set(f->w, cg), 0);
                assert_all_empty(f);
                st = cgroup_writer_stats(f->w);
                assert_int_equal(st.written, n);
                assert_int_equal(st.unchanged, n);
                assert_int_equal(st.refused, 0);
                assert_int_equal(st.failed, 0);
        }
}

static void test_write_v2(void **state) {
        run_cases(FIXTURE_V2, v2_cases, ELEMENTSOF(v2_cases), state);
}

static void test_write_v1(void **state) {
        run_cases(FIXTURE_V1, v1_cases, ELEMENTSOF(v1_cases), state);
}

static void test_write_hybrid(void **state) {
        run_cases(FIXTURE_HYBRID, v1_cases, ELEMENTSOF(v1_cases), state);
}

static void test_write_hybrid_mixed(void **state) {
        run_cases(FIXTURE_HYBRID_MIXED, mixed_cases, ELEMENTSOF(mixed_cases), state);
}

/* Only what changed is written: a new quota with the same period touches
 * cpu.cfs_quota_us alone; per-device lines are remembered per device. */
static void test_write_only_changes(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V1);
        const char *cg = "kubepods.slice/pod1";
        IoLimits other = { .read_bps = 1048576 };

        assert_int_equal(cgroup_set_cpu_quota(f->w, cg, 50000, 100000), 1);
        fixture_truncate(f);
        assert_int_equal(cgroup_set_cpu_quota(f->w, cg, 20000, 100000), 1);
        assert_string_equal(test_read_file(fixture_path(f, "cpu,cpuacct", "kubepods.slice/pod1/cpu.cfs_quota_us")),
                            "20000");
        assert_string_equal(test_read_file(fixture_path(f, "cpu,cpuacct", "kubepods.slice/pod1/cpu.cfs_period_us")), "");

        /* Another device's limits are another line: written even though the
         * values equal those of the first device. */
        assert_int_equal(cgroup_set_io_max(f->w, cg, 254, 0, &other), 1);
        fixture_truncate(f);
        assert_int_equal(cgroup_set_io_max(f->w, cg, 8, 16, &other), 1);
        assert_string_equal(test_read_file(fixture_path(f, "blkio", "kubepods.slice/pod1/blkio.throttle.read_bps_device")),
                            "8:16 1048576");
        fixture_truncate(f);
        assert_int_equal(cgroup_set_io_max(f->w, cg, 254, 0, &other), 0);
        assert_int_equal(cgroup_set_io_max(f->w, cg, 8, 16, &other), 0);
        assert_all_empty(f);

        /* Same value, other cgroup: written. */
        assert_int_equal(cgroup_set_cpu_quota(f->w, "kubepods.slice/pod12", 20000, 100000), 1);

        /* The kernel resets the weight when cpu.idle changes: the weight is
         * written again afterwards, even if it is the same. */
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 100), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 100), 0);
        assert_int_equal(cgroup_set_cpu_idle(f->w, cg, false), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 100), 1);
        assert_int_equal(cgroup_set_cpu_idle(f->w, cg, false), 0);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 100), 0);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 1);
        assert_int_equal(cgroup_set_cpu_idle(f->w, cg, true), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 100), 1);
        /* ... only its own. */
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 0);
}

/* ------------------------------------------------------------------ */
/* Missing things, bad arguments, forgetting                           */
/* ------------------------------------------------------------------ */

static void test_missing(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V1);
        char path[PATH_MAX];
        CgroupWriterStats st;

        /* The cgroup is gone. */
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/gone", 100), -ENOENT);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/gone/deeper", 100), -ENOENT);
        /* The cgroup is there, the knob is not (older kernel). */
        (void) snprintf(path, sizeof(path), "%s", fixture_path(f, "cpu,cpuacct", "kubepods.slice/pod1/cpu.idle"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(cgroup_set_cpu_idle(f->w, "kubepods.slice/pod1", true), -EOPNOTSUPP);

        /* v1 IO weight: CFQ's file gone (>= 5.0), BFQ's there: its scale. */
        (void) snprintf(path, sizeof(path), "%s", fixture_path(f, "blkio", "kubepods.slice/pod1/blkio.weight"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(cgroup_set_io_weight(f->w, "kubepods.slice/pod1", 100), 1);
        assert_string_equal(test_read_file(fixture_path(f, "blkio", "kubepods.slice/pod1/blkio.bfq.weight")), "10");
        assert_int_equal(cgroup_set_io_weight(f->w, "kubepods.slice/pod1", 100), 0);
        assert_int_equal(cgroup_set_io_weight(f->w, "kubepods.slice/pod1", 10000), 1);
        assert_string_equal(test_read_file(fixture_path(f, "blkio", "kubepods.slice/pod1/blkio.bfq.weight")), "1000");
        /* Neither: not supported. */
        (void) snprintf(path, sizeof(path), "%s", fixture_path(f, "blkio", "kubepods.slice/pod1/blkio.bfq.weight"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(cgroup_set_io_weight(f->w, "kubepods.slice/pod1", 1), -EOPNOTSUPP);

        st = cgroup_writer_stats(f->w);
        assert_int_equal(st.failed, 4);
        assert_int_equal(st.refused, 0);
        assert_int_equal(st.written, 2);
        assert_int_equal(st.unchanged, 1);

        fixture_free(f);
        /* A layout without the controller: not supported, nothing opened. */
        f = *state = fixture_new(FIXTURE_HYBRID_MIXED);
        assert_int_equal(cgroup_set_io_max(f->w, "kubepods.slice/pod1", 254, 0, &io_some), -EOPNOTSUPP);
        /* ... but the refusal comes first. */
        assert_int_equal(cgroup_set_io_max(f->w, "system.slice/x", 254, 0, &io_some), -EPERM);
}

static void test_invalid(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V2);
        const char *cg = "kubepods.slice/pod1";

        assert_int_equal(cgroup_set_cpu_quota(f->w, cg, 50000, 0), -EINVAL);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 0), -EINVAL);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 10001), -EINVAL);
        assert_int_equal(cgroup_set_io_weight(f->w, cg, 0), -EINVAL);
        assert_int_equal(cgroup_set_io_weight(f->w, cg, 10001), -EINVAL);
        assert_int_equal(cgroup_set_cpuset_cpus(f->w, cg, "0-3\n4"), -EINVAL);
        assert_int_equal(cgroup_set_cpuset_cpus(f->w, cg, "0 1"), -EINVAL);
        assert_int_equal(cgroup_set_cpuset_mems(f->w, cg, NULL), -EINVAL);
        assert_int_equal(cgroup_set_io_max(f->w, cg, 254, 0, NULL), -EINVAL);
        assert_int_equal(cgroup_set_cpu_weight(NULL, cg, 100), -EINVAL);
        assert_all_empty(f);
        assert_int_equal(cgroup_writer_stats(f->w).failed, 9);
}

static void test_new(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V2);
        char *const bad_root[] = { "kubepods.slice/../x" };
        char *const abs_root[] = { "/kubepods.slice" };
        CgroupWriter *w = NULL;
        CgroupLayout l = {};

        assert_int_equal(cgroup_writer_new(&f->layout, managed, 0, &w), -EINVAL);
        assert_int_equal(cgroup_writer_new(&f->layout, bad_root, 1, &w), -EINVAL);
        assert_int_equal(cgroup_writer_new(&f->layout, abs_root, 1, &w), -EINVAL);
        assert_null(w);

        /* A hierarchy that is not there. */
        l.mode = CGROUP_MODE_V1;
        l.controller_mount[CGROUP_CONTROLLER_CPU] = strdup(fixture_path(f, "nonexistent", NULL));
        assert_int_equal(cgroup_writer_new(&l, managed, ELEMENTSOF(managed), &w), -ENOENT);
        assert_null(w);
        cgroup_layout_done(&l);

        /* An empty layout is fine: every knob is then unsupported. */
        assert_int_equal(cgroup_writer_new(&l, managed, ELEMENTSOF(managed), &w), 0);
        assert_int_equal(cgroup_set_memory_max(w, "kubepods.slice/pod1", 4096), -EOPNOTSUPP);
        assert_null(cgroup_writer_free(w));
        assert_null(cgroup_writer_free(NULL));
}

static void test_forget(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V2);

        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod1", 100), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod1/c1", 100), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 1);
        assert_int_equal(cgroup_set_memory_max(f->w, "kubepods.slice/pod1", 4096), 1);

        /* By whole components: pod12 is not below pod1. */
        cgroup_writer_forget(f->w, "kubepods.slice/pod1");
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod1", 100), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod1/c1", 100), 1);
        assert_int_equal(cgroup_set_memory_max(f->w, "kubepods.slice/pod1", 4096), 1);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 0);
        cgroup_writer_forget(f->w, "kubepods.slice/pod");
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 0);
        cgroup_writer_forget(f->w, NULL);
        cgroup_writer_forget(NULL, "x");

        /* A cgroup found gone is forgotten too: when it comes back, it has
         * the kernel's defaults again and gets our value. */
        assert_int_equal(cgroup_set_cpu_idle(f->w, "kubepods.slice/pod12", true), 1);
        assert_int_equal(test_remove_tree(fixture_path(f, "unified", "kubepods.slice/pod12")), 0);
        assert_int_equal(cgroup_set_cpu_idle(f->w, "kubepods.slice/pod12", false), -ENOENT);
        make_dirs(fixture_path(f, "unified", "kubepods.slice/pod12"));
        write_file(fixture_path(f, "unified", "kubepods.slice/pod12/cpu.idle"), "");
        write_file(fixture_path(f, "unified", "kubepods.slice/pod12/cpu.weight"), "");
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod12", 100), 1);
        assert_int_equal(cgroup_set_cpu_idle(f->w, "kubepods.slice/pod12", true), 1);
}

/* Per knob and outcome: one count per setter call, whatever the number of
 * files (a v1 quota is two), next to the totals which count files. */
static void test_knob_stats(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V1);
        const char *cg = "kubepods.slice/pod1";
        CgroupWriteStats st;

        assert_int_equal(cgroup_set_cpu_quota(f->w, cg, 50000, 100000), 1);
        assert_int_equal(cgroup_set_cpu_quota(f->w, cg, 50000, 100000), 0);
        assert_int_equal(cgroup_set_memory_max(f->w, "system.slice/x", 4096), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, cg, 0), -EINVAL);
        assert_int_equal(cgroup_set_memory_high(f->w, "kubepods.slice/gone", 4096), -ENOENT);
        assert_int_equal(cgroup_set_cpuset_cpus(f->w, cg, "0"), 1);

        cgroup_writer_knob_stats(f->w, &st);
        assert_int_equal(st.calls[CGROUP_KNOB_CPU_QUOTA][CGROUP_WRITE_WRITTEN], 1);
        assert_int_equal(st.calls[CGROUP_KNOB_CPU_QUOTA][CGROUP_WRITE_UNCHANGED], 1);
        assert_int_equal(st.calls[CGROUP_KNOB_MEMORY_MAX][CGROUP_WRITE_REFUSED], 1);
        assert_int_equal(st.calls[CGROUP_KNOB_CPU_WEIGHT][CGROUP_WRITE_FAILED], 1);
        assert_int_equal(st.calls[CGROUP_KNOB_MEMORY_HIGH][CGROUP_WRITE_GONE], 1);
        assert_int_equal(st.calls[CGROUP_KNOB_CPUSET_CPUS][CGROUP_WRITE_WRITTEN], 1);
        uint64_t total = 0;
        for (size_t k = 0; k < _CGROUP_KNOB_MAX; k++)
                for (size_t r = 0; r < _CGROUP_WRITE_RESULT_MAX; r++)
                        total += st.calls[k][r];
        assert_int_equal(total, 6);

        /* The totals keep their meaning: files written (period and quota, the cpuset). */
        assert_int_equal(cgroup_writer_stats(f->w).written, 3);
        assert_int_equal(cgroup_writer_stats(f->w).refused, 1);

        cgroup_writer_knob_stats(NULL, &st);
        assert_int_equal(st.calls[CGROUP_KNOB_CPU_QUOTA][CGROUP_WRITE_WRITTEN], 0);
        for (size_t k = 0; k < _CGROUP_KNOB_MAX; k++)
                assert_non_null(cgroup_knob_to_string(k));
        for (size_t r = 0; r < _CGROUP_WRITE_RESULT_MAX; r++)
                assert_non_null(cgroup_write_result_to_string(r));
        assert_string_equal(cgroup_knob_to_string(CGROUP_KNOB_IO_MAX), "io_max");
        assert_string_equal(cgroup_write_result_to_string(CGROUP_WRITE_GONE), "gone");
        assert_null(cgroup_knob_to_string(_CGROUP_KNOB_MAX));
        assert_null(cgroup_write_result_to_string(_CGROUP_WRITE_RESULT_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_v2, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_write_v1, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_write_hybrid, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_write_hybrid_mixed, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_write_only_changes, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_missing, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_invalid, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_new, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_forget, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_knob_stats, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
