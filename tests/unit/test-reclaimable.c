/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/reclaimable.h"

#define MAX_SAMPLES 4000

/* The obviously right answer the deque is compared with: all samples kept,
 * the window's maximum found by looking at every one of them. `forgotten`
 * is where a shrink cut the history: growing again does not bring back
 * what is before it. */
typedef struct BruteForce {
        double samples[MAX_SAMPLES];
        size_t n, window, forgotten;
} BruteForce;

static void brute_push(BruteForce *b, double value) {
        if (!isfinite(value))
                return;
        assert_true(b->n < MAX_SAMPLES);
        b->samples[b->n++] = value;
}

static void brute_resize(BruteForce *b, size_t window) {
        if (b->n > b->window)
                b->forgotten = MAX(b->forgotten, b->n - b->window);
        b->window = window;
}

static bool brute_max(const BruteForce *b, double *ret) {
        size_t from = MAX(b->forgotten, b->n > b->window ? b->n - b->window : 0);
        double max = -INFINITY;

        if (from >= b->n)
                return false;
        for (size_t i = from; i < b->n; i++)
                max = fmax(max, b->samples[i]);
        *ret = max;
        return true;
}

/* A fixed xorshift, so a failure replays the same sequence anywhere. */
static uint64_t next_random(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* Few distinct values, so ties (which the deque must keep or drop
 * consistently) are common; now and then a sensor glitch. */
static double random_sample(uint64_t *s) {
        switch (next_random(s) % 40) {
        case 0:
                return NAN;
        case 1:
                return INFINITY;
        case 2:
                return -INFINITY;
        default:
                return (double) (next_random(s) % 17) - 4;
        }
}

static void assert_same_max(const PeakWindow *w, const BruteForce *b, size_t step) {
        double got = 0, want = 0;
        bool has = peak_window_max(w, &got), want_has = brute_max(b, &want);

        if (has != want_has || (has && got != want))
                print_error("step %zu, window %zu: got %d/%g, want %d/%g\n", step, b->window, has, got, want_has,
                            want);
        assert_int_equal(has, want_has);
        if (has)
                assert_true(got == want);
        assert_true(w->len <= w->capacity);
}

/* Feeds the same random samples to both, comparing after each one. */
static void push_random(PeakWindow *w, BruteForce *b, uint64_t *seed, size_t count, size_t *step) {
        for (size_t k = 0; k < count; k++, (*step)++) {
                double v = random_sample(seed);

                peak_window_push(w, v);
                brute_push(b, v);
                assert_same_max(w, b, *step);
        }
}

static void test_matches_brute_force(void **state) {
        static const size_t windows[] = { 1, 2, 3, 7, 64, 500 };
        uint64_t seed = 0x9e3779b97f4a7c15u;

        for (size_t i = 0; i < ELEMENTSOF(windows); i++) {
                BruteForce *b = test_calloc(1, sizeof(*b));
                size_t step = 0;
                PeakWindow w;

                assert_int_equal(peak_window_init(&w, windows[i]), 0);
                b->window = windows[i];
                assert_same_max(&w, b, step);
                push_random(&w, b, &seed, 3000, &step);
                peak_window_done(&w);
                test_free(b);
        }
}

/* A falling sequence is the deque's worst case: every sample stays a
 * candidate until it expires. */
static void test_falling_sequence_fills_ring(void **state) {
        PeakWindow w;
        double max;

        assert_int_equal(peak_window_init(&w, 5), 0);
        for (int k = 0; k < 20; k++) {
                peak_window_push(&w, 100 - k);
                assert_true(peak_window_max(&w, &max));
                assert_true(max == 100 - MAX(0, k - 4));
                assert_int_equal(w.len, (size_t) MIN(k + 1, 5));
        }
        peak_window_done(&w);
}

static void test_resize_keeps_newest(void **state) {
        static const size_t sizes[] = { 8, 3, 1, 10, 40, 2, 64, 5 };
        uint64_t seed = 12345;
        BruteForce *b = test_calloc(1, sizeof(*b));
        PeakWindow w;
        size_t step = 0;

        assert_int_equal(peak_window_init(&w, 20), 0);
        b->window = 20;
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                push_random(&w, b, &seed, 150, &step);
                assert_int_equal(peak_window_resize(&w, sizes[i]), 0);
                brute_resize(b, sizes[i]);
                assert_int_equal(w.capacity, sizes[i]);
                assert_same_max(&w, b, step);
        }
        peak_window_done(&w);
        test_free(b);
}

static void test_resize_examples(void **state) {
        PeakWindow w;
        double max;

        assert_int_equal(peak_window_init(&w, 4), 0);
        peak_window_push(&w, 9);
        peak_window_push(&w, 1);
        peak_window_push(&w, 5);
        peak_window_push(&w, 2);

        /* Shrinking to the newest two forgets the 9 and the 5. */
        assert_int_equal(peak_window_resize(&w, 2), 0);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 5);
        assert_int_equal(peak_window_resize(&w, 1), 0);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 2);

        /* Growing keeps what is there and fills up with new samples. */
        assert_int_equal(peak_window_resize(&w, 3), 0);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 2);
        peak_window_push(&w, 1);
        peak_window_push(&w, 0);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 2);
        peak_window_push(&w, -1);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 1);

        /* 0 is refused and changes nothing. */
        assert_int_equal(peak_window_resize(&w, 0), -EINVAL);
        assert_int_equal(w.capacity, 3);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 1);
        peak_window_done(&w);
}

static void test_non_finite_ignored(void **state) {
        PeakWindow w;
        double max;

        assert_int_equal(peak_window_init(&w, 2), 0);
        peak_window_push(&w, NAN);
        peak_window_push(&w, INFINITY);
        assert_false(peak_window_max(&w, &max));

        peak_window_push(&w, 3);
        peak_window_push(&w, INFINITY);
        peak_window_push(&w, NAN);
        peak_window_push(&w, -INFINITY);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 3);
        /* Ignored samples do not take a place in the window either: the 3
         * is still one of the last two samples. */
        peak_window_push(&w, 1);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 3);
        peak_window_push(&w, 0);
        assert_true(peak_window_max(&w, &max));
        assert_true(max == 1);
        peak_window_done(&w);
}

static void test_init_and_done(void **state) {
        PeakWindow w;
        double max;

        assert_int_equal(peak_window_init(&w, 0), -EINVAL);
        peak_window_push(&w, 1); /* harmless on a refused window */
        assert_false(peak_window_max(&w, &max));
        peak_window_done(&w);

        assert_int_equal(peak_window_init(&w, 3), 0);
        assert_false(peak_window_max(&w, &max));
        peak_window_done(&w);
        assert_null(w.values);
        assert_int_equal(w.len, 0);
        peak_window_done(&w); /* twice is fine */
}

static void test_estimate(void **state) {
        static const struct {
                double capacity, peak, reserve;
                bool known;
                double reclaimable;
        } cases[] = {
                { 64, 20, 4, true, 40 },
                { 64, 60, 4, true, 0 },
                { 64, 62, 4, true, 0 }, /* would be -2: floored */
                { 64, 80, 0, true, 0 },
                { 64, 0, 0, true, 64 },
                { 0, 0, 0, true, 0 },
                { 1.5, 0.25, 0.5, true, 0.75 },
                { NAN, 1, 0, false, 0 },
                { 64, NAN, 0, false, 0 },
                { 64, 1, INFINITY, false, 0 },
                { INFINITY, 1, 0, false, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ReclaimableEstimate e = reclaimable_estimate(cases[i].capacity, cases[i].peak, cases[i].reserve);

                if (e.known != cases[i].known || e.reclaimable != cases[i].reclaimable)
                        print_error("case %zu: got %d/%g\n", i, e.known, e.reclaimable);
                assert_int_equal(e.known, cases[i].known);
                assert_true(e.reclaimable == cases[i].reclaimable);
                assert_false(signbit(e.reclaimable));
                if (e.known) {
                        assert_true(e.capacity == cases[i].capacity);
                        assert_true(e.ls_peak == cases[i].peak);
                        assert_true(e.reserve == cases[i].reserve);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_matches_brute_force),
                cmocka_unit_test(test_falling_sequence_fills_ring),
                cmocka_unit_test(test_resize_keeps_newest),
                cmocka_unit_test(test_resize_examples),
                cmocka_unit_test(test_non_finite_ignored),
                cmocka_unit_test(test_init_and_done),
                cmocka_unit_test(test_estimate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
