/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the QRM state: allocations consistent with the answers, topology
 * hints, topology-aware resources, a container's cpuset. */

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

/* Hints as text: "0*,1*,0-1" (preferred marked), "any", or "". */
static const char *hints_text(const QrmHints *h) {
        static char buf[256];
        size_t n = 0;

        if (h->no_preference)
                return "any";
        buf[0] = 0;
        for (size_t i = 0; i < h->n_hints; i++) {
                CpuMask m = {};
                char list[32];

                for (size_t j = 0; j < h->hints[i].n_nodes; j++)
                        cpu_mask_set(&m, (unsigned) h->hints[i].nodes[j]);
                (void) cpu_list_format(&m, list, sizeof(list));
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%s%s", i ? " " : "", list,
                                       h->hints[i].preferred ? "*" : "");
        }
        return buf;
}

static void test_allocations_consistent(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        static const struct {
                const char *uid, *container, *qos, *resource;
                QrmContainerType type;
                double quantity;
        } cases[] = {
                { "pod-c", "app", "dedicated_cores", "cpu", QRM_CONTAINER_MAIN, 3 },
                { "pod-c", "app", "dedicated_cores", "memory", QRM_CONTAINER_MAIN, 2e9 },
                { "pod-c", "log", "dedicated_cores", "cpu", QRM_CONTAINER_SIDECAR, 0.1 },
                { "pod-a", "app", "shared_cores", "cpu", QRM_CONTAINER_MAIN, 1 },
                { "pod-a", "init", "shared_cores", "cpu", QRM_CONTAINER_INIT, 1 },
                { "pod-b", "app", "reclaimed_cores", "memory", QRM_CONTAINER_MAIN, 1e9 },
                { "pod-d", "app", "system_cores", "cpu", QRM_CONTAINER_MAIN, 0 },
        };
        char *answers[ELEMENTSOF(cases)];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                TestRequest tr;
                QrmAllocationInfo info = {};

                assert_int_equal(qrm_state_allocate(s,
                                                    request(&tr, cases[i].uid, cases[i].container, cases[i].type,
                                                            cases[i].resource, cases[i].qos, cases[i].quantity, NULL),
                                                    &info, NULL),
                                 0);
                answers[i] = TAKE_PTR(info.allocation_result);
                qrm_allocation_info_done(&info);
        }
        assert_string_equal(answers[0], "1-3");
        assert_string_equal(answers[1], "0");
        assert_string_equal(answers[2], "1-3"); /* the sidecar runs on its pod's CPUs */
        assert_string_equal(answers[3], "4-7");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Resource r = qrm_resource_from_name(cases[i].resource);
                QrmAllocations a = {};
                bool found = false;

                assert_int_equal(qrm_state_get_allocations(s, r, &a), 0);
                for (size_t p = 0; p < a.n_pods; p++) {
                        if (strcmp(a.pods[p].pod_uid, cases[i].uid) != 0)
                                continue;
                        for (size_t c = 0; c < a.pods[p].n_containers; c++)
                                if (strcmp(a.pods[p].containers[c].container_name, cases[i].container) == 0) {
                                        assert_string_equal(a.pods[p].containers[c].info.allocation_result,
                                                            answers[i]);
                                        found = true;
                                }
                }
                assert_true(found);
                if (r == RESOURCE_MEMORY) /* only pods with memory allocations */
                        assert_int_equal(a.n_pods, 2);
                else
                        assert_int_equal(a.n_pods, 3);
                qrm_allocations_done(&a);
                free(answers[i]);
        }
        {
                QrmAllocations a = {};

                assert_int_equal(qrm_state_get_allocations(s, RESOURCE_IO, &a), -EINVAL);
        }
}

static void test_hints(void **state) {
        static const char *const four[] = { "0-1", "2-3", "4-5", "6-7" };
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(cpu_topology_freep) CpuTopology *t4 = make_topology(four, 4, 4 * GIB);
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        _cleanup_(qrm_state_freep) QrmState *s4 = make_state(t4, NULL);
        static const struct {
                int four_nodes;
                const char *qos, *resource, *container;
                QrmContainerType type;
                double quantity;
                const char *want;
        } cases[] = {
                { 0, "shared_cores", "cpu", "c", QRM_CONTAINER_MAIN, 2, "any" },
                { 0, "reclaimed_cores", "memory", "c", QRM_CONTAINER_MAIN, 1e9, "any" },
                { 0, "dedicated_cores", "cpu", "c", QRM_CONTAINER_SIDECAR, 2, "any" }, /* follows its pod */
                { 0, "dedicated_cores", "cpu", "c", QRM_CONTAINER_MAIN, 2, "0* 1* 0-1" },
                { 0, "dedicated_cores", "cpu", "c", QRM_CONTAINER_MAIN, 6, "0-1*" },
                { 0, "dedicated_cores", "cpu", "c", QRM_CONTAINER_MAIN, 8, "" }, /* the shared pool keeps one */
                { 0, "dedicated_cores", "memory", "c", QRM_CONTAINER_MAIN, 4.0 * GIB, "0* 1* 0-1" },
                { 0, "dedicated_cores", "memory", "c", QRM_CONTAINER_MAIN, 12.0 * GIB, "0-1*" },
                { 0, "dedicated_cores", "memory", "c", QRM_CONTAINER_MAIN, 0, "any" },
                { 1, "dedicated_cores", "cpu", "c", QRM_CONTAINER_MAIN, 3, "0-1* 0,2* 1-2* 0-2 0,3* 1,3* 0-1,3 2-3* 0,2-3 1-3 0-3" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                QrmHints h = {};
                TestRequest tr;
                PluginError err = {};

                assert_int_equal(qrm_state_get_topology_hints(cases[i].four_nodes ? s4 : s,
                                                              request(&tr, "p", cases[i].container, cases[i].type,
                                                                      cases[i].resource, cases[i].qos,
                                                                      cases[i].quantity, NULL),
                                                              &h, &err),
                                 0);
                if (strcmp(hints_text(&h), cases[i].want) != 0)
                        print_error("case %zu: got \"%s\", want \"%s\"\n", i, hints_text(&h), cases[i].want);
                assert_string_equal(hints_text(&h), cases[i].want);
                qrm_hints_done(&h);
        }

        /* Fragmented: 2 CPUs free on each node, a request of 3 fits none alone
         * and both only together, which is not preferred (capacity says one
         * node would do). */
        assert_int_equal(allocate_expect(s, "x", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, "0", "0-1"), 0);
        assert_int_equal(allocate_expect(s, "y", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, "1", "4-5"), 0);
        {
                QrmHints h = {};
                TestRequest tr;

                assert_int_equal(qrm_state_get_topology_hints(
                                         s, request(&tr, "z", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, NULL),
                                         &h, NULL),
                                 0);
                assert_string_equal(hints_text(&h), "0-1");
                qrm_hints_done(&h);

                /* An allocated container: where it is. */
                assert_int_equal(qrm_state_get_topology_hints(
                                         s, request(&tr, "y", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 2, NULL),
                                         &h, NULL),
                                 0);
                assert_string_equal(hints_text(&h), "1*");
                qrm_hints_done(&h);

                /* Pod-level, the same rules. */
                assert_int_equal(qrm_state_get_pod_topology_hints(
                                         s, request(&tr, "z", NULL, QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL),
                                         &h, NULL),
                                 0);
                assert_string_equal(hints_text(&h), "0* 1* 0-1");
                qrm_hints_done(&h);
        }
}

static void test_many_nodes_hints(void **state) {
        /* Above eight nodes, single nodes only (or all of them). */
        static const char *const lists[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };
        _cleanup_(cpu_topology_freep) CpuTopology *t = make_topology(lists, 10, GIB);
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        QrmHints h = {};
        TestRequest tr;

        assert_int_equal(qrm_state_get_topology_hints(
                                 s, request(&tr, "p", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL), &h, NULL),
                         0);
        assert_string_equal(hints_text(&h), "0* 1* 2* 3* 4* 5* 6* 7* 8* 9*");
        qrm_hints_done(&h);
        assert_int_equal(qrm_state_get_topology_hints(
                                 s, request(&tr, "p", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, NULL), &h, NULL),
                         0);
        assert_string_equal(hints_text(&h), "0-9");
        qrm_hints_done(&h);
        assert_int_equal(allocate_expect(s, "p", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 3, NULL, "0-2"), 0);
}

static void test_topology_aware(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        CpuMask reserved;
        QrmState *s = NULL;
        QrmTopologyAwareResource r = {};
        QrmAllocatableResource a = {};
        PluginError err = {};

        assert_int_equal(cpu_list_parse_string("0", &reserved), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t,
                                                           .reserved_cpus = &reserved,
                                                           .reserved_memory_bytes = 2 * GIB },
                                       &s, &err),
                         0);

        /* Six fit no node: all of node 1 (the most free), two of node 0. */
        assert_int_equal(allocate_expect(s, "p", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 6, NULL, "1-2,4-7"),
                         0);
        assert_int_equal(allocate_expect(s, "p", "c", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 3e9, NULL, "0-1"),
                         0);

        assert_int_equal(qrm_state_get_topology_aware_resources(s, "p", "c", RESOURCE_CPU, &r, &err), 0);
        assert_int_equal(r.aggregated_quantity, 6);
        assert_int_equal(r.n_nodes, 2);
        assert_int_equal(r.nodes[0].node, 0);
        assert_int_equal(r.nodes[0].value, 2);
        assert_int_equal(r.nodes[1].value, 4);
        qrm_topology_aware_resource_done(&r);

        assert_int_equal(qrm_state_get_topology_aware_resources(s, "p", "c", RESOURCE_MEMORY, &r, &err), 0);
        assert_true(r.aggregated_quantity == 3e9);
        assert_true(r.nodes[0].value == 1.5e9);
        qrm_topology_aware_resource_done(&r);

        assert_int_equal(qrm_state_get_topology_aware_resources(s, "p", "x", RESOURCE_CPU, &r, &err), -ENOENT);
        assert_int_equal(qrm_state_get_topology_aware_resources(s, "", "c", RESOURCE_CPU, &r, &err), -EINVAL);
        assert_int_equal(qrm_state_get_topology_aware_resources(s, "p", "c", RESOURCE_IO, &r, &err), -EINVAL);

        assert_int_equal(qrm_state_get_allocatable(s, RESOURCE_CPU, &a), 0);
        assert_int_equal(a.n_nodes, 2);
        assert_int_equal(a.aggregated_capacity, 8);
        assert_int_equal(a.aggregated_allocatable, 7);
        assert_int_equal(a.allocatable[0].value, 3);
        assert_int_equal(a.capacity[1].node, 1);
        assert_int_equal(a.capacity[1].value, 4);
        qrm_allocatable_resource_done(&a);

        assert_int_equal(qrm_state_get_allocatable(s, RESOURCE_MEMORY, &a), 0);
        assert_true(a.aggregated_capacity == 16.0 * GIB);
        assert_true(a.aggregated_allocatable == 14.0 * GIB);
        assert_true(a.allocatable[0].value == 7.0 * GIB);
        qrm_allocatable_resource_done(&a);
        assert_int_equal(qrm_state_get_allocatable(s, RESOURCE_IO, &a), -EINVAL);

        qrm_state_free(s);
}

static void test_container_cpuset(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        CpuMask cpus, mems;
        QosClass c;
        char buf[32];

        assert_int_equal(allocate_expect(s, "p", "c", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 5, NULL, "0-4"), 0);
        assert_int_equal(qrm_state_get_container_cpuset(s, "p", "c", &c, &cpus, &mems), 0);
        assert_int_equal(c, QOS_CLASS_DEDICATED_CORES);
        (void) cpu_list_format(&mems, buf, sizeof(buf));
        assert_string_equal(buf, "0-1");
        assert_int_equal(qrm_state_get_container_cpuset(s, "p", "x", &c, &cpus, &mems), -ENOENT);
        assert_int_equal(qrm_state_get_container_cpuset(s, "q", "c", NULL, NULL, NULL), -ENOENT);
        assert_int_equal(qrm_state_get_container_cpuset(s, NULL, "c", NULL, NULL, NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_allocations_consistent),
                cmocka_unit_test(test_hints),
                cmocka_unit_test(test_many_nodes_hints),
                cmocka_unit_test(test_topology_aware),
                cmocka_unit_test(test_container_cpuset),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
