/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where the cgroup controllers are: pure cgroup v2, pure v1, or systemd's
 * hybrid (v1 controllers, plus a controller-less v2 tree that still has the
 * per-cgroup pressure files). Read from /proc/self/mountinfo. */

#include <stdbool.h>
#include <stddef.h>

typedef enum CgroupMode {
        CGROUP_MODE_V1,
        CGROUP_MODE_V2,
        CGROUP_MODE_HYBRID,
        _CGROUP_MODE_MAX,
} CgroupMode;

/* The controllers the agent reads or writes. On v2, CGROUP_CONTROLLER_BLKIO
 * stands for "io", and CPUACCT for what "cpu" accounts (cpu.stat). */
typedef enum CgroupController {
        CGROUP_CONTROLLER_CPU,
        CGROUP_CONTROLLER_CPUACCT,
        CGROUP_CONTROLLER_CPUSET,
        CGROUP_CONTROLLER_MEMORY,
        CGROUP_CONTROLLER_BLKIO,
        _CGROUP_CONTROLLER_MAX,
} CgroupController;

typedef struct CgroupLayout {
        CgroupMode mode;
        /* Mount point of the hierarchy holding each controller: a v1
         * hierarchy, or the unified mount on v2. NULL: not available. */
        char *controller_mount[_CGROUP_CONTROLLER_MAX];
        /* The cgroup2 mount (v2: everything; hybrid: pressure files only). */
        char *unified_mount;
        /* The v1 freezer hierarchy: how a v1 cgroup's processes are stopped
         * before they are killed (plugins/evict.h). NULL on v2 or when it
         * is not mounted. */
        char *freezer_mount;
} CgroupLayout;

/* "v1", "v2", "hybrid". */
const char *cgroup_mode_to_string(CgroupMode m);
/* v1 names: "cpu", "cpuacct", "cpuset", "memory", "blkio". */
const char *cgroup_controller_to_string(CgroupController c);

/* Parses mountinfo text (the format of /proc/self/mountinfo). Mounts outside
 * mount_root (e.g. "/sys/fs/cgroup") are ignored, so a fixture tree's own
 * mountinfo works the same way. v2 controllers are those listed in the
 * unified root's cgroup.controllers (read from the tree). Returns 0;
 * -ENOMEDIUM if no cgroup hierarchy was found; -EOPNOTSUPP if cpu or memory
 * has no hierarchy (*ret_missing names it); -ENOMEM. */
int cgroup_layout_parse(const char *mountinfo, const char *mount_root, CgroupLayout *ret,
                        const char **ret_missing);

/* The same, reading the file at mountinfo_path. */
int cgroup_layout_detect(const char *mountinfo_path, const char *mount_root, CgroupLayout *ret,
                         const char **ret_missing);

void cgroup_layout_done(CgroupLayout *l);

/* The hierarchy that pod discovery walks: unified on v2, cpu on v1/hybrid. */
const char *cgroup_layout_primary_mount(const CgroupLayout *l);

/* Where a cgroup's pressure files are (v2 and hybrid), NULL on pure v1. */
static inline const char *cgroup_layout_pressure_mount(const CgroupLayout *l) {
        return l->mode == CGROUP_MODE_V1 ? NULL : l->unified_mount;
}
