/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A published ApiState as a busy node would have it, for the metrics
 * tests and the scrape benchmark: pods with containers and every counter,
 * PSI and sensor histogram filled, the three sensors up, each
 * controller's indicator, budget and PID terms, a reclaimable estimate,
 * evictions and cgroup writes. Values differ per pod (derived from its
 * index), so nothing renders from a cache. */

#include <stddef.h>

#include "agent/api-state.h"

/* n_pods pods of n_containers each (the last pod, if n_pods > 1, a plain
 * cgroup of a rule instead). NULL on ENOMEM. */
ApiState *metrics_fixture_state(size_t n_pods, size_t n_containers);
