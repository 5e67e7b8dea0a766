/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the cgroup and PSI statistics parsers (qos/cgroup-stats.h). The
 * first byte picks the parser, the rest is the file's text:
 *   'p' psi_parse          'c' cpu_stat_v2_parse   'C' cpu_stat_v1_parse
 *   'n' single_u64_parse   'm' memory_stat_get     'i' io_stat_v2_parse
 *   'b' blkio_v1_parse
 * (any other byte picks one by its value, so mutations reach them all). */

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "qos/cgroup-stats.h"

/* The readers give up on files larger than 1 MiB; the parsers' cost grows
 * with the square of the number of keys past a few hundred, and inputs this
 * size already hold thousands. */
#define FUZZ_STATS_MAX_BYTES (64 * 1024)

static const char selectors[] = "pcCnmib";

/* What one parser made of one text: its return value and output bytes. */
typedef struct Result {
        int r;
        union {
                PsiStats psi;
                CpuStat cpu;
                uint64_t u64[2];
                IoStat io;
        } out;
} Result;

static bool psi_line_sane(const PsiLine *l) {
        return isfinite(l->avg10) && isfinite(l->avg60) && isfinite(l->avg300) && l->avg10 >= 0 &&
               l->avg60 >= 0 && l->avg300 >= 0;
}

static Result run(char selector, const char *text, size_t len) {
        Result res;

        memset(&res.out, FUZZ_UNTOUCHED, sizeof(res.out));
        switch (selector) {
        case 'p':
                res.r = psi_parse(text, len, &res.out.psi);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.psi, sizeof(res.out.psi));
                else {
                        FUZZ_CHECK(psi_line_sane(&res.out.psi.some));
                        FUZZ_CHECK(psi_line_sane(&res.out.psi.full));
                        if (!res.out.psi.has_full)
                                FUZZ_CHECK(res.out.psi.full.total_usec == 0 && res.out.psi.full.avg10 == 0);
                }
                break;
        case 'c':
        case 'C':
                res.r = (selector == 'c' ? cpu_stat_v2_parse : cpu_stat_v1_parse)(text, len, &res.out.cpu);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.cpu, sizeof(res.out.cpu));
                else if (selector == 'C')
                        FUZZ_CHECK(res.out.cpu.usage_usec == 0);
                break;
        case 'n':
                res.r = single_u64_parse(text, len, &res.out.u64[0]);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.u64[0], sizeof(res.out.u64[0]));
                break;
        case 'm':
                res.r = memory_stat_get(text, len, "inactive_file", &res.out.u64[0]);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL || res.r == -ENOENT);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.u64[0], sizeof(res.out.u64[0]));
                break;
        case 'i':
                res.r = io_stat_v2_parse(text, len, &res.out.io);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.io, sizeof(res.out.io));
                break;
        case 'b':
                res.r = blkio_v1_parse(text, len, &res.out.u64[0], &res.out.u64[1]);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(res.out.u64, sizeof(res.out.u64));
                break;
        default:
                fuzz_check_failed(__FILE__, __LINE__, "known selector");
        }
        return res;
}

static bool same_psi_line(const PsiLine *a, const PsiLine *b) {
        return a->avg10 == b->avg10 && a->avg60 == b->avg60 && a->avg300 == b->avg300 &&
               a->total_usec == b->total_usec;
}

/* Field by field: struct padding may differ. */
static bool same_output(char selector, const Result *a, const Result *b) {
        switch (selector) {
        case 'p':
                return same_psi_line(&a->out.psi.some, &b->out.psi.some) &&
                       same_psi_line(&a->out.psi.full, &b->out.psi.full) &&
                       a->out.psi.has_full == b->out.psi.has_full;
        case 'c':
        case 'C':
                return a->out.cpu.usage_usec == b->out.cpu.usage_usec &&
                       a->out.cpu.nr_periods == b->out.cpu.nr_periods &&
                       a->out.cpu.nr_throttled == b->out.cpu.nr_throttled &&
                       a->out.cpu.throttled_usec == b->out.cpu.throttled_usec;
        case 'i':
                return a->out.io.read_bytes == b->out.io.read_bytes &&
                       a->out.io.write_bytes == b->out.io.write_bytes &&
                       a->out.io.read_ops == b->out.io.read_ops && a->out.io.write_ops == b->out.io.write_ops;
        case 'b':
                return a->out.u64[0] == b->out.u64[0] && a->out.u64[1] == b->out.u64[1];
        default: /* 'n', 'm' */
                return a->out.u64[0] == b->out.u64[0];
        }
}

/* A valid memory.stat yields the value of its first key when asked for it. */
static void check_memory_stat_first_key(const char *text, size_t len) {
        const char *sp = memchr(text, ' ', len), *nl;
        char key[256], value[32];
        uint64_t got, want = 0;

        if (!sp || sp == text)
                fuzz_check_failed(__FILE__, __LINE__, "a valid memory.stat starts with \"key \"");
        if ((size_t) (sp - text) >= sizeof(key))
                return; /* valid, but longer than any key the kernel has */
        memcpy(key, text, (size_t) (sp - text));
        key[sp - text] = 0;
        nl = memchr(sp, '\n', len - (size_t) (sp - text));
        if (!nl)
                nl = text + len;
        /* Leading zeros are accepted; what follows them fits in a u64. */
        while (sp + 2 < nl && sp[1] == '0')
                sp++;
        if ((size_t) (nl - sp - 1) >= sizeof(value))
                fuzz_check_failed(__FILE__, __LINE__, "a valid value has at most 20 significant digits");
        memcpy(value, sp + 1, (size_t) (nl - sp - 1));
        value[nl - sp - 1] = 0;
        for (const char *p = value; *p; p++)
                want = want * 10 + (uint64_t) (*p - '0');

        FUZZ_CHECK(memory_stat_get(text, len, key, &got) == 0);
        FUZZ_CHECK(got == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text;
        char selector;
        Result a, b;
        size_t len;

        if (size < 1 || size > FUZZ_STATS_MAX_BYTES)
                return 0;
        selector = fuzz_pick_selector(data[0], selectors);
        text = (const char *) data + 1;
        len = size - 1;

        a = run(selector, text, len);
        if (selector == 'm' && (a.r == 0 || a.r == -ENOENT) && len > 0)
                check_memory_stat_first_key(text, len);

        /* The last line's '\n' is optional: with it, the same answer. */
        if (len > 0 && text[len - 1] != '\n') {
                char *copy = fuzz_with_final_newline(text, len);

                if (!copy)
                        return 0;
                b = run(selector, copy, len + 1);
                free(copy);
                FUZZ_CHECK(a.r == b.r);
                if (a.r == 0)
                        FUZZ_CHECK(same_output(selector, &a, &b));
        }
        return 0;
}
