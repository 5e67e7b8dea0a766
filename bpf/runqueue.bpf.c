/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Run-queue latency per cgroup: the time from a task becoming runnable (a
 * wakeup, or a preemption that leaves it runnable) to its switch-in, as a
 * log2 histogram per cgroup of the cpu controller; and who preempts whom.
 *
 * The hot path is sched_switch, on every context switch: one task-storage
 * lookup for the task coming in, one per-CPU hash lookup for its cgroup's
 * entry, plain adds (per-CPU values need no atomics), no strings. A task
 * switched out runnable costs one more task-storage lookup, and a
 * preemption across cgroups one lookup in the pair map. */

#include "sensor-common.bpf.h"
#include "runqueue.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct runqueue_task);
} nq_rq_tasks SEC(".maps");

/* max_entries set by the loader (SensorsOptions.max_cgroups). */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
        __uint(max_entries, 1024);
        __type(key, __u64);
        __type(value, struct runqueue_stats);
} nq_rq_stats SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
        __uint(max_entries, 4096);
        __type(key, struct runqueue_pair);
        __type(value, __u64);
} nq_rq_pairs SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, NQ_REMOVED_MAX);
        __type(key, __u64);
        __type(value, __u8);
} nq_rq_removed SEC(".maps");

static __always_inline int cpu_ssid(void) {
        return bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
}

static __always_inline void mark_runnable(struct task_struct *p) {
        struct runqueue_task *t = bpf_task_storage_get(&nq_rq_tasks, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);

        if (!t) {
                count_dropped();
                return;
        }
        /* A task preempted and still waiting is "woken" again when it had
         * been about to sleep: it has been waiting since its preemption. */
        if (t->queued_ns && t->preempted)
                return;
        t->queued_ns = bpf_ktime_get_ns();
        t->preempted = 0;
        t->by_other = 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(nq_rq_wakeup, struct task_struct *p) {
        mark_runnable(p);
        return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(nq_rq_wakeup_new, struct task_struct *p) {
        mark_runnable(p);
        return 0;
}

static __always_inline void count_preemption(struct cgroup *victim, struct cgroup *aggressor) {
        struct runqueue_pair key = { .victim = cgroup_id_of(victim), .aggressor = cgroup_id_of(aggressor) };
        __u64 zero = 0, *n = map_lookup_or_insert(&nq_rq_pairs, &key, &zero);

        if (n)
                *n += 1;
}

/* The arguments common to every kernel (5.18 appended prev_state). */
SEC("tp_btf/sched_switch")
int BPF_PROG(nq_rq_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
        struct cgroup *next_cgroup = NULL;
        struct runqueue_task *t;
        struct runqueue_stats *s, zero = {};
        __u64 now = bpf_ktime_get_ns(), delta, id;
        __u32 b;

        /* Involuntary: preempted (it stays queued whatever its state), or
         * yielding with state TASK_RUNNING. pid 0 is the idle task. */
        if (prev->pid != 0 && (preempt || task_state(prev) == NQ_TASK_RUNNING)) {
                t = bpf_task_storage_get(&nq_rq_tasks, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
                if (t) {
                        struct cgroup *prev_cgroup = task_cgroup(prev, cpu_ssid());

                        next_cgroup = task_cgroup(next, cpu_ssid());
                        t->queued_ns = now;
                        t->preempted = 1;
                        t->by_other = next->pid != 0 && prev_cgroup != next_cgroup;
                        if (t->by_other)
                                count_preemption(prev_cgroup, next_cgroup);
                } else
                        count_dropped();
        }

        if (next->pid == 0)
                return 0;
        t = bpf_task_storage_get(&nq_rq_tasks, next, NULL, 0);
        if (!t || !t->queued_ns)
                return 0;
        delta = now > t->queued_ns ? now - t->queued_ns : 0;
        if (!next_cgroup)
                next_cgroup = task_cgroup(next, cpu_ssid());
        id = cgroup_id_of(next_cgroup);
        s = map_lookup_or_insert(&nq_rq_stats, &id, &zero);
        if (s) {
                b = latency_bucket(delta);
                s->buckets[b] += 1;
                s->count += 1;
                s->sum_ns += delta;
                if (t->preempted) {
                        s->preempted += 1;
                        s->preempted_by_other += t->by_other;
                }
        }
        t->queued_ns = 0;
        t->preempted = 0;
        t->by_other = 0;
        return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(nq_rq_rmdir, struct cgroup *cgrp, const char *path) {
        note_removed_cgroup(&nq_rq_removed, cgrp, cpu_ssid());
        return 0;
}
