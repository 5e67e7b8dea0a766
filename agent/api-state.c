/* SPDX-License-Identifier: Apache-2.0 */
#include "api-state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

ApiState *api_state_new(void) {
        ApiState *s = calloc(1, sizeof(*s));

        if (s)
                atomic_init(&s->refcount, 1);
        return s;
}

ApiState *api_state_ref(ApiState *s) {
        if (s)
                atomic_fetch_add(&s->refcount, 1);
        return s;
}

ApiState *api_state_unref(ApiState *s) {
        if (!s || atomic_fetch_sub(&s->refcount, 1) > 1)
                return NULL;
        node_snapshot_unref(s->snapshot);
        for (size_t i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
                free(s->controller_mount[i]);
        free(s->pressure_mount);
        free(s->kube_root);
        for (size_t i = 0; i < s->n_sensors; i++) {
                free(s->sensors[i].name);
                free(s->sensors[i].reason);
        }
        free(s->sensors);
        free(s);
        return NULL;
}

static int dup_or_null(const char *src, char **dst) {
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int api_state_set_layout(ApiState *s, const CgroupLayout *layout) {
        s->mode = layout->mode;
        for (size_t i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
                if (dup_or_null(layout->controller_mount[i], &s->controller_mount[i]) < 0)
                        return -ENOMEM;
        return dup_or_null(cgroup_layout_pressure_mount(layout), &s->pressure_mount);
}

int api_state_add_sensor(ApiState *s, const char *name, bool up, const char *reason) {
        ApiSensorStatus *n = realloc(s->sensors, (s->n_sensors + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        s->sensors = n;
        n[s->n_sensors] = (ApiSensorStatus) { .up = up };
        if (dup_or_null(name, &n[s->n_sensors].name) < 0 || dup_or_null(reason, &n[s->n_sensors].reason) < 0) {
                free(n[s->n_sensors].name);
                return -ENOMEM;
        }
        s->n_sensors++;
        return 0;
}

void api_state_box_init(ApiStateBox *b) {
        *b = (ApiStateBox) { .state = NULL };
        (void) pthread_mutex_init(&b->lock, NULL);
}

void api_state_box_done(ApiStateBox *b) {
        api_state_unref(b->state);
        b->state = NULL;
        (void) pthread_mutex_destroy(&b->lock);
}

void api_state_box_publish(ApiStateBox *b, ApiState *s) {
        ApiState *old;

        api_state_ref(s);
        pthread_mutex_lock(&b->lock);
        old = b->state;
        b->state = s;
        pthread_mutex_unlock(&b->lock);
        /* The last reference may free a whole snapshot: not under the lock. */
        api_state_unref(old);
}

ApiState *api_state_box_get(ApiStateBox *b) {
        ApiState *s;

        pthread_mutex_lock(&b->lock);
        s = api_state_ref(b->state);
        pthread_mutex_unlock(&b->lock);
        return s;
}
