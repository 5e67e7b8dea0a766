/* SPDX-License-Identifier: Apache-2.0 */
#include "app-signals.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The table is small and searched linearly: at most APP_SIGNALS_MAX pods,
 * a report every few seconds each, so a scan under the mutex costs less
 * than the gRPC call that brought the report. It grows on demand, so an
 * agent whose services report nothing keeps no 600 KiB table around. */
struct AppSignals {
        pthread_mutex_t lock;
        AppSignal *entries;
        size_t n, allocated;
};

int app_signals_new(AppSignals **ret) {
        AppSignals *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        *ret = s;
        return 0;
}

AppSignals *app_signals_free(AppSignals *s) {
        if (!s)
                return NULL;
        pthread_mutex_destroy(&s->lock);
        free(s->entries);
        free(s);
        return NULL;
}

static bool uid_valid(const char *uid) {
        size_t n;

        if (!uid)
                return false;
        n = strnlen(uid, APP_SIGNAL_UID_MAX);
        if (n == 0 || n >= APP_SIGNAL_UID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = uid[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_'))
                        return false;
        }
        return true;
}

/* Reports come from gRPC's thread with its own clock reading and are read
 * by the loop with another: one taken a moment later may look "from the
 * future". It is fresh, not 2^64 us old. */
static uint64_t age_usec(const AppSignal *e, uint64_t now_usec) {
        return now_usec > e->reported_usec ? now_usec - e->reported_usec : 0;
}

static double slack(const AppSignal *e) {
        return (e->slo_usec - e->p99_usec) / e->slo_usec;
}

static AppSignal *find(AppSignals *s, const char *pod_uid) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->entries[i].pod_uid, pod_uid) == 0)
                        return &s->entries[i];
        return NULL;
}

static void drop_stale(AppSignals *s, uint64_t now_usec) {
        size_t kept = 0;

        for (size_t i = 0; i < s->n; i++)
                if (age_usec(&s->entries[i], now_usec) <= APP_SIGNAL_STALE_USEC)
                        s->entries[kept++] = s->entries[i];
        s->n = kept;
}

/* A free place at the end of the table, or NULL (-ENOSPC / -ENOMEM in *ret_error). */
static AppSignal *make_room(AppSignals *s, uint64_t now_usec, int *ret_error) {
        if (s->n == APP_SIGNALS_MAX)
                drop_stale(s, now_usec);
        if (s->n == APP_SIGNALS_MAX) {
                *ret_error = -ENOSPC;
                return NULL;
        }
        if (s->n == s->allocated) {
                size_t want = s->allocated ? s->allocated * 2 : 16;
                AppSignal *e;

                if (want > APP_SIGNALS_MAX)
                        want = APP_SIGNALS_MAX;
                e = realloc(s->entries, want * sizeof(*e));
                if (!e) {
                        *ret_error = -ENOMEM;
                        return NULL;
                }
                s->entries = e;
                s->allocated = want;
        }
        return &s->entries[s->n++];
}

int app_signals_report(AppSignals *s, const char *pod_uid, double p99_usec, double slo_usec, uint64_t now_usec) {
        AppSignal *e;
        int r = 0;

        if (!uid_valid(pod_uid) || !isfinite(p99_usec) || p99_usec <= 0 || !isfinite(slo_usec) || slo_usec <= 0)
                return -EINVAL;

        pthread_mutex_lock(&s->lock);
        e = find(s, pod_uid);
        if (!e) {
                e = make_room(s, now_usec, &r);
                if (e)
                        strcpy(e->pod_uid, pod_uid); /* uid_valid(): shorter than the field */
        }
        if (e) {
                e->p99_usec = p99_usec;
                e->slo_usec = slo_usec;
                e->reported_usec = now_usec;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

void app_signals_forget(AppSignals *s, const char *pod_uid) {
        AppSignal *e;

        if (!pod_uid)
                return;
        pthread_mutex_lock(&s->lock);
        e = find(s, pod_uid);
        if (e)
                *e = s->entries[--s->n]; /* order does not matter */
        pthread_mutex_unlock(&s->lock);
}

bool app_signals_worst(AppSignals *s, uint64_t now_usec, uint64_t max_age_usec, AppSignal *ret) {
        const AppSignal *worst = NULL;

        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
                const AppSignal *e = &s->entries[i];

                if (age_usec(e, now_usec) > max_age_usec)
                        continue;
                if (!worst || slack(e) < slack(worst))
                        worst = e;
        }
        if (worst)
                *ret = *worst;
        pthread_mutex_unlock(&s->lock);
        return worst != NULL;
}

size_t app_signals_list(AppSignals *s, uint64_t now_usec, uint64_t max_age_usec, AppSignal *ret, size_t n) {
        size_t found = 0;

        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
                if (age_usec(&s->entries[i], now_usec) > max_age_usec)
                        continue;
                if (found < n)
                        ret[found] = s->entries[i];
                found++;
        }
        pthread_mutex_unlock(&s->lock);
        return found;
}
