/* SPDX-License-Identifier: Apache-2.0 */
#include "rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf-check.h"

/* The call's memory comes in chunks of this size (larger requests get a
 * chunk of their own): a ListPods answer for a busy node makes thousands of
 * small allocations, and freeing them must not take a walk per field. */
#define ARENA_CHUNK_SIZE (16 * 1024)

typedef struct ArenaChunk {
        struct ArenaChunk *next;
        size_t used, size;
        max_align_t data[];
} ArenaChunk;

struct RpcCall {
        const RpcMethod *method;
        const char *endpoint;
        ApiState *state;
        ProtobufCMessage *request; /* protobuf-c's, freed with free_unpacked */
        ArenaChunk *chunks;
        grpc_status_code status;
        char *status_message; /* malloc'd, NULL for none */
};

static const char *const status_names[] = {
        [GRPC_STATUS_OK] = "OK",
        [GRPC_STATUS_CANCELLED] = "CANCELLED",
        [GRPC_STATUS_UNKNOWN] = "UNKNOWN",
        [GRPC_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
        [GRPC_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
        [GRPC_STATUS_NOT_FOUND] = "NOT_FOUND",
        [GRPC_STATUS_ALREADY_EXISTS] = "ALREADY_EXISTS",
        [GRPC_STATUS_PERMISSION_DENIED] = "PERMISSION_DENIED",
        [GRPC_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
        [GRPC_STATUS_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [GRPC_STATUS_ABORTED] = "ABORTED",
        [GRPC_STATUS_OUT_OF_RANGE] = "OUT_OF_RANGE",
        [GRPC_STATUS_UNIMPLEMENTED] = "UNIMPLEMENTED",
        [GRPC_STATUS_INTERNAL] = "INTERNAL",
        [GRPC_STATUS_UNAVAILABLE] = "UNAVAILABLE",
        [GRPC_STATUS_DATA_LOSS] = "DATA_LOSS",
        [GRPC_STATUS_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *rpc_status_to_string(grpc_status_code status) {
        if ((unsigned) status >= ELEMENTSOF(status_names) || !status_names[status])
                return "UNKNOWN";
        return status_names[status];
}

grpc_status_code rpc_status_from_errno(int error) {
        switch (error < 0 ? -error : error) {
        case 0:
                return GRPC_STATUS_OK;
        case EINVAL:
        case EBADMSG:
                return GRPC_STATUS_INVALID_ARGUMENT;
        case ENOENT:
        case ESRCH:
                return GRPC_STATUS_NOT_FOUND;
        case EEXIST:
                return GRPC_STATUS_ALREADY_EXISTS;
        case EPERM:
        case EACCES:
                return GRPC_STATUS_PERMISSION_DENIED;
        case ENOMEM:
        case ENOSPC:
        case E2BIG:
                return GRPC_STATUS_RESOURCE_EXHAUSTED;
        case EAGAIN:
        case EBUSY:
        case ESHUTDOWN:
                return GRPC_STATUS_UNAVAILABLE;
        case EOPNOTSUPP:
                return GRPC_STATUS_UNIMPLEMENTED;
        case ETIMEDOUT:
                return GRPC_STATUS_DEADLINE_EXCEEDED;
        case ECANCELED:
                return GRPC_STATUS_CANCELLED;
        case ERANGE:
                return GRPC_STATUS_OUT_OF_RANGE;
        default:
                return GRPC_STATUS_INTERNAL;
        }
}

/* ---- the method table ---- */

int rpc_method_table_add_service(RpcMethodTable *t, const ProtobufCServiceDescriptor *service) {
        RpcMethod *n;

        n = realloc(t->methods, (t->n_methods + service->n_methods) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        t->methods = n;

        for (unsigned i = 0; i < service->n_methods; i++) {
                const ProtobufCMethodDescriptor *md = &service->methods[i];
                RpcMethod m = {
                        .input = md->input,
                        .output = md->output,
                        .thread = RPC_THREAD_GRPC,
                };

                if (asprintf(&m.path, "/%s/%s", service->name, md->name) < 0)
                        return -ENOMEM;
                if (rpc_method_table_find(t, m.path, strlen(m.path))) {
                        free(m.path);
                        return -EEXIST;
                }
                t->methods[t->n_methods++] = m;
        }
        return 0;
}

static RpcMethod *find_method(const RpcMethodTable *t, const char *path, size_t path_len) {
        /* A few dozen methods at most: a scan is as fast as anything. */
        for (size_t i = 0; i < t->n_methods; i++)
                if (strlen(t->methods[i].path) == path_len && memcmp(t->methods[i].path, path, path_len) == 0)
                        return &t->methods[i];
        return NULL;
}

const RpcMethod *rpc_method_table_find(const RpcMethodTable *t, const char *path, size_t path_len) {
        return find_method(t, path, path_len);
}

int rpc_method_table_set_handler(RpcMethodTable *t, const char *path, RpcThread thread, RpcHandler handler,
                                 void *userdata) {
        RpcMethod *m = find_method(t, path, strlen(path));

        if (!m || m->server_streaming)
                return -ENOENT;
        if ((unsigned) thread >= _RPC_THREAD_MAX)
                return -EINVAL;
        m->thread = thread;
        m->handler = handler;
        m->userdata = userdata;
        return 0;
}

int rpc_method_table_set_streaming(RpcMethodTable *t, const char *path) {
        RpcMethod *m = find_method(t, path, strlen(path));

        if (!m)
                return -ENOENT;
        m->server_streaming = true;
        m->handler = NULL;
        return 0;
}

bool rpc_method_table_has_service(const RpcMethodTable *t, const char *service) {
        size_t n = strlen(service);

        for (size_t i = 0; i < t->n_methods; i++) {
                const char *p = t->methods[i].path;

                if (strncmp(p + 1, service, n) == 0 && p[1 + n] == '/')
                        return true;
        }
        return false;
}

void rpc_method_table_done(RpcMethodTable *t) {
        for (size_t i = 0; i < t->n_methods; i++)
                free(t->methods[i].path);
        free(t->methods);
        *t = (RpcMethodTable) {};
}

/* ---- one call ---- */

int rpc_call_new(const RpcMethod *method, const char *endpoint, RpcCall **ret) {
        RpcCall *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->method = method;
        c->endpoint = endpoint;
        c->status = GRPC_STATUS_OK;
        *ret = c;
        return 0;
}

RpcCall *rpc_call_free(RpcCall *c) {
        if (!c)
                return NULL;
        if (c->request)
                protobuf_c_message_free_unpacked(c->request, NULL);
        while (c->chunks) {
                ArenaChunk *next = c->chunks->next;

                free(c->chunks);
                c->chunks = next;
        }
        api_state_unref(c->state);
        free(c->status_message);
        free(c);
        return NULL;
}

grpc_status_code rpc_call_status(const RpcCall *c) {
        return c->status;
}

const char *rpc_call_status_message(const RpcCall *c) {
        return c->status_message ?: "";
}

const RpcMethod *rpc_call_method(const RpcCall *c) {
        return c->method;
}

const ProtobufCMessage *rpc_call_request(const RpcCall *c) {
        return c->request;
}

ApiState *rpc_state(RpcCall *c) {
        return c->state;
}

const char *rpc_endpoint(RpcCall *c) {
        return c->endpoint;
}

/* Sets the final status once; the first failure is the one the client sees. */
_printf_(3, 0) static grpc_status_code set_status_v(RpcCall *c, grpc_status_code status, const char *fmt, va_list ap) {
        if (c->status != GRPC_STATUS_OK)
                return c->status;
        c->status = status;
        free(c->status_message);
        c->status_message = NULL;
        if (fmt && vasprintf(&c->status_message, fmt, ap) < 0)
                c->status_message = NULL;
        return status;
}

_printf_(3, 4) static grpc_status_code set_status(RpcCall *c, grpc_status_code status, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        status = set_status_v(c, status, fmt, ap);
        va_end(ap);
        return status;
}

int rpc_fail(RpcCall *c, int error, const char *fmt, ...) {
        va_list ap;

        if (error >= 0)
                error = -EIO; /* a handler's bug: failing with success */
        va_start(ap, fmt);
        (void) set_status_v(c, rpc_status_from_errno(error), fmt, ap);
        va_end(ap);
        return error;
}

int rpc_fail_status(RpcCall *c, grpc_status_code status, const char *fmt, ...) {
        va_list ap;

        if (status == GRPC_STATUS_OK)
                status = GRPC_STATUS_INTERNAL;
        va_start(ap, fmt);
        (void) set_status_v(c, status, fmt, ap);
        va_end(ap);
        return -EPROTO;
}

void *rpc_alloc(RpcCall *c, size_t size) {
        const size_t align = _Alignof(max_align_t);
        ArenaChunk *chunk = c->chunks;
        size_t need;
        void *p;

        if (size == 0)
                size = 1;
        if (size > SIZE_MAX / 2)
                return NULL;
        need = (size + align - 1) & ~(align - 1);

        if (!chunk || chunk->size - chunk->used < need) {
                size_t chunk_size = MAX(need, (size_t) ARENA_CHUNK_SIZE);

                chunk = malloc(sizeof(ArenaChunk) + chunk_size);
                if (!chunk)
                        return NULL;
                chunk->used = 0;
                chunk->size = chunk_size;
                /* A chunk of its own for a big request keeps the current
                 * chunk's free space for what follows. */
                if (need > ARENA_CHUNK_SIZE / 4 && c->chunks) {
                        chunk->next = c->chunks->next;
                        c->chunks->next = chunk;
                } else {
                        chunk->next = c->chunks;
                        c->chunks = chunk;
                }
        }
        p = (char *) chunk->data + chunk->used;
        chunk->used += need;
        return memset(p, 0, size);
}

void *rpc_alloc_array(RpcCall *c, size_t n, size_t size) {
        if (size != 0 && n > SIZE_MAX / 2 / size)
                return NULL;
        return rpc_alloc(c, n * size);
}

char *rpc_strdup(RpcCall *c, const char *s) {
        size_t n = strlen(s);
        char *p = rpc_alloc(c, n + 1);

        return p ? memcpy(p, s, n + 1) : NULL;
}

char *rpc_strdupf(RpcCall *c, const char *fmt, ...) {
        va_list ap;
        char *p;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        p = rpc_alloc(c, (size_t) n + 1);
        if (!p)
                return NULL;
        va_start(ap, fmt);
        (void) vsnprintf(p, (size_t) n + 1, fmt, ap);
        va_end(ap);
        return p;
}

void *rpc_new_message(RpcCall *c, const ProtobufCMessageDescriptor *desc) {
        ProtobufCMessage *m = rpc_alloc(c, desc->sizeof_message);

        if (m)
                desc->message_init(m);
        return m;
}

grpc_status_code rpc_call_decode(RpcCall *c, const uint8_t *data, size_t len) {
        const RpcMethod *m = c->method;
        const char *field = "";

        if (!m->handler && !m->server_streaming)
                return set_status(c, GRPC_STATUS_UNIMPLEMENTED, "%s is not implemented by nodeqos", m->path);

        if (protobuf_check(m->input, data, len, &field) < 0) {
                if (field[0])
                        return set_status(c, GRPC_STATUS_INVALID_ARGUMENT,
                                          "request is not a valid %s: field '%s' is malformed or not UTF-8",
                                          m->input->name, field);
                return set_status(c, GRPC_STATUS_INVALID_ARGUMENT, "request is not a valid %s: malformed bytes",
                                  m->input->name);
        }

        c->request = protobuf_c_message_unpack(m->input, NULL, len, data);
        if (!c->request)
                /* Out of memory lands here too; at 1 MiB per request and
                 * the agent's size, malformed is what it means in practice. */
                return set_status(c, GRPC_STATUS_INVALID_ARGUMENT,
                                  "request is not a valid %s: a field has the wrong type or is truncated",
                                  m->input->name);
        return GRPC_STATUS_OK;
}

grpc_status_code rpc_call_answer(RpcCall *c, ApiState *state, uint8_t **ret_data, size_t *ret_len) {
        ProtobufCMessage *response;
        uint8_t *data;
        size_t len;
        int r;

        if (c->status != GRPC_STATUS_OK)
                return c->status;
        if (!c->request || !c->method->handler)
                return set_status(c, GRPC_STATUS_INTERNAL, "no decoded request to answer");

        api_state_unref(c->state);
        c->state = api_state_ref(state);

        response = rpc_new_message(c, c->method->output);
        if (!response)
                return set_status(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");

        r = c->method->handler(c, c->request, response, c->method->userdata);
        if (r < 0) {
                /* A handler that gave no message still gets its status. */
                (void) set_status(c, rpc_status_from_errno(r), "%s", strerror(-r));
                return c->status;
        }

        /* A handler that left a NULL where protobuf-c wants data would crash
         * the encoder; a bug, but one that must not take the agent down. */
        if (!protobuf_c_message_check(response))
                return set_status(c, GRPC_STATUS_INTERNAL, "the handler of %s built an invalid response",
                                  c->method->path);

        len = protobuf_c_message_get_packed_size(response);
        data = malloc(len > 0 ? len : 1);
        if (!data)
                return set_status(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        (void) protobuf_c_message_pack(response, data);

        *ret_data = data;
        *ret_len = len;
        return GRPC_STATUS_OK;
}
