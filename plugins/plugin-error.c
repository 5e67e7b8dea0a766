/* SPDX-License-Identifier: Apache-2.0 */
#include "plugin-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int plugin_error_set(PluginError *e, int error, const char *fmt, ...) {
        int r = -abs(error);

        if (e) {
                va_list ap;

                va_start(ap, fmt);
                (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
                va_end(ap);
                e->error = r;
        }
        return r;
}
