/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Checks on the values one configuration file sets, reported at the exact
 * position of the value. Type errors are caught earlier, by libcyaml. */

#include "config-errors.h"
#include "config-schema.h"
#include "yaml-tree.h"

/* Appends a line to errors for every out-of-range or malformed value in raw.
 * Returns 0 (problems or not) or -ENOMEM. */
int config_validate_file(const RawConfig *raw, const YamlTree *tree, const char *file, ConfigErrors *errors);

/* Pure checks, exposed for the unit tests: 0 if valid, else -EINVAL and a
 * static reason in *ret_reason. */
int check_absolute_path(const char *s, const char **ret_reason);
int check_cgroup_path(const char *s, bool allow_glob, const char **ret_reason);
int check_listen_address(const char *s, const char **ret_reason);
