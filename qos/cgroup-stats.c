/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "agent/macro.h"
#include "stat-text.h"

/* The most fraction digits a PSI average may have: the kernel prints two,
 * and a few more keep hand-written fixtures readable; the fraction must fit
 * a u64 with room to spare. */
#define PSI_AVG_FRACTION_DIGITS_MAX 9

/* "12.34": the kernel's "%lu.%02lu". strtod() is not used: it wants a NUL,
 * follows the locale, and accepts "nan", "1e9" and hex. */
static int parse_decimal(Slice s, double *ret) {
        const char *dot = memchr(s.p, '.', s.n);
        uint64_t whole, frac = 0;
        double scale = 1;
        Slice w = s;
        int r;

        if (dot) {
                Slice f = { dot + 1, s.n - (size_t) (dot + 1 - s.p) };

                w.n = (size_t) (dot - s.p);
                if (f.n == 0 || f.n > PSI_AVG_FRACTION_DIGITS_MAX)
                        return -EINVAL;
                r = parse_u64(f, &frac);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < f.n; i++)
                        scale *= 10;
        }
        r = parse_u64(w, &whole);
        if (r < 0)
                return r;
        *ret = (double) whole + (double) frac / scale;
        return 0;
}


/* "MAJ:MIN" as the kernel prints a dev_t ("%u:%u"): no leading zeros, so two
 * spellings of one device cannot slip past the duplicate check. */
static int check_device(Slice s) {
        const char *colon = memchr(s.p, ':', s.n);
        Slice parts[2];
        uint64_t v;

        if (!colon)
                return -EINVAL;
        parts[0] = (Slice) { s.p, (size_t) (colon - s.p) };
        parts[1] = (Slice) { colon + 1, s.n - parts[0].n - 1 };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (parse_u64(parts[i], &v) < 0 || v > UINT32_MAX)
                        return -EINVAL;
                if (parts[i].n > 1 && parts[i].p[0] == '0')
                        return -EINVAL;
        }
        return 0;
}


/* ---- "key value" files: cpu.stat, memory.stat ---- */

/* Splits "key value" at its only space. */
static int split_key_value(Slice line, Slice *ret_key, Slice *ret_value) {
        const char *sp = memchr(line.p, ' ', line.n);
        Slice key, value;

        if (!sp)
                return -EINVAL;
        key = (Slice) { line.p, (size_t) (sp - line.p) };
        value = (Slice) { sp + 1, line.n - key.n - 1 };
        if (key.n == 0 || value.n == 0 || memchr(value.p, ' ', value.n))
                return -EINVAL;
        *ret_key = key;
        *ret_value = value;
        return 0;
}

static Slice key_value_line_key(Slice line) {
        const char *sp = memchr(line.p, ' ', line.n);
        return (Slice) { line.p, sp ? (size_t) (sp - line.p) : line.n };
}

/* Walks a file of "key u64" lines. For each key in keys[], stores its value
 * in values[] and sets its bit in *ret_seen. Every line must be well formed,
 * unknown keys included (the kernel prints them all with %llu); no key may
 * repeat. */
static int parse_key_values(const char *text, size_t len, const char *const *keys, size_t n_keys,
                            uint64_t *values, uint32_t *ret_seen) {
        LineIter it = line_iter(text, len);
        KeySet set;
        uint32_t seen = 0;
        Slice line;
        int r;

        key_set_init(&set, text, key_value_line_key);
        while ((r = line_next(&it, &line)) > 0) {
                Slice key, value;
                uint64_t v;

                r = split_key_value(line, &key, &value);
                if (r < 0)
                        return r;
                r = parse_u64(value, &v);
                if (r < 0)
                        return r;
                r = key_set_add(&set, line.p, key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_keys; i++)
                        if (slice_eq_str(key, keys[i])) {
                                values[i] = v;
                                seen |= 1u << i;
                                break;
                        }
        }
        if (r < 0)
                return r;
        *ret_seen = seen;
        return 0;
}

int cpu_stat_v2_parse(const char *text, size_t len, CpuStat *ret) {
        enum { USAGE, PERIODS, THROTTLED, THROTTLED_USEC };
        static const char *const keys[] = {
                [USAGE] = "usage_usec",
                [PERIODS] = "nr_periods",
                [THROTTLED] = "nr_throttled",
                [THROTTLED_USEC] = "throttled_usec",
        };
        const uint32_t bandwidth = (1u << PERIODS) | (1u << THROTTLED) | (1u << THROTTLED_USEC);
        uint64_t v[ELEMENTSOF(keys)] = {};
        uint32_t seen;
        int r;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        r = parse_key_values(text, len, keys, ELEMENTSOF(keys), v, &seen);
        if (r < 0)
                return r;
        if (!(seen & (1u << USAGE)))
                return -EINVAL;
        /* The cpu controller prints its bandwidth statistics together, or
         * (without the controller) none of them. */
        if ((seen & bandwidth) != 0 && (seen & bandwidth) != bandwidth)
                return -EINVAL;

        *ret = (CpuStat) {
                .usage_usec = v[USAGE],
                .nr_periods = v[PERIODS],
                .nr_throttled = v[THROTTLED],
                .throttled_usec = v[THROTTLED_USEC],
        };
        return 0;
}

int cpu_stat_v1_parse(const char *text, size_t len, CpuStat *ret) {
        enum { PERIODS, THROTTLED, THROTTLED_TIME };
        static const char *const keys[] = {
                [PERIODS] = "nr_periods",
                [THROTTLED] = "nr_throttled",
                [THROTTLED_TIME] = "throttled_time",
        };
        uint64_t v[ELEMENTSOF(keys)] = {};
        uint32_t seen;
        int r;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        r = parse_key_values(text, len, keys, ELEMENTSOF(keys), v, &seen);
        if (r < 0)
                return r;
        if (seen != (1u << ELEMENTSOF(keys)) - 1)
                return -EINVAL;

        *ret = (CpuStat) {
                .nr_periods = v[PERIODS],
                .nr_throttled = v[THROTTLED],
                .throttled_usec = v[THROTTLED_TIME] / 1000,
        };
        return 0;
}

int memory_stat_get(const char *text, size_t len, const char *key, uint64_t *ret) {
        uint64_t v = 0;
        uint32_t found;
        int r;

        r = memory_stat_get_keys(text, len, &key, 1, &v, &found);
        if (r < 0)
                return r;
        if (!found)
                return -ENOENT;
        *ret = v;
        return 0;
}

int memory_stat_get_keys(const char *text, size_t len, const char *const *keys, size_t n_keys, uint64_t *values,
                         uint32_t *ret_found) {
        if (text_check(&text, len) < 0 || !keys || !values || !ret_found || n_keys == 0 ||
            n_keys > MEMORY_STAT_KEYS_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_keys; i++)
                if (!keys[i] || !*keys[i])
                        return -EINVAL;
        return parse_key_values(text, len, keys, n_keys, values, ret_found);
}

int single_u64_parse(const char *text, size_t len, uint64_t *ret) {
        Slice s;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        s = (Slice) { text, len };
        if (s.n > 0 && s.p[s.n - 1] == '\n')
                s.n--;
        return parse_u64(s, ret);
}

/* ---- PSI ---- */

/* No line the kernel writes in these formats has this many fields; a line
 * that does is not worth an O(n^2) duplicate check. */
#define FIELDS_PER_LINE_MAX 64

static Slice first_word(Slice line) {
        const char *sp = memchr(line.p, ' ', line.n);
        return (Slice) { line.p, sp ? (size_t) (sp - line.p) : line.n };
}

/* Splits "key=value". */
static int split_field(Slice field, Slice *ret_key, Slice *ret_value) {
        const char *eq = memchr(field.p, '=', field.n);

        if (!eq || eq == field.p || eq == field.p + field.n - 1)
                return -EINVAL;
        *ret_key = (Slice) { field.p, (size_t) (eq - field.p) };
        *ret_value = (Slice) { eq + 1, field.n - (size_t) (eq - field.p) - 1 };
        return 0;
}

/* Walks the "key=value" fields of a line separated by spaces; strict says
 * single spaces only. Calls field() for each; refuses a repeated key. */
typedef int (*FieldFunc)(Slice key, Slice value, void *userdata);

static int parse_fields(Slice rest, bool strict, FieldFunc field, void *userdata) {
        Slice keys[FIELDS_PER_LINE_MAX];
        size_t n = 0, i = 0;
        int r;

        while (i < rest.n) {
                Slice f, key, value;
                size_t start;

                if (rest.p[i] == ' ') {
                        if (strict)
                                return -EINVAL;
                        i++;
                        continue;
                }
                start = i;
                while (i < rest.n && rest.p[i] != ' ')
                        i++;
                f = (Slice) { rest.p + start, i - start };
                if (strict && i < rest.n && i + 1 == rest.n)
                        return -EINVAL; /* a trailing space */
                if (i < rest.n)
                        i++;

                r = split_field(f, &key, &value);
                if (r < 0)
                        return r;
                if (n >= ELEMENTSOF(keys))
                        return -EINVAL;
                for (size_t k = 0; k < n; k++)
                        if (slice_eq(keys[k], key))
                                return -EINVAL;
                keys[n++] = key;
                r = field(key, value, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct PsiFields {
        PsiLine line;
        unsigned seen;
} PsiFields;

static int psi_field(Slice key, Slice value, void *userdata) {
        PsiFields *f = userdata;

        if (slice_eq_str(key, "avg10")) {
                f->seen |= 1u << 0;
                return parse_decimal(value, &f->line.avg10);
        }
        if (slice_eq_str(key, "avg60")) {
                f->seen |= 1u << 1;
                return parse_decimal(value, &f->line.avg60);
        }
        if (slice_eq_str(key, "avg300")) {
                f->seen |= 1u << 2;
                return parse_decimal(value, &f->line.avg300);
        }
        if (slice_eq_str(key, "total")) {
                f->seen |= 1u << 3;
                return parse_u64(value, &f->line.total_usec);
        }
        return 0; /* a field a newer kernel added */
}

static int ignore_field(Slice key, Slice value, void *userdata) {
        return 0;
}

int psi_parse(const char *text, size_t len, PsiStats *ret) {
        PsiStats s = {};
        LineIter it;
        bool has_some = false;
        KeySet set;
        Slice line;
        int r;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        it = line_iter(text, len);
        key_set_init(&set, text, first_word);
        while ((r = line_next(&it, &line)) > 0) {
                Slice tag = first_word(line), rest;
                PsiFields f = {};

                /* "some" and "full" then fields; a line kind a newer kernel
                 * may add is checked for shape and skipped. */
                if (tag.n == 0 || memchr(tag.p, '=', tag.n) || line.n < tag.n + 2)
                        return -EINVAL;
                rest = (Slice) { line.p + tag.n + 1, line.n - tag.n - 1 };
                r = key_set_add(&set, line.p, tag);
                if (r < 0)
                        return r;

                if (slice_eq_str(tag, "some") || slice_eq_str(tag, "full")) {
                        r = parse_fields(rest, true, psi_field, &f);
                        if (r < 0)
                                return r;
                        if (f.seen != 0xf)
                                return -EINVAL;
                        if (tag.p[0] == 's') {
                                s.some = f.line;
                                has_some = true;
                        } else {
                                s.full = f.line;
                                s.has_full = true;
                        }
                } else {
                        r = parse_fields(rest, true, ignore_field, NULL);
                        if (r < 0)
                                return r;
                }
        }
        if (r < 0)
                return r;
        if (!has_some)
                return -EINVAL;
        *ret = s;
        return 0;
}

/* ---- io.stat (v2) ---- */

typedef struct IoFields {
        uint64_t v[4];
        unsigned seen;
} IoFields;

static int io_field(Slice key, Slice value, void *userdata) {
        static const char *const keys[] = { "rbytes", "wbytes", "rios", "wios" };
        IoFields *f = userdata;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (slice_eq_str(key, keys[i])) {
                        f->seen |= 1u << i;
                        return parse_u64(value, &f->v[i]);
                }
        /* dbytes, dios, and what io.cost/io.latency append (cost.vrate=100.00,
         * depth=max, ...): not numbers we read, not always integers. */
        return 0;
}

int io_stat_v2_parse(const char *text, size_t len, IoStat *ret) {
        IoStat sum = {};
        LineIter it;
        KeySet set;
        Slice line;
        int r;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        it = line_iter(text, len);
        key_set_init(&set, text, first_word);
        while ((r = line_next(&it, &line)) > 0) {
                Slice dev = first_word(line), rest = { line.p + dev.n, line.n - dev.n };
                IoFields f = {};

                r = check_device(dev);
                if (r < 0)
                        return r;
                r = key_set_add(&set, line.p, dev);
                if (r < 0)
                        return r;
                /* The kernel prints "MAJ:MIN " and then each policy's fields
                 * with their own leading space, or nothing for a device
                 * without I/O yet: runs of spaces and a bare device are its
                 * output, not damage. */
                r = parse_fields(rest, false, io_field, &f);
                if (r < 0)
                        return r;
                if (f.seen != 0 && f.seen != 0xf)
                        return -EINVAL;
                if (add_u64(&sum.read_bytes, f.v[0]) < 0 || add_u64(&sum.write_bytes, f.v[1]) < 0 ||
                    add_u64(&sum.read_ops, f.v[2]) < 0 || add_u64(&sum.write_ops, f.v[3]) < 0)
                        return -EINVAL;
        }
        if (r < 0)
                return r;
        *ret = sum;
        return 0;
}

/* ---- blkio.throttle.* (v1) ---- */

/* "MAJ:MIN Read" of "MAJ:MIN Read 42", "Total" of "Total 42". */
static Slice blkio_line_key(Slice line) {
        const char *sp = NULL;

        for (size_t i = line.n; i > 0; i--)
                if (line.p[i - 1] == ' ') {
                        sp = line.p + i - 1;
                        break;
                }
        return (Slice) { line.p, sp ? (size_t) (sp - line.p) : line.n };
}

int blkio_v1_parse(const char *text, size_t len, uint64_t *ret_read, uint64_t *ret_write) {
        uint64_t read = 0, write = 0;
        LineIter it;
        Slice line, dev = {};
        unsigned dev_seen = 0; /* Read, Write of dev */
        bool total = false;
        KeySet set;
        int r;

        if (text_check(&text, len) < 0)
                return -EINVAL;
        it = line_iter(text, len);
        key_set_init(&set, text, blkio_line_key);
        while ((r = line_next(&it, &line)) > 0) {
                Slice key = blkio_line_key(line), value, d, op = {};
                uint64_t v;

                if (total)
                        return -EINVAL; /* "Total" ends the file */
                if (key.n == line.n || key.n == 0)
                        return -EINVAL;
                value = (Slice) { key.p + key.n + 1, line.n - key.n - 1 };
                r = parse_u64(value, &v);
                if (r < 0)
                        return r;
                r = key_set_add(&set, line.p, key);
                if (r < 0)
                        return r;

                d = first_word(key);
                if (d.n == key.n) {
                        if (!slice_eq_str(key, "Total"))
                                return -EINVAL;
                        total = true;
                        d = (Slice) {};
                } else {
                        op = (Slice) { key.p + d.n + 1, key.n - d.n - 1 };
                        if (op.n == 0 || memchr(op.p, ' ', op.n))
                                return -EINVAL;
                        r = check_device(d);
                        if (r < 0)
                                return r;
                }

                /* A device's lines come together; each has Read and Write
                 * (Sync, Async, Discard, Total: not needed here). */
                if (!slice_eq(d, dev)) {
                        if (dev.n > 0 && dev_seen != 0x3)
                                return -EINVAL;
                        dev = d;
                        dev_seen = 0;
                }
                if (total)
                        continue;
                if (slice_eq_str(op, "Read")) {
                        dev_seen |= 1u << 0;
                        r = add_u64(&read, v);
                } else if (slice_eq_str(op, "Write")) {
                        dev_seen |= 1u << 1;
                        r = add_u64(&write, v);
                }
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!total)
                return -EINVAL;
        *ret_read = read;
        *ret_write = write;
        return 0;
}
