/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Katalyst's four QoS classes (see shared DESIGN.md), so pods written for
 * Katalyst work unchanged. The names are the annotation values. */

#include <stddef.h>

typedef enum QosClass {
        QOS_CLASS_SYSTEM_CORES,
        QOS_CLASS_DEDICATED_CORES,
        QOS_CLASS_SHARED_CORES,
        QOS_CLASS_RECLAIMED_CORES,
        _QOS_CLASS_MAX,
        _QOS_CLASS_INVALID = -1,
} QosClass;

/* A configuration rule for cgroups without pod metadata. */
typedef struct QosRule {
        char *match; /* cgroup path glob (path-glob.h), relative to the hierarchy root */
        QosClass qos_class;
} QosRule;

/* What a workload's class is decided from; NULL/invalid for "not known". */
typedef struct QosClassInputs {
        const char *katalyst_qos_level;    /* annotation katalyst.kubewharf.io/qos_level */
        const char *koordinator_qos_class; /* label koordinator.sh/qosClass */
        const char *nodeqos_qos_class;     /* annotation nodeqos.io/qos-class */
        int kube_tier;                     /* KubeTier of a pod, or -1 */
        const char *cgroup;                /* path for the rules, or NULL */
        const QosRule *rules;
        size_t n_rules;
} QosClassInputs;

/* The class by the precedence in DESIGN.md: the Katalyst annotation, the
 * Koordinator label (LSE/LSR -> dedicated, LS -> shared, BE -> reclaimed,
 * SYSTEM -> system), our annotation, the pod's Kubernetes QoS tier
 * (BestEffort -> reclaimed, else shared), then the first matching rule. An
 * unknown value at one level falls through to the next. Returns
 * _QOS_CLASS_INVALID if nothing decides. */
QosClass qos_class_resolve(const QosClassInputs *in);

/* "system_cores", ...; NULL for an out-of-range value. */
const char *qos_class_to_string(QosClass c);
/* The class for a name, or _QOS_CLASS_INVALID. */
QosClass qos_class_from_string(const char *s);
