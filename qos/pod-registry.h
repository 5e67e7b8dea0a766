/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The workloads on the node, found in the cgroup tree and kept current
 * incrementally: Kubernetes pods and their containers under the kubelet's
 * kubepods hierarchy (either cgroup driver), and on hosts or slices without
 * Kubernetes, the direct children of the configured extra roots, classed by
 * the configuration's rules. inotify on the directories that hold them
 * (kubepods, its QoS tiers, each pod, each extra root) says which directory
 * to list again, so a tick costs nothing when nothing changed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup-layout.h"
#include "kube-cgroup.h"
#include "qos-class.h"

typedef struct Container {
        char id[KUBE_CONTAINER_ID_MAX];
        const char *runtime; /* static string */
        char *cgroup;        /* relative to the hierarchy roots */
} Container;

typedef enum WorkloadKind {
        WORKLOAD_POD,
        WORKLOAD_CGROUP, /* a plain cgroup classed by a rule */
} WorkloadKind;

typedef struct Workload {
        WorkloadKind kind;
        char uid[KUBE_UID_MAX]; /* pods only */
        KubeTier tier;          /* pods only; _KUBE_TIER_INVALID otherwise */
        char *cgroup;
        QosClass qos_class;
        Container *containers;
        size_t n_containers;

        /* registry bookkeeping */
        int watch;
        bool seen;
} Workload;

typedef struct PodRegistry PodRegistry;

typedef struct PodRegistryParams {
        const CgroupLayout *layout;
        CgroupDriver driver;         /* CGROUP_DRIVER_AUTO: detected from the tree */
        const char *kubelet_root;    /* the kubelet's --cgroup-root, relative ("" = hierarchy root) */
        char *const *extra_roots;    /* relative cgroup paths */
        size_t n_extra_roots;
        const QosRule *rules;
        size_t n_rules;
} PodRegistryParams;

/* Sets up the watches and scans everything once. The parameters' strings
 * must outlive the registry. Returns 0 or -errno (-ENOMEM, inotify). */
int pod_registry_new(const PodRegistryParams *params, PodRegistry **ret);
PodRegistry *pod_registry_free(PodRegistry *r);

/* The inotify descriptor, for the event loop: readable when a watched
 * directory changed. */
int pod_registry_fd(const PodRegistry *r);

/* Reads pending inotify events and lists again the directories they name
 * (all of them after a queue overflow). Returns the number of workloads
 * added or removed (0: nothing changed) or -errno. */
int pod_registry_refresh(PodRegistry *r);

/* The driver in use (detected if configured as auto; AUTO while the tree has
 * no kubepods yet). */
CgroupDriver pod_registry_driver(const PodRegistry *r);
/* The kubepods cgroup ("kubepods.slice", "kubepods"), NULL if none yet. */
const char *pod_registry_kube_root(const PodRegistry *r);

size_t pod_registry_count(const PodRegistry *r);
const Workload *pod_registry_get(const PodRegistry *r, size_t i);
/* Bumped whenever the set of workloads or containers changes. */
uint64_t pod_registry_generation(const PodRegistry *r);
