/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* Takes the single-instance lock dir/nodeqosd.lock (creating dir, mode 0755):
 * an flock held for the life of the process, released by the kernel when it
 * exits, so a crash never leaves a stale lock. Writes our pid into the file.
 * Returns the lock fd; -EBUSY if another process holds it (then *ret_holder
 * is its pid, or 0 if unknown); other -errno on failure. */
int instance_lock_acquire(const char *dir, pid_t *ret_holder);
