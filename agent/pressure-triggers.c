/* SPDX-License-Identifier: Apache-2.0 */
#include "pressure-triggers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "qos/psi-trigger.h"

static const char *const resources[] = { "cpu", "memory", "io" };

typedef struct Trigger {
        PressureTriggers *owner;
        char *path;
        int fd;
        sd_event_source *source;
} Trigger;

struct PressureTriggers {
        Trigger *triggers;
        size_t n;
        pressure_fired_t fired;
        void *userdata;
};

static int on_pressure(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Trigger *t = userdata;

        if (revents & EPOLLERR) {
                /* The file went away (its cgroup was removed): stop polling
                 * it, or the loop would spin on the error. */
                log_debug("Pressure trigger on %s is gone, ignoring it from now on.", t->path);
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        t->owner->fired(t->path, t->owner->userdata);
        return 0;
}

static int add(PressureTriggers *t, sd_event *event, const char *path, const Config *config) {
        uint64_t window = 0;
        Trigger *grown, *tr;
        int fd, r;

        fd = psi_trigger_open(path, config->pressure_trigger_stall_usec, config->pressure_trigger_window_usec, &window);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0) {
                log_warning_errno(fd, "Cannot arm a pressure trigger on %s, ignoring: %m", path);
                return 0;
        }
        if (window != config->pressure_trigger_window_usec)
                log_debug("Pressure trigger on %s armed with a %llu ms window (unprivileged).", path,
                          (unsigned long long) (window / 1000));

        grown = realloc(t->triggers, (t->n + 1) * sizeof(Trigger));
        if (!grown) {
                close(fd);
                return -ENOMEM;
        }
        t->triggers = grown;
        tr = &t->triggers[t->n];
        *tr = (Trigger) { .owner = t, .fd = fd, .path = strdup(path) };
        if (!tr->path) {
                close(fd);
                return -ENOMEM;
        }
        r = sd_event_add_io(event, &tr->source, fd, EPOLLPRI, on_pressure, tr);
        if (r < 0) {
                log_warning_errno(r, "Cannot poll the pressure trigger on %s, ignoring: %m", path);
                free(tr->path);
                close(fd);
                return 0;
        }
        (void) sd_event_source_set_description(tr->source, "pressure-trigger");
        t->n++;
        return 0;
}

int pressure_triggers_new(sd_event *event, const Config *config, const CgroupLayout *layout,
                          const char *const *ls_parents, size_t n_ls_parents, pressure_fired_t fired,
                          void *userdata, PressureTriggers **ret) {
        PressureTriggers *t = calloc(1, sizeof(*t));
        const char *pressure_mount = cgroup_layout_pressure_mount(layout);
        char path[4096];
        int r = 0;

        if (!t)
                return -ENOMEM;
        t->fired = fired;
        t->userdata = userdata;

        if (config->pressure_triggers_enabled) {
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(resources); i++) {
                        (void) snprintf(path, sizeof(path), "/proc/pressure/%s", resources[i]);
                        r = add(t, event, path, config);
                }
                for (size_t p = 0; r >= 0 && pressure_mount && p < n_ls_parents; p++)
                        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(resources); i++) {
                                (void) snprintf(path, sizeof(path), "%s/%s/%s.pressure", pressure_mount,
                                                ls_parents[p], resources[i]);
                                r = add(t, event, path, config);
                        }
        }
        /* The triggers' sources point into the array: no realloc after here. */
        for (size_t i = 0; i < t->n; i++)
                (void) sd_event_source_set_userdata(t->triggers[i].source, &t->triggers[i]);
        if (r < 0) {
                pressure_triggers_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

PressureTriggers *pressure_triggers_free(PressureTriggers *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                sd_event_source_disable_unref(t->triggers[i].source);
                close(t->triggers[i].fd);
                free(t->triggers[i].path);
        }
        free(t->triggers);
        free(t);
        return NULL;
}

size_t pressure_triggers_armed(const PressureTriggers *t) {
        return t ? t->n : 0;
}
