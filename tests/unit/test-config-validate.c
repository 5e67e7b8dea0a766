/* SPDX-License-Identifier: Apache-2.0 */
/* The pure string checks behind the configuration's path and address settings. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config-validate.h"
#include "macro.h"

static void test_listen_address(void **state) {
        static const struct {
                const char *s;
                int r;
        } cases[] = {
                { "127.0.0.1:9830", 0 },  { "0.0.0.0:1", 0 },      { "localhost:65535", 0 },
                { "[::1]:9830", 0 },      { "[::]:80", 0 },        { "node-1.example:9830", 0 },
                { "9830", -EINVAL },      { ":9830", -EINVAL },    { "127.0.0.1:", -EINVAL },
                { "127.0.0.1:0", -EINVAL }, { "127.0.0.1:65536", -EINVAL }, { "127.0.0.1:-1", -EINVAL },
                { "127.0.0.1:+80", -EINVAL }, { "127.0.0.1:80x", -EINVAL }, { "::1:9830", -EINVAL },
                { "[::1:9830", -EINVAL }, { "[]:9830", -EINVAL },  { "", -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *reason = NULL;
                int r = check_listen_address(cases[i].s, &reason);

                if (r != cases[i].r)
                        print_error("case '%s': got %d\n", cases[i].s, r);
                assert_int_equal(r, cases[i].r);
                if (r < 0)
                        assert_non_null(reason);
        }
}

static void test_cgroup_path(void **state) {
        static const struct {
                const char *s;
                bool glob;
                int r;
        } cases[] = {
                { "batch.slice", false, 0 },
                { "kubepods/besteffort", false, 0 },
                { "a..b", false, 0 }, /* dots inside a name are fine */
                { "..", false, -EINVAL },
                { "a/../b", false, -EINVAL },
                { "a/..", false, -EINVAL },
                { "/batch.slice", false, -EINVAL },
                { "", false, -EINVAL },
                { "batch-*.slice", false, -EINVAL },
                { "batch-*.slice", true, 0 },
                { "system.slice/**", true, 0 },
                { "x/[ab]", true, 0 },
                { "../**", true, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *reason = NULL;
                int r = check_cgroup_path(cases[i].s, cases[i].glob, &reason);

                if (r != cases[i].r)
                        print_error("case '%s': got %d\n", cases[i].s, r);
                assert_int_equal(r, cases[i].r);
        }
}

static void test_absolute_path(void **state) {
        const char *reason = NULL;
        char long_path[5000];

        assert_int_equal(check_absolute_path("/run/nodeqos", &reason), 0);
        assert_int_equal(check_absolute_path("run/nodeqos", &reason), -EINVAL);
        assert_string_equal(reason, "expected an absolute path");
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;
        assert_int_equal(check_absolute_path(long_path, &reason), -EINVAL);
        assert_string_equal(reason, "path too long");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_listen_address),
                cmocka_unit_test(test_cgroup_path),
                cmocka_unit_test(test_absolute_path),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
