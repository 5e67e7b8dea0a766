/* SPDX-License-Identifier: Apache-2.0 */
#include "tick-durations.h"

const uint64_t tick_duration_bounds_usec[TICK_DURATION_BUCKETS] = {
        250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void tick_durations_observe(TickDurations *h, uint64_t usec) {
        /* Cumulative at once: a tick costs a dozen compares, a scrape reads
         * the buckets as they are. */
        for (unsigned i = 0; i < TICK_DURATION_BUCKETS; i++)
                if (usec <= tick_duration_bounds_usec[i])
                        h->cumulative[i]++;
        h->count++;
        h->sum_usec += usec;
}
