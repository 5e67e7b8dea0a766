/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

// Shell-style matching of cgroup paths: '*' and '?' stay within one path
// component, '**' crosses '/', "[a-z]" and "[!x]" match one character.
// "batch.slice/**" matches everything below batch.slice, not batch.slice.
bool path_glob_match(const char *pattern, const char *path);
