/* catalog-controller/template.h: the small template language of a ServiceBinding's
 * spec.secretTemplate. Text with {{ actions }} in the syntax of Go's text/template, but only
 * what a Secret needs, so that it can never run code, loop or grow without bound:
 *
 *   {{ .credentials.user }}          a field (".a.b"; "." is the whole input); a string is
 *                                    written as is, any other value as compact JSON
 *   {{ "text" }} {{ `raw` }} {{ 3 }} literals (Go's escapes in "..."), true, false
 *   {{ f ARG... }}, {{ X | f ARG }}  functions; a pipe passes X as the last argument
 *   {{ if X }}..{{ else if Y }}..{{ else }}..{{ end }}
 *                                    X is false when missing, false, null, 0, "", [] or {}
 *   {{- X -}}                        a '-' beside the braces trims the white space on that
 *                                    side; an action between slash-star and star-slash is a comment
 *
 * Functions: base64 (alias b64enc) of a string's bytes or a value's JSON; json (toJson):
 * compact JSON; quote: a JSON string literal of the text (a valid YAML double-quoted scalar);
 * default D X: X unless false, else D; index X K...: X[K] (a key or an index, for keys that
 * are not identifiers); eq A B, ne A B, not X, and A B, or A B.
 *
 * Writing a missing value is an error (use default or if); so is an unknown function.
 * Bounded: TEMPLATE_MAX_TEXT bytes of template, TEMPLATE_MAX_DEPTH nested ifs and
 * parentheses, TEMPLATE_MAX_STEPS actions and calls, @max_out bytes of output, and
 * TEMPLATE_WORK(@max_out) bytes made or compared by functions. eq and ne compare scalars only,
 * as Go's do. Pure. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"

#define TEMPLATE_MAX_TEXT (64u * 1024u)
#define TEMPLATE_MAX_DEPTH 32
#define TEMPLATE_MAX_STEPS 10000
/* What the functions may make (their string results) and compare, in bytes, given the output
 * bound: with loops out, this and the steps bound the time a template takes. */
#define TEMPLATE_WORK(max_out) ((max_out) > SIZE_MAX / 8 ? SIZE_MAX : (max_out) * 8)

/* Renders @text (@len bytes) over @input (borrowed; the value "." names) into *ret (new,
 * NUL-terminated, *ret_len bytes without the NUL). Returns 0, or with nothing written:
 * -EINVAL with @err "line L column C: WHAT" (1-based, in the template) for a syntax error, an
 * unknown function, a missing value written, a wrong argument, or a limit passed (-E2BIG for
 * the output or the template's size); -ENOMEM. Messages name the template's own text (field
 * paths, function names) and the types of values, never a value read from @input. */
int template_render(const char *text, size_t len, const json_t *input, size_t max_out, char **ret, size_t *ret_len,
                    struct osb_error *err);
