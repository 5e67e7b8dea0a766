/* SPDX-License-Identifier: Apache-2.0 */
#include "api-health.h"

#include <errno.h>
#include <stdlib.h>

HealthStatus health_service_status(HealthService *h, const char *service) {
        if (service[0] && !rpc_method_table_has_service(h->methods, service))
                return GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
        return atomic_load(&h->stopping) ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                                         : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static int health_check(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        const Grpc__Health__V1__HealthCheckRequest *req = (const Grpc__Health__V1__HealthCheckRequest *) request;
        Grpc__Health__V1__HealthCheckResponse *resp = (Grpc__Health__V1__HealthCheckResponse *) response;
        HealthStatus status = health_service_status(userdata, req->service);

        /* The health protocol's answer for a service the server does not know. */
        if (status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN)
                return rpc_fail(call, -ENOENT, "unknown service '%s'", req->service);
        resp->status = status;
        return 0;
}

int health_service_install(RpcMethodTable *t, HealthService *h) {
        int r;

        h->methods = t;
        atomic_init(&h->stopping, false);
        r = rpc_method_table_add_service(t, &grpc__health__v1__health__descriptor);
        if (r >= 0)
                r = rpc_method_table_set_handler(t, HEALTH_CHECK_PATH, RPC_THREAD_GRPC, health_check, h);
        if (r >= 0)
                r = rpc_method_table_set_streaming(t, HEALTH_WATCH_PATH);
        return r;
}

int health_response_pack(HealthStatus status, uint8_t **ret_data, size_t *ret_len) {
        Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
        uint8_t *data;
        size_t len;

        resp.status = status;
        len = grpc__health__v1__health_check_response__get_packed_size(&resp);
        data = malloc(len > 0 ? len : 1);
        if (!data)
                return -ENOMEM;
        (void) grpc__health__v1__health_check_response__pack(&resp, data);
        *ret_data = data;
        *ret_len = len;
        return 0;
}
