/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the parts of the gRPC transport (api-server.h) share: the server,
 * endpoint and call structs, and the functions one part calls in another.
 * api-server.c: set-up, start and stop; api-server-bind.c: the sockets;
 * api-server-call.c: the completion-queue thread and a call's life;
 * api-server-loop.c: the hand-over of calls to the event loop;
 * api-server-watch.c: health Watch streams. */

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api-call-stats.h"
#include "api-health.h"
#include "api-server.h"

/* What a completion-queue event is about; the tag pointer gRPC returns. */
typedef enum TagKind {
        TAG_NEW_CALL,     /* a posted request_call matched a call, or failed at shutdown */
        TAG_RECEIVED,     /* the request message arrived (or not) */
        TAG_FINISHED,     /* the final batch (status sent) completed */
        TAG_WATCH_SENT,   /* a health Watch's first message went out */
        TAG_WATCH_CLOSED, /* a health Watch's call is over */
        TAG_SHUTDOWN,     /* an endpoint's grpc_server has shut down */
} TagKind;

typedef struct Tag {
        TagKind kind;
        void *owner;
} Tag;

typedef struct ServerCall ServerCall;

struct ServerCall {
        ApiEndpoint *endpoint;
        grpc_call *call;
        grpc_call_details details;
        grpc_metadata_array metadata;
        grpc_byte_buffer *received;
        grpc_byte_buffer *response;
        grpc_slice status_details;
        int cancelled;
        const RpcMethod *method;
        RpcCall *rpc;
        uint64_t arrived_usec; /* CLOCK_MONOTONIC, for the latency histogram */

        /* What the handler answered (call_run()), held until call_reply()
         * sends it: a loop batch sends nothing before its commit hook. */
        grpc_status_code answer_status;
        uint8_t *answer_data;
        size_t answer_len;

        /* Batches in flight. Unary calls have one at a time, started by
         * whichever thread holds the call (handed over through the loop
         * queue). A health Watch has up to two, and all its batch starts
         * and this count are under the server's lock. */
        unsigned pending;
        bool is_watch;
        bool watch_sent, watch_closed, watch_end_wanted, watch_ending;

        ServerCall *next; /* in the loop queue or the watch list */
        Tag tag_new, tag_received, tag_finished, tag_watch_sent, tag_watch_closed;
};

struct ApiEndpoint {
        ApiServer *server;
        char *name;
        char *socket_path;
        RpcMethodTable methods;
        HealthService health;
        grpc_server *grpc; /* NULL until bound */
        /* One per method of the table (same index), then one for calls to
         * unknown paths; allocated at start, when the table is final. */
        ApiCallCounters *call_counters;
        bool bound;        /* the socket at socket_path is the one we created */
        Tag tag_shutdown;
};

struct ApiServer {
        sd_event *event;
        sd_event_source *queue_source;
        int queue_fd;
        int lock_fd;
        ApiStateBox *states;
        size_t max_receive_bytes;
        ApiCommitHook commit_hook; /* NULL: none */
        void *commit_userdata;
        bool grpc_initialised;

        ApiEndpoint **endpoints;
        size_t n_endpoints;

        grpc_completion_queue *cq;
        pthread_t thread;
        bool thread_running;
        bool started, stopped;

        /* Shared by the completion-queue thread and the loop thread. */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping;
        ServerCall *queue_head, *queue_tail; /* calls for the loop */
        ServerCall *watches;                 /* open health Watch calls */
        size_t n_shutdowns;                  /* TAG_SHUTDOWN events seen */

        atomic_uint_fast64_t n_calls, n_failed;
};

/* ---- api-server-call.c ---- */

/* CLOCK_MONOTONIC in microseconds. */
uint64_t api_monotonic_usec(void);
/* Frees a call and whatever it holds; NULL is fine. */
void server_call_free(ServerCall *c);
/* A byte buffer that owns data (malloc'd). NULL on ENOMEM. */
grpc_byte_buffer *byte_buffer_take(uint8_t *data, size_t len);
/* Ends a unary (or unknown) call with this status; data is taken. */
void call_finish(ServerCall *c, grpc_status_code status, const char *message, uint8_t *data, size_t len);
/* Runs the handler with the latest published state; the answer waits in
 * c for call_reply(). */
void call_run(ServerCall *c);
/* Sends what call_run() answered. */
void call_reply(ServerCall *c);
/* Drops what call_run() answered and ends the call with this status. */
void call_reply_instead(ServerCall *c, grpc_status_code status, const char *message);
/* call_run(), then call_reply(): a call answered on its own. */
void call_answer(ServerCall *c);
/* Posts one more request_call on the endpoint. 0, -ENOMEM, -EIO. */
int endpoint_post_request(ApiEndpoint *e);
/* Starts the completion-queue thread, with every signal blocked. 0 or -errno. */
int start_thread(ApiServer *s);

/* ---- api-server-watch.c (s->lock held where the name says so) ---- */

void watch_free_if_done_locked(ServerCall *c);
void watch_end_locked(ServerCall *c);
void watch_start(ServerCall *c);
void on_watch_sent(ServerCall *c);
void on_watch_closed(ServerCall *c);

/* ---- api-server-loop.c ---- */

/* From the completion-queue thread: queues c for the loop, or answers it
 * UNAVAILABLE once the server is stopping. */
void queue_to_loop(ServerCall *c);
/* The loop's eventfd source: answers every queued call as one batch (runs
 * every handler, the commit hook, then sends every answer). */
int on_loop_queue(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* ---- api-server-bind.c ---- */

/* Creates the endpoint's grpc_server and its listening socket, mode 0600.
 * 0, -ENOMEM, -EADDRNOTAVAIL, or unix_socket_restrict()'s -errno. */
int endpoint_bind(ApiEndpoint *e);
