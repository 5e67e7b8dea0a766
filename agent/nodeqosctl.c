/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl: the operator's view of nodeqosd through its admin socket. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl-commands.h"
#include "nodeqos-build.h"

#define DEFAULT_TIMEOUT_SEC 5.0
#define DEFAULT_TOP_INTERVAL_SEC 2.0

static void help(void) {
        printf("NAME\n"
               "    nodeqosctl - inspect and feed the nodeqos agent (nodeqosd)\n"
               "\n"
               "SYNOPSIS\n"
               "    nodeqosctl [OPTIONS] status\n"
               "    nodeqosctl [OPTIONS] pods [--class CLASS]\n"
               "    nodeqosctl [OPTIONS] top [-d SECONDS] [-n COUNT]\n"
               "    nodeqosctl [OPTIONS] reclaimable\n"
               "    nodeqosctl [OPTIONS] report-latency POD_UID --p99 US --slo US [--app NAME]\n"
               "    nodeqosctl [OPTIONS] check-config [FILE]\n"
               "\n"
               "COMMANDS\n"
               "    status          The agent: version, uptime, tick, dry run, cgroup layout,\n"
               "                    eBPF sensors, per resource the controller's indicator, target,\n"
               "                    budget and PID output, QRM plugin registration, the\n"
               "                    applications' latency reports, API call counters.\n"
               "    pods            Every workload of the last snapshot: class, Kubernetes tier,\n"
               "                    CPU, throttling, memory, IO, CPU pressure, containers.\n"
               "                    --class CLASS lists only system_cores, dedicated_cores,\n"
               "                    shared_cores or reclaimed_cores.\n"
               "    top             status's summary and the busiest pods, redrawn every\n"
               "                    -d SECONDS (default %.0f) until interrupted, or -n COUNT times.\n"
               "                    With -o json: one JSON object per refresh and line.\n"
               "    reclaimable     What best-effort work may use now, per resource: capacity,\n"
               "                    latency-sensitive peak, reserve, reclaimable.\n"
               "    report-latency  Report an application's p99 latency (--p99) and its SLO (--slo),\n"
               "                    both in microseconds, for the pod POD_UID; the CPU controller\n"
               "                    steers on the worst slack among the last reports.\n"
               "    check-config    Load FILE (default %s, with its drop-ins)\n"
               "                    with the agent's own loader and print each error as\n"
               "                    file:line:column: message. Needs no agent.\n"
               "\n"
               "OPTIONS\n"
               "    -s, --socket PATH    The agent's admin socket (default %s).\n"
               "    -o, --output FORMAT  table (default, for people) or json (for scripts: every\n"
               "                         field of the answer under its .proto name).\n"
               "    -t, --timeout SEC    How long to wait for an answer (default %.0f).\n"
               "    -h, --help           This text.\n"
               "        --version        The version.\n"
               "\n"
               "EXIT STATUS\n"
               "    0  success\n"
               "    1  the agent refused or failed the request (the reason is printed), or\n"
               "       check-config found errors\n"
               "    2  bad command line\n"
               "    3  the agent is not reachable: no socket, nobody serving it, or no answer\n"
               "       in time\n"
               "    4  permission denied on the socket (it is root's: run as root)\n",
               DEFAULT_TOP_INTERVAL_SEC, NODEQOS_DEFAULT_CONFIG, "<api.admin_socket>", DEFAULT_TIMEOUT_SEC);
}

/* The admin socket of the built-in configuration (packaging/nodeqos.yaml):
 * where the agent listens unless its configuration says otherwise. */
static char *default_socket(void) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};
        char *s;

        if (config_load_buffer("built-in", config_default_yaml, config_default_yaml_len, &c, &errors) < 0) {
                config_errors_clear(&errors);
                return NULL;
        }
        s = c->admin_socket ? strdup(c->admin_socket) : NULL;
        return s;
}

enum {
        ARG_VERSION = 0x100,
        ARG_P99,
        ARG_SLO,
        ARG_APP,
        ARG_CLASS,
};

typedef struct Args {
        const char *socket_path;
        bool json;
        double timeout_sec;
        double p99, slo;
        bool has_p99, has_slo;
        const char *app, *qos_class;
        double interval_sec;
        bool has_interval;
        long count;
        bool has_count;
} Args;

_printf_(1, 2) static int usage_error(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "nodeqosctl: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'nodeqosctl --help'.\n");
        return CTL_EXIT_USAGE;
}

/* Options may come before or after the command (getopt permutes). Returns
 * -1 to go on, or the exit code. */
static int parse_options(int argc, char *argv[], Args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, 's' },
                { "output", required_argument, NULL, 'o' },
                { "timeout", required_argument, NULL, 't' },
                { "p99", required_argument, NULL, ARG_P99 },
                { "slo", required_argument, NULL, ARG_SLO },
                { "app", required_argument, NULL, ARG_APP },
                { "class", required_argument, NULL, ARG_CLASS },
                { "interval", required_argument, NULL, 'd' },
                { "count", required_argument, NULL, 'n' },
                {}
        };
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "hs:o:t:d:n:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return CTL_EXIT_OK;
                case ARG_VERSION:
                        printf("nodeqosctl %s\n", NODEQOS_VERSION);
                        return CTL_EXIT_OK;
                case 's':
                        a->socket_path = optarg;
                        break;
                case 'o':
                        if (strcmp(optarg, "json") == 0)
                                a->json = true;
                        else if (strcmp(optarg, "table") == 0)
                                a->json = false;
                        else
                                return usage_error("-o: unknown format '%s' (table or json)", optarg);
                        break;
                case 't':
                        if (!ctl_parse_double("--timeout", optarg, &a->timeout_sec))
                                return CTL_EXIT_USAGE;
                        if (a->timeout_sec <= 0 || a->timeout_sec > 3600)
                                return usage_error("--timeout: '%s' is not in (0, 3600] seconds", optarg);
                        break;
                case ARG_P99:
                        if (!ctl_parse_double("--p99", optarg, &a->p99))
                                return CTL_EXIT_USAGE;
                        a->has_p99 = true;
                        break;
                case ARG_SLO:
                        if (!ctl_parse_double("--slo", optarg, &a->slo))
                                return CTL_EXIT_USAGE;
                        a->has_slo = true;
                        break;
                case ARG_APP:
                        a->app = optarg;
                        break;
                case ARG_CLASS:
                        a->qos_class = optarg;
                        break;
                case 'd':
                        if (!ctl_parse_double("-d", optarg, &a->interval_sec))
                                return CTL_EXIT_USAGE;
                        if (a->interval_sec < 0.1 || a->interval_sec > 86400)
                                return usage_error("-d: '%s' is not in [0.1, 86400] seconds", optarg);
                        a->has_interval = true;
                        break;
                case 'n':
                        errno = 0;
                        a->count = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || a->count < 1)
                                return usage_error("-n: '%s' is not a count >= 1", optarg);
                        a->has_count = true;
                        break;
                default:
                        fprintf(stderr, "Try 'nodeqosctl --help'.\n");
                        return CTL_EXIT_USAGE;
                }
        return -1;
}

/* Each command's own options, refused elsewhere (a --p99 given to status
 * is a mistake worth saying). */
static int check_options(const char *command, const Args *a) {
        bool report = strcmp(command, "report-latency") == 0;
        bool top = strcmp(command, "top") == 0;

        if (!report && (a->has_p99 || a->has_slo || a->app))
                return usage_error("--p99, --slo and --app belong to report-latency, not %s", command);
        if (!top && (a->has_interval || a->has_count))
                return usage_error("-d and -n belong to top, not %s", command);
        if (a->qos_class && strcmp(command, "pods") != 0)
                return usage_error("--class belongs to pods, not %s", command);
        return -1;
}

static int operands(const char *command, int n, int min, int max) {
        if (n < min)
                return usage_error("%s: missing operand", command);
        if (n > max)
                return usage_error("%s: too many operands", command);
        return -1;
}

static int run(Ctl *ctl, const Args *a, const char *command, char **ops, int n_ops) {
        int r;

        if (strcmp(command, "check-config") == 0)
                return (r = operands(command, n_ops, 0, 1)) >= 0 ? r : ctl_cmd_check_config(ctl, ops[0]);
        if (strcmp(command, "status") == 0)
                return (r = operands(command, n_ops, 0, 0)) >= 0 ? r : ctl_cmd_status(ctl);
        if (strcmp(command, "pods") == 0)
                return (r = operands(command, n_ops, 0, 0)) >= 0 ? r : ctl_cmd_pods(ctl, a->qos_class);
        if (strcmp(command, "top") == 0)
                return (r = operands(command, n_ops, 0, 0)) >= 0
                               ? r
                               : ctl_cmd_top(ctl, a->has_interval ? a->interval_sec : DEFAULT_TOP_INTERVAL_SEC,
                                             a->has_count ? a->count : 0);
        if (strcmp(command, "reclaimable") == 0)
                return (r = operands(command, n_ops, 0, 0)) >= 0 ? r : ctl_cmd_reclaimable(ctl);
        if (strcmp(command, "report-latency") == 0) {
                r = operands(command, n_ops, 1, 1);
                if (r >= 0)
                        return r;
                if (!a->has_p99 || !a->has_slo)
                        return usage_error("%s needs --p99 US and --slo US", command);
                return ctl_cmd_report_latency(ctl, ops[0], a->app, a->p99, a->slo);
        }
        return usage_error("unknown command '%s'", command);
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *socket_default = NULL;
        Args a = { .timeout_sec = DEFAULT_TIMEOUT_SEC };
        Ctl ctl = {};
        int r;

        r = parse_options(argc, argv, &a);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return usage_error("%s", "no command given");
        r = check_options(argv[optind], &a);
        if (r >= 0)
                return r;

        if (!a.socket_path) {
                socket_default = default_socket();
                if (!socket_default) {
                        fprintf(stderr, "nodeqosctl: the built-in configuration has no admin socket (a bug)\n");
                        return CTL_EXIT_FAILED;
                }
                a.socket_path = socket_default;
        }
        ctl = (Ctl) {
                .socket_path = a.socket_path,
                .json = a.json,
                .timeout_usec = (uint64_t) llround(a.timeout_sec * 1e6),
        };
        r = run(&ctl, &a, argv[optind], argv + optind + 1, argc - optind - 1);
        ctl_done(&ctl);
        return r;
}
