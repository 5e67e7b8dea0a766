/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The allocation state behind Katalyst's QoS Resource Manager (QRM) CPU and
 * memory plugins (shared WIRE.md section 2), as pure C: no gRPC here. The
 * request and answer structs mirror the RPC messages so that the gRPC glue
 * only converts. One QrmState serves both the "cpu" and the "memory" plugin.
 *
 * CPU pools (see plugins/README.md):
 *   reserved   the configured CPUs for system_cores (may be empty)
 *   dedicated  exclusive CPUs of dedicated_cores containers
 *   available  online - reserved - dedicated
 *   reclaimed  by default all of available (best-effort may run anywhere
 *              not exclusive, held back by cpu.idle and its quota); when
 *              the controllers size it to n CPUs, n CPUs carved off the
 *              top of available
 *   shared     available minus a carved reclaimed pool
 * Answers for shared, reclaimed and system containers name the pool as it
 * is now, so a pool change shows in later answers (need_reconcile).
 *
 * Calls are not thread-safe: the event loop owns the state. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/cpu-topology.h"
#include "plugins/plugin-error.h"
#include "qos/qos-class.h"
#include "qos/resource.h"

/* A node with this many is misconfigured or under attack; each entry costs
 * memory and every pool change walks them all. The kubelet's own ceiling
 * (--max-pods) is far lower. */
#define QRM_PODS_MAX 10000
#define QRM_CONTAINERS_MAX 10000

/* Lengths of the names the state keeps (a Kubernetes DNS subdomain; a UID
 * is 36 characters, a static pod's hash 32). */
#define QRM_UID_MAX 64
#define QRM_NAME_MAX 253

/* Kubernetes refuses an object whose annotations (keys and values) hold
 * more than 256 KiB (TotalAnnotationSizeLimitB): a request with more is
 * not from a real kubelet, and refusing it bounds the work a hostile one
 * buys (the requests' 1 MiB limit still allows 100 000 small entries). */
#define QRM_ANNOTATIONS_MAX_BYTES (256 * 1024)

/* qrm_state_set_reclaimed_cpus(): best-effort may use every non-exclusive CPU. */
#define QRM_RECLAIMED_CPUS_ALL (-1)

/* Katalyst's annotation and its extended resources for reclaimed_cores. */
#define QRM_ANNOTATION_KATALYST_QOS_LEVEL "katalyst.kubewharf.io/qos_level"
#define QRM_LABEL_KOORDINATOR_QOS_CLASS "koordinator.sh/qosClass"
#define QRM_ANNOTATION_NODEQOS_QOS_CLASS "nodeqos.io/qos-class"
#define QRM_RESOURCE_RECLAIMED_MILLICPU "resource.katalyst.kubewharf.io/reclaimed_millicpu"
#define QRM_RESOURCE_RECLAIMED_MEMORY "resource.katalyst.kubewharf.io/reclaimed_memory"

/* The OCI properties the plugins answer with. */
#define QRM_OCI_CPUSET_CPUS "CpusetCpus"
#define QRM_OCI_CPUSET_MEMS "CpusetMems"

/* The wire enum's values (ContainerType). */
typedef enum QrmContainerType {
        QRM_CONTAINER_INIT = 0,
        QRM_CONTAINER_MAIN = 1,
        QRM_CONTAINER_SIDECAR = 2,
        QRM_CONTAINER_EPHEMERAL = 3,
        _QRM_CONTAINER_TYPE_MAX,
        _QRM_CONTAINER_TYPE_INVALID = -1,
} QrmContainerType;

const char *qrm_container_type_to_string(QrmContainerType t); /* "INIT", ... */
QrmContainerType qrm_container_type_from_string(const char *s);

typedef struct QrmKeyValue {
        const char *key;
        const char *value;
} QrmKeyValue;

typedef struct QrmQuantity {
        const char *name;
        double value;
} QrmQuantity;

/* A ResourceRequest (per container) or PodResourceRequest (per pod: the
 * container fields are ignored). Strings are borrowed for the call. */
typedef struct QrmResourceRequest {
        const char *pod_uid;       /* required */
        const char *pod_namespace; /* may be NULL or "" */
        const char *pod_name;      /* may be NULL or "" */
        const char *container_name;
        QrmContainerType container_type;
        uint64_t container_index;
        const char *resource_name; /* "cpu" or "memory" (or Katalyst's reclaimed_* names) */
        /* The topology manager's chosen hint; n_hint_nodes 0: none. */
        const uint64_t *hint_nodes;
        size_t n_hint_nodes;
        /* "cpu" in cores, "memory" in bytes, reclaimed_millicpu in
         * millicores, reclaimed_memory in bytes; others are ignored. */
        const QrmQuantity *resource_requests;
        size_t n_resource_requests;
        const QrmKeyValue *labels;
        size_t n_labels;
        const QrmKeyValue *annotations;
        size_t n_annotations;
} QrmResourceRequest;

/* A TopologyHint. nodes is owned by whoever holds the answer. */
typedef struct QrmTopologyHint {
        uint64_t *nodes;
        size_t n_nodes;
        bool preferred;
} QrmTopologyHint;

/* A ResourceAllocationInfo. */
typedef struct QrmAllocationInfo {
        const char *oci_property_name; /* static: QRM_OCI_CPUSET_CPUS or _MEMS */
        bool is_node_resource;         /* false */
        bool is_scalar_resource;       /* true */
        /* cpu: the CPUs in the cpuset (Katalyst's convention); memory: the
         * bytes requested */
        double allocated_quantity;
        char *allocation_result; /* a kernel cpu list: "0-3" */
        QrmTopologyHint hint;    /* the NUMA nodes of the result: resource_hints */
        QosClass qos_class;      /* what the container was classed as */
} QrmAllocationInfo;

void qrm_allocation_info_done(QrmAllocationInfo *i);

/* A ListOfTopologyHints for one resource. */
typedef struct QrmHints {
        /* Any placement will do: Katalyst answers nil hints (shared, reclaimed,
         * system, and containers that follow their pod's CPUs). */
        bool no_preference;
        /* Otherwise the node sets where the request fits; none: it fits
         * nowhere now (the topology manager refuses the pod). */
        QrmTopologyHint *hints;
        size_t n_hints;
} QrmHints;

void qrm_hints_done(QrmHints *h);

/* GetResourcesAllocation: pod -> container -> the resource's allocation.
 * A pod-level allocation (AllocateForPod) is listed as container "". */
typedef struct QrmContainerAllocation {
        char *container_name;
        QrmAllocationInfo info;
} QrmContainerAllocation;

typedef struct QrmPodAllocation {
        char *pod_uid;
        QrmContainerAllocation *containers;
        size_t n_containers;
} QrmPodAllocation;

typedef struct QrmAllocations {
        QrmPodAllocation *pods;
        size_t n_pods;
} QrmAllocations;

void qrm_allocations_done(QrmAllocations *a);

/* A TopologyAwareQuantity: the glue adds topology_level NUMA. */
typedef struct QrmNodeQuantity {
        uint64_t node;
        double value;
} QrmNodeQuantity;

/* A TopologyAwareResource (original_* are the same values). */
typedef struct QrmTopologyAwareResource {
        bool is_node_resource;   /* false */
        bool is_scalar_resource; /* true */
        double aggregated_quantity;
        QrmNodeQuantity *nodes;
        size_t n_nodes;
} QrmTopologyAwareResource;

void qrm_topology_aware_resource_done(QrmTopologyAwareResource *r);

/* An AllocatableTopologyAwareResource. cpu: CPUs; memory: bytes (nodes of
 * unknown memory count 0). */
typedef struct QrmAllocatableResource {
        bool is_node_resource;   /* false */
        bool is_scalar_resource; /* true */
        double aggregated_allocatable;
        double aggregated_capacity;
        QrmNodeQuantity *allocatable; /* [n_nodes] */
        QrmNodeQuantity *capacity;    /* [n_nodes] */
        size_t n_nodes;
} QrmAllocatableResource;

void qrm_allocatable_resource_done(QrmAllocatableResource *r);

/* ResourcePluginOptions. */
typedef struct QrmPluginOptions {
        bool pre_start_required;
        bool with_topology_alignment;
        bool need_reconcile;
} QrmPluginOptions;

/* What Katalyst's CPU plugin answers, for both resources: no PreStart,
 * topology-aligned, reconciled (answers follow pool changes). */
QrmPluginOptions qrm_plugin_options(Resource resource);

typedef struct QrmStateParams {
        const CpuTopology *topology; /* required; must outlive the state */
        const CpuMask *reserved_cpus; /* for system_cores; NULL or empty: none */
        /* The shared pool never shrinks below this many CPUs, nor below
         * the sum of its containers' requests; 0: 1. */
        unsigned shared_cpus_min;
        /* Memory kept back from allocatable, split evenly over the nodes. */
        uint64_t reserved_memory_bytes;
} QrmStateParams;

typedef struct QrmState QrmState;

/* Returns 0, -ENOMEM, or -EINVAL (with a message) if the reserved CPUs are
 * not online or leave fewer than shared_cpus_min CPUs. */
int qrm_state_new(const QrmStateParams *params, QrmState **ret, PluginError *err);
QrmState *qrm_state_free(QrmState *s);
static inline void qrm_state_freep(QrmState **s) {
        qrm_state_free(*s);
}

/* The class of a workload from its labels and annotations, by the
 * precedence of qos_class_resolve(): the Katalyst annotation, the
 * Koordinator label, our annotation, then kube_tier (a KubeTier, or -1 for
 * none: the QRM API passes -1, the runtime hooks the tier of the cgroup
 * parent). Nothing decides: shared_cores, Katalyst's default. */
QosClass qrm_resolve_qos_class(const QrmKeyValue *labels, size_t n_labels, const QrmKeyValue *annotations,
                               size_t n_annotations, int kube_tier);

/* The resource a QRM resource name is about: RESOURCE_CPU, RESOURCE_MEMORY,
 * or _RESOURCE_INVALID. */
Resource qrm_resource_from_name(const char *name);

/* Allocate (per container) and AllocateForPod. The class comes from the
 * request's labels and annotations (qrm_resolve_qos_class(), kube tier
 * -1). dedicated_cores MAIN containers (and pod-level allocations) get
 * ceil(request) exclusive CPUs, on one NUMA node when they fit one (within
 * the hint's nodes if a hint is given); other containers of a dedicated pod
 * run on the pod's exclusive CPUs (or the shared pool until there are
 * some). Re-allocating the same container with the same request answers the
 * same; with another request it is allocated again (atomically). Returns 0
 * and the answer, or with a message and no change to the state:
 *   -EINVAL   empty or malformed pod_uid or container name, unknown resource,
 *             a request that is negative, not finite, larger than the node,
 *             or given twice; a dedicated MAIN container without CPU
 *             request; hint nodes that do not exist; a class or container
 *             type that differs from the container's allocation
 *   -ENOSPC   not enough free CPUs for the exclusive allocation
 *   -E2BIG    QRM_PODS_MAX or QRM_CONTAINERS_MAX reached
 *   -ENOMEM */
int qrm_state_allocate(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err);
int qrm_state_allocate_pod(QrmState *s, const QrmResourceRequest *req, QrmAllocationInfo *ret, PluginError *err);

/* GetTopologyHints / GetPodTopologyHints: where the request would fit now
 * (an allocated container: where it is). Errors as qrm_state_allocate()
 * minus -ENOSPC and -E2BIG (a request that fits nowhere gets no hints). */
int qrm_state_get_topology_hints(const QrmState *s, const QrmResourceRequest *req, QrmHints *ret,
                                 PluginError *err);
int qrm_state_get_pod_topology_hints(const QrmState *s, const QrmResourceRequest *req, QrmHints *ret,
                                     PluginError *err);

/* RemovePod: frees every allocation of the pod. -EINVAL for an empty uid,
 * -ENOENT for a pod the state does not know. */
int qrm_state_remove_pod(QrmState *s, const char *pod_uid, PluginError *err);
/* One container (name "" for the pod-level entry); a pod left without
 * entries is removed. -EINVAL, -ENOENT as above. */
int qrm_state_remove_container(QrmState *s, const char *pod_uid, const char *container_name,
                               PluginError *err);

/* GetResourcesAllocation for one resource: every container allocated for
 * it, with the answer qrm_state_allocate() would give now. 0 or -ENOMEM. */
int qrm_state_get_allocations(const QrmState *s, Resource resource, QrmAllocations *ret);

/* GetTopologyAwareResources for one container (name "" for the pod-level
 * entry): the answer's quantity per NUMA node. -ENOENT if the container is
 * not allocated for that resource, -EINVAL for bad arguments. */
int qrm_state_get_topology_aware_resources(const QrmState *s, const char *pod_uid, const char *container_name,
                                           Resource resource, QrmTopologyAwareResource *ret, PluginError *err);

/* GetTopologyAwareAllocatableResources: capacity and allocatable (capacity
 * minus reserved) per NUMA node. 0, -EINVAL, -ENOMEM. */
int qrm_state_get_allocatable(const QrmState *s, Resource resource, QrmAllocatableResource *ret);

typedef enum QrmPool {
        QRM_POOL_RESERVED,
        QRM_POOL_DEDICATED, /* every exclusive CPU */
        QRM_POOL_SHARED,
        QRM_POOL_RECLAIMED,
        _QRM_POOL_MAX,
} QrmPool;

void qrm_state_get_pool(const QrmState *s, QrmPool pool, CpuMask *ret);

/* Sizes the reclaimed pool: n >= 1 CPUs carved off the shared pool, as many
 * as the shared pool can spare above its floor (the rest of the time it is
 * smaller, down to sharing the shared pool's CPUs when nothing can be
 * spared), or QRM_RECLAIMED_CPUS_ALL. -EINVAL for other values. */
int qrm_state_set_reclaimed_cpus(QrmState *s, int n, PluginError *err);
int qrm_state_get_reclaimed_cpus(const QrmState *s);

/* The CPUs and NUMA nodes a container runs on now, and its class (for the
 * runtime hooks). -ENOENT if the state does not know it. */
int qrm_state_get_container_cpuset(const QrmState *s, const char *pod_uid, const char *container_name,
                                   QosClass *ret_class, CpuMask *ret_cpus, CpuMask *ret_mems);

/* Bumped by every change of state or pools: answers may have changed. */
uint64_t qrm_state_generation(const QrmState *s);
size_t qrm_state_n_pods(const QrmState *s);
size_t qrm_state_n_containers(const QrmState *s); /* pod-level entries included */
const CpuTopology *qrm_state_topology(const QrmState *s);

/* Checks every invariant (exclusive sets disjoint and inside online minus
 * reserved, pools consistent, pods sorted and unique, counts). 0 or
 * -EUCLEAN. For tests and fuzzers. */
int qrm_state_verify(const QrmState *s);

/* What the checkpoint keeps of one entry (container or pod-level, name ""). */
typedef struct QrmRecord {
        const char *pod_uid;
        const char *pod_namespace; /* "" if not known */
        const char *pod_name;
        const char *container_name; /* "" for the pod-level entry */
        QrmContainerType container_type;
        uint64_t container_index;
        QosClass qos_class;
        bool allocated[2];         /* [RESOURCE_CPU], [RESOURCE_MEMORY] */
        double request[2];         /* cores, bytes */
        const CpuMask *exclusive;   /* own exclusive CPUs; NULL: none */
        const CpuMask *memory_hint; /* nodes of the memory allocation's hint; NULL: none */
} QrmRecord;

/* Calls cb for every entry in a stable order: pods by uid, the pod-level
 * entry first, then containers in the order they were first allocated. The
 * record's pointers live for the call. Stops at and returns the first
 * negative value cb returns; 0 otherwise. */
int qrm_state_foreach_record(const QrmState *s, int (*cb)(const QrmRecord *rec, void *userdata), void *userdata);

/* Puts an entry back as it was (checkpoint restore): it is appended to its
 * pod (created if new) without choosing anything. Returns 0 or, with a
 * message, -EINVAL (malformed, duplicate, or inconsistent with its pod's
 * namespace and name), -ESTALE (exclusive CPUs offline, reserved or
 * already held: the machine or the configuration changed), -E2BIG,
 * -ENOMEM. */
int qrm_state_restore_record(QrmState *s, const QrmRecord *rec, PluginError *err);

/* Forgets every pod and resets the reclaimed pool to all. */
void qrm_state_reset(QrmState *s);
