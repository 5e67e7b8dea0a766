/* SPDX-License-Identifier: Apache-2.0 */
/* Which cgroups hold the best-effort budgets and which are made idle, from
 * snapshots of both cgroup drivers on v2 and v1 paths: the besteffort tier,
 * reclaimed pods inside and outside it, rule-matched slices, and the other
 * classes, which never appear. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "plugins/best-effort-cgroups.h"

#define MAX_CGROUPS 8

typedef struct TestWorkload {
        QosClass qos_class;
        const char *cgroup;
        const char *containers[3]; /* ends at NULL */
} TestWorkload;

typedef struct BeCase {
        const char *name;
        CgroupMode mode;
        CgroupDriver driver;
        const char *kube_root;
        bool tier_sampled; /* the sampler read the besteffort tier */
        TestWorkload workloads[6]; /* ends at cgroup NULL */
        const char *groups[MAX_CGROUPS];
        const char *members[MAX_CGROUPS];
} BeCase;

#define SD_BE "kubepods.slice/kubepods-besteffort.slice"
#define SD_BU "kubepods.slice/kubepods-burstable.slice"
#define FS_BE "kubepods/besteffort"

/* One of each other class, in every case that has pods: never listed. */
#define SD_SHARED SD_BU "/kubepods-burstable-pods.slice"
#define SD_DEDICATED "kubepods.slice/kubepods-podd.slice"
#define SD_OTHERS                                                                 \
        { QOS_CLASS_SHARED_CORES, SD_SHARED, { SD_SHARED "/s1" } },               \
        { QOS_CLASS_DEDICATED_CORES, SD_DEDICATED, { SD_DEDICATED "/d1" } },      \
        { QOS_CLASS_SYSTEM_CORES, "system.slice/agent.service", {} }

static const BeCase cases[] = {
        { "systemd v2: the tier, a reclaimed burstable pod and a slice",
          CGROUP_MODE_V2,
          CGROUP_DRIVER_SYSTEMD,
          "kubepods.slice",
          true,
          { { QOS_CLASS_RECLAIMED_CORES,
              SD_BE "/kubepods-besteffort-poda.slice",
              { SD_BE "/kubepods-besteffort-poda.slice/a1", SD_BE "/kubepods-besteffort-poda.slice/a2" } },
            { QOS_CLASS_RECLAIMED_CORES, SD_BU "/kubepods-burstable-podb.slice", { SD_BU "/kubepods-burstable-podb.slice/b1" } },
            SD_OTHERS,
            { QOS_CLASS_RECLAIMED_CORES, "batch.slice/job.service", {} } },
          { SD_BE, SD_BU "/kubepods-burstable-podb.slice", "batch.slice/job.service" },
          { SD_BE "/kubepods-besteffort-poda.slice", SD_BE "/kubepods-besteffort-poda.slice/a1",
            SD_BE "/kubepods-besteffort-poda.slice/a2", SD_BU "/kubepods-burstable-podb.slice",
            SD_BU "/kubepods-burstable-podb.slice/b1", "batch.slice/job.service" } },
        { "cgroupfs v1: the same with the cgroupfs names",
          CGROUP_MODE_V1,
          CGROUP_DRIVER_CGROUPFS,
          "kubepods",
          true,
          { { QOS_CLASS_RECLAIMED_CORES, FS_BE "/poda", { FS_BE "/poda/a1" } },
            { QOS_CLASS_RECLAIMED_CORES, "kubepods/burstable/podb", { "kubepods/burstable/podb/b1" } },
            { QOS_CLASS_SHARED_CORES, "kubepods/burstable/pods", { "kubepods/burstable/pods/s1" } },
            { QOS_CLASS_DEDICATED_CORES, "kubepods/podd", {} } },
          { FS_BE, "kubepods/burstable/podb" },
          { FS_BE "/poda", FS_BE "/poda/a1", "kubepods/burstable/podb", "kubepods/burstable/podb/b1" } },
        { "systemd v1 under a kubelet cgroup root",
          CGROUP_MODE_HYBRID,
          CGROUP_DRIVER_SYSTEMD,
          "nodes.slice/kubepods.slice",
          false,
          { { QOS_CLASS_RECLAIMED_CORES, "nodes.slice/" SD_BE "/kubepods-besteffort-poda.slice", {} } },
          { "nodes.slice/" SD_BE },
          { "nodes.slice/" SD_BE "/kubepods-besteffort-poda.slice" } },
        { "the tier sampled but empty: it still holds the budget",
          CGROUP_MODE_V2,
          CGROUP_DRIVER_SYSTEMD,
          "kubepods.slice",
          true,
          { SD_OTHERS },
          { SD_BE },
          {} },
        { "the tier neither sampled nor holding a pod: not a group",
          CGROUP_MODE_V2,
          CGROUP_DRIVER_SYSTEMD,
          "kubepods.slice",
          false,
          { { QOS_CLASS_RECLAIMED_CORES, SD_BU "/kubepods-burstable-podb.slice", {} }, SD_OTHERS },
          { SD_BU "/kubepods-burstable-podb.slice" },
          { SD_BU "/kubepods-burstable-podb.slice" } },
        { "a shared_cores pod in the tier: each reclaimed pod holds its own share",
          CGROUP_MODE_V1,
          CGROUP_DRIVER_CGROUPFS,
          "kubepods",
          true,
          { { QOS_CLASS_RECLAIMED_CORES, FS_BE "/poda", { FS_BE "/poda/a1" } },
            { QOS_CLASS_SHARED_CORES, FS_BE "/pods", { FS_BE "/pods/s1" } },
            { QOS_CLASS_RECLAIMED_CORES, FS_BE "/podc", {} } },
          { FS_BE "/poda", FS_BE "/podc" },
          { FS_BE "/poda", FS_BE "/poda/a1", FS_BE "/podc" } },
        { "a sibling named like the tier is not in it",
          CGROUP_MODE_V1,
          CGROUP_DRIVER_CGROUPFS,
          "kubepods",
          false,
          { { QOS_CLASS_RECLAIMED_CORES, "kubepods/besteffort-x/pod", {} } },
          { "kubepods/besteffort-x/pod" },
          { "kubepods/besteffort-x/pod" } },
        { "no kubepods: slices only",
          CGROUP_MODE_V2,
          CGROUP_DRIVER_AUTO,
          NULL,
          false,
          { { QOS_CLASS_RECLAIMED_CORES, "batch.slice/a.service", {} },
            { QOS_CLASS_SYSTEM_CORES, "system.slice/b.service", {} },
            { QOS_CLASS_SHARED_CORES, "web.slice/c.service", {} } },
          { "batch.slice/a.service" },
          { "batch.slice/a.service" } },
        { "nothing reclaimed, no tier",
          CGROUP_MODE_V1,
          CGROUP_DRIVER_SYSTEMD,
          "kubepods.slice",
          false,
          { SD_OTHERS },
          {},
          {} },
};

static void assert_list(char **got, size_t n, const char *const *want) {
        size_t n_want = 0;

        while (n_want < MAX_CGROUPS && want[n_want])
                n_want++;
        for (size_t i = 0; i < n && i < n_want; i++)
                assert_string_equal(got[i], want[i]);
        assert_int_equal(n, n_want);
}

static void test_cases(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const BeCase *c = &cases[i];
                WorkloadSnapshot workloads[6] = {};
                ContainerSnapshot containers[6][3] = {};
                NodeSnapshot s = { .mode = c->mode, .driver = c->driver, .workloads = workloads };
                BestEffortCgroups be = {};

                print_message("%s\n", c->name);
                s.kube_tiers[KUBE_TIER_BESTEFFORT].has_cpu = c->tier_sampled;
                for (size_t k = 0; k < ELEMENTSOF(c->workloads) && c->workloads[k].cgroup; k++) {
                        WorkloadSnapshot *w = &workloads[s.n_workloads++];

                        w->qos_class = c->workloads[k].qos_class;
                        w->cgroup = (char *) c->workloads[k].cgroup;
                        w->containers = containers[k];
                        for (size_t j = 0; j < ELEMENTSOF(c->workloads[k].containers) &&
                                           c->workloads[k].containers[j];
                             j++)
                                containers[k][w->n_containers++].cgroup = (char *) c->workloads[k].containers[j];
                }

                assert_int_equal(best_effort_cgroups_from_snapshot(&s, c->kube_root, &be), 0);
                assert_list(be.groups, be.n_groups, c->groups);
                assert_list(be.members, be.n_members, c->members);
                best_effort_cgroups_done(&be);
                assert_null(be.groups);
                assert_int_equal(be.n_members, 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
