/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's log: structured journald entries when stderr is connected to
 * the journal (started by systemd), plain "level: message" lines on stderr
 * otherwise. Library code does not log above debug; the caller that decides
 * logs once. */

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Returns the syslog level for "debug", "info", "notice", "warning", "err"
 * (also "error"), or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

void log_set_max_level(int level);
int log_get_max_level(void);

/* Decides once between journald and stderr (JOURNAL_STREAM tells whether
 * stderr is the journal). */
void log_open(void);

/* Logs and returns -abs(error) (or 0 for error 0), so a caller can write
 * "return log_error_errno(r, ...)". %m in fmt shows strerror(error). */
_printf_(4, 5) int log_internal(int level, int error, const char *func, const char *fmt, ...);

#define log_full_errno(level, error, ...) log_internal(level, error, __func__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, "Out of memory.")
