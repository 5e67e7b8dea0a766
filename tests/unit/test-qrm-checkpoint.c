/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM checkpoint: a restored state answers exactly what was allocated;
 * every truncation, flipped byte, newer version or inconsistent content is
 * refused with its own error and leaves the state empty; files are written
 * atomically and read without following symlinks. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "plugins/qrm-checkpoint.h"
#include "plugins/qrm-state.h"
#include "tests/lib/test-fs.h"

#define GIB (UINT64_C(1) << 30)

static CpuTopology *two_nodes(void) {
        CpuMask online, nodes, node_cpus[2];
        uint64_t mem[2] = { 8 * GIB, 8 * GIB };
        CpuTopology *t = NULL;

        assert_int_equal(cpu_list_parse_string("0-7", &online), 0);
        assert_int_equal(cpu_list_parse_string("0-1", &nodes), 0);
        assert_int_equal(cpu_list_parse_string("0-3", &node_cpus[0]), 0);
        assert_int_equal(cpu_list_parse_string("4-7", &node_cpus[1]), 0);
        assert_int_equal(cpu_topology_new(&online, &nodes, node_cpus, mem, 2, &t), 0);
        return t;
}

static QrmState *make_state(const CpuTopology *t, const char *reserved) {
        CpuMask r = {};
        QrmState *s = NULL;

        if (reserved)
                assert_int_equal(cpu_list_parse_string(reserved, &r), 0);
        assert_int_equal(qrm_state_new(&(QrmStateParams) { .topology = t, .reserved_cpus = &r }, &s, NULL), 0);
        return s;
}

static void allocate(QrmState *s, bool pod_level, const char *uid, const char *ns, const char *container,
                     QrmContainerType type, const char *resource, const char *qos, double quantity,
                     const char *hint_node) {
        QrmQuantity q = { resource, quantity };
        QrmKeyValue a = { QRM_ANNOTATION_KATALYST_QOS_LEVEL, qos };
        uint64_t hint = hint_node ? (uint64_t) atoi(hint_node) : 0;
        QrmResourceRequest req = {
                .pod_uid = uid,
                .pod_namespace = ns,
                .pod_name = "name",
                .container_name = container,
                .container_type = type,
                .container_index = 3,
                .resource_name = resource,
                .hint_nodes = &hint,
                .n_hint_nodes = hint_node ? 1 : 0,
                .resource_requests = &q,
                .n_resource_requests = 1,
                .annotations = &a,
                .n_annotations = 1,
        };
        QrmAllocationInfo info = {};
        PluginError err = {};

        if (pod_level)
                assert_int_equal(qrm_state_allocate_pod(s, &req, &info, &err), 0);
        else
                assert_int_equal(qrm_state_allocate(s, &req, &info, &err), 0);
        qrm_allocation_info_done(&info);
}

/* A state with one of everything the checkpoint must keep. */
static void populate(QrmState *s) {
        allocate(s, false, "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f", "prod", "app", QRM_CONTAINER_MAIN, "cpu",
                 "dedicated_cores", 2, "1");
        allocate(s, false, "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f", "prod", "app", QRM_CONTAINER_MAIN, "memory",
                 "dedicated_cores", 4.0 * GIB, "1");
        allocate(s, false, "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f", "prod", "istio-proxy", QRM_CONTAINER_SIDECAR, "cpu",
                 "dedicated_cores", 0.1, NULL);
        allocate(s, false, "memfirst", "prod", "db", QRM_CONTAINER_MAIN, "memory", "dedicated_cores", 1e9, "0");
        allocate(s, true, "podlevel", "batch", "", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL);
        allocate(s, false, "podlevel", "batch", "worker", QRM_CONTAINER_MAIN, "cpu", "dedicated_cores", 1, NULL);
        allocate(s, false, "shared.pod_1", NULL, "web", QRM_CONTAINER_MAIN, "cpu", "shared_cores", 0.1, NULL);
        allocate(s, false, "shared.pod_1", NULL, "init", QRM_CONTAINER_INIT, "cpu", "shared_cores", 1.0 / 3, NULL);
        allocate(s, false, "be", "batch", "job", QRM_CONTAINER_MAIN, QRM_RESOURCE_RECLAIMED_MILLICPU, "reclaimed_cores",
                 1500, NULL);
        allocate(s, false, "be", "batch", "job", QRM_CONTAINER_MAIN, QRM_RESOURCE_RECLAIMED_MEMORY, "reclaimed_cores",
                 123456789, NULL);
        allocate(s, false, "sys", "kube-system", "agent", QRM_CONTAINER_EPHEMERAL, "memory", "system_cores", 0, NULL);
        assert_int_equal(qrm_state_set_reclaimed_cpus(s, 2, NULL), 0);
        assert_int_equal(qrm_state_verify(s), 0);
}

static void assert_same_answers(const QrmState *a, const QrmState *b) {
        for (Resource r = RESOURCE_CPU; r <= RESOURCE_MEMORY; r++) {
                QrmAllocations x = {}, y = {};

                assert_int_equal(qrm_state_get_allocations(a, r, &x), 0);
                assert_int_equal(qrm_state_get_allocations(b, r, &y), 0);
                assert_int_equal(x.n_pods, y.n_pods);
                for (size_t i = 0; i < x.n_pods; i++) {
                        assert_string_equal(x.pods[i].pod_uid, y.pods[i].pod_uid);
                        assert_int_equal(x.pods[i].n_containers, y.pods[i].n_containers);
                        for (size_t j = 0; j < x.pods[i].n_containers; j++) {
                                const QrmAllocationInfo *p = &x.pods[i].containers[j].info;
                                const QrmAllocationInfo *q = &y.pods[i].containers[j].info;

                                assert_string_equal(x.pods[i].containers[j].container_name,
                                                    y.pods[i].containers[j].container_name);
                                assert_string_equal(p->allocation_result, q->allocation_result);
                                assert_true(p->allocated_quantity == q->allocated_quantity); /* bit for bit */
                                assert_int_equal(p->qos_class, q->qos_class);
                        }
                }
                qrm_allocations_done(&x);
                qrm_allocations_done(&y);
        }
        for (QrmPool p = 0; p < _QRM_POOL_MAX; p++) {
                CpuMask x, y;

                qrm_state_get_pool(a, p, &x);
                qrm_state_get_pool(b, p, &y);
                assert_true(cpu_mask_equal(&x, &y));
        }
        assert_int_equal(qrm_state_get_reclaimed_cpus(a), qrm_state_get_reclaimed_cpus(b));
        assert_int_equal(qrm_state_n_containers(a), qrm_state_n_containers(b));
}

static void test_checksum(void **state) {
        /* The FNV-1a 64 reference values. */
        assert_int_equal(qrm_checkpoint_checksum("", 0), UINT64_C(0xcbf29ce484222325));
        assert_int_equal(qrm_checkpoint_checksum("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
        assert_int_equal(qrm_checkpoint_checksum("foobar", 6), UINT64_C(0x85944171f73967e8));
}

static void test_round_trip(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");
        _cleanup_free_ char *text = NULL, *again = NULL;
        size_t size, size_again;
        PluginError err = {};

        populate(s);
        assert_int_equal(qrm_checkpoint_format(s, 1, &text, &size), 0);
        assert_int_equal(strlen(text), size);
        if (getenv("TEST_SHOW"))
                fputs(text, stderr);
        assert_non_null(strstr(text, "nodeqos-qrm-checkpoint 2\nsequence 1\nreclaimed-cpus 2\n"));
        assert_non_null(strstr(text, "entry - MAIN 0 dedicated_cores 1 - 6 -\n")); /* the pod-level entry */

        assert_int_equal(qrm_checkpoint_parse(restored, text, size, &err), 0);
        assert_int_equal(qrm_state_verify(restored), 0);
        assert_same_answers(s, restored);

        /* Written again: the same bytes. */
        assert_int_equal(qrm_checkpoint_format(restored, 1, &again, &size_again), 0);
        assert_int_equal(size, size_again);
        assert_memory_equal(text, again, size);

        /* The kubelet asks again after the restart: the same answers. */
        allocate(restored, false, "0f3c8a4e-2b1d-4c5e-9f60-7a8b9c0d1e2f", "prod", "app", QRM_CONTAINER_MAIN, "cpu",
                 "dedicated_cores", 2, NULL);
        assert_same_answers(s, restored);

        /* An empty state round-trips too. */
        {
                _cleanup_(qrm_state_freep) QrmState *empty = make_state(t, NULL);
                _cleanup_(qrm_state_freep) QrmState *back = make_state(t, NULL);
                _cleanup_free_ char *e = NULL;
                size_t n;

                assert_int_equal(qrm_checkpoint_format(empty, 1, &e, &n), 0);
                assert_int_equal(qrm_checkpoint_parse(back, e, n, &err), 0);
                assert_int_equal(qrm_state_n_pods(back), 0);
        }
}

static void test_not_empty(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        _cleanup_free_ char *text = NULL;
        size_t size;
        PluginError err = {};
        uint64_t generation;

        populate(s);
        assert_int_equal(qrm_checkpoint_format(s, 1, &text, &size), 0);
        generation = qrm_state_generation(s);
        assert_int_equal(qrm_checkpoint_parse(s, text, size, &err), -EBUSY);
        assert_int_equal(qrm_state_generation(s), generation);
        assert_int_equal(qrm_state_verify(s), 0);
}

/* Every prefix and every flipped byte of a valid checkpoint is refused,
 * and leaves the state empty. */
static void test_truncated_and_flipped(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        _cleanup_(qrm_state_freep) QrmState *target = make_state(t, NULL);
        _cleanup_free_ char *text = NULL;
        size_t size;

        populate(s);
        assert_int_equal(qrm_checkpoint_format(s, 1, &text, &size), 0);

        for (size_t n = 0; n < size; n++) {
                PluginError err = {};
                int r = qrm_checkpoint_parse(target, text, n, &err);

                if (r != -EBADMSG)
                        print_error("prefix of %zu bytes: r=%d (%s)\n", n, r, err.message);
                assert_int_equal(r, -EBADMSG);
                assert_true(strlen(err.message) > 0);
                assert_int_equal(qrm_state_n_pods(target), 0);
                assert_int_equal(qrm_state_get_reclaimed_cpus(target), QRM_RECLAIMED_CPUS_ALL);
        }

        for (size_t i = 0; i < size; i++)
                for (unsigned bit = 0; bit < 8; bit += 3) {
                        _cleanup_free_ char *copy = malloc(size);
                        PluginError err = {};
                        int r;

                        assert_non_null(copy);
                        memcpy(copy, text, size);
                        copy[i] ^= (char) (1u << bit);
                        r = qrm_checkpoint_parse(target, copy, size, &err);
                        if (r != -EBADMSG && r != -EPROTONOSUPPORT)
                                print_error("byte %zu bit %u: r=%d (%s)\n", i, bit, r, err.message);
                        assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
                        assert_int_equal(qrm_state_n_pods(target), 0);
                }
}

/* A checkpoint with a right checksum around the given body. */
static char *with_checksum(const char *header, const char *body, size_t *ret_size) {
        char *text = NULL;
        size_t n;

        assert_true(asprintf(&text, "%s%s", header, body) >= 0);
        n = strlen(text);
        text = realloc(text, n + 64);
        assert_non_null(text);
        n += (size_t) sprintf(text + n, "checksum %016" PRIx64 "\n", qrm_checkpoint_checksum(text, n));
        *ret_size = n;
        return text;
}

static void test_content_cases(void **state) {
        static const char header[] = "nodeqos-qrm-checkpoint 1\n";
        static const struct {
                const char *name, *header, *body;
                int r;
        } cases[] = {
                { "valid", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 2 - 0-1 -\n"
                  "entry s SIDECAR 18446744073709551615 dedicated_cores 0.5 - - -\n",
                  0 },
                { "valid, pod names unknown", header, "reclaimed-cpus 3\npod u - -\nentry c INIT 0 shared_cores 1e-3 0 - -\n", 0 },
                { "valid, no pods", header, "reclaimed-cpus -1\n", 0 },
                { "newer version", "nodeqos-qrm-checkpoint 3\n", "reclaimed-cpus -1\n", -EPROTONOSUPPORT },
                { "format 2", "nodeqos-qrm-checkpoint 2\nsequence 18446744073709551615\n", "reclaimed-cpus -1\n", 0 },
                { "format 2 without a sequence", "nodeqos-qrm-checkpoint 2\n", "reclaimed-cpus -1\n", -EBADMSG },
                { "format 2, bad sequence", "nodeqos-qrm-checkpoint 2\nsequence 0x1\n", "reclaimed-cpus -1\n",
                  -EBADMSG },
                { "format 2, sequence too large", "nodeqos-qrm-checkpoint 2\nsequence 18446744073709551616\n",
                  "reclaimed-cpus -1\n", -EBADMSG },
                { "format 1 with a sequence", header, "sequence 1\nreclaimed-cpus -1\n", -EBADMSG },
                { "far newer version", "nodeqos-qrm-checkpoint 99999999999999999999999\n", "whatever\n",
                  -EPROTONOSUPPORT },
                { "version 0", "nodeqos-qrm-checkpoint 0\n", "reclaimed-cpus -1\n", -EBADMSG },
                { "version 01", "nodeqos-qrm-checkpoint 01\n", "reclaimed-cpus -1\n", -EBADMSG },
                { "version missing", "nodeqos-qrm-checkpoint \n", "reclaimed-cpus -1\n", -EBADMSG },
                { "another magic", "nodeqos-qrm-checkpoinT 1\n", "reclaimed-cpus -1\n", -EBADMSG },
                { "no reclaimed line", header, "pod u ns n\nentry c MAIN 0 shared_cores 1 - - -\n", -EBADMSG },
                { "two reclaimed lines", header, "reclaimed-cpus -1\nreclaimed-cpus -1\n", -EBADMSG },
                { "reclaimed 0", header, "reclaimed-cpus 0\n", -EBADMSG },
                { "reclaimed garbage", header, "reclaimed-cpus 2x\n", -EBADMSG },
                { "reclaimed more than the node", header, "reclaimed-cpus 9\n", -ESTALE },
                { "unknown line", header, "reclaimed-cpus -1\nfoo bar\n", -EBADMSG },
                { "empty line", header, "reclaimed-cpus -1\n\n", -EBADMSG },
                { "double space", header, "reclaimed-cpus  -1\n", -EBADMSG },
                { "trailing space", header, "reclaimed-cpus -1 \n", -EBADMSG },
                { "CRLF", header, "reclaimed-cpus -1\r\n", -EBADMSG },
                { "entry before pod", header, "reclaimed-cpus -1\nentry c MAIN 0 shared_cores 1 - - -\n", -EBADMSG },
                { "pod without entry", header, "reclaimed-cpus -1\npod u ns n\n", -EBADMSG },
                { "pod without entry, then another", header,
                  "reclaimed-cpus -1\npod u ns n\npod v ns n\nentry c MAIN 0 shared_cores 1 - - -\n", -EBADMSG },
                { "pod with a bad uid", header, "reclaimed-cpus -1\npod ../x ns n\nentry c MAIN 0 shared_cores 1 - - -\n",
                  -EBADMSG },
                { "entry with too few fields", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1 - -\n",
                  -EBADMSG },
                { "entry with too many fields", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1 - - - -\n", -EBADMSG },
                { "unknown class", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 best_effort 1 - - -\n",
                  -EBADMSG },
                { "unknown type", header, "reclaimed-cpus -1\npod u ns n\nentry c main 0 shared_cores 1 - - -\n",
                  -EBADMSG },
                { "index overflow", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 18446744073709551616 shared_cores 1 - - -\n", -EBADMSG },
                { "index negative", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN -1 shared_cores 1 - - -\n",
                  -EBADMSG },
                { "NaN request", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores nan - - -\n",
                  -EBADMSG },
                { "infinite request", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores inf - - -\n",
                  -EBADMSG },
                { "huge request", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1e999 - - -\n",
                  -EBADMSG },
                { "hex request", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 0x1p1 - - -\n",
                  -EBADMSG },
                { "negative request", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores -1 - - -\n",
                  -EBADMSG },
                { "more CPUs than the node", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 9 - - -\n", -ESTALE },
                { "nothing allocated", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores - - - -\n",
                  -EBADMSG },
                { "same container twice", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1 - - -\nentry c MAIN 0 shared_cores 1 - - -\n",
                  -EBADMSG },
                { "pod with two names", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1 - - -\npod u ns m\nentry d MAIN 0 shared_cores 1 - - -\n",
                  -EBADMSG },
                { "exclusive CPUs of a shared container", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores 1 - 0 -\n", -EBADMSG },
                { "exclusive count differs from the request", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 2 - 0 -\n", -EBADMSG },
                { "exclusive of a sidecar", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c SIDECAR 0 dedicated_cores 1 - 0 -\n", -EBADMSG },
                { "empty exclusive list", header, "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 1 - , -\n",
                  -EBADMSG },
                { "exclusive CPU offline now", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 1 - 9 -\n", -ESTALE },
                { "exclusive CPU beyond any node", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 1 - 9000 -\n", -EBADMSG },
                { "exclusive CPUs held twice", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 2 - 0-1 -\n"
                  "pod v ns n\nentry c MAIN 0 dedicated_cores 2 - 1-2 -\n",
                  -ESTALE },
                { "pod-level and containers both hold CPUs", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores 1 - 0 -\nentry - MAIN 0 dedicated_cores 1 - 1 -\n",
                  -EBADMSG },
                { "pod-level entry of another type", header,
                  "reclaimed-cpus -1\npod u ns n\nentry - INIT 0 shared_cores 1 - - -\n", -EBADMSG },
                { "memory hint on a node that is gone", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 dedicated_cores - 1 - 3\n", -ESTALE },
                { "memory hint of a shared container", header,
                  "reclaimed-cpus -1\npod u ns n\nentry c MAIN 0 shared_cores - 1 - 0\n", -EBADMSG },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
                _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
                _cleanup_free_ char *text = NULL;
                PluginError err = {};
                size_t size;
                int r;

                text = with_checksum(cases[i].header, cases[i].body, &size);
                r = qrm_checkpoint_parse(s, text, size, &err);
                if (r != cases[i].r)
                        print_error("case \"%s\": r=%d (%s)\n", cases[i].name, r, err.message);
                assert_int_equal(r, cases[i].r);
                assert_int_equal(qrm_state_verify(s), 0);
                if (r < 0) {
                        assert_int_equal(err.error, r);
                        assert_true(strlen(err.message) > 0);
                        assert_int_equal(qrm_state_n_pods(s), 0);
                        assert_int_equal(qrm_state_get_reclaimed_cpus(s), QRM_RECLAIMED_CPUS_ALL);
                }
        }
}

static void test_checksum_mismatch(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        static const char *const texts[] = {
                "nodeqos-qrm-checkpoint 1\nreclaimed-cpus -1\nchecksum 0000000000000000\n",
                "nodeqos-qrm-checkpoint 1\nreclaimed-cpus -1\nchecksum 0000000000000000", /* no final newline */
                "nodeqos-qrm-checkpoint 1\nreclaimed-cpus -1\nchecksum 00000000000000000\n",
                "nodeqos-qrm-checkpoint 1\nreclaimed-cpus -1\nchecksum 000000000000000G\n",
                "nodeqos-qrm-checkpoint 1\nreclaimed-cpus -1\nchecksum ABCDEF0000000000\n",
                "nodeqos-qrm-checkpoint 1\n",
                "nodeqos-qrm-checkpoint 1",
                "",
                "\n",
                "\0\0\0\0",
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                PluginError err = {};

                assert_int_equal(qrm_checkpoint_parse(s, texts[i], strlen(texts[i]), &err), -EBADMSG);
        }
        assert_int_equal(qrm_checkpoint_parse(s, NULL, 0, NULL), -EBADMSG);
        assert_int_equal(qrm_checkpoint_parse(s, NULL, 1, NULL), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static char *make_dir(void) {
        char *d = strdup("/tmp/test-qrm-checkpoint.XXXXXX");

        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

/* The sequence in a checkpoint file's text, 0 if none is readable. */
static uint64_t file_sequence(const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL;
        unsigned long long n = 0;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", dir, name) >= 0);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fscanf(f, "nodeqos-qrm-checkpoint 2\nsequence %llu\n", &n) != 1)
                n = 0;
        fclose(f);
        return n;
}

/* Overwrites one byte of a file, as a torn write would leave it. */
static void flip_byte(const char *dir, const char *name, long offset) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", dir, name) >= 0);
        f = fopen(path, "r+e");
        assert_non_null(f);
        assert_int_equal(fseek(f, offset, SEEK_SET), 0);
        assert_int_equal(fputc('#', f), '#');
        assert_int_equal(fclose(f), 0);
}

static void test_save_load(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");
        _cleanup_free_ char *dir = make_dir(), *sub = NULL, *path = NULL, *alt = NULL;
        PluginError err = {};
        uint64_t sequence = 0;
        struct stat st;

        assert_true(asprintf(&sub, "%s/state", dir) >= 0);
        assert_true(asprintf(&path, "%s/state/" QRM_CHECKPOINT_FILE, dir) >= 0);
        assert_true(asprintf(&alt, "%s/state/" QRM_CHECKPOINT_FILE_ALT, dir) >= 0);

        /* Nothing there yet: a first start. */
        assert_int_equal(qrm_checkpoint_load(restored, sub, NULL, &err), -ENOENT);
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(qrm_checkpoint_load(restored, sub, NULL, &err), -ENOENT);
        assert_int_equal(rmdir(sub), 0);

        /* The directory is made if missing; odd sequences go to the
         * primary file, which is private. */
        populate(s);
        assert_int_equal(qrm_checkpoint_save(s, sub, 0, &err), -EINVAL);
        assert_int_equal(qrm_checkpoint_save(s, sub, 1, &err), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(access(alt, F_OK), -1);
        assert_int_equal(file_sequence(sub, QRM_CHECKPOINT_FILE), 1);

        /* Even ones to the other; each save leaves the previous one whole. */
        assert_int_equal(qrm_checkpoint_save(s, sub, 2, &err), 0);
        assert_int_equal(stat(alt, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(file_sequence(sub, QRM_CHECKPOINT_FILE), 1);
        assert_int_equal(file_sequence(sub, QRM_CHECKPOINT_FILE_ALT), 2);

        /* The newest is read. */
        assert_int_equal(qrm_checkpoint_load(restored, sub, &sequence, &err), 0);
        assert_int_equal(sequence, 2);
        assert_same_answers(s, restored);

        /* Loaded into a state that is not empty: refused. */
        assert_int_equal(qrm_checkpoint_load(restored, sub, NULL, &err), -EBUSY);

        /* The parent must exist. */
        {
                _cleanup_free_ char *deep = NULL;

                assert_true(asprintf(&deep, "%s/no/such/dir", dir) >= 0);
                assert_int_equal(qrm_checkpoint_save(s, deep, 1, &err), -ENOENT);
                assert_non_null(strstr(err.message, "state directory"));
        }

        assert_int_equal(test_remove_tree(dir), 0);
}

/* What a power loss during a save leaves, and what a shorter save leaves
 * behind it: the reader takes the newest whole file. */
static void test_torn_and_shorter(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *big = make_state(t, "0");
        _cleanup_(qrm_state_freep) QrmState *small = make_state(t, "0");
        _cleanup_free_ char *dir = make_dir(), *path = NULL;
        PluginError err = {};
        uint64_t sequence = 0;

        populate(big);
        assert_int_equal(qrm_checkpoint_save(big, dir, 1, &err), 0);
        assert_int_equal(qrm_checkpoint_save(big, dir, 2, &err), 0);
        /* A shorter text over a longer one, in the same file. */
        assert_int_equal(qrm_checkpoint_save(small, dir, 3, &err), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, &sequence, &err), 0);
                assert_int_equal(sequence, 3);
                assert_int_equal(qrm_state_n_pods(restored), 0);
        }

        /* Save 4 torn (the alternate file): save 3 is read. */
        assert_int_equal(qrm_checkpoint_save(big, dir, 4, &err), 0);
        flip_byte(dir, QRM_CHECKPOINT_FILE_ALT, 60);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, &sequence, &err), 0);
                assert_int_equal(sequence, 3);
                assert_same_answers(small, restored);
        }

        /* Saved again with that sequence (a retry): read. */
        assert_int_equal(qrm_checkpoint_save(big, dir, 4, &err), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, &sequence, &err), 0);
                assert_int_equal(sequence, 4);
                assert_same_answers(big, restored);
        }

        /* Both torn: nothing whole, nothing restored. */
        flip_byte(dir, QRM_CHECKPOINT_FILE, 60);
        flip_byte(dir, QRM_CHECKPOINT_FILE_ALT, 60);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, NULL, &err), -EBADMSG);
                assert_int_equal(qrm_state_n_pods(restored), 0);
        }

        /* Set aside: both renamed, a first start again. */
        assert_int_equal(qrm_checkpoint_set_aside(dir, &err), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, NULL, &err), -ENOENT);
        }
        assert_true(asprintf(&path, "%s/" QRM_CHECKPOINT_FILE_ALT ".corrupt", dir) >= 0);
        assert_int_equal(access(path, F_OK), 0);

        assert_int_equal(test_remove_tree(dir), 0);
}

/* A format 1 file (one file, no sequence) reads as sequence 1; a file in
 * the wrong place is refused (saving after it would overwrite it). */
static void test_format_1_and_swapped(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, "0");
        _cleanup_free_ char *dir = make_dir(), *path = NULL, *alt = NULL, *v1 = NULL;
        PluginError err = {};
        uint64_t sequence = 0;
        size_t size;
        FILE *f;

        assert_true(asprintf(&path, "%s/" QRM_CHECKPOINT_FILE, dir) >= 0);
        assert_true(asprintf(&alt, "%s/" QRM_CHECKPOINT_FILE_ALT, dir) >= 0);
        v1 = with_checksum("nodeqos-qrm-checkpoint 1\n", "reclaimed-cpus 3\n", &size);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(v1, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, &sequence, &err), 0);
                assert_int_equal(sequence, 1);
                assert_int_equal(qrm_state_get_reclaimed_cpus(restored), 3);
        }

        /* The next save (2) goes to the other file: format 1 stays whole. */
        assert_int_equal(qrm_checkpoint_save(s, dir, 2, &err), 0);
        assert_int_equal(file_sequence(dir, QRM_CHECKPOINT_FILE_ALT), 2);

        /* Swapped by hand: sequence 2 in the primary file is refused. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rename(alt, path), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *restored = make_state(t, "0");

                assert_int_equal(qrm_checkpoint_load(restored, dir, NULL, &err), -EBADMSG);
                assert_non_null(strstr(err.message, "does not belong"));
        }

        assert_int_equal(test_remove_tree(dir), 0);
}

static void test_load_refusals(void **state) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = two_nodes();
        _cleanup_(qrm_state_freep) QrmState *s = make_state(t, NULL);
        _cleanup_free_ char *dir = make_dir(), *path = NULL, *other = NULL;
        PluginError err = {};

        populate(s);
        assert_true(asprintf(&path, "%s/qrm-checkpoint", dir) >= 0);
        assert_true(asprintf(&other, "%s/elsewhere", dir) >= 0);
        assert_int_equal(qrm_checkpoint_save(s, dir, 1, &err), 0);

        /* The configuration changed: CPU 0 is reserved now, and a dedicated
         * container holds it. */
        {
                _cleanup_(qrm_state_freep) QrmState *reserved = make_state(t, "4-5");

                assert_int_equal(qrm_checkpoint_load(reserved, dir, NULL, &err), -ESTALE);
                assert_non_null(strstr(err.message, "reserved"));
                assert_int_equal(qrm_state_n_pods(reserved), 0);
        }

        /* A symlink is not followed. */
        assert_int_equal(rename(path, other), 0);
        assert_int_equal(symlink(other, path), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *fresh = make_state(t, NULL);

                assert_int_equal(qrm_checkpoint_load(fresh, dir, NULL, &err), -ELOOP);
        }
        assert_int_equal(unlink(path), 0);

        /* Not a regular file. */
        assert_int_equal(mkdir(path, 0700), 0);
        {
                _cleanup_(qrm_state_freep) QrmState *fresh = make_state(t, NULL);

                assert_int_equal(qrm_checkpoint_load(fresh, dir, NULL, &err), -EBADMSG);
        }
        assert_int_equal(rmdir(path), 0);

        /* Corrupted on disk: refused, the state stays empty. */
        {
                _cleanup_(qrm_state_freep) QrmState *fresh = make_state(t, NULL);
                FILE *f;

                assert_int_equal(rename(other, path), 0);
                f = fopen(path, "r+");
                assert_non_null(f);
                assert_int_equal(fseek(f, 40, SEEK_SET), 0);
                assert_int_equal(fputc('#', f), '#');
                assert_int_equal(fclose(f), 0);
                assert_int_equal(qrm_checkpoint_load(fresh, dir, NULL, &err), -EBADMSG);
                assert_non_null(strstr(err.message, "checksum"));
                assert_int_equal(qrm_state_n_pods(fresh), 0);
        }

        assert_int_equal(test_remove_tree(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_checksum),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_not_empty),
                cmocka_unit_test(test_truncated_and_flipped),
                cmocka_unit_test(test_content_cases),
                cmocka_unit_test(test_checksum_mismatch),
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_torn_and_shorter),
                cmocka_unit_test(test_format_1_and_swapped),
                cmocka_unit_test(test_load_refusals),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
