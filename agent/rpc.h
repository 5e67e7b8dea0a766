/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The transport-independent half of the gRPC API: which methods an
 * endpoint serves and who answers them (the method table), and one call's
 * way from request bytes to response bytes (check, decode, handler, encode)
 * with its gRPC status. No threads and no sockets: api-server.c drives it
 * over gRPC, the fuzzer drives it directly.
 *
 * Writing a handler: it gets the decoded request and a response message
 * that is already initialised (every field at its proto3 default). It fills
 * the response with memory from rpc_alloc() and friends, or with pointers
 * into the request or to static data: everything of the call is released
 * together after the response has been encoded, so a handler frees
 * nothing. It returns 0, or a negative errno (mapped to a gRPC status, see
 * rpc_status_from_errno()), ideally through rpc_fail() with a message for
 * the client. */

#include <grpc/status.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "api-state.h"
#include "macro.h"

typedef enum RpcThread {
        /* On gRPC's completion-queue thread, at once: for handlers that only
         * read the published ApiState (rpc_state()) or their own
         * thread-safe data. Must not touch the event loop's state. */
        RPC_THREAD_GRPC,
        /* Queued to the event loop thread, which owns the agent's state,
         * and answered from there: for handlers that change state. */
        RPC_THREAD_LOOP,
        _RPC_THREAD_MAX,
} RpcThread;

typedef struct RpcCall RpcCall;

typedef int (*RpcHandler)(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                          void *userdata);

typedef struct RpcMethod {
        char *path; /* "/package.Service/Method", as on the wire */
        const ProtobufCMessageDescriptor *input, *output;
        /* Answered by the transport itself (health Watch): protobuf-c's
         * service descriptors do not say which methods stream. */
        bool server_streaming;
        RpcThread thread;
        RpcHandler handler; /* NULL: answered UNIMPLEMENTED */
        void *userdata;
} RpcMethod;

typedef struct RpcMethodTable {
        RpcMethod *methods;
        size_t n_methods;
} RpcMethodTable;

/* Adds every method of a protobuf-c service, unimplemented. Returns 0,
 * -EEXIST if one of its paths is there already, -ENOMEM. */
int rpc_method_table_add_service(RpcMethodTable *t, const ProtobufCServiceDescriptor *service);
/* Sets who answers a method. Returns 0, or -ENOENT if the table has no
 * such path (a typo, or a service the endpoint does not serve). */
int rpc_method_table_set_handler(RpcMethodTable *t, const char *path, RpcThread thread, RpcHandler handler,
                                 void *userdata);
/* Marks a method as server-streaming (answered by the transport). 0 or -ENOENT. */
int rpc_method_table_set_streaming(RpcMethodTable *t, const char *path);
/* The method for a path of path_len bytes (not NUL-terminated), or NULL. */
const RpcMethod *rpc_method_table_find(const RpcMethodTable *t, const char *path, size_t path_len);
/* Whether a service of this full name ("pkg.Service") is in the table. */
bool rpc_method_table_has_service(const RpcMethodTable *t, const char *service);
void rpc_method_table_done(RpcMethodTable *t);

/* One call: created by the transport once it knows the method. endpoint
 * names the socket's role ("admin", "cpu", ...) and must outlive the call.
 * Returns 0 or -ENOMEM. */
int rpc_call_new(const RpcMethod *method, const char *endpoint, RpcCall **ret);
RpcCall *rpc_call_free(RpcCall *c);
static inline void rpc_call_freep(RpcCall **c) {
        rpc_call_free(*c);
}

/* Checks and decodes the request bytes. Returns GRPC_STATUS_OK, or the
 * status the call must end with, its reason in rpc_call_status_message():
 * UNIMPLEMENTED if the method has no handler (and does not stream),
 * INVALID_ARGUMENT for bytes that are not the method's message. */
grpc_status_code rpc_call_decode(RpcCall *c, const uint8_t *data, size_t len);

/* Runs the handler on the decoded request, with state (may be NULL; the
 * call takes its own reference) for rpc_state(), and encodes the response
 * into *ret_data (malloc'd, *ret_len bytes) on success. Returns the
 * status; on anything but OK nothing is returned in *ret_data. */
grpc_status_code rpc_call_answer(RpcCall *c, ApiState *state, uint8_t **ret_data, size_t *ret_len);

/* The status the call ended with and its message ("" if none). */
grpc_status_code rpc_call_status(const RpcCall *c);
const char *rpc_call_status_message(const RpcCall *c);
const RpcMethod *rpc_call_method(const RpcCall *c);
/* The decoded request, NULL before rpc_call_decode() succeeded. */
const ProtobufCMessage *rpc_call_request(const RpcCall *c);

/* For handlers. The published state (NULL before the first publication). */
ApiState *rpc_state(RpcCall *c);
/* The endpoint's role ("admin", "cpu", "memory"). */
const char *rpc_endpoint(RpcCall *c);

/* Call-lifetime memory, zeroed; NULL on ENOMEM (answer -ENOMEM then). */
void *rpc_alloc(RpcCall *c, size_t size);
void *rpc_alloc_array(RpcCall *c, size_t n, size_t size);
char *rpc_strdup(RpcCall *c, const char *s);
_printf_(2, 3) char *rpc_strdupf(RpcCall *c, const char *fmt, ...);
/* A nested message, initialised with its defaults. */
void *rpc_new_message(RpcCall *c, const ProtobufCMessageDescriptor *desc);

/* Records why the call fails, for the client, and returns error (a
 * negative errno) for "return rpc_fail(c, -EINVAL, ...)". */
_printf_(3, 4) int rpc_fail(RpcCall *c, int error, const char *fmt, ...);
/* The same with an explicit gRPC status, for the few that no errno names
 * (FAILED_PRECONDITION, ABORTED, ...). Returns -EPROTO. */
_printf_(3, 4) int rpc_fail_status(RpcCall *c, grpc_status_code status, const char *fmt, ...);

/* -EINVAL -> INVALID_ARGUMENT, -ENOENT -> NOT_FOUND, -EEXIST -> ALREADY_EXISTS,
 * -EPERM/-EACCES -> PERMISSION_DENIED, -ENOMEM/-ENOSPC/-E2BIG -> RESOURCE_EXHAUSTED,
 * -EAGAIN/-EBUSY/-ESHUTDOWN -> UNAVAILABLE, -EOPNOTSUPP -> UNIMPLEMENTED,
 * -ETIMEDOUT -> DEADLINE_EXCEEDED, -ECANCELED -> CANCELLED, -ERANGE -> OUT_OF_RANGE,
 * anything else INTERNAL. */
grpc_status_code rpc_status_from_errno(int error);
/* "OK", "CANCELLED", ... "UNAUTHENTICATED"; "UNKNOWN" for other values. */
const char *rpc_status_to_string(grpc_status_code status);
