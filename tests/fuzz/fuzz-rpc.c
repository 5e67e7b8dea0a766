/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what a gRPC request goes through after gRPC has framed it: the
 * method lookup, the wire check (agent/protobuf-check.h), protobuf-c's
 * decoding, the handler the daemon installs for that method, and the
 * encoding of its answer (agent/rpc.h), on the same method tables the
 * daemon's sockets serve (admin and a QRM plugin), against a small
 * published state with a few pods.
 *
 * Input: "/package.Service/Method\n" followed by the request bytes. If the
 * first line names no method, the first byte picks one by index and the
 * rest is the request, so that mutations of any input reach every method.
 *
 * Invariants: the call ends with a status and, on OK, an encoded response
 * that decodes again as the method's output; a request that decodes
 * re-encodes into bytes that pass the check and decode again; on failure
 * there is a status message. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/api-admin.h"
#include "agent/api-health.h"
#include "agent/api-kubelet.h"
#include "agent/log.h"
#include "agent/protobuf-check.h"
#include "agent/rpc.h"
#include "fuzz.h"

/* gRPC refuses larger messages before they reach us (API_MAX_RECEIVE_BYTES);
 * smaller keeps the fuzzer fast. */
#define FUZZ_RPC_MAX_BYTES (64 * 1024)

typedef struct Fixture {
        RpcMethodTable admin, plugin;
        HealthService admin_health, plugin_health;
        KubeletPlugin cpu;
        AdminService admin_service;
        ApiState *state;
} Fixture;

static Fixture fixture;

static char *xstrdup(const char *s) {
        char *p = strdup(s);

        if (!p)
                abort();
        return p;
}

/* Two pods (one with a container) and a plain cgroup, as a tick would
 * publish them. */
static NodeSnapshot *make_snapshot(void) {
        NodeSnapshot *s = calloc(1, sizeof(*s));
        WorkloadSnapshot *w;

        if (!s)
                abort();
        atomic_init(&s->refcount, 1);
        s->tick = 7;
        s->mode = CGROUP_MODE_HYBRID;
        s->driver = CGROUP_DRIVER_CGROUPFS;
        s->n_workloads = 3;
        s->workloads = w = calloc(3, sizeof(*w));
        if (!w)
                abort();

        w[0] = (WorkloadSnapshot) { .kind = WORKLOAD_POD, .tier = KUBE_TIER_BESTEFFORT, .qos_class = QOS_CLASS_RECLAIMED_CORES };
        strcpy(w[0].uid, "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f");
        w[0].cgroup = xstrdup("kubepods/besteffort/pod0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f");
        w[0].usage = (ResourceUsage) { .has_cpu = true, .has_memory = true, .has_psi = true, .has_rates = true,
                                       .cpu_millicores = 250, .memory_usage_bytes = 1 << 20 };
        w[0].n_containers = 1;
        w[0].containers = calloc(1, sizeof(ContainerSnapshot));
        if (!w[0].containers)
                abort();
        memset(w[0].containers[0].id, '1', 64);
        w[0].containers[0].runtime = "containerd";
        w[0].containers[0].cgroup = xstrdup("kubepods/besteffort/pod0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f/1");
        w[0].containers[0].usage.has_io = true;

        w[1] = (WorkloadSnapshot) { .kind = WORKLOAD_POD, .tier = KUBE_TIER_BURSTABLE, .qos_class = QOS_CLASS_SHARED_CORES };
        strcpy(w[1].uid, "11111111-2222-3333-4444-555555555555");
        w[1].cgroup = xstrdup("kubepods/burstable/pod11111111-2222-3333-4444-555555555555");

        w[2] = (WorkloadSnapshot) { .kind = WORKLOAD_CGROUP, .tier = _KUBE_TIER_INVALID, .qos_class = QOS_CLASS_SYSTEM_CORES };
        w[2].cgroup = xstrdup("system.slice/foo.service");
        s->n_containers = 1;
        return s;
}

static void setup(void) {
        const CgroupLayout layout = {
                .mode = CGROUP_MODE_HYBRID,
                .controller_mount = { [CGROUP_CONTROLLER_CPU] = (char *) "/sys/fs/cgroup/cpu" },
                .unified_mount = (char *) "/sys/fs/cgroup/unified",
        };
        int r = 0;

        /* NotifyRegistrationStatus logs what the kubelet says: not here. */
        log_set_max_level(LOG_ERR);

        /* As api_server_add_endpoint() and manager-api.c build them. */
        r = kubelet_plugin_init(&fixture.cpu, RESOURCE_CPU, "/var/lib/kubelet/plugins_registry/nodeqos-cpu.sock");
        if (r >= 0)
                r = health_service_install(&fixture.plugin, &fixture.plugin_health);
        for (size_t i = 0; r >= 0 && i < kubelet_plugin_n_services; i++)
                r = rpc_method_table_add_service(&fixture.plugin, kubelet_plugin_services[i]);
        if (r >= 0)
                r = kubelet_plugin_install(&fixture.plugin, &fixture.cpu);
        if (r >= 0)
                r = health_service_install(&fixture.admin, &fixture.admin_health);
        for (size_t i = 0; r >= 0 && i < admin_n_services; i++)
                r = rpc_method_table_add_service(&fixture.admin, admin_services[i]);
        fixture.admin_service = (AdminService) { .plugins = &fixture.cpu, .n_plugins = 1 };
        if (r >= 0)
                r = app_signals_new(&fixture.admin_service.app_signals);
        if (r >= 0)
                r = admin_service_install(&fixture.admin, &fixture.admin_service);
        if (r < 0)
                fuzz_check_failed(__FILE__, __LINE__, "the daemon's method tables build");

        fixture.state = api_state_new();
        if (!fixture.state || api_state_set_layout(fixture.state, &layout) < 0 ||
            api_state_add_sensor(fixture.state, "runqueue", false, "not loaded") < 0)
                abort();
        fixture.state->snapshot = make_snapshot();
        fixture.state->tick = 7;
        fixture.state->has_kube = true;
        fixture.state->kube_root = xstrdup("kubepods");
        fixture.state->n_pods = 2;
        fixture.state->reclaimable[RESOURCE_CPU] = (ApiReclaimable) {
                .known = true, .capacity = 2000, .ls_peak = 700, .reserve = 100, .reclaimable = 1200 };
}

static const RpcMethod *pick_method(const uint8_t *data, size_t size, size_t *ret_offset) {
        const uint8_t *nl = memchr(data, '\n', MIN(size, (size_t) 256));
        const RpcMethod *m;
        size_t n_all = fixture.admin.n_methods + fixture.plugin.n_methods, i;

        if (nl) {
                m = rpc_method_table_find(&fixture.admin, (const char *) data, (size_t) (nl - data));
                if (!m)
                        m = rpc_method_table_find(&fixture.plugin, (const char *) data, (size_t) (nl - data));
                if (m) {
                        *ret_offset = (size_t) (nl - data) + 1;
                        return m;
                }
        }
        i = data[0] % n_all;
        *ret_offset = 1;
        return i < fixture.admin.n_methods ? &fixture.admin.methods[i] : &fixture.plugin.methods[i - fixture.admin.n_methods];
}

/* A request that decoded re-encodes into bytes that pass the check and decode. */
static void check_request_round_trip(const RpcMethod *m, const ProtobufCMessage *req) {
        size_t len = protobuf_c_message_get_packed_size(req);
        uint8_t *buf = malloc(len ? len : 1);
        ProtobufCMessage *again;

        if (!buf)
                return;
        FUZZ_CHECK(protobuf_c_message_pack(req, buf) == len);
        FUZZ_CHECK(protobuf_check(m->input, buf, len, NULL) == 0);
        again = protobuf_c_message_unpack(m->input, NULL, len, buf);
        FUZZ_CHECK(again);
        protobuf_c_message_free_unpacked(again, NULL);
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(rpc_call_freep) RpcCall *call = NULL;
        const RpcMethod *m;
        grpc_status_code status;
        uint8_t *out = NULL;
        size_t offset, out_len = 0;

        if (size < 1 || size > FUZZ_RPC_MAX_BYTES)
                return 0;
        if (!fixture.state)
                setup();

        m = pick_method(data, size, &offset);
        if (rpc_call_new(m, "fuzz", &call) < 0)
                return 0;

        status = rpc_call_decode(call, data + offset, size - offset);
        FUZZ_CHECK(status == rpc_call_status(call));
        if (status != GRPC_STATUS_OK) {
                FUZZ_CHECK(status == GRPC_STATUS_UNIMPLEMENTED || status == GRPC_STATUS_INVALID_ARGUMENT);
                FUZZ_CHECK(rpc_call_status_message(call)[0] != 0);
                FUZZ_CHECK(!rpc_call_request(call));
                return 0;
        }
        FUZZ_CHECK(m->handler || m->server_streaming);
        check_request_round_trip(m, rpc_call_request(call));
        if (m->server_streaming)
                return 0; /* answered by the transport, not a handler */

        status = rpc_call_answer(call, fixture.state, &out, &out_len);
        if (status == GRPC_STATUS_OK) {
                ProtobufCMessage *resp = protobuf_c_message_unpack(m->output, NULL, out_len, out);

                FUZZ_CHECK(out);
                FUZZ_CHECK(resp);
                protobuf_c_message_free_unpacked(resp, NULL);
                free(out);
        } else {
                /* Handlers refuse only with a reason (bad filters here). */
                FUZZ_CHECK(!out);
                FUZZ_CHECK(rpc_call_status_message(call)[0] != 0);
        }
        return 0;
}
