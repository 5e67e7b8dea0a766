/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The log2 latency histograms of the sensors, as pure functions (unit-tested
 * without BPF). latency_histogram_quantile() is declared in sensors.h. */

#include <stdint.h>

#include "sensors.h"

/* The bucket a latency of ns falls in, as the kernel side computes it:
 * floor(log2(ns)), 0 for 0 and 1, LATENCY_BUCKETS - 1 above. */
unsigned latency_bucket_of(uint64_t ns);

/* Bucket i covers [lower, upper) ns: [2^i, 2^(i+1)); the last one is given
 * the upper bound 2^LATENCY_BUCKETS for interpolation. */
uint64_t latency_bucket_lower(unsigned i);
uint64_t latency_bucket_upper(unsigned i);

/* Records one latency (buckets, count, sum). */
void latency_histogram_record(LatencyHistogram *h, uint64_t ns);

/* dst += src. */
void latency_histogram_add(LatencyHistogram *dst, const LatencyHistogram *src);

/* sum_ns / count, 0 when empty. */
double latency_histogram_mean(const LatencyHistogram *h);
