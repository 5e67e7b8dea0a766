/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The configuration file's schema, for libcyaml, and the raw form one file
 * loads into. Every setting is an optional pointer: NULL means "this file does
 * not set it", which is what lets drop-ins override only what they name. The
 * built-in defaults are a file like any other that sets everything. */

#include <cyaml/cyaml.h>
#include <stdbool.h>
#include <stdint.h>

#include "qos/kube-cgroup.h"
#include "qos/qos-class.h"
#include "qos/resource.h"

typedef struct RawController {
        bool *enabled;
        double *target;
        double *kp;
        double *ki;
        double *kd;
        double *dead_band;
        int64_t *min;
        int64_t *max;
        int64_t *step_up;
        int64_t *step_down;
        double *psi_target;
        int64_t *stale_ticks;
        int64_t *reserve;
        int64_t *peak_window_ticks;
        /* One resource's only (each has its own schema) */
        double *utilization_ceiling;   /* cpu */
        double *app_slack_target;      /* cpu */
        int64_t *app_signal_max_age_ms; /* cpu */
        double *reclaim_stall_target;  /* memory */
} RawController;

typedef struct RawQosRule {
        char *match;
        QosClass qos_class;
} RawQosRule;

typedef struct RawConfig {
        int64_t *tick_interval_ms;
        int64_t *workload_sample_period_ticks;
        char *runtime_dir;
        struct RawCgroup {
                char *mount;
                CgroupDriver *driver;
                char *kubelet_cgroup_root;
                char **extra_roots;
                unsigned extra_roots_count;
        } *cgroup;
        RawQosRule *qos_rules;
        unsigned qos_rules_count;
        struct RawControllers {
                RawController *controllers[_RESOURCE_MAX];
        } *controllers;
        struct RawApi {
                char *admin_socket;
                char *kubelet_plugin_dir;
                char *state_dir;
        } *api;
        struct RawMetrics {
                bool *enabled;
                char *listen;
        } *metrics;
        struct RawEviction {
                bool *enabled;
                bool *dry_run;
                int64_t *violation_seconds;
                int64_t *cooldown_seconds;
        } *eviction;
        struct RawSensors {
                bool *runqueue;
                bool *reclaim;
                bool *block_io;
                int64_t *max_cgroups;
        } *sensors;
        struct RawPressureTriggers {
                bool *enabled;
                int64_t *stall_ms;
                int64_t *window_ms;
        } *pressure_triggers;
} RawConfig;

/* The top-level schema value (a RawConfig pointer). */
extern const cyaml_schema_value_t raw_config_schema;

/* libcyaml settings: errors are captured by the log function given (ctx is
 * passed through), memory comes from libc so merged data can move freely. */
cyaml_config_t raw_config_cyaml_config(cyaml_log_fn_t log_fn, void *log_ctx);

void raw_config_free(RawConfig *raw);

/* Schema lookups by path ("controllers.cpu.kp", "qos_rules[0].class"). */

/* The schema value at path, or NULL if the schema has no such place. */
const cyaml_schema_value_t *schema_find(const char *path);

/* The address of the loaded value at path in raw (after following pointers),
 * or NULL if the file did not set it. *ret_schema (may be NULL) is its
 * schema value. */
const void *raw_config_find(const RawConfig *raw, const char *path, const cyaml_schema_value_t **ret_schema);

/* What a value of this schema must look like, for messages: "a number",
 * "true or false", "one of: auto, systemd, cgroupfs". Returns a malloc'd
 * string or NULL on ENOMEM. */
char *schema_describe_expected(const cyaml_schema_value_t *schema);

/* The keys a mapping schema accepts, ", "-separated; malloc'd, NULL on ENOMEM. */
char *schema_list_keys(const cyaml_schema_value_t *mapping);
