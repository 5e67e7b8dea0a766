/* SPDX-License-Identifier: Apache-2.0 */
#include "controller.h"

#include <math.h>
#include <string.h>

/* The derivative's low-pass time constant: a few ticks, so that one noisy
 * sample does not jerk the budget. */
#define DERIVATIVE_FILTER_SEC 2.0
/* Back-calculation: a limited PID's integral is corrected within a tick. */
#define TRACKING_TIME_SEC 1.0

double controller_budget(const ControllerParams *p, double u) {
        return p->min + u * (p->max - p->min);
}

static PidParams pid_params(const ControllerParams *p) {
        double range = p->max - p->min;

        return (PidParams) {
                .kp = p->kp,
                .ki = p->ki,
                .kd = p->kd,
                .derivative_filter_sec = DERIVATIVE_FILTER_SEC,
                .tracking_time_sec = TRACKING_TIME_SEC,
                .dead_band = p->dead_band,
                .out_min = 0,
                .out_max = 1,
                .rate_up = range > 0 ? p->step_up / range : 0,
                .rate_down = range > 0 ? p->step_down / range : 0,
        };
}

void controller_init(ResourceController *c, Resource r, const ControllerParams *p) {
        memset(c, 0, sizeof(*c));
        c->resource = r;
        c->params = *p;
        c->u = 0;
        c->last = (ControllerDecision) { .budget = p->min, .limiting = _INDICATOR_INVALID, .at_min = true };
}

void controller_set_params(ResourceController *c, const ControllerParams *p) {
        double budget = controller_budget(&c->params, c->u);
        double range = p->max - p->min;
        PidParams pp;

        c->params = *p;
        c->u = range > 0 ? fmin(fmax((budget - p->min) / range, 0), 1) : 0;
        pp = pid_params(p);
        for (int i = 0; i < _INDICATOR_MAX; i++)
                if (c->pid_active[i]) {
                        pid_set_params(&c->pid[i], &pp);
                        pid_track(&c->pid[i], c->u, TRACKING_TIME_SEC);
                }
}

/* Log space: the PID's setpoint and measurement, so that its error is
 * log(target / value), or log(value / target) when higher is better. */
static void to_log_space(const IndicatorInfo *info, const IndicatorReading *r, double *ret_setpoint,
                         double *ret_measurement) {
        double target = r->target > 0 ? r->target : 1e-9;
        double value = fmin(fmax(r->value, target / CONTROLLER_VALUE_RANGE), target * CONTROLLER_VALUE_RANGE);
        double sign = info->higher_is_better ? -1.0 : 1.0;

        *ret_setpoint = sign * log(target);
        *ret_measurement = sign * log(value);
}

ControllerDecision controller_step(ResourceController *c, const IndicatorReading readings[_INDICATOR_MAX],
                                   double dt_sec) {
        ControllerDecision d = { .limiting = _INDICATOR_INVALID };
        PidParams pp = pid_params(&c->params);
        bool stale = false, some_missing = false, any_present = false;
        double u = INFINITY;

        for (int i = 0; i < _INDICATOR_MAX; i++) {
                const IndicatorInfo *info = indicator_info(i);
                const IndicatorReading *r = &readings[i];
                double setpoint, measurement, out;

                if (info->resource != c->resource)
                        continue;
                if (r->state != INDICATOR_MISSING)
                        c->missing_ticks[i] = 0;
                if (r->state == INDICATOR_UNUSED) {
                        c->pid_active[i] = false;
                        continue;
                }
                if (r->state == INDICATOR_MISSING) {
                        some_missing = true;
                        if (++c->missing_ticks[i] >= c->params.stale_ticks)
                                stale = true;
                        continue;
                }

                /* A PID that starts (or restarts) picks up the budget in
                 * force: no bump when an indicator appears. */
                if (!c->pid_active[i]) {
                        pid_init(&c->pid[i], &pp, c->u);
                        c->pid_active[i] = true;
                }
                to_log_space(info, r, &setpoint, &measurement);
                out = pid_update(&c->pid[i], setpoint, measurement, dt_sec);
                any_present = true;
                if (c->pid[i].terms.error < -c->params.dead_band)
                        d.violated = true;
                if (out < u) {
                        u = out;
                        d.limiting = i;
                }
        }

        if (stale) {
                u = 0;
                d.fail_safe = true;
                d.limiting = _INDICATOR_INVALID;
        } else if (!any_present) {
                u = c->u;
                d.holding = true;
        } else if (some_missing && u > c->u) {
                /* A signal is out: do not grow on the others' word alone. */
                u = c->u;
                d.limiting = _INDICATOR_INVALID;
                d.holding = true;
        }

        for (int i = 0; i < _INDICATOR_MAX; i++)
                if (c->pid_active[i] && (i != d.limiting || c->pid[i].output != u))
                        pid_track(&c->pid[i], u, dt_sec);

        c->u = u;
        d.budget = controller_budget(&c->params, u);
        d.at_min = u <= 1e-9;
        if (d.limiting != _INDICATOR_INVALID)
                d.terms = c->pid[d.limiting].terms;
        c->last = d;
        return d;
}
