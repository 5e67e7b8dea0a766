/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's state and its one event loop: signals, the tick timer, the
 * watchdog, configuration reloads, and the systemd notifications. Later
 * stages (sense, decide, act, expose) hang off the tick. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "control.h"
#include "node-model.h"
#include "pressure-triggers.h"
#include "qos/app-signals.h"
#include "tick-durations.h"

typedef struct ManagerApi ManagerApi;

typedef struct Manager {
        sd_event *event;
        sd_event_source *tick_source;

        char *config_path;
        bool config_path_is_default; /* a missing file means built-in defaults */
        Config *config;
        NodeModel *model;
        sd_event_source *registry_source; /* inotify on the cgroup tree */
        PressureTriggers *triggers;

        int lock_fd;
        uint64_t n_ticks;
        uint64_t last_tick_usec;
        uint64_t n_pressure_wakeups;
        uint64_t n_reloads;
        uint64_t n_failed_reloads;
        TickDurations tick_durations; /* for /metrics */

        /* The gRPC API (manager-api.c). dry_run: decide and report, write
         * no cgroup setting (set through the admin API). */
        ManagerApi *api;
        bool dry_run;

        /* decide and act (control.c) */
        Control *control;

        /* Applications' own latency against their SLO (ReportAppLatency,
         * from gRPC's thread; thread-safe), for the CPU controller. */
        AppSignals *app_signals;
} Manager;

/* Takes ownership of config and lock_fd, also on failure. Returns 0 or -errno. */
int manager_new(const char *config_path, bool config_path_is_default, Config *config, int lock_fd,
                Manager **ret);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/* Sets up signals, the tick timer and the watchdog, and sends READY=1. */
int manager_start(Manager *m);

/* Runs the loop until SIGTERM/SIGINT; returns the exit code or -errno. */
int manager_run(Manager *m);

/* Loads the configuration again; a broken one is logged and not applied.
 * Returns 0 if applied, -EINVAL if rejected, other -errno. */
int manager_reload(Manager *m);
