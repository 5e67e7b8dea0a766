/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The checks around a listening unix socket that gRPC does not make: gRPC
 * unlinks whatever socket is at the path when it binds, even one a live
 * server holds, and the new socket's mode follows the process's umask. */

#include <sys/types.h>

/* sun_path holds 108 bytes with the NUL. */
#define UNIX_SOCKET_PATH_MAX 107

/* Whether a server may bind at path. Returns 0 if nothing is there or only
 * a stale socket (no process accepts on it); -EADDRINUSE if a process
 * accepts connections there; -EEXIST if something that is not a socket is
 * there; -ENAMETOOLONG, -EINVAL (not absolute); other -errno from stat. */
int unix_socket_check_free(const char *path);

/* Sets the socket at path to mode and checks that it is a socket with that
 * mode now. Returns 0, -ENOTSOCK, -EPERM (mode did not stick), -errno. */
int unix_socket_restrict(const char *path, mode_t mode);

/* Removes path if it is a socket (ours, gone stale at exit); anything else
 * is left alone. Returns 0 or -errno; a missing path is 0. */
int unix_socket_unlink(const char *path);
