/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "control-private.h"
#include "log.h"
#include "macro.h"
#include "plugins/evict.h"

static double usage_of(const WorkloadSnapshot *w, Resource r) {
        switch (r) {
        case RESOURCE_CPU:
                return w->usage.cpu_millicores;
        case RESOURCE_MEMORY:
                return (double) w->usage.memory_working_set_bytes;
        default:
                return w->usage.io_read_bytes_per_sec + w->usage.io_write_bytes_per_sec;
        }
}

/* The victim for pressure on r among the snapshot's workloads (the picker
 * takes reclaimed_cores ones only); NULL if there is none. */
static const WorkloadSnapshot *pick(const NodeSnapshot *s, Resource r) {
        _cleanup_free_ EvictionCandidate *cands = calloc(MAX(s->n_workloads, 1u), sizeof(EvictionCandidate));
        ssize_t i;

        if (!cands) {
                log_oom();
                return NULL;
        }
        for (size_t k = 0; k < s->n_workloads; k++) {
                const WorkloadSnapshot *w = &s->workloads[k];

                /* The pod priority is not visible in cgroups: all equal,
                 * the largest user goes first. */
                cands[k] = (EvictionCandidate) {
                        .uid = w->uid,
                        .cgroup = w->cgroup,
                        .qos_class = w->qos_class,
                        .priority = 0,
                        .usage = usage_of(w, r),
                };
        }
        i = eviction_pick_victim(cands, s->n_workloads);
        return i < 0 ? NULL : &s->workloads[i];
}

static void evict_one(ControlResource *cr, Resource r, const WorkloadSnapshot *w, const Config *config,
                      NodeModel *model, bool dry_run) {
        _cleanup_free_ const char **roots = NULL;
        EvictResult result = {};
        size_t n = 0;
        int k;

        if (dry_run) {
                cr->evictions.dry_run++;
                log_notice("Eviction (dry run): %s pressure persists with the best-effort budget at its minimum; "
                           "would kill %s (%s).",
                           resource_to_string(r), w->uid[0] ? w->uid : w->cgroup, w->cgroup);
                return;
        }
        k = control_managed_roots(config, model, &roots, &n);
        if (k >= 0)
                k = evict_cgroup(&model->layout, w->cgroup, (char *const *) roots, n, &result);
        if (k < 0) {
                cr->evictions.failed++;
                log_error_errno(k, "Eviction of %s (%s) for %s pressure failed: %m", w->uid[0] ? w->uid : w->cgroup,
                                w->cgroup, resource_to_string(r));
                return;
        }
        cr->evictions.evicted++;
        log_warning("Evicted %s (%s): %s pressure persisted with the best-effort budget at its minimum (%s).",
                    w->uid[0] ? w->uid : w->cgroup, w->cgroup, resource_to_string(r),
                    result.used_cgroup_kill ? "cgroup.kill" : "frozen and killed");
}

void control_evict(Control *c, const Config *config, NodeModel *model, bool dry_run, uint64_t now_usec) {
        EvictionParams params = {
                .violation_usec = config->eviction_violation_usec,
                .cooldown_usec = config->eviction_cooldown_usec,
        };
        Resource due = _RESOURCE_INVALID;

        /* Every resource's clock runs every tick, also when another one
         * fires: each keeps its own violation history. */
        for (Resource r = 0; r < _RESOURCE_MAX; r++) {
                const ControlResource *cr = &c->res[r];
                bool at_min, violated;

                violated = config->eviction_enabled && cr->enabled && !cr->decision.fail_safe &&
                           cr->decision.violated;
                at_min = cr->decision.at_min ||
                         (r == RESOURCE_MEMORY && cr->floor > 0 && cr->decision.budget <= cr->floor);
                if (eviction_check(&c->eviction, &params, r, violated, at_min, now_usec) && due < 0)
                        due = r;
        }
        if (due < 0)
                return;

        const WorkloadSnapshot *w = pick(model->snapshot, due);
        if (!w) {
                log_info("%s pressure persists with the best-effort budget at its minimum, but there is no "
                         "best-effort pod to evict.",
                         resource_to_string(due));
                eviction_record(&c->eviction, now_usec);
                return;
        }
        evict_one(&c->res[due], due, w, config, model, dry_run || config->eviction_dry_run);
        eviction_record(&c->eviction, now_usec);
}
