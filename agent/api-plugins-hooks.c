/* SPDX-License-Identifier: Apache-2.0 */
/* Koordinator's RuntimeHookService on the admin socket: requests converted
 * to the plugins' structs (plugins/runtime-hooks.h), answers back. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api-plugins-private.h"
#include "macro.h"
#include "manager.h"
#include "plugins/runtime-hooks.h"
#include "qos/kube-cgroup.h"
#include "runtimehooks.pb-c.h"

#define HOOK_PATH(m) "/runtime.v1alpha1.RuntimeHookService/" m

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

        /* The best-effort budgets in force now (control.c); without one
         * (a controller off, or before the first tick) no quota and no
         * limit (-1): the cgroup plugins own the limits then. */
        double cpu_budget = -1, memory_budget = -1;
        if (m->control) {
                (void) control_budget(m->control, RESOURCE_CPU, &cpu_budget);
                (void) control_budget(m->control, RESOURCE_MEMORY, &memory_budget);
        }
        *ret = (RuntimeHookContext) {
                .state = s->state,
                .managed_roots = (char *const *) roots,
                .n_managed_roots = n,
                .cgroup_v2 = m->model && m->model->layout.mode == CGROUP_MODE_V2,
                .reclaimed_cpu_millicores = cpu_budget >= 0 ? (int64_t) cpu_budget : -1,
                .reclaimed_memory_bytes = memory_budget >= 0 ? (int64_t) memory_budget : -1,
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
                return plugin_call_fail(call, r, &err);

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
                return plugin_call_fail(call, r, &err);

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
