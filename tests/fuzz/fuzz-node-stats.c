/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the node statistics parsers (qos/node-stats.h). The first byte
 * picks the parser, the rest is the file's text:
 *   'm' meminfo_parse   's' proc_stat_parse (USER_HZ 100)
 *   'S' proc_stat_parse with USER_HZ 3 (conversions that do not divide)
 * (any other byte picks one by its value, so mutations reach them all). */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "qos/node-stats.h"

/* /proc/stat of a 1000-CPU machine is ~150 KiB; past that, mutations only
 * make longer lines of the same kinds. */
#define FUZZ_NODE_STATS_MAX_BYTES (256 * 1024)

static const char selectors[] = "msS";

typedef struct Result {
        int r;
        union {
                NodeMemInfo mem;
                NodeCpuTimes cpu;
        } out;
} Result;

static size_t count_lines(const char *text, size_t len) {
        size_t n = 0;

        for (size_t i = 0; i < len; i++)
                n += text[i] == '\n';
        return n + (len > 0 && text[len - 1] != '\n');
}

static void check_cpu_times(const NodeCpuTimes *t, const char *text, size_t len) {
        NodeCpuTimes zero = { .n_cpus = t->n_cpus }, later = *t;
        double u = -1;

        FUZZ_CHECK(t->busy_usec <= t->total_usec);
        /* the sum line and one line per CPU */
        FUZZ_CHECK(t->n_cpus >= 1 && t->n_cpus < count_lines(text, len));
        /* The utilisation is a ratio, whatever the counters. */
        FUZZ_CHECK(!node_cpu_utilisation(t, t, &u) && u == -1);
        if (node_cpu_utilisation(&zero, t, &u))
                FUZZ_CHECK(u >= 0 && u <= 1);
        else
                FUZZ_CHECK(t->total_usec == 0);
        later.total_usec += later.total_usec < UINT64_MAX;
        if (node_cpu_utilisation(t, &later, &u))
                FUZZ_CHECK(u == 0);
}

static Result run(char selector, const char *text, size_t len) {
        Result res;

        memset(&res.out, FUZZ_UNTOUCHED, sizeof(res.out));
        switch (selector) {
        case 'm':
                res.r = meminfo_parse(text, len, &res.out.mem);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.mem, sizeof(res.out.mem));
                else
                        /* both are kB in the file */
                        FUZZ_CHECK(res.out.mem.total_bytes % 1024 == 0 && res.out.mem.available_bytes % 1024 == 0);
                break;
        default:
                res.r = proc_stat_parse(text, len, selector == 's' ? 100 : 3, &res.out.cpu);
                FUZZ_CHECK(res.r == 0 || res.r == -EINVAL);
                if (res.r < 0)
                        fuzz_check_untouched(&res.out.cpu, sizeof(res.out.cpu));
                else
                        check_cpu_times(&res.out.cpu, text, len);
                break;
        }
        return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text;
        char selector;
        Result a, b;
        size_t len;

        if (size < 1 || size > FUZZ_NODE_STATS_MAX_BYTES)
                return 0;
        selector = fuzz_pick_selector(data[0], selectors);
        text = (const char *) data + 1;
        len = size - 1;

        a = run(selector, text, len);

        /* The last line's '\n' is optional: with it, the same answer. */
        if (len > 0 && text[len - 1] != '\n') {
                char *copy = fuzz_with_final_newline(text, len);

                if (!copy)
                        return 0;
                b = run(selector, copy, len + 1);
                free(copy);
                FUZZ_CHECK(a.r == b.r);
                if (a.r == 0 && selector == 'm')
                        FUZZ_CHECK(a.out.mem.total_bytes == b.out.mem.total_bytes &&
                              a.out.mem.available_bytes == b.out.mem.available_bytes);
                else if (a.r == 0)
                        FUZZ_CHECK(a.out.cpu.busy_usec == b.out.cpu.busy_usec &&
                              a.out.cpu.total_usec == b.out.cpu.total_usec && a.out.cpu.n_cpus == b.out.cpu.n_cpus);
        }
        return 0;
}
