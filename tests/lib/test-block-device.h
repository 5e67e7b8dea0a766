/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A block device for the real-kernel IO tests. No cmocka here. */

#include <stdbool.h>
#include <stddef.h>

/* A whole disk to throttle: prefers a real one (vda, sda, nvme) over loop,
 * ram and zram devices. Returns false if there is none. */
bool test_find_block_device(unsigned *ret_major, unsigned *ret_minor, char *name, size_t size);
