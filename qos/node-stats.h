/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Node-wide figures the controllers weigh the pods against: memory from
 * /proc/meminfo, CPU time from /proc/stat, and the block devices in use.
 * The parsers are pure and strict (fuzzed); the readers keep their file
 * descriptors open and pread() at offset 0, like cgroup-reader. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct NodeMemInfo {
        uint64_t total_bytes;     /* MemTotal */
        uint64_t available_bytes; /* MemAvailable */
} NodeMemInfo;

/* Parses /proc/meminfo text. 0, or -EINVAL when malformed or MemTotal /
 * MemAvailable are missing. */
int meminfo_parse(const char *text, size_t len, NodeMemInfo *ret);

typedef struct NodeCpuTimes {
        uint64_t busy_usec;  /* user+nice+system+irq+softirq+steal (guest is inside user) */
        uint64_t total_usec; /* busy + idle + iowait */
        unsigned n_cpus;     /* the "cpuN" lines */
} NodeCpuTimes;

/* Parses /proc/stat text (the "cpu" and "cpuN" lines; USER_HZ ticks,
 * converted with clock_ticks_per_sec). 0 or -EINVAL. */
int proc_stat_parse(const char *text, size_t len, uint64_t clock_ticks_per_sec, NodeCpuTimes *ret);

/* Utilisation 0..1 between two samples; false if no time passed. Pure. */
bool node_cpu_utilisation(const NodeCpuTimes *prev, const NodeCpuTimes *cur, double *ret);

typedef struct NodeStatsReader NodeStatsReader;

/* proc_dir: "/proc" (tests pass a fixture directory). 0 or -errno. */
int node_stats_reader_open(const char *proc_dir, NodeStatsReader **ret);
NodeStatsReader *node_stats_reader_free(NodeStatsReader *r);
int node_stats_read_memory(NodeStatsReader *r, NodeMemInfo *ret);
int node_stats_read_cpu(NodeStatsReader *r, NodeCpuTimes *ret);

typedef struct BlockDevice {
        unsigned major, minor;
        char name[32];
} BlockDevice;

/* The whole disks that IO limits can apply to, from sys_block
 * ("/sys/block"): entries with a "device" link (physical or virtio
 * disks), without loop, ram, zram, and partitions. malloc'd array;
 * 0 or -errno. */
int block_devices_list(const char *sys_block, BlockDevice **ret, size_t *ret_n);
