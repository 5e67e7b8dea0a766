/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-writer-fixture.h"

#include <ftw.h>
#include <limits.h>
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
#include "tests/lib/test-fs.h"

/* Every hierarchy directory a fixture has, whatever its layout uses: a write
 * that lands in the wrong one shows up as a non-empty file there. */
static const char *const fixture_hierarchies[] = { "unified", "cpu,cpuacct", "cpuset", "memory", "blkio" };

/* Every knob file of both versions; each fixture cgroup holds all of them,
 * so a write to the wrong file is seen too. */
static const char *const knob_files[] = {
        "cpu.max",
        "cpu.weight",
        "cpu.idle",
        "cpu.cfs_period_us",
        "cpu.cfs_quota_us",
        "cpu.shares",
        "cpuset.cpus",
        "cpuset.mems",
        "memory.high",
        "memory.max",
        "memory.limit_in_bytes",
        "memory.soft_limit_in_bytes",
        "io.max",
        "io.weight",
        "blkio.throttle.read_bps_device",
        "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device",
        "blkio.throttle.write_iops_device",
        "blkio.weight",
        "blkio.bfq.weight",
};

/* The cgroups each hierarchy of a fixture holds. */
static const char *const fixture_cgroups[] = {
        "kubepods.slice/pod1",
        "kubepods.slice/pod12",
        "kubepods.slice/pod1/c1",
        "kubepods.slice-evil/x",
        "system.slice/x",
        "batch.slice/x",
};

void write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

char *fixture_path(const Fixture *f, const char *hierarchy, const char *rest) {
        static char path[PATH_MAX];

        (void) snprintf(path, sizeof(path), "%s/%s%s%s", f->dir, hierarchy, rest ? "/" : "", rest ?: "");
        return path;
}

void make_dirs(const char *path) {
        char buf[PATH_MAX];

        (void) snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        (void) mkdir(buf, 0755);
                        *p = '/';
                }
        (void) mkdir(buf, 0755);
}

static char *mount_of(Fixture *f, const char *hierarchy) {
        char *s = strdup(fixture_path(f, hierarchy, NULL));

        assert_non_null(s);
        return s;
}

static void fixture_layout(Fixture *f, FixtureLayout which) {
        CgroupLayout *l = &f->layout;

        *l = (CgroupLayout) {};
        switch (which) {
        case FIXTURE_V2:
                l->mode = CGROUP_MODE_V2;
                for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                        l->controller_mount[c] = mount_of(f, "unified");
                l->unified_mount = mount_of(f, "unified");
                break;
        case FIXTURE_V1:
        case FIXTURE_HYBRID:
        case FIXTURE_HYBRID_MIXED:
                l->mode = which == FIXTURE_V1 ? CGROUP_MODE_V1 : CGROUP_MODE_HYBRID;
                l->controller_mount[CGROUP_CONTROLLER_CPU] = mount_of(f, "cpu,cpuacct");
                l->controller_mount[CGROUP_CONTROLLER_CPUACCT] = mount_of(f, "cpu,cpuacct");
                l->controller_mount[CGROUP_CONTROLLER_CPUSET] = mount_of(f, "cpuset");
                l->controller_mount[CGROUP_CONTROLLER_MEMORY] = mount_of(f, "memory");
                l->controller_mount[CGROUP_CONTROLLER_BLKIO] = mount_of(f, "blkio");
                if (which != FIXTURE_V1)
                        l->unified_mount = mount_of(f, "unified");
                if (which == FIXTURE_HYBRID_MIXED) {
                        free(l->controller_mount[CGROUP_CONTROLLER_MEMORY]);
                        l->controller_mount[CGROUP_CONTROLLER_MEMORY] = mount_of(f, "unified");
                        free(l->controller_mount[CGROUP_CONTROLLER_BLKIO]);
                        l->controller_mount[CGROUP_CONTROLLER_BLKIO] = NULL;
                }
                break;
        default:
                fail();
        }
}

/* Empties every knob file of every fixture cgroup. */
void fixture_truncate(const Fixture *f) {
        for (size_t h = 0; h < ELEMENTSOF(fixture_hierarchies); h++)
                for (size_t c = 0; c < ELEMENTSOF(fixture_cgroups); c++)
                        for (size_t k = 0; k < ELEMENTSOF(knob_files); k++) {
                                char rest[256];

                                (void) snprintf(rest, sizeof(rest), "%s/%s", fixture_cgroups[c], knob_files[k]);
                                write_file(fixture_path(f, fixture_hierarchies[h], rest), "");
                        }
}

Fixture *fixture_new(FixtureLayout which) {
        Fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        strcpy(f->dir, "/tmp/nodeqos-test-writer-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        for (size_t h = 0; h < ELEMENTSOF(fixture_hierarchies); h++)
                for (size_t c = 0; c < ELEMENTSOF(fixture_cgroups); c++)
                        make_dirs(fixture_path(f, fixture_hierarchies[h], fixture_cgroups[c]));
        make_dirs(fixture_path(f, "outside", NULL));
        write_file(fixture_path(f, "outside", "cpu.weight"), "");
        fixture_truncate(f);
        fixture_layout(f, which);
        assert_int_equal(cgroup_writer_new(&f->layout, managed, ELEMENTSOF(managed), &f->w), 0);
        return f;
}

void fixture_free(Fixture *f) {
        if (!f)
                return;
        cgroup_writer_free(f->w);
        cgroup_layout_done(&f->layout);
        assert_int_equal(test_remove_tree(f->dir), 0);
        free(f);
}

int fixture_setup(void **state) {
        *state = NULL;
        return 0;
}

int fixture_teardown(void **state) {
        fixture_free(*state);
        return 0;
}

/* nftw has no user pointer: the files allowed to be non-empty. */
static char nonempty_allowed[4][PATH_MAX];
static size_t n_nonempty_allowed;
static int nonempty_seen;

void fixture_allow_none(void) {
        n_nonempty_allowed = 0;
}

const char *fixture_allow(const char *path) {
        assert_true(n_nonempty_allowed < ELEMENTSOF(nonempty_allowed));
        (void) snprintf(nonempty_allowed[n_nonempty_allowed], sizeof(nonempty_allowed[0]), "%s", path);
        return nonempty_allowed[n_nonempty_allowed++];
}

void fixture_truncate_allowed(void) {
        for (size_t i = 0; i < n_nonempty_allowed; i++)
                write_file(nonempty_allowed[i], "");
}

static int check_empty(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        if (type != FTW_F || st->st_size == 0)
                return 0;
        for (size_t i = 0; i < n_nonempty_allowed; i++)
                if (strcmp(path, nonempty_allowed[i]) == 0)
                        return 0;
        print_error("unexpected write to %s: '%s'\n", path, strna(test_read_file(path)));
        nonempty_seen++;
        return 0;
}

/* Nothing anywhere in the fixture (outside dir included) was written but
 * the allowed files. */
void assert_empty_but_allowed(const Fixture *f) {
        nonempty_seen = 0;
        assert_int_equal(nftw(f->dir, check_empty, 16, FTW_PHYS), 0);
        assert_int_equal(nonempty_seen, 0);
}

void assert_all_empty(const Fixture *f) {
        fixture_allow_none();
        assert_empty_but_allowed(f);
}
