/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The run-queue sensor's maps, shared by runqueue.bpf.c and its loader. */

#include "sensor-types.h"

/* Per task (task-local storage): when it became runnable. */
struct runqueue_task {
        __u64 queued_ns;   /* 0: not waiting (or not seen) */
        __u32 preempted;   /* switched out while runnable, counted at switch-in */
        __u32 by_other;    /* ... by a task of another cgroup */
};

/* Per cgroup and CPU (per-CPU hash keyed by cgroup id). */
struct runqueue_stats {
        nq_bucket_t buckets[NQ_LATENCY_BUCKETS]; /* wakeup or preemption -> switch-in */
        __u64 count;
        __u64 sum_ns;
        __u64 preempted;
        __u64 preempted_by_other;
};

/* Per (victim, aggressor) pair and CPU: how often a task of victim was
 * preempted by a task of aggressor. */
struct runqueue_pair {
        __u64 victim;
        __u64 aggressor;
};
