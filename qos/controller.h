/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One resource's controller: a PID per indicator, the most conservative
 * (lowest) budget wins, and a fail-safe. Pure: readings in, budget out.
 *
 * The space the PIDs work in:
 *  - output: the budget as a fraction u of [min, max]; budget = min + u x
 *    (max - min). The step limits become rate limits on u.
 *  - error: a log ratio, log(target / value) for "lower is better"
 *    indicators (latency, stall, utilisation), log(value / target) for
 *    "higher is better" ones (available memory). A log ratio is
 *    scale-free (one set of gains serves microseconds and ratios), and
 *    symmetric: twice the target and half of it are equally far. Values
 *    are clamped to [target / 20, target x 20] first, so an idle indicator
 *    (0) gives a bounded error (+3) rather than infinity.
 * A present indicator's error past the dead band on the wrong side is a
 * violation (the eviction manager's trigger). Losing PIDs track the
 * applied output (back-calculation), so whichever indicator takes over
 * does so from the budget in force, without a jump or a wound-up integral.
 *
 * Fail-safe: an indicator MISSING for stale_ticks ticks in a row (sensor
 * down, no sample) drives the budget to min; while one is missing but not
 * yet stale, the budget may fall and not rise. */

#include <stdbool.h>

#include "qos/indicators.h"
#include "qos/pid.h"
#include "qos/resource.h"

/* The errors' bound: values are clamped to target / 20 .. target x 20. */
#define CONTROLLER_VALUE_RANGE 20.0

typedef struct ControllerParams {
        double kp, ki, kd;
        double dead_band;         /* on the log-ratio error, ~ a relative error */
        double min, max;          /* the budget's bounds, max > min */
        double step_up, step_down; /* the largest change per tick, in budget units */
        unsigned stale_ticks;     /* >= 1 */
} ControllerParams;

typedef struct ControllerDecision {
        double budget;
        Indicator limiting; /* the indicator whose PID set the budget; _INDICATOR_INVALID if none did */
        bool fail_safe;     /* a stale indicator put the budget at min */
        bool holding;       /* nothing to go by (no present indicator): the budget held */
        bool violated;      /* a present indicator is past its dead band on the wrong side */
        bool at_min;
        PidTerms terms;     /* the limiting PID's, zero otherwise */
} ControllerDecision;

typedef struct ResourceController {
        Resource resource;
        ControllerParams params;
        double u; /* the applied budget, as a fraction of [min, max] */
        Pid pid[_INDICATOR_MAX];
        bool pid_active[_INDICATOR_MAX];
        unsigned missing_ticks[_INDICATOR_MAX];
        ControllerDecision last;
} ResourceController;

/* Starts at the minimum: until the indicators speak, best-effort gets the
 * safe budget. */
void controller_init(ResourceController *c, Resource r, const ControllerParams *p);

/* New parameters (reload): the budget stays where it is (clamped into the
 * new bounds), the PIDs continue without a bump. */
void controller_set_params(ResourceController *c, const ControllerParams *p);

/* One tick. readings: indexed by Indicator, only those of c->resource are
 * looked at. dt_sec: the time since the last step (> 0). */
ControllerDecision controller_step(ResourceController *c, const IndicatorReading readings[_INDICATOR_MAX],
                                   double dt_sec);

/* The budget for a fraction u of the range, and back. */
double controller_budget(const ControllerParams *p, double u);
