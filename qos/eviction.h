/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The eviction manager's decisions, pure: when to evict, and whom. The kill
 * itself is plugins/evict.h.
 *
 * When: a resource has been in violation (its indicator on the wrong side
 * of its target, past the dead band) continuously for violation_usec while
 * the best-effort budget already sat at its minimum; and the last eviction
 * (of any resource) is at least cooldown_usec ago. After an eviction the
 * violation clock restarts.
 *
 * Whom: reclaimed_cores workloads only, never another class: the lowest
 * priority first, then the largest usage of the resource under pressure,
 * then the uid (a stable order). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "qos/qos-class.h"
#include "qos/resource.h"

typedef struct EvictionParams {
        uint64_t violation_usec;
        uint64_t cooldown_usec;
} EvictionParams;

typedef struct EvictionState {
        bool in_violation[_RESOURCE_MAX];
        uint64_t violation_since_usec[_RESOURCE_MAX];
        bool has_evicted;
        uint64_t last_eviction_usec;
} EvictionState;

void eviction_state_init(EvictionState *s);

/* Feeds one tick's view of resource r. Returns true when a victim should
 * be evicted now for r. */
bool eviction_check(EvictionState *s, const EvictionParams *params, Resource r, bool violated,
                    bool budget_at_min, uint64_t now_usec);

/* Records that an eviction happened (or was logged in dry-run) at now. */
void eviction_record(EvictionState *s, uint64_t now_usec);

typedef struct EvictionCandidate {
        const char *uid;
        const char *cgroup;
        QosClass qos_class;
        int64_t priority; /* Kubernetes pod priority; 0 when unknown */
        double usage;     /* of the resource under pressure */
} EvictionCandidate;

/* The index of the victim among c[0..n), or -1 when there is no
 * reclaimed_cores candidate. */
ssize_t eviction_pick_victim(const EvictionCandidate *c, size_t n);
