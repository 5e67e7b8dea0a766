/* SPDX-License-Identifier: Apache-2.0 */
/* The kubelet's cgroup names for both drivers, and the QoS class precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/kube-cgroup.h"
#include "qos/qos-class.h"

static void test_pod_dirs(void **state) {
        static const struct {
                CgroupDriver driver;
                KubeTier tier;
                const char *name, *uid; /* uid NULL: not a pod */
        } cases[] = {
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT,
                  "kubepods-besteffort-pod0f3c8a4e_2b1d_4c5e_9f60_7a8b9c0d1e2f.slice",
                  "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f" },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BURSTABLE,
                  "kubepods-burstable-pod0f3c8a4e_2b1d_4c5e_9f60_7a8b9c0d1e2f.slice",
                  "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f" },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_GUARANTEED, "kubepods-pod1234abcd.slice", "1234abcd" },
                /* a static pod's hash UID */
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BURSTABLE,
                  "kubepods-burstable-podd41d8cd98f00b204e9800998ecf8427e.slice", "d41d8cd98f00b204e9800998ecf8427e" },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_GUARANTEED, "kubepods-burstable.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_GUARANTEED, "kubepods-besteffort.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT, "kubepods-burstable-pod1234.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT, "kubepods-besteffort-pod.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT, "kubepods-besteffort-pod12-34.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT, "kubepods-besteffort-pod1234.scope", NULL },
                { CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT, "kubepods-besteffort-pod../x.slice", NULL },
                { CGROUP_DRIVER_CGROUPFS, KUBE_TIER_BESTEFFORT, "pod0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f",
                  "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f" },
                { CGROUP_DRIVER_CGROUPFS, KUBE_TIER_GUARANTEED, "besteffort", NULL },
                { CGROUP_DRIVER_CGROUPFS, KUBE_TIER_GUARANTEED, "burstable", NULL },
                { CGROUP_DRIVER_CGROUPFS, KUBE_TIER_GUARANTEED, "pod", NULL },
                { CGROUP_DRIVER_CGROUPFS, KUBE_TIER_GUARANTEED, "pod0f3c_8a4e", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char uid[KUBE_UID_MAX] = "";
                int r = kube_parse_pod_dir(cases[i].driver, cases[i].tier, cases[i].name, uid);

                if ((r == 0) != (cases[i].uid != NULL))
                        print_error("case '%s': r=%d\n", cases[i].name, r);
                if (cases[i].uid) {
                        assert_int_equal(r, 0);
                        assert_string_equal(uid, cases[i].uid);
                } else
                        assert_int_equal(r, -EINVAL);
        }
}

static void test_container_dirs(void **state) {
        static const char id[] = "4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
        static const struct {
                CgroupDriver driver;
                const char *name, *runtime; /* runtime NULL: not a container */
        } cases[] = {
                { CGROUP_DRIVER_SYSTEMD, "cri-containerd-4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5.scope",
                  "containerd" },
                { CGROUP_DRIVER_SYSTEMD, "crio-4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5.scope", "crio" },
                { CGROUP_DRIVER_SYSTEMD, "docker-4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5.scope",
                  "docker" },
                { CGROUP_DRIVER_SYSTEMD,
                  "crio-conmon-4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5.scope", NULL },
                { CGROUP_DRIVER_SYSTEMD, "cri-containerd-.scope", NULL },
                { CGROUP_DRIVER_SYSTEMD, "cri-containerd-4f1c.slice", NULL },
                { CGROUP_DRIVER_SYSTEMD, "init.scope", NULL },
                { CGROUP_DRIVER_CGROUPFS, "4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5", "" },
                { CGROUP_DRIVER_CGROUPFS, "not-a-container", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char got[KUBE_CONTAINER_ID_MAX] = "";
                const char *runtime = NULL;
                int r = kube_parse_container_dir(cases[i].driver, cases[i].name, got, &runtime);

                if ((r == 0) != (cases[i].runtime != NULL))
                        print_error("case '%s': r=%d\n", cases[i].name, r);
                if (cases[i].runtime) {
                        assert_int_equal(r, 0);
                        assert_string_equal(got, id);
                        assert_string_equal(runtime, cases[i].runtime);
                } else
                        assert_int_equal(r, -EINVAL);
        }
}

static void test_names(void **state) {
        assert_string_equal(kube_root_name(CGROUP_DRIVER_SYSTEMD), "kubepods.slice");
        assert_string_equal(kube_root_name(CGROUP_DRIVER_CGROUPFS), "kubepods");
        assert_string_equal(kube_tier_dir(CGROUP_DRIVER_SYSTEMD, KUBE_TIER_BESTEFFORT), "kubepods-besteffort.slice");
        assert_string_equal(kube_tier_dir(CGROUP_DRIVER_CGROUPFS, KUBE_TIER_BURSTABLE), "burstable");
        assert_null(kube_tier_dir(CGROUP_DRIVER_SYSTEMD, KUBE_TIER_GUARANTEED));
}

static void test_class_precedence(void **state) {
        static const QosRule rules[] = {
                { .match = (char *) "system.slice/**", .qos_class = QOS_CLASS_SYSTEM_CORES },
                { .match = (char *) "batch.slice/**", .qos_class = QOS_CLASS_RECLAIMED_CORES },
                { .match = (char *) "**", .qos_class = QOS_CLASS_SHARED_CORES },
        };
        static const struct {
                QosClassInputs in;
                QosClass expected;
        } cases[] = {
                /* Katalyst's annotation beats everything. */
                { { .katalyst_qos_level = "dedicated_cores", .koordinator_qos_class = "BE",
                    .kube_tier = KUBE_TIER_BESTEFFORT }, QOS_CLASS_DEDICATED_CORES },
                /* An unknown annotation value falls through. */
                { { .katalyst_qos_level = "bogus", .koordinator_qos_class = "BE", .kube_tier = KUBE_TIER_GUARANTEED },
                  QOS_CLASS_RECLAIMED_CORES },
                { { .koordinator_qos_class = "LSE", .kube_tier = -1 }, QOS_CLASS_DEDICATED_CORES },
                { { .koordinator_qos_class = "LSR", .kube_tier = -1 }, QOS_CLASS_DEDICATED_CORES },
                { { .koordinator_qos_class = "LS", .kube_tier = KUBE_TIER_BESTEFFORT }, QOS_CLASS_SHARED_CORES },
                { { .koordinator_qos_class = "SYSTEM", .kube_tier = -1 }, QOS_CLASS_SYSTEM_CORES },
                { { .koordinator_qos_class = "be", .nodeqos_qos_class = "system_cores", .kube_tier = -1 },
                  QOS_CLASS_SYSTEM_CORES },
                { { .kube_tier = KUBE_TIER_BESTEFFORT }, QOS_CLASS_RECLAIMED_CORES },
                { { .kube_tier = KUBE_TIER_BURSTABLE }, QOS_CLASS_SHARED_CORES },
                { { .kube_tier = KUBE_TIER_GUARANTEED }, QOS_CLASS_SHARED_CORES },
                /* Rules only when nothing else decides; first match wins. */
                { { .kube_tier = -1, .cgroup = "batch.slice/job1.service", .rules = rules, .n_rules = 3 },
                  QOS_CLASS_RECLAIMED_CORES },
                { { .kube_tier = -1, .cgroup = "web.slice", .rules = rules, .n_rules = 3 }, QOS_CLASS_SHARED_CORES },
                { { .kube_tier = -1, .cgroup = "web.slice", .rules = rules, .n_rules = 2 }, _QOS_CLASS_INVALID },
                { { .kube_tier = -1 }, _QOS_CLASS_INVALID },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                QosClass c = qos_class_resolve(&cases[i].in);
                if (c != cases[i].expected)
                        print_error("case %zu: got %d\n", i, c);
                assert_int_equal(c, cases[i].expected);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pod_dirs),
                cmocka_unit_test(test_container_dirs),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_class_precedence),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
