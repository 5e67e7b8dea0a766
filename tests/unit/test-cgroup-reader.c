/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup reader on fixture trees for each layout (v2, v1, hybrid), then on
 * this machine's kernel (hybrid: v1 controllers, controller-less unified
 * tree): a busy child in cgroups of its own, sampled twice, then removed. */

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/cgroup-layout.h"
#include "qos/cgroup-reader.h"
#include "tests/lib/cgroup-test-tree.h"
#include "tests/lib/test-fs.h"

/* ---- fixture trees ---- */

static char fixture_root[] = "/tmp/nodeqos-test-reader-XXXXXX";

static void write_file(const char *rel, const char *content) {
        char path[4096];
        FILE *f;

        /* mkdir -p of the parent */
        snprintf(path, sizeof(path), "%s/%s", fixture_root, rel);
        for (char *p = path + strlen(fixture_root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void) mkdir(path, 0755);
                *p = '/';
        }
        /* "w" truncates the same inode: an open reader sees the new text. */
        f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(content, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

static void remove_path(const char *rel) {
        char path[4200];

        snprintf(path, sizeof(path), "%s/%s", fixture_root, rel);
        assert_int_equal(test_remove_tree(path), 0);
}

static char *fixture_path(const char *rel) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", fixture_root, rel) >= 0);
        return p;
}

static int fixture_setup(void **state) {
        return mkdtemp(fixture_root) ? 0 : -1;
}

static int fixture_teardown(void **state) {
        return test_remove_tree(fixture_root) == 0 ? 0 : -1;
}

static const char psi_cpu[] = "some avg10=1.50 avg60=0.20 avg300=0.00 total=1000\n"
                              "full avg10=0.50 avg60=0.10 avg300=0.00 total=400\n";
static const char psi_memory[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=20\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=10\n";
static const char psi_io[] = "some avg10=3.00 avg60=0.00 avg300=0.00 total=300\n"
                             "full avg10=2.00 avg60=0.00 avg300=0.00 total=200\n";

static void write_pressure(const char *dir) {
        char rel[256];

        snprintf(rel, sizeof(rel), "%s/cpu.pressure", dir);
        write_file(rel, psi_cpu);
        snprintf(rel, sizeof(rel), "%s/memory.pressure", dir);
        write_file(rel, psi_memory);
        snprintf(rel, sizeof(rel), "%s/io.pressure", dir);
        write_file(rel, psi_io);
}

static void check_pressure(const CgroupSample *s) {
        assert_true(s->has_psi);
        assert_true(s->cpu_psi.some.total_usec == 1000);
        assert_true(s->cpu_psi.full.total_usec == 400);
        assert_true(s->cpu_psi.some.avg10 > 1.49 && s->cpu_psi.some.avg10 < 1.51);
        assert_true(s->memory_psi.some.total_usec == 20);
        assert_true(s->io_psi.full.total_usec == 200);
}

/* The layout as cgroup_layout_parse() would build it, pointing into the
 * fixture. mounts[c] NULL: that controller has no hierarchy. */
static CgroupLayout fixture_layout(CgroupMode mode, const char *const mounts[_CGROUP_CONTROLLER_MAX],
                                   const char *unified) {
        CgroupLayout l = { .mode = mode };

        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                l.controller_mount[c] = mounts[c] ? fixture_path(mounts[c]) : NULL;
        l.unified_mount = unified ? fixture_path(unified) : NULL;
        return l;
}

static void test_v2(void **state) {
        static const char *const mounts[_CGROUP_CONTROLLER_MAX] = { "v2", "v2", "v2", "v2", "v2" };
        CgroupLayout l = fixture_layout(CGROUP_MODE_V2, mounts, "v2");
        CgroupReader *r = NULL;
        CgroupSample s;

        write_file("v2/kubepods/pod1/cpu.stat", "usage_usec 2787357\nuser_usec 1848357\nsystem_usec 939000\n"
                                                "nr_periods 120\nnr_throttled 7\nthrottled_usec 53210\n"
                                                "nr_bursts 0\nburst_usec 0\n");
        write_file("v2/kubepods/pod1/memory.current", "104857600\n");
        write_file("v2/kubepods/pod1/memory.stat", "anon 53248000\nfile 41943040\ninactive_file 31457280\n"
                                                   "active_file 10485760\nunevictable 4096\n");
        write_file("v2/kubepods/pod1/io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
                                               "253:0 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=0 dios=0\n");
        write_pressure("v2/kubepods/pod1");

        /* leading and trailing slashes are the same cgroup */
        assert_int_equal(cgroup_reader_open(&l, "/kubepods/pod1/", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        assert_true(s.has_cpu && s.has_memory && s.has_io);
        assert_true(s.cpu.usage_usec == 2787357);
        assert_true(s.cpu.nr_periods == 120 && s.cpu.nr_throttled == 7 && s.cpu.throttled_usec == 53210);
        assert_true(s.memory_usage_bytes == 104857600);
        assert_true(s.memory_working_set_bytes == 104857600 - 31457280);
        assert_true(s.memory_unreclaimable_bytes == 53248000 + 4096);
        assert_true(s.io.read_bytes == 11 && s.io.write_bytes == 22 && s.io.read_ops == 33 &&
                    s.io.write_ops == 44);
        check_pressure(&s);

        /* The same fds see new contents. */
        write_file("v2/kubepods/pod1/cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n");
        /* cache larger than usage (the files are read at different instants) */
        write_file("v2/kubepods/pod1/memory.stat", "anon 1\ninactive_file 204857600\nunevictable 0\n");
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        assert_true(s.cpu.usage_usec == 3000000 && s.cpu.nr_throttled == 0);
        assert_true(s.memory_working_set_bytes == 0);
        assert_true(s.memory_unreclaimable_bytes == 1);

        /* A file larger than the first buffer is read whole, not cut. */
        {
                size_t size = 64 * 1024, len = 0;
                _cleanup_free_ char *big = malloc(size);

                assert_non_null(big);
                for (int i = 0; len < 20000; i++)
                        len += (size_t) snprintf(big + len, size - len, "padding_key_%d %d\n", i, i);
                snprintf(big + len, size - len, "inactive_file 4857600\nanon 9\nunevictable 0\n");
                write_file("v2/kubepods/pod1/memory.stat", big);
                assert_int_equal(cgroup_reader_sample(r, &s), 0);
                assert_true(s.memory_working_set_bytes == 100000000);
                assert_true(s.memory_unreclaimable_bytes == 9);
        }

        /* Malformed: refused, not guessed. */
        write_file("v2/kubepods/pod1/memory.current", "12x\n");
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        write_file("v2/kubepods/pod1/memory.current", "104857600\n");
        write_file("v2/kubepods/pod1/memory.stat", "anon 1\nunevictable 0\n"); /* no inactive_file */
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        write_file("v2/kubepods/pod1/memory.stat", "anon 1\ninactive_file 1\n"); /* no unevictable */
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        write_file("v2/kubepods/pod1/memory.stat", "unevictable 1\ninactive_file 1\n"); /* no anon */
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        write_file("v2/kubepods/pod1/memory.stat", "anon 18446744073709551615\nunevictable 1\ninactive_file 1\n");
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL); /* the sum overflows */
        write_file("v2/kubepods/pod1/memory.stat", "anon 1\nunevictable 0\ninactive_file 1\n");
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        write_file("v2/kubepods/pod1/io.pressure", "some avg10=0.00\n");
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        write_pressure("v2/kubepods/pod1");
        assert_int_equal(cgroup_reader_sample(r, &s), 0);

        /* Past the largest buffer: an error, never a silently cut file. */
        {
                size_t size = 1100 * 1024;
                _cleanup_free_ char *huge = malloc(size + 1);

                assert_non_null(huge);
                for (size_t i = 0; i < size; i += 16)
                        memcpy(huge + i, "key_000000000 1\n", 16);
                huge[size] = 0;
                write_file("v2/kubepods/pod1/io.stat", huge);
                assert_int_equal(cgroup_reader_sample(r, &s), -EFBIG);
        }
        r = cgroup_reader_free(r);

        /* Without the memory and io controllers enabled there (files absent),
         * and a memory.current without its memory.stat: left out. */
        write_file("v2/kubepods/pod2/cpu.stat", "usage_usec 5\n");
        write_file("v2/kubepods/pod2/memory.current", "4096\n");
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod2", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        assert_true(s.has_cpu && !s.has_memory && !s.has_io && !s.has_psi);
        assert_true(s.cpu.usage_usec == 5);
        r = cgroup_reader_free(r);

        /* Gone, never there, or outside the tree. */
        remove_path("v2/kubepods/pod2");
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod2", &r), -ENOENT);
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod3", &r), -ENOENT);
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod1/cpu.stat", &r), -ENOENT);
        assert_int_equal(cgroup_reader_open(&l, "kubepods/../../etc", &r), -EINVAL);
        assert_int_equal(cgroup_reader_open(&l, "..", &r), -EINVAL);
        assert_null(r);
        assert_null(cgroup_reader_free(NULL));

        cgroup_layout_done(&l);
}

static void write_v1_cgroup(const char *cpu, const char *cpuacct, const char *memory, const char *blkio,
                            const char *cgroup) {
        char rel[256];

        snprintf(rel, sizeof(rel), "%s/%s/cpuacct.usage", cpuacct, cgroup);
        write_file(rel, "5000000123\n"); /* ns */
        snprintf(rel, sizeof(rel), "%s/%s/cpu.stat", cpu, cgroup);
        write_file(rel, "nr_periods 40\nnr_throttled 4\nthrottled_time 2000999\nnr_bursts 0\nburst_time 0\n");
        snprintf(rel, sizeof(rel), "%s/%s/memory.usage_in_bytes", memory, cgroup);
        write_file(rel, "300000000\n");
        snprintf(rel, sizeof(rel), "%s/%s/memory.stat", memory, cgroup);
        write_file(rel, "cache 100\nrss 200\ninactive_file 7\nunevictable 3\ntotal_cache 150000000\n"
                        "total_rss 150000000\ntotal_inactive_file 100000000\ntotal_active_file 50000000\n"
                        "total_unevictable 1000\n");
        snprintf(rel, sizeof(rel), "%s/%s/blkio.throttle.io_service_bytes_recursive", blkio, cgroup);
        write_file(rel, "254:0 Read 1048576\n254:0 Write 2097152\n254:0 Sync 3145728\n254:0 Async 0\n"
                        "254:0 Discard 0\n254:0 Total 3145728\nTotal 3145728\n");
        snprintf(rel, sizeof(rel), "%s/%s/blkio.throttle.io_serviced_recursive", blkio, cgroup);
        write_file(rel, "254:0 Read 16\n254:0 Write 32\n254:0 Sync 48\n254:0 Async 0\n254:0 Discard 0\n"
                        "254:0 Total 48\nTotal 48\n");
        /* The flat files count only the cgroup's own processes: not read
         * when the _recursive ones are there. */
        snprintf(rel, sizeof(rel), "%s/%s/blkio.throttle.io_service_bytes", blkio, cgroup);
        write_file(rel, "Total 0\n");
        snprintf(rel, sizeof(rel), "%s/%s/blkio.throttle.io_serviced", blkio, cgroup);
        write_file(rel, "Total 0\n");
}

static void check_v1_values(const CgroupSample *s) {
        assert_true(s->has_cpu && s->has_memory && s->has_io);
        assert_true(s->cpu.usage_usec == 5000000);
        assert_true(s->cpu.nr_periods == 40 && s->cpu.nr_throttled == 4 && s->cpu.throttled_usec == 2000);
        assert_true(s->memory_usage_bytes == 300000000);
        assert_true(s->memory_working_set_bytes == 200000000); /* total_inactive_file, not inactive_file */
        assert_true(s->memory_unreclaimable_bytes == 150001000); /* total_rss + total_unevictable */
        assert_true(s->io.read_bytes == 1048576 && s->io.write_bytes == 2097152);
        assert_true(s->io.read_ops == 16 && s->io.write_ops == 32);
}

static void test_v1(void **state) {
        /* cpu and cpuacct mounted together, as on most v1 distributions */
        static const char *const mounts[_CGROUP_CONTROLLER_MAX] = {
                [CGROUP_CONTROLLER_CPU] = "v1/cpu,cpuacct",
                [CGROUP_CONTROLLER_CPUACCT] = "v1/cpu,cpuacct",
                [CGROUP_CONTROLLER_MEMORY] = "v1/memory",
                [CGROUP_CONTROLLER_BLKIO] = "v1/blkio",
        };
        CgroupLayout l = fixture_layout(CGROUP_MODE_V1, mounts, NULL);
        CgroupReader *r = NULL;
        CgroupSample s;

        write_v1_cgroup("v1/cpu,cpuacct", "v1/cpu,cpuacct", "v1/memory", "v1/blkio", "kubepods/pod1");
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod1", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        check_v1_values(&s);
        assert_false(s.has_psi);

        write_file("v1/blkio/kubepods/pod1/blkio.throttle.io_serviced_recursive", "8:0 Read 1\nTotal 1\n");
        assert_int_equal(cgroup_reader_sample(r, &s), -EINVAL);
        r = cgroup_reader_free(r);

        /* A kernel before 4.17: only the flat blkio files. */
        write_file("v1/blkio/old/blkio.throttle.io_service_bytes", "8:0 Read 5\n8:0 Write 6\nTotal 11\n");
        write_file("v1/blkio/old/blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
        write_file("v1/cpu,cpuacct/old/cpuacct.usage", "1000\n");
        assert_int_equal(cgroup_reader_open(&l, "old", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        /* no cpu.stat: usage without throttling; no memory cgroup at all */
        assert_true(s.has_cpu && s.cpu.usage_usec == 1 && s.cpu.nr_periods == 0);
        assert_false(s.has_memory);
        assert_true(s.has_io && s.io.read_bytes == 5 && s.io.write_bytes == 6 && s.io.read_ops == 1 &&
                    s.io.write_ops == 2);
        r = cgroup_reader_free(r);

        /* Not in the cpu hierarchy (the primary one): not there. */
        write_file("v1/memory/memonly/memory.usage_in_bytes", "1\n");
        assert_int_equal(cgroup_reader_open(&l, "memonly", &r), -ENOENT);

        cgroup_layout_done(&l);
}

static void test_hybrid(void **state) {
        static const char *const mounts[_CGROUP_CONTROLLER_MAX] = {
                [CGROUP_CONTROLLER_CPU] = "hybrid/cpu",       [CGROUP_CONTROLLER_CPUACCT] = "hybrid/cpuacct",
                [CGROUP_CONTROLLER_CPUSET] = "hybrid/cpuset", [CGROUP_CONTROLLER_MEMORY] = "hybrid/memory",
                [CGROUP_CONTROLLER_BLKIO] = "hybrid/blkio",
        };
        CgroupLayout l = fixture_layout(CGROUP_MODE_HYBRID, mounts, "hybrid/unified");
        CgroupReader *r = NULL;
        CgroupSample s;

        /* In the unified tree too: pressure from there. */
        write_v1_cgroup("hybrid/cpu", "hybrid/cpuacct", "hybrid/memory", "hybrid/blkio", "system.slice/a");
        write_pressure("hybrid/unified/system.slice/a");
        /* The unified tree's cpu.stat is not v1's: never read on hybrid. */
        write_file("hybrid/unified/system.slice/a/cpu.stat", "usage_usec 1\n");
        assert_int_equal(cgroup_reader_open(&l, "system.slice/a", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        check_v1_values(&s);
        check_pressure(&s);
        r = cgroup_reader_free(r);

        /* Not mirrored into the unified tree (systemd creates the copy only
         * for its own units): everything but pressure. */
        write_v1_cgroup("hybrid/cpu", "hybrid/cpuacct", "hybrid/memory", "hybrid/blkio", "kubepods/pod1");
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod1", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        check_v1_values(&s);
        assert_false(s.has_psi);
        r = cgroup_reader_free(r);

        /* Half the pressure files: none. */
        write_file("hybrid/unified/kubepods/pod1/cpu.pressure", psi_cpu);
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod1", &r), 0);
        assert_int_equal(cgroup_reader_sample(r, &s), 0);
        assert_false(s.has_psi);
        r = cgroup_reader_free(r);

        /* Removed: a reader cannot be opened any more. */
        remove_path("hybrid/cpu/kubepods/pod1");
        assert_int_equal(cgroup_reader_open(&l, "kubepods/pod1", &r), -ENOENT);

        cgroup_layout_done(&l);
}

static void test_node_pressure_fixture(void **state) {
        _cleanup_free_ char *dir = fixture_path("pressure");
        NodePressureReader *r = NULL;
        PsiStats cpu, memory, io;

        write_file("pressure/cpu", "some avg10=5.00 avg60=1.00 avg300=0.25 total=99\n");
        write_file("pressure/memory", psi_memory);
        write_file("pressure/io", psi_io);
        assert_int_equal(node_pressure_reader_open(dir, &r), 0);
        assert_int_equal(node_pressure_reader_sample(r, &cpu, &memory, &io), 0);
        assert_true(cpu.some.total_usec == 99 && !cpu.has_full);
        assert_true(memory.has_full && memory.full.total_usec == 10);
        assert_true(io.some.total_usec == 300);

        write_file("pressure/io", "some total=1\n");
        assert_int_equal(node_pressure_reader_sample(r, &cpu, &memory, &io), -EINVAL);
        r = node_pressure_reader_free(r);

        remove_path("pressure/io");
        assert_int_equal(node_pressure_reader_open(dir, &r), -ENOENT);
        assert_null(r);
}

/* ---- this machine's kernel ---- */

/* Enough to be told from noise in memory usage, small next to 24 GiB. */
#define CHILD_MEMORY_BYTES (64u * 1024 * 1024)

typedef struct RealKernel {
        CgroupLayout layout;
        /* nodeqos-test-reader-<pid>: the v1 controllers' hierarchies and the
         * pressure files' (unified); nodeqos-test-reader-nopsi-<pid>: the v1
         * controllers' only. */
        CgroupTestTree tree, tree_nopsi;
        pid_t child;
        CgroupReader *reader, *reader_nopsi;
} RealKernel;

static RealKernel real;

static void stop_child(void) {
        if (real.child > 0) {
                (void) kill(real.child, SIGKILL);
                (void) waitpid(real.child, NULL, 0);
                real.child = 0;
        }
}

static int real_kernel_teardown(void **state) {
        /* Also after a failed assertion: nothing may stay behind. */
        stop_child();
        (void) cgroup_test_tree_done(&real.tree);
        (void) cgroup_test_tree_done(&real.tree_nopsi);
        real.reader = cgroup_reader_free(real.reader);
        real.reader_nopsi = cgroup_reader_free(real.reader_nopsi);
        cgroup_layout_done(&real.layout);
        return 0;
}

static _noreturn_ void child_main(int go_fd, int ready_fd) {
        volatile uint64_t spin = 0;
        volatile char *memory;
        char c;

        /* Allocate only once moved: v1 memory does not move earlier charges
         * along (memory.move_charge_at_immigrate is 0). mmap(), not malloc():
         * a sanitizer's allocator may hand out pages the parent touched. */
        if (read(go_fd, &c, 1) != 1)
                _exit(1);
        memory = mmap(NULL, CHILD_MEMORY_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED)
                _exit(1);
        for (size_t i = 0; i < CHILD_MEMORY_BYTES; i += 4096)
                memory[i] = 0x5a;
        if (write(ready_fd, "r", 1) != 1)
                _exit(1);
        for (;;)
                spin++;
}

static void sleep_msec(long msec) {
        struct timespec ts = { msec / 1000, (msec % 1000) * 1000000L };
        (void) nanosleep(&ts, NULL);
}

static void test_real_kernel(void **state) {
        int go[2], ready[2];
        pid_t parent;
        CgroupSample s1, s2;
        char c;

        assert_int_equal(cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &real.layout, NULL), 0);
        print_message("layout: %s\n", cgroup_mode_to_string(real.layout.mode));
        assert_int_equal(cgroup_test_tree_new(&real.layout, CGROUP_TEST_PREFIX "reader", 0, &real.tree), 0);
        assert_int_equal(cgroup_test_tree_new(&real.layout, CGROUP_TEST_PREFIX "reader-nopsi",
                                              CGROUP_TEST_TREE_CONTROLLERS_ONLY, &real.tree_nopsi),
                         0);

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        parent = getpid();
        real.child = fork();
        assert_true(real.child >= 0);
        if (real.child == 0) {
                /* Dies with us, even if we crash: a task left in the cgroups
                 * would keep the next run's sweep from removing them. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(1);
                child_main(go[0], ready[1]);
        }
        (void) close(go[0]);
        (void) close(ready[1]);

        assert_int_equal(cgroup_test_tree_move(&real.tree, "", real.child), 0);
        assert_int_equal(write(go[1], "g", 1), 1);
        assert_int_equal(read(ready[0], &c, 1), 1);
        (void) close(go[1]);
        (void) close(ready[0]);

        assert_int_equal(cgroup_reader_open(&real.layout, real.tree.name, &real.reader), 0);
        assert_int_equal(cgroup_reader_sample(real.reader, &s1), 0);
        sleep_msec(300);
        assert_int_equal(cgroup_reader_sample(real.reader, &s2), 0);

        print_message("cpu usage %llu -> %llu usec, memory %llu bytes (working set %llu), "
                      "io %llu/%llu bytes, psi %d (cpu some total %llu)\n",
                      (unsigned long long) s1.cpu.usage_usec, (unsigned long long) s2.cpu.usage_usec,
                      (unsigned long long) s2.memory_usage_bytes,
                      (unsigned long long) s2.memory_working_set_bytes, (unsigned long long) s2.io.read_bytes,
                      (unsigned long long) s2.io.write_bytes, s2.has_psi,
                      (unsigned long long) s2.cpu_psi.some.total_usec);
        assert_true(s1.has_cpu && s2.has_cpu && s2.has_memory);
        assert_true(s2.has_io == (real.layout.controller_mount[CGROUP_CONTROLLER_BLKIO] != NULL));
        /* The child spins for 300 ms; on a build machine busy with other
         * jobs it may get a fraction of a CPU, but not nothing. */
        assert_true(s2.cpu.usage_usec > s1.cpu.usage_usec + 10000);
        assert_true(s2.memory_usage_bytes >= CHILD_MEMORY_BYTES);
        assert_true(s2.memory_working_set_bytes >= CHILD_MEMORY_BYTES);
        /* private anonymous pages: rss (v1) or anon (v2), never cache */
        assert_true(s2.memory_unreclaimable_bytes >= CHILD_MEMORY_BYTES);
        assert_true(s2.memory_unreclaimable_bytes <= s2.memory_usage_bytes);
        assert_true(s2.has_psi == (cgroup_layout_pressure_mount(&real.layout) != NULL));

        /* In the v1 hierarchies only: no pressure, the rest there. */
        assert_int_equal(cgroup_reader_open(&real.layout, real.tree_nopsi.name, &real.reader_nopsi), 0);
        assert_int_equal(cgroup_reader_sample(real.reader_nopsi, &s1), 0);
        assert_true(s1.has_cpu && s1.has_memory && !s1.has_psi);
        assert_true(s1.cpu.usage_usec == 0);

        /* The root cgroup: the kernel's own files, whole. */
        {
                CgroupReader *root = NULL;

                assert_int_equal(cgroup_reader_open(&real.layout, "", &root), 0);
                assert_int_equal(cgroup_reader_sample(root, &s1), 0);
                cgroup_reader_free(root);
                assert_true(s1.has_cpu && s1.has_memory && s1.cpu.usage_usec > 0 && s1.memory_usage_bytes > 0);
        }

        /* Gone: the open files say so. */
        stop_child();
        /* Removed, but still known by name (the teardown finds them gone). */
        (void) cgroup_test_tree_remove(&real.tree, "");
        (void) cgroup_test_tree_remove(&real.tree_nopsi, "");
        assert_int_equal(cgroup_reader_sample(real.reader, &s1), -ENOENT);
        assert_int_equal(cgroup_reader_sample(real.reader_nopsi, &s1), -ENOENT);
        real.reader = cgroup_reader_free(real.reader);
        assert_int_equal(cgroup_reader_open(&real.layout, real.tree.name, &real.reader), -ENOENT);
}

static void test_real_node_pressure(void **state) {
        NodePressureReader *r = NULL;
        PsiStats cpu, memory, io;

        assert_int_equal(node_pressure_reader_open(NULL, &r), 0);
        assert_int_equal(node_pressure_reader_sample(r, &cpu, &memory, &io), 0);
        assert_int_equal(node_pressure_reader_sample(r, &cpu, &memory, &io), 0);
        node_pressure_reader_free(r);
}

int main(void) {
        const struct CMUnitTest fixture_tests[] = {
                cmocka_unit_test(test_v2),
                cmocka_unit_test(test_v1),
                cmocka_unit_test(test_hybrid),
                cmocka_unit_test(test_node_pressure_fixture),
        };
        const struct CMUnitTest kernel_tests[] = {
                cmocka_unit_test_teardown(test_real_kernel, real_kernel_teardown),
                cmocka_unit_test(test_real_node_pressure),
        };
        int r;

        r = cmocka_run_group_tests_name("fixtures", fixture_tests, fixture_setup, fixture_teardown);
        if (r != 0)
                return r;
        /* The v1 and hybrid readers are tested on the kernel where it has
         * v1 hierarchies (this project's build machines). */
        if (access("/sys/fs/cgroup/cpu", F_OK) < 0) {
                printf("# /sys/fs/cgroup/cpu is absent: real-kernel part skipped\n");
                return 77;
        }
        return cmocka_run_group_tests_name("kernel", kernel_tests, NULL, NULL);
}
