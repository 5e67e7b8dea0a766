/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC API's calls: how many each method answered with each status,
 * and how long they took, per socket (endpoint: admin, cpu, memory). */
#include <string.h>

#include "macro.h"
#include "metrics-render.h"
#include "rpc.h"

#define USEC_PER_SEC 1e6

static const MetricFamily requests = {
        "nodeqos_grpc_requests", METRIC_COUNTER, NULL,
        "Unary gRPC calls answered, by socket, service, method and status code (paths not served: "
        "service and method \"unknown\"). Health Watch streams are not counted.",
};
static const MetricFamily duration = {
        "nodeqos_grpc_request_duration_seconds", METRIC_HISTOGRAM, "seconds",
        "Time from a unary call's arrival to its status being sent, including a wait for the event loop.",
};

static const char *const latency_le[API_CALL_LATENCY_BUCKETS] = {
        "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
};
static const MetricBuckets latency_buckets = { latency_le, API_CALL_LATENCY_BUCKETS };

typedef struct GrpcScrape {
        MetricsWriter *w;
        MetricsText labels;
        bool histograms; /* the second pass */
} GrpcScrape;

/* endpoint, service and method of "/pkg.Service/Method" (the client's path
 * is never a label: only the table's, or "unknown"). */
static void method_labels(MetricsText *t, const char *endpoint, const char *path) {
        const char *slash = path ? strrchr(path, '/') : NULL;

        metrics_text_reset(t);
        metrics_labels_add(t, "endpoint", endpoint);
        if (!slash || path[0] != '/' || slash == path) {
                metrics_labels_add(t, "service", "unknown");
                metrics_labels_add(t, "method", "unknown");
                return;
        }
        /* The service is the text between the two slashes. */
        char service[256];
        size_t n = MIN((size_t) (slash - path - 1), sizeof(service) - 1);

        memcpy(service, path + 1, n);
        service[n] = 0;
        metrics_labels_add(t, "service", service);
        metrics_labels_add(t, "method", slash + 1);
}

static void visit(const char *endpoint, const char *path, const ApiCallTotals *t, void *userdata) {
        GrpcScrape *g = userdata;
        char code[64];

        method_labels(&g->labels, endpoint, path);
        g->w->out.failed = g->w->out.failed || g->labels.failed;
        if (g->histograms) {
                if (t->count > 0)
                        metrics_histogram(g->w, metrics_text_str(&g->labels), NULL, &latency_buckets, t->cumulative,
                                          t->count, (double) t->sum_usec / USEC_PER_SEC);
                return;
        }
        for (int s = 0; s < API_CALL_STATUS_MAX; s++) {
                /* OK always for a served method, so that rate() has a
                 * series from the start; other codes once they happen. */
                if (t->by_status[s] == 0 && (s != GRPC_STATUS_OK || !path))
                        continue;
                (void) snprintf(code, sizeof(code), "code=\"%s\"", rpc_status_to_string((grpc_status_code) s));
                metrics_sample_u64(g->w, metrics_text_str(&g->labels), code, t->by_status[s]);
        }
}

void metrics_render_grpc(MetricsWriter *w, const MetricsSources *src) {
        GrpcScrape g = { .w = w };

        metrics_family(w, &requests);
        if (src->visit_calls)
                src->visit_calls(src->calls, visit, &g);
        metrics_family(w, &duration);
        g.histograms = true;
        if (src->visit_calls)
                src->visit_calls(src->calls, visit, &g);
        metrics_text_done(&g.labels);
}
