/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The only code that writes cgroup files. One function per knob, mapped to
 * the layout (v2 file, or the v1 equivalent). Every write is confined to the
 * managed roots: the path is checked textually (relative, no "." or "..")
 * and opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below the
 * hierarchy's root, so no symlink or bind trick leads elsewhere. A value is
 * written only when it differs from the last one written to that file. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/cgroup-write-stats.h"
#include "qos/cgroup-layout.h"

typedef struct CgroupWriter CgroupWriter;

typedef struct CgroupWriterStats {
        uint64_t written;   /* values written */
        uint64_t unchanged; /* writes skipped: same value as last time */
        uint64_t refused;   /* -EPERM: outside the managed roots */
        uint64_t failed;    /* other errors */
} CgroupWriterStats;

/* managed_roots: cgroup paths relative to the hierarchy roots under which
 * writes are allowed ("kubepods.slice", "batch.slice"). Returns 0, -ENOMEM,
 * -EINVAL if no root is given or one is not a clean relative path, -ENOSYS
 * if the kernel has no openat2() (< 5.6: writes could not be confined), or
 * -errno from opening a hierarchy root. */
int cgroup_writer_new(const CgroupLayout *layout, char *const *managed_roots, size_t n_managed_roots,
                      CgroupWriter **ret);
CgroupWriter *cgroup_writer_free(CgroupWriter *w);

/* All setters: cgroup is relative to the hierarchy roots. They return 1 if
 * written, 0 if unchanged, -EPERM if cgroup is outside the managed roots
 * or escapes them, -EOPNOTSUPP if the layout has no such knob (no
 * hierarchy for the controller, or the cgroup exists without the file),
 * -ENOENT if the cgroup is gone (what was remembered of it is forgotten),
 * -EINVAL for an argument out of range, or the kernel's -errno. Refusals
 * are logged at debug level only: the caller logs them. */

/* quota_usec < 0: no limit. v2 cpu.max "QUOTA|max PERIOD"; v1
 * cpu.cfs_period_us and cpu.cfs_quota_us (-1 for no limit). */
int cgroup_set_cpu_quota(CgroupWriter *w, const char *cgroup, int64_t quota_usec, uint64_t period_usec);
/* weight 1..10000 (the v2 scale). v1: cpu.shares, converted as the kubelet
 * and runc do (shares = 2 + (weight - 1) * 262142 / 9999). */
int cgroup_set_cpu_weight(CgroupWriter *w, const char *cgroup, uint64_t weight);
/* cpu.idle (v2, and v1 on kernels >= 5.15). Changing it resets the
 * kernel's weight (idle: the minimum, 3 shares; not idle: the default, not
 * the previous value), so the writer forgets the weight it wrote and the
 * next cgroup_set_cpu_weight() writes again. While idle, the kernel refuses
 * weights with -EINVAL. */
int cgroup_set_cpu_idle(CgroupWriter *w, const char *cgroup, bool idle);
/* cpuset.cpus / cpuset.mems, a kernel cpu list such as "0-3,8". */
int cgroup_set_cpuset_cpus(CgroupWriter *w, const char *cgroup, const char *cpus);
int cgroup_set_cpuset_mems(CgroupWriter *w, const char *cgroup, const char *mems);
/* bytes < 0: no limit. v2 memory.high; v1 has no memory.high: the fallback is
 * memory.soft_limit_in_bytes (reclaimed first under pressure, never OOM). */
int cgroup_set_memory_high(CgroupWriter *w, const char *cgroup, int64_t bytes);
/* bytes < 0: no limit. v2 memory.max; v1 memory.limit_in_bytes. */
int cgroup_set_memory_max(CgroupWriter *w, const char *cgroup, int64_t bytes);

typedef struct IoLimits {
        /* 0: no limit */
        uint64_t read_bps, write_bps, read_iops, write_iops;
} IoLimits;
/* v2 io.max "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.." ("max" for 0); v1
 * blkio.throttle.{read,write}_{bps,iops}_device "MAJ:MIN N" (0 removes). */
int cgroup_set_io_max(CgroupWriter *w, const char *cgroup, unsigned major, unsigned minor, const IoLimits *limits);
/* weight 1..10000. v2 io.weight "default N"; v1 blkio.weight (CFQ,
 * 10..1000, scaled) or, on kernels >= 5.0 where CFQ is gone,
 * blkio.bfq.weight (1..1000; applies only to devices using BFQ);
 * -EOPNOTSUPP where neither exists. */
int cgroup_set_io_weight(CgroupWriter *w, const char *cgroup, uint64_t weight);

/* Forgets the remembered values of a removed cgroup (and its children). */
void cgroup_writer_forget(CgroupWriter *w, const char *cgroup);

/* The totals: written and unchanged count files, refused and failed calls. */
CgroupWriterStats cgroup_writer_stats(const CgroupWriter *w);
/* Per knob and outcome, one count per setter call (zeros for NULL). */
void cgroup_writer_knob_stats(const CgroupWriter *w, CgroupWriteStats *ret);

/* The textual check alone, for tests and for refusing requests early: 0 if
 * cgroup is a clean relative path at or below one of the roots, else -EPERM. */
int cgroup_path_check_managed(const char *cgroup, char *const *managed_roots, size_t n_managed_roots);
