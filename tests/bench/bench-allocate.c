/* SPDX-License-Identifier: Apache-2.0 */
/* Allocate latency of the QRM cpu plugin over its unix socket, at a fixed
 * open-loop rate (tests/bench/allocate-latency.sh runs it against a
 * daemon of its own):
 *
 *   bench-allocate SOCKET [RATE_PER_SEC [SECONDS [LIVE]]]
 *
 * Each request has its own pod UID (a new shared_cores pod, as the kubelet
 * admits them) and a send time fixed in advance; its latency is measured
 * from that time, so a slow answer that delays the next sends counts in
 * theirs too (no coordinated omission). The pods are removed afterwards
 * (RemovePod, timed as well). With LIVE > 0 the node keeps about LIVE pods:
 * after each Allocate the pod LIVE before it is removed, in the same time
 * slot (pods come and go as on a real node, whose --max-pods is ~110). The client is gRPC C core on one channel,
 * one call at a time: at 200/s a call has 5 ms before the next is due. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ctl-client.h"
#include "agent/macro.h"
#include "resourceplugin.pb-c.h"

#define GOAL_USEC 1000.0
#define WARMUP_CALLS 50
#define TIMEOUT_USEC (10 * 1000000ULL)

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void sleep_until_nsec(uint64_t t) {
        struct timespec ts = { .tv_sec = (time_t) (t / 1000000000ULL), .tv_nsec = (long) (t % 1000000000ULL) };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

/* The q-quantile of sorted values (nearest rank). */
static double quantile(const double *sorted, size_t n, double q) {
        size_t rank = (size_t) ceil(q * (double) n);

        return n == 0 ? NAN : sorted[rank == 0 ? 0 : MIN(rank, n) - 1];
}

static void report(const char *what, double *usec, size_t n) {
        qsort(usec, n, sizeof(*usec), cmp_double);
        printf("%-36s p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  max %7.3f ms\n", what,
               quantile(usec, n, 0.5) / 1000, quantile(usec, n, 0.99) / 1000, quantile(usec, n, 0.999) / 1000,
               n ? usec[n - 1] / 1000 : NAN);
}

static int call(CtlClient *c, const char *method, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *out,
                char *error, size_t error_size) {
        CtlCallResult r;

        if (ctl_client_call(c, method, req, out, TIMEOUT_USEC, &r) < 0) {
                snprintf(error, error_size, "out of memory");
                return -ENOMEM;
        }
        ctl_call_result_done(&r);
        if (r.status != GRPC_STATUS_OK) {
                snprintf(error, error_size, "status %d: %s", (int) r.status, r.details);
                return -EIO;
        }
        return 0;
}

static int allocate(CtlClient *c, const char *uid, char *error, size_t error_size) {
        Resourceplugin__V1alpha1__ResourceRequest req = RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__ResourceRequestsEntry cpu =
                RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__RESOURCE_REQUESTS_ENTRY__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__AnnotationsEntry qos =
                RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__ANNOTATIONS_ENTRY__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__ResourceRequestsEntry *cpus[] = { &cpu };
        Resourceplugin__V1alpha1__ResourceRequest__AnnotationsEntry *annotations[] = { &qos };

        /* As test-daemon-qrm.py builds them: a MAIN container of a shared pod. */
        req.pod_uid = (char *) uid;
        req.pod_namespace = (char *) "default";
        req.pod_name = (char *) "bench";
        req.container_name = (char *) "app";
        req.container_type = RESOURCEPLUGIN__V1ALPHA1__CONTAINER_TYPE__MAIN;
        req.resource_name = (char *) "cpu";
        cpu.key = (char *) "cpu";
        cpu.value = 0.1;
        req.resource_requests = cpus;
        req.n_resource_requests = 1;
        qos.key = (char *) "katalyst.kubewharf.io/qos_level";
        qos.value = (char *) "shared_cores";
        req.annotations = annotations;
        req.n_annotations = 1;
        return call(c, "/resourceplugin.v1alpha1.ResourcePlugin/Allocate", &req.base,
                    &resourceplugin__v1alpha1__resource_allocation_response__descriptor, error, error_size);
}

static int remove_pod(CtlClient *c, const char *uid, char *error, size_t error_size) {
        Resourceplugin__V1alpha1__RemovePodRequest req = RESOURCEPLUGIN__V1ALPHA1__REMOVE_POD_REQUEST__INIT;

        req.pod_uid = (char *) uid;
        return call(c, "/resourceplugin.v1alpha1.ResourcePlugin/RemovePod", &req.base,
                    &resourceplugin__v1alpha1__remove_pod_response__descriptor, error, error_size);
}

int main(int argc, char *argv[]) {
        _cleanup_(ctl_client_freep) CtlClient *c = NULL;
        _cleanup_free_ double *latency = NULL, *service = NULL, *removal = NULL;
        double rate = argc > 2 ? atof(argv[2]) : 200, seconds = argc > 3 ? atof(argv[3]) : 20;
        long live = argc > 4 ? atol(argv[4]) : 0;
        char reason[512], error[600], uid[64];
        uint64_t period, start, late = 0;
        size_t n, errors = 0;

        if (argc < 2 || argc > 5 || !(rate > 0 && rate <= 100000) || !(seconds > 0 && seconds <= 3600) || live < 0) {
                fprintf(stderr, "usage: bench-allocate SOCKET [RATE_PER_SEC [SECONDS [LIVE]]]\n");
                return 2;
        }
        n = (size_t) llround(rate * seconds);
        period = (uint64_t) llround(1e9 / rate);
        latency = calloc(n, sizeof(double));
        service = calloc(n, sizeof(double));
        removal = calloc(n, sizeof(double));
        if (!latency || !service || !removal || ctl_client_new(argv[1], &c, reason, sizeof(reason)) < 0) {
                fprintf(stderr, "bench-allocate: %s\n", c ? "out of memory" : reason);
                return 1;
        }

        /* The connection and the daemon's first-call costs, not measured. */
        for (int i = 0; i < WARMUP_CALLS; i++) {
                snprintf(uid, sizeof(uid), "warmup-%d-%d", (int) getpid(), i);
                if (allocate(c, uid, error, sizeof(error)) < 0 || remove_pod(c, uid, error, sizeof(error)) < 0) {
                        fprintf(stderr, "bench-allocate: warm-up call failed: %s\n", error);
                        return 1;
                }
        }

        start = now_nsec() + 10 * 1000000ULL;
        for (size_t i = 0; i < n; i++) {
                uint64_t due = start + i * period, sent, done;

                sleep_until_nsec(due);
                sent = now_nsec();
                if (sent > due + (uint64_t) (GOAL_USEC * 1000))
                        late++; /* the previous answers held this one back */
                snprintf(uid, sizeof(uid), "bench-%d-%zu", (int) getpid(), i);
                if (allocate(c, uid, error, sizeof(error)) < 0 && errors++ == 0)
                        fprintf(stderr, "bench-allocate: Allocate %s: %s\n", uid, error);
                done = now_nsec();
                latency[i] = (double) (done - due) / 1000;
                service[i] = (double) (done - sent) / 1000;
                if (live > 0 && i >= (size_t) live) {
                        snprintf(uid, sizeof(uid), "bench-%d-%zu", (int) getpid(), i - (size_t) live);
                        if (remove_pod(c, uid, error, sizeof(error)) < 0 && errors++ == 0)
                                fprintf(stderr, "bench-allocate: RemovePod %s: %s\n", uid, error);
                        removal[i - (size_t) live] = (double) (now_nsec() - done) / 1000;
                }
        }
        for (size_t i = live > 0 && n > (size_t) live ? n - (size_t) live : 0; i < n; i++) {
                uint64_t t0 = now_nsec();

                snprintf(uid, sizeof(uid), "bench-%d-%zu", (int) getpid(), i);
                if (remove_pod(c, uid, error, sizeof(error)) < 0 && errors++ == 0)
                        fprintf(stderr, "bench-allocate: RemovePod %s: %s\n", uid, error);
                removal[i] = (double) (now_nsec() - t0) / 1000;
        }

        printf("Allocate on %s: %zu requests at %.0f/s for %.1f s (open loop), %s%zu errors, %" PRIu64
               " sent over 1 ms late\n", argv[1], n, rate, seconds, live > 0 ? "pods removed as they go, " : "",
               errors, late);
        if (live > 0)
                printf("(about %ld live pods at a time)\n", live);
        report("latency from the scheduled send:", latency, n);
        report("service time from the actual send:", service, n);
        report(live > 0 ? "RemovePod:" : "RemovePod (back to back, at the end):", removal, n);
        printf("Allocate p99 / goal (1 ms): %.2f\n", quantile(latency, n, 0.99) / GOAL_USEC);
        return errors ? 1 : 0;
}
