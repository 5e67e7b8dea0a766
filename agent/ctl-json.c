/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl-json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_writer_init(JsonWriter *w, FILE *f, bool pretty) {
        *w = (JsonWriter) { .f = f, .pretty = pretty };
}

static void newline(JsonWriter *w) {
        if (!w->pretty)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

/* Before any value: the comma and line break an array element needs; a
 * value after its key needs neither. */
static void before_value(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->need_comma)
                fputc(',', w->f);
        if (w->depth > 0)
                newline(w);
}

static void begin(JsonWriter *w, char c) {
        before_value(w);
        fputc(c, w->f);
        w->depth++;
        w->need_comma = false;
}

static void end(JsonWriter *w, char c) {
        w->depth--;
        /* An empty container stays "{}" / "[]" on one line. */
        if (w->need_comma)
                newline(w);
        fputc(c, w->f);
        w->need_comma = true;
}

void json_begin_object(JsonWriter *w) {
        begin(w, '{');
}

void json_end_object(JsonWriter *w) {
        end(w, '}');
}

void json_begin_array(JsonWriter *w) {
        begin(w, '[');
}

void json_end_array(JsonWriter *w) {
        end(w, ']');
}

/* The length of the valid UTF-8 sequence at s (1-4), 0 if invalid: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s) {
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe0 && c <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
                        return 0;
                return 3;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
                        return 0;
                return 4;
        }
        return 0;
}

static void write_string(FILE *f, const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        fputc('"', f);
        while (*s) {
                size_t n;

                switch (*s) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*s < 0x20 || *s == 0x7f) {
                                fprintf(f, "\\u%04x", *s);
                                break;
                        }
                        n = utf8_sequence(s);
                        if (n == 0) {
                                fputs("\\ufffd", f);
                                break;
                        }
                        fwrite(s, 1, n, f);
                        s += n;
                        continue;
                }
                s++;
        }
        fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
        if (w->need_comma)
                fputc(',', w->f);
        newline(w);
        write_string(w->f, key);
        fputs(w->pretty ? ": " : ":", w->f);
        w->need_comma = true;
        w->after_key = true;
}

void json_string(JsonWriter *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        before_value(w);
        write_string(w->f, s);
        w->need_comma = true;
}

void json_double(JsonWriter *w, double v) {
        char buf[32];

        if (!isfinite(v)) {
                json_null(w);
                return;
        }
        /* The shortest of 15 or 17 digits that reads back as the same
         * double: 0.2 stays 0.2, and nothing is lost. */
        snprintf(buf, sizeof(buf), "%.15g", v);
        if (strtod(buf, NULL) != v)
                snprintf(buf, sizeof(buf), "%.17g", v);
        before_value(w);
        fputs(buf, w->f);
        w->need_comma = true;
}

void json_uint(JsonWriter *w, uint64_t v) {
        before_value(w);
        fprintf(w->f, "%" PRIu64, v);
        w->need_comma = true;
}

void json_int(JsonWriter *w, int64_t v) {
        before_value(w);
        fprintf(w->f, "%" PRId64, v);
        w->need_comma = true;
}

void json_bool(JsonWriter *w, bool v) {
        before_value(w);
        fputs(v ? "true" : "false", w->f);
        w->need_comma = true;
}

void json_null(JsonWriter *w) {
        before_value(w);
        fputs("null", w->f);
        w->need_comma = true;
}

static void json_base64(JsonWriter *w, const ProtobufCBinaryData *b) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        before_value(w);
        fputc('"', w->f);
        for (size_t i = 0; i < b->len; i += 3) {
                uint32_t v = (uint32_t) b->data[i] << 16;
                size_t left = b->len - i;

                if (left > 1)
                        v |= (uint32_t) b->data[i + 1] << 8;
                if (left > 2)
                        v |= b->data[i + 2];
                fputc(alphabet[(v >> 18) & 63], w->f);
                fputc(alphabet[(v >> 12) & 63], w->f);
                fputc(left > 1 ? alphabet[(v >> 6) & 63] : '=', w->f);
                fputc(left > 2 ? alphabet[v & 63] : '=', w->f);
        }
        fputc('"', w->f);
        w->need_comma = true;
}

/* protoc turns map<K,V> name into a repeated NameEntry {key = 1; value = 2}
 * message; protobuf-c 1.4 keeps no flag for it, so it is recognised by that
 * shape. */
static bool is_map_entry(const ProtobufCFieldDescriptor *fd) {
        const ProtobufCMessageDescriptor *d = fd->descriptor;
        size_t n;

        if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label != PROTOBUF_C_LABEL_REPEATED || !d ||
            d->n_fields != 2)
                return false;
        n = strlen(d->short_name);
        return n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 && strcmp(d->fields[0].name, "key") == 0 &&
               strcmp(d->fields[1].name, "value") == 0;
}

static void write_value(JsonWriter *w, const ProtobufCFieldDescriptor *fd, const void *p);

/* A map key as JSON wants it: a string. */
static void write_map_key(JsonWriter *w, const ProtobufCFieldDescriptor *fd, const void *p) {
        char buf[32];

        switch (fd->type) {
        case PROTOBUF_C_TYPE_STRING:
                json_key(w, *(const char *const *) p ?: "");
                return;
        case PROTOBUF_C_TYPE_BOOL:
                json_key(w, *(const protobuf_c_boolean *) p ? "true" : "false");
                return;
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
                snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *) p);
                break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *) p);
                break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
                snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *) p);
                break;
        default:
                snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *) p);
                break;
        }
        json_key(w, buf);
}

static void write_map(JsonWriter *w, const ProtobufCFieldDescriptor *fd, ProtobufCMessage *const *entries,
                      size_t n) {
        const ProtobufCMessageDescriptor *d = fd->descriptor;

        json_begin_object(w);
        for (size_t i = 0; i < n; i++) {
                const char *e = (const char *) entries[i];

                write_map_key(w, &d->fields[0], e + d->fields[0].offset);
                write_value(w, &d->fields[1], e + d->fields[1].offset);
        }
        json_end_object(w);
}

static size_t type_size(ProtobufCType t) {
        switch (t) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_FLOAT:
        case PROTOBUF_C_TYPE_ENUM:
                return 4;
        case PROTOBUF_C_TYPE_BOOL:
                return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE:
                return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES:
                return sizeof(ProtobufCBinaryData);
        default:
                return 8;
        }
}

static void write_value(JsonWriter *w, const ProtobufCFieldDescriptor *fd, const void *p) {
        const ProtobufCEnumValue *ev;

        switch (fd->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
                json_int(w, *(const int32_t *) p);
                break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                json_uint(w, *(const uint32_t *) p);
                break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
                json_int(w, *(const int64_t *) p);
                break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                json_uint(w, *(const uint64_t *) p);
                break;
        case PROTOBUF_C_TYPE_FLOAT:
                json_double(w, *(const float *) p);
                break;
        case PROTOBUF_C_TYPE_DOUBLE:
                json_double(w, *(const double *) p);
                break;
        case PROTOBUF_C_TYPE_BOOL:
                json_bool(w, *(const protobuf_c_boolean *) p);
                break;
        case PROTOBUF_C_TYPE_ENUM:
                ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *) p);
                if (ev)
                        json_string(w, ev->name);
                else
                        json_int(w, *(const int *) p); /* a value newer than our .proto */
                break;
        case PROTOBUF_C_TYPE_STRING:
                json_string(w, *(const char *const *) p ?: "");
                break;
        case PROTOBUF_C_TYPE_BYTES:
                json_base64(w, p);
                break;
        case PROTOBUF_C_TYPE_MESSAGE:
                json_message(w, *(ProtobufCMessage *const *) p);
                break;
        }
}

void json_message(JsonWriter *w, const ProtobufCMessage *m) {
        const ProtobufCMessageDescriptor *d;

        /* Our messages nest a few levels; a deeper one would be a bug. */
        if (!m || w->depth >= JSON_DEPTH_MAX) {
                json_null(w);
                return;
        }
        d = m->descriptor;
        json_begin_object(w);
        for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *fd = &d->fields[i];
                const char *member = (const char *) m + fd->offset;

                json_key(w, fd->name);
                if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                    *(const uint32_t *) ((const char *) m + fd->quantifier_offset) != fd->id) {
                        json_null(w); /* another member of its oneof is set */
                        continue;
                }
                if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
                        size_t n = *(const size_t *) ((const char *) m + fd->quantifier_offset);
                        const char *array = *(const char *const *) member;

                        if (is_map_entry(fd)) {
                                write_map(w, fd, (ProtobufCMessage *const *) array, n);
                                continue;
                        }
                        json_begin_array(w);
                        for (size_t k = 0; k < n; k++)
                                write_value(w, fd, array + k * type_size(fd->type));
                        json_end_array(w);
                } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
                           fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING &&
                           !*(const protobuf_c_boolean *) ((const char *) m + fd->quantifier_offset))
                        json_null(w); /* a proto2/proto3-optional scalar that is not set */
                else
                        write_value(w, fd, member);
        }
        json_end_object(w);
}

void json_finish(JsonWriter *w) {
        fputc('\n', w->f);
        fflush(w->f);
}
