/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-merge.h"
#include "config-validate.h"
#include "macro.h"
#include "yaml-tree.h"

/* A configuration file is a few KiB; anything this large is a mistake (or an
 * attack on the parser), not a configuration. */
#define CONFIG_FILE_MAX_BYTES (256 * 1024)
/* Drop-ins beyond this many are refused rather than read one by one. */
#define CONFIG_DROPINS_MAX 256
/* libcyaml reports an error on one line and a backtrace, one frame a line. */
#define CYAML_LOG_LINES_MAX 24
#define CYAML_LOG_LINE_MAX 256

#define DEFAULTS_NAME "<built-in defaults>"

typedef struct CyamlLog {
        char lines[CYAML_LOG_LINES_MAX][CYAML_LOG_LINE_MAX];
        unsigned n;
} CyamlLog;

typedef struct LoadedFile {
        char *name;
        YamlTree *tree;
} LoadedFile;

typedef struct Loader {
        RawConfig *merged;
        LoadedFile *files;
        size_t n_files;
        ConfigErrors *errors;
} Loader;

_printf_(3, 0) static void capture_cyaml_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args) {
        CyamlLog *log = ctx;

        if (level < CYAML_LOG_ERROR || log->n >= CYAML_LOG_LINES_MAX)
                return;
        (void) vsnprintf(log->lines[log->n], CYAML_LOG_LINE_MAX, fmt, args);
        log->lines[log->n][strcspn(log->lines[log->n], "\n")] = 0;
        log->n++;
}

/* Keys come from the file: keep control characters and length out of logs. */
static void sanitize(char *s, size_t max) {
        if (strlen(s) > max)
                strcpy(s + max - 3, "...");
        for (; *s; s++)
                if (iscntrl((unsigned char) *s))
                        *s = '?';
}

/* Turns libcyaml's backtrace (innermost frame first) into a path such as
 * "qos_rules[1].class". */
static void backtrace_to_path(const CyamlLog *log, char *path, size_t size) {
        unsigned first = 0;

        path[0] = 0;
        for (unsigned i = 0; i < log->n; i++)
                if (strstr(log->lines[i], "Backtrace:"))
                        first = i + 1;
        if (first == 0)
                return;

        for (unsigned i = log->n; i > first; i--) {
                const char *l = log->lines[i - 1];
                char name[CYAML_LOG_LINE_MAX];
                size_t len = strlen(path);
                unsigned index;
                int k = 0;

                if (sscanf(l, " in mapping field '%255[^']'", name) == 1)
                        k = snprintf(path + len, size - len, "%s%s", len ? "." : "", name);
                else if (sscanf(l, " in sequence entry '%u'", &index) == 1 && index > 0)
                        /* libcyaml 1.3 counts entries from 1; paths count from 0. */
                        k = snprintf(path + len, size - len, "[%u]", index - 1);
                if (k < 0 || (size_t) k >= size - len) {
                        path[len] = 0; /* cut at the last whole step */
                        break;
                }
        }
}

/* The innermost frame's position, for when the tree cannot place an error. */
static bool backtrace_position(const CyamlLog *log, bool *ret_is_field, YamlPosition *ret_pos) {
        for (unsigned i = 0; i + 1 < log->n; i++)
                if (strstr(log->lines[i], "Backtrace:")) {
                        const char *l = log->lines[i + 1], *at = strstr(l, "(line: ");

                        *ret_is_field = strstr(l, "in mapping field '") != NULL;
                        return at && sscanf(at, "(line: %u, column: %u)", &ret_pos->line, &ret_pos->column) == 2;
                }
        return false;
}

static const char *after_prefix(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int report_cyaml_error(Loader *l, const char *file, const YamlTree *tree, const CyamlLog *log,
                              cyaml_err_t err) {
        char path[CYAML_LOG_LINE_MAX], key[CYAML_LOG_LINE_MAX];
        const char *msg = log->n > 0 ? log->lines[0] : "", *rest;
        const cyaml_schema_value_t *schema;
        YamlPosition pos = {};
        bool innermost_is_field = false;

        if (err == CYAML_ERR_OOM)
                return -ENOMEM;

        backtrace_to_path(log, path, sizeof(path));
        /* The default place, where the tree cannot name a better one. */
        (void) backtrace_position(log, &innermost_is_field, &pos);
        if (strncmp(msg, "Load: ", 6) == 0)
                msg += 6;

        if ((rest = after_prefix(msg, "Unexpected key: "))) {
                _cleanup_free_ char *keys = NULL;
                char child[2 * CYAML_LOG_LINE_MAX];

                (void) snprintf(key, sizeof(key), "%s", rest);
                (void) snprintf(child, sizeof(child), "%s%s%s", path, path[0] ? "." : "", key);
                (void) yaml_tree_find(tree, child, true, &pos);
                schema = schema_find(path);
                keys = schema ? schema_list_keys(schema) : strdup("");
                if (!keys)
                        return -ENOMEM;
                sanitize(key, 64);
                return config_errors_add(l->errors, file, &pos, "unknown key '%s'%s%s%s (expected one of: %s)",
                                         key, path[0] ? " in '" : "", path, path[0] ? "'" : "", keys);
        }

        if ((rest = after_prefix(msg, "Missing required mapping field: "))) {
                /* The backtrace still names the mapping's last field: the error
                 * is about the mapping itself. */
                if (innermost_is_field) {
                        char *dot = strrchr(path, '.');
                        if (dot && !strchr(dot, ']'))
                                *dot = 0;
                        else if (!strchr(path, '['))
                                path[0] = 0;
                }
                (void) yaml_tree_find(tree, path, false, &pos);
                return config_errors_add(l->errors, file, &pos, "%s: missing required key '%s'",
                                         path[0] ? path : "top level", rest);
        }

        schema = schema_find(path);
        if (schema && log->n > 0) {
                _cleanup_free_ char *expected = schema_describe_expected(schema);
                _cleanup_free_ char *got = yaml_tree_describe(tree, path);

                if (!expected || !got)
                        return -ENOMEM;
                (void) yaml_tree_find(tree, path, false, &pos);
                if (!path[0])
                        return config_errors_add(l->errors, file, &pos,
                                                 "expected a mapping of settings at the top level, got %s", got);
                return config_errors_add(l->errors, file, &pos, "%s: expected %s, got %s", path, expected, got);
        }

        return config_errors_add(l->errors, file, NULL, "cannot load: %s%s%s", cyaml_strerror(err),
                                 log->n > 0 ? ": " : "", msg);
}

static int loader_keep_tree(Loader *l, const char *name, YamlTree **tree) {
        LoadedFile *files = realloc(l->files, (l->n_files + 1) * sizeof(*files));
        char *n;

        if (!files)
                return -ENOMEM;
        l->files = files;
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        l->files[l->n_files++] = (LoadedFile) { .name = n, .tree = TAKE_PTR(*tree) };
        return 0;
}

/* Loads one document and merges it; problems go to the error list and the
 * document is then not merged. Returns 0 or -ENOMEM. */
static int loader_add(Loader *l, const char *name, const char *data, size_t len, ListMerge lists) {
        _cleanup_(yaml_tree_freep) YamlTree *tree = NULL;
        _cleanup_free_ char *syntax = NULL;
        RawConfig *raw = NULL;
        CyamlLog log = {};
        cyaml_config_t cyaml;
        YamlPosition pos = {};
        size_t before = l->errors->n_lines;
        cyaml_err_t err;
        int r;

        r = yaml_tree_parse(data, len, &tree, &pos, &syntax);
        if (r == -EINVAL)
                return config_errors_add(l->errors, name, &pos, "%s", syntax);
        if (r < 0)
                return r;

        cyaml = raw_config_cyaml_config(capture_cyaml_log, &log);
        if (!yaml_tree_find(tree, "", false, NULL))
                return loader_keep_tree(l, name, &tree); /* empty, or only comments */

        err = cyaml_load_data((const uint8_t *) data, len, &cyaml, &raw_config_schema, (cyaml_data_t **) &raw, NULL);
        if (err != CYAML_OK)
                return report_cyaml_error(l, name, tree, &log, err);

        r = config_validate_file(raw, tree, name, l->errors);
        if (r >= 0 && l->errors->n_lines == before) {
                if (!l->merged)
                        l->merged = TAKE_PTR(raw);
                else
                        r = raw_config_merge(l->merged, raw, tree, lists);
        }
        raw_config_free(raw);
        if (r < 0)
                return r;
        return loader_keep_tree(l, name, &tree);
}

static int read_file_bounded(const char *path, char **ret_data, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        buf = malloc(CONFIG_FILE_MAX_BYTES + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + len, CONFIG_FILE_MAX_BYTES + 1 - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > CONFIG_FILE_MAX_BYTES)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret_data = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int loader_add_file(Loader *l, const char *path, ListMerge lists, bool missing_ok) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        r = read_file_bounded(path, &data, &len);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return config_errors_add(l->errors, path, NULL, "file larger than %d bytes, refusing to parse it",
                                         CONFIG_FILE_MAX_BYTES);
        if (r == -EBADFD)
                return config_errors_add(l->errors, path, NULL, "not a regular file");
        if (r < 0)
                return config_errors_add(l->errors, path, NULL, "cannot read: %s", strerror(-r));
        return loader_add(l, path, data, len, lists);
}

static int dropin_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);

        /* Hidden files are editors' and package managers' leftovers. */
        return de->d_name[0] != '.' && n > 5 && strcmp(de->d_name + n - 5, ".yaml") == 0;
}

static int dropin_compare(const struct dirent **a, const struct dirent **b) {
        /* Byte order, not the locale's: the order must not change with LANG. */
        return strcmp((*a)->d_name, (*b)->d_name);
}

char *config_dropin_dir(const char *path) {
        const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
        size_t n = strlen(path);
        char *dir;

        if (n > 5 && strcmp(path + n - 5, ".yaml") == 0 && path + n - 5 > base)
                n -= 5;
        if (asprintf(&dir, "%.*s.d", (int) n, path) < 0)
                return NULL;
        return dir;
}

static int loader_add_dropins(Loader *l, const char *main_path) {
        _cleanup_free_ char *dir = config_dropin_dir(main_path);
        struct dirent **entries = NULL;
        int n, r = 0;

        if (!dir)
                return -ENOMEM;
        n = scandir(dir, &entries, dropin_filter, dropin_compare);
        if (n < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                if (errno == ENOMEM)
                        return -ENOMEM;
                return config_errors_add(l->errors, dir, NULL, "cannot read drop-in directory: %s", strerror(errno));
        }
        if (n > CONFIG_DROPINS_MAX)
                r = config_errors_add(l->errors, dir, NULL, "%d drop-ins, more than the %d allowed", n,
                                      CONFIG_DROPINS_MAX);
        for (int i = 0; i < n; i++) {
                if (r >= 0 && n <= CONFIG_DROPINS_MAX) {
                        _cleanup_free_ char *p = NULL;

                        if (asprintf(&p, "%s/%s", dir, entries[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = loader_add_file(l, p, LIST_MERGE_APPEND, false);
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

/* The last file that sets path, for errors about the merged result. */
static const LoadedFile *last_setter(const Loader *l, const char *path, YamlPosition *ret_pos) {
        for (size_t i = l->n_files; i > 0; i--)
                if (yaml_tree_find(l->files[i - 1].tree, path, false, ret_pos))
                        return &l->files[i - 1];
        return NULL;
}

static int validate_merged(Loader *l, const Config *c) {
        if (c->pressure_trigger_stall_usec > c->pressure_trigger_window_usec) {
                YamlPosition pos = {};
                const LoadedFile *f = last_setter(l, "pressure_triggers.stall_ms", &pos);
                int r;

                if (!f)
                        f = last_setter(l, "pressure_triggers.window_ms", &pos);
                r = config_errors_add(l->errors, f ? f->name : DEFAULTS_NAME, f ? &pos : NULL,
                                      "pressure_triggers: stall_ms (%llu) is longer than window_ms (%llu)",
                                      (unsigned long long) (c->pressure_trigger_stall_usec / 1000),
                                      (unsigned long long) (c->pressure_trigger_window_usec / 1000));
                if (r < 0)
                        return r;
        }

        for (int res = 0; res < _RESOURCE_MAX; res++) {
                const ControllerConfig *cc = &c->controllers[res];
                const LoadedFile *f;
                YamlPosition pos = {};
                char path[64];
                int r;

                if (cc->max == 0 || cc->min <= cc->max)
                        continue;
                (void) snprintf(path, sizeof(path), "controllers.%s.max", resource_to_string(res));
                f = last_setter(l, path, &pos);
                if (!f) {
                        (void) snprintf(path, sizeof(path), "controllers.%s.min", resource_to_string(res));
                        f = last_setter(l, path, &pos);
                }
                r = config_errors_add(l->errors, f ? f->name : DEFAULTS_NAME, f ? &pos : NULL,
                                      "controllers.%s: min (%lld) is above max (%lld); use max 0 for no limit",
                                      resource_to_string(res), (long long) cc->min, (long long) cc->max);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char *dup_or_fail(const char *s, int *r) {
        char *d;

        if (!s) {
                *r = -EINVAL; /* the built-in defaults lack a setting: a build bug */
                return NULL;
        }
        d = strdup(s);
        if (!d)
                *r = -ENOMEM;
        return d;
}

#define REQUIRE(p) ({ if (!(p)) return -EINVAL; *(p); })

static int convert_controller(Resource res, const RawController *rc, ControllerConfig *ret) {
        if (!rc)
                return -EINVAL;
        *ret = (ControllerConfig) {
                .enabled = REQUIRE(rc->enabled),
                .target = REQUIRE(rc->target),
                .kp = REQUIRE(rc->kp),
                .ki = REQUIRE(rc->ki),
                .kd = REQUIRE(rc->kd),
                .dead_band = REQUIRE(rc->dead_band),
                .min = REQUIRE(rc->min),
                .max = REQUIRE(rc->max),
                .step_up = REQUIRE(rc->step_up),
                .step_down = REQUIRE(rc->step_down),
                .psi_target = REQUIRE(rc->psi_target),
                .stale_ticks = (unsigned) REQUIRE(rc->stale_ticks),
                .reserve = REQUIRE(rc->reserve),
                .peak_window_ticks = (unsigned) REQUIRE(rc->peak_window_ticks),
        };
        if (res == RESOURCE_CPU) {
                ret->utilization_ceiling = REQUIRE(rc->utilization_ceiling);
                ret->app_slack_target = REQUIRE(rc->app_slack_target);
                ret->app_signal_max_age_usec = (uint64_t) REQUIRE(rc->app_signal_max_age_ms) * 1000;
        }
        if (res == RESOURCE_MEMORY)
                ret->reclaim_stall_target = REQUIRE(rc->reclaim_stall_target);
        return 0;
}

/* Copies the merged raw settings into the typed configuration. Every setting
 * is present: the built-in defaults set them all. */
static int convert(const RawConfig *raw, Config *c) {
        int r = 0;

        if (!raw->cgroup || !raw->controllers || !raw->api || !raw->metrics || !raw->eviction ||
            !raw->pressure_triggers || !raw->sensors)
                return -EINVAL;

        c->tick_interval_usec = (uint64_t) REQUIRE(raw->tick_interval_ms) * 1000;
        c->workload_sample_period_ticks = (unsigned) REQUIRE(raw->workload_sample_period_ticks);
        c->runtime_dir = dup_or_fail(raw->runtime_dir, &r);
        c->cgroup_mount = dup_or_fail(raw->cgroup->mount, &r);
        c->cgroup_driver = REQUIRE(raw->cgroup->driver);
        /* Stored relative, like every cgroup path inside the agent. */
        if (raw->cgroup->kubelet_cgroup_root)
                c->kubelet_cgroup_root = dup_or_fail(raw->cgroup->kubelet_cgroup_root +
                                                             strspn(raw->cgroup->kubelet_cgroup_root, "/"),
                                                     &r);
        else
                r = -EINVAL;
        c->admin_socket = dup_or_fail(raw->api->admin_socket, &r);
        c->kubelet_plugin_dir = dup_or_fail(raw->api->kubelet_plugin_dir, &r);
        c->state_dir = dup_or_fail(raw->api->state_dir, &r);
        c->metrics_enabled = REQUIRE(raw->metrics->enabled);
        c->metrics_listen = dup_or_fail(raw->metrics->listen, &r);
        c->eviction_enabled = REQUIRE(raw->eviction->enabled);
        c->eviction_dry_run = REQUIRE(raw->eviction->dry_run);
        c->eviction_violation_usec = (uint64_t) REQUIRE(raw->eviction->violation_seconds) * 1000000;
        c->eviction_cooldown_usec = (uint64_t) REQUIRE(raw->eviction->cooldown_seconds) * 1000000;
        c->sensor_runqueue = REQUIRE(raw->sensors->runqueue);
        c->sensor_reclaim = REQUIRE(raw->sensors->reclaim);
        c->sensor_block_io = REQUIRE(raw->sensors->block_io);
        c->sensor_max_cgroups = (unsigned) REQUIRE(raw->sensors->max_cgroups);
        c->pressure_triggers_enabled = REQUIRE(raw->pressure_triggers->enabled);
        c->pressure_trigger_stall_usec = (uint64_t) REQUIRE(raw->pressure_triggers->stall_ms) * 1000;
        c->pressure_trigger_window_usec = (uint64_t) REQUIRE(raw->pressure_triggers->window_ms) * 1000;
        if (r < 0)
                return r;

        for (int res = 0; res < _RESOURCE_MAX; res++) {
                r = convert_controller(res, raw->controllers->controllers[res], &c->controllers[res]);
                if (r < 0)
                        return r;
        }

        if (raw->cgroup->extra_roots_count > 0) {
                c->cgroup_extra_roots = calloc(raw->cgroup->extra_roots_count, sizeof(char *));
                if (!c->cgroup_extra_roots)
                        return -ENOMEM;
                for (unsigned i = 0; i < raw->cgroup->extra_roots_count; i++) {
                        c->cgroup_extra_roots[i] = dup_or_fail(raw->cgroup->extra_roots[i], &r);
                        if (r < 0)
                                return r;
                        c->n_cgroup_extra_roots++;
                }
        }

        if (raw->qos_rules_count > 0) {
                c->qos_rules = calloc(raw->qos_rules_count, sizeof(QosRule));
                if (!c->qos_rules)
                        return -ENOMEM;
                for (unsigned i = 0; i < raw->qos_rules_count; i++) {
                        c->qos_rules[i] = (QosRule) {
                                .match = dup_or_fail(raw->qos_rules[i].match, &r),
                                .qos_class = raw->qos_rules[i].qos_class,
                        };
                        if (r < 0)
                                return r;
                        c->n_qos_rules++;
                }
        }
        return 0;
}

static void loader_done(Loader *l) {
        raw_config_free(l->merged);
        for (size_t i = 0; i < l->n_files; i++) {
                free(l->files[i].name);
                yaml_tree_free(l->files[i].tree);
        }
        free(l->files);
}

static int loader_finish(Loader *l, Config **ret_config) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        if (l->errors->n_lines > 0)
                return -EINVAL;
        if (!l->merged)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = convert(l->merged, c);
        if (r == -EINVAL)
                return config_errors_add(l->errors, DEFAULTS_NAME, NULL, "a setting is missing (build bug)") ?: -EINVAL;
        if (r < 0)
                return r;

        r = validate_merged(l, c);
        if (r < 0)
                return r;
        if (l->errors->n_lines > 0)
                return -EINVAL;

        /* The defaults are always first; list only real files. */
        c->sources = calloc(l->n_files, sizeof(char *));
        if (!c->sources && l->n_files > 0)
                return -ENOMEM;
        for (size_t i = 1; i < l->n_files; i++)
                c->sources[c->n_sources++] = TAKE_PTR(l->files[i].name);

        *ret_config = TAKE_PTR(c);
        return 0;
}

static int load(const char *path, const char *name, const char *data, size_t len, ConfigLoadFlags flags,
                Config **ret_config, ConfigErrors *errors) {
        Loader l = { .errors = errors };
        int r;

        r = loader_add(&l, DEFAULTS_NAME, config_default_yaml, config_default_yaml_len, LIST_MERGE_REPLACE);
        if (r >= 0 && path)
                r = loader_add_file(&l, path, LIST_MERGE_REPLACE, flags & CONFIG_LOAD_MISSING_OK);
        if (r >= 0 && name)
                r = loader_add(&l, name, data, len, LIST_MERGE_REPLACE);
        if (r >= 0 && path && !(flags & CONFIG_LOAD_NO_DROPINS))
                r = loader_add_dropins(&l, path);
        if (r >= 0)
                r = loader_finish(&l, ret_config);
        loader_done(&l);
        return r;
}

int config_load(const char *path, ConfigLoadFlags flags, Config **ret_config, ConfigErrors *errors) {
        return load(path, NULL, NULL, 0, flags, ret_config, errors);
}

int config_load_buffer(const char *name, const char *data, size_t len, Config **ret_config, ConfigErrors *errors) {
        return load(NULL, name, data, len, CONFIG_LOAD_NO_DROPINS, ret_config, errors);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->runtime_dir);
        free(c->cgroup_mount);
        free(c->kubelet_cgroup_root);
        for (size_t i = 0; i < c->n_cgroup_extra_roots; i++)
                free(c->cgroup_extra_roots[i]);
        free(c->cgroup_extra_roots);
        for (size_t i = 0; i < c->n_qos_rules; i++)
                free(c->qos_rules[i].match);
        free(c->qos_rules);
        free(c->admin_socket);
        free(c->kubelet_plugin_dir);
        free(c->state_dir);
        free(c->metrics_listen);
        for (size_t i = 0; i < c->n_sources; i++)
                free(c->sources[i]);
        free(c->sources);
        free(c);
        return NULL;
}
