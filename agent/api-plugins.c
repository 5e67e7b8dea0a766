/* SPDX-License-Identifier: Apache-2.0 */
#include "api-plugins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "plugins/qrm-checkpoint.h"
#include "plugins/runtime-hooks.h"
#include "qos/kube-cgroup.h"
#include "resourceplugin.pb-c.h"
#include "runtimehooks.pb-c.h"

#define RP_PATH(m) "/resourceplugin.v1alpha1.ResourcePlugin/" m
#define HOOK_PATH(m) "/runtime.v1alpha1.RuntimeHookService/" m

/* ---- state, checkpoint ---- */

static void save_if_changed(PluginService *s) {
        PluginError err = {};
        uint64_t gen = qrm_state_generation(s->state);
        int r;

        if (gen == s->saved_generation)
                return;
        r = qrm_checkpoint_save(s->state, s->state_dir, &err);
        if (r < 0) {
                /* The answer stands (the kubelet acts on it); a restart
                 * before the next successful save would forget it. */
                log_error_errno(r, "Cannot save the QRM checkpoint in %s: %s", s->state_dir, err.message);
                return;
        }
        s->saved_generation = gen;
}

int plugin_service_init(PluginService *s, Manager *m, const char *state_dir) {
        PluginError err = {};
        int r;

        *s = (PluginService) { .manager = m };
        s->state_dir = strdup(state_dir ? state_dir : QRM_CHECKPOINT_DEFAULT_DIR);
        if (!s->state_dir)
                return log_oom();
        r = cpu_topology_load(NULL, &s->topology);
        if (r < 0)
                return log_error_errno(r, "Cannot read the CPU topology from /sys/devices/system: %m");
        r = qrm_state_new(&(QrmStateParams) { .topology = s->topology }, &s->state, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot create the QRM state: %s", err.message[0] ? err.message : "out of memory");

        r = qrm_checkpoint_load(s->state, s->state_dir, &err);
        switch (r) {
        case 0:
                log_info("QRM checkpoint restored from %s/" QRM_CHECKPOINT_FILE ": %zu pods, %zu containers.",
                         s->state_dir, qrm_state_n_pods(s->state), qrm_state_n_containers(s->state));
                break;
        case -ENOENT:
                log_debug("No QRM checkpoint in %s: starting empty.", s->state_dir);
                break;
        case -EBADMSG:
        case -ESTALE:
        case -E2BIG: {
                _cleanup_free_ char *path = NULL, *aside = NULL;

                if (asprintf(&path, "%s/" QRM_CHECKPOINT_FILE, s->state_dir) < 0 ||
                    asprintf(&aside, "%s/" QRM_CHECKPOINT_FILE ".corrupt", s->state_dir) < 0)
                        return log_oom();
                if (rename(path, aside) < 0)
                        log_warning_errno(negative_errno(), "Cannot move %s aside to %s: %m", path, aside);
                log_error_errno(r, "The QRM checkpoint %s is not usable (%s): kept as %s, starting empty.", path,
                                err.message, aside);
                break;
        }
        case -EPROTONOSUPPORT:
                return log_error_errno(r, "The QRM checkpoint in %s was written by a newer nodeqos (%s): refusing "
                                          "to start and lose its allocations.",
                                       s->state_dir, err.message);
        default:
                return log_error_errno(r, "Cannot read the QRM checkpoint in %s: %s", s->state_dir,
                                       err.message[0] ? err.message : "error");
        }
        s->saved_generation = qrm_state_generation(s->state);
        return 0;
}

void plugin_service_done(PluginService *s) {
        s->state = qrm_state_free(s->state);
        s->topology = cpu_topology_free(s->topology);
        free(s->state_dir);
        s->state_dir = NULL;
}

/* ---- conversions ---- */

/* Map entries (key, value strings) into QrmKeyValue, call memory. */
#define KV_CONVERT(call, src, n, dst)                                                                 \
        ({                                                                                            \
                QrmKeyValue *_kv = NULL;                                                              \
                int _r = 0;                                                                           \
                if ((n) > 0) {                                                                        \
                        _kv = rpc_alloc_array((call), (n), sizeof(QrmKeyValue));                      \
                        if (!_kv)                                                                     \
                                _r = -ENOMEM;                                                         \
                        else                                                                          \
                                for (size_t _i = 0; _i < (n); _i++)                                   \
                                        _kv[_i] = (QrmKeyValue) { (src)[_i]->key, (src)[_i]->value }; \
                }                                                                                     \
                *(dst) = _kv;                                                                         \
                _r;                                                                                   \
        })

#define QUANTITIES_CONVERT(call, src, n, dst)                                                          \
        ({                                                                                             \
                QrmQuantity *_q = NULL;                                                                \
                int _r = 0;                                                                            \
                if ((n) > 0) {                                                                         \
                        _q = rpc_alloc_array((call), (n), sizeof(QrmQuantity));                        \
                        if (!_q)                                                                       \
                                _r = -ENOMEM;                                                          \
                        else                                                                           \
                                for (size_t _i = 0; _i < (n); _i++)                                    \
                                        _q[_i] = (QrmQuantity) { (src)[_i]->key, (src)[_i]->value };   \
                }                                                                                      \
                *(dst) = _q;                                                                           \
                _r;                                                                                    \
        })

static int request_from_container(RpcCall *call, const Resourceplugin__V1alpha1__ResourceRequest *m,
                                  QrmResourceRequest *ret) {
        QrmQuantity *q;
        QrmKeyValue *labels, *annotations;

        if (QUANTITIES_CONVERT(call, m->resource_requests, m->n_resource_requests, &q) < 0 ||
            KV_CONVERT(call, m->labels, m->n_labels, &labels) < 0 ||
            KV_CONVERT(call, m->annotations, m->n_annotations, &annotations) < 0)
                return -ENOMEM;
        *ret = (QrmResourceRequest) {
                .pod_uid = m->pod_uid,
                .pod_namespace = m->pod_namespace,
                .pod_name = m->pod_name,
                .container_name = m->container_name,
                .container_type = (QrmContainerType) m->container_type,
                .container_index = m->container_index,
                .resource_name = m->resource_name,
                .hint_nodes = m->hint ? m->hint->nodes : NULL,
                .n_hint_nodes = m->hint ? m->hint->n_nodes : 0,
                .resource_requests = q,
                .n_resource_requests = m->n_resource_requests,
                .labels = labels,
                .n_labels = m->n_labels,
                .annotations = annotations,
                .n_annotations = m->n_annotations,
        };
        return 0;
}

static int request_from_pod(RpcCall *call, const Resourceplugin__V1alpha1__PodResourceRequest *m,
                            QrmResourceRequest *ret) {
        QrmQuantity *q;
        QrmKeyValue *labels, *annotations;

        if (QUANTITIES_CONVERT(call, m->resource_requests, m->n_resource_requests, &q) < 0 ||
            KV_CONVERT(call, m->labels, m->n_labels, &labels) < 0 ||
            KV_CONVERT(call, m->annotations, m->n_annotations, &annotations) < 0)
                return -ENOMEM;
        *ret = (QrmResourceRequest) {
                .pod_uid = m->pod_uid,
                .pod_namespace = m->pod_namespace,
                .pod_name = m->pod_name,
                .container_name = "",
                .container_type = QRM_CONTAINER_MAIN,
                .resource_name = m->resource_name,
                .hint_nodes = m->hint ? m->hint->nodes : NULL,
                .n_hint_nodes = m->hint ? m->hint->n_nodes : 0,
                .resource_requests = q,
                .n_resource_requests = m->n_resource_requests,
                .labels = labels,
                .n_labels = m->n_labels,
                .annotations = annotations,
                .n_annotations = m->n_annotations,
        };
        return 0;
}

static Resourceplugin__V1alpha1__TopologyHint *hint_to_message(RpcCall *call, const QrmTopologyHint *h) {
        Resourceplugin__V1alpha1__TopologyHint *m;

        m = rpc_new_message(call, &resourceplugin__v1alpha1__topology_hint__descriptor);
        if (!m)
                return NULL;
        if (h->n_nodes > 0) {
                m->nodes = rpc_alloc_array(call, h->n_nodes, sizeof(uint64_t));
                if (!m->nodes)
                        return NULL;
                memcpy(m->nodes, h->nodes, h->n_nodes * sizeof(uint64_t));
        }
        m->n_nodes = h->n_nodes;
        m->preferred = h->preferred;
        return m;
}

/* A ListOfTopologyHints; NULL with *ret_oom false for "no preference"
 * (Katalyst's nil hints). */
static Resourceplugin__V1alpha1__ListOfTopologyHints *hints_to_message(RpcCall *call, const QrmHints *h,
                                                                       bool *ret_oom) {
        Resourceplugin__V1alpha1__ListOfTopologyHints *l;

        *ret_oom = false;
        if (h->no_preference)
                return NULL;
        l = rpc_new_message(call, &resourceplugin__v1alpha1__list_of_topology_hints__descriptor);
        if (!l)
                goto oom;
        if (h->n_hints > 0) {
                l->hints = rpc_alloc_array(call, h->n_hints, sizeof(*l->hints));
                if (!l->hints)
                        goto oom;
                for (size_t i = 0; i < h->n_hints; i++) {
                        l->hints[i] = hint_to_message(call, &h->hints[i]);
                        if (!l->hints[i])
                                goto oom;
                }
        }
        l->n_hints = h->n_hints;
        return l;
oom:
        *ret_oom = true;
        return NULL;
}

static Resourceplugin__V1alpha1__ResourceAllocationInfo *info_to_message(RpcCall *call, const QrmAllocationInfo *i) {
        Resourceplugin__V1alpha1__ResourceAllocationInfo *m;

        m = rpc_new_message(call, &resourceplugin__v1alpha1__resource_allocation_info__descriptor);
        if (!m)
                return NULL;
        m->oci_property_name = (char *) i->oci_property_name; /* static */
        m->is_node_resource = i->is_node_resource;
        m->is_scalar_resource = i->is_scalar_resource;
        m->allocated_quantity = i->allocated_quantity;
        m->allocation_result = rpc_strdup(call, i->allocation_result ? i->allocation_result : "");
        if (!m->allocation_result)
                return NULL;
        if (i->hint.n_nodes > 0) {
                m->resource_hints = rpc_new_message(call, &resourceplugin__v1alpha1__list_of_topology_hints__descriptor);
                if (!m->resource_hints)
                        return NULL;
                m->resource_hints->hints = rpc_alloc_array(call, 1, sizeof(*m->resource_hints->hints));
                if (!m->resource_hints->hints)
                        return NULL;
                m->resource_hints->hints[0] = hint_to_message(call, &i->hint);
                if (!m->resource_hints->hints[0])
                        return NULL;
                m->resource_hints->n_hints = 1;
        }
        return m;
}

/* A ResourceAllocation of one resource: { name: info }. */
static Resourceplugin__V1alpha1__ResourceAllocation *allocation_to_message(RpcCall *call, const char *resource_name,
                                                                           const QrmAllocationInfo *i) {
        Resourceplugin__V1alpha1__ResourceAllocation *a;
        Resourceplugin__V1alpha1__ResourceAllocation__ResourceAllocationEntry *e;

        a = rpc_new_message(call, &resourceplugin__v1alpha1__resource_allocation__descriptor);
        e = rpc_new_message(call, &resourceplugin__v1alpha1__resource_allocation__resource_allocation_entry__descriptor);
        if (!a || !e)
                return NULL;
        a->resource_allocation = rpc_alloc_array(call, 1, sizeof(*a->resource_allocation));
        if (!a->resource_allocation)
                return NULL;
        e->key = (char *) resource_name; /* the request's or a static string */
        e->value = info_to_message(call, i);
        if (!e->value)
                return NULL;
        a->resource_allocation[0] = e;
        a->n_resource_allocation = 1;
        return a;
}

static int fail(RpcCall *call, int r, const PluginError *err) {
        if (r == -ENOMEM && !err->message[0])
                return -ENOMEM;
        return rpc_fail(call, r, "%s", err->message[0] ? err->message : "refused");
}

/* The resource of the socket the call came in on. */
static Resource endpoint_resource(RpcCall *call) {
        return qrm_resource_from_name(rpc_endpoint(call));
}

/* ---- ResourcePlugin ---- */

static int qrm_allocate(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        const Resourceplugin__V1alpha1__ResourceRequest *req = (const void *) request;
        Resourceplugin__V1alpha1__ResourceAllocationResponse *resp = (void *) response;
        PluginService *s = userdata;
        QrmAllocationInfo info = {};
        QrmResourceRequest q;
        PluginError err = {};
        int r;

        if (request_from_container(call, req, &q) < 0)
                return -ENOMEM;
        r = qrm_state_allocate(s->state, &q, &info, &err);
        if (r < 0)
                return fail(call, r, &err);
        save_if_changed(s);

        resp->pod_uid = req->pod_uid;
        resp->pod_namespace = req->pod_namespace;
        resp->pod_name = req->pod_name;
        resp->container_name = req->container_name;
        resp->container_type = req->container_type;
        resp->container_index = req->container_index;
        resp->pod_role = req->pod_role;
        resp->pod_type = req->pod_type;
        resp->resource_name = req->resource_name;
        resp->native_qos_class = req->native_qos_class;
        resp->allocation_result = allocation_to_message(call, req->resource_name, &info);
        qrm_allocation_info_done(&info);
        return resp->allocation_result ? 0 : -ENOMEM;
}

static int qrm_allocate_for_pod(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                void *userdata) {
        const Resourceplugin__V1alpha1__PodResourceRequest *req = (const void *) request;
        Resourceplugin__V1alpha1__PodResourceAllocationResponse *resp = (void *) response;
        PluginService *s = userdata;
        QrmAllocationInfo info = {};
        QrmResourceRequest q;
        PluginError err = {};
        int r;

        if (request_from_pod(call, req, &q) < 0)
                return -ENOMEM;
        r = qrm_state_allocate_pod(s->state, &q, &info, &err);
        if (r < 0)
                return fail(call, r, &err);
        save_if_changed(s);

        resp->pod_uid = req->pod_uid;
        resp->pod_namespace = req->pod_namespace;
        resp->pod_name = req->pod_name;
        resp->pod_role = req->pod_role;
        resp->pod_type = req->pod_type;
        resp->resource_name = req->resource_name;
        resp->allocation_result = allocation_to_message(call, req->resource_name, &info);
        qrm_allocation_info_done(&info);
        return resp->allocation_result ? 0 : -ENOMEM;
}

/* A resource_hints map of one entry { resource_name: hints }. */
#define HINTS_ENTRY(call, entry_desc, resp, resource_name, hints)                                            \
        ({                                                                                                   \
                typeof((resp)->resource_hints[0]) _e = rpc_new_message((call), (entry_desc));                 \
                bool _oom = !_e;                                                                             \
                if (_e) {                                                                                    \
                        _e->key = (char *) (resource_name);                                                  \
                        _e->value = hints_to_message((call), (hints), &_oom);                                \
                        (resp)->resource_hints = rpc_alloc_array((call), 1, sizeof(*(resp)->resource_hints)); \
                        if (!(resp)->resource_hints)                                                         \
                                _oom = true;                                                                 \
                        else {                                                                               \
                                (resp)->resource_hints[0] = _e;                                              \
                                (resp)->n_resource_hints = 1;                                                \
                        }                                                                                    \
                }                                                                                            \
                _oom ? -ENOMEM : 0;                                                                          \
        })

static int qrm_get_topology_hints(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                  void *userdata) {
        const Resourceplugin__V1alpha1__ResourceRequest *req = (const void *) request;
        Resourceplugin__V1alpha1__ResourceHintsResponse *resp = (void *) response;
        PluginService *s = userdata;
        QrmResourceRequest q;
        QrmHints hints = {};
        PluginError err = {};
        int r;

        if (request_from_container(call, req, &q) < 0)
                return -ENOMEM;
        r = qrm_state_get_topology_hints(s->state, &q, &hints, &err);
        if (r < 0)
                return fail(call, r, &err);
        resp->pod_uid = req->pod_uid;
        resp->pod_namespace = req->pod_namespace;
        resp->pod_name = req->pod_name;
        resp->container_name = req->container_name;
        resp->container_type = req->container_type;
        resp->container_index = req->container_index;
        resp->pod_role = req->pod_role;
        resp->pod_type = req->pod_type;
        resp->resource_name = req->resource_name;
        resp->native_qos_class = req->native_qos_class;
        r = HINTS_ENTRY(call, &resourceplugin__v1alpha1__resource_hints_response__resource_hints_entry__descriptor,
                        resp, req->resource_name, &hints);
        qrm_hints_done(&hints);
        return r;
}

static int qrm_get_pod_topology_hints(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                      void *userdata) {
        const Resourceplugin__V1alpha1__PodResourceRequest *req = (const void *) request;
        Resourceplugin__V1alpha1__PodResourceHintsResponse *resp = (void *) response;
        PluginService *s = userdata;
        QrmResourceRequest q;
        QrmHints hints = {};
        PluginError err = {};
        int r;

        if (request_from_pod(call, req, &q) < 0)
                return -ENOMEM;
        r = qrm_state_get_pod_topology_hints(s->state, &q, &hints, &err);
        if (r < 0)
                return fail(call, r, &err);
        resp->pod_uid = req->pod_uid;
        resp->pod_namespace = req->pod_namespace;
        resp->pod_name = req->pod_name;
        resp->pod_role = req->pod_role;
        resp->pod_type = req->pod_type;
        resp->resource_name = req->resource_name;
        r = HINTS_ENTRY(call,
                        &resourceplugin__v1alpha1__pod_resource_hints_response__resource_hints_entry__descriptor,
                        resp, req->resource_name, &hints);
        qrm_hints_done(&hints);
        return r;
}

static int qrm_remove_pod(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                          void *userdata) {
        const Resourceplugin__V1alpha1__RemovePodRequest *req = (const void *) request;
        PluginService *s = userdata;
        PluginError err = {};
        int r;

        r = qrm_state_remove_pod(s->state, req->pod_uid, &err);
        if (r < 0)
                return fail(call, r, &err);
        save_if_changed(s);
        return 0;
}

static int qrm_get_resources_allocation(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                        void *userdata) {
        Resourceplugin__V1alpha1__GetResourcesAllocationResponse *resp = (void *) response;
        PluginService *s = userdata;
        Resource resource = endpoint_resource(call);
        const char *name = resource_to_string(resource);
        QrmAllocations all = {};
        int r = 0;

        if (qrm_state_get_allocations(s->state, resource, &all) < 0)
                return -ENOMEM;
        if (all.n_pods > 0) {
                resp->pod_resources = rpc_alloc_array(call, all.n_pods, sizeof(*resp->pod_resources));
                if (!resp->pod_resources)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < all.n_pods; i++) {
                const QrmPodAllocation *p = &all.pods[i];
                Resourceplugin__V1alpha1__GetResourcesAllocationResponse__PodResourcesEntry *pe;
                Resourceplugin__V1alpha1__ContainerResources *cr;

                pe = rpc_new_message(
                        call, &resourceplugin__v1alpha1__get_resources_allocation_response__pod_resources_entry__descriptor);
                cr = rpc_new_message(call, &resourceplugin__v1alpha1__container_resources__descriptor);
                if (!pe || !cr || !(pe->key = rpc_strdup(call, p->pod_uid))) {
                        r = -ENOMEM;
                        break;
                }
                pe->value = cr;
                if (p->n_containers > 0) {
                        cr->container_resources = rpc_alloc_array(call, p->n_containers,
                                                                  sizeof(*cr->container_resources));
                        if (!cr->container_resources) {
                                r = -ENOMEM;
                                break;
                        }
                }
                for (size_t j = 0; j < p->n_containers; j++) {
                        Resourceplugin__V1alpha1__ContainerResources__ContainerResourcesEntry *ce;

                        ce = rpc_new_message(
                                call, &resourceplugin__v1alpha1__container_resources__container_resources_entry__descriptor);
                        if (!ce || !(ce->key = rpc_strdup(call, p->containers[j].container_name)) ||
                            !(ce->value = allocation_to_message(call, name, &p->containers[j].info))) {
                                r = -ENOMEM;
                                break;
                        }
                        cr->container_resources[cr->n_container_resources++] = ce;
                }
                resp->pod_resources[resp->n_pod_resources++] = pe;
        }
        qrm_allocations_done(&all);
        return r;
}

static Resourceplugin__V1alpha1__TopologyAwareQuantity **quantities_to_message(RpcCall *call, const char *name,
                                                                               const QrmNodeQuantity *q, size_t n) {
        Resourceplugin__V1alpha1__TopologyAwareQuantity **l;

        l = rpc_alloc_array(call, n > 0 ? n : 1, sizeof(*l));
        if (!l)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                l[i] = rpc_new_message(call, &resourceplugin__v1alpha1__topology_aware_quantity__descriptor);
                if (!l[i])
                        return NULL;
                l[i]->resource_value = q[i].value;
                l[i]->node = q[i].node;
                l[i]->name = (char *) name;
                l[i]->topology_level = RESOURCEPLUGIN__V1ALPHA1__TOPOLOGY_LEVEL__NUMA;
        }
        return l;
}

static int qrm_get_topology_aware_resources(RpcCall *call, const ProtobufCMessage *request,
                                            ProtobufCMessage *response, void *userdata) {
        const Resourceplugin__V1alpha1__GetTopologyAwareResourcesRequest *req = (const void *) request;
        Resourceplugin__V1alpha1__GetTopologyAwareResourcesResponse *resp = (void *) response;
        PluginService *s = userdata;
        Resource resource = endpoint_resource(call);
        const char *name = resource_to_string(resource);
        Resourceplugin__V1alpha1__ContainerTopologyAwareResources *c;
        Resourceplugin__V1alpha1__ContainerTopologyAwareResources__AllocatedResourcesEntry *e;
        Resourceplugin__V1alpha1__TopologyAwareResource *t;
        QrmTopologyAwareResource res = {};
        PluginError err = {};
        int r;

        r = qrm_state_get_topology_aware_resources(s->state, req->pod_uid, req->container_name, resource, &res, &err);
        if (r < 0)
                return fail(call, r, &err);

        r = -ENOMEM;
        c = rpc_new_message(call, &resourceplugin__v1alpha1__container_topology_aware_resources__descriptor);
        e = rpc_new_message(
                call,
                &resourceplugin__v1alpha1__container_topology_aware_resources__allocated_resources_entry__descriptor);
        t = rpc_new_message(call, &resourceplugin__v1alpha1__topology_aware_resource__descriptor);
        if (!c || !e || !t)
                goto out;
        c->allocated_resources = rpc_alloc_array(call, 1, sizeof(*c->allocated_resources));
        if (!c->allocated_resources)
                goto out;
        t->is_node_resource = res.is_node_resource;
        t->is_scalar_resource = res.is_scalar_resource;
        t->aggregated_quantity = t->original_aggregated_quantity = res.aggregated_quantity;
        t->topology_aware_quantity_list = quantities_to_message(call, name, res.nodes, res.n_nodes);
        t->original_topology_aware_quantity_list = quantities_to_message(call, name, res.nodes, res.n_nodes);
        if (!t->topology_aware_quantity_list || !t->original_topology_aware_quantity_list)
                goto out;
        t->n_topology_aware_quantity_list = t->n_original_topology_aware_quantity_list = res.n_nodes;
        e->key = (char *) name;
        e->value = t;
        c->container_name = req->container_name;
        c->allocated_resources[0] = e;
        c->n_allocated_resources = 1;
        resp->pod_uid = req->pod_uid;
        resp->container_topology_aware_resources = c;
        r = 0;
out:
        qrm_topology_aware_resource_done(&res);
        return r;
}

static int qrm_get_allocatable(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                               void *userdata) {
        Resourceplugin__V1alpha1__GetTopologyAwareAllocatableResourcesResponse *resp = (void *) response;
        PluginService *s = userdata;
        Resource resource = endpoint_resource(call);
        const char *name = resource_to_string(resource);
        Resourceplugin__V1alpha1__GetTopologyAwareAllocatableResourcesResponse__AllocatableResourcesEntry *e;
        Resourceplugin__V1alpha1__AllocatableTopologyAwareResource *a;
        QrmAllocatableResource res = {};
        int r;

        r = qrm_state_get_allocatable(s->state, resource, &res);
        if (r < 0)
                return r == -ENOMEM ? r : rpc_fail(call, r, "no allocatable resources for %s", strna(name));

        r = -ENOMEM;
        e = rpc_new_message(
                call,
                &resourceplugin__v1alpha1__get_topology_aware_allocatable_resources_response__allocatable_resources_entry__descriptor);
        a = rpc_new_message(call, &resourceplugin__v1alpha1__allocatable_topology_aware_resource__descriptor);
        resp->allocatable_resources = rpc_alloc_array(call, 1, sizeof(*resp->allocatable_resources));
        if (!e || !a || !resp->allocatable_resources)
                goto out;
        a->is_node_resource = res.is_node_resource;
        a->is_scalar_resource = res.is_scalar_resource;
        a->aggregated_allocatable_quantity = res.aggregated_allocatable;
        a->aggregated_capacity_quantity = res.aggregated_capacity;
        a->topology_aware_allocatable_quantity_list = quantities_to_message(call, name, res.allocatable, res.n_nodes);
        a->topology_aware_capacity_quantity_list = quantities_to_message(call, name, res.capacity, res.n_nodes);
        if (!a->topology_aware_allocatable_quantity_list || !a->topology_aware_capacity_quantity_list)
                goto out;
        a->n_topology_aware_allocatable_quantity_list = a->n_topology_aware_capacity_quantity_list = res.n_nodes;
        e->key = (char *) name;
        e->value = a;
        resp->allocatable_resources[0] = e;
        resp->n_allocatable_resources = 1;
        r = 0;
out:
        qrm_allocatable_resource_done(&res);
        return r;
}

int plugin_service_install_qrm(PluginService *s, ApiEndpoint *e) {
        static const struct {
                const char *path;
                RpcHandler handler;
        } handlers[] = {
                { RP_PATH("Allocate"), qrm_allocate },
                { RP_PATH("AllocateForPod"), qrm_allocate_for_pod },
                { RP_PATH("GetTopologyHints"), qrm_get_topology_hints },
                { RP_PATH("GetPodTopologyHints"), qrm_get_pod_topology_hints },
                { RP_PATH("RemovePod"), qrm_remove_pod },
                { RP_PATH("GetResourcesAllocation"), qrm_get_resources_allocation },
                { RP_PATH("GetTopologyAwareResources"), qrm_get_topology_aware_resources },
                { RP_PATH("GetTopologyAwareAllocatableResources"), qrm_get_allocatable },
        };

        if (!e)
                return 0;
        /* All on the loop: it owns the state, which is not thread-safe. */
        for (size_t i = 0; i < ELEMENTSOF(handlers); i++) {
                int r = api_endpoint_handle(e, handlers[i].path, RPC_THREAD_LOOP, handlers[i].handler, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- RuntimeHookService ---- */

static int hook_resources_from_message(RpcCall *call, const Runtime__V1alpha1__LinuxContainerResources *m,
                                       const HookResources **ret) {
        HookResources *r;

        *ret = NULL;
        if (!m)
                return 0;
        r = rpc_alloc(call, sizeof(*r));
        if (!r)
                return -ENOMEM;
        *r = (HookResources) {
                .cpu_period = m->cpu_period,
                .cpu_quota = m->cpu_quota,
                .cpu_shares = m->cpu_shares,
                .memory_limit_in_bytes = m->memory_limit_in_bytes,
                .oom_score_adj = m->oom_score_adj,
                .cpuset_cpus = m->cpuset_cpus,
                .cpuset_mems = m->cpuset_mems,
                .memory_swap_limit_in_bytes = m->memory_swap_limit_in_bytes,
        };
        if (m->n_hugepage_limits > 0) {
                r->hugepage_limits = rpc_alloc_array(call, m->n_hugepage_limits, sizeof(HookHugepageLimit));
                if (!r->hugepage_limits)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_hugepage_limits; i++)
                        r->hugepage_limits[i] = (HookHugepageLimit) { m->hugepage_limits[i]->page_size,
                                                                      m->hugepage_limits[i]->limit };
                r->n_hugepage_limits = m->n_hugepage_limits;
        }
        if (m->n_unified > 0) {
                r->unified = rpc_alloc_array(call, m->n_unified, sizeof(HookKeyValue));
                if (!r->unified)
                        return -ENOMEM;
                for (size_t i = 0; i < m->n_unified; i++)
                        r->unified[i] = (HookKeyValue) { m->unified[i]->key, m->unified[i]->value };
                r->n_unified = m->n_unified;
        }
        *ret = r;
        return 0;
}

static Runtime__V1alpha1__LinuxContainerResources *hook_resources_to_message(RpcCall *call, const HookResources *r) {
        Runtime__V1alpha1__LinuxContainerResources *m;

        m = rpc_new_message(call, &runtime__v1alpha1__linux_container_resources__descriptor);
        if (!m)
                return NULL;
        m->cpu_period = r->cpu_period;
        m->cpu_quota = r->cpu_quota;
        m->cpu_shares = r->cpu_shares;
        m->memory_limit_in_bytes = r->memory_limit_in_bytes;
        m->oom_score_adj = r->oom_score_adj;
        m->memory_swap_limit_in_bytes = r->memory_swap_limit_in_bytes;
        if (!(m->cpuset_cpus = rpc_strdup(call, r->cpuset_cpus ? r->cpuset_cpus : "")) ||
            !(m->cpuset_mems = rpc_strdup(call, r->cpuset_mems ? r->cpuset_mems : "")))
                return NULL;
        if (r->n_hugepage_limits > 0) {
                m->hugepage_limits = rpc_alloc_array(call, r->n_hugepage_limits, sizeof(*m->hugepage_limits));
                if (!m->hugepage_limits)
                        return NULL;
                for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                        Runtime__V1alpha1__HugepageLimit *h =
                                rpc_new_message(call, &runtime__v1alpha1__hugepage_limit__descriptor);
                        if (!h || !(h->page_size = rpc_strdup(call, r->hugepage_limits[i].page_size ?: "")))
                                return NULL;
                        h->limit = r->hugepage_limits[i].limit;
                        m->hugepage_limits[i] = h;
                }
                m->n_hugepage_limits = r->n_hugepage_limits;
        }
        if (r->n_unified > 0) {
                m->unified = rpc_alloc_array(call, r->n_unified, sizeof(*m->unified));
                if (!m->unified)
                        return NULL;
                for (size_t i = 0; i < r->n_unified; i++) {
                        Runtime__V1alpha1__LinuxContainerResources__UnifiedEntry *u = rpc_new_message(
                                call, &runtime__v1alpha1__linux_container_resources__unified_entry__descriptor);
                        if (!u || !(u->key = rpc_strdup(call, r->unified[i].key ?: "")) ||
                            !(u->value = rpc_strdup(call, r->unified[i].value ?: "")))
                                return NULL;
                        m->unified[i] = u;
                }
                m->n_unified = r->n_unified;
        }
        return m;
}

/* The hooks' view of the node, at this call. roots: call memory. */
static int hook_context(RpcCall *call, PluginService *s, RuntimeHookContext *ret) {
        const Manager *m = s->manager;
        const Config *c = m->config;
        const char *kube_root = m->model ? pod_registry_kube_root(m->model->registry) : NULL;
        const char **roots;
        size_t n = 0;

        roots = rpc_alloc_array(call, c->n_cgroup_extra_roots + 2, sizeof(char *));
        if (!roots)
                return -ENOMEM;
        if (kube_root)
                roots[n++] = kube_root;
        else {
                /* No kubepods yet: either driver's root may appear. */
                roots[n++] = kube_root_name(CGROUP_DRIVER_SYSTEMD);
                roots[n++] = kube_root_name(CGROUP_DRIVER_CGROUPFS);
        }
        for (size_t i = 0; i < c->n_cgroup_extra_roots; i++)
                roots[n++] = c->cgroup_extra_roots[i];

        /* Until the controllers land, the best-effort budgets are the
         * controllers' configured maxima (controllers.cpu.max in
         * millicores, controllers.memory.max in bytes); 0 stands for the
         * node's capacity, i.e. no quota and no limit (-1). */
        *ret = (RuntimeHookContext) {
                .state = s->state,
                .managed_roots = (char *const *) roots,
                .n_managed_roots = n,
                .cgroup_v2 = m->model && m->model->layout.mode == CGROUP_MODE_V2,
                .reclaimed_cpu_millicores = c->controllers[RESOURCE_CPU].max > 0 ? c->controllers[RESOURCE_CPU].max
                                                                                  : -1,
                .reclaimed_memory_bytes = c->controllers[RESOURCE_MEMORY].max > 0
                                                  ? c->controllers[RESOURCE_MEMORY].max
                                                  : -1,
        };
        return 0;
}

static const struct {
        const char *path;
        RuntimeHookKind kind;
        bool sandbox;
} hook_methods[] = {
        { HOOK_PATH("PreRunPodSandboxHook"), RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, true },
        { HOOK_PATH("PostStopPodSandboxHook"), RUNTIME_HOOK_POST_STOP_POD_SANDBOX, true },
        { HOOK_PATH("PreCreateContainerHook"), RUNTIME_HOOK_PRE_CREATE_CONTAINER, false },
        { HOOK_PATH("PreStartContainerHook"), RUNTIME_HOOK_PRE_START_CONTAINER, false },
        { HOOK_PATH("PostStartContainerHook"), RUNTIME_HOOK_POST_START_CONTAINER, false },
        { HOOK_PATH("PostStopContainerHook"), RUNTIME_HOOK_POST_STOP_CONTAINER, false },
        { HOOK_PATH("PreUpdateContainerResourcesHook"), RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES, false },
};

static RuntimeHookKind hook_kind(RpcCall *call) {
        const char *path = rpc_call_method(call)->path;

        for (size_t i = 0; i < ELEMENTSOF(hook_methods); i++)
                if (strcmp(path, hook_methods[i].path) == 0)
                        return hook_methods[i].kind;
        return _RUNTIME_HOOK_KIND_INVALID;
}

static int hook_pod_sandbox(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                            void *userdata) {
        const Runtime__V1alpha1__PodSandboxHookRequest *req = (const void *) request;
        Runtime__V1alpha1__PodSandboxHookResponse *resp = (void *) response;
        PluginService *s = userdata;
        PodSandboxHookResponse answer = {};
        PodSandboxHookRequest q;
        RuntimeHookContext ctx;
        QrmKeyValue *labels, *annotations;
        const HookResources *overhead, *resources;
        PluginError err = {};
        int r;

        if (hook_context(call, s, &ctx) < 0 || KV_CONVERT(call, req->labels, req->n_labels, &labels) < 0 ||
            KV_CONVERT(call, req->annotations, req->n_annotations, &annotations) < 0 ||
            hook_resources_from_message(call, req->overhead, &overhead) < 0 ||
            hook_resources_from_message(call, req->resources, &resources) < 0)
                return -ENOMEM;
        q = (PodSandboxHookRequest) {
                .pod_name = req->pod_meta ? req->pod_meta->name : "",
                .pod_uid = req->pod_meta ? req->pod_meta->uid : "",
                .pod_namespace = req->pod_meta ? req->pod_meta->namespace_ : "",
                .attempt = req->pod_meta ? req->pod_meta->attempt : 0,
                .runtime_handler = req->runtime_handler,
                .labels = labels,
                .n_labels = req->n_labels,
                .annotations = annotations,
                .n_annotations = req->n_annotations,
                .cgroup_parent = req->cgroup_parent,
                .overhead = overhead,
                .resources = resources,
        };
        r = runtime_hook_pod_sandbox(&ctx, hook_kind(call), &q, &answer, &err);
        if (r < 0)
                return fail(call, r, &err);
        save_if_changed(s);

        r = 0;
        if (answer.cgroup_parent && !(resp->cgroup_parent = rpc_strdup(call, answer.cgroup_parent)))
                r = -ENOMEM;
        if (r >= 0 && answer.has_resources && !(resp->resources = hook_resources_to_message(call, &answer.resources)))
                r = -ENOMEM;
        pod_sandbox_hook_response_done(&answer);
        return r;
}

static int hook_container(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                          void *userdata) {
        const Runtime__V1alpha1__ContainerResourceHookRequest *req = (const void *) request;
        Runtime__V1alpha1__ContainerResourceHookResponse *resp = (void *) response;
        PluginService *s = userdata;
        ContainerHookResponse answer = {};
        ContainerHookRequest q;
        RuntimeHookContext ctx;
        QrmKeyValue *container_annotations, *pod_annotations, *pod_labels;
        const HookResources *container_resources, *pod_resources;
        PluginError err = {};
        int r;

        if (hook_context(call, s, &ctx) < 0 ||
            KV_CONVERT(call, req->container_annotations, req->n_container_annotations, &container_annotations) < 0 ||
            KV_CONVERT(call, req->pod_annotations, req->n_pod_annotations, &pod_annotations) < 0 ||
            KV_CONVERT(call, req->pod_labels, req->n_pod_labels, &pod_labels) < 0 ||
            hook_resources_from_message(call, req->container_resources, &container_resources) < 0 ||
            hook_resources_from_message(call, req->pod_resources, &pod_resources) < 0)
                return -ENOMEM;
        q = (ContainerHookRequest) {
                .pod_name = req->pod_meta ? req->pod_meta->name : "",
                .pod_uid = req->pod_meta ? req->pod_meta->uid : "",
                .pod_namespace = req->pod_meta ? req->pod_meta->namespace_ : "",
                .container_name = req->container_meta ? req->container_meta->name : "",
                .container_id = req->container_meta ? req->container_meta->id : "",
                .container_annotations = container_annotations,
                .n_container_annotations = req->n_container_annotations,
                .container_resources = container_resources,
                .pod_resources = pod_resources,
                .pod_annotations = pod_annotations,
                .n_pod_annotations = req->n_pod_annotations,
                .pod_labels = pod_labels,
                .n_pod_labels = req->n_pod_labels,
                .pod_cgroup_parent = req->pod_cgroup_parent,
        };
        r = runtime_hook_container(&ctx, hook_kind(call), &q, &answer, &err);
        if (r < 0)
                return fail(call, r, &err);
        save_if_changed(s);

        r = 0;
        if (answer.pod_cgroup_parent && !(resp->pod_cgroup_parent = rpc_strdup(call, answer.pod_cgroup_parent)))
                r = -ENOMEM;
        if (r >= 0 && answer.has_resources &&
            !(resp->container_resources = hook_resources_to_message(call, &answer.container_resources)))
                r = -ENOMEM;
        container_hook_response_done(&answer);
        return r;
}

int plugin_service_install_hooks(PluginService *s, ApiEndpoint *e) {
        for (size_t i = 0; i < ELEMENTSOF(hook_methods); i++) {
                int r = api_endpoint_handle(e, hook_methods[i].path, RPC_THREAD_LOOP,
                                            hook_methods[i].sandbox ? hook_pod_sandbox : hook_container, s);
                if (r < 0)
                        return r;
        }
        return 0;
}
