/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Kills every process of a cgroup (the eviction manager's last resort).
 * v2 (or a unified hierarchy holding the cgroup): writes "1" to
 * cgroup.kill. v1, and hybrid where the unified tree lacks the cgroup or
 * cgroup.kill (kernels < 5.14): freezes the cgroup in the v1 freezer
 * hierarchy (freezer.state FROZEN, waited for up to 2 s) so nothing forks
 * away, sends SIGKILL to every pid in cgroup.procs (recursively, children
 * first), thaws it; if freezing did not complete (a task in
 * uninterruptible sleep), a second pass after the thaw kills what forked
 * meanwhile. Returns without waiting for the processes to die. The path is checked against the managed
 * roots and opened confined (openat2 RESOLVE_BENEATH|NO_SYMLINKS) like
 * cgroup-writer. */

#include <stdbool.h>
#include <stddef.h>

#include "qos/cgroup-layout.h"

typedef struct EvictResult {
        unsigned n_killed; /* processes signalled (v1), or 0 with cgroup.kill */
        bool used_cgroup_kill;
} EvictResult;

/* Returns 0; -EPERM outside the managed roots; -ENOENT if the cgroup is
 * gone; -EOPNOTSUPP with neither cgroup.kill nor a freezer; -errno. */
int evict_cgroup(const CgroupLayout *layout, const char *cgroup, char *const *managed_roots, size_t n_managed_roots,
                 EvictResult *ret);
