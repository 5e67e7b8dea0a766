/* SPDX-License-Identifier: Apache-2.0 */
/* The entry point of a scrape, and the families of the agent itself and of
 * the node. */
#include "metrics-render.h"

#include <errno.h>

#include "macro.h"
#include "nodeqos-build.h"

/* Output size per workload in the text format, measured on the benchmark's
 * fixture (~8.7 KiB with every sensor up, most of it the three latency
 * histograms): reserved up front, so a scrape of 1000 containers does not
 * grow its buffer a dozen times. */
#define METRICS_BYTES_PER_WORKLOAD 9216
#define USEC_PER_SEC 1e6

static const char *const resource_labels[_RESOURCE_MAX] = {
        [RESOURCE_CPU] = "resource=\"cpu\"",
        [RESOURCE_MEMORY] = "resource=\"memory\"",
        [RESOURCE_IO] = "resource=\"io\"",
};

const char *metrics_resource_label(unsigned resource) {
        return resource < _RESOURCE_MAX ? resource_labels[resource] : "";
}

void metrics_single(MetricsWriter *w, const MetricFamily *f, double value) {
        metrics_family(w, f);
        metrics_sample(w, NULL, NULL, value);
}

static const MetricFamily build_info = {
        "nodeqos_build", METRIC_INFO, NULL, "nodeqosd's version; always 1.",
};
static const MetricFamily ticks = {
        "nodeqos_ticks", METRIC_COUNTER, NULL, "Ticks (sense, model, decide, act) run since the start.",
};
static const MetricFamily tick_interval = {
        "nodeqos_tick_interval_seconds", METRIC_GAUGE, "seconds", "The configured period of the tick.",
};
static const MetricFamily state_age = {
        "nodeqos_state_age_seconds", METRIC_GAUGE, "seconds",
        "Time since the event loop last published its state (after every tick); grows when the loop is stuck.",
};
static const MetricFamily uptime = {
        "nodeqos_uptime_seconds", METRIC_GAUGE, "seconds", "Time since the agent's API started.",
};
static const MetricFamily dry_run = {
        "nodeqos_dry_run", METRIC_GAUGE, NULL,
        "1 while in report-only mode (decide and expose, write no cgroup setting), else 0.",
};
static const MetricFamily tick_duration = {
        "nodeqos_tick_duration_seconds", METRIC_HISTOGRAM, "seconds",
        "Wall time of one tick: registry refresh, sampling, sensors, decisions and writes.",
};
static const MetricFamily sensor_up = {
        "nodeqos_sensor_up", METRIC_GAUGE, NULL,
        "1 if the eBPF sensor is loaded, 0 if it is down (disabled or refused; see the log for why).",
};
static const MetricFamily sensor_dropped = {
        "nodeqos_sensor_dropped_events", METRIC_COUNTER, NULL,
        "Sensor events lost to full BPF maps since the start.",
};
static const MetricFamily workloads = {
        "nodeqos_workloads", METRIC_GAUGE, NULL, "Pods and other managed cgroups, by QoS class.",
};
static const MetricFamily containers = {
        "nodeqos_containers", METRIC_GAUGE, NULL, "Containers of the managed pods.",
};

/* The tick histogram's bounds as "le" values; test-metrics-render checks
 * them against tick_duration_bounds_usec. */
static const char *const tick_le[TICK_DURATION_BUCKETS] = {
        "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
};
const MetricBuckets metrics_tick_buckets = { tick_le, TICK_DURATION_BUCKETS };

static void render_agent(MetricsWriter *w, const ApiState *st, uint64_t now_usec) {
        MetricsText labels = {};

        metrics_family(w, &build_info);
        metrics_labels_add(&labels, "version", NODEQOS_VERSION);
        metrics_sample_u64(w, metrics_text_str(&labels), NULL, 1);
        metrics_text_done(&labels);
        if (!st)
                return;

        metrics_family(w, &ticks);
        metrics_sample_u64(w, NULL, NULL, st->tick);
        metrics_single(w, &tick_interval, (double) st->tick_interval_usec / USEC_PER_SEC);
        metrics_single(w, &state_age, (double) (now_usec - MIN(now_usec, st->built_usec)) / USEC_PER_SEC);
        metrics_single(w, &uptime, (double) (now_usec - MIN(now_usec, st->started_usec)) / USEC_PER_SEC);
        metrics_single(w, &dry_run, st->dry_run);

        metrics_family(w, &tick_duration);
        metrics_histogram(w, NULL, NULL, &metrics_tick_buckets, st->tick_durations.cumulative,
                          st->tick_durations.count, (double) st->tick_durations.sum_usec / USEC_PER_SEC);

        metrics_family(w, &sensor_up);
        for (size_t i = 0; i < st->n_sensors; i++) {
                metrics_text_reset(&labels);
                metrics_labels_add(&labels, "sensor", st->sensors[i].name);
                metrics_sample_u64(w, metrics_text_str(&labels), NULL, st->sensors[i].up);
        }
        if (st->snapshot) {
                metrics_family(w, &sensor_dropped);
                metrics_sample_u64(w, NULL, NULL, st->snapshot->sensor_dropped);
        }

        metrics_family(w, &workloads);
        for (QosClass c = 0; c < _QOS_CLASS_MAX; c++) {
                metrics_text_reset(&labels);
                metrics_labels_add(&labels, "class", qos_class_to_string(c));
                metrics_sample_u64(w, metrics_text_str(&labels), NULL, st->n_by_class[c]);
        }
        metrics_family(w, &containers);
        metrics_sample_u64(w, NULL, NULL, st->n_containers);
        metrics_text_done(&labels);
}

static const MetricFamily node_pressure = {
        "nodeqos_node_pressure_stall_seconds", METRIC_COUNTER, "seconds",
        "Node PSI (/proc/pressure): time some (or all: kind=full) non-idle tasks stalled on the resource.",
};
static const MetricFamily node_memory_total = {
        "nodeqos_node_memory_total_bytes", METRIC_GAUGE, "bytes", "MemTotal of /proc/meminfo.",
};
static const MetricFamily node_memory_available = {
        "nodeqos_node_memory_available_bytes", METRIC_GAUGE, "bytes", "MemAvailable of /proc/meminfo.",
};
static const MetricFamily node_cpu_capacity = {
        "nodeqos_node_cpu_capacity_cores", METRIC_GAUGE, NULL, "Online CPUs.",
};
static const MetricFamily node_cpu_used = {
        "nodeqos_node_cpu_used_cores", METRIC_GAUGE, NULL, "Busy CPU time per wall time over the last tick.",
};

void metrics_psi_samples(MetricsWriter *w, const char *labels, const PsiStats *cpu, const PsiStats *memory,
                         const PsiStats *io) {
        static const char *const some[_RESOURCE_MAX] = {
                "resource=\"cpu\",kind=\"some\"", "resource=\"memory\",kind=\"some\"", "resource=\"io\",kind=\"some\"",
        };
        static const char *const full[_RESOURCE_MAX] = {
                "resource=\"cpu\",kind=\"full\"", "resource=\"memory\",kind=\"full\"", "resource=\"io\",kind=\"full\"",
        };
        const PsiStats *psi[_RESOURCE_MAX] = { cpu, memory, io };

        for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                metrics_sample(w, labels, some[r], (double) psi[r]->some.total_usec / USEC_PER_SEC);
                if (psi[r]->has_full)
                        metrics_sample(w, labels, full[r], (double) psi[r]->full.total_usec / USEC_PER_SEC);
        }
}

static void render_node(MetricsWriter *w, const NodeSnapshot *s) {
        metrics_family(w, &node_pressure);
        if (s->has_node_psi)
                metrics_psi_samples(w, NULL, &s->node_cpu_psi, &s->node_memory_psi, &s->node_io_psi);
        /* The families always, the samples once the node's figures are
         * read (a dashboard's queries then never name unknown series). */
        metrics_family(w, &node_memory_total);
        if (s->has_node_memory)
                metrics_sample(w, NULL, NULL, (double) s->node_memory.total_bytes);
        metrics_family(w, &node_memory_available);
        if (s->has_node_memory)
                metrics_sample(w, NULL, NULL, (double) s->node_memory.available_bytes);
        metrics_family(w, &node_cpu_capacity);
        if (s->has_node_cpu)
                metrics_sample(w, NULL, NULL, s->node_cpu_capacity_millicores / 1000);
        metrics_family(w, &node_cpu_used);
        if (s->has_node_cpu)
                metrics_sample(w, NULL, NULL, s->node_cpu_used_millicores / 1000);
}

int metrics_render(const MetricsSources *src, MetricsFormat f, char **ret, size_t *ret_len) {
        const ApiState *st = src->state;
        const NodeSnapshot *s = st ? st->snapshot : NULL;
        MetricsWriter w;
        int r;

        r = metrics_writer_init(&w, f, s ? s->n_workloads * METRICS_BYTES_PER_WORKLOAD + 65536 : 0);
        if (r < 0)
                return r;
        render_agent(&w, st, src->now_usec);
        if (s) {
                render_node(&w, s);
                metrics_render_pods(&w, s);
        }
        if (st)
                metrics_render_control(&w, st);
        metrics_render_grpc(&w, src);
        return metrics_writer_finish(&w, ret, ret_len);
}
