/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics-encoder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "protobuf-check.h"

/* What an empty writer reserves: a scrape of an idle node fits. */
#define METRICS_INITIAL_SIZE (16 * 1024)
/* Integers up to this are written as integers: a double holds them exactly. */
#define METRICS_EXACT_INTEGER_MAX 9007199254740992.0 /* 2^53 */

static const char *const content_types[_METRICS_FORMAT_MAX] = {
        [METRICS_FORMAT_TEXT] = "text/plain; version=0.0.4; charset=utf-8",
        [METRICS_FORMAT_OPENMETRICS] = "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

const char *metrics_format_content_type(MetricsFormat f) {
        return (unsigned) f < _METRICS_FORMAT_MAX ? content_types[f] : NULL;
}

/* ---- the growing buffer ---- */

static bool text_reserve(MetricsText *t, size_t more) {
        size_t want;
        char *n;

        if (t->failed)
                return false;
        if (t->size - t->len > more)
                return true;
        want = MAX(t->size * 2, t->len + more + 1);
        want = MAX(want, (size_t) 256);
        n = realloc(t->data, want);
        if (!n) {
                t->failed = true;
                return false;
        }
        t->data = n;
        t->size = want;
        return true;
}

static void text_append(MetricsText *t, const char *s, size_t n) {
        if (!text_reserve(t, n))
                return;
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = 0;
}

static void text_puts(MetricsText *t, const char *s) {
        text_append(t, s, strlen(s));
}

static void text_putc(MetricsText *t, char c) {
        text_append(t, &c, 1);
}

/* Faster than printf for the bulk of a scrape, which is counters. */
static void text_put_u64(MetricsText *t, uint64_t v) {
        char buf[24];
        size_t i = sizeof(buf);

        do {
                buf[--i] = (char) ('0' + v % 10);
                v /= 10;
        } while (v);
        text_append(t, buf + i, sizeof(buf) - i);
}

void metrics_text_reset(MetricsText *t) {
        t->len = 0;
        if (t->data)
                t->data[0] = 0;
}

void metrics_text_done(MetricsText *t) {
        free(t->data);
        *t = (MetricsText) {};
}

const char *metrics_text_str(const MetricsText *t) {
        return t->data && !t->failed ? t->data : "";
}

char *metrics_format_double(double v, char buf[static 32]) {
        if (isnan(v))
                return strcpy(buf, "NaN");
        if (isinf(v))
                return strcpy(buf, v > 0 ? "+Inf" : "-Inf");
        if (v == floor(v) && fabs(v) <= METRICS_EXACT_INTEGER_MAX)
                (void) snprintf(buf, 32, "%.0f", v);
        else
                (void) snprintf(buf, 32, "%.15g", v);
        return buf;
}

static void text_put_double(MetricsText *t, double v) {
        char buf[32];

        if (v >= 0 && v <= METRICS_EXACT_INTEGER_MAX && v == floor(v))
                text_put_u64(t, (uint64_t) v);
        else
                text_puts(t, metrics_format_double(v, buf));
}

/* ---- escaping ---- */

/* Label values in both formats, and HELP text in OpenMetrics: backslash,
 * newline and (if quote) the double quote are escaped. Bytes of invalid
 * UTF-8 become '?': both formats require UTF-8, and a parser that meets
 * anything else drops the whole scrape. */
static void text_put_escaped(MetricsText *t, const char *s, bool quote) {
        size_t len = strlen(s);
        bool utf8 = utf8_is_valid_c_string((const uint8_t *) s, len);
        const char *run = s;

        for (const char *p = s; p < s + len; p++) {
                const char *esc = NULL;

                if (*p == '\\')
                        esc = "\\\\";
                else if (*p == '\n')
                        esc = "\\n";
                else if (*p == '"' && quote)
                        esc = "\\\"";
                else if (!utf8 && (unsigned char) *p >= 0x80)
                        esc = "?";
                if (!esc)
                        continue;
                text_append(t, run, (size_t) (p - run));
                text_puts(t, esc);
                run = p + 1;
        }
        text_append(t, run, (size_t) (s + len - run));
}

void metrics_labels_add(MetricsText *labels, const char *name, const char *value) {
        if (labels->len > 0)
                text_putc(labels, ',');
        text_puts(labels, name);
        text_puts(labels, "=\"");
        text_put_escaped(labels, value, true);
        text_putc(labels, '"');
}

/* ---- families and samples ---- */

int metrics_writer_init(MetricsWriter *w, MetricsFormat format, size_t size_hint) {
        *w = (MetricsWriter) { .format = format };
        if (!text_reserve(&w->out, size_hint ?: METRICS_INITIAL_SIZE))
                return -ENOMEM;
        metrics_text_reset(&w->out);
        return 0;
}

void metrics_writer_done(MetricsWriter *w) {
        metrics_text_done(&w->out);
        w->family = NULL;
}

static const char *const type_names[_METRIC_TYPE_MAX] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
        [METRIC_INFO] = "info",
};

/* The name samples of the current family carry (before any histogram
 * suffix). */
static void put_sample_name(MetricsWriter *w) {
        text_puts(&w->out, w->family->name);
        if (w->family->type == METRIC_COUNTER)
                text_puts(&w->out, "_total");
        else if (w->family->type == METRIC_INFO)
                text_puts(&w->out, "_info");
}

/* The name on HELP/TYPE lines: OpenMetrics names the family, the text
 * format names the samples (it has neither "_total" families nor infos). */
static void put_family_name(MetricsWriter *w) {
        if (w->format == METRICS_FORMAT_OPENMETRICS)
                text_puts(&w->out, w->family->name);
        else
                put_sample_name(w);
}

void metrics_family(MetricsWriter *w, const MetricFamily *f) {
        bool om = w->format == METRICS_FORMAT_OPENMETRICS;

        w->family = f;
        text_puts(&w->out, "# HELP ");
        put_family_name(w);
        text_putc(&w->out, ' ');
        if (om)
                text_put_escaped(&w->out, f->help, true);
        else
                /* 0.0.4 escapes only backslash and newline in HELP. */
                text_put_escaped(&w->out, f->help, false);
        text_puts(&w->out, "\n# TYPE ");
        put_family_name(w);
        text_putc(&w->out, ' ');
        text_puts(&w->out, !om && f->type == METRIC_INFO ? "gauge" : type_names[f->type]);
        text_putc(&w->out, '\n');
        if (om && f->unit) {
                text_puts(&w->out, "# UNIT ");
                text_puts(&w->out, f->name);
                text_putc(&w->out, ' ');
                text_puts(&w->out, f->unit);
                text_putc(&w->out, '\n');
        }
}

static void put_labels(MetricsWriter *w, const char *labels, const char *extra, const char *le) {
        bool has_labels = labels && labels[0], has_extra = extra && extra[0];
        bool first = true;

        if (!has_labels && !has_extra && !le)
                return;
        text_putc(&w->out, '{');
        if (has_labels) {
                text_puts(&w->out, labels);
                first = false;
        }
        if (has_extra) {
                if (!first)
                        text_putc(&w->out, ',');
                text_puts(&w->out, extra);
                first = false;
        }
        if (le) {
                if (!first)
                        text_putc(&w->out, ',');
                text_puts(&w->out, "le=\"");
                text_puts(&w->out, le);
                text_putc(&w->out, '"');
        }
        text_putc(&w->out, '}');
}

static void put_sample_head(MetricsWriter *w, const char *labels, const char *extra) {
        put_sample_name(w);
        put_labels(w, labels, extra, NULL);
        text_putc(&w->out, ' ');
}

void metrics_sample(MetricsWriter *w, const char *labels, const char *extra, double value) {
        put_sample_head(w, labels, extra);
        text_put_double(&w->out, value);
        text_putc(&w->out, '\n');
}

void metrics_sample_u64(MetricsWriter *w, const char *labels, const char *extra, uint64_t value) {
        put_sample_head(w, labels, extra);
        text_put_u64(&w->out, value);
        text_putc(&w->out, '\n');
}

static void put_histogram_line(MetricsWriter *w, const char *suffix, const char *labels, const char *extra,
                               const char *le) {
        text_puts(&w->out, w->family->name);
        text_puts(&w->out, suffix);
        put_labels(w, labels, extra, le);
        text_putc(&w->out, ' ');
}

void metrics_histogram(MetricsWriter *w, const char *labels, const char *extra, const MetricBuckets *b,
                       const uint64_t *cumulative, uint64_t count, double sum) {
        uint64_t last = 0;

        for (size_t i = 0; i < b->n; i++) {
                /* Never decreasing and never above the total: a parser
                 * refuses (or a query misreads) anything else. */
                last = MIN(MAX(last, cumulative[i]), count);
                put_histogram_line(w, "_bucket", labels, extra, b->le[i]);
                text_put_u64(&w->out, last);
                text_putc(&w->out, '\n');
        }
        put_histogram_line(w, "_bucket", labels, extra, "+Inf");
        text_put_u64(&w->out, count);
        text_putc(&w->out, '\n');
        put_histogram_line(w, "_sum", labels, extra, NULL);
        text_put_double(&w->out, sum);
        text_putc(&w->out, '\n');
        put_histogram_line(w, "_count", labels, extra, NULL);
        text_put_u64(&w->out, count);
        text_putc(&w->out, '\n');
}

int metrics_writer_finish(MetricsWriter *w, char **ret, size_t *ret_len) {
        if (w->format == METRICS_FORMAT_OPENMETRICS)
                text_puts(&w->out, "# EOF\n");
        if (w->out.failed) {
                metrics_writer_done(w);
                return -ENOMEM;
        }
        *ret = w->out.data;
        *ret_len = w->out.len;
        w->out = (MetricsText) {};
        w->family = NULL;
        return 0;
}
