/* SPDX-License-Identifier: Apache-2.0 */
/* The statistics parsers on real files (this machine's kernel 6.18 in hybrid
 * mode, and v2 kernels) and on every kind of damage they must refuse. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/cgroup-stats.h"

/* The parsers take (text, len) without a NUL: each case runs on a heap copy of
 * exactly len bytes, so that a read past the end is an ASan error. */
static char *exact_copy(const char *text, size_t len) {
        char *p = malloc(len > 0 ? len : 1);

        assert_non_null(p);
        memcpy(p, text, len);
        return p;
}

/* ---- PSI ---- */

/* /proc/pressure/cpu here: the node's "full" line is all zeros. */
static const char psi_node_cpu[] = "some avg10=94.29 avg60=52.83 avg300=19.34 total=84180210\n"
                                   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
static const char psi_node_io[] = "some avg10=0.00 avg60=0.05 avg300=0.08 total=4949300\n"
                                  "full avg10=0.00 avg60=0.04 avg300=0.07 total=4591055\n";
/* Kernels before 5.13 have no "full" line in cpu pressure. */
static const char psi_some_only[] = "some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\n";

static void test_psi_valid(void **state) {
        static const struct {
                const char *text;
                double some_avg10, some_avg300, full_avg60;
                uint64_t some_total, full_total;
                bool has_full;
        } cases[] = {
                { psi_node_cpu, 94.29, 19.34, 0, 84180210, 0, true },
                { psi_node_io, 0, 0.08, 0.04, 4949300, 4591055, true },
                { psi_some_only, 1.5, 0, 0, 12345, 0, false },
                /* no final newline (a fixture written by hand) */
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=7", 0, 0, 0, 7, 0, false },
                /* fields in another order; a field and a line kind a newer
                 * kernel might add are skipped */
                { "some total=9 avg300=3.00 avg60=2.00 avg10=1.00 max=12\n"
                  "irq avg10=1.00 whatever=x\n"
                  "full avg10=0.00 avg60=0.50 avg300=0.00 total=3\n",
                  1, 3, 0.5, 9, 3, true },
                /* more fraction digits than the kernel prints, still a number */
                { "some avg10=100.000 avg60=0.1 avg300=0.123456789 total=0\n", 100, 0.123456789, 0, 0, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n", 0, 0, 0, UINT64_MAX, 0,
                  false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                PsiStats s;

                print_message("psi valid #%zu\n", i);
                assert_int_equal(psi_parse(text, len, &s), 0);
                assert_true(s.some.avg10 > cases[i].some_avg10 - 1e-9 && s.some.avg10 < cases[i].some_avg10 + 1e-9);
                assert_true(s.some.avg300 > cases[i].some_avg300 - 1e-9 &&
                            s.some.avg300 < cases[i].some_avg300 + 1e-9);
                assert_true(s.full.avg60 > cases[i].full_avg60 - 1e-9 && s.full.avg60 < cases[i].full_avg60 + 1e-9);
                assert_true(s.some.total_usec == cases[i].some_total);
                assert_true(s.full.total_usec == cases[i].full_total);
                assert_int_equal(s.has_full, cases[i].has_full);
        }
}

static void test_psi_invalid(void **state) {
        static const char *const cases[] = {
                "",                                                                  /* empty */
                "\n",                                                                /* empty line */
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",                  /* missing "some" */
                "some avg10=0.00 avg60=0.00 total=0\n",                              /* missing avg300 */
                "some avg10=0.00 avg60=0.00 avg300=0.00\n",                          /* missing total */
                "some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",       /* duplicate field */
                ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                 "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),                /* duplicate line */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 x=1 x=2\n",          /* duplicate unknown */
                "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n",                 /* negative */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n",                 /* negative */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", /* overflow */
                "some avg10=18446744073709551616.00 avg60=0 avg300=0 total=0\n",     /* overflow */
                "some avg10=0.1234567890 avg60=0 avg300=0 total=0\n",                /* too many digits */
                "some avg10=nan avg60=0.00 avg300=0.00 total=0\n",                   /* not a number */
                "some avg10=1e3 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=0x10 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1. avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=.5 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1.2.3 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=+1.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10= avg60=0.00 avg300=0.00 total=0\n",                      /* empty value */
                "some =1 avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",               /* empty key */
                "some avg10 avg60=0.00 avg300=0.00 total=0\n",                       /* no '=' */
                "some avg10=0.00  avg60=0.00 avg300=0.00 total=0\n",                 /* double space */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 \n",                 /* trailing space */
                "some avg10=0.00\tavg60=0.00 avg300=0.00 total=0\n",                 /* tab */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\r\n",                /* CR */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\n",                /* empty line */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\ngarbage\n",         /* trailing garbage */
                "some\n",
                "some \n",
                " some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n avg10=1\n",      /* no line kind */
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\na=1 b=2\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i]);
                _cleanup_free_ char *text = exact_copy(cases[i], len);
                PsiStats s = { .some.total_usec = 4242 };

                print_message("psi invalid #%zu\n", i);
                assert_int_equal(psi_parse(text, len, &s), -EINVAL);
                assert_true(s.some.total_usec == 4242); /* untouched on failure */
        }

        /* A NUL inside the text is not the kernel's either. */
        static const char with_nul[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\0";
        PsiStats s;
        assert_int_equal(psi_parse(with_nul, sizeof(with_nul) - 1, &s), -EINVAL);
        assert_int_equal(psi_parse(NULL, 0, &s), -EINVAL);
        assert_int_equal(psi_parse(NULL, 5, &s), -EINVAL);
}

/* ---- cpu.stat ---- */

/* v2 with the cpu controller (6.x). */
static const char cpu_stat_v2_full[] = "usage_usec 2787357\n"
                                       "user_usec 1848357\n"
                                       "system_usec 939000\n"
                                       "core_sched.force_idle_usec 0\n"
                                       "nr_periods 120\n"
                                       "nr_throttled 7\n"
                                       "throttled_usec 53210\n"
                                       "nr_bursts 0\n"
                                       "burst_usec 0\n";
/* This machine's /sys/fs/cgroup/unified/cpu.stat: no cpu controller. */
static const char cpu_stat_v2_hybrid[] = "usage_usec 484200366\n"
                                         "user_usec 442438977\n"
                                         "system_usec 41761388\n"
                                         "nice_usec 12000\n";
/* This machine's /sys/fs/cgroup/cpu/cpu.stat (v1 has bursts since 5.14). */
static const char cpu_stat_v1_real[] = "nr_periods 0\n"
                                       "nr_throttled 0\n"
                                       "throttled_time 0\n"
                                       "nr_bursts 0\n"
                                       "burst_time 0\n";

static void test_cpu_stat_valid(void **state) {
        static const struct {
                bool v1;
                const char *text;
                CpuStat expect;
        } cases[] = {
                { false, cpu_stat_v2_full, { 2787357, 120, 7, 53210 } },
                { false, cpu_stat_v2_hybrid, { 484200366, 0, 0, 0 } },
                { false, "usage_usec 5", { 5, 0, 0, 0 } },
                { false, "usage_usec 18446744073709551615\n", { UINT64_MAX, 0, 0, 0 } },
                { true, cpu_stat_v1_real, { 0, 0, 0, 0 } },
                /* 5.4-era v1, no bursts; throttled_time is in ns */
                { true, "nr_periods 3000\nnr_throttled 15\nthrottled_time 1234567999\n", { 0, 3000, 15, 1234567 } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                CpuStat c;

                print_message("cpu.stat valid #%zu\n", i);
                assert_int_equal((cases[i].v1 ? cpu_stat_v1_parse : cpu_stat_v2_parse)(text, len, &c), 0);
                assert_true(c.usage_usec == cases[i].expect.usage_usec);
                assert_true(c.nr_periods == cases[i].expect.nr_periods);
                assert_true(c.nr_throttled == cases[i].expect.nr_throttled);
                assert_true(c.throttled_usec == cases[i].expect.throttled_usec);
        }
}

static void test_cpu_stat_invalid(void **state) {
        static const struct {
                bool v1;
                const char *text;
        } cases[] = {
                { false, "" },
                { false, "\n" },
                { false, "user_usec 1\nsystem_usec 1\n" },                  /* missing usage_usec */
                { false, "usage_usec 1\nusage_usec 2\n" },                  /* duplicate */
                { false, "usage_usec 1\nnice_usec 2\nnice_usec 2\n" },      /* duplicate unknown key */
                { false, "usage_usec 1\nnr_periods 1\nnr_throttled 1\n" },  /* half the bandwidth keys */
                { false, "usage_usec 18446744073709551616\n" },             /* overflow */
                { false, "usage_usec 99999999999999999999999\n" },
                { false, "usage_usec -1\n" },                               /* negative */
                { false, "usage_usec +1\n" },
                { false, "usage_usec 1x\n" },                               /* trailing garbage */
                { false, "usage_usec 1 2\n" },
                { false, "usage_usec  1\n" },
                { false, "usage_usec\n" },
                { false, "usage_usec \n" },
                { false, " usage_usec 1\n" },
                { false, "usage_usec 1\nuser_usec abc\n" },                 /* garbage in an unknown key */
                { false, "usage_usec 1\n\n" },                              /* empty line */
                { false, "usage_usec 1\ngarbage" },
                { false, "usage_usec\t1\n" },
                { true, "" },
                { true, "nr_periods 0\nnr_throttled 0\n" },                 /* missing throttled_time */
                { true, "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_periods 0\n" },
                { true, "nr_periods 0\nnr_throttled 0\nthrottled_time 18446744073709551616\n" },
                { true, "nr_periods 0\nnr_throttled -0\nthrottled_time 0\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                CpuStat c = { .usage_usec = 4242 };

                print_message("cpu.stat invalid #%zu\n", i);
                assert_int_equal((cases[i].v1 ? cpu_stat_v1_parse : cpu_stat_v2_parse)(text, len, &c), -EINVAL);
                assert_true(c.usage_usec == 4242);
        }
}

/* ---- one number ---- */

static void test_single_u64(void **state) {
        static const struct {
                const char *text;
                int ret;
                uint64_t value;
        } cases[] = {
                { "488761105339\n", 0, 488761105339 }, /* cpuacct.usage here */
                { "1315520512\n", 0, 1315520512 },     /* memory.usage_in_bytes here */
                { "0\n", 0, 0 },
                { "42", 0, 42 },
                { "18446744073709551615\n", 0, UINT64_MAX },
                { "18446744073709551616\n", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "\n", -EINVAL, 0 },
                { "-1\n", -EINVAL, 0 },
                { "1\n\n", -EINVAL, 0 },
                { "1 \n", -EINVAL, 0 },
                { " 1\n", -EINVAL, 0 },
                { "1\n2\n", -EINVAL, 0 },
                { "max\n", -EINVAL, 0 },
                { "12abc\n", -EINVAL, 0 },
                { "0x10\n", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                uint64_t v = 4242;

                print_message("single u64 #%zu\n", i);
                assert_int_equal(single_u64_parse(text, len, &v), cases[i].ret);
                assert_true(v == (cases[i].ret == 0 ? cases[i].value : 4242));
        }
}

/* ---- memory.stat ---- */

/* This machine's /sys/fs/cgroup/memory/memory.stat (v1 root). */
static const char memory_stat_v1_real[] = "cache 9269248\nrss 6635520\nrss_huge 0\nshmem 9084928\n"
                                          "mapped_file 7639040\ndirty 12288\nwriteback 0\n"
                                          "workingset_refault_anon 0\nworkingset_refault_file 1949\nswap 0\n"
                                          "swapcached 0\npgpgin 40609\npgpgout 36726\npgfault 49318\n"
                                          "pgmajfault 0\ninactive_anon 0\nactive_anon 1531904\n"
                                          "inactive_file 0\nactive_file 184320\nunevictable 14188544\n"
                                          "hierarchical_memory_limit 9223372036854771712\n"
                                          "hierarchical_memsw_limit 9223372036854771712\n"
                                          "total_cache 332980224\ntotal_rss 50323456\ntotal_rss_huge 0\n"
                                          "total_shmem 9084928\ntotal_mapped_file 15138816\n"
                                          "total_dirty 786432\ntotal_writeback 0\n"
                                          "total_workingset_refault_anon 0\n"
                                          "total_workingset_refault_file 263882\ntotal_swap 0\n"
                                          "total_swapcached 0\ntotal_pgpgin 15023233\n"
                                          "total_pgpgout 14932175\ntotal_pgfault 20814740\n"
                                          "total_pgmajfault 2987\ntotal_inactive_anon 43446272\n"
                                          "total_active_anon 1581056\ntotal_inactive_file 88215552\n"
                                          "total_active_file 235679744\ntotal_unevictable 14188544\n";

/* A pod's memory.stat on a 6.1 cgroup v2 kernel. */
static const char memory_stat_v2[] = "anon 53248000\nfile 121634816\nkernel 6516736\nkernel_stack 327680\n"
                                     "pagetables 757760\nsec_pagetables 0\npercpu 8640\nsock 0\nvmalloc 8192\n"
                                     "shmem 0\nzswap 0\nzswapped 0\nfile_mapped 44347392\nfile_dirty 4096\n"
                                     "file_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\n"
                                     "inactive_anon 53186560\nactive_anon 61440\ninactive_file 81580032\n"
                                     "active_file 40054784\nunevictable 0\nslab_reclaimable 4788144\n"
                                     "slab_unreclaimable 584400\nslab 5372544\nworkingset_refault_anon 0\n"
                                     "workingset_refault_file 1023\nworkingset_activate_anon 0\n"
                                     "workingset_activate_file 512\nworkingset_restore_anon 0\n"
                                     "workingset_restore_file 128\nworkingset_nodereclaim 0\npgscan 2048\n"
                                     "pgsteal 2000\npgscan_kswapd 0\npgscan_direct 2048\npgscan_khugepaged 0\n"
                                     "pgsteal_kswapd 0\npgsteal_direct 2000\npgsteal_khugepaged 0\n"
                                     "pgfault 1203344\npgmajfault 310\npgrefill 0\npgactivate 9800\n"
                                     "pgdeactivate 0\npglazyfree 0\npglazyfreed 0\nzswpin 0\nzswpout 0\n"
                                     "thp_fault_alloc 0\nthp_collapse_alloc 0\n";

static void test_memory_stat(void **state) {
        static const struct {
                const char *text;
                const char *key;
                int ret;
                uint64_t value;
        } cases[] = {
                { memory_stat_v1_real, "total_inactive_file", 0, 88215552 },
                { memory_stat_v1_real, "inactive_file", 0, 0 },
                { memory_stat_v1_real, "hierarchical_memory_limit", 0, 9223372036854771712ULL },
                { memory_stat_v2, "inactive_file", 0, 81580032 },
                { memory_stat_v2, "thp_collapse_alloc", 0, 0 },
                { memory_stat_v2, "total_inactive_file", -ENOENT, 0 },
                { memory_stat_v2, "inactive", -ENOENT, 0 }, /* a prefix is not the key */
                { "inactive_file 5", "inactive_file", 0, 5 },
                { "", "inactive_file", -ENOENT, 0 },
                { memory_stat_v2, "", -EINVAL, 0 },
                /* damage anywhere refuses the file, even far from the key */
                { "inactive_file 5\ninactive_file 6\n", "inactive_file", -EINVAL, 0 },
                { "anon 1\ninactive_file 5\nanon 2\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file 18446744073709551616\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file -5\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file 5\nanon x\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file 5\nanon\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file 5\n\nanon 1\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file 5 6\n", "inactive_file", -EINVAL, 0 },
                { "inactive_file  5\n", "inactive_file", -EINVAL, 0 },
                { "\n", "inactive_file", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                uint64_t v = 4242;

                print_message("memory.stat #%zu\n", i);
                assert_int_equal(memory_stat_get(text, len, cases[i].key, &v), cases[i].ret);
                assert_true(v == (cases[i].ret == 0 ? cases[i].value : 4242));
        }
        assert_int_equal(memory_stat_get("a 1\n", 4, NULL, &(uint64_t) { 0 }), -EINVAL);
}

/* More distinct keys than the duplicate check's table holds: it must go on
 * finding duplicates, and go on accepting distinct keys. */
static void test_memory_stat_many_keys(void **state) {
        const size_t n_keys = 1000;
        size_t size = n_keys * 32, len = 0;
        _cleanup_free_ char *text = malloc(size);
        uint64_t v;

        assert_non_null(text);
        for (size_t i = 0; i < n_keys; i++)
                len += (size_t) snprintf(text + len, size - len, "key_%zu %zu\n", i, i);
        assert_int_equal(memory_stat_get(text, len, "key_999", &v), 0);
        assert_true(v == 999);
        assert_int_equal(memory_stat_get(text, len, "key_0", &v), 0);
        assert_true(v == 0);

        /* a key of the first lines, again at the end */
        len += (size_t) snprintf(text + len, size - len, "key_3 7\n");
        assert_int_equal(memory_stat_get(text, len, "key_999", &v), -EINVAL);
}

/* Several keys in one pass: each found one sets its value and its bit, the
 * others stay as they were; the file's damage refuses all of them. */
static void test_memory_stat_keys(void **state) {
        static const char *const v2_keys[] = { "inactive_file", "anon", "unevictable" };
        static const char *const v1_keys[] = { "total_inactive_file", "total_rss", "total_unevictable" };
        static const struct {
                const char *text;
                const char *const *keys;
                int ret;
                uint32_t found;
                uint64_t values[3];
        } cases[] = {
                { memory_stat_v2, v2_keys, 0, 0x7, { 81580032, 53248000, 0 } },
                { memory_stat_v1_real, v1_keys, 0, 0x7, { 88215552, 50323456, 14188544 } },
                /* v1 keys in a v2 file: none found, nothing written */
                { memory_stat_v2, v1_keys, 0, 0, { 7, 7, 7 } },
                { "anon 5\nunevictable 6\n", v2_keys, 0, 0x6, { 7, 5, 6 } },
                { "", v2_keys, 0, 0, { 7, 7, 7 } },
                { "anon 5\nanon 5\n", v2_keys, -EINVAL, 0, {} },
                { "anon 5\nunevictable 18446744073709551616\n", v2_keys, -EINVAL, 0, {} },
                { "anon 5\nunevictable\n", v2_keys, -EINVAL, 0, {} },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                uint64_t v[3] = { 7, 7, 7 };
                uint32_t found = 0;

                print_message("memory.stat keys #%zu\n", i);
                assert_int_equal(memory_stat_get_keys(text, len, cases[i].keys, 3, v, &found), cases[i].ret);
                if (cases[i].ret < 0)
                        continue;
                assert_int_equal(found, cases[i].found);
                for (size_t k = 0; k < 3; k++)
                        assert_true(v[k] == cases[i].values[k]);
        }
        /* bad arguments */
        {
                const char *const too_many[MEMORY_STAT_KEYS_MAX + 1] = {};
                const char *const empty[] = { "anon", "" };
                uint64_t v[MEMORY_STAT_KEYS_MAX + 1];
                uint32_t found;

                assert_int_equal(memory_stat_get_keys("a 1\n", 4, too_many, ELEMENTSOF(too_many), v, &found), -EINVAL);
                assert_int_equal(memory_stat_get_keys("a 1\n", 4, empty, ELEMENTSOF(empty), v, &found), -EINVAL);
                assert_int_equal(memory_stat_get_keys("a 1\n", 4, v2_keys, 0, v, &found), -EINVAL);
                assert_int_equal(memory_stat_get_keys(NULL, 4, v2_keys, 3, v, &found), -EINVAL);
        }
}

/* ---- io.stat (v2) ---- */

static void test_io_stat_v2(void **state) {
        static const struct {
                const char *text;
                int ret;
                IoStat expect;
        } cases[] = {
                { "", 0, {} }, /* no I/O yet */
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n", 0, { 1, 2, 3, 4 } },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
                  "253:0 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=5 dios=1\n",
                  0, { 11, 22, 33, 44 } },
                /* a device without I/O yet: the kernel prints "MAJ:MIN " */
                { "259:0 \n8:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n", 0, { 4096, 0, 1, 0 } },
                /* io.cost appends its own fields, with their own leading space */
                { "8:16 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=12 "
                  "cost.wait=0 cost.indebt=0 cost.indelay=0\n",
                  0, { 5, 6, 7, 8 } },
                { "8:16  cost.vrate=100.00 cost.usage=0 cost.wait=0 cost.indebt=0 cost.indelay=0\n", 0, {} },
                /* io.latency: "depth=max" is no number, and is not ours */
                { "8:0 rbytes=1 wbytes=1 rios=1 wios=1 dbytes=0 dios=0 depth=max avg_lat=0 win=0\n", 0,
                  { 1, 1, 1, 1 } },
                { "8:0 wios=4 rios=3 wbytes=2 rbytes=1", 0, { 1, 2, 3, 4 } },
                { "8:0", 0, {} },
                { "8:0 rbytes=18446744073709551615 wbytes=0 rios=0 wios=0\n", 0, { UINT64_MAX, 0, 0, 0 } },

                { "\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n8:0 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0 rbytes=1 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3\n", -EINVAL, {} },             /* missing wios */
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=-4\n", -EINVAL, {} },     /* negative */
                { "8:0 rbytes=18446744073709551616 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0 rbytes=18446744073709551615 wbytes=0 rios=0 wios=0\n" /* the sum overflows */
                  "8:1 rbytes=1 wbytes=0 rios=0 wios=0\n",
                  -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 garbage\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 =5\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 x=\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4 x=1 x=1\n", -EINVAL, {} },
                { "8:0rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "sda rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },      /* not MAJ:MIN */
                { "8: rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { ":0 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "08:0 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0:1 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "4294967296:0 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { " 8:0 rbytes=1 wbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0 rbytes=1\twbytes=2 rios=3 wios=4\n", -EINVAL, {} },
                { "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n\n", -EINVAL, {} },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                IoStat s = { .read_bytes = 4242 };

                print_message("io.stat #%zu\n", i);
                assert_int_equal(io_stat_v2_parse(text, len, &s), cases[i].ret);
                if (cases[i].ret < 0) {
                        assert_true(s.read_bytes == 4242);
                        continue;
                }
                assert_true(s.read_bytes == cases[i].expect.read_bytes);
                assert_true(s.write_bytes == cases[i].expect.write_bytes);
                assert_true(s.read_ops == cases[i].expect.read_ops);
                assert_true(s.write_ops == cases[i].expect.write_ops);
        }
}

static void test_io_stat_many_devices(void **state) {
        const size_t n_devices = 600;
        size_t size = n_devices * 64, len = 0;
        _cleanup_free_ char *text = malloc(size);
        IoStat s;

        assert_non_null(text);
        for (size_t i = 0; i < n_devices; i++)
                len += (size_t) snprintf(text + len, size - len, "7:%zu rbytes=1 wbytes=2 rios=3 wios=4\n", i);
        assert_int_equal(io_stat_v2_parse(text, len, &s), 0);
        assert_true(s.read_bytes == n_devices && s.write_ops == 4 * n_devices);

        len += (size_t) snprintf(text + len, size - len, "7:1 rbytes=1 wbytes=2 rios=3 wios=4\n");
        assert_int_equal(io_stat_v2_parse(text, len, &s), -EINVAL);
}

/* ---- blkio.throttle.* (v1) ---- */

/* This machine, a cgroup after 1 MiB of O_DIRECT writes and reads each. */
static const char blkio_bytes_real[] = "254:0 Read 1048576\n"
                                       "254:0 Write 1048576\n"
                                       "254:0 Sync 2097152\n"
                                       "254:0 Async 0\n"
                                       "254:0 Discard 0\n"
                                       "254:0 Total 2097152\n"
                                       "Total 2097152\n";
static const char blkio_ios_real[] = "254:0 Read 16\n"
                                     "254:0 Write 16\n"
                                     "254:0 Sync 32\n"
                                     "254:0 Async 0\n"
                                     "254:0 Discard 0\n"
                                     "254:0 Total 32\n"
                                     "Total 32\n";

static void test_blkio_v1(void **state) {
        static const struct {
                const char *text;
                int ret;
                uint64_t read, write;
        } cases[] = {
                { blkio_bytes_real, 0, 1048576, 1048576 },
                { blkio_ios_real, 0, 16, 16 },
                { "Total 0\n", 0, 0, 0 }, /* no I/O yet: this machine's root cgroup */
                { "Total 0", 0, 0, 0 },
                /* two devices; before 4.19 there was no Discard line */
                { "8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Async 0\n8:0 Total 30\n"
                  "8:16 Read 1\n8:16 Write 2\n8:16 Sync 3\n8:16 Async 0\n8:16 Total 3\nTotal 33\n",
                  0, 11, 22 },

                { "", -EINVAL, 0, 0 },                                    /* no Total */
                { "\n", -EINVAL, 0, 0 },
                { "8:0 Read 1\n8:0 Write 1\n", -EINVAL, 0, 0 },             /* no Total */
                { "Total 0\nTotal 0\n", -EINVAL, 0, 0 },                     /* duplicate */
                { "Total 0\n8:0 Read 1\n8:0 Write 1\n", -EINVAL, 0, 0 },     /* after Total */
                { "8:0 Read 1\n8:0 Read 1\n8:0 Write 1\nTotal 2\n", -EINVAL, 0, 0 },
                { "8:0 Read 1\nTotal 1\n", -EINVAL, 0, 0 },                  /* missing Write */
                { "8:0 Read 1\n8:16 Read 1\n8:16 Write 1\n8:0 Write 1\nTotal 4\n", -EINVAL, 0, 0 },
                { "8:0 Read 1\n8:0 Write 1\n8:0 Sync 1\n8:0 Sync 1\nTotal 2\n", -EINVAL, 0, 0 },
                { "8:0 Read -1\n8:0 Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "8:0 Read 18446744073709551616\n8:0 Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "8:0 Read 18446744073709551615\n8:0 Write 0\n" /* the sum overflows */
                  "8:1 Read 1\n8:1 Write 0\nTotal 0\n",
                  -EINVAL, 0, 0 },
                { "8:0 Read\n8:0 Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "8:0 Read 1 2\n8:0 Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "8:0  Read 1\n8:0 Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "8:0 Read 1\n8:0 Write 1\nTotal 0 \n", -EINVAL, 0, 0 },
                { "sda Read 1\nsda Write 1\nTotal 0\n", -EINVAL, 0, 0 },
                { "Totals 0\n", -EINVAL, 0, 0 },
                { " Total 0\n", -EINVAL, 0, 0 },
                { "Total\n", -EINVAL, 0, 0 },
                { "Total 0\n\n", -EINVAL, 0, 0 },
                { "Total 0x0\n", -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].text);
                _cleanup_free_ char *text = exact_copy(cases[i].text, len);
                uint64_t read = 4242, write = 4242;

                print_message("blkio #%zu\n", i);
                assert_int_equal(blkio_v1_parse(text, len, &read, &write), cases[i].ret);
                assert_true(read == (cases[i].ret == 0 ? cases[i].read : 4242));
                assert_true(write == (cases[i].ret == 0 ? cases[i].write : 4242));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_psi_valid),
                cmocka_unit_test(test_psi_invalid),
                cmocka_unit_test(test_cpu_stat_valid),
                cmocka_unit_test(test_cpu_stat_invalid),
                cmocka_unit_test(test_single_u64),
                cmocka_unit_test(test_memory_stat),
                cmocka_unit_test(test_memory_stat_many_keys),
                cmocka_unit_test(test_memory_stat_keys),
                cmocka_unit_test(test_io_stat_v2),
                cmocka_unit_test(test_io_stat_many_devices),
                cmocka_unit_test(test_blkio_v1),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
