/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What each sensor's loader (runqueue.c, reclaim.c, block-io.c) gives the
 * generic part (sensors.c and the files of sensor-state.h): how to load it
 * and what its maps hold. */

#include <stdbool.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "qos/cgroup-layout.h"
#include "sensor-counters.h"
#include "sensors.h"

typedef struct SensorLoadOptions {
        bool cgroup_v1;      /* per-controller v1 ids (v1, hybrid) */
        unsigned max_cgroups;
        bool no_prealloc;    /* allocate per-CPU entries on first use (Linux >= 6.1) */
} SensorLoadOptions;

/* A loaded sensor: its skeleton and the map fds the reader uses, -1 for
 * maps it does not have. */
typedef struct SensorHandle {
        void *skel;
        struct bpf_object *obj;
        int stats_fd;
        int removed_fd;
        int pairs_fd;    /* run queue: preemptions per (victim, aggressor) */
        int inflight_fd; /* block IO: requests issued, not completed */
        const volatile __u64 *dropped; /* in the skeleton's mmap'ed .bss */
} SensorHandle;

typedef struct SensorImpl {
        SensorKind kind;
        /* The controller whose v1 hierarchy names the sensor's cgroups, and
         * its enumerator in the kernel's enum cgroup_subsys_id. */
        CgroupController controller;
        const char *subsys_enumerator;
        const char *const *tracepoints; /* required; NULL-terminated */
        bool task_storage;
        CounterLayout layout; /* of the stats map's value */
        /* Opens, sets the knobs, loads, attaches. On failure returns -errno
         * and names the step in *ret_step ("open", "load", "attach");
         * nothing stays loaded. */
        int (*load)(const SensorLoadOptions *o, SensorHandle *ret, const char **ret_step);
        void (*destroy)(SensorHandle *h);
        /* Adds a delta of layout's counters to d's fields of this sensor. */
        void (*apply)(const uint64_t *delta, CgroupSensorDelta *d);
} SensorImpl;

extern const SensorImpl runqueue_sensor_impl;
extern const SensorImpl reclaim_sensor_impl;
extern const SensorImpl block_io_sensor_impl;

/* A skeleton's destructor for _cleanup_ (destroy accepts NULL). */
#define DEFINE_SKELETON_CLEANUP(name)                            \
        static inline void name##_destroyp(struct name **p) {    \
                name##__destroy(*p);                             \
        }

/* In-flight block requests older than this are taken as lost (a completion
 * we never saw) and deleted by the reader, counted as dropped. */
#define BLOCK_IO_INFLIGHT_STALE_NSEC (60ULL * 1000000000ULL)

/* Deletes stale in-flight requests; returns how many, or -errno. */
int block_io_sweep_inflight(int inflight_fd, uint64_t now_ns);
