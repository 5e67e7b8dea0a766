/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics-fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/latency-histogram.h"

static void fill_usage(ResourceUsage *u, size_t i) {
        *u = (ResourceUsage) {
                .has_cpu = true, .has_memory = true, .has_io = true, .has_psi = true, .has_rates = true,
                .cpu_millicores = 250 + (double) i,
                .memory_usage_bytes = (1 + i) << 24,
                .memory_working_set_bytes = (1 + i) << 23,
                .cpu = { .usage_usec = 123456789 + i, .nr_periods = 1000 + i, .nr_throttled = i,
                         .throttled_usec = 4567 * i },
                .io = { .read_bytes = 4096 * i, .write_bytes = 8192 * i, .read_ops = i, .write_ops = 2 * i },
        };
        u->cpu_psi.some.total_usec = 1000 * i;
        u->memory_psi = (PsiStats) { .some.total_usec = 10 * i, .full.total_usec = 5 * i, .has_full = true };
        u->io_psi = (PsiStats) { .some.total_usec = 20 * i, .full.total_usec = 7 * i, .has_full = true };
}

static void fill_sensors(SensorTotals *t, size_t i) {
        /* Run-queue waits from 2 us to 4 ms, block IO from 100 us to 30 ms. */
        for (uint64_t ns = 2000; ns < 4000000; ns = ns * 3 / 2)
                latency_histogram_record(&t->runqueue, ns + i);
        for (uint64_t ns = 100000; ns < 30000000; ns *= 2) {
                latency_histogram_record(&t->io[0], ns + i);
                latency_histogram_record(&t->io[1], 2 * ns + i);
        }
        t->preempted = 100 + i;
        t->preempted_by_other = 10 + i;
        t->reclaim_ns = 1000000 * i;
        t->reclaim_count = i;
        t->io_bytes[0] = 1 << 20;
        t->io_bytes[1] = 1 << 21;
}

static NodeSnapshot *fixture_snapshot(size_t n_pods, size_t n_containers) {
        NodeSnapshot *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        atomic_init(&s->refcount, 1);
        s->tick = 42;
        s->has_node_psi = true;
        s->node_cpu_psi.some.total_usec = 5000000;
        s->node_memory_psi = (PsiStats) { .some.total_usec = 1000, .full.total_usec = 500, .has_full = true };
        s->node_io_psi = (PsiStats) { .some.total_usec = 2000, .full.total_usec = 800, .has_full = true };
        s->has_node_memory = true;
        s->node_memory = (NodeMemInfo) { .total_bytes = 24ULL << 30, .available_bytes = 20ULL << 30 };
        s->has_node_cpu = true;
        s->node_cpu_capacity_millicores = 2000;
        s->node_cpu_used_millicores = 750;
        for (SensorKind k = 0; k < _SENSOR_MAX; k++)
                s->sensor_up[k] = true;

        s->workloads = calloc(n_pods ? n_pods : 1, sizeof(WorkloadSnapshot));
        if (!s->workloads)
                return node_snapshot_unref(s);
        for (size_t i = 0; i < n_pods; i++) {
                WorkloadSnapshot *w = &s->workloads[i];
                bool plain = n_pods > 1 && i == n_pods - 1;

                s->n_workloads++;
                w->kind = plain ? WORKLOAD_CGROUP : WORKLOAD_POD;
                w->qos_class = plain ? QOS_CLASS_RECLAIMED_CORES : (QosClass) (1 + i % 3);
                w->tier = plain ? _KUBE_TIER_INVALID : KUBE_TIER_BURSTABLE;
                if (!plain)
                        (void) snprintf(w->uid, sizeof(w->uid), "%08zx-0000-4000-8000-%012zx", i, i);
                /* The plain cgroup's name needs escaping as a label. */
                if ((plain ? asprintf(&w->cgroup, "batch.slice/job-\"%zu\"", i)
                           : asprintf(&w->cgroup, "kubepods/burstable/pod%s", w->uid)) < 0) {
                        w->cgroup = NULL;
                        return node_snapshot_unref(s);
                }
                fill_usage(&w->usage, i);
                fill_sensors(&w->sensors, i);
                w->containers = calloc(n_containers ? n_containers : 1, sizeof(ContainerSnapshot));
                if (!w->containers)
                        return node_snapshot_unref(s);
                for (size_t c = 0; c < n_containers; c++) {
                        ContainerSnapshot *cs = &w->containers[c];

                        (void) snprintf(cs->id, sizeof(cs->id), "%064zx", i * 16 + c);
                        cs->runtime = "containerd";
                        if (asprintf(&cs->cgroup, "%s/%s", w->cgroup, cs->id) < 0) {
                                cs->cgroup = NULL;
                                return node_snapshot_unref(s);
                        }
                        fill_usage(&cs->usage, c);
                        w->n_containers++;
                        s->n_containers++;
                }
        }
        return s;
}

ApiState *metrics_fixture_state(size_t n_pods, size_t n_containers) {
        ApiState *st = api_state_new();
        static const char *const sensors[] = { "runqueue", "reclaim", "block_io" };

        if (!st)
                return NULL;
        st->built_usec = 10000000;
        st->started_usec = 1000000;
        st->tick = 42;
        st->tick_interval_usec = 1000000;
        for (uint64_t usec = 300; usec < 20000; usec *= 2)
                tick_durations_observe(&st->tick_durations, usec);
        for (size_t i = 0; i < 3; i++)
                if (api_state_add_sensor(st, sensors[i], true, NULL) < 0)
                        return api_state_unref(st);

        st->resources[RESOURCE_CPU] = (ApiResourceStatus) {
                .controller_enabled = true, .indicator_name = "ls_runqueue_latency_p99", .indicator_unit = "us",
                .budget_unit = "millicores", .target = 200, .budget_min = 500, .budget_max = 0,
                .has_indicator = true, .indicator = 350, .has_budget = true, .budget = 2500,
                .has_pid = true, .pid_error = -0.56, .pid_proportional = -0.1, .pid_integral = 0.8,
                .pid_derivative = -0.01, .pid_output = 0.69, .pid_saturated = true,
                .limiting_indicator = "runqueue_p99",
        };
        st->resources[RESOURCE_MEMORY] = (ApiResourceStatus) {
                .controller_enabled = true, .indicator_name = "available_memory_fraction", .indicator_unit = "ratio",
                .budget_unit = "bytes", .target = 0.1, .budget_min = 268435456, .budget_max = 4294967296.0,
        };
        st->resources[RESOURCE_IO] = (ApiResourceStatus) {
                .indicator_name = "ls_io_latency_p99", .indicator_unit = "us", .budget_unit = "bytes_per_second",
                .target = 5000, .budget_min = 10485760,
        };
        st->reclaimable[RESOURCE_CPU] = (ApiReclaimable) {
                .known = true, .capacity = 2000, .ls_peak = 800, .reserve = 200, .reclaimable = 1000,
        };
        st->evictions[RESOURCE_MEMORY] = (ApiEvictionCounts) { .evicted = 1, .dry_run = 3, .failed = 2 };
        st->has_cgroup_writes = true;
        st->cgroup_writes.calls[CGROUP_KNOB_CPU_QUOTA][CGROUP_WRITE_WRITTEN] = 12;
        st->cgroup_writes.calls[CGROUP_KNOB_MEMORY_HIGH][CGROUP_WRITE_GONE] = 1;

        st->snapshot = fixture_snapshot(n_pods, n_containers);
        if (!st->snapshot)
                return api_state_unref(st);
        st->n_pods = n_pods;
        st->n_containers = n_pods * n_containers;
        st->n_by_class[QOS_CLASS_SHARED_CORES] = n_pods;
        return st;
}
