/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* nodeqos.v1.Admin on the admin socket: the reads that answer from the
 * published ApiState on gRPC's thread (GetStatus, ListPods, GetReclaimable),
 * and ReportAppLatency, which also runs there since the AppSignals table is
 * thread-safe (api-admin-signals.c). SetDryRun changes the loop's state:
 * it runs on the event loop and is installed by manager-api.c. The
 * Koordinator runtime hooks share the socket (admin_services). */

#include <stddef.h>

#include "api-kubelet.h"
#include "api-server.h"
#include "qos/app-signals.h"
#include "rpc.h"

/* The services the admin socket serves (health comes with every socket). */
extern const ProtobufCServiceDescriptor *const admin_services[];
extern const size_t admin_n_services;

typedef struct AdminService {
        ApiServer *server;      /* for the call counters; NULL: none */
        KubeletPlugin *plugins; /* registration status shown by GetStatus */
        size_t n_plugins;
        AppSignals *app_signals; /* ReportAppLatency's table; NULL: not served */
} AdminService;

/* Installs GetStatus, ListPods, ReportAppLatency and GetReclaimable
 * (RPC_THREAD_GRPC) in t. a must outlive the server. Returns 0 or -ENOENT
 * if t lacks the Admin service. */
int admin_service_install(RpcMethodTable *t, AdminService *a);

/* api-admin-signals.c: ReportAppLatency and GetReclaimable, and the
 * reports for GetStatus (0 or -ENOMEM). */
struct Nodeqos__V1__Status;
int admin_signals_install(RpcMethodTable *t, AdminService *a);
int admin_status_app_signals(RpcCall *call, AdminService *a, struct Nodeqos__V1__Status *s);
