/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* How long the ticks took (sense -> model -> decide -> act), as a small
 * cumulative histogram: the manager observes each tick, the published
 * ApiState carries a copy, /metrics exposes it as
 * nodeqos_tick_duration_seconds. Pure. */

#include <stdint.h>

/* From an idle node's tick (~0.2 ms) through 1000 containers (~5 ms) to a
 * tick stalled behind the kernel's cgroup locks or reclaim (seconds). */
#define TICK_DURATION_BUCKETS 12

extern const uint64_t tick_duration_bounds_usec[TICK_DURATION_BUCKETS];

typedef struct TickDurations {
        uint64_t cumulative[TICK_DURATION_BUCKETS]; /* ticks at or below each bound */
        uint64_t count;
        uint64_t sum_usec;
} TickDurations;

void tick_durations_observe(TickDurations *h, uint64_t usec);
