/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A discrete PID controller, pure: no clock, no I/O. The caller passes the
 * setpoint, the measurement and the time since the last update.
 *
 *   error  = setpoint - measurement
 *   P      = kp * error
 *   I     += ki * error * dt, with anti-windup: the integral is clamped to
 *            the output range and, when the output is limited (bounds, rate
 *            limit, or a lower output applied by the caller: pid_track()),
 *            corrected by back-calculation: I += (applied - unlimited) * dt / tracking_time
 *            (dt / tracking_time capped at 1: at most the whole gap; with
 *            ki == 0 the integral is a fixed bias and pid_update() leaves it)
 *   D      = -kd * d(measurement)/dt, low-pass filtered (derivative on the
 *            measurement: a setpoint change gives no kick)
 *   output = clamp(P + I + D, out_min, out_max), then moved at most
 *            rate_up / rate_down from the previous output per update.
 * Inside the dead band (|error| <= dead_band) the output and the integral
 * hold still; the derivative keeps following the measurement. The caller
 * chooses the space the error lives in (nodeqos passes logarithms: see
 * qos/controller.h). */

#include <stdbool.h>

typedef struct PidParams {
        double kp, ki, kd;
        double derivative_filter_sec; /* the derivative's low-pass time constant; 0: unfiltered */
        double tracking_time_sec;     /* back-calculation time constant; 0: 1 s */
        double dead_band;             /* >= 0 */
        double out_min, out_max;      /* out_min <= out_max */
        double rate_up, rate_down;    /* > 0: the largest rise / fall per update; 0: unlimited */
} PidParams;

/* The last update, for status and metrics. */
typedef struct PidTerms {
        double error;
        double proportional, integral, derivative;
        double unlimited; /* P + I + D before the bounds and the rate limits */
        double output;
        bool saturated;   /* the output was limited by a bound or a rate limit */
        bool in_dead_band;
} PidTerms;

typedef struct Pid {
        PidParams params;
        double integral;
        double derivative; /* the filtered derivative term */
        double last_measurement;
        double output;
        bool has_measurement; /* false until the first update after init/reset */
        PidTerms terms;
} Pid;

/* Starts at output (clamped to the bounds), with the integral holding it. */
void pid_init(Pid *p, const PidParams *params, double output);

/* One step; dt_sec > 0 (a non-positive or non-finite dt, setpoint or
 * measurement leaves the state unchanged and returns the last output).
 * Returns the new output. */
double pid_update(Pid *p, double setpoint, double measurement, double dt_sec);

/* The caller applied a different output than the last update returned
 * (another controller's lower budget won, or a fail-safe): the integral
 * tracks it (back-calculation) so that this controller takes over from
 * there without a jump and without windup. */
void pid_track(Pid *p, double applied, double dt_sec);

/* New gains, bounds or limits without a bump: the integral is recomputed so
 * that the output stays where it is (clamped into the new bounds). The
 * integral stays inside the output range, so a new proportional term that
 * alone needs more than the range to hold the output does move it. */
void pid_set_params(Pid *p, const PidParams *params);

/* Forgets the history (integral, derivative, last measurement) and restarts
 * at output (clamped). */
void pid_reset(Pid *p, double output);
