/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl status: the agent's GetStatus as a summary and tables. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ctl-commands.h"
#include "ctl-format.h"
#include "ctl-table.h"

void ctl_status_print_summary(const Nodeqos__V1__Status *s, FILE *f) {
        char up[CTL_FORMAT_MAX], age[CTL_FORMAT_MAX];
        const Nodeqos__V1__CgroupLayout *l = s->cgroup_layout;
        const Nodeqos__V1__WorkloadCounts *c = s->counts;

        fprintf(f, "nodeqosd %s (pid %" PRIu32 "), up %s; tick %" PRIu64 " every %" PRIu64 " ms, state %s old; dry run %s\n",
                s->version, s->pid, ctl_format_duration_ms(up, s->uptime_ms), s->tick, s->tick_interval_ms,
                ctl_format_duration_ms(age, s->state_age_ms), s->dry_run ? "ON (no cgroup is written)" : "off");
        if (l)
                fprintf(f, "cgroup layout: %s; driver %s; kubepods %s; pressure files %s\n", l->mode,
                        l->driver[0] ? l->driver : "-", l->kube_root[0] ? l->kube_root : "not found",
                        l->pressure_mount[0] ? l->pressure_mount : "none");
        if (c) {
                fprintf(f, "workloads: %" PRIu64 " pods, %" PRIu64 " containers, %" PRIu64 " other cgroups",
                        c->pods, c->containers, c->other_cgroups);
                for (size_t i = 0; i < c->n_by_class; i++)
                        fprintf(f, "%s %s %" PRIu64, i == 0 ? ";" : ",", c->by_class[i]->key, c->by_class[i]->value);
                fputc('\n', f);
        }
}

/* A value the agent may not have yet: "-" then. */
static void measurement_cell(CtlTable *t, const Nodeqos__V1__Measurement *m, const char *unit) {
        char buf[CTL_FORMAT_MAX];

        if (!m)
                ctl_table_cell(t, "-");
        else if (unit)
                ctl_table_cell(t, "%s%s", ctl_format_quantity(buf, unit, m->value), m->stale ? " (stale)" : "");
        else
                ctl_table_cell(t, "%.4g%s", m->value, m->stale ? " (stale)" : "");
}

static void print_resources(const Nodeqos__V1__Status *s, FILE *f) {
        static const char *const headers[] = { "RESOURCE", "CONTROL", "INDICATOR", ">TARGET", ">NOW",
                                                "BUDGET UNIT", ">MIN", ">MAX", ">BUDGET", ">PID OUT", "SET BY",
                                                ">EVICTED", ">DRY RUN" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < s->n_resources; i++) {
                const Nodeqos__V1__ResourceStatus *r = s->resources[i];
                char buf[CTL_FORMAT_MAX];

                ctl_table_cell(t, "%s", r->resource);
                ctl_table_cell(t, "%s", r->controller_enabled ? "on" : "off");
                ctl_table_cell(t, "%s (%s)", r->indicator_name, r->indicator_unit);
                ctl_table_cell(t, "%.4g", r->target);
                measurement_cell(t, r->indicator, NULL);
                ctl_table_cell(t, "%s", r->budget_unit);
                ctl_table_cell(t, "%s", ctl_format_quantity(buf, r->budget_unit, r->budget_min));
                if (r->budget_max == 0)
                        ctl_table_cell(t, "node"); /* max 0: the node's capacity */
                else
                        ctl_table_cell(t, "%s", ctl_format_quantity(buf, r->budget_unit, r->budget_max));
                measurement_cell(t, r->budget, r->budget_unit);
                if (r->pid)
                        ctl_table_cell(t, "%.4g%s", r->pid->output, r->pid->saturated ? " (limited)" : "");
                else
                        ctl_table_cell(t, "-");
                ctl_table_cell(t, "%s", r->limiting_indicator && r->limiting_indicator[0] ? r->limiting_indicator : "-");
                ctl_table_cell(t, "%" PRIu64, r->evictions ? r->evictions->evicted : 0);
                ctl_table_cell(t, "%" PRIu64, r->evictions ? r->evictions->dry_run : 0);
        }
        ctl_table_print(t, f);
}

static void print_mounts(const Nodeqos__V1__CgroupLayout *l, FILE *f) {
        static const char *const headers[] = { "CONTROLLER", "MOUNT" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < l->n_controller_mounts; i++) {
                ctl_table_cell(t, "%s", l->controller_mounts[i]->key);
                ctl_table_cell(t, "%s", l->controller_mounts[i]->value);
        }
        ctl_table_print(t, f);
}

static void print_sensors(const Nodeqos__V1__Status *s, FILE *f) {
        static const char *const headers[] = { "SENSOR", "STATE", "REASON" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < s->n_sensors; i++) {
                ctl_table_cell(t, "%s", s->sensors[i]->name);
                ctl_table_cell(t, "%s", s->sensors[i]->up ? "up" : "down");
                ctl_table_cell(t, "%s", s->sensors[i]->reason);
        }
        ctl_table_print(t, f);
}

static void print_plugins(const Nodeqos__V1__Status *s, FILE *f) {
        static const char *const headers[] = { "QRM PLUGIN", "SOCKET", "KUBELET" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < s->n_plugins; i++) {
                const Nodeqos__V1__PluginStatus *p = s->plugins[i];

                ctl_table_cell(t, "%s", p->resource);
                ctl_table_cell(t, "%s", p->socket);
                if (!p->notified)
                        ctl_table_cell(t, "not registered yet");
                else if (p->registered)
                        ctl_table_cell(t, "registered");
                else
                        ctl_table_cell(t, "refused: %s", p->error);
        }
        ctl_table_print(t, f);
}

static void print_app_signals(const Nodeqos__V1__Status *s, FILE *f) {
        static const char *const headers[] = { "APP SIGNAL POD", ">LATENCY US", ">OBJECTIVE US", ">SLACK", ">AGE" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));

        if (!t)
                return;
        for (size_t i = 0; i < s->n_app_signals; i++) {
                const Nodeqos__V1__AppSignal *a = s->app_signals[i];
                char age[CTL_FORMAT_MAX];

                ctl_table_cell(t, "%s", a->pod_uid);
                ctl_table_cell(t, "%.6g", a->latency_us);
                ctl_table_cell(t, "%.6g", a->objective_us);
                ctl_table_cell(t, "%+.1f%%", a->slack * 100);
                ctl_table_cell(t, "%s", ctl_format_duration_ms(age, a->age_ms));
        }
        ctl_table_print(t, f);
}

void ctl_status_print(const Nodeqos__V1__Status *s, FILE *f) {
        ctl_status_print_summary(s, f);
        if (s->api)
                fprintf(f, "API: %" PRIu64 " calls, %" PRIu64 " failed\n", s->api->calls, s->api->failed);
        if (s->cgroup_layout && s->cgroup_layout->n_controller_mounts > 0) {
                fputc('\n', f);
                print_mounts(s->cgroup_layout, f);
        }
        fputc('\n', f);
        print_sensors(s, f);
        fputc('\n', f);
        print_resources(s, f);
        if (s->n_plugins > 0) {
                fputc('\n', f);
                print_plugins(s, f);
        }
        fputc('\n', f);
        if (s->n_app_signals > 0)
                print_app_signals(s, f);
        else
                fprintf(f, "no application signals (ReportAppLatency) in the last minute\n");
}

int ctl_cmd_status(Ctl *ctl) {
        Nodeqos__V1__GetStatusRequest req = NODEQOS__V1__GET_STATUS_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        int r;

        r = ctl_call(ctl, "/nodeqos.v1.Admin/GetStatus", &req.base, &nodeqos__v1__status__descriptor, &resp);
        if (r != CTL_EXIT_OK)
                return r;
        if (ctl->json)
                ctl_print_json(resp);
        else
                ctl_status_print((const Nodeqos__V1__Status *) resp, stdout);
        protobuf_c_message_free_unpacked(resp, NULL);
        return CTL_EXIT_OK;
}
