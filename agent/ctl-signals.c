/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl report-latency and reclaimable: an application's latency in,
 * the reclaimable estimate out. */
#include <inttypes.h>

#include "ctl-commands.h"
#include "ctl-format.h"
#include "ctl-table.h"

/* --p99 reports the 99th percentile. */
#define REPORT_QUANTILE 0.99

static void quantity_cell(CtlTable *t, const char *unit, double v) {
        char buf[CTL_FORMAT_MAX];

        ctl_table_cell(t, "%s", ctl_format_quantity(buf, unit, v));
}

void ctl_reclaimable_print(const Nodeqos__V1__GetReclaimableResponse *r, FILE *f) {
        static const char *const headers[] = { "RESOURCE", "UNIT", ">CAPACITY", ">LS PEAK", ">RESERVE", ">RECLAIMABLE" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < r->n_resources; i++) {
                const Nodeqos__V1__ReclaimableResource *e = r->resources[i];

                ctl_table_cell(t, "%s", e->resource);
                ctl_table_cell(t, "%s", e->unit);
                quantity_cell(t, e->unit, e->capacity);
                quantity_cell(t, e->unit, e->ls_peak);
                quantity_cell(t, e->unit, e->reserve);
                quantity_cell(t, e->unit, e->reclaimable);
        }
        fprintf(f, "tick %" PRIu64 "\n", r->tick);
        ctl_table_print(t, f);
}

int ctl_cmd_reclaimable(Ctl *ctl) {
        Nodeqos__V1__GetReclaimableRequest req = NODEQOS__V1__GET_RECLAIMABLE_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int r;

        r = ctl_call(ctl, "/nodeqos.v1.Admin/GetReclaimable", &req.base, &nodeqos__v1__get_reclaimable_response__descriptor,
                     &resp);
        if (r != CTL_EXIT_OK)
                return r;
        if (ctl->json)
                ctl_print_json(resp);
        else
                ctl_reclaimable_print((const Nodeqos__V1__GetReclaimableResponse *) resp, stdout);
        protobuf_c_message_free_unpacked(resp, NULL);
        return CTL_EXIT_OK;
}

int ctl_cmd_report_latency(Ctl *ctl, const char *pod_uid, const char *app, double p99_usec, double slo_usec) {
        Nodeqos__V1__ReportAppLatencyRequest req = NODEQOS__V1__REPORT_APP_LATENCY_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int r;

        req.pod_uid = (char *) pod_uid;
        req.app = (char *) (app ?: "");
        req.latency_us = p99_usec;
        req.objective_us = slo_usec;
        req.quantile = REPORT_QUANTILE;
        r = ctl_call(ctl, "/nodeqos.v1.Admin/ReportAppLatency", &req.base,
                     &nodeqos__v1__report_app_latency_response__descriptor, &resp);
        if (r != CTL_EXIT_OK)
                return r;
        protobuf_c_message_free_unpacked(resp, NULL);
        /* The answer is empty: what was accepted is the request. */
        if (ctl->json)
                ctl_print_json(&req.base);
        else
                printf("reported: pod %s%s%s p99 %.6g us against an SLO of %.6g us (slack %+.1f%%)\n", pod_uid,
                       app ? " app " : "", app ?: "", p99_usec, slo_usec, (slo_usec - p99_usec) / slo_usec * 100);
        return CTL_EXIT_OK;
}
