/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.health.v1.Health/Watch streams: the first message, and the
 * NOT_SERVING + UNAVAILABLE end at shutdown. Every batch start and the
 * pending count are under the server's lock. */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/slice.h>
#include <pthread.h>

#include "api-server-private.h"
#include "log.h"

static grpc_byte_buffer *health_message(HealthStatus status) {
        uint8_t *data;
        size_t len;

        if (health_response_pack(status, &data, &len) < 0)
                return NULL;
        return byte_buffer_take(data, len);
}

void watch_free_if_done_locked(ServerCall *c) {
        if (c->pending == 0 && c->watch_closed)
                server_call_free(c);
}

/* Ends a Watch at shutdown: NOT_SERVING, then UNAVAILABLE. Only once its
 * first message is out (one message send at a time); until then the wish
 * is recorded and the TAG_WATCH_SENT handler comes back here. */
void watch_end_locked(ServerCall *c) {
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

void watch_start(ServerCall *c) {
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

void on_watch_sent(ServerCall *c) {
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

void on_watch_closed(ServerCall *c) {
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
