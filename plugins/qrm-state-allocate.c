/* SPDX-License-Identifier: Apache-2.0 */
/* Changing the QRM state: exclusive NUMA-aligned CPUs picked, entries added
 * (all that can fail before a commit that cannot) and removed. */
#include "qrm-state-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* ------------------------------------------------------------------ */
/* Exclusive CPUs                                                      */
/* ------------------------------------------------------------------ */

/* The lowest n members of m. */
static void mask_lowest(const CpuMask *m, unsigned n, CpuMask *ret) {
        CpuMask r = {};

        for (int c = cpu_mask_next(m, 0); c >= 0 && n > 0; c = cpu_mask_next(m, (unsigned) c + 1), n--)
                cpu_mask_set(&r, (unsigned) c);
        *ret = r;
}

/* Takes need CPUs from free, NUMA-aligned: the node that fits them with the
 * fewest free CPUs left (best fit, so large holes stay for large requests),
 * lowest CPUs first; if no node fits, whole nodes with the most free CPUs
 * until the rest fits one. free must hold at least need CPUs. */
static void take_numa_aligned(const CpuTopology *t, const CpuMask *free_cpus, unsigned need, CpuMask *ret) {
        CpuMask left = *free_cpus, taken = {};

        while (need > 0) {
                int best = -1, largest = -1;
                unsigned best_free = 0, largest_free = 0;
                CpuMask on_node, part;

                CPU_MASK_FOREACH(node, &t->nodes) {
                        unsigned f;

                        cpu_mask_and(&on_node, &left, &t->node_cpus[node]);
                        f = cpu_mask_count(&on_node);
                        if (f >= need && (best < 0 || f < best_free)) {
                                best = node;
                                best_free = f;
                        }
                        if (f > largest_free) {
                                largest = node;
                                largest_free = f;
                        }
                }
                if (largest < 0)
                        break; /* cannot happen: free held enough */

                cpu_mask_and(&on_node, &left, &t->node_cpus[best >= 0 ? best : largest]);
                mask_lowest(&on_node, MIN(need, cpu_mask_count(&on_node)), &part);
                cpu_mask_or(&taken, &taken, &part);
                cpu_mask_andnot(&left, &left, &part);
                need -= cpu_mask_count(&part);
        }
        *ret = taken;
}

/* Chooses need exclusive CPUs for an entry. keep: CPUs it holds now (for a
 * request that changed; counted as free), kept as far as they go. allowed:
 * the hint's nodes, or NULL. */
static int pick_exclusive(const QrmState *s, unsigned need, const CpuMask *allowed, const CpuMask *keep,
                          const char *who, CpuMask *ret, PluginError *err) {
        const CpuTopology *t = s->topology;
        CpuMask free_cpus = s->available, base = {}, extra;
        unsigned n_available = cpu_mask_count(&s->available), budget;

        if (keep) {
                if (cpu_mask_count(keep) >= need) {
                        mask_lowest(keep, need, ret);
                        return 0;
                }
                base = *keep;
                need -= cpu_mask_count(keep);
        }

        budget = n_available > s->shared_floor ? n_available - s->shared_floor : 0;
        if (need > budget)
                return plugin_error_set(err, ENOSPC,
                                        "Not enough free CPUs for %s: %u more needed, %u can be given exclusively "
                                        "(%u not exclusive, the shared pool keeps %u).",
                                        who, need, budget, n_available, s->shared_floor);

        if (allowed) {
                CpuMask on_nodes;

                cpu_topology_cpus_of(t, allowed, &on_nodes);
                cpu_mask_and(&free_cpus, &free_cpus, &on_nodes);
                if (cpu_mask_count(&free_cpus) < need) {
                        char nodes[64];

                        (void) cpu_list_format(allowed, nodes, sizeof(nodes));
                        return plugin_error_set(err, ENOSPC,
                                                "Not enough free CPUs for %s on NUMA node(s) %s of its hint: %u more "
                                                "needed, %u free there.",
                                                who, nodes, need, cpu_mask_count(&free_cpus));
                }
        }

        if (keep) {
                /* Grow next to what it holds first. */
                CpuMask keep_nodes, near, part;

                cpu_topology_nodes_of(t, keep, &keep_nodes);
                cpu_topology_cpus_of(t, &keep_nodes, &near);
                cpu_mask_and(&near, &near, &free_cpus);
                mask_lowest(&near, MIN(need, cpu_mask_count(&near)), &part);
                cpu_mask_or(&base, &base, &part);
                cpu_mask_andnot(&free_cpus, &free_cpus, &part);
                need -= cpu_mask_count(&part);
        }

        take_numa_aligned(t, &free_cpus, need, &extra);
        cpu_mask_or(ret, &base, &extra);
        return 0;
}

/* ------------------------------------------------------------------ */
/* Adding entries: everything that can fail first, then a commit that    */
/* cannot, so that an error never leaves a half-made pod behind.         */
/* ------------------------------------------------------------------ */

void qrm_insert_done(Insert *ins) {
        free(ins->uid);
        free(ins->namespace);
        free(ins->pod_name);
        free(ins->containers);
        free(ins->pod_level_entry);
        free(ins->name);
}

int qrm_insert_prepare(QrmState *s, const char *uid, const char *namespace, const char *pod_name,
                       const char *name, bool pod_level, Insert *ret) {
        Insert ins = { .pod_level = pod_level };
        Pod *pod = qrm_pod_find(s, uid, &ins.pod_index);

        ins.new_pod = !pod;
        ins.name = strdup(name);
        if (!ins.name)
                goto oom;
        if (pod_level) {
                ins.pod_level_entry = calloc(1, sizeof(Entry));
                if (!ins.pod_level_entry)
                        goto oom;
        } else if (pod) {
                /* Growing the array is invisible until the count grows. */
                Entry *a = reallocarray(pod->containers, pod->n_containers + 1, sizeof(Entry));

                if (!a)
                        goto oom;
                pod->containers = a;
        } else {
                ins.containers = calloc(1, sizeof(Entry));
                if (!ins.containers)
                        goto oom;
        }
        if (!pod) {
                ins.uid = strdup(uid);
                ins.namespace = strdup(namespace ?: "");
                ins.pod_name = strdup(pod_name ?: "");
                if (!ins.uid || !ins.namespace || !ins.pod_name)
                        goto oom;
                if (s->n_pods == s->n_pods_allocated) {
                        size_t m = MAX(s->n_pods_allocated * 2, (size_t) 16);
                        Pod *a = reallocarray(s->pods, m, sizeof(Pod));

                        if (!a)
                                goto oom;
                        s->pods = a;
                        s->n_pods_allocated = m;
                }
        }
        *ret = ins;
        return 0;

oom:
        qrm_insert_done(&ins);
        return -ENOMEM;
}

/* Returns the new entry, holding only its name. */
Entry *qrm_insert_commit(QrmState *s, Insert *ins, Pod **ret_pod) {
        Pod *pod;
        Entry *e;

        if (ins->new_pod) {
                memmove(s->pods + ins->pod_index + 1, s->pods + ins->pod_index,
                        (s->n_pods - ins->pod_index) * sizeof(Pod));
                s->pods[ins->pod_index] = (Pod) {
                        .uid = TAKE_PTR(ins->uid),
                        .namespace = TAKE_PTR(ins->namespace),
                        .name = TAKE_PTR(ins->pod_name),
                        .containers = TAKE_PTR(ins->containers),
                };
                s->n_pods++;
        }
        pod = &s->pods[ins->pod_index];
        if (ins->pod_level) {
                pod->pod_level = TAKE_PTR(ins->pod_level_entry);
                e = pod->pod_level;
        } else
                e = &pod->containers[pod->n_containers++];
        *e = (Entry) { .name = TAKE_PTR(ins->name) };
        s->n_entries++;
        *ret_pod = pod;
        return e;
}

/* ------------------------------------------------------------------ */
/* Allocate                                                            */
/* ------------------------------------------------------------------ */

static int allocate(QrmState *s, const QrmResourceRequest *req, bool pod_level, QrmAllocationInfo *ret,
                    PluginError *err) {
        _cleanup_free_ CpuMask *new_exclusive = NULL, *new_hint = NULL;
        _cleanup_(qrm_insert_done) Insert ins = {};
        bool replace_exclusive = false, existed, changed;
        Parsed p;
        size_t pod_index;
        Pod *pod;
        Entry *e;
        char who[QRM_UID_MAX + QRM_NAME_MAX + 32];
        int r;

        r = qrm_parse_request(s, req, pod_level, &p, err);
        if (r < 0)
                return r;

        pod = qrm_pod_find(s, req->pod_uid, &pod_index);
        e = qrm_pod_find_entry(pod, p.container);
        r = qrm_check_existing(e, &p, req, pod_level, err);
        if (r < 0)
                return r;

        if (!pod && s->n_pods >= QRM_PODS_MAX)
                return plugin_error_set(err, E2BIG, "Too many pods (the limit is %d); refusing pod %s.",
                                        QRM_PODS_MAX, req->pod_uid);
        if (!e && s->n_entries >= QRM_CONTAINERS_MAX)
                return plugin_error_set(err, E2BIG, "Too many containers (the limit is %d); refusing pod %s.",
                                        QRM_CONTAINERS_MAX, req->pod_uid);

        if (pod_level)
                (void) snprintf(who, sizeof(who), "pod %s", req->pod_uid);
        else
                (void) snprintf(who, sizeof(who), "container \"%s\" of pod %s", p.container, req->pod_uid);

        /* Exclusive CPUs: chosen before anything changes. */
        if (p.resource == RESOURCE_CPU && p.qos_class == QOS_CLASS_DEDICATED_CORES &&
            qrm_needs_own_cpus(pod, pod_level, pod_level ? QRM_CONTAINER_MAIN : req->container_type)) {
                unsigned need = qrm_cpus_needed(p.quantity);
                const CpuMask *keep = e ? e->exclusive : NULL;
                const CpuMask *allowed = p.has_hint ? &p.hint : (e && e->memory_hint ? e->memory_hint : NULL);

                if (need == 0)
                        return plugin_error_set(err, EINVAL, "dedicated_cores %s has no CPU request.", who);

                if (!keep || cpu_mask_count(keep) != need) {
                        new_exclusive = malloc(sizeof(CpuMask));
                        if (!new_exclusive)
                                return plugin_error_set(err, ENOMEM, "Out of memory.");
                        r = pick_exclusive(s, need, allowed, keep, who, new_exclusive, err);
                        if (r < 0)
                                return r;
                        replace_exclusive = true;
                }
        }
        if (p.resource == RESOURCE_MEMORY && p.qos_class == QOS_CLASS_DEDICATED_CORES && p.has_hint) {
                new_hint = malloc(sizeof(CpuMask));
                if (!new_hint)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *new_hint = p.hint;
        }

        /* Everything that can fail, before the first change. */
        existed = e != NULL;
        if (!e) {
                r = qrm_insert_prepare(s, req->pod_uid, req->pod_namespace, req->pod_name, p.container, pod_level,
                                       &ins);
                if (r < 0)
                        return plugin_error_set(err, r, "Out of memory.");
                e = qrm_insert_commit(s, &ins, &pod);
                e->type = pod_level ? QRM_CONTAINER_MAIN : req->container_type;
                e->qos_class = p.qos_class;
        }
        changed = !existed || !e->allocated[p.resource] || e->request[p.resource] != p.quantity ||
                  replace_exclusive || (!pod_level && e->index != req->container_index) ||
                  (new_hint && (!e->memory_hint || !cpu_mask_equal(e->memory_hint, new_hint)));
        if (!pod_level)
                e->index = req->container_index;
        e->allocated[p.resource] = true;
        e->request[p.resource] = p.quantity;
        if (replace_exclusive) {
                free(e->exclusive);
                e->exclusive = TAKE_PTR(new_exclusive);
        }
        if (new_hint) {
                free(e->memory_hint);
                e->memory_hint = TAKE_PTR(new_hint);
        }
        /* The same request again answers the same without a new generation. */
        if (changed)
                qrm_pools_update(s);

        /* -ENOMEM is fatal to the agent (STYLE.md): past this point the state
         * holds the allocation even if the answer cannot be built. */
        r = qrm_entry_info(s, pod, e, p.resource, ret);
        if (r < 0)
                return plugin_error_set(err, r, "Out of memory.");
        return 0;
}

int qrm_state_allocate(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err) {
        return allocate(s, req, false, ret, err);
}

int qrm_state_allocate_pod(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err) {
        return allocate(s, req, true, ret, err);
}

/* ------------------------------------------------------------------ */
/* Remove                                                              */
/* ------------------------------------------------------------------ */

static void pod_remove_at(QrmState *s, size_t index) {
        s->n_entries -= qrm_pod_n_entries(&s->pods[index]);
        qrm_pod_done(&s->pods[index]);
        memmove(s->pods + index, s->pods + index + 1, (s->n_pods - index - 1) * sizeof(Pod));
        s->n_pods--;
}

int qrm_state_remove_pod(QrmState *s, const char *pod_uid, PluginError *err) {
        size_t index;
        int r;

        r = qrm_check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!qrm_pod_find(s, pod_uid, &index))
                return plugin_error_set(err, ENOENT, "Pod %s is not known.", pod_uid);
        pod_remove_at(s, index);
        qrm_pools_update(s);
        return 0;
}

int qrm_state_remove_container(QrmState *s, const char *pod_uid, const char *container_name, PluginError *err) {
        size_t index;
        Entry *e;
        Pod *pod;
        int r;

        r = qrm_check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!container_name)
                return plugin_error_set(err, EINVAL, "No container name.");
        pod = qrm_pod_find(s, pod_uid, &index);
        e = qrm_pod_find_entry(pod, container_name);
        if (!e)
                return plugin_error_set(err, ENOENT, "Container \"%.*s\" of pod %s is not known.", QRM_NAME_MAX,
                                        container_name, pod_uid);

        if (e == pod->pod_level) {
                qrm_entry_done(e);
                free(pod->pod_level);
                pod->pod_level = NULL;
        } else {
                size_t i = (size_t) (e - pod->containers);

                qrm_entry_done(e);
                memmove(pod->containers + i, pod->containers + i + 1,
                        (pod->n_containers - i - 1) * sizeof(Entry));
                pod->n_containers--;
        }
        s->n_entries--;
        if (qrm_pod_n_entries(pod) == 0)
                pod_remove_at(s, index);
        qrm_pools_update(s);
        return 0;
}
