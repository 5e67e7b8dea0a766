/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Between control.c (decide) and its act stages. */

#include "control.h"

/* The top of the budget range: controllers.R.max, or the capacity for 0. */
double control_budget_max(Resource r, const ControllerConfig *cc, const NodeSnapshot *s);

/* control-apply.c: writes the budgets through the plugins. */
void control_apply(Control *c, const Config *config, NodeModel *model, const char *reclaimed_pool);
void control_writer_drop(Control *c);
/* The managed roots writes and kills are confined to (kubepods and the
 * configured extra roots). Borrowed strings; malloc'd array. */
int control_managed_roots(const Config *config, const NodeModel *model, const char ***ret, size_t *ret_n);

/* control-evict.c: the eviction manager's act stage. */
void control_evict(Control *c, const Config *config, NodeModel *model, bool dry_run, uint64_t now_usec);
