/* SPDX-License-Identifier: Apache-2.0 */
/* Koordinator runtime hooks: cgroup parents confined to the managed roots,
 * the class from labels, annotations and the cgroup path, what a
 * reclaimed_cores container gets from the budgets and pools, dedicated
 * containers' exclusive cpusets, and Post*Stop releasing QRM state. */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "plugins/cpu-topology.h"
#include "plugins/qrm-state.h"
#include "plugins/runtime-hooks.h"
#include "qos/kube-cgroup.h"

#define GIB (INT64_C(1) << 30)

static char *const roots[] = { "kubepods.slice", "kubepods" };

static CpuTopology *two_nodes(void) {
        CpuMask online, nodes, node_cpus[2];
        uint64_t mem[2] = { 8 * GIB, 8 * GIB };
        CpuTopology *t = NULL;

        assert_int_equal(cpu_list_parse_string("0-7", &online), 0);
        assert_int_equal(cpu_list_parse_string("0-1", &nodes), 0);
        assert_int_equal(cpu_list_parse_string("0-3", &node_cpus[0]), 0);
        assert_int_equal(cpu_list_parse_string("4-7", &node_cpus[1]), 0);
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, 2, &t), 0);
        return t;
}

static QrmState *make_state(const CpuTopology *t) {
        CpuMask r;
        QrmState *s = NULL;

        assert_int_equal(cpu_list_parse_string("0", &r), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r }, &s, NULL), 0);
        return s;
}

static const char *unified_get(const HookResources *r, const char *key) {
        for (size_t i = 0; i < r->n_unified; i++)
                if (strcmp(r->unified[i].key, key) == 0)
                        return r->unified[i].value;
        return NULL;
}

static void test_cgroup_parent(void **state) {
        static const struct {
                const char *parent, *path; /* path NULL: refused */
                int tier;
        } cases[] = {
                { "kubepods-besteffort-pod0f3c8a4e_2b1d.slice",
                  "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f3c8a4e_2b1d.slice",
                  KUBE_TIER_BESTEFFORT },
                { "kubepods-burstable-pod12.slice", "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice",
                  KUBE_TIER_BURSTABLE },
                { "kubepods-pod12.slice", "kubepods.slice/kubepods-pod12.slice", KUBE_TIER_GUARANTEED },
                { "kubepods.slice", "kubepods.slice", -1 },
                { "/kubepods/besteffort/pod12", "kubepods/besteffort/pod12", KUBE_TIER_BESTEFFORT },
                { "/kubepods/burstable/pod12", "kubepods/burstable/pod12", KUBE_TIER_BURSTABLE },
                { "/kubepods/pod12", "kubepods/pod12", KUBE_TIER_GUARANTEED },
                { "kubepods/burstable/pod12", "kubepods/burstable/pod12", KUBE_TIER_BURSTABLE },
                { "/kubepods.slice/kubepods-besteffort.slice/x", "kubepods.slice/kubepods-besteffort.slice/x",
                  KUBE_TIER_BESTEFFORT },
                { "", NULL, -1 },
                { "/", NULL, -1 },
                { "/kubepods/../etc", NULL, -1 },
                { "/kubepods/besteffort/..", NULL, -1 },
                { "kubepods/./x", NULL, -1 },
                { "//kubepods//x", NULL, -1 },
                { "/kubepods/x/", NULL, -1 },
                { "/system.slice", NULL, -1 },
                { "system.slice", NULL, -1 },
                { "system-kubepods.slice", NULL, -1 },
                { "kubepods-evil", NULL, -1 },
                { "/kubepods-evil/pod1", NULL, -1 },
                { "-.slice", NULL, -1 },
                { ".slice", NULL, -1 },
                { "kubepods--x.slice", NULL, -1 },
                { "kubepods-.slice", NULL, -1 },
                { "-kubepods.slice", NULL, -1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *path = NULL;
                PluginError err = {};
                int r = runtime_hook_resolve_cgroup_parent(cases[i].parent, roots, ELEMENTSOF(roots), &path, &err);

                if ((r == 0) != (cases[i].path != NULL))
                        print_error("case \"%s\": r=%d (%s)\n", cases[i].parent, r, err.message);
                if (!cases[i].path) {
                        assert_int_equal(r, -EPERM);
                        assert_true(strlen(err.message) > 0);
                        assert_null(path);
                        continue;
                }
                assert_int_equal(r, 0);
                assert_string_equal(path, cases[i].path);
                assert_int_equal(runtime_hook_kube_tier(path), cases[i].tier);
                free(path);
        }

        /* A slice name longer than a file name can be. */
        {
                char name[300];
                char *path = NULL;

                memset(name, 'a', sizeof(name));
                strcpy(name + sizeof(name) - 7, ".slice");
                assert_int_equal(runtime_hook_resolve_cgroup_parent(name, roots, ELEMENTSOF(roots), &path, NULL), -EPERM);
        }
        assert_int_equal(runtime_hook_kube_tier(NULL), -1);
        assert_int_equal(runtime_hook_kube_tier("system.slice/x"), -1);
        assert_string_equal(runtime_hook_kind_to_string(RUNTIME_HOOK_PRE_CREATE_CONTAINER), "PreCreateContainerHook");
        assert_null(runtime_hook_kind_to_string(_RUNTIME_HOOK_KIND_MAX));
}

/* A reclaimed_cores container's answer for given budgets and request. */
static void test_reclaimed_answers(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t);
        static const struct {
                const char *name;
                bool v2, update, no_state, no_resources;
                int64_t cpu_budget, mem_budget;
                int64_t period, quota, memory;
                /* expected */
                int64_t want_period, want_quota, want_shares, want_memory;
                const char *want_cpus, *want_mems, *want_high;
        } cases[] = {
                { "v2, budgets", true, false, false, false, 2000, GIB, 100000, 0, 0,
                  100000, 200000, 2, GIB, "6-7", "1", "966367641" },
                { "v2 update: no shares while idle", true, true, false, false, 2000, GIB, 100000, 0, 0,
                  100000, 200000, 0, GIB, "6-7", "1", "966367641" },
                { "v1: shares, no unified", false, true, false, false, 2000, GIB, 100000, 0, 0,
                  100000, 200000, 2, GIB, "6-7", "1", NULL },
                { "own quota lower", true, false, false, false, 2000, GIB, 100000, 50000, 0,
                  100000, 50000, 2, GIB, "6-7", "1", "966367641" },
                { "own quota higher", true, false, false, false, 500, GIB, 100000, 150000, 0,
                  100000, 50000, 2, GIB, "6-7", "1", "966367641" },
                { "unlimited budgets", true, false, false, false, -1, -1, 100000, 0, 0,
                  100000, -1, 2, 0, "6-7", "1", "max" },
                { "unlimited budget, own quota", true, false, false, false, -1, -1, 100000, 30000, 4 * GIB,
                  100000, 30000, 2, 4 * GIB, "6-7", "1", "3865470566" },
                { "zero CPU budget: the kernel's minimum quota", true, false, false, false, 0, GIB, 100000, 0, 0,
                  100000, 1000, 2, GIB, "6-7", "1", "966367641" },
                { "budget above the request's limit", true, false, false, false, 1000, 8 * GIB, 100000, 0, 4 * GIB,
                  100000, 100000, 2, 4 * GIB, "6-7", "1", "3865470566" },
                { "tiny memory budget", true, false, false, false, 1000, 1, 100000, 0, 4 * GIB,
                  100000, 100000, 2, HOOK_MEMORY_LIMIT_MIN_BYTES, "6-7", "1", "5662310" },
                { "no period: the default", true, false, false, false, 1500, GIB, 0, 0, 0,
                  100000, 150000, 2, GIB, "6-7", "1", "966367641" },
                { "another period", true, false, false, false, 1500, GIB, 50000, 0, 0,
                  50000, 75000, 2, GIB, "6-7", "1", "966367641" },
                { "huge CPU budget: no limit", true, false, false, false, INT64_MAX, GIB, 1000000, 0, 0,
                  1000000, -1, 2, GIB, "6-7", "1", "966367641" },
                { "no QRM state: the cpuset as asked", true, false, true, false, 1000, GIB, 100000, 0, 0,
                  100000, 100000, 2, GIB, "0-3", "0", "966367641" },
                { "no resources in the request", true, false, false, true, 1000, GIB, 0, 0, 0,
                  100000, 100000, 2, GIB, "6-7", "1", "966367641" },
        };

        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 2, NULL), 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                HookKeyValue unified[] = { { "memory.min", "0" }, { "cpu.idle", "0" } };
                HookHugepageLimit huge[] = { { "2MB", 0 } };
                HookResources in = {
                        .cpu_period = cases[i].period,
                        .cpu_quota = cases[i].quota,
                        .cpu_shares = 1024,
                        .memory_limit_in_bytes = cases[i].memory,
                        .oom_score_adj = 1000,
                        .cpuset_cpus = (char *) "0-3",
                        .cpuset_mems = (char *) "0",
                        .hugepage_limits = huge,
                        .n_hugepage_limits = 1,
                        .unified = unified,
                        .n_unified = ELEMENTSOF(unified),
                };
                QrmKeyValue labels[] = { { QRM_LABEL_KOORDINATOR_QOS_CLASS, "BE" } };
                ContainerHookRequest req = {
                        .pod_uid = "be",
                        .container_name = "c",
                        .container_resources = cases[i].no_resources ? NULL : &in,
                        .pod_labels = labels,
                        .n_pod_labels = 1,
                        .pod_cgroup_parent = "kubepods-besteffort-podbe.slice",
                };
                RuntimeHookContext ctx = {
                        .state = cases[i].no_state ? NULL : s,
                        .managed_roots = roots,
                        .n_managed_roots = ELEMENTSOF(roots),
                        .cgroup_v2 = cases[i].v2,
                        .reclaimed_cpu_millicores = cases[i].cpu_budget,
                        .reclaimed_memory_bytes = cases[i].mem_budget,
                };
                ContainerHookResponse out = {};
                PluginError err = {};
                const HookResources *r = &out.container_resources;
                int k;

                k = runtime_hook_container(&ctx,
                                           cases[i].update ? RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES
                                                           : RUNTIME_HOOK_PRE_CREATE_CONTAINER,
                                           &req, &out, &err);
                if (k < 0)
                        print_error("case \"%s\": %d %s\n", cases[i].name, k, err.message);
                assert_int_equal(k, 0);
                assert_true(out.has_resources);
                assert_string_equal(out.pod_cgroup_parent, "kubepods-besteffort-podbe.slice");
                if (r->cpu_quota != cases[i].want_quota || r->memory_limit_in_bytes != cases[i].want_memory)
                        print_error("case \"%s\": quota %" PRId64 ", memory %" PRId64 "\n", cases[i].name,
                                    r->cpu_quota, r->memory_limit_in_bytes);
                assert_int_equal(r->cpu_period, cases[i].want_period);
                assert_int_equal(r->cpu_quota, cases[i].want_quota);
                assert_int_equal(r->cpu_shares, cases[i].want_shares);
                assert_int_equal(r->memory_limit_in_bytes, cases[i].want_memory);
                if (cases[i].no_resources && cases[i].no_state)
                        assert_null(r->cpuset_cpus);
                else {
                        assert_string_equal(r->cpuset_cpus, cases[i].want_cpus);
                        assert_string_equal(r->cpuset_mems, cases[i].want_mems);
                }
                if (!cases[i].no_resources) {
                        /* What the hook does not decide passes through. */
                        assert_int_equal(r->oom_score_adj, 1000);
                        assert_int_equal(r->n_hugepage_limits, 1);
                        assert_string_equal(r->hugepage_limits[0].page_size, "2MB");
                        assert_string_equal(unified_get(r, "memory.min"), "0");
                }
                if (cases[i].want_high) {
                        assert_string_equal(unified_get(r, "cpu.idle"), "1");
                        assert_string_equal(unified_get(r, "memory.high"), cases[i].want_high);
                } else {
                        assert_null(unified_get(r, "memory.high"));
                        assert_string_equal(unified_get(r, "cpu.idle"), "0"); /* v1: as asked */
                }
                container_hook_response_done(&out);
        }
}

static void test_other_classes(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t);
        QrmQuantity q = { "cpu", 2 };
        QrmKeyValue dedicated = { QRM_ANNOTATION_KATALYST_QOS_LEVEL, "dedicated_cores" };
        QrmResourceRequest qreq = {
                .pod_uid = "d",
                .container_name = "main",
                .container_type = QRM_CONTAINER_MAIN,
                .resource_name = "cpu",
                .resource_requests = &q,
                .n_resource_requests = 1,
                .annotations = &dedicated,
                .n_annotations = 1,
        };
        QrmAllocationInfo info = {};
        HookKeyValue unified[] = { { "memory.high", "max" } };
        HookResources in = {
                .cpu_period = 100000,
                .cpu_quota = 200000,
                .cpu_shares = 2048,
                .memory_limit_in_bytes = GIB,
                .cpuset_cpus = (char *) "0-7",
                .unified = unified,
                .n_unified = 1,
        };
        static const struct {
                const char *uid, *container, *katalyst;
                const char *parent;
                const char *want_cpus, *want_mems;
        } cases[] = {
                { "d", "main", "dedicated_cores", "kubepods-podd.slice", "1-2", "0" },
                { "d", "other", "dedicated_cores", "kubepods-podd.slice", "0-7", NULL }, /* not allocated */
                { "x", "main", "dedicated_cores", "kubepods-podx.slice", "0-7", NULL },
                { "x", "main", "shared_cores", "kubepods-burstable-podx.slice", "0-7", NULL },
                { "x", "main", NULL, "kubepods-burstable-podx.slice", "0-7", NULL },
                { "x", "main", "system_cores", "/kubepods/podx", "0-7", NULL },
                { "x", "main", NULL, "", "0-7", NULL }, /* no parent: labels alone */
        };

        assert_int_equal(qrm_state_allocate(s, &qreq, &info, NULL), 0);
        assert_string_equal(info.allocation_result, "1-2");
        qrm_allocation_info_done(&info);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                QrmKeyValue annotations[] = { { QRM_ANNOTATION_KATALYST_QOS_LEVEL, cases[i].katalyst } };
                ContainerHookRequest req = {
                        .pod_uid = cases[i].uid,
                        .container_name = cases[i].container,
                        .container_resources = &in,
                        .pod_annotations = annotations,
                        .n_pod_annotations = 1,
                        .pod_cgroup_parent = cases[i].parent,
                };
                RuntimeHookContext ctx = {
                        .state = s,
                        .managed_roots = roots,
                        .n_managed_roots = ELEMENTSOF(roots),
                        .cgroup_v2 = true,
                        .reclaimed_cpu_millicores = 100,
                        .reclaimed_memory_bytes = 1,
                };
                ContainerHookResponse out = {};
                const HookResources *r = &out.container_resources;

                assert_int_equal(runtime_hook_container(&ctx, RUNTIME_HOOK_PRE_START_CONTAINER, &req, &out, NULL), 0);
                assert_true(out.has_resources);
                assert_int_equal(r->cpu_quota, 200000);
                assert_int_equal(r->cpu_shares, 2048);
                assert_int_equal(r->memory_limit_in_bytes, GIB);
                assert_string_equal(r->cpuset_cpus, cases[i].want_cpus);
                if (cases[i].want_mems)
                        assert_string_equal(r->cpuset_mems, cases[i].want_mems);
                else
                        assert_null(r->cpuset_mems);
                assert_int_equal(r->n_unified, 1);
                assert_null(unified_get(r, "cpu.idle"));
                container_hook_response_done(&out);
        }
}

static void test_refusals(void **state) {
        static const struct {
                const char *name;
                RuntimeHookKind kind;
                const char *uid, *parent;
                int64_t shares, period;
                const char *cpus, *unified_key;
                int r;
        } cases[] = {
                { "parent outside", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/system.slice/sshd.service", 0, 0, NULL,
                  NULL, -EPERM },
                { "parent escaping", RUNTIME_HOOK_PRE_UPDATE_CONTAINER_RESOURCES, "u", "/kubepods/../../etc", 0, 0, NULL,
                  NULL, -EPERM },
                { "no uid", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "", "/kubepods/pod1", 0, 0, NULL, NULL, -EINVAL },
                { "no uid at stop", RUNTIME_HOOK_POST_STOP_CONTAINER, NULL, "/kubepods/pod1", 0, 0, NULL, NULL,
                  -EINVAL },
                { "pod hook as container hook", RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, "u", "/kubepods/pod1", 0, 0, NULL,
                  NULL, -EINVAL },
                { "unknown hook", _RUNTIME_HOOK_KIND_MAX, "u", "/kubepods/pod1", 0, 0, NULL, NULL, -EINVAL },
                { "negative shares", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", -1, 0, NULL, NULL,
                  -EINVAL },
                { "period too short", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 999, NULL, NULL,
                  -EINVAL },
                { "period too long", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 1000001, NULL, NULL,
                  -EINVAL },
                { "bad cpuset", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 0, "0-3,", NULL, -EINVAL },
                { "unified key with a path", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 0, NULL,
                  "../../cpu.max", -EINVAL },
                { "unified key ..", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 0, NULL, "..", -EINVAL },
                { "unified key empty", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 0, 0, NULL, "",
                  -EINVAL },
                { "fine", RUNTIME_HOOK_PRE_CREATE_CONTAINER, "u", "/kubepods/pod1", 2, 100000, "0-3", "cpu.weight", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                HookKeyValue unified = { (char *) cases[i].unified_key, (char *) "1" };
                HookResources in = {
                        .cpu_shares = cases[i].shares,
                        .cpu_period = cases[i].period,
                        .cpuset_cpus = (char *) cases[i].cpus,
                        .unified = &unified,
                        .n_unified = cases[i].unified_key ? 1 : 0,
                };
                ContainerHookRequest req = {
                        .pod_uid = cases[i].uid,
                        .container_name = "c",
                        .container_resources = &in,
                        .pod_cgroup_parent = cases[i].parent,
                };
                RuntimeHookContext ctx = { .managed_roots = roots, .n_managed_roots = ELEMENTSOF(roots) };
                ContainerHookResponse out = {};
                PluginError err = {};
                int r = runtime_hook_container(&ctx, cases[i].kind, &req, &out, &err);

                if (r != cases[i].r)
                        print_error("case \"%s\": r=%d (%s)\n", cases[i].name, r, err.message);
                assert_int_equal(r, cases[i].r);
                if (r < 0) {
                        assert_int_equal(err.error, r);
                        assert_true(strlen(err.message) > 0);
                        assert_null(out.pod_cgroup_parent);
                }
                container_hook_response_done(&out);
        }
        assert_int_equal(runtime_hook_container(NULL, RUNTIME_HOOK_PRE_CREATE_CONTAINER, NULL, NULL, NULL), -EINVAL);
}

static void test_pod_sandbox(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t);
        HookResources in = { .cpu_shares = 2, .cpuset_cpus = (char *) "0-7" };
        PodSandboxHookRequest req = {
                .pod_uid = "be",
                .pod_name = "job",
                .pod_namespace = "batch",
                .cgroup_parent = "kubepods-besteffort-podbe.slice",
                .resources = &in,
        };
        RuntimeHookContext ctx = {
                .state = s,
                .managed_roots = roots,
                .n_managed_roots = ELEMENTSOF(roots),
                .cgroup_v2 = true,
                .reclaimed_cpu_millicores = 3000,
                .reclaimed_memory_bytes = -1,
        };
        PodSandboxHookResponse out = {};
        PluginError err = {};

        /* A BestEffort pod without labels is reclaimed_cores (its cgroup). */
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, &req, &out, &err), 0);
        assert_string_equal(out.cgroup_parent, "kubepods-besteffort-podbe.slice");
        assert_true(out.has_resources);
        assert_int_equal(out.resources.cpu_quota, 300000);
        assert_string_equal(out.resources.cpuset_cpus, "1-7");
        assert_string_equal(unified_get(&out.resources, "cpu.idle"), "1");
        pod_sandbox_hook_response_done(&out);

        /* A Katalyst annotation wins over the cgroup's tier. */
        {
                QrmKeyValue a = { QRM_ANNOTATION_KATALYST_QOS_LEVEL, "shared_cores" };

                req.annotations = &a;
                req.n_annotations = 1;
                assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, &req, &out, &err), 0);
                assert_int_equal(out.resources.cpu_quota, 0);
                assert_string_equal(out.resources.cpuset_cpus, "0-7");
                pod_sandbox_hook_response_done(&out);
                req.resources = NULL;
                assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, &req, &out, &err), 0);
                assert_false(out.has_resources);
                pod_sandbox_hook_response_done(&out);
        }

        req.cgroup_parent = "/system.slice";
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, &req, &out, &err), -EPERM);
        assert_non_null(strstr(err.message, "/system.slice"));
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_CREATE_CONTAINER, &req, &out, &err), -EINVAL);
        req.pod_uid = NULL;
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_PRE_RUN_POD_SANDBOX, &req, &out, &err), -EINVAL);
}

static void test_post_stop_releases(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t);
        QrmQuantity q = { "cpu", 2 };
        QrmKeyValue dedicated = { QRM_ANNOTATION_KATALYST_QOS_LEVEL, "dedicated_cores" };
        QrmResourceRequest qreq = {
                .pod_uid = "d",
                .container_type = QRM_CONTAINER_MAIN,
                .resource_name = "cpu",
                .resource_requests = &q,
                .n_resource_requests = 1,
                .annotations = &dedicated,
                .n_annotations = 1,
        };
        RuntimeHookContext ctx = { .state = s, .managed_roots = roots, .n_managed_roots = ELEMENTSOF(roots) };
        ContainerHookRequest creq = { .pod_uid = "d", .container_name = "a" };
        PodSandboxHookRequest preq = { .pod_uid = "d" };
        ContainerHookResponse cout = {};
        PodSandboxHookResponse pout = {};
        QrmAllocationInfo info = {};
        CpuMask m;

        qreq.container_name = "a";
        assert_int_equal(qrm_state_allocate(s, &qreq, &info, NULL), 0);
        qrm_allocation_info_done(&info);
        qreq.container_name = "b";
        assert_int_equal(qrm_state_allocate(s, &qreq, &info, NULL), 0);
        qrm_allocation_info_done(&info);

        /* PostStart answers nothing and changes nothing. */
        assert_int_equal(runtime_hook_container(&ctx, RUNTIME_HOOK_POST_START_CONTAINER, &creq, &cout, NULL), 0);
        assert_false(cout.has_resources);
        assert_null(cout.pod_cgroup_parent);
        assert_int_equal(qrm_state_n_containers(s), 2);

        /* PostStop releases the container; no cgroup parent is needed. */
        assert_int_equal(runtime_hook_container(&ctx, RUNTIME_HOOK_POST_STOP_CONTAINER, &creq, &cout, NULL), 0);
        assert_false(cout.has_resources);
        assert_int_equal(qrm_state_n_containers(s), 1);
        qrm_state_get_pool(s, QRM_POOL_DEDICATED, &m);
        assert_int_equal(cpu_mask_count(&m), 2);
        /* Twice, or never known: fine. */
        assert_int_equal(runtime_hook_container(&ctx, RUNTIME_HOOK_POST_STOP_CONTAINER, &creq, &cout, NULL), 0);
        creq.container_name = NULL;
        assert_int_equal(runtime_hook_container(&ctx, RUNTIME_HOOK_POST_STOP_CONTAINER, &creq, &cout, NULL), -EINVAL);

        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_POST_STOP_POD_SANDBOX, &preq, &pout, NULL), 0);
        assert_false(pout.has_resources);
        assert_int_equal(qrm_state_n_pods(s), 0);
        qrm_state_get_pool(s, QRM_POOL_DEDICATED, &m);
        assert_true(cpu_mask_is_empty(&m));
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_POST_STOP_POD_SANDBOX, &preq, &pout, NULL), 0);

        /* Without QRM state there is nothing to release. */
        ctx.state = NULL;
        assert_int_equal(runtime_hook_pod_sandbox(&ctx, RUNTIME_HOOK_POST_STOP_POD_SANDBOX, &preq, &pout, NULL), 0);
        pod_sandbox_hook_response_done(&pout);
        container_hook_response_done(&cout);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgroup_parent),
                cmocka_unit_test(test_reclaimed_answers),
                cmocka_unit_test(test_other_classes),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_pod_sandbox),
                cmocka_unit_test(test_post_stop_releases),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
