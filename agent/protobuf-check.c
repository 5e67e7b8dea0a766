/* SPDX-License-Identifier: Apache-2.0 */
#include "protobuf-check.h"

#include <errno.h>
#include <stdbool.h>

/* Wire types (protobuf encoding spec). */
enum {
        WIRE_VARINT = 0,
        WIRE_FIXED64 = 1,
        WIRE_LENGTH_DELIMITED = 2,
        WIRE_START_GROUP = 3, /* proto2 groups: none in our schemas, refused */
        WIRE_END_GROUP = 4,
        WIRE_FIXED32 = 5,
};

/* Field numbers are 29 bits. */
#define FIELD_NUMBER_MAX ((1u << 29) - 1)

bool utf8_is_valid_c_string(const uint8_t *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                uint8_t c = s[i];
                uint32_t cp;
                size_t n;

                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        cp = c & 0x07;
                } else
                        return false; /* continuation byte, 0xc0/0xc1 overlongs, beyond 0xf4 */
                if (len - i - 1 < n)
                        return false;
                for (size_t k = 1; k <= n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n + 1;
        }
        return true;
}

/* The wire type a field's values come in; repeated scalars may also come
 * packed (length-delimited). */
static int expected_wire_type(ProtobufCType type) {
        switch (type) {
        case PROTOBUF_C_TYPE_SFIXED32:
        case PROTOBUF_C_TYPE_FIXED32:
        case PROTOBUF_C_TYPE_FLOAT:
                return WIRE_FIXED32;
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_FIXED64:
        case PROTOBUF_C_TYPE_DOUBLE:
                return WIRE_FIXED64;
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_BYTES:
        case PROTOBUF_C_TYPE_MESSAGE:
                return WIRE_LENGTH_DELIMITED;
        default: /* int32, sint32, uint32, int64, sint64, uint64, bool, enum */
                return WIRE_VARINT;
        }
}

/* Reads a varint of at most 10 bytes; returns its length, 0 if malformed. */
static size_t read_varint(const uint8_t *p, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        for (size_t i = 0; i < len && i < 10; i++) {
                v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
                if (!(p[i] & 0x80)) {
                        /* The tenth byte may carry only the top bit. */
                        if (i == 9 && p[i] > 1)
                                return 0;
                        *ret = v;
                        return i + 1;
                }
        }
        return 0;
}

/* A packed run of values of one wire type fills its bytes exactly. */
static bool packed_is_valid(int wire_type, const uint8_t *p, size_t len) {
        uint64_t v;

        switch (wire_type) {
        case WIRE_FIXED32:
                return len % 4 == 0;
        case WIRE_FIXED64:
                return len % 8 == 0;
        case WIRE_VARINT:
                for (size_t pos = 0, n; pos < len; pos += n) {
                        n = read_varint(p + pos, len - pos, &v);
                        if (n == 0)
                                return false;
                }
                return true;
        default:
                return false;
        }
}

static int check_message(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, unsigned depth,
                         const char **ret_field) {
        size_t pos = 0;

        if (depth > PROTOBUF_CHECK_MAX_DEPTH) {
                *ret_field = "";
                return -EBADMSG;
        }

        while (pos < len) {
                const ProtobufCFieldDescriptor *field;
                uint64_t key, size;
                uint32_t number;
                size_t n;

                /* A key is a 32-bit varint (at most 5 bytes, as other
                 * parsers and protobuf-c read it). */
                n = read_varint(data + pos, len - pos, &key);
                if (n == 0 || n > 5 || key > UINT32_MAX || (key >> 3) == 0 || (key >> 3) > FIELD_NUMBER_MAX) {
                        *ret_field = "";
                        return -EBADMSG;
                }
                pos += n;
                number = (uint32_t) (key >> 3);
                field = protobuf_c_message_descriptor_get_field(desc, number);

                /* Standard parsers keep a known field of the wrong wire type
                 * as an unknown one; protobuf-c reads some of them as the
                 * declared type instead (a string's length as a bool). Either
                 * way it is not what the sender meant: refused. */
                if (field && (int) (key & 7) != expected_wire_type(field->type)) {
                        if (!(field->label == PROTOBUF_C_LABEL_REPEATED && (key & 7) == WIRE_LENGTH_DELIMITED))
                                goto bad;
                        n = read_varint(data + pos, len - pos, &size);
                        if (n == 0 || size > len - pos - n ||
                            !packed_is_valid(expected_wire_type(field->type), data + pos + n, (size_t) size))
                                goto bad;
                        pos += n + (size_t) size;
                        continue;
                }

                switch (key & 7) {
                case WIRE_VARINT:
                        n = read_varint(data + pos, len - pos, &size);
                        if (n == 0)
                                goto bad;
                        pos += n;
                        break;
                case WIRE_FIXED64:
                        if (len - pos < 8)
                                goto bad;
                        pos += 8;
                        break;
                case WIRE_FIXED32:
                        if (len - pos < 4)
                                goto bad;
                        pos += 4;
                        break;
                case WIRE_LENGTH_DELIMITED:
                        n = read_varint(data + pos, len - pos, &size);
                        if (n == 0 || size > len - pos - n)
                                goto bad;
                        pos += n;
                        if (field && field->type == PROTOBUF_C_TYPE_STRING &&
                            !utf8_is_valid_c_string(data + pos, (size_t) size))
                                goto bad;
                        if (field && field->type == PROTOBUF_C_TYPE_MESSAGE) {
                                int r = check_message(field->descriptor, data + pos, (size_t) size, depth + 1,
                                                      ret_field);
                                if (r < 0)
                                        return r;
                        }
                        pos += (size_t) size;
                        break;
                default:
                        goto bad;
                }
                continue;
        bad:
                *ret_field = field ? field->name : "";
                return -EBADMSG;
        }
        return 0;
}

int protobuf_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                   const char **ret_field) {
        const char *field = "";
        int r;

        r = check_message(desc, data, len, 0, &field);
        if (r < 0 && ret_field)
                *ret_field = field;
        return r;
}
