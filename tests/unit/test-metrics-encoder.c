/* SPDX-License-Identifier: Apache-2.0 */
/* The exposition encoder: exact text of both formats for each family type,
 * label and HELP escaping, histogram buckets that are always cumulative,
 * numbers, "# EOF", and the Accept negotiation (a table of headers). */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "metrics-accept.h"
#include "metrics-encoder.h"

static const MetricFamily counter = { "x_requests", METRIC_COUNTER, NULL, "Requests." };
static const MetricFamily seconds = { "x_busy_seconds", METRIC_COUNTER, "seconds", "Busy time." };
static const MetricFamily gauge = { "x_temperature", METRIC_GAUGE, NULL, "A \"quoted\" \\ help\nline." };
static const MetricFamily info = { "x_build", METRIC_INFO, NULL, "Build." };
static const MetricFamily histogram = { "x_latency_seconds", METRIC_HISTOGRAM, "seconds", "Latency." };

static const char *const le[] = { "0.001", "0.01", "0.1" };
static const MetricBuckets buckets = { le, ELEMENTSOF(le) };

/* Renders the same families in format f. */
static char *render(MetricsFormat f) {
        MetricsWriter w;
        char *out = NULL;
        size_t len = 0;
        /* Not cumulative, and above the count: clamped, never decreasing. */
        const uint64_t cumulative[] = { 2, 1, 9 };

        assert_int_equal(metrics_writer_init(&w, f, 0), 0);
        metrics_family(&w, &counter);
        metrics_sample_u64(&w, "code=\"ok\"", NULL, 7);
        metrics_sample_u64(&w, NULL, "code=\"failed\"", 1);
        metrics_family(&w, &seconds);
        metrics_sample(&w, NULL, NULL, 1.5);
        metrics_family(&w, &gauge);
        metrics_sample(&w, "a=\"1\"", "b=\"2\"", -0.25);
        metrics_family(&w, &info);
        metrics_sample_u64(&w, "version=\"1.0\"", NULL, 1);
        metrics_family(&w, &histogram);
        metrics_histogram(&w, "pod=\"p\"", "op=\"read\"", &buckets, cumulative, 5, 0.042);
        assert_int_equal(metrics_writer_finish(&w, &out, &len), 0);
        assert_int_equal(strlen(out), len);
        return out;
}

static void test_text_format(void **state) {
        _cleanup_free_ char *out = render(METRICS_FORMAT_TEXT);

        assert_string_equal(out,
                            "# HELP x_requests_total Requests.\n"
                            "# TYPE x_requests_total counter\n"
                            "x_requests_total{code=\"ok\"} 7\n"
                            "x_requests_total{code=\"failed\"} 1\n"
                            "# HELP x_busy_seconds_total Busy time.\n"
                            "# TYPE x_busy_seconds_total counter\n"
                            "x_busy_seconds_total 1.5\n"
                            /* 0.0.4 escapes backslash and newline in HELP, not quotes */
                            "# HELP x_temperature A \"quoted\" \\\\ help\\nline.\n"
                            "# TYPE x_temperature gauge\n"
                            "x_temperature{a=\"1\",b=\"2\"} -0.25\n"
                            /* no info type in 0.0.4: a gauge named *_info */
                            "# HELP x_build_info Build.\n"
                            "# TYPE x_build_info gauge\n"
                            "x_build_info{version=\"1.0\"} 1\n"
                            "# HELP x_latency_seconds Latency.\n"
                            "# TYPE x_latency_seconds histogram\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.001\"} 2\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.01\"} 2\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.1\"} 5\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"+Inf\"} 5\n"
                            "x_latency_seconds_sum{pod=\"p\",op=\"read\"} 0.042\n"
                            "x_latency_seconds_count{pod=\"p\",op=\"read\"} 5\n");
}

static void test_openmetrics_format(void **state) {
        _cleanup_free_ char *out = render(METRICS_FORMAT_OPENMETRICS);

        assert_string_equal(out,
                            /* the family without _total, its samples with it */
                            "# HELP x_requests Requests.\n"
                            "# TYPE x_requests counter\n"
                            "x_requests_total{code=\"ok\"} 7\n"
                            "x_requests_total{code=\"failed\"} 1\n"
                            "# HELP x_busy_seconds Busy time.\n"
                            "# TYPE x_busy_seconds counter\n"
                            "# UNIT x_busy_seconds seconds\n"
                            "x_busy_seconds_total 1.5\n"
                            /* OpenMetrics escapes the quote in HELP too */
                            "# HELP x_temperature A \\\"quoted\\\" \\\\ help\\nline.\n"
                            "# TYPE x_temperature gauge\n"
                            "x_temperature{a=\"1\",b=\"2\"} -0.25\n"
                            "# HELP x_build Build.\n"
                            "# TYPE x_build info\n"
                            "x_build_info{version=\"1.0\"} 1\n"
                            "# HELP x_latency_seconds Latency.\n"
                            "# TYPE x_latency_seconds histogram\n"
                            "# UNIT x_latency_seconds seconds\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.001\"} 2\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.01\"} 2\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"0.1\"} 5\n"
                            "x_latency_seconds_bucket{pod=\"p\",op=\"read\",le=\"+Inf\"} 5\n"
                            "x_latency_seconds_sum{pod=\"p\",op=\"read\"} 0.042\n"
                            "x_latency_seconds_count{pod=\"p\",op=\"read\"} 5\n"
                            "# EOF\n");
}

static void test_label_escaping(void **state) {
        static const struct {
                const char *value, *expect;
        } cases[] = {
                { "plain", "k=\"plain\"" },
                { "", "k=\"\"" },
                { "a\"b", "k=\"a\\\"b\"" },
                { "back\\slash", "k=\"back\\\\slash\"" },
                { "new\nline", "k=\"new\\nline\"" },
                { "\\\"\n", "k=\"\\\\\\\"\\n\"" },
                { "caf\xc3\xa9", "k=\"caf\xc3\xa9\"" },     /* valid UTF-8 kept */
                { "bad\xff\xfe.", "k=\"bad??.\"" },          /* invalid: its high bytes replaced */
                { "mix\xc3\xa9\xc3", "k=\"mix???\"" },       /* truncated sequence: the whole value */
                { "tab\there", "k=\"tab\there\"" },          /* only \\, \" and \n are escaped */
        };
        MetricsText t = {};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                metrics_text_reset(&t);
                metrics_labels_add(&t, "k", cases[i].value);
                if (strcmp(metrics_text_str(&t), cases[i].expect) != 0)
                        fail_msg("case %zu: got '%s', expected '%s'", i, metrics_text_str(&t), cases[i].expect);
        }
        metrics_text_reset(&t);
        metrics_labels_add(&t, "a", "1");
        metrics_labels_add(&t, "b", "2");
        assert_string_equal(metrics_text_str(&t), "a=\"1\",b=\"2\"");
        metrics_text_done(&t);
        assert_string_equal(metrics_text_str(&t), "");
}

static void test_numbers(void **state) {
        static const struct {
                double v;
                const char *expect;
        } cases[] = {
                { 0, "0" },
                { 1, "1" },
                { -3, "-3" },
                { 1.5, "1.5" },
                { 0.0002, "0.0002" },
                { 1e-6, "1e-06" },
                { 268435456, "268435456" },
                { 9007199254740992.0, "9007199254740992" },
                { 1e300, "1e+300" },
                { NAN, "NaN" },
                { INFINITY, "+Inf" },
                { -INFINITY, "-Inf" },
        };
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (strcmp(metrics_format_double(cases[i].v, buf), cases[i].expect) != 0)
                        fail_msg("case %zu: got '%s', expected '%s'", i, buf, cases[i].expect);

        /* Large counters are exact, not rounded to a double. */
        MetricsWriter w;
        _cleanup_free_ char *out = NULL;
        size_t len;

        assert_int_equal(metrics_writer_init(&w, METRICS_FORMAT_TEXT, 0), 0);
        metrics_family(&w, &counter);
        metrics_sample_u64(&w, NULL, NULL, UINT64_MAX);
        assert_int_equal(metrics_writer_finish(&w, &out, &len), 0);
        assert_non_null(strstr(out, "\nx_requests_total 18446744073709551615\n"));
}

/* An empty family and an empty exposition are valid; the buffer grows
 * from a tiny hint without losing anything. */
static void test_growth_and_empty(void **state) {
        MetricsWriter w;
        _cleanup_free_ char *out = NULL, *empty = NULL;
        size_t len;

        assert_int_equal(metrics_writer_init(&w, METRICS_FORMAT_OPENMETRICS, 0), 0);
        assert_int_equal(metrics_writer_finish(&w, &empty, &len), 0);
        assert_string_equal(empty, "# EOF\n");

        assert_int_equal(metrics_writer_init(&w, METRICS_FORMAT_TEXT, 1), 0);
        metrics_family(&w, &gauge);
        for (unsigned i = 0; i < 10000; i++)
                metrics_sample_u64(&w, "k=\"v\"", NULL, i);
        assert_int_equal(metrics_writer_finish(&w, &out, &len), 0);
        assert_non_null(strstr(out, "x_temperature{k=\"v\"} 0\n"));
        assert_non_null(strstr(out, "x_temperature{k=\"v\"} 9999\n"));
        assert_int_equal(len, strlen(out));
}

static void test_content_types(void **state) {
        assert_string_equal(metrics_format_content_type(METRICS_FORMAT_TEXT), "text/plain; version=0.0.4; charset=utf-8");
        assert_string_equal(metrics_format_content_type(METRICS_FORMAT_OPENMETRICS),
                            "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assert_null(metrics_format_content_type(_METRICS_FORMAT_MAX));
}

static void test_accept(void **state) {
        static const struct {
                const char *accept;
                MetricsFormat expect;
        } cases[] = {
                { NULL, METRICS_FORMAT_TEXT },
                { "", METRICS_FORMAT_TEXT },
                { "*/*", METRICS_FORMAT_TEXT },
                { "text/plain", METRICS_FORMAT_TEXT },
                /* Prometheus 2.42 */
                { "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                  METRICS_FORMAT_OPENMETRICS },
                { "application/openmetrics-text", METRICS_FORMAT_OPENMETRICS },
                { "Application/OpenMetrics-Text ; Version=\"1.0.0\" ; Q=1", METRICS_FORMAT_OPENMETRICS },
                /* a version we do not write */
                { "application/openmetrics-text;version=0.0.1", METRICS_FORMAT_TEXT },
                { "application/openmetrics-text;version=\"1.0.0.0.0.0.0.0.0.0.0.0\"", METRICS_FORMAT_TEXT },
                /* q decides; a tie goes to the one named explicitly */
                { "text/plain;q=0.9,application/openmetrics-text;q=0.5", METRICS_FORMAT_TEXT },
                { "text/plain;q=0.5,application/openmetrics-text;q=0.9", METRICS_FORMAT_OPENMETRICS },
                { "text/plain,application/openmetrics-text", METRICS_FORMAT_OPENMETRICS },
                { "application/openmetrics-text;q=0", METRICS_FORMAT_TEXT },
                { "application/openmetrics-text;q=0.000,*/*", METRICS_FORMAT_TEXT },
                /* malformed elements are skipped, the rest still counts */
                { "application/openmetrics-text;q=2", METRICS_FORMAT_TEXT },
                { "application/openmetrics-text;q=0.5x", METRICS_FORMAT_TEXT },
                { "garbage, application/openmetrics-text", METRICS_FORMAT_OPENMETRICS },
                { "a/b;x=\"unterminated, application/openmetrics-text", METRICS_FORMAT_TEXT },
                { "a/b;x=\"quoted, comma\", application/openmetrics-text", METRICS_FORMAT_OPENMETRICS },
                { ",,, ,application/openmetrics-text,,", METRICS_FORMAT_OPENMETRICS },
                { "application/openmetrics-textual", METRICS_FORMAT_TEXT },
                { "application/json", METRICS_FORMAT_TEXT },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (metrics_format_negotiate(cases[i].accept) != cases[i].expect)
                        fail_msg("case %zu (%s): expected %s", i, strna(cases[i].accept),
                                 cases[i].expect == METRICS_FORMAT_TEXT ? "text" : "openmetrics");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_format),
                cmocka_unit_test(test_openmetrics_format),
                cmocka_unit_test(test_label_escaping),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_growth_and_empty),
                cmocka_unit_test(test_content_types),
                cmocka_unit_test(test_accept),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
