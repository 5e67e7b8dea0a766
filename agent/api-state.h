/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the API's readers see of the agent: the last tick's NodeSnapshot
 * plus the few facts around it that GetStatus reports (layout, sensors,
 * per-resource control, dry run). Built by the event loop after each tick,
 * immutable once published and reference-counted, so gRPC's thread reads it
 * while the loop builds the next one; an ApiStateBox hands it over. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugins/cgroup-write-stats.h"
#include "qos/cgroup-layout.h"
#include "qos/kube-cgroup.h"
#include "qos/resource.h"
#include "qos/snapshot.h"
#include "tick-durations.h"

/* One resource's controller as GetStatus shows it. The targets and bounds
 * come from the configuration; the has_* parts are filled by the sensors
 * and controllers once they produce them. */
typedef struct ApiResourceStatus {
        bool controller_enabled;
        const char *indicator_name, *indicator_unit, *budget_unit; /* static strings */
        double target;
        double budget_min, budget_max;

        bool has_indicator;
        double indicator;
        uint64_t indicator_tick;
        bool indicator_stale;

        bool has_budget;
        double budget;
        uint64_t budget_tick;

        bool has_pid;
        double pid_error, pid_proportional, pid_integral, pid_derivative, pid_output;
        bool pid_saturated;
        /* Which indicator set the budget ("runqueue_p99", "app_slack", ...,
         * "fail_safe"); a static string, NULL before the first decision. */
        const char *limiting_indicator;
} ApiResourceStatus;

/* The reclaimable estimate of one resource (qos/reclaimable.h), in the
 * budget's unit. */
typedef struct ApiReclaimable {
        bool known;
        double capacity, ls_peak, reserve, reclaimable;
} ApiReclaimable;

/* Evictions since the start, per resource under pressure. */
typedef struct ApiEvictionCounts {
        uint64_t evicted;  /* processes of a victim killed */
        uint64_t dry_run;  /* chosen and only logged (eviction.dry_run or SetDryRun) */
        uint64_t failed;   /* the kill failed */
} ApiEvictionCounts;

typedef struct ApiSensorStatus {
        char *name;
        bool up;
        char *reason; /* NULL when up */
} ApiSensorStatus;

typedef struct ApiState {
        atomic_uint refcount;

        uint64_t built_usec; /* CLOCK_MONOTONIC */
        uint64_t started_usec;
        uint64_t tick;
        uint64_t tick_interval_usec;
        bool dry_run;

        /* The last tick's snapshot; NULL before the first. Holds a ref. */
        NodeSnapshot *snapshot;

        CgroupMode mode;
        char *controller_mount[_CGROUP_CONTROLLER_MAX]; /* NULL: not available */
        char *pressure_mount;                          /* NULL on pure v1 */
        bool has_kube;
        CgroupDriver driver;
        char *kube_root;

        ApiResourceStatus resources[_RESOURCE_MAX];
        ApiReclaimable reclaimable[_RESOURCE_MAX];
        ApiEvictionCounts evictions[_RESOURCE_MAX];
        ApiSensorStatus *sensors;
        size_t n_sensors;

        /* Every tick's duration so far (manager_tick()). */
        TickDurations tick_durations;
        /* What the cgroup writer did, per knob and outcome, since the
         * start; has_cgroup_writes false while the agent owns no writer. */
        bool has_cgroup_writes;
        CgroupWriteStats cgroup_writes;

        size_t n_pods, n_containers, n_other_cgroups;
        size_t n_by_class[_QOS_CLASS_MAX];
} ApiState;

/* A zeroed state with one reference; NULL on ENOMEM. */
ApiState *api_state_new(void);
ApiState *api_state_ref(ApiState *s);
ApiState *api_state_unref(ApiState *s);
static inline void api_state_unrefp(ApiState **s) {
        api_state_unref(*s);
}

/* Copies the layout's mount points into s. Returns 0 or -ENOMEM. */
int api_state_set_layout(ApiState *s, const CgroupLayout *layout);
/* Appends a sensor. Returns 0 or -ENOMEM. */
int api_state_add_sensor(ApiState *s, const char *name, bool up, const char *reason);

/* The hand-over point between the loop (publish) and readers on other
 * threads (get): a mutex and a reference, nothing else. */
typedef struct ApiStateBox {
        pthread_mutex_t lock;
        ApiState *state;
} ApiStateBox;

void api_state_box_init(ApiStateBox *b);
/* Drops the published state. */
void api_state_box_done(ApiStateBox *b);
/* Publishes s (takes a new reference; the previous state is released). */
void api_state_box_publish(ApiStateBox *b, ApiState *s);
/* The latest state with a reference for the caller, or NULL if none yet. */
ApiState *api_state_box_get(ApiStateBox *b);
