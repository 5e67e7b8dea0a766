/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup stages end to end on the real kernel: a throwaway kubepods
 * hierarchy in every hierarchy of this machine, a busy process in one
 * container, discovery (registry), usage that grows (sampler), writes read
 * back from the kernel (writer), and containers removed mid-run dropping
 * out. Everything is created under a unique name and removed. */

#include <errno.h>
#include <limits.h>
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
#include "bpf/sensors.h"
#include "plugins/cgroup-writer.h"
#include "qos/cgroup-layout.h"
#include "qos/pod-registry.h"
#include "qos/sampler.h"
#include "tests/lib/cgroup-test-tree.h"

#define POD1 "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f"
#define POD1_ "0f3c8a4e_2b1d_4c5e_9f60_7a8b9c0d1e2f"
#define POD2 "11111111-2222-3333-4444-555555555555"
#define POD2_ "11111111_2222_3333_4444_555555555555"
#define C1 "1111111111111111111111111111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333333333333333333333333333"

#define BE "kubepods.slice/kubepods-besteffort.slice"
#define POD1_DIR BE "/kubepods-besteffort-pod" POD1_ ".slice"
#define C1_DIR POD1_DIR "/cri-containerd-" C1 ".scope"
#define C2_DIR POD1_DIR "/cri-containerd-" C2 ".scope"
#define POD2_DIR "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD2_ ".slice"
#define C3_DIR POD2_DIR "/cri-containerd-" C3 ".scope"

static CgroupLayout layout;
/* nodeqos-test-cgroups-<pid> in every hierarchy but v1 cpuset (whose
 * children need cpus and mems before a task can join; nothing here reads or
 * writes cpuset). */
static CgroupTestTree tree;
static pid_t child = -1;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void make(const char *rel) {
        int r = cgroup_test_tree_mkdir(&tree, rel);

        if (r < 0)
                fail_msg("mkdir %s in every hierarchy: %s", rel, strerror(-r));
}

static long long read_number(const char *mount, const char *rel, const char *file) {
        char path[PATH_MAX];
        long long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s/%s", mount, tree.name, rel, file);
        f = fopen(path, "re");
        if (!f || fscanf(f, "%lld", &v) != 1)
                fail_msg("read %s", path);
        fclose(f);
        return v;
}

static void cleanup(void) {
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
                child = -1;
        }
        (void) cgroup_test_tree_done(&tree);
}

/* A child that burns CPU and holds 64 MiB, started once it is in C1. */
static void start_child(void) {
        pid_t parent = getpid();
        int go[2], r;

        assert_int_equal(pipe(go), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                char c;
                volatile unsigned long spin = 0;
                size_t size = 64u << 20;
                char *mem;

                /* Dies with us, even if we crash: a task left in the cgroups
                 * would keep the next run's sweep from removing them. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(1);
                close(go[1]);
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                /* Touched after the move: v1 charges pages to the cgroup
                 * they are faulted in, not the one the task moves to. */
                mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (mem == MAP_FAILED)
                        _exit(1);
                /* volatile: the stores are the point, not dead code. */
                for (size_t i = 0; i < size; i += 4096)
                        ((volatile char *) mem)[i] = 1;
                for (;;)
                        spin++;
        }
        close(go[0]);
        r = cgroup_test_tree_move(&tree, C1_DIR, child);
        if (r < 0)
                fail_msg("moving %d into %s: %s", (int) child, C1_DIR, strerror(-r));
        assert_int_equal(write(go[1], "g", 1), 1);
        close(go[1]);
}

/* n busy tasks in rel, for run-queue contention; they die with us. */
static void start_spinners(const char *rel, pid_t *pids, size_t n) {
        pid_t parent = getpid();

        for (size_t i = 0; i < n; i++) {
                int r;

                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        volatile unsigned long spin = 0;

                        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                                _exit(1);
                        for (;;)
                                spin++;
                }
                r = cgroup_test_tree_move(&tree, rel, pids[i]);
                if (r < 0)
                        fail_msg("moving %d into %s: %s", (int) pids[i], rel, strerror(-r));
        }
}

static void stop_spinners(pid_t *pids, size_t n) {
        for (size_t i = 0; i < n; i++) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
        }
}

static const ContainerSnapshot *container(const NodeSnapshot *s, const char *id) {
        for (size_t i = 0; i < s->n_workloads; i++)
                for (size_t j = 0; j < s->workloads[i].n_containers; j++)
                        if (strcmp(s->workloads[i].containers[j].id, id) == 0)
                                return &s->workloads[i].containers[j];
        return NULL;
}

static const WorkloadSnapshot *pod(const NodeSnapshot *s, const char *uid) {
        for (size_t i = 0; i < s->n_workloads; i++)
                if (strcmp(s->workloads[i].uid, uid) == 0)
                        return &s->workloads[i];
        return NULL;
}

static NodeSnapshot *sample(Sampler *sampler, PodRegistry *registry, uint64_t tick) {
        NodeSnapshot *s = NULL;

        assert_true(pod_registry_refresh(registry) >= 0);
        assert_int_equal(sampler_sample(sampler, registry, tick, now_usec(), &s), 0);
        return s;
}

static void test_end_to_end(void **state) {
        PodRegistry *registry = NULL;
        Sampler *sampler = NULL;
        Sensors *sensors = NULL;
        CgroupWriter *writer = NULL;
        pid_t spinners[3];
        NodeSnapshot *s;
        char managed[128], c1[PATH_MAX], be[PATH_MAX];
        char *managed_roots[] = { managed };
        const ContainerSnapshot *c;
        const WorkloadSnapshot *p;

        assert_int_equal(cgroup_test_tree_new(&layout, CGROUP_TEST_PREFIX "cgroups", 0, &tree), 0);
        /* With their parents: kubepods.slice, the QoS slices, the pods. */
        make(C1_DIR);
        make(C2_DIR);
        make(C3_DIR);

        /* Discovery. */
        assert_int_equal(pod_registry_new(&(PodRegistryParams) { .layout = &layout, .driver = CGROUP_DRIVER_AUTO,
                                                                 .kubelet_root = tree.name },
                                          &registry),
                         0);
        assert_int_equal(pod_registry_driver(registry), CGROUP_DRIVER_SYSTEMD);
        assert_int_equal(pod_registry_count(registry), 2);
        assert_int_equal(sampler_new(&layout, "/proc/pressure", 1, &sampler), 0);
        assert_int_equal(sampler_open_node_stats(sampler, "/proc"), 0);
        assert_int_equal(sensors_open(&(SensorsOptions) { .mode = layout.mode }, &sensors), 0);
        assert_true(sensors_up(sensors, SENSOR_RUNQUEUE));
        sampler_set_sensors(sampler, sensors);

        /* Usage that grows: the busy container, not its idle sibling. */
        start_child();
        s = sample(sampler, registry, 1);
        node_snapshot_unref(s);
        usleep(600 * 1000);
        s = sample(sampler, registry, 2);
        assert_int_equal(s->n_workloads, 2);
        assert_int_equal(s->n_containers, 3);
        c = container(s, C1);
        assert_non_null(c);
        assert_true(c->usage.has_rates);
        print_message("busy container: %.0f millicores, %llu bytes used, %llu bytes working set\n",
                      c->usage.cpu_millicores, (unsigned long long) c->usage.memory_usage_bytes,
                      (unsigned long long) c->usage.memory_working_set_bytes);
        assert_true(c->usage.cpu_millicores > 300);
        assert_true(c->usage.memory_usage_bytes >= (60u << 20));
        assert_true(container(s, C2)->usage.cpu_millicores < 100);
        p = pod(s, POD1);
        assert_int_equal(p->qos_class, QOS_CLASS_RECLAIMED_CORES);
        /* The pod's cgroup includes its containers. */
        assert_true(p->usage.cpu_millicores >= 0.8 * c->usage.cpu_millicores);
        assert_true(s->classes[QOS_CLASS_RECLAIMED_CORES].cpu_millicores > 300);
        /* The QoS-level cgroups aggregate their pods. */
        assert_true(s->kube_tiers[KUBE_TIER_BESTEFFORT].cpu_millicores > 300);
        assert_true(s->kube_tiers[KUBE_TIER_GUARANTEED].cpu_millicores >=
                    0.8 * s->kube_tiers[KUBE_TIER_BESTEFFORT].cpu_millicores);
        assert_true(s->kube_tiers[KUBE_TIER_BURSTABLE].cpu_millicores < 100);
        assert_int_equal(pod(s, POD2)->qos_class, QOS_CLASS_SHARED_CORES);
        assert_true(s->has_node_psi);
        /* The busy container's anonymous memory, in its class's total; the
         * node's memory and CPU from /proc, its spinning among the busy. */
        assert_true(c->usage.memory_unreclaimable_bytes >= (60u << 20));
        /* The pod's memory.stat may lag its container's: the kernel
         * flushes memcg statistics at most every 2 s. */
        for (int i = 0; s->classes[QOS_CLASS_RECLAIMED_CORES].memory_unreclaimable_bytes < (60u << 20) && i < 6;
             i++) {
                node_snapshot_unref(s);
                usleep(600 * 1000);
                s = sample(sampler, registry, (uint64_t) (3 + i));
        }
        assert_true(s->classes[QOS_CLASS_RECLAIMED_CORES].memory_unreclaimable_bytes >= (60u << 20));
        assert_true(s->has_node_memory && s->node_memory.total_bytes > s->node_memory.available_bytes);
        assert_true(s->has_node_cpu);
        assert_float_equal(s->node_cpu_capacity_millicores, 1000.0 * (double) sysconf(_SC_NPROCESSORS_ONLN), 0);
        print_message("node: %.0f of %.0f millicores used\n", s->node_cpu_used_millicores,
                      s->node_cpu_capacity_millicores);
        assert_true(s->node_cpu_used_millicores > 300 &&
                    s->node_cpu_used_millicores <= s->node_cpu_capacity_millicores);
        node_snapshot_unref(s);

        /* Writes land and read back; the quota holds the container down. */
        snprintf(managed, sizeof(managed), "%s/kubepods.slice", tree.name);
        snprintf(c1, sizeof(c1), "%s/%s", tree.name, C1_DIR);
        snprintf(be, sizeof(be), "%s/%s", tree.name, BE);
        assert_int_equal(cgroup_writer_new(&layout, managed_roots, 1, &writer), 0);
        assert_int_equal(cgroup_set_cpu_quota(writer, c1, 20000, 100000), 1);
        assert_int_equal(cgroup_set_cpu_quota(writer, c1, 20000, 100000), 0);
        assert_int_equal(cgroup_set_memory_max(writer, c1, 256ll << 20), 1);
        assert_int_equal(cgroup_set_cpu_idle(writer, be, true), 1);
        if (layout.mode != CGROUP_MODE_V2) {
                assert_int_equal(read_number(layout.controller_mount[CGROUP_CONTROLLER_CPU], C1_DIR, "cpu.cfs_quota_us"),
                                 20000);
                assert_int_equal(read_number(layout.controller_mount[CGROUP_CONTROLLER_MEMORY], C1_DIR,
                                             "memory.limit_in_bytes"),
                                 256ll << 20);
                assert_int_equal(read_number(layout.controller_mount[CGROUP_CONTROLLER_CPU], BE, "cpu.idle"), 1);
        }
        /* Outside the managed root: refused. */
        assert_int_equal(cgroup_set_cpu_quota(writer, tree.name, 20000, 100000), -EPERM);

        s = sample(sampler, registry, 3);
        node_snapshot_unref(s);
        usleep(1000 * 1000);
        s = sample(sampler, registry, 4);
        c = container(s, C1);
        print_message("busy container at a 20%% quota: %.0f millicores\n", c->usage.cpu_millicores);
        assert_true(c->usage.cpu_millicores < 300);
        assert_true(c->usage.cpu_millicores > 50);
        node_snapshot_unref(s);

        /* The sensors' figures reach the workload that owns the cgroup:
         * more busy tasks than CPUs in the burstable pod's container. */
        start_spinners(C3_DIR, spinners, ELEMENTSOF(spinners));
        s = sample(sampler, registry, 50);
        node_snapshot_unref(s);
        usleep(600 * 1000);
        s = sample(sampler, registry, 51);
        stop_spinners(spinners, ELEMENTSOF(spinners));
        p = pod(s, POD2);
        print_message("contended pod: %llu run-queue waits this tick, p99 %.0f us; %llu preemptions in all\n",
                      (unsigned long long) p->sensor_tick.runqueue_count, p->sensor_tick.runqueue_p99_ns / 1000,
                      (unsigned long long) p->sensors.preempted);
        assert_true(s->sensor_up[SENSOR_RUNQUEUE]);
        assert_true(p->sensor_tick.has_runqueue);
        assert_true(p->sensor_tick.runqueue_count > 10);
        assert_true(p->sensor_tick.runqueue_p99_ns > 0);
        assert_true(p->sensors.runqueue.count >= p->sensor_tick.runqueue_count);
        assert_true(s->classes[QOS_CLASS_SHARED_CORES].sensor_tick.runqueue_count >= p->sensor_tick.runqueue_count);
        node_snapshot_unref(s);

        /* A container removed mid-run drops out; then the emptied one. */
        assert_int_equal(cgroup_test_tree_remove(&tree, C2_DIR), 0);
        s = sample(sampler, registry, 5);
        assert_int_equal(s->n_containers, 2);
        assert_null(container(s, C2));
        node_snapshot_unref(s);

        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
        usleep(100 * 1000); /* the kernel empties the cgroup asynchronously */
        assert_int_equal(cgroup_test_tree_remove(&tree, C1_DIR), 0);
        cgroup_writer_forget(writer, c1);
        s = sample(sampler, registry, 6);
        assert_int_equal(s->n_containers, 1);
        assert_int_equal(pod(s, POD1)->n_containers, 0);
        node_snapshot_unref(s);

        cgroup_writer_free(writer);
        sampler_free(sampler);
        sensors_free(sensors);
        pod_registry_free(registry);
}

static int setup(void **state) {
        struct stat st;

        if (cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &layout, NULL) < 0 ||
            stat(cgroup_layout_primary_mount(&layout), &st) < 0)
                skip();
        if (geteuid() != 0)
                skip();
        return 0;
}

static int teardown(void **state) {
        cleanup();
        cgroup_layout_done(&layout);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_end_to_end, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
