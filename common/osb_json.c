/* common/osb_json.c: JSON parsing and typed access with path-naming errors. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"

const char *osb_json_error_reason(const json_error_t *jerr)
{
        switch (json_error_code(jerr)) {
        case json_error_out_of_memory:
                return "out of memory";
        case json_error_stack_overflow:
                return "too deeply nested";
        case json_error_cannot_open_file:
        case json_error_invalid_argument:
                return "cannot be read";
        case json_error_invalid_utf8:
                return "invalid UTF-8";
        case json_error_premature_end_of_input:
                return "unexpected end of input";
        case json_error_end_of_input_expected:
                return "more after the end of the JSON value";
        case json_error_invalid_syntax:
                return "invalid JSON syntax";
        case json_error_invalid_format:
                return "invalid JSON";
        case json_error_wrong_type:
                return "not a JSON object";
        case json_error_null_character:
                return "a NUL character";
        case json_error_null_value:
                return "a null value";
        case json_error_null_byte_in_key:
                return "a NUL character in a key";
        case json_error_duplicate_key:
                return "a duplicate key";
        case json_error_numeric_overflow:
                return "a number out of range";
        case json_error_item_not_found:
        case json_error_index_out_of_range:
        case json_error_unknown:
        default:
                return "invalid JSON";
        }
}

int osb_json_parse_object(const char *data, size_t len, json_t **ret, struct osb_error *err)
{
        json_error_t jerr;
        if (len == 0)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "request body is empty; a JSON object is required");
        size_t failures = osb_mem_failures();
        json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (osb_mem_failures() != failures) {
                json_decref(j);
                return osb_error_set(err, -ENOMEM, "out of memory while parsing JSON");
        }
        if (!j)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "malformed JSON at line %d column %d (byte %d of %zu): %s",
                                     jerr.line, jerr.column, jerr.position, len, osb_json_error_reason(&jerr));
        if (!json_is_object(j)) {
                const char *t = osb_json_type_name(j);
                json_decref(j);
                return osb_error_set(err, OSB_E_BAD_REQUEST, "the body must be a JSON object, not %s", t);
        }
        *ret = j;
        return 0;
}

/* json_dumps() can return corrupt text when an allocation fails mid-way (jansson 2.14 ignores
 * some errors while writing object keys), so dump into our buffer, make the first failure
 * stick, and also watch the allocator's failure count. */
struct dump_state {
        struct osb_buf buf;
        int error;
};

static int dump_cb(const char *buffer, size_t size, void *data)
{
        struct dump_state *d = data;
        if (d->error == 0)
                d->error = osb_buf_append(&d->buf, buffer, size);
        return d->error < 0 ? -1 : 0;
}

static char *dump(const json_t *j, size_t flags, bool newline, size_t *ret_len)
{
        struct dump_state d = {.error = 0};
        osb_buf_init(&d.buf, SIZE_MAX / 2);
        size_t failures = osb_mem_failures();
        int r = json_dump_callback(j, dump_cb, &d, flags);
        if (r == 0 && d.error == 0 && newline)
                r = osb_buf_append(&d.buf, "\n", 1);
        if (r < 0 || d.error < 0 || !d.buf.data || osb_mem_failures() != failures) {
                osb_buf_release(&d.buf);
                return NULL;
        }
        return osb_buf_detach(&d.buf, ret_len);
}

char *osb_json_dump_flags(const json_t *j, size_t flags, size_t *ret_len)
{
        return dump(j, flags, false, ret_len);
}

char *osb_json_dump_line(const json_t *j, size_t flags, size_t *ret_len)
{
        return dump(j, flags, true, ret_len);
}

char *osb_json_dump(const json_t *j, size_t *ret_len)
{
        return osb_json_dump_flags(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY, ret_len);
}

const char *osb_json_type_name(const json_t *j)
{
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
        default:
                return "null";
        }
}

static int get(const json_t *obj, const char *path, const char *key, bool required,
               json_t **ret, struct osb_error *err)
{
        json_t *v = json_object_get(obj, key);
        if (!v) {
                if (required)
                        return osb_error_set(err, OSB_E_BAD_REQUEST, "%s%s%s is required", path,
                                             *path ? "." : "", key);
                return 1;
        }
        *ret = v;
        return 0;
}

static int wrong_type(const char *path, const char *key, const char *want, const json_t *v,
                      struct osb_error *err)
{
        return osb_error_set(err, OSB_E_BAD_REQUEST, "%s%s%s must be %s, not %s", path,
                             *path ? "." : "", key, want, osb_json_type_name(v));
}

int osb_json_get_string(const json_t *obj, const char *path, const char *key, bool required,
                        const char **ret, struct osb_error *err)
{
        json_t *v = NULL;
        int r = get(obj, path, key, required, &v, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_is_string(v))
                return wrong_type(path, key, "a string", v, err);
        *ret = json_string_value(v);
        return 0;
}

int osb_json_get_bool(const json_t *obj, const char *path, const char *key, bool required,
                      bool *ret, struct osb_error *err)
{
        json_t *v = NULL;
        int r = get(obj, path, key, required, &v, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_is_boolean(v))
                return wrong_type(path, key, "a boolean", v, err);
        *ret = json_is_true(v);
        return 0;
}

int osb_json_get_object(const json_t *obj, const char *path, const char *key, bool required,
                        json_t **ret, struct osb_error *err)
{
        json_t *v = NULL;
        int r = get(obj, path, key, required, &v, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_is_object(v))
                return wrong_type(path, key, "an object", v, err);
        *ret = v;
        return 0;
}

int osb_json_get_array(const json_t *obj, const char *path, const char *key, bool required,
                       json_t **ret, struct osb_error *err)
{
        json_t *v = NULL;
        int r = get(obj, path, key, required, &v, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_is_array(v))
                return wrong_type(path, key, "an array", v, err);
        *ret = v;
        return 0;
}

int osb_json_get_int(const json_t *obj, const char *path, const char *key, bool required,
                     json_int_t *ret, struct osb_error *err)
{
        json_t *v = NULL;
        int r = get(obj, path, key, required, &v, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!json_is_integer(v))
                return wrong_type(path, key, "an integer", v, err);
        *ret = json_integer_value(v);
        return 0;
}
