/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"
#include "plugins/budget-plugins.h"
#include "plugins/cpu-topology.h"
#include "plugins/plugin-apply.h"

/* The kernel refuses CFS quotas below 1 ms. */
#define CPU_QUOTA_MIN_USEC 1000
/* No node has more CPUs than the kernel is built for: a larger share is
 * no limit in effect, and clamping it keeps the quota's arithmetic far
 * from overflow. */
#define CPU_SHARE_MAX_MILLICORES ((int64_t) CPU_MASK_MAX * 1000)
/* The lowest cpu.weight: v1 shares 2, where cpu.idle is missing. */
#define CPU_MEMBER_WEIGHT 1

static int64_t quota_of(int64_t budget_millicores, size_t n_groups) {
        int64_t share;

        if (budget_millicores < 0)
                return -1;
        share = MIN(plugin_budget_share(budget_millicores, n_groups), CPU_SHARE_MAX_MILLICORES);
        return MAX(share * CPU_PLUGIN_PERIOD_USEC / 1000, (int64_t) CPU_QUOTA_MIN_USEC);
}

/* cpu.idle puts a member's tasks behind every non-idle task on the CPU
 * (SCHED_IDLE for the group), which a weight alone does not. Kernels
 * before 5.15 lack it on v1: the lowest weight is the next best. The
 * weight is not written where idle took: the kernel refuses it then. */
static int make_member_idle(CgroupWriter *w, const char *cgroup) {
        int r = cgroup_set_cpu_idle(w, cgroup, true);

        if (r == -EOPNOTSUPP)
                r = cgroup_set_cpu_weight(w, cgroup, CPU_MEMBER_WEIGHT);
        return r;
}

static size_t path_depth(const char *p) {
        size_t d = 0;

        for (; *p; p++)
                d += *p == '/';
        return d;
}

/* Parents before children: by depth, then by name to find duplicates. */
static int compare_top_down(const void *a, const void *b) {
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        size_t dx = path_depth(x), dy = path_depth(y);

        if (dx != dy)
                return dx < dy ? -1 : 1;
        return strcmp(x, y);
}

/* v1 keeps every cpuset within its parent's: a parent may not drop CPUs a
 * child still has (-EBUSY), a child may not take CPUs its parent lacks
 * (-EACCES). A growing pool must be written top-down, a shrinking one
 * bottom-up. Which one it is, the writer's API does not say (it writes,
 * it does not read), so the pool is written top-down, which is right for
 * growth; a parent that refuses with -EBUSY is shrinking: its children
 * take the pool in the same pass (within the parent's old CPUs), and the
 * refused parents are written again bottom-up. On v2 every order works. A
 * pool that gains and loses CPUs at once has no valid order on v1 and
 * fails here: the caller applies the union of the old and new pools
 * first. */
static void apply_cpusets(CgroupWriter *w, const BestEffortCgroups *be, const char *pool, PluginApplyCounts *counts,
                          int *first_error) {
        size_t n = be->n_groups + be->n_members, n_unique = 0, n_refused = 0;
        _cleanup_free_ const char **targets = NULL;
        _cleanup_free_ size_t *refused = NULL;

        if (n == 0)
                return;
        targets = calloc(n, sizeof(char *));
        refused = calloc(n, sizeof(size_t));
        if (!targets || !refused) {
                plugin_apply_count(counts, -ENOMEM, first_error);
                return;
        }
        for (size_t i = 0; i < be->n_groups; i++)
                targets[i] = be->groups[i];
        for (size_t i = 0; i < be->n_members; i++)
                targets[be->n_groups + i] = be->members[i];
        qsort(targets, n, sizeof(char *), compare_top_down);
        /* A reclaimed workload outside the tier is a group and a member:
         * written once. */
        for (size_t i = 0; i < n; i++)
                if (n_unique == 0 || strcmp(targets[n_unique - 1], targets[i]) != 0)
                        targets[n_unique++] = targets[i];

        for (size_t i = 0; i < n_unique; i++) {
                int r = cgroup_set_cpuset_cpus(w, targets[i], pool);

                if (r == -EBUSY)
                        refused[n_refused++] = i;
                else
                        plugin_apply_count(counts, r, first_error);
        }
        while (n_refused > 0)
                plugin_apply_count(counts, cgroup_set_cpuset_cpus(w, targets[refused[--n_refused]], pool),
                                   first_error);
}

int cpu_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, int64_t budget_millicores,
                     const char *reclaimed_pool, PluginApplyCounts *counts) {
        PluginApplyCounts local;
        int first_error = 0;

        if (!counts)
                counts = &local;
        *counts = (PluginApplyCounts) {};
        if (!w || !be)
                return -EINVAL;

        if (be->n_groups > 0) {
                int64_t quota = quota_of(budget_millicores, be->n_groups);

                for (size_t i = 0; i < be->n_groups; i++)
                        plugin_apply_count(counts,
                                           cgroup_set_cpu_quota(w, be->groups[i], quota, CPU_PLUGIN_PERIOD_USEC),
                                           &first_error);
        }
        for (size_t i = 0; i < be->n_members; i++)
                plugin_apply_count(counts, make_member_idle(w, be->members[i]), &first_error);
        if (reclaimed_pool)
                apply_cpusets(w, be, reclaimed_pool, counts, &first_error);
        return first_error;
}
