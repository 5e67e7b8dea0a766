/* SPDX-License-Identifier: Apache-2.0 */
/* The node statistics: the /proc/meminfo and /proc/stat parsers on this
 * machine's files and on every kind of damage they must refuse, the CPU
 * utilisation between two samples, the readers on a fixture /proc and on
 * the real one, and the block devices of a fixture /sys/block tree. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/node-stats.h"
#include "tests/lib/test-fs.h"

/* This machine's files (kernel 6.18, 2 CPUs, USER_HZ 100). */
static const char proc_stat_real[] =
        "cpu  511811 3 101858 1033695 6571 0 1164 233 0 0\n"
        "cpu0 230654 1 51957 543488 1050 0 259 108 0 0\ncpu1 281156 2 49901 490206 5521 0 905 125 0 0\n"
        "intr 4763623 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 1660 556 0 "
        "147 1 474544 0 1196 929 0 6327 18598 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        "ctxt 116202452\nbtime 1795445992\nprocesses 179803\nprocs_running 5\nprocs_blocked 0\n"
        "softirq 2950257 0 406058 4 18605 474528 0 7 539739 0 1511316\n";
static const char meminfo_real[] =
        "MemTotal:       24684084 kB\nMemFree:        23628332 kB\nMemAvailable:   24106136 kB\n"
        "Buffers:            6928 kB\nCached:           639188 kB\nSwapCached:            0 kB\n"
        "Active:           410612 kB\nInactive:         309972 kB\nActive(anon):       1616 kB\n"
        "Inactive(anon):    81680 kB\nActive(file):     408996 kB\nInactive(file):   228292 kB\n"
        "Unevictable:       18412 kB\nMlocked:           17496 kB\nSwapTotal:             0 kB\n"
        "SwapFree:              0 kB\nZswap:                 0 kB\nZswapped:              0 kB\n"
        "Dirty:             48104 kB\nWriteback:             0 kB\nAnonPages:         92880 kB\n"
        "Mapped:            48488 kB\nShmem:              8872 kB\nKReclaimable:     105664 kB\n"
        "Slab:             134504 kB\nSReclaimable:     105664 kB\nSUnreclaim:        28840 kB\n"
        "KernelStack:        1928 kB\nPageTables:         3448 kB\nSecPageTables:         0 kB\n"
        "NFS_Unstable:          0 kB\nBounce:                0 kB\nWritebackTmp:          0 kB\n"
        "CommitLimit:    12342040 kB\nCommitted_AS:     162652 kB\nVmallocTotal:   34359738367 kB\n"
        "VmallocUsed:       16856 kB\nVmallocChunk:          0 kB\nPercpu:             1224 kB\n"
        "AnonHugePages:         0 kB\nShmemHugePages:        0 kB\nShmemPmdMapped:        0 kB\n"
        "FileHugePages:      4096 kB\nFilePmdMapped:         0 kB\nBalloon:               0 kB\n"
        "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
        "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n"
        "DirectMap4k:       26624 kB\nDirectMap2M:     2070528 kB\nDirectMap1G:    25165824 kB\n";

/* The parsers take (text, len) without a NUL: each case runs on a heap copy
 * of exactly len bytes, so that a read past the end is an ASan error. */
static int meminfo_parse_exact(const char *text, NodeMemInfo *ret) {
        size_t len = strlen(text);
        _cleanup_free_ char *copy = malloc(len ?: 1);

        assert_non_null(copy);
        memcpy(copy, text, len);
        return meminfo_parse(copy, len, ret);
}

static int proc_stat_parse_exact(const char *text, uint64_t hz, NodeCpuTimes *ret) {
        size_t len = strlen(text);
        _cleanup_free_ char *copy = malloc(len ?: 1);

        assert_non_null(copy);
        memcpy(copy, text, len);
        return proc_stat_parse(copy, len, hz, ret);
}

/* ---- /proc/meminfo ---- */

static void test_meminfo(void **state) {
        static const struct {
                const char *text;
                int ret;
                uint64_t total_kib, available_kib;
        } cases[] = {
                { meminfo_real, 0, 24684084, 24106136 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\n", 0, 100, 50 },
                { "MemAvailable:      50 kB\nMemTotal:         100 kB", 0, 100, 50 }, /* any order, no last '\n' */
                { "MemTotal: 100 kB\nHugePages_Total:       0\nMemAvailable: 50 kB\n", 0, 100, 50 },
                /* the largest count of kB that fits in bytes, and one past */
                { "MemTotal: 18014398509481983 kB\nMemAvailable: 0 kB\n", 0, 18014398509481983ULL, 0 },
                { "MemTotal: 18014398509481984 kB\nMemAvailable: 0 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 18446744073709551616 kB\nMemAvailable: 0 kB\n", -EINVAL, 0, 0 },
                /* missing keys: kernels before 3.14 have no MemAvailable */
                { "MemTotal: 100 kB\nMemFree: 50 kB\n", -EINVAL, 0, 0 },
                { "MemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "", -EINVAL, 0, 0 },
                /* duplicates, of a key read or not */
                { "MemTotal: 100 kB\nMemTotal: 100 kB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nCached: 1 kB\nMemAvailable: 50 kB\nCached: 1 kB\n", -EINVAL, 0, 0 },
                /* malformed lines, anywhere */
                { "MemTotal: 100\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },      /* no unit */
                { "MemTotal: 100 MB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB \nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },  /* trailing blank */
                { "MemTotal:100 kB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },    /* no blank */
                { "MemTotal: -100 kB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 0x64 kB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\nCached: x kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\nMem Free: 1 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\n: 1 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\nCached 1 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\nCached:\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\n\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal:\t100 kB\nMemAvailable: 50 kB\n", -EINVAL, 0, 0 },
                { "MemTotal: 100 kB\nMemAvailable: 50 kB\n\xff\n", -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NodeMemInfo m = { 42, 42 };

                print_message("meminfo #%zu\n", i);
                assert_int_equal(meminfo_parse_exact(cases[i].text, &m), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_true(m.total_bytes == 42 && m.available_bytes == 42); /* untouched */
                        continue;
                }
                assert_true(m.total_bytes == cases[i].total_kib * 1024);
                assert_true(m.available_bytes == cases[i].available_kib * 1024);
        }
        assert_int_equal(meminfo_parse(NULL, 0, &(NodeMemInfo) {}), -EINVAL);
        assert_int_equal(meminfo_parse(NULL, 5, &(NodeMemInfo) {}), -EINVAL);
}

/* ---- /proc/stat ---- */

/* Ten fields: user nice system idle iowait irq softirq steal guest guest_nice. */
#define STAT_TAIL "intr 5 0 1\nctxt 10\nbtime 1700000000\nprocesses 3\nprocs_running 1\nprocs_blocked 0\n"

static void test_proc_stat(void **state) {
        static const struct {
                const char *text;
                uint64_t hz;
                int ret;
                uint64_t busy_usec, total_usec;
                unsigned n_cpus;
        } cases[] = {
                /* busy 511811+3+101858+0+1164+233 ticks, + idle 1033695 + iowait 6571 */
                { proc_stat_real, 100, 0, 615069 * 10000ULL, 1655335 * 10000ULL, 2 },
                { "cpu 1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 100, 0, 270000, 360000, 1 },
                /* guest is inside user: not counted twice */
                { "cpu  1 0 0 0 0 0 0 0 1000 1000\ncpu0 1 0 0 0 0 0 0 0 1000 1000\n", 100, 0, 10000, 10000, 1 },
                /* USER_HZ other than 100, and a fraction of a microsecond */
                { "cpu  1000 0 0 1000 0 0 0 0\ncpu0 1000 0 0 1000 0 0 0 0\n", 1000, 0, 1000000, 2000000, 1 },
                { "cpu  1 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0\n", 3, 0, 333333, 333333, 1 },
                /* an older kernel (8 fields), a newer one (11) */
                { "cpu  1 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1 1\n" STAT_TAIL, 100, 0, 60000, 80000, 1 },
                { "cpu  1 1 1 1 1 1 1 1 1 1 1\ncpu0 1 1 1 1 1 1 1 1 1 1 1\n", 100, 0, 60000, 80000, 1 },
                /* an offline CPU has no line: a gap is fine */
                { "cpu  0 0 0 9 0 0 0 0 0 0\ncpu0 0 0 0 3 0 0 0 0 0 0\ncpu2 0 0 0 6 0 0 0 0 0 0\n", 100, 0, 0,
                  90000, 2 },
                /* missing lines */
                { "cpu0 1 2 3 4 5 6 7 8 9 10\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8 9 10\n" STAT_TAIL, 100, -EINVAL, 0, 0, 0 },
                { STAT_TAIL, 100, -EINVAL, 0, 0, 0 },
                { "", 100, -EINVAL, 0, 0, 0 },
                /* order and duplicates */
                { "cpu0 1 2 3 4 5 6 7 8 9 10\ncpu  1 2 3 4 5 6 7 8 9 10\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8 9 10\ncpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 100,
                  -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 100,
                  -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8 9 10\ncpu1 1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 100,
                  -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\nctxt 1\nctxt 2\n", 100, -EINVAL, 0, 0, 0 },
                /* malformed CPU names and fields */
                { "cpu  1 2 3 4 5 6 7 8\ncpu01 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpux 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n", 100, -EINVAL, 0, 0, 0 }, /* 7 fields */
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu   1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8 \ncpu0 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpu0  1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 -2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 x\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu\ncpu0 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n\nctxt 1\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\nctxt\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu\t1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", 100, -EINVAL, 0, 0, 0 },
                /* overflow: a field, the sum of the fields, the microseconds */
                { "cpu  18446744073709551616 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  18446744073709551615 1 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  0 0 0 18446744073709551615 1 0 0 0\ncpu0 1 0 0 0 0 0 0 0\n", 100, -EINVAL, 0, 0, 0 },
                { "cpu  1844674407370955200 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0\n", 100, -EINVAL, 0, 0, 0 },
                /* no clock */
                { "cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", 0, -EINVAL, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                NodeCpuTimes t = { 42, 42, 42 };

                print_message("proc stat #%zu\n", i);
                assert_int_equal(proc_stat_parse_exact(cases[i].text, cases[i].hz, &t), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_true(t.busy_usec == 42 && t.total_usec == 42 && t.n_cpus == 42);
                        continue;
                }
                assert_true(t.busy_usec == cases[i].busy_usec);
                assert_true(t.total_usec == cases[i].total_usec);
                assert_int_equal(t.n_cpus, cases[i].n_cpus);
        }
        assert_int_equal(proc_stat_parse(NULL, 0, 100, &(NodeCpuTimes) {}), -EINVAL);
}

static void test_utilisation(void **state) {
        static const struct {
                NodeCpuTimes prev, cur;
                bool ok;
                double value;
        } cases[] = {
                { { 100, 1000, 2 }, { 600, 3000, 2 }, true, 0.25 },
                { { 0, 0, 1 }, { 1000, 1000, 1 }, true, 1.0 },
                { { 500, 1000, 2 }, { 500, 2000, 2 }, true, 0.0 },
                /* busy grew more than the total (idle stepped back): clamped */
                { { 0, 1000, 2 }, { 900, 1500, 2 }, true, 1.0 },
                /* no time passed, or it went back */
                { { 100, 1000, 2 }, { 100, 1000, 2 }, false, 0 },
                { { 100, 1000, 2 }, { 200, 900, 2 }, false, 0 },
                /* busy went back */
                { { 100, 1000, 2 }, { 50, 2000, 2 }, false, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double v = -1;

                print_message("utilisation #%zu\n", i);
                assert_int_equal(node_cpu_utilisation(&cases[i].prev, &cases[i].cur, &v), cases[i].ok);
                if (cases[i].ok)
                        assert_float_equal(v, cases[i].value, 1e-12);
                else
                        assert_float_equal(v, -1, 0);
        }
}

/* ---- the reader ---- */

static void write_text(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        /* "w" truncates the same inode: an open reader sees the new text. */
        f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void test_reader_fixture(void **state) {
        char dir[] = "/tmp/nodeqos-test-node-stats-XXXXXX";
        NodeStatsReader *r = NULL;
        long hz = sysconf(_SC_CLK_TCK);
        NodeMemInfo m;
        NodeCpuTimes t;

        assert_non_null(mkdtemp(dir));
        assert_true(hz > 0);
        assert_int_equal(node_stats_reader_open(dir, &r), -ENOENT);
        assert_null(r);
        write_text(dir, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 400 kB\n");
        assert_int_equal(node_stats_reader_open(dir, &r), -ENOENT); /* no stat */
        write_text(dir, "stat", "cpu  10 0 0 30 0 0 0 0 0 0\ncpu0 5 0 0 15 0 0 0 0 0 0\ncpu1 5 0 0 15 0 0 0 0 0 0\n");

        assert_int_equal(node_stats_reader_open(dir, &r), 0);
        assert_int_equal(node_stats_read_memory(r, &m), 0);
        assert_true(m.total_bytes == 1000 * 1024 && m.available_bytes == 400 * 1024);
        assert_int_equal(node_stats_read_cpu(r, &t), 0);
        assert_int_equal(t.n_cpus, 2);
        assert_true(t.busy_usec == 10 * 1000000ULL / (uint64_t) hz);
        assert_true(t.total_usec == 40 * 1000000ULL / (uint64_t) hz);

        /* The kept fds see the new text. */
        write_text(dir, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 100 kB\n");
        write_text(dir, "stat", "cpu  30 0 0 40 0 0 0 0 0 0\ncpu0 15 0 0 20 0 0 0 0 0 0\n");
        assert_int_equal(node_stats_read_memory(r, &m), 0);
        assert_true(m.available_bytes == 100 * 1024);
        {
                NodeCpuTimes prev = t;
                double u;

                assert_int_equal(node_stats_read_cpu(r, &t), 0);
                assert_int_equal(t.n_cpus, 1);
                assert_true(node_cpu_utilisation(&prev, &t, &u));
                assert_float_equal(u, 20.0 / 30.0, 1e-9);
        }

        /* Damage is refused, the last figures are not replaced. */
        write_text(dir, "meminfo", "MemTotal: 1000 kB\n");
        assert_int_equal(node_stats_read_memory(r, &m), -EINVAL);
        assert_true(m.available_bytes == 100 * 1024);
        write_text(dir, "stat", "cpu  1\n");
        assert_int_equal(node_stats_read_cpu(r, &t), -EINVAL);
        assert_int_equal(t.n_cpus, 1);

        r = node_stats_reader_free(r);
        assert_null(node_stats_reader_free(NULL));
        assert_int_equal(test_remove_tree(dir), 0);
}

/* This machine's /proc, read twice: the figures must make sense. */
static void test_reader_real(void **state) {
        NodeStatsReader *r = NULL;
        NodeCpuTimes t1, t2;
        NodeMemInfo m;
        double u;

        assert_int_equal(node_stats_reader_open(NULL, &r), 0);
        assert_int_equal(node_stats_read_memory(r, &m), 0);
        print_message("MemTotal %llu, MemAvailable %llu bytes\n", (unsigned long long) m.total_bytes,
                      (unsigned long long) m.available_bytes);
        assert_true(m.total_bytes > m.available_bytes && m.available_bytes > 0);

        assert_int_equal(node_stats_read_cpu(r, &t1), 0);
        assert_int_equal(t1.n_cpus, (unsigned) sysconf(_SC_NPROCESSORS_ONLN));
        assert_true(t1.busy_usec > 0 && t1.busy_usec <= t1.total_usec);
        /* Spin past a few clock ticks: the second sample has advanced. */
        {
                struct timespec a, b;

                clock_gettime(CLOCK_MONOTONIC, &a);
                do
                        clock_gettime(CLOCK_MONOTONIC, &b);
                while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 100 * 1000000L);
        }
        assert_int_equal(node_stats_read_cpu(r, &t2), 0);
        assert_true(t2.total_usec > t1.total_usec && t2.busy_usec > t1.busy_usec);
        assert_true(node_cpu_utilisation(&t1, &t2, &u));
        print_message("utilisation over 100 ms of spinning: %.3f of %u CPUs\n", u, t2.n_cpus);
        assert_true(u > 0 && u <= 1);
        node_stats_reader_free(r);
}

/* ---- block devices ---- */

/* sys/block/<name> -> ../devices/<name>, as sysfs links its entries, with
 * <name>/dev holding dev_text and, where asked, the "device" link (to the
 * bus device; dangling here, only its presence counts) and the "partition"
 * file of a partition. */
static void make_disk(const char *root, const char *name, const char *dev_text, bool device, bool partition) {
        char path[PATH_MAX], target[PATH_MAX];

        snprintf(path, sizeof(path), "%s/devices/%s", root, name);
        assert_int_equal(mkdir(path, 0755), 0);
        if (dev_text)
                write_text(path, "dev", dev_text);
        if (partition)
                write_text(path, "partition", "1\n");
        if (device) {
                snprintf(path, sizeof(path), "%s/devices/%s/device", root, name);
                assert_int_equal(symlink("../../bus/virtio1", path), 0);
        }
        snprintf(path, sizeof(path), "%s/block/%s", root, name);
        snprintf(target, sizeof(target), "../devices/%s", name);
        assert_int_equal(symlink(target, path), 0);
}

static void check_devices(const char *sys_block, const char *const *names, const unsigned (*numbers)[2], size_t n) {
        _cleanup_free_ BlockDevice *d = NULL;
        size_t got = 42;

        assert_int_equal(block_devices_list(sys_block, &d, &got), 0);
        assert_int_equal(got, n);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(d[i].name, names[i]);
                assert_int_equal(d[i].major, numbers[i][0]);
                assert_int_equal(d[i].minor, numbers[i][1]);
        }
}

static void test_block_devices_fixture(void **state) {
        static const char *const names[] = { "sda", "vda", "nvme0n1" };
        static const unsigned numbers[][2] = { { 8, 0 }, { 254, 0 }, { 259, 0 } };
        static const char *const bad_dev[] = { "08:16\n", "8:016\n", "8:16:1\n", "8:\n", ":16\n", "8:16 \n",
                                               "8 16\n",  "-8:16\n", "4294967296:0\n", "", "8:16\n\n" };
        char root[] = "/tmp/nodeqos-test-block-XXXXXX", sys_block[PATH_MAX], path[PATH_MAX];
        BlockDevice *d = NULL;
        size_t n = 42;

        assert_non_null(mkdtemp(root));
        snprintf(sys_block, sizeof(sys_block), "%s/block", root);
        assert_int_equal(block_devices_list(sys_block, &d, &n), -ENOENT);
        assert_true(d == NULL && n == 42);
        snprintf(path, sizeof(path), "%s/devices", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(mkdir(sys_block, 0755), 0);
        check_devices(sys_block, NULL, NULL, 0);

        make_disk(root, "vda", "254:0\n", true, false);
        make_disk(root, "nvme0n1", "259:0\n", true, false);
        make_disk(root, "sda", "8:0", true, false); /* no '\n': a hand-written fixture */
        make_disk(root, "sda1", "8:1\n", true, true);    /* a partition */
        make_disk(root, "dm-0", "253:0\n", false, false); /* no device link: virtual */
        make_disk(root, "loop0", "7:0\n", true, false);
        make_disk(root, "ram0", "1:0\n", true, false);
        make_disk(root, "zram0", "252:0\n", true, false);
        make_disk(root, "sdz", NULL, true, false); /* gone while listed: no dev file */
        /* sorted by device number, not by name or directory order */
        check_devices(sys_block, names, numbers, ELEMENTSOF(names));

        /* A dev file the kernel did not write refuses the list. */
        make_disk(root, "sdb", "8:16\n", true, false);
        snprintf(path, sizeof(path), "%s/devices/sdb", root);
        for (size_t i = 0; i < ELEMENTSOF(bad_dev); i++) {
                print_message("dev file #%zu\n", i);
                write_text(path, "dev", bad_dev[i]);
                assert_int_equal(block_devices_list(sys_block, &d, &n), -EINVAL);
        }
        write_text(path, "dev", "8:16\n");
        {
                static const char *const with_sdb[] = { "sda", "sdb", "vda", "nvme0n1" };
                static const unsigned with_sdb_numbers[][2] = { { 8, 0 }, { 8, 16 }, { 254, 0 }, { 259, 0 } };

                check_devices(sys_block, with_sdb, with_sdb_numbers, ELEMENTSOF(with_sdb));
        }

        /* A name longer than the kernel's DISK_NAME_LEN is not a disk's. */
        make_disk(root, "sd_a_name_longer_than_any_disk_name", "8:32\n", true, false);
        assert_int_equal(block_devices_list(sys_block, &d, &n), -EINVAL);

        assert_int_equal(block_devices_list(sys_block, NULL, &n), -EINVAL);
        assert_int_equal(test_remove_tree(root), 0);
}

/* This machine's /sys/block: every disk listed is one, with its number. */
static void test_block_devices_real(void **state) {
        _cleanup_free_ BlockDevice *d = NULL;
        size_t n = 0;

        assert_int_equal(block_devices_list(NULL, &d, &n), 0);
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX], expected[32];
                const char *text;

                print_message("%s %u:%u\n", d[i].name, d[i].major, d[i].minor);
                assert_true(strncmp(d[i].name, "loop", 4) != 0 && strncmp(d[i].name, "ram", 3) != 0 &&
                            strncmp(d[i].name, "zram", 4) != 0);
                snprintf(path, sizeof(path), "/sys/block/%s/device", d[i].name);
                assert_int_equal(access(path, F_OK), 0);
                snprintf(path, sizeof(path), "/sys/block/%s/dev", d[i].name);
                text = test_read_file(path);
                assert_non_null(text);
                snprintf(expected, sizeof(expected), "%u:%u\n", d[i].major, d[i].minor);
                assert_string_equal(text, expected);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_meminfo),
                cmocka_unit_test(test_proc_stat),
                cmocka_unit_test(test_utilisation),
                cmocka_unit_test(test_reader_fixture),
                cmocka_unit_test(test_reader_real),
                cmocka_unit_test(test_block_devices_fixture),
                cmocka_unit_test(test_block_devices_real),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
