/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* nodeqosctl's commands and their human output. Each command returns a
 * CtlExit; the print functions are apart from the calls so that the
 * tables are tested without an agent. */

#include <stdio.h>

#include "ctl-context.h"
#include "nodeqos_admin.pb-c.h"

/* ctl-status.c */
int ctl_cmd_status(Ctl *ctl);
void ctl_status_print(const Nodeqos__V1__Status *s, FILE *f);
/* The first lines of status, for top's header. */
void ctl_status_print_summary(const Nodeqos__V1__Status *s, FILE *f);

/* ctl-pods.c */
typedef enum CtlPodOrder {
        CTL_PODS_AS_LISTED,
        CTL_PODS_BY_CPU, /* busiest first, as top shows them */
} CtlPodOrder;

int ctl_cmd_pods(Ctl *ctl, const char *qos_class);
int ctl_cmd_top(Ctl *ctl, double interval_sec, long count);
/* limit: at most this many pods (0: all), then a "... and N more" line. */
void ctl_pods_print(const Nodeqos__V1__ListPodsResponse *r, CtlPodOrder order, size_t limit, FILE *f);

/* ctl-signals.c */
int ctl_cmd_reclaimable(Ctl *ctl);
void ctl_reclaimable_print(const Nodeqos__V1__GetReclaimableResponse *r, FILE *f);
int ctl_cmd_report_latency(Ctl *ctl, const char *pod_uid, const char *app, double p99_usec, double slo_usec);

/* ctl-check-config.c: needs no agent. path NULL: the default file (a
 * missing default means the built-in defaults). */
int ctl_cmd_check_config(Ctl *ctl, const char *path);
