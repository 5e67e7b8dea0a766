/* SPDX-License-Identifier: Apache-2.0 */
#include "read-buffer.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/macro.h"

/* Readers are used by the event loop thread; another thread gets its own. */
static _Thread_local ReadBuffer thread_buffer;

ReadBuffer *read_buffer_shared(void) {
        if (!thread_buffer.data) {
                thread_buffer.data = malloc(READ_BUFFER_INITIAL_BYTES);
                if (!thread_buffer.data)
                        return NULL;
                thread_buffer.size = READ_BUFFER_INITIAL_BYTES;
        }
        return &thread_buffer;
}

bool errno_is_gone(int e) {
        return e == ENOENT || e == ENODEV || e == ENOTDIR;
}

int read_at_start(int fd, ReadBuffer *b, size_t *ret_len) {
        for (;;) {
                ssize_t n = pread(fd, b->data, b->size, 0);
                char *bigger;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno_is_gone(errno) ? -ENOENT : negative_errno();
                }
                if ((size_t) n < b->size) {
                        *ret_len = (size_t) n;
                        return 0;
                }
                if (b->size >= READ_BUFFER_MAX_BYTES)
                        return -EFBIG;
                bigger = realloc(b->data, b->size * 2);
                if (!bigger)
                        return -ENOMEM;
                b->data = bigger;
                b->size *= 2;
        }
}
