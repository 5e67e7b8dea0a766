/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Human units for nodeqosctl's tables: sizes in powers of 1024, durations
 * in the two largest units. Each writes into buf and returns it. */

#include <stddef.h>
#include <stdint.h>

#define CTL_FORMAT_MAX 32

/* 0 -> "0", 1536 -> "1.5Ki", 3 << 30 -> "3.0Gi" */
const char *ctl_format_bytes(char buf[static CTL_FORMAT_MAX], double bytes);
/* A quantity in a budget's unit: "bytes" as sizes, "bytes_per_second" as
 * sizes per second, others ("millicores") as whole numbers. */
const char *ctl_format_quantity(char buf[static CTL_FORMAT_MAX], const char *unit, double v);
/* 999 -> "999ms", 61000 -> "1m1s", 90061000 -> "1d1h" */
const char *ctl_format_duration_ms(char buf[static CTL_FORMAT_MAX], uint64_t ms);
