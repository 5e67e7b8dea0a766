/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The kubelet's cgroup naming, for both cgroup drivers (pure functions):
 *   systemd:  kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope
 *   cgroupfs: kubepods/besteffort/pod<uid>/<id>
 * Guaranteed pods sit directly under kubepods(.slice). */

#include <stdbool.h>
#include <stddef.h>

typedef enum CgroupDriver {
        CGROUP_DRIVER_AUTO, /* configuration only: detected from the tree */
        CGROUP_DRIVER_SYSTEMD,
        CGROUP_DRIVER_CGROUPFS,
        _CGROUP_DRIVER_MAX,
} CgroupDriver;

const char *cgroup_driver_to_string(CgroupDriver d);

typedef enum KubeTier {
        KUBE_TIER_GUARANTEED,
        KUBE_TIER_BURSTABLE,
        KUBE_TIER_BESTEFFORT,
        _KUBE_TIER_MAX,
        _KUBE_TIER_INVALID = -1,
} KubeTier;

/* A pod UID as the API server writes it (36 characters for generated ones;
 * static pods use a 32-character hash), plus NUL. */
#define KUBE_UID_MAX 65
/* A container id (64 hex for containerd, CRI-O, docker), plus NUL. */
#define KUBE_CONTAINER_ID_MAX 129

const char *kube_tier_to_string(KubeTier t);

/* "kubepods.slice" (systemd) or "kubepods" (cgroupfs). d must not be auto. */
const char *kube_root_name(CgroupDriver d);

/* The tier's directory below the root ("kubepods-burstable.slice",
 * "burstable"), or NULL for guaranteed (pods sit in the root itself). */
const char *kube_tier_dir(CgroupDriver d, KubeTier t);

/* A pod directory name in a tier: returns 0 and the UID (systemd's '_'
 * turned back into '-'), or -EINVAL if it is not a pod directory. */
int kube_parse_pod_dir(CgroupDriver d, KubeTier t, const char *name, char ret_uid[KUBE_UID_MAX]);

/* A container directory name in a pod: returns 0, the id and the runtime
 * ("containerd", "crio", "docker"; "" for cgroupfs, which does not say), or
 * -EINVAL (e.g. CRI-O's conmon scope, which is not a container). */
int kube_parse_container_dir(CgroupDriver d, const char *name, char ret_id[KUBE_CONTAINER_ID_MAX],
                             const char **ret_runtime);
