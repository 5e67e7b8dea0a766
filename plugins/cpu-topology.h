/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The node's CPUs and NUMA nodes, read from sysfs ("/sys/devices/system" or
 * a fixture tree), and the kernel's cpu list format ("0-3,8,10-11") that
 * cpuset files, sysfs and the QRM and runtime-hook APIs all speak. The list
 * parser and formatter are pure functions (fuzzed: tests/fuzz/). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest CPU count a Debian kernel is built for (CONFIG_NR_CPUS=8192);
 * a CPU or node number at or above it is refused. */
#define CPU_MASK_MAX 8192
/* The kernel's MAX_NUMNODES with the largest NODES_SHIFT (10). */
#define NUMA_NODES_MAX 1024

/* A set of CPU numbers, or of NUMA node numbers. */
typedef struct CpuMask {
        uint64_t bits[CPU_MASK_MAX / 64];
} CpuMask;

static inline void cpu_mask_zero(CpuMask *m) {
        *m = (CpuMask) {};
}
/* Out-of-range numbers are ignored by set/clear and never test as set. */
static inline void cpu_mask_set(CpuMask *m, unsigned cpu) {
        if (cpu < CPU_MASK_MAX)
                m->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}
static inline void cpu_mask_clear(CpuMask *m, unsigned cpu) {
        if (cpu < CPU_MASK_MAX)
                m->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}
static inline bool cpu_mask_test(const CpuMask *m, unsigned cpu) {
        return cpu < CPU_MASK_MAX && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpu_mask_count(const CpuMask *m);
bool cpu_mask_is_empty(const CpuMask *m);
bool cpu_mask_equal(const CpuMask *a, const CpuMask *b);
bool cpu_mask_is_subset(const CpuMask *a, const CpuMask *b); /* a within b */
bool cpu_mask_intersects(const CpuMask *a, const CpuMask *b);
/* ret may be a or b. */
void cpu_mask_and(CpuMask *ret, const CpuMask *a, const CpuMask *b);
void cpu_mask_or(CpuMask *ret, const CpuMask *a, const CpuMask *b);
void cpu_mask_andnot(CpuMask *ret, const CpuMask *a, const CpuMask *b); /* a minus b */
/* The first member >= from, or -1. */
int cpu_mask_next(const CpuMask *m, unsigned from);
/* The highest member, or -1. */
int cpu_mask_last(const CpuMask *m);

#define CPU_MASK_FOREACH(cpu, m) \
        for (int cpu = cpu_mask_next((m), 0); cpu >= 0; cpu = cpu_mask_next((m), (unsigned) cpu + 1))

/* Parses a kernel cpu list of len bytes (no NUL needed): comma-separated
 * numbers and ranges "a-b" (a <= b), as the kernel writes them; an empty
 * text is the empty set; one trailing '\n' is allowed. Overlapping items
 * are merged, as the kernel does. Returns 0, -EINVAL for anything else
 * (spaces, signs, empty items, strides "0-7:2/4", reversed ranges), or
 * -ERANGE for a number >= CPU_MASK_MAX. ret is written only on success. */
int cpu_list_parse(const char *text, size_t len, CpuMask *ret);
/* The same for a NUL-terminated string. */
int cpu_list_parse_string(const char *s, CpuMask *ret);

/* Formats m as the kernel does ("0-3,8,10-11", "" for the empty set; runs
 * of two are written "10-11"). Like snprintf(): writes at most size bytes
 * with the NUL and returns the length the whole text needs. */
size_t cpu_list_format(const CpuMask *m, char *buf, size_t size);
/* The same into a new string. Returns 0 or -ENOMEM. */
int cpu_list_format_alloc(const CpuMask *m, char **ret);

typedef struct CpuTopology {
        CpuMask online;       /* online CPUs */
        CpuMask nodes;        /* NUMA node numbers present (with or without CPUs) */
        unsigned n_nodes;     /* 1 + the highest node number */
        CpuMask *node_cpus;   /* [n_nodes]: the online CPUs of each node */
        uint64_t *node_memory; /* [n_nodes]: MemTotal in bytes, 0 if unknown */
        int16_t *cpu_node;    /* [CPU_MASK_MAX]: the node of each online CPU, -1 */
} CpuTopology;

/* Builds a topology: node_cpus[i] for the nodes in nodes (others ignored),
 * node_memory may be NULL (unknown). Offline CPUs in a node's list are
 * dropped. Returns 0, -ENOMEM, or -EINVAL if no CPU is online, a node
 * number is >= NUMA_NODES_MAX, a CPU is in two nodes, or an online CPU is in
 * none. */
int cpu_topology_new(const CpuMask *online, const CpuMask *nodes, const CpuMask *node_cpus,
                     const uint64_t *node_memory, unsigned n_nodes, CpuTopology **ret);

/* Reads <sysfs_root>/cpu/online and, for each <sysfs_root>/node/node<N>, its
 * cpulist and (if present) the MemTotal of its meminfo. A kernel without
 * NUMA (no node/ directory) is one node 0 holding every online CPU, with
 * unknown memory. sysfs_root NULL: "/sys/devices/system". Returns 0,
 * -ENOENT if cpu/online is missing, -EINVAL for a malformed file or an
 * inconsistent topology (see cpu_topology_new()), -ERANGE, -ENOMEM, or
 * -errno from reading. */
int cpu_topology_load(const char *sysfs_root, CpuTopology **ret);

CpuTopology *cpu_topology_free(CpuTopology *t);
static inline void cpu_topology_freep(CpuTopology **t) {
        cpu_topology_free(*t);
}

/* The node of an online CPU, or -1. */
int cpu_topology_node_of(const CpuTopology *t, unsigned cpu);
/* The nodes the CPUs in cpus lie on. */
void cpu_topology_nodes_of(const CpuTopology *t, const CpuMask *cpus, CpuMask *ret_nodes);
/* The online CPUs of the given nodes. */
void cpu_topology_cpus_of(const CpuTopology *t, const CpuMask *nodes, CpuMask *ret_cpus);
