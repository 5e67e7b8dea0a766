/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration loading: valid documents, each kind of invalid one with the
 * exact message, drop-in merging, and the built-in defaults. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "macro.h"

static int load_text(const char *text, Config **ret, ConfigErrors *errors) {
        return config_load_buffer("test.yaml", text, strlen(text), ret, errors);
}

static const struct {
        const char *yaml;
        const char *error; /* the first error line, exactly */
} invalid_cases[] = {
        { "tick_interval_ms: 5\n", "test.yaml:1:19: tick_interval_ms: 5 is out of range (expected 100..60000)" },
        { "tick_interval_ms: fast\n", "test.yaml:1:19: tick_interval_ms: expected an integer, got 'fast'" },
        { "tick_interval_ms: 1.5\n", "test.yaml:1:19: tick_interval_ms: expected an integer, got '1.5'" },
        { "tick_interval_ms: 150abc\n", "test.yaml:1:19: tick_interval_ms: expected an integer, got '150abc'" },
        { "tick_interval_ms: 0x100\n", "test.yaml:1:19: tick_interval_ms: expected an integer, got '0x100'" },
        { "tick_interval_ms: 0150\n", "test.yaml:1:19: tick_interval_ms: expected an integer, got '0150'" },
        { "controllers:\n  cpu:\n    kp: 1,5\n", "test.yaml:3:9: controllers.cpu.kp: expected a number, got '1,5'" },
        { "controllers:\n  cpu:\n    kp: nan\n", "test.yaml:3:9: controllers.cpu.kp: expected a number, got 'nan'" },
        { "controllers:\n  cpu:\n    kp: 1e400\n",
          "test.yaml:3:9: controllers.cpu.kp: inf is out of range (expected 0..1e+06)" },
        { "tick_interval_ms: 99999999999999999999999\n",
          "test.yaml:1:19: tick_interval_ms: expected an integer, got '99999999999999999999999'" },
        { "bogus: 1\n",
          "test.yaml:1:1: unknown key 'bogus' (expected one of: tick_interval_ms, workload_sample_period_ticks, runtime_dir, cgroup, qos_rules, "
          "controllers, api, metrics, eviction, sensors, pressure_triggers)" },
        { "controllers:\n  cpu:\n    kp: 1\n    gain: 3\n",
          "test.yaml:4:5: unknown key 'gain' in 'controllers.cpu' (expected one of: enabled, target, kp, ki, kd, "
          "dead_band, min, max, step_up, step_down, psi_target, stale_ticks, reserve, peak_window_ticks, "
          "utilization_ceiling, app_slack_target, app_signal_max_age_ms)" },
        /* A resource's own keys are unknown to the others. */
        { "controllers:\n  io:\n    utilization_ceiling: 0.5\n",
          "test.yaml:3:5: unknown key 'utilization_ceiling' in 'controllers.io' (expected one of: enabled, target, "
          "kp, ki, kd, dead_band, min, max, step_up, step_down, psi_target, stale_ticks, reserve, "
          "peak_window_ticks)" },
        { "controllers:\n  cpu:\n    utilization_ceiling: 1.5\n",
          "test.yaml:3:26: controllers.cpu.utilization_ceiling: 1.5 is out of range (expected 0.05..1, "
          "a fraction of the node's CPUs)" },
        { "controllers:\n  memory:\n    stale_ticks: 0\n",
          "test.yaml:3:18: controllers.memory.stale_ticks: 0 is out of range (expected 1..3600)" },
        { "eviction:\n  violation_seconds: 0\n",
          "test.yaml:2:22: eviction.violation_seconds: 0 is out of range (expected 1..3600)" },
        { "controllers:\n  gpu: {}\n",
          "test.yaml:2:3: unknown key 'gpu' in 'controllers' (expected one of: cpu, memory, io)" },
        { "controllers:\n  cpu:\n    kp: abc\n", "test.yaml:3:9: controllers.cpu.kp: expected a number, got 'abc'" },
        { "controllers:\n  cpu:\n    kp: -1\n",
          "test.yaml:3:9: controllers.cpu.kp: -1 is out of range (expected 0..1e+06)" },
        { "controllers:\n  cpu:\n    target: 0\n",
          "test.yaml:3:13: controllers.cpu.target: 0 is out of range (expected more than 0..1e+12)" },
        { "controllers:\n  cpu:\n    step_down: 0\n",
          "test.yaml:3:16: controllers.cpu.step_down: 0 is out of range (expected 1..4600000000000000000)" },
        { "controllers:\n  memory:\n    target: 2\n",
          "test.yaml:3:13: controllers.memory.target: 2 is out of range (expected 0.001..0.9, a fraction of node memory)" },
        { "controllers:\n  io:\n    min: 100\n    max: 50\n",
          "test.yaml:4:10: controllers.io: min (100) is above max (50); use max 0 for no limit" },
        { "controllers:\n  cpu:\n", "test.yaml:2:7: controllers.cpu: expected a mapping, got an empty value" },
        { "controllers: [1, 2]\n", "test.yaml:1:14: controllers: expected a mapping, got a list" },
        { "tick_interval_ms: 500\ntick_interval_ms: 600\n", "test.yaml:2:1: duplicate key 'tick_interval_ms'" },
        { "cgroup:\n  driver: auto\n  driver: systemd\n", "test.yaml:3:3: duplicate key 'driver'" },
        { "cgroup: [1\n",
          "test.yaml:2:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence" },
        { "a: b: c\n", "test.yaml:1:5: YAML syntax error: mapping values are not allowed in this context" },
        { "cgroup:\n  driver: docker\n",
          "test.yaml:2:11: cgroup.driver: expected one of: auto, systemd, cgroupfs, got 'docker'" },
        { "cgroup:\n  driver: 1\n",
          "test.yaml:2:11: cgroup.driver: expected one of: auto, systemd, cgroupfs, got '1'" },
        { "cgroup:\n  mount: sys/fs/cgroup\n", "test.yaml:2:10: cgroup.mount: expected an absolute path" },
        { "cgroup:\n  extra_roots: [batch.slice, ../etc]\n",
          "test.yaml:2:30: cgroup.extra_roots[1]: '..' is not allowed in a cgroup path" },
        { "cgroup:\n  extra_roots: ['batch-*.slice']\n",
          "test.yaml:2:17: cgroup.extra_roots[0]: expected a plain cgroup path, not a glob" },
        { "qos_rules:\n  - match: a\n    class: reclaimed_cores\n  - class: system_cores\n",
          "test.yaml:4:5: qos_rules[1]: missing required key 'match'" },
        { "qos_rules:\n  - match: a\n    class: best_effort\n",
          "test.yaml:3:12: qos_rules[0].class: expected one of: system_cores, dedicated_cores, shared_cores, "
          "reclaimed_cores, got 'best_effort'" },
        { "qos_rules:\n  - match: /batch.slice\n    class: reclaimed_cores\n",
          "test.yaml:2:12: qos_rules[0].match: expected a cgroup path relative to the hierarchy root (no leading '/')" },
        { "qos_rules:\n  - match: a\n    class: reclaimed_cores\n    weight: 3\n",
          "test.yaml:4:5: unknown key 'weight' in 'qos_rules[0]' (expected one of: match, class)" },
        { "qos_rules: {match: a}\n", "test.yaml:1:12: qos_rules: expected a list, got a mapping" },
        { "eviction:\n  enabled: maybe\n",
          "test.yaml:2:12: eviction.enabled: expected one of: true, false, yes, no, on, off, got 'maybe'" },
        { "metrics:\n  listen: 9830\n",
          "test.yaml:2:11: metrics.listen: expected host:port, e.g. 127.0.0.1:9830 or [::1]:9830" },
        { "metrics:\n  listen: '::1:9830'\n",
          "test.yaml:2:11: metrics.listen: expected host:port, e.g. 127.0.0.1:9830 or [::1]:9830" },
        { "metrics:\n  listen: 'localhost:0'\n",
          "test.yaml:2:11: metrics.listen: expected a port from 1 to 65535 after the last ':'" },
        { "api:\n  admin_socket: /run/nodeqos/"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
          "test.yaml:2:17: api.admin_socket: socket path too long (at most 107 bytes)" },
        { "runtime_dir: run\n", "test.yaml:1:14: runtime_dir: expected an absolute path" },
        { "pressure_triggers:\n  window_ms: 100\n",
          "test.yaml:2:14: pressure_triggers.window_ms: 100 is out of range (expected 500..10000)" },
        { "pressure_triggers:\n  stall_ms: 3000\n",
          "test.yaml:2:13: pressure_triggers: stall_ms (3000) is longer than window_ms (2000)" },
        { "cgroup:\n  kubelet_cgroup_root: custom\n",
          "test.yaml:2:24: cgroup.kubelet_cgroup_root: expected a cgroup path starting with '/', as the kubelet's "
          "--cgroup-root" },
        { "cgroup:\n  kubelet_cgroup_root: /a/../..\n",
          "test.yaml:2:24: cgroup.kubelet_cgroup_root: '..' is not allowed in a cgroup path" },
        { "just a string\n", "test.yaml:1:1: expected a mapping of settings at the top level, got 'just a string'" },
        { "- a\n- b\n", "test.yaml:1:1: expected a mapping of settings at the top level, got a list" },
        { "a: 1\n---\nb: 2\n", "test.yaml:3:1: a configuration file holds one YAML document, found a second" },
};

static void test_invalid_documents(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_cases); i++) {
                Config *c = NULL;
                ConfigErrors errors = {};
                int r = load_text(invalid_cases[i].yaml, &c, &errors);

                if (r != -EINVAL || errors.n_lines == 0 || strcmp(errors.lines[0], invalid_cases[i].error) != 0)
                        print_error("case %zu: %s\n  expected: %s\n  got (%d): %s\n", i, invalid_cases[i].yaml,
                                    invalid_cases[i].error, r, errors.n_lines ? errors.lines[0] : "(none)");
                assert_int_equal(r, -EINVAL);
                assert_null(c);
                assert_true(errors.n_lines > 0);
                assert_string_equal(errors.lines[0], invalid_cases[i].error);
                config_errors_clear(&errors);
        }
}

static void test_several_errors_reported(void **state) {
        /* Range problems do not stop at the first: the operator fixes all at once. */
        ConfigErrors errors = {};
        Config *c = NULL;

        assert_int_equal(load_text("tick_interval_ms: 1\ncontrollers:\n  cpu:\n    kp: -1\n    ki: -2\n", &c, &errors),
                         -EINVAL);
        assert_int_equal(errors.n_lines, 3);
        assert_string_equal(errors.lines[2], "test.yaml:5:9: controllers.cpu.ki: -2 is out of range (expected 0..1e+06)");
        config_errors_clear(&errors);
}

static void test_defaults(void **state) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};

        /* An empty or comment-only document means the built-in defaults. */
        assert_int_equal(load_text("# nothing here\n", &c, &errors), 0);
        assert_int_equal(errors.n_lines, 0);
        assert_int_equal(c->tick_interval_usec, 1000000);
        assert_int_equal(c->workload_sample_period_ticks, 10);
        assert_string_equal(c->runtime_dir, "/run/nodeqos");
        assert_string_equal(c->cgroup_mount, "/sys/fs/cgroup");
        assert_int_equal(c->cgroup_driver, CGROUP_DRIVER_AUTO);
        assert_string_equal(c->kubelet_cgroup_root, "");
        assert_int_equal(c->n_cgroup_extra_roots, 0);
        assert_int_equal(c->n_qos_rules, 1);
        assert_string_equal(c->qos_rules[0].match, "system.slice/**");
        assert_int_equal(c->qos_rules[0].qos_class, QOS_CLASS_SYSTEM_CORES);
        assert_true(c->controllers[RESOURCE_CPU].enabled);
        assert_true(c->controllers[RESOURCE_CPU].target == 200.0);
        assert_int_equal(c->controllers[RESOURCE_CPU].min, 500);
        assert_int_equal(c->controllers[RESOURCE_CPU].step_down, 1000);
        assert_true(c->controllers[RESOURCE_MEMORY].target == 0.1);
        assert_int_equal(c->controllers[RESOURCE_MEMORY].min, 268435456);
        assert_int_equal(c->controllers[RESOURCE_IO].step_up, 52428800);
        assert_true(c->controllers[RESOURCE_CPU].utilization_ceiling == 1.0);
        assert_true(c->controllers[RESOURCE_CPU].app_slack_target == 0.1);
        assert_int_equal(c->controllers[RESOURCE_CPU].app_signal_max_age_usec, 10000000);
        assert_true(c->controllers[RESOURCE_MEMORY].reclaim_stall_target == 10.0);
        for (int res = 0; res < _RESOURCE_MAX; res++) {
                assert_int_equal(c->controllers[res].stale_ticks, 5);
                assert_int_equal(c->controllers[res].peak_window_ticks, 300);
        }
        assert_int_equal(c->controllers[RESOURCE_MEMORY].reserve, 1073741824);
        assert_string_equal(c->admin_socket, "/run/nodeqos/nodeqos.sock");
        assert_string_equal(c->kubelet_plugin_dir, "/var/lib/kubelet/plugins_registry");
        assert_string_equal(c->state_dir, "/var/lib/nodeqos");
        assert_true(c->metrics_enabled);
        assert_string_equal(c->metrics_listen, "127.0.0.1:9830");
        assert_false(c->eviction_enabled);
        assert_true(c->eviction_dry_run);
        assert_int_equal(c->eviction_violation_usec, 30000000);
        assert_int_equal(c->eviction_cooldown_usec, 60000000);
        assert_true(c->sensor_runqueue && c->sensor_reclaim && c->sensor_block_io);
        assert_int_equal(c->sensor_max_cgroups, 10240);
        assert_true(c->pressure_triggers_enabled);
        assert_int_equal(c->pressure_trigger_stall_usec, 100000);
        assert_int_equal(c->pressure_trigger_window_usec, 2000000);
        assert_int_equal(c->n_sources, 1);
        assert_string_equal(c->sources[0], "test.yaml");
}

static void test_values_and_spellings(void **state) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};

        assert_int_equal(load_text("tick_interval_ms: 250\n"
                                   "cgroup: {driver: cgroupfs, kubelet_cgroup_root: /custom/root,\n"
                                   "         extra_roots: [batch.slice, 'a/b.slice']}\n"
                                   "controllers:\n"
                                   "  cpu: {enabled: off, kp: 2.5, min: 0, max: 8000}\n"
                                   "eviction:\n"
                                   "  enabled: Yes\n"
                                   "  dry_run: FALSE\n"
                                   "metrics:\n"
                                   "  listen: '[::1]:9999'\n",
                                   &c, &errors),
                         0);
        assert_int_equal(c->tick_interval_usec, 250000);
        assert_int_equal(c->cgroup_driver, CGROUP_DRIVER_CGROUPFS);
        assert_string_equal(c->kubelet_cgroup_root, "custom/root");
        assert_int_equal(c->n_cgroup_extra_roots, 2);
        assert_string_equal(c->cgroup_extra_roots[1], "a/b.slice");
        assert_false(c->controllers[RESOURCE_CPU].enabled);
        assert_true(c->controllers[RESOURCE_CPU].kp == 2.5);
        assert_int_equal(c->controllers[RESOURCE_CPU].max, 8000);
        /* Untouched settings of a touched mapping keep their defaults. */
        assert_true(c->controllers[RESOURCE_CPU].ki == 0.2);
        assert_true(c->controllers[RESOURCE_MEMORY].enabled);
        assert_true(c->eviction_enabled);
        assert_false(c->eviction_dry_run);
        assert_string_equal(c->metrics_listen, "[::1]:9999");
}

/* A temporary directory with a main file and drop-ins. */
typedef struct Fixture {
        char dir[64];
        char main[128];
        char dropins[128];
} Fixture;

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        strcpy(f->dir, "/tmp/nodeqos-test-config-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->main, sizeof(f->main), "%s/nodeqos.yaml", f->dir);
        snprintf(f->dropins, sizeof(f->dropins), "%s/nodeqos.d", f->dir);
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void add_dropin(Fixture *f, const char *name, const char *text) {
        char path[256];

        (void) mkdir(f->dropins, 0755);
        snprintf(path, sizeof(path), "%s/%s", f->dropins, name);
        write_file(path, text);
}

static void test_dropins_merge_in_name_order(void **state) {
        Fixture *f = *state;
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};

        write_file(f->main, "tick_interval_ms: 300\n"
                            "qos_rules:\n  - {match: 'batch.slice/**', class: reclaimed_cores}\n"
                            "controllers:\n  cpu: {kp: 1.0, ki: 0.5}\n");
        add_dropin(f, "20-second.yaml", "tick_interval_ms: 700\n"
                                        "qos_rules:\n  - {match: 'web.slice/**', class: shared_cores}\n");
        add_dropin(f, "10-first.yaml", "tick_interval_ms: 600\ncontrollers:\n  cpu: {kp: 3.0}\n");
        add_dropin(f, ".hidden.yaml", "bogus: 1\n");
        add_dropin(f, "notes.txt", "bogus: 1\n");

        assert_int_equal(config_load(f->main, 0, &c, &errors), 0);
        assert_int_equal(c->tick_interval_usec, 700000);
        assert_true(c->controllers[RESOURCE_CPU].kp == 3.0);
        assert_true(c->controllers[RESOURCE_CPU].ki == 0.5);
        /* The main file's list replaced the default rule; the drop-in appended. */
        assert_int_equal(c->n_qos_rules, 2);
        assert_string_equal(c->qos_rules[0].match, "batch.slice/**");
        assert_string_equal(c->qos_rules[1].match, "web.slice/**");
        assert_int_equal(c->qos_rules[1].qos_class, QOS_CLASS_SHARED_CORES);
        assert_int_equal(c->n_sources, 3);
        assert_string_equal(c->sources[0], f->main);
        assert_non_null(strstr(c->sources[1], "10-first.yaml"));
        assert_non_null(strstr(c->sources[2], "20-second.yaml"));
}

static void test_dropin_empty_list_resets(void **state) {
        Fixture *f = *state;
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};

        add_dropin(f, "10-reset.yaml", "qos_rules: []\n");
        add_dropin(f, "20-add.yaml", "qos_rules:\n  - {match: 'x.slice', class: dedicated_cores}\n");
        /* No main file, but it is the default path: defaults, then drop-ins. */
        assert_int_equal(config_load(f->main, CONFIG_LOAD_MISSING_OK, &c, &errors), 0);
        assert_int_equal(c->n_qos_rules, 1);
        assert_string_equal(c->qos_rules[0].match, "x.slice");
        assert_int_equal(c->n_sources, 2);
}

static void test_dropin_error_names_the_dropin(void **state) {
        Fixture *f = *state;
        Config *c = NULL;
        ConfigErrors errors = {};
        char expected[256];

        write_file(f->main, "tick_interval_ms: 300\n");
        add_dropin(f, "50-bad.yaml", "# comment\ncontrollers:\n  cpu:\n    kp: high\n");
        assert_int_equal(config_load(f->main, 0, &c, &errors), -EINVAL);
        assert_null(c);
        assert_int_equal(errors.n_lines, 1);
        snprintf(expected, sizeof(expected), "%s/50-bad.yaml:4:9: controllers.cpu.kp: expected a number, got 'high'",
                 f->dropins);
        assert_string_equal(errors.lines[0], expected);
        config_errors_clear(&errors);
}

static void test_merged_conflict_is_placed(void **state) {
        /* min in the main file, max in a drop-in: the error points at the max. */
        Fixture *f = *state;
        Config *c = NULL;
        ConfigErrors errors = {};
        char expected[256];

        write_file(f->main, "controllers:\n  cpu:\n    min: 4000\n");
        add_dropin(f, "10-max.yaml", "controllers:\n  cpu:\n    max: 2000\n");
        assert_int_equal(config_load(f->main, 0, &c, &errors), -EINVAL);
        snprintf(expected, sizeof(expected),
                 "%s/10-max.yaml:3:10: controllers.cpu: min (4000) is above max (2000); use max 0 for no limit",
                 f->dropins);
        assert_int_equal(errors.n_lines, 1);
        assert_string_equal(errors.lines[0], expected);
        config_errors_clear(&errors);
}

static void test_missing_files(void **state) {
        Fixture *f = *state;
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};
        char expected[256];

        /* An explicitly named file must exist. */
        assert_int_equal(config_load(f->main, 0, &c, &errors), -EINVAL);
        snprintf(expected, sizeof(expected), "%s: cannot read: No such file or directory", f->main);
        assert_string_equal(errors.lines[0], expected);
        config_errors_clear(&errors);

        /* The default one may be missing: built-in defaults. */
        assert_int_equal(config_load(f->main, CONFIG_LOAD_MISSING_OK, &c, &errors), 0);
        assert_int_equal(c->n_sources, 0);
        assert_int_equal(c->tick_interval_usec, 1000000);

        /* A directory is not a configuration file. */
        config_free(TAKE_PTR(c));
        assert_int_equal(config_load(f->dir, 0, &c, &errors), -EINVAL);
        snprintf(expected, sizeof(expected), "%s: cannot read: Is a directory", f->dir);
        assert_string_equal(errors.lines[0], expected);
        config_errors_clear(&errors);
}

static void test_oversized_file_refused(void **state) {
        Fixture *f = *state;
        Config *c = NULL;
        ConfigErrors errors = {};
        FILE *out = fopen(f->main, "we");

        assert_non_null(out);
        for (int i = 0; i < 300 * 1024 / 16; i++)
                fputs("# padding......\n", out);
        assert_int_equal(fclose(out), 0);
        assert_int_equal(config_load(f->main, 0, &c, &errors), -EINVAL);
        assert_non_null(strstr(errors.lines[0], "file larger than 262144 bytes, refusing to parse it"));
        config_errors_clear(&errors);
}

static void test_dropin_dir_name(void **state) {
        static const struct {
                const char *main, *dir;
        } cases[] = {
                { "/etc/nodeqos/nodeqos.yaml", "/etc/nodeqos/nodeqos.d" },
                { "/etc/nodeqos/custom.conf", "/etc/nodeqos/custom.conf.d" },
                { "relative.yaml", "relative.d" },
                { "/etc/x/.yaml", "/etc/x/.yaml.d" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *d = config_dropin_dir(cases[i].main);
                assert_string_equal(d, cases[i].dir);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_invalid_documents),
                cmocka_unit_test(test_several_errors_reported),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_values_and_spellings),
                cmocka_unit_test_setup_teardown(test_dropins_merge_in_name_order, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_dropin_empty_list_resets, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_dropin_error_names_the_dropin, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_merged_conflict_is_placed, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_missing_files, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_oversized_file_refused, fixture_setup, fixture_teardown),
                cmocka_unit_test(test_dropin_dir_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
