/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/eviction.h"

#define SEC 1000000ULL
#define MAX_TICKS 12

/* One tick's view of one resource, and what eviction_check() must say. */
typedef struct Tick {
        bool set; /* false: past the end of the case's ticks */
        uint64_t at_usec;
        Resource resource;
        bool violated, at_min;
        bool want;
        bool record; /* then the caller evicts: eviction_record() at this time */
} Tick;

/* Violated with the budget at its minimum: the clock runs. */
#define VIOLATED(t, r, w) { true, (t), (r), true, true, (w), false }
/* The same, due, and the caller evicts. */
#define EVICT(t, r) { true, (t), (r), true, true, true, true }
/* One of the two conditions missing: never due. */
#define NOT_VIOLATED(t, r) { true, (t), (r), false, true, false, false }
#define ABOVE_MIN(t, r) { true, (t), (r), true, false, false, false }
#define NEITHER(t, r) { true, (t), (r), false, false, false, false }

static void test_clock(void **state) {
        static const struct {
                const char *name;
                EvictionParams params;
                Tick ticks[MAX_TICKS];
        } cases[] = {
                { "fires once violated for violation_usec",
                  { 10 * SEC, 30 * SEC },
                  { VIOLATED(0, RESOURCE_CPU, false),
                    VIOLATED(5 * SEC, RESOURCE_CPU, false),
                    VIOLATED(10 * SEC - 1, RESOURCE_CPU, false),
                    VIOLATED(10 * SEC, RESOURCE_CPU, true),
                    /* until the caller records an eviction, it stays due */
                    VIOLATED(11 * SEC, RESOURCE_CPU, true) } },
                { "a tick without violation restarts the clock",
                  { 10 * SEC, 0 },
                  { VIOLATED(0, RESOURCE_MEMORY, false),
                    VIOLATED(9 * SEC, RESOURCE_MEMORY, false),
                    NOT_VIOLATED(9 * SEC + 1, RESOURCE_MEMORY),
                    VIOLATED(10 * SEC, RESOURCE_MEMORY, false),
                    VIOLATED(19 * SEC, RESOURCE_MEMORY, false),
                    VIOLATED(20 * SEC, RESOURCE_MEMORY, true) } },
                { "a tick with budget above the minimum restarts the clock",
                  { 10 * SEC, 0 },
                  { VIOLATED(0, RESOURCE_IO, false),
                    ABOVE_MIN(8 * SEC, RESOURCE_IO),
                    VIOLATED(9 * SEC, RESOURCE_IO, false),
                    VIOLATED(12 * SEC, RESOURCE_IO, false),
                    VIOLATED(18 * SEC, RESOURCE_IO, false),
                    VIOLATED(19 * SEC, RESOURCE_IO, true) } },
                { "budget at the minimum alone is no violation",
                  { 0, 0 },
                  { NOT_VIOLATED(0, RESOURCE_CPU),
                    NOT_VIOLATED(100 * SEC, RESOURCE_CPU),
                    ABOVE_MIN(200 * SEC, RESOURCE_CPU) } },
                { "violation_usec 0 fires on the first violated tick",
                  { 0, 0 },
                  { VIOLATED(7 * SEC, RESOURCE_CPU, true) } },
                { "resources have separate clocks",
                  { 10 * SEC, 0 },
                  { VIOLATED(0, RESOURCE_CPU, false),
                    VIOLATED(4 * SEC, RESOURCE_MEMORY, false),
                    NEITHER(5 * SEC, RESOURCE_MEMORY),
                    VIOLATED(10 * SEC, RESOURCE_CPU, true),
                    VIOLATED(10 * SEC, RESOURCE_MEMORY, false),
                    VIOLATED(19 * SEC, RESOURCE_MEMORY, false),
                    VIOLATED(20 * SEC, RESOURCE_MEMORY, true) } },
                { "the clock restarts after an eviction",
                  { 10 * SEC, 0 },
                  { VIOLATED(0, RESOURCE_CPU, false),
                    EVICT(10 * SEC, RESOURCE_CPU),
                    VIOLATED(11 * SEC, RESOURCE_CPU, false),
                    VIOLATED(20 * SEC - 1, RESOURCE_CPU, false),
                    VIOLATED(20 * SEC, RESOURCE_CPU, true) } },
                { "an eviction restarts the other resources' clocks too",
                  { 10 * SEC, 0 },
                  { VIOLATED(0, RESOURCE_CPU, false),
                    VIOLATED(0, RESOURCE_IO, false),
                    EVICT(10 * SEC, RESOURCE_CPU),
                    VIOLATED(11 * SEC, RESOURCE_IO, false),
                    VIOLATED(20 * SEC, RESOURCE_IO, true) } },
                { "the cooldown holds back any resource",
                  { 10 * SEC, 30 * SEC },
                  { VIOLATED(0, RESOURCE_CPU, false),
                    EVICT(10 * SEC, RESOURCE_CPU),
                    VIOLATED(10 * SEC, RESOURCE_MEMORY, false),
                    /* memory's clock is done at 20 s, the cooldown at 40 s */
                    VIOLATED(20 * SEC, RESOURCE_MEMORY, false),
                    VIOLATED(25 * SEC, RESOURCE_CPU, false),
                    VIOLATED(40 * SEC - 1, RESOURCE_MEMORY, false),
                    VIOLATED(40 * SEC, RESOURCE_MEMORY, true),
                    EVICT(40 * SEC, RESOURCE_CPU),
                    /* counted from the latest eviction */
                    VIOLATED(70 * SEC - 1, RESOURCE_CPU, false),
                    VIOLATED(70 * SEC, RESOURCE_CPU, true) } },
                { "a clock stepping back counts as no time",
                  { 10 * SEC, 0 },
                  { VIOLATED(100 * SEC, RESOURCE_CPU, false),
                    VIOLATED(50 * SEC, RESOURCE_CPU, false),
                    VIOLATED(109 * SEC, RESOURCE_CPU, false),
                    VIOLATED(110 * SEC, RESOURCE_CPU, true) } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EvictionState s;

                eviction_state_init(&s);
                for (size_t k = 0; k < MAX_TICKS && cases[i].ticks[k].set; k++) {
                        const Tick *t = &cases[i].ticks[k];
                        bool got;

                        got = eviction_check(&s, &cases[i].params, t->resource, t->violated, t->at_min, t->at_usec);
                        if (got != t->want)
                                print_error("%s: tick %zu (%s at %.6f s): got %d\n", cases[i].name, k,
                                            resource_to_string(t->resource), (double) t->at_usec / SEC, got);
                        assert_int_equal(got, t->want);
                        if (t->record)
                                eviction_record(&s, t->at_usec);
                }
        }
}

static void test_invalid_resource(void **state) {
        const EvictionParams params = { 0, 0 };
        EvictionState s;

        eviction_state_init(&s);
        assert_false(eviction_check(&s, &params, _RESOURCE_INVALID, true, true, SEC));
        assert_false(eviction_check(&s, &params, _RESOURCE_MAX, true, true, SEC));
        assert_true(eviction_check(&s, &params, RESOURCE_CPU, true, true, SEC));
}

#define MAX_CANDIDATES 6

typedef struct Candidates {
        EvictionCandidate c[MAX_CANDIDATES];
        size_t n;
} Candidates;

#define SYSTEM QOS_CLASS_SYSTEM_CORES
#define DEDICATED QOS_CLASS_DEDICATED_CORES
#define SHARED QOS_CLASS_SHARED_CORES
#define RECLAIMED QOS_CLASS_RECLAIMED_CORES

static void test_pick_victim(void **state) {
        static const struct {
                const char *name;
                Candidates in;
                ssize_t want;
        } cases[] = {
                { "none", { .n = 0 }, -1 },
                { "only a shared one",
                  { { { "a", "/a", SHARED, -100, 64 } }, 1 }, -1 },
                { "only guaranteed classes, however large and low",
                  { { { "a", "/a", SYSTEM, -1000, 1e9 },
                      { "b", "/b", DEDICATED, -1000, 1e9 },
                      { "c", "/c", SHARED, -1000, 1e9 } }, 3 }, -1 },
                { "the one reclaimed among larger others",
                  { { { "a", "/a", SHARED, -5, 90 },
                      { "b", "/b", DEDICATED, -5, 80 },
                      { "c", "/c", RECLAIMED, 100, 1 },
                      { "d", "/d", SYSTEM, -5, 99 } }, 4 }, 2 },
                { "lowest priority first, even when smaller",
                  { { { "a", "/a", RECLAIMED, 10, 50 },
                      { "b", "/b", RECLAIMED, -3, 1 },
                      { "c", "/c", RECLAIMED, 0, 90 } }, 3 }, 1 },
                { "then the largest usage",
                  { { { "a", "/a", RECLAIMED, 0, 5 },
                      { "b", "/b", RECLAIMED, 0, 7.5 },
                      { "c", "/c", RECLAIMED, 0, 7 },
                      { "d", "/d", SHARED, 0, 100 } }, 4 }, 1 },
                { "then the uid, whatever the array order",
                  { { { "zeta", "/z", RECLAIMED, 0, 3 },
                      { "beta", "/b", RECLAIMED, 0, 3 },
                      { "gamma", "/g", RECLAIMED, 0, 3 } }, 3 }, 1 },
                { "a missing uid sorts last",
                  { { { NULL, "/x", RECLAIMED, 0, 3 },
                      { "b", "/b", RECLAIMED, 0, 3 } }, 2 }, 1 },
                { "a NaN usage counts as none",
                  { { { "a", "/a", RECLAIMED, 0, NAN },
                      { "b", "/b", RECLAIMED, 0, 0.5 },
                      { "c", "/c", RECLAIMED, 0, NAN } }, 3 }, 1 },
                { "NaN usages alone fall back to the uid",
                  { { { "b", "/b", RECLAIMED, 0, NAN },
                      { "a", "/a", RECLAIMED, 0, NAN } }, 2 }, 1 },
                { "a shared one never wins, whatever its priority and usage",
                  { { { "a", "/a", SHARED, INT64_MIN, INFINITY },
                      { "b", "/b", RECLAIMED, INT64_MAX, 0 } }, 2 }, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ssize_t got = eviction_pick_victim(cases[i].in.c, cases[i].in.n);

                if (got != cases[i].want)
                        print_error("%s: got %zd, want %zd\n", cases[i].name, got, cases[i].want);
                assert_int_equal(got, cases[i].want);
        }
}

/* The choice must not depend on the order the agent lists workloads in:
 * every rotation of a mixed set picks the same workload. */
static void test_pick_victim_order_independent(void **state) {
        static const EvictionCandidate set[] = {
                { "p", "/p", RECLAIMED, 0, 10 },
                { "q", "/q", SHARED, -10, 99 },
                { "r", "/r", RECLAIMED, 0, 12 },
                { "s", "/s", RECLAIMED, 1, 50 },
                { "t", "/t", RECLAIMED, 0, 12 },
                { "u", "/u", DEDICATED, -10, 99 },
        };
        const size_t n = ELEMENTSOF(set);

        for (size_t shift = 0; shift < n; shift++) {
                EvictionCandidate rotated[ELEMENTSOF(set)];
                ssize_t got;

                for (size_t k = 0; k < n; k++)
                        rotated[k] = set[(k + shift) % n];
                got = eviction_pick_victim(rotated, n);
                assert_true(got >= 0);
                assert_string_equal(rotated[got].uid, "r");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clock),
                cmocka_unit_test(test_invalid_resource),
                cmocka_unit_test(test_pick_victim),
                cmocka_unit_test(test_pick_victim_order_independent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
