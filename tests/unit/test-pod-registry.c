/* SPDX-License-Identifier: Apache-2.0 */
/* Pod and container discovery for both kubelet drivers, plain cgroups by
 * rules, and incremental updates, on fixture trees of each layout (the
 * registry walks the primary hierarchy: the unified one on v2, cpu on v1 and
 * hybrid) and on the real kernel. */

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
#include "qos/cgroup-layout.h"
#include "qos/pod-registry.h"
#include "tests/lib/cgroup-test-tree.h"
#include "tests/lib/test-fs.h"

#define UID1 "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f"
#define UID1_ "0f3c8a4e_2b1d_4c5e_9f60_7a8b9c0d1e2f"
#define UID2 "11111111-2222-3333-4444-555555555555"
#define UID2_ "11111111_2222_3333_4444_555555555555"
#define UID3 "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define UID3_ "aaaaaaaa_bbbb_cccc_dddd_eeeeeeeeeeee"
#define CID1 "4f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
#define CID2 "5f1c0d8e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"

/* A layout the checks run on. */
typedef struct Variant {
        const char *name;
        CgroupMode mode;
        bool real; /* this machine's v1 cpu hierarchy, not a fixture */
} Variant;

static const Variant variants[] = {
        /* every controller and the unified mount: the fixture's unified/ */
        { "v2", CGROUP_MODE_V2, false },
        /* the cpu hierarchy: the fixture's cpu/; no unified tree */
        { "v1", CGROUP_MODE_V1, false },
        /* cpu/ as on v1, and a unified/ beside it that is not walked */
        { "hybrid", CGROUP_MODE_HYBRID, false },
        { "real kernel", CGROUP_MODE_V1, true },
};

typedef struct Tree {
        const Variant *variant;
        CgroupLayout layout;   /* what the registry is given */
        const char *walked;    /* where the pods are made: the hierarchy the registry must walk */
        char dir[PATH_MAX];    /* fixture: the temporary directory holding the hierarchies */
        CgroupTestTree cgroup; /* real: nodeqos-test-registry-<pid> in the cpu hierarchy */
        char prefix[128];      /* the kubelet's cgroup root below walked ("" or a test dir) */
} Tree;

static void mkdir_p(const Tree *t, const char *rel) {
        char path[PATH_MAX * 2], *p;

        snprintf(path, sizeof(path), "%s/%s%s%s", t->walked, t->prefix, t->prefix[0] ? "/" : "", rel);
        for (p = path + strlen(t->walked) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void) mkdir(path, 0755);
                *p = '/';
        }
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %m", path);
}

static void rmdir_rel(const Tree *t, const char *rel) {
        char path[PATH_MAX * 2];

        snprintf(path, sizeof(path), "%s/%s%s%s", t->walked, t->prefix, t->prefix[0] ? "/" : "", rel);
        if (rmdir(path) < 0)
                fail_msg("rmdir %s: %m", path);
}

static const Workload *find(const PodRegistry *r, const char *uid_or_cgroup) {
        for (size_t i = 0; i < pod_registry_count(r); i++) {
                const Workload *w = pod_registry_get(r, i);
                if (strcmp(w->uid, uid_or_cgroup) == 0 || strcmp(w->cgroup, uid_or_cgroup) == 0)
                        return w;
        }
        return NULL;
}

static PodRegistry *registry_for(const Tree *t, CgroupDriver driver, char *const *extra, size_t n_extra,
                                 const QosRule *rules, size_t n_rules) {
        PodRegistry *r = NULL;
        PodRegistryParams p = {
                .layout = &t->layout,
                .driver = driver,
                .kubelet_root = t->prefix,
                .extra_roots = extra,
                .n_extra_roots = n_extra,
                .rules = rules,
                .n_rules = n_rules,
        };

        assert_int_equal(pod_registry_new(&p, &r), 0);
        return r;
}

static void check_systemd_tree(const Tree *t) {
        PodRegistry *r;
        const Workload *w;
        char expected[512];

        mkdir_p(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice/cri-containerd-" CID1 ".scope");
        mkdir_p(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice/crio-conmon-" CID2 ".scope");
        mkdir_p(t, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID2_ ".slice/crio-" CID1 ".scope");
        mkdir_p(t, "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID2_ ".slice/crio-" CID2 ".scope");
        mkdir_p(t, "kubepods.slice/kubepods-pod" UID3_ ".slice");
        mkdir_p(t, "kubepods.slice/not-a-pod.slice");

        r = registry_for(t, CGROUP_DRIVER_AUTO, NULL, 0, NULL, 0);
        assert_int_equal(pod_registry_driver(r), CGROUP_DRIVER_SYSTEMD);
        assert_int_equal(pod_registry_count(r), 3);

        w = find(r, UID1);
        assert_non_null(w);
        assert_int_equal(w->tier, KUBE_TIER_BESTEFFORT);
        assert_int_equal(w->qos_class, QOS_CLASS_RECLAIMED_CORES);
        assert_int_equal(w->n_containers, 1); /* conmon is not a container */
        assert_string_equal(w->containers[0].id, CID1);
        assert_string_equal(w->containers[0].runtime, "containerd");
        snprintf(expected, sizeof(expected),
                 "%s%skubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice", t->prefix,
                 t->prefix[0] ? "/" : "");
        assert_string_equal(w->cgroup, expected);

        w = find(r, UID2);
        assert_non_null(w);
        assert_int_equal(w->qos_class, QOS_CLASS_SHARED_CORES);
        assert_int_equal(w->n_containers, 2);

        w = find(r, UID3);
        assert_non_null(w);
        assert_int_equal(w->tier, KUBE_TIER_GUARANTEED);
        assert_int_equal(w->n_containers, 0);

        /* Incremental: nothing changed, nothing to do. */
        assert_int_equal(pod_registry_refresh(r), 0);

        /* A container starts in the guaranteed pod; a besteffort pod goes. */
        {
                uint64_t gen = pod_registry_generation(r);

                mkdir_p(t, "kubepods.slice/kubepods-pod" UID3_ ".slice/docker-" CID2 ".scope");
                assert_int_equal(pod_registry_refresh(r), 0); /* no pod added or removed */
                assert_true(pod_registry_generation(r) > gen);
                assert_int_equal(find(r, UID3)->n_containers, 1);
                assert_string_equal(find(r, UID3)->containers[0].runtime, "docker");
        }
        rmdir_rel(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice/cri-containerd-" CID1 ".scope");
        rmdir_rel(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice/crio-conmon-" CID2 ".scope");
        rmdir_rel(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice");
        assert_int_equal(pod_registry_refresh(r), 1);
        assert_null(find(r, UID1));
        assert_int_equal(pod_registry_count(r), 2);

        /* A new besteffort pod with a container appears. */
        mkdir_p(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice");
        assert_int_equal(pod_registry_refresh(r), 1);
        mkdir_p(t, "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID1_ ".slice/cri-containerd-" CID2 ".scope");
        assert_int_equal(pod_registry_refresh(r), 0);
        assert_int_equal(find(r, UID1)->n_containers, 1);

        pod_registry_free(r);
}

static void check_cgroupfs_tree(const Tree *t) {
        PodRegistry *r;
        const Workload *w;

        mkdir_p(t, "kubepods/besteffort/pod" UID1 "/" CID1);
        mkdir_p(t, "kubepods/burstable/pod" UID2 "/" CID1);
        mkdir_p(t, "kubepods/burstable/pod" UID2 "/" CID2);
        mkdir_p(t, "kubepods/pod" UID3 "/" CID1);

        r = registry_for(t, CGROUP_DRIVER_AUTO, NULL, 0, NULL, 0);
        assert_int_equal(pod_registry_driver(r), CGROUP_DRIVER_CGROUPFS);
        assert_int_equal(pod_registry_count(r), 3);
        w = find(r, UID1);
        assert_non_null(w);
        assert_int_equal(w->qos_class, QOS_CLASS_RECLAIMED_CORES);
        assert_string_equal(w->containers[0].runtime, "");
        assert_int_equal(find(r, UID2)->n_containers, 2);
        assert_int_equal(find(r, UID3)->tier, KUBE_TIER_GUARANTEED);

        /* The whole besteffort tier disappears. */
        rmdir_rel(t, "kubepods/besteffort/pod" UID1 "/" CID1);
        rmdir_rel(t, "kubepods/besteffort/pod" UID1);
        rmdir_rel(t, "kubepods/besteffort");
        assert_int_equal(pod_registry_refresh(r), 1);
        assert_int_equal(pod_registry_count(r), 2);
        /* And comes back with a pod: the new tier directory is watched. */
        mkdir_p(t, "kubepods/besteffort");
        assert_int_equal(pod_registry_refresh(r), 0);
        mkdir_p(t, "kubepods/besteffort/pod" UID1);
        assert_int_equal(pod_registry_refresh(r), 1);
        assert_non_null(find(r, UID1));
        pod_registry_free(r);
}

static void check_extra_roots(const Tree *t) {
        static const QosRule rules[] = {
                { .match = (char *) "**/batch.slice/*.service", .qos_class = QOS_CLASS_RECLAIMED_CORES },
                { .match = (char *) "batch.slice/*.service", .qos_class = QOS_CLASS_RECLAIMED_CORES },
                { .match = (char *) "**/web.slice/**", .qos_class = QOS_CLASS_SHARED_CORES },
                { .match = (char *) "web.slice/**", .qos_class = QOS_CLASS_SHARED_CORES },
        };
        char batch[256], web[256], missing[256];
        char *extra[] = { batch, web, missing };
        PodRegistry *r;

        snprintf(batch, sizeof(batch), "%s%sbatch.slice", t->prefix, t->prefix[0] ? "/" : "");
        snprintf(web, sizeof(web), "%s%sweb.slice", t->prefix, t->prefix[0] ? "/" : "");
        snprintf(missing, sizeof(missing), "%s%slater.slice", t->prefix, t->prefix[0] ? "/" : "");
        mkdir_p(t, "batch.slice/job1.service");
        mkdir_p(t, "batch.slice/job2.scope"); /* no rule: not managed */
        mkdir_p(t, "web.slice/nginx.service");

        r = registry_for(t, CGROUP_DRIVER_SYSTEMD, extra, 3, rules, ELEMENTSOF(rules));
        assert_int_equal(pod_registry_count(r), 2);
        assert_null(pod_registry_kube_root(r));
        {
                char job1[300];
                snprintf(job1, sizeof(job1), "%s/job1.service", batch);
                assert_non_null(find(r, job1));
                assert_int_equal(find(r, job1)->qos_class, QOS_CLASS_RECLAIMED_CORES);
                assert_int_equal(find(r, job1)->kind, WORKLOAD_CGROUP);
        }
        mkdir_p(t, "batch.slice/job3.service");
        assert_int_equal(pod_registry_refresh(r), 1);
        assert_int_equal(pod_registry_count(r), 3);

        /* kubepods appearing later (kubelet started after us) is found. */
        mkdir_p(t, "kubepods.slice/kubepods-pod" UID3_ ".slice");
        assert_int_equal(pod_registry_refresh(r), 1);
        assert_non_null(pod_registry_kube_root(r));
        assert_non_null(find(r, UID3));
        pod_registry_free(r);
}

static char *fixture_mount(const Tree *t, const char *hierarchy) {
        char *m;

        assert_true(asprintf(&m, "%s/%s", t->dir, hierarchy) >= 0);
        assert_int_equal(mkdir(m, 0755), 0);
        return m;
}

static void fixture_layout(Tree *t, CgroupMode mode) {
        CgroupLayout *l = &t->layout;

        strcpy(t->dir, "/tmp/nodeqos-test-registry-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        l->mode = mode;
        if (mode == CGROUP_MODE_V2) {
                l->unified_mount = fixture_mount(t, "unified");
                for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                        assert_non_null(l->controller_mount[c] = strdup(l->unified_mount));
                t->walked = l->unified_mount;
        } else
                t->walked = l->controller_mount[CGROUP_CONTROLLER_CPU] = fixture_mount(t, "cpu");
        if (mode == CGROUP_MODE_HYBRID)
                l->unified_mount = fixture_mount(t, "unified");
}

/* The real kernel: a throwaway kubelet root in the v1 cpu hierarchy. */
static void real_layout(Tree *t) {
        t->layout.mode = CGROUP_MODE_V1;
        assert_non_null(t->layout.controller_mount[CGROUP_CONTROLLER_CPU] = strdup("/sys/fs/cgroup/cpu"));
        t->walked = t->layout.controller_mount[CGROUP_CONTROLLER_CPU];
        assert_int_equal(cgroup_test_tree_new(&t->layout, CGROUP_TEST_PREFIX "registry", 0, &t->cgroup), 0);
        snprintf(t->prefix, sizeof(t->prefix), "%s", t->cgroup.name);
}

static int teardown(void **state) {
        Tree *t = *state;

        (void) cgroup_test_tree_done(&t->cgroup);
        if (t->dir[0])
                (void) test_remove_tree(t->dir);
        cgroup_layout_done(&t->layout);
        free(t);
        return 0;
}

/* *state: the Variant, replaced by the Tree; the tree is made by the test
 * itself, so that the teardown removes it whatever fails. */
static int setup(void **state) {
        Tree *t = calloc(1, sizeof(*t));

        if (!t)
                return -1;
        t->variant = *state;
        *state = t;
        return 0;
}

static Tree *tree_make(void **state) {
        Tree *t = *state;
        struct stat st;

        if (!t->variant->real)
                fixture_layout(t, t->variant->mode);
        else if (stat("/sys/fs/cgroup/cpu/cgroup.procs", &st) < 0)
                skip();
        else
                real_layout(t);
        return t;
}

static void test_systemd(void **state) {
        check_systemd_tree(tree_make(state));
}
static void test_cgroupfs(void **state) {
        check_cgroupfs_tree(tree_make(state));
}
static void test_extra_roots(void **state) {
        check_extra_roots(tree_make(state));
}

int main(void) {
        static const struct {
                const char *name;
                CMUnitTestFunction run;
        } checks[] = {
                { "systemd", test_systemd },
                { "cgroupfs", test_cgroupfs },
                { "extra roots", test_extra_roots },
        };
        struct CMUnitTest tests[ELEMENTSOF(variants) * ELEMENTSOF(checks)];
        char names[ELEMENTSOF(tests)][64];

        for (size_t v = 0; v < ELEMENTSOF(variants); v++)
                for (size_t c = 0; c < ELEMENTSOF(checks); c++) {
                        size_t i = v * ELEMENTSOF(checks) + c;

                        snprintf(names[i], sizeof(names[i]), "%s, %s", checks[c].name, variants[v].name);
                        tests[i] = (struct CMUnitTest) {
                                .name = names[i],
                                .test_func = checks[c].run,
                                .setup_func = setup,
                                .teardown_func = teardown,
                                .initial_state = (void *) &variants[v],
                        };
                }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
