/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* PSI triggers: the kernel wakes a poller (POLLPRI) when tasks stalled at
 * least stall_usec within any window_usec, so pressure wakes the controller
 * before the next tick instead of being seen up to a tick late. */

#include <stdint.h>

/* The kernel takes windows from 500 ms to 10 s, and from a process without
 * CAP_SYS_RESOURCE only whole multiples of 2 s. */
#define PSI_WINDOW_MIN_USEC 500000ULL
#define PSI_WINDOW_MAX_USEC 10000000ULL
#define PSI_UNPRIVILEGED_WINDOW_STEP_USEC 2000000ULL

/* Arms a "some" trigger on the pressure file at path. If the kernel refuses
 * the window for lack of privilege, retries once with the window rounded up
 * to a multiple of 2 s (*ret_window_usec says what was armed). Returns the
 * file descriptor to poll for POLLPRI (EPOLLPRI), or -errno: -EINVAL for a
 * stall or window the kernel refuses, -ENOENT for a missing file. */
int psi_trigger_open(const char *path, uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_window_usec);

/* The window an unprivileged process may use for window_usec: rounded up to
 * a multiple of 2 s, capped at the kernel's maximum. Pure. */
uint64_t psi_unprivileged_window(uint64_t window_usec);
