/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the configuration loader: one document on top of the built-in
 * defaults, as a main file without drop-ins would be loaded. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

/* config_load() refuses files larger than this before parsing; inputs the
 * daemon can never see would only slow the fuzzer down. Keep in step with
 * CONFIG_FILE_MAX_BYTES in agent/config.c. */
#define FUZZ_CONFIG_MAX_BYTES (256 * 1024)

#define FUZZ_CONFIG_NAME "fuzz.yaml"

static void check_config(const Config *c) {
        FUZZ_CHECK(c->tick_interval_usec > 0);
        FUZZ_CHECK(c->runtime_dir);
        FUZZ_CHECK(c->cgroup_mount);
        FUZZ_CHECK(c->admin_socket);
        FUZZ_CHECK(c->kubelet_plugin_dir);
        FUZZ_CHECK(c->state_dir);
        FUZZ_CHECK(c->metrics_listen);
        FUZZ_CHECK(c->n_cgroup_extra_roots == 0 || c->cgroup_extra_roots);
        for (size_t i = 0; i < c->n_cgroup_extra_roots; i++)
                FUZZ_CHECK(c->cgroup_extra_roots[i]);
        FUZZ_CHECK(c->n_qos_rules == 0 || c->qos_rules);
        for (size_t i = 0; i < c->n_qos_rules; i++)
                FUZZ_CHECK(c->qos_rules[i].match);
        FUZZ_CHECK(c->n_sources == 0 || c->sources);
        for (size_t i = 0; i < c->n_sources; i++)
                FUZZ_CHECK(c->sources[i]);
}

static void check_errors(const ConfigErrors *errors) {
        const size_t prefix_len = strlen(FUZZ_CONFIG_NAME);

        FUZZ_CHECK(errors->n_lines > 0);
        FUZZ_CHECK(errors->lines);
        for (size_t i = 0; i < errors->n_lines; i++) {
                const char *l = errors->lines[i];

                /* Errors must point into the file given, never at the built-in
                 * defaults or at nothing. */
                FUZZ_CHECK(l);
                if (strncmp(l, FUZZ_CONFIG_NAME, prefix_len) != 0 || l[prefix_len] != ':') {
                        fprintf(stderr, "fuzz-config: error line not about " FUZZ_CONFIG_NAME ": %s\n", l);
                        fuzz_check_failed(__FILE__, __LINE__, "error line starts with the file name and ':'");
                }
                /* Lines go to the journal and terminals as they are: text from
                 * the file must not bring newlines or escape sequences along. */
                for (const char *p = l; *p; p++)
                        if (iscntrl((unsigned char) *p)) {
                                fprintf(stderr, "fuzz-config: control character 0x%02x in error line: ",
                                        (unsigned) (unsigned char) *p);
                                for (const char *q = l; *q; q++)
                                        fputc(iscntrl((unsigned char) *q) ? '?' : *q, stderr);
                                fputc('\n', stderr);
                                fuzz_check_failed(__FILE__, __LINE__, "error lines hold no control characters");
                        }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ConfigErrors errors = {};
        Config *config = NULL;
        int r;

        if (size > FUZZ_CONFIG_MAX_BYTES)
                return 0;

        r = config_load_buffer(FUZZ_CONFIG_NAME, (const char *) data, size, &config, &errors);
        switch (r) {
        case 0:
                FUZZ_CHECK(config);
                FUZZ_CHECK(errors.n_lines == 0);
                check_config(config);
                break;
        case -EINVAL:
                /* ret_* parameters are written only on success. */
                FUZZ_CHECK(!config);
                check_errors(&errors);
                break;
        case -ENOMEM:
                FUZZ_CHECK(!config);
                break;
        default:
                fprintf(stderr, "fuzz-config: config_load_buffer() returned %d\n", r);
                fuzz_check_failed(__FILE__, __LINE__, "config_load_buffer() returns 0, -EINVAL or -ENOMEM");
        }

        config_free(config);
        config_errors_clear(&errors);
        return 0;
}
