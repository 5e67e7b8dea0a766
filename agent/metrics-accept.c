/* SPDX-License-Identifier: Apache-2.0 */
#include "metrics-accept.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Parameter values longer than this match none of ours ("1.0.0"). */
#define ACCEPT_VERSION_MAX 16
/* q is given in thousandths (RFC 9110 allows three decimals). */
#define Q_ONE 1000

static bool is_tchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char **p) {
        while (**p == ' ' || **p == '\t')
                (*p)++;
}

/* A token at *p: its length (0 if none), *p moved past it. */
static size_t token(const char **p, const char **ret_start) {
        const char *s = *p;

        while (is_tchar(**p))
                (*p)++;
        *ret_start = s;
        return (size_t) (*p - s);
}

/* A quoted-string at *p (the opening quote already seen). Copies up to
 * size - 1 bytes of its unescaped content (size 0: none) and moves past
 * the closing quote. false if it does not end. */
static bool quoted_string(const char **p, char *buf, size_t size) {
        size_t n = 0;

        for ((*p)++; **p && **p != '"'; (*p)++) {
                if (**p == '\\' && (*p)[1])
                        (*p)++;
                if (n + 1 < size)
                        buf[n++] = **p;
        }
        if (size > 0)
                buf[n] = 0;
        if (**p != '"')
                return false;
        (*p)++;
        return true;
}

/* "0", "0.5", "1", "1.000" -> 0..1000; -1 for anything else. */
static int parse_qvalue(const char *s, size_t len) {
        int q, scale = 100;

        if (len == 0 || (s[0] != '0' && s[0] != '1'))
                return -1;
        q = (s[0] - '0') * Q_ONE;
        if (len == 1)
                return q;
        if (s[1] != '.' || len > 5)
                return -1;
        for (size_t i = 2; i < len; i++, scale /= 10) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                q += (s[i] - '0') * scale;
        }
        return q <= Q_ONE ? q : -1;
}

static bool token_is(const char *s, size_t len, const char *word) {
        return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

typedef struct MediaRange {
        const char *type, *subtype;
        size_t type_len, subtype_len;
        int q;
        bool has_version;
        char version[ACCEPT_VERSION_MAX + 1];
} MediaRange;

/* One parameter ("; name=value") at *p. false if malformed. */
static bool parse_parameter(const char **p, MediaRange *m) {
        const char *name, *value;
        size_t name_len, value_len;
        char buf[ACCEPT_VERSION_MAX + 2];

        name_len = token(p, &name);
        if (name_len == 0 || **p != '=')
                return false;
        (*p)++;
        if (**p == '"') {
                if (!quoted_string(p, buf, sizeof(buf)))
                        return false;
                value = buf;
                value_len = strlen(buf);
        } else {
                value_len = token(p, &value);
                if (value_len == 0)
                        return false;
        }

        if (token_is(name, name_len, "q")) {
                m->q = parse_qvalue(value, value_len);
                return m->q >= 0;
        }
        if (token_is(name, name_len, "version")) {
                m->has_version = true;
                /* One too long to hold matches nothing: left as "?". */
                if (value_len > ACCEPT_VERSION_MAX)
                        strcpy(m->version, "?");
                else {
                        memcpy(m->version, value, value_len);
                        m->version[value_len] = 0;
                }
        }
        return true;
}

/* One element "type/subtype *(; param)" at *p, up to a ',' or the end.
 * false if malformed. */
static bool parse_media_range(const char **p, MediaRange *m) {
        *m = (MediaRange) { .q = Q_ONE };

        skip_ows(p);
        m->type_len = token(p, &m->type);
        if (m->type_len == 0 || **p != '/')
                return false;
        (*p)++;
        m->subtype_len = token(p, &m->subtype);
        if (m->subtype_len == 0)
                return false;
        for (;;) {
                skip_ows(p);
                if (**p != ';')
                        break;
                (*p)++;
                skip_ows(p);
                if (!parse_parameter(p, m))
                        return false;
        }
        return **p == ',' || **p == 0;
}

/* Past the ',' that ends the current element (quoted commas skipped). */
static void skip_element(const char **p) {
        while (**p && **p != ',') {
                if (**p == '"') {
                        if (!quoted_string(p, NULL, 0))
                                return;
                } else
                        (*p)++;
        }
}

MetricsFormat metrics_format_negotiate(const char *accept) {
        int om_q = -1, text_q = -1;
        const char *p = accept;

        if (!p)
                return METRICS_FORMAT_TEXT;

        while (*p) {
                MediaRange m;

                if (parse_media_range(&p, &m)) {
                        bool om = token_is(m.type, m.type_len, "application") &&
                                  token_is(m.subtype, m.subtype_len, "openmetrics-text") &&
                                  (!m.has_version || strcmp(m.version, "1.0.0") == 0);
                        bool text = (token_is(m.type, m.type_len, "text") &&
                                     ((token_is(m.subtype, m.subtype_len, "plain") &&
                                       (!m.has_version || strcmp(m.version, "0.0.4") == 0)) ||
                                      token_is(m.subtype, m.subtype_len, "*"))) ||
                                    (token_is(m.type, m.type_len, "*") && token_is(m.subtype, m.subtype_len, "*"));

                        if (om && m.q > om_q)
                                om_q = m.q;
                        if (text && m.q > text_q)
                                text_q = m.q;
                } else
                        skip_element(&p);
                if (*p == ',')
                        p++;
        }

        return om_q > 0 && om_q >= text_q ? METRICS_FORMAT_OPENMETRICS : METRICS_FORMAT_TEXT;
}
