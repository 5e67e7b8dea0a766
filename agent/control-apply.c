/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control-private.h"
#include "log.h"
#include "macro.h"
#include "plugins/best-effort-cgroups.h"
#include "plugins/budget-plugins.h"
#include "plugins/cgroup-writer.h"

int control_managed_roots(const Config *config, const NodeModel *model, const char ***ret, size_t *ret_n) {
        const char *kube_root = pod_registry_kube_root(model->registry);
        const char **roots = calloc(config->n_cgroup_extra_roots + 1, sizeof(char *));
        size_t n = 0;

        if (!roots)
                return -ENOMEM;
        if (kube_root)
                roots[n++] = kube_root;
        for (size_t i = 0; i < config->n_cgroup_extra_roots; i++)
                roots[n++] = config->cgroup_extra_roots[i];
        *ret = roots;
        *ret_n = n;
        return 0;
}

static void add_write_stats(CgroupWriteStats *sum, const CgroupWriteStats *more) {
        for (int k = 0; k < _CGROUP_KNOB_MAX; k++)
                for (int r = 0; r < _CGROUP_WRITE_RESULT_MAX; r++)
                        sum->calls[k][r] += more->calls[k][r];
}

void control_write_stats(const Control *c, CgroupWriteStats *ret) {
        *ret = c->retired_writes;
        if (c->writer) {
                CgroupWriteStats current;

                cgroup_writer_knob_stats(c->writer, &current);
                add_write_stats(ret, &current);
        }
}

void control_writer_drop(Control *c) {
        /* A new writer remembers nothing: the members get their values again. */
        c->members_applied = false;
        if (c->writer) {
                CgroupWriteStats last;

                cgroup_writer_knob_stats(c->writer, &last);
                add_write_stats(&c->retired_writes, &last);
        }
        cgroup_writer_free(c->writer);
        c->writer = NULL;
        for (size_t i = 0; i < c->n_writer_roots; i++)
                free(c->writer_roots[i]);
        free(c->writer_roots);
        c->writer_roots = NULL;
        c->n_writer_roots = 0;
}

static bool same_roots(const Control *c, const char *const *roots, size_t n) {
        if (n != c->n_writer_roots)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(roots[i], c->writer_roots[i]) != 0)
                        return false;
        return true;
}

/* The writer is made for a set of managed roots; kubepods may appear after
 * the start, and a reload may change the extra roots. */
static CgroupWriter *ensure_writer(Control *c, const Config *config, const NodeModel *model) {
        _cleanup_free_ const char **roots = NULL;
        size_t n = 0;
        int r;

        r = control_managed_roots(config, model, &roots, &n);
        if (r < 0) {
                log_oom();
                return NULL;
        }
        /* A reload builds a new model: the writer used the old layout. */
        if (c->writer && c->writer_model == model && same_roots(c, roots, n))
                return c->writer;
        control_writer_drop(c);
        if (n == 0)
                return NULL; /* nothing managed, nothing to write */

        c->writer_roots = calloc(n, sizeof(char *));
        if (!c->writer_roots) {
                log_oom();
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                c->writer_roots[i] = strdup(roots[i]);
                if (!c->writer_roots[i]) {
                        c->n_writer_roots = i;
                        control_writer_drop(c);
                        log_oom();
                        return NULL;
                }
        }
        c->n_writer_roots = n;
        c->writer_model = model;
        r = cgroup_writer_new(&model->layout, c->writer_roots, n, &c->writer);
        if (r < 0) {
                log_error_errno(r, "Cannot write cgroup settings below the managed roots: %m");
                control_writer_drop(c);
                return NULL;
        }
        return c->writer;
}

/* Logs a plugin's failure once, when it starts (and when it clears). */
static void note_result(ControlResource *cr, Resource res, int r, const PluginApplyCounts *counts) {
        if (r < 0 && cr->last_apply_error != r)
                log_warning_errno(r, "Applying the %s budget failed for %u cgroup settings: %m", resource_to_string(res),
                                  counts->failed);
        else if (r >= 0 && cr->last_apply_error < 0)
                log_info("Applying the %s budget works again.", resource_to_string(res));
        cr->last_apply_error = r < 0 ? r : 0;
}

/* The floor of each budget group: the unreclaimable memory of the
 * reclaimed_cores workloads at or below it. */
static uint64_t *group_floors(const BestEffortCgroups *be, const NodeSnapshot *s) {
        uint64_t *floors = calloc(MAX(be->n_groups, 1u), sizeof(uint64_t));

        if (!floors)
                return NULL;
        for (size_t g = 0; g < be->n_groups; g++) {
                size_t len = strlen(be->groups[g]);

                for (size_t i = 0; i < s->n_workloads; i++) {
                        const WorkloadSnapshot *w = &s->workloads[i];

                        if (w->qos_class != QOS_CLASS_RECLAIMED_CORES || !w->cgroup)
                                continue;
                        if (strncmp(w->cgroup, be->groups[g], len) == 0 &&
                            (w->cgroup[len] == '\0' || w->cgroup[len] == '/'))
                                floors[g] += w->usage.memory_unreclaimable_bytes;
                }
        }
        return floors;
}

/* FNV-1a over the member paths and the pool: what the member writes depend on. */
static uint64_t members_hash(const BestEffortCgroups *be, const char *pool) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (size_t i = 0; i <= be->n_members; i++) {
                const char *p = i < be->n_members ? be->members[i] : pool ? pool : "";

                for (; *p; p++)
                        h = (h ^ (uint8_t) *p) * UINT64_C(1099511628211);
                h = (h ^ 0xff) * UINT64_C(1099511628211); /* a separator no path holds */
        }
        return h;
}

/* The CPU budget goes to the groups every tick; the members (cpu.idle,
 * cpuset) only when they or the pool changed since the last clean apply. */
static int apply_cpu(Control *c, CgroupWriter *w, const BestEffortCgroups *be, int64_t budget, const char *pool,
                     PluginApplyCounts *counts) {
        uint64_t h = members_hash(be, pool);
        BestEffortCgroups groups_only = *be;
        int r;

        if (c->members_applied && c->members_applied_hash == h) {
                groups_only.n_members = 0;
                return cpu_plugin_apply(w, &groups_only, budget, pool, counts);
        }
        r = cpu_plugin_apply(w, be, budget, pool, counts);
        c->members_applied = r >= 0;
        c->members_applied_hash = h;
        return r;
}

/* A disabled controller hands its resource back: its limits are removed. */
static int64_t budget_to_write(const ControlResource *cr, Resource r, const Config *config, const NodeSnapshot *s) {
        if (!cr->enabled || !cr->configured)
                return -1;
        /* IO has no known capacity: at the top of its range there is no
         * limit at all rather than a nominal one. */
        double max = control_budget_max(r, &config->controllers[r], s);
        if (r == RESOURCE_IO && cr->budget_applied >= max)
                return -1;
        /* Whole quanta of 1/256 of the range's top, rounded down (never
         * more than decided): a PID's output moves a little every tick,
         * and each change of a tier's quota or throttle costs the kernel a
         * walk over every cgroup below it (~1 ms at 1250 cgroups). */
        double quantum = fmax(max / CONTROL_BUDGET_QUANTA, 1.0);
        double q = floor(cr->budget_applied / quantum) * quantum;
        /* ...but never below the configured minimum. */
        return (int64_t) fmax(q, (double) config->controllers[r].min);
}

void control_apply(Control *c, const Config *config, NodeModel *model, const char *reclaimed_pool) {
        const NodeSnapshot *s = model->snapshot;
        BestEffortCgroups be = {};
        _cleanup_free_ uint64_t *floors = NULL;
        CgroupWriter *w;
        int r;

        w = ensure_writer(c, config, model);
        if (!w)
                return;
        r = best_effort_cgroups_from_snapshot(s, pod_registry_kube_root(model->registry), &be);
        if (r < 0) {
                log_oom();
                return;
        }
        if (be.n_groups == 0)
                goto finish;

        for (Resource res = 0; res < _RESOURCE_MAX; res++) {
                ControlResource *cr = &c->res[res];
                int64_t budget = budget_to_write(cr, res, config, s);
                PluginApplyCounts counts = {};

                switch (res) {
                case RESOURCE_CPU:
                        r = apply_cpu(c, w, &be, budget, reclaimed_pool, &counts);
                        break;
                case RESOURCE_MEMORY:
                        floors = group_floors(&be, s);
                        if (!floors) {
                                log_oom();
                                goto finish;
                        }
                        r = memory_plugin_apply(w, &be, budget, floors, &counts);
                        break;
                default:
                        r = io_plugin_apply(w, &be, c->devices, c->n_devices, budget, &counts);
                        break;
                }
                note_result(cr, res, r, &counts);
        }
finish:
        best_effort_cgroups_done(&be);
}
