/* SPDX-License-Identifier: Apache-2.0 */
#include "qrm-state.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"

/* The QRM plugins this state serves: RESOURCE_CPU and RESOURCE_MEMORY. */
#define N_RESOURCES 2

/* CPU requests arrive as millicores turned into floating-point cores; less
 * than a thousandth of a millicore is rounding, not a request. */
#define CPU_REQUEST_EPSILON 1e-6

/* Hints enumerate every subset of NUMA nodes up to the topology manager's
 * own limit (maxAllowableNUMANodes); above it, single nodes only. */
#define HINT_NODES_MAX 8

typedef struct Entry {
        char *name; /* "" for the pod-level entry */
        QrmContainerType type;
        uint64_t index;
        QosClass qos_class;
        bool allocated[N_RESOURCES];
        double request[N_RESOURCES];
        CpuMask *exclusive;   /* own exclusive CPUs; NULL: none */
        CpuMask *memory_hint; /* nodes of the memory allocation's hint */
} Entry;

typedef struct Pod {
        char *uid;
        char *namespace;
        char *name;
        Entry *pod_level; /* NULL: no pod-level allocation */
        Entry *containers;
        size_t n_containers;
} Pod;

struct QrmState {
        const CpuTopology *topology;
        CpuMask reserved;
        unsigned shared_cpus_min;
        uint64_t reserved_memory;
        int reclaimed_setting; /* QRM_RECLAIMED_CPUS_ALL or >= 1 */

        Pod *pods; /* sorted by uid */
        size_t n_pods, n_pods_allocated;
        size_t n_entries;
        uint64_t generation;

        /* Derived from the above by pools_update() after every change. */
        CpuMask dedicated, available, shared, reclaimed;
        unsigned shared_floor;
};

static const char *const container_type_names[_QRM_CONTAINER_TYPE_MAX] = {
        [QRM_CONTAINER_INIT] = "INIT",
        [QRM_CONTAINER_MAIN] = "MAIN",
        [QRM_CONTAINER_SIDECAR] = "SIDECAR",
        [QRM_CONTAINER_EPHEMERAL] = "EPHEMERAL",
};

const char *qrm_container_type_to_string(QrmContainerType t) {
        if (t < 0 || t >= _QRM_CONTAINER_TYPE_MAX)
                return NULL;
        return container_type_names[t];
}

QrmContainerType qrm_container_type_from_string(const char *s) {
        for (int t = 0; s && t < _QRM_CONTAINER_TYPE_MAX; t++)
                if (strcmp(s, container_type_names[t]) == 0)
                        return (QrmContainerType) t;
        return _QRM_CONTAINER_TYPE_INVALID;
}

/* ------------------------------------------------------------------ */
/* Answers' memory                                                     */
/* ------------------------------------------------------------------ */

void qrm_allocation_info_done(QrmAllocationInfo *i) {
        if (!i)
                return;
        free(i->allocation_result);
        free(i->hint.nodes);
        *i = (QrmAllocationInfo) {};
}

void qrm_hints_done(QrmHints *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_hints; i++)
                free(h->hints[i].nodes);
        free(h->hints);
        *h = (QrmHints) {};
}

void qrm_allocations_done(QrmAllocations *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n_pods; i++) {
                QrmPodAllocation *p = &a->pods[i];

                for (size_t j = 0; j < p->n_containers; j++) {
                        free(p->containers[j].container_name);
                        qrm_allocation_info_done(&p->containers[j].info);
                }
                free(p->containers);
                free(p->pod_uid);
        }
        free(a->pods);
        *a = (QrmAllocations) {};
}

void qrm_topology_aware_resource_done(QrmTopologyAwareResource *r) {
        if (!r)
                return;
        free(r->nodes);
        *r = (QrmTopologyAwareResource) {};
}

void qrm_allocatable_resource_done(QrmAllocatableResource *r) {
        if (!r)
                return;
        free(r->allocatable);
        free(r->capacity);
        *r = (QrmAllocatableResource) {};
}

QrmPluginOptions qrm_plugin_options(Resource resource) {
        return (QrmPluginOptions) {
                .pre_start_required = false,
                .with_topology_alignment = true,
                .need_reconcile = true,
        };
}

/* ------------------------------------------------------------------ */
/* Small pure helpers                                                  */
/* ------------------------------------------------------------------ */

static bool char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_';
}

static bool char_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Names the state keeps: [A-Za-z0-9._-], starting with a letter or digit
 * (as Kubernetes names and UIDs do), so that the checkpoint can write them
 * as words and "-" never is one. */
static bool name_valid(const char *s, size_t max, bool allow_empty) {
        size_t n;

        if (!s)
                return allow_empty;
        n = strnlen(s, max + 1);
        if (n == 0)
                return allow_empty;
        if (n > max || !char_alnum(s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!char_ok(s[i]))
                        return false;
        return true;
}

static const char *kv_find(const QrmKeyValue *kv, size_t n, const char *key) {
        for (size_t i = 0; kv && i < n; i++)
                if (kv[i].key && strcmp(kv[i].key, key) == 0)
                        return kv[i].value;
        return NULL;
}

QosClass qrm_resolve_qos_class(const QrmKeyValue *labels, size_t n_labels, const QrmKeyValue *annotations,
                               size_t n_annotations, int kube_tier) {
        QosClassInputs in = {
                .katalyst_qos_level = kv_find(annotations, n_annotations, QRM_ANNOTATION_KATALYST_QOS_LEVEL),
                .koordinator_qos_class = kv_find(labels, n_labels, QRM_LABEL_KOORDINATOR_QOS_CLASS),
                .nodeqos_qos_class = kv_find(annotations, n_annotations, QRM_ANNOTATION_NODEQOS_QOS_CLASS),
                .kube_tier = kube_tier,
        };
        QosClass c = qos_class_resolve(&in);

        return c == _QOS_CLASS_INVALID ? QOS_CLASS_SHARED_CORES : c;
}

Resource qrm_resource_from_name(const char *name) {
        if (!name)
                return _RESOURCE_INVALID;
        if (streq_ptr(name, "cpu") || streq_ptr(name, QRM_RESOURCE_RECLAIMED_MILLICPU))
                return RESOURCE_CPU;
        if (streq_ptr(name, "memory") || streq_ptr(name, QRM_RESOURCE_RECLAIMED_MEMORY))
                return RESOURCE_MEMORY;
        return _RESOURCE_INVALID;
}

static unsigned cpus_needed(double cores) {
        double c = ceil(cores - CPU_REQUEST_EPSILON);

        return c <= 0 ? 0 : (unsigned) c;
}

static uint64_t node_memory_total(const CpuTopology *t) {
        uint64_t sum = 0;

        CPU_MASK_FOREACH(node, &t->nodes)
                sum += t->node_memory[node];
        return sum;
}

static bool node_memory_known(const CpuTopology *t) {
        CPU_MASK_FOREACH(node, &t->nodes)
                if (t->node_memory[node] == 0)
                        return false;
        return true;
}

/* The lowest n members of m. */
static void mask_lowest(const CpuMask *m, unsigned n, CpuMask *ret) {
        CpuMask r = {};

        for (int c = cpu_mask_next(m, 0); c >= 0 && n > 0; c = cpu_mask_next(m, (unsigned) c + 1), n--)
                cpu_mask_set(&r, (unsigned) c);
        *ret = r;
}

static int mask_to_nodes_array(const CpuMask *nodes, uint64_t **ret, size_t *ret_n) {
        unsigned n = cpu_mask_count(nodes);
        uint64_t *a = NULL;
        size_t i = 0;

        if (n > 0) {
                a = calloc(n, sizeof(uint64_t));
                if (!a)
                        return -ENOMEM;
        }
        CPU_MASK_FOREACH(node, nodes)
                a[i++] = (uint64_t) node;
        *ret = a;
        *ret_n = n;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Pods and entries                                                    */
/* ------------------------------------------------------------------ */

static void entry_done(Entry *e) {
        free(e->name);
        free(e->exclusive);
        free(e->memory_hint);
        *e = (Entry) {};
}

static void pod_done(Pod *p) {
        free(p->uid);
        free(p->namespace);
        free(p->name);
        if (p->pod_level) {
                entry_done(p->pod_level);
                free(p->pod_level);
        }
        for (size_t i = 0; i < p->n_containers; i++)
                entry_done(&p->containers[i]);
        free(p->containers);
        *p = (Pod) {};
}

static size_t pod_n_entries(const Pod *p) {
        return p->n_containers + (p->pod_level ? 1 : 0);
}

/* Returns the pod, or NULL with *ret_index where it would go. */
static Pod *pod_find(const QrmState *s, const char *uid, size_t *ret_index) {
        size_t lo = 0, hi = s->n_pods;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(uid, s->pods[mid].uid);

                if (c == 0) {
                        if (ret_index)
                                *ret_index = mid;
                        return &s->pods[mid];
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (ret_index)
                *ret_index = lo;
        return NULL;
}

static Entry *pod_find_entry(const Pod *p, const char *name) {
        if (!p)
                return NULL;
        if (!*name)
                return p->pod_level;
        for (size_t i = 0; i < p->n_containers; i++)
                if (strcmp(p->containers[i].name, name) == 0)
                        return &p->containers[i];
        return NULL;
}

/* The exclusive CPUs held by the pod's entries. */
static void pod_exclusive(const Pod *p, CpuMask *ret) {
        CpuMask m = {};

        if (p->pod_level && p->pod_level->exclusive)
                m = *p->pod_level->exclusive;
        for (size_t i = 0; i < p->n_containers; i++)
                if (p->containers[i].exclusive)
                        cpu_mask_or(&m, &m, p->containers[i].exclusive);
        *ret = m;
}

static bool pod_containers_hold_exclusive(const Pod *p) {
        for (size_t i = 0; i < p->n_containers; i++)
                if (p->containers[i].exclusive)
                        return true;
        return false;
}

/* Whether a dedicated_cores entry gets CPUs of its own, or runs on its
 * pod's: MAIN containers own them unless the pod-level entry does; the
 * pod-level entry owns them unless its containers do. */
static bool needs_own_cpus(const Pod *p, bool pod_level, QrmContainerType type) {
        if (pod_level)
                return !p || !pod_containers_hold_exclusive(p);
        return type == QRM_CONTAINER_MAIN && !(p && p->pod_level && p->pod_level->exclusive);
}

/* Whose CPU request the shared pool must hold. */
static bool counts_for_shared(const QrmState *s, QosClass c) {
        return c == QOS_CLASS_SHARED_CORES || (c == QOS_CLASS_SYSTEM_CORES && cpu_mask_is_empty(&s->reserved));
}

static void pools_update(QrmState *s) {
        CpuMask dedicated = {};
        double shared_request = 0;
        unsigned n_available, k;

        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *p = &s->pods[i];
                bool pod_level_cpu = p->pod_level && p->pod_level->allocated[RESOURCE_CPU];

                /* Only masks that exist are touched: this runs after every
                 * change, over every pod. */
                if (p->pod_level && p->pod_level->exclusive)
                        cpu_mask_or(&dedicated, &dedicated, p->pod_level->exclusive);
                /* A pod-level allocation holds its containers' requests. */
                if (pod_level_cpu && counts_for_shared(s, p->pod_level->qos_class))
                        shared_request += p->pod_level->request[RESOURCE_CPU];
                for (size_t j = 0; j < p->n_containers; j++) {
                        const Entry *e = &p->containers[j];

                        if (e->exclusive)
                                cpu_mask_or(&dedicated, &dedicated, e->exclusive);
                        if (!pod_level_cpu && e->allocated[RESOURCE_CPU] && counts_for_shared(s, e->qos_class))
                                shared_request += e->request[RESOURCE_CPU];
                }
        }

        s->dedicated = dedicated;
        cpu_mask_andnot(&s->available, &s->topology->online, &s->reserved);
        cpu_mask_andnot(&s->available, &s->available, &dedicated);
        s->shared_floor = MAX(s->shared_cpus_min, cpus_needed(shared_request));

        n_available = cpu_mask_count(&s->available);
        k = s->reclaimed_setting == QRM_RECLAIMED_CPUS_ALL ? 0 : (unsigned) s->reclaimed_setting;
        if (n_available > s->shared_floor)
                k = MIN(k, n_available - s->shared_floor);
        else
                k = 0;

        if (k == 0) {
                /* Nothing carved off: best-effort shares the shared pool's
                 * CPUs (at idle priority, under its quota). */
                s->shared = s->available;
                s->reclaimed = s->available;
        } else {
                /* From the top: dedicated CPUs are taken from the bottom, so
                 * the two move apart and a resize changes few CPUs. */
                CpuMask carved = {};
                CpuMask rest = s->available;

                for (unsigned i = 0; i < k; i++) {
                        int c = cpu_mask_last(&rest);

                        cpu_mask_clear(&rest, (unsigned) c);
                        cpu_mask_set(&carved, (unsigned) c);
                }
                s->reclaimed = carved;
                s->shared = rest;
        }
        s->generation++;
}

/* The CPUs an entry runs on now. */
static void entry_cpus(const QrmState *s, const Pod *p, const Entry *e, CpuMask *ret) {
        switch (e->qos_class) {
        case QOS_CLASS_DEDICATED_CORES:
                if (e->exclusive) {
                        *ret = *e->exclusive;
                        return;
                }
                pod_exclusive(p, ret);
                if (!cpu_mask_is_empty(ret))
                        return;
                /* Until its pod holds CPUs (its MAIN containers come later). */
                *ret = s->shared;
                return;
        case QOS_CLASS_SYSTEM_CORES:
                *ret = cpu_mask_is_empty(&s->reserved) ? s->shared : s->reserved;
                return;
        case QOS_CLASS_RECLAIMED_CORES:
                *ret = s->reclaimed;
                return;
        default:
                *ret = s->shared;
                return;
        }
}

static void entry_cpuset(const QrmState *s, const Pod *p, const Entry *e, CpuMask *ret_cpus, CpuMask *ret_mems) {
        CpuMask held;

        entry_cpus(s, p, e, ret_cpus);
        if (e->qos_class == QOS_CLASS_DEDICATED_CORES && e->memory_hint) {
                pod_exclusive(p, &held);
                if (cpu_mask_is_empty(&held)) {
                        /* Memory came first: stay on the nodes its hint named,
                         * where the CPUs will follow. */
                        *ret_mems = *e->memory_hint;
                        return;
                }
        }
        cpu_topology_nodes_of(s->topology, ret_cpus, ret_mems);
}

static int entry_info(const QrmState *s, const Pod *p, const Entry *e, Resource r, QrmAllocationInfo *ret) {
        QrmAllocationInfo info = {
                .oci_property_name = r == RESOURCE_CPU ? QRM_OCI_CPUSET_CPUS : QRM_OCI_CPUSET_MEMS,
                .is_node_resource = false,
                .is_scalar_resource = true,
                .qos_class = e->qos_class,
                .hint.preferred = true,
        };
        CpuMask cpus, mems;
        int k;

        entry_cpuset(s, p, e, &cpus, &mems);
        if (r == RESOURCE_CPU) {
                info.allocated_quantity = cpu_mask_count(&cpus);
                k = cpu_list_format_alloc(&cpus, &info.allocation_result);
        } else {
                info.allocated_quantity = e->request[RESOURCE_MEMORY];
                k = cpu_list_format_alloc(&mems, &info.allocation_result);
        }
        if (k < 0)
                return k;
        k = mask_to_nodes_array(&mems, &info.hint.nodes, &info.hint.n_nodes);
        if (k < 0) {
                qrm_allocation_info_done(&info);
                return k;
        }
        *ret = info;
        return 0;
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

int qrm_state_new(const QrmStateParams *params, QrmState **ret, PluginError *err) {
        _cleanup_(qrm_state_freep) QrmState *s = NULL;
        CpuMask usable;

        if (!params || !params->topology)
                return plugin_error_set(err, EINVAL, "No CPU topology given.");

        s = calloc(1, sizeof(*s));
        if (!s)
                return plugin_error_set(err, ENOMEM, "Out of memory.");
        s->topology = params->topology;
        if (params->reserved_cpus)
                s->reserved = *params->reserved_cpus;
        s->shared_cpus_min = params->shared_cpus_min ?: 1;
        s->reserved_memory = params->reserved_memory_bytes;
        s->reclaimed_setting = QRM_RECLAIMED_CPUS_ALL;

        if (!cpu_mask_is_subset(&s->reserved, &s->topology->online))
                return plugin_error_set(err, EINVAL, "Reserved CPUs are not all online.");
        cpu_mask_andnot(&usable, &s->topology->online, &s->reserved);
        if (cpu_mask_count(&usable) < s->shared_cpus_min)
                return plugin_error_set(err, EINVAL,
                                        "Reserving CPUs leaves %u, fewer than the shared pool's minimum of %u.",
                                        cpu_mask_count(&usable), s->shared_cpus_min);

        pools_update(s);
        *ret = TAKE_PTR(s);
        return 0;
}

void qrm_state_reset(QrmState *s) {
        for (size_t i = 0; i < s->n_pods; i++)
                pod_done(&s->pods[i]);
        s->n_pods = 0;
        s->n_entries = 0;
        s->reclaimed_setting = QRM_RECLAIMED_CPUS_ALL;
        pools_update(s);
}

QrmState *qrm_state_free(QrmState *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_pods; i++)
                pod_done(&s->pods[i]);
        free(s->pods);
        free(s);
        return NULL;
}

uint64_t qrm_state_generation(const QrmState *s) {
        return s->generation;
}

size_t qrm_state_n_pods(const QrmState *s) {
        return s->n_pods;
}

size_t qrm_state_n_containers(const QrmState *s) {
        return s->n_entries;
}

const CpuTopology *qrm_state_topology(const QrmState *s) {
        return s->topology;
}

void qrm_state_get_pool(const QrmState *s, QrmPool pool, CpuMask *ret) {
        switch (pool) {
        case QRM_POOL_RESERVED:
                *ret = s->reserved;
                return;
        case QRM_POOL_DEDICATED:
                *ret = s->dedicated;
                return;
        case QRM_POOL_SHARED:
                *ret = s->shared;
                return;
        case QRM_POOL_RECLAIMED:
                *ret = s->reclaimed;
                return;
        default:
                cpu_mask_zero(ret);
                return;
        }
}

int qrm_state_set_reclaimed_cpus(QrmState *s, int n, PluginError *err) {
        if (n != QRM_RECLAIMED_CPUS_ALL && n < 1)
                return plugin_error_set(err, EINVAL,
                                        "The reclaimed pool is sized in CPUs (at least 1) or -1 for all; got %d.", n);
        if (n != QRM_RECLAIMED_CPUS_ALL && (unsigned) n > cpu_mask_count(&s->topology->online))
                return plugin_error_set(err, EINVAL, "The reclaimed pool cannot have %d CPUs: the node has %u.", n,
                                        cpu_mask_count(&s->topology->online));
        if (n == s->reclaimed_setting)
                return 0;
        s->reclaimed_setting = n;
        pools_update(s);
        return 0;
}

int qrm_state_get_reclaimed_cpus(const QrmState *s) {
        return s->reclaimed_setting;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* What a request says, checked. */
typedef struct Parsed {
        Resource resource;
        QosClass qos_class;
        double quantity;
        CpuMask hint; /* nodes */
        bool has_hint;
        const char *container; /* "" for pod-level */
} Parsed;

static int parse_quantity(const QrmState *s, const QrmResourceRequest *req, Resource r, double *ret,
                          PluginError *err) {
        const char *plain = r == RESOURCE_CPU ? "cpu" : "memory";
        const char *reclaimed = r == RESOURCE_CPU ? QRM_RESOURCE_RECLAIMED_MILLICPU : QRM_RESOURCE_RECLAIMED_MEMORY;
        const char *found = NULL;
        double q = 0;

        if (req->n_resource_requests > 0 && !req->resource_requests)
                return plugin_error_set(err, EINVAL, "Resource requests missing.");
        for (size_t i = 0; i < req->n_resource_requests; i++) {
                const QrmQuantity *rq = &req->resource_requests[i];
                double v = rq->value;

                if (!rq->name || (strcmp(rq->name, plain) != 0 && strcmp(rq->name, reclaimed) != 0))
                        continue;
                if (found)
                        return plugin_error_set(err, EINVAL, "The %s request is given twice (%s and %s).", plain,
                                                found, rq->name);
                found = rq->name;
                if (!isfinite(v) || v < 0)
                        return plugin_error_set(err, EINVAL, "The %s request %g is not a finite amount >= 0.",
                                                rq->name, v);
                /* Katalyst's reclaimed CPU is counted in millicores. */
                q = r == RESOURCE_CPU && strcmp(rq->name, reclaimed) == 0 ? v / 1000.0 : v;
        }

        if (r == RESOURCE_CPU) {
                unsigned n = cpu_mask_count(&s->topology->online);

                if (q > n)
                        return plugin_error_set(err, EINVAL, "The CPU request %g is more than the node's %u CPUs.",
                                                q, n);
        } else {
                uint64_t total = node_memory_total(s->topology);

                if (node_memory_known(s->topology) && q > (double) total)
                        return plugin_error_set(err, EINVAL,
                                                "The memory request %.0f is more than the node's %" PRIu64 " bytes.",
                                                q, total);
        }
        *ret = q;
        return 0;
}

static int parse_request(const QrmState *s, const QrmResourceRequest *req, bool pod_level, Parsed *ret,
                         PluginError *err) {
        Parsed p = {};
        int r;

        if (!req)
                return plugin_error_set(err, EINVAL, "No request.");
        if (!req->pod_uid || !*req->pod_uid)
                return plugin_error_set(err, EINVAL, "The request has no pod_uid.");
        if (!name_valid(req->pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod_uid \"%.*s\".", QRM_UID_MAX, req->pod_uid);
        if (!name_valid(req->pod_namespace, QRM_NAME_MAX, true) || !name_valid(req->pod_name, QRM_NAME_MAX, true))
                return plugin_error_set(err, EINVAL, "Malformed pod namespace or name for pod %s.", req->pod_uid);
        if (pod_level)
                p.container = "";
        else {
                if (!req->container_name || !*req->container_name)
                        return plugin_error_set(err, EINVAL, "The request for pod %s has no container_name.",
                                                req->pod_uid);
                if (!name_valid(req->container_name, QRM_NAME_MAX, false))
                        return plugin_error_set(err, EINVAL, "Malformed container_name in pod %s.", req->pod_uid);
                if (req->container_type < 0 || req->container_type >= _QRM_CONTAINER_TYPE_MAX)
                        return plugin_error_set(err, EINVAL, "Unknown container_type %d.", (int) req->container_type);
                p.container = req->container_name;
        }

        p.resource = qrm_resource_from_name(req->resource_name);
        if (p.resource == _RESOURCE_INVALID)
                return plugin_error_set(err, EINVAL, "Unsupported resource \"%.64s\" (cpu and memory are).",
                                        strna(req->resource_name));

        if (req->n_hint_nodes > 0 && !req->hint_nodes)
                return plugin_error_set(err, EINVAL, "Hint nodes missing.");
        for (size_t i = 0; i < req->n_hint_nodes; i++) {
                uint64_t node = req->hint_nodes[i];

                if (node >= s->topology->n_nodes || !cpu_mask_test(&s->topology->nodes, (unsigned) node))
                        return plugin_error_set(err, EINVAL,
                                                "The hint names NUMA node %" PRIu64 ", which does not exist.", node);
                cpu_mask_set(&p.hint, (unsigned) node);
                p.has_hint = true;
        }

        r = parse_quantity(s, req, p.resource, &p.quantity, err);
        if (r < 0)
                return r;

        p.qos_class = qrm_resolve_qos_class(req->labels, req->n_labels, req->annotations, req->n_annotations, -1);
        *ret = p;
        return 0;
}

/* Checks a request against an existing entry. */
static int check_existing(const Entry *e, const Parsed *p, const QrmResourceRequest *req, bool pod_level,
                          PluginError *err) {
        if (!e)
                return 0;
        if (e->qos_class != p->qos_class)
                return plugin_error_set(err, EINVAL,
                                        "Container \"%s\" of pod %s is %s; a request as %s needs a new pod.",
                                        e->name, req->pod_uid, qos_class_to_string(e->qos_class),
                                        qos_class_to_string(p->qos_class));
        if (!pod_level && e->type != req->container_type)
                return plugin_error_set(err, EINVAL, "Container \"%s\" of pod %s is of type %s, not %s.", e->name,
                                        req->pod_uid, qrm_container_type_to_string(e->type),
                                        qrm_container_type_to_string(req->container_type));
        return 0;
}

/* ------------------------------------------------------------------ */
/* Exclusive CPUs                                                      */
/* ------------------------------------------------------------------ */

/* Takes need CPUs from free, NUMA-aligned: the node that fits them with the
 * fewest free CPUs left (best fit, so large holes stay for large requests),
 * lowest CPUs first; if no node fits, whole nodes with the most free CPUs
 * until the rest fits one. free must hold at least need CPUs. */
static void take_numa_aligned(const CpuTopology *t, const CpuMask *free_cpus, unsigned need, CpuMask *ret) {
        CpuMask left = *free_cpus, taken = {};

        while (need > 0) {
                int best = -1, largest = -1;
                unsigned best_free = 0, largest_free = 0;
                CpuMask on_node, part;

                CPU_MASK_FOREACH(node, &t->nodes) {
                        unsigned f;

                        cpu_mask_and(&on_node, &left, &t->node_cpus[node]);
                        f = cpu_mask_count(&on_node);
                        if (f >= need && (best < 0 || f < best_free)) {
                                best = node;
                                best_free = f;
                        }
                        if (f > largest_free) {
                                largest = node;
                                largest_free = f;
                        }
                }
                if (largest < 0)
                        break; /* cannot happen: free held enough */

                cpu_mask_and(&on_node, &left, &t->node_cpus[best >= 0 ? best : largest]);
                mask_lowest(&on_node, MIN(need, cpu_mask_count(&on_node)), &part);
                cpu_mask_or(&taken, &taken, &part);
                cpu_mask_andnot(&left, &left, &part);
                need -= cpu_mask_count(&part);
        }
        *ret = taken;
}

/* Chooses need exclusive CPUs for an entry. keep: CPUs it holds now (for a
 * request that changed; counted as free), kept as far as they go. allowed:
 * the hint's nodes, or NULL. */
static int pick_exclusive(const QrmState *s, unsigned need, const CpuMask *allowed, const CpuMask *keep,
                          const char *who, CpuMask *ret, PluginError *err) {
        const CpuTopology *t = s->topology;
        CpuMask free_cpus = s->available, base = {}, extra;
        unsigned n_available = cpu_mask_count(&s->available), budget;

        if (keep) {
                if (cpu_mask_count(keep) >= need) {
                        mask_lowest(keep, need, ret);
                        return 0;
                }
                base = *keep;
                need -= cpu_mask_count(keep);
        }

        budget = n_available > s->shared_floor ? n_available - s->shared_floor : 0;
        if (need > budget)
                return plugin_error_set(err, ENOSPC,
                                        "Not enough free CPUs for %s: %u more needed, %u can be given exclusively "
                                        "(%u not exclusive, the shared pool keeps %u).",
                                        who, need, budget, n_available, s->shared_floor);

        if (allowed) {
                CpuMask on_nodes;

                cpu_topology_cpus_of(t, allowed, &on_nodes);
                cpu_mask_and(&free_cpus, &free_cpus, &on_nodes);
                if (cpu_mask_count(&free_cpus) < need) {
                        char nodes[64];

                        (void) cpu_list_format(allowed, nodes, sizeof(nodes));
                        return plugin_error_set(err, ENOSPC,
                                                "Not enough free CPUs for %s on NUMA node(s) %s of its hint: %u more "
                                                "needed, %u free there.",
                                                who, nodes, need, cpu_mask_count(&free_cpus));
                }
        }

        if (keep) {
                /* Grow next to what it holds first. */
                CpuMask keep_nodes, near, part;

                cpu_topology_nodes_of(t, keep, &keep_nodes);
                cpu_topology_cpus_of(t, &keep_nodes, &near);
                cpu_mask_and(&near, &near, &free_cpus);
                mask_lowest(&near, MIN(need, cpu_mask_count(&near)), &part);
                cpu_mask_or(&base, &base, &part);
                cpu_mask_andnot(&free_cpus, &free_cpus, &part);
                need -= cpu_mask_count(&part);
        }

        take_numa_aligned(t, &free_cpus, need, &extra);
        cpu_mask_or(ret, &base, &extra);
        return 0;
}

/* ------------------------------------------------------------------ */
/* Adding entries: everything that can fail first, then a commit that    */
/* cannot, so that an error never leaves a half-made pod behind.         */
/* ------------------------------------------------------------------ */

typedef struct Insert {
        size_t pod_index;
        bool new_pod, pod_level;
        char *uid, *namespace, *pod_name; /* a new pod's */
        Entry *containers;                /* a new pod's array */
        Entry *pod_level_entry;
        char *name;
} Insert;

static void insert_done(Insert *ins) {
        free(ins->uid);
        free(ins->namespace);
        free(ins->pod_name);
        free(ins->containers);
        free(ins->pod_level_entry);
        free(ins->name);
}

static int insert_prepare(QrmState *s, const char *uid, const char *namespace, const char *pod_name,
                          const char *name, bool pod_level, Insert *ret) {
        Insert ins = { .pod_level = pod_level };
        Pod *pod = pod_find(s, uid, &ins.pod_index);

        ins.new_pod = !pod;
        ins.name = strdup(name);
        if (!ins.name)
                goto oom;
        if (pod_level) {
                ins.pod_level_entry = calloc(1, sizeof(Entry));
                if (!ins.pod_level_entry)
                        goto oom;
        } else if (pod) {
                /* Growing the array is invisible until the count grows. */
                Entry *a = reallocarray(pod->containers, pod->n_containers + 1, sizeof(Entry));

                if (!a)
                        goto oom;
                pod->containers = a;
        } else {
                ins.containers = calloc(1, sizeof(Entry));
                if (!ins.containers)
                        goto oom;
        }
        if (!pod) {
                ins.uid = strdup(uid);
                ins.namespace = strdup(namespace ?: "");
                ins.pod_name = strdup(pod_name ?: "");
                if (!ins.uid || !ins.namespace || !ins.pod_name)
                        goto oom;
                if (s->n_pods == s->n_pods_allocated) {
                        size_t m = MAX(s->n_pods_allocated * 2, (size_t) 16);
                        Pod *a = reallocarray(s->pods, m, sizeof(Pod));

                        if (!a)
                                goto oom;
                        s->pods = a;
                        s->n_pods_allocated = m;
                }
        }
        *ret = ins;
        return 0;

oom:
        insert_done(&ins);
        return -ENOMEM;
}

/* Returns the new entry, holding only its name. */
static Entry *insert_commit(QrmState *s, Insert *ins, Pod **ret_pod) {
        Pod *pod;
        Entry *e;

        if (ins->new_pod) {
                memmove(s->pods + ins->pod_index + 1, s->pods + ins->pod_index,
                        (s->n_pods - ins->pod_index) * sizeof(Pod));
                s->pods[ins->pod_index] = (Pod) {
                        .uid = TAKE_PTR(ins->uid),
                        .namespace = TAKE_PTR(ins->namespace),
                        .name = TAKE_PTR(ins->pod_name),
                        .containers = TAKE_PTR(ins->containers),
                };
                s->n_pods++;
        }
        pod = &s->pods[ins->pod_index];
        if (ins->pod_level) {
                pod->pod_level = TAKE_PTR(ins->pod_level_entry);
                e = pod->pod_level;
        } else
                e = &pod->containers[pod->n_containers++];
        *e = (Entry) { .name = TAKE_PTR(ins->name) };
        s->n_entries++;
        *ret_pod = pod;
        return e;
}

/* ------------------------------------------------------------------ */
/* Allocate                                                            */
/* ------------------------------------------------------------------ */

static int allocate(QrmState *s, const QrmResourceRequest *req, bool pod_level, QrmAllocationInfo *ret,
                    PluginError *err) {
        _cleanup_free_ CpuMask *new_exclusive = NULL, *new_hint = NULL;
        _cleanup_(insert_done) Insert ins = {};
        bool replace_exclusive = false, existed, changed;
        Parsed p;
        size_t pod_index;
        Pod *pod;
        Entry *e;
        char who[QRM_UID_MAX + QRM_NAME_MAX + 32];
        int r;

        r = parse_request(s, req, pod_level, &p, err);
        if (r < 0)
                return r;

        pod = pod_find(s, req->pod_uid, &pod_index);
        e = pod_find_entry(pod, p.container);
        r = check_existing(e, &p, req, pod_level, err);
        if (r < 0)
                return r;

        if (!pod && s->n_pods >= QRM_PODS_MAX)
                return plugin_error_set(err, E2BIG, "Too many pods (the limit is %d); refusing pod %s.",
                                        QRM_PODS_MAX, req->pod_uid);
        if (!e && s->n_entries >= QRM_CONTAINERS_MAX)
                return plugin_error_set(err, E2BIG, "Too many containers (the limit is %d); refusing pod %s.",
                                        QRM_CONTAINERS_MAX, req->pod_uid);

        if (pod_level)
                (void) snprintf(who, sizeof(who), "pod %s", req->pod_uid);
        else
                (void) snprintf(who, sizeof(who), "container \"%s\" of pod %s", p.container, req->pod_uid);

        /* Exclusive CPUs: chosen before anything changes. */
        if (p.resource == RESOURCE_CPU && p.qos_class == QOS_CLASS_DEDICATED_CORES &&
            needs_own_cpus(pod, pod_level, pod_level ? QRM_CONTAINER_MAIN : req->container_type)) {
                unsigned need = cpus_needed(p.quantity);
                const CpuMask *keep = e ? e->exclusive : NULL;
                const CpuMask *allowed = p.has_hint ? &p.hint : (e && e->memory_hint ? e->memory_hint : NULL);

                if (need == 0)
                        return plugin_error_set(err, EINVAL, "dedicated_cores %s has no CPU request.", who);

                if (!keep || cpu_mask_count(keep) != need) {
                        new_exclusive = malloc(sizeof(CpuMask));
                        if (!new_exclusive)
                                return plugin_error_set(err, ENOMEM, "Out of memory.");
                        r = pick_exclusive(s, need, allowed, keep, who, new_exclusive, err);
                        if (r < 0)
                                return r;
                        replace_exclusive = true;
                }
        }
        if (p.resource == RESOURCE_MEMORY && p.qos_class == QOS_CLASS_DEDICATED_CORES && p.has_hint) {
                new_hint = malloc(sizeof(CpuMask));
                if (!new_hint)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *new_hint = p.hint;
        }

        /* Everything that can fail, before the first change. */
        existed = e != NULL;
        if (!e) {
                r = insert_prepare(s, req->pod_uid, req->pod_namespace, req->pod_name, p.container, pod_level, &ins);
                if (r < 0)
                        return plugin_error_set(err, r, "Out of memory.");
                e = insert_commit(s, &ins, &pod);
                e->type = pod_level ? QRM_CONTAINER_MAIN : req->container_type;
                e->qos_class = p.qos_class;
        }
        changed = !existed || !e->allocated[p.resource] || e->request[p.resource] != p.quantity ||
                  replace_exclusive || (!pod_level && e->index != req->container_index) ||
                  (new_hint && (!e->memory_hint || !cpu_mask_equal(e->memory_hint, new_hint)));
        if (!pod_level)
                e->index = req->container_index;
        e->allocated[p.resource] = true;
        e->request[p.resource] = p.quantity;
        if (replace_exclusive) {
                free(e->exclusive);
                e->exclusive = TAKE_PTR(new_exclusive);
        }
        if (new_hint) {
                free(e->memory_hint);
                e->memory_hint = TAKE_PTR(new_hint);
        }
        /* The same request again answers the same without a new generation. */
        if (changed)
                pools_update(s);

        /* -ENOMEM is fatal to the agent (STYLE.md): past this point the state
         * holds the allocation even if the answer cannot be built. */
        r = entry_info(s, pod, e, p.resource, ret);
        if (r < 0)
                return plugin_error_set(err, r, "Out of memory.");
        return 0;
}

int qrm_state_allocate(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err) {
        return allocate(s, req, false, ret, err);
}

int qrm_state_allocate_pod(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err) {
        return allocate(s, req, true, ret, err);
}

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
        r = mask_to_nodes_array(nodes, &hint.nodes, &hint.n_nodes);
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

        r = parse_request(s, req, pod_level, &p, err);
        if (r < 0)
                return r;
        pod = pod_find(s, req->pod_uid, NULL);
        e = pod_find_entry(pod, p.container);

        if (e && e->allocated[p.resource]) {
                CpuMask cpus, mems, held;

                /* Where it is (the kubelet asks again after a restart). */
                pod_exclusive(pod, &held);
                if (e->qos_class != QOS_CLASS_DEDICATED_CORES || (cpu_mask_is_empty(&held) && !e->memory_hint)) {
                        *ret = (QrmHints) { .no_preference = true };
                        return 0;
                }
                entry_cpuset(s, pod, e, &cpus, &mems);
                r = hint_add(&b, &mems, true);
                if (r < 0) {
                        qrm_hints_done(&b.h);
                        return plugin_error_set(err, r, "Out of memory.");
                }
                *ret = b.h;
                return 0;
        }

        if (p.qos_class != QOS_CLASS_DEDICATED_CORES ||
            !needs_own_cpus(pod, pod_level, pod_level ? QRM_CONTAINER_MAIN : req->container_type)) {
                *ret = (QrmHints) { .no_preference = true };
                return 0;
        }

        free_amount = calloc(t->n_nodes, sizeof(double));
        capacity = calloc(t->n_nodes, sizeof(double));
        if (!free_amount || !capacity)
                return plugin_error_set(err, ENOMEM, "Out of memory.");

        if (p.resource == RESOURCE_CPU) {
                unsigned n_available = cpu_mask_count(&s->available);
                unsigned c = cpus_needed(p.quantity);

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
                if (need <= 0 || !node_memory_known(t)) {
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

/* ------------------------------------------------------------------ */
/* Remove                                                              */
/* ------------------------------------------------------------------ */

static int check_uid(const char *pod_uid, PluginError *err) {
        if (!pod_uid || !*pod_uid)
                return plugin_error_set(err, EINVAL, "The request has no pod_uid.");
        if (!name_valid(pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod_uid \"%.*s\".", QRM_UID_MAX, pod_uid);
        return 0;
}

static void pod_remove_at(QrmState *s, size_t index) {
        s->n_entries -= pod_n_entries(&s->pods[index]);
        pod_done(&s->pods[index]);
        memmove(s->pods + index, s->pods + index + 1, (s->n_pods - index - 1) * sizeof(Pod));
        s->n_pods--;
}

int qrm_state_remove_pod(QrmState *s, const char *pod_uid, PluginError *err) {
        size_t index;
        int r;

        r = check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!pod_find(s, pod_uid, &index))
                return plugin_error_set(err, ENOENT, "Pod %s is not known.", pod_uid);
        pod_remove_at(s, index);
        pools_update(s);
        return 0;
}

int qrm_state_remove_container(QrmState *s, const char *pod_uid, const char *container_name, PluginError *err) {
        size_t index;
        Entry *e;
        Pod *pod;
        int r;

        r = check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!container_name)
                return plugin_error_set(err, EINVAL, "No container name.");
        pod = pod_find(s, pod_uid, &index);
        e = pod_find_entry(pod, container_name);
        if (!e)
                return plugin_error_set(err, ENOENT, "Container \"%.*s\" of pod %s is not known.", QRM_NAME_MAX,
                                        container_name, pod_uid);

        if (e == pod->pod_level) {
                entry_done(e);
                free(pod->pod_level);
                pod->pod_level = NULL;
        } else {
                size_t i = (size_t) (e - pod->containers);

                entry_done(e);
                memmove(pod->containers + i, pod->containers + i + 1,
                        (pod->n_containers - i - 1) * sizeof(Entry));
                pod->n_containers--;
        }
        s->n_entries--;
        if (pod_n_entries(pod) == 0)
                pod_remove_at(s, index);
        pools_update(s);
        return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the state                                                   */
/* ------------------------------------------------------------------ */

static bool resource_valid(Resource r) {
        return r == RESOURCE_CPU || r == RESOURCE_MEMORY;
}

int qrm_state_get_allocations(const QrmState *s, Resource resource, QrmAllocations *ret) {
        QrmAllocations a = {};
        int r;

        if (!resource_valid(resource))
                return -EINVAL;
        if (s->n_pods > 0) {
                a.pods = calloc(s->n_pods, sizeof(QrmPodAllocation));
                if (!a.pods)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                QrmPodAllocation *pa = &a.pods[a.n_pods];
                size_t n = pod_n_entries(pod);

                pa->containers = calloc(n, sizeof(QrmContainerAllocation));
                pa->pod_uid = strdup(pod->uid);
                a.n_pods++;
                if (!pa->containers || !pa->pod_uid) {
                        r = -ENOMEM;
                        goto fail;
                }
                for (size_t j = 0; j < n; j++) {
                        const Entry *e = pod->pod_level ? (j == 0 ? pod->pod_level : &pod->containers[j - 1])
                                                        : &pod->containers[j];
                        QrmContainerAllocation *ca = &pa->containers[pa->n_containers];

                        if (!e->allocated[resource])
                                continue;
                        ca->container_name = strdup(e->name);
                        if (!ca->container_name) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        pa->n_containers++;
                        r = entry_info(s, pod, e, resource, &ca->info);
                        if (r < 0)
                                goto fail;
                }
                if (pa->n_containers == 0) {
                        /* Nothing for this resource: not listed. */
                        free(pa->containers);
                        free(pa->pod_uid);
                        *pa = (QrmPodAllocation) {};
                        a.n_pods--;
                }
        }
        *ret = a;
        return 0;

fail:
        qrm_allocations_done(&a);
        return r;
}

int qrm_state_get_topology_aware_resources(const QrmState *s, const char *pod_uid, const char *container_name,
                                           Resource resource, QrmTopologyAwareResource *ret, PluginError *err) {
        QrmTopologyAwareResource out = {
                .is_node_resource = false,
                .is_scalar_resource = true,
        };
        CpuMask cpus, mems;
        const Entry *e;
        const Pod *pod;
        size_t i = 0;
        int r;

        r = check_uid(pod_uid, err);
        if (r < 0)
                return r;
        if (!container_name)
                return plugin_error_set(err, EINVAL, "No container name.");
        if (!resource_valid(resource))
                return plugin_error_set(err, EINVAL, "Unsupported resource.");
        pod = pod_find(s, pod_uid, NULL);
        e = pod_find_entry(pod, container_name);
        if (!e || !e->allocated[resource])
                return plugin_error_set(err, ENOENT, "Container \"%.*s\" of pod %s has no %s allocation.",
                                        QRM_NAME_MAX, container_name, pod_uid, resource_to_string(resource));

        entry_cpuset(s, pod, e, &cpus, &mems);
        out.n_nodes = cpu_mask_count(&mems);
        if (out.n_nodes > 0) {
                out.nodes = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
                if (!out.nodes)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
        }
        CPU_MASK_FOREACH(node, &mems) {
                double v;

                if (resource == RESOURCE_CPU) {
                        CpuMask m;

                        cpu_mask_and(&m, &cpus, &s->topology->node_cpus[node]);
                        v = cpu_mask_count(&m);
                } else
                        v = e->request[RESOURCE_MEMORY] / (double) out.n_nodes;
                out.nodes[i++] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = v };
                out.aggregated_quantity += v;
        }
        if (resource == RESOURCE_MEMORY)
                out.aggregated_quantity = e->request[RESOURCE_MEMORY];
        *ret = out;
        return 0;
}

int qrm_state_get_allocatable(const QrmState *s, Resource resource, QrmAllocatableResource *ret) {
        const CpuTopology *t = s->topology;
        QrmAllocatableResource out = {
                .is_node_resource = false,
                .is_scalar_resource = true,
        };
        unsigned n_with_memory = 0;
        size_t i = 0;

        if (!resource_valid(resource))
                return -EINVAL;
        out.n_nodes = cpu_mask_count(&t->nodes);
        out.allocatable = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
        out.capacity = calloc(out.n_nodes, sizeof(QrmNodeQuantity));
        if (!out.allocatable || !out.capacity) {
                qrm_allocatable_resource_done(&out);
                return -ENOMEM;
        }

        CPU_MASK_FOREACH(node, &t->nodes)
                if (t->node_memory[node] > 0)
                        n_with_memory++;

        CPU_MASK_FOREACH(node, &t->nodes) {
                double cap, alloc;

                if (resource == RESOURCE_CPU) {
                        CpuMask m;

                        cap = cpu_mask_count(&t->node_cpus[node]);
                        cpu_mask_andnot(&m, &t->node_cpus[node], &s->reserved);
                        alloc = cpu_mask_count(&m);
                } else {
                        cap = (double) t->node_memory[node];
                        alloc = cap > 0 ? MAX(0.0, cap - (double) s->reserved_memory / n_with_memory) : 0;
                }
                out.capacity[i] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = cap };
                out.allocatable[i] = (QrmNodeQuantity) { .node = (uint64_t) node, .value = alloc };
                out.aggregated_capacity += cap;
                out.aggregated_allocatable += alloc;
                i++;
        }
        *ret = out;
        return 0;
}

int qrm_state_get_container_cpuset(const QrmState *s, const char *pod_uid, const char *container_name,
                                   QosClass *ret_class, CpuMask *ret_cpus, CpuMask *ret_mems) {
        const Pod *pod;
        const Entry *e;
        CpuMask cpus, mems;

        if (!pod_uid || !container_name)
                return -EINVAL;
        pod = pod_find(s, pod_uid, NULL);
        e = pod_find_entry(pod, container_name);
        if (!e)
                return -ENOENT;
        entry_cpuset(s, pod, e, &cpus, &mems);
        if (ret_class)
                *ret_class = e->qos_class;
        if (ret_cpus)
                *ret_cpus = cpus;
        if (ret_mems)
                *ret_mems = mems;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Checkpoint support                                                  */
/* ------------------------------------------------------------------ */

static void entry_record(const Pod *pod, const Entry *e, QrmRecord *ret) {
        *ret = (QrmRecord) {
                .pod_uid = pod->uid,
                .pod_namespace = pod->namespace,
                .pod_name = pod->name,
                .container_name = e->name,
                .container_type = e->type,
                .container_index = e->index,
                .qos_class = e->qos_class,
                .allocated = { e->allocated[0], e->allocated[1] },
                .request = { e->request[0], e->request[1] },
                .exclusive = e->exclusive,
                .memory_hint = e->memory_hint,
        };
}

int qrm_state_foreach_record(const QrmState *s, int (*cb)(const QrmRecord *rec, void *userdata), void *userdata) {
        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                QrmRecord rec;
                int r;

                if (pod->pod_level) {
                        entry_record(pod, pod->pod_level, &rec);
                        r = cb(&rec, userdata);
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < pod->n_containers; j++) {
                        entry_record(pod, &pod->containers[j], &rec);
                        r = cb(&rec, userdata);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int qrm_state_restore_record(QrmState *s, const QrmRecord *rec, PluginError *err) {
        const CpuTopology *t = s->topology;
        _cleanup_free_ CpuMask *exclusive = NULL, *memory_hint = NULL;
        _cleanup_(insert_done) Insert ins = {};
        bool pod_level;
        Entry *e;
        Pod *pod;
        int r;

        if (!rec || !name_valid(rec->pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod uid.");
        if (!name_valid(rec->pod_namespace, QRM_NAME_MAX, true) || !name_valid(rec->pod_name, QRM_NAME_MAX, true) ||
            !rec->container_name || !name_valid(rec->container_name, QRM_NAME_MAX, true))
                return plugin_error_set(err, EINVAL, "Malformed names in pod %s.", rec->pod_uid);
        pod_level = !*rec->container_name;
        if (rec->container_type < 0 || rec->container_type >= _QRM_CONTAINER_TYPE_MAX ||
            (pod_level && (rec->container_type != QRM_CONTAINER_MAIN || rec->container_index != 0)))
                return plugin_error_set(err, EINVAL, "Bad container type or index in pod %s.", rec->pod_uid);
        if (rec->qos_class < 0 || rec->qos_class >= _QOS_CLASS_MAX)
                return plugin_error_set(err, EINVAL, "Bad QoS class in pod %s.", rec->pod_uid);
        if (!rec->allocated[RESOURCE_CPU] && !rec->allocated[RESOURCE_MEMORY])
                return plugin_error_set(err, EINVAL, "An entry of pod %s without allocation.", rec->pod_uid);
        for (int i = 0; i < N_RESOURCES; i++) {
                double v = rec->request[i];

                if (!isfinite(v) || v < 0 || (!rec->allocated[i] && v != 0))
                        return plugin_error_set(err, EINVAL, "Bad %s request in pod %s.",
                                                resource_to_string((Resource) i), rec->pod_uid);
        }
        if (rec->request[RESOURCE_CPU] > cpu_mask_count(&t->online))
                return plugin_error_set(err, ESTALE, "The CPU request of pod %s exceeds this node's CPUs.",
                                        rec->pod_uid);
        if (node_memory_known(t) && rec->request[RESOURCE_MEMORY] > (double) node_memory_total(t))
                return plugin_error_set(err, ESTALE, "The memory request of pod %s exceeds this node's memory.",
                                        rec->pod_uid);

        pod = pod_find(s, rec->pod_uid, NULL);
        if (pod && (!streq_ptr(pod->namespace, rec->pod_namespace ?: "") ||
                    !streq_ptr(pod->name, rec->pod_name ?: "")))
                return plugin_error_set(err, EINVAL, "Pod %s has two names.", rec->pod_uid);
        if (pod_find_entry(pod, rec->container_name))
                return plugin_error_set(err, EINVAL, "Container \"%s\" of pod %s is there twice.",
                                        rec->container_name, rec->pod_uid);

        if (rec->exclusive) {
                CpuMask usable;

                if (rec->qos_class != QOS_CLASS_DEDICATED_CORES || !rec->allocated[RESOURCE_CPU] ||
                    cpu_mask_is_empty(rec->exclusive) ||
                    !needs_own_cpus(pod, pod_level, rec->container_type) ||
                    cpu_mask_count(rec->exclusive) != cpus_needed(rec->request[RESOURCE_CPU]))
                        return plugin_error_set(err, EINVAL, "Exclusive CPUs of pod %s that it cannot hold.",
                                                rec->pod_uid);
                cpu_mask_andnot(&usable, &t->online, &s->reserved);
                if (!cpu_mask_is_subset(rec->exclusive, &usable))
                        return plugin_error_set(err, ESTALE,
                                                "Exclusive CPUs of pod %s are offline or reserved now.",
                                                rec->pod_uid);
                if (cpu_mask_intersects(rec->exclusive, &s->dedicated))
                        return plugin_error_set(err, ESTALE, "Exclusive CPUs of pod %s are held twice.",
                                                rec->pod_uid);
        }
        if (rec->memory_hint) {
                if (rec->qos_class != QOS_CLASS_DEDICATED_CORES || cpu_mask_is_empty(rec->memory_hint))
                        return plugin_error_set(err, EINVAL, "A memory hint in pod %s that it cannot have.",
                                                rec->pod_uid);
                if (!cpu_mask_is_subset(rec->memory_hint, &t->nodes))
                        return plugin_error_set(err, ESTALE, "The memory hint of pod %s names missing nodes.",
                                                rec->pod_uid);
        }

        if (!pod && s->n_pods >= QRM_PODS_MAX)
                return plugin_error_set(err, E2BIG, "Too many pods (the limit is %d).", QRM_PODS_MAX);
        if (s->n_entries >= QRM_CONTAINERS_MAX)
                return plugin_error_set(err, E2BIG, "Too many containers (the limit is %d).", QRM_CONTAINERS_MAX);

        if (rec->exclusive) {
                exclusive = malloc(sizeof(CpuMask));
                if (!exclusive)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *exclusive = *rec->exclusive;
        }
        if (rec->memory_hint) {
                memory_hint = malloc(sizeof(CpuMask));
                if (!memory_hint)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                *memory_hint = *rec->memory_hint;
        }
        r = insert_prepare(s, rec->pod_uid, rec->pod_namespace, rec->pod_name, rec->container_name, pod_level, &ins);
        if (r < 0)
                return plugin_error_set(err, r, "Out of memory.");

        e = insert_commit(s, &ins, &pod);
        e->type = rec->container_type;
        e->index = rec->container_index;
        e->qos_class = rec->qos_class;
        for (int i = 0; i < N_RESOURCES; i++) {
                e->allocated[i] = rec->allocated[i];
                e->request[i] = rec->request[i];
        }
        e->exclusive = TAKE_PTR(exclusive);
        e->memory_hint = TAKE_PTR(memory_hint);
        pools_update(s);
        return 0;
}

/* ------------------------------------------------------------------ */
/* Invariants                                                          */
/* ------------------------------------------------------------------ */

int qrm_state_verify(const QrmState *s) {
        const CpuTopology *t = s->topology;
        CpuMask dedicated = {}, usable, m;
        size_t n_entries = 0;

        cpu_mask_andnot(&usable, &t->online, &s->reserved);
        for (size_t i = 0; i < s->n_pods; i++) {
                const Pod *pod = &s->pods[i];
                size_t n = pod_n_entries(pod);

                if (!name_valid(pod->uid, QRM_UID_MAX, false) || !pod->namespace || !pod->name)
                        return -EUCLEAN;
                if (i > 0 && strcmp(s->pods[i - 1].uid, pod->uid) >= 0)
                        return -EUCLEAN;
                if (n == 0)
                        return -EUCLEAN;
                for (size_t j = 0; j < n; j++) {
                        const Entry *e = pod->pod_level ? (j == 0 ? pod->pod_level : &pod->containers[j - 1])
                                                        : &pod->containers[j];

                        if (!e->name || (e == pod->pod_level) != (*e->name == 0))
                                return -EUCLEAN;
                        if (!e->allocated[0] && !e->allocated[1])
                                return -EUCLEAN;
                        for (int k = 0; k < N_RESOURCES; k++)
                                if (!isfinite(e->request[k]) || e->request[k] < 0)
                                        return -EUCLEAN;
                        if (e->exclusive) {
                                if (e->qos_class != QOS_CLASS_DEDICATED_CORES || cpu_mask_is_empty(e->exclusive) ||
                                    !cpu_mask_is_subset(e->exclusive, &usable) ||
                                    cpu_mask_intersects(e->exclusive, &dedicated))
                                        return -EUCLEAN;
                                cpu_mask_or(&dedicated, &dedicated, e->exclusive);
                        }
                        if (e->memory_hint && !cpu_mask_is_subset(e->memory_hint, &t->nodes))
                                return -EUCLEAN;
                        for (size_t k = 0; k < pod->n_containers; k++)
                                if (&pod->containers[k] != e && strcmp(pod->containers[k].name, e->name) == 0)
                                        return -EUCLEAN;
                }
                if (pod->pod_level && pod->pod_level->exclusive && pod_containers_hold_exclusive(pod))
                        return -EUCLEAN;
                n_entries += n;
        }
        if (n_entries != s->n_entries || s->n_pods > QRM_PODS_MAX || s->n_entries > QRM_CONTAINERS_MAX)
                return -EUCLEAN;

        if (!cpu_mask_equal(&dedicated, &s->dedicated))
                return -EUCLEAN;
        cpu_mask_andnot(&m, &usable, &dedicated);
        if (!cpu_mask_equal(&m, &s->available))
                return -EUCLEAN;
        cpu_mask_or(&m, &s->shared, &s->reclaimed);
        if (!cpu_mask_equal(&m, &s->available))
                return -EUCLEAN;
        if (!cpu_mask_equal(&s->shared, &s->reclaimed) && cpu_mask_intersects(&s->shared, &s->reclaimed))
                return -EUCLEAN;
        if (!cpu_mask_is_empty(&s->available) && cpu_mask_is_empty(&s->shared))
                return -EUCLEAN;
        return 0;
}
