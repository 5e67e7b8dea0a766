/* SPDX-License-Identifier: Apache-2.0 */
#include "sensor-attribution.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "agent/macro.h"

typedef struct Entry {
        uint64_t id;
        uint32_t kind;
        uint32_t workload;
} Entry;

struct SensorAttribution {
        Entry *entries; /* sorted by (kind, id) */
        size_t n;
};

/* The hierarchy each sensor's ids come from. */
static const char *sensor_mount(const CgroupLayout *l, SensorKind k) {
        static const CgroupController controllers[_SENSOR_MAX] = {
                [SENSOR_RUNQUEUE] = CGROUP_CONTROLLER_CPU,
                [SENSOR_RECLAIM] = CGROUP_CONTROLLER_MEMORY,
                [SENSOR_BLOCK_IO] = CGROUP_CONTROLLER_BLKIO,
        };

        if (l->mode == CGROUP_MODE_V2)
                return l->unified_mount;
        return l->controller_mount[controllers[k]];
}

static int compare_entries(const void *x, const void *y) {
        const Entry *a = x, *b = y;

        if (a->kind != b->kind)
                return a->kind < b->kind ? -1 : 1;
        return a->id < b->id ? -1 : a->id > b->id;
}

static int add(SensorAttribution *a, size_t *cap, const CgroupLayout *l, const char *cgroup, uint32_t workload) {
        for (SensorKind k = 0; k < _SENSOR_MAX; k++) {
                const char *mount = sensor_mount(l, k);
                char path[PATH_MAX];
                struct stat st;

                if (!mount || snprintf(path, sizeof(path), "%s/%s", mount, cgroup) >= (int) sizeof(path) ||
                    stat(path, &st) < 0)
                        continue; /* not in that hierarchy (or gone): nothing to attribute */
                if (a->n == *cap) {
                        size_t c = *cap ? *cap * 2 : 64;
                        Entry *e = realloc(a->entries, c * sizeof(Entry));

                        if (!e)
                                return -ENOMEM;
                        a->entries = e;
                        *cap = c;
                }
                a->entries[a->n++] = (Entry) { .id = (uint64_t) st.st_ino, .kind = k, .workload = workload };
        }
        return 0;
}

int sensor_attribution_build(const CgroupLayout *layout, const PodRegistry *registry, SensorAttribution **ret) {
        SensorAttribution *a = calloc(1, sizeof(*a));
        size_t cap = 0;
        int r = 0;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < pod_registry_count(registry); i++) {
                const Workload *w = pod_registry_get(registry, i);

                r = add(a, &cap, layout, w->cgroup, (uint32_t) i);
                for (size_t j = 0; r >= 0 && j < w->n_containers; j++)
                        r = add(a, &cap, layout, w->containers[j].cgroup, (uint32_t) i);
        }
        if (r < 0) {
                sensor_attribution_free(a);
                return r;
        }
        if (a->n > 1) /* entries is NULL when empty, which qsort may not take */
                qsort(a->entries, a->n, sizeof(Entry), compare_entries);
        *ret = a;
        return 0;
}

SensorAttribution *sensor_attribution_free(SensorAttribution *a) {
        if (a) {
                free(a->entries);
                free(a);
        }
        return NULL;
}

ssize_t sensor_attribution_find(const SensorAttribution *a, SensorKind kind, uint64_t id) {
        Entry key = { .id = id, .kind = kind };
        const Entry *e;

        if (!a || a->n == 0)
                return -1;
        e = bsearch(&key, a->entries, a->n, sizeof(Entry), compare_entries);
        return e ? (ssize_t) e->workload : -1;
}

void sensor_attribution_removed(const SensorAttribution *old, const SensorAttribution *new_,
                                void (*f)(uint64_t id, void *userdata), void *userdata) {
        for (size_t i = 0; old && i < old->n; i++) {
                Entry key = old->entries[i];

                if (!new_ || new_->n == 0 ||
                    !bsearch(&key, new_->entries, new_->n, sizeof(Entry), compare_entries))
                        f(key.id, userdata);
        }
}
