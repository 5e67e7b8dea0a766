/* SPDX-License-Identifier: Apache-2.0 */
#include "stat-text.h"

#include <errno.h>

int text_check(const char **text, size_t len) {
        if (!*text) {
                if (len > 0)
                        return -EINVAL;
                *text = "";
        }
        return 0;
}

/* ---- lines ---- */

int line_next(LineIter *it, Slice *ret) {
        const char *start = it->p;
        const char *q;

        if (it->p >= it->end)
                return 0;
        for (q = start; q < it->end && *q != '\n'; q++)
                if ((unsigned char) *q < 0x20 || (unsigned char) *q > 0x7e)
                        return -EINVAL;
        if (q == start)
                return -EINVAL;
        *ret = (Slice) { start, (size_t) (q - start) };
        it->p = q < it->end ? q + 1 : q;
        return 1;
}

/* ---- numbers ---- */

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

int parse_u64(Slice s, uint64_t *ret) {
        uint64_t v = 0;

        if (s.n == 0)
                return -EINVAL;
        for (size_t i = 0; i < s.n; i++) {
                unsigned d;

                if (!is_digit(s.p[i]))
                        return -EINVAL;
                d = (unsigned) (s.p[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int add_u64(uint64_t *sum, uint64_t v) {
        if (*sum > UINT64_MAX - v)
                return -EINVAL;
        *sum += v;
        return 0;
}

/* ---- duplicate detection ---- */

void key_set_init(KeySet *s, const char *text, LineKeyFunc line_key) {
        s->n = 0;
        s->overflowed = false;
        s->begin = text;
        s->line_key = line_key;
        for (size_t i = 0; i < KEY_SET_SLOTS; i++)
                s->slot[i] = (Slice) {};
}

static uint32_t hash_slice(Slice k) {
        uint32_t h = 2166136261u; /* FNV-1a */

        for (size_t i = 0; i < k.n; i++)
                h = (h ^ (unsigned char) k.p[i]) * 16777619u;
        return h;
}

static bool key_set_rescan(const KeySet *s, const char *line_start, Slice key) {
        LineIter it = line_iter(s->begin, (size_t) (line_start - s->begin));
        Slice line;

        while (line_next(&it, &line) > 0)
                if (slice_eq(s->line_key(line), key))
                        return true;
        return false;
}

int key_set_add(KeySet *s, const char *line_start, Slice key) {
        size_t i;

        if (s->overflowed)
                return key_set_rescan(s, line_start, key) ? -EINVAL : 0;

        for (i = hash_slice(key) % KEY_SET_SLOTS; s->slot[i].p; i = (i + 1) % KEY_SET_SLOTS)
                if (slice_eq(s->slot[i], key))
                        return -EINVAL;
        if (s->n >= KEY_SET_FILL_MAX) {
                /* The set no longer holds every key: from here on the earlier
                 * lines are the record. */
                s->overflowed = true;
                return key_set_rescan(s, line_start, key) ? -EINVAL : 0;
        }
        s->slot[i] = key;
        s->n++;
        return 0;
}
