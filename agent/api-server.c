/* SPDX-License-Identifier: Apache-2.0 */
#include "api-server.h"

#include <errno.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "api-health.h"
#include "api-server-private.h"
#include "log.h"
#include "unix-socket.h"

/* Calls gRPC may hand over at once per endpoint before the thread has
 * posted the next request: a burst of the kubelet's reconcile calls waits
 * in gRPC for less. */
#define API_REQUESTS_POSTED 4
/* SIGTERM must end the agent within 2 s (the unit's and the tests' bound):
 * calls in flight get this long to finish before they are cancelled. */
#define API_STOP_GRACE_USEC (500 * 1000ULL)

/* ---- set-up ---- */

/* gRPC's own messages go to our log (journald fields, our levels), not
 * straight to stderr. Its errors are about one call or connection, which
 * the agent survives: warnings. Its info lines are for debugging gRPC. */
static void log_grpc(gpr_log_func_args *args) {
        int level = args->severity == GPR_LOG_SEVERITY_ERROR ? LOG_WARNING : LOG_DEBUG;

        log_full_errno(level, 0, "gRPC: %s (%s:%d)", args->message, args->file, args->line);
}

int api_server_new(const ApiServerParams *params, ApiServer **ret) {
        pthread_condattr_t attr;
        ApiServer *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(params->event);
        s->lock_fd = params->instance_lock_fd;
        s->states = params->states;
        s->max_receive_bytes = params->max_receive_bytes ?: API_MAX_RECEIVE_BYTES;
        s->queue_fd = -1;
        (void) pthread_mutex_init(&s->lock, NULL);
        /* The stop's grace is measured on the monotonic clock. */
        (void) pthread_condattr_init(&attr);
        (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        (void) pthread_cond_init(&s->cond, &attr);
        (void) pthread_condattr_destroy(&attr);
        atomic_init(&s->n_calls, 0);
        atomic_init(&s->n_failed, 0);

        gpr_set_log_function(log_grpc);
        grpc_init();
        s->grpc_initialised = true;
        *ret = s;
        return 0;
}

static ApiEndpoint *endpoint_free(ApiEndpoint *e) {
        if (!e)
                return NULL;
        rpc_method_table_done(&e->methods);
        free(e->call_counters);
        free(e->name);
        free(e->socket_path);
        free(e);
        return NULL;
}

ApiServer *api_server_free(ApiServer *s) {
        if (!s)
                return NULL;
        api_server_stop(s);
        for (size_t i = 0; i < s->n_endpoints; i++)
                endpoint_free(s->endpoints[i]);
        free(s->endpoints);
        sd_event_source_disable_unref(s->queue_source);
        if (s->queue_fd >= 0)
                (void) close(s->queue_fd);
        sd_event_unref(s->event);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        /* Blocking: gRPC's own threads and memory are gone when we return
         * (the sanitizers' leak check runs at exit). */
        if (s->grpc_initialised)
                grpc_shutdown_blocking();
        free(s);
        return NULL;
}

int api_server_add_endpoint(ApiServer *s, const char *name, const char *socket_path,
                            const ProtobufCServiceDescriptor *const *services, size_t n_services,
                            ApiEndpoint **ret) {
        ApiEndpoint *e, **n;
        int r;

        if (s->started)
                return -EBUSY;
        for (size_t i = 0; i < s->n_endpoints; i++)
                if (streq_ptr(s->endpoints[i]->socket_path, socket_path))
                        return -EEXIST;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->server = s;
        e->tag_shutdown = (Tag) { TAG_SHUTDOWN, e };
        e->name = strdup(name);
        e->socket_path = strdup(socket_path);
        if (!e->name || !e->socket_path) {
                endpoint_free(e);
                return -ENOMEM;
        }

        r = health_service_install(&e->methods, &e->health);
        for (size_t i = 0; r >= 0 && i < n_services; i++)
                r = rpc_method_table_add_service(&e->methods, services[i]);
        if (r < 0) {
                endpoint_free(e);
                return r;
        }

        n = realloc(s->endpoints, (s->n_endpoints + 1) * sizeof(*n));
        if (!n) {
                endpoint_free(e);
                return -ENOMEM;
        }
        s->endpoints = n;
        s->endpoints[s->n_endpoints++] = e;
        if (ret)
                *ret = e;
        return 0;
}

int api_endpoint_handle(ApiEndpoint *e, const char *path, RpcThread thread, RpcHandler handler, void *userdata) {
        if (e->server->started)
                return -EBUSY;
        return rpc_method_table_set_handler(&e->methods, path, thread, handler, userdata);
}

RpcMethodTable *api_endpoint_methods(ApiEndpoint *e) {
        return &e->methods;
}

int api_server_set_commit_hook(ApiServer *s, ApiCommitHook hook, void *userdata) {
        if (s->started)
                return -EBUSY;
        s->commit_hook = hook;
        s->commit_userdata = userdata;
        return 0;
}

const char *api_endpoint_name(const ApiEndpoint *e) {
        return e->name;
}

const char *api_endpoint_socket(const ApiEndpoint *e) {
        return e->socket_path;
}

void api_server_counters(ApiServer *s, uint64_t *ret_calls, uint64_t *ret_failed) {
        if (ret_calls)
                *ret_calls = atomic_load(&s->n_calls);
        if (ret_failed)
                *ret_failed = atomic_load(&s->n_failed);
}

void api_server_visit_call_stats(ApiServer *s, ApiCallStatsVisitor visit, void *userdata) {
        ApiCallTotals t;

        for (size_t i = 0; s && i < s->n_endpoints; i++) {
                const ApiEndpoint *e = s->endpoints[i];

                if (!e->call_counters)
                        continue;
                for (size_t m = 0; m <= e->methods.n_methods; m++) {
                        /* Streams are not counted (count_call()). */
                        if (m < e->methods.n_methods && e->methods.methods[m].server_streaming)
                                continue;
                        api_call_counters_read(&e->call_counters[m], &t);
                        visit(e->name, m < e->methods.n_methods ? e->methods.methods[m].path : NULL, &t, userdata);
                }
        }
}

int api_server_start(ApiServer *s, const char **ret_failed_path) {
        int r = 0;

        if (s->started)
                return -EBUSY;

        /* Binding takes any stale socket over, so only the holder of the
         * agent's instance lock may do it. flock() on the fd we hold
         * succeeds; one that does not hold it fails against the holder. */
        if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return -ENOLCK;

        for (size_t i = 0; i < s->n_endpoints; i++) {
                r = unix_socket_check_free(s->endpoints[i]->socket_path);
                if (r < 0) {
                        if (ret_failed_path)
                                *ret_failed_path = s->endpoints[i]->socket_path;
                        return r;
                }
        }

        /* The method tables are final now: one counter set per method. */
        for (size_t i = 0; i < s->n_endpoints; i++) {
                ApiEndpoint *e = s->endpoints[i];

                e->call_counters = calloc(e->methods.n_methods + 1, sizeof(ApiCallCounters));
                if (!e->call_counters)
                        return -ENOMEM;
        }

        s->queue_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->queue_fd < 0)
                return negative_errno();
        r = sd_event_add_io(s->event, &s->queue_source, s->queue_fd, EPOLLIN, on_loop_queue, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->queue_source, "grpc-loop-calls");

        s->cq = grpc_completion_queue_create_for_next(NULL);
        if (!s->cq)
                return -ENOMEM;
        /* The thread first: from here on api_server_stop() can wind down
         * whatever the rest of the start got to. */
        r = start_thread(s);
        if (r < 0) {
                grpc_completion_queue_shutdown(s->cq);
                while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                       GRPC_QUEUE_SHUTDOWN)
                        ;
                grpc_completion_queue_destroy(s->cq);
                s->cq = NULL;
                return r;
        }
        s->started = true;

        for (size_t i = 0; i < s->n_endpoints && r >= 0; i++) {
                r = endpoint_bind(s->endpoints[i]);
                if (r < 0 && ret_failed_path)
                        *ret_failed_path = s->endpoints[i]->socket_path;
        }

        /* Those bound are started even after a failure, so that one stop
         * path (shutdown, then destroy) serves both cases. */
        for (size_t i = 0; i < s->n_endpoints; i++) {
                ApiEndpoint *e = s->endpoints[i];

                if (!e->grpc)
                        continue;
                grpc_server_start(e->grpc);
                for (unsigned k = 0; k < API_REQUESTS_POSTED && r >= 0; k++)
                        r = endpoint_post_request(e);
        }
        if (r < 0) {
                api_server_stop(s);
                return r;
        }
        return 0;
}

/* Waits until n endpoints have shut down, until deadline (0: for ever).
 * Returns whether they all did. */
static bool wait_shutdowns_locked(ApiServer *s, size_t n, uint64_t deadline_usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (deadline_usec / 1000000),
                .tv_nsec = (long) (deadline_usec % 1000000) * 1000,
        };

        while (s->n_shutdowns < n) {
                if (deadline_usec == 0)
                        pthread_cond_wait(&s->cond, &s->lock);
                else if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
                        return s->n_shutdowns >= n;
        }
        return true;
}

void api_server_stop(ApiServer *s) {
        ServerCall *queued;
        size_t n_servers = 0;
        bool all;

        if (!s || !s->started || s->stopped)
                return;
        s->stopped = true;

        /* From here on, no call reaches the loop queue, and new calls and
         * health checks are told the agent is going. */
        for (size_t i = 0; i < s->n_endpoints; i++)
                atomic_store(&s->endpoints[i]->health.stopping, true);
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        queued = s->queue_head;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        /* Accepted but not run: the loop is gone, so the client learns the
         * change was not made. */
        while (queued) {
                ServerCall *next = queued->next;

                call_finish(queued, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                queued = next;
        }

        for (size_t i = 0; i < s->n_endpoints; i++)
                if (s->endpoints[i]->grpc) {
                        grpc_server_shutdown_and_notify(s->endpoints[i]->grpc, s->cq, &s->endpoints[i]->tag_shutdown);
                        n_servers++;
                }

        pthread_mutex_lock(&s->lock);
        for (ServerCall *w = s->watches; w; w = w->next)
                watch_end_locked(w);
        all = wait_shutdowns_locked(s, n_servers, api_monotonic_usec() + API_STOP_GRACE_USEC);
        pthread_mutex_unlock(&s->lock);

        if (!all) {
                log_debug("gRPC calls still in flight after %llu ms, cancelling them.",
                          (unsigned long long) (API_STOP_GRACE_USEC / 1000));
                for (size_t i = 0; i < s->n_endpoints; i++)
                        if (s->endpoints[i]->grpc)
                                grpc_server_cancel_all_calls(s->endpoints[i]->grpc);
                pthread_mutex_lock(&s->lock);
                (void) wait_shutdowns_locked(s, n_servers, 0);
                pthread_mutex_unlock(&s->lock);
        }

        /* Every server is down, so nothing new can arrive: let the thread
         * drain what is left and end. */
        grpc_completion_queue_shutdown(s->cq);
        (void) pthread_join(s->thread, NULL);
        s->thread_running = false;

        for (size_t i = 0; i < s->n_endpoints; i++) {
                ApiEndpoint *e = s->endpoints[i];

                if (e->grpc) {
                        grpc_server_destroy(e->grpc);
                        e->grpc = NULL;
                }
                /* The kubelet takes a vanished socket as a deregistered
                 * plugin; and a stale file would only mislead. */
                if (e->bound) {
                        (void) unix_socket_unlink(e->socket_path);
                        e->bound = false;
                }
        }
        grpc_completion_queue_destroy(s->cq);
        s->cq = NULL;
        s->queue_source = sd_event_source_disable_unref(s->queue_source);
}
