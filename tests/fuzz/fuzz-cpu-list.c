/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the kernel cpu list parser and formatter (plugins/cpu-topology.h):
 * cpuset strings come from sysfs, from kubelet-hook requests and from the
 * QRM checkpoint. Invariants: a parse that fails writes nothing; what
 * parses formats to a canonical text that parses back to the same set and
 * formats the same again; a final '\n' changes nothing. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "plugins/cpu-topology.h"

/* Longer lists only repeat what shorter ones exercise. */
#define FUZZ_CPU_LIST_MAX_BYTES (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        CpuMask m, back, untouched;
        char *formatted = NULL, *again = NULL;
        size_t n;
        int r;

        if (size > FUZZ_CPU_LIST_MAX_BYTES)
                return 0;

        memset(&m, 0xa5, sizeof(m));
        untouched = m;
        r = cpu_list_parse(text, size, &m);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);

        /* With or without a final newline: the same answer. */
        if (size == 0 || text[size - 1] != '\n') {
                char *copy = malloc(size + 1);
                CpuMask with_nl;

                if (!copy)
                        return 0;
                memcpy(copy, text, size);
                copy[size] = '\n';
                FUZZ_CHECK(cpu_list_parse(copy, size + 1, &with_nl) == r);
                if (r == 0)
                        FUZZ_CHECK(cpu_mask_equal(&m, &with_nl));
                free(copy);
        }

        if (r < 0) {
                FUZZ_CHECK(memcmp(&m, &untouched, sizeof(m)) == 0);
                return 0;
        }

        FUZZ_CHECK(cpu_list_format_alloc(&m, &formatted) == 0);
        n = strlen(formatted);
        FUZZ_CHECK(cpu_list_format(&m, NULL, 0) == n);
        FUZZ_CHECK(cpu_list_parse(formatted, n, &back) == 0);
        FUZZ_CHECK(cpu_mask_equal(&m, &back));
        FUZZ_CHECK(cpu_list_format_alloc(&back, &again) == 0);
        FUZZ_CHECK(strcmp(formatted, again) == 0);
        FUZZ_CHECK((n == 0) == cpu_mask_is_empty(&m));

        /* A short buffer gets a prefix that ends at an item boundary. */
        if (n > 0) {
                char small[8];

                FUZZ_CHECK(cpu_list_format(&m, small, sizeof(small)) == n);
                FUZZ_CHECK(strncmp(small, formatted, strlen(small)) == 0);
                /* Nothing, when the first item does not fit. */
                FUZZ_CHECK(strlen(small) == 0 || strlen(small) == n || formatted[strlen(small)] == ',');
        }

        free(formatted);
        free(again);
        return 0;
}
