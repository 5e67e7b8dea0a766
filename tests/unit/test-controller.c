/* SPDX-License-Identifier: Apache-2.0 */
/* One resource's controller: the budget moves within its bounds at the
 * step limits, the lowest indicator's budget wins, a stale indicator puts
 * the budget at min (and a missing one stops growth), parameter changes
 * keep the budget, violations are flagged, and in closed loop with a
 * simulated node the latency settles near its target. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qos/controller.h"

static const ControllerParams cpu_params = {
        .kp = 0.1,
        .ki = 0.2,
        .kd = 0,
        .dead_band = 0.05,
        .min = 500,
        .max = 4000,
        .step_up = 500,
        .step_down = 4000,
        .stale_ticks = 3,
};

static void all_unused(IndicatorReading r[_INDICATOR_MAX]) {
        for (int i = 0; i < _INDICATOR_MAX; i++)
                r[i] = (IndicatorReading) { .state = INDICATOR_UNUSED, .target = 1 };
}

static IndicatorReading reading(IndicatorState state, double value, double target) {
        return (IndicatorReading) { .state = state, .value = value, .target = target };
}

static void test_starts_at_min_and_grows_at_step_up(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        double prev = 500;

        controller_init(&c, RESOURCE_CPU, &cpu_params);
        all_unused(r);
        /* Latency-sensitive side idle: run-queue p99 0 against 200 us. */
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 0, 200);
        for (int tick = 0; tick < 10; tick++) {
                ControllerDecision d = controller_step(&c, r, 1.0);

                assert_false(d.fail_safe);
                assert_int_equal(d.limiting, INDICATOR_CPU_RUNQUEUE_P99);
                assert_true(d.budget >= prev - 1e-6);
                assert_true(d.budget <= prev + 500 + 1e-6);
                assert_true(d.budget <= 4000 + 1e-6);
                prev = d.budget;
        }
        /* 7 ticks at +500 reach the top, and it stays there. */
        assert_true(fabs(prev - 4000) < 1e-6);
}

static void test_falls_to_min_at_once_under_pressure(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerDecision d;

        controller_init(&c, RESOURCE_CPU, &cpu_params);
        all_unused(r);
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 0, 200);
        for (int tick = 0; tick < 10; tick++)
                (void) controller_step(&c, r, 1.0);
        /* p99 at 3 ms, 15 times the target: the budget drops as far as
         * step_down allows (the whole range here) in one tick. */
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 3000, 200);
        d = controller_step(&c, r, 1.0);
        assert_true(d.violated);
        assert_true(d.budget < 4000 - 1000);
        d = controller_step(&c, r, 1.0);
        assert_true(d.at_min);
        assert_true(fabs(d.budget - 500) < 1e-6);
}

static void test_most_conservative_wins(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerDecision d = {};

        controller_init(&c, RESOURCE_CPU, &cpu_params);
        all_unused(r);
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 10, 200);     /* fine: grow */
        r[INDICATOR_CPU_UTILIZATION] = reading(INDICATOR_PRESENT, 0.95, 0.9); /* over the ceiling */
        for (int tick = 0; tick < 5; tick++)
                d = controller_step(&c, r, 1.0);
        assert_int_equal(d.limiting, INDICATOR_CPU_UTILIZATION);
        assert_true(d.budget < 1000);
        /* Other resources' indicators are not this controller's. */
        r[INDICATOR_MEMORY_AVAILABLE] = reading(INDICATOR_MISSING, 0, 0.1);
        for (int tick = 0; tick < 5; tick++)
                d = controller_step(&c, r, 1.0);
        assert_false(d.fail_safe);
}

static void test_missing_holds_then_fails_safe(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerDecision d;
        double before;

        controller_init(&c, RESOURCE_CPU, &cpu_params);
        all_unused(r);
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 0, 200);
        r[INDICATOR_CPU_UTILIZATION] = reading(INDICATOR_PRESENT, 0.1, 0.9);
        for (int tick = 0; tick < 4; tick++)
                d = controller_step(&c, r, 1.0);
        before = d.budget;
        assert_true(before > 1500);

        /* The run-queue sensor goes down: no growth on the other word... */
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_MISSING, 0, 200);
        for (unsigned tick = 1; tick < cpu_params.stale_ticks; tick++) {
                d = controller_step(&c, r, 1.0);
                assert_false(d.fail_safe);
                assert_true(d.budget <= before + 1e-6);
        }
        /* ...and at stale_ticks the budget goes to its minimum. */
        d = controller_step(&c, r, 1.0);
        assert_true(d.fail_safe);
        assert_true(d.at_min);
        assert_true(fabs(d.budget - 500) < 1e-6);
        assert_false(d.violated);

        /* Back: the controller resumes from min at the step limit. */
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 0, 200);
        d = controller_step(&c, r, 1.0);
        assert_false(d.fail_safe);
        assert_true(d.budget <= 1000 + 1e-6);
}

static void test_unused_is_not_stale(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerDecision d = {};

        controller_init(&c, RESOURCE_MEMORY, &(ControllerParams) { .kp = 0.1, .ki = 0.2, .dead_band = 0.02,
                                                                   .min = 256, .max = 8192, .step_up = 256,
                                                                   .step_down = 1024, .stale_ticks = 2 });
        all_unused(r);
        /* Plenty available (50% against 10%), no cgroup PSI (v1). */
        r[INDICATOR_MEMORY_AVAILABLE] = reading(INDICATOR_PRESENT, 0.5, 0.1);
        r[INDICATOR_MEMORY_RECLAIM_STALL] = reading(INDICATOR_PRESENT, 0, 10);
        for (int tick = 0; tick < 10; tick++)
                d = controller_step(&c, r, 1.0);
        assert_false(d.fail_safe);
        assert_true(d.budget > 256 + 9 * 256 - 1e-6 - 1);
}

static void test_nothing_present_holds(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerDecision d;

        controller_init(&c, RESOURCE_IO, &(ControllerParams) { .kp = 0.1, .ki = 0.2, .dead_band = 0.05, .min = 10,
                                                               .max = 1000, .step_up = 50, .step_down = 200,
                                                               .stale_ticks = 5 });
        all_unused(r);
        d = controller_step(&c, r, 1.0);
        assert_true(d.holding);
        assert_true(fabs(d.budget - 10) < 1e-9);
}

static void test_reload_keeps_the_budget(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        ControllerParams p = cpu_params;
        ControllerDecision d = {};
        double before;

        controller_init(&c, RESOURCE_CPU, &p);
        all_unused(r);
        r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, 150, 200);
        for (int tick = 0; tick < 4; tick++)
                d = controller_step(&c, r, 1.0);
        before = d.budget;

        /* New gains and a wider range: the budget stays where it was. */
        p.kp = 2.0;
        p.max = 8000;
        controller_set_params(&c, &p);
        assert_true(fabs(controller_budget(&c.params, c.u) - before) < 1e-6);
        /* And the next step moves from there by at most step_up. */
        d = controller_step(&c, r, 1.0);
        assert_true(d.budget <= before + 500 + 1e-6);
        assert_true(d.budget >= before - 4000 - 1e-6);
}

/* A node: latency rises steeply once best-effort gets more than the CPU
 * the latency-sensitive side leaves (1500 of 4000 millicores). */
static double simulated_p99(double be_budget) {
        double excess = fmax(0, be_budget - 2500);

        return 80 + excess * 1.0; /* us */
}

static void test_closed_loop_settles_near_target(void **state) {
        ResourceController c;
        IndicatorReading r[_INDICATOR_MAX];
        double p99 = simulated_p99(500), worst_late = 0;
        unsigned over = 0;

        controller_init(&c, RESOURCE_CPU, &cpu_params);
        all_unused(r);
        for (int tick = 0; tick < 120; tick++) {
                ControllerDecision d;

                r[INDICATOR_CPU_RUNQUEUE_P99] = reading(INDICATOR_PRESENT, p99, 200);
                d = controller_step(&c, r, 1.0);
                p99 = simulated_p99(d.budget);
                if (tick >= 60) {
                        worst_late = fmax(worst_late, p99);
                        over += p99 > 200 * 1.5;
                }
        }
        /* Late in the run the latency stays below 1.5x its target: the
         * loop settled rather than cycling over the cliff. */
        assert_true(over == 0);
        assert_true(worst_late < 1500);
        /* And best-effort is not starved: it uses most of what is free. */
        assert_true(controller_budget(&c.params, c.u) > 1800);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_starts_at_min_and_grows_at_step_up),
                cmocka_unit_test(test_falls_to_min_at_once_under_pressure),
                cmocka_unit_test(test_most_conservative_wins),
                cmocka_unit_test(test_missing_holds_then_fails_safe),
                cmocka_unit_test(test_unused_is_not_stale),
                cmocka_unit_test(test_nothing_present_holds),
                cmocka_unit_test(test_reload_keeps_the_budget),
                cmocka_unit_test(test_closed_loop_settles_near_target),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
