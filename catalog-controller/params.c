/* catalog-controller/params.c: buildParameters and prepareInProgressPropertyParameters of
 * service-catalog: merge, redact, checksum; and the check against the plan's schema. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_hash.h"
#include "common/osb_schema.h"
#include "catalog-controller/params.h"

/* The parsed objects of the sources handled so far, so a key set twice can name both places. */
struct parsed {
        json_t **obj;
        size_t n;
};

static void parsed_release(struct parsed *p)
{
        for (size_t i = 0; i < p->n; i++)
                json_decref(p->obj[i]);
        osb_free(p->obj);
        p->obj = NULL;
        p->n = 0;
}

/* Parses source @s into a new object. Strings must be UTF-8 and keys unique: a Secret is
 * written by people, and a silently dropped duplicate would send a value they did not mean. */
static int source_parse(const struct params_source *s, json_t **ret, struct osb_error *err)
{
        if (s->len > PARAMS_MAX_SOURCE_BYTES)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "Secret %s key %s: %zu bytes, more than a Secret can hold (%u)",
                                     s->secret_name, s->key, s->len, PARAMS_MAX_SOURCE_BYTES);
        json_error_t jerr;
        size_t failures = osb_mem_failures();
        json_t *j = json_loadb(s->value ? s->value : "", s->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                               &jerr);
        /* jansson reports some allocation failures as syntax errors. */
        if (osb_mem_failures() != failures) {
                json_decref(j);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        if (!j)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "Secret %s key %s: invalid JSON: %s at line %d column %d",
                                     s->secret_name, s->key, jerr.text, jerr.line, jerr.column);
        if (!json_is_object(j)) {
                json_decref(j);
                return osb_error_set(err, OSB_E_BAD_REQUEST, "Secret %s key %s: not a JSON object", s->secret_name,
                                     s->key);
        }
        *ret = j;
        return 0;
}

/* Names where @key was set before source @i. */
static int set_twice(const json_t *inline_params, const struct params_source *src, const struct parsed *done,
                     size_t i, const char *key, struct osb_error *err)
{
        if (inline_params && json_object_get(inline_params, key))
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "parameter '%s' is set twice: in spec.parameters and in Secret %s key %s", key,
                                     src[i].secret_name, src[i].key);
        for (size_t j = 0; j < done->n; j++)
                if (json_object_get(done->obj[j], key))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "parameter '%s' is set twice: in Secret %s key %s and in Secret %s key %s",
                                             key, src[j].secret_name, src[j].key, src[i].secret_name, src[i].key);
        /* Not reached: the key is in the merged object, so it came from one of those. */
        return osb_error_set(err, OSB_E_BAD_REQUEST, "parameter '%s' is set twice", key);
}

int params_build(const json_t *inline_params, const struct params_source *src, size_t n,
                 json_t **params, json_t **redacted, char checksum[65], struct osb_error *err)
{
        /* "parameters: null" (or "~" in YAML) decodes to no parameters in service-catalog's Go. */
        if (json_is_null(inline_params))
                inline_params = NULL;
        if (!inline_params && n == 0) {
                *params = *redacted = NULL;
                checksum[0] = '\0';
                return 0;
        }
        if (inline_params && !json_is_object(inline_params))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.parameters: must be a JSON object");

        /* jansson does not report every allocation failure it meets (common/osb_mem.h), so the
         * allocator's failure count has the last word. */
        size_t failures = osb_mem_failures();
        osb_autojson json_t *all = inline_params ? json_deep_copy(inline_params) : json_object();
        osb_autojson json_t *red = inline_params ? json_deep_copy(inline_params) : json_object();
        if (!all || !red)
                return osb_error_set(err, -ENOMEM, "out of memory");

        struct parsed done = {.obj = n ? osb_calloc(n, sizeof(json_t *)) : NULL};
        if (n && !done.obj)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                json_t *obj = NULL;
                r = source_parse(&src[i], &obj, err);
                if (r < 0)
                        break;
                const char *key;
                json_t *v;
                json_object_foreach(obj, key, v) {
                        if (json_object_get(all, key)) {
                                r = set_twice(inline_params, src, &done, i, key, err);
                                break;
                        }
                        if (json_object_set(all, key, v) < 0 ||
                            json_object_set_new(red, key, json_string(PARAMS_REDACTED)) < 0) {
                                r = osb_error_set(err, -ENOMEM, "out of memory");
                                break;
                        }
                }
                done.obj[done.n++] = obj;
        }
        parsed_release(&done);
        if (r < 0)
                return r;

        size_t len;
        osb_autofree char *dump = osb_json_dump_flags(all, JSON_COMPACT | JSON_SORT_KEYS, &len);
        if (osb_mem_failures() != failures)
                return osb_error_set(err, -ENOMEM, "out of memory");
        /* Without an allocation failure, only a string that is not UTF-8 stops the dump; parsed
         * JSON never has one, so it came from the caller's spec.parameters. */
        if (!dump)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.parameters: cannot be written as JSON");
        osb_hash_sha256_hex(dump, len, checksum);
        *params = OSB_TAKE_PTR(all);
        *redacted = OSB_TAKE_PTR(red);
        return 0;
}

int params_check(const json_t *schema, const json_t *params, struct osb_error *err)
{
        if (!params || !schema || json_is_null(schema))
                return 0;
        json_t *list = NULL;
        int r = osb_schema_validate_flags(schema, params, "parameters", OSB_SCHEMA_ALL | OSB_SCHEMA_QUIET, &list, err);
        if (r != OSB_E_BAD_REQUEST)
                return r;
        json_auto_t *found = list;
        size_t n = json_array_size(found);
        if (n == 0)     /* not a violation list (the step budget): the validator's message stands */
                return r;
        char text[sizeof(err->text)];
        int used = snprintf(text, sizeof(text), "%zu violation%s of the plan's parameter schema: ", n, n == 1 ? "" : "s");
        size_t k;
        for (k = 0; k < n; k++) {
                const char *v = json_string_value(json_array_get(found, k));
                /* keep room for "; and NNN more" */
                if (used < 0 || (size_t) used + strlen(v) + 2 + 16 >= sizeof(text))
                        break;
                used += snprintf(text + used, sizeof(text) - (size_t) used, "%s%s", k ? "; " : "", v);
        }
        if (k < n)
                (void) snprintf(text + used, sizeof(text) - (size_t) used, "%sand %zu more", k ? "; " : "", n - k);
        return osb_error_set(err, OSB_E_BAD_REQUEST, "%s", text);
}
