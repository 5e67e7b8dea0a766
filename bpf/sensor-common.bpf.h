/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
#pragma once

/* What the three sensors' kernel sides share: which cgroup an event is
 * charged to on each layout, the log2 bucket, the bounded-map insert that
 * counts what it drops, and noting removed cgroups for user space. */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core-fixes.bpf.h"
#include "sensor-types.h"

/* Set by the loader between open and load. true (v1 and hybrid): a task's
 * cgroup is the one in the hierarchy of the sensor's controller, read from
 * task->cgroups->subsys[]; false (v2): its cgroup in the unified tree. */
const volatile bool cgroup_v1 = false;

/* Events lost because a map was full or task storage could not be had. */
__u64 dropped = 0;

static __always_inline void count_dropped(void) {
        __sync_fetch_and_add(&dropped, 1);
}

/* The cgroup of task that a sensor of controller ssid charges, per the
 * layout. ssid is a CO-RE enum constant, so subsys[ssid] is a fixed offset.
 * Plain loads from BTF pointers (no helper calls): a NULL on the way reads
 * as 0. */
static __always_inline struct cgroup *task_cgroup(struct task_struct *task, int ssid) {
        struct css_set *cset = task->cgroups;

        if (!cgroup_v1)
                return cset->dfl_cgrp;
        return cset->subsys[ssid]->cgroup;
}

static __always_inline __u64 cgroup_id_of(struct cgroup *cgrp) {
        __u64 id = cgrp->kn->id;

        return id ?: NQ_ROOT_CGROUP_ID;
}

/* Bucket i holds [2^i, 2^(i+1)) ns; 0 goes to bucket 0. */
static __always_inline __u32 latency_bucket(__u64 ns) {
        __u32 b = 0;

        if (ns >> 32) {
                ns >>= 32;
                b += 32;
        }
        if (ns >> 16) {
                ns >>= 16;
                b += 16;
        }
        if (ns >> 8) {
                ns >>= 8;
                b += 8;
        }
        if (ns >> 4) {
                ns >>= 4;
                b += 4;
        }
        if (ns >> 2) {
                ns >>= 2;
                b += 2;
        }
        if (ns >> 1)
                b += 1;
        return b < NQ_LATENCY_BUCKETS ? b : NQ_LATENCY_BUCKETS - 1;
}

/* The entry of key, created from zero when missing. A full map drops the
 * event (counted), never more. */
static __always_inline void *map_lookup_or_insert(void *map, const void *key, const void *zero) {
        void *v = bpf_map_lookup_elem(map, key);
        long r;

        if (v)
                return v;
        r = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
        if (r != 0 && r != -17 /* EEXIST: another CPU was first */) {
                count_dropped();
                return NULL;
        }
        return bpf_map_lookup_elem(map, key);
}

/* From tp_btf/cgroup_rmdir: if cgrp is in the hierarchy this sensor reads
 * (the one of controller ssid, or the unified one on v2), tell user space,
 * which reads the cgroup's last counts and then deletes its entries. The
 * rmdir caller's own cgroup in that hierarchy names it. */
static __always_inline void note_removed_cgroup(void *removed, struct cgroup *cgrp, int ssid) {
        struct cgroup *mine = task_cgroup(bpf_get_current_task_btf(), ssid);
        __u64 id;
        __u8 one = 1;

        if (!mine || cgrp->root != mine->root)
                return;
        id = cgroup_id_of(cgrp);
        if (bpf_map_update_elem(removed, &id, &one, BPF_ANY) != 0)
                count_dropped();
}

/* Cgroups removed since the last read, per sensor. */
#define NQ_REMOVED_MAX 1024
