/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

static int max_level = LOG_INFO;
static bool use_journal = false;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

static bool stderr_is_journal(void) {
        /* systemd sets JOURNAL_STREAM=dev:ino of the stream it connected; it
         * is inherited by children, so compare it with what stderr really is. */
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_open(void) {
        use_journal = stderr_is_journal();
}

int log_internal(int level, int error, const char *func, const char *fmt, ...) {
        char msg[2048];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return -error;

        errno = error; /* for %m */
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (use_journal) {
                if (error > 0)
                        (void) sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "ERRNO=%d", error,
                                               "CODE_FUNC=%s", func, "SYSLOG_IDENTIFIER=nodeqosd", NULL);
                else
                        (void) sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "CODE_FUNC=%s", func,
                                               "SYSLOG_IDENTIFIER=nodeqosd", NULL);
        } else
                (void) fprintf(stderr, "nodeqosd: %s: %s\n", log_level_to_string(level), msg);

        errno = saved;
        return -error;
}
