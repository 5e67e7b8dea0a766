/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A throwaway cgroup tree for tests and benchmarks on the real kernel: a
 * directory <prefix>-<pid> at the root of every hierarchy of a CgroupLayout,
 * whose cgroups are made, filled and removed in all hierarchies at once.
 * Trees left behind by a test that crashed are swept by the next one.
 *
 * No cmocka here (the benchmark links this too): functions return 0 or
 * -errno and the caller asserts. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "qos/cgroup-layout.h"

/* The prefixes the sweep recognises: "nodeqos-test-<what>" for tests,
 * exactly "nodeqos-bench" for benchmarks. */
#define CGROUP_TEST_PREFIX "nodeqos-test-"
#define CGROUP_BENCH_PREFIX "nodeqos-bench"

typedef enum CgroupTestTreeFlags {
        /* Also the v1 cpuset hierarchy, left out by default: a v1 cpuset
         * child takes no task before its cpus and mems are set. */
        CGROUP_TEST_TREE_CPUSET = 1 << 0,
        /* Only hierarchies that hold controllers: not hybrid's
         * controller-less unified tree (on v2 it holds them all). */
        CGROUP_TEST_TREE_CONTROLLERS_ONLY = 1 << 1,
        /* Also the v1 freezer hierarchy (eviction tests). */
        CGROUP_TEST_TREE_FREEZER = 1 << 2,
} CgroupTestTreeFlags;

/* The controllers' hierarchies, the unified one, the freezer. */
#define CGROUP_TEST_TREE_MOUNTS_MAX (_CGROUP_CONTROLLER_MAX + 2)

typedef struct CgroupTestTree {
        char name[64];                             /* <prefix>-<pid>, relative to each hierarchy's root */
        char *mounts[CGROUP_TEST_TREE_MOUNTS_MAX]; /* each hierarchy once (copies: the layout may go first) */
        size_t n_mounts;
} CgroupTestTree;

/* Sweeps leftovers (cgroup_test_sweep()), then creates <prefix>-<pid> in
 * every hierarchy of layout that flags select: the controllers' mounts and
 * the unified one, each once. prefix must start with CGROUP_TEST_PREFIX or
 * be CGROUP_BENCH_PREFIX. A tree of the same name already there can only
 * be a dead process's that had our pid: it is replaced. Returns 0 (*ret
 * set), -EINVAL for another prefix, -ENOMEDIUM if the layout has no
 * hierarchy, -ENOMEM, or the -errno of mkdir (nothing is left behind). */
int cgroup_test_tree_new(const CgroupLayout *layout, const char *prefix, CgroupTestTreeFlags flags,
                         CgroupTestTree *ret);

/* Removes the whole tree from every hierarchy, bottom-up, and zeroes t, so a
 * teardown may call it whatever happened before (a zeroed t is left alone).
 * Returns 0 or the first -errno (everything else is still removed). */
int cgroup_test_tree_done(CgroupTestTree *t);

/* Creates rel (relative to the tree's root, parents included) in every
 * hierarchy; those already there are fine. Returns 0 or -errno. */
int cgroup_test_tree_mkdir(const CgroupTestTree *t, const char *rel);

/* Removes rel and everything below it from every hierarchy, bottom-up,
 * waiting a moment for cgroups a task just left; rel "" removes the whole
 * tree, whose name stays in t. Not there: fine. Returns 0 or the first
 * -errno. */
int cgroup_test_tree_remove(const CgroupTestTree *t, const char *rel);

/* Writes value to mount/<tree>/rel/file (rel "" is the tree's root) of one
 * hierarchy, in one write(), as the kernel wants. Returns 0 or -errno. */
int cgroup_test_tree_write(const CgroupTestTree *t, const char *mount, const char *rel, const char *file,
                           const char *value);

/* Moves pid into rel in every hierarchy of the tree. Returns 0 or -errno. */
int cgroup_test_tree_move(const CgroupTestTree *t, const char *rel, pid_t pid);

/* Removes, at the root of every hierarchy of layout, the trees whose owner is
 * gone: nodeqos-test-<what>-<pid> and nodeqos-bench-<pid> where process <pid>
 * (of this pid namespace) no longer exists or is a zombie. Returns how many
 * were removed, or the first -errno (the others are still tried). */
int cgroup_test_sweep(const CgroupLayout *layout);
