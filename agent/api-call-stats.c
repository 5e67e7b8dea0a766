/* SPDX-License-Identifier: Apache-2.0 */
#include "api-call-stats.h"

/* GRPC_STATUS_UNKNOWN, without pulling gRPC's headers into this pure file. */
#define API_CALL_STATUS_UNKNOWN 2

const uint64_t api_call_latency_bounds_usec[API_CALL_LATENCY_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

void api_call_counters_record(ApiCallCounters *c, int status, uint64_t latency_usec) {
        unsigned b = 0;

        if (status < 0 || status >= API_CALL_STATUS_MAX)
                status = API_CALL_STATUS_UNKNOWN;
        while (b < API_CALL_LATENCY_BUCKETS && latency_usec > api_call_latency_bounds_usec[b])
                b++;
        /* Counters, not a consistent snapshot: relaxed is enough. */
        atomic_fetch_add_explicit(&c->by_status[status], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->latency[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->latency_sum_usec, latency_usec, memory_order_relaxed);
}

void api_call_counters_read(const ApiCallCounters *c, ApiCallTotals *ret) {
        uint64_t running = 0;

        *ret = (ApiCallTotals) {};
        for (unsigned s = 0; s < API_CALL_STATUS_MAX; s++)
                ret->by_status[s] = atomic_load_explicit(&c->by_status[s], memory_order_relaxed);
        for (unsigned b = 0; b <= API_CALL_LATENCY_BUCKETS; b++) {
                running += atomic_load_explicit(&c->latency[b], memory_order_relaxed);
                if (b < API_CALL_LATENCY_BUCKETS)
                        ret->cumulative[b] = running;
        }
        /* The count from the same buckets: the histogram is consistent in
         * itself whatever the writers do meanwhile. */
        ret->count = running;
        ret->sum_usec = atomic_load_explicit(&c->latency_sum_usec, memory_order_relaxed);
}
