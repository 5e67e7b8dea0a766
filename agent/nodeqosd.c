/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosd: the node-level colocation QoS agent. main() only: options, the
 * configuration, the single-instance lock; the rest lives in manager.c. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "instance-lock.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "nodeqos-build.h"

static const char *arg_config = NULL;
static bool arg_check_config = false;

static void help(void) {
        printf("Usage: nodeqosd [OPTIONS]\n"
               "\n"
               "Node-level colocation QoS agent: gives best-effort workloads what the\n"
               "latency-sensitive ones leave idle, and takes it back under pressure.\n"
               "\n"
               "  -c --config=PATH     Configuration file (default %s;\n"
               "                       if that is missing, built-in defaults). Drop-ins in\n"
               "                       PATH-without-.yaml.d/*.yaml are applied after it.\n"
               "     --check-config    Check the configuration, print \"configuration OK\" or\n"
               "                       the errors, and exit 0 or 1\n"
               "     --log-level=LEVEL debug, info, notice, warning or err (default info)\n"
               "     --version         Show the version and exit\n"
               "  -h --help            Show this help and exit\n"
               "\n"
               "Signals: SIGHUP reloads the configuration, SIGTERM/SIGINT stop.\n",
               NODEQOS_DEFAULT_CONFIG);
}

enum {
        ARG_CHECK_CONFIG = 0x100,
        ARG_LOG_LEVEL,
        ARG_VERSION,
};

/* Returns 1 to go on, 0 to exit successfully, -EINVAL on a usage error. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, level;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr, "nodeqosd: invalid --log-level '%s': expected debug, info, "
                                                "notice, warning or err\n", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_VERSION:
                        printf("nodeqosd %s\n", NODEQOS_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        fprintf(stderr, "Try 'nodeqosd --help'.\n");
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "nodeqosd: unexpected argument '%s'. Try 'nodeqosd --help'.\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int check_config(const char *path, bool is_default) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};
        int r;

        r = config_load(path, is_default ? CONFIG_LOAD_MISSING_OK : 0, &c, &errors);
        for (size_t i = 0; i < errors.n_lines; i++)
                fprintf(stderr, "%s\n", errors.lines[i]);
        config_errors_clear(&errors);
        if (r == -ENOMEM) {
                fprintf(stderr, "nodeqosd: out of memory\n");
                return EXIT_FAILURE;
        }
        if (r < 0)
                return EXIT_FAILURE;
        printf("configuration OK\n");
        return EXIT_SUCCESS;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_close_ int lock_fd = -1;
        ConfigErrors errors = {};
        const char *path;
        bool is_default;
        pid_t holder = 0;
        sigset_t mask;
        int r;

        log_open();

        /* Until the event loop takes them over, a SIGHUP or SIGTERM must not
         * kill us with its default action: block them now, and the loop's
         * signalfd receives what arrived in the meantime. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        is_default = !arg_config;
        path = arg_config ?: NODEQOS_DEFAULT_CONFIG;

        if (arg_check_config)
                return check_config(path, is_default);

        r = config_load(path, is_default ? CONFIG_LOAD_MISSING_OK : 0, &c, &errors);
        if (r < 0) {
                for (size_t i = 0; i < errors.n_lines; i++)
                        log_error("%s", errors.lines[i]);
                config_errors_clear(&errors);
                log_error_errno(r, "Cannot start with this configuration: %m");
                return EXIT_FAILURE;
        }

        lock_fd = instance_lock_acquire(c->runtime_dir, &holder);
        if (lock_fd == -EBUSY) {
                if (holder > 0)
                        log_error("Another nodeqosd is running (pid %d, lock %s/nodeqosd.lock); refusing to start a second one.",
                                  (int) holder, c->runtime_dir);
                else
                        log_error("Another nodeqosd is running (lock %s/nodeqosd.lock is held); refusing to start a second one.",
                                  c->runtime_dir);
                return EXIT_FAILURE;
        }
        if (lock_fd < 0) {
                log_error_errno(lock_fd, "Cannot take the instance lock in %s: %m", c->runtime_dir);
                return EXIT_FAILURE;
        }

        r = manager_new(path, is_default, TAKE_PTR(c), TAKE_FD(lock_fd), &m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }

        r = manager_start(m);
        if (r < 0)
                return EXIT_FAILURE;

        r = manager_run(m);
        if (r < 0) /* a signal's way out has said STOPPING=1 already */
                (void) sd_notify(false, "STOPPING=1");
        log_info("Stopped.");
        return r < 0 ? EXIT_FAILURE : r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv);
}
