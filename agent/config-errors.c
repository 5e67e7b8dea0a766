/* SPDX-License-Identifier: Apache-2.0 */
#include "config-errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A hostile file could produce an error per line; the operator needs the
 * first few, and memory stays bounded. */
#define CONFIG_ERRORS_MAX 100

int config_errors_add(ConfigErrors *errors, const char *file, const YamlPosition *pos, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        char *line = NULL, **lines;
        va_list ap;
        int r;

        if (errors->n_lines >= CONFIG_ERRORS_MAX)
                return 0;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        if (errors->n_lines + 1 == CONFIG_ERRORS_MAX)
                r = asprintf(&line, "%s: too many errors, not showing more", file);
        else if (pos)
                r = asprintf(&line, "%s:%u:%u: %s", file, pos->line, pos->column, msg);
        else
                r = asprintf(&line, "%s: %s", file, msg);
        if (r < 0)
                return -ENOMEM;

        lines = realloc(errors->lines, (errors->n_lines + 1) * sizeof(char *));
        if (!lines) {
                free(line);
                return -ENOMEM;
        }
        lines[errors->n_lines++] = line;
        errors->lines = lines;
        return 0;
}

void config_errors_clear(ConfigErrors *errors) {
        for (size_t i = 0; i < errors->n_lines; i++)
                free(errors->lines[i]);
        free(errors->lines);
        errors->lines = NULL;
        errors->n_lines = 0;
}
