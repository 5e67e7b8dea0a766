/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM allocation state: classes, pools, exclusive NUMA-aligned CPUs,
 * hints, idempotence, refusals that change nothing, pool resizes showing
 * in later answers, pod-level allocations, limits. Topologies are built in
 * memory (the sysfs reader is tested in test-cpu-topology.c). */

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

#define GIB (UINT64_C(1) << 30)

/* nodes: cpu lists per node, e.g. { "0-3", "4-7" }; memory per node. */
static CpuTopology *make_topology(const char *const *node_lists, unsigned n_nodes, uint64_t memory) {
        CpuMask online = {}, nodes = {}, node_cpus[16] = {};
        uint64_t mem[16];
        CpuTopology *t = NULL;

        assert_true(n_nodes <= 16);
        for (unsigned i = 0; i < n_nodes; i++) {
                assert_int_equal(cpu_list_parse_string(node_lists[i], &node_cpus[i]), 0);
                cpu_mask_or(&online, &online, &node_cpus[i]);
                cpu_mask_set(&nodes, i);
                mem[i] = memory;
        }
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, n_nodes, &t), 0);
        return t;
}

static CpuTopology *two_nodes(void) {
        static const char *const lists[] = { "0-3", "4-7" };
        return make_topology(lists, 2, 8 * GIB);
}

static QrmState *make_state(const CpuTopology *t, const char *reserved) {
        CpuMask r = {};
        QrmState *s = NULL;
        PluginError err = {};

        if (reserved)
                assert_int_equal(cpu_list_parse_string(reserved, &r), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r }, &s, &err), 0);
        assert_int_equal(qrm_state_verify(s), 0);
        return s;
}

/* A request built from a few words. */
typedef struct TestRequest {
        QrmResourceRequest req;
        QrmQuantity quantities[2];
        QrmKeyValue annotations[1];
        uint64_t hint[8];
} TestRequest;

static const QrmResourceRequest *request(TestRequest *t, const char *uid, const char *container,
                                         QrmContainerType type, const char *resource, const char *qos_level,
                                         double quantity, const char *hint) {
        *t = (TestRequest) {};
        t->req = (QrmResourceRequest) {
                .pod_uid = uid,
                .pod_namespace = "default",
                .pod_name = "pod",
                .container_name = container,
                .container_type = type,
                .resource_name = resource,
                .resource_requests = t->quantities,
                .n_resource_requests = 1,
                .annotations = t->annotations,
                .n_annotations = qos_level ? 1 : 0,
        };
        t->quantities[0] = (QrmQuantity) { .name = resource, .value = quantity };
        t->annotations[0] = (QrmKeyValue) { .key = QRM_ANNOTATION_KATALYST_QOS_LEVEL, .value = qos_level };
        if (hint) {
                CpuMask m;

                assert_int_equal(cpu_list_parse_string(hint, &m), 0);
                CPU_MASK_FOREACH(node, &m)
                        t->hint[t->req.n_hint_nodes++] = (uint64_t) node;
                t->req.hint_nodes = t->hint;
        }
        return &t->req;
}

/* Allocates and checks the answer's cpuset and quantity; returns 0 or the error. */
static int allocate_expect(QrmState *s, const char *uid, const char *container, QrmContainerType type,
                           const char *resource, const char *qos_level, double quantity, const char *hint,
                           const char *want_result) {
        TestRequest t;
        QrmAllocationInfo info = {};
        PluginError err = {};
        int r;

        r = qrm_state_allocate(s, request(&t, uid, container, type, resource, qos_level, quantity, hint), &info, &err);
        assert_int_equal(qrm_state_verify(s), 0);
        if (r < 0) {
                assert_int_equal(err.error, r);
                assert_true(strlen(err.message) > 0);
                return r;
        }
        if (want_result && strcmp(info.allocation_result, want_result) != 0)
                print_error("%s/%s %s: got \"%s\", want \"%s\"\n", uid, container, resource, info.allocation_result,
                            want_result);
        if (want_result)
                assert_string_equal(info.allocation_result, want_result);
        assert_string_equal(info.oci_property_name,
                            strcmp(resource, "memory") == 0 ? QRM_OCI_CPUSET_MEMS : QRM_OCI_CPUSET_CPUS);
        assert_true(info.is_scalar_resource);
        assert_false(info.is_node_resource);
        qrm_allocation_info_done(&info);
        return 0;
}

static const char *pool(const QrmState *s, QrmPool p) {
        static char buf[4][64];
        static unsigned i;
        CpuMask m;

        qrm_state_get_pool(s, p, &m);
        i = (i + 1) % 4;
        (void) cpu_list_format(&m, buf[i], sizeof(buf[i]));
        return buf[i];
}

/* ------------------------------------------------------------------ */

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
                cmocka_unit_test(test_dedicated_numa),
                cmocka_unit_test(test_dedicated_spread),
                cmocka_unit_test(test_dedicated_hint),
                cmocka_unit_test(test_idempotent_and_resize),
                cmocka_unit_test(test_invalid_requests),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_reclaimed_pool_resize),
                cmocka_unit_test(test_allocations_consistent),
                cmocka_unit_test(test_followers),
                cmocka_unit_test(test_memory_first),
                cmocka_unit_test(test_hints),
                cmocka_unit_test(test_many_nodes_hints),
                cmocka_unit_test(test_pod_level),
                cmocka_unit_test(test_topology_aware),
                cmocka_unit_test(test_container_cpuset),
                cmocka_unit_test(test_limits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
