/* SPDX-License-Identifier: Apache-2.0 */
#include "config-merge.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define PATH_MAX_LEN 256

static uint64_t count_get(const char *base, const cyaml_schema_field_t *f) {
        const char *p = base + f->count_offset;

        switch (f->count_size) {
        case 1: return *(const uint8_t *) p;
        case 2: return *(const uint16_t *) p;
        case 4: return *(const uint32_t *) p;
        default: return *(const uint64_t *) p;
        }
}

static void count_set(char *base, const cyaml_schema_field_t *f, uint64_t v) {
        char *p = base + f->count_offset;

        switch (f->count_size) {
        case 1: *(uint8_t *) p = (uint8_t) v; break;
        case 2: *(uint16_t *) p = (uint16_t) v; break;
        case 4: *(uint32_t *) p = (uint32_t) v; break;
        default: *(uint64_t *) p = v; break;
        }
}

static void free_value(const cyaml_schema_value_t *v, void *data, unsigned count) {
        cyaml_config_t c = raw_config_cyaml_config(NULL, NULL);

        if (data)
                (void) cyaml_free(&c, v, data, count);
}

static int merge_list(char *dst, char *src, const cyaml_schema_field_t *f, ListMerge lists) {
        void **dst_slot = (void **) (dst + f->data_offset), **src_slot = (void **) (src + f->data_offset);
        uint64_t dn = count_get(dst, f), sn = count_get(src, f);
        size_t entry_size = f->value.sequence.entry->data_size;
        char *joined;

        if (lists == LIST_MERGE_REPLACE || sn == 0) {
                free_value(&f->value, *dst_slot, (unsigned) dn);
                *dst_slot = TAKE_PTR(*src_slot);
                count_set(dst, f, sn);
                count_set(src, f, 0);
                return 0;
        }

        if (dn + sn > UINT32_MAX)
                return -ENOMEM;
        joined = realloc(*dst_slot, (dn + sn) * entry_size);
        if (!joined)
                return -ENOMEM;
        /* The entries own their strings; copying the entries moves them. */
        memcpy(joined + dn * entry_size, *src_slot, sn * entry_size);
        free(TAKE_PTR(*src_slot));
        *dst_slot = joined;
        count_set(dst, f, dn + sn);
        count_set(src, f, 0);
        return 0;
}

static int merge_mapping(char *dst, char *src, const cyaml_schema_field_t *fields, const YamlTree *tree,
                         ListMerge lists, char *path, size_t path_len) {
        for (const cyaml_schema_field_t *f = fields; f->key; f++) {
                void **dst_slot = (void **) (dst + f->data_offset), **src_slot = (void **) (src + f->data_offset);
                int n, r;

                n = snprintf(path + path_len, PATH_MAX_LEN - path_len, "%s%s", path_len ? "." : "", f->key);
                if (n < 0 || (size_t) n >= PATH_MAX_LEN - path_len)
                        return -ENAMETOOLONG;

                if (f->value.type == CYAML_SEQUENCE) {
                        if (!yaml_tree_find(tree, path, false, NULL))
                                continue;
                        r = merge_list(dst, src, f, lists);
                        if (r < 0)
                                return r;
                        continue;
                }

                /* Everything else in the raw schema is an optional pointer. */
                if (!(f->value.flags & CYAML_FLAG_POINTER) || !*src_slot)
                        continue;

                if (f->value.type == CYAML_MAPPING && *dst_slot) {
                        r = merge_mapping(*dst_slot, *src_slot, f->value.mapping.fields, tree, lists, path,
                                          path_len + (size_t) n);
                        if (r < 0)
                                return r;
                        continue;
                }

                free_value(&f->value, *dst_slot, 0);
                *dst_slot = TAKE_PTR(*src_slot);
        }
        path[path_len] = 0;
        return 0;
}

int raw_config_merge(RawConfig *dst, RawConfig *src, const YamlTree *src_tree, ListMerge lists) {
        char path[PATH_MAX_LEN] = "";

        return merge_mapping((char *) dst, (char *) src, raw_config_schema.mapping.fields, src_tree, lists, path, 0);
}
