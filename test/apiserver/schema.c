/* test/apiserver/schema.c: pruning, defaulting and validation of custom resources. The error
 * texts follow apiextensions-apiserver, which turns kube-openapi results into field errors:
 * "spec.size: Invalid value: \"string\": spec.size in body must be of type integer: \"string\"". */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "test/apiserver/schema.h"
#include "test/apiserver/util.h"

#include <regex.h>

static bool preserves_unknown(const json_t *s)
{
        return json_is_true(json_object_get(s, "x-kubernetes-preserve-unknown-fields"));
}

static bool is_int_or_string(const json_t *s)
{
        return json_is_true(json_object_get(s, "x-kubernetes-int-or-string"));
}

/* Appends ".key" or "[i]" to a path held in a fixed buffer; returns the old length. */
static size_t path_push(char *path, size_t n, const char *key, ssize_t idx, bool map_key OSB_UNUSED)
{
        size_t old = strlen(path);
        if (idx >= 0)
                (void) snprintf(path + old, n - old, "[%zd]", idx);
        else  /* map keys too: kube-openapi names them "spec.labels.a" */
                (void) snprintf(path + old, n - old, "%s%s", old ? "." : "", key);
        return old;
}

static int prune(const json_t *s, json_t *v, char *path, size_t n, json_t *unknown, bool root)
{
        if (!s || (preserves_unknown(s) && !json_object_get(s, "properties")))
                return 0;
        if (json_is_object(v)) {
                json_t *props = json_object_get(s, "properties");
                json_t *addl = json_object_get(s, "additionalProperties");
                bool embedded = json_is_true(json_object_get(s, "x-kubernetes-embedded-resource"));
                const char *k;
                json_t *child;
                void *tmp;
                json_object_foreach_safe(v, tmp, k, child) {
                        json_t *cs = json_object_get(props, k);
                        if (!cs && json_is_object(addl))
                                cs = addl;
                        bool keep_meta = (root || embedded) &&
                                         (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata"));
                        if (!cs && !keep_meta && !preserves_unknown(s) && !json_is_true(addl)) {
                                if (unknown) {
                                        size_t old = path_push(path, n, k, -1, false);
                                        if (json_array_append_new(unknown, json_string(path)) < 0)
                                                return -ENOMEM;
                                        path[old] = '\0';
                                }
                                (void) json_object_del(v, k);
                                continue;
                        }
                        if (keep_meta && !strcmp(k, "metadata"))
                                continue;  /* ObjectMeta is the server's, not the schema's */
                        if (cs) {
                                size_t old = path_push(path, n, k, -1, cs == addl && !json_object_get(props, k));
                                int r = prune(cs, child, path, n, unknown, false);
                                path[old] = '\0';
                                if (r < 0)
                                        return r;
                        }
                }
        } else if (json_is_array(v)) {
                json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *child;
                json_array_foreach(v, i, child) {
                        size_t old = path_push(path, n, NULL, (ssize_t) i, false);
                        int r = prune(items, child, path, n, unknown, false);
                        path[old] = '\0';
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int schema_prune(const json_t *schema, json_t *obj, json_t *unknown)
{
        char path[1024] = "";
        return prune(schema, obj, path, sizeof(path), unknown, true);
}

static int apply_defaults(const json_t *s, json_t *v)
{
        if (!s)
                return 0;
        if (json_is_object(v)) {
                json_t *props = json_object_get(s, "properties");
                const char *k;
                json_t *ps;
                json_object_foreach(props, k, ps) {
                        json_t *cur = json_object_get(v, k);
                        json_t *def = json_object_get(ps, "default");
                        if (json_is_null(cur) && !json_is_true(json_object_get(ps, "nullable"))) {
                                (void) json_object_del(v, k);
                                cur = NULL;
                        }
                        if (!cur && def) {
                                json_t *copy = json_deep_copy(def);
                                if (!copy || json_object_set_new(v, k, copy) < 0)
                                        return -ENOMEM;
                                cur = copy;
                        }
                        if (cur) {
                                int r = apply_defaults(ps, cur);
                                if (r < 0)
                                        return r;
                        }
                }
                json_t *addl = json_object_get(s, "additionalProperties");
                if (json_is_object(addl)) {
                        json_t *child;
                        json_object_foreach(v, k, child) {
                                if (json_object_get(props, k))
                                        continue;
                                int r = apply_defaults(addl, child);
                                if (r < 0)
                                        return r;
                        }
                }
        } else if (json_is_array(v)) {
                json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *child;
                json_array_foreach(v, i, child) {
                        int r = apply_defaults(items, child);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int schema_default(const json_t *schema, json_t *obj)
{
        return apply_defaults(schema, obj);
}

int schema_add_cause(json_t *causes, const char *reason, const char *field, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_t *c = json_pack("{s:s, s:s, s:s}", "reason", reason, "message", msg, "field", field);
        if (!c || json_array_append_new(causes, c) < 0)
                return -ENOMEM;
        return 0;
}

/* The JSON type name kube-openapi reports for a value. */
static const char *type_of(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "integer";
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "boolean";
        default:
                return "null";
        }
}

/* A value as field.Error prints it: strings quoted, numbers and booleans bare. */
static void value_text(const json_t *v, char *buf, size_t n)
{
        if (json_is_string(v)) {
                (void) util_quote(buf, n, json_string_value(v));
                return;
        }
        if (json_is_object(v) || json_is_array(v)) {
                (void) snprintf(buf, n, "%s", json_is_object(v) ? "\"object\"" : "\"array\"");
                return;
        }
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        (void) snprintf(buf, n, "%s", s ? s : "null");
        osb_free(s);
}

static bool type_ok(const char *type, const json_t *v, const json_t *s)
{
        if (is_int_or_string(s))
                return json_is_integer(v) || json_is_string(v);
        if (!type)
                return true;
        if (!strcmp(type, "object"))
                return json_is_object(v);
        if (!strcmp(type, "array"))
                return json_is_array(v);
        if (!strcmp(type, "string"))
                return json_is_string(v);
        if (!strcmp(type, "integer"))
                return json_is_integer(v) || (json_is_real(v) && json_real_value(v) == (double) (int64_t) json_real_value(v));
        if (!strcmp(type, "number"))
                return json_is_number(v);
        if (!strcmp(type, "boolean"))
                return json_is_boolean(v);
        return true;
}

static bool format_ok(const char *format, const char *str)
{
        if (!format)
                return true;
        if (!strcmp(format, "byte")) {
                char *d = NULL;
                int rb = osb_base64_decode(str, strlen(str), OSB_BASE64_SKIP_NEWLINES, &d, NULL, NULL);
                osb_free(d);
                return rb != -EINVAL;
        }
        if (!strcmp(format, "date-time")) {
                time_t t;
                return util_parse_time(str, &t) == 0;
        }
        return true;
}

static int validate(const json_t *s, const json_t *v, char *path, size_t n, json_t *causes, int *count)
{
        if (!s)
                return 0;
        char vt[256], msg[1024];
        const char *type = json_string_value(json_object_get(s, "type"));
        const char *field = path;
        if (json_is_null(v)) {
                if (json_is_true(json_object_get(s, "nullable")) || (!type && !is_int_or_string(s)))
                        return 0;
                (*count)++;
                return schema_add_cause(causes, "FieldValueTypeInvalid", field,
                                        "Invalid value: \"null\": %s in body must be of type %s: \"null\"",
                                        field, type ? type : "string");
        }
        if (!type_ok(type, v, s)) {
                (*count)++;
                if (is_int_or_string(s))
                        return schema_add_cause(causes, "FieldValueTypeInvalid", field,
                                                "Invalid value: \"%s\": %s in body must be of type integer,string: \"%s\"",
                                                type_of(v), field, type_of(v));
                return schema_add_cause(causes, "FieldValueTypeInvalid", field,
                                        "Invalid value: \"%s\": %s in body must be of type %s: \"%s\"", type_of(v),
                                        field, type, type_of(v));
        }
        json_t *en = json_object_get(s, "enum");
        if (json_is_array(en) && json_array_size(en)) {
                bool ok = false;
                size_t i;
                json_t *e;
                json_array_foreach(en, i, e)
                        if (json_equal(e, v) ||
                            (json_is_number(e) && json_is_number(v) && json_number_value(e) == json_number_value(v)))
                                ok = true;
                if (!ok) {
                        struct osb_buf b;
                        osb_buf_init(&b, 4096);
                        json_array_foreach(en, i, e) {
                                value_text(e, vt, sizeof(vt));
                                if (osb_buf_appendf(&b, "%s%s", i ? ", " : "", vt) < 0)
                                        break;
                        }
                        value_text(v, vt, sizeof(vt));
                        (*count)++;
                        int r = schema_add_cause(causes, "FieldValueNotSupported", field,
                                                 "Unsupported value: %s: supported values: %s", vt, b.data ? b.data : "");
                        osb_buf_release(&b);
                        if (r < 0)
                                return r;
                }
        }
        if (json_is_number(v)) {
                json_t *min = json_object_get(s, "minimum"), *max = json_object_get(s, "maximum");
                double x = json_number_value(v);
                value_text(v, vt, sizeof(vt));
                if (json_is_number(min)) {
                        bool excl = json_is_true(json_object_get(s, "exclusiveMinimum"));
                        value_text(min, msg, sizeof(msg));
                        if (excl ? x <= json_number_value(min) : x < json_number_value(min)) {
                                (*count)++;
                                if (schema_add_cause(causes, "FieldValueInvalid", field,
                                                     "Invalid value: %s: %s in body should be greater than %s%s",
                                                     vt, field, excl ? "" : "or equal to ", msg) < 0)
                                        return -ENOMEM;
                        }
                }
                if (json_is_number(max)) {
                        bool excl = json_is_true(json_object_get(s, "exclusiveMaximum"));
                        value_text(max, msg, sizeof(msg));
                        if (excl ? x >= json_number_value(max) : x > json_number_value(max)) {
                                (*count)++;
                                if (schema_add_cause(causes, "FieldValueInvalid", field,
                                                     "Invalid value: %s: %s in body should be less than %s%s",
                                                     vt, field, excl ? "" : "or equal to ", msg) < 0)
                                        return -ENOMEM;
                        }
                }
        }
        if (json_is_string(v)) {
                const char *str = json_string_value(v);
                size_t chars = 0;
                for (const unsigned char *c = (const unsigned char *) str; *c; c++)
                        if ((*c & 0xc0) != 0x80)
                                chars++;
                json_t *minl = json_object_get(s, "minLength"), *maxl = json_object_get(s, "maxLength");
                value_text(v, vt, sizeof(vt));
                if (json_is_integer(minl) && (json_int_t) chars < json_integer_value(minl)) {
                        (*count)++;
                        if (schema_add_cause(causes, "FieldValueInvalid", field,
                                             "Invalid value: %s: %s in body should be at least %" JSON_INTEGER_FORMAT " chars long",
                                             vt, field, json_integer_value(minl)) < 0)
                                return -ENOMEM;
                }
                if (json_is_integer(maxl) && (json_int_t) chars > json_integer_value(maxl)) {
                        (*count)++;
                        if (schema_add_cause(causes, "FieldValueTooLong", field,
                                             "Too long: may not be more than %" JSON_INTEGER_FORMAT " bytes",
                                             json_integer_value(maxl)) < 0)
                                return -ENOMEM;
                }
                const char *pattern = json_string_value(json_object_get(s, "pattern"));
                regex_t re;
                if (pattern && regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
                        bool match = regexec(&re, str, 0, NULL, 0) == 0;
                        regfree(&re);
                        if (!match) {
                                (*count)++;
                                if (schema_add_cause(causes, "FieldValueInvalid", field,
                                                     "Invalid value: %s: %s in body should match '%s'", vt, field,
                                                     pattern) < 0)
                                        return -ENOMEM;
                        }
                }
                const char *format = json_string_value(json_object_get(s, "format"));
                if (!format_ok(format, str)) {
                        (*count)++;
                        if (schema_add_cause(causes, "FieldValueInvalid", field,
                                             "Invalid value: %s: %s in body must be of type %s: %s", vt, field,
                                             format, vt) < 0)
                                return -ENOMEM;
                }
        }
        if (json_is_array(v)) {
                json_t *mini = json_object_get(s, "minItems"), *maxi = json_object_get(s, "maxItems");
                size_t len = json_array_size(v);
                if (json_is_integer(mini) && (json_int_t) len < json_integer_value(mini)) {
                        (*count)++;
                        if (schema_add_cause(causes, "FieldValueInvalid", field,
                                             "Invalid value: %zu: %s in body should have at least %" JSON_INTEGER_FORMAT " items",
                                             len, field, json_integer_value(mini)) < 0)
                                return -ENOMEM;
                }
                if (json_is_integer(maxi) && (json_int_t) len > json_integer_value(maxi)) {
                        (*count)++;
                        if (schema_add_cause(causes, "FieldValueTooMany", field,
                                             "Too many: %zu: must have at most %" JSON_INTEGER_FORMAT " items", len,
                                             json_integer_value(maxi)) < 0)
                                return -ENOMEM;
                }
                json_t *items = json_object_get(s, "items");
                size_t i;
                json_t *child;
                json_array_foreach(v, i, child) {
                        size_t old = path_push(path, n, NULL, (ssize_t) i, false);
                        int r = validate(items, child, path, n, causes, count);
                        path[old] = '\0';
                        if (r < 0)
                                return r;
                }
        }
        if (json_is_object(v)) {
                json_t *req = json_object_get(s, "required");
                size_t i;
                json_t *rk;
                json_array_foreach(req, i, rk) {
                        const char *k = json_string_value(rk);
                        if (k && !json_object_get(v, k)) {
                                size_t old = path_push(path, n, k, -1, false);
                                (*count)++;
                                int r = schema_add_cause(causes, "FieldValueRequired", path, "Required value");
                                path[old] = '\0';
                                if (r < 0)
                                        return r;
                        }
                }
                json_t *props = json_object_get(s, "properties");
                json_t *addl = json_object_get(s, "additionalProperties");
                const char *k;
                json_t *child;
                json_object_foreach((json_t *) v, k, child) {
                        json_t *cs = json_object_get(props, k);
                        bool mapkey = false;
                        if (!cs && json_is_object(addl)) {
                                cs = addl;
                                mapkey = true;
                        }
                        if (!cs || (!path[0] && !strcmp(k, "metadata")))
                                continue;
                        size_t old = path_push(path, n, k, -1, mapkey);
                        int r = validate(cs, child, path, n, causes, count);
                        path[old] = '\0';
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int schema_validate(const json_t *schema, const json_t *obj, json_t *causes)
{
        char path[1024] = "";
        int count = 0;
        int r = validate(schema, obj, path, sizeof(path), causes, &count);
        return r < 0 ? r : count;
}

size_t schema_causes_text(const json_t *causes, char *buf, size_t n)
{
        size_t o = 0, cnt = json_array_size(causes);
        size_t i;
        json_t *c;
        if (n == 0)
                return 0;
        buf[0] = '\0';
        if (cnt > 1)
                o += (size_t) snprintf(buf + o, n - o, "[");
        json_array_foreach(causes, i, c) {
                if (o >= n)
                        break;
                const char *f = json_string_value(json_object_get(c, "field"));
                const char *m = json_string_value(json_object_get(c, "message"));
                o += (size_t) snprintf(buf + o, n - o, "%s%s%s%s", i ? ", " : "", f && *f ? f : "",
                                       f && *f ? ": " : "", m ? m : "");
        }
        if (cnt > 1 && o < n)
                o += (size_t) snprintf(buf + o, n - o, "]");
        return OSB_MIN(o, n - 1);
}
