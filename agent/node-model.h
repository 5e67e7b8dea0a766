/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the agent knows of the node, built from the configuration: the cgroup
 * layout, the workloads (pod registry) and their readers (sampler), and the
 * latest snapshot. The manager owns one and rebuilds it on reload. */

#include <stdint.h>

#include "bpf/sensors.h"
#include "config.h"
#include "qos/cgroup-layout.h"
#include "qos/pod-registry.h"
#include "qos/sampler.h"
#include "qos/snapshot.h"

typedef struct NodeModel {
        CgroupLayout layout;
        PodRegistry *registry;
        Sampler *sampler;
        Sensors *sensors; /* some or all may be down */
        NodeSnapshot *snapshot; /* the last tick's, NULL before the first */
} NodeModel;

/* Detects the layout below config->cgroup_mount (read from mountinfo_path),
 * finds the workloads and opens their readers; the node's pressure from
 * pressure_dir, its memory and CPU from proc_dir/meminfo and proc_dir/stat
 * (NULL or missing: those figures are left out; missing is said once).
 * Logs what it found. Returns 0, or -errno after logging why (no usable
 * cgroup hierarchy, inotify). The configuration must outlive the model (the
 * rules are borrowed). */
int node_model_new(const Config *config, const char *mountinfo_path, const char *pressure_dir, const char *proc_dir,
                   NodeModel **ret);
NodeModel *node_model_free(NodeModel *m);
static inline void node_model_freep(NodeModel **m) {
        node_model_free(*m);
}

/* Applies pending cgroup tree changes. Returns >0 if workloads came or went. */
int node_model_refresh(NodeModel *m);

/* Samples everything and replaces the snapshot. Returns 0 or -errno. */
int node_model_sample(NodeModel *m, uint64_t tick, uint64_t now_usec);

/* One line for STATUS= and logs: "12 pods, 30 containers, ... (3 reclaimed_cores);
 * sensors: runqueue up, reclaim up, block_io down". */
void node_model_summary(const NodeModel *m, char *buf, size_t size);
