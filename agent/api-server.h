/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The gRPC transport (gRPC C core): unix-socket endpoints, each with its own
 * method table (rpc.h), one completion-queue thread for all of them, the
 * hand-over of state-changing calls to the event loop, the built-in health
 * service, and a graceful stop.
 *
 * Threads. The completion-queue thread receives every call, decodes it and
 * either answers it at once (RPC_THREAD_GRPC handlers, which read the
 * ApiState published in the ApiStateBox) or queues it to the event loop
 * (RPC_THREAD_LOOP handlers), whose eventfd source runs the handlers and
 * answers from the loop thread, a batch at a time (ApiCommitHook, below).
 * Unknown methods are answered UNIMPLEMENTED at once, never left to the
 * client's deadline.
 *
 * Sockets are created with mode 0600. The server refuses to start without
 * the agent's instance lock, and refuses a path where another process
 * accepts connections (gRPC would silently take it over). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include <systemd/sd-event.h>

#include "api-call-stats.h"
#include "api-state.h"
#include "rpc.h"

/* Largest request accepted; larger ones end RESOURCE_EXHAUSTED in gRPC
 * itself. The kubelet's largest requests (a pod's annotations and labels)
 * are a few KiB; this bounds what one call can make the agent allocate. */
#define API_MAX_RECEIVE_BYTES (1024 * 1024)

typedef struct ApiServer ApiServer;
typedef struct ApiEndpoint ApiEndpoint;

typedef struct ApiServerParams {
        sd_event *event;          /* the loop RPC_THREAD_LOOP handlers run on */
        int instance_lock_fd;     /* the agent's flock'ed lock; checked at start */
        ApiStateBox *states;      /* where handlers' ApiState comes from */
        size_t max_receive_bytes; /* 0: API_MAX_RECEIVE_BYTES */
} ApiServerParams;

/* Group commit of the calls answered on the loop. The loop takes every
 * RPC_THREAD_LOOP call queued when it wakes up as one batch: it runs all
 * their handlers (their state changes are made), then this hook once,
 * then sends all their answers. So the hook can make the batch's changes
 * durable (one checkpoint save for many calls) before any client hears of
 * them. It returns 0, or a negative errno when the changes are not
 * durable: then every call of the batch that its handler answered OK is
 * answered UNAVAILABLE instead (the hook logs why), since an OK would
 * promise what a crash could take back; the client retries. Calls
 * answered on gRPC's thread never wait for it. */
typedef int (*ApiCommitHook)(void *userdata);

/* Initialises gRPC. Returns 0, -ENOMEM. */
int api_server_new(const ApiServerParams *params, ApiServer **ret);
/* Stops if needed and releases everything, gRPC included. */
ApiServer *api_server_free(ApiServer *s);
static inline void api_server_freep(ApiServer **s) {
        api_server_free(*s);
}

/* Adds a socket serving these services (and grpc.health.v1.Health, always),
 * every method unimplemented until a handler is set. name is the
 * endpoint's role for handlers and logs ("admin", "cpu", "memory"). Before
 * api_server_start() only. Returns 0 (*ret, owned by the server), -EEXIST
 * for a path already used, -EBUSY once started, -ENOMEM. */
int api_server_add_endpoint(ApiServer *s, const char *name, const char *socket_path,
                            const ProtobufCServiceDescriptor *const *services, size_t n_services,
                            ApiEndpoint **ret);

/* Sets the handler of one method of an endpoint: the path as on the wire,
 * "/package.Service/Method". Before api_server_start() only. Returns 0,
 * -ENOENT (no such method on this endpoint), -EBUSY once started. */
int api_endpoint_handle(ApiEndpoint *e, const char *path, RpcThread thread, RpcHandler handler, void *userdata);

/* The endpoint's method table, for installers of several handlers at once
 * (api-kubelet.h, api-admin.h). Before api_server_start() only. */
RpcMethodTable *api_endpoint_methods(ApiEndpoint *e);

const char *api_endpoint_name(const ApiEndpoint *e);
const char *api_endpoint_socket(const ApiEndpoint *e);

/* Sets the commit hook (one per server; NULL: none). Before
 * api_server_start() only. Returns 0, -EBUSY once started. */
int api_server_set_commit_hook(ApiServer *s, ApiCommitHook hook, void *userdata);

/* Checks the lock and the paths, binds every endpoint (mode 0600), starts
 * the completion-queue thread and the loop's queue source. On failure
 * nothing keeps running and no socket of ours is left. Returns 0; -ENOLCK
 * without the instance lock; -EADDRINUSE if a live process serves one of
 * the paths; -EEXIST if a non-socket is there; -EADDRNOTAVAIL if gRPC
 * could not bind; other -errno. *ret_failed_path (if given) names the
 * path at fault. */
int api_server_start(ApiServer *s, const char **ret_failed_path);

/* Graceful stop, from the loop thread: stop accepting, end health watches
 * with NOT_SERVING, answer queued loop calls UNAVAILABLE, give calls in
 * flight a moment (API_STOP_GRACE_USEC) then cancel them, drain the queue,
 * join the thread, remove the sockets. Idempotent. */
void api_server_stop(ApiServer *s);

/* Calls received and those answered with a status other than OK, since
 * the start. Any thread. */
void api_server_counters(ApiServer *s, uint64_t *ret_calls, uint64_t *ret_failed);

/* method_path: "/pkg.Service/Method", or NULL for the calls to paths the
 * endpoint does not serve. */
typedef void (*ApiCallStatsVisitor)(const char *endpoint, const char *method_path, const ApiCallTotals *t,
                                    void *userdata);
/* Visits every unary method of every endpoint with its call counters (by
 * final status, their latency). Any thread, once started and
 * until freed: the tables do not change after the start. */
void api_server_visit_call_stats(ApiServer *s, ApiCallStatsVisitor visit, void *userdata);
