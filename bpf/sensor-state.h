/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The inside of the Sensors object, shared by the files that implement
 * sensors.h: sensors.c (opening, probing, degrading), sensor-deltas.c (the
 * list a read hands out), sensor-maps.c (reading the maps), sensors-read.c
 * (a read), sensors-removed.c (removed and forgotten cgroups),
 * sensors-dropped.c (drop counting) and sensors-debug.c (for the tests). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/macro.h"
#include "qos/cgroup-layout.h"
#include "sensors.h"

#if NODEQOS_HAVE_BPF
#include "sensor-counters.h"
#include "sensor-impl.h"
#endif

#define REASON_MAX 256

typedef struct SensorState {
        bool up;
        char reason[REASON_MAX];
#if NODEQOS_HAVE_BPF
        const SensorImpl *impl;
        SensorHandle h;
        CounterTable prev, cur;             /* the stats map at the last and this read */
        CounterTable prev_pairs, cur_pairs; /* run queue: the pair map */
        uint64_t *pending;                  /* removed at the last read: deleted once more */
        size_t n_pending;
#endif
} SensorState;

struct Sensors {
        CgroupMode mode;
        SensorState sensor[_SENSOR_MAX];
        size_t ncpus;
        /* Buffers of batched map lookups. */
        uint8_t *batch_keys, *batch_values;
        size_t batch_keys_size, batch_values_size;
        unsigned batch_grow;
        uint64_t user_dropped; /* stale in-flight IO deleted by the reader */
        uint64_t reads;
};

/* Marks st down, the reason formatted from fmt. (sensors.c) */
_printf_(2, 3) void set_down(SensorState *st, const char *fmt, ...);

#if NODEQOS_HAVE_BPF

/* The list sensors_read() hands out. (sensor-deltas.c) */
typedef struct DeltaList {
        CgroupSensorDelta *v;
        size_t n, allocated;
} DeltaList;

/* Appends a zeroed entry of id holding sensor k; NULL on -ENOMEM. */
CgroupSensorDelta *delta_list_push(DeltaList *l, uint64_t id, SensorKind k);
/* Sorts by id; on v2 merges to one entry per cgroup. */
void delta_list_finish(DeltaList *l, CgroupMode mode);

/* (sensor-maps.c) */
int compare_u64(const void *a, const void *b);
/* Reads a whole per-CPU hash map (keys of one or two u64) into ret, the
 * CPUs' values summed, sorted by key. Returns 0 or -errno. */
int map_read(Sensors *s, int fd, size_t key_size, const CounterLayout *l, CounterTable *ret);
/* The keys (u64) of a hash map, sorted, malloc'd. Returns 0 or -ENOMEM. */
int map_keys_read(int fd, uint64_t **ret, size_t *ret_n);

/* (sensors-removed.c) */
/* Deletes the entries of the cgroups removed since the last read (removed,
 * sorted, malloc'd; always taken) and of those removed at the last read,
 * from the maps and from st->cur. Returns 0 or -ENOMEM. */
int sensor_forget_removed(SensorState *st, uint64_t *removed, size_t n_removed);

/* (sensors-dropped.c) */
/* Every INFLIGHT_SWEEP_READS reads, deletes the block IO sensor's stale
 * in-flight requests, counted as dropped. */
void sensor_sweep_inflight(Sensors *s, SensorState *st);

#endif
