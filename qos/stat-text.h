/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The pieces every parser of the kernel's statistics text is made of (the
 * cgroup files, /proc/pressure, /proc/meminfo, /proc/stat): lines, unsigned
 * decimals, duplicate keys. The kernel writes these files with seq_printf():
 * printable ASCII, single spaces, one record per '\n'-terminated line.
 * Anything else did not come from the kernel (or comes from a kernel this
 * code has never seen), and a wrong number is worse than none: the parsers
 * refuse it with -EINVAL. The text is a (pointer, length) pair that need not
 * end in NUL: the readers pass the bytes pread() returned. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct Slice {
        const char *p;
        size_t n;
} Slice;

static inline bool slice_eq(Slice a, Slice b) {
        /* An empty slice may have no pointer: memcmp() must not see it. */
        return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool slice_eq_str(Slice a, const char *s) {
        return slice_eq(a, (Slice) { s, strlen(s) });
}

/* Parsers take (NULL, 0) as an empty file: *text becomes "". -EINVAL for
 * NULL with a length. */
int text_check(const char **text, size_t len);

typedef struct LineIter {
        const char *p, *end;
} LineIter;

static inline LineIter line_iter(const char *text, size_t len) {
        return (LineIter) { .p = text, .end = text + len };
}

/* Returns 1 and the next line (without its '\n'); 0 at the end; -EINVAL for
 * an empty line or a byte the kernel does not write in these files. The last
 * line may lack its '\n' (a fixture written by hand). */
int line_next(LineIter *it, Slice *ret);

/* Unsigned decimal, digits only: no sign, no blanks, no base prefix; -EINVAL
 * past UINT64_MAX. */
int parse_u64(Slice s, uint64_t *ret);

/* *sum += v; -EINVAL (and *sum unchanged) if that overflows. */
int add_u64(uint64_t *sum, uint64_t v);

/* Duplicate keys are found with a small hash set on the stack; the files have
 * tens of keys. Past KEY_SET_FILL_MAX distinct keys (only a crafted file, or
 * a cgroup that did I/O on hundreds of devices) it falls back to comparing
 * with every earlier line: slower, never wrong. */
#define KEY_SET_SLOTS 256
#define KEY_SET_FILL_MAX (KEY_SET_SLOTS * 3 / 4)

/* How a format names its record: the key of "key value", the device of an
 * io.stat line, ... Only called on lines already accepted. */
typedef Slice (*LineKeyFunc)(Slice line);

typedef struct KeySet {
        Slice slot[KEY_SET_SLOTS];
        size_t n;
        bool overflowed;
        const char *begin; /* the text, for the fallback */
        LineKeyFunc line_key;
} KeySet;

void key_set_init(KeySet *s, const char *text, LineKeyFunc line_key);
/* key is a part of the line starting at line_start. Returns 0, or -EINVAL
 * when an earlier line had the same key. */
int key_set_add(KeySet *s, const char *line_start, Slice key);
