/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Prometheus exposition formats, written into one growing buffer: the
 * text format 0.0.4 and OpenMetrics 1.0.0. Pure (no I/O, no clock), so the
 * naming rules, escaping and histogram shapes are unit-tested on strings.
 *
 * The caller names a family once (metrics_family()), then writes its
 * samples; the encoder adds what the format wants around them: "_total"
 * on counter samples (and, in the text format, on the family's HELP/TYPE
 * name), "_info" on info samples (a gauge named *_info in the text format,
 * which has no info type), "# UNIT" lines and the final "# EOF" in
 * OpenMetrics, "_bucket"/"_sum"/"_count" and the "le" label of histograms.
 *
 * Labels are passed pre-rendered ('pod_uid="x",class="y"'), built with
 * metrics_labels_add() which escapes the values; a scrape renders a pod's
 * labels once and reuses them for every family. Allocation failures are
 * sticky: the writer stops appending and metrics_writer_finish() reports
 * -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum MetricsFormat {
        METRICS_FORMAT_TEXT,        /* text/plain; version=0.0.4 */
        METRICS_FORMAT_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
        _METRICS_FORMAT_MAX,
} MetricsFormat;

/* The Content-Type header of a format. */
const char *metrics_format_content_type(MetricsFormat f);

typedef enum MetricType {
        METRIC_COUNTER,
        METRIC_GAUGE,
        METRIC_HISTOGRAM,
        METRIC_INFO,
        _METRIC_TYPE_MAX,
} MetricType;

typedef struct MetricFamily {
        /* Without the "_total" of counters and the "_info" of infos: the
         * OpenMetrics family name. */
        const char *name;
        MetricType type;
        /* The OpenMetrics unit ("seconds", "bytes"), which the name must
         * end with; NULL for none. */
        const char *unit;
        const char *help;
} MetricFamily;

/* A histogram's upper bounds, ascending, without +Inf (always added), as
 * "le" label values rendered once (the same for every series). */
typedef struct MetricBuckets {
        const char *const *le;
        size_t n;
} MetricBuckets;

typedef struct MetricsText {
        char *data;
        size_t len, size;
        bool failed; /* an allocation failed: nothing more is appended */
} MetricsText;

typedef struct MetricsWriter {
        MetricsFormat format;
        MetricsText out;
        const MetricFamily *family; /* the family samples go to */
} MetricsWriter;

/* size_hint: the expected output size (0: a small default). 0 or -ENOMEM. */
int metrics_writer_init(MetricsWriter *w, MetricsFormat format, size_t size_hint);
void metrics_writer_done(MetricsWriter *w);

/* Writes the family's HELP, TYPE (and UNIT) lines; the samples that follow
 * belong to it. A family without samples is valid in both formats. */
void metrics_family(MetricsWriter *w, const MetricFamily *f);

/* One sample of the current counter, gauge or info family. labels and
 * extra are rendered label lists (NULL or "" for none), joined by a comma:
 * extra is for a per-sample label such as 'op="read"'. */
void metrics_sample(MetricsWriter *w, const char *labels, const char *extra, double value);
void metrics_sample_u64(MetricsWriter *w, const char *labels, const char *extra, uint64_t value);

/* One series of the current histogram family: cumulative[i] events at or
 * below b->bounds[i] (non-decreasing), count in all (the +Inf bucket and
 * _count), sum the total of the observations in the family's unit. A
 * cumulative value above count is clamped to it, so the series is always
 * well-formed. */
void metrics_histogram(MetricsWriter *w, const char *labels, const char *extra, const MetricBuckets *b,
                       const uint64_t *cumulative, uint64_t count, double sum);

/* Ends the exposition ("# EOF" in OpenMetrics) and hands the text over
 * (malloc'd, *ret_len bytes, NUL-terminated). Returns 0 or -ENOMEM; the
 * writer is empty afterwards either way. */
int metrics_writer_finish(MetricsWriter *w, char **ret, size_t *ret_len);

/* Appends name="value" to a label list (with a comma if it is not empty),
 * escaping the value: backslash, double quote and newline; a value that is
 * not valid UTF-8 has its bytes above 0x7f replaced by '?'. */
void metrics_labels_add(MetricsText *labels, const char *name, const char *value);
/* Empties a label list, keeping its memory. */
void metrics_text_reset(MetricsText *t);
void metrics_text_done(MetricsText *t);
/* The list as a C string ("" when empty). */
const char *metrics_text_str(const MetricsText *t);

/* A float as the formats write it: shortest exact integers, else up to 15
 * significant digits; "NaN", "+Inf", "-Inf". buf must hold 32 bytes.
 * Returns buf. */
char *metrics_format_double(double v, char buf[static 32]);
