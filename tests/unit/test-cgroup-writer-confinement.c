/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup writer confined to its managed roots, on fixture trees: every
 * path that leaves them refused, textually and by symlink or mount, before
 * anything is written. Which string lands in which file:
 * test-cgroup-writer.c; the real kernel: test-cgroup-writer-kernel.c. */

#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "cgroup-writer-fixture.h"
#include "plugins/cgroup-writer.h"
#include "tests/lib/test-fs.h"

static const IoLimits io_some = { .read_bps = 1048576, .write_iops = 100 };


static void test_path_check(void **state) {
        static const struct {
                const char *cgroup;
                int expected;
        } cases[] = {
                { "kubepods.slice", 0 },
                { "kubepods.slice/pod1", 0 },
                { "kubepods.slice/pod1/c1", 0 },
                { "batch.slice/x", 0 },
                { "kubepods.slice/..x", 0 }, /* a name, not ".." */
                { "kubepods.slice/.hidden", 0 },
                { "../x", -EPERM },
                { "kubepods.slice/../../etc", -EPERM },
                { "kubepods.slice/..", -EPERM },
                { "kubepods.slice/pod1/../../system.slice/x", -EPERM },
                { "/abs", -EPERM },
                { "/kubepods.slice/pod1", -EPERM },
                { "kubepods.slice-evil/x", -EPERM },
                { "kubepods.slice-evil", -EPERM },
                { "kubepods", -EPERM },
                { "", -EPERM },
                { "kubepods.slice//x", -EPERM },
                { "kubepods.slice/./x", -EPERM },
                { "kubepods.slice/", -EPERM },
                { "./kubepods.slice", -EPERM },
                { ".", -EPERM },
                { "..", -EPERM },
                { "system.slice/x", -EPERM },
                { "batch.slice.d/x", -EPERM },
                { NULL, -EPERM },
        };
        char *const bad_roots[] = { "", "/", "..", "kubepods.slice/" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (cgroup_path_check_managed(cases[i].cgroup, managed, ELEMENTSOF(managed)) != cases[i].expected)
                        fail_msg("'%s': expected %d", strna(cases[i].cgroup), cases[i].expected);

        /* Unclean roots admit nothing. */
        for (size_t i = 0; i < ELEMENTSOF(bad_roots); i++) {
                assert_int_equal(cgroup_path_check_managed("kubepods.slice/pod1", &bad_roots[i], 1), -EPERM);
                assert_int_equal(cgroup_path_check_managed("x", &bad_roots[i], 1), -EPERM);
        }
        assert_int_equal(cgroup_path_check_managed("kubepods.slice", NULL, 0), -EPERM);
}

static void test_refusals(void **state) {
        static const char *const bad[] = {
                "../x",
                "kubepods.slice/../../etc",
                "kubepods.slice/../system.slice/x",
                "/abs",
                "/kubepods.slice/pod1",
                "kubepods.slice-evil/x",
                "",
                "kubepods.slice//pod1",
                "kubepods.slice/./pod1",
                "kubepods.slice/pod1/..",
                "system.slice/x",
                NULL,
        };
        Fixture *f = *state = fixture_new(FIXTURE_V2);
        CgroupWriterStats st;
        uint64_t refusals = 0;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(cgroup_path_check_managed(bad[i], managed, ELEMENTSOF(managed)), -EPERM);
                /* Every setter refuses, before any other check. */
                assert_int_equal(cgroup_set_cpu_quota(f->w, bad[i], 50000, 100000), -EPERM);
                assert_int_equal(cgroup_set_cpu_weight(f->w, bad[i], 100), -EPERM);
                assert_int_equal(cgroup_set_cpu_idle(f->w, bad[i], true), -EPERM);
                assert_int_equal(cgroup_set_cpuset_cpus(f->w, bad[i], "0"), -EPERM);
                assert_int_equal(cgroup_set_cpuset_mems(f->w, bad[i], "0"), -EPERM);
                assert_int_equal(cgroup_set_memory_high(f->w, bad[i], 4096), -EPERM);
                assert_int_equal(cgroup_set_memory_max(f->w, bad[i], 4096), -EPERM);
                assert_int_equal(cgroup_set_io_max(f->w, bad[i], 254, 0, &io_some), -EPERM);
                assert_int_equal(cgroup_set_io_weight(f->w, bad[i], 100), -EPERM);
                refusals += 9;
        }
        assert_all_empty(f);
        st = cgroup_writer_stats(f->w);
        assert_int_equal(st.refused, refusals);
        assert_int_equal(st.written, 0);
        assert_int_equal(st.failed, 0);
}

/* Symlinks planted inside a managed root: whether they lead out or stay
 * inside, openat2 refuses them and nothing is written anywhere. */
static void test_symlinks(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V2);
        char target[PATH_MAX];
        CgroupWriterStats st;

        (void) snprintf(target, sizeof(target), "%s", fixture_path(f, "outside", NULL));
        /* a cgroup that is a symlink out, absolute and relative */
        assert_int_equal(symlink(target, fixture_path(f, "unified", "kubepods.slice/evil")), 0);
        assert_int_equal(symlink("../../outside", fixture_path(f, "unified", "kubepods.slice/up")), 0);
        /* a symlink that stays inside */
        assert_int_equal(symlink("pod1", fixture_path(f, "unified", "kubepods.slice/alias")), 0);
        /* a knob file that is a symlink out */
        make_dirs(fixture_path(f, "unified", "kubepods.slice/pod2"));
        (void) snprintf(target, sizeof(target), "%s", fixture_path(f, "outside", "cpu.weight"));
        assert_int_equal(symlink(target, fixture_path(f, "unified", "kubepods.slice/pod2/cpu.weight")), 0);
        /* a managed root that is itself a symlink out */
        assert_int_equal(test_remove_tree(fixture_path(f, "unified", "batch.slice")), 0);
        (void) snprintf(target, sizeof(target), "%s", fixture_path(f, "outside", NULL));
        assert_int_equal(symlink(target, fixture_path(f, "unified", "batch.slice")), 0);

        assert_int_equal(cgroup_path_check_managed("kubepods.slice/evil", managed, ELEMENTSOF(managed)), 0);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/evil", 100), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/up", 100), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/alias", 100), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "kubepods.slice/pod2", 100), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "batch.slice", 100), -EPERM);
        assert_int_equal(cgroup_set_cpu_weight(f->w, "batch.slice/x", 100), -EPERM);
        assert_all_empty(f);

        st = cgroup_writer_stats(f->w);
        assert_int_equal(st.refused, 6);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.written, 0);
}

/* A mount inside a managed root (a bind mount could lead anywhere) is not
 * crossed. Done in a child with its own mount namespace, so the host never
 * sees the mount. */
static void test_mount_crossing(void **state) {
        Fixture *f = *state = fixture_new(FIXTURE_V2);
        char pod1[PATH_MAX];
        int status;
        pid_t pid;

        (void) snprintf(pod1, sizeof(pod1), "%s", fixture_path(f, "unified", "kubepods.slice/pod1"));
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                CgroupWriter *w = NULL;
                char file[PATH_MAX + 16];
                const char *got;

                if (unshare(CLONE_NEWNS) < 0)
                        _exit(77);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", pod1, "tmpfs", 0, "size=64k") < 0)
                        _exit(2);
                (void) snprintf(file, sizeof(file), "%s/cpu.weight", pod1);
                write_file(file, "");
                /* Opened after the mount, so the lookup sees it. */
                if (cgroup_writer_new(&f->layout, managed, ELEMENTSOF(managed), &w) < 0)
                        _exit(3);
                if (cgroup_set_cpu_weight(w, "kubepods.slice/pod1", 100) != -EPERM)
                        _exit(4);
                if (cgroup_set_cpu_weight(w, "kubepods.slice/pod1/c1", 100) != -EPERM)
                        _exit(5);
                got = test_read_file(file);
                if (!got || *got)
                        _exit(6);
                if (cgroup_writer_stats(w).refused != 2)
                        _exit(7);
                /* Next to the mount, writes still work. */
                if (cgroup_set_cpu_weight(w, "kubepods.slice/pod12", 100) != 1)
                        _exit(8);
                cgroup_writer_free(w);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip(); /* no CAP_SYS_ADMIN */
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_check),
                cmocka_unit_test_setup_teardown(test_refusals, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_symlinks, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_mount_crossing, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests_name("fixtures", tests, NULL, NULL);
}
