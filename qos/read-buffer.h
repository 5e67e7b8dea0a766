/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Reading a whole /proc or /sys statistics file, kept open, from offset 0:
 * what every reader does each tick. pread() at offset 0 on a kept fd makes
 * the kernel regenerate the file without an open() and a path walk. */

#include <stdbool.h>
#include <stddef.h>

/* Enough for every file read here on the kernels seen so far: v2 memory.stat
 * is ~1.5 KiB on 6.x, v1 memory.stat ~0.9 KiB, /proc/meminfo ~1.5 KiB, the
 * rest a few hundred bytes. A file that fills the buffer is read again with
 * a larger one. */
#define READ_BUFFER_INITIAL_BYTES 4096
/* io.stat and blkio.throttle.* grow with the number of devices, /proc/stat
 * with the CPUs and interrupts; past this a file is not something these
 * statistics produce. */
#define READ_BUFFER_MAX_BYTES (1024 * 1024)

/* A file-sized buffer that grows when a file fills it. */
typedef struct ReadBuffer {
        char *data;
        size_t size;
} ReadBuffer;

/* The calling thread's buffer, allocated on first use; NULL when out of
 * memory. One buffer for all readers of a thread: a file is read and parsed
 * before the next one is, and a node with 1000 containers would otherwise
 * hold 1000 buffers (4 MiB) for nothing. */
ReadBuffer *read_buffer_shared(void);

/* The kernel's file of a removed cgroup answers ENODEV; a path that is gone
 * ENOENT (or ENOTDIR when a parent was replaced): to the caller, all of them
 * mean the file's object vanished. */
bool errno_is_gone(int e);

/* Reads the whole file from offset 0 into b. A read that fills the buffer may
 * have been cut short: read again with twice the room rather than parse half
 * a file. Returns 0 and the length; -ENOENT if the file's cgroup is gone;
 * -EFBIG past READ_BUFFER_MAX_BYTES; -ENOMEM; other -errno. */
int read_at_start(int fd, ReadBuffer *b, size_t *ret_len);
