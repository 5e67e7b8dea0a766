/* SPDX-License-Identifier: Apache-2.0 */
#include "sensor-counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void counters_sum_percpu(const CounterLayout *l, const void *values, size_t ncpus, uint64_t *ret) {
        size_t stride = counter_layout_stride(l);

        memset(ret, 0, counter_layout_n(l) * sizeof(uint64_t));
        for (size_t c = 0; c < ncpus; c++) {
                const uint8_t *v = (const uint8_t *) values + c * stride;

                for (size_t i = 0; i < l->n_u32; i++) {
                        uint32_t x;

                        memcpy(&x, v + i * sizeof(uint32_t), sizeof(x));
                        ret[i] = (uint32_t) (ret[i] + x);
                }
                for (size_t i = 0; i < l->n_u64; i++) {
                        uint64_t x;

                        memcpy(&x, v + l->u64_offset + i * sizeof(uint64_t), sizeof(x));
                        ret[l->n_u32 + i] += x;
                }
        }
}

bool counters_delta(const CounterLayout *l, const uint64_t *cur, const uint64_t *prev, uint64_t *ret) {
        bool changed = false;

        for (size_t i = 0; i < counter_layout_n(l); i++) {
                uint64_t p = prev ? prev[i] : 0;

                ret[i] = i < l->n_u32 ? (uint32_t) (cur[i] - p) : cur[i] - p;
                changed = changed || ret[i] != 0;
        }
        return changed;
}

void counter_table_init(CounterTable *t, size_t n_counters) {
        *t = (CounterTable) { .n_counters = n_counters };
}

void counter_table_done(CounterTable *t) {
        free(t->records);
        counter_table_init(t, t->n_counters);
}

void counter_table_clear(CounterTable *t) {
        t->n = 0;
}

int counter_table_append(CounterTable *t, uint64_t key0, uint64_t key1, const uint64_t *counters) {
        size_t stride = counter_table_stride(t);
        uint64_t *r;

        if (t->n == t->allocated) {
                size_t a = t->allocated ? t->allocated * 2 : 64;
                uint64_t *p = reallocarray(t->records, a, stride * sizeof(uint64_t));

                if (!p)
                        return -ENOMEM;
                t->records = p;
                t->allocated = a;
        }
        r = counter_table_record(t, t->n++);
        r[0] = key0;
        r[1] = key1;
        memcpy(r + 2, counters, t->n_counters * sizeof(uint64_t));
        return 0;
}

static int compare_keys(const uint64_t *a, const uint64_t *b) {
        if (a[0] != b[0])
                return a[0] < b[0] ? -1 : 1;
        if (a[1] != b[1])
                return a[1] < b[1] ? -1 : 1;
        return 0;
}

static int compare_records(const void *a, const void *b) {
        return compare_keys(a, b);
}

void counter_table_sort(CounterTable *t) {
        if (t->n > 1)
                qsort(t->records, t->n, counter_table_stride(t) * sizeof(uint64_t), compare_records);
}

uint64_t *counter_table_find(const CounterTable *t, uint64_t key0, uint64_t key1) {
        uint64_t key[2] = { key0, key1 };

        if (t->n == 0)
                return NULL;
        return bsearch(key, t->records, t->n, counter_table_stride(t) * sizeof(uint64_t), compare_records);
}

static bool id_listed(const uint64_t *ids, size_t n_ids, uint64_t id) {
        size_t lo = 0, hi = n_ids;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (ids[mid] == id)
                        return true;
                if (ids[mid] < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

size_t counter_table_drop(CounterTable *t, const uint64_t *ids, size_t n_ids, bool match_key1) {
        size_t stride = counter_table_stride(t), kept = 0;

        if (n_ids == 0)
                return 0;
        for (size_t i = 0; i < t->n; i++) {
                uint64_t *r = counter_table_record(t, i);

                if (id_listed(ids, n_ids, r[0]) || (match_key1 && id_listed(ids, n_ids, r[1])))
                        continue;
                if (kept != i)
                        memmove(counter_table_record(t, kept), r, stride * sizeof(uint64_t));
                kept++;
        }
        size_t dropped = t->n - kept;
        t->n = kept;
        return dropped;
}

void counter_table_swap(CounterTable *a, CounterTable *b) {
        CounterTable x = *a;

        *a = *b;
        *b = x;
}

int counter_table_deltas(const CounterLayout *l, const CounterTable *cur, const CounterTable *prev, counter_delta_fn fn,
                         void *userdata) {
        uint64_t delta[COUNTERS_MAX];
        size_t j = 0;

        if (counter_layout_n(l) > COUNTERS_MAX || cur->n_counters != counter_layout_n(l))
                return -EINVAL;
        for (size_t i = 0; i < cur->n; i++) {
                const uint64_t *c = counter_table_record(cur, i), *p = NULL;

                /* Merge join: both sorted by key. */
                while (j < prev->n && compare_keys(counter_table_record(prev, j), c) < 0)
                        j++;
                if (j < prev->n && compare_keys(counter_table_record(prev, j), c) == 0)
                        p = counter_table_record(prev, j) + 2;
                if (counters_delta(l, c + 2, p, delta)) {
                        int r = fn(c[0], c[1], delta, userdata);

                        if (r < 0)
                                return r;
                }
        }
        return 0;
}
