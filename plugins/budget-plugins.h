/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The per-resource plugins: turn the controllers' best-effort budgets into
 * cgroup settings through the confined CgroupWriter (which writes only
 * values that changed). Each returns 0 when every write succeeded or was
 * unchanged, else the first -errno; the counts say what happened. A
 * cgroup that vanished (-ENOENT) between the snapshot and the write is
 * not an error. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/best-effort-cgroups.h"
#include "plugins/cgroup-writer.h"
#include "qos/node-stats.h"

typedef struct PluginApplyCounts {
        unsigned written, unchanged, failed;
} PluginApplyCounts;

/* The CFS period the CPU budget is applied with. */
#define CPU_PLUGIN_PERIOD_USEC 100000

/* CPU: each group gets a CFS quota of budget / n_groups millicores (v2
 * cpu.max, v1 cpu.cfs_quota_us; never below the kernel's 1 ms); budget < 0
 * removes the quota. Every member gets cpu.idle=1 where the kernel has it,
 * else the minimum weight (v1 cpu.shares=2). reclaimed_pool (a cpu list;
 * NULL: leave the cpusets alone) is written to the groups' and members'
 * cpuset.cpus in an order the v1 cpuset rules accept (a parent grows before
 * its children, children shrink before their parent): top-down, and the
 * parents the kernel refuses (-EBUSY: shrinking) again bottom-up. A pool
 * that gains and loses CPUs at once has no such order on v1: pass the
 * union of the old and the new pool first. */
int cpu_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, int64_t budget_millicores,
                     const char *reclaimed_pool, PluginApplyCounts *counts);

/* Memory: each group gets high = budget / n_groups bytes, never below that
 * group's floor (floors[i]: its unreclaimable bytes; NULL: none): writing a
 * limit under what reclaim can free would OOM-kill at random inside
 * best-effort, the eviction manager chooses instead. v2: memory.high =
 * high, memory.max = high + high/8 (reclaim throttles before the OOM killer
 * acts); v1, through the writer: memory.soft_limit_in_bytes = high,
 * memory.limit_in_bytes = high + high/8. budget < 0 removes the limits. */
int memory_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, int64_t budget_bytes, const uint64_t *floors,
                        PluginApplyCounts *counts);

/* The lowest IO rate a group is throttled to. 0 would mean "no limit" to
 * the writer, and a trickle would stall the journal and writeback that
 * latency-sensitive pods wait on too. */
#define IO_PLUGIN_MIN_BYTES_PER_SEC (1024 * 1024)

/* IO: each group gets budget / n_groups bytes per second (at least
 * IO_PLUGIN_MIN_BYTES_PER_SEC), read and write each, on every device (v2
 * io.max, v1 blkio.throttle.*_bps_device); budget < 0 removes the limits. */
int io_plugin_apply(CgroupWriter *w, const BestEffortCgroups *be, const BlockDevice *devices, size_t n_devices,
                    int64_t budget_bytes_per_sec, PluginApplyCounts *counts);
