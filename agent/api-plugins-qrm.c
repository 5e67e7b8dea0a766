/* SPDX-License-Identifier: Apache-2.0 */
/* Katalyst's QRM ResourcePlugin on the plugin sockets: requests converted
 * to the plugins' structs (plugins/qrm-state.h), answers back. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api-plugins-private.h"
#include "macro.h"
#include "resourceplugin.pb-c.h"

#define RP_PATH(m) "/resourceplugin.v1alpha1.ResourcePlugin/" m

/* ---- conversions ---- */

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

/* The fields a container's and a pod's request share; *ret only on
 * success. */
#define REQUEST_CONVERT(call, m, ret)                                                                            \
        ({                                                                                                       \
                QrmQuantity *_rq_q;                                                                              \
                QrmKeyValue *_rq_labels, *_rq_annotations;                                                       \
                int _rq_r = -ENOMEM;                                                                             \
                if (QUANTITIES_CONVERT((call), (m)->resource_requests, (m)->n_resource_requests, &_rq_q) >= 0 && \
                    KV_CONVERT((call), (m)->labels, (m)->n_labels, &_rq_labels) >= 0 &&                          \
                    KV_CONVERT((call), (m)->annotations, (m)->n_annotations, &_rq_annotations) >= 0) {           \
                        *(ret) = (QrmResourceRequest) {                                                          \
                                .pod_uid = (m)->pod_uid,                                                         \
                                .pod_namespace = (m)->pod_namespace,                                             \
                                .pod_name = (m)->pod_name,                                                       \
                                .container_name = "",                                                            \
                                .container_type = QRM_CONTAINER_MAIN,                                            \
                                .resource_name = (m)->resource_name,                                             \
                                .hint_nodes = (m)->hint ? (m)->hint->nodes : NULL,                               \
                                .n_hint_nodes = (m)->hint ? (m)->hint->n_nodes : 0,                              \
                                .resource_requests = _rq_q,                                                      \
                                .n_resource_requests = (m)->n_resource_requests,                                 \
                                .labels = _rq_labels,                                                            \
                                .n_labels = (m)->n_labels,                                                       \
                                .annotations = _rq_annotations,                                                  \
                                .n_annotations = (m)->n_annotations,                                             \
                        };                                                                                       \
                        _rq_r = 0;                                                                               \
                }                                                                                                \
                _rq_r;                                                                                           \
        })

static int request_from_container(RpcCall *call, const Resourceplugin__V1alpha1__ResourceRequest *m,
                                  QrmResourceRequest *ret) {
        if (REQUEST_CONVERT(call, m, ret) < 0)
                return -ENOMEM;
        ret->container_name = m->container_name;
        ret->container_type = (QrmContainerType) m->container_type;
        ret->container_index = m->container_index;
        return 0;
}

static int request_from_pod(RpcCall *call, const Resourceplugin__V1alpha1__PodResourceRequest *m,
                            QrmResourceRequest *ret) {
        return REQUEST_CONVERT(call, m, ret);
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
                return plugin_call_fail(call, r, &err);

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
                return plugin_call_fail(call, r, &err);

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
                return plugin_call_fail(call, r, &err);
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
                return plugin_call_fail(call, r, &err);
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
                return plugin_call_fail(call, r, &err);
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
                return plugin_call_fail(call, r, &err);

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
