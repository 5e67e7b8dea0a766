/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* File-system helpers shared by the tests, for fixture trees and cgroupfs
 * alike. No cmocka here: the caller asserts. */

/* The content of a small file (up to 4 KiB) in a static buffer, overwritten
 * by the next call; NULL if it cannot be read. */
const char *test_read_file(const char *path);

/* The first line of a small file without its newline (a cgroup knob's
 * value), in its own static buffer, overwritten by the next call; NULL if
 * it cannot be read. */
const char *test_read_value(const char *path);

/* rm -rf path, in C: a directory and everything below it, bottom-up,
 * without following symlinks or crossing into other mounts (-EXDEV); a file
 * or symlink is unlinked. On cgroupfs, where files cannot be unlinked and go
 * with their directory, only the directories are removed, and a cgroup a
 * task has just left (-EBUSY for a moment after waitpid()) is retried. path
 * not there: 0. Returns 0 or the first -errno (the rest is still removed). */
int test_remove_tree(const char *path);
