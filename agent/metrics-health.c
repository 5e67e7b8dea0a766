/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics-health.h"

#include <stdio.h>
#include <string.h>

#include "macro.h"

#define HTTP_OK 200
#define HTTP_SERVICE_UNAVAILABLE 503

static uint64_t stale_after_usec(const ApiState *st) {
        return MAX(HEALTH_STALE_TICKS * st->tick_interval_usec, HEALTH_STALE_MIN_USEC);
}

unsigned metrics_healthz(const ApiState *st, uint64_t now_usec, char *buf, size_t size) {
        uint64_t age;

        if (!st) {
                (void) snprintf(buf, size, "unhealthy: no state published yet\n");
                return HTTP_SERVICE_UNAVAILABLE;
        }
        age = now_usec - MIN(now_usec, st->built_usec);
        if (age > stale_after_usec(st)) {
                (void) snprintf(buf, size, "unhealthy: the event loop last published %.1f s ago (tick %llu), limit %.1f s\n",
                                (double) age / 1e6, (unsigned long long) st->tick,
                                (double) stale_after_usec(st) / 1e6);
                return HTTP_SERVICE_UNAVAILABLE;
        }
        (void) snprintf(buf, size, "ok: tick %llu, state %.3f s old\n", (unsigned long long) st->tick,
                        (double) age / 1e6);
        return HTTP_OK;
}

unsigned metrics_readyz(const ApiState *st, uint64_t now_usec, char *buf, size_t size) {
        unsigned status = metrics_healthz(st, now_usec, buf, size);
        size_t n;

        if (status != HTTP_OK)
                return status;
        if (!st->snapshot) {
                (void) snprintf(buf, size, "not ready: no tick has run yet\n");
                return HTTP_SERVICE_UNAVAILABLE;
        }
        n = (size_t) snprintf(buf, size, "ready: tick %llu; sensors:", (unsigned long long) st->tick);
        for (size_t i = 0; i < st->n_sensors && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s %s %s%s%s", i ? "," : "", st->sensors[i].name,
                                       st->sensors[i].up ? "up" : "down", st->sensors[i].reason ? " - " : "",
                                       st->sensors[i].reason ?: "");
        if (st->n_sensors == 0 && n < size)
                n += (size_t) snprintf(buf + n, size - n, " none");
        if (n < size)
                (void) snprintf(buf + n, size - n, "\n");
        return HTTP_OK;
}
