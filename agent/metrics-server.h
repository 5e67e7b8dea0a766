/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Prometheus endpoint: libmicrohttpd on its own thread (one epoll
 * thread for every connection) serving /metrics, /healthz and /readyz
 * from the ApiState the event loop publishes. The loop never waits for
 * it: a scrape takes a reference to the latest state under the box's
 * mutex (a pointer copy) and renders from that.
 *
 * Bounds: METRICS_MAX_CONNECTIONS connections (more are accepted and
 * closed at once by libmicrohttpd), METRICS_CONNECTION_MEMORY bytes per
 * connection for the request line and headers (more: 431), an idle or
 * slow connection closed after METRICS_CONNECTION_TIMEOUT_SEC. Only GET
 * and HEAD (405 otherwise); 404 for any other path. */

#include "api-server.h"
#include "api-state.h"

/* Prometheus scrapes with one connection per target; this leaves room for
 * an HA pair, operators' curl and health checkers. It also bounds the
 * memory a local client can make the agent hold: each connection may hold
 * one rendered scrape until it reads it (~2.2 MB at 1000 containers). */
#define METRICS_MAX_CONNECTIONS 16
/* Prometheus sends a few hundred bytes of headers. libmicrohttpd takes the
 * request line and headers from this pool and answers 431 when they do
 * not fit; the response body is ours, outside it. */
#define METRICS_CONNECTION_MEMORY (16 * 1024)
/* Longer than a scrape takes, shorter than Prometheus's default interval
 * (a keep-alive connection is reopened then). */
#define METRICS_CONNECTION_TIMEOUT_SEC 10

typedef struct MetricsServer MetricsServer;

typedef struct MetricsServerParams {
        const char *listen;  /* "host:port" or "[v6]:port" (config-validate.c checked it) */
        ApiStateBox *states; /* must outlive the server */
        ApiServer *api;      /* the gRPC counters; NULL for none; must outlive the server */
} MetricsServerParams;

/* Binds and starts serving. Returns 0; -EINVAL for an address that does
 * not resolve (*ret_reason says why); the bind's -errno (-EADDRINUSE,
 * -EADDRNOTAVAIL, -EACCES); -ENOMEM; -EIO if libmicrohttpd did not start. */
int metrics_server_start(const MetricsServerParams *params, MetricsServer **ret, const char **ret_reason);
/* Stops serving (joins the thread) and frees; NULL is fine. */
MetricsServer *metrics_server_free(MetricsServer *m);
