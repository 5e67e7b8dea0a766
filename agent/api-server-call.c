/* SPDX-License-Identifier: Apache-2.0 */
/* The completion-queue thread and the life of a call on it: request,
 * receive, decode, answer (or hand over to the loop or the Watch code),
 * finish. */
#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api-server-private.h"
#include "log.h"

/* An unknown method's path is the client's text: this much of it, made
 * printable, goes into the status message and the debug log. */
#define METHOD_ECHO_MAX 128

/* ---- calls ---- */

uint64_t api_monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* Every unary call ends here (health Watch streams end elsewhere and are
 * not counted: an open stream has no latency to speak of). */
static void count_call(ServerCall *c, grpc_status_code status) {
        ApiEndpoint *e = c->endpoint;
        size_t i = c->method ? (size_t) (c->method - e->methods.methods) : e->methods.n_methods;

        if (e->call_counters)
                api_call_counters_record(&e->call_counters[i], (int) status, api_monotonic_usec() - c->arrived_usec);
}

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

void server_call_free(ServerCall *c) {
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
        free(c->answer_data);
        grpc_slice_unref(c->status_details);
        rpc_call_free(c->rpc);
        free(c);
}

/* A byte buffer that owns data (malloc'd). NULL on ENOMEM. */
grpc_byte_buffer *byte_buffer_take(uint8_t *data, size_t len) {
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
void call_finish(ServerCall *c, grpc_status_code status, const char *message, uint8_t *data, size_t len) {
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
        count_call(c, status);

        c->pending++;
        err = grpc_call_start_batch(c->call, ops, n, &c->tag_finished, NULL);
        if (err != GRPC_CALL_OK) {
                /* No completion will come: the call is ours to drop (gRPC
                 * cancels a call unref'ed before its status). */
                log_debug("Cannot answer a call on %s: %s", c->endpoint->name, grpc_call_error_to_string(err));
                server_call_free(c);
        }
}

void call_run(ServerCall *c) {
        ApiServer *s = c->endpoint->server;
        ApiState *state = api_state_box_get(s->states);

        c->answer_status = rpc_call_answer(c->rpc, state, &c->answer_data, &c->answer_len);
        api_state_unref(state);
        if (c->answer_status != GRPC_STATUS_OK)
                log_debug("%s on %s: %s: %s", rpc_call_method(c->rpc)->path, c->endpoint->name,
                          rpc_status_to_string(c->answer_status), rpc_call_status_message(c->rpc));
}

void call_reply(ServerCall *c) {
        grpc_status_code status = c->answer_status;

        call_finish(c, status, status == GRPC_STATUS_OK ? NULL : rpc_call_status_message(c->rpc),
                    TAKE_PTR(c->answer_data), c->answer_len);
}

void call_reply_instead(ServerCall *c, grpc_status_code status, const char *message) {
        free(TAKE_PTR(c->answer_data));
        c->answer_len = 0;
        call_finish(c, status, message, NULL, 0);
}

void call_answer(ServerCall *c) {
        call_run(c);
        call_reply(c);
}

int endpoint_post_request(ApiEndpoint *e) {
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

/* ---- the completion-queue thread ---- */


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
        c->arrived_usec = api_monotonic_usec();
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

int start_thread(ApiServer *s) {
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
