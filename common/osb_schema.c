/* common/osb_schema.c: the JSON Schema subset of osb_schema.h. Validation reports the first failing
 * location; recursion is bounded by OSB_SCHEMA_MAX_DEPTH (which also stops "$ref" loops). */
#include "common/osb_compat.h"

#include <math.h>
#include <regex.h>

#include "common/osb_schema.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"

#define OSB_SCHEMA_MAX_DEPTH 64
#define OSB_SCHEMA_MAX_BYTES (64 * 1024)

/* A JSON path that grows and shrinks as validation descends. */
struct jpath {
        char s[512];
        size_t len;
};

static size_t jpath_push(struct jpath *p, const char *fmt, ...) OSB_PRINTF(2, 3);

static size_t jpath_push(struct jpath *p, const char *fmt, ...)
{
        size_t old = p->len;
        if (p->len < sizeof(p->s) - 1) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(p->s + p->len, sizeof(p->s) - p->len, fmt, ap);
                va_end(ap);
                if (n > 0)
                        p->len = OSB_MIN(p->len + (size_t) n, sizeof(p->s) - 1);
        }
        return old;
}

static void jpath_pop(struct jpath *p, size_t old)
{
        p->len = old;
        p->s[old] = '\0';
}

static size_t jpath_key(struct jpath *p, const char *key)
{
        return jpath_push(p, "%s%s", p->len ? "." : "", key);
}

static size_t utf8_length(const char *s, size_t n)
{
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80)
                        count++;
        return count;
}

/* ---- patterns: ECMA-262 shorthands translated to POSIX ERE ---- */

static int ere_append_class(struct osb_buf *b, char esc, bool in_bracket)
{
        const char *pos, *neg;
        switch (esc) {
        case 'd': case 'D': pos = "0-9"; neg = "^0-9"; break;
        case 'w': case 'W': pos = "[:alnum:]_"; neg = "^[:alnum:]_"; break;
        default: pos = "[:space:]"; neg = "^[:space:]"; break;
        }
        bool negated = isupper((unsigned char) esc);
        if (in_bracket) {
                if (negated)
                        return -EINVAL; /* [^...] inside [...] has no POSIX spelling */
                return osb_buf_appends(b, pos);
        }
        return osb_buf_appendf(b, "[%s]", negated ? neg : pos);
}

/* Translates @pat into POSIX ERE in @out. Returns 0, -EINVAL (unsupported) or -ENOMEM. */
static int pattern_to_ere(const char *pat, struct osb_buf *out)
{
        int r = 0;
        for (const char *p = pat; *p && r == 0; p++) {
                if (*p == '\\' && p[1]) {
                        p++;
                        if (strchr("dDwWsS", *p))
                                r = ere_append_class(out, *p, false);
                        else if (*p == 'n')
                                r = osb_buf_appends(out, "\n");
                        else if (*p == 't')
                                r = osb_buf_appends(out, "\t");
                        else if (isalnum((unsigned char) *p))
                                r = -EINVAL; /* \b, \uXXXX, back-references... */
                        else
                                r = osb_buf_appendf(out, "\\%c", *p);
                        continue;
                }
                if (*p != '[') {
                        r = osb_buf_append(out, p, 1);
                        continue;
                }
                /* A bracket expression: POSIX has no escapes inside, so rebuild it with
                 * ']' first, '-' last and shorthands spelled out. */
                struct osb_buf body;
                osb_buf_init(&body, 4096);
                bool negated = false, rbracket = false, hyphen = false, caret = false;
                p++;
                if (*p == '^') {
                        negated = true;
                        p++;
                }
                for (; *p && *p != ']' && r == 0; p++) {
                        if (*p == '\\' && p[1]) {
                                p++;
                                if (strchr("dDwWsS", *p))
                                        r = ere_append_class(&body, *p, true);
                                else if (*p == ']')
                                        rbracket = true;
                                else if (*p == '-')
                                        hyphen = true;
                                else if (*p == '^')
                                        caret = true;
                                else if (*p == 'n')
                                        r = osb_buf_appends(&body, "\n");
                                else if (*p == 't')
                                        r = osb_buf_appends(&body, "\t");
                                else if (isalnum((unsigned char) *p))
                                        r = -EINVAL;
                                else
                                        r = osb_buf_append(&body, p, 1);
                        } else if (*p == '[' && p[1] == ':') {
                                const char *end = strstr(p + 2, ":]");
                                if (!end) {
                                        r = -EINVAL;
                                        break;
                                }
                                r = osb_buf_append(&body, p, (size_t) (end + 2 - p));
                                p = end + 1;
                        } else {
                                r = osb_buf_append(&body, p, 1);
                        }
                }
                if (r == 0 && *p != ']')
                        r = -EINVAL;
                if (r == 0 && !negated && !rbracket && !hyphen && body.len == 0 && caret) {
                        r = osb_buf_appends(out, "\\^");
                } else if (r == 0) {
                        if (body.len == 0 && !rbracket && !hyphen && !caret)
                                r = -EINVAL; /* [] matches nothing in ECMA, is an error here */
                        else
                                r = osb_buf_appendf(out, "[%s%s%s%s%s]", negated ? "^" : "",
                                                    rbracket ? "]" : "", body.data ? body.data : "",
                                                    caret ? "^" : "", hyphen ? "-" : "");
                }
                osb_buf_release(&body);
                if (!*p)
                        break;
        }
        return r == -E2BIG ? -EINVAL : r;
}

/* Compiles a schema pattern. Returns 0, -EINVAL with @why filled, or -ENOMEM. */
static int pattern_compile(const char *pat, regex_t *re, char *why, size_t whylen)
{
        struct osb_buf ere;
        osb_buf_init(&ere, 64 * 1024);
        int r = pattern_to_ere(pat, &ere);
        if (r == -EINVAL)
                (void) snprintf(why, whylen, "uses syntax that POSIX extended regular expressions lack");
        if (r < 0) {
                osb_buf_release(&ere);
                return r;
        }
        int rc = regcomp(re, ere.data ? ere.data : "", REG_EXTENDED | REG_NOSUB);
        osb_buf_release(&ere);
        if (rc == REG_ESPACE)
                return -ENOMEM;
        if (rc != 0) {
                (void) regerror(rc, NULL, why, whylen);
                return -EINVAL;
        }
        return 0;
}

/* Returns 1 (matches), 0 (does not), or negative. */
static int pattern_match(const char *pat, const char *s, char *why, size_t whylen)
{
        regex_t re;
        int r = pattern_compile(pat, &re, why, whylen);
        if (r < 0)
                return r;
        int rc = regexec(&re, s, 0, NULL, 0);
        regfree(&re);
        if (rc == REG_ESPACE)
                return -ENOMEM;
        return rc == 0 ? 1 : 0;
}

/* ---- "$ref" ---- */

/* Resolves a local JSON pointer reference ("#", "#/definitions/a") against @root. */
static const json_t *ref_resolve(const json_t *root, const char *ref)
{
        if (ref[0] != '#')
                return NULL;
        const json_t *cur = root;
        const char *p = ref + 1;
        if (*p == '\0')
                return root;
        if (*p != '/')
                return NULL;
        while (*p == '/' && cur) {
                p++;
                char tok[256];
                size_t n = 0;
                for (; *p && *p != '/'; p++) {
                        char ch = *p;
                        if (ch == '~' && p[1] == '0') {
                                ch = '~';
                                p++;
                        } else if (ch == '~' && p[1] == '1') {
                                ch = '/';
                                p++;
                        } else if (ch == '%' && isxdigit((unsigned char) p[1]) &&
                                   isxdigit((unsigned char) p[2])) {
                                char hex[3] = {p[1], p[2], '\0'};
                                ch = (char) strtol(hex, NULL, 16);
                                p += 2;
                        }
                        if (n + 1 >= sizeof(tok) || ch == '\0')
                                return NULL;
                        tok[n++] = ch;
                }
                tok[n] = '\0';
                if (json_is_object(cur)) {
                        cur = json_object_get(cur, tok);
                } else if (json_is_array(cur)) {
                        char *end;
                        errno = 0;
                        unsigned long idx = strtoul(tok, &end, 10);
                        if (!n || *end || errno || !isdigit((unsigned char) tok[0]))
                                return NULL;
                        cur = json_array_get(cur, idx);
                } else {
                        return NULL;
                }
        }
        return cur;
}

/* ---- schema_check ---- */

struct checker {
        const json_t *root;
        struct jpath path;
        struct osb_error *err;
};

static int check_node(struct checker *k, const json_t *s, unsigned depth);

static int check_fail(struct checker *k, const char *fmt, ...) OSB_PRINTF(2, 3);

static int check_fail(struct checker *k, const char *fmt, ...)
{
        char why[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return osb_error_set(k->err, OSB_E_INVALID_CONFIG, "%s: %s", k->path.s, why);
}

static int check_child(struct checker *k, const char *kw, const json_t *sub, unsigned depth)
{
        size_t old = jpath_key(&k->path, kw);
        int r = check_node(k, sub, depth + 1);
        jpath_pop(&k->path, old);
        return r;
}

/* Keywords whose value is an object of name -> schema. */
static int check_schema_map(struct checker *k, const char *kw, const json_t *m, unsigned depth)
{
        size_t old = jpath_key(&k->path, kw);
        int r = 0;
        if (!json_is_object(m)) {
                r = check_fail(k, "must be an object of schemas, not %s", osb_json_type_name(m));
        } else {
                const char *name;
                json_t *sub;
                json_object_foreach((json_t *) m, name, sub) {
                        if (strcmp(kw, "patternProperties") == 0) {
                                regex_t re;
                                char why[200] = "";
                                size_t o2 = jpath_push(&k->path, "[\"%s\"]", name);
                                r = pattern_compile(name, &re, why, sizeof(why));
                                if (r == 0)
                                        regfree(&re);
                                else if (r == -EINVAL)
                                        r = check_fail(k, "is not a usable regular expression: %s", why);
                                jpath_pop(&k->path, o2);
                                if (r < 0)
                                        break;
                        }
                        if ((r = check_child(k, name, sub, depth)) < 0)
                                break;
                }
        }
        jpath_pop(&k->path, old);
        return r;
}

static int check_schema_list(struct checker *k, const char *kw, const json_t *a, unsigned depth,
                             bool nonempty)
{
        size_t old = jpath_key(&k->path, kw);
        int r = 0;
        if (!json_is_array(a)) {
                r = check_fail(k, "must be an array of schemas, not %s", osb_json_type_name(a));
        } else if (nonempty && json_array_size(a) == 0) {
                r = check_fail(k, "must not be empty");
        } else {
                for (size_t i = 0; i < json_array_size(a) && r == 0; i++) {
                        size_t o2 = jpath_push(&k->path, "[%zu]", i);
                        r = check_node(k, json_array_get(a, i), depth + 1);
                        jpath_pop(&k->path, o2);
                }
        }
        jpath_pop(&k->path, old);
        return r;
}

static bool is_type_name(const json_t *t)
{
        static const char *const names[] = {"null", "boolean", "object", "array",
                                            "number", "string", "integer"};
        if (!json_is_string(t))
                return false;
        for (size_t i = 0; i < OSB_ELEMENTSOF(names); i++)
                if (strcmp(json_string_value(t), names[i]) == 0)
                        return true;
        return false;
}

static int check_keywords(struct checker *k, const json_t *s)
{
        const char *kw;
        json_t *v;
        json_object_foreach((json_t *) s, kw, v) {
                size_t old = jpath_key(&k->path, kw);
                int r = 0;
                if (strcmp(kw, "type") == 0) {
                        if (json_is_array(v)) {
                                for (size_t i = 0; i < json_array_size(v) && r == 0; i++)
                                        if (!is_type_name(json_array_get(v, i)))
                                                r = check_fail(k, "[%zu] is not a JSON Schema type name", i);
                        } else if (!is_type_name(v)) {
                                r = check_fail(k, "must be a JSON Schema type name or an array of them");
                        }
                } else if (strcmp(kw, "required") == 0) {
                        if (!json_is_array(v))
                                r = check_fail(k, "must be an array of strings, not %s", osb_json_type_name(v));
                        for (size_t i = 0; r == 0 && i < json_array_size(v); i++)
                                if (!json_is_string(json_array_get(v, i)))
                                        r = check_fail(k, "must be an array of strings");
                } else if (strcmp(kw, "enum") == 0) {
                        if (!json_is_array(v))
                                r = check_fail(k, "must be an array, not %s", osb_json_type_name(v));
                } else if (strcmp(kw, "minimum") == 0 || strcmp(kw, "maximum") == 0) {
                        if (!json_is_number(v))
                                r = check_fail(k, "must be a number, not %s", osb_json_type_name(v));
                } else if (strcmp(kw, "exclusiveMinimum") == 0 || strcmp(kw, "exclusiveMaximum") == 0) {
                        if (!json_is_number(v) && !json_is_boolean(v))
                                r = check_fail(k, "must be a number or a boolean, not %s", osb_json_type_name(v));
                } else if (strcmp(kw, "minLength") == 0 || strcmp(kw, "maxLength") == 0 ||
                           strcmp(kw, "minItems") == 0 || strcmp(kw, "maxItems") == 0 ||
                           strcmp(kw, "minProperties") == 0 || strcmp(kw, "maxProperties") == 0) {
                        if (!json_is_integer(v) || json_integer_value(v) < 0)
                                r = check_fail(k, "must be a non-negative integer");
                } else if (strcmp(kw, "uniqueItems") == 0) {
                        if (!json_is_boolean(v))
                                r = check_fail(k, "must be a boolean, not %s", osb_json_type_name(v));
                } else if (strcmp(kw, "pattern") == 0) {
                        if (!json_is_string(v)) {
                                r = check_fail(k, "must be a string, not %s", osb_json_type_name(v));
                        } else {
                                regex_t re;
                                char why[200] = "";
                                r = pattern_compile(json_string_value(v), &re, why, sizeof(why));
                                if (r == 0)
                                        regfree(&re);
                                else if (r == -EINVAL)
                                        r = check_fail(k, "is not a usable regular expression: %s", why);
                        }
                } else if (strcmp(kw, "$ref") == 0) {
                        if (!json_is_string(v))
                                r = check_fail(k, "must be a string, not %s", osb_json_type_name(v));
                        else if (json_string_value(v)[0] != '#')
                                r = check_fail(k, "'%.200s' leaves the document; the OSB spec forbids external references",
                                               json_string_value(v));
                        else if (!ref_resolve(k->root, json_string_value(v)))
                                r = check_fail(k, "'%.200s' does not resolve", json_string_value(v));
                }
                jpath_pop(&k->path, old);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_node(struct checker *k, const json_t *s, unsigned depth)
{
        if (depth > OSB_SCHEMA_MAX_DEPTH)
                return check_fail(k, "is nested deeper than %d levels", OSB_SCHEMA_MAX_DEPTH);
        if (json_is_boolean(s))
                return 0;
        if (!json_is_object(s))
                return check_fail(k, "must be a schema (an object or a boolean), not %s",
                                  osb_json_type_name(s));
        int r = check_keywords(k, s);
        if (r < 0)
                return r;
        static const char *const maps[] = {"properties", "patternProperties", "definitions", "$defs"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(maps); i++) {
                const json_t *m = json_object_get(s, maps[i]);
                if (m && (r = check_schema_map(k, maps[i], m, depth)) < 0)
                        return r;
        }
        static const char *const singles[] = {"additionalProperties", "additionalItems", "not"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(singles); i++) {
                const json_t *sub = json_object_get(s, singles[i]);
                if (sub && (r = check_child(k, singles[i], sub, depth)) < 0)
                        return r;
        }
        static const char *const lists[] = {"allOf", "anyOf", "oneOf"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(lists); i++) {
                const json_t *a = json_object_get(s, lists[i]);
                if (a && (r = check_schema_list(k, lists[i], a, depth, true)) < 0)
                        return r;
        }
        const json_t *items = json_object_get(s, "items");
        if (items) {
                r = json_is_array(items) ? check_schema_list(k, "items", items, depth, false)
                                         : check_child(k, "items", items, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int count_bytes(const char *buffer, size_t size, void *data)
{
        size_t *n = data;
        *n += size;
        return *n > OSB_SCHEMA_MAX_BYTES ? -1 : 0;
}

int osb_schema_check(const json_t *schema, const char *path, struct osb_error *err)
{
        if (!json_is_object(schema))
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s: must be a JSON Schema object, not %s",
                                     path, osb_json_type_name(schema));
        size_t bytes = 0;
        if (json_dump_callback(schema, count_bytes, &bytes, JSON_COMPACT) < 0) {
                if (bytes <= OSB_SCHEMA_MAX_BYTES)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "%s: is larger than 64 KiB when serialised; the OSB spec allows at most 64 KiB",
                                     path);
        }
        const json_t *dollar = json_object_get(schema, "$schema");
        if (!dollar)
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "%s.$schema: is required (the OSB spec requires a \"$schema\" key)", path);
        if (!json_is_string(dollar))
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s.$schema: must be a string, not %s",
                                     path, osb_json_type_name(dollar));
        struct checker k = {.root = schema, .err = err};
        (void) jpath_push(&k.path, "%s", path);
        return check_node(&k, schema, 1);
}

/* ---- schema_validate ---- */

struct validator {
        const json_t *root;
        struct jpath path;
        struct osb_error *err;
        uint64_t steps;       /* work done so far, bounded by OSB_SCHEMA_MAX_STEPS */
        unsigned flags;       /* OSB_SCHEMA_* */
        json_t *found;        /* OSB_SCHEMA_ALL: the violations so far (strings) */
        bool collecting;      /* false while anyOf/oneOf/not try an alternative */
};

/* Under OSB_SCHEMA_ALL, a violation (OSB_E_BAD_REQUEST from vfail) is noted and validation
 * goes on with the next property, item or allOf schema. Returns @r, or 0 once noted. */
static int note(struct validator *v, int r)
{
        if (r != OSB_E_BAD_REQUEST || !v->found || !v->collecting || !v->err)
                return r;
        if (json_array_size(v->found) < OSB_SCHEMA_MAX_VIOLATIONS &&
            json_array_append_new(v->found, json_string(v->err->text)) < 0)
                return -ENOMEM;
        return 0;
}

/* Appends @key to the path; under OSB_SCHEMA_QUIET, bytes that are not printable ASCII are
 * written as \xNN so that a message never carries them. */
static size_t vpath_key(struct validator *v, const char *key)
{
        if (!(v->flags & OSB_SCHEMA_QUIET))
                return jpath_key(&v->path, key);
        char safe[256];
        size_t n = 0;
        for (const unsigned char *c = (const unsigned char *) key; *c && n + 5 < sizeof(safe); c++) {
                if (*c >= 0x20 && *c < 0x7f) {
                        safe[n++] = (char) *c;
                } else {
                        (void) snprintf(safe + n, sizeof(safe) - n, "\\x%02X", *c);
                        n += 4;
                }
        }
        safe[n] = '\0';
        return jpath_key(&v->path, safe);
}

/* Charges @n steps of work. Returns 0, or -E2BIG past OSB_SCHEMA_MAX_STEPS: anyOf, oneOf and not
 * try every alternative, so an operator's schema can make the work exponential in the
 * nesting of the parameters (osb_schema_validate() then answers with its own message). */
static int spend(struct validator *v, uint64_t n)
{
        v->steps += n;
        return v->steps > OSB_SCHEMA_MAX_STEPS ? -E2BIG : 0;
}

static int validate_node(struct validator *v, const json_t *s, const json_t *inst, unsigned depth);

static int vfail(struct validator *v, const char *fmt, ...) OSB_PRINTF(2, 3);

static int vfail(struct validator *v, const char *fmt, ...)
{
        char why[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return osb_error_set(v->err, OSB_E_BAD_REQUEST, "%s: %s", v->path.len ? v->path.s : "(root)", why);
}

/* Formats a number from a schema for messages: integers without a fraction. */
static const char *num_text(const json_t *n, char *buf, size_t len)
{
        if (json_is_integer(n))
                (void) snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
        else
                (void) snprintf(buf, len, "%.17g", json_number_value(n));
        return buf;
}

static bool type_matches(const char *t, const json_t *inst)
{
        if (strcmp(t, "integer") == 0) {
                if (json_is_integer(inst))
                        return true;
                if (!json_is_real(inst))
                        return false;
                double d = json_real_value(inst);
                return d == floor(d);
        }
        if (strcmp(t, "number") == 0)
                return json_is_number(inst);
        if (strcmp(t, "string") == 0)
                return json_is_string(inst);
        if (strcmp(t, "object") == 0)
                return json_is_object(inst);
        if (strcmp(t, "array") == 0)
                return json_is_array(inst);
        if (strcmp(t, "boolean") == 0)
                return json_is_boolean(inst);
        if (strcmp(t, "null") == 0)
                return json_is_null(inst);
        return false;
}

static const char *article(const char *t)
{
        return (t[0] == 'a' || t[0] == 'i' || t[0] == 'o') ? "an" : "a";
}

static int validate_type(struct validator *v, const json_t *type, const json_t *inst)
{
        if (json_is_string(type)) {
                const char *t = json_string_value(type);
                if (type_matches(t, inst))
                        return 0;
                return vfail(v, "must be %s %s, not %s", article(t), t, osb_json_type_name(inst));
        }
        if (!json_is_array(type))
                return 0;
        char list[200] = "";
        size_t used = 0;
        for (size_t i = 0; i < json_array_size(type); i++) {
                const char *t = json_string_value(json_array_get(type, i));
                if (!t)
                        continue;
                if (type_matches(t, inst))
                        return 0;
                int n = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", t);
                if (n > 0)
                        used = OSB_MIN(used + (size_t) n, sizeof(list) - 1);
        }
        return vfail(v, "must be one of the types %s, not %s", list, osb_json_type_name(inst));
}

static int compare_number(struct validator *v, const json_t *s, const json_t *inst)
{
        double x = json_number_value(inst);
        char buf[64];
        const json_t *min = json_object_get(s, "minimum"), *max = json_object_get(s, "maximum");
        const json_t *xmin = json_object_get(s, "exclusiveMinimum");
        const json_t *xmax = json_object_get(s, "exclusiveMaximum");
        /* Compare integers exactly: doubles lose precision above 2^53. */
        bool ints = json_is_integer(inst);
#define CMP(lim) (ints && json_is_integer(lim)                                               \
                          ? (json_integer_value(inst) > json_integer_value(lim)) -           \
                                    (json_integer_value(inst) < json_integer_value(lim))     \
                          : (x > json_number_value(lim)) - (x < json_number_value(lim)))
        if (json_is_number(min)) {
                bool excl = json_is_true(xmin);
                if (excl ? CMP(min) <= 0 : CMP(min) < 0)
                        return vfail(v, excl ? "must be greater than %s" : "must be at least %s",
                                     num_text(min, buf, sizeof(buf)));
        }
        if (json_is_number(max)) {
                bool excl = json_is_true(xmax);
                if (excl ? CMP(max) >= 0 : CMP(max) > 0)
                        return vfail(v, excl ? "must be less than %s" : "must be at most %s",
                                     num_text(max, buf, sizeof(buf)));
        }
        if (json_is_number(xmin) && CMP(xmin) <= 0)
                return vfail(v, "must be greater than %s", num_text(xmin, buf, sizeof(buf)));
        if (json_is_number(xmax) && CMP(xmax) >= 0)
                return vfail(v, "must be less than %s", num_text(xmax, buf, sizeof(buf)));
#undef CMP
        return 0;
}

static int validate_string(struct validator *v, const json_t *s, const json_t *inst)
{
        size_t len = utf8_length(json_string_value(inst), json_string_length(inst));
        const json_t *min = json_object_get(s, "minLength"), *max = json_object_get(s, "maxLength");
        if (json_is_integer(min) && (json_int_t) len < json_integer_value(min))
                return vfail(v, "must be at least %" JSON_INTEGER_FORMAT " characters long",
                             json_integer_value(min));
        if (json_is_integer(max) && (json_int_t) len > json_integer_value(max))
                return vfail(v, "must be at most %" JSON_INTEGER_FORMAT " characters long",
                             json_integer_value(max));
        const char *pat = json_string_value(json_object_get(s, "pattern"));
        if (pat) {
                char why[200] = "";
                int r = pattern_match(pat, json_string_value(inst), why, sizeof(why));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return vfail(v, "cannot be checked: the schema's pattern is unusable (%s)", why);
                if (r == 0)
                        return v->flags & OSB_SCHEMA_QUIET ? vfail(v, "must match the plan's pattern") :
                               vfail(v, "must match the pattern '%.200s'", pat);
        }
        return 0;
}

static char *canonical_dump(const json_t *j)
{
        return osb_json_dump(j, NULL);
}

/* uniqueItems by a set of canonical dumps: linear, where pairwise json_equal is quadratic. */
static int validate_unique(struct validator *v, const json_t *inst)
{
        json_t *seen = json_object();
        if (!seen)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < json_array_size(inst) && r == 0; i++) {
                char *d = canonical_dump(json_array_get(inst, i));
                if (!d) {
                        r = -ENOMEM;
                        break;
                }
                json_t *first = json_object_get(seen, d);
                if (first)
                        r = vfail(v, "items [%" JSON_INTEGER_FORMAT "] and [%zu] must not be equal",
                                  json_integer_value(first), i);
                else if (json_object_set_new(seen, d, json_integer((json_int_t) i)) < 0)
                        r = -ENOMEM;
                osb_free(d);
        }
        json_decref(seen);
        return r;
}

static int validate_array(struct validator *v, const json_t *s, const json_t *inst, unsigned depth)
{
        size_t n = json_array_size(inst);
        const json_t *min = json_object_get(s, "minItems"), *max = json_object_get(s, "maxItems");
        if (json_is_integer(min) && (json_int_t) n < json_integer_value(min))
                return vfail(v, "must have at least %" JSON_INTEGER_FORMAT " items", json_integer_value(min));
        if (json_is_integer(max) && (json_int_t) n > json_integer_value(max))
                return vfail(v, "must have at most %" JSON_INTEGER_FORMAT " items", json_integer_value(max));
        int r;
        if (json_is_true(json_object_get(s, "uniqueItems")) &&
            ((r = spend(v, n)) < 0 || (r = validate_unique(v, inst)) < 0))
                return r;
        const json_t *items = json_object_get(s, "items");
        const json_t *extra = json_object_get(s, "additionalItems");
        for (size_t i = 0; i < n; i++) {
                const json_t *sub = NULL;
                if (json_is_array(items))
                        sub = i < json_array_size(items) ? json_array_get(items, i) : extra;
                else
                        sub = items;
                if (!sub)
                        continue;
                size_t old = jpath_push(&v->path, "[%zu]", i);
                if (json_is_false(sub))
                        r = vfail(v, "is not allowed (the array may have at most %zu items)",
                                  json_array_size(items));
                else
                        r = validate_node(v, sub, json_array_get(inst, i), depth + 1);
                jpath_pop(&v->path, old);
                if ((r = note(v, r)) < 0)
                        return r;
        }
        return 0;
}

static int validate_object(struct validator *v, const json_t *s, const json_t *inst, unsigned depth)
{
        size_t n = json_object_size(inst);
        const json_t *min = json_object_get(s, "minProperties"), *max = json_object_get(s, "maxProperties");
        if (json_is_integer(min) && (json_int_t) n < json_integer_value(min))
                return vfail(v, "must have at least %" JSON_INTEGER_FORMAT " properties", json_integer_value(min));
        if (json_is_integer(max) && (json_int_t) n > json_integer_value(max))
                return vfail(v, "must have at most %" JSON_INTEGER_FORMAT " properties", json_integer_value(max));
        int r;
        const json_t *req = json_object_get(s, "required");
        for (size_t i = 0; i < json_array_size(req); i++) {
                const char *name = json_string_value(json_array_get(req, i));
                if (name && !json_object_get(inst, name)) {
                        size_t old = vpath_key(v, name);
                        r = note(v, vfail(v, "is required"));
                        jpath_pop(&v->path, old);
                        if (r < 0)
                                return r;
                }
        }
        const json_t *props = json_object_get(s, "properties");
        const json_t *pprops = json_object_get(s, "patternProperties");
        const json_t *addl = json_object_get(s, "additionalProperties");
        const char *key;
        json_t *val;
        json_object_foreach((json_t *) inst, key, val) {
                bool matched = false;
                size_t old = vpath_key(v, key);
                const json_t *sub = json_object_get(props, key);
                r = 0;
                if (sub) {
                        matched = true;
                        r = validate_node(v, sub, val, depth + 1);
                }
                const char *pat;
                json_t *psub;
                if (json_is_object(pprops)) {
                        json_object_foreach((json_t *) pprops, pat, psub) {
                                if (r < 0)
                                        break;
                                char why[200] = "";
                                int m = pattern_match(pat, key, why, sizeof(why));
                                if (m == -ENOMEM)
                                        r = m;
                                else if (m < 0)
                                        r = vfail(v, "cannot be checked: the schema's pattern is unusable (%s)", why);
                                else if (m == 1) {
                                        matched = true;
                                        r = validate_node(v, psub, val, depth + 1);
                                }
                        }
                }
                if (r == 0 && !matched && addl) {
                        if (json_is_false(addl))
                                r = vfail(v, "is not an allowed property");
                        else
                                r = validate_node(v, addl, val, depth + 1);
                }
                jpath_pop(&v->path, old);
                if ((r = note(v, r)) < 0)
                        return r;
        }
        return 0;
}

/* Validates against a list of schemas; returns how many matched, or a hard error (-ENOMEM,
 * or a depth failure, which must not be mistaken for "did not match"). */
static int count_matches(struct validator *v, const json_t *list, const json_t *inst,
                         unsigned depth, size_t *ret)
{
        size_t matched = 0;
        for (size_t i = 0; i < json_array_size(list); i++) {
                struct osb_error scratch = OSB_ERROR_INIT;
                struct osb_error *saved = v->err;
                bool collecting = v->collecting;
                v->err = &scratch;
                v->collecting = false;
                int r = validate_node(v, json_array_get(list, i), inst, depth + 1);
                v->err = saved;
                v->collecting = collecting;
                if (r == -ELOOP && saved)
                        *saved = scratch;
                if (r == -ENOMEM || r == -ELOOP || r == -E2BIG)
                        return r;
                if (r == 0)
                        matched++;
        }
        *ret = matched;
        return 0;
}

static int validate_node(struct validator *v, const json_t *s, const json_t *inst, unsigned depth)
{
        if (depth > OSB_SCHEMA_MAX_DEPTH) {
                (void) vfail(v, "the schema is nested deeper than %d levels", OSB_SCHEMA_MAX_DEPTH);
                return -ELOOP;
        }
        int r = spend(v, 1);
        if (r < 0)
                return r;
        if (json_is_true(s))
                return 0;
        if (json_is_false(s))
                return vfail(v, "is not allowed");
        if (!json_is_object(s))
                return 0;
        const json_t *ref = json_object_get(s, "$ref");
        if (json_is_string(ref)) {
                /* Draft-04 to -07: "$ref" replaces its siblings. */
                const json_t *target = ref_resolve(v->root, json_string_value(ref));
                if (!target && (v->flags & OSB_SCHEMA_QUIET))
                        return vfail(v, "cannot be checked: a schema reference does not resolve");
                if (!target)
                        return vfail(v, "cannot be checked: the schema reference '%.200s' does not resolve",
                                     json_string_value(ref));
                return validate_node(v, target, inst, depth + 1);
        }
        const json_t *type = json_object_get(s, "type");
        if (type && (r = validate_type(v, type, inst)) < 0)
                return r;
        const json_t *en = json_object_get(s, "enum");
        if (json_is_array(en) && (r = spend(v, json_array_size(en))) < 0)
                return r;
        if (json_is_array(en)) {
                bool found = false;
                for (size_t i = 0; i < json_array_size(en) && !found; i++)
                        found = json_equal(json_array_get(en, i), (json_t *) inst);
                if (!found && (v->flags & OSB_SCHEMA_QUIET))
                        return vfail(v, "must be one of the %zu values the plan's schema lists", json_array_size(en));
                if (!found) {
                        char *allowed = json_dumps(en, JSON_COMPACT | JSON_ENCODE_ANY);
                        r = vfail(v, "must be one of %.300s", allowed ? allowed : "the allowed values");
                        osb_free(allowed);
                        return r;
                }
        }
        const json_t *cn = json_object_get(s, "const");
        if (cn && !json_equal((json_t *) cn, (json_t *) inst) && (v->flags & OSB_SCHEMA_QUIET))
                return vfail(v, "must be the value the plan's schema fixes");
        if (cn && !json_equal((json_t *) cn, (json_t *) inst)) {
                char *want = json_dumps(cn, JSON_COMPACT | JSON_ENCODE_ANY);
                r = vfail(v, "must be %.300s", want ? want : "the constant value");
                osb_free(want);
                return r;
        }
        if (json_is_number(inst) && (r = compare_number(v, s, inst)) < 0)
                return r;
        /* A pattern is compiled and run for each string: charged as more than one step. */
        if (json_is_string(inst) && json_object_get(s, "pattern") && (r = spend(v, 64)) < 0)
                return r;
        if (json_is_string(inst) && (r = validate_string(v, s, inst)) < 0)
                return r;
        if (json_is_array(inst) && (r = validate_array(v, s, inst, depth)) < 0)
                return r;
        if (json_is_object(inst) && (r = validate_object(v, s, inst, depth)) < 0)
                return r;

        const json_t *all = json_object_get(s, "allOf");
        for (size_t i = 0; i < json_array_size(all); i++)
                if ((r = note(v, validate_node(v, json_array_get(all, i), inst, depth + 1))) < 0)
                        return r;
        size_t matched;
        const json_t *any = json_object_get(s, "anyOf");
        if (json_is_array(any)) {
                if ((r = count_matches(v, any, inst, depth, &matched)) < 0)
                        return r;
                if (matched == 0)
                        return vfail(v, "must match at least one of the anyOf schemas");
        }
        const json_t *one = json_object_get(s, "oneOf");
        if (json_is_array(one)) {
                if ((r = count_matches(v, one, inst, depth, &matched)) < 0)
                        return r;
                if (matched != 1)
                        return vfail(v, "must match exactly one of the oneOf schemas (it matches %zu)", matched);
        }
        const json_t *neg = json_object_get(s, "not");
        if (neg) {
                size_t old = v->path.len;
                struct osb_error scratch = OSB_ERROR_INIT;
                struct osb_error *saved = v->err;
                bool collecting = v->collecting;
                v->err = &scratch;
                v->collecting = false;
                r = validate_node(v, neg, inst, depth + 1);
                v->err = saved;
                v->collecting = collecting;
                jpath_pop(&v->path, old);
                if (r == -ELOOP && saved)
                        *saved = scratch;
                if (r == -ENOMEM || r == -ELOOP || r == -E2BIG)
                        return r;
                if (r == 0)
                        return vfail(v, "must not match the schema under \"not\"");
        }
        return 0;
}

int osb_schema_validate(const json_t *schema, const json_t *instance, const char *root,
                    struct osb_error *err)
{
        return osb_schema_validate_flags(schema, instance, root, 0, NULL, err);
}

int osb_schema_validate_flags(const json_t *schema, const json_t *instance, const char *root, unsigned flags,
                              json_t **violations, struct osb_error *err)
{
        struct osb_error scratch = OSB_ERROR_INIT;
        json_auto_t *found = (flags & OSB_SCHEMA_ALL) ? json_array() : NULL;
        if ((flags & OSB_SCHEMA_ALL) && !found)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (!err)
                err = &scratch;         /* note() reads each violation's text from it */
        struct validator v = {.root = schema, .err = err, .flags = flags, .found = found, .collecting = true};
        (void) jpath_push(&v.path, "%s", root ? root : "");
        int r = note(&v, validate_node(&v, schema, instance, 1));
        if (r == -E2BIG)
                r = osb_error_set(err, OSB_E_BAD_REQUEST,
                                  "%s cannot be checked against the plan's schema: it would take more than %d "
                                  "validation steps (the schema's anyOf, oneOf and not alternatives multiply "
                                  "with the nesting of the value); send a simpler value, or ask the broker's "
                                  "operator to simplify the schema", root && *root ? root : "the value",
                                  OSB_SCHEMA_MAX_STEPS);
        if (r == -ELOOP) {
                err->code = OSB_E_BAD_REQUEST;
                r = OSB_E_BAD_REQUEST;
        }
        if (r == OSB_E_BAD_REQUEST && found && json_array_append_new(found, json_string(err->text)) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (r == 0 && json_array_size(found) > 0) {
                size_t more = json_array_size(found) - 1;
                char first[sizeof(err->text)];
                (void) snprintf(first, sizeof(first), "%s", json_string_value(json_array_get(found, 0)));
                r = more ? osb_error_set(err, OSB_E_BAD_REQUEST, "%.400s (and %zu more)", first, more) :
                    osb_error_set(err, OSB_E_BAD_REQUEST, "%s", first);
        }
        if (r == OSB_E_BAD_REQUEST && violations)
                *violations = json_incref(found);
        return r;
}
