/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM state's classes and pools: QoS class resolution, the state's
 * creation, pools by class, the reclaimed pool and its resizes showing in
 * later answers, refusals that change nothing, limits. */

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

static void test_class_resolution(void **state) {
        static const struct {
                const char *katalyst, *koordinator, *nodeqos;
                int tier;
                QosClass want;
        } cases[] = {
                { NULL, NULL, NULL, -1, QOS_CLASS_SHARED_CORES }, /* Katalyst's default */
                { "dedicated_cores", NULL, NULL, -1, QOS_CLASS_DEDICATED_CORES },
                { "reclaimed_cores", "LS", "system_cores", -1, QOS_CLASS_RECLAIMED_CORES },
                { "no_such_level", "BE", NULL, -1, QOS_CLASS_RECLAIMED_CORES },
                { NULL, "LSE", NULL, -1, QOS_CLASS_DEDICATED_CORES },
                { NULL, "LSR", NULL, -1, QOS_CLASS_DEDICATED_CORES },
                { NULL, "SYSTEM", NULL, -1, QOS_CLASS_SYSTEM_CORES },
                { NULL, "bogus", "system_cores", -1, QOS_CLASS_SYSTEM_CORES },
                { NULL, NULL, NULL, 2 /* BestEffort */, QOS_CLASS_RECLAIMED_CORES },
                { NULL, NULL, NULL, 0 /* Guaranteed */, QOS_CLASS_SHARED_CORES },
                { "shared_cores", NULL, NULL, 2, QOS_CLASS_SHARED_CORES },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                QrmKeyValue labels[] = {
                        { "app", "x" },
                        { QRM_LABEL_KOORDINATOR_QOS_CLASS, cases[i].koordinator },
                };
                QrmKeyValue annotations[] = {
                        { NULL, "ignored" },
                        { QRM_ANNOTATION_KATALYST_QOS_LEVEL, cases[i].katalyst },
                        { QRM_ANNOTATION_NODEQOS_QOS_CLASS, cases[i].nodeqos },
                };

                assert_int_equal(qrm_resolve_qos_class(labels, ELEMENTSOF(labels), annotations, ELEMENTSOF(annotations),
                                                       cases[i].tier),
                                 cases[i].want);
        }
        assert_int_equal(qrm_resolve_qos_class(NULL, 0, NULL, 0, -1), QOS_CLASS_SHARED_CORES);

        assert_int_equal(qrm_resource_from_name("cpu"), RESOURCE_CPU);
        assert_int_equal(qrm_resource_from_name(QRM_RESOURCE_RECLAIMED_MILLICPU), RESOURCE_CPU);
        assert_int_equal(qrm_resource_from_name("memory"), RESOURCE_MEMORY);
        assert_int_equal(qrm_resource_from_name(QRM_RESOURCE_RECLAIMED_MEMORY), RESOURCE_MEMORY);
        assert_int_equal(qrm_resource_from_name("nvidia.com/gpu"), _RESOURCE_INVALID);
        assert_int_equal(qrm_resource_from_name(NULL), _RESOURCE_INVALID);

        assert_string_equal(qrm_container_type_to_string(QRM_CONTAINER_SIDECAR), "SIDECAR");
        assert_int_equal(qrm_container_type_from_string("EPHEMERAL"), QRM_CONTAINER_EPHEMERAL);
        assert_int_equal(qrm_container_type_from_string("main"), _QRM_CONTAINER_TYPE_INVALID);
        assert_null(qrm_container_type_to_string(_QRM_CONTAINER_TYPE_MAX));
}

static void test_new(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        QrmState *s = NULL;
        PluginError err = {};
        CpuMask r;
        QrmPluginOptions o;

        assert_int_equal(qrm_state_new(NULL, &s, &err), -EINVAL);
        assert_int_equal(qrm_state_new(&(QrmStateParams) {}, &s, &err), -EINVAL);

        assert_int_equal(cpu_list_parse_string("6-9", &r), 0); /* 8, 9 offline */
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r }, &s, &err), -EINVAL);
        assert_non_null(strstr(err.message, "online"));

        assert_int_equal(cpu_list_parse_string("0-6", &r), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r, .shared_cpus_min = 2 },
                                       &s, &err),
                         -EINVAL);
        assert_null(s);

        s = make_state(t, NULL);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "0-7");
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "0-7");
        assert_string_equal(pool(s, QRM_POOL_RESERVED), "");
        assert_string_equal(pool(s, QRM_POOL_DEDICATED), "");
        assert_int_equal(qrm_state_get_reclaimed_cpus(s), QRM_RECLAIMED_CPUS_ALL);
        assert_ptr_equal(qrm_state_topology(s), t);
        qrm_state_free(s);
        assert_null(qrm_state_free(NULL));

        o = qrm_plugin_options(RESOURCE_CPU);
        assert_false(o.pre_start_required);
        assert_true(o.with_topology_alignment);
        assert_true(o.need_reconcile);
}

static void test_pools_by_class(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        _cleanup_(qrm_state_freep) QrmState *unreserved = make_state(t, NULL);
        static const struct {
                const char *qos, *resource;
                double quantity;
                const char *want, *want_unreserved;
        } cases[] = {
                { NULL, "cpu", 1, "1-7", "0-7" }, /* no annotation: shared_cores */
                { "shared_cores", "cpu", 2.5, "1-7", "0-7" },
                { "reclaimed_cores", "cpu", 0, "1-7", "0-7" },
                { "system_cores", "cpu", 0.1, "0", "0-7" }, /* reserved, else the shared pool */
                { "shared_cores", "memory", 1e9, "0-1", "0-1" },
                { "system_cores", "memory", 0, "0", "0-1" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char container[16];

                snprintf(container, sizeof(container), "c%zu", i);
                assert_int_equal(allocate_expect(s, "pod-a", container, QRM_CONTAINER_MAIN, cases[i].resource,
                                                 cases[i].qos, cases[i].quantity, NULL, cases[i].want),
                                 0);
                assert_int_equal(allocate_expect(unreserved, "pod-a", container, QRM_CONTAINER_MAIN, cases[i].resource,
                                                 cases[i].qos, cases[i].quantity, NULL, cases[i].want_unreserved),
                                 0);
        }
        assert_int_equal(qrm_state_n_pods(s), 1);
        assert_int_equal(qrm_state_n_containers(s), ELEMENTSOF(cases));
}

static void test_reclaimed_millicpu(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        TestRequest tr;
        QrmQuantity q[] = {
                { "ephemeral-storage", 1e9 },
                { QRM_RESOURCE_RECLAIMED_MILLICPU, 2000 },
        };
        QrmTopologyAwareResource tar = {};
        QrmAllocationInfo info = {};
        PluginError err = {};
        QrmResourceRequest *req;

        req = (QrmResourceRequest *) request(&tr, "be", "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0, NULL);
        req->resource_requests = q;
        req->n_resource_requests = ELEMENTSOF(q);
        assert_int_equal(qrm_state_allocate(s, req, &info, &err), 0);
        assert_string_equal(info.allocation_result, "0-7");
        assert_int_equal(info.qos_class, QOS_CLASS_RECLAIMED_CORES);
        qrm_allocation_info_done(&info);

        /* "cpu" and reclaimed_millicpu at once: which one? */
        q[0] = (QrmQuantity) { "cpu", 1 };
        assert_int_equal(qrm_state_allocate(s, req, &info, &err), -EINVAL);
        assert_non_null(strstr(err.message, "twice"));

        assert_int_equal(qrm_state_get_topology_aware_resources(s, "be", "c", RESOURCE_CPU, &tar, &err), 0);
        assert_int_equal(tar.aggregated_quantity, 8);
        qrm_topology_aware_resource_done(&tar);
}

static void test_invalid_requests(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        char long_uid[QRM_UID_MAX + 2];
        static const struct {
                const char *name;
                const char *uid, *container, *resource, *qos;
                int type;
                double quantity;
                const char *hint;
        } cases[] = {
                { "no uid", NULL, "c", "cpu", NULL, 1, 1, NULL },
                { "empty uid", "", "c", "cpu", NULL, 1, 1, NULL },
                { "uid with a space", "a b", "c", "cpu", NULL, 1, 1, NULL },
                { "uid with a slash", "../x", "c", "cpu", NULL, 1, 1, NULL },
                { "uid starting with '-'", "-x", "c", "cpu", NULL, 1, 1, NULL },
                { "no container", "u", NULL, "cpu", NULL, 1, 1, NULL },
                { "empty container", "u", "", "cpu", NULL, 1, 1, NULL },
                { "container with newline", "u", "c\n", "cpu", NULL, 1, 1, NULL },
                { "unknown resource", "u", "c", "gpu", NULL, 1, 1, NULL },
                { "no resource", "u", "c", NULL, NULL, 1, 1, NULL },
                { "negative", "u", "c", "cpu", NULL, 1, -1, NULL },
                { "NaN", "u", "c", "cpu", NULL, 1, NAN, NULL },
                { "infinite", "u", "c", "memory", NULL, 1, INFINITY, NULL },
                { "more CPUs than the node", "u", "c", "cpu", NULL, 1, 8.5, NULL },
                { "more memory than the node", "u", "c", "memory", NULL, 1, 17.0 * GIB, NULL },
                { "dedicated without request", "u", "c", "cpu", "dedicated_cores", 1, 0, NULL },
                { "container type", "u", "c", "cpu", NULL, 7, 1, NULL },
                { "negative container type", "u", "c", "cpu", NULL, -1, 1, NULL },
                { "hint node missing", "u", "c", "cpu", "dedicated_cores", 1, 1, "2" },
        };
        uint64_t generation = qrm_state_generation(s);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                TestRequest tr;
                QrmAllocationInfo info = {};
                QrmHints hints = {};
                PluginError err = {};
                QrmResourceRequest *req;
                int r;

                req = (QrmResourceRequest *) request(&tr, cases[i].uid, cases[i].container,
                                                     (QrmContainerType) cases[i].type, cases[i].resource ?: "cpu",
                                                     cases[i].qos, cases[i].quantity, cases[i].hint);
                req->resource_name = cases[i].resource;
                r = qrm_state_allocate(s, req, &info, &err);
                if (r != -EINVAL)
                        print_error("case \"%s\": r=%d\n", cases[i].name, r);
                assert_int_equal(r, -EINVAL);
                assert_int_equal(err.error, -EINVAL);
                assert_true(strlen(err.message) > 0);
                assert_null(info.allocation_result);

                r = qrm_state_get_topology_hints(s, req, &hints, &err);
                if (r != -EINVAL)
                        print_error("hints case \"%s\": r=%d\n", cases[i].name, r);
                assert_int_equal(r, -EINVAL);
        }
        assert_int_equal(qrm_state_generation(s), generation);
        assert_int_equal(qrm_state_n_pods(s), 0);

        memset(long_uid, 'a', sizeof(long_uid) - 1);
        long_uid[sizeof(long_uid) - 1] = 0;
        assert_int_equal(allocate_expect(s, long_uid, "c", QRM_CONTAINER_MAIN, "cpu", NULL, 1, NULL, NULL), -EINVAL);
        long_uid[QRM_UID_MAX] = 0;
        assert_int_equal(allocate_expect(s, long_uid, "c", QRM_CONTAINER_MAIN, "cpu", NULL, 1, NULL, "0-7"), 0);
}

static void test_reclaimed_pool_resize(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        QrmAllocations a = {};
        PluginError err = {};
        uint64_t generation;

        assert_int_equal(allocate_expect(s, "be", "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0, NULL, "1-7"), 0);
        assert_int_equal(allocate_expect(s, "ls", "c", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 2, NULL, "1-7"), 0);

        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 0, &err), -EINVAL);
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, -2, &err), -EINVAL);
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 9, &err), -EINVAL);

        generation = qrm_state_generation(s);
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 2, &err), 0);
        assert_true(qrm_state_generation(s) > generation);
        assert_int_equal(qrm_state_verify(s), 0);
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "6-7");
        assert_string_equal(pool(s, QRM_POOL_SHARED), "1-5");

        /* Later answers follow the pools (need_reconcile). */
        assert_int_equal(qrm_state_get_allocations(s, RESOURCE_CPU, &a), 0);
        assert_int_equal(a.n_pods, 2);
        assert_string_equal(a.pods[0].pod_uid, "be");
        assert_string_equal(a.pods[0].containers[0].info.allocation_result, "6-7");
        assert_int_equal(a.pods[0].containers[0].info.allocated_quantity, 2);
        assert_string_equal(a.pods[1].containers[0].info.allocation_result, "1-5");
        qrm_allocations_done(&a);
        assert_int_equal(allocate_expect(s, "be", "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0, NULL, "6-7"), 0);

        /* The shared pool keeps the sum of its requests: 7 available, floor
         * 2 (requests), so at most 5 are carved. */
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 7, &err), 0);
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "3-7");
        assert_string_equal(pool(s, QRM_POOL_SHARED), "1-2");
        /* More shared requests (4.5: five CPUs): the carved pool gives way. */
        assert_int_equal(allocate_expect(s, "ls2", "c", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 2.5, NULL, "1-5"), 0);
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "6-7");

        /* Dedicated comes before reclaimed: the carved pool gives way. */
        assert_int_equal(allocate_expect(s, "d", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL, "1-2"), 0);
        assert_string_equal(pool(s, QRM_POOL_SHARED), "3-7");
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "3-7"); /* nothing to spare: shared */
        assert_int_equal(qrm_state_verify(s), 0);

        assert_int_equal(qrm_state_set_reclaimed_cpus(s, QRM_RECLAIMED_CPUS_ALL, &err), 0);
        assert_int_equal(qrm_state_get_reclaimed_cpus(s), QRM_RECLAIMED_CPUS_ALL);
        assert_string_equal(pool(s, QRM_POOL_RECLAIMED), "3-7");
        generation = qrm_state_generation(s);
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, QRM_RECLAIMED_CPUS_ALL, &err), 0);
        assert_int_equal(qrm_state_generation(s), generation);
}

static void test_limits(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        TestRequest tr;
        QrmAllocationInfo info = {};
        PluginError err = {};
        char uid[32];

        for (unsigned i = 0; i < QRM_PODS_MAX; i++) {
                snprintf(uid, sizeof(uid), "pod-%05u", i);
                assert_int_equal(qrm_state_allocate(s,
                                                    request(&tr, uid, "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0,
                                                            NULL),
                                                    &info, &err),
                                 0);
                qrm_allocation_info_done(&info);
        }
        assert_int_equal(qrm_state_verify(s), 0);
        assert_int_equal(qrm_state_allocate(s,
                                            request(&tr, "one-more", "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0,
                                                    NULL),
                                            &info, &err),
                         -E2BIG);
        assert_non_null(strstr(err.message, "limit"));
        /* A container more in a known pod: the container limit. */
        assert_int_equal(qrm_state_allocate(s,
                                            request(&tr, "pod-00000", "d", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0,
                                                    NULL),
                                            &info, &err),
                         -E2BIG);
        /* Known containers are still answered. */
        assert_int_equal(qrm_state_allocate(s,
                                            request(&tr, "pod-00000", "c", QRM_CONTAINER_MAIN, "cpu", "reclaimed_cores", 0,
                                                    NULL),
                                            &info, &err),
                         0);
        qrm_allocation_info_done(&info);
        assert_int_equal(qrm_state_n_pods(s), QRM_PODS_MAX);
        qrm_state_reset(s);
        assert_int_equal(qrm_state_n_pods(s), 0);
        assert_int_equal(qrm_state_verify(s), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_class_resolution),
                cmocka_unit_test(test_new),
                cmocka_unit_test(test_pools_by_class),
                cmocka_unit_test(test_reclaimed_millicpu),
                cmocka_unit_test(test_invalid_requests),
                cmocka_unit_test(test_reclaimed_pool_resize),
                cmocka_unit_test(test_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
