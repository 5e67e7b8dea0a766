/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The libFuzzer entry point every fuzz target defines. The same function runs
 * under libFuzzer (CC=clang, -Dfuzzing=true) and under fuzz-main.c, which
 * replays a corpus in plain `meson test`. Returns 0; a broken invariant
 * abort()s, so both drivers report it as a crash. */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target's invariant: when it breaks, the condition's text goes to
 * stderr and abort() makes both drivers keep the input. */
#define FUZZ_CHECK(cond)                                                        \
        do {                                                                    \
                if (!(cond))                                                    \
                        fuzz_check_failed(__FILE__, __LINE__, #cond);           \
        } while (0)

void fuzz_check_failed(const char *file, int line, const char *what) __attribute__((noreturn));

/* The byte a target fills outputs with before a call: a parser that fails
 * must leave them so (fuzz_check_untouched()). */
#define FUZZ_UNTOUCHED 0xa5
void fuzz_check_untouched(const void *p, size_t n);

/* For targets with several parsers: the first input byte if it is one of
 * selectors, else one picked by its value, so that mutations reach all. */
char fuzz_pick_selector(uint8_t first, const char *selectors);

/* text (len > 0, not ending in '\n') with a '\n' appended, malloc'd;
 * NULL on ENOMEM. For the check that a final newline changes nothing. */
char *fuzz_with_final_newline(const char *text, size_t len);
