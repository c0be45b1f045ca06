/* test/apiserver/selector.h: label selectors (=, ==, !=, in, notin, exists, !exists, gt, lt)
 * and field selectors (=, ==, !=), parsed as apimachinery's labels.Parse and fields.ParseSelector
 * do. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct selector;

/* Parses @text (NULL or "" selects everything). Returns 0 with *ret new (selector_free), or
 * -EINVAL with a message in @msg (for a 400 BadRequest), or -ENOMEM. */
int selector_parse_labels(const char *text, struct selector **ret, char *msg, size_t msglen);
int selector_parse_fields(const char *text, struct selector **ret, char *msg, size_t msglen);
struct selector *selector_free(struct selector *s);  /* NULL-safe; returns NULL */

/* True if @labels (an object of strings, may be NULL) satisfies every requirement. */
bool selector_match_labels(const struct selector *s, const json_t *labels);

/* Field selectors: @get returns the value of a field of the object (borrowed) or NULL when the
 * object has no such field (the empty string is then compared). */
typedef const char *(*selector_field_fn)(void *userdata, const char *field);
bool selector_match_fields(const struct selector *s, selector_field_fn get, void *userdata);

/* Number of requirements, and the key of the i-th (for checking field names). */
size_t selector_count(const struct selector *s);
const char *selector_key(const struct selector *s, size_t i);
/* If the selector has a requirement "@key=V" or "@key==V", returns V (borrowed), else NULL. */
const char *selector_equals_value(const struct selector *s, const char *key);
