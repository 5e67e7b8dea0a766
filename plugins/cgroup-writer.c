/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/macro.h"
#include "cgroup-open.h"

/* The widest formatted value: io.max with a device and four u64. */
#define KNOB_VALUE_MAX 160

/* v1 weights the kernel takes (CFQ's blkio.weight, BFQ's blkio.bfq.weight). */
#define V1_BLKIO_WEIGHT_MIN 10
#define V1_BLKIO_WEIGHT_MAX 1000
#define V1_BFQ_WEIGHT_MIN 1
#define V1_BFQ_WEIGHT_MAX 1000

/* The v2 weight scale every caller speaks (cpu.weight, io.weight). */
#define WEIGHT_MIN 1
#define WEIGHT_MAX 10000
/* v1 cpu.shares range the kubelet and runc map the v2 weights onto. */
#define SHARES_MIN 2
#define SHARES_MAX 262144

typedef struct Hierarchy {
        char *mount;
        int fd; /* O_PATH on the mount point: every lookup starts here */
        bool v2;
} Hierarchy;

/* The last value written to one file. key is "<cgroup>/<file>", with
 * "@MAJ:MIN" appended for per-device files (io.max, blkio.throttle.*) whose
 * lines are independent per device. It stays unique because the part after
 * the last '/' is always one of our own file names. */
typedef struct Remembered {
        unsigned hierarchy;
        char *key;
        char *value;
} Remembered;

/* Which v1 IO weight file this kernel has, learned on first use: CFQ's
 * blkio.weight is gone since 5.0, BFQ's blkio.bfq.weight replaced it. */
static const char *const v1_io_weight_files[] = { "blkio.weight", "blkio.bfq.weight" };

struct CgroupWriter {
        Hierarchy hierarchies[_CGROUP_CONTROLLER_MAX];
        size_t n_hierarchies;
        int hierarchy_of[_CGROUP_CONTROLLER_MAX]; /* index into hierarchies, -1: not mounted */

        char **managed_roots;
        size_t n_managed_roots;

        Remembered *remembered; /* sorted by (hierarchy, key) */
        size_t n_remembered, n_allocated;

        size_t v1_io_weight_file; /* index into v1_io_weight_files */

        /* Set when the current call was refused, so that the refusal is
         * counted as such and not as a failure. */
        bool refusing;
        CgroupWriterStats stats;
        CgroupWriteStats knob_stats;
};

/* A component is clean if it is not empty (no "//", no leading or trailing
 * '/'), not "." and not "..". */
static bool component_clean(const char *s, size_t n) {
        if (n == 0)
                return false;
        if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
                return false;
        return true;
}

static bool path_clean(const char *p) {
        if (!p || !*p || *p == '/')
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");

                if (!component_clean(p, n))
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

/* By whole components: "kubepods.slice" covers "kubepods.slice/x" but not
 * "kubepods.slice-evil". */
static bool path_at_or_below(const char *path, const char *root) {
        size_t n = strlen(root);

        return n > 0 && strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '/');
}

int cgroup_path_check_managed(const char *cgroup, char *const *managed_roots, size_t n_managed_roots) {
        if (!path_clean(cgroup) || !managed_roots)
                return -EPERM;
        for (size_t i = 0; i < n_managed_roots; i++)
                if (path_clean(managed_roots[i]) && path_at_or_below(cgroup, managed_roots[i]))
                        return 0;
        return -EPERM;
}

static int refuse(CgroupWriter *w, int error, const char *cgroup, const char *why) {
        w->refusing = true;
        /* Unlike the rest of this library, a refusal is logged where it
         * happens, as a warning: it means a bug or a hostile request, and
         * the safety rule it enforces must be visible whatever the caller
         * does. The path is the caller's, printed with %s only. */
        log_full_errno(LOG_WARNING, error, "Refusing to write cgroup '%s': %s.", strna(cgroup), why);
        return -EPERM;
}

/* Counts the outcome of one setter call. */
static int account(CgroupWriter *w, CgroupKnob knob, int r) {
        if (!w)
                return r;
        w->knob_stats.calls[knob][cgroup_write_result_of(r, w->refusing)]++;
        if (w->refusing)
                w->stats.refused++;
        else if (r < 0)
                w->stats.failed++;
        w->refusing = false;
        return r;
}

/* Opens path below dirfd (cgroup-open.h); an escape is refused as such. */
static int open_beneath(CgroupWriter *w, int dirfd, const char *path, uint64_t flags) {
        int fd = cgroup_open_beneath(dirfd, path, flags);

        /* ELOOP: a symlink on the way; EXDEV: an escape or a mount
         * crossing. Both mean the path leads outside what we manage. */
        if (w && (fd == -ELOOP || fd == -EXDEV))
                return refuse(w, -fd, path, "symlink or mount crossing on the way");
        return fd;
}

static int remembered_compare(unsigned hierarchy, const char *key, const Remembered *r) {
        if (hierarchy != r->hierarchy)
                return hierarchy < r->hierarchy ? -1 : 1;
        return strcmp(key, r->key);
}

/* Returns the entry, or NULL with *ret_index where it would go. */
static Remembered *remembered_find(CgroupWriter *w, unsigned hierarchy, const char *key, size_t *ret_index) {
        size_t lo = 0, hi = w->n_remembered;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = remembered_compare(hierarchy, key, &w->remembered[mid]);

                if (c == 0) {
                        *ret_index = mid;
                        return &w->remembered[mid];
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *ret_index = lo;
        return NULL;
}

static void remembered_done(Remembered *r) {
        free(r->key);
        free(r->value);
}

/* Drops what was remembered for cgroup and everything below it, in one
 * hierarchy or (hierarchy < 0) in all. */
static void forget_below(CgroupWriter *w, int hierarchy, const char *cgroup) {
        size_t n = strlen(cgroup), kept = 0;

        for (size_t i = 0; i < w->n_remembered; i++) {
                Remembered *r = &w->remembered[i];

                if ((hierarchy < 0 || r->hierarchy == (unsigned) hierarchy) && strncmp(r->key, cgroup, n) == 0 &&
                    r->key[n] == '/')
                        remembered_done(r);
                else
                        w->remembered[kept++] = *r;
        }
        w->n_remembered = kept;
}

static void forget_file(CgroupWriter *w, unsigned h, const char *cgroup, const char *file) {
        char key[PATH_MAX];
        Remembered *r;
        size_t index;

        if ((size_t) snprintf(key, sizeof(key), "%s/%s", cgroup, file) >= sizeof(key))
                return;
        r = remembered_find(w, h, key, &index);
        if (!r)
                return;
        remembered_done(r);
        memmove(r, r + 1, (w->n_remembered - index - 1) * sizeof(Remembered));
        w->n_remembered--;
}

/* The file is missing: either the cgroup is gone, or the layout has no such
 * knob (controller not enabled for this v2 subtree, older kernel). */
static int classify_missing(CgroupWriter *w, unsigned h, const char *cgroup) {
        _cleanup_close_ int fd = open_beneath(w, w->hierarchies[h].fd, cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0)
                return -EOPNOTSUPP;
        if (fd == -ENOENT)
                /* A cgroup that comes back under the same name starts with
                 * the kernel's defaults, not with what we wrote last time. */
                forget_below(w, (int) h, cgroup);
        return fd;
}

/* Writes value to <cgroup>/<file> in hierarchy h unless it is what was
 * written there last. Returns 1 written, 0 unchanged, -errno. */
static int write_knob(CgroupWriter *w, unsigned h, const char *cgroup, const char *file, const char *device,
                      const char *value) {
        char path[PATH_MAX], key[PATH_MAX + 32];
        _cleanup_free_ char *new_value = NULL, *new_key = NULL;
        _cleanup_close_ int fd = -1;
        Remembered *old;
        size_t index, len;
        ssize_t n;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", cgroup, file) >= sizeof(path))
                return -ENAMETOOLONG;
        if (device)
                (void) snprintf(key, sizeof(key), "%s@%s", path, device);
        else
                memcpy(key, path, strlen(path) + 1);

        old = remembered_find(w, h, key, &index);
        if (old && strcmp(old->value, value) == 0) {
                w->stats.unchanged++;
                return 0;
        }

        /* Allocate before writing: once the kernel took the value, nothing
         * may fail any more, or we would forget a write that happened. */
        new_value = strdup(value);
        if (!new_value)
                return -ENOMEM;
        if (!old) {
                new_key = strdup(key);
                if (!new_key)
                        return -ENOMEM;
                if (w->n_remembered == w->n_allocated) {
                        size_t m = MAX(w->n_allocated * 2, (size_t) 16);
                        Remembered *a = reallocarray(w->remembered, m, sizeof(*a));

                        if (!a)
                                return -ENOMEM;
                        w->remembered = a;
                        w->n_allocated = m;
                }
        }

        /* O_TRUNC: what the shell's "echo >" does; the cgroup filesystems
         * ignore it, and a plain file (a fixture tree) then holds exactly
         * the last value. */
        fd = open_beneath(w, w->hierarchies[h].fd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd == -ENOENT)
                return classify_missing(w, h, cgroup);
        if (fd < 0)
                return fd;

        /* The kernel parses each write() on its own: one call, whole value. */
        len = strlen(value);
        n = write(fd, value, len);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len)
                return -EIO;

        if (old) {
                free(old->value);
                old->value = TAKE_PTR(new_value);
        } else {
                memmove(w->remembered + index + 1, w->remembered + index,
                        (w->n_remembered - index) * sizeof(Remembered));
                w->remembered[index] = (Remembered) {
                        .hierarchy = h,
                        .key = TAKE_PTR(new_key),
                        .value = TAKE_PTR(new_value),
                };
                w->n_remembered++;
        }
        w->stats.written++;
        return 1;
}

/* Two files that the kernel checks against each other (cfs period and
 * quota: each write is validated with the other's current value and against
 * the parent's quota/period ratio). One order's intermediate state can be
 * refused when the other's is not: the product of both intermediate ratios
 * equals old ratio x new ratio, so one of them never exceeds the larger of
 * the two. So on EINVAL the other order is tried. */
static int write_pair(CgroupWriter *w, unsigned h, const char *cgroup, const char *file_a, const char *value_a,
                      const char *file_b, const char *value_b) {
        int a, b;

        a = write_knob(w, h, cgroup, file_a, NULL, value_a);
        if (a == -EINVAL) {
                b = write_knob(w, h, cgroup, file_b, NULL, value_b);
                if (b <= 0)
                        /* b was already in place: a alone is what the kernel refuses. */
                        return b < 0 ? b : a;
                a = write_knob(w, h, cgroup, file_a, NULL, value_a);
                return a < 0 ? a : 1;
        }
        if (a < 0)
                return a;
        b = write_knob(w, h, cgroup, file_b, NULL, value_b);
        if (b < 0)
                return b;
        return a > 0 || b > 0;
}

/* Every setter's first step: a writer, a managed path, a hierarchy that has
 * the controller. Its failures go through account() like any other. */
static int prepare(CgroupWriter *w, const char *cgroup, CgroupController c, unsigned *ret_hierarchy) {
        if (!w)
                return -EINVAL;
        if (cgroup_path_check_managed(cgroup, w->managed_roots, w->n_managed_roots) < 0)
                return refuse(w, 0, cgroup, "not a clean path below a managed root");
        if (w->hierarchy_of[c] < 0)
                return -EOPNOTSUPP;
        *ret_hierarchy = (unsigned) w->hierarchy_of[c];
        return 0;
}

/* From the v2 weight scale onto a v1 range, rounding down (as runc does). */
static uint64_t scale_weight(uint64_t weight, uint64_t min, uint64_t max) {
        return min + (weight - WEIGHT_MIN) * (max - min) / (WEIGHT_MAX - WEIGHT_MIN);
}

static bool is_v2(const CgroupWriter *w, unsigned h) {
        return w->hierarchies[h].v2;
}

int cgroup_set_cpu_quota(CgroupWriter *w, const char *cgroup, int64_t quota_usec, uint64_t period_usec) {
        char quota[32], period[32], both[KNOB_VALUE_MAX];
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_CPU, &h);
        if (r < 0)
                return account(w, CGROUP_KNOB_CPU_QUOTA, r);
        if (period_usec == 0)
                return account(w, CGROUP_KNOB_CPU_QUOTA, -EINVAL);

        (void) snprintf(period, sizeof(period), "%" PRIu64, period_usec);
        if (is_v2(w, h)) {
                if (quota_usec < 0)
                        (void) snprintf(both, sizeof(both), "max %s", period);
                else
                        (void) snprintf(both, sizeof(both), "%" PRId64 " %s", quota_usec, period);
                return account(w, CGROUP_KNOB_CPU_QUOTA, write_knob(w, h, cgroup, "cpu.max", NULL, both));
        }

        (void) snprintf(quota, sizeof(quota), "%" PRId64, quota_usec < 0 ? (int64_t) -1 : quota_usec);
        return account(w, CGROUP_KNOB_CPU_QUOTA,
                       write_pair(w, h, cgroup, "cpu.cfs_period_us", period, "cpu.cfs_quota_us", quota));
}

int cgroup_set_cpu_weight(CgroupWriter *w, const char *cgroup, uint64_t weight) {
        char value[32];
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_CPU, &h);
        if (r < 0)
                return account(w, CGROUP_KNOB_CPU_WEIGHT, r);
        if (weight < WEIGHT_MIN || weight > WEIGHT_MAX)
                return account(w, CGROUP_KNOB_CPU_WEIGHT, -EINVAL);

        if (is_v2(w, h)) {
                (void) snprintf(value, sizeof(value), "%" PRIu64, weight);
                return account(w, CGROUP_KNOB_CPU_WEIGHT, write_knob(w, h, cgroup, "cpu.weight", NULL, value));
        }
        /* The kubelet's and runc's mapping, so a pod gets the same shares
         * whether nodeqos or the runtime set them. */
        (void) snprintf(value, sizeof(value), "%" PRIu64, scale_weight(weight, SHARES_MIN, SHARES_MAX));
        return account(w, CGROUP_KNOB_CPU_WEIGHT, write_knob(w, h, cgroup, "cpu.shares", NULL, value));
}

int cgroup_set_cpu_idle(CgroupWriter *w, const char *cgroup, bool idle) {
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_CPU, &h);
        if (r < 0)
                return account(w, CGROUP_KNOB_CPU_IDLE, r);
        /* Same file and values on v1 (kernels >= 5.15) and v2; a missing
         * file (older kernel) comes back as -EOPNOTSUPP. */
        r = write_knob(w, h, cgroup, "cpu.idle", NULL, idle ? "1" : "0");
        if (r > 0)
                /* The kernel resets the weight when idle changes (to its
                 * minimum, and back to the default, not to the old value):
                 * what we remember of it is no longer true. */
                forget_file(w, h, cgroup, is_v2(w, h) ? "cpu.weight" : "cpu.shares");
        return account(w, CGROUP_KNOB_CPU_IDLE, r);
}

/* A kernel cpu/node list: digits, ',' and '-'. Anything else (a newline
 * especially) would make the remembered value differ from what the kernel
 * holds, or smuggle a second value in. */
static bool cpu_list_valid(const char *list) {
        return list && strspn(list, "0123456789,-") == strlen(list);
}

static int set_cpuset(CgroupWriter *w, CgroupKnob knob, const char *cgroup, const char *file, const char *list) {
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_CPUSET, &h);
        if (r < 0)
                return account(w, knob, r);
        if (!cpu_list_valid(list))
                return account(w, knob, -EINVAL);
        /* An empty list (v2: fall back to the parent's cpus) must still
         * reach the kernel as a write: a zero-length write() may not. */
        return account(w, knob, write_knob(w, h, cgroup, file, NULL, *list ? list : "\n"));
}

int cgroup_set_cpuset_cpus(CgroupWriter *w, const char *cgroup, const char *cpus) {
        return set_cpuset(w, CGROUP_KNOB_CPUSET_CPUS, cgroup, "cpuset.cpus", cpus);
}

int cgroup_set_cpuset_mems(CgroupWriter *w, const char *cgroup, const char *mems) {
        return set_cpuset(w, CGROUP_KNOB_CPUSET_MEMS, cgroup, "cpuset.mems", mems);
}

static int set_memory(CgroupWriter *w, CgroupKnob knob, const char *cgroup, int64_t bytes, const char *v2_file,
                      const char *v1_file) {
        char value[32];
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_MEMORY, &h);
        if (r < 0)
                return account(w, knob, r);

        if (is_v2(w, h)) {
                if (bytes < 0)
                        strcpy(value, "max");
                else
                        (void) snprintf(value, sizeof(value), "%" PRId64, bytes);
                return account(w, knob, write_knob(w, h, cgroup, v2_file, NULL, value));
        }
        (void) snprintf(value, sizeof(value), "%" PRId64, bytes < 0 ? (int64_t) -1 : bytes);
        return account(w, knob, write_knob(w, h, cgroup, v1_file, NULL, value));
}

int cgroup_set_memory_high(CgroupWriter *w, const char *cgroup, int64_t bytes) {
        /* Upstream v1 has no memory.high (no throttling of allocations above
         * a soft threshold). Its closest knob is the soft limit: above it, a
         * cgroup is the first one reclaimed when the node (or a parent)
         * comes under memory pressure, and it is never OOM-killed for it.
         * Unlike memory.high it does not slow the cgroup's own allocations
         * while memory is plentiful; memory.max (limit_in_bytes) stays the
         * hard cap. */
        return set_memory(w, CGROUP_KNOB_MEMORY_HIGH, cgroup, bytes, "memory.high", "memory.soft_limit_in_bytes");
}

int cgroup_set_memory_max(CgroupWriter *w, const char *cgroup, int64_t bytes) {
        return set_memory(w, CGROUP_KNOB_MEMORY_MAX, cgroup, bytes, "memory.max", "memory.limit_in_bytes");
}

static void format_io_limit(char *buf, size_t size, uint64_t v) {
        if (v == 0)
                (void) snprintf(buf, size, "max");
        else
                (void) snprintf(buf, size, "%" PRIu64, v);
}

int cgroup_set_io_max(CgroupWriter *w, const char *cgroup, unsigned major, unsigned minor, const IoLimits *limits) {
        static const char *const v1_files[4] = {
                "blkio.throttle.read_bps_device",
                "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device",
                "blkio.throttle.write_iops_device",
        };
        char device[32], value[KNOB_VALUE_MAX];
        bool written = false;
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_BLKIO, &h);
        if (r < 0)
                return account(w, CGROUP_KNOB_IO_MAX, r);
        if (!limits)
                return account(w, CGROUP_KNOB_IO_MAX, -EINVAL);

        (void) snprintf(device, sizeof(device), "%u:%u", major, minor);
        if (is_v2(w, h)) {
                char rbps[24], wbps[24], riops[24], wiops[24];

                format_io_limit(rbps, sizeof(rbps), limits->read_bps);
                format_io_limit(wbps, sizeof(wbps), limits->write_bps);
                format_io_limit(riops, sizeof(riops), limits->read_iops);
                format_io_limit(wiops, sizeof(wiops), limits->write_iops);
                (void) snprintf(value, sizeof(value), "%s rbps=%s wbps=%s riops=%s wiops=%s", device, rbps, wbps,
                                riops, wiops);
                return account(w, CGROUP_KNOB_IO_MAX, write_knob(w, h, cgroup, "io.max", device, value));
        }

        /* v1: one file per limit; "0" removes that device's line. */
        const uint64_t v1_values[4] = { limits->read_bps, limits->write_bps, limits->read_iops, limits->write_iops };
        for (size_t i = 0; i < ELEMENTSOF(v1_files); i++) {
                (void) snprintf(value, sizeof(value), "%s %" PRIu64, device, v1_values[i]);
                r = write_knob(w, h, cgroup, v1_files[i], device, value);
                if (r < 0)
                        return account(w, CGROUP_KNOB_IO_MAX, r);
                written = written || r > 0;
        }
        return account(w, CGROUP_KNOB_IO_MAX, written);
}

int cgroup_set_io_weight(CgroupWriter *w, const char *cgroup, uint64_t weight) {
        char value[32];
        unsigned h;
        int r;

        r = prepare(w, cgroup, CGROUP_CONTROLLER_BLKIO, &h);
        if (r < 0)
                return account(w, CGROUP_KNOB_IO_WEIGHT, r);
        if (weight < WEIGHT_MIN || weight > WEIGHT_MAX)
                return account(w, CGROUP_KNOB_IO_WEIGHT, -EINVAL);

        if (is_v2(w, h)) {
                (void) snprintf(value, sizeof(value), "default %" PRIu64, weight);
                return account(w, CGROUP_KNOB_IO_WEIGHT, write_knob(w, h, cgroup, "io.weight", NULL, value));
        }

        /* v1: the first weight file this kernel has, starting with the one
         * that worked last time. BFQ's takes a bare number ("default N" is
         * EINVAL there) on its own 1..1000 scale. */
        for (size_t i = 0; i < ELEMENTSOF(v1_io_weight_files); i++) {
                size_t f = (w->v1_io_weight_file + i) % ELEMENTSOF(v1_io_weight_files);
                bool bfq = f == 1;

                (void) snprintf(value, sizeof(value), "%" PRIu64,
                                bfq ? scale_weight(weight, V1_BFQ_WEIGHT_MIN, V1_BFQ_WEIGHT_MAX)
                                    : scale_weight(weight, V1_BLKIO_WEIGHT_MIN, V1_BLKIO_WEIGHT_MAX));
                r = write_knob(w, h, cgroup, v1_io_weight_files[f], NULL, value);
                if (r != -EOPNOTSUPP) {
                        if (r >= 0)
                                w->v1_io_weight_file = f;
                        return account(w, CGROUP_KNOB_IO_WEIGHT, r);
                }
        }
        return account(w, CGROUP_KNOB_IO_WEIGHT, -EOPNOTSUPP);
}

void cgroup_writer_forget(CgroupWriter *w, const char *cgroup) {
        if (!w || !cgroup)
                return;
        forget_below(w, -1, cgroup);
}

CgroupWriterStats cgroup_writer_stats(const CgroupWriter *w) {
        return w ? w->stats : (CgroupWriterStats) {};
}

void cgroup_writer_knob_stats(const CgroupWriter *w, CgroupWriteStats *ret) {
        *ret = w ? w->knob_stats : (CgroupWriteStats) {};
}

CgroupWriter *cgroup_writer_free(CgroupWriter *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n_hierarchies; i++) {
                free(w->hierarchies[i].mount);
                if (w->hierarchies[i].fd >= 0)
                        (void) close(w->hierarchies[i].fd);
        }
        for (size_t i = 0; i < w->n_managed_roots; i++)
                free(w->managed_roots[i]);
        free(w->managed_roots);
        for (size_t i = 0; i < w->n_remembered; i++)
                remembered_done(&w->remembered[i]);
        free(w->remembered);
        free(w);
        return NULL;
}

static void cgroup_writer_freep(CgroupWriter **w) {
        cgroup_writer_free(*w);
}

static int add_hierarchy(CgroupWriter *w, const CgroupLayout *layout, const char *mount) {
        Hierarchy *hy;
        int fd, r;

        for (size_t i = 0; i < w->n_hierarchies; i++)
                if (strcmp(w->hierarchies[i].mount, mount) == 0)
                        return (int) i;

        fd = open(mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        hy = &w->hierarchies[w->n_hierarchies];
        *hy = (Hierarchy) {
                .fd = fd,
                /* On a hybrid host a controller left off the v1 mounts may
                 * live on the unified tree: its files are the v2 ones. */
                .v2 = layout->mode == CGROUP_MODE_V2 || streq_ptr(mount, layout->unified_mount),
        };
        w->n_hierarchies++;
        hy->mount = strdup(mount);
        if (!hy->mount)
                return -ENOMEM;

        /* Kernels before 5.6 have no openat2(): without it the writer cannot
         * confine its writes, so it refuses to start. */
        r = open_beneath(NULL, fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r < 0)
                return r;
        (void) close(r);
        return (int) (w->n_hierarchies - 1);
}

int cgroup_writer_new(const CgroupLayout *layout, char *const *managed_roots, size_t n_managed_roots,
                      CgroupWriter **ret) {
        _cleanup_(cgroup_writer_freep) CgroupWriter *w = NULL;

        if (!layout || !ret || n_managed_roots == 0 || !managed_roots)
                return -EINVAL;
        for (size_t i = 0; i < n_managed_roots; i++)
                if (!path_clean(managed_roots[i]))
                        return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                w->hierarchy_of[c] = -1;

        w->managed_roots = calloc(n_managed_roots, sizeof(char *));
        if (!w->managed_roots)
                return -ENOMEM;
        for (size_t i = 0; i < n_managed_roots; i++) {
                w->managed_roots[i] = strdup(managed_roots[i]);
                if (!w->managed_roots[i])
                        return -ENOMEM;
                w->n_managed_roots++;
        }

        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                int h;

                /* No knob lives in cpuacct: its hierarchy is never written. */
                if (c == CGROUP_CONTROLLER_CPUACCT || !layout->controller_mount[c])
                        continue;
                h = add_hierarchy(w, layout, layout->controller_mount[c]);
                if (h < 0)
                        return h;
                w->hierarchy_of[c] = h;
        }

        *ret = TAKE_PTR(w);
        return 0;
}
