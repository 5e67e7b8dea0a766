/* SPDX-License-Identifier: Apache-2.0 */
/* Removed and forgotten cgroups: their entries deleted from the sensors'
 * maps and from what the next read compares with. */

#include <errno.h>
#include <stdlib.h>

#include "agent/macro.h"
#include "sensor-state.h"
#include "sensors.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>

#include "runqueue.h"
#include "sensor-counters.h"

/* The sorted union of a and b, without duplicates. */
static int ids_union(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t **ret, size_t *ret_n) {
        uint64_t *u = malloc((na + nb + 1) * sizeof(*u));
        size_t n = 0, i = 0, j = 0;

        if (!u)
                return -ENOMEM;
        while (i < na || j < nb) {
                uint64_t x = j >= nb || (i < na && a[i] <= b[j]) ? a[i++] : b[j++];

                if (n == 0 || u[n - 1] != x)
                        u[n++] = x;
        }
        *ret = u;
        *ret_n = n;
        return 0;
}

/* Deletes the entries of ids (sorted) from the sensor's maps and from
 * cur (what the next read compares with). */
static void sensor_delete_ids(SensorState *st, const uint64_t *ids, size_t n, CounterTable *cur,
                              CounterTable *cur_pairs) {
        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++)
                (void) bpf_map_delete_elem(st->h.stats_fd, &ids[i]);
        (void) counter_table_drop(cur, ids, n, false);
        if (st->h.pairs_fd < 0)
                return;
        for (size_t i = 0; i < cur_pairs->n; i++) {
                const uint64_t *c = counter_table_record(cur_pairs, i);
                struct runqueue_pair key = { .victim = c[0], .aggressor = c[1] };

                if (bsearch(&c[0], ids, n, sizeof(*ids), compare_u64) ||
                    bsearch(&c[1], ids, n, sizeof(*ids), compare_u64))
                        (void) bpf_map_delete_elem(st->h.pairs_fd, &key);
        }
        (void) counter_table_drop(cur_pairs, ids, n, true);
}

int sensor_forget_removed(SensorState *st, uint64_t *removed_ids, size_t n_removed) {
        _cleanup_free_ uint64_t *removed = removed_ids, *gone = NULL;
        size_t n_gone = 0;
        int r;

        /* A removed cgroup's entries go now and once more at the next read
         * (an exiting task may still be charged to it after the rmdir). */
        r = ids_union(removed, n_removed, st->pending, st->n_pending, &gone, &n_gone);
        if (r < 0)
                return r;
        sensor_delete_ids(st, gone, n_gone, &st->cur, &st->cur_pairs);
        for (size_t i = 0; i < n_removed; i++)
                (void) bpf_map_delete_elem(st->h.removed_fd, &removed[i]);
        free(st->pending);
        st->pending = TAKE_PTR(removed);
        st->n_pending = n_removed;
        return 0;
}

void sensors_forget(Sensors *s, uint64_t cgroup_id) {
        if (!s)
                return;
        for (int i = 0; i < _SENSOR_MAX; i++)
                if (s->sensor[i].up)
                        sensor_delete_ids(&s->sensor[i], &cgroup_id, 1, &s->sensor[i].prev,
                                          &s->sensor[i].prev_pairs);
}

#else /* !NODEQOS_HAVE_BPF */

void sensors_forget(Sensors *s, uint64_t cgroup_id) {
}


#endif
