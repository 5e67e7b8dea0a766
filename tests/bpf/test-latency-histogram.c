/* SPDX-License-Identifier: Apache-2.0 */
/* The sensors' pure code, without BPF: log2 bucket math (the same as the
 * kernel side's), quantiles interpolated inside a bucket, per-CPU counters
 * turned into deltas (32-bit buckets wrapping), the top preemptors. */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bpf/latency-histogram.h"
#include "bpf/sensor-counters.h"

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static void test_bucket_of(void **state) {
        static const struct {
                uint64_t ns;
                unsigned bucket;
        } cases[] = {
                { 0, 0 },
                { 1, 0 },
                { 2, 1 },
                { 3, 1 },
                { 4, 2 },
                { 1023, 9 },
                { 1024, 10 },
                { 1025, 10 },
                { 1000000, 19 }, /* 1 ms: 2^19 = 524288 <= 1e6 < 2^20 */
                { (UINT64_C(1) << 39) - 1, 38 },
                { UINT64_C(1) << 39, 39 },
                { UINT64_C(1) << 45, 39 }, /* the last bucket takes everything above */
                { UINT64_MAX, 39 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned b = latency_bucket_of(cases[i].ns);

                assert_int_equal(b, cases[i].bucket);
                /* Every value but 0 and the overflow lies inside its bucket. */
                if (cases[i].ns > 0 && cases[i].ns < (UINT64_C(1) << 40)) {
                        assert_true(cases[i].ns >= latency_bucket_lower(b));
                        assert_true(cases[i].ns < latency_bucket_upper(b));
                }
        }
        assert_int_equal(latency_bucket_lower(0), 1);
        assert_int_equal(latency_bucket_upper(0), 2);
        assert_int_equal(latency_bucket_lower(39), UINT64_C(1) << 39);
        assert_int_equal(latency_bucket_upper(39), UINT64_C(1) << 40);
}

static LatencyHistogram histogram_of(const uint64_t *values, size_t n) {
        LatencyHistogram h = {};

        for (size_t i = 0; i < n; i++)
                latency_histogram_record(&h, values[i]);
        return h;
}

static void test_quantiles(void **state) {
        /* 100 samples of 1000 ns (bucket 9: [512, 1024)). */
        uint64_t hundred_1000[100];
        /* 90 of 100 us, 10 of 10 ms: p50 in 100 us's bucket, p99 in 10 ms's. */
        uint64_t bimodal[100];

        for (size_t i = 0; i < 100; i++) {
                hundred_1000[i] = 1000;
                bimodal[i] = i < 90 ? 100000 : 10000000;
        }

        static const struct {
                int set;
                double q, lo, hi; /* expected interval */
        } cases[] = {
                /* q = 0: the lower bound of the first non-empty bucket */
                { 0, 0.0, 512, 512 },
                /* interpolation: rank 50 of 100 in [512, 1024) -> 768 */
                { 0, 0.5, 768, 768 },
                { 0, 1.0, 1024, 1024 },
                /* out of range q is clamped */
                { 0, -1.0, 512, 512 },
                { 0, 7.0, 1024, 1024 },
                /* 100 us is in [65536, 131072); 10 ms in [8388608, 16777216) */
                { 1, 0.5, 65536, 131072 },
                { 1, 0.9, 131072, 131072 }, /* exactly the end of the first mode */
                { 1, 0.99, 8388608, 16777216 },
                { 1, 0.95, 8388608 + 0.5 * 8388608 - 1, 8388608 + 0.5 * 8388608 + 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                LatencyHistogram h = cases[i].set == 0 ? histogram_of(hundred_1000, 100) : histogram_of(bimodal, 100);
                double v = latency_histogram_quantile(&h, cases[i].q);

                assert_true(v >= cases[i].lo);
                assert_true(v <= cases[i].hi);
        }
}

static void test_quantile_edges(void **state) {
        LatencyHistogram empty = {}, one = {}, top = {};
        uint64_t big = UINT64_C(1) << 42;

        /* empty: 0, whatever q */
        assert_true(latency_histogram_quantile(&empty, 0.5) == 0.0);
        assert_true(latency_histogram_quantile(&empty, NAN) == 0.0);
        assert_true(latency_histogram_mean(&empty) == 0.0);

        /* one sample: every quantile inside its bucket, monotonic in q */
        latency_histogram_record(&one, 3000);
        for (double q = 0, last = 0; q <= 1.0; q += 0.125) {
                double v = latency_histogram_quantile(&one, q);

                assert_true(v >= 2048 && v <= 4096);
                assert_true(v >= last);
                last = v;
        }
        assert_true(latency_histogram_mean(&one) == 3000.0);

        /* the overflow bucket interpolates up to 2^40 */
        latency_histogram_record(&top, big);
        assert_true(latency_histogram_quantile(&top, 1.0) == (double) (UINT64_C(1) << 40));
        assert_int_equal(top.count, 1);
        assert_true(top.sum_ns == big);

        /* NaN q is treated as 0 */
        assert_true(latency_histogram_quantile(&one, NAN) == 2048.0);
}

static void test_histogram_add(void **state) {
        uint64_t a_values[] = { 10, 1000, 1000000 }, b_values[] = { 12, 5 };
        LatencyHistogram a = histogram_of(a_values, 3), b = histogram_of(b_values, 2), sum = a;

        latency_histogram_add(&sum, &b);
        assert_int_equal(sum.count, 5);
        assert_int_equal(sum.sum_ns, 10 + 1000 + 1000000 + 12 + 5);
        assert_int_equal(sum.buckets[3], 2); /* 10 and 12 */
        assert_int_equal(sum.buckets[2], 1); /* 5 */
        assert_int_equal(sum.buckets[9], 1);
        assert_int_equal(sum.buckets[19], 1);
}

/* Two CPUs' values of a map entry like the run queue's: 3 32-bit counters,
 * then 2 64-bit ones at offset 16. */
struct test_value {
        uint32_t b[3];
        uint32_t pad;
        uint64_t count, sum;
};

static const CounterLayout test_layout = {
        .value_size = sizeof(struct test_value),
        .n_u32 = 3,
        .u64_offset = offsetof(struct test_value, count),
        .n_u64 = 2,
};

static void test_counters_sum_and_delta(void **state) {
        struct test_value cpus[2] = {
                { .b = { 1, UINT32_MAX, 7 }, .count = 10, .sum = 100 },
                { .b = { 2, 5, 0 }, .count = 20, .sum = UINT64_C(1) << 40 },
        };
        uint64_t sum[5], later[5], delta[5];

        counters_sum_percpu(&test_layout, cpus, 2, sum);
        assert_int_equal(sum[0], 3);
        assert_int_equal(sum[1], 4); /* UINT32_MAX + 5 wraps modulo 2^32 */
        assert_int_equal(sum[2], 7);
        assert_int_equal(sum[3], 30);
        assert_int_equal(sum[4], 100 + (UINT64_C(1) << 40));

        /* The kernel's 32-bit counter wrapped between two reads: the delta
         * is still what happened (6 events). */
        cpus[1].b[1] += 6;
        cpus[0].count += 1;
        counters_sum_percpu(&test_layout, cpus, 2, later);
        assert_true(counters_delta(&test_layout, later, sum, delta));
        assert_int_equal(delta[0], 0);
        assert_int_equal(delta[1], 6);
        assert_int_equal(delta[3], 1);
        assert_false(counters_delta(&test_layout, later, later, delta));
        /* no previous read: the delta is the whole value */
        assert_true(counters_delta(&test_layout, later, NULL, delta));
        assert_int_equal(delta[3], 31);
}

typedef struct Seen {
        uint64_t keys[8][2];
        uint64_t first_counter[8];
        size_t n;
} Seen;

static int record_delta(uint64_t k0, uint64_t k1, const uint64_t *delta, void *userdata) {
        Seen *s = userdata;

        assert_true(s->n < 8);
        s->keys[s->n][0] = k0;
        s->keys[s->n][1] = k1;
        s->first_counter[s->n] = delta[0];
        s->n++;
        return 0;
}

static void test_table_deltas(void **state) {
        static const CounterLayout one = { .value_size = 8, .n_u32 = 0, .u64_offset = 0, .n_u64 = 1 };
        CounterTable prev, cur;
        Seen seen = {};
        uint64_t v;

        counter_table_init(&prev, 1);
        counter_table_init(&cur, 1);
        /* prev: 5 -> 10, 7 -> 3, 9 -> 1 (appended out of order) */
        v = 3, assert_int_equal(counter_table_append(&prev, 7, 0, &v), 0);
        v = 10, assert_int_equal(counter_table_append(&prev, 5, 0, &v), 0);
        v = 1, assert_int_equal(counter_table_append(&prev, 9, 0, &v), 0);
        counter_table_sort(&prev);
        /* cur: 5 unchanged, 7 grew by 4, 8 new with 2, 9 gone */
        v = 2, assert_int_equal(counter_table_append(&cur, 8, 0, &v), 0);
        v = 7, assert_int_equal(counter_table_append(&cur, 7, 0, &v), 0);
        v = 10, assert_int_equal(counter_table_append(&cur, 5, 0, &v), 0);
        counter_table_sort(&cur);

        assert_int_equal(counter_table_deltas(&one, &cur, &prev, record_delta, &seen), 0);
        assert_int_equal(seen.n, 2);
        assert_int_equal(seen.keys[0][0], 7);
        assert_int_equal(seen.first_counter[0], 4);
        assert_int_equal(seen.keys[1][0], 8);
        assert_int_equal(seen.first_counter[1], 2);

        assert_non_null(counter_table_find(&cur, 7, 0));
        assert_null(counter_table_find(&cur, 9, 0));

        /* drop by either half of a pair key */
        counter_table_clear(&cur);
        v = 1, assert_int_equal(counter_table_append(&cur, 1, 2, &v), 0);
        v = 1, assert_int_equal(counter_table_append(&cur, 3, 1, &v), 0);
        v = 1, assert_int_equal(counter_table_append(&cur, 3, 4, &v), 0);
        counter_table_sort(&cur);
        {
                uint64_t ids[] = { 1 };

                assert_int_equal(counter_table_drop(&cur, ids, 1, false), 1);
                assert_int_equal(cur.n, 2);
                assert_int_equal(counter_table_drop(&cur, ids, 1, true), 1);
                assert_int_equal(cur.n, 1);
                assert_int_equal(counter_table_record(&cur, 0)[1], 4);
        }

        counter_table_done(&prev);
        counter_table_done(&cur);
}

static void test_preemptors_top(void **state) {
        static const struct {
                uint64_t adds[6][2]; /* (id, count), count 0 ends */
                CgroupPreemptor expect[SENSORS_TOP_PREEMPTORS];
        } cases[] = {
                { { { 0 } }, { { 0, 0 } } },
                { { { 7, 3 } }, { { 7, 3 } } },
                /* sorted, largest first */
                { { { 7, 3 }, { 8, 5 }, { 9, 4 } }, { { 8, 5 }, { 9, 4 }, { 7, 3 } } },
                /* the smallest falls off */
                { { { 7, 3 }, { 8, 5 }, { 9, 4 }, { 10, 9 } }, { { 10, 9 }, { 8, 5 }, { 9, 4 } } },
                { { { 7, 3 }, { 8, 5 }, { 9, 4 }, { 10, 1 } }, { { 8, 5 }, { 9, 4 }, { 7, 3 } } },
                /* the same id again: summed, moved up */
                { { { 7, 3 }, { 8, 5 }, { 7, 4 } }, { { 7, 7 }, { 8, 5 } } },
                { { { 7, 3 }, { 8, 5 }, { 9, 4 }, { 9, 10 } }, { { 9, 14 }, { 8, 5 }, { 7, 3 } } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CgroupPreemptor top[SENSORS_TOP_PREEMPTORS] = {};

                for (size_t j = 0; j < 6 && cases[i].adds[j][1] > 0; j++)
                        cgroup_preemptors_add(top, cases[i].adds[j][0], cases[i].adds[j][1]);
                cgroup_preemptors_add(top, 99, 0); /* nothing */
                for (size_t j = 0; j < SENSORS_TOP_PREEMPTORS; j++) {
                        assert_int_equal(top[j].cgroup_id, cases[i].expect[j].cgroup_id);
                        assert_int_equal(top[j].count, cases[i].expect[j].count);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bucket_of),
                cmocka_unit_test(test_quantiles),
                cmocka_unit_test(test_quantile_edges),
                cmocka_unit_test(test_histogram_add),
                cmocka_unit_test(test_counters_sum_and_delta),
                cmocka_unit_test(test_table_deltas),
                cmocka_unit_test(test_preemptors_top),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
