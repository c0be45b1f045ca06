/* common/osb_json.h: JSON helpers over jansson: parsing untrusted bytes with precise errors,
 * compact dumping, and typed field access whose errors name the JSON path. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"

/* What kind of mistake jansson found, as a fixed phrase ("invalid JSON syntax", "invalid
 * UTF-8", ...), for messages about untrusted input. Never use jerr->text for those: jansson
 * quotes the input there ("invalid escape near '"p\q'"), which may be a password. Say where it
 * failed (jerr->line, column, position), not what it said. */
const char *osb_json_error_reason(const json_error_t *jerr);

/* Parses @len bytes of untrusted JSON (need not be NUL-terminated). The top level must be an
 * object. Returns 0 with *ret new (json_decref), or OSB_E_BAD_REQUEST with line/column in @err
 * (never quoting the input). */
int osb_json_parse_object(const char *data, size_t len, json_t **ret, struct osb_error *err);

/* Returns a new compact, key-ordered dump (free with osb_free), or NULL on OOM. */
char *osb_json_dump(const json_t *j, size_t *ret_len);
/* Length of the valid UTF-8 sequence at @p (at most @n bytes, n >= 1), or 0 when it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are refused, as jansson does. */
size_t osb_json_utf8_len(const unsigned char *p, size_t n);
/* The same with jansson dump @flags (JSON_COMPACT | JSON_PRESERVE_ORDER, ...). Unlike
 * json_dumps(), never returns text that an allocation failure left incomplete. */
char *osb_json_dump_flags(const json_t *j, size_t flags, size_t *ret_len);
/* osb_json_dump_flags() followed by a newline: the body of an HTTP response, so that a terminal
 * shows it on a line of its own (curl) and line-based tools read it whole. */
char *osb_json_dump_line(const json_t *j, size_t flags, size_t *ret_len);

/* Field access. @path is the JSON path of @obj for messages ("" for the root, "services[0]").
 * Missing optional fields leave *ret untouched and return 0; a missing required field or a
 * wrong type returns OSB_E_BAD_REQUEST naming "path.key" and the expected type. */
int osb_json_get_string(const json_t *obj, const char *path, const char *key, bool required,
                        const char **ret, struct osb_error *err);
int osb_json_get_bool(const json_t *obj, const char *path, const char *key, bool required,
                      bool *ret, struct osb_error *err);
/* *ret is borrowed from @obj. */
int osb_json_get_object(const json_t *obj, const char *path, const char *key, bool required,
                        json_t **ret, struct osb_error *err);
int osb_json_get_array(const json_t *obj, const char *path, const char *key, bool required,
                       json_t **ret, struct osb_error *err);
int osb_json_get_int(const json_t *obj, const char *path, const char *key, bool required,
                     json_int_t *ret, struct osb_error *err);

/* Name of a JSON type for messages: "object", "string", ... */
const char *osb_json_type_name(const json_t *j);

/* The string member @key of @obj, or NULL (no such member, not a string, @obj not an object). */
static inline const char *osb_json_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}
