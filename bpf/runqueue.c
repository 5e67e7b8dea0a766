/* SPDX-License-Identifier: Apache-2.0 */
/* Loader of the run-queue sensor (runqueue.bpf.c). */

#include <errno.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "agent/macro.h"
#include "runqueue.h"
#include "runqueue.skel.h"
#include "sensor-impl.h"

DEFINE_SKELETON_CLEANUP(nq_runqueue)

/* Pairs are few (who preempts whom within one read; idle pairs are deleted
 * by the reader), but allow several aggressors per cgroup. */
#define RUNQUEUE_PAIRS_PER_CGROUP 4

static int runqueue_load(const SensorLoadOptions *o, SensorHandle *ret, const char **ret_step) {
        _cleanup_(nq_runqueue_destroyp) struct nq_runqueue *skel = NULL;
        int r;

        *ret_step = "open";
        skel = nq_runqueue__open();
        if (!skel)
                return negative_errno();
        skel->rodata->cgroup_v1 = o->cgroup_v1;
        r = bpf_map__set_max_entries(skel->maps.nq_rq_stats, o->max_cgroups);
        if (r == 0)
                r = bpf_map__set_max_entries(skel->maps.nq_rq_pairs, o->max_cgroups * RUNQUEUE_PAIRS_PER_CGROUP);
        if (r == 0 && o->no_prealloc)
                r = bpf_map__set_map_flags(skel->maps.nq_rq_stats,
                                           bpf_map__map_flags(skel->maps.nq_rq_stats) | BPF_F_NO_PREALLOC);
        if (r == 0 && o->no_prealloc)
                r = bpf_map__set_map_flags(skel->maps.nq_rq_pairs,
                                           bpf_map__map_flags(skel->maps.nq_rq_pairs) | BPF_F_NO_PREALLOC);
        if (r < 0)
                return r;

        *ret_step = "load";
        r = nq_runqueue__load(skel);
        if (r < 0)
                return r;
        *ret_step = "attach";
        r = nq_runqueue__attach(skel);
        if (r < 0)
                return r;

        *ret = (SensorHandle) {
                .obj = skel->obj,
                .stats_fd = bpf_map__fd(skel->maps.nq_rq_stats),
                .removed_fd = bpf_map__fd(skel->maps.nq_rq_removed),
                .pairs_fd = bpf_map__fd(skel->maps.nq_rq_pairs),
                .inflight_fd = -1,
                .dropped = &skel->bss->dropped,
        };
        ret->skel = TAKE_PTR(skel);
        return 0;
}

static void runqueue_destroy(SensorHandle *h) {
        nq_runqueue__destroy(h->skel);
        h->skel = NULL;
}

static void runqueue_apply(const uint64_t *delta, CgroupSensorDelta *d) {
        const uint64_t *u64 = delta + NQ_LATENCY_BUCKETS;

        for (unsigned i = 0; i < NQ_LATENCY_BUCKETS; i++)
                d->runqueue.buckets[i] += delta[i];
        d->runqueue.count += u64[0];
        d->runqueue.sum_ns += u64[1];
        d->preempted += u64[2];
        d->preempted_by_other += u64[3];
}

static const char *const runqueue_tracepoints[] = {
        "sched_wakeup", "sched_wakeup_new", "sched_switch", "cgroup_rmdir", NULL,
};

const SensorImpl runqueue_sensor_impl = {
        .kind = SENSOR_RUNQUEUE,
        .controller = CGROUP_CONTROLLER_CPU,
        .subsys_enumerator = "cpu_cgrp_id",
        .tracepoints = runqueue_tracepoints,
        .task_storage = true,
        .layout = {
                .value_size = sizeof(struct runqueue_stats),
                .n_u32 = NQ_LATENCY_BUCKETS,
                .u64_offset = offsetof(struct runqueue_stats, count),
                .n_u64 = 4,
        },
        .load = runqueue_load,
        .destroy = runqueue_destroy,
        .apply = runqueue_apply,
};
