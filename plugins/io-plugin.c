/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>

#include "agent/macro.h"
#include "plugins/budget-plugins.h"
#include "plugins/plugin-apply.h"

static IoLimits limits_of(int64_t budget_bytes_per_sec, size_t n_groups) {
        int64_t share;

        if (budget_bytes_per_sec < 0)
                return (IoLimits) {}; /* 0: no limit */
        share = MAX(plugin_budget_share(budget_bytes_per_sec, n_groups), (int64_t) IO_PLUGIN_MIN_BYTES_PER_SEC);
        return (IoLimits) { .read_bps = (uint64_t) share, .write_bps = (uint64_t) share };
}

int io_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, const BlockDevice *devices, size_t n_devices,
                    int64_t budget_bytes_per_sec, PluginApplyCounts *counts) {
        PluginApplyCounts local;
        int first_error = 0;
        IoLimits limits;

        if (!counts)
                counts = &local;
        *counts = (PluginApplyCounts) {};
        if (!w || !be || (!devices && n_devices > 0))
                return -EINVAL;
        if (be->n_groups == 0)
                return 0;

        limits = limits_of(budget_bytes_per_sec, be->n_groups);
        for (size_t i = 0; i < be->n_groups; i++)
                for (size_t d = 0; d < n_devices; d++)
                        plugin_apply_count(counts,
                                           cgroup_set_io_max(w, be->groups[i], devices[d].major, devices[d].minor,
                                                             &limits),
                                           &first_error);
        return first_error;
}
