/* SPDX-License-Identifier: Apache-2.0 */
/* Requests to the QRM state: names checked, QoS classes resolved, quantities
 * and hints parsed, and a request checked against what the state holds. */
#include "qrm-state-private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "agent/macro.h"

/* ------------------------------------------------------------------ */
/* Names and classes                                                   */
/* ------------------------------------------------------------------ */

static bool char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_';
}

static bool char_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Names the state keeps: [A-Za-z0-9._-], starting with a letter or digit
 * (as Kubernetes names and UIDs do), so that the checkpoint can write them
 * as words and "-" never is one. */
bool qrm_name_valid(const char *s, size_t max, bool allow_empty) {
        size_t n;

        if (!s)
                return allow_empty;
        n = strnlen(s, max + 1);
        if (n == 0)
                return allow_empty;
        if (n > max || !char_alnum(s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!char_ok(s[i]))
                        return false;
        return true;
}

static const char *kv_find(const QrmKeyValue *kv, size_t n, const char *key) {
        for (size_t i = 0; kv && i < n; i++)
                if (kv[i].key && strcmp(kv[i].key, key) == 0)
                        return kv[i].value;
        return NULL;
}

QosClass qrm_resolve_qos_class(const QrmKeyValue *labels, size_t n_labels, const QrmKeyValue *annotations,
                               size_t n_annotations, int kube_tier) {
        QosClassInputs in = {
                .katalyst_qos_level = kv_find(annotations, n_annotations, QRM_ANNOTATION_KATALYST_QOS_LEVEL),
                .koordinator_qos_class = kv_find(labels, n_labels, QRM_LABEL_KOORDINATOR_QOS_CLASS),
                .nodeqos_qos_class = kv_find(annotations, n_annotations, QRM_ANNOTATION_NODEQOS_QOS_CLASS),
                .kube_tier = kube_tier,
        };
        QosClass c = qos_class_resolve(&in);

        return c == _QOS_CLASS_INVALID ? QOS_CLASS_SHARED_CORES : c;
}

Resource qrm_resource_from_name(const char *name) {
        if (!name)
                return _RESOURCE_INVALID;
        if (streq_ptr(name, "cpu") || streq_ptr(name, QRM_RESOURCE_RECLAIMED_MILLICPU))
                return RESOURCE_CPU;
        if (streq_ptr(name, "memory") || streq_ptr(name, QRM_RESOURCE_RECLAIMED_MEMORY))
                return RESOURCE_MEMORY;
        return _RESOURCE_INVALID;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static int parse_quantity(const QrmState *s, const QrmResourceRequest *req, Resource r, double *ret,
                          PluginError *err) {
        const char *plain = r == RESOURCE_CPU ? "cpu" : "memory";
        const char *reclaimed = r == RESOURCE_CPU ? QRM_RESOURCE_RECLAIMED_MILLICPU : QRM_RESOURCE_RECLAIMED_MEMORY;
        const char *found = NULL;
        double q = 0;

        if (req->n_resource_requests > 0 && !req->resource_requests)
                return plugin_error_set(err, EINVAL, "Resource requests missing.");
        for (size_t i = 0; i < req->n_resource_requests; i++) {
                const QrmQuantity *rq = &req->resource_requests[i];
                double v = rq->value;

                if (!rq->name || (strcmp(rq->name, plain) != 0 && strcmp(rq->name, reclaimed) != 0))
                        continue;
                if (found)
                        return plugin_error_set(err, EINVAL, "The %s request is given twice (%s and %s).", plain,
                                                found, rq->name);
                found = rq->name;
                if (!isfinite(v) || v < 0)
                        return plugin_error_set(err, EINVAL, "The %s request %g is not a finite amount >= 0.",
                                                rq->name, v);
                /* Katalyst's reclaimed CPU is counted in millicores. */
                q = r == RESOURCE_CPU && strcmp(rq->name, reclaimed) == 0 ? v / 1000.0 : v;
        }

        if (r == RESOURCE_CPU) {
                unsigned n = cpu_mask_count(&s->topology->online);

                if (q > n)
                        return plugin_error_set(err, EINVAL, "The CPU request %g is more than the node's %u CPUs.",
                                                q, n);
        } else {
                uint64_t total = qrm_node_memory_total(s->topology);

                if (qrm_node_memory_known(s->topology) && q > (double) total)
                        return plugin_error_set(err, EINVAL,
                                                "The memory request %.0f is more than the node's %" PRIu64 " bytes.",
                                                q, total);
        }
        *ret = q;
        return 0;
}

/* The annotations' keys and values, counted until over the limit (the
 * count stops there: a hostile request costs no more than a real one). */
static size_t annotations_bytes(const QrmResourceRequest *req) {
        size_t n = 0;

        for (size_t i = 0; req->annotations && i < req->n_annotations && n <= QRM_ANNOTATIONS_MAX_BYTES; i++)
                n += strnlen(req->annotations[i].key ?: "", QRM_ANNOTATIONS_MAX_BYTES + 1) +
                     strnlen(req->annotations[i].value ?: "", QRM_ANNOTATIONS_MAX_BYTES + 1);
        return n;
}

int qrm_parse_request(const QrmState *s, const QrmResourceRequest *req, bool pod_level, Parsed *ret,
                      PluginError *err) {
        Parsed p = {};
        int r;

        if (!req)
                return plugin_error_set(err, EINVAL, "No request.");
        if (!req->pod_uid || !*req->pod_uid)
                return plugin_error_set(err, EINVAL, "The request has no pod_uid.");
        if (!qrm_name_valid(req->pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod_uid \"%.*s\".", QRM_UID_MAX, req->pod_uid);
        if (!qrm_name_valid(req->pod_namespace, QRM_NAME_MAX, true) ||
            !qrm_name_valid(req->pod_name, QRM_NAME_MAX, true))
                return plugin_error_set(err, EINVAL, "Malformed pod namespace or name for pod %s.", req->pod_uid);
        if (pod_level)
                p.container = "";
        else {
                if (!req->container_name || !*req->container_name)
                        return plugin_error_set(err, EINVAL, "The request for pod %s has no container_name.",
                                                req->pod_uid);
                if (!qrm_name_valid(req->container_name, QRM_NAME_MAX, false))
                        return plugin_error_set(err, EINVAL, "Malformed container_name in pod %s.", req->pod_uid);
                if (req->container_type < 0 || req->container_type >= _QRM_CONTAINER_TYPE_MAX)
                        return plugin_error_set(err, EINVAL, "Unknown container_type %d.", (int) req->container_type);
                p.container = req->container_name;
        }

        if (annotations_bytes(req) > QRM_ANNOTATIONS_MAX_BYTES)
                return plugin_error_set(err, EINVAL,
                                        "The annotations of pod %s (%zu entries) hold more than the %d bytes "
                                        "Kubernetes allows.",
                                        req->pod_uid, req->n_annotations, QRM_ANNOTATIONS_MAX_BYTES);

        p.resource = qrm_resource_from_name(req->resource_name);
        if (p.resource == _RESOURCE_INVALID)
                return plugin_error_set(err, EINVAL, "Unsupported resource \"%.64s\" (cpu and memory are).",
                                        strna(req->resource_name));

        if (req->n_hint_nodes > 0 && !req->hint_nodes)
                return plugin_error_set(err, EINVAL, "Hint nodes missing.");
        for (size_t i = 0; i < req->n_hint_nodes; i++) {
                uint64_t node = req->hint_nodes[i];

                if (node >= s->topology->n_nodes || !cpu_mask_test(&s->topology->nodes, (unsigned) node))
                        return plugin_error_set(err, EINVAL,
                                                "The hint names NUMA node %" PRIu64 ", which does not exist.", node);
                cpu_mask_set(&p.hint, (unsigned) node);
                p.has_hint = true;
        }

        r = parse_quantity(s, req, p.resource, &p.quantity, err);
        if (r < 0)
                return r;

        p.qos_class = qrm_resolve_qos_class(req->labels, req->n_labels, req->annotations, req->n_annotations, -1);
        *ret = p;
        return 0;
}

/* Checks a request against an existing entry. */
int qrm_check_existing(const Entry *e, const Parsed *p, const QrmResourceRequest *req, bool pod_level,
                       PluginError *err) {
        if (!e)
                return 0;
        if (e->qos_class != p->qos_class)
                return plugin_error_set(err, EINVAL,
                                        "Container \"%s\" of pod %s is %s; a request as %s needs a new pod.",
                                        e->name, req->pod_uid, qos_class_to_string(e->qos_class),
                                        qos_class_to_string(p->qos_class));
        if (!pod_level && e->type != req->container_type)
                return plugin_error_set(err, EINVAL, "Container \"%s\" of pod %s is of type %s, not %s.", e->name,
                                        req->pod_uid, qrm_container_type_to_string(e->type),
                                        qrm_container_type_to_string(req->container_type));
        return 0;
}

int qrm_check_uid(const char *pod_uid, PluginError *err) {
        if (!pod_uid || !*pod_uid)
                return plugin_error_set(err, EINVAL, "The request has no pod_uid.");
        if (!qrm_name_valid(pod_uid, QRM_UID_MAX, false))
                return plugin_error_set(err, EINVAL, "Malformed pod_uid \"%.*s\".", QRM_UID_MAX, pod_uid);
        return 0;
}

bool qrm_resource_valid(Resource r) {
        return r == RESOURCE_CPU || r == RESOURCE_MEMORY;
}
