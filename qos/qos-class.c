/* SPDX-License-Identifier: Apache-2.0 */
#include "qos-class.h"

#include <stddef.h>
#include <string.h>

#include "kube-cgroup.h"
#include "path-glob.h"

static const char *const qos_class_names[_QOS_CLASS_MAX] = {
        [QOS_CLASS_SYSTEM_CORES] = "system_cores",
        [QOS_CLASS_DEDICATED_CORES] = "dedicated_cores",
        [QOS_CLASS_SHARED_CORES] = "shared_cores",
        [QOS_CLASS_RECLAIMED_CORES] = "reclaimed_cores",
};

const char *qos_class_to_string(QosClass c) {
        if (c < 0 || c >= _QOS_CLASS_MAX)
                return NULL;
        return qos_class_names[c];
}

QosClass qos_class_from_string(const char *s) {
        if (!s)
                return _QOS_CLASS_INVALID;
        for (int c = 0; c < _QOS_CLASS_MAX; c++)
                if (strcmp(qos_class_names[c], s) == 0)
                        return (QosClass) c;
        return _QOS_CLASS_INVALID;
}

static QosClass from_koordinator(const char *s) {
        static const struct {
                const char *name;
                QosClass qos_class;
        } map[] = {
                { "LSE", QOS_CLASS_DEDICATED_CORES },  { "LSR", QOS_CLASS_DEDICATED_CORES },
                { "LS", QOS_CLASS_SHARED_CORES },      { "BE", QOS_CLASS_RECLAIMED_CORES },
                { "SYSTEM", QOS_CLASS_SYSTEM_CORES },
        };

        for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
                if (strcmp(s, map[i].name) == 0)
                        return map[i].qos_class;
        return _QOS_CLASS_INVALID;
}

QosClass qos_class_resolve(const QosClassInputs *in) {
        QosClass c;

        c = qos_class_from_string(in->katalyst_qos_level);
        if (c != _QOS_CLASS_INVALID)
                return c;
        c = from_koordinator(in->koordinator_qos_class);
        if (c != _QOS_CLASS_INVALID)
                return c;
        c = qos_class_from_string(in->nodeqos_qos_class);
        if (c != _QOS_CLASS_INVALID)
                return c;

        switch (in->kube_tier) {
        case KUBE_TIER_BESTEFFORT:
                return QOS_CLASS_RECLAIMED_CORES;
        case KUBE_TIER_GUARANTEED:
        case KUBE_TIER_BURSTABLE:
                /* Katalyst's default for pods without an annotation. */
                return QOS_CLASS_SHARED_CORES;
        default:
                break;
        }

        for (size_t i = 0; in->cgroup && i < in->n_rules; i++)
                if (path_glob_match(in->rules[i].match, in->cgroup))
                        return in->rules[i].qos_class;
        return _QOS_CLASS_INVALID;
}
