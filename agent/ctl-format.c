/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl-format.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *ctl_format_bytes(char buf[static CTL_FORMAT_MAX], double bytes) {
        static const char *const suffixes[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
        int i = -1;

        if (!isfinite(bytes)) {
                snprintf(buf, CTL_FORMAT_MAX, "-");
                return buf;
        }
        if (fabs(bytes) < 1024) {
                snprintf(buf, CTL_FORMAT_MAX, "%.0f", bytes);
                return buf;
        }
        while (fabs(bytes) >= 1024 && i < 5) {
                bytes /= 1024;
                i++;
        }
        snprintf(buf, CTL_FORMAT_MAX, "%.1f%s", bytes, suffixes[i]);
        return buf;
}

const char *ctl_format_quantity(char buf[static CTL_FORMAT_MAX], const char *unit, double v) {
        size_t n;

        if (unit && strcmp(unit, "bytes") == 0)
                return ctl_format_bytes(buf, v);
        if (unit && strcmp(unit, "bytes_per_second") == 0) {
                ctl_format_bytes(buf, v);
                n = strlen(buf);
                snprintf(buf + n, CTL_FORMAT_MAX - n, "/s");
                return buf;
        }
        snprintf(buf, CTL_FORMAT_MAX, "%.0f", v);
        return buf;
}

const char *ctl_format_duration_ms(char buf[static CTL_FORMAT_MAX], uint64_t ms) {
        static const struct {
                uint64_t ms;
                const char *name;
        } units[] = {
                { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" },
        };

        if (ms < 1000) {
                snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "ms", ms);
                return buf;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (ms < units[i].ms)
                        continue;
                if (i + 1 < sizeof(units) / sizeof(units[0]))
                        snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "%s%" PRIu64 "%s", ms / units[i].ms, units[i].name,
                                 ms % units[i].ms / units[i + 1].ms, units[i + 1].name);
                else
                        snprintf(buf, CTL_FORMAT_MAX, "%" PRIu64 "%s", ms / units[i].ms, units[i].name);
                return buf;
        }
        return buf; /* not reached: ms >= 1000 matches "s" */
}
