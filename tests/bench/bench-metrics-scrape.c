/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: the agent's CPU time for one scrape of /metrics on a node of
 * 250 pods x 4 containers (a fixture ApiState with every sensor up and every
 * figure filled), two ways:
 *   render: metrics_render() alone, per scrape, on this thread's CPU clock;
 *   served: whole HTTP scrapes through the real MetricsServer on loopback,
 *           the CPU time of libmicrohttpd's thread (what the agent spends:
 *           render, copy, send) over all of them.
 * Run: tests/bench/metrics-scrape.sh [BUILD_DIR] [-p PODS] [-c PER_POD] [-n SCRAPES] */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "agent/metrics-render.h"
#include "agent/metrics-server.h"
#include "tests/lib/metrics-fixture.h"

/* The goal for 1000 containers. */
#define GOAL_SCRAPE_MSEC 10.0
#define BENCH_PORT_BASE 39830

static double thread_cpu_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void bench_render(const ApiState *st, MetricsFormat f, int n) {
        MetricsSources src = { .state = st, .now_usec = st->built_usec };
        double best = 1e9, worst = 0, total = 0;
        size_t bytes = 0;

        for (int i = 0; i < n; i++) {
                double t0 = thread_cpu_msec(), dt;
                char *out = NULL;

                if (metrics_render(&src, f, &out, &bytes) < 0) {
                        fprintf(stderr, "render failed\n");
                        exit(1);
                }
                dt = thread_cpu_msec() - t0;
                free(out);
                total += dt;
                best = MIN(best, dt);
                worst = MAX(worst, dt);
        }
        printf("render %-11s %zu bytes: %.2f ms CPU mean (%.2f min, %.2f max) over %d; %.2f of the %.0f ms goal\n",
               f == METRICS_FORMAT_TEXT ? "text" : "openmetrics", bytes, total / n, best, worst, n,
               total / n / GOAL_SCRAPE_MSEC, GOAL_SCRAPE_MSEC);
}

/* utime + stime of the thread named comm in this process, in ms. */
static double named_thread_cpu_msec(const char *comm) {
        long ticks = sysconf(_SC_CLK_TCK);
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        double ms = -1;

        while (d && (e = readdir(d))) {
                char path[300], buf[1024], name[64] = "";
                unsigned long utime, stime;
                FILE *f;

                (void) snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(name, sizeof(name), f))
                        name[strcspn(name, "\n")] = 0;
                fclose(f);
                if (strcmp(name, comm) != 0)
                        continue;
                (void) snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
                f = fopen(path, "re");
                /* fields 14 and 15, after the ")" that ends the name */
                if (f && fgets(buf, sizeof(buf), f) && strrchr(buf, ')') &&
                    sscanf(strrchr(buf, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                           &stime) == 2)
                        ms = (double) (utime + stime) * 1000.0 / (double) ticks;
                if (f)
                        fclose(f);
        }
        if (d)
                closedir(d);
        return ms;
}

/* One GET /metrics with Connection: close; the body's size, -1 on error. */
static long scrape(int port, const char *accept) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        char req[256], buf[65536];
        long total = 0;
        ssize_t n;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        n = snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept: %s\r\nConnection: close\r\n\r\n",
                     accept);
        if (write(fd, req, (size_t) n) != n) {
                close(fd);
                return -1;
        }
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                total += n;
        close(fd);
        return total;
}

static void bench_served(ApiState *st, int n) {
        static const char *const accepts[] = { "text/plain;version=0.0.4", "application/openmetrics-text;version=1.0.0" };
        ApiStateBox box;
        MetricsServer *server = NULL;
        const char *reason = NULL;
        char listen[32];
        int port = 0, r = -1;

        api_state_box_init(&box);
        api_state_box_publish(&box, st);
        for (int i = 0; i < 50 && r < 0; i++) {
                port = BENCH_PORT_BASE + (int) (getpid() % 1000) + i;
                (void) snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
                r = metrics_server_start(&(MetricsServerParams) { .listen = listen, .states = &box }, &server, &reason);
        }
        if (r < 0) {
                fprintf(stderr, "cannot start the metrics server: %s\n", reason ?: strerror(-r));
                exit(1);
        }
        /* The thread names itself once it runs. */
        for (int i = 0; i < 100 && named_thread_cpu_msec("MHD-single") < 0; i++)
                (void) usleep(10000);
        for (size_t k = 0; k < ELEMENTSOF(accepts); k++) {
                double before = named_thread_cpu_msec("MHD-single"), after;
                long bytes = 0;

                for (int i = 0; i < n && bytes >= 0; i++)
                        bytes = scrape(port, accepts[k]);
                after = named_thread_cpu_msec("MHD-single");
                if (bytes < 0 || before < 0) {
                        fprintf(stderr, "scrape failed: %s\n", bytes < 0 ? strerror(errno) : "no MHD-single thread");
                        exit(1);
                }
                printf("served %-11s %ld bytes: %.2f ms CPU of the HTTP thread per scrape over %d; %.2f of the %.0f ms goal\n",
                       k == 0 ? "text" : "openmetrics", bytes, (after - before) / n, n,
                       (after - before) / n / GOAL_SCRAPE_MSEC, GOAL_SCRAPE_MSEC);
        }
        metrics_server_free(server);
        api_state_box_done(&box);
}

int main(int argc, char *argv[]) {
        size_t pods = 250, per_pod = 4;
        int scrapes = 100, c;
        ApiState *st;

        while ((c = getopt(argc, argv, "p:c:n:")) >= 0)
                switch (c) {
                case 'p':
                        pods = strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        per_pod = strtoul(optarg, NULL, 10);
                        break;
                case 'n':
                        scrapes = atoi(optarg);
                        break;
                default:
                        fprintf(stderr, "usage: %s [-p PODS] [-c CONTAINERS_PER_POD] [-n SCRAPES]\n", argv[0]);
                        return 2;
                }
        if (scrapes < 1)
                scrapes = 1;

        st = metrics_fixture_state(pods, per_pod);
        if (!st) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        printf("%zu pods x %zu containers (%zu containers), every sensor up\n", pods, per_pod, pods * per_pod);
        bench_render(st, METRICS_FORMAT_TEXT, scrapes);
        bench_render(st, METRICS_FORMAT_OPENMETRICS, scrapes);
        bench_served(st, scrapes);
        api_state_unref(st);
        return 0;
}
