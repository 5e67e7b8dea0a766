/* SPDX-License-Identifier: Apache-2.0 */
/* Topology hints: the NUMA node sets that could hold a request. */
#include "qrm-state-private.h"

#include <errno.h>
#include <stdlib.h>

#include "agent/macro.h"

/* Hints enumerate every subset of NUMA nodes up to the topology manager's
 * own limit (maxAllowableNUMANodes); above it, single nodes only. */
#define HINT_NODES_MAX 8

/* ------------------------------------------------------------------ */
/* Hints                                                               */
/* ------------------------------------------------------------------ */

typedef struct HintBuilder {
        QrmHints h;
        size_t allocated;
} HintBuilder;

static int hint_add(HintBuilder *b, const CpuMask *nodes, bool preferred) {
        QrmTopologyHint hint = { .preferred = preferred };
        int r;

        if (b->h.n_hints == b->allocated) {
                size_t m = MAX(b->allocated * 2, (size_t) 8);
                QrmTopologyHint *a = reallocarray(b->h.hints, m, sizeof(*a));

                if (!a)
                        return -ENOMEM;
                b->h.hints = a;
                b->allocated = m;
        }
        r = qrm_mask_to_nodes_array(nodes, &hint.nodes, &hint.n_nodes);
        if (r < 0)
                return r;
        b->h.hints[b->h.n_hints++] = hint;
        return 0;
}

/* The kubelet's way: a hint is every node set whose free amount holds the
 * request; preferred are those as small as the fewest nodes whose capacity
 * could ever hold it (so fragmentation shows as a non-preferred answer).
 * free_amount and capacity are indexed by node number. */
static int hints_generate(const CpuTopology *t, const CpuMask *candidates, const double *free_amount,
                          const double *capacity, double need, HintBuilder *b) {
        unsigned ids[NUMA_NODES_MAX], n = 0, min_nodes;
        double caps[NUMA_NODES_MAX], sum = 0, all_free = 0;
        int r;

        CPU_MASK_FOREACH(node, candidates)
                ids[n++] = (unsigned) node;
        if (n == 0)
                return 0;

        /* The fewest nodes whose capacity holds need: largest first. */
        for (unsigned i = 0; i < n; i++)
                caps[i] = capacity[ids[i]];
        for (unsigned i = 0; i < n; i++)
                for (unsigned j = i + 1; j < n; j++)
                        if (caps[j] > caps[i]) {
                                double tmp = caps[i];
                                caps[i] = caps[j];
                                caps[j] = tmp;
                        }
        min_nodes = n + 1;
        for (unsigned i = 0; i < n; i++) {
                sum += caps[i];
                if (sum >= need) {
                        min_nodes = i + 1;
                        break;
                }
        }

        if (n <= HINT_NODES_MAX) {
                for (unsigned mask = 1; mask < (1u << n); mask++) {
                        CpuMask nodes = {};
                        double f = 0;

                        for (unsigned i = 0; i < n; i++)
                                if (mask & (1u << i)) {
                                        f += free_amount[ids[i]];
                                        cpu_mask_set(&nodes, ids[i]);
                                }
                        if (f < need)
                                continue;
                        r = hint_add(b, &nodes, (unsigned) __builtin_popcount(mask) == min_nodes);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        for (unsigned i = 0; i < n; i++) {
                CpuMask nodes = {};

                all_free += free_amount[ids[i]];
                if (free_amount[ids[i]] < need)
                        continue;
                cpu_mask_set(&nodes, ids[i]);
                r = hint_add(b, &nodes, min_nodes == 1);
                if (r < 0)
                        return r;
        }
        if (b->h.n_hints == 0 && all_free >= need)
                return hint_add(b, candidates, min_nodes == n);
        return 0;
}

static int hints(const QrmState *s, const QrmResourceRequest *req, bool pod_level, QrmHints *ret,
                 PluginError *err) {
        const CpuTopology *t = s->topology;
        _cleanup_free_ double *free_amount = NULL, *capacity = NULL;
        HintBuilder b = {};
        CpuMask candidates = {};
        const Pod *pod;
        const Entry *e;
        double need;
        Parsed p;
        int r;

        r = qrm_parse_request(s, req, pod_level, &p, err);
        if (r < 0)
                return r;
        pod = qrm_pod_find(s, req->pod_uid, NULL);
        e = qrm_pod_find_entry(pod, p.container);

        if (e && e->allocated[p.resource]) {
                CpuMask cpus, mems, held;

                /* Where it is (the kubelet asks again after a restart). */
                qrm_pod_exclusive(pod, &held);
                if (e->qos_class != QOS_CLASS_DEDICATED_CORES || (cpu_mask_is_empty(&held) && !e->memory_hint)) {
                        *ret = (QrmHints) { .no_preference = true };
                        return 0;
                }
                qrm_entry_cpuset(s, pod, e, &cpus, &mems);
                r = hint_add(&b, &mems, true);
                if (r < 0) {
                        qrm_hints_done(&b.h);
                        return plugin_error_set(err, r, "Out of memory.");
                }
                *ret = b.h;
                return 0;
        }

        if (p.qos_class != QOS_CLASS_DEDICATED_CORES ||
            !qrm_needs_own_cpus(pod, pod_level, pod_level ? QRM_CONTAINER_MAIN : req->container_type)) {
                *ret = (QrmHints) { .no_preference = true };
                return 0;
        }

        free_amount = calloc(t->n_nodes, sizeof(double));
        capacity = calloc(t->n_nodes, sizeof(double));
        if (!free_amount || !capacity)
                return plugin_error_set(err, ENOMEM, "Out of memory.");

        if (p.resource == RESOURCE_CPU) {
                unsigned n_available = cpu_mask_count(&s->available);
                unsigned c = qrm_cpus_needed(p.quantity);

                if (c == 0)
                        return plugin_error_set(err, EINVAL, "dedicated_cores pod %s has no CPU request for %s.",
                                                req->pod_uid, pod_level ? "the pod" : p.container);
                need = c;
                if (n_available < s->shared_floor || c > n_available - s->shared_floor) {
                        *ret = (QrmHints) {}; /* fits nowhere now */
                        return 0;
                }
                CPU_MASK_FOREACH(node, &t->nodes) {
                        CpuMask m;

                        if (cpu_mask_is_empty(&t->node_cpus[node]))
                                continue;
                        cpu_mask_set(&candidates, (unsigned) node);
                        cpu_mask_and(&m, &t->node_cpus[node], &s->available);
                        free_amount[node] = cpu_mask_count(&m);
                        cpu_mask_andnot(&m, &t->node_cpus[node], &s->reserved);
                        capacity[node] = cpu_mask_count(&m);
                }
        } else {
                unsigned n_nodes = cpu_mask_count(&t->nodes);

                need = p.quantity;
                if (need <= 0 || !qrm_node_memory_known(t)) {
                        /* Nothing to place, or nothing known to place it by. */
                        *ret = (QrmHints) { .no_preference = true };
                        return 0;
                }
                CPU_MASK_FOREACH(node, &t->nodes) {
                        double per_node_reserved = (double) s->reserved_memory / n_nodes;

                        cpu_mask_set(&candidates, (unsigned) node);
                        capacity[node] = MAX(0.0, (double) t->node_memory[node] - per_node_reserved);
                        free_amount[node] = capacity[node];
                }
        }

        r = hints_generate(t, &candidates, free_amount, capacity, need, &b);
        if (r < 0) {
                qrm_hints_done(&b.h);
                return plugin_error_set(err, r, "Out of memory.");
        }
        *ret = b.h;
        return 0;
}

int qrm_state_get_topology_hints(const QrmState *s, const QrmResourceRequest *req, QrmHints *ret,
                                 PluginError *err) {
        return hints(s, req, false, ret, err);
}

int qrm_state_get_pod_topology_hints(const QrmState *s, const QrmResourceRequest *req, QrmHints *ret,
                                     PluginError *err) {
        return hints(s, req, true, ret, err);
}
