/* SPDX-License-Identifier: Apache-2.0 */
/* block_devices_list() (node-stats.h): the disks IO limits can name. */
#include "node-stats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"
#include "read-buffer.h"
#include "stat-text.h"

/* Devices without a disk behind them: an IO limit on them throttles
 * nothing a workload waits for (loop is a file on another disk, ram and
 * zram are memory). */
static const char *const skipped_prefixes[] = { "loop", "ram", "zram" };

/* The "dev" file holds "MAJ:MIN\n" ("%u:%u\n"); no leading zeros, so one
 * device has one spelling. */
#define DEV_FILE_MAX 32

static bool name_skipped(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(skipped_prefixes); i++)
                if (strncmp(name, skipped_prefixes[i], strlen(skipped_prefixes[i])) == 0)
                        return true;
        return false;
}

static int device_number_part(Slice s, unsigned *ret) {
        uint64_t v;

        if (s.n > 1 && s.p[0] == '0')
                return -EINVAL;
        if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int device_number_parse(const char *text, size_t len, unsigned *ret_major, unsigned *ret_minor) {
        const char *colon;
        unsigned major, minor;

        if (len > 0 && text[len - 1] == '\n')
                len--;
        colon = memchr(text, ':', len);
        if (!colon)
                return -EINVAL;
        if (device_number_part((Slice) { text, (size_t) (colon - text) }, &major) < 0 ||
            device_number_part((Slice) { colon + 1, len - (size_t) (colon - text) - 1 }, &minor) < 0)
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* Reads entry name of the directory dir_fd. Returns 1 and the device; 0 if
 * it is no whole disk (no "device" link, a partition) or vanished since the
 * directory was listed; -errno. */
static int block_device_read(int dir_fd, const char *name, BlockDevice *ret) {
        _cleanup_close_ int fd = -1, dev_fd = -1;
        char text[DEV_FILE_MAX];
        BlockDevice d = {};
        ssize_t n;

        /* DISK_NAME_LEN: the kernel's names fit with their NUL. */
        if (strlen(name) >= sizeof(d.name))
                return -EINVAL;
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        if (faccessat(fd, "device", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        if (faccessat(fd, "partition", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        dev_fd = openat(fd, "dev", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (dev_fd < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        n = read(dev_fd, text, sizeof(text));
        if (n < 0)
                return errno_is_gone(errno) ? 0 : negative_errno();
        if ((size_t) n >= sizeof(text))
                return -EINVAL;
        if (device_number_parse(text, (size_t) n, &d.major, &d.minor) < 0)
                return -EINVAL;
        memcpy(d.name, name, strlen(name) + 1);
        *ret = d;
        return 1;
}

static int compare_devices(const void *a, const void *b) {
        const BlockDevice *x = a, *y = b;

        if (x->major != y->major)
                return x->major < y->major ? -1 : 1;
        if (x->minor != y->minor)
                return x->minor < y->minor ? -1 : 1;
        return 0;
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

int block_devices_list(const char *sys_block, BlockDevice **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *dir = NULL;
        _cleanup_free_ BlockDevice *devices = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;

        if (!ret || !ret_n)
                return -EINVAL;
        dir = opendir(sys_block ?: "/sys/block");
        if (!dir)
                return negative_errno();

        for (errno = 0; (de = readdir(dir)); errno = 0) {
                BlockDevice d;
                int r;

                if (de->d_name[0] == '.' || name_skipped(de->d_name))
                        continue;
                r = block_device_read(dirfd(dir), de->d_name, &d);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (n == allocated) {
                        size_t more = allocated ? allocated * 2 : 8;
                        BlockDevice *bigger = reallocarray(devices, more, sizeof(BlockDevice));

                        if (!bigger)
                                return -ENOMEM;
                        devices = bigger;
                        allocated = more;
                }
                devices[n++] = d;
        }
        if (errno != 0)
                return negative_errno();

        /* readdir() order is the file system's: sorted, the list compares
         * equal from one call to the next. */
        if (n > 0)
                qsort(devices, n, sizeof(BlockDevice), compare_devices);
        *ret = TAKE_PTR(devices);
        *ret_n = n;
        return 0;
}
