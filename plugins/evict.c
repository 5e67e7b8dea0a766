/* SPDX-License-Identifier: Apache-2.0 */
#include "evict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "plugins/cgroup-open.h"
#include "plugins/cgroup-writer.h"

/* How long the v1 freezer gets to stop every task. A task in
 * uninterruptible sleep (NFS, a stuck disk) keeps a cgroup FREEZING for as
 * long as it sleeps; the kill goes ahead then, and a second pass after the
 * thaw catches what forked meanwhile. */
#define FREEZE_WAIT_USEC (2 * 1000 * 1000)
#define FREEZE_POLL_USEC 1000
/* Deeper than any real cgroup tree: a bound on the recursion. */
#define EVICT_MAX_DEPTH 64

/* Opens a directory or file below dirfd; an escape is refused as -EPERM. */
static int open_confined(int dirfd, const char *path, int flags) {
        int fd = cgroup_open_beneath(dirfd, path, (uint64_t) flags | O_CLOEXEC);

        return fd == -ELOOP || fd == -EXDEV ? -EPERM : fd;
}

/* A file of the cgroup in the hierarchy mounted at mount, and the
 * cgroup's directory (O_PATH) in *ret_dir. Returns the fd, -ENOENT if the
 * cgroup is not in this hierarchy, -EOPNOTSUPP if it has no such file. */
static int open_cgroup_file(const char *mount, const char *cgroup, const char *file, int flags, int *ret_dir) {
        _cleanup_close_ int root = -1, dir = -1;
        int fd;

        root = open(mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return negative_errno();
        dir = open_confined(root, cgroup, O_PATH | O_DIRECTORY);
        if (dir < 0)
                return dir;
        fd = open_confined(dir, file, flags);
        if (fd == -ENOENT)
                return -EOPNOTSUPP;
        if (fd >= 0 && ret_dir)
                *ret_dir = TAKE_FD(dir);
        return fd;
}

static int write_string(int fd, const char *s) {
        size_t len = strlen(s);
        ssize_t n = write(fd, s, len);

        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}

/* Returns 0 with every task of the cgroup signalled, -ENOENT if the
 * cgroup is not in this hierarchy, -EOPNOTSUPP if it has no cgroup.kill
 * (kernels before 5.14). */
static int kill_with_cgroup_kill(const char *mount, const char *cgroup) {
        _cleanup_close_ int fd = open_cgroup_file(mount, cgroup, "cgroup.kill", O_WRONLY, NULL);

        if (fd < 0)
                return fd;
        return write_string(fd, "1");
}

static int freezer_state_is(int fd, const char *state) {
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return strcmp(buf, state) == 0;
}

/* Polls until the freezer says FROZEN. Returns 1 frozen, 0 not in time. */
static int wait_frozen(int state_fd) {
        for (unsigned waited = 0; waited < FREEZE_WAIT_USEC; waited += FREEZE_POLL_USEC) {
                struct timespec ts = { .tv_nsec = FREEZE_POLL_USEC * 1000L };
                int r = freezer_state_is(state_fd, "FROZEN");

                if (r != 0)
                        return r;
                (void) nanosleep(&ts, NULL);
        }
        return 0;
}

/* SIGKILL to every process listed in dir's cgroup.procs. While the cgroup
 * is frozen no listed process can exit, so no pid can have been reused. */
static int kill_procs(int dir, unsigned *n_killed) {
        _cleanup_fclose_ FILE *f = NULL;
        int fd = open_confined(dir, "cgroup.procs", O_RDONLY);
        long pid;

        if (fd < 0)
                return fd;
        f = fdopen(fd, "r");
        if (!f) {
                (void) close(fd);
                return -ENOMEM;
        }
        while (fscanf(f, "%ld", &pid) == 1) {
                if (pid <= 0)
                        continue;
                if (kill((pid_t) pid, SIGKILL) == 0)
                        (*n_killed)++;
                else if (errno != ESRCH)
                        return negative_errno();
        }
        return ferror(f) ? -EIO : 0;
}

/* The children's processes first, then dir's own: the deepest ones are
 * the most recent forks, and nothing is left below a killed parent. */
static int kill_tree(int dir, unsigned depth, unsigned *n_killed) {
        DIR *d;
        struct dirent *de;
        int fd, r = 0;

        if (depth > EVICT_MAX_DEPTH)
                return -ELOOP;
        fd = open_confined(dir, ".", O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return -ENOMEM;
        }
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_close_ int child = -1;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                child = open_confined(dir, de->d_name, O_PATH | O_DIRECTORY);
                if (child == -ENOENT)
                        continue; /* removed meanwhile: empty then */
                r = child < 0 ? child : kill_tree(child, depth + 1, n_killed);
        }
        (void) closedir(d);
        if (r < 0)
                return r;
        return kill_procs(dir, n_killed);
}

/* Freeze, kill, thaw. Returns 0, -ENOENT, -EOPNOTSUPP (a cgroup without
 * freezer.state: the hierarchy's root), -errno. */
static int kill_with_freezer(const char *mount, const char *cgroup, unsigned *n_killed) {
        _cleanup_close_ int dir = -1, state = -1;
        int frozen, r, q;

        state = open_cgroup_file(mount, cgroup, "freezer.state", O_RDWR, &dir);
        if (state < 0)
                return state;

        /* Frozen, nothing forks away while the pids are read and killed. */
        r = write_string(state, "FROZEN");
        if (r < 0)
                return r;
        frozen = wait_frozen(state);
        r = frozen < 0 ? frozen : kill_tree(dir, 0, n_killed);
        /* Always thawed: a killed task dies only once it runs again, and a
         * cgroup left frozen after a failure would hang its pod. */
        q = write_string(state, "THAWED");
        if (r >= 0 && q < 0)
                r = q;
        if (r >= 0 && frozen == 0)
                r = kill_tree(dir, 0, n_killed);
        return r;
}

int evict_cgroup(const CgroupLayout *layout, const char *cgroup, char *const *managed_roots, size_t n_managed_roots,
                 EvictResult *ret) {
        unsigned n_killed = 0;
        int r = -EOPNOTSUPP;

        if (!layout || !cgroup)
                return -EINVAL;
        if (cgroup_path_check_managed(cgroup, managed_roots, n_managed_roots) < 0)
                return -EPERM;

        /* v2, and on hybrid the unified tree, where runc and systemd keep
         * the same cgroups as on the v1 controllers: cgroup.kill kills
         * atomically, forks included. */
        if (layout->unified_mount) {
                r = kill_with_cgroup_kill(layout->unified_mount, cgroup);
                if (r >= 0) {
                        if (ret)
                                *ret = (EvictResult) { .used_cgroup_kill = true };
                        return 0;
                }
                if (layout->mode == CGROUP_MODE_V2 || (r != -ENOENT && r != -EOPNOTSUPP))
                        return r;
        }
        if (!layout->freezer_mount)
                return r;

        r = kill_with_freezer(layout->freezer_mount, cgroup, &n_killed);
        if (r < 0)
                return r;
        if (ret)
                *ret = (EvictResult) { .n_killed = n_killed };
        return 0;
}
