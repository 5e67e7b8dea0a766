/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP side of /metrics: a thin adapter of libmicrohttpd over
 * metrics-render (the exposition), metrics-accept (the format) and
 * metrics-health (the probes). libmicrohttpd parses HTTP; we own the
 * listening socket (for clear bind errors) and the answers. */
#include "metrics-server.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "metrics-accept.h"
#include "metrics-health.h"
#include "metrics-render.h"

/* Connections waiting for accept(); more than the connection limit would
 * only queue clients libmicrohttpd then closes. */
#define METRICS_LISTEN_BACKLOG METRICS_MAX_CONNECTIONS
/* The probes' one-line bodies (a sensor's reason included). */
#define METRICS_PROBE_BODY_MAX 1024
#define LISTEN_HOST_MAX 256

struct MetricsServer {
        struct MHD_Daemon *daemon;
        int listen_fd;
        ApiStateBox *states;
        ApiServer *api;
};

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* The gRPC counters through the renderer's generic hook. */
static void visit_api_calls(void *calls, ApiCallStatsVisitor visit, void *userdata) {
        api_server_visit_call_stats(calls, visit, userdata);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *content_type, char *body,
                              size_t len) {
        struct MHD_Response *resp;
        enum MHD_Result r;

        /* body is taken: libmicrohttpd frees it once sent. */
        resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
        if (!resp) {
                free(body);
                return MHD_NO; /* closes the connection */
        }
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        r = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text) {
        char *body = strdup(text);

        if (!body)
                return MHD_NO;
        return answer(conn, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result serve_metrics(MetricsServer *m, struct MHD_Connection *conn) {
        _cleanup_(api_state_unrefp) ApiState *st = api_state_box_get(m->states);
        MetricsFormat f = metrics_format_negotiate(
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
        MetricsSources src = {
                .state = st,
                .now_usec = monotonic_usec(),
                .visit_calls = m->api ? visit_api_calls : NULL,
                .calls = m->api,
        };
        char *body = NULL;
        size_t len = 0;

        if (metrics_render(&src, f, &body, &len) < 0)
                return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        return answer(conn, MHD_HTTP_OK, metrics_format_content_type(f), body, len);
}

static enum MHD_Result serve_probe(MetricsServer *m, struct MHD_Connection *conn, bool ready) {
        _cleanup_(api_state_unrefp) ApiState *st = api_state_box_get(m->states);
        char body[METRICS_PROBE_BODY_MAX];
        unsigned status;

        status = ready ? metrics_readyz(st, monotonic_usec(), body, sizeof(body))
                       : metrics_healthz(st, monotonic_usec(), body, sizeof(body));
        return answer_text(conn, status, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
        MetricsServer *m = cls;

        /* Answered on the first call, before any body is read: none of
         * ours takes one, and libmicrohttpd then discards or closes. */
        if (!streq_ptr(method, MHD_HTTP_METHOD_GET) && !streq_ptr(method, MHD_HTTP_METHOD_HEAD))
                return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        if (streq_ptr(url, "/metrics"))
                return serve_metrics(m, conn);
        if (streq_ptr(url, "/healthz"))
                return serve_probe(m, conn, false);
        if (streq_ptr(url, "/readyz"))
                return serve_probe(m, conn, true);
        return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found: nodeqosd serves /metrics, /healthz, /readyz\n");
}

/* libmicrohttpd's messages are about one connection (a client that
 * misbehaved) or its start: debug level; the start's failure is reported
 * by our caller. */
_printf_(2, 0) static void log_mhd(void *cls, const char *fmt, va_list ap) {
        char line[512];
        size_t n;

        (void) vsnprintf(line, sizeof(line), fmt, ap);
        n = strlen(line);
        while (n > 0 && line[n - 1] == '\n')
                line[--n] = 0;
        log_debug("libmicrohttpd: %s", line);
}

/* "host:port" or "[v6]:port" -> a listening socket. */
static int listen_on(const char *listen_addr, int *ret_fd, int *ret_family, const char **ret_reason) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        char host[LISTEN_HOST_MAX];
        const char *colon = strrchr(listen_addr, ':'), *h = listen_addr;
        size_t hlen;
        int fd, one = 1, r;

        *ret_reason = "expected host:port";
        if (!colon)
                return -EINVAL;
        hlen = (size_t) (colon - listen_addr);
        if (h[0] == '[' && hlen >= 2 && colon[-1] == ']') {
                h++;
                hlen -= 2;
        }
        if (hlen == 0 || hlen >= sizeof(host))
                return -EINVAL;
        memcpy(host, h, hlen);
        host[hlen] = 0;

        r = getaddrinfo(host, colon + 1, &hints, &ai);
        if (r != 0) {
                *ret_reason = gai_strerror(r);
                return -EINVAL;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = negative_errno();
                freeaddrinfo(ai);
                return r;
        }
        /* A restarted agent rebinds at once (connections of the previous
         * one may linger in TIME_WAIT); [::1] means IPv6 only. */
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6)
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, METRICS_LISTEN_BACKLOG) < 0) {
                r = negative_errno();
                (void) close(fd);
                freeaddrinfo(ai);
                *ret_reason = NULL;
                return r;
        }
        *ret_family = ai->ai_family;
        freeaddrinfo(ai);
        *ret_fd = fd;
        return 0;
}

MetricsServer *metrics_server_free(MetricsServer *m) {
        if (!m)
                return NULL;
        /* Joins libmicrohttpd's thread: no scrape runs after this. */
        if (m->daemon)
                MHD_stop_daemon(m->daemon);
        if (m->listen_fd >= 0)
                (void) close(m->listen_fd);
        free(m);
        return NULL;
}

static inline void metrics_server_freep(MetricsServer **m) {
        metrics_server_free(*m);
}

int metrics_server_start(const MetricsServerParams *params, MetricsServer **ret, const char **ret_reason) {
        _cleanup_(metrics_server_freep) MetricsServer *m = NULL;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        sigset_t all, old;
        int family = AF_INET, mhd_fd, r;

        *ret_reason = NULL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->listen_fd = -1;
        m->states = params->states;
        m->api = params->api;

        r = listen_on(params->listen, &m->listen_fd, &family, ret_reason);
        if (r < 0)
                return r;
        if (family == AF_INET6)
                flags |= MHD_USE_IPv6;

        /* libmicrohttpd closes the listening socket it is given when it
         * stops, and maybe when it fails to start: it gets a copy, ours is
         * closed by us either way, and no descriptor is closed twice. */
        mhd_fd = fcntl(m->listen_fd, F_DUPFD_CLOEXEC, 3);
        if (mhd_fd < 0)
                return negative_errno();

        /* Signals belong to the loop's signalfd: libmicrohttpd's thread,
         * created now, inherits a mask that blocks them all. */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &old);
        m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
                                     MHD_OPTION_LISTEN_SOCKET, mhd_fd,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_MAX_CONNECTIONS,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) METRICS_CONNECTION_MEMORY,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) METRICS_CONNECTION_TIMEOUT_SEC,
                                     MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
                                     MHD_OPTION_END);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!m->daemon) {
                *ret_reason = "libmicrohttpd did not start (its reason is logged at debug level)";
                return -EIO;
        }
        (void) close(TAKE_FD(m->listen_fd));
        *ret = TAKE_PTR(m);
        return 0;
}
