/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the sensors' BPF maps: whole per-CPU hash maps in batches, the
 * CPUs' values summed, and the keys of a map. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"
#include "sensor-state.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>

#include "sensor-counters.h"

/* A batch of a map's entries fills about this many bytes (per-CPU values:
 * a 256-CPU node has 94 KiB per block IO entry), 8 to 1024 entries, twice
 * as many after each ENOSPC (a hash bucket holding more than a batch). */
#define BATCH_BYTES (4U << 20)
#define BATCH_ENTRIES_MIN 8U
#define BATCH_ENTRIES_MAX 1024U
#define BATCH_GROW_MAX 10U

static size_t batch_entries(const Sensors *s, size_t value_size) {
        size_t n = BATCH_BYTES / value_size;

        n = MIN(MAX(n, (size_t) BATCH_ENTRIES_MIN), (size_t) BATCH_ENTRIES_MAX);
        return n << s->batch_grow;
}

static int batch_reserve(Sensors *s, size_t entries, size_t key_size, size_t value_size) {
        size_t kb = entries * key_size, vb = entries * value_size;

        if (kb > s->batch_keys_size) {
                uint8_t *p = realloc(s->batch_keys, kb);

                if (!p)
                        return -ENOMEM;
                s->batch_keys = p;
                s->batch_keys_size = kb;
        }
        if (vb > s->batch_values_size) {
                uint8_t *p = realloc(s->batch_values, vb);

                if (!p)
                        return -ENOMEM;
                s->batch_values = p;
                s->batch_values_size = vb;
        }
        return 0;
}

/* Reads a whole per-CPU hash map (keys of one or two u64) into ret, the
 * CPUs' values summed, sorted by key. */
int map_read(Sensors *s, int fd, size_t key_size, const CounterLayout *l, CounterTable *ret) {
        size_t value_size = counter_layout_stride(l) * s->ncpus;
        uint64_t sums[COUNTERS_MAX];
        uint64_t in_batch[2] = {}, out_batch[2] = {}; /* hash tables: a bucket index */
        bool first = true;
        int r;

        if (counter_layout_n(l) > COUNTERS_MAX)
                return -EINVAL;
        counter_table_clear(ret);
        for (;;) {
                size_t entries = batch_entries(s, value_size);
                __u32 count = (__u32) entries;

                r = batch_reserve(s, entries, key_size, value_size);
                if (r < 0)
                        return r;
                r = bpf_map_lookup_batch(fd, first ? NULL : in_batch, out_batch, s->batch_keys, s->batch_values,
                                         &count, NULL);
                if (r < 0 && r != -ENOENT) {
                        /* One hash bucket holds more than count: nothing was
                         * returned; retry the same bucket with more room. */
                        if (r == -ENOSPC && s->batch_grow < BATCH_GROW_MAX) {
                                s->batch_grow++;
                                continue;
                        }
                        return r;
                }
                for (__u32 i = 0; i < count; i++) {
                        const uint8_t *key = s->batch_keys + (size_t) i * key_size;
                        uint64_t k[2] = {};

                        memcpy(k, key, MIN(key_size, sizeof(k)));
                        counters_sum_percpu(l, s->batch_values + (size_t) i * value_size, s->ncpus, sums);
                        if (counter_table_append(ret, k[0], k[1], sums) < 0)
                                return -ENOMEM;
                }
                if (r == -ENOENT)
                        break;
                memcpy(in_batch, out_batch, sizeof(in_batch));
                first = false;
        }
        counter_table_sort(ret);
        return 0;
}

int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The keys (u64) of a hash map, sorted: the removed map (a handful) or,
 * for the tests, a stats map. */
int map_keys_read(int fd, uint64_t **ret, size_t *ret_n) {
        uint64_t key, next, *ids = NULL;
        size_t n = 0, allocated = 0;
        bool first = true;

        while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        uint64_t *p = reallocarray(ids, a, sizeof(*p));

                        if (!p) {
                                free(ids);
                                return -ENOMEM;
                        }
                        ids = p;
                        allocated = a;
                }
                ids[n++] = next;
                key = next;
                first = false;
        }
        if (n > 1)
                qsort(ids, n, sizeof(*ids), compare_u64);
        *ret = ids;
        *ret_n = n;
        return 0;
}

#endif
