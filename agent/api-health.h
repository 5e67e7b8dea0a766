/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* grpc.health.v1.Health on every socket: Check answers at once (SERVING,
 * NOT_SERVING once the server stops, NOT_FOUND for a service the socket
 * does not serve); Watch is server-streaming, so the transport answers it
 * (api-server.c) with the status computed here. Service names are full
 * ("resourceplugin.v1alpha1.ResourcePlugin"); "" is the server as a whole. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.pb-c.h"
#include "rpc.h"

typedef Grpc__Health__V1__HealthCheckResponse__ServingStatus HealthStatus;

#define HEALTH_SERVICE "grpc.health.v1.Health"
#define HEALTH_CHECK_PATH "/" HEALTH_SERVICE "/Check"
#define HEALTH_WATCH_PATH "/" HEALTH_SERVICE "/Watch"

typedef struct HealthService {
        const RpcMethodTable *methods; /* the socket's: what it serves */
        atomic_bool stopping;          /* set by the transport when it stops */
} HealthService;

/* Adds the Health service to t, with Check answered from h (which must
 * outlive t) and Watch marked as streaming. Returns 0, -EEXIST, -ENOMEM. */
int health_service_install(RpcMethodTable *t, HealthService *h);

/* The status of service now. */
HealthStatus health_service_status(HealthService *h, const char *service);

/* One HealthCheckResponse carrying status, encoded into *ret_data
 * (malloc'd). Returns 0 or -ENOMEM. */
int health_response_pack(HealthStatus status, uint8_t **ret_data, size_t *ret_len);
