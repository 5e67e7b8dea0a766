/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Per-CPU map values as counters, pure (unit-tested without BPF): summing
 * the CPUs' values of one entry, and the delta of every entry between two
 * reads of a map. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How one CPU's value of a map is made of counters: n_u32 32-bit counters
 * at offset 0, then n_u64 64-bit ones from u64_offset. */
typedef struct CounterLayout {
        size_t value_size;
        size_t n_u32;
        size_t u64_offset;
        size_t n_u64;
} CounterLayout;

/* The most counters of any map (block IO: 80 + 6). */
#define COUNTERS_MAX 96

static inline size_t counter_layout_n(const CounterLayout *l) {
        return l->n_u32 + l->n_u64;
}

/* The distance between two CPUs' values in what the kernel returns for a
 * per-CPU map: each value rounded up to 8 bytes. */
static inline size_t counter_layout_stride(const CounterLayout *l) {
        return (l->value_size + 7) & ~(size_t) 7;
}

/* Sums ncpus values into ret[counter_layout_n(l)]; 32-bit counters modulo
 * 2^32, as they wrap in the kernel. */
void counters_sum_percpu(const CounterLayout *l, const void *values, size_t ncpus, uint64_t *ret);

/* ret = cur - prev per counter (32-bit ones modulo 2^32). prev NULL: from
 * zero. Returns whether any counter changed. */
bool counters_delta(const CounterLayout *l, const uint64_t *cur, const uint64_t *prev, uint64_t *ret);

/* One read of a map: entries (a key of two u64 and the summed counters),
 * sorted by key. */
typedef struct CounterTable {
        size_t n_counters;
        size_t n, allocated;
        uint64_t *records; /* n x (2 + n_counters) */
} CounterTable;

static inline size_t counter_table_stride(const CounterTable *t) {
        return 2 + t->n_counters;
}
static inline uint64_t *counter_table_record(const CounterTable *t, size_t i) {
        return t->records + i * counter_table_stride(t);
}

void counter_table_init(CounterTable *t, size_t n_counters);
void counter_table_done(CounterTable *t);
/* Empties t, keeping its memory. */
void counter_table_clear(CounterTable *t);
/* Appends a record; its key first, then n_counters counters. -ENOMEM. */
int counter_table_append(CounterTable *t, uint64_t key0, uint64_t key1, const uint64_t *counters);
void counter_table_sort(CounterTable *t);
/* The record of key in a sorted table, NULL if none. */
uint64_t *counter_table_find(const CounterTable *t, uint64_t key0, uint64_t key1);
/* Drops (from a sorted table) the records whose key0 or key1 (if
 * match_key1) is in ids[n_ids] (sorted). Returns how many. */
size_t counter_table_drop(CounterTable *t, const uint64_t *ids, size_t n_ids, bool match_key1);
void counter_table_swap(CounterTable *a, CounterTable *b);

typedef int (*counter_delta_fn)(uint64_t key0, uint64_t key1, const uint64_t *delta, void *userdata);

/* Calls fn, in key order, for each record of cur that changed since prev
 * (both sorted; absent from prev: since zero). Stops at and returns fn's
 * first negative return, else 0. */
int counter_table_deltas(const CounterLayout *l, const CounterTable *cur, const CounterTable *prev, counter_delta_fn fn,
                         void *userdata);
