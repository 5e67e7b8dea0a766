/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Counters of the gRPC calls one method answered: by final status, and
 * their latency (from the call's arrival to its status being sent) as a
 * histogram. Updated by whichever thread finishes a call (gRPC's or the
 * event loop's) with relaxed atomics, read by the metrics thread: a read
 * may see one call in the status counts and not yet in the histogram,
 * never a torn value. */

#include <stdatomic.h>
#include <stdint.h>

/* GRPC_STATUS_OK (0) .. GRPC_STATUS_UNAUTHENTICATED (16). */
#define API_CALL_STATUS_MAX 17
/* From a read answered on gRPC's thread (~50 us) to a loop call queued
 * behind a long tick (a second). */
#define API_CALL_LATENCY_BUCKETS 13

extern const uint64_t api_call_latency_bounds_usec[API_CALL_LATENCY_BUCKETS];

typedef struct ApiCallCounters {
        atomic_uint_fast64_t by_status[API_CALL_STATUS_MAX];
        /* per bucket, not cumulative (one increment per call); the last
         * holds what is above every bound */
        atomic_uint_fast64_t latency[API_CALL_LATENCY_BUCKETS + 1];
        atomic_uint_fast64_t latency_sum_usec;
} ApiCallCounters;

/* What a read returns: plain numbers, the histogram cumulative. */
typedef struct ApiCallTotals {
        uint64_t by_status[API_CALL_STATUS_MAX];
        uint64_t cumulative[API_CALL_LATENCY_BUCKETS];
        uint64_t count; /* the histogram's: every call whose latency was recorded */
        uint64_t sum_usec;
} ApiCallTotals;

/* A status out of range is counted as UNKNOWN (2). */
void api_call_counters_record(ApiCallCounters *c, int status, uint64_t latency_usec);
void api_call_counters_read(const ApiCallCounters *c, ApiCallTotals *ret);
