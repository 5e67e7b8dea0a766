/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* JSON output for nodeqosctl -o json: a streaming writer (objects, arrays,
 * strings escaped per RFC 8259, numbers that read back exactly) and any
 * protobuf-c message written by reflection over its descriptor, so every
 * field of every answer is there under its .proto name without a second
 * list of fields to keep in step.
 *
 * The mapping: fields in field-number order, all of them (defaults
 * included, so scripts see stable keys); an absent sub-message is null;
 * repeated fields are arrays, map fields objects; enums their value names;
 * 64-bit integers plain numbers (exact in a double up to 2^53); doubles
 * that are NaN or infinite null; bytes base64. Invalid UTF-8 in a string
 * becomes U+FFFD. */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 64

typedef struct JsonWriter {
        FILE *f;
        bool pretty;     /* two-space indentation; else one line */
        unsigned depth;
        bool need_comma; /* a value was written at this level */
        bool after_key;  /* the next value follows "key": */
} JsonWriter;

void json_writer_init(JsonWriter *w, FILE *f, bool pretty);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
void json_key(JsonWriter *w, const char *key);

void json_string(JsonWriter *w, const char *s); /* NULL: null */
void json_double(JsonWriter *w, double v);
void json_uint(JsonWriter *w, uint64_t v);
void json_int(JsonWriter *w, int64_t v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);

/* The message as an object (NULL: null). */
void json_message(JsonWriter *w, const ProtobufCMessage *m);

/* Ends the document with a newline. */
void json_finish(JsonWriter *w);
