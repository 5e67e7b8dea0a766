/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Which exposition format a scrape gets, from its Accept header (RFC 9110
 * content negotiation, reduced to the two formats served). Prometheus
 * 2.42 sends "application/openmetrics-text;version=1.0.0,
 * application/openmetrics-text;version=0.0.1;q=0.75,
 * text/plain;version=0.0.4;q=0.5,STAR/STAR;q=0.1" (STAR: '*'). Pure; the
 * header is the client's text, so this is fuzzed
 * (tests/fuzz/fuzz-metrics-accept.c). */

#include "metrics-encoder.h"

/* OpenMetrics 1.0.0 when the header names application/openmetrics-text
 * (without a version, or version 1.0.0) with a q above 0 and at least the
 * q of the text format; the text format 0.0.4 otherwise: for no header,
 * wildcards (the text format is the default every scraper reads),
 * malformed elements (ignored) and headers that accept neither (a scraper
 * that cannot read the text format cannot read anything of ours). */
MetricsFormat metrics_format_negotiate(const char *accept);
