/* SPDX-License-Identifier: Apache-2.0 */
/* PSI triggers: the window rounding for unprivileged processes, refusals,
 * and a real trigger on this kernel firing under CPU contention. */

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/psi-trigger.h"

static void test_unprivileged_window(void **state) {
        static const struct {
                uint64_t in, out;
        } cases[] = {
                { 500000, 2000000 },   { 1000000, 2000000 }, { 2000000, 2000000 },
                { 2000001, 4000000 },  { 9000000, 10000000 }, { 10000000, 10000000 },
                { 0, 2000000 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(psi_unprivileged_window(cases[i].in), cases[i].out);
}

static void test_refusals(void **state) {
        assert_int_equal(psi_trigger_open("/proc/pressure/cpu", 100000, 100000, NULL), -EINVAL);   /* window < 500 ms */
        assert_int_equal(psi_trigger_open("/proc/pressure/cpu", 100000, 20000000, NULL), -EINVAL); /* window > 10 s */
        assert_int_equal(psi_trigger_open("/proc/pressure/cpu", 0, 2000000, NULL), -EINVAL);
        assert_int_equal(psi_trigger_open("/proc/pressure/cpu", 3000000, 2000000, NULL), -EINVAL); /* stall > window */
        assert_int_equal(psi_trigger_open("/nonexistent/cpu.pressure", 100000, 2000000, NULL), -ENOENT);
}

static double now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_fires_under_contention(void **state) {
        struct stat st;
        uint64_t window = 0;
        pid_t busy[4];
        struct pollfd p;
        double start;
        int fd, r;

        if (stat("/proc/pressure/cpu", &st) < 0)
                skip();
        /* 1 s: refused without CAP_SYS_RESOURCE, then armed with 2 s. */
        fd = psi_trigger_open("/proc/pressure/cpu", 20000, 1000000, &window);
        assert_true(fd >= 0);
        assert_true(window == 1000000 || window == 2000000);
        print_message("armed with a %llu ms window\n", (unsigned long long) (window / 1000));

        /* More runnable tasks than CPUs: tasks wait, CPU pressure rises. */
        for (size_t i = 0; i < ELEMENTSOF(busy); i++) {
                busy[i] = fork();
                assert_true(busy[i] >= 0);
                if (busy[i] == 0) {
                        volatile unsigned long n = 0;
                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        for (;;)
                                n++;
                }
        }

        start = now_sec();
        p = (struct pollfd) { .fd = fd, .events = POLLPRI };
        r = poll(&p, 1, 8000);
        print_message("trigger fired after %.2f s\n", now_sec() - start);

        for (size_t i = 0; i < ELEMENTSOF(busy); i++) {
                kill(busy[i], SIGKILL);
                waitpid(busy[i], NULL, 0);
        }
        close(fd);
        assert_int_equal(r, 1);
        assert_true(p.revents & POLLPRI);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unprivileged_window),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_fires_under_contention),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
