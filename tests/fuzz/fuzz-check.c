/* SPDX-License-Identifier: Apache-2.0 */
/* The report of a broken invariant, shared by every fuzz target in both
 * builds (the corpus replay and libFuzzer, which brings its own main()). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fuzz_check_failed(const char *file, int line, const char *what) {
        fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
        abort();
}

void fuzz_check_untouched(const void *p, size_t n) {
        const unsigned char *b = p;

        for (size_t i = 0; i < n; i++)
                if (b[i] != FUZZ_UNTOUCHED)
                        fuzz_check_failed(__FILE__, __LINE__, "outputs are written only on success");
}

char fuzz_pick_selector(uint8_t first, const char *selectors) {
        const char *sel = first ? strchr(selectors, first) : NULL;

        return sel ? *sel : selectors[first % strlen(selectors)];
}

char *fuzz_with_final_newline(const char *text, size_t len) {
        char *copy = malloc(len + 1);

        if (!copy)
                return NULL;
        memcpy(copy, text, len);
        copy[len] = '\n';
        return copy;
}
