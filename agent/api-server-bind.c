/* SPDX-License-Identifier: Apache-2.0 */
/* An endpoint's listening socket: a grpc_server bound to a unix socket
 * that is never reachable by another user. */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "api-server-private.h"
#include "macro.h"
#include "unix-socket.h"

/* Root only: the API changes QoS budgets and hands out cgroup settings. */
#define API_SOCKET_MODE 0600
/* Streams one connection may have open: bounds what one client (root, but
 * perhaps buggy) can make the agent hold. */
#define API_MAX_CONCURRENT_STREAMS 64

/* Creates the endpoint's grpc_server and its listening socket, mode 0600. */
int endpoint_bind(ApiEndpoint *e) {
        ApiServer *s = e->server;
        grpc_arg args[] = {
                {
                        .type = GRPC_ARG_INTEGER,
                        .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                        .value.integer = (int) MIN(s->max_receive_bytes, (size_t) INT32_MAX),
                },
                {
                        .type = GRPC_ARG_INTEGER,
                        .key = (char *) GRPC_ARG_MAX_CONCURRENT_STREAMS,
                        .value.integer = API_MAX_CONCURRENT_STREAMS,
                },
        };
        grpc_channel_args channel_args = { .num_args = ELEMENTSOF(args), .args = args };
        grpc_server_credentials *creds;
        _cleanup_free_ char *address = NULL;
        mode_t old_umask;
        int port;

        if (asprintf(&address, "unix:%s", e->socket_path) < 0)
                return -ENOMEM;

        e->grpc = grpc_server_create(&channel_args, NULL);
        if (!e->grpc)
                return -ENOMEM;
        grpc_server_register_completion_queue(e->grpc, s->cq, NULL);

        /* The socket is born 0600: there is no moment in which another user
         * could connect. umask is process-wide, but this runs at start-up
         * on the loop thread, before anything else creates files. */
        creds = grpc_insecure_server_credentials_create();
        old_umask = umask(0177);
        port = grpc_server_add_http2_port(e->grpc, address, creds);
        (void) umask(old_umask);
        grpc_server_credentials_release(creds);
        if (port == 0) {
                /* No listener was added: it may go without a shutdown. */
                grpc_server_destroy(e->grpc);
                e->grpc = NULL;
                return -EADDRNOTAVAIL;
        }
        e->bound = true;

        /* Whatever umask gRPC's bind really saw, the mode is enforced here. */
        return unix_socket_restrict(e->socket_path, API_SOCKET_MODE);
}
