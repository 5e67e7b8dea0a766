/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The manager's gRPC API surface: which sockets serve what, who answers
 * each method, and the ApiState the loop publishes after each tick. The
 * transport is api-server.c; this file only wires it to the Manager.
 *
 * Sockets (paths from the configuration, read once at start):
 *   api.admin_socket                          admin API + runtime hooks
 *   api.kubelet_plugin_dir/nodeqos-cpu.sock    QRM plugin "cpu"
 *   api.kubelet_plugin_dir/nodeqos-memory.sock QRM plugin "memory"
 * The plugin sockets exist only if api.kubelet_plugin_dir does (no kubelet,
 * nothing to register with). */

#include <stdbool.h>

#include "api-server.h"
#include "config.h"

typedef struct Manager Manager;
typedef struct ManagerApi ManagerApi;

typedef enum ManagerApiEndpoint {
        MANAGER_API_ADMIN,
        MANAGER_API_PLUGIN_CPU,
        MANAGER_API_PLUGIN_MEMORY,
        _MANAGER_API_ENDPOINT_MAX,
} ManagerApiEndpoint;

/* The QRM plugin socket of a resource, in the kubelet's directory. */
#define MANAGER_API_PLUGIN_SOCKET_FORMAT "%s/nodeqos-%s.sock"

/* Creates m->api, binds the sockets and starts serving; publishes a first
 * state. Logs why on failure. Returns 0 or -errno (the agent must not run
 * with a socket it was asked for but could not serve). */
int manager_api_start(Manager *m);

/* Publishes the loop's current view (after each tick, after changes made
 * through the API). Logs and keeps the old one on ENOMEM. */
void manager_api_publish(Manager *m);

/* The cpu list best-effort containers run on (QRM's reclaimed pool: the
 * CPUs no container holds exclusively), malloc'd; NULL when the plugins
 * are not serving or on ENOMEM. */
char *manager_api_reclaimed_pool(Manager *m);

/* Logs that changed api.* settings wait for a restart. */
void manager_api_check_reload(Manager *m, const Config *new_config);

/* Stops serving gracefully and frees. */
ManagerApi *manager_api_free(ManagerApi *api);

/* An endpoint, NULL if it is not served (no kubelet plugin directory). */
ApiEndpoint *manager_api_endpoint(ManagerApi *api, ManagerApiEndpoint which);
