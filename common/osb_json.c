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

/* ---- the compact, sorted dump of the broker's hot path ---------------------------------------
 * osb_json_dump() runs several times per broker request (request keys, stored parameters and
 * responses, the answer); jansson spends most of that time on its loop detection (a formatted
 * pointer and a hash table per container) and on one callback per piece of text. This writer
 * produces the same bytes as json_dump_callback() with JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENCODE_ANY for trees of objects, arrays, strings, integers, true, false and null. Anything
 * else (a real, whose text is jansson's to choose; a key containing NUL; text that is not UTF-8)
 * makes it answer FAST_UNSUPPORTED, and the caller dumps with jansson instead. */
enum { FAST_OK = 0, FAST_UNSUPPORTED = 1, FAST_MAX_DEPTH = 2048 };

size_t osb_json_utf8_len(const unsigned char *p, size_t n)
{
        unsigned char c = p[0];
        size_t len;
        uint32_t cp;
        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
                len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return len;
}

static int fast_string(struct osb_buf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *p = (const unsigned char *) s, *end = p + n, *run = p;
        int r = osb_buf_append(b, "\"", 1);
        while (r == 0 && p < end) {
                unsigned char c = *p;
                if (c >= 0x80) {
                        size_t l = osb_json_utf8_len(p, (size_t) (end - p));
                        if (l == 0)
                                return FAST_UNSUPPORTED;
                        p += l;
                        continue;
                }
                if (c >= 0x20 && c != '"' && c != '\\') {
                        p++;
                        continue;
                }
                r = osb_buf_append(b, run, (size_t) (p - run));
                char esc[7] = {'\\', 0};
                size_t el = 2;
                switch (c) {
                case '"': esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                        memcpy(esc + 1, "u00", 3);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xF];
                        el = 6;
                }
                if (r == 0)
                        r = osb_buf_append(b, esc, el);
                run = ++p;
        }
        if (r == 0)
                r = osb_buf_append(b, run, (size_t) (p - run));
        return r == 0 ? osb_buf_append(b, "\"", 1) : r;
}

struct fast_key {
        const char *key;
        size_t len;
        json_t *value;
};

static int fast_key_cmp(const void *a, const void *b)
{
        const struct fast_key *x = a, *y = b;
        int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
        return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int fast_value(struct osb_buf *b, const json_t *j, unsigned depth);

static int fast_object(struct osb_buf *b, const json_t *j, unsigned depth)
{
        size_t n = json_object_size(j), i = 0;
        if (n == 0)
                return osb_buf_append(b, "{}", 2);
        struct fast_key small[16];
        struct fast_key *keys = n <= OSB_ELEMENTSOF(small) ? small : osb_calloc(n, sizeof(*keys));
        if (!keys)
                return -ENOMEM;
        for (void *it = json_object_iter((json_t *) j); it && i < n;
             it = json_object_iter_next((json_t *) j, it), i++) {
                keys[i].key = json_object_iter_key(it);
#if JANSSON_VERSION_HEX >= 0x020e00
                keys[i].len = json_object_iter_key_len(it);
#else
                keys[i].len = strlen(keys[i].key);
#endif
                keys[i].value = json_object_iter_value(it);
        }
        int r = i == n ? 0 : FAST_UNSUPPORTED;
        for (size_t k = 0; r == 0 && k < n; k++)
                if (memchr(keys[k].key, '\0', keys[k].len))
                        r = FAST_UNSUPPORTED;
        if (r == 0)
                qsort(keys, n, sizeof(*keys), fast_key_cmp);
        for (size_t k = 0; r == 0 && k < n; k++) {
                r = osb_buf_append(b, k ? "," : "{", 1);
                if (r == 0)
                        r = fast_string(b, keys[k].key, keys[k].len);
                if (r == 0)
                        r = osb_buf_append(b, ":", 1);
                if (r == 0)
                        r = fast_value(b, keys[k].value, depth + 1);
        }
        if (keys != small)
                osb_free(keys);
        return r == 0 ? osb_buf_append(b, "}", 1) : r;
}

static int fast_value(struct osb_buf *b, const json_t *j, unsigned depth)
{
        if (depth > FAST_MAX_DEPTH)
                return FAST_UNSUPPORTED;
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                return fast_object(b, j, depth);
        case JSON_ARRAY: {
                size_t n = json_array_size(j);
                int r = osb_buf_append(b, "[", 1);
                for (size_t i = 0; r == 0 && i < n; i++) {
                        if (i)
                                r = osb_buf_append(b, ",", 1);
                        if (r == 0)
                                r = fast_value(b, json_array_get(j, i), depth + 1);
                }
                return r == 0 ? osb_buf_append(b, "]", 1) : r;
        }
        case JSON_STRING:
                return fast_string(b, json_string_value(j), json_string_length(j));
        case JSON_INTEGER: {
                char t[32];
                int n = snprintf(t, sizeof(t), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
                return osb_buf_append(b, t, (size_t) n);
        }
        case JSON_TRUE:
                return osb_buf_append(b, "true", 4);
        case JSON_FALSE:
                return osb_buf_append(b, "false", 5);
        case JSON_NULL:
                return osb_buf_append(b, "null", 4);
        default:
                return FAST_UNSUPPORTED;
        }
}

static char *dump(const json_t *j, size_t flags, bool newline, size_t *ret_len)
{
        if (flags == (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) && j) {
                struct osb_buf fb;
                osb_buf_init(&fb, SIZE_MAX / 2);
                int r = fast_value(&fb, j, 0);
                if (r == 0 && newline)
                        r = osb_buf_append(&fb, "\n", 1);
                if (r == 0)
                        return osb_buf_detach(&fb, ret_len);
                osb_buf_release(&fb);
                if (r < 0)
                        return NULL;    /* out of memory, as jansson would be */
        }
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
