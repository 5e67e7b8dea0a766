/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gRPC glue of the kubelet-hook semantics (plugins/): Katalyst's QRM
 * ResourcePlugin on the plugin sockets and Koordinator's RuntimeHookService
 * on the admin socket. The handlers only convert messages to the plugins'
 * structs and back; every one runs on the event loop (RPC_THREAD_LOOP),
 * which owns the QrmState (it is not thread-safe). The checkpoint is saved
 * once per batch of loop calls that changed the state, before any of them
 * is answered (the server's commit hook): what the kubelet was told
 * survives a crash or a power loss. */

#include "api-server.h"
#include "plugins/cpu-topology.h"
#include "plugins/qrm-state.h"

typedef struct Manager Manager;

typedef struct PluginService {
        Manager *manager; /* config (budgets, roots) and model (layout), read at each call */
        CpuTopology *topology;
        QrmState *state;
        char *state_dir;
        uint64_t saved_generation;    /* the state's generation in the last save or load */
        uint64_t checkpoint_sequence; /* of the last save or load; 0: none */
} PluginService;

/* Loads the CPU topology, creates the state and restores the checkpoint
 * from state_dir. A corrupted or stale checkpoint is logged, kept aside as
 * qrm-checkpoint.corrupt, and the state starts empty; one written by a
 * newer nodeqos, or one that cannot be read, is refused (-errno, logged). */
int plugin_service_init(PluginService *s, Manager *m, const char *state_dir);
void plugin_service_done(PluginService *s);

/* The ResourcePlugin methods with semantics, on a plugin socket (cpu or
 * memory: the endpoint's name says which). 0 or -errno. */
int plugin_service_install_qrm(PluginService *s, ApiEndpoint *e);
/* The RuntimeHookService methods, on the admin socket. 0 or -errno. */
int plugin_service_install_hooks(PluginService *s, ApiEndpoint *e);
/* The checkpoint save as the server's commit hook. 0 or -EBUSY (started). */
int plugin_service_install_commit(PluginService *s, ApiServer *server);
