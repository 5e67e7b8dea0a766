/* SPDX-License-Identifier: Apache-2.0 */
#include "kube-cgroup.h"

#include <errno.h>
#include <string.h>

#include "agent/macro.h"

static const char *const tier_names[_KUBE_TIER_MAX] = {
        [KUBE_TIER_GUARANTEED] = "guaranteed",
        [KUBE_TIER_BURSTABLE] = "burstable",
        [KUBE_TIER_BESTEFFORT] = "besteffort",
};

const char *cgroup_driver_to_string(CgroupDriver d) {
        static const char *const names[_CGROUP_DRIVER_MAX] = {
                [CGROUP_DRIVER_AUTO] = "auto",
                [CGROUP_DRIVER_SYSTEMD] = "systemd",
                [CGROUP_DRIVER_CGROUPFS] = "cgroupfs",
        };
        return d >= 0 && d < _CGROUP_DRIVER_MAX ? names[d] : NULL;
}

const char *kube_tier_to_string(KubeTier t) {
        return t >= 0 && t < _KUBE_TIER_MAX ? tier_names[t] : NULL;
}

const char *kube_root_name(CgroupDriver d) {
        return d == CGROUP_DRIVER_SYSTEMD ? "kubepods.slice" : "kubepods";
}

const char *kube_tier_dir(CgroupDriver d, KubeTier t) {
        switch (t) {
        case KUBE_TIER_BURSTABLE:
                return d == CGROUP_DRIVER_SYSTEMD ? "kubepods-burstable.slice" : "burstable";
        case KUBE_TIER_BESTEFFORT:
                return d == CGROUP_DRIVER_SYSTEMD ? "kubepods-besteffort.slice" : "besteffort";
        default:
                return NULL;
        }
}

static const char *strip_prefix(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Copies s[0..n) into ret (size max) if every character is allowed. */
static int copy_checked(const char *s, size_t n, const char *allowed, char *ret, size_t max) {
        if (n == 0 || n >= max || strspn(s, allowed) < n)
                return -EINVAL;
        memcpy(ret, s, n);
        ret[n] = 0;
        return 0;
}

int kube_parse_pod_dir(CgroupDriver d, KubeTier t, const char *name, char ret_uid[KUBE_UID_MAX]) {
        const char *uid;
        size_t n;
        int r;

        if (d == CGROUP_DRIVER_SYSTEMD) {
                static const char *const prefixes[_KUBE_TIER_MAX] = {
                        [KUBE_TIER_GUARANTEED] = "kubepods-pod",
                        [KUBE_TIER_BURSTABLE] = "kubepods-burstable-pod",
                        [KUBE_TIER_BESTEFFORT] = "kubepods-besteffort-pod",
                };
                size_t len = strlen(name);

                if (t < 0 || t >= _KUBE_TIER_MAX || len < 7 || strcmp(name + len - 6, ".slice") != 0)
                        return -EINVAL;
                uid = strip_prefix(name, prefixes[t]);
                if (!uid)
                        return -EINVAL;
                n = (size_t) (name + len - 6 - uid);
                /* systemd escapes '-' (its hierarchy separator) in unit
                 * names; the kubelet writes the UID's dashes as '_'. */
                r = copy_checked(uid, n, "0123456789abcdef_", ret_uid, KUBE_UID_MAX);
                if (r < 0)
                        return r;
                for (char *p = ret_uid; *p; p++)
                        if (*p == '_')
                                *p = '-';
                return 0;
        }

        uid = strip_prefix(name, "pod");
        if (!uid)
                return -EINVAL;
        return copy_checked(uid, strlen(uid), "0123456789abcdef-", ret_uid, KUBE_UID_MAX);
}

int kube_parse_container_dir(CgroupDriver d, const char *name, char ret_id[KUBE_CONTAINER_ID_MAX],
                             const char **ret_runtime) {
        static const struct {
                const char *prefix, *runtime;
        } scopes[] = {
                { "cri-containerd-", "containerd" },
                { "crio-", "crio" },
                { "docker-", "docker" },
        };
        static const char hex[] = "0123456789abcdef";

        if (d == CGROUP_DRIVER_SYSTEMD) {
                size_t len = strlen(name);

                if (len < 7 || strcmp(name + len - 6, ".scope") != 0)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(scopes); i++) {
                        const char *id = strip_prefix(name, scopes[i].prefix);

                        /* "crio-conmon-<id>.scope" fails the hex check: the
                         * monitor process is not a container. */
                        if (id && copy_checked(id, (size_t) (name + len - 6 - id), hex, ret_id,
                                               KUBE_CONTAINER_ID_MAX) == 0) {
                                *ret_runtime = scopes[i].runtime;
                                return 0;
                        }
                }
                return -EINVAL;
        }

        *ret_runtime = "";
        return copy_checked(name, strlen(name), hex, ret_id, KUBE_CONTAINER_ID_MAX);
}
