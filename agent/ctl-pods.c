/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl pods and top: the workloads of the last snapshot with their
 * usage, once or refreshed. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl-commands.h"
#include "ctl-format.h"
#include "ctl-json.h"
#include "ctl-table.h"

static double pod_cpu(const Nodeqos__V1__Pod *p) {
        return p->usage && p->usage->cpu ? p->usage->cpu->millicores : 0;
}

static int by_cpu_desc(const void *a, const void *b) {
        double x = pod_cpu(*(Nodeqos__V1__Pod *const *) a), y = pod_cpu(*(Nodeqos__V1__Pod *const *) b);

        return (x < y) - (x > y);
}

static void pod_row(CtlTable *t, const Nodeqos__V1__Pod *p) {
        const Nodeqos__V1__Usage *u = p->usage;
        char a[CTL_FORMAT_MAX], b[CTL_FORMAT_MAX];
        bool rates = u && u->has_rates;

        /* A plain cgroup (classed by a rule) has no UID: its path names it. */
        ctl_table_cell(t, "%s", p->uid[0] ? p->uid : p->cgroup);
        ctl_table_cell(t, "%s", p->qos_class);
        ctl_table_cell(t, "%s", p->kube_tier[0] ? p->kube_tier : "-");
        if (rates && u->cpu) {
                ctl_table_cell(t, "%.0f", u->cpu->millicores);
                ctl_table_cell(t, "%.1f%%", u->cpu->throttled_ratio * 100);
        } else {
                ctl_table_cell(t, "-");
                ctl_table_cell(t, "-");
        }
        if (u && u->memory) {
                ctl_table_cell(t, "%s", ctl_format_bytes(a, (double) u->memory->usage_bytes));
                ctl_table_cell(t, "%s", ctl_format_bytes(b, (double) u->memory->working_set_bytes));
        } else {
                ctl_table_cell(t, "-");
                ctl_table_cell(t, "-");
        }
        if (rates && u->io) {
                ctl_table_cell(t, "%s/s", ctl_format_bytes(a, u->io->read_bytes_per_second));
                ctl_table_cell(t, "%s/s", ctl_format_bytes(b, u->io->write_bytes_per_second));
        } else {
                ctl_table_cell(t, "-");
                ctl_table_cell(t, "-");
        }
        if (u && u->pressure && u->pressure->cpu_some)
                ctl_table_cell(t, "%.2f", u->pressure->cpu_some->avg10);
        else
                ctl_table_cell(t, "-");
        ctl_table_cell(t, "%zu", p->n_containers);
}

void ctl_pods_print(const Nodeqos__V1__ListPodsResponse *r, CtlPodOrder order, size_t limit, FILE *f) {
        static const char *const headers[] = { "POD", "CLASS", "TIER", ">CPU m", ">THROTTLED", ">MEMORY",
                                                ">WORKING SET", ">IO READ", ">IO WRITE", ">CPU PSI10", ">CONTAINERS" };
        _cleanup_(ctl_table_freep) CtlTable *t = ctl_table_new(headers, ELEMENTSOF(headers));
        _cleanup_free_ Nodeqos__V1__Pod **pods = NULL;
        size_t n = r->n_pods;

        if (!t)
                return;
        if (n > 0) {
                pods = malloc(n * sizeof(*pods));
                if (!pods)
                        return;
                memcpy(pods, r->pods, n * sizeof(*pods));
        }
        if (order == CTL_PODS_BY_CPU && n > 1)
                qsort(pods, n, sizeof(*pods), by_cpu_desc);
        if (limit > 0 && n > limit)
                n = limit;
        for (size_t i = 0; i < n; i++)
                pod_row(t, pods[i]);
        ctl_table_print(t, f);
        if (n < r->n_pods)
                fprintf(f, "... and %zu more\n", r->n_pods - n);
}

static int list_pods(Ctl *ctl, const char *qos_class, Nodeqos__V1__ListPodsResponse **ret) {
        Nodeqos__V1__ListPodsRequest req = NODEQOS__V1__LIST_PODS_REQUEST__INIT;

        req.qos_class = (char *) (qos_class ?: "");
        return ctl_call(ctl, "/nodeqos.v1.Admin/ListPods", &req.base, &nodeqos__v1__list_pods_response__descriptor,
                        (ProtobufCMessage **) ret);
}

int ctl_cmd_pods(Ctl *ctl, const char *qos_class) {
        Nodeqos__V1__ListPodsResponse *resp = NULL;
        int r;

        r = list_pods(ctl, qos_class, &resp);
        if (r != CTL_EXIT_OK)
                return r;
        if (ctl->json)
                ctl_print_json(&resp->base);
        else {
                printf("tick %" PRIu64 ": %zu workloads\n", resp->tick, resp->n_pods);
                ctl_pods_print(resp, CTL_PODS_AS_LISTED, 0, stdout);
        }
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        return CTL_EXIT_OK;
}

/* The rows a terminal shows below top's header (6 lines); all when
 * stdout is not a terminal. */
static size_t terminal_rows_for_pods(void) {
        const char *lines = getenv("LINES");
        long n;

        if (!isatty(STDOUT_FILENO))
                return 0;
        n = lines ? strtol(lines, NULL, 10) : 24;
        return n > 8 ? (size_t) n - 7 : 1;
}

static void sleep_sec(double sec) {
        struct timespec ts = { .tv_sec = (time_t) sec, .tv_nsec = (long) ((sec - (double) (time_t) sec) * 1e9) };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* One refresh of top; as one JSON line per refresh with -o json (JSON
 * Lines, for a script that follows the agent). */
static int top_once(Ctl *ctl, bool clear) {
        Nodeqos__V1__GetStatusRequest sreq = NODEQOS__V1__GET_STATUS_REQUEST__INIT;
        Nodeqos__V1__ListPodsResponse *pods = NULL;
        ProtobufCMessage *status = NULL;
        JsonWriter w;
        int r;

        r = ctl_call(ctl, "/nodeqos.v1.Admin/GetStatus", &sreq.base, &nodeqos__v1__status__descriptor, &status);
        if (r != CTL_EXIT_OK)
                return r;
        r = list_pods(ctl, NULL, &pods);
        if (r != CTL_EXIT_OK) {
                protobuf_c_message_free_unpacked(status, NULL);
                return r;
        }
        if (ctl->json) {
                json_writer_init(&w, stdout, false);
                json_begin_object(&w);
                json_key(&w, "status");
                json_message(&w, status);
                json_key(&w, "pods");
                json_message(&w, &pods->base);
                json_end_object(&w);
                json_finish(&w);
        } else {
                if (clear)
                        fputs("\033[H\033[J", stdout); /* home, clear to the end */
                ctl_status_print_summary((const Nodeqos__V1__Status *) status, stdout);
                fputc('\n', stdout);
                ctl_pods_print(pods, CTL_PODS_BY_CPU, terminal_rows_for_pods(), stdout);
                fflush(stdout);
        }
        protobuf_c_message_free_unpacked(status, NULL);
        protobuf_c_message_free_unpacked(&pods->base, NULL);
        return CTL_EXIT_OK;
}

int ctl_cmd_top(Ctl *ctl, double interval_sec, long count) {
        /* Redrawing in place only makes sense on a terminal; piped, each
         * refresh follows the previous one, apart by a blank line. */
        bool tty = isatty(STDOUT_FILENO);

        for (long i = 0; count <= 0 || i < count; i++) {
                int r;

                if (i > 0) {
                        sleep_sec(interval_sec);
                        if (!tty && !ctl->json)
                                fputc('\n', stdout);
                }
                r = top_once(ctl, tty && !ctl->json);
                if (r != CTL_EXIT_OK)
                        return r;
        }
        return CTL_EXIT_OK;
}
