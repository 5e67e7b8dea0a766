/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* nodeqosctl's human output: a table of text cells filled left to right,
 * row by row, printed with each column as wide as its widest cell. Cells
 * come from the agent (cgroup names, pod UIDs, reasons) and may hold any
 * bytes: control characters are shown as '?', so a hostile cgroup name
 * can neither break the layout nor send escape sequences to the
 * terminal; widths count characters, not UTF-8 bytes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "macro.h"

typedef struct CtlTable CtlTable;

/* headers: n_columns names; a name starting with '>' is right-aligned
 * (numbers), the '>' not shown. Returns NULL on ENOMEM. */
CtlTable *ctl_table_new(const char *const *headers, size_t n_columns);
CtlTable *ctl_table_free(CtlTable *t);
static inline void ctl_table_freep(CtlTable **t) {
        ctl_table_free(*t);
}

/* The next cell (rows wrap after the last column). 0 or -ENOMEM. */
_printf_(2, 3) int ctl_table_cell(CtlTable *t, const char *fmt, ...);

size_t ctl_table_rows(const CtlTable *t);

/* Prints the header and the rows; columns apart by two spaces, the last
 * one not padded. An incomplete last row is padded with empty cells. */
void ctl_table_print(const CtlTable *t, FILE *f);
