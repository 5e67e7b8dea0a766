/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The QRM state's internals, shared by its files (qrm-state*.c) and by no
 * one else: the pods and entries it holds, and the helpers the pieces of
 * the state use on them. The public API is qrm-state.h. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/qrm-state.h"

/* The QRM plugins this state serves: RESOURCE_CPU and RESOURCE_MEMORY. */
#define N_RESOURCES 2

typedef struct Entry {
        char *name; /* "" for the pod-level entry */
        QrmContainerType type;
        uint64_t index;
        QosClass qos_class;
        bool allocated[N_RESOURCES];
        double request[N_RESOURCES];
        CpuMask *exclusive;   /* own exclusive CPUs; NULL: none */
        CpuMask *memory_hint; /* nodes of the memory allocation's hint */
} Entry;

typedef struct Pod {
        char *uid;
        char *namespace;
        char *name;
        Entry *pod_level; /* NULL: no pod-level allocation */
        Entry *containers;
        size_t n_containers;
} Pod;

struct QrmState {
        const CpuTopology *topology;
        CpuMask reserved;
        unsigned shared_cpus_min;
        uint64_t reserved_memory;
        int reclaimed_setting; /* QRM_RECLAIMED_CPUS_ALL or >= 1 */

        Pod *pods; /* sorted by uid */
        size_t n_pods, n_pods_allocated;
        size_t n_entries;
        uint64_t generation;

        /* Derived from the above by qrm_pools_update() after every change. */
        CpuMask dedicated, available, shared, reclaimed;
        unsigned shared_floor;
};

/* What a request says, checked. */
typedef struct Parsed {
        Resource resource;
        QosClass qos_class;
        double quantity;
        CpuMask hint; /* nodes */
        bool has_hint;
        const char *container; /* "" for pod-level */
} Parsed;

/* An entry being added: qrm_insert_prepare() does everything that can
 * fail, qrm_insert_commit() cannot, so that an error never leaves a
 * half-made pod behind. */
typedef struct Insert {
        size_t pod_index;
        bool new_pod, pod_level;
        char *uid, *namespace, *pod_name; /* a new pod's */
        Entry *containers;                /* a new pod's array */
        Entry *pod_level_entry;
        char *name;
} Insert;

/* Pure helpers (qrm-state.c). */
unsigned qrm_cpus_needed(double cores);
uint64_t qrm_node_memory_total(const CpuTopology *t);
bool qrm_node_memory_known(const CpuTopology *t);
/* Returns 0 or -ENOMEM; *ret is NULL when nodes is empty. */
int qrm_mask_to_nodes_array(const CpuMask *nodes, uint64_t **ret, size_t *ret_n);

/* Pods and entries (qrm-state.c). */
void qrm_entry_done(Entry *e);
void qrm_pod_done(Pod *p);
size_t qrm_pod_n_entries(const Pod *p);
/* Returns the pod, or NULL with *ret_index where it would go. */
Pod *qrm_pod_find(const QrmState *s, const char *uid, size_t *ret_index);
/* name "" is the pod-level entry; p may be NULL. */
Entry *qrm_pod_find_entry(const Pod *p, const char *name);
void qrm_pod_exclusive(const Pod *p, CpuMask *ret);
bool qrm_pod_containers_hold_exclusive(const Pod *p);
bool qrm_needs_own_cpus(const Pod *p, bool pod_level, QrmContainerType type);

/* Pools and cpusets (qrm-state.c). Every change calls qrm_pools_update(). */
void qrm_pools_update(QrmState *s);
void qrm_entry_cpuset(const QrmState *s, const Pod *p, const Entry *e, CpuMask *ret_cpus, CpuMask *ret_mems);
/* Returns 0 or -ENOMEM. */
int qrm_entry_info(const QrmState *s, const Pod *p, const Entry *e, Resource r, QrmAllocationInfo *ret);

/* Requests (qrm-state-request.c): return 0 or a negative errno set in err. */
bool qrm_name_valid(const char *s, size_t max, bool allow_empty);
bool qrm_resource_valid(Resource r);
int qrm_check_uid(const char *pod_uid, PluginError *err);
int qrm_parse_request(const QrmState *s, const QrmResourceRequest *req, bool pod_level, Parsed *ret,
                      PluginError *err);
int qrm_check_existing(const Entry *e, const Parsed *p, const QrmResourceRequest *req, bool pod_level,
                       PluginError *err);

/* Adding entries (qrm-state-allocate.c). */
void qrm_insert_done(Insert *ins);
int qrm_insert_prepare(QrmState *s, const char *uid, const char *namespace, const char *pod_name,
                       const char *name, bool pod_level, Insert *ret);
Entry *qrm_insert_commit(QrmState *s, Insert *ins, Pod **ret_pod);
