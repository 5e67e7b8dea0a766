/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* PSI triggers in the event loop: the node's pressure files and those of
 * the latency-sensitive parents that have them; when one fires, the manager
 * ticks at once. */

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "qos/cgroup-layout.h"

typedef struct PressureTriggers PressureTriggers;

typedef void (*pressure_fired_t)(const char *path, void *userdata);

/* Arms a trigger on each of /proc/pressure/{cpu,memory,io} and, when the
 * layout has per-cgroup pressure files, on the same files of ls_parents
 * (relative cgroup paths) where they exist. A trigger the kernel refuses is
 * logged once and left out. Returns 0 (even with none armed) or -ENOMEM. */
int pressure_triggers_new(sd_event *event, const Config *config, const CgroupLayout *layout,
                          const char *const *ls_parents, size_t n_ls_parents, pressure_fired_t fired,
                          void *userdata, PressureTriggers **ret);
PressureTriggers *pressure_triggers_free(PressureTriggers *t);

size_t pressure_triggers_armed(const PressureTriggers *t);
