/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/app-signals.h"

#define SEC 1000000ULL

static void test_report_validation(void **state) {
        char long_uid[APP_SIGNAL_UID_MAX + 1], max_uid[APP_SIGNAL_UID_MAX];
        static const double bad_numbers[] = { 0, -1, NAN, INFINITY, -INFINITY };

        memset(long_uid, 'a', sizeof(long_uid) - 1);
        long_uid[sizeof(long_uid) - 1] = 0;
        memset(max_uid, 'b', sizeof(max_uid) - 1);
        max_uid[sizeof(max_uid) - 1] = 0;

        const struct {
                const char *uid;
                double p99, slo;
                int want;
        } cases[] = {
                { "11111111-2222-3333-4444-555555555555", 900, 1000, 0 },
                { "pod_a.b-c", 1, 1, 0 },
                { max_uid, 1, 2, 0 },         /* APP_SIGNAL_UID_MAX - 1 characters fit */
                { long_uid, 1, 2, -EINVAL },  /* one more does not */
                { "", 1, 2, -EINVAL },
                { NULL, 1, 2, -EINVAL },
                { "has space", 1, 2, -EINVAL },
                { "../etc", 1, 2, -EINVAL },
                { "new\nline", 1, 2, -EINVAL },
                { "\xc3\xa9t\xc3\xa9", 1, 2, -EINVAL },
                { "ok", 1e12, 1e-3, 0 }, /* far over the SLO is a valid report */
        };
        AppSignals *s = NULL;

        assert_int_equal(app_signals_new(&s), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = app_signals_report(s, cases[i].uid, cases[i].p99, cases[i].slo, 10 * SEC);
                if (r != cases[i].want)
                        print_error("case %zu (%s): got %d\n", i, strna(cases[i].uid), r);
                assert_int_equal(r, cases[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_numbers); i++) {
                assert_int_equal(app_signals_report(s, "u", bad_numbers[i], 1000, 10 * SEC), -EINVAL);
                assert_int_equal(app_signals_report(s, "u", 1000, bad_numbers[i], 10 * SEC), -EINVAL);
        }
        /* Only the accepted ones are there. */
        assert_int_equal(app_signals_list(s, 10 * SEC, SEC, NULL, 0), 4);
        app_signals_free(s);
}

/* A script of reports and questions, each step at its own time. */
typedef enum Op { REPORT, FORGET, WORST, COUNT } Op;

#define R(u, p, s, t) { .op = REPORT, .uid = (u), .p99 = (p), .slo = (s), .now = (t) }
#define F(u) { .op = FORGET, .uid = (u) }
#define W(t, age, want) { .op = WORST, .now = (t), .max_age = (age), .want_uid = (want) }
#define C(t, age, count) { .op = COUNT, .now = (t), .max_age = (age), .want_count = (count) }

static void test_script(void **state) {
        static const struct {
                Op op;
                const char *uid;
                double p99, slo;
                uint64_t now, max_age;
                /* WORST: the pod expected ("" for none); COUNT: fresh ones */
                const char *want_uid;
                size_t want_count;
        } steps[] = {
                W(1 * SEC, 10 * SEC, ""),
                R("a", 500, 1000, 1 * SEC),  /* slack 0.5 */
                R("b", 900, 1000, 2 * SEC),  /* slack 0.1 */
                R("c", 1200, 1000, 3 * SEC), /* slack -0.2: violating */
                W(3 * SEC, 10 * SEC, "c"),
                C(3 * SEC, 10 * SEC, 3),
                /* c reports again, now within its SLO: b is the worst. */
                R("c", 100, 1000, 4 * SEC),
                W(4 * SEC, 10 * SEC, "b"),
                /* Later: a and b are older than 2.5 s, only c is fresh. */
                W(5 * SEC, 1500000, "c"),
                C(5 * SEC, 1500000, 1),
                /* A report stamped a moment after the reader's clock is fresh. */
                R("d", 999, 1000, 6 * SEC),
                W(6 * SEC - 10, 0, "d"),
                F("d"),
                F("nobody"),
                W(6 * SEC, 10 * SEC, "b"),
                C(6 * SEC, 10 * SEC, 3),
                /* Nothing fresh at all. */
                W(100 * SEC, 10 * SEC, ""),
                C(100 * SEC, 10 * SEC, 0),
        };
        AppSignals *s = NULL;

        assert_int_equal(app_signals_new(&s), 0);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                AppSignal got = {};
                bool found;

                switch (steps[i].op) {
                case REPORT:
                        assert_int_equal(app_signals_report(s, steps[i].uid, steps[i].p99, steps[i].slo, steps[i].now), 0);
                        break;
                case FORGET:
                        app_signals_forget(s, steps[i].uid);
                        break;
                case WORST:
                        found = app_signals_worst(s, steps[i].now, steps[i].max_age, &got);
                        if (found != (steps[i].want_uid[0] != 0) || (found && strcmp(got.pod_uid, steps[i].want_uid)))
                                print_error("step %zu: found %d %s, want %s\n", i, found, got.pod_uid,
                                            steps[i].want_uid);
                        assert_int_equal(found, steps[i].want_uid[0] != 0);
                        if (found)
                                assert_string_equal(got.pod_uid, steps[i].want_uid);
                        break;
                case COUNT:
                        assert_int_equal(app_signals_list(s, steps[i].now, steps[i].max_age, NULL, 0),
                                         steps[i].want_count);
                        break;
                }
        }
        app_signals_free(s);
}

static void test_list_copies(void **state) {
        AppSignals *s = NULL;
        AppSignal out[2] = {};

        assert_int_equal(app_signals_new(&s), 0);
        assert_int_equal(app_signals_report(s, "x", 250, 1000, 7 * SEC), 0);
        assert_int_equal(app_signals_report(s, "y", 10, 20, 7 * SEC), 0);
        assert_int_equal(app_signals_report(s, "z", 10, 20, 7 * SEC), 0);
        /* Three fresh, room for two: says three, copies two. */
        assert_int_equal(app_signals_list(s, 7 * SEC, SEC, out, 2), 3);
        assert_string_equal(out[0].pod_uid, "x");
        assert_true(out[0].p99_usec == 250 && out[0].slo_usec == 1000 && out[0].reported_usec == 7 * SEC);
        assert_string_equal(out[1].pod_uid, "y");
        app_signals_free(s);
}

static void fill(AppSignals *s, const char *prefix, uint64_t now) {
        for (size_t i = 0; i < APP_SIGNALS_MAX; i++) {
                char uid[32];

                snprintf(uid, sizeof(uid), "%s-%zu", prefix, i);
                assert_int_equal(app_signals_report(s, uid, 1, 2, now), 0);
        }
}

static void test_bounded(void **state) {
        AppSignals *s = NULL;

        assert_int_equal(app_signals_new(&s), 0);
        fill(s, "old", 0);
        /* Full of fresh reports: a new pod is refused, a known one updates. */
        assert_int_equal(app_signals_report(s, "new", 1, 2, APP_SIGNAL_STALE_USEC), -ENOSPC);
        assert_int_equal(app_signals_report(s, "old-7", 3, 4, APP_SIGNAL_STALE_USEC), 0);
        /* Once the others are stale, they make room; old-7 stays (fresh). */
        assert_int_equal(app_signals_report(s, "new", 1, 2, APP_SIGNAL_STALE_USEC + 1), 0);
        assert_int_equal(app_signals_list(s, APP_SIGNAL_STALE_USEC + 1, UINT64_MAX, NULL, 0), 2);
        /* Once those two are stale too, the table takes a full set again. */
        fill(s, "again", 2 * APP_SIGNAL_STALE_USEC + 2);
        assert_int_equal(app_signals_list(s, 2 * APP_SIGNAL_STALE_USEC + 2, UINT64_MAX, NULL, 0), APP_SIGNALS_MAX);
        assert_int_equal(app_signals_report(s, "one-more", 1, 2, 2 * APP_SIGNAL_STALE_USEC + 2), -ENOSPC);
        app_signals_free(s);
}

/* The gRPC thread reports while the loop reads: several reporters, one
 * reader, no lost or torn report. */
#define N_THREADS 4
#define N_PODS_PER_THREAD 200
#define N_ROUNDS 50

static void *reporter(void *userdata) {
        AppSignals *s = userdata;
        long failures = 0;
        static _Atomic int next_id;
        int id = next_id++;

        for (int round = 0; round < N_ROUNDS; round++)
                for (int i = 0; i < N_PODS_PER_THREAD; i++) {
                        char uid[32];

                        snprintf(uid, sizeof(uid), "t%d-pod%d", id, i);
                        /* p99 = slo * 0.5 always: a torn read would show another ratio. */
                        if (app_signals_report(s, uid, 500.0 + round, 2 * (500.0 + round), SEC) < 0)
                                failures++;
                        /* Everyone also reports the one shared pod. */
                        if (app_signals_report(s, "shared", 100, 200, SEC) < 0)
                                failures++;
                }
        return (void *) failures;
}

static void test_threads(void **state) {
        pthread_t threads[N_THREADS];
        AppSignals *s = NULL;
        size_t reads = 0;
        static AppSignal out[APP_SIGNALS_MAX];

        assert_int_equal(app_signals_new(&s), 0);
        for (int i = 0; i < N_THREADS; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, reporter, s), 0);
        /* Read while they report. */
        for (int k = 0; k < 200; k++) {
                AppSignal w;
                size_t n = app_signals_list(s, SEC, SEC, out, ELEMENTSOF(out));

                for (size_t i = 0; i < n; i++)
                        assert_true(out[i].p99_usec * 2 == out[i].slo_usec);
                if (app_signals_worst(s, SEC, SEC, &w))
                        assert_true(w.p99_usec * 2 == w.slo_usec);
                reads++;
        }
        for (int i = 0; i < N_THREADS; i++) {
                void *failures;

                assert_int_equal(pthread_join(threads[i], &failures), 0);
                assert_int_equal((long) failures, 0);
        }
        assert_int_equal(reads, 200);
        /* Each pod once, the shared one once. */
        assert_int_equal(app_signals_list(s, SEC, SEC, out, ELEMENTSOF(out)), N_THREADS * N_PODS_PER_THREAD + 1);
        for (size_t i = 0; i < N_THREADS * N_PODS_PER_THREAD + 1; i++)
                if (strcmp(out[i].pod_uid, "shared") != 0)
                        assert_true(out[i].p99_usec == 500.0 + N_ROUNDS - 1);
        app_signals_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_report_validation),
                cmocka_unit_test(test_script),
                cmocka_unit_test(test_list_copies),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_threads),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
