/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What protobuf-c does not check in a request before we trust it: proto3
 * says strings are UTF-8, and protobuf-c hands them over as C strings, so
 * one with a NUL inside would be silently cut short ("uid\0../x" read as
 * "uid"). This walks the wire bytes against the message's descriptor,
 * recursing into known message fields (map entries included), and refuses
 * such strings, known fields in a wire type other than their declared one
 * (protobuf-c would misread some of them; a peer with our schema never
 * sends them), unknown wire types and truncated fields. Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* Nesting beyond this is refused: our schemas are a few levels deep, and
 * the walk recurses once per level. */
#define PROTOBUF_CHECK_MAX_DEPTH 32

/* Returns 0 if data (len bytes) is well-formed at the wire level for desc
 * and every string field it knows is valid UTF-8 without NUL. Otherwise
 * -EBADMSG, and if ret_field is non-NULL it is set to the offending field's
 * name ("" when the fault is not in a known field). Unknown fields are
 * only checked for being well-formed, as proto3 keeps them. */
int protobuf_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                   const char **ret_field);

/* Whether s (len bytes) is UTF-8 as RFC 3629 has it (no overlong forms,
 * surrogates or code points above U+10FFFF) and holds no NUL. */
bool utf8_is_valid_c_string(const uint8_t *s, size_t len);
