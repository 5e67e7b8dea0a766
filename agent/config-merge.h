/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "config-schema.h"
#include "yaml-tree.h"

typedef enum ListMerge {
        LIST_MERGE_REPLACE, /* the main file: its lists replace the defaults */
        LIST_MERGE_APPEND,  /* drop-ins: lists add to what came before; [] resets */
} ListMerge;

/* Moves every setting src sets onto dst, overriding dst's. Mappings merge key
 * by key. src_tree is src's document: libcyaml loads an empty list and an
 * absent one alike, the tree tells them apart. What moved is cleared from src;
 * src must still be freed. Returns 0 or -ENOMEM (dst then holds a partial
 * merge and should be dropped). */
int raw_config_merge(RawConfig *dst, RawConfig *src, const YamlTree *src_tree, ListMerge lists);
