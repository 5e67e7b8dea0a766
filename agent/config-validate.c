/* SPDX-License-Identifier: Apache-2.0 */
#include "config-validate.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "macro.h"

/* Numbers every controller block takes; ranges wide enough for any node,
 * narrow enough to catch a unit mistake. */
static const struct {
        const char *key;
        double min, max;
        bool min_exclusive;
} controller_ranges[] = {
        { "target", 0, 1e12, true },
        { "kp", 0, 1e6, false },
        { "ki", 0, 1e6, false },
        { "kd", 0, 1e6, false },
        { "dead_band", 0, 0.99, false },
        { "min", 0, 4.6e18, false },
        { "max", 0, 4.6e18, false },
        { "step_up", 1, 4.6e18, false },
        { "step_down", 1, 4.6e18, false },
        { "psi_target", 0, 1, true },
        { "stale_ticks", 1, 3600, false },
        { "reserve", 0, 4.6e18, false },
        { "peak_window_ticks", 1, 86400, false },
};

static const struct {
        const char *path;
        double min, max;
        const char *why; /* what the bound protects, said in the error */
} scalar_ranges[] = {
        /* Below 100 ms the cgroup readers would cost more than they save;
         * above a minute the agent cannot take resources back in time. */
        { "tick_interval_ms", 100, 60000, NULL },
        { "workload_sample_period_ticks", 1, 600, NULL },
        /* The memory target is the fraction of node memory kept available. */
        { "controllers.memory.target", 0.001, 0.9, "a fraction of node memory" },
        { "controllers.cpu.utilization_ceiling", 0.05, 1, "a fraction of the node's CPUs" },
        { "controllers.cpu.app_slack_target", 0, 0.9, "a fraction of the SLO" },
        { "controllers.cpu.app_signal_max_age_ms", 100, 3600000, NULL },
        { "controllers.memory.reclaim_stall_target", 0.01, 1000, "milliseconds of stall per second" },
        { "eviction.violation_seconds", 1, 3600, NULL },
        { "eviction.cooldown_seconds", 0, 86400, NULL },
        /* The kernel's limits for PSI trigger windows. */
        { "pressure_triggers.window_ms", 500, 10000, NULL },
        /* Each entry costs a few KiB of per-CPU map memory. */
        { "sensors.max_cgroups", 64, 65536, NULL },
        { "pressure_triggers.stall_ms", 1, 10000, NULL },
};

enum {
        PATH_ABSOLUTE,
        PATH_SOCKET,
        PATH_LISTEN,
        PATH_CGROUP_ROOT,
};

static const struct {
        const char *path;
        int kind;
} string_checks[] = {
        { "runtime_dir", PATH_ABSOLUTE },
        { "cgroup.mount", PATH_ABSOLUTE },
        { "cgroup.kubelet_cgroup_root", PATH_CGROUP_ROOT },
        { "api.admin_socket", PATH_SOCKET },
        { "api.kubelet_plugin_dir", PATH_ABSOLUTE },
        { "api.state_dir", PATH_ABSOLUTE },
        { "metrics.listen", PATH_LISTEN },
};

int check_absolute_path(const char *s, const char **ret_reason) {
        if (s[0] != '/') {
                *ret_reason = "expected an absolute path";
                return -EINVAL;
        }
        if (strlen(s) >= PATH_MAX) {
                *ret_reason = "path too long";
                return -EINVAL;
        }
        return 0;
}

static bool has_dotdot_component(const char *s) {
        for (const char *p = s; (p = strstr(p, "..")); p += 2)
                if ((p == s || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
                        return true;
        return false;
}

int check_cgroup_path(const char *s, bool allow_glob, const char **ret_reason) {
        if (s[0] == 0) {
                *ret_reason = "expected a cgroup path, got an empty string";
                return -EINVAL;
        }
        if (s[0] == '/') {
                *ret_reason = "expected a cgroup path relative to the hierarchy root (no leading '/')";
                return -EINVAL;
        }
        if (has_dotdot_component(s)) {
                *ret_reason = "'..' is not allowed in a cgroup path";
                return -EINVAL;
        }
        if (!allow_glob && strpbrk(s, "*?[")) {
                *ret_reason = "expected a plain cgroup path, not a glob";
                return -EINVAL;
        }
        if (strlen(s) >= PATH_MAX) {
                *ret_reason = "path too long";
                return -EINVAL;
        }
        return 0;
}

int check_listen_address(const char *s, const char **ret_reason) {
        const char *colon = strrchr(s, ':');
        char *end;
        unsigned long port;

        *ret_reason = "expected host:port, e.g. 127.0.0.1:9830 or [::1]:9830";
        if (!colon || colon == s)
                return -EINVAL;
        if (s[0] == '[' && colon[-1] != ']')
                return -EINVAL;
        if (s[0] != '[' && memchr(s, ':', (size_t) (colon - s)))
                return -EINVAL; /* a bare IPv6 address needs brackets */
        if (s[0] == '[' && colon - s < 3)
                return -EINVAL;
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != 0 || colon[1] == '-' || colon[1] == '+' ||
            port == 0 || port > 65535) {
                *ret_reason = "expected a port from 1 to 65535 after the last ':'";
                return -EINVAL;
        }
        return 0;
}

static double number_at(const void *v, const cyaml_schema_value_t *schema) {
        if (schema->type == CYAML_FLOAT)
                return *(const double *) v;
        return (double) *(const int64_t *) v;
}

static int check_number(const RawConfig *raw, const YamlTree *tree, const char *file, ConfigErrors *errors,
                        const char *path, double min, double max, bool min_exclusive, const char *why) {
        const cyaml_schema_value_t *schema;
        const void *v = raw_config_find(raw, path, &schema);
        YamlPosition pos = {};
        double x;

        if (!v)
                return 0;
        x = number_at(v, schema);
        if (!isnan(x) && (min_exclusive ? x > min : x >= min) && x <= max)
                return 0;

        (void) yaml_tree_find(tree, path, false, &pos);
        if (schema->type == CYAML_FLOAT)
                return config_errors_add(errors, file, &pos, "%s: %g is out of range (expected %s%g..%g%s%s)",
                                         path, x, min_exclusive ? "more than " : "", min, max,
                                         why ? ", " : "", why ?: "");
        return config_errors_add(errors, file, &pos, "%s: %lld is out of range (expected %.0f..%.0f%s%s)", path,
                                 (long long) *(const int64_t *) v, min, max, why ? ", " : "", why ?: "");
}

static int check_string(const YamlTree *tree, const char *file, ConfigErrors *errors, const char *path,
                        const char *s, int kind) {
        const char *reason = NULL;
        YamlPosition pos = {};
        int r;

        switch (kind) {
        case PATH_ABSOLUTE:
                r = check_absolute_path(s, &reason);
                break;
        case PATH_SOCKET:
                r = check_absolute_path(s, &reason);
                if (r == 0 && strlen(s) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                        reason = "socket path too long (at most 107 bytes)";
                        r = -EINVAL;
                }
                break;
        case PATH_CGROUP_ROOT:
                /* The kubelet's --cgroup-root notation: "/" or "/a/b". */
                if (s[0] != '/') {
                        reason = "expected a cgroup path starting with '/', as the kubelet's --cgroup-root";
                        r = -EINVAL;
                } else
                        r = s[1] ? check_cgroup_path(s + strspn(s, "/"), false, &reason) : 0;
                break;
        default:
                r = check_listen_address(s, &reason);
                break;
        }
        if (r == 0)
                return 0;
        (void) yaml_tree_find(tree, path, false, &pos);
        return config_errors_add(errors, file, &pos, "%s: %s", path, reason);
}

static int check_cgroup_list(const YamlTree *tree, const char *file, ConfigErrors *errors, const char *name,
                             const char *const *values, size_t stride, size_t n, bool allow_glob,
                             const char *suffix) {
        for (size_t i = 0; i < n; i++) {
                const char *s = *(const char *const *) ((const char *) values + i * stride);
                const char *reason;
                char path[128];
                YamlPosition pos = {};
                int r;

                if (check_cgroup_path(s, allow_glob, &reason) == 0)
                        continue;
                (void) snprintf(path, sizeof(path), "%s[%zu]%s", name, i, suffix);
                (void) yaml_tree_find(tree, path, false, &pos);
                r = config_errors_add(errors, file, &pos, "%s: %s", path, reason);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* libcyaml 1.3 takes "150abc" as 150 and "1,5" as 1: numbers are checked
 * again here, as whole decimal text. */
static bool number_text_ok(const char *text, size_t len, bool integer) {
        char buf[64], *end;
        size_t i = 0;

        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, text, len);
        buf[len] = 0;
        if (integer) {
                if (buf[0] == '-' || buf[0] == '+')
                        i++;
                if (!buf[i])
                        return false;
                /* YAML 1.1 reads 0150 as octal 104: too surprising to accept. */
                if (buf[i] == '0' && buf[i + 1])
                        return false;
                for (; buf[i]; i++)
                        if (buf[i] < '0' || buf[i] > '9')
                                return false;
                return true;
        }
        /* Decimal notation only: no hex floats, no inf or nan. */
        if (strpbrk(buf, "xXnN"))
                return false;
        errno = 0;
        (void) strtod(buf, &end);
        return end != buf && *end == 0;
}

static int check_number_texts(const cyaml_schema_field_t *fields, const void *data, const YamlTree *tree,
                              const char *file, ConfigErrors *errors, const char *prefix) {
        for (const cyaml_schema_field_t *f = fields; f->key; f++) {
                const void *v = *(const void *const *) ((const char *) data + f->data_offset);
                char path[128];
                int r;

                /* Every number and mapping in the raw schema is an optional pointer. */
                if (!(f->value.flags & CYAML_FLAG_POINTER) || !v)
                        continue;
                (void) snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", f->key);

                if (f->value.type == CYAML_MAPPING) {
                        r = check_number_texts(f->value.mapping.fields, v, tree, file, errors, path);
                        if (r < 0)
                                return r;
                } else if (f->value.type == CYAML_INT || f->value.type == CYAML_FLOAT) {
                        size_t len = 0;
                        const char *text = yaml_tree_scalar(tree, path, &len);
                        _cleanup_free_ char *got = NULL;
                        YamlPosition pos = {};

                        if (text && number_text_ok(text, len, f->value.type == CYAML_INT))
                                continue;
                        got = yaml_tree_describe(tree, path);
                        if (!got)
                                return -ENOMEM;
                        (void) yaml_tree_find(tree, path, false, &pos);
                        r = config_errors_add(errors, file, &pos, "%s: expected %s, got %s", path,
                                              f->value.type == CYAML_INT ? "an integer" : "a number", got);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int config_validate_file(const RawConfig *raw, const YamlTree *tree, const char *file, ConfigErrors *errors) {
        size_t before = errors->n_lines;
        int r;

        r = check_number_texts(raw_config_schema.mapping.fields, raw, tree, file, errors, "");
        if (r < 0)
                return r;
        if (errors->n_lines > before)
                return 0; /* ranges of misread numbers would only confuse */

        for (size_t i = 0; i < ELEMENTSOF(scalar_ranges); i++) {
                r = check_number(raw, tree, file, errors, scalar_ranges[i].path, scalar_ranges[i].min,
                                 scalar_ranges[i].max, false, scalar_ranges[i].why);
                if (r < 0)
                        return r;
        }

        for (int res = 0; res < _RESOURCE_MAX; res++)
                for (size_t i = 0; i < ELEMENTSOF(controller_ranges); i++) {
                        char path[128];

                        (void) snprintf(path, sizeof(path), "controllers.%s.%s", resource_to_string(res),
                                        controller_ranges[i].key);
                        /* The memory target has a tighter row of its own. */
                        if (res == RESOURCE_MEMORY && streq_ptr(controller_ranges[i].key, "target"))
                                continue;
                        r = check_number(raw, tree, file, errors, path, controller_ranges[i].min,
                                         controller_ranges[i].max, controller_ranges[i].min_exclusive, NULL);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < ELEMENTSOF(string_checks); i++) {
                const char *s = raw_config_find(raw, string_checks[i].path, NULL);

                if (!s)
                        continue;
                r = check_string(tree, file, errors, string_checks[i].path, s, string_checks[i].kind);
                if (r < 0)
                        return r;
        }

        if (raw->cgroup) {
                r = check_cgroup_list(tree, file, errors, "cgroup.extra_roots",
                                      (const char *const *) raw->cgroup->extra_roots, sizeof(char *),
                                      raw->cgroup->extra_roots_count, false, "");
                if (r < 0)
                        return r;
        }
        if (raw->qos_rules_count > 0) {
                r = check_cgroup_list(tree, file, errors, "qos_rules", (const char *const *) &raw->qos_rules[0].match,
                                      sizeof(RawQosRule), raw->qos_rules_count, true, ".match");
                if (r < 0)
                        return r;
        }
        return 0;
}
