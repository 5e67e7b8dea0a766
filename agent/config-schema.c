/* SPDX-License-Identifier: Apache-2.0 */
#include "config-schema.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

static const cyaml_strval_t cgroup_driver_strings[] = {
        { "auto", CGROUP_DRIVER_AUTO },
        { "systemd", CGROUP_DRIVER_SYSTEMD },
        { "cgroupfs", CGROUP_DRIVER_CGROUPFS },
};

static const cyaml_strval_t qos_class_strings[] = {
        { "system_cores", QOS_CLASS_SYSTEM_CORES },
        { "dedicated_cores", QOS_CLASS_DEDICATED_CORES },
        { "shared_cores", QOS_CLASS_SHARED_CORES },
        { "reclaimed_cores", QOS_CLASS_RECLAIMED_CORES },
};

/* libcyaml 1.3 reads any unknown word as true ("maybe" would enable
 * eviction): booleans are an enum of YAML's spellings instead, so anything
 * else is an error. */
static const cyaml_strval_t bool_strings[] = {
        { "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 },
};
#define BOOL(key, s, m)                                                                                  \
        CYAML_FIELD_ENUM_PTR(key, CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT | CYAML_FLAG_CASE_INSENSITIVE, \
                             s, m, bool_strings, ELEMENTSOF(bool_strings))

/* Optional everywhere: a drop-in sets only what it names. STRICT: an enum
 * given as a number is an error, not a silent index. */
#define OPT CYAML_FLAG_OPTIONAL
#define STR(key, s, m) CYAML_FIELD_STRING_PTR(key, OPT, s, m, 0, CYAML_UNLIMITED)

/* The keys every controller takes; each resource adds its own. */
#define CONTROLLER_COMMON_FIELDS                                                          \
        BOOL("enabled", RawController, enabled),                                        \
        CYAML_FIELD_FLOAT_PTR("target", OPT, RawController, target),                    \
        CYAML_FIELD_FLOAT_PTR("kp", OPT, RawController, kp),                            \
        CYAML_FIELD_FLOAT_PTR("ki", OPT, RawController, ki),                            \
        CYAML_FIELD_FLOAT_PTR("kd", OPT, RawController, kd),                            \
        CYAML_FIELD_FLOAT_PTR("dead_band", OPT, RawController, dead_band),              \
        CYAML_FIELD_INT_PTR("min", OPT, RawController, min),                            \
        CYAML_FIELD_INT_PTR("max", OPT, RawController, max),                            \
        CYAML_FIELD_INT_PTR("step_up", OPT, RawController, step_up),                    \
        CYAML_FIELD_INT_PTR("step_down", OPT, RawController, step_down),                \
        CYAML_FIELD_FLOAT_PTR("psi_target", OPT, RawController, psi_target),            \
        CYAML_FIELD_INT_PTR("stale_ticks", OPT, RawController, stale_ticks),            \
        CYAML_FIELD_INT_PTR("reserve", OPT, RawController, reserve),                    \
        CYAML_FIELD_INT_PTR("peak_window_ticks", OPT, RawController, peak_window_ticks)

static const cyaml_schema_field_t cpu_controller_fields[] = {
        CONTROLLER_COMMON_FIELDS,
        CYAML_FIELD_FLOAT_PTR("utilization_ceiling", OPT, RawController, utilization_ceiling),
        CYAML_FIELD_FLOAT_PTR("app_slack_target", OPT, RawController, app_slack_target),
        CYAML_FIELD_INT_PTR("app_signal_max_age_ms", OPT, RawController, app_signal_max_age_ms),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t memory_controller_fields[] = {
        CONTROLLER_COMMON_FIELDS,
        CYAML_FIELD_FLOAT_PTR("reclaim_stall_target", OPT, RawController, reclaim_stall_target),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t io_controller_fields[] = {
        CONTROLLER_COMMON_FIELDS,
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t controllers_fields[] = {
        CYAML_FIELD_MAPPING_PTR("cpu", OPT, struct RawControllers, controllers[RESOURCE_CPU], cpu_controller_fields),
        CYAML_FIELD_MAPPING_PTR("memory", OPT, struct RawControllers, controllers[RESOURCE_MEMORY],
                                memory_controller_fields),
        CYAML_FIELD_MAPPING_PTR("io", OPT, struct RawControllers, controllers[RESOURCE_IO], io_controller_fields),
        CYAML_FIELD_END,
};

static const cyaml_schema_value_t string_entry = {
        CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t cgroup_fields[] = {
        STR("mount", struct RawCgroup, mount),
        CYAML_FIELD_ENUM_PTR("driver", OPT | CYAML_FLAG_STRICT, struct RawCgroup, driver,
                             cgroup_driver_strings, ELEMENTSOF(cgroup_driver_strings)),
        STR("kubelet_cgroup_root", struct RawCgroup, kubelet_cgroup_root),
        CYAML_FIELD_SEQUENCE("extra_roots", CYAML_FLAG_POINTER | OPT, struct RawCgroup, extra_roots,
                             &string_entry, 0, CYAML_UNLIMITED),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t qos_rule_fields[] = {
        CYAML_FIELD_STRING_PTR("match", CYAML_FLAG_DEFAULT, RawQosRule, match, 0, CYAML_UNLIMITED),
        CYAML_FIELD_ENUM("class", CYAML_FLAG_STRICT, RawQosRule, qos_class,
                         qos_class_strings, ELEMENTSOF(qos_class_strings)),
        CYAML_FIELD_END,
};

static const cyaml_schema_value_t qos_rule_entry = {
        CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, RawQosRule, qos_rule_fields),
};

static const cyaml_schema_field_t api_fields[] = {
        STR("admin_socket", struct RawApi, admin_socket),
        STR("kubelet_plugin_dir", struct RawApi, kubelet_plugin_dir),
        STR("state_dir", struct RawApi, state_dir),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t metrics_fields[] = {
        BOOL("enabled", struct RawMetrics, enabled),
        STR("listen", struct RawMetrics, listen),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t eviction_fields[] = {
        BOOL("enabled", struct RawEviction, enabled),
        BOOL("dry_run", struct RawEviction, dry_run),
        CYAML_FIELD_INT_PTR("violation_seconds", OPT, struct RawEviction, violation_seconds),
        CYAML_FIELD_INT_PTR("cooldown_seconds", OPT, struct RawEviction, cooldown_seconds),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t pressure_trigger_fields[] = {
        BOOL("enabled", struct RawPressureTriggers, enabled),
        CYAML_FIELD_INT_PTR("stall_ms", OPT, struct RawPressureTriggers, stall_ms),
        CYAML_FIELD_INT_PTR("window_ms", OPT, struct RawPressureTriggers, window_ms),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t sensors_fields[] = {
        BOOL("runqueue", struct RawSensors, runqueue),
        BOOL("reclaim", struct RawSensors, reclaim),
        BOOL("block_io", struct RawSensors, block_io),
        CYAML_FIELD_INT_PTR("max_cgroups", OPT, struct RawSensors, max_cgroups),
        CYAML_FIELD_END,
};

static const cyaml_schema_field_t config_fields[] = {
        CYAML_FIELD_INT_PTR("tick_interval_ms", OPT, RawConfig, tick_interval_ms),
        CYAML_FIELD_INT_PTR("workload_sample_period_ticks", OPT, RawConfig, workload_sample_period_ticks),
        STR("runtime_dir", RawConfig, runtime_dir),
        CYAML_FIELD_MAPPING_PTR("cgroup", OPT, RawConfig, cgroup, cgroup_fields),
        CYAML_FIELD_SEQUENCE("qos_rules", CYAML_FLAG_POINTER | OPT, RawConfig, qos_rules,
                             &qos_rule_entry, 0, CYAML_UNLIMITED),
        CYAML_FIELD_MAPPING_PTR("controllers", OPT, RawConfig, controllers, controllers_fields),
        CYAML_FIELD_MAPPING_PTR("api", OPT, RawConfig, api, api_fields),
        CYAML_FIELD_MAPPING_PTR("metrics", OPT, RawConfig, metrics, metrics_fields),
        CYAML_FIELD_MAPPING_PTR("eviction", OPT, RawConfig, eviction, eviction_fields),
        CYAML_FIELD_MAPPING_PTR("sensors", OPT, RawConfig, sensors, sensors_fields),
        CYAML_FIELD_MAPPING_PTR("pressure_triggers", OPT, RawConfig, pressure_triggers, pressure_trigger_fields),
        CYAML_FIELD_END,
};

const cyaml_schema_value_t raw_config_schema = {
        CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, RawConfig, config_fields),
};

static void *libc_mem(void *ctx, void *ptr, size_t size) {
        /* Plain libc memory, so the merge can move pieces between files and
         * free them with free(). */
        if (size == 0) {
                free(ptr);
                return NULL;
        }
        return realloc(ptr, size);
}

cyaml_config_t raw_config_cyaml_config(cyaml_log_fn_t log_fn, void *log_ctx) {
        return (cyaml_config_t) {
                .log_fn = log_fn,
                .log_ctx = log_ctx,
                .mem_fn = libc_mem,
                .log_level = CYAML_LOG_ERROR,
                .flags = CYAML_CFG_DEFAULT,
        };
}

void raw_config_free(RawConfig *raw) {
        cyaml_config_t c = raw_config_cyaml_config(NULL, NULL);

        if (raw)
                (void) cyaml_free(&c, &raw_config_schema, raw, 0);
}

static const cyaml_schema_field_t *field_by_key(const cyaml_schema_value_t *mapping, const char *key, size_t n) {
        if (mapping->type != CYAML_MAPPING)
                return NULL;
        for (const cyaml_schema_field_t *f = mapping->mapping.fields; f->key; f++)
                if (strlen(f->key) == n && memcmp(f->key, key, n) == 0)
                        return f;
        return NULL;
}

static uint64_t read_count(const void *base, const cyaml_schema_field_t *f) {
        const char *p = (const char *) base + f->count_offset;

        switch (f->count_size) {
        case 1: return *(const uint8_t *) p;
        case 2: return *(const uint16_t *) p;
        case 4: return *(const uint32_t *) p;
        case 8: return *(const uint64_t *) p;
        default: return 0;
        }
}

/* Walks schema and, if data is not NULL, the data along with it. */
static const cyaml_schema_value_t *walk(const char *path, const void *data, const void **ret_data) {
        const cyaml_schema_value_t *v = &raw_config_schema;
        const char *p = path;

        while (*p) {
                if (*p == '[') {
                        char *end;
                        unsigned long i = strtoul(p + 1, &end, 10);

                        if (end == p + 1 || *end != ']' || v->type != CYAML_SEQUENCE)
                                return NULL;
                        /* data here is the sequence's array; the count was checked
                         * by the caller below, when the field was entered. */
                        if (data) {
                                data = (const char *) data + i * v->sequence.entry->data_size;
                                if (v->sequence.entry->flags & CYAML_FLAG_POINTER)
                                        data = *(const void *const *) data;
                        }
                        v = v->sequence.entry;
                        p = end + 1;
                } else {
                        const cyaml_schema_field_t *f;
                        size_t n;

                        if (*p == '.')
                                p++;
                        n = strcspn(p, ".[");
                        f = field_by_key(v, p, n);
                        if (!f)
                                return NULL;
                        p += n;
                        if (data) {
                                const char *slot = (const char *) data + f->data_offset;

                                if (f->value.type == CYAML_SEQUENCE && *p == '[') {
                                        unsigned long i = strtoul(p + 1, NULL, 10);
                                        if (i >= read_count(data, f))
                                                data = NULL;
                                }
                                if (data)
                                        data = (f->value.flags & CYAML_FLAG_POINTER) ? *(const void *const *) slot
                                                                                     : (const void *) slot;
                        }
                        v = &f->value;
                }
        }

        if (ret_data)
                *ret_data = data;
        return v;
}

const cyaml_schema_value_t *schema_find(const char *path) {
        return walk(path, NULL, NULL);
}

const void *raw_config_find(const RawConfig *raw, const char *path, const cyaml_schema_value_t **ret_schema) {
        const void *data = NULL;
        const cyaml_schema_value_t *v = walk(path, raw, &data);

        if (!v)
                return NULL;
        if (ret_schema)
                *ret_schema = v;
        return data;
}

static char *join_strvals(const char *prefix, const cyaml_strval_t *s, uint32_t n) {
        size_t len = strlen(prefix) + 1;
        char *out;

        for (uint32_t i = 0; i < n; i++)
                len += strlen(s[i].str) + 2;
        out = malloc(len);
        if (!out)
                return NULL;
        strcpy(out, prefix);
        for (uint32_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(out, ", ");
                strcat(out, s[i].str);
        }
        return out;
}

char *schema_describe_expected(const cyaml_schema_value_t *schema) {
        switch (schema->type) {
        case CYAML_INT:
        case CYAML_UINT:
                return strdup("an integer");
        case CYAML_FLOAT:
                return strdup("a number");
        case CYAML_BOOL:
                return strdup("true or false");
        case CYAML_ENUM:
                return join_strvals("one of: ", schema->enumeration.strings, schema->enumeration.count);
        case CYAML_STRING:
                return strdup("a string");
        case CYAML_MAPPING:
                return strdup("a mapping");
        case CYAML_SEQUENCE:
                return strdup("a list");
        default:
                return strdup("a value");
        }
}

char *schema_list_keys(const cyaml_schema_value_t *mapping) {
        cyaml_strval_t keys[32];
        uint32_t n = 0;

        if (mapping->type != CYAML_MAPPING)
                return strdup("");
        for (const cyaml_schema_field_t *f = mapping->mapping.fields; f->key && n < ELEMENTSOF(keys); f++)
                keys[n++] = (cyaml_strval_t) { .str = f->key };
        return join_strvals("", keys, n);
}
