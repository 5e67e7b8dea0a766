/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the QRM state's tests: topologies built in memory (the sysfs
 * reader is tested in test-cpu-topology.c), states, requests. */

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

/* nodes: cpu lists per node, e.g. { "0-3", "4-7" }; memory per node. */
CpuTopology *make_topology(const char *const *node_lists, unsigned n_nodes, uint64_t memory) {
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

CpuTopology *two_nodes(void) {
        static const char *const lists[] = { "0-3", "4-7" };
        return make_topology(lists, 2, 8 * GIB);
}

QrmState *make_state(const CpuTopology *t, const char *reserved) {
        CpuMask r = {};
        QrmState *s = NULL;
        PluginError err = {};

        if (reserved)
                assert_int_equal(cpu_list_parse_string(reserved, &r), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r }, &s, &err), 0);
        assert_int_equal(qrm_state_verify(s), 0);
        return s;
}

const QrmResourceRequest *request(TestRequest *t, const char *uid, const char *container,
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
int allocate_expect(QrmState *s, const char *uid, const char *container, QrmContainerType type,
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

const char *pool(const QrmState *s, QrmPool p) {
        static char buf[4][64];
        static unsigned i;
        CpuMask m;

        qrm_state_get_pool(s, p, &m);
        i = (i + 1) % 4;
        (void) cpu_list_format(&m, buf[i], sizeof(buf[i]));
        return buf[i];
}
