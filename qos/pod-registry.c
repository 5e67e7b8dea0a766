/* SPDX-License-Identifier: Apache-2.0 */
#include "pod-registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"

/* What a watched directory holds, hence how it is listed again. */
typedef enum WatchKind {
        WATCH_KUBELET_ROOT, /* where kubepods(.slice) appears */
        WATCH_KUBE_ROOT,    /* kubepods: QoS tier dirs and guaranteed pods */
        WATCH_TIER,         /* a QoS tier: its pods */
        WATCH_POD,          /* a pod: its containers */
        WATCH_EXTRA_ROOT,   /* a configured root: plain cgroups */
} WatchKind;

typedef struct Watch {
        int wd;
        WatchKind kind;
        KubeTier tier;     /* WATCH_TIER */
        size_t extra_root; /* WATCH_EXTRA_ROOT */
        char *cgroup;      /* WATCH_POD: the pod's cgroup */
        bool dirty;
} Watch;

struct PodRegistry {
        PodRegistryParams params;
        const char *primary; /* mount of the hierarchy that is walked */
        CgroupDriver driver;
        char *kube_root; /* NULL until kubepods exists */

        int inotify_fd;
        Watch *watches;
        size_t n_watches;
        bool extra_root_watched[64];

        Workload **workloads;
        size_t n_workloads;
        uint64_t generation;
        int changes; /* adds and removals during one refresh */
};

#define INOTIFY_DIR_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
/* Configured extra roots beyond this are not watched (and the configuration
 * would be absurd). */
#define EXTRA_ROOTS_MAX 64

static char *join(const char *a, const char *b) {
        char *s;

        if (!a || !*a)
                return strdup(b);
        if (asprintf(&s, "%s/%s", a, b) < 0)
                return NULL;
        return s;
}

static int absolute_path(const PodRegistry *r, const char *cgroup, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s/%s", r->primary, cgroup);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static bool dir_exists(const PodRegistry *r, const char *cgroup) {
        char path[PATH_MAX];
        struct stat st;

        return absolute_path(r, cgroup, path, sizeof(path)) == 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static Watch *watch_find_wd(PodRegistry *r, int wd) {
        for (size_t i = 0; i < r->n_watches; i++)
                if (r->watches[i].wd == wd)
                        return &r->watches[i];
        return NULL;
}

static void watch_drop(PodRegistry *r, Watch *w, bool remove_from_kernel) {
        size_t i = (size_t) (w - r->watches);

        if (remove_from_kernel)
                (void) inotify_rm_watch(r->inotify_fd, w->wd);
        if (w->kind == WATCH_EXTRA_ROOT && w->extra_root < EXTRA_ROOTS_MAX)
                r->extra_root_watched[w->extra_root] = false;
        free(w->cgroup);
        memmove(w, w + 1, (r->n_watches - i - 1) * sizeof(Watch));
        r->n_watches--;
}

/* Watches cgroup (relative) as kind. Returns the watch descriptor, -ENOENT
 * if the directory is gone, or -errno. A directory watched already keeps its
 * watch (inotify returns the same descriptor). */
static int watch_add(PodRegistry *r, const char *cgroup, WatchKind kind, KubeTier tier, size_t extra_root) {
        char path[PATH_MAX];
        Watch *w, *grown;
        int wd, k;

        k = absolute_path(r, cgroup, path, sizeof(path));
        if (k < 0)
                return k;
        wd = inotify_add_watch(r->inotify_fd, path, INOTIFY_DIR_EVENTS);
        if (wd < 0)
                return negative_errno();
        w = watch_find_wd(r, wd);
        if (w)
                return wd;

        grown = realloc(r->watches, (r->n_watches + 1) * sizeof(Watch));
        if (!grown)
                return -ENOMEM;
        r->watches = grown;
        w = &r->watches[r->n_watches];
        *w = (Watch) { .wd = wd, .kind = kind, .tier = tier, .extra_root = extra_root };
        if (kind == WATCH_POD) {
                w->cgroup = strdup(cgroup);
                if (!w->cgroup) {
                        (void) inotify_rm_watch(r->inotify_fd, wd);
                        return -ENOMEM;
                }
        }
        r->n_watches++;
        return wd;
}

static void workload_free(Workload *w) {
        if (!w)
                return;
        for (size_t i = 0; i < w->n_containers; i++)
                free(w->containers[i].cgroup);
        free(w->containers);
        free(w->cgroup);
        free(w);
}

static Workload *workload_find(PodRegistry *r, const char *cgroup) {
        for (size_t i = 0; i < r->n_workloads; i++)
                if (strcmp(r->workloads[i]->cgroup, cgroup) == 0)
                        return r->workloads[i];
        return NULL;
}

static void workload_remove_at(PodRegistry *r, size_t i) {
        Workload *w = r->workloads[i];

        if (w->watch >= 0) {
                Watch *watch = watch_find_wd(r, w->watch);
                if (watch)
                        watch_drop(r, watch, true);
        }
        workload_free(w);
        memmove(&r->workloads[i], &r->workloads[i + 1], (r->n_workloads - i - 1) * sizeof(Workload *));
        r->n_workloads--;
        r->generation++;
        r->changes++;
}

static int workload_add(PodRegistry *r, Workload *w) {
        Workload **grown = realloc(r->workloads, (r->n_workloads + 1) * sizeof(Workload *));

        if (!grown)
                return -ENOMEM;
        r->workloads = grown;
        r->workloads[r->n_workloads++] = w;
        r->generation++;
        r->changes++;
        return 0;
}

/* Calls f for every subdirectory of cgroup; stops at f's first error. A
 * directory that vanished is empty. */
static int for_each_subdir(PodRegistry *r, const char *cgroup, int (*f)(PodRegistry *r, const char *name, void *data),
                           void *data) {
        char path[PATH_MAX];
        DIR *d;
        struct dirent *de;
        int k = absolute_path(r, cgroup, path, sizeof(path));

        if (k < 0)
                return k;
        d = opendir(path);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                k = f(r, de->d_name, data);
                if (k < 0)
                        break;
        }
        closedir(d);
        return k < 0 ? k : 0;
}

static int collect_container(PodRegistry *r, const char *name, void *data) {
        Workload *w = data;
        char id[KUBE_CONTAINER_ID_MAX];
        const char *runtime;
        Container *grown;
        char *cgroup;

        if (kube_parse_container_dir(r->driver, name, id, &runtime) < 0)
                return 0;
        cgroup = join(w->cgroup, name);
        if (!cgroup)
                return -ENOMEM;
        grown = realloc(w->containers, (w->n_containers + 1) * sizeof(Container));
        if (!grown) {
                free(cgroup);
                return -ENOMEM;
        }
        w->containers = grown;
        w->containers[w->n_containers] = (Container) { .runtime = runtime, .cgroup = cgroup };
        memcpy(w->containers[w->n_containers].id, id, sizeof(id));
        w->n_containers++;
        return 0;
}

static bool same_containers(const Workload *a, const Workload *b) {
        if (a->n_containers != b->n_containers)
                return false;
        for (size_t i = 0; i < a->n_containers; i++) {
                bool found = false;
                for (size_t j = 0; j < b->n_containers && !found; j++)
                        found = strcmp(a->containers[i].id, b->containers[j].id) == 0;
                if (!found)
                        return false;
        }
        return true;
}

/* Lists a pod's containers again; the list is replaced only if it changed. */
static int scan_pod(PodRegistry *r, Workload *w) {
        Workload fresh = { .cgroup = w->cgroup };
        int k = for_each_subdir(r, w->cgroup, collect_container, &fresh);

        if (k >= 0 && !same_containers(w, &fresh)) {
                for (size_t i = 0; i < w->n_containers; i++)
                        free(w->containers[i].cgroup);
                free(w->containers);
                w->containers = fresh.containers;
                w->n_containers = fresh.n_containers;
                r->generation++;
                return 0;
        }
        for (size_t i = 0; i < fresh.n_containers; i++)
                free(fresh.containers[i].cgroup);
        free(fresh.containers);
        return k;
}

static int ensure_pod(PodRegistry *r, const char *parent, const char *name, KubeTier tier, const char *uid) {
        _cleanup_free_ char *cgroup = join(parent, name);
        Workload *w;
        int k;

        if (!cgroup)
                return -ENOMEM;
        w = workload_find(r, cgroup);
        if (w) {
                w->seen = true;
                return 0;
        }

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (Workload) {
                .kind = WORKLOAD_POD,
                .tier = tier,
                .cgroup = TAKE_PTR(cgroup),
                .qos_class = qos_class_resolve(&(QosClassInputs) { .kube_tier = tier }),
                .watch = -1,
                .seen = true,
        };
        memcpy(w->uid, uid, KUBE_UID_MAX);

        /* Watch first, then list: a container created in between is seen. */
        k = watch_add(r, w->cgroup, WATCH_POD, tier, 0);
        if (k == -ENOENT) {
                workload_free(w); /* gone already */
                return 0;
        }
        if (k < 0) {
                workload_free(w);
                return k;
        }
        w->watch = k;
        k = scan_pod(r, w);
        if (k >= 0)
                k = workload_add(r, w);
        if (k < 0) {
                Watch *watch = watch_find_wd(r, w->watch);
                if (watch)
                        watch_drop(r, watch, true);
                workload_free(w);
        }
        return k;
}

typedef struct PodScan {
        const char *parent;
        KubeTier tier;
} PodScan;

static int collect_pod(PodRegistry *r, const char *name, void *data) {
        const PodScan *s = data;
        char uid[KUBE_UID_MAX];

        if (kube_parse_pod_dir(r->driver, s->tier, name, uid) < 0)
                return 0;
        return ensure_pod(r, s->parent, name, s->tier, uid);
}

/* Removes the pods of one tier (or kind) that the last listing did not see. */
static void sweep(PodRegistry *r, WorkloadKind kind, KubeTier tier, const char *prefix) {
        size_t n = prefix ? strlen(prefix) : 0;

        for (size_t i = r->n_workloads; i > 0; i--) {
                Workload *w = r->workloads[i - 1];

                if (w->kind != kind || (kind == WORKLOAD_POD && w->tier != tier))
                        continue;
                if (prefix && (strncmp(w->cgroup, prefix, n) != 0 || w->cgroup[n] != '/'))
                        continue;
                if (!w->seen)
                        workload_remove_at(r, i - 1);
        }
}

static void unsee(PodRegistry *r, WorkloadKind kind, KubeTier tier, const char *prefix) {
        size_t n = prefix ? strlen(prefix) : 0;

        for (size_t i = 0; i < r->n_workloads; i++) {
                Workload *w = r->workloads[i];
                if (w->kind == kind && (kind != WORKLOAD_POD || w->tier == tier) &&
                    (!prefix || (strncmp(w->cgroup, prefix, n) == 0 && w->cgroup[n] == '/')))
                        w->seen = false;
        }
}

static int scan_tier(PodRegistry *r, KubeTier tier) {
        _cleanup_free_ char *dir = NULL;
        const char *name = kube_tier_dir(r->driver, tier);
        PodScan s = { .tier = tier };
        int k;

        dir = name ? join(r->kube_root, name) : strdup(r->kube_root);
        if (!dir)
                return -ENOMEM;
        s.parent = dir;

        unsee(r, WORKLOAD_POD, tier, NULL);
        if (tier != KUBE_TIER_GUARANTEED) {
                k = watch_add(r, dir, WATCH_TIER, tier, 0);
                if (k < 0 && k != -ENOENT)
                        return k;
        }
        k = for_each_subdir(r, dir, collect_pod, &s);
        if (k < 0)
                return k;
        sweep(r, WORKLOAD_POD, tier, NULL);
        return 0;
}

static int scan_kube_root(PodRegistry *r) {
        int k;

        for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++) {
                k = scan_tier(r, t);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* Finds kubepods (and the driver, if auto) below the kubelet's root. */
static int scan_kubelet_root(PodRegistry *r) {
        static const CgroupDriver drivers[] = { CGROUP_DRIVER_SYSTEMD, CGROUP_DRIVER_CGROUPFS };
        int k;

        k = watch_add(r, r->params.kubelet_root, WATCH_KUBELET_ROOT, _KUBE_TIER_INVALID, 0);
        if (k < 0 && k != -ENOENT)
                return k;

        if (r->kube_root && !dir_exists(r, r->kube_root)) {
                /* kubepods went away (kubelet reset): so did every pod. */
                for (KubeTier t = 0; t < _KUBE_TIER_MAX; t++) {
                        unsee(r, WORKLOAD_POD, t, NULL);
                        sweep(r, WORKLOAD_POD, t, NULL);
                }
                r->kube_root = mfree_str(r->kube_root);
                if (r->params.driver == CGROUP_DRIVER_AUTO)
                        r->driver = CGROUP_DRIVER_AUTO;
        }

        for (size_t i = 0; !r->kube_root && i < ELEMENTSOF(drivers); i++) {
                _cleanup_free_ char *root = NULL;

                if (r->params.driver != CGROUP_DRIVER_AUTO && r->params.driver != drivers[i])
                        continue;
                root = join(r->params.kubelet_root, kube_root_name(drivers[i]));
                if (!root)
                        return -ENOMEM;
                if (!dir_exists(r, root))
                        continue;
                r->driver = drivers[i];
                r->kube_root = TAKE_PTR(root);
        }
        if (!r->kube_root)
                return 0;

        k = watch_add(r, r->kube_root, WATCH_KUBE_ROOT, _KUBE_TIER_INVALID, 0);
        if (k < 0 && k != -ENOENT)
                return k;
        return scan_kube_root(r);
}

static int collect_plain(PodRegistry *r, const char *name, void *data) {
        const char *root = data;
        _cleanup_free_ char *cgroup = join(root, name);
        Workload *w;
        QosClass c;

        if (!cgroup)
                return -ENOMEM;
        w = workload_find(r, cgroup);
        if (w) {
                w->seen = true;
                return 0;
        }
        c = qos_class_resolve(&(QosClassInputs) {
                .kube_tier = _KUBE_TIER_INVALID,
                .cgroup = cgroup,
                .rules = r->params.rules,
                .n_rules = r->params.n_rules,
        });
        if (c == _QOS_CLASS_INVALID)
                return 0; /* no rule names it: not ours to manage */

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        *w = (Workload) {
                .kind = WORKLOAD_CGROUP,
                .tier = _KUBE_TIER_INVALID,
                .cgroup = TAKE_PTR(cgroup),
                .qos_class = c,
                .watch = -1,
                .seen = true,
        };
        if (workload_add(r, w) < 0) {
                workload_free(w);
                return -ENOMEM;
        }
        return 0;
}

static int scan_extra_root(PodRegistry *r, size_t i) {
        const char *root = r->params.extra_roots[i];
        int k;

        if (i < EXTRA_ROOTS_MAX && !r->extra_root_watched[i]) {
                k = watch_add(r, root, WATCH_EXTRA_ROOT, _KUBE_TIER_INVALID, i);
                if (k >= 0)
                        r->extra_root_watched[i] = true;
                else if (k != -ENOENT)
                        return k;
        }
        unsee(r, WORKLOAD_CGROUP, _KUBE_TIER_INVALID, root);
        k = for_each_subdir(r, root, collect_plain, (void *) root);
        if (k < 0)
                return k;
        sweep(r, WORKLOAD_CGROUP, _KUBE_TIER_INVALID, root);
        return 0;
}

static int scan_all(PodRegistry *r) {
        int k = scan_kubelet_root(r);

        for (size_t i = 0; k >= 0 && i < r->params.n_extra_roots; i++)
                k = scan_extra_root(r, i);
        return k;
}

int pod_registry_new(const PodRegistryParams *params, PodRegistry **ret) {
        PodRegistry *r;
        int k;

        if (params->n_extra_roots > EXTRA_ROOTS_MAX)
                return -E2BIG;
        if (!cgroup_layout_primary_mount(params->layout))
                return -EOPNOTSUPP;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->params = *params;
        r->primary = cgroup_layout_primary_mount(params->layout);
        r->driver = params->driver;
        r->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->inotify_fd < 0) {
                k = negative_errno();
                free(r);
                return k;
        }

        k = scan_all(r);
        if (k < 0) {
                pod_registry_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

PodRegistry *pod_registry_free(PodRegistry *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_workloads; i++)
                workload_free(r->workloads[i]);
        free(r->workloads);
        for (size_t i = 0; i < r->n_watches; i++)
                free(r->watches[i].cgroup);
        free(r->watches);
        free(r->kube_root);
        if (r->inotify_fd >= 0)
                (void) close(r->inotify_fd);
        free(r);
        return NULL;
}

int pod_registry_fd(const PodRegistry *r) {
        return r->inotify_fd;
}

/* Drains the inotify queue, marking watches dirty. Returns 1 if the queue
 * overflowed (everything must be listed again), 0, or -errno. */
static int drain_events(PodRegistry *r) {
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool overflow = false;

        for (;;) {
                ssize_t n = read(r->inotify_fd, buf, sizeof(buf));

                if (n < 0) {
                        if (errno == EAGAIN)
                                break;
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *e = (struct inotify_event *) p;
                        Watch *w;

                        p += sizeof(*e) + e->len;
                        if (e->mask & IN_Q_OVERFLOW) {
                                overflow = true;
                                continue;
                        }
                        w = watch_find_wd(r, e->wd);
                        if (!w)
                                continue;
                        if (e->mask & IN_IGNORED) {
                                /* The directory itself is gone; its parent's
                                 * event lists the parent again. */
                                watch_drop(r, w, false);
                                continue;
                        }
                        w->dirty = true;
                }
        }
        return overflow;
}

int pod_registry_refresh(PodRegistry *r) {
        int k;

        r->changes = 0;
        k = drain_events(r);
        if (k < 0)
                return k;
        if (k > 0) {
                k = scan_all(r);
                return k < 0 ? k : r->changes;
        }

        /* Parents first: a new tier or kubepods is listed before its pods. */
        for (WatchKind kind = WATCH_KUBELET_ROOT; kind <= WATCH_EXTRA_ROOT; kind++)
                for (size_t i = 0; i < r->n_watches; i++) {
                        Watch *w = &r->watches[i];
                        Workload *pod;

                        if (!w->dirty || w->kind != kind)
                                continue;
                        w->dirty = false;
                        switch (kind) {
                        case WATCH_KUBELET_ROOT:
                                k = scan_kubelet_root(r);
                                break;
                        case WATCH_KUBE_ROOT:
                                k = scan_kube_root(r);
                                break;
                        case WATCH_TIER:
                                k = scan_tier(r, w->tier);
                                break;
                        case WATCH_POD:
                                pod = workload_find(r, w->cgroup);
                                k = pod ? scan_pod(r, pod) : 0;
                                break;
                        case WATCH_EXTRA_ROOT:
                                k = scan_extra_root(r, w->extra_root);
                                break;
                        }
                        if (k < 0)
                                return k;
                        /* The scan may have changed the array: start over. */
                        i = (size_t) -1;
                }

        /* Extra roots that did not exist yet: a failed watch costs one call. */
        for (size_t i = 0; i < r->params.n_extra_roots && i < EXTRA_ROOTS_MAX; i++)
                if (!r->extra_root_watched[i] && dir_exists(r, r->params.extra_roots[i])) {
                        k = scan_extra_root(r, i);
                        if (k < 0)
                                return k;
                }
        return r->changes;
}

CgroupDriver pod_registry_driver(const PodRegistry *r) {
        return r->driver;
}

const char *pod_registry_kube_root(const PodRegistry *r) {
        return r->kube_root;
}

size_t pod_registry_count(const PodRegistry *r) {
        return r->n_workloads;
}

const Workload *pod_registry_get(const PodRegistry *r, size_t i) {
        return i < r->n_workloads ? r->workloads[i] : NULL;
}

uint64_t pod_registry_generation(const PodRegistry *r) {
        return r->generation;
}
