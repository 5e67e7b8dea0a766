/* SPDX-License-Identifier: Apache-2.0 */
#include "unix-socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"

int unix_socket_check_free(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len = strlen(path);

        if (path[0] != '/')
                return -EINVAL;
        if (len > UNIX_SOCKET_PATH_MAX)
                return -ENAMETOOLONG;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;

        /* A socket file: alive only if someone accepts on it. Non-blocking,
         * so a full backlog answers EAGAIN (alive too) instead of waiting. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        memcpy(sa.sun_path, path, len + 1);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                return -EADDRINUSE;
        switch (errno) {
        case EAGAIN:
        case EINPROGRESS:
                return -EADDRINUSE;
        case ECONNREFUSED:
        case ENOENT: /* removed meanwhile */
                return 0;
        default:
                return negative_errno();
        }
}

int unix_socket_restrict(const char *path, mode_t mode) {
        struct stat st;

        if (chmod(path, mode) < 0)
                return negative_errno();
        if (lstat(path, &st) < 0)
                return negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        if ((st.st_mode & 07777) != mode)
                return -EPERM;
        return 0;
}

int unix_socket_unlink(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return 0;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}
