/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The pressure indicators of the latency-sensitive side (shared_cores and
 * dedicated_cores), read from a snapshot: what each resource's controller
 * holds against its targets. Pure. */

#include <stdbool.h>

#include "qos/app-signals.h"
#include "qos/resource.h"
#include "qos/snapshot.h"

typedef enum Indicator {
        INDICATOR_CPU_APP_LATENCY,      /* reported p99 vs SLO x (1 - slack target), us */
        INDICATOR_CPU_RUNQUEUE_P99,     /* run-queue latency p99, us (eBPF) */
        INDICATOR_CPU_PSI,              /* cgroup CPU PSI some, stall ratio (v2) */
        INDICATOR_CPU_UTILIZATION,      /* node CPU busy / capacity */
        INDICATOR_MEMORY_AVAILABLE,     /* node MemAvailable / MemTotal */
        INDICATOR_MEMORY_RECLAIM_STALL, /* reclaim stall, ms per second (eBPF) */
        INDICATOR_MEMORY_PSI,           /* cgroup memory PSI some, stall ratio (v2) */
        INDICATOR_IO_LATENCY_P99,       /* block IO latency p99, us (eBPF) */
        INDICATOR_IO_PSI,               /* cgroup IO PSI some, stall ratio (v2) */
        _INDICATOR_MAX,
        _INDICATOR_INVALID = -1,
} Indicator;

/* Below this many wakeups in a tick, a class's run-queue p99 is its one or
 * two worst samples: the p90 stands in for it, so that a nearly idle
 * latency-sensitive pod's single late wakeup does not take all of
 * best-effort's CPU away. */
#define INDICATOR_RUNQUEUE_MIN_EVENTS_FOR_P99 100

typedef struct IndicatorInfo {
        Resource resource;
        const char *name; /* "runqueue_p99", for status and metrics */
        const char *unit;
        bool higher_is_better;
} IndicatorInfo;

const IndicatorInfo *indicator_info(Indicator i);

typedef enum IndicatorState {
        /* Does not apply here: cgroup PSI on v1, no fresh application
         * report, or the app report replaces run-queue latency. Not a
         * reason for the fail-safe. */
        INDICATOR_UNUSED,
        /* Should be there and is not: its sensor is down, the node file
         * was not read. After a controller's stale_ticks of this, the
         * budget goes to its minimum. */
        INDICATOR_MISSING,
        INDICATOR_PRESENT,
} IndicatorState;

typedef struct IndicatorReading {
        IndicatorState state;
        double value, target; /* in the indicator's unit */
} IndicatorReading;

typedef struct IndicatorTargets {
        double runqueue_p99_usec, cpu_psi, cpu_utilization, app_slack;
        double memory_available, reclaim_stall_ms_per_sec, memory_psi;
        double io_p99_usec, io_psi;
} IndicatorTargets;

/* app: the worst fresh application report, NULL when none. tick_sec: the
 * time the snapshot's per-tick sensor figures cover. */
void indicators_read(const NodeSnapshot *s, const IndicatorTargets *targets, const AppSignal *app, double tick_sec,
                     IndicatorReading ret[_INDICATOR_MAX]);
