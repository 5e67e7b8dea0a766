/* SPDX-License-Identifier: Apache-2.0 */
#include "psi-trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/macro.h"

uint64_t psi_unprivileged_window(uint64_t window_usec) {
        uint64_t w = (window_usec + PSI_UNPRIVILEGED_WINDOW_STEP_USEC - 1) / PSI_UNPRIVILEGED_WINDOW_STEP_USEC *
                     PSI_UNPRIVILEGED_WINDOW_STEP_USEC;

        if (w == 0)
                w = PSI_UNPRIVILEGED_WINDOW_STEP_USEC;
        /* 10 s is itself a multiple of 2 s. */
        return MIN(w, PSI_WINDOW_MAX_USEC);
}

static int arm(const char *path, uint64_t stall_usec, uint64_t window_usec) {
        _cleanup_close_ int fd = -1;
        char spec[64];
        int n;

        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* The trigger lives as long as this descriptor. The kernel parses the
         * whole write, NUL included. */
        n = snprintf(spec, sizeof(spec), "some %" PRIu64 " %" PRIu64, stall_usec, window_usec);
        if (write(fd, spec, (size_t) n + 1) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int psi_trigger_open(const char *path, uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_window_usec) {
        uint64_t w = window_usec;
        int fd;

        if (window_usec < PSI_WINDOW_MIN_USEC || window_usec > PSI_WINDOW_MAX_USEC || stall_usec == 0 ||
            stall_usec > window_usec)
                return -EINVAL;

        fd = arm(path, stall_usec, w);
        if (fd == -EINVAL && psi_unprivileged_window(window_usec) != window_usec) {
                /* Without CAP_SYS_RESOURCE the kernel wants whole 2 s windows;
                 * the stall keeps its proportion of the window. */
                w = psi_unprivileged_window(window_usec);
                fd = arm(path, stall_usec * w / window_usec, w);
        }
        if (fd >= 0 && ret_window_usec)
                *ret_window_usec = w;
        return fd;
}
