/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl-table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct CtlTable {
        size_t n_columns;
        char **headers;
        bool *right;
        char **cells; /* row-major */
        size_t n_cells, allocated;
};

CtlTable *ctl_table_free(CtlTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_columns; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->headers);
        free(t->right);
        free(t->cells);
        free(t);
        return NULL;
}

/* Control characters (C0, DEL) replaced by '?'; UTF-8 left as it is. */
static void sanitize(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}

CtlTable *ctl_table_new(const char *const *headers, size_t n_columns) {
        _cleanup_(ctl_table_freep) CtlTable *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        t->headers = calloc(n_columns, sizeof(char *));
        t->right = calloc(n_columns, sizeof(bool));
        if (!t->headers || !t->right)
                return NULL;
        t->n_columns = n_columns;
        for (size_t i = 0; i < n_columns; i++) {
                t->right[i] = headers[i][0] == '>';
                t->headers[i] = strdup(headers[i] + t->right[i]);
                if (!t->headers[i])
                        return NULL;
                sanitize(t->headers[i]);
        }
        return TAKE_PTR(t);
}

int ctl_table_cell(CtlTable *t, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        if (t->n_cells == t->allocated) {
                size_t want = t->allocated ? t->allocated * 2 : 64;
                char **c = realloc(t->cells, want * sizeof(char *));

                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = want;
        }
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        sanitize(s);
        t->cells[t->n_cells++] = s;
        return 0;
}

size_t ctl_table_rows(const CtlTable *t) {
        return (t->n_cells + t->n_columns - 1) / t->n_columns;
}

/* Characters on screen: UTF-8 continuation bytes do not count. */
static size_t display_width(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

static const char *cell(const CtlTable *t, size_t row, size_t column) {
        size_t i = row * t->n_columns + column;

        return i < t->n_cells ? t->cells[i] : "";
}

static void print_row(const CtlTable *t, FILE *f, const size_t *widths, size_t row, bool header) {
        size_t n = t->n_columns;

        /* Empty cells at the end of a row print nothing: no trailing blanks. */
        while (!header && n > 1 && !cell(t, row, n - 1)[0])
                n--;
        for (size_t c = 0; c < n; c++) {
                const char *s = header ? t->headers[c] : cell(t, row, c);
                size_t pad = widths[c] - display_width(s);
                bool last = c + 1 == n;

                if (t->right[c])
                        fprintf(f, "%*s%s", (int) pad, "", s);
                else
                        fprintf(f, "%s%*s", s, last ? 0 : (int) pad, "");
                fputs(last ? "\n" : "  ", f);
        }
}

void ctl_table_print(const CtlTable *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));
        size_t rows = ctl_table_rows(t);

        if (!widths)
                return;
        for (size_t c = 0; c < t->n_columns; c++) {
                widths[c] = display_width(t->headers[c]);
                for (size_t r = 0; r < rows; r++)
                        widths[c] = MAX(widths[c], display_width(cell(t, r, c)));
        }
        print_row(t, f, widths, 0, true);
        for (size_t r = 0; r < rows; r++)
                print_row(t, f, widths, r, false);
}
