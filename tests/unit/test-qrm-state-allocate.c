/* SPDX-License-Identifier: Apache-2.0 */
/* QRM allocations: exclusive NUMA-aligned CPUs, hints followed, idempotence
 * and resizes, removal, containers following their pod's CPUs, memory before
 * CPU, pod-level allocations. */

#include <errno.h>
#include <math.h>
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
#include "qrm-state-fixture.h"

static void test_dedicated_numa(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        uint64_t generation;

        /* Node 0 has 1-3 free, node 1 4-7: best fit is node 0. */
        assert_int_equal(allocate_expect(s, "d1", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "1-2"), 0);
        assert_int_equal(allocate_expect(s, "d1", "main", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 1e9, NULL, "0"),
                         0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "3-7");
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "1-2");

        /* 1.5 CPUs are two exclusive ones; node 1 is the only fit. */
        assert_int_equal(allocate_expect(s, "d2", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1.5, NULL, "4-5"),
                         0);
        assert_int_equal(allocate_expect(s, "d3", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "6-7"),
                         0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "3");

        /* The shared pool keeps its one CPU: refused, nothing changes. */
        generation = qrm_state_generation(s);
        assert_int_equal(allocate_expect(s, "d4", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL, NULL),
                         -ENOSPC);
        assert_int_equal(qrm_state_generation(s), generation);
        assert_int_equal(qrm_state_n_pods(s), 3);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "3");

        /* Freeing d2 makes room again. */
        assert_int_equal(qrm_state_remove_pod(s, "d2", NULL), 0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "3-5");
        assert_true(qrm_state_generation(s) > generation);
        /* Best fit: node 0 has one free CPU left, node 1 two. */
        assert_int_equal(allocate_expect(s, "d4", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL, "3"), 0);
}

static void test_dedicated_spread(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);

        /* 6 fit no node: a whole node, then the rest on the other. */
        assert_int_equal(allocate_expect(s, "big", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 6, NULL, "0-5"),
                         0);
        assert_int_equal(allocate_expect(s, "big", "main", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 0, NULL,
                                         "0-1"),
                         0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "6-7");
}

static void test_dedicated_hint(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);

        assert_int_equal(allocate_expect(s, "h1", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, "1", "4-5"), 0);
        assert_int_equal(allocate_expect(s, "h2", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, "1", NULL),
                         -ENOSPC);
        assert_int_equal(allocate_expect(s, "h2", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, "0-1", "0-2"),
                         0);
        assert_int_equal(allocate_expect(s, "h3", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, "5", NULL),
                         -EINVAL);
        assert_int_equal(qrm_state_n_pods(s), 2);
}

static void test_idempotent_and_resize(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        uint64_t generation;

        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "0-1"), 0);
        assert_int_equal(allocate_expect(s, "q", "main", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 1, NULL, "2-7"), 0);

        /* Again, even with another hint: the same answer, no new generation. */
        generation = qrm_state_generation(s);
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "0-1"), 0);
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, "1", "0-1"), 0);
        assert_int_equal(allocate_expect(s, "q", "main", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 1, NULL, "2-7"), 0);
        assert_int_equal(qrm_state_generation(s), generation);

        /* Grown: keeps what it had, grows next to it. */
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, NULL, "0-2"), 0);
        /* Shrunk: a subset. */
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL, "0"), 0);
        /* Too big: refused, the old allocation stays. */
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 8, NULL, NULL),
                         -ENOSPC);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "0");

        /* Another class or type for the same container: refused. */
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 1, NULL, NULL),
                         -EINVAL);
        assert_int_equal(allocate_expect(s, "p", "main", QRM_CONTAINER_SIDECAR, "cpu", "dedicated_cores", 1, NULL, NULL),
                         -EINVAL);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "0");
}

static void test_remove(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        PluginError err = {};

        assert_int_equal(qrm_state_remove_pod(s, "", &err), -EINVAL);
        assert_int_equal(qrm_state_remove_pod(s, NULL, &err), -EINVAL);
        assert_int_equal(qrm_state_remove_pod(s, "nope", &err), -ENOENT);
        assert_non_null(strstr(err.message, "nope"));
        assert_int_equal(qrm_state_remove_container(s, "nope", "c", &err), -ENOENT);
        assert_int_equal(qrm_state_remove_container(s, "nope", NULL, &err), -EINVAL);

        assert_int_equal(allocate_expect(s, "p", "a", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "0-1"), 0);
        assert_int_equal(allocate_expect(s, "p", "b", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "2-3"), 0);
        assert_int_equal(qrm_state_remove_container(s, "p", "a", &err), 0);
        assert_int_equal(qrm_state_verify(s), 0);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "2-3");
        assert_int_equal(qrm_state_remove_container(s, "p", "a", &err), -ENOENT);
        assert_int_equal(qrm_state_n_pods(s), 1);
        /* The last one takes the pod with it. */
        assert_int_equal(qrm_state_remove_container(s, "p", "b", &err), 0);
        assert_int_equal(qrm_state_n_pods(s), 0);
        assert_int_equal(qrm_state_n_containers(s), 0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "0-7");
        assert_int_equal(qrm_state_remove_pod(s, "p", &err), -ENOENT);
}

static void test_followers(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        QrmAllocations a = {};

        /* Init containers come first: on the shared pool until the pod holds CPUs. */
        assert_int_equal(allocate_expect(s, "d", "init", QRM_CONTAINER_INIT, "cpu", "dedicated_cores", 2, NULL, "0-7"), 0);
        assert_int_equal(allocate_expect(s, "d", "main", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 4, NULL, "0-3"), 0);
        assert_int_equal(allocate_expect(s, "d", "side", QRM_CONTAINER_SIDECAR, "cpu", "dedicated_cores", 1, NULL, "0-3"),
                         0);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "0-3");
        assert_int_equal(qrm_state_get_allocations(s, RESOURCE_CPU, &a), 0);
        assert_int_equal(a.pods[0].n_containers, 3);
        for (size_t i = 0; i < 3; i++)
                assert_string_equal(a.pods[0].containers[i].info.allocation_result, "0-3");
        qrm_allocations_done(&a);
}

static void test_memory_first(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        QrmHints h = {};
        TestRequest tr;

        assert_int_equal(allocate_expect(s, "m", "c", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 1e9, "1", "1"), 0);
        /* The CPUs follow the memory's node, without a hint of their own. */
        assert_int_equal(allocate_expect(s, "m", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "4-5"), 0);
        assert_int_equal(allocate_expect(s, "m", "c", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 1e9, "1", "1"), 0);

        assert_int_equal(qrm_state_get_topology_hints(
                                 s, request(&tr, "m", "c", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 1e9, NULL),
                                 &h, NULL),
                         0);
        assert_false(h.no_preference);
        assert_int_equal(h.n_hints, 1);
        assert_int_equal(h.hints[0].n_nodes, 1);
        assert_int_equal(h.hints[0].nodes[0], 1);
        qrm_hints_done(&h);
}

static void test_pod_level(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        QrmAllocationInfo info = {};
        QrmAllocations a = {};
        TestRequest tr;
        PluginError err = {};

        assert_int_equal(qrm_state_allocate_pod(s, request(&tr, "pl", NULL, 0, "cpu", "dedicated_cores", 3, NULL), &info,
                                                &err),
                         0);
        assert_string_equal(info.allocation_result, "0-2");
        assert_int_equal(info.allocated_quantity, 3);
        qrm_allocation_info_done(&info);

        /* Its containers run on the pod's CPUs; none are taken for them. */
        assert_int_equal(allocate_expect(s, "pl", "a", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "0-2"), 0);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "0-2");

        assert_int_equal(qrm_state_get_allocations(s, RESOURCE_CPU, &a), 0);
        assert_int_equal(a.n_pods, 1);
        assert_int_equal(a.pods[0].n_containers, 2);
        assert_string_equal(a.pods[0].containers[0].container_name, "");
        qrm_allocations_done(&a);

        /* Without the pod-level entry, the container is back on the shared pool. */
        assert_int_equal(qrm_state_remove_container(s, "pl", "", &err), 0);
        assert_int_equal(qrm_state_verify(s), 0);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "");
        assert_int_equal(allocate_expect(s, "pl", "a", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 0, NULL, "0-1"),
                         0);

        /* A pod whose containers hold CPUs: the pod-level answer is theirs. */
        assert_int_equal(allocate_expect(s, "pk", "a", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "0-1"), 0);
        assert_int_equal(qrm_state_allocate_pod(s, request(&tr, "pk", NULL, 0, "cpu", "dedicated_cores", 2, NULL), &info,
                                                &err),
                         0);
        assert_string_equal(info.allocation_result, "0-1");
        qrm_allocation_info_done(&info);
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "0-1");
}

/* Annotations up to Kubernetes's 256 KiB are fine; a byte more is refused
 * before anything changes, however many entries carry them. */
static void test_annotations_bound(void **state) {
        static const struct {
                size_t n_entries, value_len;
                int want;
        } cases[] = {
                { 1, QRM_ANNOTATIONS_MAX_BYTES - 4, 0 },         /* key "k000" + value: exactly the limit */
                { 1, QRM_ANNOTATIONS_MAX_BYTES - 3, -EINVAL },   /* one byte over */
                { 100000, 0, -EINVAL },                          /* 100k keys of 4 bytes: 400 KB */
                { 60000, 0, 0 },                                 /* 240 KB */
        };
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                _cleanup_free_ QrmKeyValue *kv = calloc(cases[c].n_entries, sizeof(QrmKeyValue));
                _cleanup_free_ char *keys = calloc(cases[c].n_entries, 5), *value = calloc(1, cases[c].value_len + 1);
                QrmAllocationInfo info = {};
                QrmAllocations a = {};
                PluginError err = {};
                QrmResourceRequest req;
                TestRequest tr;
                int r;

                assert_non_null(kv);
                assert_non_null(keys);
                assert_non_null(value);
                memset(value, 'v', cases[c].value_len);
                for (size_t i = 0; i < cases[c].n_entries; i++) {
                        /* 4-character keys, distinct: base 62. */
                        static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
                        char *k = keys + 5 * i;

                        k[0] = i < 62 * 62 * 62 ? 'k' : 'K';
                        k[1] = digits[i / (62 * 62) % 62];
                        k[2] = digits[i / 62 % 62];
                        k[3] = digits[i % 62];
                        kv[i] = (QrmKeyValue) { k, cases[c].n_entries == 1 ? value : "" };
                }
                req = *request(&tr, "annotated", "app", QRM_CONTAINER_MAIN, "cpu", NULL, 0.5, NULL);
                req.annotations = kv;
                req.n_annotations = cases[c].n_entries;
                r = qrm_state_allocate(s, &req, &info, &err);
                if (r != cases[c].want)
                        print_error("case %zu: %d %s\n", c, r, err.message);
                assert_int_equal(r, cases[c].want);
                qrm_allocation_info_done(&info);
                assert_int_equal(qrm_state_get_allocations(s, RESOURCE_CPU, &a), 0);
                assert_int_equal(a.n_pods, r == 0 ? 1 : 0); /* a refusal changes nothing */
                qrm_allocations_done(&a);
                if (r == 0)
                        assert_int_equal(qrm_state_remove_pod(s, "annotated", &err), 0);
                else
                        assert_non_null(strstr(err.message, "Kubernetes allows"));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dedicated_numa),
                cmocka_unit_test(test_dedicated_spread),
                cmocka_unit_test(test_dedicated_hint),
                cmocka_unit_test(test_idempotent_and_resize),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_followers),
                cmocka_unit_test(test_memory_first),
                cmocka_unit_test(test_pod_level),
                cmocka_unit_test(test_annotations_bound),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
