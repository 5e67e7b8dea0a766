/* SPDX-License-Identifier: Apache-2.0 */
/* nodeqosctl check-config: the agent's own loader on a file, no agent
 * needed, so a configuration is checked on the machine where it is
 * written before it is deployed. */
#include <errno.h>
#include <stdio.h>

#include "config.h"
#include "ctl-commands.h"
#include "ctl-json.h"
#include "nodeqos-build.h"

int ctl_cmd_check_config(Ctl *ctl, const char *path) {
        _cleanup_(config_freep) Config *c = NULL;
        ConfigErrors errors = {};
        const char *file = path ?: NODEQOS_DEFAULT_CONFIG;
        JsonWriter w;
        int r;

        /* As nodeqosd: a missing default file means the built-in defaults,
         * a file named on the command line must exist. */
        r = config_load(file, path ? 0 : CONFIG_LOAD_MISSING_OK, &c, &errors);
        if (r == -ENOMEM) {
                config_errors_clear(&errors);
                fprintf(stderr, "nodeqosctl: out of memory\n");
                return CTL_EXIT_FAILED;
        }
        if (ctl->json) {
                json_writer_init(&w, stdout, true);
                json_begin_object(&w);
                json_key(&w, "file");
                json_string(&w, file);
                json_key(&w, "ok");
                json_bool(&w, r >= 0);
                json_key(&w, "sources");
                json_begin_array(&w);
                for (size_t i = 0; c && i < c->n_sources; i++)
                        json_string(&w, c->sources[i]);
                json_end_array(&w);
                json_key(&w, "errors");
                json_begin_array(&w);
                for (size_t i = 0; i < errors.n_lines; i++)
                        json_string(&w, errors.lines[i]);
                json_end_array(&w);
                json_end_object(&w);
                json_finish(&w);
        } else {
                for (size_t i = 0; i < errors.n_lines; i++)
                        fprintf(stderr, "%s\n", errors.lines[i]);
                if (r >= 0)
                        printf("configuration OK\n");
        }
        config_errors_clear(&errors);
        return r < 0 ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}
