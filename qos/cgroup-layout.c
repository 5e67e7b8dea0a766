/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/macro.h"

static const char *const mode_names[_CGROUP_MODE_MAX] = {
        [CGROUP_MODE_V1] = "v1",
        [CGROUP_MODE_V2] = "v2",
        [CGROUP_MODE_HYBRID] = "hybrid",
};

static const char *const controller_names[_CGROUP_CONTROLLER_MAX] = {
        [CGROUP_CONTROLLER_CPU] = "cpu",
        [CGROUP_CONTROLLER_CPUACCT] = "cpuacct",
        [CGROUP_CONTROLLER_CPUSET] = "cpuset",
        [CGROUP_CONTROLLER_MEMORY] = "memory",
        [CGROUP_CONTROLLER_BLKIO] = "blkio",
};

/* The v2 names of the same controllers ("io" for blkio). cpuacct has none:
 * cpu.stat's usage is there with or without the cpu controller. */
static const char *const v2_controller_names[_CGROUP_CONTROLLER_MAX] = {
        [CGROUP_CONTROLLER_CPU] = "cpu",
        [CGROUP_CONTROLLER_CPUACCT] = NULL,
        [CGROUP_CONTROLLER_CPUSET] = "cpuset",
        [CGROUP_CONTROLLER_MEMORY] = "memory",
        [CGROUP_CONTROLLER_BLKIO] = "io",
};

const char *cgroup_mode_to_string(CgroupMode m) {
        return m >= 0 && m < _CGROUP_MODE_MAX ? mode_names[m] : NULL;
}

const char *cgroup_controller_to_string(CgroupController c) {
        return c >= 0 && c < _CGROUP_CONTROLLER_MAX ? controller_names[c] : NULL;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *out = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *out++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
                        s += 3;
                } else
                        *out++ = *s;
        }
        *out = 0;
}

static bool path_is_below(const char *path, const char *root) {
        size_t n = strlen(root);

        while (n > 1 && root[n - 1] == '/')
                n--;
        return strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static bool option_listed(const char *options, const char *name) {
        size_t n = strlen(name);

        for (const char *p = options; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, name, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

static bool word_listed(const char *words, const char *name) {
        size_t n = strlen(name);

        for (const char *p = words; *p;) {
                size_t len;

                p += strspn(p, " \t\n");
                len = strcspn(p, " \t\n");
                if (len == n && strncmp(p, name, n) == 0)
                        return true;
                p += len;
        }
        return false;
}

static int set_mount(char **slot, const char *mount_point) {
        if (*slot)
                return 0; /* the first mount of a hierarchy wins; later ones are bind mounts */
        *slot = strdup(mount_point);
        return *slot ? 0 : -ENOMEM;
}

/* Handles one mountinfo line; unrelated lines are skipped. */
static int parse_line(char *line, const char *mount_root, CgroupLayout *l) {
        char *sep, *fields[6] = {}, *tail[3] = {}, *save = NULL, *tok;
        int i = 0, r;

        /* The optional fields end at a lone "-"; what follows is fs type,
         * source and super options. */
        sep = strstr(line, " - ");
        if (!sep)
                return 0;
        *sep = 0;
        for (tok = strtok_r(line, " ", &save); tok && i < 6; tok = strtok_r(NULL, " ", &save))
                fields[i++] = tok;
        if (i < 5)
                return 0;
        i = 0;
        save = NULL;
        for (tok = strtok_r(sep + 3, " \n", &save); tok && i < 3; tok = strtok_r(NULL, " \n", &save))
                tail[i++] = tok;
        if (i < 3)
                return 0;

        unescape_octal(fields[4]);
        if (!path_is_below(fields[4], mount_root))
                return 0;

        if (strcmp(tail[0], "cgroup2") == 0)
                return set_mount(&l->unified_mount, fields[4]);
        if (strcmp(tail[0], "cgroup") != 0)
                return 0;

        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                if (option_listed(tail[2], controller_names[c])) {
                        r = set_mount(&l->controller_mount[c], fields[4]);
                        if (r < 0)
                                return r;
                }
        if (option_listed(tail[2], "freezer"))
                return set_mount(&l->freezer_mount, fields[4]);
        return 0;
}

static int read_small_file(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        return 0;
}

static bool any_v1(const CgroupLayout *l) {
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                if (l->controller_mount[c])
                        return true;
        return false;
}

int cgroup_layout_parse(const char *mountinfo, const char *mount_root, CgroupLayout *ret,
                        const char **ret_missing) {
        CgroupLayout l = {};
        _cleanup_free_ char *copy = strdup(mountinfo);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = parse_line(line, mount_root, &l);
                if (r < 0) {
                        cgroup_layout_done(&l);
                        return r;
                }
        }

        if (any_v1(&l))
                l.mode = l.unified_mount ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
        else if (l.unified_mount) {
                char path[4096], controllers[1024] = "";

                l.mode = CGROUP_MODE_V2;
                (void) snprintf(path, sizeof(path), "%s/cgroup.controllers", l.unified_mount);
                (void) read_small_file(path, controllers, sizeof(controllers));
                for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                        if (!v2_controller_names[c] || word_listed(controllers, v2_controller_names[c])) {
                                r = set_mount(&l.controller_mount[c], l.unified_mount);
                                if (r < 0) {
                                        cgroup_layout_done(&l);
                                        return r;
                                }
                        }
        } else
                return -ENOMEDIUM;

        /* The agent's two essential resources; the rest degrade gracefully. */
        static const CgroupController required[] = { CGROUP_CONTROLLER_CPU, CGROUP_CONTROLLER_MEMORY };
        for (size_t i = 0; i < ELEMENTSOF(required); i++)
                if (!l.controller_mount[required[i]]) {
                        if (ret_missing)
                                *ret_missing = controller_names[required[i]];
                        cgroup_layout_done(&l);
                        return -EOPNOTSUPP;
                }
        *ret = l;
        return 0;
}

int cgroup_layout_detect(const char *mountinfo_path, const char *mount_root, CgroupLayout *ret,
                         const char **ret_missing) {
        _cleanup_fclose_ FILE *f = fopen(mountinfo_path, "re");
        _cleanup_free_ char *text = NULL;
        size_t size = 0;

        if (!f)
                return negative_errno();
        /* mountinfo is generated on read; read it whole in one go. */
        {
                FILE *m = open_memstream(&text, &size);
                char buf[8192];
                size_t n;

                if (!m)
                        return -ENOMEM;
                while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                        if (fwrite(buf, 1, n, m) != n) {
                                fclose(m);
                                return -ENOMEM;
                        }
                if (fclose(m) != 0)
                        return -ENOMEM;
        }
        return cgroup_layout_parse(text, mount_root, ret, ret_missing);
}

void cgroup_layout_done(CgroupLayout *l) {
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                free(l->controller_mount[c]);
        free(l->unified_mount);
        free(l->freezer_mount);
        *l = (CgroupLayout) {};
}

const char *cgroup_layout_primary_mount(const CgroupLayout *l) {
        return l->controller_mount[CGROUP_CONTROLLER_CPU];
}
