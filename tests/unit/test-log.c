/* SPDX-License-Identifier: Apache-2.0 */
/* Log levels by name, and the -errno convention of the log calls. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void test_levels(void **state) {
        static const struct {
                const char *name;
                int level;
        } cases[] = {
                { "debug", LOG_DEBUG },     { "info", LOG_INFO }, { "notice", LOG_NOTICE },
                { "warning", LOG_WARNING }, { "err", LOG_ERR },   { "error", LOG_ERR },
                { "INFO", -EINVAL },        { "", -EINVAL },      { "verbose", -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(log_level_from_string(cases[i].name), cases[i].level);
        assert_int_equal(log_level_from_string(NULL), -EINVAL);
        assert_string_equal(log_level_to_string(LOG_WARNING), "warning");
        assert_null(log_level_to_string(99));
}

static void test_returns_negative_errno(void **state) {
        log_set_max_level(LOG_EMERG); /* keep the test output quiet */
        assert_int_equal(log_error_errno(ENOENT, "x"), -ENOENT);
        assert_int_equal(log_error_errno(-EPERM, "x"), -EPERM);
        assert_int_equal(log_info("x"), 0);
        log_set_max_level(LOG_INFO);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_levels),
                cmocka_unit_test(test_returns_negative_errno),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
