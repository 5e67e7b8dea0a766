/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers for the QRM state's tests: topologies built in memory, states,
 * requests built from a few words. For cmocka tests (failures are
 * assertions). */

#include <stdint.h>

#include "plugins/cpu-topology.h"
#include "plugins/qrm-state.h"

#define GIB (UINT64_C(1) << 30)

/* nodes: cpu lists per node, e.g. { "0-3", "4-7" }; memory per node. */
CpuTopology *make_topology(const char *const *node_lists, unsigned n_nodes, uint64_t memory);
/* Nodes 0-3 and 4-7, 8 GiB each. */
CpuTopology *two_nodes(void);
/* reserved: a cpu list or NULL. The state is verified. */
QrmState *make_state(const CpuTopology *t, const char *reserved);

/* A request built from a few words. */
typedef struct TestRequest {
        QrmResourceRequest req;
        QrmQuantity quantities[2];
        QrmKeyValue annotations[1];
        uint64_t hint[8];
} TestRequest;

/* Fills t; returns &t->req. qos_level: a katalyst QoS level or NULL; hint:
 * a node list or NULL. */
const QrmResourceRequest *request(TestRequest *t, const char *uid, const char *container, QrmContainerType type,
                                  const char *resource, const char *qos_level, double quantity, const char *hint);

/* Allocates and checks the answer's cpuset and quantity; returns 0 or the error. */
int allocate_expect(QrmState *s, const char *uid, const char *container, QrmContainerType type, const char *resource,
                    const char *qos_level, double quantity, const char *hint, const char *want_result);

/* A pool as a cpu list, in one of four rotating static buffers. */
const char *pool(const QrmState *s, QrmPool p);
