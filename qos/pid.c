/* SPDX-License-Identifier: Apache-2.0 */
#include "pid.h"

#include <math.h>

/* tracking_time_sec 0 means this: a second is a few controller ticks, slow
 * enough not to fight the proportional term, fast enough to unwind. */
#define PID_DEFAULT_TRACKING_TIME_SEC 1.0

static double clamp(double v, double lo, double hi) {
        return v < lo ? lo : v > hi ? hi : v;
}

static bool dt_valid(double dt_sec) {
        return isfinite(dt_sec) && dt_sec > 0;
}

/* The share of the gap between the applied and the unlimited output that
 * back-calculation removes in one step of dt. Capped at 1: with dt longer
 * than the tracking time, the explicit step would overshoot the gap and the
 * integral would ring around the limit instead of settling on it. */
static double tracking_gain(const PidParams *params, double dt_sec) {
        double tt = params->tracking_time_sec > 0 ? params->tracking_time_sec : PID_DEFAULT_TRACKING_TIME_SEC;

        return fmin(dt_sec / tt, 1.0);
}

static double clamp_output(const PidParams *params, double v) {
        return clamp(v, params->out_min, params->out_max);
}

static double rate_limit(const PidParams *params, double previous, double target) {
        if (params->rate_up > 0 && target > previous + params->rate_up)
                return previous + params->rate_up;
        if (params->rate_down > 0 && target < previous - params->rate_down)
                return previous - params->rate_down;
        return target;
}

/* Folds one measurement into the derivative term. The first measurement
 * after init/reset has no predecessor: it gives no rate, rather than one
 * against an arbitrary zero. The filter is the backward-Euler first-order
 * low pass, which stays stable for any dt, unlike the forward form. */
static void update_derivative(Pid *p, double measurement, double dt_sec) {
        double raw, alpha;

        if (!p->has_measurement) {
                p->derivative = 0;
                return;
        }
        raw = -p->params.kd * (measurement - p->last_measurement) / dt_sec;
        alpha = dt_sec / (p->params.derivative_filter_sec + dt_sec);
        p->derivative += alpha * (raw - p->derivative);
}

static void restart(Pid *p, double output) {
        p->output = clamp_output(&p->params, output);
        /* The other terms are 0 until a measurement arrives, so the integral
         * alone holds the output. */
        p->integral = p->output;
        p->derivative = 0;
        p->last_measurement = 0;
        p->has_measurement = false;
        p->terms = (PidTerms) {
                .integral = p->integral,
                .unlimited = p->output,
                .output = p->output,
        };
}

void pid_init(Pid *p, const PidParams *params, double output) {
        *p = (Pid) { .params = *params };
        restart(p, output);
}

void pid_reset(Pid *p, double output) {
        restart(p, output);
}

double pid_update(Pid *p, double setpoint, double measurement, double dt_sec) {
        const PidParams *params = &p->params;
        double error, proportional, integral, unlimited, output;

        if (!dt_valid(dt_sec) || !isfinite(setpoint) || !isfinite(measurement))
                return p->output;

        error = setpoint - measurement;
        proportional = params->kp * error;
        /* The derivative follows the measurement even inside the dead band,
         * so that leaving it does not see the whole drift as one step. */
        update_derivative(p, measurement, dt_sec);
        p->last_measurement = measurement;
        p->has_measurement = true;

        if (fabs(error) <= params->dead_band) {
                p->terms = (PidTerms) {
                        .error = error,
                        .proportional = proportional,
                        .integral = p->integral,
                        .derivative = p->derivative,
                        .unlimited = proportional + p->integral + p->derivative,
                        .output = p->output,
                        .in_dead_band = true,
                };
                return p->output;
        }

        integral = p->integral + params->ki * error * dt_sec;
        unlimited = proportional + integral + p->derivative;
        output = rate_limit(params, p->output, clamp_output(params, unlimited));

        /* Without an integral gain there is nothing to wind up: the integral
         * is then a fixed bias (the operating point), and moving it whenever
         * a bound or the rate limit bites would shift that point for good. */
        if (output != unlimited && params->ki != 0)
                integral += (output - unlimited) * tracking_gain(params, dt_sec);
        integral = clamp_output(params, integral);

        p->integral = integral;
        p->output = output;
        p->terms = (PidTerms) {
                .error = error,
                .proportional = proportional,
                .integral = integral,
                .derivative = p->derivative,
                .unlimited = unlimited,
                .output = output,
                .saturated = output != unlimited,
        };
        return output;
}

void pid_track(Pid *p, double applied, double dt_sec) {
        if (!dt_valid(dt_sec) || !isfinite(applied))
                return;

        /* A fail-safe may apply something outside this controller's range;
         * it can only take over from inside it. */
        applied = clamp_output(&p->params, applied);
        p->integral = clamp_output(&p->params,
                                   p->integral + (applied - p->output) * tracking_gain(&p->params, dt_sec));
        /* The next update's rate limit counts from what is really applied:
         * taking over then moves from there, not from this controller's
         * own, unused, output. */
        p->output = applied;
}

void pid_set_params(Pid *p, const PidParams *params) {
        const PidParams old = p->params;
        double output;

        p->params = *params;
        output = clamp_output(params, p->output);

        /* The filtered derivative is kept in output units; the rate it
         * stands for carries over to the new gain. With no derivative gain
         * before there is no rate known, and 0 is the bumpless start. */
        p->derivative = old.kd != 0 ? p->derivative * params->kd / old.kd : 0;

        /* The integral takes whatever the new proportional and derivative
         * terms do not, so the same error and measurement give the same
         * output as before the change. */
        p->integral = clamp_output(params, output - params->kp * p->terms.error - p->derivative);
        p->output = output;
}
