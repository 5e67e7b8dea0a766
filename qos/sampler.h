/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Each tick: reads every workload's and container's statistics (through
 * readers that keep their files open) and the node's pressure, and builds
 * the tick's NodeSnapshot. Readers follow the registry: opened for new
 * cgroups, closed for gone ones, only when the registry changed. */

#include <stdint.h>

#include "cgroup-layout.h"
#include "pod-registry.h"
#include "bpf/sensors.h"
#include "snapshot.h"

typedef struct Sampler Sampler;

/* pressure_dir: normally "/proc/pressure"; NULL or missing: no node PSI.
 * period_ticks: each cgroup is read every this many ticks, a share of them
 * each tick (a new cgroup at once); its usage in the snapshots in between
 * is the last one read. */
int sampler_new(const CgroupLayout *layout, const char *pressure_dir, unsigned period_ticks, Sampler **ret);
Sampler *sampler_free(Sampler *s);

/* Reads the node's memory and CPU time from proc_dir/meminfo and
 * proc_dir/stat (normally "/proc") each tick from now on: two files, kept
 * open. Returns 0, or -errno from node_stats_reader_open() (the snapshots
 * then go without those figures). */
int sampler_open_node_stats(Sampler *s, const char *proc_dir);

/* Samples this tick's share of what the registry holds at time now_usec
 * (monotonic), the kubelet's QoS-level cgroups, the node's pressure, memory
 * and CPU. Cgroups that vanished since the registry last looked are left out
 * of the snapshot quietly. Returns 0 and a snapshot with one reference, or
 * -ENOMEM. */
int sampler_sample(Sampler *s, const PodRegistry *registry, uint64_t tick, uint64_t now_usec,
                   NodeSnapshot **ret);

/* Attributes the sensors' per-cgroup figures to the workloads from the next
 * sample on (NULL: none). The sensors must outlive the sampler's use. */
void sampler_set_sensors(Sampler *s, Sensors *sensors);

/* Readers currently open (pods + containers), for status and tests. */
size_t sampler_tracked(const Sampler *s);
