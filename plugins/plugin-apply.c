/* SPDX-License-Identifier: Apache-2.0 */
#include "plugin-apply.h"

#include <errno.h>

void plugin_apply_count(PluginApplyCounts *counts, int r, int *first_error) {
        if (r > 0)
                counts->written++;
        else if (r == 0)
                counts->unchanged++;
        else if (r != -ENOENT) {
                counts->failed++;
                if (*first_error == 0)
                        *first_error = r;
        }
}
