/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Which workload a sensor's cgroup id belongs to. The eBPF sensors name
 * cgroups by inode number: on v2 the unified tree's, on v1 and hybrid that
 * of the sensor's own controller hierarchy (cpu for run-queue latency,
 * memory for reclaim, blkio for IO), whose numbers overlap between
 * hierarchies. A workload owns its own cgroup's id and its containers'. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/sensors.h"
#include "cgroup-layout.h"
#include "pod-registry.h"

typedef struct SensorAttribution SensorAttribution;

/* Looks up the inode numbers of every workload's and container's cgroup in
 * the hierarchies of each sensor kind (cgroups already gone are left out).
 * Returns 0 or -ENOMEM. */
int sensor_attribution_build(const CgroupLayout *layout, const PodRegistry *registry, SensorAttribution **ret);
SensorAttribution *sensor_attribution_free(SensorAttribution *a);

/* The index in the registry of the workload owning id for kind, or -1. */
ssize_t sensor_attribution_find(const SensorAttribution *a, SensorKind kind, uint64_t id);

/* Calls f for every (kind, id) in old that new lacks: the cgroups removed
 * between two builds, whose map entries the sensors should forget. */
void sensor_attribution_removed(const SensorAttribution *old, const SensorAttribution *new_,
                                void (*f)(uint64_t id, void *userdata), void *userdata);
