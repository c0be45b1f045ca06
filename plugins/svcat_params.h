/* plugins/svcat_params.h: a plan's parameter schemas (spec.instanceCreateParameterSchema, ...)
 * for people: the parameters a plan takes, with their types, whether they are required and
 * their rules, as kubectl svcat describe plan and marketplace show them. Only the top level of a
 * schema is shown (its "properties"); the schema is the broker's, so every text taken from it is
 * printed with bytes that are not printable ASCII replaced by '?'. */
#pragma once

#include <jansson.h>

/* "name*, size, tier" (required ones marked *; "(any)" when the schema lists no properties,
 * "-" when @schema is NULL or null). Returns new (osb_free), or NULL on OOM. */
char *svcat_params_summary(const json_t *schema);

/* Prints @label (as describe's fields: "Provision Schema:") and then, indented, one row per
 * parameter: PARAMETER, TYPE, REQUIRED, RULES ("1 to 10", "at most 10 characters", "one of
 * gold, silver", "pattern ...", "default ..."), DESCRIPTION; then whether other parameters are
 * allowed. "<none>" when @schema is NULL or null. */
void svcat_params_describe(const char *label, const json_t *schema);
