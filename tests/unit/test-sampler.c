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

static void put(const char *rel, const char *file, const char *text) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s", dir, rel, file);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
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
        CgroupLayout layout = { .mode = CGROUP_MODE_V2 };
        PodRegistry *registry = NULL;
        Sampler *sampler = NULL;
        NodeSnapshot *s = NULL;
        size_t with_rates;

        strcpy(dir, "/tmp/nodeqos-test-sampler-XXXXXX");
        assert_non_null(mkdtemp(dir));
        put(".", "cgroup.controllers", "cpu memory io\n");
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                layout.controller_mount[c] = dir;
        layout.unified_mount = dir;

        make_cgroup("kubepods", 0);
        make_cgroup("kubepods/besteffort", 0);
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
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
