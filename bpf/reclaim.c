/* SPDX-License-Identifier: Apache-2.0 */
/* Loader of the reclaim sensor (reclaim.bpf.c). */

#include <errno.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "agent/macro.h"
#include "reclaim.h"
#include "reclaim.skel.h"
#include "sensor-impl.h"

DEFINE_SKELETON_CLEANUP(nq_reclaim)

static int reclaim_load(const SensorLoadOptions *o, SensorHandle *ret, const char **ret_step) {
        _cleanup_(nq_reclaim_destroyp) struct nq_reclaim *skel = NULL;
        int r;

        *ret_step = "open";
        skel = nq_reclaim__open();
        if (!skel)
                return negative_errno();
        skel->rodata->cgroup_v1 = o->cgroup_v1;
        r = bpf_map__set_max_entries(skel->maps.nq_rcl_stats, o->max_cgroups);
        if (r == 0 && o->no_prealloc)
                r = bpf_map__set_map_flags(skel->maps.nq_rcl_stats,
                                           bpf_map__map_flags(skel->maps.nq_rcl_stats) | BPF_F_NO_PREALLOC);
        if (r < 0)
                return r;

        *ret_step = "load";
        r = nq_reclaim__load(skel);
        if (r < 0)
                return r;
        *ret_step = "attach";
        r = nq_reclaim__attach(skel);
        if (r < 0)
                return r;

        *ret = (SensorHandle) {
                .obj = skel->obj,
                .stats_fd = bpf_map__fd(skel->maps.nq_rcl_stats),
                .removed_fd = bpf_map__fd(skel->maps.nq_rcl_removed),
                .pairs_fd = -1,
                .inflight_fd = -1,
                .dropped = &skel->bss->dropped,
        };
        ret->skel = TAKE_PTR(skel);
        return 0;
}

static void reclaim_destroy(SensorHandle *h) {
        nq_reclaim__destroy(h->skel);
        h->skel = NULL;
}

static void reclaim_apply(const uint64_t *delta, CgroupSensorDelta *d) {
        d->reclaim_ns += delta[0];
        d->reclaim_count += delta[1];
}

static const char *const reclaim_tracepoints[] = {
        "mm_vmscan_memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_end",
        "mm_vmscan_direct_reclaim_begin", "mm_vmscan_direct_reclaim_end",
        "cgroup_rmdir", NULL,
};

const SensorImpl reclaim_sensor_impl = {
        .kind = SENSOR_RECLAIM,
        .controller = CGROUP_CONTROLLER_MEMORY,
        .subsys_enumerator = "memory_cgrp_id",
        .tracepoints = reclaim_tracepoints,
        .task_storage = true,
        .layout = {
                .value_size = sizeof(struct reclaim_stats),
                .n_u32 = 0,
                .u64_offset = offsetof(struct reclaim_stats, ns),
                .n_u64 = 2,
        },
        .load = reclaim_load,
        .destroy = reclaim_destroy,
        .apply = reclaim_apply,
};
