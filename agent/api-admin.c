/* SPDX-License-Identifier: Apache-2.0 */
#include "api-admin.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nodeqos-build.h"
#include "nodeqos_admin.pb-c.h"
#include "runtimehooks.pb-c.h"

const ProtobufCServiceDescriptor *const admin_services[] = {
        &nodeqos__v1__admin__descriptor,
        &runtime__v1alpha1__runtime_hook_service__descriptor,
};
const size_t admin_n_services = ELEMENTSOF(admin_services);

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* protobuf-c wants char * for strings it will only read here. */
static char *str(const char *s) {
        return (char *) (s ?: "");
}

#define NEW(call, type, desc) ((type *) rpc_new_message(call, &(desc)))

static Nodeqos__V1__CgroupLayout *build_layout(RpcCall *call, const ApiState *st) {
        Nodeqos__V1__CgroupLayout *l = NEW(call, Nodeqos__V1__CgroupLayout, nodeqos__v1__cgroup_layout__descriptor);
        size_t n = 0;

        if (!l)
                return NULL;
        l->mode = str(cgroup_mode_to_string(st->mode));
        l->driver = str(st->has_kube ? cgroup_driver_to_string(st->driver) : NULL);
        l->pressure_mount = str(st->pressure_mount);
        l->kube_root = str(st->kube_root);

        l->controller_mounts = rpc_alloc_array(call, _CGROUP_CONTROLLER_MAX, sizeof(*l->controller_mounts));
        if (!l->controller_mounts)
                return NULL;
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                Nodeqos__V1__CgroupLayout__ControllerMountsEntry *e;

                if (!st->controller_mount[c])
                        continue;
                e = NEW(call, Nodeqos__V1__CgroupLayout__ControllerMountsEntry,
                        nodeqos__v1__cgroup_layout__controller_mounts_entry__descriptor);
                if (!e)
                        return NULL;
                e->key = str(cgroup_controller_to_string(c));
                e->value = st->controller_mount[c];
                l->controller_mounts[n++] = e;
        }
        l->n_controller_mounts = n;
        return l;
}

static Nodeqos__V1__ResourceStatus *build_resource(RpcCall *call, const ApiState *st, Resource r) {
        const ApiResourceStatus *a = &st->resources[r];
        Nodeqos__V1__ResourceStatus *s = NEW(call, Nodeqos__V1__ResourceStatus, nodeqos__v1__resource_status__descriptor);

        if (!s)
                return NULL;
        s->resource = str(resource_to_string(r));
        s->controller_enabled = a->controller_enabled;
        s->indicator_name = str(a->indicator_name);
        s->indicator_unit = str(a->indicator_unit);
        s->target = a->target;
        s->budget_unit = str(a->budget_unit);
        s->budget_min = a->budget_min;
        s->budget_max = a->budget_max;
        if (a->has_indicator) {
                s->indicator = NEW(call, Nodeqos__V1__Measurement, nodeqos__v1__measurement__descriptor);
                if (!s->indicator)
                        return NULL;
                s->indicator->value = a->indicator;
                s->indicator->tick = a->indicator_tick;
                s->indicator->stale = a->indicator_stale;
        }
        if (a->has_budget) {
                s->budget = NEW(call, Nodeqos__V1__Measurement, nodeqos__v1__measurement__descriptor);
                if (!s->budget)
                        return NULL;
                s->budget->value = a->budget;
                s->budget->tick = a->budget_tick;
        }
        if (a->has_pid) {
                s->pid = NEW(call, Nodeqos__V1__PidTerms, nodeqos__v1__pid_terms__descriptor);
                if (!s->pid)
                        return NULL;
                s->pid->error = a->pid_error;
                s->pid->proportional = a->pid_proportional;
                s->pid->integral = a->pid_integral;
                s->pid->derivative = a->pid_derivative;
                s->pid->output = a->pid_output;
                s->pid->saturated = a->pid_saturated;
        }
        if (a->limiting_indicator)
                s->limiting_indicator = str(a->limiting_indicator);
        s->evictions = NEW(call, Nodeqos__V1__EvictionCounts, nodeqos__v1__eviction_counts__descriptor);
        if (!s->evictions)
                return NULL;
        s->evictions->evicted = st->evictions[r].evicted;
        s->evictions->dry_run = st->evictions[r].dry_run;
        s->evictions->failed = st->evictions[r].failed;
        return s;
}

static Nodeqos__V1__WorkloadCounts *build_counts(RpcCall *call, const ApiState *st) {
        Nodeqos__V1__WorkloadCounts *c = NEW(call, Nodeqos__V1__WorkloadCounts, nodeqos__v1__workload_counts__descriptor);

        if (!c)
                return NULL;
        c->pods = st->n_pods;
        c->containers = st->n_containers;
        c->other_cgroups = st->n_other_cgroups;
        c->by_class = rpc_alloc_array(call, _QOS_CLASS_MAX, sizeof(*c->by_class));
        if (!c->by_class)
                return NULL;
        for (int q = 0; q < _QOS_CLASS_MAX; q++) {
                Nodeqos__V1__WorkloadCounts__ByClassEntry *e = NEW(
                        call, Nodeqos__V1__WorkloadCounts__ByClassEntry, nodeqos__v1__workload_counts__by_class_entry__descriptor);

                if (!e)
                        return NULL;
                e->key = str(qos_class_to_string(q));
                e->value = st->n_by_class[q];
                c->by_class[c->n_by_class++] = e;
        }
        return c;
}

static int get_status(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        Nodeqos__V1__Status *s = (Nodeqos__V1__Status *) response;
        const ApiState *st = rpc_state(call);
        AdminService *a = userdata;
        uint64_t now = monotonic_usec();

        if (!st)
                return rpc_fail(call, -EAGAIN, "the agent has not published its state yet");

        s->version = str(NODEQOS_VERSION);
        s->pid = (uint32_t) getpid();
        s->uptime_ms = now > st->started_usec ? (now - st->started_usec) / 1000 : 0;
        s->tick = st->tick;
        s->tick_interval_ms = st->tick_interval_usec / 1000;
        s->state_age_ms = now > st->built_usec ? (now - st->built_usec) / 1000 : 0;
        s->dry_run = st->dry_run;

        s->cgroup_layout = build_layout(call, st);
        s->counts = build_counts(call, st);
        s->api = NEW(call, Nodeqos__V1__ApiCounters, nodeqos__v1__api_counters__descriptor);
        s->resources = rpc_alloc_array(call, _RESOURCE_MAX, sizeof(*s->resources));
        s->sensors = rpc_alloc_array(call, st->n_sensors, sizeof(*s->sensors));
        s->plugins = rpc_alloc_array(call, a->n_plugins, sizeof(*s->plugins));
        if (!s->cgroup_layout || !s->counts || !s->api || !s->resources || !s->sensors || !s->plugins)
                return -ENOMEM;

        for (int r = 0; r < _RESOURCE_MAX; r++) {
                s->resources[r] = build_resource(call, st, r);
                if (!s->resources[r])
                        return -ENOMEM;
        }
        s->n_resources = _RESOURCE_MAX;

        for (size_t i = 0; i < st->n_sensors; i++) {
                Nodeqos__V1__SensorStatus *ss = NEW(call, Nodeqos__V1__SensorStatus, nodeqos__v1__sensor_status__descriptor);

                if (!ss)
                        return -ENOMEM;
                ss->name = str(st->sensors[i].name);
                ss->up = st->sensors[i].up;
                ss->reason = str(st->sensors[i].reason);
                s->sensors[s->n_sensors++] = ss;
        }

        for (size_t i = 0; i < a->n_plugins; i++) {
                Nodeqos__V1__PluginStatus *ps = NEW(call, Nodeqos__V1__PluginStatus, nodeqos__v1__plugin_status__descriptor);
                bool notified, registered;

                if (!ps)
                        return -ENOMEM;
                ps->error = rpc_alloc(call, KUBELET_PLUGIN_ERROR_MAX + 1);
                if (!ps->error)
                        return -ENOMEM;
                kubelet_plugin_registration(&a->plugins[i], &notified, &registered, ps->error,
                                            KUBELET_PLUGIN_ERROR_MAX + 1);
                ps->resource = str(resource_to_string(a->plugins[i].resource));
                ps->socket = a->plugins[i].socket_path;
                ps->notified = notified;
                ps->registered = registered;
                s->plugins[s->n_plugins++] = ps;
        }

        if (a->server)
                api_server_counters(a->server, &s->api->calls, &s->api->failed);
        return admin_status_app_signals(call, a, s);
}

static Nodeqos__V1__PressureLine *build_psi_line(RpcCall *call, const PsiLine *l) {
        Nodeqos__V1__PressureLine *p = NEW(call, Nodeqos__V1__PressureLine, nodeqos__v1__pressure_line__descriptor);

        if (p) {
                p->avg10 = l->avg10;
                p->avg60 = l->avg60;
                p->avg300 = l->avg300;
                p->total_us = l->total_usec;
        }
        return p;
}

static Nodeqos__V1__Usage *build_usage(RpcCall *call, const ResourceUsage *u) {
        Nodeqos__V1__Usage *o = NEW(call, Nodeqos__V1__Usage, nodeqos__v1__usage__descriptor);

        if (!o)
                return NULL;
        o->has_rates = u->has_rates;
        if (u->has_cpu) {
                o->cpu = NEW(call, Nodeqos__V1__CpuUsage, nodeqos__v1__cpu_usage__descriptor);
                if (!o->cpu)
                        return NULL;
                o->cpu->millicores = u->cpu_millicores;
                o->cpu->throttled_ratio = u->cpu_throttled_ratio;
                o->cpu->usage_us_total = u->cpu.usage_usec;
                o->cpu->throttled_us_total = u->cpu.throttled_usec;
        }
        if (u->has_memory) {
                o->memory = NEW(call, Nodeqos__V1__MemoryUsage, nodeqos__v1__memory_usage__descriptor);
                if (!o->memory)
                        return NULL;
                o->memory->usage_bytes = u->memory_usage_bytes;
                o->memory->working_set_bytes = u->memory_working_set_bytes;
        }
        if (u->has_io) {
                o->io = NEW(call, Nodeqos__V1__IoUsage, nodeqos__v1__io_usage__descriptor);
                if (!o->io)
                        return NULL;
                o->io->read_bytes_per_second = u->io_read_bytes_per_sec;
                o->io->write_bytes_per_second = u->io_write_bytes_per_sec;
                o->io->read_ops_per_second = u->io_read_ops_per_sec;
                o->io->write_ops_per_second = u->io_write_ops_per_sec;
        }
        if (u->has_psi) {
                Nodeqos__V1__Pressure *p = NEW(call, Nodeqos__V1__Pressure, nodeqos__v1__pressure__descriptor);

                if (!p)
                        return NULL;
                p->cpu_some = build_psi_line(call, &u->cpu_psi.some);
                p->memory_some = build_psi_line(call, &u->memory_psi.some);
                p->memory_full = build_psi_line(call, &u->memory_psi.full);
                p->io_some = build_psi_line(call, &u->io_psi.some);
                p->io_full = build_psi_line(call, &u->io_psi.full);
                if (!p->cpu_some || !p->memory_some || !p->memory_full || !p->io_some || !p->io_full)
                        return NULL;
                /* A cgroup's cpu.pressure has "full" on kernels >= 5.13 only. */
                if (u->cpu_psi.has_full) {
                        p->cpu_full = build_psi_line(call, &u->cpu_psi.full);
                        if (!p->cpu_full)
                                return NULL;
                }
                o->pressure = p;
        }
        return o;
}

static Nodeqos__V1__Pod *build_pod(RpcCall *call, const WorkloadSnapshot *w) {
        Nodeqos__V1__Pod *p = NEW(call, Nodeqos__V1__Pod, nodeqos__v1__pod__descriptor);

        if (!p)
                return NULL;
        p->kind = str(w->kind == WORKLOAD_POD ? "pod" : "cgroup");
        p->uid = (char *) w->uid;
        p->qos_class = str(qos_class_to_string(w->qos_class));
        p->kube_tier = str(kube_tier_to_string(w->tier));
        p->cgroup = str(w->cgroup);
        p->usage = build_usage(call, &w->usage);
        p->containers = rpc_alloc_array(call, w->n_containers, sizeof(*p->containers));
        if (!p->usage || !p->containers)
                return NULL;
        for (size_t i = 0; i < w->n_containers; i++) {
                const ContainerSnapshot *cs = &w->containers[i];
                Nodeqos__V1__Container *c = NEW(call, Nodeqos__V1__Container, nodeqos__v1__container__descriptor);

                if (!c)
                        return NULL;
                c->id = (char *) cs->id;
                c->runtime = str(cs->runtime);
                c->cgroup = str(cs->cgroup);
                c->usage = build_usage(call, &cs->usage);
                if (!c->usage)
                        return NULL;
                p->containers[p->n_containers++] = c;
        }
        return p;
}

static int list_pods(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        const Nodeqos__V1__ListPodsRequest *req = (const Nodeqos__V1__ListPodsRequest *) request;
        Nodeqos__V1__ListPodsResponse *resp = (Nodeqos__V1__ListPodsResponse *) response;
        const ApiState *st = rpc_state(call);
        const NodeSnapshot *snap = st ? st->snapshot : NULL;
        QosClass only = _QOS_CLASS_INVALID;

        if (req->qos_class[0]) {
                only = qos_class_from_string(req->qos_class);
                if (only == _QOS_CLASS_INVALID)
                        return rpc_fail(call, -EINVAL,
                                        "unknown qos_class (expected system_cores, dedicated_cores, shared_cores or reclaimed_cores)");
        }
        /* "No snapshot yet" is not "no pods": the client should retry. */
        if (!snap)
                return rpc_fail(call, -EAGAIN, "no snapshot yet: the first tick has not run");

        resp->tick = snap->tick;
        resp->pods = rpc_alloc_array(call, snap->n_workloads, sizeof(*resp->pods));
        if (!resp->pods)
                return -ENOMEM;
        for (size_t i = 0; i < snap->n_workloads; i++) {
                const WorkloadSnapshot *w = &snap->workloads[i];

                if (only != _QOS_CLASS_INVALID && w->qos_class != only)
                        continue;
                if (req->pod_uid[0] && !streq_ptr(req->pod_uid, w->uid))
                        continue;
                resp->pods[resp->n_pods] = build_pod(call, w);
                if (!resp->pods[resp->n_pods])
                        return -ENOMEM;
                resp->n_pods++;
        }
        return 0;
}

int admin_service_install(RpcMethodTable *t, AdminService *a) {
        int r;

        r = rpc_method_table_set_handler(t, "/nodeqos.v1.Admin/GetStatus", RPC_THREAD_GRPC, get_status, a);
        if (r >= 0)
                r = rpc_method_table_set_handler(t, "/nodeqos.v1.Admin/ListPods", RPC_THREAD_GRPC, list_pods, a);
        if (r >= 0)
                r = admin_signals_install(t, a);
        return r;
}
