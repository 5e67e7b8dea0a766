/* SPDX-License-Identifier: Apache-2.0 */
#include "instance-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

static pid_t read_holder(int fd) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        long pid;
        char *end;

        if (n <= 0)
                return 0;
        buf[n] = 0;
        pid = strtol(buf, &end, 10);
        if (end == buf || pid <= 0 || pid > INT_MAX)
                return 0;
        return (pid_t) pid;
}

int instance_lock_acquire(const char *dir, pid_t *ret_holder) {
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX], pid[32];
        int n;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();

        if (snprintf(path, sizeof(path), "%s/nodeqosd.lock", dir) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();

        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = negative_errno();

                if (r == -EWOULDBLOCK) {
                        if (ret_holder)
                                *ret_holder = read_holder(fd);
                        return -EBUSY;
                }
                return r;
        }

        /* The pid is for the operator's error message only: the lock is the flock. */
        n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t) n, 0) != n)
                return negative_errno();

        return TAKE_FD(fd);
}
