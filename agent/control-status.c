/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "control-private.h"

static const char *const budget_units[_RESOURCE_MAX] = {
        [RESOURCE_CPU] = "millicores",
        [RESOURCE_MEMORY] = "bytes",
        [RESOURCE_IO] = "bytes_per_second",
};

/* The indicator to show for r: the one that set the budget, else the
 * first present one, else r's first. */
static Indicator shown_indicator(const ControlResource *cr, Resource r) {
        Indicator first = _INDICATOR_INVALID;

        if (cr->decision.limiting != _INDICATOR_INVALID)
                return cr->decision.limiting;
        for (Indicator i = 0; i < _INDICATOR_MAX; i++) {
                if (indicator_info(i)->resource != r)
                        continue;
                if (cr->readings[i].state == INDICATOR_PRESENT)
                        return i;
                if (first == _INDICATOR_INVALID && cr->readings[i].state != INDICATOR_UNUSED)
                        first = i;
        }
        if (first != _INDICATOR_INVALID)
                return first;
        for (Indicator i = 0; i < _INDICATOR_MAX; i++)
                if (indicator_info(i)->resource == r)
                        return i;
        return _INDICATOR_INVALID;
}

static const char *limiting_name(const ControlResource *cr) {
        if (cr->decision.fail_safe)
                return "fail_safe";
        if (cr->decision.limiting != _INDICATOR_INVALID)
                return indicator_info(cr->decision.limiting)->name;
        return "hold";
}

static void format_budget(Resource r, double v, char *buf, size_t size) {
        if (r == RESOURCE_CPU)
                (void) snprintf(buf, size, "%.0fm", v);
        else if (r == RESOURCE_MEMORY)
                (void) snprintf(buf, size, "%.1f GiB", v / (1024.0 * 1024 * 1024));
        else
                (void) snprintf(buf, size, "%.1f MiB/s", v / (1024.0 * 1024));
}

void control_summary(const Control *c, char *buf, size_t size) {
        char fail_safe[64] = "";
        size_t n, f = 0;

        n = (size_t) snprintf(buf, size, "best-effort budgets:");
        for (Resource r = 0; r < _RESOURCE_MAX; r++) {
                const ControlResource *cr = &c->res[r];
                char v[32] = "off";

                if (cr->enabled && cr->configured && c->n_steps > 0)
                        format_budget(r, cr->budget_applied, v, sizeof(v));
                if (n < size)
                        n += (size_t) snprintf(buf + n, size - n, "%s %s %s", r == 0 ? "" : ",",
                                               resource_to_string(r), v);
                if (cr->enabled && cr->decision.fail_safe && f < sizeof(fail_safe))
                        f += (size_t) snprintf(fail_safe + f, sizeof(fail_safe) - f, "%s%s", f > 0 ? ", " : "",
                                               resource_to_string(r));
        }
        if (f > 0 && n < size)
                (void) snprintf(buf + n, size - n, "; fail-safe: %s", fail_safe);
}

void control_fill_api_state(const Control *c, const Config *config, ApiState *st) {
        for (Resource r = 0; r < _RESOURCE_MAX; r++) {
                const ControlResource *cr = &c->res[r];
                const ControllerConfig *cc = &config->controllers[r];
                ApiResourceStatus *a = &st->resources[r];
                Indicator shown = shown_indicator(cr, r);
                const IndicatorInfo *info = indicator_info(shown);
                const IndicatorReading *reading = &cr->readings[shown];
                bool stepped = c->n_steps > 0 && cr->configured;

                *a = (ApiResourceStatus) {
                        .controller_enabled = cc->enabled,
                        .indicator_name = info->name,
                        .indicator_unit = info->unit,
                        .budget_unit = budget_units[r],
                        .target = stepped ? reading->target : cc->target,
                        .budget_min = stepped ? cr->controller.params.min : (double) cc->min,
                        .budget_max = stepped ? cr->controller.params.max : (double) cc->max,
                };
                if (stepped) {
                        a->has_indicator = reading->state == INDICATOR_PRESENT;
                        a->indicator = reading->value;
                        a->indicator_tick = st->tick;
                        a->indicator_stale = cr->decision.fail_safe || reading->state == INDICATOR_MISSING;
                }
                if (stepped && cr->enabled) {
                        a->has_budget = true;
                        a->budget = cr->budget_applied;
                        a->budget_tick = st->tick;
                        a->limiting_indicator = limiting_name(cr);
                        if (cr->decision.limiting != _INDICATOR_INVALID) {
                                const PidTerms *t = &cr->decision.terms;

                                a->has_pid = true;
                                a->pid_error = t->error;
                                a->pid_proportional = t->proportional;
                                a->pid_integral = t->integral;
                                a->pid_derivative = t->derivative;
                                a->pid_output = t->output;
                                a->pid_saturated = t->saturated;
                        }
                }
                st->reclaimable[r] = (ApiReclaimable) {
                        .known = cr->reclaimable.known,
                        .capacity = cr->reclaimable.capacity,
                        .ls_peak = cr->reclaimable.ls_peak,
                        .reserve = cr->reclaimable.reserve,
                        .reclaimable = cr->reclaimable.reclaimable,
                };
                st->evictions[r] = cr->evictions;
        }
}
