/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Reads one cgroup's statistics every tick at the lowest cost: the files are
 * opened once and re-read with pread() at offset 0. A cgroup that vanished
 * (ENOENT, ENODEV) is reported as -ENOENT so the caller drops it quietly. */

#include <stdbool.h>
#include <stdint.h>

#include "cgroup-layout.h"
#include "cgroup-stats.h"

typedef struct CgroupSample {
        bool has_cpu, has_memory, has_io, has_psi;
        CpuStat cpu;
        uint64_t memory_usage_bytes;
        uint64_t memory_working_set_bytes; /* usage minus inactive file cache, floor 0 */
        uint64_t memory_unreclaimable_bytes; /* anon + unevictable (v1: total_rss + total_unevictable) */
        IoStat io;
        PsiStats cpu_psi, memory_psi, io_psi; /* has_psi: v2 and hybrid only */
} CgroupSample;

typedef struct CgroupReader CgroupReader;

/* cgroup: path relative to every hierarchy root ("kubepods/besteffort/pod1").
 * Returns 0; -ENOENT if the cgroup does not exist in the primary hierarchy;
 * -EINVAL if cgroup has a ".." component; -ENOMEM. A statistic whose file is
 * missing is left out (has_* false). */
int cgroup_reader_open(const CgroupLayout *layout, const char *cgroup, CgroupReader **ret);
CgroupReader *cgroup_reader_free(CgroupReader *r);

typedef enum CgroupReaderFlags {
        /* Leave the pressure files out: a container's pressure adds three
         * reads a sample and its pod's says the same. */
        CGROUP_READER_NO_PRESSURE = 1 << 0,
} CgroupReaderFlags;

/* cgroup_reader_open() with flags. */
int cgroup_reader_open_with(const CgroupLayout *layout, const char *cgroup, CgroupReaderFlags flags,
                            CgroupReader **ret);

/* Returns 0; -ENOENT when the cgroup is gone; -EINVAL on a malformed file;
 * -EFBIG for a file over 1 MiB (never parsed cut short). */
int cgroup_reader_sample(CgroupReader *r, CgroupSample *ret);

/* Node pressure from dir/{cpu,memory,io} (normally /proc/pressure). Keeps
 * its fds open like a cgroup reader. */
typedef struct NodePressureReader NodePressureReader;
int node_pressure_reader_open(const char *dir, NodePressureReader **ret);
int node_pressure_reader_sample(NodePressureReader *r, PsiStats *ret_cpu, PsiStats *ret_memory, PsiStats *ret_io);
NodePressureReader *node_pressure_reader_free(NodePressureReader *r);
