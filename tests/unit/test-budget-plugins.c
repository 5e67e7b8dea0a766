/* SPDX-License-Identifier: Apache-2.0 */
/* The cpu, memory and io plugins on v2, v1 and hybrid fixture trees: the
 * values each group and member gets, the even split, the memory floor, no
 * limit for a negative budget, the order of cpuset writes, vanished and
 * refused cgroups, and the counts. The real kernel:
 * test-budget-plugins-kernel.c. */

#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "cgroup-writer-fixture.h"
#include "plugins/budget-plugins.h"
#include "tests/lib/test-fs.h"

#define POD "kubepods.slice/pod1"
#define CONTAINER "kubepods.slice/pod1/c1"
#define BATCH "batch.slice/x"
#define GIB (INT64_C(1) << 30)
#define MIB (INT64_C(1) << 20)

/* pod1 stands for the besteffort tier (a group, its container a member);
 * batch.slice/x for a reclaimed workload outside it (group and member). */
static char *groups[] = { POD, BATCH };
static char *members[] = { POD, CONTAINER, BATCH };
static const BestEffortCgroups be = { groups, ELEMENTSOF(groups), members, ELEMENTSOF(members) };

typedef struct LayoutFiles {
        FixtureLayout layout;
        const char *cpu, *cpuset, *memory, *blkio; /* the hierarchy directories */
        bool v2;
} LayoutFiles;

static const LayoutFiles layouts[] = {
        { FIXTURE_V2, "unified", "unified", "unified", "unified", true },
        { FIXTURE_V1, "cpu,cpuacct", "cpuset", "memory", "blkio", false },
        { FIXTURE_HYBRID, "cpu,cpuacct", "cpuset", "memory", "blkio", false },
};

static const char *knob(const Fixture *f, const char *hierarchy, const char *cgroup, const char *file) {
        char rest[PATH_MAX];
        const char *s;

        (void) snprintf(rest, sizeof(rest), "%s/%s", cgroup, file);
        s = test_read_file(fixture_path(f, hierarchy, rest));
        assert_non_null(s);
        return s;
}

static void assert_knob(const Fixture *f, const char *hierarchy, const char *cgroup, const char *file,
                        const char *want) {
        assert_string_equal(knob(f, hierarchy, cgroup, file), want);
}

static void assert_counts(const PluginApplyCounts *c, unsigned written, unsigned unchanged, unsigned failed) {
        assert_int_equal(c->written, written);
        assert_int_equal(c->unchanged, unchanged);
        assert_int_equal(c->failed, failed);
}

/* Everything of another class, and the unified tree of a hybrid layout,
 * stays empty. */
static int untouched_seen;
static bool hybrid_unified_is_other;
static int check_untouched(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        bool other = strstr(path, "/pod12/") || strstr(path, "/system.slice/") || strstr(path, "-evil/") ||
                     strstr(path, "/outside/") || (hybrid_unified_is_other && strstr(path, "/unified/"));

        if (type == FTW_F && st->st_size > 0 && other) {
                print_error("unexpected write to %s\n", path);
                untouched_seen++;
        }
        return 0;
}

static void assert_others_untouched(const Fixture *f, const LayoutFiles *l) {
        untouched_seen = 0;
        hybrid_unified_is_other = !l->v2;
        assert_int_equal(nftw(f->dir, check_untouched, 16, FTW_PHYS), 0);
        assert_int_equal(untouched_seen, 0);
}

static Fixture *next_fixture(void **state, const LayoutFiles *l) {
        fixture_free(*state);
        *state = fixture_new(l->layout);
        return *state;
}

static void assert_quota(const Fixture *f, const LayoutFiles *l, const char *cgroup, const char *v2, const char *v1) {
        if (l->v2)
                assert_knob(f, l->cpu, cgroup, "cpu.max", v2);
        else {
                assert_knob(f, l->cpu, cgroup, "cpu.cfs_quota_us", v1);
                assert_knob(f, l->cpu, cgroup, "cpu.cfs_period_us", *v1 ? "100000" : "");
        }
}

static void test_cpu(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                const LayoutFiles *l = &layouts[i];
                Fixture *f = next_fixture(state, l);
                PluginApplyCounts c;

                /* 3 CPUs between two groups: 1.5 CPUs each. */
                assert_int_equal(cpu_plugin_apply(f->w, &be, 3000, NULL, &c), 0);
                assert_counts(&c, 2 + 3, 0, 0);
                assert_quota(f, l, POD, "150000 100000", "150000");
                assert_quota(f, l, BATCH, "150000 100000", "150000");
                for (size_t m = 0; m < ELEMENTSOF(members); m++) {
                        assert_knob(f, l->cpu, members[m], "cpu.idle", "1");
                        /* idle took: no weight (the kernel would refuse it) */
                        assert_knob(f, l->cpu, members[m], l->v2 ? "cpu.weight" : "cpu.shares", "");
                        /* no pool: the cpusets are left alone */
                        assert_knob(f, l->cpuset, members[m], "cpuset.cpus", "");
                }
                /* The container is no group: no quota of its own. */
                assert_quota(f, l, CONTAINER, "", "");
                assert_others_untouched(f, l);

                assert_int_equal(cpu_plugin_apply(f->w, &be, 3000, NULL, &c), 0);
                assert_counts(&c, 0, 5, 0);

                /* Below the kernel's 1 ms: the minimum. */
                assert_int_equal(cpu_plugin_apply(f->w, &be, 1, NULL, &c), 0);
                assert_counts(&c, 2, 3, 0);
                assert_quota(f, l, POD, "1000 100000", "1000");
                assert_int_equal(cpu_plugin_apply(f->w, &be, 0, NULL, &c), 0);
                assert_counts(&c, 0, 5, 0);

                /* No budget: no limit. */
                assert_int_equal(cpu_plugin_apply(f->w, &be, -1, NULL, &c), 0);
                assert_counts(&c, 2, 3, 0);
                assert_quota(f, l, POD, "max 100000", "-1");
                assert_quota(f, l, BATCH, "max 100000", "-1");
        }
}

/* A kernel without cpu.idle (v1 before 5.15): the lowest weight instead. */
static void test_cpu_no_idle(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                const LayoutFiles *l = &layouts[i];
                Fixture *f = next_fixture(state, l);
                char rest[PATH_MAX];
                PluginApplyCounts c;

                (void) snprintf(rest, sizeof(rest), "%s/cpu.idle", CONTAINER);
                assert_int_equal(unlink(fixture_path(f, l->cpu, rest)), 0);
                assert_int_equal(cpu_plugin_apply(f->w, &be, 1000, NULL, &c), 0);
                assert_counts(&c, 5, 0, 0);
                assert_knob(f, l->cpu, CONTAINER, l->v2 ? "cpu.weight" : "cpu.shares", l->v2 ? "1" : "2");
                assert_knob(f, l->cpu, POD, "cpu.idle", "1");
                assert_knob(f, l->cpu, POD, l->v2 ? "cpu.weight" : "cpu.shares", "");
        }
}

/* The order of the cpuset.cpus writes, seen by inotify: a parent before
 * its children (the growing pool's order; the kernel's refusal that
 * reverses it for a shrinking one: test-budget-plugins-kernel.c). */
static void test_cpuset_order(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                const LayoutFiles *l = &layouts[i];
                Fixture *f = next_fixture(state, l);
                const char *order[] = { BATCH, POD, CONTAINER };
                int wd[ELEMENTSOF(order)], seen[ELEMENTSOF(order)], n_seen = 0;
                _cleanup_close_ int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                PluginApplyCounts c;
                ssize_t n;

                assert_true(ino >= 0);
                for (size_t k = 0; k < ELEMENTSOF(order); k++) {
                        char rest[PATH_MAX];

                        (void) snprintf(rest, sizeof(rest), "%s/cpuset.cpus", order[k]);
                        wd[k] = inotify_add_watch(ino, fixture_path(f, l->cpuset, rest), IN_CLOSE_WRITE);
                        assert_true(wd[k] >= 0);
                }

                assert_int_equal(cpu_plugin_apply(f->w, &be, 1000, "0-1", &c), 0);
                /* quota x2, idle x3, cpuset x3: pod1 and batch.slice/x are
                 * groups and members, written once. */
                assert_counts(&c, 8, 0, 0);
                n = read(ino, buf, sizeof(buf));
                assert_true(n > 0);
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;

                        assert_true(n_seen < (int) ELEMENTSOF(seen));
                        seen[n_seen++] = ev->wd;
                        p += sizeof(*ev) + ev->len;
                }
                assert_int_equal(n_seen, ELEMENTSOF(order));
                for (size_t k = 0; k < ELEMENTSOF(order); k++) {
                        assert_int_equal(seen[k], wd[k]);
                        assert_knob(f, l->cpuset, order[k], "cpuset.cpus", "0-1");
                }
                assert_others_untouched(f, l);

                assert_int_equal(cpu_plugin_apply(f->w, &be, 1000, "0-1", &c), 0);
                assert_counts(&c, 0, 8, 0);
                assert_int_equal(cpu_plugin_apply(f->w, &be, 1000, "1", &c), 0);
                assert_counts(&c, 3, 5, 0);
                assert_knob(f, l->cpuset, CONTAINER, "cpuset.cpus", "1");
        }
}

/* A cgroup gone since the snapshot is no failure; one outside the managed
 * roots is, and the rest is still applied. */
static void test_vanished_and_refused(void **state) {
        const LayoutFiles *l = &layouts[1];
        Fixture *f = next_fixture(state, l);
        char *gone_groups[] = { "kubepods.slice/gone", POD };
        char *bad_groups[] = { "system.slice/x", POD };
        char *gone_members[] = { "kubepods.slice/gone/c" };
        BestEffortCgroups gone = { gone_groups, 2, gone_members, 1 }, bad = { bad_groups, 2, NULL, 0 };
        const BlockDevice dev = { 254, 0, "vda" };
        PluginApplyCounts c;

        assert_int_equal(cpu_plugin_apply(f->w, &gone, 2000, "0", &c), 0);
        assert_counts(&c, 2, 0, 0); /* pod1's quota and cpuset */
        assert_int_equal(memory_plugin_apply(f->w, &gone, GIB, NULL, &c), 0);
        assert_counts(&c, 2, 0, 0);
        assert_int_equal(io_plugin_apply(f->w, &gone, &dev, 1, 2 * MIB, &c), 0);
        assert_counts(&c, 1, 0, 0);

        assert_int_equal(cpu_plugin_apply(f->w, &bad, 2000, NULL, &c), -EPERM);
        assert_counts(&c, 0, 1, 1);
        assert_int_equal(memory_plugin_apply(f->w, &bad, 4 * GIB, NULL, &c), -EPERM);
        assert_counts(&c, 2, 0, 2);
        assert_knob(f, l->memory, POD, "memory.limit_in_bytes", "2415919104");
        assert_int_equal(io_plugin_apply(f->w, &bad, &dev, 1, 2 * MIB, &c), -EPERM);
        assert_counts(&c, 0, 1, 1);
        assert_others_untouched(f, l);
}

static void assert_memory(const Fixture *f, const LayoutFiles *l, const char *cgroup, const char *high,
                          const char *max) {
        assert_knob(f, l->memory, cgroup, l->v2 ? "memory.high" : "memory.soft_limit_in_bytes", high);
        assert_knob(f, l->memory, cgroup, l->v2 ? "memory.max" : "memory.limit_in_bytes", max);
}

static void test_memory(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                const LayoutFiles *l = &layouts[i];
                Fixture *f = next_fixture(state, l);
                /* batch.slice/x holds 3 GiB that reclaim cannot free. */
                const uint64_t floors[] = { 0, 3 * GIB };
                PluginApplyCounts c;

                /* 4 GiB: 2 GiB each, max an eighth above; the floor wins. */
                assert_int_equal(memory_plugin_apply(f->w, &be, 4 * GIB, floors, &c), 0);
                assert_counts(&c, 4, 0, 0);
                assert_memory(f, l, POD, "2147483648", "2415919104");
                assert_memory(f, l, BATCH, "3221225472", "3623878656");
                /* Members hold no memory limit of their own. */
                assert_memory(f, l, CONTAINER, "", "");
                assert_others_untouched(f, l);

                assert_int_equal(memory_plugin_apply(f->w, &be, 4 * GIB, floors, &c), 0);
                assert_counts(&c, 0, 4, 0);
                assert_int_equal(memory_plugin_apply(f->w, &be, 4 * GIB, NULL, &c), 0);
                assert_counts(&c, 2, 2, 0);
                assert_memory(f, l, BATCH, "2147483648", "2415919104");

                /* No budget: no limit, whatever the floors. */
                assert_int_equal(memory_plugin_apply(f->w, &be, -1, floors, &c), 0);
                assert_counts(&c, 4, 0, 0);
                assert_memory(f, l, POD, l->v2 ? "max" : "-1", l->v2 ? "max" : "-1");
                assert_memory(f, l, BATCH, l->v2 ? "max" : "-1", l->v2 ? "max" : "-1");
        }
}

static void assert_io(const Fixture *f, const LayoutFiles *l, const char *cgroup, const char *v2, const char *v1_bps) {
        if (l->v2) {
                assert_knob(f, l->blkio, cgroup, "io.max", v2);
                return;
        }
        assert_knob(f, l->blkio, cgroup, "blkio.throttle.read_bps_device", v1_bps);
        assert_knob(f, l->blkio, cgroup, "blkio.throttle.write_bps_device", v1_bps);
        assert_knob(f, l->blkio, cgroup, "blkio.throttle.read_iops_device", *v1_bps ? "254:0 0" : "");
        assert_knob(f, l->blkio, cgroup, "blkio.throttle.write_iops_device", *v1_bps ? "254:0 0" : "");
}

static void test_io(void **state) {
        /* A fixture file holds the last device's line only (no per-device
         * lines as in the kernel): the last device is checked. */
        const BlockDevice devices[] = { { 8, 0, "sda" }, { 254, 0, "vda" } };

        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                const LayoutFiles *l = &layouts[i];
                Fixture *f = next_fixture(state, l);
                PluginApplyCounts c;

                /* 10 MiB/s: 5 MiB/s each, read and write, on every device. */
                assert_int_equal(io_plugin_apply(f->w, &be, devices, ELEMENTSOF(devices), 10 * MIB, &c), 0);
                assert_counts(&c, 4, 0, 0);
                assert_io(f, l, POD, "254:0 rbps=5242880 wbps=5242880 riops=max wiops=max", "254:0 5242880");
                assert_io(f, l, BATCH, "254:0 rbps=5242880 wbps=5242880 riops=max wiops=max", "254:0 5242880");
                assert_io(f, l, CONTAINER, "", "");
                assert_others_untouched(f, l);
                assert_int_equal(io_plugin_apply(f->w, &be, devices, ELEMENTSOF(devices), 10 * MIB, &c), 0);
                assert_counts(&c, 0, 4, 0);

                /* A trickle would be no limit at all (0) or stall the
                 * journal: the minimum. */
                assert_int_equal(io_plugin_apply(f->w, &be, devices, ELEMENTSOF(devices), 100, &c), 0);
                assert_counts(&c, 4, 0, 0);
                assert_io(f, l, POD, "254:0 rbps=1048576 wbps=1048576 riops=max wiops=max", "254:0 1048576");

                assert_int_equal(io_plugin_apply(f->w, &be, devices, ELEMENTSOF(devices), -1, &c), 0);
                assert_counts(&c, 4, 0, 0);
                assert_io(f, l, BATCH, "254:0 rbps=max wbps=max riops=max wiops=max", "254:0 0");

                assert_int_equal(io_plugin_apply(f->w, &be, NULL, 0, 10 * MIB, &c), 0);
                assert_counts(&c, 0, 0, 0);
        }
}

/* No group (nothing reclaimed): nothing written, nothing failed. */
static void test_empty(void **state) {
        Fixture *f = next_fixture(state, &layouts[0]);
        const BestEffortCgroups none = {};
        PluginApplyCounts c;

        assert_int_equal(cpu_plugin_apply(f->w, &none, 1000, "0", &c), 0);
        assert_counts(&c, 0, 0, 0);
        assert_int_equal(memory_plugin_apply(f->w, &none, GIB, NULL, &c), 0);
        assert_counts(&c, 0, 0, 0);
        assert_all_empty(f);
        assert_int_equal(cpu_plugin_apply(f->w, NULL, 1000, NULL, &c), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cpu, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cpu_no_idle, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cpuset_order, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_vanished_and_refused, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_memory, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_io, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_empty, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
