/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the budget plugins (budget-plugins.h) share: one setter's outcome
 * counted, and a budget split between groups. */

#include <stddef.h>
#include <stdint.h>

#include "plugins/budget-plugins.h"

/* Counts one setter's return value: 1 written, 0 unchanged, -ENOENT (the
 * cgroup went between the snapshot and the write: nothing left to limit)
 * neither, anything else failed, the first such kept in *first_error. */
void plugin_apply_count(PluginApplyCounts *counts, int r, int *first_error);

/* budget / n_groups, rounded down; n_groups > 0. */
static inline int64_t plugin_budget_share(int64_t budget, size_t n_groups) {
        return budget / (int64_t) n_groups;
}
