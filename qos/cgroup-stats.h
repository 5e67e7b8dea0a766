/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Parsers of the cgroup and /proc/pressure statistics files: pure functions
 * over text, so they are unit-tested on strings and fuzzed. Each rejects a
 * malformed line, a duplicate key and a missing required key with -EINVAL;
 * unknown keys (newer kernels add some) are ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct PsiLine {
        double avg10, avg60, avg300; /* percent */
        uint64_t total_usec;
} PsiLine;

typedef struct PsiStats {
        PsiLine some;
        PsiLine full;
        bool has_full; /* the node's cpu.pressure lacks "full" on older kernels */
} PsiStats;

typedef struct CpuStat {
        uint64_t usage_usec;     /* v2 only: usage_usec; on v1 from cpuacct.usage */
        uint64_t nr_periods;
        uint64_t nr_throttled;
        uint64_t throttled_usec; /* v1 throttled_time is in ns: converted */
} CpuStat;

typedef struct IoStat {
        uint64_t read_bytes, write_bytes;
        uint64_t read_ops, write_ops;
} IoStat;

/* "some avg10=.. avg60=.. avg300=.. total=..\n[full ...]\n" */
int psi_parse(const char *text, size_t len, PsiStats *ret);

/* v2 cpu.stat: usage_usec required; nr_periods, nr_throttled, throttled_usec
 * present only with the cpu controller (zero otherwise). */
int cpu_stat_v2_parse(const char *text, size_t len, CpuStat *ret);
/* v1 cpu.stat: nr_periods, nr_throttled, throttled_time (ns) required. */
int cpu_stat_v1_parse(const char *text, size_t len, CpuStat *ret);

/* A file holding one unsigned decimal (cpuacct.usage, memory.current,
 * memory.usage_in_bytes) with an optional trailing newline. */
int single_u64_parse(const char *text, size_t len, uint64_t *ret);

/* memory.stat: the value of key (e.g. "inactive_file" on v2,
 * "total_inactive_file" on v1). -ENOENT if absent. */
int memory_stat_get(const char *text, size_t len, const char *key, uint64_t *ret);

/* The most keys memory_stat_get_keys() takes: one bit each in *ret_found. */
#define MEMORY_STAT_KEYS_MAX 32

/* memory.stat: several keys in one pass over the text (one read serves the
 * working set and the unreclaimable memory). values[i] is set for each key
 * present, with bit i in *ret_found; the others are left alone. 0, or
 * -EINVAL for a malformed file or bad arguments. */
int memory_stat_get_keys(const char *text, size_t len, const char *const *keys, size_t n_keys, uint64_t *values,
                         uint32_t *ret_found);

/* v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..." lines,
 * summed over devices. */
int io_stat_v2_parse(const char *text, size_t len, IoStat *ret);

/* v1 blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Read N" lines
 * and a "Total N" line; sums Read and Write over devices into *ret_read and
 * *ret_write. */
int blkio_v1_parse(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_write);
