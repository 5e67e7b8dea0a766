/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/macro.h"
#include "qos/path-glob.h"

static void test_match(void **state) {
        static const struct {
                const char *pattern, *path;
                bool match;
        } cases[] = {
                { "system.slice/**", "system.slice/sshd.service", true },
                { "system.slice/**", "system.slice/a/b/c", true },
                { "system.slice/**", "system.slice", false },
                { "system.slice/**", "system.slicex/a", false },
                { "system.slice/*", "system.slice/a", true },
                { "system.slice/*", "system.slice/a/b", false },
                { "batch-*.slice", "batch-1.slice", true },
                { "batch-*.slice", "batch-1/x.slice", false },
                { "**", "anything/at/all", true },
                { "**x*y", "x/xy", true }, /* ** absorbs "x/", * absorbs "" */
                { "a/**/b", "a/x/y/b", true },
                { "a/**/b", "a//b", true },
                { "?.slice", "a.slice", true },
                { "?.slice", "/.slice", false },
                { "[ab].slice", "b.slice", true },
                { "[ab].slice", "c.slice", false },
                { "[!ab].slice", "c.slice", true },
                { "[a-c]x", "bx", true },
                { "[a-c]x", "dx", false },
                { "[]]x", "]x", true },
                { "[abc", "[abc", true }, /* unterminated: literal */
                { "", "", true },
                { "", "a", false },
                { "exact", "exact", true },
                { "exact", "exactly", false },
                /* a pattern that makes naive backtracking exponential */
                { "*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
                { "**a**a**a**a**a**a**a**a**a**b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool m = path_glob_match(cases[i].pattern, cases[i].path);
                if (m != cases[i].match)
                        print_error("'%s' ~ '%s': got %d\n", cases[i].pattern, cases[i].path, m);
                assert_int_equal(m, cases[i].match);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_match),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
