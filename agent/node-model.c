/* SPDX-License-Identifier: Apache-2.0 */
#include "node-model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"

static void log_layout(const CgroupLayout *l) {
        log_info("cgroup layout: %s; cpu at %s, memory at %s, cpuset at %s, io at %s%s%s.",
                 cgroup_mode_to_string(l->mode), l->controller_mount[CGROUP_CONTROLLER_CPU],
                 l->controller_mount[CGROUP_CONTROLLER_MEMORY], strna(l->controller_mount[CGROUP_CONTROLLER_CPUSET]),
                 strna(l->controller_mount[CGROUP_CONTROLLER_BLKIO]),
                 cgroup_layout_pressure_mount(l) ? "; pressure files from " : "; no per-cgroup pressure files",
                 cgroup_layout_pressure_mount(l) ?: "");
}

static size_t count_containers(const PodRegistry *r) {
        size_t n = 0;

        for (size_t i = 0; i < pod_registry_count(r); i++)
                n += pod_registry_get(r, i)->n_containers;
        return n;
}

void node_model_summary(const NodeModel *m, char *buf, size_t size) {
        size_t by_class[_QOS_CLASS_MAX] = {}, pods = 0, plain = 0;
        int n;

        for (size_t i = 0; i < pod_registry_count(m->registry); i++) {
                const Workload *w = pod_registry_get(m->registry, i);

                if (w->kind == WORKLOAD_POD)
                        pods++;
                else
                        plain++;
                if (w->qos_class >= 0 && w->qos_class < _QOS_CLASS_MAX)
                        by_class[w->qos_class]++;
        }
        n = snprintf(buf, size, "%zu pods, %zu containers, %zu other cgroups (", pods, count_containers(m->registry),
                     plain);
        for (int c = 0; c < _QOS_CLASS_MAX && n >= 0 && (size_t) n < size; c++)
                n += snprintf(buf + n, size - (size_t) n, "%s%zu %s", c ? ", " : "", by_class[c],
                              qos_class_to_string(c));
        if (n >= 0 && (size_t) n < size)
                n += snprintf(buf + n, size - (size_t) n, "); sensors:");
        for (SensorKind k = 0; k < _SENSOR_MAX && n >= 0 && (size_t) n < size; k++)
                n += snprintf(buf + n, size - (size_t) n, "%s %s %s", k ? "," : "", sensor_kind_to_string(k),
                              sensors_up(m->sensors, k) ? "up" : "down");
}

static void log_libbpf(const char *line, void *userdata) {
        /* libbpf's own warnings (a verifier refusal, a missing feature):
         * useful when a sensor is down, noise otherwise. */
        log_debug("libbpf: %s", line);
}

/* Loads the eBPF sensors the configuration asks for. One that cannot load
 * is said once; the agent then runs on PSI and cgroup statistics for it. */
static int open_sensors(NodeModel *m, const Config *config) {
        SensorsOptions o = {
                .mode = m->layout.mode,
                .disabled = {
                        [SENSOR_RUNQUEUE] = !config->sensor_runqueue,
                        [SENSOR_RECLAIM] = !config->sensor_reclaim,
                        [SENSOR_BLOCK_IO] = !config->sensor_block_io,
                },
                .max_cgroups = config->sensor_max_cgroups,
                .libbpf_log = log_libbpf,
        };
        int r;

        r = sensors_open(&o, &m->sensors);
        if (r < 0)
                return log_oom();
        for (SensorKind k = 0; k < _SENSOR_MAX; k++)
                if (sensors_up(m->sensors, k))
                        log_info("eBPF sensor %s up.", sensor_kind_to_string(k));
                else
                        log_warning("eBPF sensor %s down (%s): running on PSI and cgroup statistics for it.",
                                    sensor_kind_to_string(k), strna(sensors_down_reason(m->sensors, k)));
        sampler_set_sensors(m->sampler, m->sensors);
        return 0;
}

int node_model_new(const Config *config, const char *mountinfo_path, const char *pressure_dir, const char *proc_dir,
                   NodeModel **ret) {
        _cleanup_(node_model_freep) NodeModel *m = NULL;
        const char *missing = NULL;
        char summary[256];
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();

        r = cgroup_layout_detect(mountinfo_path, config->cgroup_mount, &m->layout, &missing);
        if (r == -ENOMEDIUM)
                return log_error_errno(r, "No cgroup hierarchy is mounted at or below %s (cgroup.mount).",
                                       config->cgroup_mount);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "The %s controller has no cgroup hierarchy below %s: nodeqos needs cpu and memory.",
                                       missing, config->cgroup_mount);
        if (r < 0)
                return log_error_errno(r, "Cannot read the mounts from %s: %m", mountinfo_path);
        log_layout(&m->layout);

        r = pod_registry_new(&(PodRegistryParams) {
                                     .layout = &m->layout,
                                     .driver = config->cgroup_driver,
                                     .kubelet_root = config->kubelet_cgroup_root,
                                     .extra_roots = config->cgroup_extra_roots,
                                     .n_extra_roots = config->n_cgroup_extra_roots,
                                     .rules = config->qos_rules,
                                     .n_rules = config->n_qos_rules,
                             },
                             &m->registry);
        if (r < 0)
                return log_error_errno(r, "Cannot discover the workloads in %s: %m",
                                       cgroup_layout_primary_mount(&m->layout));

        r = sampler_new(&m->layout, pressure_dir, config->workload_sample_period_ticks, &m->sampler);
        if (r < 0)
                return log_oom();
        r = proc_dir ? sampler_open_node_stats(m->sampler, proc_dir) : 0;
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                log_warning_errno(r, "Cannot open %s/meminfo and %s/stat, running without the node's memory and CPU "
                                  "figures: %m", proc_dir, proc_dir);

        r = open_sensors(m, config);
        if (r < 0)
                return r;

        if (pod_registry_kube_root(m->registry))
                log_info("Kubernetes: kubelet cgroup driver %s, pods under %s/%s.",
                         cgroup_driver_to_string(pod_registry_driver(m->registry)),
                         cgroup_layout_primary_mount(&m->layout), pod_registry_kube_root(m->registry));
        else
                log_info("No kubepods cgroup below %s%s%s yet: watching for the kubelet to create it.",
                         cgroup_layout_primary_mount(&m->layout), config->kubelet_cgroup_root[0] ? "/" : "",
                         config->kubelet_cgroup_root);
        node_model_summary(m, summary, sizeof(summary));
        log_info("Managing %s.", summary);
        for (size_t i = 0; i < pod_registry_count(m->registry); i++) {
                const Workload *w = pod_registry_get(m->registry, i);
                log_debug("%s %s: %s, %zu containers", w->kind == WORKLOAD_POD ? "pod" : "cgroup",
                          w->kind == WORKLOAD_POD ? w->uid : w->cgroup, qos_class_to_string(w->qos_class),
                          w->n_containers);
        }


        *ret = TAKE_PTR(m);
        return 0;
}

NodeModel *node_model_free(NodeModel *m) {
        if (!m)
                return NULL;
        node_snapshot_unref(m->snapshot);
        sampler_free(m->sampler);
        sensors_free(m->sensors); /* after the sampler that borrows them */
        pod_registry_free(m->registry);
        cgroup_layout_done(&m->layout);
        free(m);
        return NULL;
}

int node_model_refresh(NodeModel *m) {
        int r = pod_registry_refresh(m->registry);

        if (r < 0)
                return log_warning_errno(r, "Rescanning the cgroup tree failed, ignoring: %m");
        if (r > 0) {
                char summary[256];

                node_model_summary(m, summary, sizeof(summary));
                log_info("Workloads changed: now %s.", summary);
        }
        return r;
}

int node_model_sample(NodeModel *m, uint64_t tick, uint64_t now_usec) {
        NodeSnapshot *s = NULL;
        int r;

        r = sampler_sample(m->sampler, m->registry, tick, now_usec, &s);
        if (r < 0)
                return r;
        node_snapshot_unref(m->snapshot);
        m->snapshot = s;
        return 0;
}
