/* SPDX-License-Identifier: Apache-2.0 */
/* The sampler on a fixture v2 tree: rates from two samples, each workload
 * read once per period (a share each tick), the QoS-level cgroups every
 * tick, vanished cgroups left out; and the pure rate arithmetic. */

#include <errno.h>
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
#include "qos/pod-registry.h"
#include "qos/sampler.h"

#define N_PODS 6

static char dir[64];

static void put_in(const char *base, const char *rel, const char *file, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s", base, rel, file);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void put(const char *rel, const char *file, const char *text) {
        put_in(dir, rel, file, text);
}

static void make_cgroup(const char *rel, uint64_t usage_usec) {
        char path[PATH_MAX], text[128];

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(text, sizeof(text), "usage_usec %llu\nuser_usec 0\nsystem_usec 0\n", (unsigned long long) usage_usec);
        put(rel, "cpu.stat", text);
        put(rel, "memory.current", "1048576\n");
        put(rel, "memory.stat", "anon 524288\nfile 524288\ninactive_file 262144\nunevictable 4096\n");
        put(rel, "io.stat", "");
        for (int i = 0; i < 3; i++)
                put(rel, (const char *[]) { "cpu.pressure", "memory.pressure", "io.pressure" }[i],
                    "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

/* A fresh v2 tree in dir, every controller there, with kubepods and its
 * besteffort tier. */
static CgroupLayout make_tree(void) {
        CgroupLayout layout = { .mode = CGROUP_MODE_V2 };

        strcpy(dir, "/tmp/nodeqos-test-sampler-XXXXXX");
        assert_non_null(mkdtemp(dir));
        put(".", "cgroup.controllers", "cpu memory io\n");
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                layout.controller_mount[c] = dir;
        layout.unified_mount = dir;
        make_cgroup("kubepods", 0);
        make_cgroup("kubepods/besteffort", 0);
        return layout;
}

static void set_usage(const char *rel, uint64_t usage_usec) {
        char text[128];

        snprintf(text, sizeof(text), "usage_usec %llu\nuser_usec 0\nsystem_usec 0\n", (unsigned long long) usage_usec);
        put(rel, "cpu.stat", text);
}

static const char *pod_dir(int i) {
        static char buf[N_PODS][128];

        snprintf(buf[i], sizeof(buf[i]), "kubepods/besteffort/pod%08x-0000-4000-8000-%012x", i, i);
        return buf[i];
}

static void test_staggered_sampling(void **state) {
        CgroupLayout layout = make_tree();
        PodRegistry *registry = NULL;
        Sampler *sampler = NULL;
        NodeSnapshot *s = NULL;
        size_t with_rates;

        for (int i = 0; i < N_PODS; i++)
                make_cgroup(pod_dir(i), 0);

        assert_int_equal(pod_registry_new(&(PodRegistryParams) { .layout = &layout, .driver = CGROUP_DRIVER_CGROUPFS,
                                                                 .kubelet_root = "" },
                                          &registry),
                         0);
        assert_int_equal(pod_registry_count(registry), N_PODS);
        assert_int_equal(sampler_new(&layout, NULL, 2, &sampler), 0);

        /* Tick 1: everything is new, everything is read; no rates yet. */
        assert_int_equal(sampler_sample(sampler, registry, 1, 1000000, &s), 0);
        assert_int_equal(s->n_workloads, N_PODS);
        for (size_t i = 0; i < s->n_workloads; i++) {
                assert_false(s->workloads[i].usage.has_rates);
                assert_int_equal(s->workloads[i].usage.memory_working_set_bytes, 1048576 - 262144);
        }
        assert_true(s->kube_tiers[KUBE_TIER_BESTEFFORT].has_cpu);
        assert_false(s->kube_tiers[KUBE_TIER_BURSTABLE].has_cpu); /* no such tier */
        assert_false(s->has_node_psi);
        node_snapshot_unref(s);

        /* One second later every pod used half a CPU, the tier three. */
        for (int i = 0; i < N_PODS; i++)
                set_usage(pod_dir(i), 500000);
        set_usage("kubepods/besteffort", 3000000);
        assert_int_equal(sampler_sample(sampler, registry, 2, 2000000, &s), 0);
        with_rates = 0;
        for (size_t i = 0; i < s->n_workloads; i++)
                if (s->workloads[i].usage.has_rates) {
                        with_rates++;
                        assert_float_equal(s->workloads[i].usage.cpu_millicores, 500.0, 0.001);
                }
        /* Period 2: half of them were read this tick. */
        assert_int_equal(with_rates, N_PODS / 2);
        /* The tier is read every tick. */
        assert_float_equal(s->kube_tiers[KUBE_TIER_BESTEFFORT].cpu_millicores, 3000.0, 0.001);
        node_snapshot_unref(s);

        /* Tick 3: the other half, over two seconds since their first read. */
        assert_int_equal(sampler_sample(sampler, registry, 3, 3000000, &s), 0);
        for (size_t i = 0; i < s->n_workloads; i++)
                assert_true(s->workloads[i].usage.has_rates);
        assert_float_equal(s->classes[QOS_CLASS_RECLAIMED_CORES].cpu_millicores, N_PODS / 2 * 500.0 + N_PODS / 2 * 250.0,
                           0.001);
        node_snapshot_unref(s);

        /* A pod whose files vanish before the registry notices is left out. */
        {
                char cmd[PATH_MAX + 32];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", dir, pod_dir(0));
                assert_int_equal(system(cmd), 0);
        }
        for (uint64_t t = 4; t <= 5; t++) {
                assert_int_equal(sampler_sample(sampler, registry, t, t * 1000000, &s), 0);
                node_snapshot_unref(s);
        }
        assert_true(pod_registry_refresh(registry) >= 0);
        assert_int_equal(sampler_sample(sampler, registry, 6, 6000000, &s), 0);
        assert_int_equal(s->n_workloads, N_PODS - 1);
        node_snapshot_unref(s);

        sampler_free(sampler);
        pod_registry_free(registry);
        {
                char cmd[PATH_MAX + 32];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                assert_int_equal(system(cmd), 0);
        }
}

static void put_pressure(const char *rel, const char *file, uint64_t some_usec) {
        char text[160];

        snprintf(text, sizeof(text), "some avg10=0.00 avg60=0.00 avg300=0.00 total=%llu\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                 (unsigned long long) some_usec);
        put(rel, file, text);
}

/* The class totals (sums, the worst PSI stall ratio) and the node's memory
 * and CPU from a fixture /proc, over two ticks reading every cgroup. */
static void test_class_totals_and_node(void **state) {
        CgroupLayout layout = make_tree();
        char proc[] = "/tmp/nodeqos-test-sampler-proc-XXXXXX", shared_pod[128], rm[PATH_MAX + 32];
        PodRegistry *registry = NULL;
        Sampler *sampler = NULL;
        NodeSnapshot *s = NULL;
        const ClassTotals *be, *ls;

        assert_non_null(mkdtemp(proc));
        make_cgroup("kubepods/burstable", 0);
        make_cgroup(pod_dir(0), 0);
        make_cgroup(pod_dir(1), 0);
        snprintf(shared_pod, sizeof(shared_pod), "kubepods/burstable/pod%08x-0000-4000-8000-%012x", 9, 9);
        make_cgroup(shared_pod, 0);
        put_in(proc, ".", "meminfo", "MemTotal: 8000 kB\nMemFree: 1000 kB\nMemAvailable: 6000 kB\n");
        put_in(proc, ".", "stat", "cpu  100 0 0 300 0 0 0 0 0 0\ncpu0 50 0 0 150 0 0 0 0 0 0\n"
                                  "cpu1 50 0 0 150 0 0 0 0 0 0\nctxt 1\n");

        assert_int_equal(pod_registry_new(&(PodRegistryParams) { .layout = &layout, .driver = CGROUP_DRIVER_CGROUPFS,
                                                                 .kubelet_root = "" },
                                          &registry),
                         0);
        assert_int_equal(pod_registry_count(registry), 3);
        assert_int_equal(sampler_new(&layout, NULL, 1, &sampler), 0);
        assert_int_equal(sampler_open_node_stats(sampler, "/nonexistent-nodeqos-proc"), -ENOENT);
        assert_int_equal(sampler_open_node_stats(sampler, proc), 0);

        /* Tick 1: memory at once; no CPU delta, no PSI ratios yet. */
        assert_int_equal(sampler_sample(sampler, registry, 1, 1000000, &s), 0);
        assert_true(s->has_node_memory);
        assert_true(s->node_memory.total_bytes == 8000 * 1024 && s->node_memory.available_bytes == 6000 * 1024);
        assert_false(s->has_node_cpu);
        be = &s->classes[QOS_CLASS_RECLAIMED_CORES];
        assert_int_equal(be->n_workloads, 2);
        assert_true(be->memory_unreclaimable_bytes == 2 * (524288 + 4096));
        assert_false(be->has_psi);
        node_snapshot_unref(s);

        /* One second later: pod 0 stalled on CPU a tenth of it and read and
         * wrote 4000 bytes, pod 1 stalled on memory and IO and read 500
         * bytes; the node's two CPUs were busy a quarter of their time. */
        put_pressure(pod_dir(0), "cpu.pressure", 100000);
        put_pressure(pod_dir(0), "io.pressure", 200000);
        put_pressure(pod_dir(1), "memory.pressure", 300000);
        put_pressure(pod_dir(1), "io.pressure", 500000);
        put(pod_dir(0), "io.stat", "8:0 rbytes=1000 wbytes=3000 rios=1 wios=2 dbytes=0 dios=0\n");
        put(pod_dir(1), "io.stat", "8:0 rbytes=500 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
        put_in(proc, ".", "meminfo", "MemTotal: 8000 kB\nMemFree: 1000 kB\nMemAvailable: 5000 kB\n");
        put_in(proc, ".", "stat", "cpu  150 0 0 450 0 0 0 0 0 0\ncpu0 75 0 0 225 0 0 0 0 0 0\n"
                                  "cpu1 75 0 0 225 0 0 0 0 0 0\nctxt 2\n");
        assert_int_equal(sampler_sample(sampler, registry, 2, 2000000, &s), 0);
        assert_true(s->has_node_memory && s->node_memory.available_bytes == 5000 * 1024);
        assert_true(s->has_node_cpu);
        assert_float_equal(s->node_cpu_capacity_millicores, 2000.0, 1e-9);
        assert_float_equal(s->node_cpu_used_millicores, 500.0, 1e-9);
        be = &s->classes[QOS_CLASS_RECLAIMED_CORES];
        assert_true(be->has_psi);
        /* the worst workload's, not a sum */
        assert_float_equal(be->cpu_psi_some_ratio, 0.1, 1e-9);
        assert_float_equal(be->memory_psi_some_ratio, 0.3, 1e-9);
        assert_float_equal(be->io_psi_some_ratio, 0.5, 1e-9);
        /* read and write, summed over the class */
        assert_float_equal(be->io_bytes_per_sec, 4500.0, 1e-9);
        ls = &s->classes[QOS_CLASS_SHARED_CORES];
        assert_int_equal(ls->n_workloads, 1);
        assert_true(ls->has_psi);
        assert_float_equal(ls->cpu_psi_some_ratio + ls->memory_psi_some_ratio + ls->io_psi_some_ratio, 0.0, 0.0);
        assert_true(ls->memory_unreclaimable_bytes == 524288 + 4096);
        assert_false(s->classes[QOS_CLASS_SYSTEM_CORES].has_psi);
        node_snapshot_unref(s);

        /* A damaged /proc/stat: no CPU figure, and none from a delta across
         * the gap either. */
        put_in(proc, ".", "stat", "cpu  1\n");
        assert_int_equal(sampler_sample(sampler, registry, 3, 3000000, &s), 0);
        assert_true(s->has_node_memory && !s->has_node_cpu);
        node_snapshot_unref(s);
        put_in(proc, ".", "stat", "cpu  200 0 0 600 0 0 0 0 0 0\ncpu0 100 0 0 300 0 0 0 0 0 0\n");
        assert_int_equal(sampler_sample(sampler, registry, 4, 4000000, &s), 0);
        assert_false(s->has_node_cpu);
        node_snapshot_unref(s);
        put_in(proc, ".", "stat", "cpu  300 0 0 600 0 0 0 0 0 0\ncpu0 150 0 0 300 0 0 0 0 0 0\n");
        assert_int_equal(sampler_sample(sampler, registry, 5, 5000000, &s), 0);
        assert_true(s->has_node_cpu);
        assert_float_equal(s->node_cpu_capacity_millicores, 1000.0, 1e-9); /* one CPU online now */
        assert_float_equal(s->node_cpu_used_millicores, 1000.0, 1e-9);
        node_snapshot_unref(s);

        sampler_free(sampler);
        pod_registry_free(registry);
        snprintf(rm, sizeof(rm), "rm -rf '%s' '%s'", dir, proc);
        assert_int_equal(system(rm), 0);
}

static void test_rates(void **state) {
        CgroupSample a = { .has_cpu = true, .has_io = true, .cpu = { .usage_usec = 1000000, .nr_periods = 10,
                                                                       .nr_throttled = 2 },
                           .io = { .read_bytes = 1000, .write_bytes = 0, .read_ops = 10 } };
        CgroupSample b = a;
        ResourceUsage u;

        b.cpu.usage_usec += 250000; /* a quarter CPU over one second */
        b.cpu.nr_periods += 10;
        b.cpu.nr_throttled += 5;
        b.io.read_bytes += 4096;
        b.io.read_ops += 2;
        resource_usage_from_samples(&a, &b, 1000000, &u);
        assert_true(u.has_rates);
        assert_float_equal(u.cpu_millicores, 250.0, 1e-9);
        assert_float_equal(u.cpu_throttled_ratio, 0.5, 1e-9);
        assert_float_equal(u.io_read_bytes_per_sec, 4096.0, 1e-9);
        assert_float_equal(u.io_read_ops_per_sec, 2.0, 1e-9);

        /* No previous sample: counters, no rates. */
        resource_usage_from_samples(NULL, &b, 1000000, &u);
        assert_false(u.has_rates);
        assert_int_equal(u.cpu.usage_usec, 1250000);

        /* A counter that went back (cgroup recreated): no rate, not a negative one. */
        resource_usage_from_samples(&b, &a, 1000000, &u);
        assert_false(u.has_rates);
        assert_float_equal(u.cpu_millicores, 0.0, 0.0);
}

/* PSI stall time per wall time from the totals of two samples. */
static void test_psi_ratios(void **state) {
        static const struct {
                uint64_t dt_usec;
                uint64_t cpu_some, memory_some, memory_full, io_some; /* deltas, usec */
                bool has_full;
                bool has_rates;
                double cpu, memory, memory_full_ratio, io;
        } cases[] = {
                { 1000000, 250000, 100000, 50000, 0, true, true, 0.25, 0.1, 0.05, 0.0 },
                { 2000000, 2000000, 0, 0, 1000000, true, true, 1.0, 0.0, 0.0, 0.5 },
                /* per-CPU stalls folded: a little over the wall time, clamped */
                { 1000000, 1000100, 1200000, 1000001, 0, true, true, 1.0, 1.0, 1.0, 0.0 },
                /* no "full" line: its ratio stays 0, the others count */
                { 1000000, 0, 500000, 0, 10000, false, true, 0.0, 0.5, 0.0, 0.01 },
                /* no time passed: no rates */
                { 0, 1, 1, 1, 1, true, false, 0, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CgroupSample a = { .has_psi = true,
                                   .cpu_psi = { .some = { .total_usec = 1000 } },
                                   .memory_psi = { .some = { .total_usec = 2000 }, .full = { .total_usec = 500 },
                                                   .has_full = cases[i].has_full },
                                   .io_psi = { .some = { .total_usec = 3000 } } };
                CgroupSample b = a;
                ResourceUsage u;

                print_message("psi #%zu\n", i);
                b.cpu_psi.some.total_usec += cases[i].cpu_some;
                b.memory_psi.some.total_usec += cases[i].memory_some;
                b.memory_psi.full.total_usec += cases[i].memory_full;
                b.io_psi.some.total_usec += cases[i].io_some;
                resource_usage_from_samples(&a, &b, cases[i].dt_usec, &u);
                assert_int_equal(u.has_rates, cases[i].has_rates);
                assert_true(u.has_psi);
                assert_float_equal(u.cpu_psi_some_ratio, cases[i].cpu, 1e-9);
                assert_float_equal(u.memory_psi_some_ratio, cases[i].memory, 1e-9);
                assert_float_equal(u.memory_psi_full_ratio, cases[i].memory_full_ratio, 1e-9);
                assert_float_equal(u.io_psi_some_ratio, cases[i].io, 1e-9);

                /* A total that went back (cgroup recreated): no rates at all. */
                resource_usage_from_samples(&b, &a, 1000000, &u);
                assert_false(u.has_rates);
                assert_float_equal(u.cpu_psi_some_ratio + u.memory_psi_some_ratio + u.io_psi_some_ratio, 0.0, 0.0);
        }

        /* Without PSI (v1 cgroups): ratios 0, rates from the rest. */
        {
                CgroupSample a = { .has_cpu = true, .cpu = { .usage_usec = 10 } }, b = a;
                ResourceUsage u;

                b.cpu.usage_usec += 1000;
                resource_usage_from_samples(&a, &b, 1000000, &u);
                assert_true(u.has_rates && !u.has_psi);
                assert_float_equal(u.cpu_psi_some_ratio, 0.0, 0.0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_staggered_sampling),
                cmocka_unit_test(test_rates),
                cmocka_unit_test(test_psi_ratios),
                cmocka_unit_test(test_class_totals_and_node),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
