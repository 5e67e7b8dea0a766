/* SPDX-License-Identifier: Apache-2.0 */
/* The per-pod families (nodeqos_pod_*): cgroup statistics as counters and
 * gauges, and the eBPF sensors' latency histograms. A pod is labelled by
 * its UID (the cgroup tree gives no name or namespace) and class; a plain
 * cgroup managed by a rule by its cgroup path and class. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "macro.h"
#include "metrics-render.h"

#define USEC_PER_SEC 1e6
#define NSEC_PER_SEC 1e9

const unsigned metrics_latency_log2[METRICS_LATENCY_BUCKETS] = { 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34 };
/* 2^k ns in seconds, exactly (test-metrics-render checks them). Every other
 * power of two: a pod's three histograms stay at 16 series each, which at
 * 250 pods per node is already the bulk of the scrape and of Prometheus's
 * series; a 4x step still brackets the default 200 us CPU target between
 * 65 us and 262 us. */
static const char *const latency_le[METRICS_LATENCY_BUCKETS] = {
        "0.000001024", "0.000004096", "0.000016384", "0.000065536", "0.000262144", "0.001048576", "0.004194304",
        "0.016777216", "0.067108864", "0.268435456", "1.073741824", "4.294967296", "17.179869184",
};
const MetricBuckets metrics_latency_buckets = { latency_le, METRICS_LATENCY_BUCKETS };

void metrics_latency_cumulative(const LatencyHistogram *h, uint64_t ret[static METRICS_LATENCY_BUCKETS],
                                uint64_t *ret_count) {
        uint64_t running = 0;
        unsigned b = 0;

        for (unsigned i = 0; i < METRICS_LATENCY_BUCKETS; i++) {
                for (; b < metrics_latency_log2[i] && b < LATENCY_BUCKETS; b++)
                        running += h->buckets[b];
                ret[i] = running;
        }
        for (; b < LATENCY_BUCKETS; b++)
                running += h->buckets[b];
        *ret_count = MAX(h->count, running);
}

static const MetricFamily cpu_usage = {
        "nodeqos_pod_cpu_usage_seconds", METRIC_COUNTER, "seconds", "CPU time used by the pod's cgroup.",
};
static const MetricFamily cpu_throttled = {
        "nodeqos_pod_cpu_throttled_seconds", METRIC_COUNTER, "seconds",
        "Time the pod's cgroup was throttled by its CFS quota.",
};
static const MetricFamily cpu_periods = {
        "nodeqos_pod_cpu_periods", METRIC_COUNTER, NULL, "CFS enforcement periods of the pod's cgroup.",
};
static const MetricFamily cpu_throttled_periods = {
        "nodeqos_pod_cpu_throttled_periods", METRIC_COUNTER, NULL,
        "CFS periods in which the pod's cgroup was throttled.",
};
static const MetricFamily memory_working_set = {
        "nodeqos_pod_memory_working_set_bytes", METRIC_GAUGE, "bytes",
        "Memory usage minus inactive file cache (what the kubelet evicts on).",
};
static const MetricFamily memory_usage = {
        "nodeqos_pod_memory_usage_bytes", METRIC_GAUGE, "bytes", "Memory charged to the pod's cgroup.",
};
static const MetricFamily io_bytes = {
        "nodeqos_pod_io_bytes", METRIC_COUNTER, "bytes",
        "Bytes read and written by the pod's cgroup (v2 io.stat, v1 blkio.throttle counters).",
};
static const MetricFamily io_operations = {
        "nodeqos_pod_io_operations", METRIC_COUNTER, NULL, "Read and write operations of the pod's cgroup.",
};
static const MetricFamily pressure = {
        "nodeqos_pod_pressure_stall_seconds", METRIC_COUNTER, "seconds",
        "The pod cgroup's PSI: time some (or all: kind=full) of its tasks stalled on the resource.",
};
static const MetricFamily runqueue = {
        "nodeqos_pod_runqueue_latency_seconds", METRIC_HISTOGRAM, "seconds",
        "CPU run-queue latency of the pod's tasks: runnable to running (eBPF sensor runqueue).",
};
static const MetricFamily preemptions = {
        "nodeqos_pod_preemptions", METRIC_COUNTER, NULL,
        "Times the pod's tasks were switched out while runnable (eBPF sensor runqueue).",
};
static const MetricFamily cross_preemptions = {
        "nodeqos_pod_cross_cgroup_preemptions", METRIC_COUNTER, NULL,
        "Of the preemptions, those in favour of another cgroup's task.",
};
static const MetricFamily reclaim_stall = {
        "nodeqos_pod_reclaim_stall_seconds", METRIC_COUNTER, "seconds",
        "Time the pod's tasks stalled in memcg or direct reclaim (eBPF sensor reclaim).",
};
static const MetricFamily reclaim_stalls = {
        "nodeqos_pod_reclaim_stalls", METRIC_COUNTER, NULL, "Reclaim stalls of the pod's tasks.",
};
static const MetricFamily io_latency = {
        "nodeqos_pod_io_latency_seconds", METRIC_HISTOGRAM, "seconds",
        "Block request latency, issue to completion, of the pod's IO (eBPF sensor block_io).",
};

static const char *const op_labels[2] = { "op=\"read\"", "op=\"write\"" };

#define NO_FLAG SIZE_MAX
#define NO_SENSOR (-1)
#define USAGE(field) offsetof(WorkloadSnapshot, usage.field)
#define SENSORS(field) offsetof(WorkloadSnapshot, sensors.field)

/* The per-pod counters and gauges, one uint64_t (or a read and a write)
 * each: rendered by one loop. */
static const struct {
        const MetricFamily *family;
        size_t has;      /* offset of the bool that says the value is known, or NO_FLAG */
        int sensor;      /* the sensor that must be up, or NO_SENSOR */
        size_t value[2]; /* offsets of the value (and, for read/write pairs, the write's; 0: none) */
        double divisor;  /* into the base unit; 0: the integer as it is */
} pod_values[] = {
        { &cpu_usage, USAGE(has_cpu), NO_SENSOR, { USAGE(cpu.usage_usec) }, USEC_PER_SEC },
        { &cpu_throttled, USAGE(has_cpu), NO_SENSOR, { USAGE(cpu.throttled_usec) }, USEC_PER_SEC },
        { &cpu_periods, USAGE(has_cpu), NO_SENSOR, { USAGE(cpu.nr_periods) }, 0 },
        { &cpu_throttled_periods, USAGE(has_cpu), NO_SENSOR, { USAGE(cpu.nr_throttled) }, 0 },
        { &memory_working_set, USAGE(has_memory), NO_SENSOR, { USAGE(memory_working_set_bytes) }, 0 },
        { &memory_usage, USAGE(has_memory), NO_SENSOR, { USAGE(memory_usage_bytes) }, 0 },
        { &io_bytes, USAGE(has_io), NO_SENSOR, { USAGE(io.read_bytes), USAGE(io.write_bytes) }, 0 },
        { &io_operations, USAGE(has_io), NO_SENSOR, { USAGE(io.read_ops), USAGE(io.write_ops) }, 0 },
        { &preemptions, NO_FLAG, SENSOR_RUNQUEUE, { SENSORS(preempted) }, 0 },
        { &cross_preemptions, NO_FLAG, SENSOR_RUNQUEUE, { SENSORS(preempted_by_other) }, 0 },
        { &reclaim_stall, NO_FLAG, SENSOR_RECLAIM, { SENSORS(reclaim_ns) }, NSEC_PER_SEC },
        { &reclaim_stalls, NO_FLAG, SENSOR_RECLAIM, { SENSORS(reclaim_count) }, 0 },
};

static uint64_t u64_at(const WorkloadSnapshot *w, size_t offset) {
        return *(const uint64_t *) ((const char *) w + offset);
}

/* Each family walks all workloads: samples of a family must be together. */
typedef struct PodScrape {
        MetricsWriter *w;
        const NodeSnapshot *s;
        MetricsText *labels; /* one rendered label set per workload */
} PodScrape;

static const char *labels_of(const PodScrape *p, size_t i) {
        return metrics_text_str(&p->labels[i]);
}

static void render_values(const PodScrape *p) {
        for (size_t v = 0; v < ELEMENTSOF(pod_values); v++) {
                bool pair = pod_values[v].value[1] != 0;

                /* A sensor that is down has no families at all: zeros
                 * would read as "no stalls" on a dashboard. */
                if (pod_values[v].sensor != NO_SENSOR && !p->s->sensor_up[pod_values[v].sensor])
                        continue;
                metrics_family(p->w, pod_values[v].family);
                for (size_t i = 0; i < p->s->n_workloads; i++) {
                        const WorkloadSnapshot *ws = &p->s->workloads[i];

                        if (pod_values[v].has != NO_FLAG && !*(const bool *) ((const char *) ws + pod_values[v].has))
                                continue;
                        for (unsigned k = 0; k < (pair ? 2u : 1u); k++) {
                                uint64_t x = u64_at(ws, pod_values[v].value[k]);

                                if (pod_values[v].divisor > 0)
                                        metrics_sample(p->w, labels_of(p, i), pair ? op_labels[k] : NULL,
                                                       (double) x / pod_values[v].divisor);
                                else
                                        metrics_sample_u64(p->w, labels_of(p, i), pair ? op_labels[k] : NULL, x);
                        }
                }
        }

        metrics_family(p->w, &pressure);
        for (size_t i = 0; i < p->s->n_workloads; i++) {
                const ResourceUsage *u = &p->s->workloads[i].usage;

                if (u->has_psi)
                        metrics_psi_samples(p->w, labels_of(p, i), &u->cpu_psi, &u->memory_psi, &u->io_psi);
        }
}

static void latency_series(MetricsWriter *w, const char *labels, const char *extra, const LatencyHistogram *h) {
        uint64_t cumulative[METRICS_LATENCY_BUCKETS], count;

        metrics_latency_cumulative(h, cumulative, &count);
        metrics_histogram(w, labels, extra, &metrics_latency_buckets, cumulative, count,
                          (double) h->sum_ns / NSEC_PER_SEC);
}

/* The sensors' histograms; none for a sensor that is down. */
static void render_histograms(const PodScrape *p) {
        MetricsWriter *w = p->w;
        const WorkloadSnapshot *ws = p->s->workloads;
        size_t n = p->s->n_workloads;

        if (p->s->sensor_up[SENSOR_RUNQUEUE]) {
                metrics_family(w, &runqueue);
                for (size_t i = 0; i < n; i++)
                        latency_series(w, labels_of(p, i), NULL, &ws[i].sensors.runqueue);
        }
        if (p->s->sensor_up[SENSOR_BLOCK_IO]) {
                metrics_family(w, &io_latency);
                for (size_t i = 0; i < n; i++)
                        for (unsigned op = 0; op < 2; op++)
                                latency_series(w, labels_of(p, i), op_labels[op], &ws[i].sensors.io[op]);
        }
}

void metrics_render_pods(MetricsWriter *w, const NodeSnapshot *s) {
        PodScrape p = { .w = w, .s = s };

        p.labels = calloc(MAX(s->n_workloads, (size_t) 1), sizeof(MetricsText));
        if (!p.labels) {
                w->out.failed = true;
                return;
        }
        for (size_t i = 0; i < s->n_workloads; i++) {
                const WorkloadSnapshot *ws = &s->workloads[i];

                if (ws->kind == WORKLOAD_POD)
                        metrics_labels_add(&p.labels[i], "pod_uid", ws->uid);
                else
                        metrics_labels_add(&p.labels[i], "cgroup", ws->cgroup);
                metrics_labels_add(&p.labels[i], "class", strna(qos_class_to_string(ws->qos_class)));
                w->out.failed = w->out.failed || p.labels[i].failed;
        }

        render_values(&p);
        render_histograms(&p);

        for (size_t i = 0; i < s->n_workloads; i++)
                metrics_text_done(&p.labels[i]);
        free(p.labels);
}
