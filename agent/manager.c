/* SPDX-License-Identifier: Apache-2.0 */
#include "manager.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "manager-api.h"
#include "nodeqos-build.h"

/* sd-event coalesces timers by default (250 ms); the tick is the controller's
 * sampling period and must not wander that much. */
#define TICK_ACCURACY_USEC 1000
/* A pressure trigger ticks at once, but not closer than this to the last
 * tick: several triggers fire together under one spike. */
#define EARLY_TICK_MIN_GAP_USEC 100000

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* Where the layout, the pressure and the node's memory and CPU come from:
 * fixed kernel interfaces. */
#define MOUNTINFO_PATH "/proc/self/mountinfo"
#define PRESSURE_DIR "/proc/pressure"
#define PROC_DIR "/proc"

static void notify_status(Manager *m) {
        char summary[256] = "", budgets[160] = "";

        if (m->model)
                node_model_summary(m->model, summary, sizeof(summary));
        control_summary(m->control, budgets, sizeof(budgets));
        (void) sd_notifyf(false, "STATUS=Running: tick %llu every %llu ms; %s; %s%s; %llu pressure wakeups; configuration %s, %llu reloads (%llu rejected)",
                          (unsigned long long) m->n_ticks,
                          (unsigned long long) (m->config->tick_interval_usec / 1000), summary, budgets,
                          m->dry_run ? " (dry run)" : "",
                          (unsigned long long) m->n_pressure_wakeups,
                          m->config->n_sources > 0 ? m->config->sources[0] : "built-in defaults",
                          (unsigned long long) m->n_reloads, (unsigned long long) m->n_failed_reloads);
}

static int on_registry_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        /* A pod or container came or went: update the registry now, so the
         * next tick samples it; errors are logged and retried then. */
        (void) node_model_refresh(m->model);
        return 0;
}

static void on_pressure(const char *path, void *userdata);

/* Makes model the manager's, with its inotify descriptor in the loop and the
 * pressure triggers that config asks for. */
static int manager_set_model(Manager *m, NodeModel *model, const Config *config) {
        _cleanup_free_ char *burstable = NULL;
        PressureTriggers *triggers = NULL;
        const char *kube_root = pod_registry_kube_root(model->registry);
        const char *ls_parents[1];
        size_t n_ls = 0;
        sd_event_source *s = NULL;
        int r;

        r = sd_event_add_io(m->event, &s, pod_registry_fd(model->registry), EPOLLIN, on_registry_event, m);
        if (r < 0) {
                node_model_free(model);
                return log_error_errno(r, "Failed to watch the cgroup tree: %m");
        }
        (void) sd_event_source_set_description(s, "cgroup-tree");

        /* The latency-sensitive parent: the burstable tier (Guaranteed pods
         * have no parent of their own, the node's files cover them). */
        if (kube_root) {
                const char *tier = kube_tier_dir(pod_registry_driver(model->registry), KUBE_TIER_BURSTABLE);
                if (asprintf(&burstable, "%s/%s", kube_root, tier) >= 0)
                        ls_parents[n_ls++] = burstable;
        }
        r = pressure_triggers_new(m->event, config, &model->layout, ls_parents, n_ls, on_pressure, m, &triggers);
        if (r < 0) {
                sd_event_source_disable_unref(s);
                node_model_free(model);
                return log_oom();
        }
        if (config->pressure_triggers_enabled)
                log_info("%zu pressure triggers armed (stall %llu ms in %llu ms).", pressure_triggers_armed(triggers),
                         (unsigned long long) (config->pressure_trigger_stall_usec / 1000),
                         (unsigned long long) (config->pressure_trigger_window_usec / 1000));

        pressure_triggers_free(m->triggers);
        sd_event_source_disable_unref(m->registry_source);
        node_model_free(m->model);
        m->triggers = triggers;
        m->registry_source = s;
        m->model = model;
        return 0;
}

/* One pass of sense -> model -> decide -> act -> expose; the later stages
 * hang here as they land. */
static void manager_tick(Manager *m, uint64_t now) {
        int r;

        m->n_ticks++;
        m->last_tick_usec = now;
        (void) node_model_refresh(m->model);
        r = node_model_sample(m->model, m->n_ticks, now);
        if (r < 0)
                log_warning_errno(r, "Sampling the cgroups failed, keeping the last snapshot: %m");
        if (r >= 0 || m->model->snapshot) {
                _cleanup_free_ char *pool = manager_api_reclaimed_pool(m);
                AppSignal app;
                bool has_app = m->app_signals &&
                               app_signals_worst(m->app_signals, now,
                                                 m->config->controllers[RESOURCE_CPU].app_signal_max_age_usec, &app);

                control_tick(m->control, m->config, m->model, has_app ? &app : NULL, pool, m->dry_run, now);
        }
        /* Before publishing, so /metrics sees this tick's duration too. */
        tick_durations_observe(&m->tick_durations, now_usec() - now);
        manager_api_publish(m);
        notify_status(m);
}

static int arm_tick_timer(Manager *m, uint64_t when) {
        int r = sd_event_source_set_time(m->tick_source, when);

        if (r < 0)
                return log_error_errno(r, "Failed to re-arm the tick timer: %m");
        return sd_event_source_set_enabled(m->tick_source, SD_EVENT_ONESHOT);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        uint64_t next = usec + m->config->tick_interval_usec, now = now_usec();

        manager_tick(m, now);
        /* Keep a steady cadence; after a stall, skip the missed ticks rather
         * than running them back to back. */
        if (next <= now)
                next = now + m->config->tick_interval_usec;
        return arm_tick_timer(m, next);
}

static void on_pressure(const char *path, void *userdata) {
        Manager *m = userdata;
        uint64_t now = now_usec(), earliest = m->last_tick_usec + EARLY_TICK_MIN_GAP_USEC, next = 0;

        m->n_pressure_wakeups++;
        if (now >= earliest) {
                log_debug("Pressure trigger on %s: ticking now.", path);
                manager_tick(m, now);
                /* The cadence restarts from this tick. */
                (void) arm_tick_timer(m, now + m->config->tick_interval_usec);
                return;
        }
        /* Right after a tick: the spike is not dropped (the kernel reports
         * it once per window), the next tick is brought forward instead. */
        log_debug("Pressure trigger on %s: ticking in %llu ms.", path,
                  (unsigned long long) ((earliest - now) / 1000));
        if (sd_event_source_get_time(m->tick_source, &next) < 0 || earliest < next)
                (void) arm_tick_timer(m, earliest);
}

static void log_config_errors(const ConfigErrors *errors) {
        for (size_t i = 0; i < errors->n_lines; i++)
                log_error("%s", errors->lines[i]);
}

int manager_reload(Manager *m) {
        _cleanup_(config_freep) Config *c = NULL;
        NodeModel *model = NULL;
        ConfigErrors errors = {};
        int r;

        /* MONOTONIC_USEC: what Type=notify-reload (systemd >= 253) matches
         * the reload by; harmless before. */
        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
                          (unsigned long long) now_usec());

        r = config_load(m->config_path, m->config_path_is_default ? CONFIG_LOAD_MISSING_OK : 0, &c, &errors);
        if (r < 0) {
                if (r == -EINVAL)
                        log_config_errors(&errors);
                config_errors_clear(&errors);
                m->n_failed_reloads++;
                log_error_errno(r, "Configuration reload failed, keeping the running configuration: %m");
                (void) sd_notify(false, "READY=1");
                notify_status(m);
                return r;
        }

        if (!streq_ptr(c->runtime_dir, m->config->runtime_dir))
                log_warning("runtime_dir changed to %s: takes effect at the next restart.", c->runtime_dir);
        manager_api_check_reload(m, c);

        /* The model borrows the configuration's rules and roots: build it
         * again from the new one, before anything is replaced. */
        r = node_model_new(c, MOUNTINFO_PATH, PRESSURE_DIR, PROC_DIR, &model);
        if (r >= 0)
                r = manager_set_model(m, TAKE_PTR(model), c);
        if (r < 0) {
                m->n_failed_reloads++;
                log_error("Configuration reload failed, keeping the running configuration.");
                (void) sd_notify(false, "READY=1");
                notify_status(m);
                return r;
        }

        if (c->tick_interval_usec != m->config->tick_interval_usec && m->tick_source) {
                r = sd_event_source_set_time(m->tick_source, now_usec() + c->tick_interval_usec);
                if (r < 0)
                        return log_error_errno(r, "Failed to re-arm the tick timer: %m");
        }

        config_free(m->config);
        m->config = TAKE_PTR(c);
        m->n_reloads++;
        log_info("Configuration reloaded (tick every %llu ms).",
                 (unsigned long long) (m->config->tick_interval_usec / 1000));
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, stopping.", si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        return sd_event_exit(m->event, 0);
}

int manager_new(const char *config_path, bool config_path_is_default, Config *config, int lock_fd,
                Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m) {
                config_free(config);
                if (lock_fd >= 0)
                        (void) close(lock_fd);
                return -ENOMEM;
        }
        m->config = config;
        m->lock_fd = lock_fd;

        m->config_path = strdup(config_path);
        if (!m->config_path)
                return -ENOMEM;

        r = sd_event_new(&m->event);
        if (r < 0)
                return r;
        r = app_signals_new(&m->app_signals);
        if (r < 0)
                return r;

        r = control_new(&m->control);
        if (r < 0)
                return r;

        m->config_path_is_default = config_path_is_default;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* First: its calls in flight may still use the model and config. */
        m->api = manager_api_free(m->api);
        app_signals_free(m->app_signals); /* after the API: its thread reports into it */
        sd_event_source_disable_unref(m->tick_source);
        pressure_triggers_free(m->triggers);
        sd_event_source_disable_unref(m->registry_source);
        control_free(m->control);
        node_model_free(m->model);
        sd_event_unref(m->event);
        config_free(m->config);
        free(m->config_path);
        if (m->lock_fd >= 0)
                (void) close(m->lock_fd);
        free(m);
        return NULL;
}

static int add_signal(Manager *m, int sig, sd_event_signal_handler_t handler, const char *description) {
        sd_event_source *s = NULL;
        int r;

        /* PROCMASK: sd-event blocks the signal so it arrives only through the loop. */
        r = sd_event_add_signal(m->event, &s, sig | SD_EVENT_SIGNAL_PROCMASK, handler, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s, description);
        /* Floating: the event loop owns it and frees it with itself. */
        r = sd_event_source_set_floating(s, true);
        sd_event_source_unref(s);
        return r;
}

int manager_start(Manager *m) {
        NodeModel *model = NULL;
        int r;

        r = add_signal(m, SIGTERM, on_terminate, "sigterm");
        if (r >= 0)
                r = add_signal(m, SIGINT, on_terminate, "sigint");
        if (r >= 0)
                r = add_signal(m, SIGHUP, on_sighup, "sighup-reload");
        if (r < 0)
                return log_error_errno(r, "Failed to set up signal handling: %m");

        r = node_model_new(m->config, MOUNTINFO_PATH, PRESSURE_DIR, PROC_DIR, &model);
        if (r < 0)
                return r;
        r = manager_set_model(m, model, m->config);
        if (r < 0)
                return r;

        r = sd_event_add_time(m->event, &m->tick_source, CLOCK_MONOTONIC, now_usec() + m->config->tick_interval_usec,
                              TICK_ACCURACY_USEC, on_tick, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the tick timer: %m");
        (void) sd_event_source_set_description(m->tick_source, "tick");

        r = manager_api_start(m);
        if (r < 0)
                return r;

        /* Pings WATCHDOG=1 from the loop itself when systemd asks for it: a
         * stuck loop is what the watchdog is for. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Failed to enable the watchdog: %m");

        log_info("nodeqosd %s started: tick every %llu ms, configuration %s%s.", NODEQOS_VERSION,
                 (unsigned long long) (m->config->tick_interval_usec / 1000),
                 m->config->n_sources > 0 ? m->config->sources[0] : "built-in defaults",
                 r > 0 ? ", watchdog on" : "");
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        return 0;
}

int manager_run(Manager *m) {
        int r = sd_event_loop(m->event);

        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
