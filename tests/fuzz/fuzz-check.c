/* SPDX-License-Identifier: Apache-2.0 */
/* The report of a broken invariant, shared by every fuzz target in both
 * builds (the corpus replay and libFuzzer, which brings its own main()). */

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_check_failed(const char *file, int line, const char *what) {
        fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
        abort();
}
