/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Why a kubelet-hook request was refused, in words the caller can log or
 * send back to the kubelet (library code does not log above debug). The
 * functions that take one return -errno and fill it; NULL is allowed. */

#include "agent/macro.h"

#define PLUGIN_ERROR_MAX 256

typedef struct PluginError {
        int error;                      /* the negative errno returned */
        char message[PLUGIN_ERROR_MAX]; /* one sentence, no trailing newline */
} PluginError;

/* Fills e (if not NULL) and returns -abs(error). */
_printf_(3, 4) int plugin_error_set(PluginError *e, int error, const char *fmt, ...);

static inline void plugin_error_clear(PluginError *e) {
        if (e)
                *e = (PluginError) {};
}
