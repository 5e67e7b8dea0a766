/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A gRPC client for one unix socket, on gRPC C core: unary calls with
 * protobuf-c messages, one at a time, over one channel kept open (so a
 * benchmark measures calls, not connections). Used by nodeqosctl and the
 * Allocate latency benchmark.
 *
 * Before gRPC is asked to connect, the socket is tried with a plain
 * connect(2): gRPC reports a missing socket, a refused connection and a
 * permission problem all as UNAVAILABLE after its back-off, while the
 * operator needs to know which of them it is. */

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CtlClient CtlClient;

/* Checks the socket (see ctl_client_reachable()) and opens a channel to it.
 * Returns 0, or -errno with a one-line reason in reason (see
 * ctl_client_reachable()), -ENOMEM. */
int ctl_client_new(const char *socket_path, CtlClient **ret, char *reason, size_t reason_size);
CtlClient *ctl_client_free(CtlClient *c);
static inline void ctl_client_freep(CtlClient **c) {
        ctl_client_free(*c);
}

/* Whether a process accepts connections on socket_path: 0, or
 * -ENOENT (no such file), -ECONNREFUSED (a socket nobody serves: the agent
 * is not running), -EACCES/-EPERM (not allowed), -ENOTSOCK (not a socket),
 * -ENAMETOOLONG, other -errno; reason gets a sentence for the operator. */
int ctl_client_reachable(const char *socket_path, char *reason, size_t reason_size);

typedef struct CtlCallResult {
        grpc_status_code status;
        char details[512]; /* the server's message, "" if none */
        ProtobufCMessage *response; /* on OK; free with protobuf_c_message_free_unpacked() */
} CtlCallResult;

/* Calls method ("/pkg.Service/Method") with request, waiting at most
 * timeout_usec, and unpacks the answer as output. Returns 0 with the
 * outcome in *ret (any gRPC status; a response that does not unpack is
 * INTERNAL), or -ENOMEM. */
int ctl_client_call(CtlClient *c, const char *method, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *output, uint64_t timeout_usec, CtlCallResult *ret);

/* Frees the response of a result. */
void ctl_call_result_done(CtlCallResult *r);
