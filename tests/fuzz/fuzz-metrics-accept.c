/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the Accept header negotiation of /metrics
 * (agent/metrics-accept.h): the header is any local client's text.
 * Invariants: the answer is one of the two formats; OpenMetrics only when
 * the header names openmetrics somewhere; the same header gives the same
 * answer; appending a malformed element or an empty one changes nothing. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/metrics-accept.h"
#include "fuzz.h"

/* libmicrohttpd keeps a header within the connection's memory pool
 * (METRICS_CONNECTION_MEMORY); longer inputs add nothing. */
#define FUZZ_ACCEPT_MAX_BYTES (16 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *header, *longer;
        MetricsFormat f;
        size_t len;

        if (size > FUZZ_ACCEPT_MAX_BYTES)
                return 0;
        /* An HTTP header value holds no NUL: the text up to the first one. */
        header = strndup((const char *) data, size);
        if (!header)
                return 0;
        len = strlen(header);

        f = metrics_format_negotiate(header);
        FUZZ_CHECK(f == METRICS_FORMAT_TEXT || f == METRICS_FORMAT_OPENMETRICS);
        FUZZ_CHECK(metrics_format_negotiate(header) == f);
        if (f == METRICS_FORMAT_OPENMETRICS)
                FUZZ_CHECK(strcasestr(header, "openmetrics") != NULL);

        /* Only if the header's last element is complete (no open quote)
         * can more elements be appended after a comma. */
        if (!memchr(header, '"', len)) {
                longer = malloc(len + 32);
                if (longer) {
                        memcpy(longer, header, len);
                        strcpy(longer + len, ", ,a/b;q=7, ");
                        FUZZ_CHECK(metrics_format_negotiate(longer) == f);
                        free(longer);
                }
        }
        free(header);
        return 0;
}
