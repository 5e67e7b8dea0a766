/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-open.h"

#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/macro.h"

/* openat2() with RESOLVE_BENEATH fails with EAGAIN when a rename or mount
 * elsewhere raced with the lookup, because containment can then no longer be
 * proven. The race is rare and the lookup cheap, so it is retried; the bound
 * keeps a host that renames in a loop from making the agent spin. */
#define OPENAT2_RETRIES 8

int cgroup_open_beneath(int dirfd, const char *path, uint64_t flags) {
        struct open_how how = {
                .flags = flags,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };

        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN)
                        return negative_errno();
        }
        return -EAGAIN;
}
