/* SPDX-License-Identifier: Apache-2.0 */
/* One read of the sensors: each up sensor's stats map (and the run queue's
 * pair map) as deltas since the last read, into the list sensors_read()
 * hands out. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"
#include "sensor-state.h"
#include "sensors.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>

#include "runqueue.h"
#include "sensor-counters.h"
#include "sensor-impl.h"

typedef struct EmitContext {
        DeltaList *out;
        const SensorImpl *impl;
} EmitContext;

static int emit_stats_delta(uint64_t id, uint64_t key1, const uint64_t *delta, void *userdata) {
        EmitContext *c = userdata;
        CgroupSensorDelta *d = delta_list_push(c->out, id, c->impl->kind);

        if (!d)
                return -ENOMEM;
        c->impl->apply(delta, d);
        return 0;
}

typedef struct TopPreemptor {
        uint64_t victim;
        CgroupPreemptor top[SENSORS_TOP_PREEMPTORS];
} TopPreemptor;

typedef struct PairContext {
        TopPreemptor *top;
        size_t n, allocated;
} PairContext;

/* Pair deltas arrive sorted by (victim, aggressor): keep each victim's
 * largest. */
static int collect_pair_delta(uint64_t victim, uint64_t aggressor, const uint64_t *delta, void *userdata) {
        PairContext *c = userdata;
        TopPreemptor *t = c->n > 0 ? &c->top[c->n - 1] : NULL;

        if (t && t->victim == victim) {
                cgroup_preemptors_add(t->top, aggressor, delta[0]);
                return 0;
        }
        if (c->n == c->allocated) {
                size_t a = c->allocated ? c->allocated * 2 : 32;
                TopPreemptor *p = reallocarray(c->top, a, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                c->top = p;
                c->allocated = a;
        }
        c->top[c->n] = (TopPreemptor) { .victim = victim };
        cgroup_preemptors_add(c->top[c->n++].top, aggressor, delta[0]);
        return 0;
}

static int compare_delta_id(const void *key, const void *elem) {
        uint64_t id = *(const uint64_t *) key, other = ((const CgroupSensorDelta *) elem)->cgroup_id;

        return id < other ? -1 : id > other;
}

static const CounterLayout pair_layout = {
        .value_size = sizeof(uint64_t),
        .n_u32 = 0,
        .u64_offset = 0,
        .n_u64 = 1,
};

/* The run queue's pair map: the top preemptor of each victim into its
 * entry (out[first..] holds this read's run-queue entries, sorted); pairs
 * idle since the last read are deleted, so the map holds only who preempts
 * whom lately. */
static int read_pairs(Sensors *s, SensorState *st, DeltaList *out, size_t first) {
        _cleanup_free_ TopPreemptor *top = NULL;
        PairContext pc = {};
        size_t n_rq = out->n - first, kept = 0;
        int r;

        r = map_read(s, st->h.pairs_fd, sizeof(struct runqueue_pair), &pair_layout, &st->cur_pairs);
        if (r < 0)
                return r;
        r = counter_table_deltas(&pair_layout, &st->cur_pairs, &st->prev_pairs, collect_pair_delta, &pc);
        top = pc.top;
        if (r < 0)
                return r;

        for (size_t i = 0; i < pc.n; i++) {
                CgroupSensorDelta *d = bsearch(&top[i].victim, out->v + first, n_rq, sizeof(*d), compare_delta_id);

                if (!d) {
                        d = delta_list_push(out, top[i].victim, SENSOR_RUNQUEUE);
                        if (!d)
                                return -ENOMEM;
                }
                memcpy(d->preemptors, top[i].top, sizeof(d->preemptors));
        }

        /* Delete idle pairs from the map and from what the next read
         * compares with: a pair that comes back starts from zero. */
        for (size_t i = 0; i < st->cur_pairs.n; i++) {
                uint64_t *c = counter_table_record(&st->cur_pairs, i);
                const uint64_t *p = counter_table_find(&st->prev_pairs, c[0], c[1]);

                if (p && p[2] == c[2]) {
                        struct runqueue_pair key = { .victim = c[0], .aggressor = c[1] };

                        (void) bpf_map_delete_elem(st->h.pairs_fd, &key);
                        continue;
                }
                if (kept != i)
                        memcpy(counter_table_record(&st->cur_pairs, kept), c,
                               counter_table_stride(&st->cur_pairs) * sizeof(uint64_t));
                kept++;
        }
        st->cur_pairs.n = kept;
        return 0;
}

static int sensor_read(Sensors *s, SensorState *st, DeltaList *out) {
        _cleanup_free_ uint64_t *removed = NULL;
        size_t n_removed = 0, first = out->n;
        EmitContext ec = { .out = out, .impl = st->impl };
        int r;

        /* Removed cgroups first: one removed after this is in the next
         * read's list, and its last counts with it. */
        r = map_keys_read(st->h.removed_fd, &removed, &n_removed);
        if (r < 0)
                return r;
        r = map_read(s, st->h.stats_fd, sizeof(uint64_t), &st->impl->layout, &st->cur);
        if (r < 0)
                return r;
        r = counter_table_deltas(&st->impl->layout, &st->cur, &st->prev, emit_stats_delta, &ec);
        if (r < 0)
                return r;
        if (st->h.pairs_fd >= 0) {
                r = read_pairs(s, st, out, first);
                if (r < 0)
                        return r;
        }

        r = sensor_forget_removed(st, TAKE_PTR(removed), n_removed);
        if (r < 0)
                return r;

        counter_table_swap(&st->prev, &st->cur);
        if (st->h.pairs_fd >= 0)
                counter_table_swap(&st->prev_pairs, &st->cur_pairs);

        sensor_sweep_inflight(s, st);
        return 0;
}

int sensors_read(Sensors *s, CgroupSensorDelta **ret_deltas, size_t *ret_n) {
        DeltaList out = {};
        int r;

        for (int i = 0; i < _SENSOR_MAX; i++) {
                if (!s->sensor[i].up)
                        continue;
                r = sensor_read(s, &s->sensor[i], &out);
                if (r < 0) {
                        free(out.v);
                        return r;
                }
        }
        s->reads++;
        delta_list_finish(&out, s->mode);
        *ret_deltas = out.v;
        *ret_n = out.n;
        return 0;
}

#else /* !NODEQOS_HAVE_BPF */

int sensors_read(Sensors *s, CgroupSensorDelta **ret_deltas, size_t *ret_n) {
        *ret_deltas = NULL;
        *ret_n = 0;
        return 0;
}

#endif
