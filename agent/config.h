/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The agent's configuration: built-in defaults, then the main file, then the
 * drop-ins (*.yaml) in <main file without .yaml>.d/, in name order. Every error
 * is reported as "file:line:column: message". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config-errors.h"
#include "config-schema.h"
#include "qos/qos-class.h"
#include "qos/resource.h"

typedef struct ControllerConfig {
        bool enabled;
        double target;     /* the indicator's target; unit per resource (README) */
        double kp, ki, kd; /* PID gains */
        double dead_band;  /* relative error below which the budget holds still */
        int64_t min, max;  /* best-effort budget bounds; max 0: the node's capacity */
        int64_t step_up;   /* largest budget increase per tick */
        int64_t step_down; /* largest budget decrease per tick */
        double psi_target; /* the latency-sensitive pods' PSI stall ratio, 0..1 */
        unsigned stale_ticks;       /* an indicator without data this long: budget to min */
        int64_t reserve;            /* kept out of the reclaimable estimate */
        unsigned peak_window_ticks; /* the estimate's latency-sensitive peak window */
        /* cpu only */
        double utilization_ceiling;       /* node CPU utilisation, 0..1 */
        double app_slack_target;          /* (SLO - p99) / SLO kept */
        uint64_t app_signal_max_age_usec; /* a report older than this is stale */
        /* memory only: latency-sensitive reclaim stall, ms per second */
        double reclaim_stall_target;
} ControllerConfig;

typedef struct Config {
        uint64_t tick_interval_usec;
        unsigned workload_sample_period_ticks;
        char *runtime_dir;

        char *cgroup_mount;
        CgroupDriver cgroup_driver;
        char *kubelet_cgroup_root; /* relative: "" for the hierarchy root */
        char **cgroup_extra_roots;
        size_t n_cgroup_extra_roots;

        QosRule *qos_rules;
        size_t n_qos_rules;

        ControllerConfig controllers[_RESOURCE_MAX];

        char *admin_socket;
        char *kubelet_plugin_dir;
        char *state_dir; /* the QRM checkpoint's directory */

        bool metrics_enabled;
        char *metrics_listen;

        bool eviction_enabled;
        bool eviction_dry_run;
        uint64_t eviction_violation_usec;
        uint64_t eviction_cooldown_usec;

        bool sensor_runqueue, sensor_reclaim, sensor_block_io;
        unsigned sensor_max_cgroups;

        bool pressure_triggers_enabled;
        uint64_t pressure_trigger_stall_usec;
        uint64_t pressure_trigger_window_usec;

        /* The files that made this configuration, in the order applied. */
        char **sources;
        size_t n_sources;
} Config;

typedef enum ConfigLoadFlags {
        /* The path is the default one: a missing file means built-in defaults. */
        CONFIG_LOAD_MISSING_OK = 1 << 0,
        /* Do not read the drop-in directory (the fuzzer loads one buffer). */
        CONFIG_LOAD_NO_DROPINS = 1 << 1,
} ConfigLoadFlags;

/* Loads the configuration from path (and its drop-ins). Returns 0 and
 * *ret_config; -EINVAL with the problems in *errors (which the caller
 * clears); -ENOMEM. Never returns a partially valid configuration. */
int config_load(const char *path, ConfigLoadFlags flags, Config **ret_config, ConfigErrors *errors);

/* The same for one in-memory document named name (tests, fuzzing). */
int config_load_buffer(const char *name, const char *data, size_t len, Config **ret_config, ConfigErrors *errors);

Config *config_free(Config *c);
static inline void config_freep(Config **c) {
        config_free(*c);
}

/* The drop-in directory for a main file: "/etc/nodeqos/nodeqos.yaml" ->
 * "/etc/nodeqos/nodeqos.d". malloc'd, NULL on ENOMEM. */
char *config_dropin_dir(const char *path);

/* The built-in defaults: packaging/nodeqos.yaml, compiled in. */
extern const char config_default_yaml[];
extern const size_t config_default_yaml_len;
