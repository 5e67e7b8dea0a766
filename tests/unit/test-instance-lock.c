/* SPDX-License-Identifier: Apache-2.0 */
/* The single-instance lock: one holder, the holder's pid in the refusal, and
 * the lock gone with the holder. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "instance-lock.h"
#include "macro.h"

static void test_lock(void **state) {
        char dir[] = "/tmp/nodeqos-test-lock-XXXXXX", sub[64], cmd[128];
        pid_t holder = 0, child;
        int fd, status, pipefd[2];
        char c;

        assert_non_null(mkdtemp(dir));
        /* The directory is created if needed. */
        snprintf(sub, sizeof(sub), "%s/run", dir);

        fd = instance_lock_acquire(sub, &holder);
        assert_true(fd >= 0);
        /* A second open file description in any process is refused. */
        assert_int_equal(instance_lock_acquire(sub, &holder), -EBUSY);
        assert_int_equal(holder, getpid());
        close(fd);

        /* Another process takes it; while it lives we are refused; once it
         * exits (as if it crashed) the lock is free without any cleanup. */
        assert_int_equal(pipe(pipefd), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                int cfd = instance_lock_acquire(sub, NULL);
                (void) write(pipefd[1], cfd >= 0 ? "y" : "n", 1);
                pause();
                _exit(0);
        }
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        assert_int_equal(c, 'y');
        assert_int_equal(instance_lock_acquire(sub, &holder), -EBUSY);
        assert_int_equal(holder, child);
        kill(child, SIGKILL);
        assert_int_equal(waitpid(child, &status, 0), child);
        fd = instance_lock_acquire(sub, &holder);
        assert_true(fd >= 0);
        close(fd);
        close(pipefd[0]);
        close(pipefd[1]);

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_unusable_dir(void **state) {
        /* A path below a regular file cannot be a directory. */
        assert_int_equal(instance_lock_acquire("/dev/null/nodeqos", NULL), -ENOTDIR);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lock),
                cmocka_unit_test(test_unusable_dir),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
