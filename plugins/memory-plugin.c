/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>

#include "agent/macro.h"
#include "plugins/budget-plugins.h"
#include "plugins/plugin-apply.h"

/* memory.max sits this fraction above memory.high: the room in which
 * reclaim throttles a growing group before the OOM killer is the answer. */
#define MEMORY_MAX_HEADROOM_DIVISOR 8

/* floor may exceed INT64_MAX only in a corrupt snapshot: then no limit. */
static int64_t high_of(int64_t share, uint64_t floor) {
        if (floor > (uint64_t) INT64_MAX)
                return -1;
        return MAX(share, (int64_t) floor);
}

static int64_t max_of(int64_t high) {
        if (high < 0)
                return -1;
        if (high > INT64_MAX - high / MEMORY_MAX_HEADROOM_DIVISOR)
                return INT64_MAX;
        return high + high / MEMORY_MAX_HEADROOM_DIVISOR;
}

int memory_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, int64_t budget_bytes, const uint64_t *floors,
                        PluginApplyCounts *counts) {
        PluginApplyCounts local;
        int first_error = 0;
        int64_t share;

        if (!counts)
                counts = &local;
        *counts = (PluginApplyCounts) {};
        if (!w || !be)
                return -EINVAL;
        if (be->n_groups == 0)
                return 0;

        share = budget_bytes < 0 ? -1 : plugin_budget_share(budget_bytes, be->n_groups);
        for (size_t i = 0; i < be->n_groups; i++) {
                int64_t high = share < 0 ? -1 : high_of(share, floors ? floors[i] : 0);

                /* Independent files to the kernel (v1 soft and hard
                 * limits, v2 high and max): any order is accepted. */
                plugin_apply_count(counts, cgroup_set_memory_high(w, be->groups[i], high), &first_error);
                plugin_apply_count(counts, cgroup_set_memory_max(w, be->groups[i], max_of(high)), &first_error);
        }
        return first_error;
}
