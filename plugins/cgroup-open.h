/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Opening a cgroup file confined below a hierarchy root: the one primitive
 * that cgroup-writer and evict share, so that both write only where the
 * managed-roots check said they may. */

#include <stdint.h>

/* Opens path (relative) below dirfd with openat2() and never anywhere
 * else: no "..", no symlink (the cgroup filesystems have none, so any
 * symlink is a plant), no magic link, no mount crossing (a bind mount could
 * lead anywhere). Returns the fd, or -errno: -ELOOP (a symlink on the way)
 * and -EXDEV (an escape or a mount crossing) mean the path leads outside,
 * -ENOSYS a kernel without openat2() (< 5.6), -EAGAIN if renames kept
 * racing with the lookup. */
int cgroup_open_beneath(int dirfd, const char *path, uint64_t flags);
