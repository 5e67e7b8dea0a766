/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The kubelet's side of the API on each QRM plugin socket: plugin
 * registration (pluginregistration.Registration: GetInfo and
 * NotifyRegistrationStatus, whose outcome is logged and kept for
 * GetStatus), and the ResourcePlugin answers that need no allocation
 * semantics (GetResourcePluginOptions, PreStartContainer). Everything else
 * of ResourcePlugin stays UNIMPLEMENTED until plugins/ registers its
 * handlers (see manager-api.c). */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qos/resource.h"
#include "rpc.h"

/* What the kubelet dispatches on: PluginInfo.type of a QRM plugin. */
#define KUBELET_PLUGIN_TYPE "ResourcePlugin"
#define KUBELET_PLUGIN_API_VERSION "v1alpha1"
/* The kubelet's error text is kept for GetStatus up to this length. */
#define KUBELET_PLUGIN_ERROR_MAX 512

typedef struct KubeletPlugin {
        Resource resource;
        char *socket_path; /* PluginInfo.endpoint: the same socket */

        /* Written by NotifyRegistrationStatus on gRPC's thread, read by
         * GetStatus: under lock. */
        pthread_mutex_t lock;
        bool notified, registered;
        char error[KUBELET_PLUGIN_ERROR_MAX + 1];
        uint64_t n_notifications;
} KubeletPlugin;

/* The services a plugin socket serves (health comes with every socket). */
extern const ProtobufCServiceDescriptor *const kubelet_plugin_services[];
extern const size_t kubelet_plugin_n_services;

/* Returns 0, -EINVAL (not cpu or memory: QRM plugins exist for those), -ENOMEM. */
int kubelet_plugin_init(KubeletPlugin *p, Resource resource, const char *socket_path);
void kubelet_plugin_done(KubeletPlugin *p);

/* The last registration status the kubelet sent (error copied, cut to size). */
void kubelet_plugin_registration(KubeletPlugin *p, bool *ret_notified, bool *ret_registered, char *error,
                                 size_t error_size);

/* Installs p's registration handlers and the semantics-free ResourcePlugin
 * answers in t (a plugin endpoint's table). Returns 0 or -ENOENT if t lacks
 * the services. */
int kubelet_plugin_install(RpcMethodTable *t, KubeletPlugin *p);
