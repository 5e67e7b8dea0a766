/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM state's core: pods and their entries, the CPU pools derived from
 * them, the cpuset each entry runs on, and the state's lifetime. */
#include "qrm-state-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* CPU requests arrive as millicores turned into floating-point cores; less
 * than a thousandth of a millicore is rounding, not a request. */
#define CPU_REQUEST_EPSILON 1e-6

static const char *const container_type_names[_QRM_CONTAINER_TYPE_MAX] = {
        [QRM_CONTAINER_INIT] = "INIT",
        [QRM_CONTAINER_MAIN] = "MAIN",
        [QRM_CONTAINER_SIDECAR] = "SIDECAR",
        [QRM_CONTAINER_EPHEMERAL] = "EPHEMERAL",
};

const char *qrm_container_type_to_string(QrmContainerType t) {
        if (t < 0 || t >= _QRM_CONTAINER_TYPE_MAX)
                return NULL;
        return container_type_names[t];
}

QrmContainerType qrm_container_type_from_string(const char *s) {
        for (int t = 0; s && t < _QRM_CONTAINER_TYPE_MAX; t++)
                if (strcmp(s, container_type_names[t]) == 0)
                        return (QrmContainerType) t;
        return _QRM_CONTAINER_TYPE_INVALID;
}

QrmPluginOptions qrm_plugin_options(Resource resource) {
        return (QrmPluginOptions) {
                .pre_start_required = false,
                .with_topology_alignment = true,
                .need_reconcile = true,
        };
}

/* ------------------------------------------------------------------ */
/* Small pure helpers                                                  */
/* ------------------------------------------------------------------ */

unsigned qrm_cpus_needed(double cores) {
        double c = ceil(cores - CPU_REQUEST_EPSILON);

        return c <= 0 ? 0 : (unsigned) c;
}

uint64_t qrm_node_memory_total(const CpuTopology *t) {
        uint64_t sum = 0;

        CPU_MASK_FOREACH(node, &t->nodes)
                sum += t->node_memory[node];
        return sum;
}

bool qrm_node_memory_known(const CpuTopology *t) {
        CPU_MASK_FOREACH(node, &t->nodes)
                if (t->node_memory[node] == 0)
                        return false;
        return true;
}

int qrm_mask_to_nodes_array(const CpuMask *nodes, uint64_t **ret, size_t *ret_n) {
        unsigned n = cpu_mask_count(nodes);
        uint64_t *a = NULL;
        size_t i = 0;

        if (n > 0) {
                a = calloc(n, sizeof(uint64_t));
                if (!a)
                        return -ENOMEM;
        }
        CPU_MASK_FOREACH(node, nodes)
                a[i++] = (uint64_t) node;
        *ret = a;
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Pods and entries                                                    */
/* ------------------------------------------------------------------ */

void qrm_entry_done(Entry *e) {
        free(e->name);
        free(e->exclusive);
        free(e->memory_hint);
        *e = (Entry) {};
}

void qrm_pod_done(Pod *p) {
        free(p->uid);
        free(p->namespace);
        free(p->name);
        if (p->pod_level) {
                qrm_entry_done(p->pod_level);
                free(p->pod_level);
        }
        for (size_t i = 0; i < p->n_containers; i++)
                qrm_entry_done(&p->containers[i]);
        free(p->containers);
        *p = (Pod) {};
}

size_t qrm_pod_n_entries(const Pod *p) {
        return p->n_containers + (p->pod_level ? 1 : 0);
}

/* Returns the pod, or NULL with *ret_index where it would go. */
Pod *qrm_pod_find(const QrmState *s, const char *uid, size_t *ret_index) {
        size_t lo = 0, hi = s->n_pods;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(uid, s->pods[mid].uid);

                if (c == 0) {
                        if (ret_index)
                                *ret_index = mid;
                        return &s->pods[mid];
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (ret_index)
                *ret_index = lo;
        return NULL;
}

Entry *qrm_pod_find_entry(const Pod *p, const char *name) {
        if (!p)
                return NULL;
        if (!*name)
                return p->pod_level;
        for (size_t i = 0; i < p->n_containers; i++)
                if (strcmp(p->containers[i].name, name) == 0)
                        return &p->containers[i];
        return NULL;
}

/* The exclusive CPUs held by the pod's entries. */
void qrm_pod_exclusive(const Pod *p, CpuMask *ret) {
        CpuMask m = {};

        if (p->pod_level && p->pod_level->exclusive)
                m = *p->pod_level->exclusive;
        for (size_t i = 0; i < p->n_containers; i++)
                if (p->containers[i].exclusive)
                        cpu_mask_or(&m, &m, p->containers[i].exclusive);
        *ret = m;
}

bool qrm_pod_containers_hold_exclusive(const Pod *p) {
        for (size_t i = 0; i < p->n_containers; i++)
                if (p->containers[i].exclusive)
                        return true;
        return false;
}

/* Whether a dedicated_cores entry gets CPUs of its own, or runs on its
 * pod's: MAIN containers own them unless the pod-level entry does; the
 * pod-level entry owns them unless its containers do. */
bool qrm_needs_own_cpus(const Pod *p, bool pod_level, QrmContainerType type) {
        if (pod_level)
                return !p || !qrm_pod_containers_hold_exclusive(p);
        return type == QRM_CONTAINER_MAIN && !(p && p->pod_level && p->pod_level->exclusive);
}

/* Whose CPU request the shared pool must hold. */
static bool counts_for_shared(const QrmState *s, QosClass c) {
        return c == QOS_CLASS_SHARED_CORES || (c == QOS_CLASS_SYSTEM_CORES && cpu_mask_is_empty(&s->reserved));
}

void qrm_pools_update(QrmState *s) {
        CpuMask dedicated = {};
        double shared_request = 0;
        unsigned n_available, k;

        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *p = &s->pods[i];
                bool pod_level_cpu = p->pod_level && p->pod_level->allocated[RESOURCE_CPU];

                /* Only masks that exist are touched: this runs after every
                 * change, over every pod. */
                if (p->pod_level && p->pod_level->exclusive)
                        cpu_mask_or(&dedicated, &dedicated, p->pod_level->exclusive);
                /* A pod-level allocation holds its containers' requests. */
                if (pod_level_cpu && counts_for_shared(s, p->pod_level->qos_class))
                        shared_request += p->pod_level->request[RESOURCE_CPU];
                for (size_t j = 0; j < p->n_containers; j++) {
                        const Entry *e = &p->containers[j];

                        if (e->exclusive)
                                cpu_mask_or(&dedicated, &dedicated, e->exclusive);
                        if (!pod_level_cpu && e->allocated[RESOURCE_CPU] && counts_for_shared(s, e->qos_class))
                                shared_request += e->request[RESOURCE_CPU];
                }
        }

        s->dedicated = dedicated;
        cpu_mask_andnot(&s->available, &s->topology->online, &s->reserved);
        cpu_mask_andnot(&s->available, &s->available, &dedicated);
        s->shared_floor = MAX(s->shared_cpus_min, qrm_cpus_needed(shared_request));

        n_available = cpu_mask_count(&s->available);
        k = s->reclaimed_setting == QRM_RECLAIMED_CPUS_ALL ? 0 : (unsigned) s->reclaimed_setting;
        if (n_available > s->shared_floor)
                k = MIN(k, n_available - s->shared_floor);
        else
                k = 0;

        if (k == 0) {
                /* Nothing carved off: best-effort shares the shared pool's
                 * CPUs (at idle priority, under its quota). */
                s->shared = s->available;
                s->reclaimed = s->available;
        } else {
                /* From the top: dedicated CPUs are taken from the bottom, so
                 * the two move apart and a resize changes few CPUs. */
                CpuMask carved = {};
                CpuMask rest = s->available;

                for (unsigned i = 0; i < k; i++) {
                        int c = cpu_mask_last(&rest);

                        cpu_mask_clear(&rest, (unsigned) c);
                        cpu_mask_set(&carved, (unsigned) c);
                }
                s->reclaimed = carved;
                s->shared = rest;
        }
        s->generation++;
}

/* The CPUs an entry runs on now. */
static void entry_cpus(const QrmState *s, const Pod *p, const Entry *e, CpuMask *ret) {
        switch (e->qos_class) {
        case QOS_CLASS_DEDICATED_CORES:
                if (e->exclusive) {
                        *ret = *e->exclusive;
                        return;
                }
                qrm_pod_exclusive(p, ret);
                if (!cpu_mask_is_empty(ret))
                        return;
                /* Until its pod holds CPUs (its MAIN containers come later). */
                *ret = s->shared;
                return;
        case QOS_CLASS_SYSTEM_CORES:
                *ret = cpu_mask_is_empty(&s->reserved) ? s->shared : s->reserved;
                return;
        case QOS_CLASS_RECLAIMED_CORES:
                *ret = s->reclaimed;
                return;
        default:
                *ret = s->shared;
                return;
        }
}

void qrm_entry_cpuset(const QrmState *s, const Pod *p, const Entry *e, CpuMask *ret_cpus, CpuMask *ret_mems) {
        CpuMask held;

        entry_cpus(s, p, e, ret_cpus);
        if (e->qos_class == QOS_CLASS_DEDICATED_CORES && e->memory_hint) {
                qrm_pod_exclusive(p, &held);
                if (cpu_mask_is_empty(&held)) {
                        /* Memory came first: stay on the nodes its hint named,
                         * where the CPUs will follow. */
                        *ret_mems = *e->memory_hint;
                        return;
                }
        }
        cpu_topology_nodes_of(s->topology, ret_cpus, ret_mems);
}

int qrm_entry_info(const QrmState *s, const Pod *p, const Entry *e, Resource r, QrmAllocationInfo *ret) {
        QrmAllocationInfo info = {
                .oci_property_name = r == RESOURCE_CPU ? QRM_OCI_CPUSET_CPUS : QRM_OCI_CPUSET_MEMS,
                .is_node_resource = false,
                .is_scalar_resource = true,
                .qos_class = e->qos_class,
                .hint.preferred = true,
        };
        CpuMask cpus, mems;
        int k;

        qrm_entry_cpuset(s, p, e, &cpus, &mems);
        if (r == RESOURCE_CPU) {
                info.allocated_quantity = cpu_mask_count(&cpus);
                k = cpu_list_format_alloc(&cpus, &info.allocation_result);
        } else {
                info.allocated_quantity = e->request[RESOURCE_MEMORY];
                k = cpu_list_format_alloc(&mems, &info.allocation_result);
        }
        if (k < 0)
                return k;
        k = qrm_mask_to_nodes_array(&mems, &info.hint.nodes, &info.hint.n_nodes);
        if (k < 0) {
                qrm_allocation_info_done(&info);
                return k;
        }
        *ret = info;
        return 0;
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

int qrm_state_new(const QrmStateParams *params, QrmState **ret, PluginError *err) {
        _cleanup_(qrm_state_freep) QrmState *s = NULL;
        CpuMask usable;

        if (!params || !params->topology)
                return plugin_error_set(err, EINVAL, "No CPU topology given.");

        s = calloc(1, sizeof(*s));
        if (!s)
                return plugin_error_set(err, ENOMEM, "Out of memory.");
        s->topology = params->topology;
        if (params->reserved_cpus)
                s->reserved = *params->reserved_cpus;
        s->shared_cpus_min = params->shared_cpus_min ?: 1;
        s->reserved_memory = params->reserved_memory_bytes;
        s->reclaimed_setting = QRM_RECLAIMED_CPUS_ALL;

        if (!cpu_mask_is_subset(&s->reserved, &s->topology->online))
                return plugin_error_set(err, EINVAL, "Reserved CPUs are not all online.");
        cpu_mask_andnot(&usable, &s->topology->online, &s->reserved);
        if (cpu_mask_count(&usable) < s->shared_cpus_min)
                return plugin_error_set(err, EINVAL,
                                        "Reserving CPUs leaves %u, fewer than the shared pool's minimum of %u.",
                                        cpu_mask_count(&usable), s->shared_cpus_min);

        qrm_pools_update(s);
        *ret = TAKE_PTR(s);
        return 0;
}

void qrm_state_reset(QrmState *s) {
        for (size_t i = 0; i < s->n_pods; i++)
                qrm_pod_done(&s->pods[i]);
        s->n_pods = 0;
        s->n_entries = 0;
        s->reclaimed_setting = QRM_RECLAIMED_CPUS_ALL;
        qrm_pools_update(s);
}

QrmState *qrm_state_free(QrmState *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_pods; i++)
                qrm_pod_done(&s->pods[i]);
        free(s->pods);
        free(s);
        return NULL;
}

uint64_t qrm_state_generation(const QrmState *s) {
        return s->generation;
}

size_t qrm_state_n_pods(const QrmState *s) {
        return s->n_pods;
}

size_t qrm_state_n_containers(const QrmState *s) {
        return s->n_entries;
}

const CpuTopology *qrm_state_topology(const QrmState *s) {
        return s->topology;
}

void qrm_state_get_pool(const QrmState *s, QrmPool pool, CpuMask *ret) {
        switch (pool) {
        case QRM_POOL_RESERVED:
                *ret = s->reserved;
                return;
        case QRM_POOL_DEDICATED:
                *ret = s->dedicated;
                return;
        case QRM_POOL_SHARED:
                *ret = s->shared;
                return;
        case QRM_POOL_RECLAIMED:
                *ret = s->reclaimed;
                return;
        default:
                cpu_mask_zero(ret);
                return;
        }
}

int qrm_state_set_reclaimed_cpus(QrmState *s, int n, PluginError *err) {
        if (n != QRM_RECLAIMED_CPUS_ALL && n < 1)
                return plugin_error_set(err, EINVAL,
                                        "The reclaimed pool is sized in CPUs (at least 1) or -1 for all; got %d.", n);
        if (n != QRM_RECLAIMED_CPUS_ALL && (unsigned) n > cpu_mask_count(&s->topology->online))
                return plugin_error_set(err, EINVAL, "The reclaimed pool cannot have %d CPUs: the node has %u.", n,
                                        cpu_mask_count(&s->topology->online));
        if (n == s->reclaimed_setting)
                return 0;
        s->reclaimed_setting = n;
        qrm_pools_update(s);
        return 0;
}

int qrm_state_get_reclaimed_cpus(const QrmState *s) {
        return s->reclaimed_setting;
}
