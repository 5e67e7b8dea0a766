/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The decide and act stages of a tick: indicators from the snapshot, one
 * controller per resource (qos/controller.h), the budgets written by the
 * plugins (plugins/budget-plugins.h), the reclaimable estimate, and the
 * eviction manager. Owned by the manager; runs on the event loop. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/api-state.h"
#include "config.h"
#include "node-model.h"
#include "qos/app-signals.h"
#include "qos/controller.h"
#include "qos/eviction.h"
#include "plugins/cgroup-write-stats.h"
#include "qos/reclaimable.h"

/* Budgets are written in whole 1/256ths of their range's top. */
#define CONTROL_BUDGET_QUANTA 256.0

/* IO has no capacity to read: "max: 0" means this much at the top of the
 * controller's range, where the limit is removed altogether. */
#define CONTROL_IO_NOMINAL_MAX_BPS (1024.0 * 1024 * 1024)

typedef struct CgroupWriter CgroupWriter;
typedef struct BlockDevice BlockDevice;

typedef struct ControlResource {
        bool enabled;
        bool configured; /* params set from a config and capacity */
        ResourceController controller;
        ControllerDecision decision;
        IndicatorReading readings[_INDICATOR_MAX];
        double budget_applied; /* what was written; memory: raised to the floor */
        double floor;          /* memory: the best-effort unreclaimable bytes */
        int last_apply_error;  /* 0, or the last plugin's -errno (logged on change) */
        PeakWindow peak;
        ReclaimableEstimate reclaimable;
        ApiEvictionCounts evictions;
} ControlResource;

typedef struct Control {
        ControlResource res[_RESOURCE_MAX];
        EvictionState eviction;
        uint64_t last_step_usec;
        uint64_t n_steps;

        CgroupWriter *writer;
        const NodeModel *writer_model; /* the model whose layout the writer uses */
        char **writer_roots; /* the managed roots the writer was made for */
        size_t n_writer_roots;
        /* What writers dropped since (a reload, kubepods appearing) had
         * done: the counts stay monotonic for the metrics. */
        CgroupWriteStats retired_writes;

        /* The best-effort members and reclaimed pool the CPU plugin last
         * applied without error: while neither changes, the members are not
         * walked again (1250 unchanged cpu.idle checks cost ~1.3 ms). */
        uint64_t members_applied_hash;
        bool members_applied;

        BlockDevice *devices;
        size_t n_devices;
} Control;

int control_new(Control **ret);
Control *control_free(Control *c);

/* One tick after the snapshot was taken. app: the worst fresh application
 * report (NULL: none). reclaimed_pool: the cpu list best-effort runs on
 * (NULL: leave cpusets alone). dry_run: decide and report, write nothing.
 * Never fails: problems are logged and the next tick tries again. */
void control_tick(Control *c, const Config *config, NodeModel *model, const AppSignal *app,
                  const char *reclaimed_pool, bool dry_run, uint64_t now_usec);

/* The current best-effort budget of r, false while it has none (the
 * controller is off, or before the first tick). */
bool control_budget(const Control *c, Resource r, double *ret);

/* One line for STATUS=: "best-effort budgets: cpu 1500m, memory 3.0 GiB
 * (floor), io no limit; fail-safe: io". */
void control_summary(const Control *c, char *buf, size_t size);

/* Every cgroup write the control stage made since the start, per knob and
 * outcome. */
void control_write_stats(const Control *c, CgroupWriteStats *ret);

/* Copies the controllers' state, the estimate and the eviction counts into
 * a state being built for the API. */
void control_fill_api_state(const Control *c, const Config *config, ApiState *st);
