/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqos.v1.Admin's signals in and estimates out: ReportAppLatency (an
 * application's own latency against its objective, into the thread-safe
 * AppSignals table, so answered on gRPC's thread without the loop),
 * GetReclaimable (the published estimate), and the reports as GetStatus
 * shows them. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "api-admin.h"
#include "nodeqos_admin.pb-c.h"

/* The free-text application name: long enough for an endpoint path. */
#define APP_NAME_MAX 256

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static bool positive_finite(double v) {
        return isfinite(v) && v > 0;
}

static int report_app_latency(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                              void *userdata) {
        const Nodeqos__V1__ReportAppLatencyRequest *req = (const Nodeqos__V1__ReportAppLatencyRequest *) request;
        AdminService *a = userdata;
        int r;

        /* Each refusal names the field, so a service's author sees at once
         * what their client sends wrong. */
        if (!req->pod_uid[0])
                return rpc_fail(call, -EINVAL, "pod_uid is empty");
        if (strlen(req->pod_uid) >= APP_SIGNAL_UID_MAX)
                return rpc_fail(call, -EINVAL, "pod_uid is longer than %d bytes", APP_SIGNAL_UID_MAX - 1);
        if (strlen(req->app) > APP_NAME_MAX)
                return rpc_fail(call, -EINVAL, "app is longer than %d bytes", APP_NAME_MAX);
        if (!positive_finite(req->latency_us))
                return rpc_fail(call, -EINVAL, "latency_us must be a finite number > 0 (got %g)", req->latency_us);
        if (!positive_finite(req->objective_us))
                return rpc_fail(call, -EINVAL, "objective_us must be a finite number > 0 (got %g)",
                                req->objective_us);
        if (!(req->quantile > 0 && req->quantile <= 1))
                return rpc_fail(call, -EINVAL, "quantile must be in (0, 1], e.g. 0.99 (got %g)", req->quantile);

        r = app_signals_report(a->app_signals, req->pod_uid, req->latency_us, req->objective_us, monotonic_usec());
        if (r == -EINVAL)
                return rpc_fail(call, r, "pod_uid \"%s\" is malformed (a pod UID: letters, digits, '-', '.', '_')",
                                req->pod_uid);
        if (r == -ENOSPC)
                return rpc_fail(call, r, "%d pods report already; try again when one stops", APP_SIGNALS_MAX);
        return r;
}

static Nodeqos__V1__ReclaimableResource *build_reclaimable(RpcCall *call, const ApiState *st, Resource res) {
        const ApiReclaimable *e = &st->reclaimable[res];
        Nodeqos__V1__ReclaimableResource *m;

        m = rpc_new_message(call, &nodeqos__v1__reclaimable_resource__descriptor);
        if (!m)
                return NULL;
        m->resource = (char *) resource_to_string(res);
        m->unit = (char *) (st->resources[res].budget_unit ?: "");
        m->capacity = e->capacity;
        m->ls_peak = e->ls_peak;
        m->reserve = e->reserve;
        m->reclaimable = e->reclaimable;
        return m;
}

static int get_reclaimable(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                           void *userdata) {
        Nodeqos__V1__GetReclaimableResponse *resp = (Nodeqos__V1__GetReclaimableResponse *) response;
        const ApiState *st = rpc_state(call);

        if (!st)
                return rpc_fail(call, -EAGAIN, "the agent has not published its state yet");

        resp->tick = st->tick;
        resp->resources = rpc_alloc_array(call, _RESOURCE_MAX, sizeof(*resp->resources));
        if (!resp->resources)
                return -ENOMEM;
        for (Resource res = 0; res < _RESOURCE_MAX; res++) {
                const ApiReclaimable *e = &st->reclaimable[res];

                if (!e->known)
                        continue;
                resp->resources[resp->n_resources] = build_reclaimable(call, st, res);
                if (!resp->resources[resp->n_resources])
                        return -ENOMEM;
                resp->n_resources++;
                switch (res) {
                case RESOURCE_CPU:
                        resp->cpu_millicores = e->reclaimable;
                        break;
                case RESOURCE_MEMORY:
                        resp->memory_bytes = e->reclaimable > 0 ? (uint64_t) e->reclaimable : 0;
                        break;
                case RESOURCE_IO:
                        resp->io_bytes_per_second = e->reclaimable;
                        break;
                default:
                        break;
                }
        }
        /* Zeros would read as "nothing to reclaim": a scheduler must be
         * able to tell "not known yet" apart. */
        if (resp->n_resources == 0)
                return rpc_fail(call, -EAGAIN, "no reclaimable estimate yet (the controllers have not produced one)");
        return 0;
}

int admin_status_app_signals(RpcCall *call, AdminService *a, struct Nodeqos__V1__Status *s) {
        uint64_t now = monotonic_usec();
        AppSignal *list;
        size_t n;

        if (!a->app_signals)
                return 0;
        /* A snapshot of the table: it may grow between the count and the
         * copy, the copy then holds the first n. */
        n = app_signals_list(a->app_signals, now, APP_SIGNAL_STALE_USEC, NULL, 0);
        if (n == 0)
                return 0;
        list = rpc_alloc_array(call, n, sizeof(*list));
        s->app_signals = rpc_alloc_array(call, n, sizeof(*s->app_signals));
        if (!list || !s->app_signals)
                return -ENOMEM;
        n = MIN(n, app_signals_list(a->app_signals, now, APP_SIGNAL_STALE_USEC, list, n));
        for (size_t i = 0; i < n; i++) {
                Nodeqos__V1__AppSignal *m = rpc_new_message(call, &nodeqos__v1__app_signal__descriptor);

                if (!m)
                        return -ENOMEM;
                m->pod_uid = list[i].pod_uid;
                m->latency_us = list[i].p99_usec;
                m->objective_us = list[i].slo_usec;
                m->slack = (list[i].slo_usec - list[i].p99_usec) / list[i].slo_usec;
                m->age_ms = now > list[i].reported_usec ? (now - list[i].reported_usec) / 1000 : 0;
                s->app_signals[s->n_app_signals++] = m;
        }
        return 0;
}

int admin_signals_install(RpcMethodTable *t, AdminService *a) {
        int r = 0;

        /* Without a table there is nowhere to report to: UNIMPLEMENTED. */
        if (a->app_signals)
                r = rpc_method_table_set_handler(t, "/nodeqos.v1.Admin/ReportAppLatency", RPC_THREAD_GRPC,
                                                 report_app_latency, a);
        if (r >= 0)
                r = rpc_method_table_set_handler(t, "/nodeqos.v1.Admin/GetReclaimable", RPC_THREAD_GRPC,
                                                 get_reclaimable, a);
        return r;
}
