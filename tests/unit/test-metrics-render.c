/* SPDX-License-Identifier: Apache-2.0 */
/* What /metrics says for a fixture state: the families and their labels,
 * units converted to base units, the sensors' log2 histograms as
 * cumulative Prometheus buckets, families of a down sensor or an absent
 * controller figure without samples, the gRPC counters; the "le" tables
 * against their bounds; the counters behind them (tick durations, gRPC
 * calls); and the probes /healthz and /readyz. */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api-call-stats.h"
#include "bpf/latency-histogram.h"
#include "macro.h"
#include "metrics-health.h"
#include "metrics-render.h"
#include "tests/lib/metrics-fixture.h"
#include "tick-durations.h"

static char *render(const ApiState *st, MetricsFormat f, void (*visit_calls)(void *, ApiCallStatsVisitor, void *)) {
        MetricsSources src = { .state = st, .now_usec = 10500000, .visit_calls = visit_calls };
        char *out = NULL;
        size_t len = 0;

        assert_int_equal(metrics_render(&src, f, &out, &len), 0);
        assert_int_equal(strlen(out), len);
        return out;
}

static void assert_has(const char *out, const char *line) {
        if (!strstr(out, line))
                fail_msg("missing: %s", line);
}

static void assert_lacks(const char *out, const char *text) {
        if (strstr(out, text))
                fail_msg("unexpected: %s", text);
}

/* Every "# TYPE name" once: a family's samples are never split. */
static void assert_families_unique(const char *out) {
        size_t n = 0;

        for (const char *p = out; (p = strstr(p, "# TYPE ")); p++, n++) {
                size_t len = strcspn(p + 7, " ");
                char name[128];

                assert_true(len < sizeof(name));
                memcpy(name, p + 7, len);
                name[len] = 0;
                for (const char *q = strstr(p + 1, "# TYPE "); q; q = strstr(q + 1, "# TYPE "))
                        if (strncmp(q + 7, name, len) == 0 && q[7 + len] == ' ')
                                fail_msg("family %s twice", name);
        }
        assert_true(n > 40);
}

static void test_families(void **state) {
        _cleanup_(api_state_unrefp) ApiState *st = metrics_fixture_state(3, 2);
        _cleanup_free_ char *out = NULL;

        assert_non_null(st);
        out = render(st, METRICS_FORMAT_TEXT, NULL);

        assert_has(out, "\nnodeqos_build_info{version=\"");
        assert_has(out, "\nnodeqos_ticks_total 42\n");
        assert_has(out, "\nnodeqos_state_age_seconds 0.5\n");
        assert_has(out, "\nnodeqos_sensor_up{sensor=\"block_io\"} 1\n");
        assert_has(out, "\nnodeqos_workloads{class=\"shared_cores\"} 3\n");
        assert_has(out, "\nnodeqos_node_pressure_stall_seconds_total{resource=\"cpu\",kind=\"some\"} 5\n");
        /* the node's cpu PSI has no "full" line */
        assert_lacks(out, "nodeqos_node_pressure_stall_seconds_total{resource=\"cpu\",kind=\"full\"}");
        assert_has(out, "\nnodeqos_node_cpu_used_cores 0.75\n");

        /* a pod: by UID and class; the plain cgroup: by its path, escaped */
        assert_has(out, "\nnodeqos_pod_cpu_usage_seconds_total{pod_uid=\"00000001-0000-4000-8000-000000000001\","
                        "class=\"shared_cores\"} 123.45679\n");
        assert_has(out, "\nnodeqos_pod_io_bytes_total{cgroup=\"batch.slice/job-\\\"2\\\"\",class=\"reclaimed_cores\","
                        "op=\"write\"} 16384\n");
        assert_has(out, "\nnodeqos_pod_memory_working_set_bytes{pod_uid=\"00000000-0000-4000-8000-000000000000\","
                        "class=\"dedicated_cores\"} 8388608\n");
        assert_has(out, "\nnodeqos_pod_pressure_stall_seconds_total{pod_uid=\"00000001-0000-4000-8000-000000000001\","
                        "class=\"shared_cores\",resource=\"io\",kind=\"full\"} 7e-06\n");
        assert_has(out, "# TYPE nodeqos_pod_runqueue_latency_seconds histogram\n");
        assert_has(out, "\nnodeqos_pod_io_latency_seconds_bucket{pod_uid=\"00000000-0000-4000-8000-000000000000\","
                        "class=\"dedicated_cores\",op=\"read\",le=\"+Inf\"} 9\n");

        /* controllers: base units, the unit as a label; what is not
         * published has no sample */
        assert_has(out, "\nnodeqos_controller_indicator{resource=\"cpu\",indicator=\"ls_runqueue_latency_p99\","
                        "unit=\"seconds\"} 0.00035\n");
        assert_has(out, "\nnodeqos_controller_budget{resource=\"cpu\",unit=\"cores\"} 2.5\n");
        assert_lacks(out, "nodeqos_controller_budget{resource=\"memory\"");
        assert_has(out, "\nnodeqos_controller_budget_max{resource=\"memory\",unit=\"bytes\"} 4294967296\n");
        assert_lacks(out, "nodeqos_controller_budget_max{resource=\"cpu\"");
        assert_has(out, "\nnodeqos_controller_target{resource=\"io\",indicator=\"ls_io_latency_p99\","
                        "unit=\"seconds\"} 0.005\n");
        assert_has(out, "\nnodeqos_controller_pid{resource=\"cpu\",term=\"integral\"} 0.8\n");
        assert_lacks(out, "nodeqos_controller_pid{resource=\"memory\"");
        assert_has(out, "\nnodeqos_controller_saturated{resource=\"cpu\"} 1\n");
        assert_has(out, "\nnodeqos_controller_limiting_indicator{resource=\"cpu\",indicator=\"runqueue_p99\"} 1\n");
        assert_has(out, "\nnodeqos_controller_enabled{resource=\"io\"} 0\n");
        assert_has(out, "\nnodeqos_reclaimable{resource=\"cpu\",unit=\"cores\"} 1\n");
        assert_has(out, "\nnodeqos_reclaimable_ls_peak{resource=\"cpu\",unit=\"cores\"} 0.8\n");
        assert_lacks(out, "nodeqos_reclaimable{resource=\"memory\"");
        assert_has(out, "\nnodeqos_evictions_total{resource=\"memory\",mode=\"dry_run\"} 3\n");
        assert_has(out, "\nnodeqos_eviction_failures_total{resource=\"memory\"} 2\n");
        assert_has(out, "\nnodeqos_cgroup_writes_total{knob=\"cpu_quota\",result=\"written\"} 12\n");
        assert_has(out, "\nnodeqos_cgroup_writes_total{knob=\"io_weight\",result=\"refused\"} 0\n");

        /* the families are there even without samples, each once */
        assert_has(out, "# TYPE nodeqos_grpc_requests_total counter\n");
        assert_families_unique(out);
}

/* A log2 histogram with known contents: le 2^k ns holds log2 buckets
 * 0..k-1, +Inf and _count everything, the sum in seconds. */
static void test_latency_buckets(void **state) {
        LatencyHistogram h = {};
        uint64_t cumulative[METRICS_LATENCY_BUCKETS], count;

        latency_histogram_record(&h, 1000);       /* bucket 9: below 2^10 */
        latency_histogram_record(&h, 1024);       /* bucket 10: at 2^10, counted at le 2^12 */
        latency_histogram_record(&h, 3000);       /* bucket 11 */
        latency_histogram_record(&h, 300000);     /* bucket 18: le 2^20 */
        latency_histogram_record(&h, 60ULL << 30); /* beyond 2^34: only +Inf */
        metrics_latency_cumulative(&h, cumulative, &count);

        const uint64_t expect[METRICS_LATENCY_BUCKETS] = { 1, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4 };
        for (unsigned i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
                if (cumulative[i] != expect[i])
                        fail_msg("le 2^%u: %llu, expected %llu", metrics_latency_log2[i],
                                 (unsigned long long) cumulative[i], (unsigned long long) expect[i]);
                if (i > 0)
                        assert_true(cumulative[i] >= cumulative[i - 1]);
        }
        assert_int_equal(count, 5);

        /* A count below the buckets' total (never from the sensors, but a
         * parser must not see +Inf below a bucket): the total wins. */
        h.count = 1;
        metrics_latency_cumulative(&h, cumulative, &count);
        assert_int_equal(count, 5);
}

/* The pre-rendered "le" values are the bounds, exactly. */
static void test_le_tables(void **state) {
        for (unsigned i = 0; i < METRICS_LATENCY_BUCKETS; i++)
                if (strtod(metrics_latency_buckets.le[i], NULL) != ldexp(1, (int) metrics_latency_log2[i]) / 1e9)
                        fail_msg("latency le %s is not 2^%u ns", metrics_latency_buckets.le[i],
                                 metrics_latency_log2[i]);
        assert_int_equal(metrics_tick_buckets.n, TICK_DURATION_BUCKETS);
        for (unsigned i = 0; i < TICK_DURATION_BUCKETS; i++)
                if (strtod(metrics_tick_buckets.le[i], NULL) != (double) tick_duration_bounds_usec[i] / 1e6)
                        fail_msg("tick le %s is not %llu us", metrics_tick_buckets.le[i],
                                 (unsigned long long) tick_duration_bounds_usec[i]);
}

static void test_sensor_down_and_no_snapshot(void **state) {
        _cleanup_(api_state_unrefp) ApiState *st = metrics_fixture_state(2, 1);
        _cleanup_free_ char *out = NULL, *bare = NULL;

        st->snapshot->sensor_up[SENSOR_BLOCK_IO] = false;
        out = render(st, METRICS_FORMAT_TEXT, NULL);
        /* no family at all: zeros would read as "no latency" */
        assert_lacks(out, "nodeqos_pod_io_latency_seconds");
        assert_has(out, "# TYPE nodeqos_pod_runqueue_latency_seconds histogram\n");

        /* Before the first publication: build info only (and the gRPC
         * families, empty). */
        bare = render(NULL, METRICS_FORMAT_OPENMETRICS, NULL);
        assert_has(bare, "nodeqos_build_info{version=\"");
        assert_lacks(bare, "nodeqos_ticks");
        assert_lacks(bare, "nodeqos_pod_");
        assert_true(strlen(bare) > 6 && strcmp(bare + strlen(bare) - 6, "# EOF\n") == 0);
}

static void fake_calls(void *calls, ApiCallStatsVisitor visit, void *userdata) {
        ApiCallCounters c = {}, unknown = {};
        ApiCallTotals t;

        api_call_counters_record(&c, 0, 100);     /* le 0.0001, inclusive */
        api_call_counters_record(&c, 0, 101);
        api_call_counters_record(&c, 5, 3000000); /* NOT_FOUND, above every bound */
        api_call_counters_record(&c, 99, 10);     /* out of range: UNKNOWN */
        api_call_counters_read(&c, &t);
        visit("admin", "/nodeqos.v1.Admin/GetStatus", &t, userdata);

        api_call_counters_read(&unknown, &t); /* nothing: no series */
        visit("cpu", NULL, &t, userdata);
        api_call_counters_record(&unknown, 12, 50);
        api_call_counters_read(&unknown, &t);
        visit("memory", NULL, &t, userdata);
}

static void test_grpc(void **state) {
        _cleanup_free_ char *out = render(NULL, METRICS_FORMAT_TEXT, fake_calls);

        assert_has(out, "\nnodeqos_grpc_requests_total{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",code=\"OK\"} 2\n");
        assert_has(out, "\nnodeqos_grpc_requests_total{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",code=\"NOT_FOUND\"} 1\n");
        assert_has(out, "\nnodeqos_grpc_requests_total{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",code=\"UNKNOWN\"} 1\n");
        assert_lacks(out, "endpoint=\"cpu\"");
        assert_has(out, "\nnodeqos_grpc_requests_total{endpoint=\"memory\",service=\"unknown\",method=\"unknown\","
                        "code=\"UNIMPLEMENTED\"} 1\n");
        assert_has(out, "\nnodeqos_grpc_request_duration_seconds_bucket{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",le=\"0.0001\"} 2\n");
        assert_has(out, "\nnodeqos_grpc_request_duration_seconds_bucket{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",le=\"0.00025\"} 3\n");
        assert_has(out, "\nnodeqos_grpc_request_duration_seconds_bucket{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\",le=\"1\"} 3\n");
        assert_has(out, "\nnodeqos_grpc_request_duration_seconds_count{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\"} 4\n");
        assert_has(out, "\nnodeqos_grpc_request_duration_seconds_sum{endpoint=\"admin\",service=\"nodeqos.v1.Admin\","
                        "method=\"GetStatus\"} 3.000211\n");
}

static void test_tick_durations(void **state) {
        TickDurations h = {};

        tick_durations_observe(&h, 250);     /* at a bound: counted there */
        tick_durations_observe(&h, 251);
        tick_durations_observe(&h, 5000000); /* above all */
        assert_int_equal(h.cumulative[0], 1);
        assert_int_equal(h.cumulative[1], 2);
        assert_int_equal(h.cumulative[TICK_DURATION_BUCKETS - 1], 2);
        assert_int_equal(h.count, 3);
        assert_int_equal(h.sum_usec, 5000501);
}

static void test_probes(void **state) {
        _cleanup_(api_state_unrefp) ApiState *st = metrics_fixture_state(1, 1);
        _cleanup_(api_state_unrefp) ApiState *early = api_state_new();
        char buf[256];

        assert_int_equal(metrics_healthz(NULL, 1, buf, sizeof(buf)), 503);
        assert_int_equal(metrics_readyz(NULL, 1, buf, sizeof(buf)), 503);

        /* built at 10 s, 1 s ticks: healthy up to 3 s later */
        assert_int_equal(metrics_healthz(st, 13000000, buf, sizeof(buf)), 200);
        assert_string_equal(buf, "ok: tick 42, state 3.000 s old\n");
        assert_int_equal(metrics_healthz(st, 13000001, buf, sizeof(buf)), 503);
        assert_non_null(strstr(buf, "unhealthy: the event loop last published 3.0 s ago (tick 42), limit 3.0 s"));
        assert_int_equal(metrics_readyz(st, 13000001, buf, sizeof(buf)), 503);

        /* fast ticks: the floor of 1 s */
        st->tick_interval_usec = 100000;
        assert_int_equal(metrics_healthz(st, 11000000, buf, sizeof(buf)), 200);
        assert_int_equal(metrics_healthz(st, 11000001, buf, sizeof(buf)), 503);

        assert_int_equal(metrics_readyz(st, 10100000, buf, sizeof(buf)), 200);
        assert_string_equal(buf, "ready: tick 42; sensors: runqueue up, reclaim up, block_io up\n");
        st->sensors[1].up = false;
        st->sensors[1].reason = strdup("disabled by configuration");
        assert_int_equal(metrics_readyz(st, 10100000, buf, sizeof(buf)), 200);
        assert_non_null(strstr(buf, "reclaim down - disabled by configuration,"));

        /* alive, but no tick yet: not ready */
        early->built_usec = 5000000;
        early->tick_interval_usec = 1000000;
        assert_int_equal(metrics_healthz(early, 5100000, buf, sizeof(buf)), 200);
        assert_int_equal(metrics_readyz(early, 5100000, buf, sizeof(buf)), 503);
        assert_string_equal(buf, "not ready: no tick has run yet\n");
        /* a short buffer is cut, never overrun */
        assert_int_equal(metrics_readyz(st, 10100000, buf, 20), 200);
        assert_int_equal(strlen(buf), 19);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_families),
                cmocka_unit_test(test_latency_buckets),
                cmocka_unit_test(test_le_tables),
                cmocka_unit_test(test_sensor_down_and_no_snapshot),
                cmocka_unit_test(test_grpc),
                cmocka_unit_test(test_tick_durations),
                cmocka_unit_test(test_probes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
