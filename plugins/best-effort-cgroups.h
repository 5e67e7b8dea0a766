/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where the best-effort budgets go, derived from a snapshot:
 *   groups   the cgroups that hold a share of each budget: the kubelet's
 *            besteffort tier cgroup (kubepods/besteffort) when it exists
 *            (the sampler read it, or a workload lies in it) and holds no
 *            workload of another class (a BestEffort pod annotated
 *            shared_cores: a limit on the tier would throttle it), plus
 *            every reclaimed_cores workload that does not lie below it (a
 *            Burstable pod annotated reclaimed_cores, a batch.slice
 *            matched by a rule). A budget is split evenly between them.
 *   members  every reclaimed_cores workload cgroup and its containers: they
 *            get the minimum CPU weight, cpu.idle and the reclaimed cpuset.
 * Never a cgroup of another class. Pure; paths relative to the hierarchy
 * roots, owned by the struct. */

#include <stddef.h>

#include "qos/snapshot.h"

typedef struct BestEffortCgroups {
        char **groups;
        size_t n_groups;
        char **members;
        size_t n_members;
} BestEffortCgroups;

/* kube_root: the registry's kubepods cgroup, NULL when there is none.
 * Returns 0 or -ENOMEM. */
int best_effort_cgroups_from_snapshot(const NodeSnapshot *s, const char *kube_root, BestEffortCgroups *ret);
void best_effort_cgroups_done(BestEffortCgroups *be);
