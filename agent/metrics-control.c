/* SPDX-License-Identifier: Apache-2.0 */
/* The decide and act stages as the ApiState carries them: the controllers'
 * indicators, targets, budgets and PID terms, the reclaimable estimate,
 * evictions and cgroup writes. Only what the controllers published is
 * exposed: a figure they have not produced has no sample (never a 0 that
 * a dashboard would take for a value).
 *
 * Units: each resource speaks its own (ApiResourceStatus's unit strings);
 * values are converted to base units (us -> seconds, millicores -> cores)
 * and the unit is a label, as kube-state-metrics does for resource
 * requests ({resource="cpu",unit="core"}), so one family holds all three
 * resources and a dashboard selects by resource. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"
#include "metrics-render.h"

static const struct {
        const char *unit;      /* as ApiResourceStatus names it */
        const char *base_unit; /* as the label says */
        double factor;
} unit_conversions[] = {
        { "us", "seconds", 1e-6 },
        { "millicores", "cores", 1e-3 },
};

typedef struct Scaled {
        const char *unit;
        double factor;
} Scaled;

static Scaled scaled(const char *unit) {
        for (size_t i = 0; i < ELEMENTSOF(unit_conversions); i++)
                if (streq_ptr(unit, unit_conversions[i].unit))
                        return (Scaled) { unit_conversions[i].base_unit, unit_conversions[i].factor };
        return (Scaled) { strna(unit), 1 };
}

static const MetricFamily enabled = {
        "nodeqos_controller_enabled", METRIC_GAUGE, NULL, "1 if the resource's controller runs (configuration).",
};
static const MetricFamily indicator = {
        "nodeqos_controller_indicator", METRIC_GAUGE, NULL,
        "The pressure indicator the resource's controller steers on, in base units (label unit).",
};
static const MetricFamily indicator_stale = {
        "nodeqos_controller_indicator_stale", METRIC_GAUGE, NULL,
        "1 if the indicator is missing or stale (the budget is then clamped to its safe minimum).",
};
static const MetricFamily target = {
        "nodeqos_controller_target", METRIC_GAUGE, NULL, "The indicator's target (set point), in base units.",
};
static const MetricFamily budget = {
        "nodeqos_controller_budget", METRIC_GAUGE, NULL,
        "The best-effort budget the controller decided, in base units (cores, bytes, bytes_per_second).",
};
static const MetricFamily budget_min = {
        "nodeqos_controller_budget_min", METRIC_GAUGE, NULL, "The budget's configured lower bound.",
};
static const MetricFamily budget_max = {
        "nodeqos_controller_budget_max", METRIC_GAUGE, NULL,
        "The budget's configured upper bound (absent when configured as the node's capacity).",
};
static const MetricFamily pid = {
        "nodeqos_controller_pid", METRIC_GAUGE, NULL,
        "The PID controller's last update: error, proportional, integral, derivative terms and output.",
};
static const MetricFamily saturated = {
        "nodeqos_controller_saturated", METRIC_GAUGE, NULL,
        "1 if the PID output was limited by a bound or the rate limit at the last update.",
};
static const MetricFamily limiting = {
        "nodeqos_controller_limiting_indicator", METRIC_GAUGE, NULL,
        "1 for the indicator that set the resource's budget at the last decision.",
};

#define NO_FLAG SIZE_MAX
#define STATUS(field) offsetof(ApiResourceStatus, field)

/* The controllers' figures in the indicator's or the budget's unit. */
enum { LABELS_INDICATOR, LABELS_BUDGET };
static const struct {
        const MetricFamily *family;
        size_t has;   /* offset of the bool that says it is known, or NO_FLAG */
        size_t value; /* offset of the double */
        int labels;
        bool positive_only; /* budget_max: 0 means "the node's capacity", not 0 */
} figures[] = {
        { &indicator, STATUS(has_indicator), STATUS(indicator), LABELS_INDICATOR, false },
        { &target, NO_FLAG, STATUS(target), LABELS_INDICATOR, false },
        { &budget, STATUS(has_budget), STATUS(budget), LABELS_BUDGET, false },
        { &budget_min, NO_FLAG, STATUS(budget_min), LABELS_BUDGET, false },
        { &budget_max, NO_FLAG, STATUS(budget_max), LABELS_BUDGET, true },
};

static void render_controllers(MetricsWriter *w, const ApiState *st) {
        MetricsText ind[_RESOURCE_MAX] = {}, bud[_RESOURCE_MAX] = {}, lim = {};
        static const char *const terms[] = {
                "term=\"error\"", "term=\"proportional\"", "term=\"integral\"", "term=\"derivative\"", "term=\"output\"",
        };
        const ApiResourceStatus *rs = st->resources;

        /* resource, indicator, unit / resource, unit: rendered once. */
        for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                metrics_labels_add(&ind[r], "resource", resource_to_string(r));
                metrics_labels_add(&ind[r], "indicator", strna(rs[r].indicator_name));
                metrics_labels_add(&ind[r], "unit", scaled(rs[r].indicator_unit).unit);
                metrics_labels_add(&bud[r], "resource", resource_to_string(r));
                metrics_labels_add(&bud[r], "unit", scaled(rs[r].budget_unit).unit);
                w->out.failed = w->out.failed || ind[r].failed || bud[r].failed;
        }

        metrics_family(w, &enabled);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++)
                metrics_sample_u64(w, metrics_resource_label(r), NULL, rs[r].controller_enabled);
        for (size_t v = 0; v < ELEMENTSOF(figures); v++) {
                metrics_family(w, figures[v].family);
                for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                        double x = *(const double *) ((const char *) &rs[r] + figures[v].value);
                        bool budget_unit = figures[v].labels == LABELS_BUDGET;

                        if ((figures[v].has != NO_FLAG && !*(const bool *) ((const char *) &rs[r] + figures[v].has)) ||
                            (figures[v].positive_only && x <= 0))
                                continue;
                        metrics_sample(w, metrics_text_str(budget_unit ? &bud[r] : &ind[r]), NULL,
                                       x * scaled(budget_unit ? rs[r].budget_unit : rs[r].indicator_unit).factor);
                }
        }
        metrics_family(w, &indicator_stale);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++)
                if (rs[r].has_indicator)
                        metrics_sample_u64(w, metrics_resource_label(r), NULL, rs[r].indicator_stale);

        metrics_family(w, &pid);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                const double values[ELEMENTSOF(terms)] = {
                        rs[r].pid_error, rs[r].pid_proportional, rs[r].pid_integral, rs[r].pid_derivative,
                        rs[r].pid_output,
                };

                if (rs[r].has_pid)
                        for (size_t t = 0; t < ELEMENTSOF(terms); t++)
                                metrics_sample(w, metrics_resource_label(r), terms[t], values[t]);
        }
        metrics_family(w, &saturated);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++)
                if (rs[r].has_pid)
                        metrics_sample_u64(w, metrics_resource_label(r), NULL, rs[r].pid_saturated);
        metrics_family(w, &limiting);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++)
                if (rs[r].limiting_indicator) {
                        metrics_text_reset(&lim);
                        metrics_labels_add(&lim, "resource", resource_to_string(r));
                        metrics_labels_add(&lim, "indicator", rs[r].limiting_indicator);
                        metrics_sample_u64(w, metrics_text_str(&lim), NULL, 1);
                }

        for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                metrics_text_done(&ind[r]);
                metrics_text_done(&bud[r]);
        }
        metrics_text_done(&lim);
}

static const MetricFamily reclaimable[] = {
        { "nodeqos_reclaimable", METRIC_GAUGE, NULL,
          "Resource best-effort work may use: capacity - predicted latency-sensitive peak - reserve, floored at 0." },
        { "nodeqos_reclaimable_capacity", METRIC_GAUGE, NULL, "The capacity the reclaimable estimate starts from." },
        { "nodeqos_reclaimable_ls_peak", METRIC_GAUGE, NULL,
          "The predicted latency-sensitive peak: its usage's maximum over the estimate's window." },
        { "nodeqos_reclaimable_reserve", METRIC_GAUGE, NULL, "What the reclaimable estimate holds back." },
};

static void render_reclaimable(MetricsWriter *w, const ApiState *st) {
        MetricsText labels = {};

        for (size_t f = 0; f < ELEMENTSOF(reclaimable); f++) {
                metrics_family(w, &reclaimable[f]);
                for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                        const ApiReclaimable *e = &st->reclaimable[r];
                        const double values[ELEMENTSOF(reclaimable)] = {
                                e->reclaimable, e->capacity, e->ls_peak, e->reserve,
                        };
                        Scaled u = scaled(st->resources[r].budget_unit);

                        if (!e->known)
                                continue;
                        metrics_text_reset(&labels);
                        metrics_labels_add(&labels, "resource", resource_to_string(r));
                        metrics_labels_add(&labels, "unit", u.unit);
                        metrics_sample(w, metrics_text_str(&labels), NULL, values[f] * u.factor);
                }
        }
        w->out.failed = w->out.failed || labels.failed;
        metrics_text_done(&labels);
}

static const MetricFamily evictions = {
        "nodeqos_evictions", METRIC_COUNTER, NULL,
        "Best-effort pods evicted for a resource under pressure: mode=real killed, mode=dry_run chosen and logged.",
};
static const MetricFamily eviction_failures = {
        "nodeqos_eviction_failures", METRIC_COUNTER, NULL, "Evictions whose kill failed.",
};
static const MetricFamily cgroup_writes = {
        "nodeqos_cgroup_writes", METRIC_COUNTER, NULL,
        "cgroup setter calls by knob and result (written, unchanged, refused, gone, failed).",
};

static void render_actions(MetricsWriter *w, const ApiState *st) {
        MetricsText labels = {};

        /* Counters since the start that the eviction manager only ever
         * adds to: zero is what they are before any eviction. */
        metrics_family(w, &evictions);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++) {
                metrics_sample_u64(w, metrics_resource_label(r), "mode=\"real\"", st->evictions[r].evicted);
                metrics_sample_u64(w, metrics_resource_label(r), "mode=\"dry_run\"", st->evictions[r].dry_run);
        }
        metrics_family(w, &eviction_failures);
        for (unsigned r = 0; r < _RESOURCE_MAX; r++)
                metrics_sample_u64(w, metrics_resource_label(r), NULL, st->evictions[r].failed);

        metrics_family(w, &cgroup_writes);
        for (CgroupKnob k = 0; st->has_cgroup_writes && k < _CGROUP_KNOB_MAX; k++)
                for (CgroupWriteResult res = 0; res < _CGROUP_WRITE_RESULT_MAX; res++) {
                        metrics_text_reset(&labels);
                        metrics_labels_add(&labels, "knob", cgroup_knob_to_string(k));
                        metrics_labels_add(&labels, "result", cgroup_write_result_to_string(res));
                        metrics_sample_u64(w, metrics_text_str(&labels), NULL, st->cgroup_writes.calls[k][res]);
                }
        w->out.failed = w->out.failed || labels.failed;
        metrics_text_done(&labels);
}

void metrics_render_control(MetricsWriter *w, const ApiState *st) {
        render_controllers(w, st);
        render_reclaimable(w, st);
        render_actions(w, st);
}
