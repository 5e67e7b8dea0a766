/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The reclaim sensor's maps, shared by reclaim.bpf.c and its loader. */

#include "sensor-types.h"

/* Per task (task-local storage): when its reclaim began. Two stamps: memcg
 * and direct reclaim are separate paths, and one never waits for an end of
 * the other. */
struct reclaim_task {
        __u64 memcg_begin_ns;
        __u64 direct_begin_ns;
};

/* Per cgroup and CPU. */
struct reclaim_stats {
        __u64 ns;
        __u64 count;
};
