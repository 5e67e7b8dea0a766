/* SPDX-License-Identifier: Apache-2.0 */
#include "latency-histogram.h"

#include <math.h>

unsigned latency_bucket_of(uint64_t ns) {
        unsigned b = 0;

        while (ns > 1 && b < LATENCY_BUCKETS - 1) {
                ns >>= 1;
                b++;
        }
        return b;
}

uint64_t latency_bucket_lower(unsigned i) {
        return i < LATENCY_BUCKETS ? UINT64_C(1) << i : UINT64_C(1) << LATENCY_BUCKETS;
}

uint64_t latency_bucket_upper(unsigned i) {
        return i < LATENCY_BUCKETS ? UINT64_C(1) << (i + 1) : UINT64_C(1) << LATENCY_BUCKETS;
}

void latency_histogram_record(LatencyHistogram *h, uint64_t ns) {
        h->buckets[latency_bucket_of(ns)]++;
        h->count++;
        h->sum_ns += ns;
}

void latency_histogram_add(LatencyHistogram *dst, const LatencyHistogram *src) {
        for (unsigned i = 0; i < LATENCY_BUCKETS; i++)
                dst->buckets[i] += src->buckets[i];
        dst->count += src->count;
        dst->sum_ns += src->sum_ns;
}

double latency_histogram_mean(const LatencyHistogram *h) {
        return h->count > 0 ? (double) h->sum_ns / (double) h->count : 0.0;
}

double latency_histogram_quantile(const LatencyHistogram *h, double q) {
        uint64_t total = 0;
        double rank, below = 0;

        /* The buckets, not h->count: they are what is interpolated. */
        for (unsigned i = 0; i < LATENCY_BUCKETS; i++)
                total += h->buckets[i];
        if (total == 0)
                return 0.0;
        if (isnan(q) || q < 0)
                q = 0;
        if (q > 1)
                q = 1;

        /* The sample of rank q*total lies in the first bucket whose
         * cumulative count reaches it, spread evenly over its width. */
        rank = q * (double) total;
        for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
                double n = (double) h->buckets[i], lower, upper;

                if (n == 0)
                        continue;
                if (below + n >= rank || i == LATENCY_BUCKETS - 1) {
                        double f = (rank - below) / n;

                        lower = (double) latency_bucket_lower(i);
                        upper = (double) latency_bucket_upper(i);
                        f = f < 0 ? 0 : f > 1 ? 1 : f;
                        return lower + f * (upper - lower);
                }
                below += n;
        }
        return 0.0; /* not reached: total > 0 */
}
