/* SPDX-License-Identifier: Apache-2.0 */
/* The latency-sensitive side's indicators from a snapshot: down sensors
 * are missing (fail-safe material), cgroup PSI where there is none is
 * unused, idle latency-sensitive pods read 0, best-effort pods never count,
 * and a fresh application report replaces the run-queue latency. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qos/indicators.h"

static const IndicatorTargets targets = {
        .runqueue_p99_usec = 200,
        .cpu_psi = 0.2,
        .cpu_utilization = 0.9,
        .app_slack = 0.1,
        .memory_available = 0.1,
        .reclaim_stall_ms_per_sec = 10,
        .memory_psi = 0.05,
        .io_p99_usec = 5000,
        .io_psi = 0.2,
};

static void fill_node(NodeSnapshot *s) {
        memset(s, 0, sizeof(*s));
        for (int k = 0; k < _SENSOR_MAX; k++)
                s->sensor_up[k] = true;
        s->has_node_cpu = true;
        s->node_cpu_capacity_millicores = 2000;
        s->node_cpu_used_millicores = 1500;
        s->has_node_memory = true;
        s->node_memory = (NodeMemInfo) { .total_bytes = 1000, .available_bytes = 250 };
}

static void test_node_and_sensors(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];

        fill_node(&s);
        s.classes[QOS_CLASS_SHARED_CORES].sensor_tick = (SensorTick) {
                .has_runqueue = true, .runqueue_p99_ns = 150000, .runqueue_count = 500, .reclaim_ns = 4000000
        };
        s.classes[QOS_CLASS_DEDICATED_CORES].sensor_tick =
                (SensorTick) { .has_runqueue = true, .runqueue_p99_ns = 300000, .runqueue_count = 100,
                               .io_p99_ns = { 0, 7000000 }, .io_count = { 0, 12 } };
        /* Best-effort's own suffering is not the indicator. */
        s.classes[QOS_CLASS_RECLAIMED_CORES].sensor_tick =
                (SensorTick) { .has_runqueue = true, .runqueue_p99_ns = 9e9, .reclaim_ns = 9000000000 };

        indicators_read(&s, &targets, NULL, 2.0, r);
        assert_int_equal(r[INDICATOR_CPU_RUNQUEUE_P99].state, INDICATOR_PRESENT);
        assert_true(fabs(r[INDICATOR_CPU_RUNQUEUE_P99].value - 300) < 1e-9); /* the worst LS class */
        assert_true(r[INDICATOR_CPU_RUNQUEUE_P99].target == 200);
        assert_int_equal(r[INDICATOR_CPU_APP_LATENCY].state, INDICATOR_UNUSED);
        assert_true(fabs(r[INDICATOR_CPU_UTILIZATION].value - 0.75) < 1e-9);
        assert_true(fabs(r[INDICATOR_MEMORY_AVAILABLE].value - 0.25) < 1e-9);
        assert_true(indicator_info(INDICATOR_MEMORY_AVAILABLE)->higher_is_better);
        assert_true(fabs(r[INDICATOR_MEMORY_RECLAIM_STALL].value - 2.0) < 1e-9); /* 4 ms in 2 s */
        assert_true(fabs(r[INDICATOR_IO_LATENCY_P99].value - 7000) < 1e-9);
        /* No class has cgroup PSI (v1): those do not apply. */
        assert_int_equal(r[INDICATOR_CPU_PSI].state, INDICATOR_UNUSED);
        assert_int_equal(r[INDICATOR_MEMORY_PSI].state, INDICATOR_UNUSED);
        assert_int_equal(r[INDICATOR_IO_PSI].state, INDICATOR_UNUSED);
}

static void test_few_wakeups_use_the_p90(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];

        fill_node(&s);
        /* 20 wakeups: the p99 is the single worst one. */
        s.classes[QOS_CLASS_SHARED_CORES].sensor_tick = (SensorTick) {
                .has_runqueue = true, .runqueue_p90_ns = 80000, .runqueue_p99_ns = 3000000, .runqueue_count = 20
        };
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_true(fabs(r[INDICATOR_CPU_RUNQUEUE_P99].value - 80) < 1e-9);
        s.classes[QOS_CLASS_SHARED_CORES].sensor_tick.runqueue_count = INDICATOR_RUNQUEUE_MIN_EVENTS_FOR_P99;
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_true(fabs(r[INDICATOR_CPU_RUNQUEUE_P99].value - 3000) < 1e-9);
}

static void test_ceiling_of_one_is_off(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];
        IndicatorTargets t = targets;

        fill_node(&s);
        t.cpu_utilization = 1.0;
        s.has_node_cpu = false; /* not even missing: not asked for */
        indicators_read(&s, &t, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_UTILIZATION].state, INDICATOR_UNUSED);
}

static void test_idle_ls_reads_zero(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];

        fill_node(&s);
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_RUNQUEUE_P99].state, INDICATOR_PRESENT);
        assert_true(r[INDICATOR_CPU_RUNQUEUE_P99].value == 0);
        assert_int_equal(r[INDICATOR_IO_LATENCY_P99].state, INDICATOR_PRESENT);
        assert_true(r[INDICATOR_IO_LATENCY_P99].value == 0);
        assert_true(r[INDICATOR_MEMORY_RECLAIM_STALL].value == 0);
}

static void test_down_is_missing(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];

        fill_node(&s);
        for (int k = 0; k < _SENSOR_MAX; k++)
                s.sensor_up[k] = false;
        s.has_node_cpu = false;
        s.has_node_memory = false;
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_RUNQUEUE_P99].state, INDICATOR_MISSING);
        assert_int_equal(r[INDICATOR_CPU_UTILIZATION].state, INDICATOR_MISSING);
        assert_int_equal(r[INDICATOR_MEMORY_AVAILABLE].state, INDICATOR_MISSING);
        assert_int_equal(r[INDICATOR_MEMORY_RECLAIM_STALL].state, INDICATOR_MISSING);
        assert_int_equal(r[INDICATOR_IO_LATENCY_P99].state, INDICATOR_MISSING);
}

static void test_psi_from_the_burstable_tier(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];

        fill_node(&s);
        /* Pods' own PSI lags (sampled every few ticks): not used. */
        s.classes[QOS_CLASS_SHARED_CORES].has_psi = true;
        s.classes[QOS_CLASS_SHARED_CORES].cpu_psi_some_ratio = 0.9;
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_PSI].state, INDICATOR_UNUSED);

        /* The tier, read every tick: its ratios over the last tick. */
        s.kube_tiers[KUBE_TIER_BURSTABLE] = (ResourceUsage) { .has_psi = true, .has_rates = true,
                                                              .cpu_psi_some_ratio = 0.3,
                                                              .memory_psi_some_ratio = 0.01,
                                                              .io_psi_some_ratio = 0.05 };
        /* The kubepods cgroup holds best-effort's stalls too: never used. */
        s.kube_tiers[KUBE_TIER_GUARANTEED] = (ResourceUsage) { .has_psi = true, .has_rates = true,
                                                               .cpu_psi_some_ratio = 0.95 };
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_PSI].state, INDICATOR_PRESENT);
        assert_true(fabs(r[INDICATOR_CPU_PSI].value - 0.3) < 1e-12);
        assert_true(fabs(r[INDICATOR_MEMORY_PSI].value - 0.01) < 1e-12);
        assert_true(fabs(r[INDICATOR_IO_PSI].value - 0.05) < 1e-12);

        /* First tick: no rates yet, not applicable. */
        s.kube_tiers[KUBE_TIER_BURSTABLE].has_rates = false;
        indicators_read(&s, &targets, NULL, 1.0, r);
        assert_int_equal(r[INDICATOR_MEMORY_PSI].state, INDICATOR_UNUSED);
}

static void test_app_signal_replaces_runqueue(void **state) {
        NodeSnapshot s;
        IndicatorReading r[_INDICATOR_MAX];
        AppSignal app = { .pod_uid = "u1", .p99_usec = 950, .slo_usec = 1000 };

        fill_node(&s);
        s.sensor_up[SENSOR_RUNQUEUE] = false; /* not needed while the app speaks */
        indicators_read(&s, &targets, &app, 1.0, r);
        assert_int_equal(r[INDICATOR_CPU_APP_LATENCY].state, INDICATOR_PRESENT);
        assert_true(r[INDICATOR_CPU_APP_LATENCY].value == 950);
        /* slack target 10%: the p99 is held at 900 us */
        assert_true(fabs(r[INDICATOR_CPU_APP_LATENCY].target - 900) < 1e-9);
        assert_int_equal(r[INDICATOR_CPU_RUNQUEUE_P99].state, INDICATOR_UNUSED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_node_and_sensors),
                cmocka_unit_test(test_few_wakeups_use_the_p90),
                cmocka_unit_test(test_ceiling_of_one_is_off),
                cmocka_unit_test(test_idle_ls_reads_zero),
                cmocka_unit_test(test_down_is_missing),
                cmocka_unit_test(test_psi_from_the_burstable_tier),
                cmocka_unit_test(test_app_signal_replaces_runqueue),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
