/* SPDX-License-Identifier: Apache-2.0 */
#include "resource.h"

#include <stddef.h>

static const char *const resource_names[_RESOURCE_MAX] = {
        [RESOURCE_CPU] = "cpu",
        [RESOURCE_MEMORY] = "memory",
        [RESOURCE_IO] = "io",
};

const char *resource_to_string(Resource r) {
        if (r < 0 || r >= _RESOURCE_MAX)
                return NULL;
        return resource_names[r];
}
