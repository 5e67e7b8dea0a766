/* SPDX-License-Identifier: Apache-2.0 */
#include "yaml-tree.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

/* Long scalars are cut in messages: the point is to recognise the value. */
#define DESCRIBE_MAX_CHARS 40

struct YamlTree {
        yaml_document_t document;
        bool has_root;
};

static YamlPosition position_from_mark(yaml_mark_t mark) {
        /* libyaml counts from 0; editors and our messages count from 1. */
        return (YamlPosition) { .line = (unsigned) mark.line + 1, .column = (unsigned) mark.column + 1 };
}

static yaml_node_t *node_at(const YamlTree *tree, int index);

/* A scalar for a message: quoted, cut when long, control characters shown
 * as '?' so a hostile file cannot forge log lines. malloc'd, NULL on ENOMEM. */
static char *quote_scalar(const yaml_node_t *node) {
        size_t n = node->data.scalar.length;
        bool cut = n > DESCRIBE_MAX_CHARS;
        char buf[DESCRIBE_MAX_CHARS + 1], *s = NULL;

        if (cut)
                n = DESCRIBE_MAX_CHARS;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = node->data.scalar.value[i];
                buf[i] = iscntrl(c) ? '?' : (char) c;
        }
        buf[n] = 0;
        if (asprintf(&s, "'%s%s'", buf, cut ? "..." : "") < 0)
                return NULL;
        return s;
}

/* libyaml 0.2.5 scans nested flow collections in quadratic time: 250,000
 * '[' in a file under the size limit take minutes. No configuration nests
 * deeper than a few levels. */
#define NESTING_MAX 64

/* A first pass over the events: refuses deep nesting before the loader
 * builds it. Returns 0, or -EINVAL with a position and a static message. */
static int check_nesting(const char *data, size_t len, YamlPosition *ret_position, const char **ret_message) {
        yaml_parser_t parser;
        unsigned depth = 0;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        for (bool done = false; !done && r == 0;) {
                yaml_event_t event;

                if (!yaml_parser_parse(&parser, &event))
                        break; /* the loader reports syntax errors, with context */
                switch (event.type) {
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (++depth > NESTING_MAX) {
                                *ret_position = position_from_mark(event.start_mark);
                                *ret_message = "nested more than 64 levels deep";
                                r = -EINVAL;
                        }
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                default:
                        break;
                }
                yaml_event_delete(&event);
        }
        yaml_parser_delete(&parser);
        return r;
}

/* libcyaml hands out C strings: a NUL inside a scalar would silently cut
 * a value short, or make a key differ between libcyaml and this tree. */
static yaml_node_t *find_nul_scalar(const YamlTree *tree) {
        for (yaml_node_t *n = tree->document.nodes.start; n < tree->document.nodes.top; n++)
                if (n->type == YAML_SCALAR_NODE && memchr(n->data.scalar.value, 0, n->data.scalar.length))
                        return n;
        return NULL;
}

static int compare_keys(const void *x, const void *y) {
        const yaml_node_t *a = *(yaml_node_t *const *) x, *b = *(yaml_node_t *const *) y;
        size_t n = MIN(a->data.scalar.length, b->data.scalar.length);
        int c = memcmp(a->data.scalar.value, b->data.scalar.value, n);

        if (c != 0)
                return c;
        if (a->data.scalar.length != b->data.scalar.length)
                return a->data.scalar.length < b->data.scalar.length ? -1 : 1;
        /* Equal keys: in file order, so the later one is reported. */
        return a->start_mark.index < b->start_mark.index ? -1 : (a->start_mark.index > b->start_mark.index);
}

/* Returns the second occurrence of a repeated key in any mapping, NULL if
 * there is none; *ret_oom on allocation failure. Sorting keeps a hostile file
 * with many keys from costing quadratic time. */
static yaml_node_t *find_duplicate_key(const YamlTree *tree, bool *ret_oom) {
        yaml_node_t *found = NULL;

        *ret_oom = false;
        for (yaml_node_t *n = tree->document.nodes.start; n < tree->document.nodes.top && !found; n++) {
                size_t count = 0, total;
                yaml_node_t **keys;

                if (n->type != YAML_MAPPING_NODE)
                        continue;
                total = (size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start);
                if (total < 2)
                        continue;
                keys = malloc(total * sizeof(*keys));
                if (!keys) {
                        *ret_oom = true;
                        return NULL;
                }
                for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = node_at(tree, p->key);
                        /* Only scalar keys can name a setting; others fail later. */
                        if (k && k->type == YAML_SCALAR_NODE)
                                keys[count++] = k;
                }
                qsort(keys, count, sizeof(*keys), compare_keys);
                for (size_t i = 1; i < count && !found; i++)
                        if (keys[i - 1]->data.scalar.length == keys[i]->data.scalar.length &&
                            memcmp(keys[i - 1]->data.scalar.value, keys[i]->data.scalar.value,
                                   keys[i]->data.scalar.length) == 0)
                                found = keys[i];
                free(keys);
        }
        return found;
}

int yaml_tree_parse(const char *data, size_t len, YamlTree **ret_tree,
                    YamlPosition *ret_position, char **ret_message) {
        yaml_parser_t parser;
        YamlTree *tree;

        {
                const char *msg = NULL;
                int r = check_nesting(data, len, ret_position, &msg);

                if (r == -EINVAL) {
                        *ret_message = strdup(msg);
                        return *ret_message ? -EINVAL : -ENOMEM;
                }
                if (r < 0)
                        return r;
        }

        tree = calloc(1, sizeof(*tree));
        if (!tree)
                return -ENOMEM;

        if (!yaml_parser_initialize(&parser)) {
                free(tree);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);

        if (!yaml_parser_load(&parser, &tree->document)) {
                int r = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;

                if (r == -EINVAL) {
                        char *m = NULL;

                        *ret_position = position_from_mark(parser.problem_mark);
                        if (asprintf(&m, "YAML syntax error: %s%s%s", strna(parser.problem),
                                     parser.context ? " " : "", parser.context ?: "") < 0)
                                r = -ENOMEM;
                        else
                                *ret_message = m;
                }
                yaml_parser_delete(&parser);
                free(tree);
                return r;
        }

        /* A second document in the same file would be silently ignored by a
         * loader that reads only the first: refuse it. */
        tree->has_root = yaml_document_get_root_node(&tree->document) != NULL;
        if (tree->has_root) {
                yaml_document_t next;

                if (!yaml_parser_load(&parser, &next)) {
                        *ret_position = position_from_mark(parser.problem_mark);
                        *ret_message = strdup("YAML syntax error after the first document");
                        yaml_parser_delete(&parser);
                        yaml_tree_free(tree);
                        return *ret_message ? -EINVAL : -ENOMEM;
                }
                if (yaml_document_get_root_node(&next)) {
                        *ret_position = position_from_mark(yaml_document_get_root_node(&next)->start_mark);
                        yaml_document_delete(&next);
                        yaml_parser_delete(&parser);
                        yaml_tree_free(tree);
                        *ret_message = strdup("a configuration file holds one YAML document, found a second");
                        return *ret_message ? -EINVAL : -ENOMEM;
                }
                yaml_document_delete(&next);
        }

        yaml_parser_delete(&parser);

        /* YAML forbids a key twice in one mapping, and silently keeping one of
         * them would hide a mistake: refuse it here, where the second one's
         * position is known. */
        if (tree->has_root) {
                bool oom;
                yaml_node_t *dup = find_duplicate_key(tree, &oom);

                if (oom) {
                        yaml_tree_free(tree);
                        return -ENOMEM;
                }
                if (dup) {
                        _cleanup_free_ char *key = quote_scalar(dup);
                        char *m = NULL;

                        *ret_position = position_from_mark(dup->start_mark);
                        if (!key || asprintf(&m, "duplicate key %s", key) < 0)
                                m = NULL;
                        yaml_tree_free(tree);
                        *ret_message = m;
                        return m ? -EINVAL : -ENOMEM;
                }
        }

        if (tree->has_root) {
                yaml_node_t *nul = find_nul_scalar(tree);

                if (nul) {
                        *ret_position = position_from_mark(nul->start_mark);
                        yaml_tree_free(tree);
                        *ret_message = strdup("a NUL character is not allowed in a value or key");
                        return *ret_message ? -EINVAL : -ENOMEM;
                }
        }

        *ret_tree = tree;
        return 0;
}

YamlTree *yaml_tree_free(YamlTree *tree) {
        if (!tree)
                return NULL;
        yaml_document_delete(&tree->document);
        free(tree);
        return NULL;
}

static yaml_node_t *node_at(const YamlTree *tree, int index) {
        /* libyaml's accessor is not const-correct; it does not modify. */
        return yaml_document_get_node((yaml_document_t *) &tree->document, index);
}

static bool scalar_equals(const yaml_node_t *node, const char *s, size_t n) {
        return node && node->type == YAML_SCALAR_NODE && node->data.scalar.length == n &&
               memcmp(node->data.scalar.value, s, n) == 0;
}

/* Walks the path; returns the node and, for a final mapping key, its key node. */
static yaml_node_t *walk(const YamlTree *tree, const char *path, yaml_node_t **ret_key) {
        yaml_node_t *node, *key = NULL;
        const char *p = path;

        if (!tree->has_root)
                return NULL;
        node = yaml_document_get_root_node((yaml_document_t *) &tree->document);

        while (*p) {
                if (*p == '[') {
                        char *end;
                        unsigned long i;
                        long n;

                        errno = 0;
                        i = strtoul(p + 1, &end, 10);
                        if (errno != 0 || end == p + 1 || *end != ']')
                                return NULL;
                        if (node->type != YAML_SEQUENCE_NODE)
                                return NULL;
                        n = node->data.sequence.items.top - node->data.sequence.items.start;
                        if (i >= (unsigned long) n)
                                return NULL;
                        node = node_at(tree, node->data.sequence.items.start[i]);
                        key = NULL;
                        p = end + 1;
                } else {
                        size_t n;
                        yaml_node_pair_t *pair;
                        yaml_node_t *found = NULL;

                        if (*p == '.')
                                p++;
                        n = strcspn(p, ".[");
                        if (n == 0 || node->type != YAML_MAPPING_NODE)
                                return NULL;
                        for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
                                yaml_node_t *k = node_at(tree, pair->key);

                                if (scalar_equals(k, p, n)) {
                                        key = k;
                                        found = node_at(tree, pair->value);
                                        break;
                                }
                        }
                        if (!found)
                                return NULL;
                        node = found;
                        p += n;
                }
                if (!node)
                        return NULL;
        }

        if (ret_key)
                *ret_key = key;
        return node;
}

bool yaml_tree_find(const YamlTree *tree, const char *path, bool want_key, YamlPosition *ret_position) {
        yaml_node_t *key = NULL, *node;

        node = walk(tree, path, &key);
        if (!node)
                return false;
        if (ret_position)
                *ret_position = position_from_mark(want_key && key ? key->start_mark : node->start_mark);
        return true;
}

const char *yaml_tree_scalar(const YamlTree *tree, const char *path, size_t *ret_len) {
        yaml_node_t *node = walk(tree, path, NULL);

        if (!node || node->type != YAML_SCALAR_NODE)
                return NULL;
        *ret_len = node->data.scalar.length;
        return (const char *) node->data.scalar.value;
}

char *yaml_tree_describe(const YamlTree *tree, const char *path) {
        yaml_node_t *node = walk(tree, path, NULL);

        if (!node)
                return strdup("nothing");

        switch (node->type) {
        case YAML_MAPPING_NODE:
                return strdup("a mapping");
        case YAML_SEQUENCE_NODE:
                return strdup("a list");
        case YAML_SCALAR_NODE:
                if (node->data.scalar.length == 0)
                        return strdup("an empty value");
                return quote_scalar(node);
        default:
                return strdup("nothing");
        }
}
