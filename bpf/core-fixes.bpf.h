/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only) */
#pragma once

/* Every difference between kernel versions that the sensors meet, in one
 * place. CO-RE relocations and constants from frozen read-only data are
 * resolved at load time, so the branch for the other kernels is dead code
 * the verifier never sees. The floor is Linux 5.11 (task-local storage for
 * tracing programs, bpf_get_current_task_btf()); tp_btf itself needs 5.5. */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;

#define NQ_TASK_RUNNING 0

/* task_struct::state became __state in 5.14 (and unsigned int). */
struct task_struct___pre_5_14 {
        long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t) {
        if (bpf_core_field_exists(t->__state))
                return t->__state;
        return ((struct task_struct___pre_5_14 *) t)->state;
}

/* block_rq_issue lost its request_queue argument in 5.11:
 * (struct request_queue *q, struct request *rq) -> (struct request *rq). */
static __always_inline struct request *block_rq_issue_request(unsigned long long *ctx) {
        if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0))
                return (struct request *) ctx[1];
        return (struct request *) ctx[0];
}

/* A request's operation: the low REQ_OP_BITS (8 since 4.10) of cmd_flags,
 * a plain unsigned int before 6.0's blk_opf_t, same layout. */
#define NQ_REQ_OP_MASK ((1U << 8) - 1)
#define NQ_REQ_OP_READ 0
#define NQ_REQ_OP_WRITE 1

/* The blkcg a bio is charged to: bio::bi_blkg exists with
 * CONFIG_BLK_CGROUP (since 5.0; earlier kernels cannot load us anyway). */
static __always_inline struct blkcg_gq *bio_blkg(struct bio *bio) {
        if (!bpf_core_field_exists(bio->bi_blkg))
                return NULL;
        return bio->bi_blkg;
}
