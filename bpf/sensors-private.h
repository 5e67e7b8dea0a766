/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* For the tests and benchmarks only: what the agent never needs. */

#include <stddef.h>
#include <stdint.h>

#include "sensors.h"

/* The kernel ids of every BPF program and map that s holds (to check that
 * none remains after sensors_free). Returns 0 or -errno; the arrays are
 * malloc'd. */
int sensors_object_ids(const Sensors *s, uint32_t **ret_prog_ids, size_t *ret_n_progs, uint32_t **ret_map_ids,
                       size_t *ret_n_maps);

/* The cgroup ids in the stats map of sensor k (sorted, malloc'd). Returns
 * 0 or -errno (-ENODEV if the sensor is down). */
int sensors_debug_map_ids(const Sensors *s, SensorKind k, uint64_t **ret_ids, size_t *ret_n);

/* Writes n fake cgroups (ids first_id...) into every up sensor's stats map,
 * each CPU's value derived from seed, as if the kernel had counted events:
 * a later read then sees every one of them change. Returns 0 or -errno. */
int sensors_debug_fill(Sensors *s, uint64_t first_id, unsigned n, uint64_t seed);
