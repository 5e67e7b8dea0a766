/* SPDX-License-Identifier: Apache-2.0 */
#include "control.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control-private.h"
#include "log.h"
#include "macro.h"
#include "plugins/cgroup-writer.h"
#include "qos/node-stats.h"

int control_new(Control **ret) {
        Control *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        eviction_state_init(&c->eviction);
        /* The devices IO limits go on; a node without any (a container
         * test bed) simply has no IO budget to apply. */
        r = block_devices_list("/sys/block", &c->devices, &c->n_devices);
        if (r < 0)
                log_warning_errno(r, "Cannot list the block devices, IO budgets will not be applied: %m");
        *ret = c;
        return 0;
}

Control *control_free(Control *c) {
        if (!c)
                return NULL;
        for (int r = 0; r < _RESOURCE_MAX; r++)
                peak_window_done(&c->res[r].peak);
        control_writer_drop(c);
        free(c->devices);
        free(c);
        return NULL;
}

/* What max: 0 stands for. */
static double capacity(Resource r, const NodeSnapshot *s) {
        switch (r) {
        case RESOURCE_CPU:
                if (s->node_cpu_capacity_millicores > 0)
                        return s->node_cpu_capacity_millicores;
                return (double) sysconf(_SC_NPROCESSORS_ONLN) * 1000.0;
        case RESOURCE_MEMORY:
                if (s->has_node_memory && s->node_memory.total_bytes > 0)
                        return (double) s->node_memory.total_bytes;
                return (double) sysconf(_SC_PHYS_PAGES) * (double) sysconf(_SC_PAGESIZE);
        default:
                return CONTROL_IO_NOMINAL_MAX_BPS;
        }
}

double control_budget_max(Resource r, const ControllerConfig *cc, const NodeSnapshot *s) {
        double max = cc->max > 0 ? (double) cc->max : capacity(r, s);

        /* min == max pins the budget (the controller has no range to move
         * in); a node smaller than min gets min. */
        return fmax(max, (double) cc->min);
}

static void configure(ControlResource *cr, Resource r, const ControllerConfig *cc, const NodeSnapshot *s) {
        ControllerParams p = {
                .kp = cc->kp,
                .ki = cc->ki,
                .kd = cc->kd,
                .dead_band = cc->dead_band,
                .min = (double) cc->min,
                .max = control_budget_max(r, cc, s),
                .step_up = (double) cc->step_up,
                .step_down = (double) cc->step_down,
                .stale_ticks = cc->stale_ticks,
        };

        if (!cr->configured) {
                controller_init(&cr->controller, r, &p);
                cr->configured = true;
        } else if (memcmp(&p, &cr->controller.params, sizeof(p)) != 0)
                controller_set_params(&cr->controller, &p);

        if (peak_window_resize(&cr->peak, cc->peak_window_ticks) < 0)
                log_oom();
}

static IndicatorTargets targets_from_config(const Config *config) {
        const ControllerConfig *cpu = &config->controllers[RESOURCE_CPU], *mem = &config->controllers[RESOURCE_MEMORY],
                               *io = &config->controllers[RESOURCE_IO];

        return (IndicatorTargets) {
                .runqueue_p99_usec = cpu->target,
                .cpu_psi = cpu->psi_target,
                .cpu_utilization = cpu->utilization_ceiling,
                .app_slack = cpu->app_slack_target,
                .memory_available = mem->target,
                .reclaim_stall_ms_per_sec = mem->reclaim_stall_target,
                .memory_psi = mem->psi_target,
                .io_p99_usec = io->target,
                .io_psi = io->psi_target,
        };
}

static void log_decision_change(Resource r, const ControllerDecision *prev, const ControllerDecision *d) {
        if (d->fail_safe && !prev->fail_safe)
                log_warning("%s: an indicator is stale, best-effort budget held at its minimum (fail-safe).",
                            resource_to_string(r));
        else if (!d->fail_safe && prev->fail_safe)
                log_notice("%s: indicators back, the controller takes over again.", resource_to_string(r));
}

static void step_resource(Control *c, const Config *config, const NodeSnapshot *s, Resource r,
                          const IndicatorReading readings[_INDICATOR_MAX], double dt) {
        ControlResource *cr = &c->res[r];
        const ControllerConfig *cc = &config->controllers[r];
        ControllerDecision prev = cr->decision;

        cr->enabled = cc->enabled;
        memcpy(cr->readings, readings, sizeof(cr->readings));
        configure(cr, r, cc, s);
        if (!cr->enabled)
                return;

        cr->decision = controller_step(&cr->controller, readings, dt);
        log_decision_change(r, &prev, &cr->decision);
        if (cr->decision.limiting != _INDICATOR_INVALID) {
                const IndicatorReading *lim = &readings[cr->decision.limiting];

                log_debug("%s: budget %.0f, set by %s %.4g (target %.4g, error %+.3f, P %+.3f, I %.3f)",
                          resource_to_string(r), cr->decision.budget, indicator_info(cr->decision.limiting)->name,
                          lim->value, lim->target, cr->decision.terms.error, cr->decision.terms.proportional,
                          cr->decision.terms.integral);
        }
        cr->budget_applied = cr->decision.budget;
        if (r == RESOURCE_MEMORY) {
                /* Below what reclaim can take back there is nothing to
                 * squeeze: the plugin never writes less (see
                 * budget-plugins.h), eviction is the tool from there. */
                cr->floor = (double) s->classes[QOS_CLASS_RECLAIMED_CORES].memory_unreclaimable_bytes;
                cr->budget_applied = fmax(cr->budget_applied, cr->floor);
        }
}

/* The latency-sensitive side's usage: everything best-effort must leave
 * room for, system daemons included. */
static double non_reclaimable_usage(Resource r, const NodeSnapshot *s) {
        static const QosClass classes[] = { QOS_CLASS_SYSTEM_CORES, QOS_CLASS_DEDICATED_CORES,
                                            QOS_CLASS_SHARED_CORES };
        double sum = 0;

        for (size_t i = 0; i < ELEMENTSOF(classes); i++) {
                const ClassTotals *t = &s->classes[classes[i]];

                sum += r == RESOURCE_CPU      ? t->cpu_millicores
                       : r == RESOURCE_MEMORY ? (double) t->memory_working_set_bytes
                                              : t->io_bytes_per_sec;
        }
        return sum;
}

static void update_reclaimable(ControlResource *cr, Resource r, const ControllerConfig *cc, const NodeSnapshot *s) {
        double peak;

        peak_window_push(&cr->peak, non_reclaimable_usage(r, s));
        if (!peak_window_max(&cr->peak, &peak))
                return;
        cr->reclaimable = reclaimable_estimate(r == RESOURCE_IO ? control_budget_max(r, cc, s) : capacity(r, s), peak,
                                               (double) cc->reserve);
}

void control_tick(Control *c, const Config *config, NodeModel *model, const AppSignal *app,
                  const char *reclaimed_pool, bool dry_run, uint64_t now_usec) {
        const NodeSnapshot *s = model ? model->snapshot : NULL;
        IndicatorTargets targets = targets_from_config(config);
        IndicatorReading readings[_INDICATOR_MAX];
        double tick_sec = (double) config->tick_interval_usec / 1e6, dt = tick_sec;

        if (!s)
                return;
        if (c->last_step_usec > 0 && now_usec > c->last_step_usec)
                dt = (double) (now_usec - c->last_step_usec) / 1e6;
        c->last_step_usec = now_usec;
        c->n_steps++;

        indicators_read(s, &targets, app, dt, readings);
        /* A snapshot the last sample could not replace says nothing about
         * now: every indicator counts as missing (fail-safe if it lasts). */
        if (now_usec > s->monotonic_usec + 2 * config->tick_interval_usec)
                for (int i = 0; i < _INDICATOR_MAX; i++)
                        if (readings[i].state == INDICATOR_PRESENT)
                                readings[i].state = INDICATOR_MISSING;

        for (Resource r = 0; r < _RESOURCE_MAX; r++) {
                step_resource(c, config, s, r, readings, dt);
                update_reclaimable(&c->res[r], r, &config->controllers[r], s);
        }

        if (!dry_run)
                control_apply(c, config, model, reclaimed_pool);
        control_evict(c, config, model, dry_run, now_usec);
}

bool control_budget(const Control *c, Resource r, double *ret) {
        const ControlResource *cr = &c->res[r];

        if (!cr->enabled || !cr->configured || c->n_steps == 0)
                return false;
        *ret = cr->budget_applied;
        return true;
}
