/* SPDX-License-Identifier: Apache-2.0 */
#include "api-server.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api-health.h"
#include "log.h"
#include "unix-socket.h"

/* Root only: the API changes QoS budgets and hands out cgroup settings. */
#define API_SOCKET_MODE 0600
/* Calls gRPC may hand over at once per endpoint before the thread has
 * posted the next request: a burst of the kubelet's reconcile calls waits
 * in gRPC for less. */
#define API_REQUESTS_POSTED 4
/* Streams one connection may have open: bounds what one client (root, but
 * perhaps buggy) can make the agent hold. */
#define API_MAX_CONCURRENT_STREAMS 64
/* SIGTERM must end the agent within 2 s (the unit's and the tests' bound):
 * calls in flight get this long to finish before they are cancelled. */
#define API_STOP_GRACE_USEC (500 * 1000ULL)
/* An unknown method's path is the client's text: this much of it, made
 * printable, goes into the status message and the debug log. */
#define METHOD_ECHO_MAX 128

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

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* ---- calls ---- */

static ServerCall *server_call_new(ApiEndpoint *e) {
        ServerCall *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->endpoint = e;
        grpc_call_details_init(&c->details);
        grpc_metadata_array_init(&c->metadata);
        c->status_details = grpc_empty_slice();
        c->tag_new = (Tag) { TAG_NEW_CALL, c };
        c->tag_received = (Tag) { TAG_RECEIVED, c };
        c->tag_finished = (Tag) { TAG_FINISHED, c };
        c->tag_watch_sent = (Tag) { TAG_WATCH_SENT, c };
        c->tag_watch_closed = (Tag) { TAG_WATCH_CLOSED, c };
        return c;
}

static void server_call_free(ServerCall *c) {
        if (!c)
                return;
        if (c->call)
                grpc_call_unref(c->call);
        grpc_call_details_destroy(&c->details);
        grpc_metadata_array_destroy(&c->metadata);
        if (c->received)
                grpc_byte_buffer_destroy(c->received);
        if (c->response)
                grpc_byte_buffer_destroy(c->response);
        grpc_slice_unref(c->status_details);
        rpc_call_free(c->rpc);
        free(c);
}

/* A byte buffer that owns data (malloc'd). NULL on ENOMEM. */
static grpc_byte_buffer *byte_buffer_take(uint8_t *data, size_t len) {
        grpc_byte_buffer *bb;
        grpc_slice slice;

        if (len == 0) {
                free(data);
                slice = grpc_empty_slice();
        } else
                slice = grpc_slice_new(data, len, free);
        bb = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        return bb;
}

/* The request's bytes, as one copy. Returns 0 or -EBADMSG (a compressed
 * message that does not decompress). */
static int read_request(grpc_byte_buffer *bb, grpc_slice *ret) {
        grpc_byte_buffer_reader reader;

        if (!grpc_byte_buffer_reader_init(&reader, bb))
                return -EBADMSG;
        *ret = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        return 0;
}

static bool server_is_stopping(ApiServer *s) {
        bool stopping;

        pthread_mutex_lock(&s->lock);
        stopping = s->stopping;
        pthread_mutex_unlock(&s->lock);
        return stopping;
}

/* Ends a unary (or unknown) call: initial metadata, the response if any
 * (data is taken), the status, and the close. From the completion-queue
 * thread or the loop thread, whichever holds the call; c belongs to the
 * completion-queue thread again once the batch is started. */
static void call_finish(ServerCall *c, grpc_status_code status, const char *message, uint8_t *data, size_t len) {
        ApiServer *s = c->endpoint->server;
        grpc_op ops[4] = {};
        size_t n = 0;
        grpc_call_error err;

        if (data) {
                c->response = byte_buffer_take(data, len);
                if (!c->response) {
                        status = GRPC_STATUS_RESOURCE_EXHAUSTED;
                        message = "out of memory";
                }
        }
        if (message && message[0]) {
                grpc_slice_unref(c->status_details);
                c->status_details = grpc_slice_from_copied_string(message);
        }

        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (c->response && status == GRPC_STATUS_OK) {
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = c->response;
        }
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = status;
        ops[n++].data.send_status_from_server.status_details = message && message[0] ? &c->status_details : NULL;
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;

        if (status != GRPC_STATUS_OK)
                atomic_fetch_add(&s->n_failed, 1);

        c->pending++;
        err = grpc_call_start_batch(c->call, ops, n, &c->tag_finished, NULL);
        if (err != GRPC_CALL_OK) {
                /* No completion will come: the call is ours to drop (gRPC
                 * cancels a call unref'ed before its status). */
                log_debug("Cannot answer a call on %s: %s", c->endpoint->name, grpc_call_error_to_string(err));
                server_call_free(c);
        }
}

/* Runs the handler with the latest published state and answers. */
static void call_answer(ServerCall *c) {
        ApiServer *s = c->endpoint->server;
        ApiState *state = api_state_box_get(s->states);
        uint8_t *data = NULL;
        size_t len = 0;
        grpc_status_code status;

        status = rpc_call_answer(c->rpc, state, &data, &len);
        api_state_unref(state);
        if (status != GRPC_STATUS_OK)
                log_debug("%s on %s: %s: %s", rpc_call_method(c->rpc)->path, c->endpoint->name,
                          rpc_status_to_string(status), rpc_call_status_message(c->rpc));
        call_finish(c, status, status == GRPC_STATUS_OK ? NULL : rpc_call_status_message(c->rpc), data, len);
}

static int endpoint_post_request(ApiEndpoint *e) {
        ApiServer *s = e->server;
        ServerCall *c = server_call_new(e);
        grpc_call_error err;

        if (!c)
                return -ENOMEM;
        err = grpc_server_request_call(e->grpc, &c->call, &c->details, &c->metadata, s->cq, s->cq, &c->tag_new);
        if (err != GRPC_CALL_OK) {
                server_call_free(c);
                return -EIO;
        }
        return 0;
}

/* ---- health Watch ---- */

static grpc_byte_buffer *health_message(HealthStatus status) {
        uint8_t *data;
        size_t len;

        if (health_response_pack(status, &data, &len) < 0)
                return NULL;
        return byte_buffer_take(data, len);
}

static void watch_free_if_done_locked(ServerCall *c) {
        if (c->pending == 0 && c->watch_closed)
                server_call_free(c);
}

/* Ends a Watch at shutdown: NOT_SERVING, then UNAVAILABLE. Only once its
 * first message is out (one message send at a time); until then the wish
 * is recorded and the TAG_WATCH_SENT handler comes back here. */
static void watch_end_locked(ServerCall *c) {
        grpc_op ops[2] = {};
        grpc_call_error err;

        if (!c->watch_sent) {
                c->watch_end_wanted = true;
                return;
        }
        if (c->watch_closed || c->watch_ending)
                return;
        c->watch_ending = true;

        if (c->response) /* left by a first send that could not start */
                grpc_byte_buffer_destroy(c->response);
        c->response = health_message(GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
        grpc_slice_unref(c->status_details);
        c->status_details = grpc_slice_from_copied_string("nodeqosd is shutting down");
        ops[0].op = GRPC_OP_SEND_MESSAGE;
        ops[0].data.send_message.send_message = c->response;
        ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[1].data.send_status_from_server.status = GRPC_STATUS_UNAVAILABLE;
        ops[1].data.send_status_from_server.status_details = &c->status_details;

        c->pending++;
        /* Without the message (out of memory) the status alone still ends it. */
        err = grpc_call_start_batch(c->call, c->response ? ops : ops + 1, c->response ? 2 : 1, &c->tag_finished,
                                    NULL);
        if (err != GRPC_CALL_OK) {
                c->pending--;
                /* The server's cancel_all_calls ends it then. */
                log_debug("Cannot end a health watch: %s", grpc_call_error_to_string(err));
        }
}

static void watch_start(ServerCall *c) {
        ApiServer *s = c->endpoint->server;
        const Grpc__Health__V1__HealthCheckRequest *req =
                (const Grpc__Health__V1__HealthCheckRequest *) rpc_call_request(c->rpc);
        grpc_op ops[2] = {}, close_op = {};
        grpc_call_error err;

        pthread_mutex_lock(&s->lock);
        if (s->stopping) {
                pthread_mutex_unlock(&s->lock);
                call_finish(c, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                return;
        }
        c->is_watch = true;
        c->response = health_message(health_service_status(&c->endpoint->health, req->service));
        if (!c->response) {
                pthread_mutex_unlock(&s->lock);
                call_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
                return;
        }

        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = c->response;
        close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        close_op.data.recv_close_on_server.cancelled = &c->cancelled;

        c->pending += 2;
        err = grpc_call_start_batch(c->call, &close_op, 1, &c->tag_watch_closed, NULL);
        if (err != GRPC_CALL_OK) {
                pthread_mutex_unlock(&s->lock);
                log_debug("Cannot start a health watch: %s", grpc_call_error_to_string(err));
                server_call_free(c);
                return;
        }
        err = grpc_call_start_batch(c->call, ops, 2, &c->tag_watch_sent, NULL);
        if (err != GRPC_CALL_OK) {
                /* The close batch is in flight: let it end the call. */
                c->pending--;
                c->watch_sent = true;
                grpc_call_cancel(c->call, NULL);
        }
        c->next = s->watches;
        s->watches = c;
        pthread_mutex_unlock(&s->lock);
}

static void on_watch_sent(ServerCall *c) {
        ApiServer *s = c->endpoint->server;

        pthread_mutex_lock(&s->lock);
        c->pending--;
        c->watch_sent = true;
        grpc_byte_buffer_destroy(c->response);
        c->response = NULL;
        if (c->watch_end_wanted)
                watch_end_locked(c);
        watch_free_if_done_locked(c);
        pthread_mutex_unlock(&s->lock);
}

static void on_watch_closed(ServerCall *c) {
        ApiServer *s = c->endpoint->server;

        pthread_mutex_lock(&s->lock);
        c->pending--;
        c->watch_closed = true;
        for (ServerCall **p = &s->watches; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        watch_free_if_done_locked(c);
        pthread_mutex_unlock(&s->lock);
}

/* ---- the completion-queue thread ---- */

static void queue_to_loop(ServerCall *c) {
        ApiServer *s = c->endpoint->server;
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        if (s->stopping) {
                pthread_mutex_unlock(&s->lock);
                call_finish(c, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                return;
        }
        c->next = NULL;
        if (s->queue_tail)
                s->queue_tail->next = c;
        else
                s->queue_head = c;
        s->queue_tail = c;
        pthread_mutex_unlock(&s->lock);

        /* Cannot fail short of a counter overflow; the loop drains the
         * whole queue on every wakeup anyway. */
        (void) write(s->queue_fd, &one, sizeof(one));
}

/* Keeps only printable ASCII of a client's text, for messages and logs. */
static void printable(const uint8_t *text, size_t len, char *buf, size_t size) {
        size_t n = MIN(len, size - 1);

        for (size_t i = 0; i < n; i++)
                buf[i] = text[i] >= 0x20 && text[i] < 0x7f ? (char) text[i] : '?';
        buf[n] = 0;
}

static void on_new_call(ServerCall *c, bool success) {
        ApiEndpoint *e = c->endpoint;
        ApiServer *s = e->server;
        const char *path = (const char *) GRPC_SLICE_START_PTR(c->details.method);
        size_t path_len = GRPC_SLICE_LENGTH(c->details.method);
        grpc_op op = {};
        int r;

        if (!success) {
                /* The server is shutting down: the request is void. */
                server_call_free(c);
                return;
        }

        /* Another request first, so the endpoint is never without one. */
        r = endpoint_post_request(e);
        if (r < 0 && !server_is_stopping(s))
                log_error_errno(r, "Cannot wait for the next call on %s, it may stop answering: %m", e->socket_path);

        atomic_fetch_add(&s->n_calls, 1);
        c->method = rpc_method_table_find(&e->methods, path, path_len);
        if (!c->method) {
                char echo[METHOD_ECHO_MAX + 1], message[METHOD_ECHO_MAX + 64];

                printable((const uint8_t *) path, path_len, echo, sizeof(echo));
                log_debug("Unknown method %s on %s.", echo, e->name);
                (void) snprintf(message, sizeof(message), "unknown method %s on this socket", echo);
                call_finish(c, GRPC_STATUS_UNIMPLEMENTED, message, NULL, 0);
                return;
        }
        if (server_is_stopping(s)) {
                call_finish(c, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                return;
        }

        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &c->received;
        c->pending++;
        if (grpc_call_start_batch(c->call, &op, 1, &c->tag_received, NULL) != GRPC_CALL_OK) {
                c->pending--;
                call_finish(c, GRPC_STATUS_INTERNAL, "cannot read the request", NULL, 0);
        }
}

static void on_received(ServerCall *c, bool success) {
        ApiEndpoint *e = c->endpoint;
        grpc_status_code status;
        grpc_slice bytes;
        int r;

        c->pending--;
        if (!success || !c->received) {
                /* Either the call is already over (cancelled, deadline, or
                 * refused by gRPC itself: a message over the size limit
                 * gets RESOURCE_EXHAUSTED from gRPC), and this status goes
                 * nowhere; or the client closed without a request. */
                call_finish(c, GRPC_STATUS_INVALID_ARGUMENT, "the call carries no request message", NULL, 0);
                return;
        }

        r = rpc_call_new(c->method, e->name, &c->rpc);
        if (r < 0) {
                call_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
                return;
        }
        if (read_request(c->received, &bytes) < 0) {
                call_finish(c, GRPC_STATUS_INVALID_ARGUMENT, "the request does not decompress", NULL, 0);
                return;
        }
        status = rpc_call_decode(c->rpc, GRPC_SLICE_START_PTR(bytes), GRPC_SLICE_LENGTH(bytes));
        grpc_slice_unref(bytes);
        grpc_byte_buffer_destroy(c->received);
        c->received = NULL;

        if (status != GRPC_STATUS_OK) {
                log_debug("%s on %s: %s: %s", c->method->path, e->name, rpc_status_to_string(status),
                          rpc_call_status_message(c->rpc));
                call_finish(c, status, rpc_call_status_message(c->rpc), NULL, 0);
        } else if (c->method->server_streaming)
                watch_start(c);
        else if (c->method->thread == RPC_THREAD_LOOP)
                queue_to_loop(c);
        else
                call_answer(c);
}

static void on_finished(ServerCall *c) {
        ApiServer *s = c->endpoint->server;

        if (!c->is_watch) {
                server_call_free(c);
                return;
        }
        pthread_mutex_lock(&s->lock);
        c->pending--;
        watch_free_if_done_locked(c);
        pthread_mutex_unlock(&s->lock);
}

static void on_shutdown(ApiEndpoint *e) {
        ApiServer *s = e->server;

        pthread_mutex_lock(&s->lock);
        s->n_shutdowns++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static void *completion_queue_thread(void *userdata) {
        ApiServer *s = userdata;

        for (;;) {
                grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                Tag *tag = ev.tag;

                if (ev.type == GRPC_QUEUE_SHUTDOWN)
                        break;
                if (ev.type != GRPC_OP_COMPLETE)
                        continue;

                switch (tag->kind) {
                case TAG_NEW_CALL:
                        on_new_call(tag->owner, ev.success);
                        break;
                case TAG_RECEIVED:
                        on_received(tag->owner, ev.success);
                        break;
                case TAG_FINISHED:
                        on_finished(tag->owner);
                        break;
                case TAG_WATCH_SENT:
                        on_watch_sent(tag->owner);
                        break;
                case TAG_WATCH_CLOSED:
                        on_watch_closed(tag->owner);
                        break;
                case TAG_SHUTDOWN:
                        on_shutdown(tag->owner);
                        break;
                }
        }
        return NULL;
}

/* ---- the loop side ---- */

static int on_loop_queue(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ApiServer *s = userdata;
        ServerCall *c;
        uint64_t n;

        (void) read(fd, &n, sizeof(n));
        pthread_mutex_lock(&s->lock);
        c = s->queue_head;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        while (c) {
                ServerCall *next = c->next;

                c->next = NULL;
                call_answer(c);
                c = next;
        }
        return 0;
}

/* ---- set-up ---- */

/* gRPC's own messages go to our log (journald fields, our levels), not
 * straight to stderr. Its errors are about one call or connection, which
 * the agent survives: warnings. Its info lines are for debugging gRPC. */
static void log_grpc(gpr_log_func_args *args) {
        int level = args->severity == GPR_LOG_SEVERITY_ERROR ? LOG_WARNING : LOG_DEBUG;

        log_full_errno(level, 0, "gRPC: %s (%s:%d)", args->message, args->file, args->line);
}

int api_server_new(const ApiServerParams *params, ApiServer **ret) {
        pthread_condattr_t attr;
        ApiServer *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(params->event);
        s->lock_fd = params->instance_lock_fd;
        s->states = params->states;
        s->max_receive_bytes = params->max_receive_bytes ?: API_MAX_RECEIVE_BYTES;
        s->queue_fd = -1;
        (void) pthread_mutex_init(&s->lock, NULL);
        /* The stop's grace is measured on the monotonic clock. */
        (void) pthread_condattr_init(&attr);
        (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void) pthread_cond_init(&s->cond, &attr);
        (void) pthread_condattr_destroy(&attr);
        atomic_init(&s->n_calls, 0);
        atomic_init(&s->n_failed, 0);

        gpr_set_log_function(log_grpc);
        grpc_init();
        s->grpc_initialised = true;
        *ret = s;
        return 0;
}

static ApiEndpoint *endpoint_free(ApiEndpoint *e) {
        if (!e)
                return NULL;
        rpc_method_table_done(&e->methods);
        free(e->name);
        free(e->socket_path);
        free(e);
        return NULL;
}

ApiServer *api_server_free(ApiServer *s) {
        if (!s)
                return NULL;
        api_server_stop(s);
        for (size_t i = 0; i < s->n_endpoints; i++)
                endpoint_free(s->endpoints[i]);
        free(s->endpoints);
        sd_event_source_disable_unref(s->queue_source);
        if (s->queue_fd >= 0)
                (void) close(s->queue_fd);
        sd_event_unref(s->event);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        /* Blocking: gRPC's own threads and memory are gone when we return
         * (the sanitizers' leak check runs at exit). */
        if (s->grpc_initialised)
                grpc_shutdown_blocking();
        free(s);
        return NULL;
}

int api_server_add_endpoint(ApiServer *s, const char *name, const char *socket_path,
                            const ProtobufCServiceDescriptor *const *services, size_t n_services,
                            ApiEndpoint **ret) {
        ApiEndpoint *e, **n;
        int r;

        if (s->started)
                return -EBUSY;
        for (size_t i = 0; i < s->n_endpoints; i++)
                if (streq_ptr(s->endpoints[i]->socket_path, socket_path))
                        return -EEXIST;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->server = s;
        e->tag_shutdown = (Tag) { TAG_SHUTDOWN, e };
        e->name = strdup(name);
        e->socket_path = strdup(socket_path);
        if (!e->name || !e->socket_path) {
                endpoint_free(e);
                return -ENOMEM;
        }

        r = health_service_install(&e->methods, &e->health);
        for (size_t i = 0; r >= 0 && i < n_services; i++)
                r = rpc_method_table_add_service(&e->methods, services[i]);
        if (r < 0) {
                endpoint_free(e);
                return r;
        }

        n = realloc(s->endpoints, (s->n_endpoints + 1) * sizeof(*n));
        if (!n) {
                endpoint_free(e);
                return -ENOMEM;
        }
        s->endpoints = n;
        s->endpoints[s->n_endpoints++] = e;
        if (ret)
                *ret = e;
        return 0;
}

int api_endpoint_handle(ApiEndpoint *e, const char *path, RpcThread thread, RpcHandler handler, void *userdata) {
        if (e->server->started)
                return -EBUSY;
        return rpc_method_table_set_handler(&e->methods, path, thread, handler, userdata);
}

RpcMethodTable *api_endpoint_methods(ApiEndpoint *e) {
        return &e->methods;
}

const char *api_endpoint_name(const ApiEndpoint *e) {
        return e->name;
}

const char *api_endpoint_socket(const ApiEndpoint *e) {
        return e->socket_path;
}

void api_server_counters(ApiServer *s, uint64_t *ret_calls, uint64_t *ret_failed) {
        if (ret_calls)
                *ret_calls = atomic_load(&s->n_calls);
        if (ret_failed)
                *ret_failed = atomic_load(&s->n_failed);
}

/* Creates the endpoint's grpc_server and its listening socket, mode 0600. */
static int endpoint_bind(ApiEndpoint *e) {
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

static int start_thread(ApiServer *s) {
        sigset_t all, old;
        int r;

        /* Signals belong to the loop's signalfd: the thread must never take
         * one (it inherits the mask it is created with). */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &old);
        r = -pthread_create(&s->thread, NULL, completion_queue_thread, s);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        (void) pthread_setname_np(s->thread, "nodeqos-grpc");
        s->thread_running = true;
        return 0;
}

int api_server_start(ApiServer *s, const char **ret_failed_path) {
        int r = 0;

        if (s->started)
                return -EBUSY;

        /* Binding takes any stale socket over, so only the holder of the
         * agent's instance lock may do it. flock() on the fd we hold
         * succeeds; one that does not hold it fails against the holder. */
        if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return -ENOLCK;

        for (size_t i = 0; i < s->n_endpoints; i++) {
                r = unix_socket_check_free(s->endpoints[i]->socket_path);
                if (r < 0) {
                        if (ret_failed_path)
                                *ret_failed_path = s->endpoints[i]->socket_path;
                        return r;
                }
        }

        s->queue_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->queue_fd < 0)
                return negative_errno();
        r = sd_event_add_io(s->event, &s->queue_source, s->queue_fd, EPOLLIN, on_loop_queue, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->queue_source, "grpc-loop-calls");

        s->cq = grpc_completion_queue_create_for_next(NULL);
        if (!s->cq)
                return -ENOMEM;
        /* The thread first: from here on api_server_stop() can wind down
         * whatever the rest of the start got to. */
        r = start_thread(s);
        if (r < 0) {
                grpc_completion_queue_shutdown(s->cq);
                while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                       GRPC_QUEUE_SHUTDOWN)
                        ;
                grpc_completion_queue_destroy(s->cq);
                s->cq = NULL;
                return r;
        }
        s->started = true;

        for (size_t i = 0; i < s->n_endpoints && r >= 0; i++) {
                r = endpoint_bind(s->endpoints[i]);
                if (r < 0 && ret_failed_path)
                        *ret_failed_path = s->endpoints[i]->socket_path;
        }

        /* Those bound are started even after a failure, so that one stop
         * path (shutdown, then destroy) serves both cases. */
        for (size_t i = 0; i < s->n_endpoints; i++) {
                ApiEndpoint *e = s->endpoints[i];

                if (!e->grpc)
                        continue;
                grpc_server_start(e->grpc);
                for (unsigned k = 0; k < API_REQUESTS_POSTED && r >= 0; k++)
                        r = endpoint_post_request(e);
        }
        if (r < 0) {
                api_server_stop(s);
                return r;
        }
        return 0;
}

/* Waits until n endpoints have shut down, until deadline (0: for ever).
 * Returns whether they all did. */
static bool wait_shutdowns_locked(ApiServer *s, size_t n, uint64_t deadline_usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (deadline_usec / 1000000),
                .tv_nsec = (long) (deadline_usec % 1000000) * 1000,
        };

        while (s->n_shutdowns < n) {
                if (deadline_usec == 0)
                        pthread_cond_wait(&s->cond, &s->lock);
                else if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
                        return s->n_shutdowns >= n;
        }
        return true;
}

void api_server_stop(ApiServer *s) {
        ServerCall *queued;
        size_t n_servers = 0;
        bool all;

        if (!s || !s->started || s->stopped)
                return;
        s->stopped = true;

        /* From here on, no call reaches the loop queue, and new calls and
         * health checks are told the agent is going. */
        for (size_t i = 0; i < s->n_endpoints; i++)
                atomic_store(&s->endpoints[i]->health.stopping, true);
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        queued = s->queue_head;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        /* Accepted but not run: the loop is gone, so the client learns the
         * change was not made. */
        while (queued) {
                ServerCall *next = queued->next;

                call_finish(queued, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                queued = next;
        }

        for (size_t i = 0; i < s->n_endpoints; i++)
                if (s->endpoints[i]->grpc) {
                        grpc_server_shutdown_and_notify(s->endpoints[i]->grpc, s->cq, &s->endpoints[i]->tag_shutdown);
                        n_servers++;
                }

        pthread_mutex_lock(&s->lock);
        for (ServerCall *w = s->watches; w; w = w->next)
                watch_end_locked(w);
        all = wait_shutdowns_locked(s, n_servers, monotonic_usec() + API_STOP_GRACE_USEC);
        pthread_mutex_unlock(&s->lock);

        if (!all) {
                log_debug("gRPC calls still in flight after %llu ms, cancelling them.",
                          (unsigned long long) (API_STOP_GRACE_USEC / 1000));
                for (size_t i = 0; i < s->n_endpoints; i++)
                        if (s->endpoints[i]->grpc)
                                grpc_server_cancel_all_calls(s->endpoints[i]->grpc);
                pthread_mutex_lock(&s->lock);
                (void) wait_shutdowns_locked(s, n_servers, 0);
                pthread_mutex_unlock(&s->lock);
        }

        /* Every server is down, so nothing new can arrive: let the thread
         * drain what is left and end. */
        grpc_completion_queue_shutdown(s->cq);
        (void) pthread_join(s->thread, NULL);
        s->thread_running = false;

        for (size_t i = 0; i < s->n_endpoints; i++) {
                ApiEndpoint *e = s->endpoints[i];

                if (e->grpc) {
                        grpc_server_destroy(e->grpc);
                        e->grpc = NULL;
                }
                /* The kubelet takes a vanished socket as a deregistered
                 * plugin; and a stale file would only mislead. */
                if (e->bound) {
                        (void) unix_socket_unlink(e->socket_path);
                        e->bound = false;
                }
        }
        grpc_completion_queue_destroy(s->cq);
        s->cq = NULL;
        s->queue_source = sd_event_source_disable_unref(s->queue_source);
}
