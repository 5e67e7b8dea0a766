/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: the CPU time of one sample tick (registry refresh + reading
 * every pod's and container's statistics and the node's memory and CPU +
 * building the snapshot) on the real kernel, for a throwaway kubepods
 * hierarchy of many containers, and the process's memory; then the whole
 * tick, with the control stage (indicators, controllers, the plugins
 * writing the budgets to every best-effort pod and container, estimate,
 * eviction check) after the sample. Run as root: tests/bench/sample-tick.sh. */

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/control.h"
#include "agent/macro.h"
#include "bpf/sensors.h"
#include "qos/cgroup-layout.h"
#include "qos/pod-registry.h"
#include "qos/sampler.h"
#include "tests/lib/cgroup-test-tree.h"

/* The goal for 1000 containers. */
#define GOAL_TICK_MSEC 5.0

static CgroupLayout layout;
/* nodeqos-bench-<pid> in every hierarchy the readers look at: the v1
 * controllers' and the unified tree (pressure files). Not v1 cpuset: its
 * children need cpus and mems before use, and nothing here reads it. */
static CgroupTestTree tree;

static double cpu_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static double wall_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static long rss_kib(void) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long kib = -1;

        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static int make(const char *rel) {
        int r = cgroup_test_tree_mkdir(&tree, rel);

        if (r < 0)
                fprintf(stderr, "mkdir %s/%s in every hierarchy: %s\n", tree.name, rel, strerror(-r));
        return r;
}

static void cleanup(void) {
        (void) cgroup_test_tree_done(&tree);
}

static long peak_rss;

/* The control stage's view of the node: the bench's layout, registry and
 * the tick's snapshot (a static: the writer keeps the layout's address). */
static NodeModel model;
/* CPU time spent in control_tick() alone over the measured ticks. */
static double control_msec;

/* Mean CPU ms of a tick (registry refresh + sample) at the given period;
 * -1 on failure. */
static double measure(PodRegistry *registry, unsigned period, Sensors *sensors, Control *control,
                      const Config *config, int ticks, size_t containers, double *ret_first, double *ret_best,
                      double *ret_worst) {
        Sampler *sampler = NULL;
        double t0, total = 0, best = 1e9, worst = 0;
        NodeSnapshot *s = NULL;

        if (sampler_new(&layout, "/proc/pressure", period, &sampler) < 0)
                return -1;
        /* The node's /proc/meminfo and /proc/stat, read each tick as the
         * agent does. */
        if (sampler_open_node_stats(sampler, "/proc") < 0)
                return -1;
        sampler_set_sensors(sampler, sensors);
        t0 = cpu_msec();
        if (sampler_sample(sampler, registry, 0, (uint64_t) (wall_msec() * 1000), &s) < 0)
                return -1;
        /* The control stage's first tick writes cpu.idle to every
         * best-effort pod and container: like opening the readers, a
         * one-off, counted with the first sample. */
        if (control) {
                model.snapshot = s;
                control_tick(control, config, &model, NULL, NULL, false, (uint64_t) (wall_msec() * 1000));
                model.snapshot = NULL;
        }
        *ret_first = cpu_msec() - t0;
        if (s->n_containers != containers) {
                fprintf(stderr, "snapshot has %zu containers, expected %zu\n", s->n_containers, containers);
                return -1;
        }
        node_snapshot_unref(s);

        for (int i = 1; i <= ticks; i++) {
                double d;

                t0 = cpu_msec();
                if (pod_registry_refresh(registry) < 0 ||
                    sampler_sample(sampler, registry, (uint64_t) i, (uint64_t) (wall_msec() * 1000), &s) < 0)
                        return -1;
                if (control) {
                        double c0 = cpu_msec();

                        model.snapshot = s;
                        control_tick(control, config, &model, NULL, NULL, false, (uint64_t) (wall_msec() * 1000));
                        model.snapshot = NULL;
                        control_msec += cpu_msec() - c0;
                }
                node_snapshot_unref(s);
                d = cpu_msec() - t0;
                total += d;
                best = d < best ? d : best;
                worst = d > worst ? d : worst;
                usleep(20000);
        }
        if (rss_kib() > peak_rss)
                peak_rss = rss_kib();
        sampler_free(sampler);
        *ret_best = best;
        *ret_worst = worst;
        return total / ticks;
}

int main(int argc, char *argv[]) {
        int pods = 250, per_pod = 4, ticks = 50, period = 10, c, r;
        ConfigErrors errors = {};
        Config *config = NULL;
        Control *control = NULL;
        PodRegistry *registry = NULL;
        double t0, w0, scan_ms, mean[4];
        Sensors *sensors = NULL;
        long rss_before, rss_registry;
        char rel[PATH_MAX];
        size_t containers = 0;

        while ((c = getopt(argc, argv, "p:c:t:s:")) >= 0)
                switch (c) {
                case 'p': pods = atoi(optarg); break;
                case 'c': per_pod = atoi(optarg); break;
                case 't': ticks = atoi(optarg); break;
                case 's': period = atoi(optarg); break;
                default:
                        fprintf(stderr, "usage: %s [-p PODS] [-c CONTAINERS_PER_POD] [-t TICKS] [-s SAMPLE_PERIOD_TICKS]\n",
                                argv[0]);
                        return 2;
                }
        if (pods < 1 || per_pod < 0 || ticks < 1 || period < 1)
                return 2;

        if (cgroup_layout_detect("/proc/self/mountinfo", "/sys/fs/cgroup", &layout, NULL) < 0) {
                fprintf(stderr, "no usable cgroup layout\n");
                return 1;
        }
        atexit(cleanup);

        rss_before = rss_kib();
        r = cgroup_test_tree_new(&layout, CGROUP_BENCH_PREFIX, 0, &tree);
        if (r < 0) {
                fprintf(stderr, "creating the cgroup tree: %s\n", strerror(-r));
                return 1;
        }
        if (make("kubepods.slice/kubepods-besteffort.slice") < 0)
                return 1;
        w0 = wall_msec();
        for (int p = 0; p < pods; p++) {
                snprintf(rel, sizeof(rel),
                         "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod%08x_0000_4000_8000_%012x.slice",
                         p, p);
                if (make(rel) < 0)
                        return 1;
                for (int k = 0; k < per_pod; k++) {
                        char ctr[PATH_MAX + 128];

                        snprintf(ctr, sizeof(ctr), "%s/cri-containerd-%056x%08x.scope", rel, p, k);
                        if (make(ctr) < 0)
                                return 1;
                        containers++;
                }
        }
        printf("created %d pods, %zu containers in %s mode (%.0f ms)\n", pods, containers,
               cgroup_mode_to_string(layout.mode), wall_msec() - w0);

        t0 = cpu_msec();
        if (pod_registry_new(&(PodRegistryParams) { .layout = &layout, .driver = CGROUP_DRIVER_AUTO,
                                                    .kubelet_root = tree.name },
                             &registry) < 0) {
                fprintf(stderr, "registry failed\n");
                return 1;
        }
        scan_ms = cpu_msec() - t0;
        rss_registry = rss_kib();
        printf("initial scan (registry): %.2f ms CPU\n", scan_ms);

        /* The eBPF sensors, for the third run; without them (no BPF
         * here) that run is skipped. */
        if (sensors_open(&(SensorsOptions) { .mode = layout.mode }, &sensors) < 0)
                return 1;

        /* The tick as configured (a share of the cgroups each tick), every
         * cgroup every tick, and the configured tick with the sensors'
         * maps read and attributed: same tree, same run. */
        /* The agent's built-in defaults drive the controllers. */
        if (config_load_buffer("built-in", config_default_yaml, config_default_yaml_len, &config, &errors) < 0 ||
            control_new(&control) < 0) {
                fprintf(stderr, "configuration or control stage failed\n");
                return 1;
        }
        model.layout = layout;
        model.registry = registry;

        for (int k = 0; k < 4; k++) {
                int p = k == 1 ? 1 : period;
                bool with_sensors = k >= 2, with_control = k == 3;
                double first = 0, best = 0, worst = 0;

                if (with_sensors && !sensors_up(sensors, SENSOR_RUNQUEUE)) {
                        printf("sensors: down (%s), not measured\n", sensors_down_reason(sensors, SENSOR_RUNQUEUE));
                        mean[k] = 0;
                        continue;
                }
                model.sensors = with_sensors ? sensors : NULL;
                mean[k] = measure(registry, (unsigned) p, with_sensors ? sensors : NULL, with_control ? control : NULL,
                                  config, ticks, containers, &first, &best, &worst);
                if (mean[k] < 0)
                        return 1;
                printf("sample period %d%s%s: first sample (opens the readers) %.2f ms; tick mean %.3f ms, min %.3f, "
                       "max %.3f ms CPU (%zu containers + %d pods, %d ticks)\n",
                       p, with_sensors ? " with the eBPF sensors" : "",
                       with_control ? " and the control stage (the whole tick)" : "", first, mean[k], best, worst, containers, pods,
                       ticks);
        }
        if (mean[3] > 0) {
                CgroupWriteStats w;
                uint64_t written = 0, unchanged = 0;

                control_write_stats(control, &w);
                for (int k = 0; k < _CGROUP_KNOB_MAX; k++) {
                        written += w.calls[k][CGROUP_WRITE_WRITTEN];
                        unchanged += w.calls[k][CGROUP_WRITE_UNCHANGED];
                }
                printf("control_tick() alone: %.3f ms CPU mean\n", control_msec / ticks);
                printf("the control stage's share of the tick: %.3f ms; the whole tick / goal: %.2f (setter calls: "
                       "%" PRIu64 " wrote, %" PRIu64 " unchanged, the first tick's included: the budgets ramp up "
                       "from their minimum meanwhile)\n",
                       mean[3] - mean[2], mean[3] / GOAL_TICK_MSEC * 1000.0 / (double) containers, written,
                       unchanged);
        }
        if (mean[2] > 0)
                printf("the sensors' share of the tick (reading their maps, attributing): %.3f ms\n", mean[2] - mean[0]);
        printf("per cgroup read: %.2f us CPU\n", mean[1] * 1000.0 / (double) (containers + (size_t) pods));
        printf("goal: <= %.1f ms per tick for 1000 containers; ratio tick/goal (scaled to 1000 containers): %.2f "
               "(reading every cgroup every tick: %.2f)\n",
               GOAL_TICK_MSEC, mean[0] / GOAL_TICK_MSEC * 1000.0 / (double) containers,
               mean[1] / GOAL_TICK_MSEC * 1000.0 / (double) containers);
        printf("RSS: %ld KiB at start, %ld KiB with the registry, %ld KiB peak with all readers open\n", rss_before,
               rss_registry, peak_rss);

        control_free(control);
        config_free(config);
        sensors_free(sensors);
        pod_registry_free(registry);
        cleanup();
        cgroup_layout_done(&layout);
        return 0;
}
