/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The resources the agent shares between latency-sensitive and best-effort
 * work; one controller and one plugin each. */

typedef enum Resource {
        RESOURCE_CPU,
        RESOURCE_MEMORY,
        RESOURCE_IO,
        _RESOURCE_MAX,
        _RESOURCE_INVALID = -1,
} Resource;

/* "cpu", "memory", "io"; NULL for an out-of-range value. */
const char *resource_to_string(Resource r);
