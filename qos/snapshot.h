/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The node as the last tick saw it: every workload and container with its
 * class and resource usage (rates over the tick), the node's pressure, and
 * per-class totals. Immutable once built and reference-counted, so the
 * event loop can publish it to readers on other threads (gRPC, metrics)
 * while it builds the next one. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/sensors.h"
#include "cgroup-layout.h"
#include "cgroup-reader.h"
#include "cgroup-stats.h"
#include "kube-cgroup.h"
#include "node-stats.h"
#include "pod-registry.h"
#include "qos-class.h"

typedef struct ResourceUsage {
        bool has_cpu, has_memory, has_io, has_psi;
        bool has_rates; /* false on a cgroup's first sample: no delta yet */
        double cpu_millicores;      /* CPU time per wall time, 1000 = one CPU */
        double cpu_throttled_ratio; /* throttled / elapsed CFS periods, 0..1 */
        uint64_t memory_usage_bytes;
        uint64_t memory_working_set_bytes;
        /* What reclaim cannot take back without swap: anon + unevictable
         * (v1: total_rss + total_unevictable) from memory.stat. */
        uint64_t memory_unreclaimable_bytes;
        double io_read_bytes_per_sec, io_write_bytes_per_sec;
        double io_read_ops_per_sec, io_write_ops_per_sec;
        /* the counters as read, for exposition as Prometheus counters */
        CpuStat cpu;
        IoStat io;
        PsiStats cpu_psi, memory_psi, io_psi;
        /* Stall time per wall time over the sample interval, 0..1, from the
         * PSI totals (has_psi && has_rates). */
        double cpu_psi_some_ratio, memory_psi_some_ratio, memory_psi_full_ratio, io_psi_some_ratio;
} ResourceUsage;

/* What the eBPF sensors saw of a workload (its cgroup and its containers'),
 * cumulative since the agent first saw it: Prometheus-style counters. */
typedef struct SensorTotals {
        LatencyHistogram runqueue;
        uint64_t preempted, preempted_by_other;
        uint64_t reclaim_ns, reclaim_count;
        LatencyHistogram io[2]; /* read, write */
        uint64_t io_bytes[2];
} SensorTotals;

/* The last tick's sensor figures of a workload or a class. */
typedef struct SensorTick {
        bool has_runqueue, has_io;
        double runqueue_p50_ns, runqueue_p90_ns, runqueue_p99_ns;
        uint64_t runqueue_count;
        uint64_t reclaim_ns;
        double io_p99_ns[2];
        uint64_t io_count[2];
} SensorTick;

typedef struct ContainerSnapshot {
        char id[KUBE_CONTAINER_ID_MAX];
        const char *runtime;
        char *cgroup;
        ResourceUsage usage;
} ContainerSnapshot;

typedef struct WorkloadSnapshot {
        WorkloadKind kind;
        char uid[KUBE_UID_MAX];
        KubeTier tier;
        QosClass qos_class;
        char *cgroup;
        ResourceUsage usage;
        SensorTotals sensors;
        SensorTick sensor_tick;
        ContainerSnapshot *containers;
        size_t n_containers;
} WorkloadSnapshot;

typedef struct ClassTotals {
        size_t n_workloads;
        double cpu_millicores;
        uint64_t memory_working_set_bytes;
        uint64_t memory_unreclaimable_bytes;
        double io_bytes_per_sec; /* read + write */
        /* The highest PSI stall ratio among the class's workloads (cgroup
         * PSI: v2 only), 0..1; has_psi false where none has PSI. */
        bool has_psi;
        double cpu_psi_some_ratio, memory_psi_some_ratio, io_psi_some_ratio;
        SensorTick sensor_tick; /* the class's tasks over the last tick */
} ClassTotals;

typedef struct NodeSnapshot {
        atomic_uint refcount;
        uint64_t tick;
        uint64_t monotonic_usec;
        CgroupMode mode;
        CgroupDriver driver;

        /* /proc/meminfo and /proc/stat (node-stats.h); has_node_cpu is
         * false on the first tick (no delta yet). */
        bool has_node_memory;
        NodeMemInfo node_memory;
        bool has_node_cpu;
        double node_cpu_capacity_millicores; /* online CPUs x 1000 */
        double node_cpu_used_millicores;     /* busy time per wall time */

        bool has_node_psi;
        PsiStats node_cpu_psi, node_memory_psi, node_io_psi;

        /* The kubelet's QoS-level cgroups, read every tick (the workloads
         * only every sample period): [GUARANTEED] is kubepods itself, all
         * pods; [BURSTABLE] and [BESTEFFORT] the tiers. has_cpu etc. false
         * where there is no such cgroup. */
        ResourceUsage kube_tiers[_KUBE_TIER_MAX];

        bool sensor_up[_SENSOR_MAX];
        uint64_t sensor_dropped; /* events lost to full maps, since the start */

        WorkloadSnapshot *workloads;
        size_t n_workloads;
        size_t n_containers;
        ClassTotals classes[_QOS_CLASS_MAX];
} NodeSnapshot;

NodeSnapshot *node_snapshot_ref(NodeSnapshot *s);
NodeSnapshot *node_snapshot_unref(NodeSnapshot *s);
static inline void node_snapshot_unrefp(NodeSnapshot **s) {
        node_snapshot_unref(*s);
}

/* Turns two samples of one cgroup, taken dt_usec apart, into usage. prev
 * NULL: counters only, no rates. Pure, for the tests. */
void resource_usage_from_samples(const CgroupSample *prev, const CgroupSample *cur, uint64_t dt_usec,
                                 ResourceUsage *ret);
