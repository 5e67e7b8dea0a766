/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What /healthz and /readyz answer, from the published ApiState. Pure:
 * the HTTP side only sends the status and the one-line body.
 *
 * /healthz: the process answers and its event loop is ticking: the state
 * (published after every tick) is younger than HEALTH_STALE_TICKS tick
 * intervals. A loop stuck in a tick, or not ticking, fails it.
 * /readyz: healthy, and initialised: the first tick's snapshot is out
 * (before it the controllers have nothing to decide on). The body names
 * each sensor's state; a sensor that is down does not make the agent
 * unready: it runs on PSI and cgroup statistics then. */

#include <stddef.h>
#include <stdint.h>

#include "api-state.h"

/* Ticks the state may miss before /healthz fails: one late tick is load,
 * three are a stuck loop. */
#define HEALTH_STALE_TICKS 3
/* ... but never less than this: a 100 ms tick delayed 300 ms by a busy
 * 2-CPU node is not a stuck loop. */
#define HEALTH_STALE_MIN_USEC (1000 * 1000ULL)

/* The HTTP status (200 or 503) and a one-line body in buf. st may be NULL. */
unsigned metrics_healthz(const ApiState *st, uint64_t now_usec, char *buf, size_t size);
unsigned metrics_readyz(const ApiState *st, uint64_t now_usec, char *buf, size_t size);
