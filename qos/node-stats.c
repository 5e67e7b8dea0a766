/* SPDX-License-Identifier: Apache-2.0 */
#include "node-stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/macro.h"
#include "read-buffer.h"
#include "stat-text.h"

/* ---- /proc/meminfo ---- */

/* "Key" of "Key:   value kB". */
static Slice meminfo_line_key(Slice line) {
        const char *colon = memchr(line.p, ':', line.n);
        return (Slice) { line.p, colon ? (size_t) (colon - line.p) : line.n };
}

/* "MemTotal:       24684084 kB" as the kernel prints it ("%s:%8lu kB" and
 * friends): a key without blanks, a colon, one or more spaces, a decimal,
 * optionally " kB" (the HugePages_ counts have no unit). */
static int meminfo_split(Slice line, Slice *ret_key, Slice *ret_value, bool *ret_kb) {
        Slice key = meminfo_line_key(line), value;
        size_t i = key.n + 1;
        bool kb = false;

        if (key.n == 0 || key.n == line.n || memchr(key.p, ' ', key.n))
                return -EINVAL;
        if (i >= line.n || line.p[i] != ' ')
                return -EINVAL;
        while (i < line.n && line.p[i] == ' ')
                i++;
        value = (Slice) { line.p + i, line.n - i };
        if (value.n > 3 && memcmp(value.p + value.n - 3, " kB", 3) == 0) {
                value.n -= 3;
                kb = true;
        }
        *ret_key = key;
        *ret_value = value;
        *ret_kb = kb;
        return 0;
}

int meminfo_parse(const char *text, size_t len, NodeMemInfo *ret) {
        enum { TOTAL, AVAILABLE, _KEY_MAX };
        static const char *const keys[_KEY_MAX] = { [TOTAL] = "MemTotal", [AVAILABLE] = "MemAvailable" };
        uint64_t bytes[_KEY_MAX] = {};
        unsigned seen = 0;
        LineIter it;
        KeySet set;
        Slice line;
        int r;

        if (!ret || text_check(&text, len) < 0)
                return -EINVAL;
        it = line_iter(text, len);
        key_set_init(&set, text, meminfo_line_key);
        while ((r = line_next(&it, &line)) > 0) {
                Slice key, value;
                uint64_t v;
                bool kb;

                r = meminfo_split(line, &key, &value, &kb);
                if (r < 0)
                        return r;
                /* Every line's number, not only the two read: a file with a
                 * damaged line anywhere is not the kernel's. */
                r = parse_u64(value, &v);
                if (r < 0)
                        return r;
                r = key_set_add(&set, line.p, key);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < _KEY_MAX; k++) {
                        if (!slice_eq_str(key, keys[k]))
                                continue;
                        /* The kernel prints both in kB; without the unit the
                         * number could be anything. */
                        if (!kb || v > UINT64_MAX / 1024)
                                return -EINVAL;
                        bytes[k] = v * 1024;
                        seen |= 1u << k;
                }
        }
        if (r < 0)
                return r;
        if (seen != (1u << _KEY_MAX) - 1)
                return -EINVAL;
        *ret = (NodeMemInfo) { .total_bytes = bytes[TOTAL], .available_bytes = bytes[AVAILABLE] };
        return 0;
}

/* ---- /proc/stat ---- */

/* The fields of a "cpu" line, in the kernel's order. */
enum {
        CPU_USER,
        CPU_NICE,
        CPU_SYSTEM,
        CPU_IDLE,
        CPU_IOWAIT,
        CPU_IRQ,
        CPU_SOFTIRQ,
        CPU_STEAL,
        CPU_GUEST,      /* already inside user */
        CPU_GUEST_NICE, /* already inside nice */
        _CPU_FIELD_MAX,
};
/* steal came in 2.6.11, guest in 2.6.24, guest_nice in 2.6.33: every kernel
 * this agent runs on prints at least up to steal. */
#define CPU_FIELDS_MIN (CPU_STEAL + 1)

/* Parses the numbers of a cpu line after its name into ticks[] (fields past
 * _CPU_FIELD_MAX, a newer kernel's, are checked and dropped). */
static int cpu_fields_parse(Slice rest, uint64_t ticks[_CPU_FIELD_MAX]) {
        size_t n = 0, i = 0;

        while (i <= rest.n) {
                size_t start = i;
                uint64_t v;
                int r;

                while (i < rest.n && rest.p[i] != ' ')
                        i++;
                /* an empty field: two spaces, a leading or trailing one */
                r = parse_u64((Slice) { rest.p + start, i - start }, &v);
                if (r < 0)
                        return r;
                if (n < _CPU_FIELD_MAX)
                        ticks[n] = v;
                n++;
                i++;
        }
        return n >= CPU_FIELDS_MIN ? 0 : -EINVAL;
}

/* USER_HZ ticks to microseconds, without overflow for any u64 count. */
static int ticks_to_usec(uint64_t ticks, uint64_t hz, uint64_t *ret) {
        uint64_t whole = ticks / hz, rest = ticks % hz;

        if (whole > UINT64_MAX / 1000000)
                return -EINVAL;
        /* rest < hz: rest * 1e6 overflows only for hz past 1.8e13 */
        if (rest > UINT64_MAX / 1000000)
                return -EINVAL;
        *ret = whole * 1000000;
        return add_u64(ret, rest * 1000000 / hz);
}

static int cpu_times(const uint64_t ticks[_CPU_FIELD_MAX], uint64_t hz, uint64_t *ret_busy, uint64_t *ret_total) {
        static const int busy_fields[] = { CPU_USER, CPU_NICE, CPU_SYSTEM, CPU_IRQ, CPU_SOFTIRQ, CPU_STEAL };
        uint64_t busy = 0, total;

        for (size_t i = 0; i < ELEMENTSOF(busy_fields); i++)
                if (add_u64(&busy, ticks[busy_fields[i]]) < 0)
                        return -EINVAL;
        total = busy;
        if (add_u64(&total, ticks[CPU_IDLE]) < 0 || add_u64(&total, ticks[CPU_IOWAIT]) < 0)
                return -EINVAL;
        if (ticks_to_usec(busy, hz, ret_busy) < 0 || ticks_to_usec(total, hz, ret_total) < 0)
                return -EINVAL;
        return 0;
}

static Slice first_word(Slice line) {
        const char *sp = memchr(line.p, ' ', line.n);
        return (Slice) { line.p, sp ? (size_t) (sp - line.p) : line.n };
}

/* "cpu12" -> 12; the kernel prints "cpu%d": no leading zeros. */
static int cpu_number(Slice word, uint64_t *ret) {
        Slice digits = { word.p + 3, word.n - 3 };

        if (digits.n > 1 && digits.p[0] == '0')
                return -EINVAL;
        return parse_u64(digits, ret);
}

int proc_stat_parse(const char *text, size_t len, uint64_t clock_ticks_per_sec, NodeCpuTimes *ret) {
        NodeCpuTimes t = {};
        bool has_total = false, has_cpu = false;
        uint64_t last_cpu = 0;
        LineIter it;
        KeySet set;
        Slice line;
        int r;

        if (!ret || clock_ticks_per_sec == 0 || text_check(&text, len) < 0)
                return -EINVAL;
        it = line_iter(text, len);
        key_set_init(&set, text, first_word);
        while ((r = line_next(&it, &line)) > 0) {
                Slice word = first_word(line), rest;
                uint64_t ticks[_CPU_FIELD_MAX] = {}, n;

                if (word.n == 0 || word.n == line.n)
                        return -EINVAL;
                rest = (Slice) { word.p + word.n + 1, line.n - word.n - 1 };

                if (word.n < 3 || memcmp(word.p, "cpu", 3) != 0) {
                        /* intr, ctxt, btime, processes, softirq...: not read
                         * (the intr line alone has a number per interrupt). */
                        r = key_set_add(&set, line.p, word);
                        if (r < 0)
                                return r;
                        continue;
                }

                if (word.n == 3) {
                        /* The sum over all CPUs comes first, "cpu  " with two
                         * spaces. */
                        if (has_total || has_cpu)
                                return -EINVAL;
                        if (rest.n > 0 && rest.p[0] == ' ')
                                rest = (Slice) { rest.p + 1, rest.n - 1 };
                        r = cpu_fields_parse(rest, ticks);
                        if (r < 0)
                                return r;
                        r = cpu_times(ticks, clock_ticks_per_sec, &t.busy_usec, &t.total_usec);
                        if (r < 0)
                                return r;
                        has_total = true;
                        continue;
                }

                /* One line per online CPU, in ascending order: a repeated or
                 * out-of-order one is damage. */
                r = cpu_number(word, &n);
                if (r < 0)
                        return r;
                if (!has_total || (has_cpu && n <= last_cpu) || n >= UINT32_MAX)
                        return -EINVAL;
                r = cpu_fields_parse(rest, ticks);
                if (r < 0)
                        return r;
                last_cpu = n;
                has_cpu = true;
                t.n_cpus++;
        }
        if (r < 0)
                return r;
        if (!has_total || t.n_cpus == 0)
                return -EINVAL;
        *ret = t;
        return 0;
}

bool node_cpu_utilisation(const NodeCpuTimes *prev, const NodeCpuTimes *cur, double *ret) {
        uint64_t busy, total;

        /* The kernel's idle and iowait sums can step back a little (NO_HZ
         * accounting): no figure rather than a wrong one. */
        if (!prev || !cur || !ret || cur->total_usec <= prev->total_usec || cur->busy_usec < prev->busy_usec)
                return false;
        busy = cur->busy_usec - prev->busy_usec;
        total = cur->total_usec - prev->total_usec;
        *ret = busy >= total ? 1.0 : (double) busy / (double) total;
        return true;
}

/* ---- the reader ---- */

struct NodeStatsReader {
        int meminfo_fd, stat_fd;
        uint64_t clock_ticks_per_sec;
};

static void node_stats_reader_freep(NodeStatsReader **r) {
        node_stats_reader_free(*r);
}

static int open_proc_file(const char *proc_dir, const char *name, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", proc_dir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int node_stats_reader_open(const char *proc_dir, NodeStatsReader **ret) {
        _cleanup_(node_stats_reader_freep) NodeStatsReader *r = NULL;
        long hz;
        int k;

        if (!ret)
                return -EINVAL;
        if (!proc_dir)
                proc_dir = "/proc";
        /* /proc/stat counts in USER_HZ, which the ABI fixes per
         * architecture; sysconf() says which. */
        hz = sysconf(_SC_CLK_TCK);
        if (hz <= 0)
                return -EINVAL;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->meminfo_fd = r->stat_fd = -1;
        r->clock_ticks_per_sec = (uint64_t) hz;

        k = open_proc_file(proc_dir, "meminfo", &r->meminfo_fd);
        if (k < 0)
                return k;
        k = open_proc_file(proc_dir, "stat", &r->stat_fd);
        if (k < 0)
                return k;

        *ret = TAKE_PTR(r);
        return 0;
}

NodeStatsReader *node_stats_reader_free(NodeStatsReader *r) {
        if (!r)
                return NULL;
        if (r->meminfo_fd >= 0)
                (void) close(r->meminfo_fd);
        if (r->stat_fd >= 0)
                (void) close(r->stat_fd);
        free(r);
        return NULL;
}

/* Reads fd whole into the thread's buffer: *ret_text and *ret_len. */
static int read_whole(int fd, const char **ret_text, size_t *ret_len) {
        ReadBuffer *b = read_buffer_shared();
        int k;

        if (!b)
                return -ENOMEM;
        k = read_at_start(fd, b, ret_len);
        if (k < 0)
                return k;
        *ret_text = b->data;
        return 0;
}

int node_stats_read_memory(NodeStatsReader *r, NodeMemInfo *ret) {
        const char *text;
        size_t n;
        int k;

        if (!r || !ret)
                return -EINVAL;
        k = read_whole(r->meminfo_fd, &text, &n);
        if (k < 0)
                return k;
        return meminfo_parse(text, n, ret);
}

int node_stats_read_cpu(NodeStatsReader *r, NodeCpuTimes *ret) {
        const char *text;
        size_t n;
        int k;

        if (!r || !ret)
                return -EINVAL;
        k = read_whole(r->stat_fd, &text, &n);
        if (k < 0)
                return k;
        return proc_stat_parse(text, n, r->clock_ticks_per_sec, ret);
}
