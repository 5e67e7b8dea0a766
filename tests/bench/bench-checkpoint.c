/* SPDX-License-Identifier: Apache-2.0 */
/* What one QRM checkpoint save costs, in parts, at several node sizes
 * (tests/bench/checkpoint-cost.sh runs it on the disk):
 *
 *   bench-checkpoint DIR [ITERATIONS]
 *
 * For 100, 1000 and 5000 shared_cores pods (one container each, as
 * bench-allocate makes them): building the text (qrm_checkpoint_format),
 * then ways of putting that many bytes durably into DIR, each timed alone
 * so that the save's sequence is chosen on figures:
 *
 *   rename+fsync        temp file, write, fsync, rename, fsync(dir): the
 *                       save of checkpoint format 1
 *   rename+fdatasync    the same with fdatasync for the file
 *   rename,nodirsync    without the directory's fsync: NOT durable on a
 *                       power loss, only to show what that fsync costs
 *   inplace+fdatasync   pwrite over a file of that size already on disk,
 *                       then fdatasync (the save of format 2: a pair of
 *                       files written by turns)
 *   inplace O_DSYNC     the same through an O_DSYNC descriptor
 *   qrm_checkpoint_save the save as the agent does it, end to end (format,
 *                       then in place by turns)
 *
 * Figures, not pass/fail: the disk and the other tenants decide them. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "plugins/cpu-topology.h"
#include "plugins/qrm-checkpoint.h"
#include "plugins/qrm-state.h"

static const unsigned pod_counts[] = { 100, 1000, 5000 };

static uint64_t now_nsec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q) {
        size_t rank = (size_t) ceil(q * (double) n);

        return sorted[rank == 0 ? 0 : MIN(rank, n) - 1];
}

static void report(unsigned pods, size_t bytes, const char *what, double *usec, size_t n) {
        qsort(usec, n, sizeof(*usec), cmp_double);
        printf("%5u pods %8zu B  %-20s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", pods, bytes, what,
               quantile(usec, n, 0.5) / 1000, quantile(usec, n, 0.99) / 1000, usec[n - 1] / 1000);
}

static int fill_state(QrmState *s, unsigned pods) {
        QrmQuantity cpu = { .name = "cpu", .value = 0.1 };
        QrmKeyValue qos = { .key = QRM_ANNOTATION_KATALYST_QOS_LEVEL, .value = "shared_cores" };
        char uid[64];

        for (unsigned i = 0; i < pods; i++) {
                QrmResourceRequest req = {
                        .pod_uid = uid,
                        .pod_namespace = "default",
                        .pod_name = "bench",
                        .container_name = "app",
                        .container_type = QRM_CONTAINER_MAIN,
                        .resource_name = "cpu",
                        .resource_requests = &cpu,
                        .n_resource_requests = 1,
                        .annotations = &qos,
                        .n_annotations = 1,
                };
                QrmAllocationInfo info = {};
                PluginError err = {};
                int r;

                /* As long as a real pod UID. */
                snprintf(uid, sizeof(uid), "bench-%08u-0000-0000-0000-000000000000", i);
                r = qrm_state_allocate(s, &req, &info, &err);
                if (r < 0) {
                        fprintf(stderr, "bench-checkpoint: allocate: %s\n", err.message);
                        return r;
                }
                qrm_allocation_info_done(&info);
        }
        return 0;
}

static int write_all(int fd, const char *data, size_t size, off_t offset) {
        while (size > 0) {
                ssize_t n = pwrite(fd, data, size, offset);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                offset += n;
                size -= (size_t) n;
        }
        return 0;
}

typedef enum Way {
        WAY_RENAME_FSYNC,
        WAY_RENAME_FDATASYNC,
        WAY_RENAME_NO_DIR_SYNC,
        WAY_INPLACE_FDATASYNC,
        WAY_INPLACE_ODSYNC,
        _WAY_MAX,
} Way;

static const char *const way_names[_WAY_MAX] = {
        [WAY_RENAME_FSYNC] = "rename+fsync",
        [WAY_RENAME_FDATASYNC] = "rename+fdatasync",
        [WAY_RENAME_NO_DIR_SYNC] = "rename,nodirsync",
        [WAY_INPLACE_FDATASYNC] = "inplace+fdatasync",
        [WAY_INPLACE_ODSYNC] = "inplace O_DSYNC",
};

/* One durable write of data into dir_fd by this way. The in-place ways
 * get a descriptor of a file already holding size bytes. */
static int write_once(Way way, int dir_fd, int inplace_fd, const char *data, size_t size) {
        int fd, r;

        switch (way) {
        case WAY_INPLACE_FDATASYNC:
                r = write_all(inplace_fd, data, size, 0);
                return r < 0 ? r : fdatasync(inplace_fd) < 0 ? -errno : 0;
        case WAY_INPLACE_ODSYNC:
                return write_all(inplace_fd, data, size, 0);
        default:
                break;
        }
        (void) unlinkat(dir_fd, "tmp", 0);
        fd = openat(dir_fd, "tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size, 0);
        if (r >= 0 && (way == WAY_RENAME_FSYNC ? fsync(fd) : fdatasync(fd)) < 0)
                r = -errno;
        (void) close(fd);
        if (r >= 0 && renameat(dir_fd, "tmp", dir_fd, "file") < 0)
                r = -errno;
        if (r >= 0 && way != WAY_RENAME_NO_DIR_SYNC && fsync(dir_fd) < 0)
                r = -errno;
        return r;
}

static int open_inplace(int dir_fd, Way way, const char *data, size_t size) {
        int fd = openat(dir_fd, "inplace", O_RDWR | O_CREAT | O_CLOEXEC | (way == WAY_INPLACE_ODSYNC ? O_DSYNC : 0),
                        0600);

        /* Written and synced once, so its blocks exist: later writes
         * change no metadata but the times. */
        if (fd < 0 || write_all(fd, data, size, 0) < 0 || fsync(fd) < 0 || fsync(dir_fd) < 0) {
                if (fd >= 0)
                        (void) close(fd);
                return -1;
        }
        return fd;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ double *usec = NULL;
        CpuTopology *topology = NULL;
        long iterations = argc > 2 ? atol(argv[2]) : 200;
        int dir_fd;

        if (argc < 2 || argc > 3 || iterations < 1 || iterations > 100000) {
                fprintf(stderr, "usage: bench-checkpoint DIR [ITERATIONS]\n");
                return 2;
        }
        usec = calloc((size_t) iterations, sizeof(double));
        dir_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!usec || dir_fd < 0 || cpu_topology_load(NULL, &topology) < 0) {
                fprintf(stderr, "bench-checkpoint: cannot set up in %s: %m\n", argv[1]);
                return 1;
        }

        for (size_t p = 0; p < ELEMENTSOF(pod_counts); p++) {
                QrmState *s = NULL;
                PluginError err = {};
                char *data = NULL;
                size_t size = 0;

                if (qrm_state_new(&(QrmStateParams) { .topology = topology }, &s, &err) < 0 ||
                    fill_state(s, pod_counts[p]) < 0)
                        return 1;

                for (long i = 0; i < iterations; i++) {
                        uint64_t t0 = now_nsec();

                        free(data);
                        if (qrm_checkpoint_format(s, 1, &data, &size) < 0)
                                return 1;
                        usec[i] = (double) (now_nsec() - t0) / 1000;
                }
                report(pod_counts[p], size, "format", usec, (size_t) iterations);

                for (Way w = 0; w < _WAY_MAX; w++) {
                        int fd = -1;

                        if ((w == WAY_INPLACE_FDATASYNC || w == WAY_INPLACE_ODSYNC) &&
                            (fd = open_inplace(dir_fd, w, data, size)) < 0) {
                                fprintf(stderr, "bench-checkpoint: cannot prepare the in-place file: %m\n");
                                return 1;
                        }
                        for (long i = 0; i < iterations; i++) {
                                uint64_t t0 = now_nsec();
                                int r = write_once(w, dir_fd, fd, data, size);

                                if (r < 0) {
                                        fprintf(stderr, "bench-checkpoint: %s: %s\n", way_names[w], strerror(-r));
                                        return 1;
                                }
                                usec[i] = (double) (now_nsec() - t0) / 1000;
                        }
                        if (fd >= 0)
                                (void) close(fd);
                        (void) unlinkat(dir_fd, "inplace", 0);
                        report(pod_counts[p], size, way_names[w], usec, (size_t) iterations);
                }
                (void) unlinkat(dir_fd, "file", 0);

                for (long i = 0; i < iterations; i++) {
                        uint64_t t0 = now_nsec();

                        if (qrm_checkpoint_save(s, argv[1], (uint64_t) i + 1, &err) < 0) {
                                fprintf(stderr, "bench-checkpoint: save: %s\n", err.message);
                                return 1;
                        }
                        usec[i] = (double) (now_nsec() - t0) / 1000;
                }
                report(pod_counts[p], size, "qrm_checkpoint_save", usec, (size_t) iterations);
                (void) unlinkat(dir_fd, QRM_CHECKPOINT_FILE, 0);
                (void) unlinkat(dir_fd, QRM_CHECKPOINT_FILE_ALT, 0);

                free(data);
                qrm_state_free(s);
        }
        cpu_topology_free(topology);
        (void) close(dir_fd);
        return 0;
}
