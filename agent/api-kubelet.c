/* SPDX-License-Identifier: Apache-2.0 */
#include "api-kubelet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pluginregistration.pb-c.h"
#include "resourceplugin.pb-c.h"

const ProtobufCServiceDescriptor *const kubelet_plugin_services[] = {
        &pluginregistration__registration__descriptor,
        &resourceplugin__v1alpha1__resource_plugin__descriptor,
};
const size_t kubelet_plugin_n_services = ELEMENTSOF(kubelet_plugin_services);

int kubelet_plugin_init(KubeletPlugin *p, Resource resource, const char *socket_path) {
        if (resource != RESOURCE_CPU && resource != RESOURCE_MEMORY)
                return -EINVAL;
        *p = (KubeletPlugin) { .resource = resource };
        p->socket_path = strdup(socket_path);
        if (!p->socket_path)
                return -ENOMEM;
        (void) pthread_mutex_init(&p->lock, NULL);
        return 0;
}

void kubelet_plugin_done(KubeletPlugin *p) {
        if (!p->socket_path)
                return;
        free(p->socket_path);
        p->socket_path = NULL;
        (void) pthread_mutex_destroy(&p->lock);
}

void kubelet_plugin_registration(KubeletPlugin *p, bool *ret_notified, bool *ret_registered, char *error,
                                 size_t error_size) {
        pthread_mutex_lock(&p->lock);
        *ret_notified = p->notified;
        *ret_registered = p->registered;
        if (error_size > 0) {
                strncpy(error, p->error, error_size - 1);
                error[error_size - 1] = 0;
        }
        pthread_mutex_unlock(&p->lock);
}

static int get_info(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        Pluginregistration__PluginInfo *info = (Pluginregistration__PluginInfo *) response;
        static char version[] = KUBELET_PLUGIN_API_VERSION;
        static char type[] = KUBELET_PLUGIN_TYPE;
        KubeletPlugin *p = userdata;
        char **versions;

        versions = rpc_alloc_array(call, 1, sizeof(char *));
        if (!versions)
                return -ENOMEM;
        versions[0] = version;
        info->type = type;
        /* Only the call reads the response: pointing at the plugin's own
         * strings (alive as long as the server) is safe. */
        info->name = (char *) resource_to_string(p->resource);
        info->endpoint = p->socket_path;
        info->n_supported_versions = 1;
        info->supported_versions = versions;
        return 0;
}

static int notify_registration_status(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                      void *userdata) {
        const Pluginregistration__RegistrationStatus *st = (const Pluginregistration__RegistrationStatus *) request;
        KubeletPlugin *p = userdata;
        char error[KUBELET_PLUGIN_ERROR_MAX + 1];
        size_t n = strlen(st->error);

        /* The kubelet's text, kept printable for the log and GetStatus. */
        n = MIN(n, sizeof(error) - 1);
        for (size_t i = 0; i < n; i++)
                error[i] = (unsigned char) st->error[i] >= 0x20 && st->error[i] != 0x7f ? st->error[i] : '?';
        error[n] = 0;

        pthread_mutex_lock(&p->lock);
        p->notified = true;
        p->registered = st->plugin_registered;
        memcpy(p->error, error, n + 1);
        p->n_notifications++;
        pthread_mutex_unlock(&p->lock);

        if (st->plugin_registered)
                log_info("The kubelet registered the %s QRM plugin (%s).", resource_to_string(p->resource),
                         p->socket_path);
        else
                log_warning("The kubelet did not register the %s QRM plugin (%s): %s",
                            resource_to_string(p->resource), p->socket_path, error[0] ? error : "no reason given");
        return 0;
}

static int get_resource_plugin_options(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                                       void *userdata) {
        Resourceplugin__V1alpha1__ResourcePluginOptions *o = (Resourceplugin__V1alpha1__ResourcePluginOptions *) response;

        /* As Katalyst's own plugins answer: no PreStartContainer round trip
         * needed, NUMA-aware hints, and the kubelet's 3 s reconcile on. */
        o->pre_start_required = false;
        o->with_topology_alignment = true;
        o->need_reconcile = true;
        return 0;
}

static int pre_start_container(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                               void *userdata) {
        /* Never asked for (pre_start_required is false); a kubelet that
         * calls anyway gets the empty success it expects. */
        return 0;
}

int kubelet_plugin_install(RpcMethodTable *t, KubeletPlugin *p) {
        static const struct {
                const char *path;
                RpcHandler handler;
        } handlers[] = {
                { "/pluginregistration.Registration/GetInfo", get_info },
                { "/pluginregistration.Registration/NotifyRegistrationStatus", notify_registration_status },
                { "/resourceplugin.v1alpha1.ResourcePlugin/GetResourcePluginOptions", get_resource_plugin_options },
                { "/resourceplugin.v1alpha1.ResourcePlugin/PreStartContainer", pre_start_container },
        };

        for (size_t i = 0; i < ELEMENTSOF(handlers); i++) {
                int r = rpc_method_table_set_handler(t, handlers[i].path, RPC_THREAD_GRPC, handlers[i].handler, p);
                if (r < 0)
                        return r;
        }
        return 0;
}
