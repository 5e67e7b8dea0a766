/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What /metrics says: every nodeqos_* family, rendered from one published
 * ApiState (the same object for the whole scrape, so the families agree
 * with each other) plus the gRPC call counters. Pure apart from reading
 * the counters: the unit tests and the benchmark render fixture states.
 *
 * metrics-render.c: the agent, the node and the entry point;
 * metrics-pods.c: the per-pod families; metrics-control.c: controllers,
 * reclaimable estimate, evictions, cgroup writes; metrics-grpc.c: the
 * gRPC calls. */

#include <stddef.h>
#include <stdint.h>

#include "api-server.h"
#include "api-state.h"
#include "metrics-encoder.h"

typedef struct MetricsSources {
        const ApiState *state; /* NULL before the first publication */
        uint64_t now_usec;     /* CLOCK_MONOTONIC, for the state's age */
        /* The gRPC call counters: api_server_visit_call_stats() or a
         * test's; NULL for none. */
        void (*visit_calls)(void *calls, ApiCallStatsVisitor visit, void *userdata);
        void *calls;
} MetricsSources;

/* The whole exposition in format f (malloc'd, *ret_len bytes). 0 or -ENOMEM. */
int metrics_render(const MetricsSources *src, MetricsFormat f, char **ret, size_t *ret_len);

/* ---- the parts, for metrics-render.c ---- */

/* The pods' families (nodeqos_pod_*); nothing without a snapshot. */
void metrics_render_pods(MetricsWriter *w, const NodeSnapshot *s);
/* Controllers, reclaimable estimate, evictions, cgroup writes. */
void metrics_render_control(MetricsWriter *w, const ApiState *st);
/* nodeqos_grpc_requests_total and nodeqos_grpc_request_duration_seconds. */
void metrics_render_grpc(MetricsWriter *w, const MetricsSources *src);

/* Writes a family and one sample without labels (for the many single
 * figures). */
void metrics_single(MetricsWriter *w, const MetricFamily *f, double value);

/* The labels of one resource ('resource="cpu"'), rendered once. */
const char *metrics_resource_label(unsigned resource);

/* Samples of a PSI counter family: some (and full where the kernel has it)
 * stall seconds of cpu, memory and io, labelled resource and kind. */
void metrics_psi_samples(MetricsWriter *w, const char *labels, const PsiStats *cpu, const PsiStats *memory,
                         const PsiStats *io);

/* The tick histogram's buckets (tick_duration_bounds_usec in seconds). */
extern const MetricBuckets metrics_tick_buckets;
/* The sensors' log2 histograms as Prometheus buckets: every other power of
 * two from 2^10 ns (~1 us) to 2^34 ns (~17 s). metrics_latency_log2[i] is
 * the bound's power: "le" 2^k ns counts the latencies below 2^k ns, the
 * sum of log2 buckets 0..k-1. */
#define METRICS_LATENCY_BUCKETS 13
extern const unsigned metrics_latency_log2[METRICS_LATENCY_BUCKETS];
extern const MetricBuckets metrics_latency_buckets;
/* A sensor histogram's cumulative counts at those bounds, and its count
 * (never below the buckets' total). Pure. */
void metrics_latency_cumulative(const LatencyHistogram *h, uint64_t ret[static METRICS_LATENCY_BUCKETS],
                                uint64_t *ret_count);
