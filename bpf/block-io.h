/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The block IO sensor's maps, shared by block-io.bpf.c and its loader. */

#include "sensor-types.h"

/* Per request in flight (hash keyed by the request's address). */
struct block_io_request {
        __u64 issue_ns;
        __u64 cgroup_id;
        __u32 write;
        __u32 pad;
};

/* Per cgroup and CPU; [0] reads, [1] writes. */
struct block_io_stats {
        nq_bucket_t buckets[2][NQ_LATENCY_BUCKETS];
        __u64 count[2];
        __u64 sum_ns[2];
        __u64 bytes[2];
};
