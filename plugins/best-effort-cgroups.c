/* SPDX-License-Identifier: Apache-2.0 */
#include "best-effort-cgroups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* By whole components: the tier "kubepods/besteffort" holds
 * "kubepods/besteffort/podX", not "kubepods/besteffort-other". */
static bool at_or_below(const char *path, const char *dir) {
        size_t n = strlen(dir);

        return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static bool usage_seen(const ResourceUsage *u) {
        return u->has_cpu || u->has_memory || u->has_io || u->has_psi;
}

static int push(char ***array, size_t *n, const char *s) {
        char **a;
        char *copy = strdup(s);

        if (!copy)
                return -ENOMEM;
        a = reallocarray(*array, *n + 1, sizeof(char *));
        if (!a) {
                free(copy);
                return -ENOMEM;
        }
        a[(*n)++] = copy;
        *array = a;
        return 0;
}

/* The besteffort tier cgroup if the budgets may go to it: it exists (the
 * sampler read it, or a workload lies in it) and holds nothing but
 * reclaimed_cores workloads. A BestEffort pod annotated shared_cores also
 * lives there: a limit on the tier would throttle it, and latency-sensitive
 * cgroups are never throttled, so then each reclaimed pod in the tier
 * holds its own share instead. Returns 0 (*ret NULL: no tier), -ENOMEM. */
static int usable_tier(const NodeSnapshot *s, const char *kube_root, char **ret) {
        _cleanup_free_ char *tier = NULL;
        bool exists;

        *ret = NULL;
        /* AUTO: the registry has not seen kubepods, whose name says the driver. */
        if (!kube_root || (s->driver != CGROUP_DRIVER_SYSTEMD && s->driver != CGROUP_DRIVER_CGROUPFS))
                return 0;
        if (asprintf(&tier, "%s/%s", kube_root, kube_tier_dir(s->driver, KUBE_TIER_BESTEFFORT)) < 0)
                return -ENOMEM;

        exists = usage_seen(&s->kube_tiers[KUBE_TIER_BESTEFFORT]);
        for (size_t i = 0; i < s->n_workloads; i++) {
                const WorkloadSnapshot *w = &s->workloads[i];

                if (!w->cgroup || !at_or_below(w->cgroup, tier))
                        continue;
                if (w->qos_class != QOS_CLASS_RECLAIMED_CORES)
                        return 0;
                exists = true;
        }
        if (exists)
                *ret = TAKE_PTR(tier);
        return 0;
}

int best_effort_cgroups_from_snapshot(const NodeSnapshot *s, const char *kube_root, BestEffortCgroups *ret) {
        _cleanup_(best_effort_cgroups_done) BestEffortCgroups be = {};
        _cleanup_free_ char *tier = NULL;
        int r;

        r = usable_tier(s, kube_root, &tier);
        if (r < 0)
                return r;
        if (tier) {
                r = push(&be.groups, &be.n_groups, tier);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < s->n_workloads; i++) {
                const WorkloadSnapshot *w = &s->workloads[i];

                if (w->qos_class != QOS_CLASS_RECLAIMED_CORES || !w->cgroup)
                        continue;
                if (!tier || !at_or_below(w->cgroup, tier)) {
                        r = push(&be.groups, &be.n_groups, w->cgroup);
                        if (r < 0)
                                return r;
                }
                r = push(&be.members, &be.n_members, w->cgroup);
                if (r < 0)
                        return r;
                for (size_t c = 0; c < w->n_containers; c++) {
                        if (!w->containers[c].cgroup)
                                continue;
                        r = push(&be.members, &be.n_members, w->containers[c].cgroup);
                        if (r < 0)
                                return r;
                }
        }

        *ret = be;
        be = (BestEffortCgroups) {};
        return 0;
}

void best_effort_cgroups_done(BestEffortCgroups *be) {
        if (!be)
                return;
        for (size_t i = 0; i < be->n_groups; i++)
                free(be->groups[i]);
        free(be->groups);
        for (size_t i = 0; i < be->n_members; i++)
                free(be->members[i]);
        free(be->members);
        *be = (BestEffortCgroups) {};
}
