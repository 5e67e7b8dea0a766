/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A parsed YAML document kept only for its positions: the configuration loader
 * uses it to name the exact file:line:column of an error, and to tell a key
 * that is present from one that is absent. Typed loading is libcyaml's job. */

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

typedef struct YamlTree YamlTree;

/* A 1-based position in the source text. */
typedef struct YamlPosition {
        unsigned line;
        unsigned column;
} YamlPosition;

/* Parses data (not NUL-terminated, len bytes). Returns 0 and *ret_tree on
 * success; -EINVAL on a syntax error, with *ret_position and *ret_message
 * (malloc'd) describing it; -ENOMEM. An empty document gives a tree without
 * a root. */
int yaml_tree_parse(const char *data, size_t len, YamlTree **ret_tree,
                    YamlPosition *ret_position, char **ret_message);

YamlTree *yaml_tree_free(YamlTree *tree);
static inline void yaml_tree_freep(YamlTree **t) {
        yaml_tree_free(*t);
}

/* Paths name nodes from the root: "controllers.cpu.kp", "qos_rules[2].match".
 * An empty path names the root. */

/* Returns true if the path names a node; *ret_position (may be NULL) is the
 * start of the node's key (want_key, for mapping members) or of its value. */
bool yaml_tree_find(const YamlTree *tree, const char *path, bool want_key, YamlPosition *ret_position);

/* The text of the scalar at path (not NUL-terminated; *ret_len bytes), or
 * NULL if there is none. */
const char *yaml_tree_scalar(const YamlTree *tree, const char *path, size_t *ret_len);

/* A short description of the value at path for an error message: "'abc'" for
 * a scalar (shortened if long), "a mapping", "a list", "nothing" if absent.
 * Returns a malloc'd string or NULL on ENOMEM. */
char *yaml_tree_describe(const YamlTree *tree, const char *path);
