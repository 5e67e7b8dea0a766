/* SPDX-License-Identifier: Apache-2.0 */
#include "test-block-device.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test-fs.h"

bool test_find_block_device(unsigned *ret_major, unsigned *ret_minor, char *name, size_t size) {
        DIR *d = opendir("/sys/class/block");
        bool found = false;
        struct dirent *de;

        if (!d)
                return false;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                const char *dev;
                unsigned maj, min;
                bool virtual_dev;

                if (de->d_name[0] == '.')
                        continue;
                (void) snprintf(path, sizeof(path), "/sys/class/block/%s/partition", de->d_name);
                if (access(path, F_OK) == 0)
                        continue;
                (void) snprintf(path, sizeof(path), "/sys/class/block/%s/dev", de->d_name);
                dev = test_read_file(path);
                if (!dev || sscanf(dev, "%u:%u", &maj, &min) != 2)
                        continue;
                virtual_dev = strncmp(de->d_name, "loop", 4) == 0 || strncmp(de->d_name, "ram", 3) == 0 ||
                              strncmp(de->d_name, "zram", 4) == 0;
                if (found && virtual_dev)
                        continue;
                *ret_major = maj;
                *ret_minor = min;
                (void) snprintf(name, size, "%s", de->d_name);
                found = true;
                if (!virtual_dev)
                        break;
        }
        closedir(d);
        return found;
}
