/* SPDX-License-Identifier: Apache-2.0 */
/* Loader of the block IO sensor (block-io.bpf.c). */

#include <errno.h>
#include <stddef.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/macro.h"
#include "block-io.h"
#include "block-io.skel.h"
#include "sensor-impl.h"

DEFINE_SKELETON_CLEANUP(nq_block_io)

static int block_io_load(const SensorLoadOptions *o, SensorHandle *ret, const char **ret_step) {
        _cleanup_(nq_block_io_destroyp) struct nq_block_io *skel = NULL;
        int r;

        *ret_step = "open";
        skel = nq_block_io__open();
        if (!skel)
                return negative_errno();
        skel->rodata->cgroup_v1 = o->cgroup_v1;
        r = bpf_map__set_max_entries(skel->maps.nq_io_stats, o->max_cgroups);
        if (r == 0 && o->no_prealloc)
                r = bpf_map__set_map_flags(skel->maps.nq_io_stats,
                                           bpf_map__map_flags(skel->maps.nq_io_stats) | BPF_F_NO_PREALLOC);
        if (r < 0)
                return r;

        *ret_step = "load";
        r = nq_block_io__load(skel);
        if (r < 0)
                return r;
        *ret_step = "attach";
        r = nq_block_io__attach(skel);
        if (r < 0)
                return r;

        *ret = (SensorHandle) {
                .obj = skel->obj,
                .stats_fd = bpf_map__fd(skel->maps.nq_io_stats),
                .removed_fd = bpf_map__fd(skel->maps.nq_io_removed),
                .pairs_fd = -1,
                .inflight_fd = bpf_map__fd(skel->maps.nq_io_inflight),
                .dropped = &skel->bss->dropped,
        };
        ret->skel = TAKE_PTR(skel);
        return 0;
}

static void block_io_destroy(SensorHandle *h) {
        nq_block_io__destroy(h->skel);
        h->skel = NULL;
}

/* Counters: buckets[2][40], then count[2], sum_ns[2], bytes[2]. */
static void block_io_apply(const uint64_t *delta, CgroupSensorDelta *d) {
        const uint64_t *u64 = delta + 2 * NQ_LATENCY_BUCKETS;

        for (unsigned w = 0; w < 2; w++) {
                for (unsigned i = 0; i < NQ_LATENCY_BUCKETS; i++)
                        d->io[w].buckets[i] += delta[w * NQ_LATENCY_BUCKETS + i];
                d->io[w].count += u64[w];
                d->io[w].sum_ns += u64[2 + w];
                d->io_bytes[w] += u64[4 + w];
        }
}

int block_io_sweep_inflight(int fd, uint64_t now_ns) {
        __u64 key, next, *prev = NULL;
        int n = 0;

        /* Collect first, delete after: deleting the current key would
         * restart the walk. A few thousand entries at most. */
        __u64 stale[256];
        size_t n_stale = 0;

        while (bpf_map_get_next_key(fd, prev, &next) == 0) {
                struct block_io_request r;

                key = next;
                prev = &key;
                if (bpf_map_lookup_elem(fd, &key, &r) < 0)
                        continue;
                if (r.issue_ns + BLOCK_IO_INFLIGHT_STALE_NSEC < now_ns && n_stale < ELEMENTSOF(stale))
                        stale[n_stale++] = key;
        }
        for (size_t i = 0; i < n_stale; i++)
                if (bpf_map_delete_elem(fd, &stale[i]) == 0)
                        n++;
        return n;
}

static const char *const block_io_tracepoints[] = {
        "block_rq_issue", "block_rq_complete", "cgroup_rmdir", NULL,
};

const SensorImpl block_io_sensor_impl = {
        .kind = SENSOR_BLOCK_IO,
        .controller = CGROUP_CONTROLLER_BLKIO,
        .subsys_enumerator = "io_cgrp_id",
        .tracepoints = block_io_tracepoints,
        .task_storage = false,
        .layout = {
                .value_size = sizeof(struct block_io_stats),
                .n_u32 = 2 * NQ_LATENCY_BUCKETS,
                .u64_offset = offsetof(struct block_io_stats, count),
                .n_u64 = 6,
        },
        .load = block_io_load,
        .destroy = block_io_destroy,
        .apply = block_io_apply,
};
