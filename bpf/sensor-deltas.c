/* SPDX-License-Identifier: Apache-2.0 */
/* The per-cgroup deltas a read hands out: the list the sensors fill, sorted
 * and (on v2) merged to one entry per cgroup, and the top preemptors each
 * entry keeps. */

#include <stdlib.h>
#include <string.h>

#include "latency-histogram.h"
#include "sensor-state.h"
#include "sensors.h"

void cgroup_preemptors_add(CgroupPreemptor top[static SENSORS_TOP_PREEMPTORS], uint64_t cgroup_id, uint64_t count) {
        CgroupPreemptor p = { cgroup_id, count };
        unsigned i, n = SENSORS_TOP_PREEMPTORS;

        if (count == 0)
                return;
        /* Already listed: take it out and add its count. */
        for (i = 0; i < n && top[i].count > 0; i++)
                if (top[i].cgroup_id == cgroup_id) {
                        p.count += top[i].count;
                        memmove(&top[i], &top[i + 1], (n - 1 - i) * sizeof(top[0]));
                        top[n - 1] = (CgroupPreemptor) {};
                        break;
                }
        /* Insert before the first smaller one; the last falls off. */
        for (i = 0; i < n; i++)
                if (top[i].count < p.count) {
                        memmove(&top[i + 1], &top[i], (n - 1 - i) * sizeof(top[0]));
                        top[i] = p;
                        return;
                }
}

#if NODEQOS_HAVE_BPF

CgroupSensorDelta *delta_list_push(DeltaList *l, uint64_t id, SensorKind k) {
        CgroupSensorDelta *d;

        if (l->n == l->allocated) {
                size_t a = l->allocated ? l->allocated * 2 : 64;
                CgroupSensorDelta *p = reallocarray(l->v, a, sizeof(*p));

                if (!p)
                        return NULL;
                l->v = p;
                l->allocated = a;
        }
        d = &l->v[l->n++];
        *d = (CgroupSensorDelta) { .cgroup_id = id, .kinds = 1U << k };
        return d;
}

static int compare_deltas(const void *a, const void *b) {
        const CgroupSensorDelta *x = a, *y = b;

        if (x->cgroup_id != y->cgroup_id)
                return x->cgroup_id < y->cgroup_id ? -1 : 1;
        return x->kinds < y->kinds ? -1 : x->kinds > y->kinds;
}

/* dst += src, for entries of one cgroup from different sensors (v2). */
static void delta_merge(CgroupSensorDelta *dst, const CgroupSensorDelta *src) {
        dst->kinds |= src->kinds;
        latency_histogram_add(&dst->runqueue, &src->runqueue);
        dst->preempted += src->preempted;
        dst->preempted_by_other += src->preempted_by_other;
        for (unsigned i = 0; i < SENSORS_TOP_PREEMPTORS && src->preemptors[i].count > 0; i++)
                cgroup_preemptors_add(dst->preemptors, src->preemptors[i].cgroup_id, src->preemptors[i].count);
        dst->reclaim_ns += src->reclaim_ns;
        dst->reclaim_count += src->reclaim_count;
        for (unsigned w = 0; w < 2; w++) {
                latency_histogram_add(&dst->io[w], &src->io[w]);
                dst->io_bytes[w] += src->io_bytes[w];
        }
}

/* Sorted by id; on v2 one entry per cgroup. */
void delta_list_finish(DeltaList *l, CgroupMode mode) {
        size_t kept = 0;

        if (l->n > 1)
                qsort(l->v, l->n, sizeof(l->v[0]), compare_deltas);
        if (mode != CGROUP_MODE_V2)
                return;
        for (size_t i = 0; i < l->n; i++) {
                if (kept > 0 && l->v[kept - 1].cgroup_id == l->v[i].cgroup_id)
                        delta_merge(&l->v[kept - 1], &l->v[i]);
                else if (kept++ != i)
                        l->v[kept - 1] = l->v[i];
        }
        l->n = kept;
}

#endif
