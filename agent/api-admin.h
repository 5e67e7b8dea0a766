/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* nodeqos.v1.Admin on the admin socket: the reads that answer from the
 * published ApiState on gRPC's thread (GetStatus, ListPods). The changes
 * (SetDryRun, ReportAppLatency) run on the event loop and are installed by
 * manager-api.c; GetReclaimable waits for the reclaimable estimate. The
 * Koordinator runtime hooks share the socket (admin_services). */

#include <stddef.h>

#include "api-kubelet.h"
#include "api-server.h"
#include "rpc.h"

/* The services the admin socket serves (health comes with every socket). */
extern const ProtobufCServiceDescriptor *const admin_services[];
extern const size_t admin_n_services;

typedef struct AdminService {
        ApiServer *server;      /* for the call counters; NULL: none */
        KubeletPlugin *plugins; /* registration status shown by GetStatus */
        size_t n_plugins;
} AdminService;

/* Installs GetStatus and ListPods (RPC_THREAD_GRPC) in t. a must outlive
 * the server. Returns 0 or -ENOENT if t lacks the Admin service. */
int admin_service_install(RpcMethodTable *t, AdminService *a);
