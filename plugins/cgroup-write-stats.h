/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the cgroup writer did, per knob and outcome: one count per setter
 * call (cgroup_set_cpu_quota() and so on), for the metrics endpoint's
 * nodeqos_cgroup_writes_total{knob,result}. The writer's totals
 * (CgroupWriterStats) count files instead: a v1 quota is two files. */

#include <stdbool.h>
#include <stdint.h>

typedef enum CgroupKnob {
        CGROUP_KNOB_CPU_QUOTA,
        CGROUP_KNOB_CPU_WEIGHT,
        CGROUP_KNOB_CPU_IDLE,
        CGROUP_KNOB_CPUSET_CPUS,
        CGROUP_KNOB_CPUSET_MEMS,
        CGROUP_KNOB_MEMORY_HIGH,
        CGROUP_KNOB_MEMORY_MAX,
        CGROUP_KNOB_IO_MAX,
        CGROUP_KNOB_IO_WEIGHT,
        _CGROUP_KNOB_MAX,
} CgroupKnob;

typedef enum CgroupWriteResult {
        CGROUP_WRITE_WRITTEN,   /* at least one file got a new value */
        CGROUP_WRITE_UNCHANGED, /* the values were those written last */
        CGROUP_WRITE_REFUSED,   /* outside the managed roots, or escaping them */
        CGROUP_WRITE_GONE,      /* the cgroup vanished (-ENOENT): a pod ending, not a fault */
        CGROUP_WRITE_FAILED,    /* any other error */
        _CGROUP_WRITE_RESULT_MAX,
} CgroupWriteResult;

typedef struct CgroupWriteStats {
        uint64_t calls[_CGROUP_KNOB_MAX][_CGROUP_WRITE_RESULT_MAX];
} CgroupWriteStats;

/* "cpu_quota", "cpu_weight", ...; NULL out of range. */
const char *cgroup_knob_to_string(CgroupKnob k);
/* "written", "unchanged", "refused", "gone", "failed"; NULL out of range. */
const char *cgroup_write_result_to_string(CgroupWriteResult r);

/* The outcome of a setter's return value r (1, 0 or -errno); refused says
 * the writer refused the path. */
CgroupWriteResult cgroup_write_result_of(int r, bool refused);
