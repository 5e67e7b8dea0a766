/* SPDX-License-Identifier: Apache-2.0 */
#include "qrm-checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"

#define MAGIC "nodeqos-qrm-checkpoint"
#define CHECKSUM_PREFIX "checksum "
/* "checksum " + 16 hex digits + '\n' */
#define CHECKSUM_LINE_LEN (sizeof(CHECKSUM_PREFIX) - 1 + 16 + 1)
#define SEQUENCE_PREFIX "sequence "

/* The most fields a line has: "entry" and its eight. */
#define FIELDS_MAX 9

#define FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME UINT64_C(0x100000001b3)

uint64_t qrm_checkpoint_checksum(const void *data, size_t size) {
        const unsigned char *p = data;
        uint64_t h = FNV64_OFFSET;

        for (size_t i = 0; i < size; i++) {
                h ^= p[i];
                h *= FNV64_PRIME;
        }
        return h;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* The text is built with appends into one growing buffer, not stdio: the
 * save runs before the answers of its batch and costs O(pods), and
 * fprintf() took most of it (tests/bench/checkpoint-cost.sh). */

/* Room for "%.17g" of any double, with the NUL. */
#define DOUBLE_TEXT_MAX 32
/* A checkpoint of a 100-pod node is ~12 KB: one allocation for most. */
#define TEXT_INITIAL_BYTES (16 * 1024)

typedef struct Text {
        char *data;
        size_t size, allocated;
        bool oom; /* an append failed: the text is incomplete */
} Text;

static bool text_reserve(Text *t, size_t more) {
        size_t want;
        char *n;

        if (t->oom)
                return false;
        if (t->allocated - t->size >= more)
                return true;
        want = MAX(t->allocated * 2, MAX(t->size + more, (size_t) TEXT_INITIAL_BYTES));
        n = realloc(t->data, want);
        if (!n) {
                t->oom = true;
                return false;
        }
        t->data = n;
        t->allocated = want;
        return true;
}

static void text_add(Text *t, const char *s, size_t n) {
        if (!text_reserve(t, n))
                return;
        memcpy(t->data + t->size, s, n);
        t->size += n;
}

static void text_add_str(Text *t, const char *s) {
        text_add(t, s, strlen(s));
}

static void text_add_u64(Text *t, uint64_t v) {
        char digits[20];
        size_t n = 0;

        do {
                digits[sizeof(digits) - ++n] = (char) ('0' + v % 10);
                v /= 10;
        } while (v);
        text_add(t, digits + sizeof(digits) - n, n);
}

/* The last request written per resource and its text: a node's requests
 * repeat (the same sizes in many pods), and "%.17g" is the dearest part. */
typedef struct RequestMemo {
        uint64_t bits;
        bool valid;
        size_t len;
        char text[DOUBLE_TEXT_MAX];
} RequestMemo;

typedef struct FormatContext {
        Text text;
        const char *last_pod; /* valid during the walk: the state does not change */
        RequestMemo memo[_RESOURCE_MAX];
} FormatContext;

static const char *word(const char *s) {
        return s && *s ? s : "-";
}

static void format_list(Text *t, const CpuMask *m) {
        size_t n;

        if (!m) {
                text_add(t, " -", 2);
                return;
        }
        text_add(t, " ", 1);
        /* Measured first, then written in place (with its NUL, dropped). */
        n = cpu_list_format(m, NULL, 0);
        if (!text_reserve(t, n + 1))
                return;
        (void) cpu_list_format(m, t->data + t->size, n + 1);
        t->size += n;
}

static void format_request(FormatContext *c, Resource r, bool allocated, double v) {
        RequestMemo *m = &c->memo[r];
        uint64_t bits;

        if (!allocated) {
                text_add(&c->text, " -", 2);
                return;
        }
        memcpy(&bits, &v, sizeof(bits));
        if (!m->valid || m->bits != bits) {
                int n = snprintf(m->text, sizeof(m->text), " %.17g", v);

                m->len = (size_t) MIN(MAX(n, 0), (int) sizeof(m->text) - 1);
                m->bits = bits;
                m->valid = true;
        }
        text_add(&c->text, m->text, m->len);
}

static int format_record(const QrmRecord *rec, void *userdata) {
        FormatContext *c = userdata;
        Text *t = &c->text;

        if (!c->last_pod || strcmp(c->last_pod, rec->pod_uid) != 0) {
                text_add(t, "pod ", 4);
                text_add_str(t, rec->pod_uid);
                text_add(t, " ", 1);
                text_add_str(t, word(rec->pod_namespace));
                text_add(t, " ", 1);
                text_add_str(t, word(rec->pod_name));
                text_add(t, "\n", 1);
                c->last_pod = rec->pod_uid;
        }
        text_add(t, "entry ", 6);
        text_add_str(t, word(rec->container_name));
        text_add(t, " ", 1);
        text_add_str(t, qrm_container_type_to_string(rec->container_type));
        text_add(t, " ", 1);
        text_add_u64(t, rec->container_index);
        text_add(t, " ", 1);
        text_add_str(t, qos_class_to_string(rec->qos_class));
        format_request(c, RESOURCE_CPU, rec->allocated[RESOURCE_CPU], rec->request[RESOURCE_CPU]);
        format_request(c, RESOURCE_MEMORY, rec->allocated[RESOURCE_MEMORY], rec->request[RESOURCE_MEMORY]);
        format_list(t, rec->exclusive);
        format_list(t, rec->memory_hint);
        text_add(t, "\n", 1);
        return t->oom ? -ENOMEM : 0;
}

int qrm_checkpoint_format(const QrmState *s, uint64_t sequence, char **ret_data, size_t *ret_size) {
        FormatContext c = {};
        int reclaimed = qrm_state_get_reclaimed_cpus(s);
        char line[CHECKSUM_LINE_LEN + 1];
        int r;

        text_add_str(&c.text, MAGIC " ");
        text_add_u64(&c.text, QRM_CHECKPOINT_VERSION);
        text_add_str(&c.text, "\n" SEQUENCE_PREFIX);
        text_add_u64(&c.text, sequence);
        text_add_str(&c.text, "\nreclaimed-cpus ");
        if (reclaimed < 0)
                text_add(&c.text, "-", 1);
        text_add_u64(&c.text, (uint64_t) (reclaimed < 0 ? -(int64_t) reclaimed : reclaimed));
        text_add(&c.text, "\n", 1);
        r = qrm_state_foreach_record(s, format_record, &c);
        if (r >= 0 && !c.text.oom) {
                (void) snprintf(line, sizeof(line), CHECKSUM_PREFIX "%016" PRIx64 "\n",
                                qrm_checkpoint_checksum(c.text.data, c.text.size));
                text_add(&c.text, line, CHECKSUM_LINE_LEN);
        }
        /* One byte more with a NUL: callers may treat it as a string. */
        if (r >= 0 && text_reserve(&c.text, 1))
                c.text.data[c.text.size] = 0;
        if (r >= 0 && c.text.oom)
                r = -ENOMEM;
        if (r < 0) {
                free(c.text.data);
                return r;
        }
        *ret_data = c.text.data;
        *ret_size = c.text.size;
        return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

typedef struct ParseContext {
        QrmState *state;
        PluginError *err;
        unsigned line;
        bool have_reclaimed;
        char *pod_uid, *pod_namespace, *pod_name; /* the current pod */
        unsigned pod_entries;
} ParseContext;

static void parse_context_done(ParseContext *c) {
        free(c->pod_uid);
        free(c->pod_namespace);
        free(c->pod_name);
}

_printf_(3, 4) static int bad(ParseContext *c, int error, const char *fmt, ...) {
        char what[PLUGIN_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return plugin_error_set(c->err, error, "Checkpoint line %u: %s", c->line, what);
}

/* Splits a line in place at single spaces. Returns the number of fields,
 * or -EINVAL for an empty field or more than max. */
static int split(char *line, char **fields, int max) {
        int n = 0;

        for (char *p = line;;) {
                char *sp = strchr(p, ' ');

                if (n == max)
                        return -EINVAL;
                if (sp)
                        *sp = 0;
                if (!*p)
                        return -EINVAL;
                fields[n++] = p;
                if (!sp)
                        return n;
                p = sp + 1;
        }
}

static const char *unword(const char *s) {
        return strcmp(s, "-") == 0 ? "" : s;
}

static int parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!*s || (s[0] == '0' && s[1]))
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return 0;
}

/* "-" or a finite number >= 0 written in decimal. */
static int parse_request(const char *s, bool *ret_allocated, double *ret) {
        char *end;
        double v;

        if (strcmp(s, "-") == 0) {
                *ret_allocated = false;
                *ret = 0;
                return 0;
        }
        /* Decimal only: strtod() would also take "inf", "nan" and hex. */
        if (strspn(s, "0123456789.eE+-") != strlen(s))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || *end || end == s || !isfinite(v) || v < 0)
                return -EINVAL;
        *ret_allocated = true;
        *ret = v;
        return 0;
}

/* "-" (NULL) or a non-empty list. */
static int parse_list(const char *s, CpuMask *buf, const CpuMask **ret) {
        if (strcmp(s, "-") == 0) {
                *ret = NULL;
                return 0;
        }
        if (cpu_list_parse_string(s, buf) < 0 || cpu_mask_is_empty(buf))
                return -EINVAL;
        *ret = buf;
        return 0;
}

static int parse_reclaimed(ParseContext *c, char **f, int n) {
        const CpuTopology *t = qrm_state_topology(c->state);
        long v;
        char *end;

        if (n != 2 || c->have_reclaimed || c->pod_uid)
                return bad(c, EBADMSG, "misplaced or malformed reclaimed-cpus line.");
        errno = 0;
        v = strtol(f[1], &end, 10);
        if (errno != 0 || *end || end == f[1] || (v != QRM_RECLAIMED_CPUS_ALL && v < 1) || v > CPU_MASK_MAX)
                return bad(c, EBADMSG, "bad reclaimed-cpus value.");
        if (v > (long) cpu_mask_count(&t->online))
                return bad(c, ESTALE, "a reclaimed pool of %ld CPUs, more than this node has.", v);
        c->have_reclaimed = true;
        return qrm_state_set_reclaimed_cpus(c->state, (int) v, NULL) < 0 ? bad(c, EBADMSG, "bad reclaimed-cpus.") : 0;
}

static int parse_pod(ParseContext *c, char **f, int n) {
        if (n != 4 || !c->have_reclaimed)
                return bad(c, EBADMSG, "malformed or misplaced pod line.");
        if (c->pod_uid && c->pod_entries == 0)
                return bad(c, EBADMSG, "pod %s has no entry.", c->pod_uid);
        parse_context_done(c);
        c->pod_uid = strdup(f[1]);
        c->pod_namespace = strdup(unword(f[2]));
        c->pod_name = strdup(unword(f[3]));
        c->pod_entries = 0;
        if (!c->pod_uid || !c->pod_namespace || !c->pod_name)
                return plugin_error_set(c->err, ENOMEM, "Out of memory.");
        return 0;
}

static int parse_entry(ParseContext *c, char **f, int n) {
        CpuMask exclusive, hint;
        QrmRecord rec = {};
        PluginError e = {};
        int r;

        if (n != 9 || !c->pod_uid)
                return bad(c, EBADMSG, "malformed or misplaced entry line.");
        rec.pod_uid = c->pod_uid;
        rec.pod_namespace = c->pod_namespace;
        rec.pod_name = c->pod_name;
        rec.container_name = unword(f[1]);
        rec.container_type = qrm_container_type_from_string(f[2]);
        if (rec.container_type == _QRM_CONTAINER_TYPE_INVALID)
                return bad(c, EBADMSG, "unknown container type.");
        if (parse_u64(f[3], &rec.container_index) < 0)
                return bad(c, EBADMSG, "bad container index.");
        rec.qos_class = qos_class_from_string(f[4]);
        if (rec.qos_class == _QOS_CLASS_INVALID)
                return bad(c, EBADMSG, "unknown QoS class.");
        if (parse_request(f[5], &rec.allocated[RESOURCE_CPU], &rec.request[RESOURCE_CPU]) < 0 ||
            parse_request(f[6], &rec.allocated[RESOURCE_MEMORY], &rec.request[RESOURCE_MEMORY]) < 0)
                return bad(c, EBADMSG, "bad request.");
        if (parse_list(f[7], &exclusive, &rec.exclusive) < 0 || parse_list(f[8], &hint, &rec.memory_hint) < 0)
                return bad(c, EBADMSG, "bad CPU or node list.");

        r = qrm_state_restore_record(c->state, &rec, &e);
        if (r == -EINVAL)
                return bad(c, EBADMSG, "%s", e.message);
        if (r < 0)
                return bad(c, r, "%s", e.message);
        c->pod_entries++;
        return 0;
}

static int parse_body(ParseContext *c, const char *p, const char *end) {
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                _cleanup_free_ char *line = NULL;
                char *f[FIELDS_MAX];
                int n, r;

                c->line++;
                /* The body ends right before the checksum line, at a '\n'. */
                if (!nl)
                        return bad(c, EBADMSG, "line without end.");
                if (memchr(p, 0, (size_t) (nl - p)))
                        return bad(c, EBADMSG, "NUL byte.");
                line = strndup(p, (size_t) (nl - p));
                if (!line)
                        return plugin_error_set(c->err, ENOMEM, "Out of memory.");
                p = nl + 1;

                n = split(line, f, FIELDS_MAX);
                if (n < 0)
                        return bad(c, EBADMSG, "malformed line.");
                if (strcmp(f[0], "reclaimed-cpus") == 0)
                        r = parse_reclaimed(c, f, n);
                else if (strcmp(f[0], "pod") == 0)
                        r = parse_pod(c, f, n);
                else if (strcmp(f[0], "entry") == 0)
                        r = parse_entry(c, f, n);
                else
                        r = bad(c, EBADMSG, "unknown line.");
                if (r < 0)
                        return r;
        }
        if (!c->have_reclaimed)
                return bad(c, EBADMSG, "no reclaimed-cpus line.");
        if (c->pod_uid && c->pod_entries == 0)
                return bad(c, EBADMSG, "pod %s has no entry.", c->pod_uid);
        return 0;
}

/* The header line "nodeqos-qrm-checkpoint N\n". Returns the offset after
 * it and N. */
static int parse_header(const char *data, size_t size, PluginError *err, size_t *ret_end, uint64_t *ret_version) {
        const size_t magic_len = strlen(MAGIC);
        const char *nl = memchr(data, '\n', MIN(size, (size_t) 64));
        uint64_t version = 0;
        char buf[32];
        size_t n;
        int r;

        if (size == 0)
                return plugin_error_set(err, EBADMSG, "The checkpoint is empty.");
        if (!nl || (size_t) (nl - data) <= magic_len + 1 || memcmp(data, MAGIC " ", magic_len + 1) != 0)
                return plugin_error_set(err, EBADMSG, "Not a nodeqos QRM checkpoint (bad header).");
        n = (size_t) (nl - data) - magic_len - 1;
        if (n >= sizeof(buf))
                return plugin_error_set(err, EBADMSG, "Bad checkpoint version.");
        memcpy(buf, data + magic_len + 1, n);
        buf[n] = 0;
        if (strspn(buf, "0123456789") != n)
                return plugin_error_set(err, EBADMSG, "Bad checkpoint version.");
        r = parse_u64(buf, &version);
        if (r == -ERANGE)
                version = UINT64_MAX; /* a huge number is a newer version too */
        else if (r < 0 || version == 0)
                return plugin_error_set(err, EBADMSG, "Bad checkpoint version.");
        if (version > QRM_CHECKPOINT_VERSION)
                return plugin_error_set(err, EPROTONOSUPPORT,
                                        "The checkpoint was written by a newer nodeqos (format %s; this one "
                                        "reads up to %d).",
                                        buf, QRM_CHECKPOINT_VERSION);
        *ret_end = (size_t) (nl - data) + 1;
        *ret_version = version;
        return 0;
}

/* Format 2's "sequence N\n" line at data (end: the checksum line).
 * Returns the offset after it and N. */
static int parse_sequence(const char *data, const char *end, PluginError *err, size_t *ret_end,
                          uint64_t *ret_sequence) {
        const size_t prefix_len = sizeof(SEQUENCE_PREFIX) - 1;
        const char *nl = memchr(data, '\n', (size_t) (end - data));
        char buf[32];
        size_t n;

        if (!nl || (size_t) (nl - data) <= prefix_len || memcmp(data, SEQUENCE_PREFIX, prefix_len) != 0)
                return plugin_error_set(err, EBADMSG, "Checkpoint line 2: no sequence line.");
        n = (size_t) (nl - data) - prefix_len;
        if (n >= sizeof(buf))
                return plugin_error_set(err, EBADMSG, "Checkpoint line 2: bad sequence.");
        memcpy(buf, data + prefix_len, n);
        buf[n] = 0;
        if (parse_u64(buf, ret_sequence) < 0)
                return plugin_error_set(err, EBADMSG, "Checkpoint line 2: bad sequence.");
        *ret_end = (size_t) (nl - data) + 1;
        return 0;
}

/* Everything but the body: size, header, checksum, sequence. Returns the
 * body's bounds. */
static int verify(const char *data, size_t size, PluginError *err, size_t *ret_body, size_t *ret_tail,
                  uint64_t *ret_sequence) {
        size_t body = 0, tail, after = 0;
        uint64_t want, got, version = 0, sequence = 0;
        char hex[17];
        int r;

        if (size > QRM_CHECKPOINT_MAX_BYTES)
                return plugin_error_set(err, EBADMSG, "The checkpoint is larger than %d bytes.",
                                        QRM_CHECKPOINT_MAX_BYTES);
        r = parse_header(data, size, err, &body, &version);
        if (r < 0)
                return r;

        /* The last line: "checksum <16 hex>\n", right at the end. */
        if (size < body + CHECKSUM_LINE_LEN)
                return plugin_error_set(err, EBADMSG, "The checkpoint is truncated (no checksum).");
        tail = size - CHECKSUM_LINE_LEN;
        if (data[size - 1] != '\n' || data[tail - 1] != '\n' ||
            memcmp(data + tail, CHECKSUM_PREFIX, sizeof(CHECKSUM_PREFIX) - 1) != 0)
                return plugin_error_set(err, EBADMSG, "The checkpoint is truncated (no checksum).");
        memcpy(hex, data + tail + sizeof(CHECKSUM_PREFIX) - 1, 16);
        hex[16] = 0;
        if (strspn(hex, "0123456789abcdef") != 16)
                return plugin_error_set(err, EBADMSG, "The checkpoint's checksum is malformed.");
        want = strtoull(hex, NULL, 16);
        got = qrm_checkpoint_checksum(data, tail);
        if (want != got)
                return plugin_error_set(err, EBADMSG,
                                        "The checkpoint's checksum does not match (corrupted): %016" PRIx64
                                        " written, %016" PRIx64 " computed.",
                                        want, got);
        if (version >= 2) {
                r = parse_sequence(data + body, data + tail, err, &after, &sequence);
                if (r < 0)
                        return r;
                body += after;
        }
        *ret_body = body;
        *ret_tail = tail;
        *ret_sequence = sequence;
        return 0;
}

int qrm_checkpoint_verify(const char *data, size_t size, uint64_t *ret_sequence, PluginError *err) {
        size_t body, tail;

        return verify(data ?: "", data ? size : 0, err, &body, &tail, ret_sequence);
}

static int parse_all(QrmState *s, const char *data, size_t size, PluginError *err) {
        /* Line numbers count from the body's first line, after the
         * header (and format 2's sequence line). */
        _cleanup_(parse_context_done) ParseContext c = { .state = s, .err = err, .line = 1 };
        size_t body, tail;
        uint64_t sequence;
        int r;

        r = verify(data, size, err, &body, &tail, &sequence);
        if (r < 0)
                return r;
        if (memchr(data, '\n', body) != data + body - 1)
                c.line++; /* the sequence line */
        return parse_body(&c, data + body, data + tail);
}

int qrm_checkpoint_parse(QrmState *s, const char *data, size_t size, PluginError *err) {
        int r;

        if (qrm_state_n_pods(s) > 0 || qrm_state_get_reclaimed_cpus(s) != QRM_RECLAIMED_CPUS_ALL)
                return plugin_error_set(err, EBUSY, "The state to restore into is not empty.");
        if (!data && size > 0)
                return plugin_error_set(err, EINVAL, "No data.");

        r = parse_all(s, data ?: "", size, err);
        if (r < 0)
                /* All or nothing: a half-restored state would answer some
                 * pods and forget others. */
                qrm_state_reset(s);
        return r;
}

