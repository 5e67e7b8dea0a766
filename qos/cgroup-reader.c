/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"
#include "read-buffer.h"

/* The files of one cgroup, in the order a sample reads them. */
typedef enum StatFile {
        STAT_CPU_USAGE,  /* v2 cpu.stat; v1 cpuacct.usage */
        STAT_CPU_STAT,   /* v1 cpu.stat: throttling */
        STAT_MEMORY_USAGE,
        STAT_MEMORY_STAT,
        STAT_IO_BYTES,   /* v2 io.stat; v1 blkio.throttle.io_service_bytes* */
        STAT_IO_OPS,     /* v1 blkio.throttle.io_serviced* */
        STAT_CPU_PRESSURE,
        STAT_MEMORY_PRESSURE,
        STAT_IO_PRESSURE,
        _STAT_FILE_MAX,
} StatFile;

/* Which hierarchy a file is in: a controller's, or the pressure tree. */
#define MOUNT_PRESSURE _CGROUP_CONTROLLER_MAX

typedef struct StatFileSpec {
        int mount;
        const char *name;
} StatFileSpec;

static const StatFileSpec v2_files[_STAT_FILE_MAX] = {
        /* On v2, CPUACCT maps to the unified tree: cpu.stat's usage is there
         * even without the cpu controller. */
        [STAT_CPU_USAGE] = { CGROUP_CONTROLLER_CPUACCT, "cpu.stat" },
        [STAT_MEMORY_USAGE] = { CGROUP_CONTROLLER_MEMORY, "memory.current" },
        [STAT_MEMORY_STAT] = { CGROUP_CONTROLLER_MEMORY, "memory.stat" },
        [STAT_IO_BYTES] = { CGROUP_CONTROLLER_BLKIO, "io.stat" },
        [STAT_CPU_PRESSURE] = { MOUNT_PRESSURE, "cpu.pressure" },
        [STAT_MEMORY_PRESSURE] = { MOUNT_PRESSURE, "memory.pressure" },
        [STAT_IO_PRESSURE] = { MOUNT_PRESSURE, "io.pressure" },
};

static const StatFileSpec v1_files[_STAT_FILE_MAX] = {
        [STAT_CPU_USAGE] = { CGROUP_CONTROLLER_CPUACCT, "cpuacct.usage" },
        [STAT_CPU_STAT] = { CGROUP_CONTROLLER_CPU, "cpu.stat" },
        [STAT_MEMORY_USAGE] = { CGROUP_CONTROLLER_MEMORY, "memory.usage_in_bytes" },
        [STAT_MEMORY_STAT] = { CGROUP_CONTROLLER_MEMORY, "memory.stat" },
        /* The _recursive files count the I/O of the cgroup's descendants too,
         * as v2 io.stat does, and cpuacct.usage and the memory files do: a
         * pod's containers are its children. Kernels before 4.17 have only
         * the flat files: see open_v1_io(). */
        [STAT_IO_BYTES] = { CGROUP_CONTROLLER_BLKIO, "blkio.throttle.io_service_bytes_recursive" },
        [STAT_IO_OPS] = { CGROUP_CONTROLLER_BLKIO, "blkio.throttle.io_serviced_recursive" },
        /* Hybrid only: the unified tree has these where the cgroup exists. */
        [STAT_CPU_PRESSURE] = { MOUNT_PRESSURE, "cpu.pressure" },
        [STAT_MEMORY_PRESSURE] = { MOUNT_PRESSURE, "memory.pressure" },
        [STAT_IO_PRESSURE] = { MOUNT_PRESSURE, "io.pressure" },
};

struct CgroupReader {
        CgroupMode mode;
        int fd[_STAT_FILE_MAX];
        ReadBuffer *buf; /* the thread's buffer, during a sample */
};

struct NodePressureReader {
        int fd[3]; /* cpu, memory, io */
};

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        (void) close(fds[i]);
                        fds[i] = -1;
                }
}

/* Returns the path without leading and trailing slashes in *ret (to free);
 * "" for the root cgroup. -EINVAL for a ".." component: the path must stay
 * below the hierarchy roots. */
static int normalize_cgroup_path(const char *cgroup, char **ret) {
        const char *start = cgroup;
        size_t n;
        char *s;

        while (*start == '/')
                start++;
        n = strlen(start);
        while (n > 0 && start[n - 1] == '/')
                n--;
        s = strndup(start, n);
        if (!s)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                size_t len = strcspn(p, "/");

                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        free(s);
                        return -EINVAL;
                }
                p += len;
                p += strspn(p, "/");
        }
        *ret = s;
        return 0;
}

static int cgroup_dir(const char *mount, const char *cgroup, char **ret) {
        int r = *cgroup ? asprintf(ret, "%s/%s", mount, cgroup) : asprintf(ret, "%s", mount);
        return r < 0 ? -ENOMEM : 0;
}

/* Opens dir/name into *ret_fd; a missing file is no error (-1). */
static int open_stat_file(const char *dir, const char *name, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (!errno_is_gone(errno))
                        return negative_errno();
                fd = -1;
        }
        *ret_fd = fd;
        return 0;
}

static const char *spec_mount(const CgroupLayout *layout, const StatFileSpec *spec) {
        if (spec->mount == MOUNT_PRESSURE)
                return cgroup_layout_pressure_mount(layout);
        return layout->controller_mount[spec->mount];
}

/* v1 blkio: the _recursive pair, or on old kernels the flat pair; never one
 * of each, the two would count different sets of processes. */
static int open_v1_io(const char *dir, CgroupReader *r) {
        int k;

        k = open_stat_file(dir, v1_files[STAT_IO_BYTES].name, &r->fd[STAT_IO_BYTES]);
        if (k < 0)
                return k;
        if (r->fd[STAT_IO_BYTES] >= 0)
                return open_stat_file(dir, v1_files[STAT_IO_OPS].name, &r->fd[STAT_IO_OPS]);

        k = open_stat_file(dir, "blkio.throttle.io_service_bytes", &r->fd[STAT_IO_BYTES]);
        if (k < 0)
                return k;
        if (r->fd[STAT_IO_BYTES] < 0)
                return 0;
        return open_stat_file(dir, "blkio.throttle.io_serviced", &r->fd[STAT_IO_OPS]);
}

static CgroupReader *cgroup_reader_new(void) {
        CgroupReader *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(r->fd); i++)
                r->fd[i] = -1;
        return r;
}

static void cgroup_reader_freep(CgroupReader **r) {
        cgroup_reader_free(*r);
}

int cgroup_reader_open(const CgroupLayout *layout, const char *cgroup, CgroupReader **ret) {
        return cgroup_reader_open_with(layout, cgroup, 0, ret);
}

int cgroup_reader_open_with(const CgroupLayout *layout, const char *cgroup, CgroupReaderFlags flags,
                            CgroupReader **ret) {
        _cleanup_(cgroup_reader_freep) CgroupReader *r = NULL;
        _cleanup_free_ char *path = NULL, *primary = NULL;
        const StatFileSpec *files;
        const char *primary_mount;
        struct stat st;
        int k;

        if (!layout || !cgroup || !ret || layout->mode < 0 || layout->mode >= _CGROUP_MODE_MAX)
                return -EINVAL;
        k = normalize_cgroup_path(cgroup, &path);
        if (k < 0)
                return k;

        primary_mount = cgroup_layout_primary_mount(layout) ?: layout->unified_mount;
        if (!primary_mount)
                return -EINVAL;
        k = cgroup_dir(primary_mount, path, &primary);
        if (k < 0)
                return k;
        /* Only a cgroup absent from the primary hierarchy is "no such
         * cgroup"; elsewhere a missing one only leaves statistics out. */
        if (stat(primary, &st) < 0)
                return errno_is_gone(errno) ? -ENOENT : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -ENOENT;

        r = cgroup_reader_new();
        if (!r)
                return -ENOMEM;
        r->mode = layout->mode;

        files = layout->mode == CGROUP_MODE_V2 ? v2_files : v1_files;
        for (StatFile f = 0; f < _STAT_FILE_MAX; f++) {
                _cleanup_free_ char *dir = NULL;
                const char *mount;

                if (!files[f].name)
                        continue;
                if ((flags & CGROUP_READER_NO_PRESSURE) && files[f].mount == MOUNT_PRESSURE)
                        continue;
                mount = spec_mount(layout, &files[f]);
                if (!mount)
                        continue;
                k = cgroup_dir(mount, path, &dir);
                if (k < 0)
                        return k;
                if (layout->mode != CGROUP_MODE_V2 && f == STAT_IO_BYTES)
                        k = open_v1_io(dir, r);
                else if (layout->mode != CGROUP_MODE_V2 && f == STAT_IO_OPS)
                        continue; /* opened with STAT_IO_BYTES */
                else
                        k = open_stat_file(dir, files[f].name, &r->fd[f]);
                if (k < 0)
                        return k;
        }

        /* A statistic is all its files or nothing: no fd is kept that no
         * sample would read. v1 cpu.stat (throttling) and io_serviced are
         * extras of cpuacct.usage and io_service_bytes. */
        if (r->fd[STAT_CPU_USAGE] < 0)
                close_fds(r->fd + STAT_CPU_STAT, 1);
        if (r->fd[STAT_MEMORY_USAGE] < 0 || r->fd[STAT_MEMORY_STAT] < 0)
                close_fds(r->fd + STAT_MEMORY_USAGE, 2);
        if (r->fd[STAT_CPU_PRESSURE] < 0 || r->fd[STAT_MEMORY_PRESSURE] < 0 || r->fd[STAT_IO_PRESSURE] < 0)
                close_fds(r->fd + STAT_CPU_PRESSURE, 3);

        *ret = TAKE_PTR(r);
        return 0;
}

CgroupReader *cgroup_reader_free(CgroupReader *r) {
        if (!r)
                return NULL;
        close_fds(r->fd, ELEMENTSOF(r->fd));
        free(r);
        return NULL;
}

/* Reads file f of r into r->buf. */
static int reader_read(CgroupReader *r, StatFile f, size_t *ret_len) {
        return read_at_start(r->fd[f], r->buf, ret_len);
}

static int sample_cpu(CgroupReader *r, CgroupSample *s) {
        size_t n;
        int k;

        k = reader_read(r, STAT_CPU_USAGE, &n);
        if (k < 0)
                return k;
        if (r->mode == CGROUP_MODE_V2)
                return cpu_stat_v2_parse(r->buf->data, n, &s->cpu);

        uint64_t usage_nsec;
        k = single_u64_parse(r->buf->data, n, &usage_nsec);
        if (k < 0)
                return k;
        if (r->fd[STAT_CPU_STAT] >= 0) {
                k = reader_read(r, STAT_CPU_STAT, &n);
                if (k < 0)
                        return k;
                k = cpu_stat_v1_parse(r->buf->data, n, &s->cpu);
                if (k < 0)
                        return k;
        }
        s->cpu.usage_usec = usage_nsec / 1000;
        return 0;
}

/* The memory.stat keys a sample needs, per hierarchy. v1's memory.stat has
 * this cgroup's own counters and the hierarchical total_* ones; its
 * usage_in_bytes is hierarchical, so the total_* ones go with it. */
enum { MEMORY_INACTIVE_FILE, MEMORY_ANON, MEMORY_UNEVICTABLE, _MEMORY_KEY_MAX };
static const char *const memory_keys_v2[_MEMORY_KEY_MAX] = {
        [MEMORY_INACTIVE_FILE] = "inactive_file",
        [MEMORY_ANON] = "anon",
        [MEMORY_UNEVICTABLE] = "unevictable",
};
static const char *const memory_keys_v1[_MEMORY_KEY_MAX] = {
        [MEMORY_INACTIVE_FILE] = "total_inactive_file",
        [MEMORY_ANON] = "total_rss",
        [MEMORY_UNEVICTABLE] = "total_unevictable",
};

static int sample_memory(CgroupReader *r, CgroupSample *s) {
        const char *const *keys = r->mode == CGROUP_MODE_V2 ? memory_keys_v2 : memory_keys_v1;
        uint64_t usage, v[_MEMORY_KEY_MAX] = {};
        uint32_t found;
        size_t n;
        int k;

        k = reader_read(r, STAT_MEMORY_USAGE, &n);
        if (k < 0)
                return k;
        k = single_u64_parse(r->buf->data, n, &usage);
        if (k < 0)
                return k;
        /* One read and one pass serve the working set and the unreclaimable
         * memory: memory.stat is the costliest file of a sample. */
        k = reader_read(r, STAT_MEMORY_STAT, &n);
        if (k < 0)
                return k;
        k = memory_stat_get_keys(r->buf->data, n, keys, _MEMORY_KEY_MAX, v, &found);
        if (k < 0)
                return k;
        /* Every kernel with these hierarchies prints all three: a file
         * without them is not one this code understands. */
        if (found != (1u << _MEMORY_KEY_MAX) - 1)
                return -EINVAL;
        if (v[MEMORY_ANON] > UINT64_MAX - v[MEMORY_UNEVICTABLE])
                return -EINVAL;

        s->memory_usage_bytes = usage;
        /* The two files are read at different instants: the cache may have
         * grown in between. */
        s->memory_working_set_bytes = usage > v[MEMORY_INACTIVE_FILE] ? usage - v[MEMORY_INACTIVE_FILE] : 0;
        s->memory_unreclaimable_bytes = v[MEMORY_ANON] + v[MEMORY_UNEVICTABLE];
        return 0;
}

static int sample_io(CgroupReader *r, CgroupSample *s) {
        size_t n;
        int k;

        k = reader_read(r, STAT_IO_BYTES, &n);
        if (k < 0)
                return k;
        if (r->mode == CGROUP_MODE_V2)
                return io_stat_v2_parse(r->buf->data, n, &s->io);

        k = blkio_v1_parse(r->buf->data, n, &s->io.read_bytes, &s->io.write_bytes);
        if (k < 0)
                return k;
        if (r->fd[STAT_IO_OPS] >= 0) {
                k = reader_read(r, STAT_IO_OPS, &n);
                if (k < 0)
                        return k;
                k = blkio_v1_parse(r->buf->data, n, &s->io.read_ops, &s->io.write_ops);
                if (k < 0)
                        return k;
        }
        return 0;
}

static int read_psi(int fd, ReadBuffer *b, PsiStats *ret) {
        size_t n;
        int k;

        k = read_at_start(fd, b, &n);
        if (k < 0)
                return k;
        return psi_parse(b->data, n, ret);
}

int cgroup_reader_sample(CgroupReader *r, CgroupSample *ret) {
        CgroupSample s = {};
        int k;

        if (!r || !ret)
                return -EINVAL;
        r->buf = read_buffer_shared();
        if (!r->buf)
                return -ENOMEM;

        if (r->fd[STAT_CPU_USAGE] >= 0) {
                k = sample_cpu(r, &s);
                if (k < 0)
                        return k;
                s.has_cpu = true;
        }
        if (r->fd[STAT_MEMORY_USAGE] >= 0) {
                k = sample_memory(r, &s);
                if (k < 0)
                        return k;
                s.has_memory = true;
        }
        if (r->fd[STAT_IO_BYTES] >= 0) {
                k = sample_io(r, &s);
                if (k < 0)
                        return k;
                s.has_io = true;
        }
        if (r->fd[STAT_CPU_PRESSURE] >= 0) {
                k = read_psi(r->fd[STAT_CPU_PRESSURE], r->buf, &s.cpu_psi);
                if (k >= 0)
                        k = read_psi(r->fd[STAT_MEMORY_PRESSURE], r->buf, &s.memory_psi);
                if (k >= 0)
                        k = read_psi(r->fd[STAT_IO_PRESSURE], r->buf, &s.io_psi);
                if (k < 0)
                        return k;
                s.has_psi = true;
        }

        *ret = s;
        return 0;
}

/* ---- node pressure ---- */

static const char *const node_pressure_files[] = { "cpu", "memory", "io" };

static void node_pressure_reader_freep(NodePressureReader **r) {
        node_pressure_reader_free(*r);
}

int node_pressure_reader_open(const char *dir, NodePressureReader **ret) {
        _cleanup_(node_pressure_reader_freep) NodePressureReader *r = NULL;

        if (!ret)
                return -EINVAL;
        if (!dir)
                dir = "/proc/pressure";

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(r->fd); i++)
                r->fd[i] = -1;

        for (size_t i = 0; i < ELEMENTSOF(node_pressure_files); i++) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%s", dir, node_pressure_files[i]) < 0)
                        return -ENOMEM;
                r->fd[i] = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (r->fd[i] < 0)
                        return negative_errno();
        }

        *ret = TAKE_PTR(r);
        return 0;
}

int node_pressure_reader_sample(NodePressureReader *r, PsiStats *ret_cpu, PsiStats *ret_memory, PsiStats *ret_io) {
        PsiStats s[ELEMENTSOF(node_pressure_files)];
        int k;

        ReadBuffer *b = read_buffer_shared();

        if (!r || !ret_cpu || !ret_memory || !ret_io)
                return -EINVAL;
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(s); i++) {
                k = read_psi(r->fd[i], b, &s[i]);
                if (k < 0)
                        return k;
        }
        *ret_cpu = s[0];
        *ret_memory = s[1];
        *ret_io = s[2];
        return 0;
}

NodePressureReader *node_pressure_reader_free(NodePressureReader *r) {
        if (!r)
                return NULL;
        close_fds(r->fd, ELEMENTSOF(r->fd));
        free(r);
        return NULL;
}
