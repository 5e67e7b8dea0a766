/* SPDX-License-Identifier: Apache-2.0 */
#include "manager-api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api-admin.h"
#include "api-kubelet.h"
#include "api-plugins.h"
#include "log.h"
#include "manager.h"
#include "metrics-server.h"
#include "nodeqos_admin.pb-c.h"
#include "unix-socket.h"

/* The QRM plugins: Katalyst's kubelet has one per resource name. */
static const Resource plugin_resources[] = { RESOURCE_CPU, RESOURCE_MEMORY };

struct ManagerApi {
        ApiServer *server;
        ApiStateBox states;
        KubeletPlugin plugins[ELEMENTSOF(plugin_resources)];
        size_t n_plugins;
        AdminService admin;
        PluginService plugin_service; /* the QRM state and runtime hooks */
        bool plugin_service_ready;
        ApiEndpoint *endpoints[_MANAGER_API_ENDPOINT_MAX];
        uint64_t started_usec;
        MetricsServer *metrics; /* NULL: disabled, or it could not bind */
};

/* What each resource's controller steers on, for GetStatus (see the
 * README's controllers.R.target). */
static const struct {
        const char *indicator, *indicator_unit, *budget_unit;
} resource_terms[_RESOURCE_MAX] = {
        [RESOURCE_CPU] = { "ls_runqueue_latency_p99", "us", "millicores" },
        [RESOURCE_MEMORY] = { "available_memory_fraction", "ratio", "bytes" },
        [RESOURCE_IO] = { "ls_io_latency_p99", "us", "bytes_per_second" },
};

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

ManagerApi *manager_api_free(ManagerApi *api) {
        if (!api)
                return NULL;
        /* The metrics thread first (it reads the states and the gRPC
         * counters), then the gRPC server: its handlers point at the
         * plugins and states. */
        metrics_server_free(api->metrics);
        api_server_free(api->server);
        for (size_t i = 0; i < api->n_plugins; i++)
                kubelet_plugin_done(&api->plugins[i]);
        if (api->plugin_service_ready)
                plugin_service_done(&api->plugin_service);
        api_state_box_done(&api->states);
        free(api);
        return NULL;
}

static inline void manager_api_freep(ManagerApi **api) {
        manager_api_free(*api);
}

ApiEndpoint *manager_api_endpoint(ManagerApi *api, ManagerApiEndpoint which) {
        if (!api || (unsigned) which >= _MANAGER_API_ENDPOINT_MAX)
                return NULL;
        return api->endpoints[which];
}

static void publish(ManagerApi *api, Manager *m) {
        _cleanup_(api_state_unrefp) ApiState *st = NULL;
        int r = 0;

        st = api_state_new();
        if (!st) {
                log_oom();
                return;
        }
        st->built_usec = monotonic_usec();
        st->started_usec = api->started_usec;
        st->tick = m->n_ticks;
        st->tick_interval_usec = m->config->tick_interval_usec;
        st->dry_run = m->dry_run;
        st->tick_durations = m->tick_durations;
        if (m->control) {
                st->has_cgroup_writes = true;
                control_write_stats(m->control, &st->cgroup_writes);
        }
        for (SensorKind k = 0; r >= 0 && m->model && k < _SENSOR_MAX; k++)
                r = api_state_add_sensor(st, sensor_kind_to_string(k), sensors_up(m->model->sensors, k),
                                         sensors_down_reason(m->model->sensors, k));
        if (r < 0) {
                log_oom();
                return;
        }
        for (int i = 0; i < _RESOURCE_MAX && !m->control; i++) {
                const ControllerConfig *c = &m->config->controllers[i];

                st->resources[i] = (ApiResourceStatus) {
                        .controller_enabled = c->enabled,
                        .indicator_name = resource_terms[i].indicator,
                        .indicator_unit = resource_terms[i].indicator_unit,
                        .budget_unit = resource_terms[i].budget_unit,
                        .target = c->target,
                        .budget_min = (double) c->min,
                        .budget_max = (double) c->max,
                };
        }

        if (m->control)
                control_fill_api_state(m->control, m->config, st);

        if (m->model) {
                const PodRegistry *reg = m->model->registry;
                const char *kube_root = pod_registry_kube_root(reg);

                st->snapshot = node_snapshot_ref(m->model->snapshot);
                r = api_state_set_layout(st, &m->model->layout);
                if (r >= 0 && kube_root) {
                        st->has_kube = true;
                        st->driver = pod_registry_driver(reg);
                        st->kube_root = strdup(kube_root);
                        if (!st->kube_root)
                                r = -ENOMEM;
                }
                for (size_t i = 0; i < pod_registry_count(reg); i++) {
                        const Workload *w = pod_registry_get(reg, i);

                        if (w->kind == WORKLOAD_POD)
                                st->n_pods++;
                        else
                                st->n_other_cgroups++;
                        st->n_containers += w->n_containers;
                        if (w->qos_class >= 0 && w->qos_class < _QOS_CLASS_MAX)
                                st->n_by_class[w->qos_class]++;
                }
        }
        if (r < 0) {
                log_oom();
                return;
        }

        api_state_box_publish(&api->states, st);
}

char *manager_api_reclaimed_pool(Manager *m) {
        CpuMask pool;
        char *s = NULL;

        if (!m->api || !m->api->plugin_service_ready || !m->api->plugin_service.state)
                return NULL;
        qrm_state_get_pool(m->api->plugin_service.state, QRM_POOL_RECLAIMED, &pool);
        if (cpu_mask_is_empty(&pool) || cpu_list_format_alloc(&pool, &s) < 0)
                return NULL;
        return s;
}

void manager_api_publish(Manager *m) {
        if (m->api)
                publish(m->api, m);
}

static int set_dry_run(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        const Nodeqos__V1__SetDryRunRequest *req = (const Nodeqos__V1__SetDryRunRequest *) request;
        Nodeqos__V1__SetDryRunResponse *resp = (Nodeqos__V1__SetDryRunResponse *) response;
        Manager *m = userdata;

        resp->previous = m->dry_run;
        m->dry_run = req->dry_run;
        resp->dry_run = m->dry_run;
        if (resp->previous != resp->dry_run)
                log_notice("Dry run %s through the admin API: cgroup settings are %s.", m->dry_run ? "on" : "off",
                           m->dry_run ? "decided and reported, not written" : "written again");
        /* Readers see the change at once, not at the next tick. */
        manager_api_publish(m);
        return 0;
}

/* The semantic RPCs: QRM allocation and hints (plugins/, per resource on
 * MANAGER_API_PLUGIN_CPU/MEMORY) and the runtime hooks (MANAGER_API_ADMIN),
 * all RPC_THREAD_LOOP (api-plugins.c); the endpoints that are NULL (no
 * kubelet plugin directory) are skipped. */
static int manager_api_install_semantics(ManagerApi *api, Manager *m) {
        int r;

        r = plugin_service_install_qrm(&api->plugin_service, api->endpoints[MANAGER_API_PLUGIN_CPU]);
        if (r >= 0)
                r = plugin_service_install_qrm(&api->plugin_service, api->endpoints[MANAGER_API_PLUGIN_MEMORY]);
        if (r >= 0)
                r = plugin_service_install_hooks(&api->plugin_service, api->endpoints[MANAGER_API_ADMIN]);
        if (r >= 0)
                r = plugin_service_install_commit(&api->plugin_service, api->server);
        return r;
}

/* The admin socket's directory (default /run/nodeqos, the runtime_dir) is
 * created like the lock's: one level, 0755; the socket itself is 0600. */
static int make_parent_dir(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static bool is_directory(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int add_plugins(ManagerApi *api, const Config *config) {
        for (size_t i = 0; i < ELEMENTSOF(plugin_resources); i++) {
                const char *name = resource_to_string(plugin_resources[i]);
                _cleanup_free_ char *path = NULL;
                KubeletPlugin *p = &api->plugins[i];
                ApiEndpoint *e = NULL;
                int r;

                if (asprintf(&path, MANAGER_API_PLUGIN_SOCKET_FORMAT, config->kubelet_plugin_dir, name) < 0)
                        return log_oom();
                r = kubelet_plugin_init(p, plugin_resources[i], path);
                if (r < 0)
                        return log_oom();
                api->n_plugins++;

                r = api_server_add_endpoint(api->server, name, path, kubelet_plugin_services, kubelet_plugin_n_services,
                                            &e);
                if (r == -EEXIST)
                        return log_error_errno(r, "%s is configured for two sockets (api.admin_socket?).", path);
                if (r < 0)
                        return log_oom();
                r = kubelet_plugin_install(api_endpoint_methods(e), p);
                if (r < 0)
                        return log_error_errno(r, "Cannot install the %s plugin's handlers: %m", name);
                api->endpoints[MANAGER_API_PLUGIN_CPU + i] = e;
        }
        return 0;
}

/* The Prometheus endpoint reads the same published states as gRPC. It is
 * the operator's view, not the QoS: an address it cannot bind (a port
 * taken by another service) is logged and the agent runs without it. */
static void start_metrics(ManagerApi *api, const Config *config) {
        const char *reason = NULL;
        int r;

        if (!config->metrics_enabled)
                return;
        r = metrics_server_start(&(MetricsServerParams) {
                                         .listen = config->metrics_listen,
                                         .states = &api->states,
                                         .api = api->server,
                                 },
                                 &api->metrics, &reason);
        if (r == -ENOMEM)
                log_oom();
        else if (r < 0)
                log_error_errno(r, "Cannot serve metrics on %s: %s; running without the metrics endpoint.",
                                config->metrics_listen, reason ?: strerror(-r));
        else
                log_info("Metrics on http://%s/metrics (and /healthz, /readyz).", config->metrics_listen);
}

int manager_api_start(Manager *m) {
        _cleanup_(manager_api_freep) ManagerApi *api = NULL;
        const Config *config = m->config;
        const char *failed = NULL;
        ApiEndpoint *admin = NULL;
        int r;

        api = calloc(1, sizeof(*api));
        if (!api)
                return log_oom();
        api->started_usec = monotonic_usec();
        api_state_box_init(&api->states);

        /* The QRM state and its checkpoint, before any call can come in. */
        r = plugin_service_init(&api->plugin_service, m, config->state_dir);
        api->plugin_service_ready = true; /* done() copes with a partial init */
        if (r < 0)
                return r;

        r = api_server_new(&(ApiServerParams) {
                                   .event = m->event,
                                   .instance_lock_fd = m->lock_fd,
                                   .states = &api->states,
                           },
                           &api->server);
        if (r < 0)
                return log_oom();

        r = make_parent_dir(config->admin_socket);
        if (r < 0)
                return log_error_errno(r, "Cannot create the directory of %s: %m", config->admin_socket);
        r = api_server_add_endpoint(api->server, "admin", config->admin_socket, admin_services, admin_n_services,
                                    &admin);
        if (r < 0)
                return log_oom();
        api->endpoints[MANAGER_API_ADMIN] = admin;

        /* Without the directory there is no kubelet to register with. */
        if (is_directory(config->kubelet_plugin_dir)) {
                r = add_plugins(api, config);
                if (r < 0)
                        return r;
        } else
                log_notice("%s does not exist: not serving the QRM plugins (no kubelet to register with).",
                           config->kubelet_plugin_dir);

        api->admin = (AdminService) {
                .server = api->server,
                .plugins = api->plugins,
                .n_plugins = api->n_plugins,
                .app_signals = m->app_signals,
        };
        r = admin_service_install(api_endpoint_methods(admin), &api->admin);
        if (r >= 0)
                r = api_endpoint_handle(admin, "/nodeqos.v1.Admin/SetDryRun", RPC_THREAD_LOOP, set_dry_run, m);
        if (r >= 0)
                r = manager_api_install_semantics(api, m);
        if (r < 0)
                return log_error_errno(r, "Cannot install the API's handlers: %m");

        /* A state before the first call can come in. */
        publish(api, m);
        r = api_server_start(api->server, &failed);
        switch (r) {
        case 0:
                break;
        case -ENOLCK:
                return log_error_errno(r, "Not holding the instance lock: refusing to serve the gRPC API.");
        case -EADDRINUSE:
                return log_error_errno(r, "Another process serves %s: refusing to take its socket over.", failed);
        case -EEXIST:
                return log_error_errno(r, "%s exists and is not a socket: refusing to replace it.", failed);
        case -EADDRNOTAVAIL:
                return log_error_errno(r, "gRPC cannot listen on %s (its reason is logged above).", failed);
        case -ENAMETOOLONG:
                return log_error_errno(r, "Socket path %s is longer than %d bytes.", failed, UNIX_SOCKET_PATH_MAX);
        default:
                return log_error_errno(r, "Cannot serve the gRPC API on %s: %m", strna(failed));
        }

        start_metrics(api, config);
        m->api = TAKE_PTR(api);
        if (m->api->n_plugins > 0)
                log_info("gRPC API on %s (admin, runtime hooks); QRM plugins cpu on %s, memory on %s.",
                         config->admin_socket, m->api->plugins[0].socket_path, m->api->plugins[1].socket_path);
        else
                log_info("gRPC API on %s (admin, runtime hooks).", config->admin_socket);
        return 0;
}

void manager_api_check_reload(Manager *m, const Config *new_config) {
        if (!streq_ptr(new_config->admin_socket, m->config->admin_socket) ||
            !streq_ptr(new_config->kubelet_plugin_dir, m->config->kubelet_plugin_dir) ||
            !streq_ptr(new_config->state_dir, m->config->state_dir))
                log_warning("api.admin_socket, api.kubelet_plugin_dir or api.state_dir changed: takes effect at the "
                            "next restart.");
        if (new_config->metrics_enabled != m->config->metrics_enabled ||
            !streq_ptr(new_config->metrics_listen, m->config->metrics_listen))
                log_warning("metrics.enabled or metrics.listen changed: takes effect at the next restart.");
}
