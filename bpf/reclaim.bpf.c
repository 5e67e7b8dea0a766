/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Reclaim stalls per cgroup: the time a task spends in memcg reclaim
 * (charging over a limit: v1 memory.limit_in_bytes, v2 memory.max/high) and
 * in direct reclaim (the node short of free pages), charged to the task's
 * cgroup of the memory controller. kswapd's background reclaim stalls
 * nobody and is not counted. */

#include "sensor-common.bpf.h"
#include "reclaim.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct reclaim_task);
} nq_rcl_tasks SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
        __uint(max_entries, 1024);
        __type(key, __u64);
        __type(value, struct reclaim_stats);
} nq_rcl_stats SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, NQ_REMOVED_MAX);
        __type(key, __u64);
        __type(value, __u8);
} nq_rcl_removed SEC(".maps");

static __always_inline int memory_ssid(void) {
        return bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
}

static __always_inline void reclaim_begin(bool memcg) {
        struct reclaim_task *t = bpf_task_storage_get(&nq_rcl_tasks, bpf_get_current_task_btf(), NULL,
                                                      BPF_LOCAL_STORAGE_GET_F_CREATE);

        if (!t) {
                count_dropped();
                return;
        }
        if (memcg)
                t->memcg_begin_ns = bpf_ktime_get_ns();
        else
                t->direct_begin_ns = bpf_ktime_get_ns();
}

static __always_inline void reclaim_end(bool memcg) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct reclaim_task *t = bpf_task_storage_get(&nq_rcl_tasks, task, NULL, 0);
        struct reclaim_stats *s, zero = {};
        __u64 begin, now, id;

        if (!t)
                return;
        begin = memcg ? t->memcg_begin_ns : t->direct_begin_ns;
        if (!begin)
                return; /* began before we were attached */
        if (memcg)
                t->memcg_begin_ns = 0;
        else
                t->direct_begin_ns = 0;
        now = bpf_ktime_get_ns();
        id = cgroup_id_of(task_cgroup(task, memory_ssid()));
        s = map_lookup_or_insert(&nq_rcl_stats, &id, &zero);
        if (!s)
                return;
        s->ns += now > begin ? now - begin : 0;
        s->count += 1;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int nq_rcl_memcg_begin(void *ctx) {
        reclaim_begin(true);
        return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int nq_rcl_memcg_end(void *ctx) {
        reclaim_end(true);
        return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int nq_rcl_direct_begin(void *ctx) {
        reclaim_begin(false);
        return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int nq_rcl_direct_end(void *ctx) {
        reclaim_end(false);
        return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(nq_rcl_rmdir, struct cgroup *cgrp, const char *path) {
        note_removed_cgroup(&nq_rcl_removed, cgrp, memory_ssid());
        return 0;
}
