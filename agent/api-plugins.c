/* SPDX-License-Identifier: Apache-2.0 */
#include "api-plugins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-plugins-private.h"
#include "log.h"
#include "plugins/qrm-checkpoint.h"

/* ---- state, checkpoint ---- */

/* The server's commit hook (api-server.h): once per batch of loop calls,
 * before any of them is answered. */
static int plugin_service_commit(void *userdata) {
        PluginService *s = userdata;
        PluginError err = {};
        uint64_t gen = qrm_state_generation(s->state);
        int r;

        /* Reads, refusals and repeated requests leave the generation alone:
         * nothing to make durable. */
        if (gen == s->saved_generation)
                return 0;
        r = qrm_checkpoint_save(s->state, s->state_dir, s->checkpoint_sequence + 1, &err);
        if (r < 0)
                /* The batch's successful calls are answered UNAVAILABLE
                 * (the kubelet retries; a repeated request changes nothing
                 * and is answered OK once a save succeeds). The state keeps
                 * the changes, so the next save includes them. */
                return log_error_errno(r, "Cannot save the QRM checkpoint in %s, failing the calls that changed "
                                          "it: %s",
                                       s->state_dir, err.message);
        s->saved_generation = gen;
        s->checkpoint_sequence++;
        return 0;
}

int plugin_service_install_commit(PluginService *s, ApiServer *server) {
        return api_server_set_commit_hook(server, plugin_service_commit, s);
}

int plugin_service_init(PluginService *s, Manager *m, const char *state_dir) {
        PluginError err = {};
        int r;

        *s = (PluginService) { .manager = m };
        s->state_dir = strdup(state_dir ? state_dir : QRM_CHECKPOINT_DEFAULT_DIR);
        if (!s->state_dir)
                return log_oom();
        r = cpu_topology_load(NULL, &s->topology);
        if (r < 0)
                return log_error_errno(r, "Cannot read the CPU topology from /sys/devices/system: %m");
        r = qrm_state_new(&(QrmStateParams) { .topology = s->topology }, &s->state, &err);
        if (r < 0)
                return log_error_errno(r, "Cannot create the QRM state: %s", err.message[0] ? err.message : "out of memory");

        r = qrm_checkpoint_load(s->state, s->state_dir, &s->checkpoint_sequence, &err);
        switch (r) {
        case 0:
                log_info("QRM checkpoint restored from %s/" QRM_CHECKPOINT_FILE ": %zu pods, %zu containers.",
                         s->state_dir, qrm_state_n_pods(s->state), qrm_state_n_containers(s->state));
                break;
        case -ENOENT:
                log_debug("No QRM checkpoint in %s: starting empty.", s->state_dir);
                break;
        case -EBADMSG:
        case -ESTALE:
        case -E2BIG: {
                PluginError aside = {};
                int k;

                /* Both files go: the next save starts over at sequence 1. */
                k = qrm_checkpoint_set_aside(s->state_dir, &aside);
                if (k < 0)
                        return log_error_errno(k, "The QRM checkpoint in %s is not usable (%s), and %s", s->state_dir,
                                               err.message, aside.message);
                log_error_errno(r, "The QRM checkpoint in %s is not usable (%s): kept as " QRM_CHECKPOINT_FILE
                                   ".corrupt (and " QRM_CHECKPOINT_FILE_ALT ".corrupt), starting empty.",
                                s->state_dir, err.message);
                s->checkpoint_sequence = 0;
                break;
        }
        case -EPROTONOSUPPORT:
                return log_error_errno(r, "The QRM checkpoint in %s was written by a newer nodeqos (%s): refusing "
                                          "to start and lose its allocations.",
                                       s->state_dir, err.message);
        default:
                return log_error_errno(r, "Cannot read the QRM checkpoint in %s: %s", s->state_dir,
                                       err.message[0] ? err.message : "error");
        }
        s->saved_generation = qrm_state_generation(s->state);
        return 0;
}

void plugin_service_done(PluginService *s) {
        s->state = qrm_state_free(s->state);
        s->topology = cpu_topology_free(s->topology);
        free(s->state_dir);
        s->state_dir = NULL;
}

int plugin_call_fail(RpcCall *call, int r, const PluginError *err) {
        if (r == -ENOMEM && !err->message[0])
                return -ENOMEM;
        return rpc_fail(call, r, "%s", err->message[0] ? err->message : "refused");
}
