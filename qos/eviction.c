/* SPDX-License-Identifier: Apache-2.0 */
#include "eviction.h"

#include <math.h>
#include <string.h>

void eviction_state_init(EvictionState *s) {
        *s = (EvictionState) {};
}

/* A clock that went backwards (a stepped clock, a test) counts as no time
 * passed, never as an enormous span. */
static uint64_t elapsed_usec(uint64_t since, uint64_t now) {
        return now > since ? now - since : 0;
}

bool eviction_check(EvictionState *s, const EvictionParams *params, Resource r, bool violated,
                    bool budget_at_min, uint64_t now_usec) {
        if (r < 0 || r >= _RESOURCE_MAX)
                return false;

        /* While the best-effort budget can still shrink, the controller has
         * a gentler lever left; and a violation that let up even once may
         * be the controller winning. Either way, start over. */
        if (!violated || !budget_at_min) {
                s->in_violation[r] = false;
                return false;
        }
        if (!s->in_violation[r]) {
                s->in_violation[r] = true;
                s->violation_since_usec[r] = now_usec;
        }

        if (elapsed_usec(s->violation_since_usec[r], now_usec) < params->violation_usec)
                return false;
        /* The last eviction's effect on the node takes a while to show; a
         * second one before that would kill on stale evidence. */
        if (s->has_evicted && elapsed_usec(s->last_eviction_usec, now_usec) < params->cooldown_usec)
                return false;
        return true;
}

void eviction_record(EvictionState *s, uint64_t now_usec) {
        s->has_evicted = true;
        s->last_eviction_usec = now_usec;
        /* Killing a workload frees every resource it used, so every
         * resource's evidence predates it: each must be violated for a
         * full violation_usec again. */
        for (size_t r = 0; r < _RESOURCE_MAX; r++)
                if (s->in_violation[r])
                        s->violation_since_usec[r] = now_usec;
}

/* NaN usage would make the order depend on where it sits in the array:
 * it counts as no usage at all. */
static double usage_key(double usage) {
        return isnan(usage) ? -INFINITY : usage;
}

/* A workload without a uid sorts after every named one, so the order stays
 * total. */
static int compare_uid(const char *a, const char *b) {
        if (!a || !b)
                return (a == NULL) - (b == NULL);
        return strcmp(a, b);
}

/* Whether a should be evicted before b. */
static bool evict_before(const EvictionCandidate *a, const EvictionCandidate *b) {
        double ua = usage_key(a->usage), ub = usage_key(b->usage);

        if (a->priority != b->priority)
                return a->priority < b->priority;
        if (ua != ub)
                return ua > ub;
        return compare_uid(a->uid, b->uid) < 0;
}

ssize_t eviction_pick_victim(const EvictionCandidate *c, size_t n) {
        ssize_t victim = -1;

        for (size_t i = 0; i < n; i++) {
                /* Only best-effort work agreed to be evicted; the other
                 * classes have guarantees this agent must not break. */
                if (c[i].qos_class != QOS_CLASS_RECLAIMED_CORES)
                        continue;
                if (victim < 0 || evict_before(&c[i], &c[victim]))
                        victim = (ssize_t) i;
        }
        return victim;
}
