/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the QRM state: the answers' memory, allocations, topology-aware
 * and allocatable resources, a container's cpuset. */
#include "qrm-state-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* ------------------------------------------------------------------ */
/* Answers' memory                                                     */
/* ------------------------------------------------------------------ */

void qrm_allocation_info_done(QrmAllocationInfo *i) {
        if (!i)
                return;
        free(i->allocation_result);
        free(i->hint.nodes);
        *i = (QrmAllocationInfo) {};
}

void qrm_hints_done(QrmHints *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_hints; i++)
                free(h->hints[i].nodes);
        free(h->hints);
        *h = (QrmHints) {};
}

void qrm_allocations_done(QrmAllocations *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n_pods; i++) {
                QrmPodAllocation *p = &a->pods[i];

                for (size_t j = 0; j < p->n_containers; j++) {
                        free(p->containers[j].container_name);
                        qrm_allocation_info_done(&p->containers[j].info);
                }
                free(p->containers);
                free(p->pod_uid);
        }
        free(a->pods);
        *a = (QrmAllocations) {};
}

void qrm_topology_aware_resource_done(QrmTopologyAwareResource *r) {
        if (!r)
                return;
        free(r->nodes);
        *r = (QrmTopologyAwareResource) {};
}

void qrm_allocatable_resource_done(QrmAllocatableResource *r) {
        if (!r)
                return;
        free(r->allocatable);
        free(r->capacity);
        *r = (QrmAllocatableResource) {};
}
/* ------------------------------------------------------------------ */
/* Reading the state                                                   */
/* ------------------------------------------------------------------ */

int qrm_state_get_allocations(const QrmState *s, Resource resource, QrmAllocations *ret) {
        QrmAllocations a = {};
        int r;

        if (!qrm_resource_valid(resource))
                return -EINVAL;
        if (s->n_pods > 0) {
                a.pods = calloc(s->n_pods, sizeof(QrmPodAllocation));
                if (!a.pods)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                QrmPodAllocation *pa = &a.pods[a.n_pods];
                size_t n = qrm_pod_n_entries(pod);

                pa->containers = calloc(n, sizeof(QrmContainerAllocation));
                pa->pod_uid = strdup(pod->uid);
                a.n_pods++;
                if (!pa->containers || !pa->pod_uid) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t j = 0; j < n; j++) {
                        const Entry *e = pod->pod_level ? (j == 0 ? pod->pod_level : &pod->containers[j - 1])
                                                        : &pod->containers[j];
                        QrmContainerAllocation *ca = &pa->containers[pa->n_containers];

                        if (!e->allocated[resource])
                                continue;
                        ca->container_name = strdup(e->name);
                        if (!ca->container_name) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        pa->n_containers++;
                        r = qrm_entry_info(s, pod, e, resource, &ca->info);
                        if (r < 0)
                                goto fail;
                }
                if (pa->n_containers == 0) {
                        /* Nothing for this resource: not listed. */
                        free(pa->containers);
                        free(pa->pod_uid);
                        *pa = (QrmPodAllocation) {};
                        a.n_pods--;
                }
        }
        *ret = a;
        return 0;

fail:
        qrm_allocations_done(&a);
        return r;
}

int qrm_state_get_topology_aware_resources(const QrmState *s, const char *pod_uid, const char *container_name,
                                           Resource resource, QrmTopologyAwareResource *ret, PluginError *err) {
        QrmTopologyAwareResource out = {
                .is_node_resource = false,
                .is_scalar_resource = true,
        };
        CpuMask cpus, mems;
        const Entry *e;
        const Pod *pod;
        size_t i = 0;
        int r;

        r = qrm_check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!container_name)
                return plugin_error_set(err, EINVAL, "No container name.");
        if (!qrm_resource_valid(resource))
                return plugin_error_set(err, EINVAL, "Unsupported resource.");
        pod = qrm_pod_find(s, pod_uid, NULL);
        e = qrm_pod_find_entry(pod, container_name);
        if (!e || !e->allocated[resource])
                return plugin_error_set(err, ENOENT, "Container \"%.*s\" of pod %s has no %s allocation.",
                                        QRM_NAME_MAX, container_name, pod_uid, resource_to_string(resource));

        qrm_entry_cpuset(s, pod, e, &cpus, &mems);
        out.n_nodes = cpu_mask_count(&mems);
        if (out.n_nodes > 0) {
                out.nodes = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
                if (!out.nodes)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
        }
        CPU_MASK_FOREACH(node, &mems) {
                double v;

                if (resource == RESOURCE_CPU) {
                        CpuMask m;

                        cpu_mask_and(&m, &cpus, &s->topology->node_cpus[node]);
                        v = cpu_mask_count(&m);
                } else
                        v = e->request[RESOURCE_MEMORY] / (double) out.n_nodes;
                out.nodes[i++] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = v };
                out.aggregated_quantity += v;
        }
        if (resource == RESOURCE_MEMORY)
                out.aggregated_quantity = e->request[RESOURCE_MEMORY];
        *ret = out;
        return 0;
}

int qrm_state_get_allocatable(const QrmState *s, Resource resource, QrmAllocatableResource *ret) {
        const CpuTopology *t = s->topology;
        QrmAllocatableResource out = {
                .is_node_resource = false,
                .is_scalar_resource = true,
        };
        unsigned n_with_memory = 0;
        size_t i = 0;

        if (!qrm_resource_valid(resource))
                return -EINVAL;
        out.n_nodes = cpu_mask_count(&t->nodes);
        out.allocatable = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
        out.capacity = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
        if (!out.allocatable || !out.capacity) {
                qrm_allocatable_resource_done(&out);
                return -ENOMEM;
        }

        CPU_MASK_FOREACH(node, &t->nodes)
                if (t->node_memory[node] > 0)
                        n_with_memory++;

        CPU_MASK_FOREACH(node, &t->nodes) {
                double cap, alloc;

                if (resource == RESOURCE_CPU) {
                        CpuMask m;

                        cap = cpu_mask_count(&t->node_cpus[node]);
                        cpu_mask_andnot(&m, &t->node_cpus[node], &s->reserved);
                        alloc = cpu_mask_count(&m);
                } else {
                        cap = (double) t->node_memory[node];
                        alloc = cap > 0 ? MAX(0.0, cap - (double) s->reserved_memory / n_with_memory) : 0;
                }
                out.capacity[i] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = cap };
                out.allocatable[i] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = alloc };
                out.aggregated_capacity += cap;
                out.aggregated_allocatable += alloc;
                i++;
        }
        *ret = out;
        return 0;
}

int qrm_state_get_container_cpuset(const QrmState *s, const char *pod_uid, const char *container_name,
                                   QosClass *ret_class, CpuMask *ret_cpus, CpuMask *ret_mems) {
        const Pod *pod;
        const Entry *e;
        CpuMask cpus, mems;

        if (!pod_uid || !container_name)
                return -EINVAL;
        pod = qrm_pod_find(s, pod_uid, NULL);
        e = qrm_pod_find_entry(pod, container_name);
        if (!e)
                return -ENOENT;
        qrm_entry_cpuset(s, pod, e, &cpus, &mems);
        if (ret_class)
                *ret_class = e->qos_class;
        if (ret_cpus)
                *ret_cpus = cpus;
        if (ret_mems)
                *ret_mems = mems;
        return 0;
}
