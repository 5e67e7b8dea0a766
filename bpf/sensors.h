/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The eBPF pressure sensors, seen from user space: load what this kernel
 * allows, say which sensor is up (and why not), and each tick read the
 * per-cgroup aggregates the BPF programs keep in their maps as deltas since
 * the last read. Optional at run time: an agent whose sensors cannot load
 * runs on PSI and cgroup statistics. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qos/cgroup-layout.h"

typedef enum SensorKind {
        SENSOR_RUNQUEUE, /* CPU run-queue (wakeup -> run) latency, preemptions */
        SENSOR_RECLAIM,  /* memcg and direct reclaim stall time */
        SENSOR_BLOCK_IO, /* block request issue -> complete latency, bytes */
        _SENSOR_MAX,
} SensorKind;

const char *sensor_kind_to_string(SensorKind k); /* "runqueue", "reclaim", "block_io" */

/* log2 buckets of nanoseconds: bucket i holds [2^i, 2^(i+1)) ns; the last
 * one everything above. */
#define LATENCY_BUCKETS 40

typedef struct LatencyHistogram {
        uint64_t buckets[LATENCY_BUCKETS];
        uint64_t count;
        uint64_t sum_ns;
} LatencyHistogram;

/* The estimate of quantile q (0..1) in nanoseconds, interpolated inside the
 * log2 bucket; 0 for an empty histogram. Pure. */
double latency_histogram_quantile(const LatencyHistogram *h, double q);

/* A cgroup whose tasks preempted another's, and how often. */
typedef struct CgroupPreemptor {
        uint64_t cgroup_id;
        uint64_t count;
} CgroupPreemptor;

#define SENSORS_TOP_PREEMPTORS 3

/* Adds count preemptions by cgroup_id to top (summed if it is there),
 * which keeps the SENSORS_TOP_PREEMPTORS largest, largest first. Pure. */
void cgroup_preemptors_add(CgroupPreemptor top[static SENSORS_TOP_PREEMPTORS], uint64_t cgroup_id, uint64_t count);

/* What the sensors saw for one cgroup since the previous read. */
typedef struct CgroupSensorDelta {
        uint64_t cgroup_id; /* cgroup inode number in the hierarchy of the kind */
        /* The sensors whose figures this entry holds, bits (1 << SensorKind).
         * On v2 every sensor names cgroups of the one tree and an entry holds
         * all of them. On v1 and hybrid each sensor names cgroups of its own
         * controller's hierarchy (cpu, memory, blkio) whose inode numbers
         * overlap: one entry per sensor and cgroup, exactly one bit set. */
        unsigned kinds;
        LatencyHistogram runqueue;
        uint64_t preempted;          /* involuntary switches out while runnable */
        uint64_t preempted_by_other; /* of them, by a task of another cgroup */
        /* The cgroups whose tasks preempted this one's most often in the
         * interval (the noisy neighbours), largest count first; a count of
         * 0 ends the list. On v1 and hybrid, ids of the cpu hierarchy. */
        CgroupPreemptor preemptors[SENSORS_TOP_PREEMPTORS];
        uint64_t reclaim_ns, reclaim_count;
        LatencyHistogram io[2]; /* [0] read, [1] write */
        uint64_t io_bytes[2];
} CgroupSensorDelta;

typedef struct Sensors Sensors;

typedef struct SensorsOptions {
        CgroupMode mode;             /* v2: v2 cgroup ids; v1/hybrid: per-controller v1 ids */
        bool disabled[_SENSOR_MAX];  /* configuration switch (and tests of the degraded path) */
        unsigned max_cgroups;        /* map bound; 0: a default */
        /* libbpf's warnings and notices (e.g. the verifier's log of a
         * refused program), one line per call, while sensors_open runs;
         * NULL: dropped. libbpf's
         * print hook is process-wide: do not open sensors from two threads
         * at once. */
        void (*libbpf_log)(const char *line, void *userdata);
        void *userdata;
} SensorsOptions;

/* SensorsOptions.max_cgroups when 0: a v2 node with a few hundred pods has
 * about 1000 cgroups (slices, pods, containers). A cgroup's entry holds 192
 * bytes (run queue), 368 (block IO), 16 (reclaim) for every possible CPU,
 * allocated when the cgroup is first seen on Linux >= 6.1 (about 1.2 MiB
 * per 1000 cgroups per CPU), preallocated for all max_cgroups before. */
#define SENSORS_DEFAULT_MAX_CGROUPS 2048U
#define SENSORS_MAX_MAX_CGROUPS (1U << 20)

/* Loads and attaches every sensor that this kernel and these privileges
 * allow; never fails because a sensor could not load (it is then down, with
 * a reason). Returns 0 or -ENOMEM. */
int sensors_open(const SensorsOptions *options, Sensors **ret);
/* Detaches and unloads everything: no program or map of ours remains. */
Sensors *sensors_free(Sensors *s);

bool sensors_up(const Sensors *s, SensorKind k);
/* Why a sensor is down ("disabled by configuration", "kernel lacks BTF",
 * "loading refused: Operation not permitted", ...), NULL if up. */
const char *sensors_down_reason(const Sensors *s, SensorKind k);

/* Reads every map: per-CPU values summed, turned into deltas against the
 * previous read. *ret_deltas (malloc'd, *ret_n entries) holds each cgroup
 * that saw anything. Returns 0 or -errno. */
int sensors_read(Sensors *s, CgroupSensorDelta **ret_deltas, size_t *ret_n);

/* Deletes the entries of a removed cgroup from the maps, of every sensor
 * (on v1 an id may name different cgroups in different hierarchies: those
 * lose at most one interval and start again). Reads delete the cgroups the
 * kernel reports removed by themselves (tp_btf/cgroup_rmdir): this is for a
 * caller that knows first. */
void sensors_forget(Sensors *s, uint64_t cgroup_id);

/* Events lost since the start: a map full (or out of memory), and runs of
 * a program the kernel skipped because it was already running on that CPU
 * (bpf_prog_info.recursion_misses). A few syscalls: call it once a tick at
 * most. */
uint64_t sensors_dropped(const Sensors *s);
