/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The libFuzzer entry point every fuzz target defines. The same function runs
 * under libFuzzer (CC=clang, -Dfuzzing=true) and under fuzz-main.c, which
 * replays a corpus in plain `meson test`. Returns 0; a broken invariant
 * abort()s, so both drivers report it as a crash. */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
