/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The application signal (Heracles): services report their own p99 latency
 * and their SLO through the admin API (ReportAppLatency); the CPU controller
 * takes the worst slack, (SLO - p99) / SLO, among fresh reports as its
 * primary indicator. Thread-safe (a mutex): the gRPC thread reports, the
 * event loop reads each tick. Bounded: at most APP_SIGNALS_MAX pods. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APP_SIGNALS_MAX 4096
#define APP_SIGNAL_UID_MAX 128
/* A report older than this no longer holds a place in the table: a service
 * that stopped reporting for a minute is gone or broken, and its place may
 * go to another pod. (The controller uses its own, shorter max_age.) */
#define APP_SIGNAL_STALE_USEC (60ULL * 1000000ULL)

typedef struct AppSignals AppSignals;

typedef struct AppSignal {
        char pod_uid[APP_SIGNAL_UID_MAX];
        double p99_usec, slo_usec;
        uint64_t reported_usec; /* CLOCK_MONOTONIC */
} AppSignal;

int app_signals_new(AppSignals **ret);
AppSignals *app_signals_free(AppSignals *s);

/* Records (or replaces) a pod's report. -EINVAL for an empty, over-long
 * (>= APP_SIGNAL_UID_MAX) or malformed uid (characters other than
 * [A-Za-z0-9._-], as Kubernetes UIDs), or p99/SLO not finite and > 0;
 * -ENOSPC when full of other pods' fresh reports (those older than
 * APP_SIGNAL_STALE_USEC are dropped to make room). */
int app_signals_report(AppSignals *s, const char *pod_uid, double p99_usec, double slo_usec, uint64_t now_usec);

/* Drops the pod's report (the pod is gone). */
void app_signals_forget(AppSignals *s, const char *pod_uid);

/* The fresh report (reported within max_age_usec of now) with the lowest
 * slack; returns true and fills *ret, false if there is none. */
bool app_signals_worst(AppSignals *s, uint64_t now_usec, uint64_t max_age_usec, AppSignal *ret);

/* Copies up to n fresh reports into ret; returns how many there are. */
size_t app_signals_list(AppSignals *s, uint64_t now_usec, uint64_t max_age_usec, AppSignal *ret, size_t n);
