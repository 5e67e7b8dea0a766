/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What every sensor's kernel side and its loader share: fixed-width types
 * (from vmlinux.h in BPF, <linux/types.h> in user space) and the log2
 * latency buckets. */

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bucket i counts latencies in [2^i, 2^(i+1)) ns, the last one everything
 * above: 2^39 ns is about 9 minutes. Equal to LATENCY_BUCKETS of sensors.h
 * (checked there). */
#define NQ_LATENCY_BUCKETS 40

/* Buckets are 32-bit to halve the size of the per-CPU maps (a map holds
 * max_cgroups x possible CPUs values): user space sums them modulo 2^32 and
 * takes deltas modulo 2^32, exact while one bucket of one cgroup gains fewer
 * than 2^32 events between two reads. Counts and sums are 64-bit. */
typedef __u32 nq_bucket_t;

/* The cgroup id that events without a cgroup are charged to: the root of
 * every hierarchy is kernfs node 1. */
#define NQ_ROOT_CGROUP_ID 1
