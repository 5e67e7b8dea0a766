/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel cpu list parser and formatter, CPU masks, and the topology
 * read from fixture sysfs trees. */

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
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "plugins/cpu-topology.h"
#include "tests/lib/test-fs.h"

static void test_list_parse(void **state) {
        static const struct {
                const char *text;
                int r;
                const char *formatted; /* the canonical text of the result */
        } cases[] = {
                { "", 0, "" },
                { "\n", 0, "" },
                { "0", 0, "0" },
                { "0\n", 0, "0" },
                { "0-3", 0, "0-3" },
                { "0-3,8,10-11\n", 0, "0-3,8,10-11" },
                { "3,2,1,0", 0, "0-3" },
                { "0-3,2-5", 0, "0-5" },          /* overlaps merge */
                { "5-5", 0, "5" },
                { "007", 0, "7" },                /* the kernel takes leading zeros */
                { "0,2,4", 0, "0,2,4" },
                { "8191", 0, "8191" },
                { "0-8191", 0, "0-8191" },
                { "8192", -ERANGE, NULL },
                { "0-8192", -ERANGE, NULL },
                { "99999999999999999999", -ERANGE, NULL },
                { "3-1", -EINVAL, NULL },
                { ",", -EINVAL, NULL },
                { "0,", -EINVAL, NULL },
                { ",0", -EINVAL, NULL },
                { "0,,1", -EINVAL, NULL },
                { "0-", -EINVAL, NULL },
                { "-1", -EINVAL, NULL },
                { "0--1", -EINVAL, NULL },
                { " 0", -EINVAL, NULL },
                { "0 ", -EINVAL, NULL },
                { "0\n\n", -EINVAL, NULL },
                { "0-7:2/4", -EINVAL, NULL },     /* strides: not what the kernel writes */
                { "+1", -EINVAL, NULL },
                { "a", -EINVAL, NULL },
                { "0x1", -EINVAL, NULL },
                { "1\n2", -EINVAL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CpuMask m, untouched;
                char buf[64];
                int r;

                memset(&m, 0x5a, sizeof(m));
                untouched = m;
                r = cpu_list_parse(cases[i].text, strlen(cases[i].text), &m);
                if (r != cases[i].r)
                        print_error("case \"%s\": r=%d\n", cases[i].text, r);
                assert_int_equal(r, cases[i].r);
                if (r < 0) {
                        assert_memory_equal(&m, &untouched, sizeof(m)); /* written only on success */
                        continue;
                }
                assert_true(cpu_list_format(&m, buf, sizeof(buf)) < sizeof(buf));
                assert_string_equal(buf, cases[i].formatted);
        }
}

static void test_list_parse_not_nul_terminated(void **state) {
        /* The parser reads len bytes, not up to a NUL. */
        const char text[] = { '0', '-', '3', '9' };
        CpuMask m;
        char buf[16];

        assert_int_equal(cpu_list_parse(text, 3, &m), 0);
        (void) cpu_list_format(&m, buf, sizeof(buf));
        assert_string_equal(buf, "0-3");
        assert_int_equal(cpu_list_parse(text, 4, &m), 0);
        (void) cpu_list_format(&m, buf, sizeof(buf));
        assert_string_equal(buf, "0-39");
        assert_int_equal(cpu_list_parse_string(NULL, &m), -EINVAL);
}

static void test_list_format(void **state) {
        CpuMask m = {};
        char buf[8];
        _cleanup_free_ char *s = NULL;

        assert_int_equal(cpu_list_format(&m, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        /* Like snprintf(): the needed length, and no number cut in half. */
        assert_int_equal(cpu_list_parse_string("0-3,100,2000-2001", &m), 0);
        assert_int_equal(cpu_list_format(&m, NULL, 0), strlen("0-3,100,2000-2001"));
        assert_int_equal(cpu_list_format(&m, buf, sizeof(buf)), strlen("0-3,100,2000-2001"));
        assert_string_equal(buf, "0-3,100");

        assert_int_equal(cpu_list_format_alloc(&m, &s), 0);
        assert_string_equal(s, "0-3,100,2000-2001");
        free(s);

        /* Every other CPU of the largest mask: the longest text there is. */
        m = (CpuMask) {};
        for (unsigned c = 0; c < CPU_MASK_MAX; c += 2)
                cpu_mask_set(&m, c);
        assert_int_equal(cpu_list_format_alloc(&m, &s), 0);
        {
                CpuMask back;

                assert_int_equal(cpu_list_parse_string(s, &back), 0);
                assert_true(cpu_mask_equal(&m, &back));
        }
}

static void test_mask_ops(void **state) {
        CpuMask a, b, r;

        assert_int_equal(cpu_list_parse_string("0-3,64,127,8191", &a), 0);
        assert_int_equal(cpu_list_parse_string("2-5,127", &b), 0);

        assert_int_equal(cpu_mask_count(&a), 7);
        assert_int_equal(cpu_mask_next(&a, 0), 0);
        assert_int_equal(cpu_mask_next(&a, 4), 64);
        assert_int_equal(cpu_mask_next(&a, 65), 127);
        assert_int_equal(cpu_mask_next(&a, 128), 8191);
        assert_int_equal(cpu_mask_next(&a, 8192), -1);
        assert_int_equal(cpu_mask_last(&a), 8191);
        assert_true(cpu_mask_intersects(&a, &b));

        cpu_mask_and(&r, &a, &b);
        assert_int_equal(cpu_mask_count(&r), 3); /* 2, 3, 127 */
        cpu_mask_andnot(&r, &a, &b);
        assert_int_equal(cpu_mask_count(&r), 4); /* 0, 1, 64, 8191 */
        cpu_mask_or(&r, &a, &b);
        assert_int_equal(cpu_mask_count(&r), 9);
        assert_true(cpu_mask_is_subset(&a, &r));
        assert_false(cpu_mask_is_subset(&r, &a));

        cpu_mask_set(&r, CPU_MASK_MAX); /* ignored */
        assert_false(cpu_mask_test(&r, CPU_MASK_MAX));
        cpu_mask_zero(&r);
        assert_true(cpu_mask_is_empty(&r));
        assert_int_equal(cpu_mask_last(&r), -1);
        assert_int_equal(cpu_mask_next(&r, 0), -1);

        /* In-place: ret may be an operand. */
        r = a;
        cpu_mask_andnot(&r, &r, &b);
        assert_int_equal(cpu_mask_count(&r), 4);
}

/* ------------------------------------------------------------------ */
/* Fixture sysfs trees                                                 */
/* ------------------------------------------------------------------ */

static int mkdir_parents(const char *path) {
        char buf[PATH_MAX];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        return 0;
}

static void write_fixture(const char *root, const char *rel, const char *content) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        assert_int_equal(mkdir_parents(path), 0);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
}

typedef struct FixtureFile {
        const char *path, *content;
} FixtureFile;

static char *make_tree(const FixtureFile *files) {
        char *root = strdup("/tmp/test-cpu-topology.XXXXXX");

        assert_non_null(root);
        assert_non_null(mkdtemp(root));
        for (const FixtureFile *f = files; f && f->path; f++) {
                if (f->content)
                        write_fixture(root, f->path, f->content);
                else {
                        char dir[PATH_MAX];

                        snprintf(dir, sizeof(dir), "%s/%s/", root, f->path);
                        assert_int_equal(mkdir_parents(dir), 0);
                }
        }
        return root;
}

static void drop_tree(char *root) {
        assert_int_equal(test_remove_tree(root), 0);
        free(root);
}

static void test_topology_two_nodes(void **state) {
        static const FixtureFile files[] = {
                { "cpu/online", "0-7\n" },
                { "cpu/possible", "0-15\n" },
                { "node/online", "0-1\n" },
                { "node/possible", "0-1\n" },
                { "node/has_cpu", "0-1\n" },
                { "node/node0/cpulist", "0-3\n" },
                { "node/node0/meminfo", "Node 0 MemTotal:       16323440 kB\nNode 0 MemFree:  1 kB\n" },
                { "node/node1/cpulist", "4-7,12-15\n" }, /* 12-15 are offline */
                { "node/node1/meminfo", "Node 1 MemTotal:       8000000 kB\n" },
                { "node/power", NULL },
                {},
        };
        char *root = make_tree(files);
        _cleanup_(cpu_topology_freep) CpuTopology *t = NULL;
        char buf[32];
        CpuMask m, nodes;

        assert_int_equal(cpu_topology_load(root, &t), 0);
        assert_int_equal(cpu_mask_count(&t->online), 8);
        assert_int_equal(t->n_nodes, 2);
        assert_int_equal(cpu_mask_count(&t->nodes), 2);
        (void) cpu_list_format(&t->node_cpus[1], buf, sizeof(buf));
        assert_string_equal(buf, "4-7");
        assert_int_equal(t->node_memory[0], UINT64_C(16323440) * 1024);
        assert_int_equal(t->node_memory[1], UINT64_C(8000000) * 1024);
        assert_int_equal(cpu_topology_node_of(t, 3), 0);
        assert_int_equal(cpu_topology_node_of(t, 4), 1);
        assert_int_equal(cpu_topology_node_of(t, 12), -1);
        assert_int_equal(cpu_topology_node_of(t, CPU_MASK_MAX), -1);

        assert_int_equal(cpu_list_parse_string("2,5", &m), 0);
        cpu_topology_nodes_of(t, &m, &nodes);
        (void) cpu_list_format(&nodes, buf, sizeof(buf));
        assert_string_equal(buf, "0-1");
        assert_int_equal(cpu_list_parse_string("1", &nodes), 0);
        cpu_topology_cpus_of(t, &nodes, &m);
        (void) cpu_list_format(&m, buf, sizeof(buf));
        assert_string_equal(buf, "4-7");

        drop_tree(root);
}

static void test_topology_cases(void **state) {
        static const struct {
                const char *name;
                FixtureFile files[8];
                int r;
                unsigned n_nodes, n_cpus;
        } cases[] = {
                { "no NUMA in the kernel: one node",
                  { { "cpu/online", "0-3\n" } },
                  0, 1, 4 },
                { "sparse node numbers, a CPU-less memory node",
                  { { "cpu/online", "0-3\n" },
                    { "node/node0/cpulist", "0-1\n" },
                    { "node/node2/cpulist", "2-3\n" },
                    { "node/node3/cpulist", "\n" },
                    { "node/node3/meminfo", "Node 3 MemTotal: 1024 kB\n" } },
                  0, 4, 4 },
                { "meminfo missing: memory unknown",
                  { { "cpu/online", "0\n" }, { "node/node0/cpulist", "0\n" } },
                  0, 1, 1 },
                { "names that are not nodes are skipped",
                  { { "cpu/online", "0\n" },
                    { "node/node0/cpulist", "0\n" },
                    { "node/node01/cpulist", "5\n" },
                    { "node/nodex/cpulist", "5\n" } },
                  0, 1, 1 },
                { "cpu/online missing", { { "node/node0/cpulist", "0\n" } }, -ENOENT, 0, 0 },
                { "no CPU online", { { "cpu/online", "\n" } }, -EINVAL, 0, 0 },
                { "malformed online", { { "cpu/online", "0-3 \n" } }, -EINVAL, 0, 0 },
                { "CPU number too large", { { "cpu/online", "0-9000\n" } }, -ERANGE, 0, 0 },
                { "a CPU in two nodes",
                  { { "cpu/online", "0-3\n" }, { "node/node0/cpulist", "0-2\n" }, { "node/node1/cpulist", "2-3\n" } },
                  -EINVAL, 0, 0 },
                { "an online CPU in no node",
                  { { "cpu/online", "0-3\n" }, { "node/node0/cpulist", "0-2\n" } },
                  -EINVAL, 0, 0 },
                { "a node without cpulist",
                  { { "cpu/online", "0-3\n" }, { "node/node0/meminfo", "Node 0 MemTotal: 1 kB\n" } },
                  -ENOENT, 0, 0 },
                { "a node directory without nodes",
                  { { "cpu/online", "0-3\n" }, { "node/online", "0\n" } },
                  -EINVAL, 0, 0 },
                { "malformed meminfo",
                  { { "cpu/online", "0\n" },
                    { "node/node0/cpulist", "0\n" },
                    { "node/node0/meminfo", "Node 0 MemTotal: lots kB\n" } },
                  -EINVAL, 0, 0 },
                { "node number too large",
                  { { "cpu/online", "0\n" }, { "node/node0/cpulist", "0\n" }, { "node/node1024/cpulist", "\n" } },
                  0, 1, 1 }, /* not a node name we take: skipped */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *root = make_tree(cases[i].files);
                CpuTopology *t = NULL;
                int r = cpu_topology_load(root, &t);

                if (r != cases[i].r)
                        print_error("case \"%s\": r=%d\n", cases[i].name, r);
                assert_int_equal(r, cases[i].r);
                if (r == 0) {
                        assert_int_equal(t->n_nodes, cases[i].n_nodes);
                        assert_int_equal(cpu_mask_count(&t->online), cases[i].n_cpus);
                }
                cpu_topology_free(t);
                drop_tree(root);
        }
}

static void test_topology_missing_root(void **state) {
        CpuTopology *t = NULL;

        assert_int_equal(cpu_topology_load("/nonexistent/sys/devices/system", &t), -ENOENT);
        assert_null(t);
}

static void test_topology_new(void **state) {
        CpuMask online, nodes, node_cpus[2] = {};
        uint64_t mem[2] = { 1024, 2048 };
        CpuTopology *t = NULL;

        assert_int_equal(cpu_list_parse_string("0-3", &online), 0);
        assert_int_equal(cpu_list_parse_string("0-1", &nodes), 0);
        assert_int_equal(cpu_list_parse_string("0-1", &node_cpus[0]), 0);
        assert_int_equal(cpu_list_parse_string("2-3", &node_cpus[1]), 0);

        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, 2, &t), 0);
        assert_int_equal(t->node_memory[1], 2048);
        t = cpu_topology_free(t);

        /* nodes beyond n_nodes, no nodes, too many */
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, 1, &t), -EINVAL);
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, 0, &t), -EINVAL);
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, NUMA_NODES_MAX + 1, &t), -EINVAL);
        assert_null(t);
        assert_null(cpu_topology_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list_parse),
                cmocka_unit_test(test_list_parse_not_nul_terminated),
                cmocka_unit_test(test_list_format),
                cmocka_unit_test(test_mask_ops),
                cmocka_unit_test(test_topology_two_nodes),
                cmocka_unit_test(test_topology_cases),
                cmocka_unit_test(test_topology_missing_root),
                cmocka_unit_test(test_topology_new),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
