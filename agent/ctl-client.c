/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl-client.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "macro.h"

/* Responses can be large (ListPods of a node with thousands of pods);
 * gRPC's default limit is 4 MiB. */
#define CTL_MAX_RECEIVE_BYTES (64 * 1024 * 1024)

struct CtlClient {
        grpc_channel *channel;
        grpc_completion_queue *cq;
};

/* gRPC C core logs its connection attempts to stderr on its own: the
 * caller says what went wrong, in one line, instead. */
static void log_nothing(gpr_log_func_args *args) {
}

int ctl_client_reachable(const char *socket_path, char *reason, size_t reason_size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (strlen(socket_path) >= sizeof(sa.sun_path)) {
                snprintf(reason, reason_size, "cannot connect to %s: the path is longer than %zu bytes", socket_path,
                         sizeof(sa.sun_path) - 1);
                return -ENAMETOOLONG;
        }
        if (stat(socket_path, &st) < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        snprintf(reason, reason_size, "cannot connect to %s: no such file — is nodeqosd running?",
                                 socket_path);
                else if (r == -EACCES)
                        snprintf(reason, reason_size,
                                 "cannot connect to %s: permission denied (a directory on the way is not searchable; "
                                 "run as root)", socket_path);
                else
                        snprintf(reason, reason_size, "cannot connect to %s: %s", socket_path, strerror(-r));
                return r;
        }
        if (!S_ISSOCK(st.st_mode)) {
                snprintf(reason, reason_size, "cannot connect to %s: not a socket", socket_path);
                return -ENOTSOCK;
        }

        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = negative_errno();
                snprintf(reason, reason_size, "cannot create a socket: %s", strerror(-r));
                return r;
        }
        if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) == 0)
                return 0;
        r = negative_errno();
        switch (r) {
        case -ECONNREFUSED:
                snprintf(reason, reason_size,
                         "cannot connect to %s: connection refused — nodeqosd is not running (a stale socket)",
                         socket_path);
                break;
        case -EACCES:
        case -EPERM:
                snprintf(reason, reason_size,
                         "cannot connect to %s: permission denied — the admin socket is root's (mode 0600); run as "
                         "root", socket_path);
                break;
        default:
                snprintf(reason, reason_size, "cannot connect to %s: %s", socket_path, strerror(-r));
        }
        return r;
}

int ctl_client_new(const char *socket_path, CtlClient **ret, char *reason, size_t reason_size) {
        grpc_arg arg = {
                .type = GRPC_ARG_INTEGER,
                .key = (char *) GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                .value.integer = CTL_MAX_RECEIVE_BYTES,
        };
        grpc_channel_args args = { .num_args = 1, .args = &arg };
        grpc_channel_credentials *creds;
        _cleanup_free_ char *target = NULL;
        CtlClient *c;
        int r;

        r = ctl_client_reachable(socket_path, reason, reason_size);
        if (r < 0)
                return r;
        if (asprintf(&target, "unix:%s", socket_path) < 0)
                return -ENOMEM;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;

        gpr_set_log_function(log_nothing);
        grpc_init();
        creds = grpc_insecure_credentials_create();
        c->channel = grpc_channel_create(target, creds, &args);
        grpc_channel_credentials_release(creds);
        /* pluck: each call waits for its own tag, nothing else shares it. */
        c->cq = grpc_completion_queue_create_for_pluck(NULL);
        *ret = c;
        return 0;
}

CtlClient *ctl_client_free(CtlClient *c) {
        if (!c)
                return NULL;
        grpc_channel_destroy(c->channel);
        grpc_completion_queue_shutdown(c->cq);
        /* gRPC wants a queue drained to its shutdown event before it is
         * destroyed; nothing is pending, so this returns at once. */
        while (grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
                ;
        grpc_completion_queue_destroy(c->cq);
        free(c);
        grpc_shutdown_blocking();
        return NULL;
}

void ctl_call_result_done(CtlCallResult *r) {
        if (r->response)
                protobuf_c_message_free_unpacked(r->response, NULL);
        r->response = NULL;
}

static grpc_byte_buffer *pack_request(const ProtobufCMessage *request) {
        size_t len = protobuf_c_message_get_packed_size(request);
        grpc_slice slice = grpc_slice_malloc(len);
        grpc_byte_buffer *bb;

        protobuf_c_message_pack(request, GRPC_SLICE_START_PTR(slice));
        bb = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        return bb;
}

static ProtobufCMessage *unpack_response(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *output) {
        grpc_byte_buffer_reader reader;
        ProtobufCMessage *m;
        grpc_slice all;

        if (!grpc_byte_buffer_reader_init(&reader, bb))
                return NULL;
        all = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        m = protobuf_c_message_unpack(output, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
        grpc_slice_unref(all);
        return m;
}

int ctl_client_call(CtlClient *c, const char *method, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *output, uint64_t timeout_usec, CtlCallResult *ret) {
        gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                             gpr_time_from_micros((int64_t) timeout_usec, GPR_TIMESPAN));
        grpc_metadata_array initial_md, trailing_md;
        grpc_byte_buffer *send = NULL, *recv = NULL;
        grpc_slice details = grpc_empty_slice();
        grpc_status_code status = GRPC_STATUS_UNKNOWN;
        grpc_event ev;
        grpc_call *call;
        grpc_op ops[6] = {};
        grpc_call_error e;
        int tag;

        *ret = (CtlCallResult) { .status = GRPC_STATUS_INTERNAL };
        send = pack_request(request);
        if (!send)
                return -ENOMEM;
        call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                        grpc_slice_from_static_string(method), NULL, deadline, NULL);
        if (!call) {
                grpc_byte_buffer_destroy(send);
                return -ENOMEM;
        }
        grpc_metadata_array_init(&initial_md);
        grpc_metadata_array_init(&trailing_md);

        /* The whole unary call in one batch: gRPC completes it when the
         * status has arrived (or the deadline passed). */
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &recv;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
        ops[5].data.recv_status_on_client.status = &status;
        ops[5].data.recv_status_on_client.status_details = &details;

        e = grpc_call_start_batch(call, ops, ELEMENTSOF(ops), &tag, NULL);
        if (e == GRPC_CALL_OK) {
                /* The deadline bounds the call; the pluck waits for it. */
                ev = grpc_completion_queue_pluck(c->cq, &tag, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
                if (ev.type != GRPC_OP_COMPLETE)
                        status = GRPC_STATUS_INTERNAL;
        } else
                status = GRPC_STATUS_INTERNAL;

        ret->status = status;
        snprintf(ret->details, sizeof(ret->details), "%.*s", (int) GRPC_SLICE_LENGTH(details),
                 (const char *) GRPC_SLICE_START_PTR(details));
        if (status == GRPC_STATUS_OK) {
                ret->response = recv ? unpack_response(recv, output) : NULL;
                if (!ret->response) {
                        ret->status = GRPC_STATUS_INTERNAL;
                        snprintf(ret->details, sizeof(ret->details), "the answer is not a %s", output->name);
                }
        }

        grpc_slice_unref(details);
        grpc_metadata_array_destroy(&initial_md);
        grpc_metadata_array_destroy(&trailing_md);
        grpc_byte_buffer_destroy(send);
        if (recv)
                grpc_byte_buffer_destroy(recv);
        grpc_call_unref(call);
        return 0;
}
