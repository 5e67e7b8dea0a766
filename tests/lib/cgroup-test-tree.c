/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-test-tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"
#include "test-fs.h"

/* Each hierarchy of the layout once, as flags select: the controllers'
 * mounts, then the unified one, then the freezer. Returns how many. */
static size_t layout_hierarchies(const CgroupLayout *l, CgroupTestTreeFlags flags,
                                 const char *ret[static CGROUP_TEST_TREE_MOUNTS_MAX]) {
        size_t n = 0;

        for (int c = 0; c < CGROUP_TEST_TREE_MOUNTS_MAX; c++) {
                const char *m = c < _CGROUP_CONTROLLER_MAX ? l->controller_mount[c]
                                : c == _CGROUP_CONTROLLER_MAX ? l->unified_mount
                                                              : l->freezer_mount;
                bool dup = false;

                if (!m)
                        continue;
                if (c == _CGROUP_CONTROLLER_MAX + 1 && !(flags & CGROUP_TEST_TREE_FREEZER))
                        continue;
                if (c == CGROUP_CONTROLLER_CPUSET && l->mode != CGROUP_MODE_V2 && !(flags & CGROUP_TEST_TREE_CPUSET))
                        continue;
                if (c == _CGROUP_CONTROLLER_MAX && (flags & CGROUP_TEST_TREE_CONTROLLERS_ONLY))
                        continue;
                for (size_t i = 0; i < n; i++)
                        dup = dup || strcmp(ret[i], m) == 0;
                if (!dup)
                        ret[n++] = m;
        }
        return n;
}

/* mount/<tree>[/rel][/file] into buf. */
static int tree_path(const CgroupTestTree *t, const char *mount, const char *rel, const char *file,
                     char buf[static PATH_MAX]) {
        bool has_rel = rel && *rel;
        int n = snprintf(buf, PATH_MAX, "%s/%s%s%s%s%s", mount, t->name, has_rel ? "/" : "", has_rel ? rel : "",
                         file ? "/" : "", file ?: "");

        return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static bool prefix_is_ours(const char *prefix) {
        size_t n = strlen(CGROUP_TEST_PREFIX);

        if (strchr(prefix, '/'))
                return false;
        return strcmp(prefix, CGROUP_BENCH_PREFIX) == 0 ||
               (strncmp(prefix, CGROUP_TEST_PREFIX, n) == 0 && prefix[n] != 0);
}

/* The pid in the name of a test tree, 0 if the name is not one. */
static pid_t tree_owner(const char *name) {
        const char *dash = strrchr(name, '-');
        char prefix[NAME_MAX + 1], *end;
        long pid;

        if (!dash || (size_t) (dash - name) >= sizeof(prefix) || dash[1] < '0' || dash[1] > '9')
                return 0;
        (void) snprintf(prefix, sizeof(prefix), "%.*s", (int) (dash - name), name);
        if (!prefix_is_ours(prefix))
                return 0;
        errno = 0;
        pid = strtol(dash + 1, &end, 10);
        if (errno != 0 || *end != 0 || pid <= 0 || pid > INT_MAX)
                return 0;
        return (pid_t) pid;
}

/* Not gone and not a zombie (a zombie's tasks hold no cgroup any more).
 * kill() failing with EPERM: alive, someone else's. */
static bool process_alive(pid_t pid) {
        char path[64];
        const char *line, *state;

        if (kill(pid, 0) < 0 && errno == ESRCH)
                return false;
        (void) snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        line = test_read_file(path);
        /* "pid (comm) S ...": comm may hold spaces and parentheses. */
        state = line ? strrchr(line, ')') : NULL;
        return !(state && state[1] == ' ' && state[2] == 'Z');
}

int cgroup_test_sweep(const CgroupLayout *layout) {
        const char *mounts[CGROUP_TEST_TREE_MOUNTS_MAX];
        size_t n = layout_hierarchies(layout, CGROUP_TEST_TREE_CPUSET | CGROUP_TEST_TREE_FREEZER, mounts);
        int removed = 0, r = 0;

        for (size_t i = 0; i < n; i++) {
                DIR *d = opendir(mounts[i]);
                struct dirent *de;

                if (!d) {
                        if (r == 0)
                                r = negative_errno();
                        continue;
                }
                while ((de = readdir(d))) {
                        pid_t owner = tree_owner(de->d_name);
                        char path[PATH_MAX];
                        int q;

                        if (de->d_type != DT_DIR || owner == 0 || process_alive(owner))
                                continue;
                        if (snprintf(path, sizeof(path), "%s/%s", mounts[i], de->d_name) >= (int) sizeof(path))
                                q = -ENAMETOOLONG;
                        else
                                q = test_remove_tree(path);
                        if (q < 0 && r == 0)
                                r = q;
                        if (q == 0)
                                removed++;
                }
                (void) closedir(d);
        }
        return r < 0 ? r : removed;
}

static void cgroup_test_tree_undop(CgroupTestTree **t) {
        if (*t)
                (void) cgroup_test_tree_done(*t);
}

int cgroup_test_tree_new(const CgroupLayout *layout, const char *prefix, CgroupTestTreeFlags flags,
                         CgroupTestTree *ret) {
        const char *mounts[CGROUP_TEST_TREE_MOUNTS_MAX];
        CgroupTestTree t = {};
        _cleanup_(cgroup_test_tree_undop) CgroupTestTree *undo = &t;
        size_t n;
        int r;

        if (!prefix_is_ours(prefix))
                return -EINVAL;
        n = layout_hierarchies(layout, flags, mounts);
        if (n == 0)
                return -ENOMEDIUM;
        r = snprintf(t.name, sizeof(t.name), "%s-%d", prefix, (int) getpid());
        if (r < 0 || (size_t) r >= sizeof(t.name))
                return -ENAMETOOLONG;
        /* Leftovers we cannot remove are not this test's failure. */
        (void) cgroup_test_sweep(layout);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *m = strdup(mounts[i]);
                char path[PATH_MAX];

                if (!m)
                        return -ENOMEM;
                r = tree_path(&t, m, NULL, NULL, path);
                if (r < 0)
                        return r;
                /* Only a dead process that had our pid can have left one. */
                r = test_remove_tree(path);
                if (r < 0)
                        return r;
                if (mkdir(path, 0755) < 0)
                        return negative_errno();
                t.mounts[t.n_mounts++] = TAKE_PTR(m);
        }
        *ret = *TAKE_PTR(undo);
        return 0;
}

/* mkdir -p of path below its first base_len characters (the tree's root,
 * which exists). */
static int mkdir_below(char *path, size_t base_len) {
        if (mkdir(path, 0755) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT || path[base_len] != '/')
                return negative_errno();
        for (char *p = path + base_len + 1; (p = strchr(p, '/')); p++) {
                int r = 0;

                *p = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        r = negative_errno();
                *p = '/';
                if (r < 0)
                        return r;
        }
        return mkdir(path, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
}

int cgroup_test_tree_mkdir(const CgroupTestTree *t, const char *rel) {
        for (size_t i = 0; i < t->n_mounts; i++) {
                char path[PATH_MAX];
                int r = tree_path(t, t->mounts[i], rel, NULL, path);

                if (r == 0)
                        r = mkdir_below(path, strlen(t->mounts[i]) + 1 + strlen(t->name));
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_test_tree_remove(const CgroupTestTree *t, const char *rel) {
        int r = 0;

        for (size_t i = 0; i < t->n_mounts; i++) {
                char path[PATH_MAX];
                int q = tree_path(t, t->mounts[i], rel, NULL, path);

                if (q == 0)
                        q = test_remove_tree(path);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

int cgroup_test_tree_done(CgroupTestTree *t) {
        int r = cgroup_test_tree_remove(t, "");

        for (size_t i = 0; i < t->n_mounts; i++)
                free(t->mounts[i]);
        *t = (CgroupTestTree) {};
        return r;
}

int cgroup_test_tree_write(const CgroupTestTree *t, const char *mount, const char *rel, const char *file,
                           const char *value) {
        char path[PATH_MAX];
        size_t len = strlen(value);
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int r;

        r = tree_path(t, mount, rel, file, path);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}

int cgroup_test_tree_move(const CgroupTestTree *t, const char *rel, pid_t pid) {
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "%d", (int) pid);
        for (size_t i = 0; i < t->n_mounts; i++) {
                int r = cgroup_test_tree_write(t, t->mounts[i], rel, "cgroup.procs", buf);

                if (r < 0)
                        return r;
        }
        return 0;
}
