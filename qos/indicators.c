/* SPDX-License-Identifier: Apache-2.0 */
#include "indicators.h"

#include <math.h>

static const IndicatorInfo infos[_INDICATOR_MAX] = {
        [INDICATOR_CPU_APP_LATENCY] = { RESOURCE_CPU, "app_latency_p99", "us", false },
        [INDICATOR_CPU_RUNQUEUE_P99] = { RESOURCE_CPU, "runqueue_p99", "us", false },
        [INDICATOR_CPU_PSI] = { RESOURCE_CPU, "cpu_psi", "ratio", false },
        [INDICATOR_CPU_UTILIZATION] = { RESOURCE_CPU, "cpu_utilization", "ratio", false },
        [INDICATOR_MEMORY_AVAILABLE] = { RESOURCE_MEMORY, "memory_available", "ratio", true },
        [INDICATOR_MEMORY_RECLAIM_STALL] = { RESOURCE_MEMORY, "reclaim_stall", "ms/s", false },
        [INDICATOR_MEMORY_PSI] = { RESOURCE_MEMORY, "memory_psi", "ratio", false },
        [INDICATOR_IO_LATENCY_P99] = { RESOURCE_IO, "io_latency_p99", "us", false },
        [INDICATOR_IO_PSI] = { RESOURCE_IO, "io_psi", "ratio", false },
};

const IndicatorInfo *indicator_info(Indicator i) {
        if (i < 0 || i >= _INDICATOR_MAX)
                return NULL;
        return &infos[i];
}

/* The latency-sensitive classes: the side the controllers protect. */
static const QosClass ls_classes[] = { QOS_CLASS_SHARED_CORES, QOS_CLASS_DEDICATED_CORES };
#define N_LS (sizeof(ls_classes) / sizeof(ls_classes[0]))

static IndicatorReading present(double value, double target) {
        return (IndicatorReading) { .state = INDICATOR_PRESENT, .value = value, .target = target };
}

static IndicatorReading missing(double target) {
        return (IndicatorReading) { .state = INDICATOR_MISSING, .target = target };
}

static IndicatorReading unused(double target) {
        return (IndicatorReading) { .state = INDICATOR_UNUSED, .target = target };
}

/* The worst (largest) of the LS classes' figures; a class without events
 * this tick contributes 0: idle latency-sensitive pods are not under
 * pressure. */
static double ls_runqueue_p99_usec(const NodeSnapshot *s) {
        double worst = 0;

        for (size_t k = 0; k < N_LS; k++) {
                const SensorTick *t = &s->classes[ls_classes[k]].sensor_tick;

                if (t->has_runqueue)
                        worst = fmax(worst, (t->runqueue_count >= INDICATOR_RUNQUEUE_MIN_EVENTS_FOR_P99
                                                     ? t->runqueue_p99_ns
                                                     : t->runqueue_p90_ns) /
                                                    1000.0);
        }
        return worst;
}

static double ls_io_p99_usec(const NodeSnapshot *s) {
        double worst = 0;

        for (size_t k = 0; k < N_LS; k++) {
                const SensorTick *t = &s->classes[ls_classes[k]].sensor_tick;

                for (int dir = 0; dir < 2; dir++)
                        if (t->io_count[dir] > 0)
                                worst = fmax(worst, t->io_p99_ns[dir] / 1000.0);
        }
        return worst;
}

static double ls_reclaim_ns(const NodeSnapshot *s) {
        double sum = 0;

        for (size_t k = 0; k < N_LS; k++)
                sum += (double) s->classes[ls_classes[k]].sensor_tick.reclaim_ns;
        return sum;
}

typedef enum PsiKind { PSI_CPU, PSI_MEMORY, PSI_IO } PsiKind;

/* The latency-sensitive side's cgroup PSI: the kubelet's burstable tier,
 * which the sampler reads every tick (the pods themselves only every
 * sample period: their ratios would lag by up to ten ticks and hold the
 * budget down long after a spike). Cgroup pressure files exist on v2 and in
 * the unified tree of a hybrid layout; elsewhere, and without a burstable
 * tier, the indicator does not apply. Guaranteed pods have no tier cgroup
 * of their own: the run-queue latency covers them. */
static IndicatorReading ls_psi(const NodeSnapshot *s, PsiKind kind, double target) {
        const ResourceUsage *u = &s->kube_tiers[KUBE_TIER_BURSTABLE];

        if (!u->has_psi || !u->has_rates)
                return unused(target);
        return present(kind == PSI_CPU      ? u->cpu_psi_some_ratio
                       : kind == PSI_MEMORY ? u->memory_psi_some_ratio
                                            : u->io_psi_some_ratio,
                       target);
}

void indicators_read(const NodeSnapshot *s, const IndicatorTargets *t, const AppSignal *app, double tick_sec,
                     IndicatorReading ret[_INDICATOR_MAX]) {
        /* The application's own report, when fresh, is the CPU controller's
         * primary signal (Heracles): it replaces the run-queue latency,
         * which is only a proxy for it. */
        if (app && app->slo_usec > 0 && app->p99_usec > 0) {
                ret[INDICATOR_CPU_APP_LATENCY] = present(app->p99_usec, app->slo_usec * (1.0 - t->app_slack));
                ret[INDICATOR_CPU_RUNQUEUE_P99] = unused(t->runqueue_p99_usec);
        } else {
                ret[INDICATOR_CPU_APP_LATENCY] = unused(0);
                ret[INDICATOR_CPU_RUNQUEUE_P99] = s->sensor_up[SENSOR_RUNQUEUE]
                                                          ? present(ls_runqueue_p99_usec(s), t->runqueue_p99_usec)
                                                          : missing(t->runqueue_p99_usec);
        }
        ret[INDICATOR_CPU_PSI] = ls_psi(s, PSI_CPU, t->cpu_psi);
        /* A ceiling of 1 is no ceiling: utilisation cannot pass it, and
         * holding at saturation would freeze the budget wherever best-effort
         * first filled the node. */
        ret[INDICATOR_CPU_UTILIZATION] =
                t->cpu_utilization >= 1.0 ? unused(t->cpu_utilization)
                : s->has_node_cpu && s->node_cpu_capacity_millicores > 0
                        ? present(s->node_cpu_used_millicores / s->node_cpu_capacity_millicores, t->cpu_utilization)
                        : missing(t->cpu_utilization);

        ret[INDICATOR_MEMORY_AVAILABLE] =
                s->has_node_memory && s->node_memory.total_bytes > 0
                        ? present((double) s->node_memory.available_bytes / (double) s->node_memory.total_bytes,
                                  t->memory_available)
                        : missing(t->memory_available);
        ret[INDICATOR_MEMORY_RECLAIM_STALL] =
                s->sensor_up[SENSOR_RECLAIM] && tick_sec > 0
                        ? present(ls_reclaim_ns(s) / 1e6 / tick_sec, t->reclaim_stall_ms_per_sec)
                        : missing(t->reclaim_stall_ms_per_sec);
        ret[INDICATOR_MEMORY_PSI] = ls_psi(s, PSI_MEMORY, t->memory_psi);

        ret[INDICATOR_IO_LATENCY_P99] = s->sensor_up[SENSOR_BLOCK_IO] ? present(ls_io_p99_usec(s), t->io_p99_usec)
                                                                      : missing(t->io_p99_usec);
        ret[INDICATOR_IO_PSI] = ls_psi(s, PSI_IO, t->io_psi);
}
