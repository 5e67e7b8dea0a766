/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM state as records, for the checkpoint, and its invariants. */
#include "qrm-state-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* ------------------------------------------------------------------ */
/* Checkpoint support                                                  */
/* ------------------------------------------------------------------ */

static void entry_record(const Pod *pod, const Entry *e, QrmRecord *ret) {
        *ret = (QrmRecord) {
                .pod_uid = pod->uid,
                .pod_namespace = pod->namespace,
                .pod_name = pod->name,
                .container_name = e->name,
                .container_type = e->type,
                .container_index = e->index,
                .qos_class = e->qos_class,
                .allocated = { e->allocated[0], e->allocated[1] },
                .request = { e->request[0], e->request[1] },
                .exclusive = e->exclusive,
                .memory_hint = e->memory_hint,
        };
}

int qrm_state_foreach_record(const QrmState *s, int (*cb)(const QrmRecord *rec, void *userdata), void *userdata) {
        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                QrmRecord rec;
                int r;

                if (pod->pod_level) {
                        entry_record(pod, pod->pod_level, &rec);
                        r = cb(&rec, userdata);
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < pod->n_containers; j++) {
                        entry_record(pod, &pod->containers[j], &rec);
                        r = cb(&rec, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int qrm_state_restore_record(QrmState *s, const QrmRecord *rec, PluginError *err) {
        const CpuTopology *t = s->topology;
        _cleanup_free_ CpuMask *exclusive = NULL, *memory_hint = NULL;
        _cleanup_(qrm_insert_done) Insert ins = {};
        bool pod_level;
        Entry *e;
        Pod *pod;
        int r;

        if (!rec || !qrm_name_valid(rec->pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod uid.");
        if (!qrm_name_valid(rec->pod_namespace, QRM_NAME_MAX, true) ||
            !qrm_name_valid(rec->pod_name, QRM_NAME_MAX, true) || !rec->container_name ||
            !qrm_name_valid(rec->container_name, QRM_NAME_MAX, true))
                return plugin_error_set(err, EINVAL, "Malformed names in pod %s.", rec->pod_uid);
        pod_level = !*rec->container_name;
        if (rec->container_type < 0 || rec->container_type >= _QRM_CONTAINER_TYPE_MAX ||
            (pod_level && (rec->container_type != QRM_CONTAINER_MAIN || rec->container_index != 0)))
                return plugin_error_set(err, EINVAL, "Bad container type or index in pod %s.", rec->pod_uid);
        if (rec->qos_class < 0 || rec->qos_class >= _QOS_CLASS_MAX)
                return plugin_error_set(err, EINVAL, "Bad QoS class in pod %s.", rec->pod_uid);
        if (!rec->allocated[RESOURCE_CPU] && !rec->allocated[RESOURCE_MEMORY])
                return plugin_error_set(err, EINVAL, "An entry of pod %s without allocation.", rec->pod_uid);
        for (int i = 0; i < N_RESOURCES; i++) {
                double v = rec->request[i];

                if (!isfinite(v) || v < 0 || (!rec->allocated[i] && v != 0))
                        return plugin_error_set(err, EINVAL, "Bad %s request in pod %s.",
                                                resource_to_string((Resource) i), rec->pod_uid);
        }
        if (rec->request[RESOURCE_CPU] > cpu_mask_count(&t->online))
                return plugin_error_set(err, ESTALE, "The CPU request of pod %s exceeds this node's CPUs.",
                                        rec->pod_uid);
        if (qrm_node_memory_known(t) && rec->request[RESOURCE_MEMORY] > (double) qrm_node_memory_total(t))
                return plugin_error_set(err, ESTALE, "The memory request of pod %s exceeds this node's memory.",
                                        rec->pod_uid);

        pod = qrm_pod_find(s, rec->pod_uid, NULL);
        if (pod && (!streq_ptr(pod->namespace, rec->pod_namespace ?: "") ||
                    !streq_ptr(pod->name, rec->pod_name ?: "")))
                return plugin_error_set(err, EINVAL, "Pod %s has two names.", rec->pod_uid);
        if (qrm_pod_find_entry(pod, rec->container_name))
                return plugin_error_set(err, EINVAL, "Container \"%s\" of pod %s is there twice.",
                                        rec->container_name, rec->pod_uid);

        if (rec->exclusive) {
                CpuMask usable;

                if (rec->qos_class != QOS_CLASS_DEDICATED_CORES || !rec->allocated[RESOURCE_CPU] ||
                    cpu_mask_is_empty(rec->exclusive) ||
                    !qrm_needs_own_cpus(pod, pod_level, rec->container_type) ||
                    cpu_mask_count(rec->exclusive) != qrm_cpus_needed(rec->request[RESOURCE_CPU]))
                        return plugin_error_set(err, EINVAL, "Exclusive CPUs of pod %s that it cannot hold.",
                                                rec->pod_uid);
                cpu_mask_andnot(&usable, &t->online, &s->reserved);
                if (!cpu_mask_is_subset(rec->exclusive, &usable))
                        return plugin_error_set(err, ESTALE,
                                                "Exclusive CPUs of pod %s are offline or reserved now.",
                                                rec->pod_uid);
                if (cpu_mask_intersects(rec->exclusive, &s->dedicated))
                        return plugin_error_set(err, ESTALE, "Exclusive CPUs of pod %s are held twice.",
                                                rec->pod_uid);
        }
        if (rec->memory_hint) {
                if (rec->qos_class != QOS_CLASS_DEDICATED_CORES || cpu_mask_is_empty(rec->memory_hint))
                        return plugin_error_set(err, EINVAL, "A memory hint in pod %s that it cannot have.",
                                                rec->pod_uid);
                if (!cpu_mask_is_subset(rec->memory_hint, &t->nodes))
                        return plugin_error_set(err, ESTALE, "The memory hint of pod %s names missing nodes.",
                                                rec->pod_uid);
        }

        if (!pod && s->n_pods >= QRM_PODS_MAX)
                return plugin_error_set(err, E2BIG, "Too many pods (the limit is %d).", QRM_PODS_MAX);
        if (s->n_entries >= QRM_CONTAINERS_MAX)
                return plugin_error_set(err, E2BIG, "Too many containers (the limit is %d).", QRM_CONTAINERS_MAX);

        if (rec->exclusive) {
                exclusive = malloc(sizeof(CpuMask));
                if (!exclusive)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *exclusive = *rec->exclusive;
        }
        if (rec->memory_hint) {
                memory_hint = malloc(sizeof(CpuMask));
                if (!memory_hint)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *memory_hint = *rec->memory_hint;
        }
        r = qrm_insert_prepare(s, rec->pod_uid, rec->pod_namespace, rec->pod_name, rec->container_name, pod_level,
                               &ins);
        if (r < 0)
                return plugin_error_set(err, r, "Out of memory.");

        e = qrm_insert_commit(s, &ins, &pod);
        e->type = rec->container_type;
        e->index = rec->container_index;
        e->qos_class = rec->qos_class;
        for (int i = 0; i < N_RESOURCES; i++) {
                e->allocated[i] = rec->allocated[i];
                e->request[i] = rec->request[i];
        }
        e->exclusive = TAKE_PTR(exclusive);
        e->memory_hint = TAKE_PTR(memory_hint);
        qrm_pools_update(s);
        return 0;
}

/* ------------------------------------------------------------------ */
/* Invariants                                                          */
/* ------------------------------------------------------------------ */

int qrm_state_verify(const QrmState *s) {
        const CpuTopology *t = s->topology;
        CpuMask dedicated = {}, usable, m;
        size_t n_entries = 0;

        cpu_mask_andnot(&usable, &t->online, &s->reserved);
        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                size_t n = qrm_pod_n_entries(pod);

                if (!qrm_name_valid(pod->uid, QRM_UID_MAX, false) || !pod->namespace || !pod->name)
                        return -EUCLEAN;
                if (i > 0 && strcmp(s->pods[i - 1].uid, pod->uid) >= 0)
                        return -EUCLEAN;
                if (n == 0)
                        return -EUCLEAN;
                for (size_t j = 0; j < n; j++) {
                        const Entry *e = pod->pod_level ? (j == 0 ? pod->pod_level : &pod->containers[j - 1])
                                                        : &pod->containers[j];

                        if (!e->name || (e == pod->pod_level) != (*e->name == 0))
                                return -EUCLEAN;
                        if (!e->allocated[0] && !e->allocated[1])
                                return -EUCLEAN;
                        for (int k = 0; k < N_RESOURCES; k++)
                                if (!isfinite(e->request[k]) || e->request[k] < 0)
                                        return -EUCLEAN;
                        if (e->exclusive) {
                                if (e->qos_class != QOS_CLASS_DEDICATED_CORES || cpu_mask_is_empty(e->exclusive) ||
                                    !cpu_mask_is_subset(e->exclusive, &usable) ||
                                    cpu_mask_intersects(e->exclusive, &dedicated))
                                        return -EUCLEAN;
                                cpu_mask_or(&dedicated, &dedicated, e->exclusive);
                        }
                        if (e->memory_hint && !cpu_mask_is_subset(e->memory_hint, &t->nodes))
                                return -EUCLEAN;
                        for (size_t k = 0; k < pod->n_containers; k++)
                                if (&pod->containers[k] != e && strcmp(pod->containers[k].name, e->name) == 0)
                                        return -EUCLEAN;
                }
                if (pod->pod_level && pod->pod_level->exclusive && qrm_pod_containers_hold_exclusive(pod))
                        return -EUCLEAN;
                n_entries += n;
        }
        if (n_entries != s->n_entries || s->n_pods > QRM_PODS_MAX || s->n_entries > QRM_CONTAINERS_MAX)
                return -EUCLEAN;

        if (!cpu_mask_equal(&dedicated, &s->dedicated))
                return -EUCLEAN;
        cpu_mask_andnot(&m, &usable, &dedicated);
        if (!cpu_mask_equal(&m, &s->available))
                return -EUCLEAN;
        cpu_mask_or(&m, &s->shared, &s->reclaimed);
        if (!cpu_mask_equal(&m, &s->available))
                return -EUCLEAN;
        if (!cpu_mask_equal(&s->shared, &s->reclaimed) && cpu_mask_intersects(&s->shared, &s->reclaimed))
                return -EUCLEAN;
        if (!cpu_mask_is_empty(&s->available) && cpu_mask_is_empty(&s->shared))
                return -EUCLEAN;
        return 0;
}
