/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "macro.h"
#include "yaml-tree.h"

/* The problems one configuration load found, each a line
 * "file:line:column: message" (or "file: message" without a position). */
typedef struct ConfigErrors {
        char **lines;
        size_t n_lines;
} ConfigErrors;

/* Appends one line. Returns 0 or -ENOMEM. pos NULL: no position. */
_printf_(4, 5) int config_errors_add(ConfigErrors *errors, const char *file, const YamlPosition *pos,
                                     const char *fmt, ...);

void config_errors_clear(ConfigErrors *errors);
