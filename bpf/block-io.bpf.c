/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
/* Block IO latency per cgroup: request issue to the driver -> completion,
 * reads and writes apart, with bytes, charged to the blkcg of the request's
 * first bio (bio->bi_blkg): the io controller's cgroup on v2, the blkio
 * hierarchy's on v1. That is the cgroup that submitted the IO, also for
 * writeback on v2 (cgroup writeback); on v1 page-cache writeback runs in
 * the flusher's (root) cgroup, so only direct and synchronous IO lands in
 * the workload's cgroup. */

#include "sensor-common.bpf.h"
#include "block-io.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Requests between issue and completion, keyed by address. Bounded: a
 * device's queue depth times the devices; a full map drops (counted). */
#define NQ_IO_INFLIGHT_MAX 8192

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, NQ_IO_INFLIGHT_MAX);
        __type(key, __u64);
        __type(value, struct block_io_request);
} nq_io_inflight SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
        __uint(max_entries, 1024);
        __type(key, __u64);
        __type(value, struct block_io_stats);
} nq_io_stats SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, NQ_REMOVED_MAX);
        __type(key, __u64);
        __type(value, __u8);
} nq_io_removed SEC(".maps");

static __always_inline int io_ssid(void) {
        return bpf_core_enum_value(enum cgroup_subsys_id, io_cgrp_id);
}

static __always_inline __u64 request_cgroup_id(struct request *rq) {
        struct blkcg_gq *blkg = bio_blkg(rq->bio);

        if (!blkg)
                return NQ_ROOT_CGROUP_ID;
        return cgroup_id_of(blkg->blkcg->css.cgroup);
}

SEC("tp_btf/block_rq_issue")
int nq_io_issue(unsigned long long *ctx) {
        struct request *rq = block_rq_issue_request(ctx);
        __u32 op = rq->cmd_flags & NQ_REQ_OP_MASK;
        struct block_io_request r = {};
        __u64 key = (__u64) rq;

        if (op != NQ_REQ_OP_READ && op != NQ_REQ_OP_WRITE)
                return 0; /* flush, discard, ...: no data to time */
        r.issue_ns = bpf_ktime_get_ns();
        r.cgroup_id = request_cgroup_id(rq);
        r.write = op == NQ_REQ_OP_WRITE;
        /* BPF_ANY: a requeued request is issued again. */
        if (bpf_map_update_elem(&nq_io_inflight, &key, &r, BPF_ANY) != 0)
                count_dropped();
        return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(nq_io_complete, struct request *rq, int error, unsigned int nr_bytes) {
        __u64 key = (__u64) rq, now = bpf_ktime_get_ns(), delta, id;
        struct block_io_request *r = bpf_map_lookup_elem(&nq_io_inflight, &key);
        struct block_io_stats *s, zero = {};
        bool last;
        __u32 w;

        if (!r)
                return 0; /* issued before we were attached, or not read/write */
        id = r->cgroup_id;
        w = r->write ? 1 : 0;
        delta = now > r->issue_ns ? now - r->issue_ns : 0;
        /* Called before the request is advanced: a partial completion
         * covers less than what remains, and another one follows. */
        last = nr_bytes >= rq->__data_len;
        if (last)
                bpf_map_delete_elem(&nq_io_inflight, &key);

        s = map_lookup_or_insert(&nq_io_stats, &id, &zero);
        if (!s)
                return 0;
        s->bytes[w] += nr_bytes;
        if (last) {
                s->buckets[w][latency_bucket(delta)] += 1;
                s->count[w] += 1;
                s->sum_ns[w] += delta;
        }
        return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(nq_io_rmdir, struct cgroup *cgrp, const char *path) {
        note_removed_cgroup(&nq_io_removed, cgrp, io_ssid());
        return 0;
}
