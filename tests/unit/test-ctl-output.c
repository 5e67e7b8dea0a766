/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl's output without an agent: the JSON writer and the
 * protobuf reflection, the table, the units, and the commands' tables. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/ctl-commands.h"
#include "agent/ctl-format.h"
#include "agent/ctl-json.h"
#include "agent/ctl-table.h"
#include "agent/macro.h"

/* Captures what a writer prints. */
typedef struct Capture {
        char *buf;
        size_t len;
        FILE *f;
} Capture;

static FILE *capture_start(Capture *c) {
        *c = (Capture) {};
        c->f = open_memstream(&c->buf, &c->len);
        assert_non_null(c->f);
        return c->f;
}

static char *capture_end(Capture *c) {
        fclose(c->f);
        return c->buf;
}

static void test_json_strings(void **state) {
        static const struct {
                const char *in, *want;
        } cases[] = {
                { "plain", "\"plain\"" },
                { "", "\"\"" },
                { "a\"b\\c", "\"a\\\"b\\\\c\"" },
                { "line\nbreak\ttab\rcr", "\"line\\nbreak\\ttab\\rcr\"" },
                { "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
                { "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
                { "bad \xff byte", "\"bad \\ufffd byte\"" },
                { "cut \xc3", "\"cut \\ufffd\"" },
                { "overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"" },
                { "surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"" },
                { "</script>", "\"</script>\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Capture c;
                JsonWriter w;
                _cleanup_free_ char *out = NULL;

                json_writer_init(&w, capture_start(&c), false);
                json_string(&w, cases[i].in);
                out = capture_end(&c);
                if (strcmp(out, cases[i].want) != 0)
                        print_error("case %zu: %s\n", i, out);
                assert_string_equal(out, cases[i].want);
        }
}

static void test_json_numbers(void **state) {
        static const struct {
                double v;
                const char *want;
        } cases[] = {
                { 0, "0" },   { 0.2, "0.2" },         { -1.5, "-1.5" },       { 1e300, "1e+300" },
                { 1.0 / 3, "0.33333333333333331" },   { NAN, "null" },        { INFINITY, "null" },
                { 123456789012, "123456789012" },     { 5e-324, "4.94065645841247e-324" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Capture c;
                JsonWriter w;
                _cleanup_free_ char *out = NULL;

                json_writer_init(&w, capture_start(&c), false);
                json_double(&w, cases[i].v);
                out = capture_end(&c);
                if (strcmp(out, cases[i].want) != 0)
                        print_error("case %zu: %s\n", i, out);
                assert_string_equal(out, cases[i].want);
                /* And it reads back as the same double. */
                if (isfinite(cases[i].v))
                        assert_true(strtod(out, NULL) == cases[i].v);
        }
}

static void write_sample(JsonWriter *w) {
        json_begin_object(w);
        json_key(w, "a");
        json_uint(w, UINT64_MAX);
        json_key(w, "empty");
        json_begin_array(w);
        json_end_array(w);
        json_key(w, "list");
        json_begin_array(w);
        json_int(w, -3);
        json_bool(w, true);
        json_null(w);
        json_begin_object(w);
        json_end_object(w);
        json_end_array(w);
        json_end_object(w);
}

static void test_json_layout(void **state) {
        Capture c;
        JsonWriter w;
        char *out;

        json_writer_init(&w, capture_start(&c), false);
        write_sample(&w);
        out = capture_end(&c);
        assert_string_equal(out, "{\"a\":18446744073709551615,\"empty\":[],\"list\":[-3,true,null,{}]}");
        free(out);

        json_writer_init(&w, capture_start(&c), true);
        write_sample(&w);
        json_finish(&w);
        out = capture_end(&c);
        assert_string_equal(out, "{\n"
                                 "  \"a\": 18446744073709551615,\n"
                                 "  \"empty\": [],\n"
                                 "  \"list\": [\n"
                                 "    -3,\n"
                                 "    true,\n"
                                 "    null,\n"
                                 "    {}\n"
                                 "  ]\n"
                                 "}\n");
        free(out);
}

static void test_json_message(void **state) {
        Nodeqos__V1__ResourceStatus r = NODEQOS__V1__RESOURCE_STATUS__INIT;
        Nodeqos__V1__Measurement budget = NODEQOS__V1__MEASUREMENT__INIT;
        Nodeqos__V1__WorkloadCounts counts = NODEQOS__V1__WORKLOAD_COUNTS__INIT;
        Nodeqos__V1__WorkloadCounts__ByClassEntry e1 = NODEQOS__V1__WORKLOAD_COUNTS__BY_CLASS_ENTRY__INIT,
                                                  e2 = NODEQOS__V1__WORKLOAD_COUNTS__BY_CLASS_ENTRY__INIT;
        Nodeqos__V1__WorkloadCounts__ByClassEntry *entries[] = { &e1, &e2 };
        Nodeqos__V1__Status st = NODEQOS__V1__STATUS__INIT;
        Nodeqos__V1__ResourceStatus *resources[] = { &r };
        Capture c;
        JsonWriter w;
        char *out;

        r.resource = (char *) "cpu";
        r.controller_enabled = true;
        r.indicator_name = (char *) "p99 \"latency\"";
        r.target = 200;
        budget.value = 1500.5;
        budget.tick = 9;
        r.budget = &budget;
        json_writer_init(&w, capture_start(&c), false);
        json_message(&w, &r.base);
        out = capture_end(&c);
        /* Every field, in field-number order; absent messages null. */
        assert_string_equal(out, "{\"resource\":\"cpu\",\"controller_enabled\":true,"
                                 "\"indicator_name\":\"p99 \\\"latency\\\"\",\"indicator_unit\":\"\",\"target\":200,"
                                 "\"budget_unit\":\"\",\"budget_min\":0,\"budget_max\":0,\"indicator\":null,"
                                 "\"budget\":{\"value\":1500.5,\"tick\":9,\"stale\":false},\"pid\":null,\"limiting_indicator\":\"\",\"evictions\":null}");
        free(out);

        /* Maps are objects; repeated messages arrays. */
        e1.key = (char *) "shared_cores";
        e1.value = 3;
        e2.key = (char *) "reclaimed_cores";
        e2.value = 1;
        counts.by_class = entries;
        counts.n_by_class = 2;
        counts.pods = 4;
        st.counts = &counts;
        st.resources = resources;
        st.n_resources = 1;
        st.version = (char *) "0.1.0";
        json_writer_init(&w, capture_start(&c), false);
        json_message(&w, &st.base);
        out = capture_end(&c);
        assert_non_null(strstr(out, "\"counts\":{\"pods\":4,\"containers\":0,\"other_cgroups\":0,"
                                    "\"by_class\":{\"shared_cores\":3,\"reclaimed_cores\":1}}"));
        assert_non_null(strstr(out, "\"resources\":[{\"resource\":\"cpu\","));
        assert_non_null(strstr(out, "\"sensors\":[],"));
        assert_non_null(strstr(out, "\"cgroup_layout\":null,"));
        assert_non_null(strstr(out, "\"app_signals\":[]}"));
        free(out);
}

static void test_table(void **state) {
        static const char *const headers[] = { "NAME", ">NUM", "NOTE" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));
        Capture c;
        char *out;

        assert_non_null(t);
        assert_int_equal(ctl_table_cell(t, "%s", "a"), 0);
        assert_int_equal(ctl_table_cell(t, "%d", 5), 0);
        assert_int_equal(ctl_table_cell(t, "%s", ""), 0); /* empty last cell: no trailing blanks */
        assert_int_equal(ctl_table_cell(t, "%s", "\xc3\xa9t\xc3\xa9"), 0); /* 3 characters, 5 bytes */
        assert_int_equal(ctl_table_cell(t, "%d", 12345), 0);
        assert_int_equal(ctl_table_cell(t, "%s", "evil\033[2Jname\n"), 0);
        assert_int_equal(ctl_table_cell(t, "%s", "last"), 0); /* an incomplete row */
        assert_int_equal(ctl_table_rows(t), 3);
        ctl_table_print(t, capture_start(&c));
        out = capture_end(&c);
        assert_string_equal(out, "NAME    NUM  NOTE\n"
                                 "a         5\n"
                                 "\xc3\xa9t\xc3\xa9   12345  evil?[2Jname?\n"
                                 "last\n");
        free(out);
}

static void test_format(void **state) {
        static const struct {
                double bytes;
                const char *want;
        } sizes[] = {
                { 0, "0" }, { 1023, "1023" }, { 1024, "1.0Ki" }, { 1536, "1.5Ki" },
                { 3.0 * (1 << 30), "3.0Gi" }, { 1e30, "867361737988.4Ei" }, { NAN, "-" },
        };
        static const struct {
                uint64_t ms;
                const char *want;
        } durations[] = {
                { 0, "0ms" }, { 999, "999ms" }, { 1000, "1s" }, { 61000, "1m1s" }, { 3600000, "1h0m" },
                { 90061000, "1d1h" },
        };
        char buf[CTL_FORMAT_MAX];

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++)
                assert_string_equal(ctl_format_bytes(buf, sizes[i].bytes), sizes[i].want);
        for (size_t i = 0; i < ELEMENTSOF(durations); i++)
                assert_string_equal(ctl_format_duration_ms(buf, durations[i].ms), durations[i].want);
        assert_string_equal(ctl_format_quantity(buf, "bytes", 2048), "2.0Ki");
        assert_string_equal(ctl_format_quantity(buf, "bytes_per_second", 10485760), "10.0Mi/s");
        assert_string_equal(ctl_format_quantity(buf, "millicores", 1499.6), "1500");
}

static void test_pods_print(void **state) {
        Nodeqos__V1__CpuUsage cpu_a = NODEQOS__V1__CPU_USAGE__INIT, cpu_b = NODEQOS__V1__CPU_USAGE__INIT;
        Nodeqos__V1__MemoryUsage mem = NODEQOS__V1__MEMORY_USAGE__INIT;
        Nodeqos__V1__Usage ua = NODEQOS__V1__USAGE__INIT, ub = NODEQOS__V1__USAGE__INIT;
        Nodeqos__V1__Pod a = NODEQOS__V1__POD__INIT, b = NODEQOS__V1__POD__INIT;
        Nodeqos__V1__Pod *pods[] = { &a, &b };
        Nodeqos__V1__ListPodsResponse r = NODEQOS__V1__LIST_PODS_RESPONSE__INIT;
        Capture c;
        char *out;

        cpu_a.millicores = 100;
        cpu_b.millicores = 900;
        cpu_b.throttled_ratio = 0.25;
        mem.usage_bytes = 512 << 20;
        mem.working_set_bytes = 256 << 20;
        ua.has_rates = true;
        ua.cpu = &cpu_a;
        ub.has_rates = true;
        ub.cpu = &cpu_b;
        ub.memory = &mem;
        a.kind = (char *) "pod";
        a.uid = (char *) "aaaa";
        a.qos_class = (char *) "shared_cores";
        a.kube_tier = (char *) "burstable";
        a.usage = &ua;
        b.kind = (char *) "cgroup";
        b.uid = (char *) "";
        b.cgroup = (char *) "batch.slice/job";
        b.qos_class = (char *) "reclaimed_cores";
        b.kube_tier = (char *) "";
        b.usage = &ub;
        r.pods = pods;
        r.n_pods = 2;

        ctl_pods_print(&r, CTL_PODS_BY_CPU, 1, capture_start(&c));
        out = capture_end(&c);
        /* The busiest first, a plain cgroup named by its path, then the rest counted. */
        assert_string_equal(out, "POD              CLASS            TIER  CPU m  THROTTLED   MEMORY  WORKING SET  "
                                 "IO READ  IO WRITE  CPU PSI10  CONTAINERS\n"
                                 "batch.slice/job  reclaimed_cores  -       900      25.0%  512.0Mi      256.0Mi        "
                                 "-         -          -           0\n"
                                 "... and 1 more\n");
        free(out);

        ctl_pods_print(&r, CTL_PODS_AS_LISTED, 0, capture_start(&c));
        out = capture_end(&c);
        assert_true(strstr(out, "aaaa") < strstr(out, "batch.slice/job"));
        free(out);
}

static void test_status_and_reclaimable_print(void **state) {
        Nodeqos__V1__Status st = NODEQOS__V1__STATUS__INIT;
        Nodeqos__V1__AppSignal sig = NODEQOS__V1__APP_SIGNAL__INIT;
        Nodeqos__V1__AppSignal *sigs[] = { &sig };
        Nodeqos__V1__SensorStatus sensor = NODEQOS__V1__SENSOR_STATUS__INIT;
        Nodeqos__V1__SensorStatus *sensors[] = { &sensor };
        Nodeqos__V1__ReclaimableResource rr = NODEQOS__V1__RECLAIMABLE_RESOURCE__INIT;
        Nodeqos__V1__ReclaimableResource *rrs[] = { &rr };
        Nodeqos__V1__GetReclaimableResponse rec = NODEQOS__V1__GET_RECLAIMABLE_RESPONSE__INIT;
        Capture c;
        char *out;

        st.version = (char *) "9.9";
        st.pid = 77;
        st.uptime_ms = 61000;
        st.tick = 5;
        st.tick_interval_ms = 1000;
        st.dry_run = true;
        sensor.name = (char *) "runqueue";
        sensor.reason = (char *) "load refused";
        st.sensors = sensors;
        st.n_sensors = 1;
        sig.pod_uid = (char *) "pod-1";
        sig.latency_us = 1200;
        sig.objective_us = 1000;
        sig.slack = -0.2;
        sig.age_ms = 3000;
        st.app_signals = sigs;
        st.n_app_signals = 1;
        ctl_status_print(&st, capture_start(&c));
        out = capture_end(&c);
        assert_non_null(strstr(out, "nodeqosd 9.9 (pid 77), up 1m1s; tick 5 every 1000 ms"));
        assert_non_null(strstr(out, "dry run ON"));
        assert_non_null(strstr(out, "runqueue  down   load refused\n"));
        assert_non_null(strstr(out, "APP SIGNAL POD  LATENCY US  OBJECTIVE US   SLACK  AGE\n"
                                    "pod-1                 1200          1000  -20.0%   3s\n"));
        free(out);

        rr.resource = (char *) "memory";
        rr.unit = (char *) "bytes";
        rr.capacity = 8.0 * (1 << 30);
        rr.ls_peak = 5.0 * (1 << 30);
        rr.reserve = 1.0 * (1 << 30);
        rr.reclaimable = 2.0 * (1 << 30);
        rec.tick = 12;
        rec.resources = rrs;
        rec.n_resources = 1;
        ctl_reclaimable_print(&rec, capture_start(&c));
        out = capture_end(&c);
        assert_string_equal(out, "tick 12\n"
                                 "RESOURCE  UNIT   CAPACITY  LS PEAK  RESERVE  RECLAIMABLE\n"
                                 "memory    bytes     8.0Gi    5.0Gi    1.0Gi        2.0Gi\n");
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_strings),
                cmocka_unit_test(test_json_numbers),
                cmocka_unit_test(test_json_layout),
                cmocka_unit_test(test_json_message),
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_pods_print),
                cmocka_unit_test(test_status_and_reclaimable_print),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
