/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/pid.h"

/* The controller period the tests simulate; the agent's tick is of this
 * order. */
#define DT 0.1
#define MAX_DEAD_TIME_STEPS 64

/* A first-order lag with dead time, the usual model of a resource's
 * pressure answering a budget: y' = (K * u(t - L) + d - y) / tau,
 * discretised exactly for an input held over each step. d is a load
 * disturbance. */
typedef struct Plant {
        double gain, tau, disturbance;
        double y;
        double pending[MAX_DEAD_TIME_STEPS]; /* the inputs still in the dead time */
        size_t dead_time_steps, pos;
} Plant;

static Plant plant_make(double gain, double tau, size_t dead_time_steps, double u0, double y0) {
        Plant pl = { .gain = gain, .tau = tau, .y = y0, .dead_time_steps = dead_time_steps };

        assert_true(dead_time_steps <= MAX_DEAD_TIME_STEPS);
        for (size_t i = 0; i < dead_time_steps; i++)
                pl.pending[i] = u0;
        return pl;
}

static double plant_step(Plant *pl, double u) {
        double a = exp(-DT / pl->tau), acting = u;

        if (pl->dead_time_steps > 0) {
                acting = pl->pending[pl->pos];
                pl->pending[pl->pos] = u;
                pl->pos = (pl->pos + 1) % pl->dead_time_steps;
        }
        pl->y = a * pl->y + (1 - a) * (pl->gain * acting + pl->disturbance);
        return pl->y;
}

static void assert_near(double got, double want, double tolerance, const char *what) {
        if (!(fabs(got - want) <= tolerance))
                print_error("%s: got %.9g, want %.9g +- %.3g\n", what, got, want, tolerance);
        assert_true(fabs(got - want) <= tolerance);
}

static void assert_at_most(double got, double limit, const char *what) {
        if (!(got <= limit))
                print_error("%s: got %.9g, want at most %.9g\n", what, got, limit);
        assert_true(got <= limit);
}

static double peak_to_peak(const double *v, size_t n) {
        double lo = INFINITY, hi = -INFINITY;

        for (size_t i = 0; i < n; i++) {
                lo = fmin(lo, v[i]);
                hi = fmax(hi, v[i]);
        }
        return hi - lo;
}

/* The plant all loop tests share: gain 2, a 5 s lag, 1 s dead time. */
#define PLANT_GAIN 2.0
#define PLANT_TAU 5.0
#define PLANT_DEAD_STEPS 10

#define STEP_RESPONSE_STEPS 1500
#define TAIL_STEPS 200
#define RINGING_DECAY 0.8

static void test_step_response(void **state) {
        static const struct {
                const char *name;
                PidParams params;
                double max_overshoot;
        } cases[] = {
                { "PI conservative",
                  { .kp = 0.5, .ki = 0.1, .out_min = 0, .out_max = 2 }, 0.05 },
                { "PI tuned for the dead time",
                  { .kp = 1.0, .ki = 0.2, .out_min = 0, .out_max = 2 }, 0.15 },
                { "PID with a filtered derivative",
                  { .kp = 1.2, .ki = 0.25, .kd = 0.4, .derivative_filter_sec = 0.3, .out_min = 0, .out_max = 2 },
                  0.2 },
                { "PI aggressive, ringing that dies out",
                  { .kp = 1.6, .ki = 0.6, .out_min = 0, .out_max = 2 }, 0.6 },
                { "PI rate limited",
                  { .kp = 1.0, .ki = 0.2, .out_min = 0, .out_max = 2, .rate_up = 0.01, .rate_down = 0.02 },
                  0.2 },
        };
        const double setpoint = 1.0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Plant pl = plant_make(PLANT_GAIN, PLANT_TAU, PLANT_DEAD_STEPS, 0, 0);
                double ys[STEP_RESPONSE_STEPS], us[STEP_RESPONSE_STEPS], peak = -INFINITY;
                Pid pid;

                pid_init(&pid, &cases[i].params, 0);
                for (size_t k = 0; k < STEP_RESPONSE_STEPS; k++) {
                        us[k] = pid_update(&pid, setpoint, pl.y, DT);
                        ys[k] = plant_step(&pl, us[k]);
                        peak = fmax(peak, ys[k]);
                }
                print_message("%s: overshoot %.4f, final %.6f, tail amplitude %.2g\n", cases[i].name,
                              peak - setpoint, ys[STEP_RESPONSE_STEPS - 1],
                              peak_to_peak(ys + STEP_RESPONSE_STEPS - TAIL_STEPS, TAIL_STEPS));

                assert_at_most(peak - setpoint, cases[i].max_overshoot, cases[i].name);
                /* Any ringing decays: each window swings clearly less than
                 * the one before (a limit cycle would not), until the swing
                 * is negligible. */
                for (size_t k = 2 * TAIL_STEPS; k < STEP_RESPONSE_STEPS; k += TAIL_STEPS)
                        assert_at_most(peak_to_peak(ys + k, MIN((size_t) TAIL_STEPS, STEP_RESPONSE_STEPS - k)),
                                       fmax(RINGING_DECAY * peak_to_peak(ys + k - TAIL_STEPS, TAIL_STEPS), 1e-6),
                                       cases[i].name);
                /* Settled: the last samples sit on the setpoint, and the
                 * loop no longer oscillates (input and output both still). */
                for (size_t k = STEP_RESPONSE_STEPS - TAIL_STEPS; k < STEP_RESPONSE_STEPS; k++)
                        assert_near(ys[k], setpoint, 0.01, cases[i].name);
                assert_at_most(peak_to_peak(ys + STEP_RESPONSE_STEPS - TAIL_STEPS, TAIL_STEPS), 1e-3,
                               cases[i].name);
                assert_at_most(peak_to_peak(us + STEP_RESPONSE_STEPS - TAIL_STEPS, TAIL_STEPS), 1e-3,
                               cases[i].name);
                assert_near(us[STEP_RESPONSE_STEPS - 1], setpoint / PLANT_GAIN, 0.01, cases[i].name);
        }
}

/* The textbook PID with clamped output and nothing else: the integral keeps
 * integrating while the output is pinned at a bound. */
typedef struct NaivePi {
        double kp, ki, out_min, out_max, integral;
} NaivePi;

static double naive_pi_update(NaivePi *c, double setpoint, double measurement) {
        double error = setpoint - measurement;

        c->integral += c->ki * error * DT;
        return fmin(fmax(c->kp * error + c->integral, c->out_min), c->out_max);
}

#define SATURATED_STEPS 200
#define RECOVERY_STEPS 800

/* A load disturbance puts the setpoint out of reach for SATURATED_STEPS
 * (the output sits at its maximum), then goes away: the overshoot that
 * follows is windup. Returns the largest overshoot after recovery. */
static double windup_overshoot(Pid *pid, NaivePi *naive, double setpoint) {
        Plant pl = plant_make(PLANT_GAIN, PLANT_TAU, PLANT_DEAD_STEPS, 0.5, 1.0);
        double peak = -INFINITY, u;

        pl.disturbance = -3.0;
        for (size_t k = 0; k < SATURATED_STEPS + RECOVERY_STEPS; k++) {
                if (k == SATURATED_STEPS)
                        pl.disturbance = 0;
                u = pid ? pid_update(pid, setpoint, pl.y, DT) : naive_pi_update(naive, setpoint, pl.y);
                plant_step(&pl, u);
                if (k >= SATURATED_STEPS)
                        peak = fmax(peak, pl.y);
        }
        if (pid)
                assert_near(pl.y, setpoint, 0.01, "recovered");
        return peak - setpoint;
}

static void test_no_windup(void **state) {
        static const PidParams gain_sets[] = {
                { .kp = 0.5, .ki = 0.1, .out_min = 0, .out_max = 1 },
                { .kp = 1.0, .ki = 0.2, .out_min = 0, .out_max = 1 },
                { .kp = 1.0, .ki = 0.2, .out_min = 0, .out_max = 1, .tracking_time_sec = 3 },
                { .kp = 1.2, .ki = 0.25, .kd = 0.4, .derivative_filter_sec = 0.3, .out_min = 0, .out_max = 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(gain_sets); i++) {
                NaivePi naive = {
                        .kp = gain_sets[i].kp,
                        .ki = gain_sets[i].ki,
                        .out_min = gain_sets[i].out_min,
                        .out_max = gain_sets[i].out_max,
                        .integral = 0.5,
                };
                double with, without;
                Pid pid;

                pid_init(&pid, &gain_sets[i], 0.5);
                with = windup_overshoot(&pid, NULL, 1.0);
                without = windup_overshoot(NULL, &naive, 1.0);
                print_message("gain set %zu: overshoot %.4f with anti-windup, %.4f without\n", i, with, without);

                /* The reference shows the scenario does wind up... */
                assert_true(without > 0.5);
                /* ...and anti-windup keeps the overshoot to a fraction. */
                assert_at_most(with, 0.2, "overshoot with anti-windup");
                assert_at_most(with, without / 4, "overshoot against the reference");
                /* The integral never left the output range. */
                assert_true(pid.integral >= gain_sets[i].out_min && pid.integral <= gain_sets[i].out_max);
        }
}

static void test_integral_clamped_and_terms(void **state) {
        const PidParams params = { .kp = 1, .ki = 1, .out_min = -1, .out_max = 2 };
        Pid pid;

        pid_init(&pid, &params, 0);
        for (int k = 0; k < 1000; k++)
                pid_update(&pid, 100, 0, DT);
        /* Back-calculation alone would drive the integral to 2 - 100. */
        assert_true(pid.integral >= -1 && pid.integral <= 2);
        assert_true(pid.terms.saturated);
        assert_true(pid.terms.output == 2);
        assert_near(pid.terms.proportional, 100, 1e-12, "proportional");
        assert_near(pid.terms.error, 100, 1e-12, "error");
        assert_true(pid.terms.unlimited > 2);
        assert_false(pid.terms.in_dead_band);

        /* The other way round too. */
        for (int k = 0; k < 1000; k++)
                pid_update(&pid, -100, 0, DT);
        assert_true(pid.integral >= -1 && pid.integral <= 2);
        assert_true(pid.output == -1);
}

static void test_derivative_on_measurement(void **state) {
        static const struct {
                double filter_sec;
        } cases[] = { { 0 }, { 0.1 }, { 0.5 } };
        const double rate = 2.0; /* of the measurement, per second */

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const PidParams params = {
                        .kd = 0.5, .derivative_filter_sec = cases[i].filter_sec, .out_min = -10, .out_max = 10,
                };
                double alpha = DT / (cases[i].filter_sec + DT);
                Pid pid;

                pid_init(&pid, &params, 0);
                pid_update(&pid, 0, 0, DT);
                /* A setpoint step: no kick, the measurement did not move. */
                pid_update(&pid, 5, 0, DT);
                assert_true(pid.terms.derivative == 0);

                /* A rising measurement pushes the output down, reaching
                 * -kd * rate through the first-order filter. */
                for (int k = 1; k <= 20; k++) {
                        double want = -params.kd * rate * (1 - pow(1 - alpha, k));

                        pid_update(&pid, 5, rate * DT * k, DT);
                        assert_near(pid.terms.derivative, want, 1e-9, "filtered derivative");
                }
        }
}

/* The tracking step moves the integral by dt / tracking_time of the gap,
 * and at most the whole gap: a faster tracking time must not overshoot. */
static void test_tracking_gain(void **state) {
        static const struct {
                double tracking_time_sec, share;
        } cases[] = {
                { 0, DT / 1.0 }, /* the default, 1 s */
                { 0.5, DT / 0.5 },
                { DT, 1 },
                { DT / 4, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const PidParams params = {
                        .kp = 1, .ki = 1, .tracking_time_sec = cases[i].tracking_time_sec, .out_min = 0, .out_max = 1,
                };
                double before;
                Pid pid;

                pid_init(&pid, &params, 0.8);
                before = pid.integral;
                pid_track(&pid, 0.2, DT);
                assert_near(pid.integral, before + (0.2 - 0.8) * cases[i].share, 1e-12, "tracked integral");
                assert_true(pid.output == 0.2);
        }
}

static void test_dead_band_holds_still(void **state) {
        const PidParams params = {
                .kp = 2, .ki = 1, .kd = 0.5, .derivative_filter_sec = 0.2, .dead_band = 0.05, .out_min = 0, .out_max = 10,
        };
        /* Errors of both signs inside the band, up to its edge. */
        static const double measurements[] = { 1.0, 1.03, 0.97, 1.0499, 0.9501, 1.01, 1.0, 0.999 };
        double held, integral;
        Pid pid;

        pid_init(&pid, &params, 3);
        /* Outside the band first, so the state is not the initial one. */
        pid_update(&pid, 1.0, 0.5, DT);
        pid_update(&pid, 1.0, 0.8, DT);
        held = pid.output;
        integral = pid.integral;
        assert_true(held != 3);

        for (size_t k = 0; k < 50 * ELEMENTSOF(measurements); k++) {
                double out = pid_update(&pid, 1.0, measurements[k % ELEMENTSOF(measurements)], DT);

                assert_true(out == held);
                assert_true(pid.output == held);
                assert_true(pid.integral == integral);
                assert_true(pid.terms.in_dead_band);
                assert_false(pid.terms.saturated);
                assert_true(pid.terms.output == held);
        }

        /* Just outside the band the controller acts again. */
        assert_true(pid_update(&pid, 1.0, 0.9, DT) > held);
        assert_false(pid.terms.in_dead_band);
}

static void test_rate_limits(void **state) {
        const PidParams params = {
                .kp = 3, .ki = 1, .out_min = 0, .out_max = 2, .rate_up = 0.01, .rate_down = 0.03,
        };
        /* Setpoint steps up and down, far enough to hit both limits. */
        static const double setpoints[] = { 1.5, 0.2, 2.5, 0.5 };
        Plant pl = plant_make(PLANT_GAIN, PLANT_TAU, PLANT_DEAD_STEPS, 0, 0);
        bool hit_up = false, hit_down = false;
        double previous = 0;
        Pid pid;

        pid_init(&pid, &params, 0);
        for (size_t s = 0; s < ELEMENTSOF(setpoints); s++)
                for (int k = 0; k < 600; k++) {
                        double u = pid_update(&pid, setpoints[s], pl.y, DT), delta = u - previous;

                        plant_step(&pl, u);
                        assert_at_most(delta, params.rate_up + 1e-12, "rise");
                        assert_at_most(-delta, params.rate_down + 1e-12, "fall");
                        hit_up |= fabs(delta - params.rate_up) < 1e-12;
                        hit_down |= fabs(delta + params.rate_down) < 1e-12;
                        if (pid.terms.output != pid.terms.unlimited)
                                assert_true(pid.terms.saturated);
                        previous = u;
                }
        /* Both limits were the binding constraint at some point: the
         * bounds above were really exercised. */
        assert_true(hit_up);
        assert_true(hit_down);
        /* And the loop still got there. */
        assert_near(pl.y, setpoints[ELEMENTSOF(setpoints) - 1], 0.02, "final");
}

/* Runs a loop partway through its step response: the error is not 0 and
 * the derivative is active. Returns the measurement the last update saw. */
static double run_partway(Pid *pid, Plant *pl) {
        double seen = 0;

        for (int k = 0; k < 25; k++) {
                seen = pl->y;
                plant_step(pl, pid_update(pid, 1.0, seen, DT));
        }
        return seen;
}

static void test_bumpless_param_change(void **state) {
        /* The ranges leave the integral room below 0: the new proportional
         * term must be absorbed by an integral inside the range (pid.h). */
        static const struct {
                PidParams before, after;
                bool naive_jumps; /* only a proportional change: swapping gains jumps */
        } cases[] = {
                { { .kp = 1, .ki = 0.2, .out_min = -2, .out_max = 2 },
                  { .kp = 3, .ki = 0.5, .out_min = -2, .out_max = 2 }, true },
                { { .kp = 2, .ki = 0.2, .out_min = -2, .out_max = 2 },
                  { .kp = 0.5, .ki = 0.1, .out_min = -2, .out_max = 2 }, true },
                { { .kp = 1.2, .ki = 0.25, .kd = 0.4, .derivative_filter_sec = 0.3, .out_min = -2, .out_max = 2 },
                  { .kp = 0.4, .ki = 0.05, .kd = 1.5, .derivative_filter_sec = 0.3, .out_min = -2, .out_max = 2 }, false },
                { { .kp = 1, .ki = 0.2, .out_min = -2, .out_max = 2 },
                  { .kp = 1, .ki = 0.2, .kd = 2, .out_min = -2, .out_max = 2 }, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Plant pl = plant_make(PLANT_GAIN, PLANT_TAU, PLANT_DEAD_STEPS, 0, 0);
                double measurement, before, derivative, bumpless, naive_jump;
                Pid pid, naive;

                pid_init(&pid, &cases[i].before, 0);
                measurement = run_partway(&pid, &pl);
                before = pid.output;
                naive = pid;

                pid_set_params(&pid, &cases[i].after);
                assert_true(pid.output == before);
                derivative = pid.derivative;

                /* The next update with the very same measurement moves the
                 * output only by what one step of the new integral adds
                 * and what the derivative's filter decays (the measurement
                 * stood still). */
                bumpless = pid_update(&pid, 1.0, measurement, DT) - before;
                assert_at_most(fabs(bumpless), cases[i].after.ki * fabs(1.0 - measurement) * DT +
                                                        fabs(derivative) + 1e-9,
                               "bumpless step");

                /* Swapping the gains under the old integral would have
                 * jumped: the check above is not vacuous. */
                naive.params = cases[i].after;
                naive_jump = pid_update(&naive, 1.0, measurement, DT) - before;
                print_message("case %zu: step %.5f bumpless, %.5f naive\n", i, bumpless, naive_jump);
                if (cases[i].naive_jumps)
                        assert_true(fabs(naive_jump) > 10 * fabs(bumpless));
        }
}

static void test_new_bounds_clamp_output(void **state) {
        const PidParams wide = { .kp = 1, .ki = 1, .out_min = 0, .out_max = 10 };
        PidParams narrow = wide;
        Pid pid;

        pid_init(&pid, &wide, 8);
        narrow.out_max = 4;
        pid_set_params(&pid, &narrow);
        assert_true(pid.output == 4);
        assert_true(pid.integral <= 4);
        /* At zero error the output now stays at the new bound. */
        assert_near(pid_update(&pid, 1, 1, DT), 4, 1e-12, "clamped");
}

/* Two loops drive one budget; the lower output wins (as the node model
 * takes the minimum of the per-resource budgets). The loop that loses is
 * told what was applied. Returns the step at which b took over, with the
 * applied output just before and at that step. */
static size_t min_select(bool track, double *ret_before, double *ret_at) {
        const PidParams params = { .kp = 0.5, .ki = 0.3, .out_min = 0, .out_max = 1 };
        /* a keeps plant a at 1 (needs u = 0.5); b keeps plant b at 1,
         * which needs u = 1 and more until b's disturbance arrives. */
        Plant pa = plant_make(2, 2, 5, 0.5, 1), pb = plant_make(1, 2, 5, 0.5, 0.5);
        double applied = 0.5;
        Pid a, b;

        pid_init(&a, &params, 0.5);
        pid_init(&b, &params, 0.5);
        for (size_t k = 0; k < 2000; k++) {
                double ua, ub, previous = applied;

                if (k == 300)
                        pb.disturbance = 0.8; /* b now needs u = 0.2 */
                ua = pid_update(&a, 1, pa.y, DT);
                ub = pid_update(&b, 1, pb.y, DT);
                applied = fmin(ua, ub);
                if (track) {
                        pid_track(&a, applied, DT);
                        pid_track(&b, applied, DT);
                }
                plant_step(&pa, applied);
                plant_step(&pb, applied);
                if (k > 300 && ub < ua) {
                        *ret_before = previous;
                        *ret_at = applied;
                        return k - 300;
                }
        }
        fail_msg("b never took over");
        return SIZE_MAX;
}

static void test_track_takes_over_without_jump(void **state) {
        double before, at, naive_before, naive_at;
        size_t tracked, untracked;

        tracked = min_select(true, &before, &at);
        untracked = min_select(false, &naive_before, &naive_at);
        print_message("takeover after %zu steps tracked (%.4f -> %.4f), %zu untracked\n", tracked, before, at,
                      untracked);

        /* Tracked, b was ready: it takes over within about the dead time
         * and the lag of its plant, and from where the budget was. */
        assert_at_most(tracked, 30, "takeover steps");
        assert_at_most(fabs(at - before), 0.05, "takeover step size");
        /* Untracked, b's integral sat at the top of the range and had to
         * unwind first. */
        assert_true(untracked > 2 * tracked);
}

static void test_track_clamps_and_moves_rate_origin(void **state) {
        const PidParams params = { .kp = 1, .ki = 1, .out_min = 0, .out_max = 1, .rate_up = 0.1 };
        Pid pid;

        pid_init(&pid, &params, 0.8);
        pid_track(&pid, -5, 10 * DT); /* a fail-safe below the range */
        assert_true(pid.output == 0);
        assert_true(pid.integral >= 0);
        /* Rising again from the applied 0, not from the 0.8 it had. */
        assert_near(pid_update(&pid, 10, 0, DT), 0.1, 1e-12, "first rise");
}

static void test_reset(void **state) {
        const PidParams params = {
                .kp = 1, .ki = 0.5, .kd = 1, .out_min = 0, .out_max = 2,
        };
        Pid pid;

        pid_init(&pid, &params, 0);
        for (int k = 0; k < 100; k++)
                pid_update(&pid, 1, 0.2 + 0.001 * k, DT);
        assert_true(pid.integral != 0.3);

        pid_reset(&pid, 0.3);
        assert_true(pid.output == 0.3);
        assert_true(pid.integral == 0.3);
        assert_true(pid.derivative == 0);
        assert_false(pid.has_measurement);
        /* The first measurement after the reset gives no derivative kick,
         * however far it is from the one before. */
        assert_near(pid_update(&pid, 5, 5, DT), 0.3, 1e-12, "after reset");
        assert_true(pid.terms.derivative == 0);

        pid_reset(&pid, 7);
        assert_true(pid.output == 2);
        pid_reset(&pid, -7);
        assert_true(pid.output == 0);
}

static void test_invalid_inputs(void **state) {
        const PidParams params = { .kp = 1, .ki = 0.5, .kd = 0.2, .out_min = 0, .out_max = 2 };
        static const struct {
                double setpoint, measurement, dt;
        } cases[] = {
                { 1, 0.5, 0 },
                { 1, 0.5, -DT },
                { 1, 0.5, NAN },
                { 1, 0.5, INFINITY },
                { NAN, 0.5, DT },
                { INFINITY, 0.5, DT },
                { 1, NAN, DT },
                { 1, -INFINITY, DT },
        };
        Pid pid, saved;

        pid_init(&pid, &params, 0.4);
        pid_update(&pid, 1, 0.2, DT);
        pid_update(&pid, 1, 0.3, DT);
        saved = pid;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_true(pid_update(&pid, cases[i].setpoint, cases[i].measurement, cases[i].dt) == saved.output);
                assert_memory_equal(&pid, &saved, sizeof(pid));
        }
        pid_track(&pid, NAN, DT);
        pid_track(&pid, 1, 0);
        pid_track(&pid, 1, -1);
        assert_memory_equal(&pid, &saved, sizeof(pid));

        /* A valid step afterwards still works. */
        assert_true(pid_update(&pid, 1, 0.3, DT) != saved.output);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_step_response),
                cmocka_unit_test(test_no_windup),
                cmocka_unit_test(test_integral_clamped_and_terms),
                cmocka_unit_test(test_derivative_on_measurement),
                cmocka_unit_test(test_tracking_gain),
                cmocka_unit_test(test_dead_band_holds_still),
                cmocka_unit_test(test_rate_limits),
                cmocka_unit_test(test_bumpless_param_change),
                cmocka_unit_test(test_new_bounds_clamp_output),
                cmocka_unit_test(test_track_takes_over_without_jump),
                cmocka_unit_test(test_track_clamps_and_moves_rate_origin),
                cmocka_unit_test(test_reset),
                cmocka_unit_test(test_invalid_inputs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
