/* SPDX-License-Identifier: Apache-2.0 */
#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/macro.h"
#include "cgroup-reader.h"
#include "sensor-attribution.h"

typedef struct Tracked {
        char *cgroup;
        CgroupReader *reader;
        CgroupSample prev;
        uint64_t prev_usec;
        bool has_prev;
        ResourceUsage last; /* from the latest sample, shown until the next */
        bool has_last;
        SensorTotals *sensors; /* workloads only, once a sensor saw them */
} Tracked;

/* One workload's sensor figures over the current tick. */
typedef struct TickAccumulator {
        LatencyHistogram runqueue;
        LatencyHistogram io[2];
        uint64_t reclaim_ns;
} TickAccumulator;

struct Sampler {
        const CgroupLayout *layout;
        unsigned period; /* ticks between two samples of one workload */
        NodePressureReader *pressure;
        NodeStatsReader *node_stats; /* NULL: no node memory and CPU figures */
        NodeCpuTimes prev_cpu;       /* /proc/stat at the last tick */
        bool has_prev_cpu;
        Tracked *tracked; /* sorted by cgroup, for bsearch */
        size_t n_tracked;
        /* tracked[order[k]] is the k-th cgroup in registry order (each
         * workload, then its containers): no lookup by name per tick. */
        size_t *order;
        /* The kubelet's QoS-level cgroups, read every tick: kubepods, its
         * burstable and besteffort tiers (GUARANTEED stands for kubepods). */
        Tracked tiers[_KUBE_TIER_MAX];
        char *tiers_root; /* the kube root they were opened for */
        uint64_t generation;
        bool synced;

        Sensors *sensors; /* borrowed; NULL: none */
        SensorAttribution *attribution;
        size_t *workload_tracked; /* registry index -> tracked index */
        size_t n_workloads;
};

static int compare_tracked(const void *a, const void *b) {
        return strcmp(((const Tracked *) a)->cgroup, ((const Tracked *) b)->cgroup);
}

static Tracked *tracked_find(const Tracked *array, size_t n, const char *cgroup) {
        Tracked key = { .cgroup = (char *) cgroup };
        return bsearch(&key, array, n, sizeof(Tracked), compare_tracked);
}

static void tracked_done(Tracked *t) {
        free(t->cgroup);
        cgroup_reader_free(t->reader);
        free(t->sensors);
}

int sampler_new(const CgroupLayout *layout, const char *pressure_dir, unsigned period_ticks, Sampler **ret) {
        Sampler *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->layout = layout;
        s->period = period_ticks ?: 1;
        if (pressure_dir) {
                r = node_pressure_reader_open(pressure_dir, &s->pressure);
                if (r == -ENOMEM) {
                        free(s);
                        return r;
                }
                /* Without /proc/pressure (CONFIG_PSI off, psi=0) the node
                 * pressure is simply absent; the caller says so. */
        }
        *ret = s;
        return 0;
}

Sampler *sampler_free(Sampler *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_tracked; i++)
                tracked_done(&s->tracked[i]);
        free(s->tracked);
        free(s->order);
        for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++)
                tracked_done(&s->tiers[t]);
        free(s->tiers_root);
        free(s->workload_tracked);
        sensor_attribution_free(s->attribution);
        node_pressure_reader_free(s->pressure);
        node_stats_reader_free(s->node_stats);
        free(s);
        return NULL;
}

int sampler_open_node_stats(Sampler *s, const char *proc_dir) {
        NodeStatsReader *r = NULL;
        int k;

        k = node_stats_reader_open(proc_dir, &r);
        if (k < 0)
                return k;
        node_stats_reader_free(s->node_stats);
        s->node_stats = r;
        s->has_prev_cpu = false;
        return 0;
}

/* Adds cgroup to the new array, reusing the old reader if there is one. */
static int track(Sampler *s, Tracked *fresh, size_t *n, const char *cgroup, CgroupReaderFlags flags) {
        Tracked *old = s->n_tracked ? tracked_find(s->tracked, s->n_tracked, cgroup) : NULL;
        Tracked t = {};
        int r;

        if (old && old->reader) {
                /* The reader and its history move; the old entry keeps its
                 * name, which later lookups in the old array still compare. */
                t = *old;
                old->reader = NULL;
                old->sensors = NULL; /* moved with the reader */
                t.cgroup = strdup(cgroup);
                if (!t.cgroup) {
                        old->reader = t.reader;
                        return -ENOMEM;
                }
        } else {
                t.cgroup = strdup(cgroup);
                if (!t.cgroup)
                        return -ENOMEM;
                r = cgroup_reader_open_with(s->layout, cgroup, flags, &t.reader);
                if (r == -ENOMEM) {
                        free(t.cgroup);
                        return r;
                }
                /* A cgroup gone already gets no reader and is skipped. */
        }
        fresh[(*n)++] = t;
        return 0;
}

static void forget_id(uint64_t id, void *userdata) {
        sensors_forget(userdata, id);
}

/* Which workload each sensor cgroup id belongs to; the ids of removed
 * cgroups are forgotten by the sensors. */
static int sync_attribution(Sampler *s, const PodRegistry *registry) {
        SensorAttribution *a = NULL;
        int r;

        if (!s->sensors)
                return 0;
        r = sensor_attribution_build(s->layout, registry, &a);
        if (r < 0)
                return r;
        sensor_attribution_removed(s->attribution, a, forget_id, s->sensors);
        sensor_attribution_free(s->attribution);
        s->attribution = a;
        return 0;
}

static int sync_readers(Sampler *s, const PodRegistry *registry) {
        size_t total = 0, n = 0, *order, *workload_tracked;
        Tracked *fresh;
        int r = 0;

        for (size_t i = 0; i < pod_registry_count(registry); i++)
                total += 1 + pod_registry_get(registry, i)->n_containers;
        fresh = calloc(total ?: 1, sizeof(Tracked));
        if (!fresh)
                return -ENOMEM;

        for (size_t i = 0; r >= 0 && i < pod_registry_count(registry); i++) {
                const Workload *w = pod_registry_get(registry, i);

                r = track(s, fresh, &n, w->cgroup, 0);
                for (size_t j = 0; r >= 0 && j < w->n_containers; j++)
                        r = track(s, fresh, &n, w->containers[j].cgroup, CGROUP_READER_NO_PRESSURE);
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        tracked_done(&fresh[i]);
                free(fresh);
                return r;
        }

        order = calloc(n ?: 1, sizeof(size_t));
        workload_tracked = calloc(pod_registry_count(registry) ?: 1, sizeof(size_t));
        if (!order || !workload_tracked) {
                free(order);
                free(workload_tracked);
                for (size_t i = 0; i < n; i++)
                        tracked_done(&fresh[i]);
                free(fresh);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_tracked; i++)
                tracked_done(&s->tracked[i]);
        free(s->tracked);
        free(s->order);
        free(s->workload_tracked);
        s->workload_tracked = workload_tracked;
        s->n_workloads = pod_registry_count(registry);
        qsort(fresh, n, sizeof(Tracked), compare_tracked);
        s->tracked = fresh;
        s->n_tracked = n;
        s->order = order;
        n = 0;
        for (size_t i = 0; i < pod_registry_count(registry); i++) {
                const Workload *w = pod_registry_get(registry, i);

                s->workload_tracked[i] = n;
                order[n++] = (size_t) (tracked_find(fresh, s->n_tracked, w->cgroup) - fresh);
                for (size_t j = 0; j < w->n_containers; j++)
                        order[n++] = (size_t) (tracked_find(fresh, s->n_tracked, w->containers[j].cgroup) - fresh);
        }
        /* workload_tracked[i] holds the position in registry order; make
         * it the tracked index. */
        for (size_t i = 0; i < s->n_workloads; i++)
                s->workload_tracked[i] = order[s->workload_tracked[i]];
        s->generation = pod_registry_generation(registry);
        s->synced = true;
        return sync_attribution(s, registry);
}

/* Reads one tracked cgroup now; false if it cannot be read. */
static bool sample_tracked(Tracked *t, uint64_t now_usec) {
        CgroupSample cur;

        if (!t->reader || cgroup_reader_sample(t->reader, &cur) < 0)
                return false;
        resource_usage_from_samples(t->has_prev ? &t->prev : NULL, &cur, now_usec - t->prev_usec, &t->last);
        t->prev = cur;
        t->prev_usec = now_usec;
        t->has_prev = t->has_last = true;
        return true;
}

/* Samples the tracked cgroup at index i if it is due this tick (its turn in
 * the period, or never sampled yet). Returns false once it cannot be read. */
static bool sample_due(Sampler *s, size_t i, uint64_t tick, uint64_t now_usec) {
        Tracked *t = &s->tracked[i];

        if (!t->reader)
                return false;
        if (t->has_last && (i % s->period) != (tick % s->period))
                return true;
        if (!sample_tracked(t, now_usec)) {
                /* Gone (or unreadable): quietly out until the registry says. */
                t->reader = cgroup_reader_free(t->reader);
                return false;
        }
        return true;
}

/* The last usage of the k-th cgroup in registry order; false if it has
 * none (gone). */
static bool usage_of(Sampler *s, size_t k, ResourceUsage *ret) {
        Tracked *t = &s->tracked[s->order[k]];

        if (!t->reader || !t->has_last)
                return false;
        *ret = t->last;
        return true;
}

/* (Re)opens the tier readers when kubepods appeared, moved or went. */
static int sync_tiers(Sampler *s, const PodRegistry *registry) {
        const char *root = pod_registry_kube_root(registry);

        if (streq_ptr(root, s->tiers_root))
                return 0;
        for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++) {
                tracked_done(&s->tiers[t]);
                s->tiers[t] = (Tracked) {};
        }
        s->tiers_root = mfree_str(s->tiers_root);
        if (!root)
                return 0;
        s->tiers_root = strdup(root);
        if (!s->tiers_root)
                return -ENOMEM;
        for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++) {
                const char *dir = kube_tier_dir(pod_registry_driver(registry), t);
                Tracked *tr = &s->tiers[t];
                int r;

                if (dir) {
                        if (asprintf(&tr->cgroup, "%s/%s", root, dir) < 0)
                                return -ENOMEM;
                } else if (!(tr->cgroup = strdup(root)))
                        return -ENOMEM;
                r = cgroup_reader_open(s->layout, tr->cgroup, &tr->reader);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static void histogram_add(LatencyHistogram *to, const LatencyHistogram *from) {
        for (size_t i = 0; i < LATENCY_BUCKETS; i++)
                to->buckets[i] += from->buckets[i];
        to->count += from->count;
        to->sum_ns += from->sum_ns;
}

static SensorTick tick_figures(const TickAccumulator *a) {
        SensorTick t = {
                .has_runqueue = a->runqueue.count > 0,
                .has_io = a->io[0].count + a->io[1].count > 0,
                .runqueue_p50_ns = latency_histogram_quantile(&a->runqueue, 0.50),
                .runqueue_p90_ns = latency_histogram_quantile(&a->runqueue, 0.90),
                .runqueue_p99_ns = latency_histogram_quantile(&a->runqueue, 0.99),
                .runqueue_count = a->runqueue.count,
                .reclaim_ns = a->reclaim_ns,
        };

        for (int d = 0; d < 2; d++) {
                t.io_p99_ns[d] = latency_histogram_quantile(&a->io[d], 0.99);
                t.io_count[d] = a->io[d].count;
        }
        return t;
}

/* Reads the sensors' deltas and adds each to its workload's totals, its
 * workload's and its class's figures of this tick. */
static int distribute_sensor_deltas(Sampler *s, const PodRegistry *registry, TickAccumulator *per_workload,
                                    TickAccumulator *per_class) {
        _cleanup_free_ CgroupSensorDelta *deltas = NULL;
        size_t n = 0;
        int r;

        r = sensors_read(s->sensors, &deltas, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const CgroupSensorDelta *d = &deltas[i];

                for (SensorKind k = 0; k < _SENSOR_MAX; k++) {
                        ssize_t w = (d->kinds & (1u << k)) ? sensor_attribution_find(s->attribution, k, d->cgroup_id) : -1;
                        Tracked *t;
                        QosClass c;

                        if (w < 0 || (size_t) w >= s->n_workloads)
                                continue; /* a cgroup that is no workload of ours */
                        t = &s->tracked[s->workload_tracked[w]];
                        if (!t->sensors && !(t->sensors = calloc(1, sizeof(SensorTotals))))
                                return -ENOMEM;
                        c = pod_registry_get(registry, (size_t) w)->qos_class;
                        switch (k) {
                        case SENSOR_RUNQUEUE:
                                histogram_add(&t->sensors->runqueue, &d->runqueue);
                                t->sensors->preempted += d->preempted;
                                t->sensors->preempted_by_other += d->preempted_by_other;
                                histogram_add(&per_workload[w].runqueue, &d->runqueue);
                                if (c >= 0 && c < _QOS_CLASS_MAX)
                                        histogram_add(&per_class[c].runqueue, &d->runqueue);
                                break;
                        case SENSOR_RECLAIM:
                                t->sensors->reclaim_ns += d->reclaim_ns;
                                t->sensors->reclaim_count += d->reclaim_count;
                                per_workload[w].reclaim_ns += d->reclaim_ns;
                                if (c >= 0 && c < _QOS_CLASS_MAX)
                                        per_class[c].reclaim_ns += d->reclaim_ns;
                                break;
                        case SENSOR_BLOCK_IO:
                                for (int dir = 0; dir < 2; dir++) {
                                        histogram_add(&t->sensors->io[dir], &d->io[dir]);
                                        t->sensors->io_bytes[dir] += d->io_bytes[dir];
                                        histogram_add(&per_workload[w].io[dir], &d->io[dir]);
                                        if (c >= 0 && c < _QOS_CLASS_MAX)
                                                histogram_add(&per_class[c].io[dir], &d->io[dir]);
                                }
                                break;
                        default:
                                break;
                        }
                }
        }
        return 0;
}

/* The node's memory, and its CPU use since the last tick. A file that cannot
 * be read leaves its figures out of this tick; -ENOMEM is returned. */
static int sample_node(Sampler *s, NodeSnapshot *snap) {
        NodeCpuTimes cpu;
        double used;
        int k;

        k = node_stats_read_memory(s->node_stats, &snap->node_memory);
        if (k == -ENOMEM)
                return k;
        snap->has_node_memory = k == 0;

        k = node_stats_read_cpu(s->node_stats, &cpu);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                s->has_prev_cpu = false; /* no delta across a gap */
                return 0;
        }
        if (s->has_prev_cpu && node_cpu_utilisation(&s->prev_cpu, &cpu, &used)) {
                snap->has_node_cpu = true;
                snap->node_cpu_capacity_millicores = (double) cpu.n_cpus * 1000.0;
                /* Busy per total CPU time, not per wall time: the kernel's
                 * ticks and the tick's clock never quite agree, and the
                 * ratio of two of its own counters cannot exceed 1. */
                snap->node_cpu_used_millicores = used * snap->node_cpu_capacity_millicores;
        }
        s->prev_cpu = cpu;
        s->has_prev_cpu = true;
        return 0;
}

/* Adds a workload's usage to its class: sums, and the highest PSI stall
 * ratios (the class is as stalled as its worst workload). */
static void class_totals_add(ClassTotals *c, const ResourceUsage *u) {
        c->n_workloads++;
        c->cpu_millicores += u->cpu_millicores;
        c->memory_working_set_bytes += u->memory_working_set_bytes;
        c->memory_unreclaimable_bytes += u->memory_unreclaimable_bytes;
        c->io_bytes_per_sec += u->io_read_bytes_per_sec + u->io_write_bytes_per_sec;
        /* Without rates the ratios are not measured yet, not zero. */
        if (u->has_psi && u->has_rates) {
                c->has_psi = true;
                c->cpu_psi_some_ratio = MAX(c->cpu_psi_some_ratio, u->cpu_psi_some_ratio);
                c->memory_psi_some_ratio = MAX(c->memory_psi_some_ratio, u->memory_psi_some_ratio);
                c->io_psi_some_ratio = MAX(c->io_psi_some_ratio, u->io_psi_some_ratio);
        }
}

void sampler_set_sensors(Sampler *s, Sensors *sensors) {
        s->sensors = sensors;
        s->synced = false; /* build the attribution at the next sample */
}

int sampler_sample(Sampler *s, const PodRegistry *registry, uint64_t tick, uint64_t now_usec,
                   NodeSnapshot **ret) {
        _cleanup_free_ TickAccumulator *per_workload = NULL;
        TickAccumulator per_class[_QOS_CLASS_MAX] = {};
        NodeSnapshot *snap;
        int r;

        if (!s->synced || s->generation != pod_registry_generation(registry)) {
                r = sync_readers(s, registry);
                if (r < 0)
                        return r;
        }
        r = sync_tiers(s, registry);
        if (r < 0)
                return r;

        snap = calloc(1, sizeof(*snap));
        if (!snap)
                return -ENOMEM;
        atomic_init(&snap->refcount, 1);
        snap->tick = tick;
        snap->monotonic_usec = now_usec;
        snap->mode = s->layout->mode;
        snap->driver = pod_registry_driver(registry);
        snap->workloads = calloc(pod_registry_count(registry) ?: 1, sizeof(WorkloadSnapshot));
        if (!snap->workloads) {
                free(snap);
                return -ENOMEM;
        }

        /* One period's share of the cgroups each tick: reading every file
         * of 1000 containers costs ~40 ms here, a tenth of that is the
         * tick's budget. */
        for (size_t i = 0; i < s->n_tracked; i++)
                (void) sample_due(s, i, tick, now_usec);
        /* The QoS levels every tick: what the controllers act on. */
        for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++)
                if (sample_tracked(&s->tiers[t], now_usec))
                        snap->kube_tiers[t] = s->tiers[t].last;

        if (s->sensors) {
                per_workload = calloc(s->n_workloads ?: 1, sizeof(TickAccumulator));
                if (!per_workload) {
                        node_snapshot_unref(snap);
                        return -ENOMEM;
                }
                r = distribute_sensor_deltas(s, registry, per_workload, per_class);
                if (r == -ENOMEM) {
                        node_snapshot_unref(snap);
                        return r;
                }
                /* Another read failure leaves this tick without sensor figures. */
                for (SensorKind k = 0; k < _SENSOR_MAX; k++)
                        snap->sensor_up[k] = sensors_up(s->sensors, k);
                snap->sensor_dropped = sensors_dropped(s->sensors);
                for (QosClass c = 0; c < _QOS_CLASS_MAX; c++)
                        snap->classes[c].sensor_tick = tick_figures(&per_class[c]);
        }

        if (s->pressure)
                snap->has_node_psi = node_pressure_reader_sample(s->pressure, &snap->node_cpu_psi,
                                                                 &snap->node_memory_psi, &snap->node_io_psi) == 0;
        if (s->node_stats) {
                r = sample_node(s, snap);
                if (r < 0) {
                        node_snapshot_unref(snap);
                        return r;
                }
        }

        for (size_t i = 0, k = 0; i < pod_registry_count(registry); i++) {
                const Workload *w = pod_registry_get(registry, i);
                WorkloadSnapshot *ws = &snap->workloads[snap->n_workloads];

                *ws = (WorkloadSnapshot) { .kind = w->kind, .tier = w->tier, .qos_class = w->qos_class };
                if (!usage_of(s, k++, &ws->usage)) {
                        k += w->n_containers;
                        continue; /* gone since the registry looked */
                }
                memcpy(ws->uid, w->uid, sizeof(ws->uid));
                if (per_workload) {
                        const Tracked *t = &s->tracked[s->workload_tracked[i]];

                        if (t->sensors)
                                ws->sensors = *t->sensors;
                        ws->sensor_tick = tick_figures(&per_workload[i]);
                }
                ws->cgroup = strdup(w->cgroup);
                ws->containers = calloc(w->n_containers ?: 1, sizeof(ContainerSnapshot));
                if (!ws->cgroup || !ws->containers) {
                        free(ws->cgroup);
                        free(ws->containers);
                        node_snapshot_unref(snap);
                        return -ENOMEM;
                }
                snap->n_workloads++;

                for (size_t j = 0; j < w->n_containers; j++) {
                        ContainerSnapshot *cs = &ws->containers[ws->n_containers];

                        if (!usage_of(s, k++, &cs->usage))
                                continue;
                        memcpy(cs->id, w->containers[j].id, sizeof(cs->id));
                        cs->runtime = w->containers[j].runtime;
                        cs->cgroup = strdup(w->containers[j].cgroup);
                        if (!cs->cgroup) {
                                node_snapshot_unref(snap);
                                return -ENOMEM;
                        }
                        ws->n_containers++;
                }
                snap->n_containers += ws->n_containers;

                if (w->qos_class >= 0 && w->qos_class < _QOS_CLASS_MAX)
                        class_totals_add(&snap->classes[w->qos_class], &ws->usage);
        }

        *ret = snap;
        return 0;
}

size_t sampler_tracked(const Sampler *s) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_tracked; i++)
                n += s->tracked[i].reader != NULL;
        return n;
}
