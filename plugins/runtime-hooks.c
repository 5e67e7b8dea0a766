/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime-hooks.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"
#include "plugins/cgroup-writer.h"
#include "qos/kube-cgroup.h"

static const char *const hook_kind_names[_RUNTIME_HOOK_KIND_MAX] = {
        [RUNTIME_HOOK_PRE_RUN_POD_SANDBOX] = "PreRunPodSandboxHook",
        [RUNTIME_HOOK_POST_STOP_POD_SANDBOX] = "PostStopPodSandboxHook",
        [RUNTIME_HOOK_PRE_CREATE_CONTAINER] = "PreCreateContainerHook",
        [RUNTIME_HOOK_PRE_START_CONTAINER] = "PreStartContainerHook",
        [RUNTIME_HOOK_POST_START_CONTAINER] = "PostStartContainerHook",
        [RUNTIME_HOOK_POST_STOP_CONTAINER] = "PostStopContainerHook",
        [RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES] = "PreUpdateContainerResourcesHook",
};

const char *runtime_hook_kind_to_string(RuntimeHookKind k) {
        if (k < 0 || k >= _RUNTIME_HOOK_KIND_MAX)
                return NULL;
        return hook_kind_names[k];
}

void hook_resources_done(HookResources *r) {
        if (!r)
                return;
        free(r->cpuset_cpus);
        free(r->cpuset_mems);
        for (size_t i = 0; i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; i < r->n_unified; i++) {
                free(r->unified[i].key);
                free(r->unified[i].value);
        }
        free(r->unified);
        *r = (HookResources) {};
}

void pod_sandbox_hook_response_done(PodSandboxHookResponse *r) {
        if (!r)
                return;
        free(r->cgroup_parent);
        hook_resources_done(&r->resources);
        *r = (PodSandboxHookResponse) {};
}

void container_hook_response_done(ContainerHookResponse *r) {
        if (!r)
                return;
        free(r->pod_cgroup_parent);
        hook_resources_done(&r->container_resources);
        *r = (ContainerHookResponse) {};
}

/* ------------------------------------------------------------------ */
/* Cgroup parents                                                      */
/* ------------------------------------------------------------------ */

/* systemd's slice naming: "a-b-c.slice" lives in a.slice/a-b.slice/. Returns
 * the path, NULL with errno EINVAL for a malformed name (empty parts,
 * "--", leading or trailing '-', the root slice "-.slice") or ENOMEM. */
static char *slice_expand(const char *name) {
        size_t n = strlen(name), base = n - strlen(".slice");
        _cleanup_free_ char *out = NULL;
        size_t len = 0, size;

        if (n <= strlen(".slice") || n > NAME_MAX || name[0] == '-' || name[base - 1] == '-') {
                errno = EINVAL;
                return NULL;
        }
        for (size_t i = 0; i + 1 < base; i++)
                if (name[i] == '-' && name[i + 1] == '-') {
                        errno = EINVAL;
                        return NULL;
                }

        /* Each '-' adds a parent: at most n/2 of them, each at most n + 7. */
        size = (n + 8) * (n / 2 + 2);
        out = malloc(size);
        if (!out) {
                errno = ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i <= base; i++) {
                if (i < base && name[i] != '-')
                        continue;
                len += (size_t) snprintf(out + len, size - len, "%s%.*s.slice", len ? "/" : "", (int) i, name);
        }
        return TAKE_PTR(out);
}

int runtime_hook_resolve_cgroup_parent(const char *cgroup_parent, char *const *managed_roots,
                                       size_t n_managed_roots, char **ret_path, PluginError *err) {
        _cleanup_free_ char *path = NULL;
        const char *p = cgroup_parent;

        if (!p || !*p)
                return plugin_error_set(err, EPERM, "No cgroup parent given.");
        if (strnlen(p, PATH_MAX) >= PATH_MAX)
                return plugin_error_set(err, EPERM, "The cgroup parent is longer than PATH_MAX.");

        if (*p == '/') {
                /* cgroupfs driver: absolute within the hierarchy. */
                while (*p == '/')
                        p++;
                path = strdup(p);
        } else if (!strchr(p, '/') && strlen(p) > strlen(".slice") &&
                   strcmp(p + strlen(p) - strlen(".slice"), ".slice") == 0) {
                path = slice_expand(p);
                if (!path && errno == EINVAL)
                        return plugin_error_set(err, EPERM, "Refusing cgroup parent \"%.*s\": not a valid slice name.",
                                                64, cgroup_parent);
        } else
                path = strdup(p);
        if (!path)
                return plugin_error_set(err, ENOMEM, "Out of memory.");

        if (cgroup_path_check_managed(path, managed_roots, n_managed_roots) < 0)
                return plugin_error_set(err, EPERM,
                                        "Refusing cgroup parent \"%.*s\": it is not inside the managed cgroups.", 128,
                                        cgroup_parent);
        *ret_path = TAKE_PTR(path);
        return 0;
}

int runtime_hook_kube_tier(const char *cgroup_path) {
        const char *root_systemd = kube_root_name(CGROUP_DRIVER_SYSTEMD);
        const char *root_cgroupfs = kube_root_name(CGROUP_DRIVER_CGROUPFS);
        bool under_root = false;
        const char *p = cgroup_path;

        while (p && *p) {
                size_t n = strcspn(p, "/");

                if (under_root) {
                        for (int t = KUBE_TIER_BURSTABLE; t <= KUBE_TIER_BESTEFFORT; t++) {
                                const char *s = kube_tier_dir(CGROUP_DRIVER_SYSTEMD, (KubeTier) t);
                                const char *c = kube_tier_dir(CGROUP_DRIVER_CGROUPFS, (KubeTier) t);

                                if ((strlen(s) == n && strncmp(p, s, n) == 0) ||
                                    (strlen(c) == n && strncmp(p, c, n) == 0))
                                        return t;
                        }
                        /* A pod right under the root: Guaranteed. */
                        return KUBE_TIER_GUARANTEED;
                }
                if ((strlen(root_systemd) == n && strncmp(p, root_systemd, n) == 0) ||
                    (strlen(root_cgroupfs) == n && strncmp(p, root_cgroupfs, n) == 0))
                        under_root = true;
                p += n;
                while (*p == '/')
                        p++;
        }
        return -1;
}

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

/* Checks what the runtime asked for; unified keys become files the runtime
 * writes in the container's cgroup, so a key must be a plain file name. */
static int resources_check(const HookResources *r, PluginError *err) {
        CpuMask m;

        if (!r)
                return 0;
        if (r->cpu_shares < 0 || r->memory_limit_in_bytes < 0)
                return plugin_error_set(err, EINVAL, "Negative cpu_shares or memory limit.");
        if (r->cpu_period != 0 &&
            (r->cpu_period < HOOK_CPU_PERIOD_MIN_USEC || r->cpu_period > HOOK_CPU_PERIOD_MAX_USEC))
                return plugin_error_set(err, EINVAL, "cpu_period %" PRId64 " is outside the kernel's %d..%d.",
                                        r->cpu_period, HOOK_CPU_PERIOD_MIN_USEC, HOOK_CPU_PERIOD_MAX_USEC);
        if (r->cpuset_cpus && *r->cpuset_cpus && cpu_list_parse_string(r->cpuset_cpus, &m) < 0)
                return plugin_error_set(err, EINVAL, "Malformed cpuset_cpus \"%.64s\".", r->cpuset_cpus);
        if (r->cpuset_mems && *r->cpuset_mems && cpu_list_parse_string(r->cpuset_mems, &m) < 0)
                return plugin_error_set(err, EINVAL, "Malformed cpuset_mems \"%.64s\".", r->cpuset_mems);
        if (r->n_unified > 0 && !r->unified)
                return plugin_error_set(err, EINVAL, "Unified entries missing.");
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *k = r->unified[i].key;

                if (!k || !*k || strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0 ||
                    !r->unified[i].value)
                        return plugin_error_set(err, EINVAL, "Unified key \"%.64s\" is not a cgroup file name.",
                                                strna(k));
        }
        if (r->n_hugepage_limits > 0 && !r->hugepage_limits)
                return plugin_error_set(err, EINVAL, "Hugepage limits missing.");
        return 0;
}

static int strdup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int resources_copy(const HookResources *in, HookResources *ret) {
        HookResources out = {};

        if (!in) {
                *ret = out;
                return 0;
        }
        out.cpu_period = in->cpu_period;
        out.cpu_quota = in->cpu_quota;
        out.cpu_shares = in->cpu_shares;
        out.memory_limit_in_bytes = in->memory_limit_in_bytes;
        out.oom_score_adj = in->oom_score_adj;
        out.memory_swap_limit_in_bytes = in->memory_swap_limit_in_bytes;
        if (strdup_or_null(in->cpuset_cpus, &out.cpuset_cpus) < 0 ||
            strdup_or_null(in->cpuset_mems, &out.cpuset_mems) < 0)
                goto oom;
        if (in->n_hugepage_limits > 0) {
                out.hugepage_limits = calloc(in->n_hugepage_limits, sizeof(HookHugepageLimit));
                if (!out.hugepage_limits)
                        goto oom;
                for (; out.n_hugepage_limits < in->n_hugepage_limits; out.n_hugepage_limits++) {
                        const HookHugepageLimit *h = &in->hugepage_limits[out.n_hugepage_limits];
                        HookHugepageLimit *o = &out.hugepage_limits[out.n_hugepage_limits];

                        if (strdup_or_null(h->page_size, &o->page_size) < 0)
                                goto oom;
                        o->limit = h->limit;
                }
        }
        if (in->n_unified > 0) {
                out.unified = calloc(in->n_unified, sizeof(HookKeyValue));
                if (!out.unified)
                        goto oom;
                for (; out.n_unified < in->n_unified; out.n_unified++) {
                        HookKeyValue *o = &out.unified[out.n_unified];

                        if (strdup_or_null(in->unified[out.n_unified].key, &o->key) < 0 ||
                            strdup_or_null(in->unified[out.n_unified].value, &o->value) < 0) {
                                out.n_unified++; /* free what was copied */
                                goto oom;
                        }
                }
        }
        *ret = out;
        return 0;

oom:
        hook_resources_done(&out);
        return -ENOMEM;
}

/* Sets key in unified to value (replacing the runtime's own). */
static int unified_set(HookResources *r, const char *key, const char *value) {
        _cleanup_free_ char *v = strdup(value);
        HookKeyValue *a;
        char *k;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_unified; i++)
                if (streq_ptr(r->unified[i].key, key)) {
                        free(r->unified[i].value);
                        r->unified[i].value = TAKE_PTR(v);
                        return 0;
                }
        k = strdup(key);
        if (!k)
                return -ENOMEM;
        a = reallocarray(r->unified, r->n_unified + 1, sizeof(HookKeyValue));
        if (!a) {
                free(k);
                return -ENOMEM;
        }
        r->unified = a;
        r->unified[r->n_unified++] = (HookKeyValue) { .key = k, .value = TAKE_PTR(v) };
        return 0;
}

static int set_list(char **field, const CpuMask *m) {
        char *s;

        if (cpu_list_format_alloc(m, &s) < 0)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

/* What a reclaimed_cores container (or pod) gets now. update: the answer is
 * for an update of a running container. */
static int reclaimed_answer(const RuntimeHookContext *ctx, const HookResources *in, bool update,
                            HookResources *ret) {
        HookResources out;
        int64_t period, budget_quota = -1, limit;
        int r;

        r = resources_copy(in, &out);
        if (r < 0)
                return r;

        period = out.cpu_period > 0 ? out.cpu_period : HOOK_CPU_PERIOD_DEFAULT_USEC;
        out.cpu_period = period;
        if (ctx->reclaimed_cpu_millicores >= 0 && ctx->reclaimed_cpu_millicores <= INT64_MAX / period) {
                /* millicores * period / 1000, without overflowing. */
                int64_t mc = ctx->reclaimed_cpu_millicores;

                budget_quota = mc / 1000 * period + mc % 1000 * period / 1000;
                budget_quota = MAX(budget_quota, (int64_t) HOOK_CPU_QUOTA_MIN_USEC);
        }
        /* A larger budget than that is more than any node has: no limit. */
        /* The container's own limit still holds when it is lower. */
        if (out.cpu_quota > 0)
                out.cpu_quota = budget_quota < 0 ? out.cpu_quota : MIN(out.cpu_quota, budget_quota);
        else
                out.cpu_quota = budget_quota;

        /* On cgroup v2 the weight is cpu.idle's business: the kernel refuses
         * cpu.weight writes while a group is idle, so an update must not
         * carry shares (the runtime writes cpu.weight only for non-zero
         * shares). At creation the runtime writes cpu.weight before the
         * unified files, so the minimal shares go through. */
        out.cpu_shares = ctx->cgroup_v2 && update ? 0 : HOOK_CPU_SHARES_MIN;

        if (ctx->state) {
                CpuMask cpus, nodes;

                qrm_state_get_pool(ctx->state, QRM_POOL_RECLAIMED, &cpus);
                cpu_topology_nodes_of(qrm_state_topology(ctx->state), &cpus, &nodes);
                if (!cpu_mask_is_empty(&cpus) && (set_list(&out.cpuset_cpus, &cpus) < 0 ||
                                                  set_list(&out.cpuset_mems, &nodes) < 0))
                        goto oom;
        }

        limit = out.memory_limit_in_bytes;
        if (ctx->reclaimed_memory_bytes >= 0) {
                int64_t budget = MAX(ctx->reclaimed_memory_bytes, (int64_t) HOOK_MEMORY_LIMIT_MIN_BYTES);

                if (limit <= 0 || budget < limit)
                        limit = budget;
        }
        out.memory_limit_in_bytes = limit;

        if (ctx->cgroup_v2) {
                char high[32];

                if (limit > 0)
                        (void) snprintf(high, sizeof(high), "%" PRId64,
                                        limit / 100 * HOOK_MEMORY_HIGH_PERCENT +
                                                limit % 100 * HOOK_MEMORY_HIGH_PERCENT / 100);
                else
                        strcpy(high, "max");
                if (unified_set(&out, "cpu.idle", "1") < 0 || unified_set(&out, "memory.high", high) < 0)
                        goto oom;
        }
        *ret = out;
        return 0;

oom:
        hook_resources_done(&out);
        return -ENOMEM;
}

/* A dedicated_cores container's answer: its exclusive CPUs if QRM gave it
 * some, else the request. */
static int dedicated_answer(const RuntimeHookContext *ctx, const char *pod_uid, const char *container_name,
                            const HookResources *in, HookResources *ret) {
        HookResources out;
        CpuMask cpus, mems, dedicated;
        QosClass c;
        int r;

        r = resources_copy(in, &out);
        if (r < 0)
                return r;
        if (ctx->state && pod_uid && container_name &&
            qrm_state_get_container_cpuset(ctx->state, pod_uid, container_name, &c, &cpus, &mems) >= 0 &&
            c == QOS_CLASS_DEDICATED_CORES) {
                qrm_state_get_pool(ctx->state, QRM_POOL_DEDICATED, &dedicated);
                if (!cpu_mask_is_empty(&cpus) && cpu_mask_is_subset(&cpus, &dedicated) &&
                    (set_list(&out.cpuset_cpus, &cpus) < 0 || set_list(&out.cpuset_mems, &mems) < 0)) {
                        hook_resources_done(&out);
                        return -ENOMEM;
                }
        }
        *ret = out;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Hooks                                                               */
/* ------------------------------------------------------------------ */

static int check_pod_uid(const char *uid, PluginError *err) {
        if (!uid || !*uid)
                return plugin_error_set(err, EINVAL, "The request has no pod uid.");
        return 0;
}

static int release(const RuntimeHookContext *ctx, const char *pod_uid, const char *container_name,
                   PluginError *err) {
        int r;

        if (!ctx->state)
                return 0;
        r = container_name ? qrm_state_remove_container(ctx->state, pod_uid, container_name, err)
                           : qrm_state_remove_pod(ctx->state, pod_uid, err);
        if (r == -ENOENT) {
                /* Not allocated through QRM, or released already: done. */
                plugin_error_clear(err);
                return 0;
        }
        return r;
}

/* The class and tier of a pod, with its cgroup parent checked. */
static int pod_class(const RuntimeHookContext *ctx, const char *cgroup_parent, const QrmKeyValue *labels,
                     size_t n_labels, const QrmKeyValue *annotations, size_t n_annotations, QosClass *ret,
                     PluginError *err) {
        _cleanup_free_ char *path = NULL;
        int r;

        /* A proxy that lost track of the sandbox sends none: nothing to
         * check, nothing is written with it, and the class comes from the
         * labels alone. */
        if (cgroup_parent && *cgroup_parent) {
                r = runtime_hook_resolve_cgroup_parent(cgroup_parent, ctx->managed_roots, ctx->n_managed_roots, &path,
                                                       err);
                if (r < 0)
                        return r;
        }
        *ret = qrm_resolve_qos_class(labels, n_labels, annotations, n_annotations, runtime_hook_kube_tier(path));
        return 0;
}

int runtime_hook_pod_sandbox(const RuntimeHookContext *ctx, RuntimeHookKind kind, const PodSandboxHookRequest *req,
                             PodSandboxHookResponse *ret, PluginError *err) {
        PodSandboxHookResponse out = {};
        QosClass c;
        int r;

        if (!ctx || !req)
                return plugin_error_set(err, EINVAL, "No request.");
        r = check_pod_uid(req->pod_uid, err);
        if (r < 0)
                return r;

        switch (kind) {
        case RUNTIME_HOOK_POST_STOP_POD_SANDBOX:
                /* Nothing is answered, so the cgroup parent does not matter. */
                r = release(ctx, req->pod_uid, NULL, err);
                if (r < 0)
                        return r;
                *ret = out;
                return 0;
        case RUNTIME_HOOK_PRE_RUN_POD_SANDBOX:
                break;
        default:
                return plugin_error_set(err, EINVAL, "%s is not a pod sandbox hook.",
                                        strna(runtime_hook_kind_to_string(kind)));
        }

        r = resources_check(req->resources, err);
        if (r < 0)
                return r;
        r = pod_class(ctx, req->cgroup_parent, req->labels, req->n_labels, req->annotations, req->n_annotations, &c,
                      err);
        if (r < 0)
                return r;

        out.cgroup_parent = strdup(req->cgroup_parent ?: "");
        if (!out.cgroup_parent)
                return plugin_error_set(err, ENOMEM, "Out of memory.");
        if (c == QOS_CLASS_RECLAIMED_CORES) {
                r = reclaimed_answer(ctx, req->resources, false, &out.resources);
                out.has_resources = true;
        } else if (req->resources) {
                r = resources_copy(req->resources, &out.resources);
                out.has_resources = true;
        }
        if (r < 0) {
                pod_sandbox_hook_response_done(&out);
                return plugin_error_set(err, r, "Out of memory.");
        }
        *ret = out;
        return 0;
}

int runtime_hook_container(const RuntimeHookContext *ctx, RuntimeHookKind kind, const ContainerHookRequest *req,
                           ContainerHookResponse *ret, PluginError *err) {
        ContainerHookResponse out = {};
        QosClass c;
        int r;

        if (!ctx || !req)
                return plugin_error_set(err, EINVAL, "No request.");
        r = check_pod_uid(req->pod_uid, err);
        if (r < 0)
                return r;

        switch (kind) {
        case RUNTIME_HOOK_POST_STOP_CONTAINER:
                if (!req->container_name || !*req->container_name)
                        return plugin_error_set(err, EINVAL, "The request has no container name.");
                r = release(ctx, req->pod_uid, req->container_name, err);
                if (r < 0)
                        return r;
                *ret = out;
                return 0;
        case RUNTIME_HOOK_POST_START_CONTAINER:
                /* Nothing to change once it runs or after it stopped. */
                *ret = out;
                return 0;
        case RUNTIME_HOOK_PRE_CREATE_CONTAINER:
        case RUNTIME_HOOK_PRE_START_CONTAINER:
        case RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES:
                break;
        default:
                return plugin_error_set(err, EINVAL, "%s is not a container hook.",
                                        strna(runtime_hook_kind_to_string(kind)));
        }

        r = resources_check(req->container_resources, err);
        if (r < 0)
                return r;
        r = pod_class(ctx, req->pod_cgroup_parent, req->pod_labels, req->n_pod_labels, req->pod_annotations,
                      req->n_pod_annotations, &c, err);
        if (r < 0)
                return r;

        out.pod_cgroup_parent = strdup(req->pod_cgroup_parent ?: "");
        if (!out.pod_cgroup_parent)
                return plugin_error_set(err, ENOMEM, "Out of memory.");
        if (c == QOS_CLASS_RECLAIMED_CORES) {
                r = reclaimed_answer(ctx, req->container_resources,
                                     kind == RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES, &out.container_resources);
                out.has_resources = true;
        } else if (c == QOS_CLASS_DEDICATED_CORES) {
                r = dedicated_answer(ctx, req->pod_uid, req->container_name, req->container_resources,
                                     &out.container_resources);
                out.has_resources = true;
        } else if (req->container_resources) {
                r = resources_copy(req->container_resources, &out.container_resources);
                out.has_resources = true;
        }
        if (r < 0) {
                container_hook_response_done(&out);
                return plugin_error_set(err, r, "Out of memory.");
        }
        *ret = out;
        return 0;
}
