/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Koordinator's runtime hooks (shared WIRE.md section 3) as pure C: what a
 * pod sandbox or container gets when koord-runtime-proxy (or another CRI
 * proxy) asks before creating, starting or updating it. No gRPC here: the
 * structs mirror the messages so that the glue only converts.
 *
 * Answers (plugins/README.md):
 *   reclaimed_cores  cpu_shares 2; cpu_quota from the best-effort CPU budget
 *                    (never above the container's own quota); cpuset = the
 *                    reclaimed pool; memory limit = the memory budget when
 *                    lower; on cgroup v2, unified cpu.idle "1" and
 *                    memory.high below the limit
 *   dedicated_cores  the request, with its exclusive cpuset if QRM
 *                    allocated one
 *   others           the request unchanged
 * The pod's cgroup parent must lie inside the managed roots (an empty one
 * is accepted: nothing is written with it); Post*Stop
 * hooks release the QRM state of what stopped. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/plugin-error.h"
#include "plugins/qrm-state.h"

/* The CFS period the kernel and the kubelet default to, in microseconds. */
#define HOOK_CPU_PERIOD_DEFAULT_USEC 100000
/* The CFS periods the kernel takes (1 ms to 1 s). */
#define HOOK_CPU_PERIOD_MIN_USEC 1000
#define HOOK_CPU_PERIOD_MAX_USEC 1000000
/* The smallest CFS quota the kernel takes (1 ms). */
#define HOOK_CPU_QUOTA_MIN_USEC 1000
/* The lowest cpu.shares the kernel takes: best-effort's weight. */
#define HOOK_CPU_SHARES_MIN 2
/* A container cannot start below a few MiB (Docker refuses less than 6
 * MiB); a smaller memory budget is raised to this. */
#define HOOK_MEMORY_LIMIT_MIN_BYTES (6 * 1024 * 1024)
/* memory.high as a share of the limit: reclaim slows best-effort down
 * before the limit OOM-kills it. */
#define HOOK_MEMORY_HIGH_PERCENT 90

typedef enum RuntimeHookKind {
        RUNTIME_HOOK_PRE_RUN_POD_SANDBOX,
        RUNTIME_HOOK_POST_STOP_POD_SANDBOX,
        RUNTIME_HOOK_PRE_CREATE_CONTAINER,
        RUNTIME_HOOK_PRE_START_CONTAINER,
        RUNTIME_HOOK_POST_START_CONTAINER,
        RUNTIME_HOOK_POST_STOP_CONTAINER,
        RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES,
        _RUNTIME_HOOK_KIND_MAX,
        _RUNTIME_HOOK_KIND_INVALID = -1,
} RuntimeHookKind;

/* The RPC's name: "PreRunPodSandboxHook", ... */
const char *runtime_hook_kind_to_string(RuntimeHookKind k);

typedef struct HookHugepageLimit {
        char *page_size;
        uint64_t limit;
} HookHugepageLimit;

typedef struct HookKeyValue {
        char *key;
        char *value;
} HookKeyValue;

/* LinuxContainerResources. As a request the strings are borrowed; as an
 * answer they are owned (hook_resources_done()). */
typedef struct HookResources {
        int64_t cpu_period;
        int64_t cpu_quota;
        int64_t cpu_shares;
        int64_t memory_limit_in_bytes; /* 0: no limit */
        int64_t oom_score_adj;
        char *cpuset_cpus; /* NULL or "": not set */
        char *cpuset_mems;
        HookHugepageLimit *hugepage_limits;
        size_t n_hugepage_limits;
        HookKeyValue *unified; /* cgroup v2 files */
        size_t n_unified;
        int64_t memory_swap_limit_in_bytes;
} HookResources;

void hook_resources_done(HookResources *r);

/* PodSandboxHookRequest. */
typedef struct PodSandboxHookRequest {
        const char *pod_name;
        const char *pod_uid;
        const char *pod_namespace;
        uint32_t attempt;
        const char *runtime_handler;
        const QrmKeyValue *labels;
        size_t n_labels;
        const QrmKeyValue *annotations;
        size_t n_annotations;
        const char *cgroup_parent;
        const HookResources *overhead;  /* NULL: not given */
        const HookResources *resources; /* NULL: not given */
} PodSandboxHookRequest;

/* PodSandboxHookResponse: no labels or annotations (nothing to change). */
typedef struct PodSandboxHookResponse {
        char *cgroup_parent; /* NULL: none */
        bool has_resources;
        HookResources resources;
} PodSandboxHookResponse;

void pod_sandbox_hook_response_done(PodSandboxHookResponse *r);

/* ContainerResourceHookRequest. */
typedef struct ContainerHookRequest {
        const char *pod_name;
        const char *pod_uid;
        const char *pod_namespace;
        const char *container_name;
        const char *container_id;
        const QrmKeyValue *container_annotations;
        size_t n_container_annotations;
        const HookResources *container_resources; /* NULL: not given */
        const HookResources *pod_resources;       /* NULL: not given */
        const QrmKeyValue *pod_annotations;
        size_t n_pod_annotations;
        const QrmKeyValue *pod_labels;
        size_t n_pod_labels;
        const char *pod_cgroup_parent;
} ContainerHookRequest;

/* ContainerResourceHookResponse: no annotations or envs (nothing to change). */
typedef struct ContainerHookResponse {
        char *pod_cgroup_parent; /* NULL: none */
        bool has_resources;
        HookResources container_resources;
} ContainerHookResponse;

void container_hook_response_done(ContainerHookResponse *r);

/* What the answers are made of; read at each call. */
typedef struct RuntimeHookContext {
        QrmState *state;            /* pools and QRM allocations; NULL: none */
        char *const *managed_roots; /* cgroup paths ("kubepods.slice", "kubepods") */
        size_t n_managed_roots;
        bool cgroup_v2;
        int64_t reclaimed_cpu_millicores; /* best-effort CPU budget; < 0: unlimited */
        int64_t reclaimed_memory_bytes;   /* best-effort memory budget; < 0: unlimited */
} RuntimeHookContext;

/* The cgroup path a CRI cgroup parent names, relative to the hierarchy
 * root: a systemd slice name ("kubepods-besteffort-pod<uid>.slice") is
 * expanded into its parents, an absolute cgroupfs path loses its '/'.
 * Returns 0 with the path, -EPERM (with a message) if it is not a clean
 * path at or below one of the managed roots ("..", ".", empty components,
 * the root itself, a malformed slice name), -ENOMEM. */
int runtime_hook_resolve_cgroup_parent(const char *cgroup_parent, char *const *managed_roots,
                                       size_t n_managed_roots, char **ret_path, PluginError *err);

/* The Kubernetes QoS tier a cgroup path shows (kubepods-besteffort ->
 * BESTEFFORT, ...), or -1. */
int runtime_hook_kube_tier(const char *cgroup_path);

/* PreRunPodSandboxHook and PostStopPodSandboxHook. Returns 0 and the
 * answer, or with a message: -EINVAL (wrong kind, no pod uid, malformed
 * resources), -EPERM (cgroup parent outside the managed roots), -ENOMEM. */
int runtime_hook_pod_sandbox(const RuntimeHookContext *ctx, RuntimeHookKind kind, const PodSandboxHookRequest *req,
                             PodSandboxHookResponse *ret, PluginError *err);

/* The container hooks. Errors as above. */
int runtime_hook_container(const RuntimeHookContext *ctx, RuntimeHookKind kind, const ContainerHookRequest *req,
                           ContainerHookResponse *ret, PluginError *err);
