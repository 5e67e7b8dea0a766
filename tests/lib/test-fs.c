/* SPDX-License-Identifier: Apache-2.0 */
#include "test-fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/macro.h"

/* The kernel empties a cgroup asynchronously after its last task was
 * reaped: rmdir says EBUSY for a moment. Retried for up to a second. */
#define CGROUP_BUSY_RETRY_USEC (10 * 1000)
#define CGROUP_BUSY_RETRIES 100

const char *test_read_file(const char *path) {
        static char buf[4096];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return NULL;
        buf[n] = 0;
        return buf;
}

const char *test_read_value(const char *path) {
        static char buf[4096];
        const char *s = test_read_file(path);

        if (!s)
                return NULL;
        (void) snprintf(buf, sizeof(buf), "%.*s", (int) strcspn(s, "\n"), s);
        return buf;
}

static bool fd_is_cgroupfs(int fd) {
        struct statfs sfs;

        return fstatfs(fd, &sfs) == 0 && (sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC);
}

static int remove_dir_at(int parent_fd, const char *name, dev_t parent_dev);

/* Empties the directory open at fd (closed here). */
static int remove_contents(int fd, bool cgroupfs, dev_t dev) {
        DIR *d = fdopendir(fd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = negative_errno();
                (void) close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                unsigned char type = de->d_type;
                struct stat st;
                int q = 0;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (type == DT_UNKNOWN) {
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue; /* gone meanwhile */
                        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
                }
                if (type == DT_DIR)
                        q = remove_dir_at(dirfd(d), de->d_name, dev);
                else if (!cgroupfs && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        q = negative_errno();
                if (q < 0 && r == 0)
                        r = q;
        }
        (void) closedir(d);
        return r;
}

/* parent_dev 0: the top, on whatever file system it is. */
static int remove_dir_at(int parent_fd, const char *name, dev_t parent_dev) {
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        bool cgroupfs;
        int r;

        if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) /* a file or symlink: as rm -rf */
                return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (fstat(fd, &st) < 0)
                r = negative_errno();
        else if (parent_dev != 0 && st.st_dev != parent_dev)
                r = -EXDEV; /* a mount inside: not ours to empty */
        else
                r = 0;
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        cgroupfs = fd_is_cgroupfs(fd);
        r = remove_contents(fd, cgroupfs, st.st_dev);
        for (int i = 0;; i++) {
                int q;

                if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return r;
                q = negative_errno();
                if (q != -EBUSY || !cgroupfs || i >= CGROUP_BUSY_RETRIES)
                        return r < 0 ? r : q;
                (void) usleep(CGROUP_BUSY_RETRY_USEC);
        }
}

int test_remove_tree(const char *path) {
        return remove_dir_at(AT_FDCWD, path, 0);
}
