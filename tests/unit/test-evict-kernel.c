/* SPDX-License-Identifier: Apache-2.0 */
/* Eviction on this machine's real (hybrid) kernel: `sleep` processes in a
 * throwaway cgroup and a child cgroup of it are killed through the v1
 * freezer and through cgroup.kill on the unified tree, and each is seen
 * to die of SIGKILL; a cgroup outside the managed roots is refused and its
 * processes live on. Everything made here is killed and removed. */

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "plugins/evict.h"
#include "qos/cgroup-layout.h"
#include "tests/lib/cgroup-test-tree.h"
#include "tests/lib/test-fs.h"

#define MAX_CHILDREN 8

typedef struct Kernel {
        CgroupTestTree tree; /* nodeqos-test-evict-<pid> */
        CgroupLayout layout;
        CgroupLayout v1;     /* the same without the unified tree: the freezer path */
        char job[96], sub[128], outside[96];
        pid_t pids[MAX_CHILDREN];
        size_t n_pids;
} Kernel;

static int kernel_teardown(void **state) {
        Kernel *k = *state;

        if (!k)
                return 0;
        /* Whatever a failed test left alive: killed and reaped before its
         * cgroups are removed. */
        for (size_t i = 0; i < k->n_pids; i++)
                if (k->pids[i] > 0) {
                        (void) kill(k->pids[i], SIGKILL);
                        (void) waitpid(k->pids[i], NULL, 0);
                }
        (void) cgroup_test_tree_done(&k->tree);
        cgroup_layout_done(&k->layout);
        free(k);
        return 0;
}

static int kernel_setup(void **state) {
        Kernel *k = calloc(1, sizeof(*k));
        int r;

        if (!k)
                return -1;
        *state = k;
        r = cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &k->layout, NULL);
        if (r >= 0)
                r = cgroup_test_tree_new(&k->layout, CGROUP_TEST_PREFIX "evict", CGROUP_TEST_TREE_FREEZER, &k->tree);
        if (r >= 0)
                r = cgroup_test_tree_mkdir(&k->tree, "job/sub");
        if (r >= 0)
                r = cgroup_test_tree_mkdir(&k->tree, "outside");
        if (r < 0) {
                print_error("setting up nodeqos-test-evict-%d: %s\n", (int) getpid(), strerror(-r));
                (void) kernel_teardown(state);
                *state = NULL;
                return -1;
        }
        k->v1 = k->layout;
        k->v1.mode = CGROUP_MODE_V1;
        k->v1.unified_mount = NULL;
        (void) snprintf(k->job, sizeof(k->job), "%s/job", k->tree.name);
        (void) snprintf(k->sub, sizeof(k->sub), "%s/job/sub", k->tree.name);
        (void) snprintf(k->outside, sizeof(k->outside), "%s/outside", k->tree.name);
        return 0;
}

/* A `sleep 1000` moved into rel (relative to the tree) in every hierarchy. */
static pid_t spawn_sleep(Kernel *k, const char *rel) {
        pid_t pid;

        assert_true(k->n_pids < MAX_CHILDREN);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execlp("sleep", "sleep", "1000", (char *) NULL);
                _exit(127);
        }
        k->pids[k->n_pids++] = pid;
        assert_int_equal(cgroup_test_tree_move(&k->tree, rel, pid), 0);
        return pid;
}

/* The processes every kill test kills: two in the job, one in a child. */
static void spawn_job(Kernel *k) {
        (void) spawn_sleep(k, "job");
        (void) spawn_sleep(k, "job");
        (void) spawn_sleep(k, "job/sub");
}

static void assert_killed(Kernel *k, size_t i) {
        int status = 0;

        assert_int_equal(waitpid(k->pids[i], &status, 0), k->pids[i]);
        k->pids[i] = 0;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void assert_alive(const Kernel *k, size_t i) {
        int status = 0;

        assert_int_equal(waitpid(k->pids[i], &status, WNOHANG), 0);
        assert_int_equal(kill(k->pids[i], 0), 0);
}

static const char *freezer_state(const Kernel *k, const char *cgroup) {
        char path[PATH_MAX];
        const char *s;

        (void) snprintf(path, sizeof(path), "%s/%s/freezer.state", k->layout.freezer_mount, cgroup);
        s = test_read_value(path);
        assert_non_null(s);
        return s;
}

static void test_evict_freezer(void **state) {
        Kernel *k = *state;
        char *roots[] = { k->tree.name };
        EvictResult res = {};

        if (!k->layout.freezer_mount) {
                print_message("no v1 freezer hierarchy\n");
                skip();
        }
        spawn_job(k);

        assert_int_equal(evict_cgroup(&k->v1, k->job, roots, 1, &res), 0);
        assert_false(res.used_cgroup_kill);
        assert_int_equal(res.n_killed, 3);
        for (size_t i = 0; i < k->n_pids; i++)
                assert_killed(k, i);
        /* Thawed again: the cgroup takes new tasks (and can be removed). */
        assert_string_equal(freezer_state(k, k->job), "THAWED");
        assert_string_equal(freezer_state(k, k->sub), "THAWED");

        /* Empty now: nothing to kill, still fine. */
        assert_int_equal(evict_cgroup(&k->v1, k->job, roots, 1, &res), 0);
        assert_int_equal(res.n_killed, 0);
}

static void test_evict_cgroup_kill(void **state) {
        Kernel *k = *state;
        char *roots[] = { k->tree.name };
        char path[PATH_MAX];
        EvictResult res = {};

        if (!k->layout.unified_mount) {
                print_message("no unified hierarchy\n");
                skip();
        }
        (void) snprintf(path, sizeof(path), "%s/%s/cgroup.kill", k->layout.unified_mount, k->job);
        if (access(path, F_OK) < 0) {
                print_message("no cgroup.kill (kernel < 5.14)\n");
                skip();
        }
        spawn_job(k);

        assert_int_equal(evict_cgroup(&k->layout, k->job, roots, 1, &res), 0);
        assert_true(res.used_cgroup_kill);
        assert_int_equal(res.n_killed, 0);
        for (size_t i = 0; i < k->n_pids; i++)
                assert_killed(k, i);
}

static void test_evict_refused(void **state) {
        Kernel *k = *state;
        char *roots[] = { k->job };
        char escape[PATH_MAX], absolute[PATH_MAX];
        const CgroupLayout *layouts[] = { &k->layout, &k->v1 };
        EvictResult res = { .n_killed = 42 };

        (void) spawn_sleep(k, "outside");
        (void) spawn_sleep(k, "outside");
        (void) snprintf(escape, sizeof(escape), "%s/../outside", k->job);
        (void) snprintf(absolute, sizeof(absolute), "/%s", k->outside);

        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                assert_int_equal(evict_cgroup(layouts[i], k->outside, roots, 1, &res), -EPERM);
                assert_int_equal(evict_cgroup(layouts[i], escape, roots, 1, &res), -EPERM);
                assert_int_equal(evict_cgroup(layouts[i], absolute, roots, 1, &res), -EPERM);
                assert_int_equal(evict_cgroup(layouts[i], k->tree.name, roots, 1, &res), -EPERM);
                assert_int_equal(evict_cgroup(layouts[i], k->outside, NULL, 0, &res), -EPERM);
        }
        /* Nothing was written: untouched result, processes alive, the
         * freezer never asked. */
        assert_int_equal(res.n_killed, 42);
        for (size_t i = 0; i < k->n_pids; i++)
                assert_alive(k, i);
        if (k->layout.freezer_mount)
                assert_string_equal(freezer_state(k, k->outside), "THAWED");
}

static void test_evict_gone(void **state) {
        Kernel *k = *state;
        char *roots[] = { k->tree.name };
        char gone[PATH_MAX];
        CgroupLayout v2 = k->layout, none = k->layout;

        (void) snprintf(gone, sizeof(gone), "%s/gone", k->job);
        assert_int_equal(evict_cgroup(&k->layout, gone, roots, 1, NULL), -ENOENT);
        if (k->layout.freezer_mount)
                assert_int_equal(evict_cgroup(&k->v1, gone, roots, 1, NULL), -ENOENT);
        /* Pure v2 has no freezer to fall back on. */
        v2.mode = CGROUP_MODE_V2;
        v2.freezer_mount = NULL;
        if (v2.unified_mount)
                assert_int_equal(evict_cgroup(&v2, gone, roots, 1, NULL), -ENOENT);
        /* Neither cgroup.kill nor a freezer: nothing can kill. */
        none.unified_mount = NULL;
        none.freezer_mount = NULL;
        assert_int_equal(evict_cgroup(&none, k->job, roots, 1, NULL), -EOPNOTSUPP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_evict_freezer, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_evict_cgroup_kill, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_evict_refused, kernel_setup, kernel_teardown),
                cmocka_unit_test_setup_teardown(test_evict_gone, kernel_setup, kernel_teardown),
        };

        if (access("/sys/fs/cgroup/freezer", F_OK) < 0 && access("/sys/fs/cgroup/unified", F_OK) < 0) {
                print_message("neither a v1 freezer nor a unified hierarchy: skipped\n");
                return 77;
        }
        return cmocka_run_group_tests_name("evict", tests, NULL, NULL);
}
