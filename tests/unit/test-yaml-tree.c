/* SPDX-License-Identifier: Apache-2.0 */
/* Positions and lookups in a parsed YAML document. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "yaml-tree.h"

static const char doc[] = "a: 1\n"
                          "b:\n"
                          "  c: hello\n"
                          "  list:\n"
                          "    - x\n"
                          "    - {k: v}\n"
                          "long: " "0123456789012345678901234567890123456789012345\n";

static void test_find(void **state) {
        static const struct {
                const char *path;
                bool want_key, found;
                unsigned line, column;
        } cases[] = {
                { "", false, true, 1, 1 },
                { "a", false, true, 1, 4 },
                { "a", true, true, 1, 1 },
                { "b.c", false, true, 3, 6 },
                { "b.c", true, true, 3, 3 },
                { "b.list[0]", false, true, 5, 7 },
                { "b.list[1].k", false, true, 6, 11 },
                { "b.list[1].k", true, true, 6, 8 },
                { "b.list[2]", false, false, 0, 0 },
                { "b.list[x]", false, false, 0, 0 },
                { "b.missing", false, false, 0, 0 },
                { "a.deeper", false, false, 0, 0 },
                { "a[0]", false, false, 0, 0 },
        };
        _cleanup_(yaml_tree_freep) YamlTree *t = NULL;
        _cleanup_free_ char *msg = NULL;
        YamlPosition pos;

        assert_int_equal(yaml_tree_parse(doc, strlen(doc), &t, &pos, &msg), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                YamlPosition p = {};
                bool found = yaml_tree_find(t, cases[i].path, cases[i].want_key, &p);

                if (found != cases[i].found || p.line != cases[i].line || p.column != cases[i].column)
                        print_error("case '%s': found=%d at %u:%u\n", cases[i].path, found, p.line, p.column);
                assert_int_equal(found, cases[i].found);
                assert_int_equal(p.line, cases[i].line);
                assert_int_equal(p.column, cases[i].column);
        }
}

static void test_describe(void **state) {
        static const struct {
                const char *path, *description;
        } cases[] = {
                { "a", "'1'" },
                { "b", "a mapping" },
                { "b.list", "a list" },
                { "nope", "nothing" },
                { "long", "'0123456789012345678901234567890123456789...'" },
        };
        _cleanup_(yaml_tree_freep) YamlTree *t = NULL;
        _cleanup_free_ char *msg = NULL;
        YamlPosition pos;
        size_t len = 0;

        assert_int_equal(yaml_tree_parse(doc, strlen(doc), &t, &pos, &msg), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *d = yaml_tree_describe(t, cases[i].path);
                assert_string_equal(d, cases[i].description);
        }
        assert_memory_equal(yaml_tree_scalar(t, "b.c", &len), "hello", 5);
        assert_int_equal(len, 5);
        assert_null(yaml_tree_scalar(t, "b", &len));
}

static void test_errors(void **state) {
        static const struct {
                const char *text, *message;
                unsigned line, column;
        } cases[] = {
                { "a: [1\n", "YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence", 2, 1 },
                { "a: 1\nb: 2\na: 3\n", "duplicate key 'a'", 3, 1 },
                { "x:\n  - {k: 1, k: 2}\n", "duplicate key 'k'", 2, 12 },
                { "a: 1\n---\nb: 2\n", "a configuration file holds one YAML document, found a second", 3, 1 },
                { "a: *nope\n", "YAML syntax error: found undefined alias", 1, 4 },
                /* control characters in a repeated key do not reach the message */
                { "\"a\\nb\": 1\n\"a\\nb\": 2\n", "duplicate key 'a?b'", 2, 1 },
                { "a: \"x\\0y\"\n", "a NUL character is not allowed in a value or key", 1, 4 },
                { "\"k\\0\": 1\n", "a NUL character is not allowed in a value or key", 1, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                YamlTree *t = NULL;
                _cleanup_free_ char *msg = NULL;
                YamlPosition pos = {};

                assert_int_equal(yaml_tree_parse(cases[i].text, strlen(cases[i].text), &t, &pos, &msg), -EINVAL);
                assert_null(t);
                if (strcmp(msg, cases[i].message) != 0 || pos.line != cases[i].line || pos.column != cases[i].column)
                        print_error("case %zu: %u:%u %s\n", i, pos.line, pos.column, msg);
                assert_string_equal(msg, cases[i].message);
                assert_int_equal(pos.line, cases[i].line);
                assert_int_equal(pos.column, cases[i].column);
        }
}

static void test_nesting_limit(void **state) {
        /* libyaml is quadratic in flow nesting: deep nesting is refused
         * before it is built, and quickly. */
        static char deep[300001];
        YamlTree *t = NULL;
        _cleanup_free_ char *msg = NULL;
        YamlPosition pos = {};

        memcpy(deep, "a: ", 3);
        memset(deep + 3, '[', sizeof(deep) - 4);
        assert_int_equal(yaml_tree_parse(deep, strlen(deep), &t, &pos, &msg), -EINVAL);
        assert_string_equal(msg, "nested more than 64 levels deep");
        assert_int_equal(pos.line, 1);
        assert_int_equal(pos.column, 3 + 64); /* the 64th bracket: the mapping is level 1 */
}

static void test_empty(void **state) {
        _cleanup_(yaml_tree_freep) YamlTree *t = NULL;
        _cleanup_free_ char *msg = NULL;
        YamlPosition pos;

        assert_int_equal(yaml_tree_parse("", 0, &t, &pos, &msg), 0);
        assert_false(yaml_tree_find(t, "", false, NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_describe),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_nesting_limit),
                cmocka_unit_test(test_empty),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
