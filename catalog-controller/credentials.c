/* catalog-controller/credentials.c: transformCredentials and the Secret serializer of
 * service-catalog, and the part of Kubernetes JSONPath that addKey.jsonPathExpression needs. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_yaml.h"
#include "catalog-controller/credentials.h"
#include "catalog-controller/template.h"

/* Parsed JSON is a tree, so a step never selects more values than the document has; only a
 * document built with shared references could multiply under wildcards. This caps that. */
#define JSONPATH_MAX_NODES (1u << 20)

/* How a non-string value is written. Object keys keep the broker's order: service-catalog's Go
 * maps come out sorted, but a JSON consumer does not care and a person reading the Secret
 * sees the layout the broker documented. */
#define CREDENTIALS_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

static void buf_releasep(struct osb_buf *b)
{
        osb_buf_release(b);
}

/* ---- JSON text of a value ---- */

static bool has_real(const json_t *v)
{
        const char *k;
        size_t i;
        json_t *m;
        if (json_is_real(v))
                return true;
        if (json_is_object(v)) {
                json_object_foreach((json_t *) v, k, m)
                        if (has_real(m))
                                return true;
        } else if (json_is_array(v)) {
                json_array_foreach(v, i, m)
                        if (has_real(m))
                                return true;
        }
        return false;
}

/* Appends @d in the shortest form that strtod() reads back as the same double (the broker's
 * "0.1", where jansson's %.17g writes 0.10000000000000001), written as jansson writes a real:
 * ".0" added when it would read as an integer, no '+' or leading zeros in the exponent. */
static int append_real(struct osb_buf *b, double d)
{
        char s[40];
        for (int prec = 1; prec <= 17; prec++) {
                (void) snprintf(s, sizeof(s), "%.*g", prec, d);
                if (strtod(s, NULL) == d)
                        break;
        }
        const char *e = strchr(s, 'e');
        size_t mant = e ? (size_t) (e - s) : strlen(s);
        int r = osb_buf_append(b, s, mant);
        if (r >= 0 && !e && !memchr(s, '.', mant))
                r = osb_buf_append(b, ".0", 2);
        if (r >= 0 && e) {
                const char *x = e + 1;
                bool neg = *x == '-';
                if (*x == '+' || *x == '-')
                        x++;
                while (*x == '0' && x[1])
                        x++;
                r = osb_buf_appendf(b, "e%s%s", neg ? "-" : "", x);
        }
        return r < 0 ? -ENOMEM : 0;
}

/* Appends @v as compact JSON; -EILSEQ for a string that is not UTF-8, -ENOMEM. */
static int append_json(struct osb_buf *b, const json_t *v)
{
        const char *k;
        size_t kl, i;
        json_t *m;
        int r = 0;
        if (json_is_real(v))
                return append_real(b, json_real_value(v));
        if (json_is_object(v)) {
                r = osb_buf_append(b, "{", 1);
                bool first = true;
                json_object_keylen_foreach((json_t *) v, k, kl, m) {
                        if (r < 0)
                                break;
                        json_t *key = json_stringn_nocheck(k, kl);
                        if (!key)
                                return -ENOMEM;
                        r = first ? 0 : osb_buf_append(b, ",", 1);
                        first = false;
                        if (r >= 0)
                                r = append_json(b, key);
                        json_decref(key);
                        if (r >= 0)
                                r = osb_buf_append(b, ":", 1);
                        if (r >= 0)
                                r = append_json(b, m);
                }
                return r < 0 ? (r == -EILSEQ ? r : -ENOMEM) : osb_buf_append(b, "}", 1) < 0 ? -ENOMEM : 0;
        }
        if (json_is_array(v)) {
                r = osb_buf_append(b, "[", 1);
                json_array_foreach(v, i, m) {
                        if (r >= 0 && i > 0)
                                r = osb_buf_append(b, ",", 1);
                        if (r >= 0)
                                r = append_json(b, m);
                }
                return r < 0 ? (r == -EILSEQ ? r : -ENOMEM) : osb_buf_append(b, "]", 1) < 0 ? -ENOMEM : 0;
        }
        size_t failures = osb_mem_failures(), n;
        osb_autofree char *dump = osb_json_dump_flags(v, CREDENTIALS_DUMP_FLAGS, &n);
        if (!dump)
                return osb_mem_failures() != failures ? -ENOMEM : -EILSEQ;
        return osb_buf_append(b, dump, n) < 0 ? -ENOMEM : 0;
}

/* The compact JSON text of @v (new, NUL-terminated, *ret_len bytes), as osb_json_dump_flags()
 * with CREDENTIALS_DUMP_FLAGS writes it but with every real in its shortest round-trip form;
 * NULL when out of memory (osb_mem_failures() moved) or when a string is not UTF-8. */
static char *dump_json(const json_t *v, size_t *ret_len)
{
        if (!has_real(v))
                return osb_json_dump_flags(v, CREDENTIALS_DUMP_FLAGS, ret_len);
        osb_auto(buf_releasep) struct osb_buf b;
        osb_buf_init(&b, SIZE_MAX / 2);
        if (append_json(&b, v) < 0)
                return NULL;
        return osb_buf_detach(&b, ret_len);
}

/* ---- JSONPath ---- */

/* The values a path has selected so far (borrowed from the document). */
struct nodes {
        const json_t **v;
        size_t n, cap;
};

static void nodes_release(struct nodes *s)
{
        osb_free(s->v);
        *s = (struct nodes){0};
}

static int nodes_add(struct nodes *s, const json_t *j)
{
        if (s->n == s->cap) {
                if (s->cap >= JSONPATH_MAX_NODES)
                        return -E2BIG;
                size_t cap = s->cap ? s->cap * 2 : 8;
                const json_t **v = osb_realloc(s->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        s->v[s->n++] = j;
        return 0;
}

enum step {
        STEP_FIELD,  /* .name, ['name'] */
        STEP_INDEX,  /* [n], [-n] */
        STEP_ALL,    /* .*, [*] */
};

/* Replaces @cur by what @step selects from each of its values; a step that does not apply
 * to a value (a field of an array, an index past the end) selects nothing from it. */
static int step_apply(struct nodes *cur, enum step step, const char *name, size_t name_len, long long index)
{
        struct nodes next = {0};
        int r = 0;
        for (size_t i = 0; i < cur->n && r == 0; i++) {
                json_t *j = (json_t *) cur->v[i];
                const char *key;
                json_t *v;
                size_t k, n;
                switch (step) {
                case STEP_FIELD:
                        v = json_is_object(j) ? json_object_getn(j, name, name_len) : NULL;
                        if (v)
                                r = nodes_add(&next, v);
                        break;
                case STEP_INDEX:
                        if (!json_is_array(j))
                                break;
                        n = json_array_size(j);
                        if (index < 0 ? (unsigned long long) -index > n : (unsigned long long) index >= n)
                                break;
                        k = index < 0 ? n - (size_t) -index : (size_t) index;
                        r = nodes_add(&next, json_array_get(j, k));
                        break;
                case STEP_ALL:
                        if (json_is_object(j)) {
                                json_object_foreach (j, key, v) {
                                        r = nodes_add(&next, v);
                                        if (r < 0)
                                                break;
                                }
                        } else if (json_is_array(j)) {
                                json_array_foreach (j, k, v) {
                                        r = nodes_add(&next, v);
                                        if (r < 0)
                                                break;
                                }
                        }
                        break;
                }
        }
        if (r < 0) {
                nodes_release(&next);
                return r;
        }
        nodes_release(cur);
        *cur = next;
        return 0;
}

struct jp {
        const char *expr;
        size_t len, pos;
        const json_t *root;     /* NULL: every path matches nothing */
        struct osb_buf *out;
        struct osb_error *err;
        /* The first part that matched nothing. Reported only once the whole template has
         * parsed, so a syntax error is never hidden behind a missing key. */
        bool missing;
        size_t missing_start, missing_end;
};

static int syntax(struct jp *p, size_t at, const char *what)
{
        return osb_error_set(p->err, -EINVAL, "invalid JSONPath '%s': %s at offset %zu", p->expr, what, at);
}

static int oom(struct osb_error *err)
{
        return osb_error_set(err, -ENOMEM, "out of memory");
}

static char peek(const struct jp *p)
{
        return p->pos < p->len ? p->expr[p->pos] : '\0';
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct jp *p)
{
        while (p->pos < p->len && is_space(p->expr[p->pos]))
                p->pos++;
}

/* Kubernetes JSONPath ends a field name at these (its isTerminator). */
static bool ends_name(char c)
{
        return is_space(c) || strchr(".[]{},$@()", c) != NULL;
}

static int append(struct jp *p, const char *s, size_t n)
{
        int r = osb_buf_append(p->out, s, n);
        if (r == -E2BIG)
                return osb_error_set(p->err, -E2BIG, "'%s' gives more than %u bytes", p->expr, CREDENTIALS_MAX_BYTES);
        return r < 0 ? oom(p->err) : 0;
}

/* Reads the '...' or "..." string at p->pos into @s. A backslash takes the next character
 * literally, except that \n, \t and \r mean what they do in Go strings. */
static int parse_quoted(struct jp *p, struct osb_buf *s)
{
        size_t start = p->pos;
        char quote = p->expr[p->pos++];
        while (p->pos < p->len) {
                char c = p->expr[p->pos++];
                if (c == quote)
                        return 0;
                if (c == '\\') {
                        if (p->pos == p->len)
                                break;
                        c = p->expr[p->pos++];
                        c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
                }
                if (osb_buf_append(s, &c, 1) < 0)
                        return oom(p->err);
        }
        return syntax(p, start, "unterminated string");
}

/* Reads a field name after '.' into @s; a backslash escapes the next character ("a\.b"). */
static int parse_name(struct jp *p, struct osb_buf *s)
{
        while (p->pos < p->len && !ends_name(p->expr[p->pos])) {
                char c = p->expr[p->pos++];
                if (c == '\\' && p->pos < p->len)
                        c = p->expr[p->pos++];
                if (osb_buf_append(s, &c, 1) < 0)
                        return oom(p->err);
        }
        return 0;
}

static int parse_index(struct jp *p, long long *ret)
{
        size_t start = p->pos;
        bool neg = peek(p) == '-';
        if (neg)
                p->pos++;
        if (!isdigit((unsigned char) peek(p)))
                return syntax(p, p->pos, "expected a digit");
        long long v = 0;
        while (isdigit((unsigned char) peek(p))) {
                if (v > (LLONG_MAX - 9) / 10)
                        return syntax(p, start, "index out of range");
                v = v * 10 + (p->expr[p->pos++] - '0');
        }
        *ret = neg ? -v : v;
        return 0;
}

static int unexpected(struct jp *p)
{
        char what[32];
        unsigned char c = (unsigned char) p->expr[p->pos];
        if (c > ' ' && c < 0x7f)
                (void) snprintf(what, sizeof(what), "unexpected '%c'", c);
        else
                (void) snprintf(what, sizeof(what), "unexpected byte 0x%02x", c);
        return syntax(p, p->pos, what);
}

static int step_failed(struct jp *p, int r)
{
        if (r == -E2BIG)
                return osb_error_set(p->err, -E2BIG, "'%s' selects more than %u values", p->expr, JSONPATH_MAX_NODES);
        return oom(p->err);
}

/* Parses and evaluates the PATH at p->pos into *ret (new). In braces it stops before white
 * space, '}' or the end (the caller checks which); unbraced it runs to the end. */
static int parse_path(struct jp *p, bool braced, struct nodes *ret)
{
        osb_auto(nodes_release) struct nodes cur = {0};
        osb_auto(buf_releasep) struct osb_buf name;
        osb_buf_init(&name, SIZE_MAX / 2);
        if (p->root && nodes_add(&cur, p->root) < 0)
                return oom(p->err);
        char c = peek(p);
        if (c == '$')
                p->pos++;
        else if (c != '.' && c != '[')
                return p->pos < p->len ? syntax(p, p->pos, "expected '.', '[' or '$'")
                                       : syntax(p, p->pos, "expected a path");
        while (p->pos < p->len) {
                c = peek(p);
                if (braced && (c == '}' || is_space(c)))
                        break;
                enum step step;
                long long index = 0;
                int r;
                osb_buf_release(&name);
                if (c == '.') {
                        p->pos++;
                        if (peek(p) == '.')
                                return syntax(p, p->pos - 1, "recursive descent '..' is not supported");
                        if (peek(p) == '*') {
                                p->pos++;
                                step = STEP_ALL;
                        } else {
                                r = parse_name(p, &name);
                                if (r < 0)
                                        return r;
                                /* "{.}" is the root, as in Kubernetes. */
                                if (name.len == 0)
                                        continue;
                                step = STEP_FIELD;
                        }
                } else if (c == '[') {
                        p->pos++;
                        skip_space(p);
                        c = peek(p);
                        if (c == '*') {
                                p->pos++;
                                step = STEP_ALL;
                        } else if (c == '\'' || c == '"') {
                                r = parse_quoted(p, &name);
                                if (r < 0)
                                        return r;
                                step = STEP_FIELD;
                        } else if (c == '-' || isdigit((unsigned char) c)) {
                                r = parse_index(p, &index);
                                if (r < 0)
                                        return r;
                                step = STEP_INDEX;
                        } else if (c == '?') {
                                return syntax(p, p->pos, "filters are not supported");
                        } else if (c == ':') {
                                return syntax(p, p->pos, "slices are not supported");
                        } else {
                                return syntax(p, p->pos, "expected an index, '*' or a quoted name");
                        }
                        skip_space(p);
                        c = peek(p);
                        if (c == ':')
                                return syntax(p, p->pos, "slices are not supported");
                        if (c == ',')
                                return syntax(p, p->pos, "unions are not supported");
                        if (c != ']')
                                return syntax(p, p->pos, "expected ']'");
                        p->pos++;
                } else {
                        return unexpected(p);
                }
                r = step_apply(&cur, step, name.data ? name.data : "", name.len, index);
                if (r < 0)
                        return step_failed(p, r);
        }
        *ret = cur;
        cur = (struct nodes){0};
        return 0;
}

/* Writes what one part selected: matches space-separated, as kubectl prints them. */
static int emit(struct jp *p, const struct nodes *got)
{
        for (size_t i = 0; i < got->n; i++) {
                const json_t *v = got->v[i];
                int r = i > 0 ? append(p, " ", 1) : 0;
                if (r < 0)
                        return r;
                if (json_is_string(v)) {
                        r = append(p, json_string_value(v), json_string_length(v));
                        if (r < 0)
                                return r;
                        continue;
                }
                size_t failures = osb_mem_failures(), n;
                osb_autofree char *dump = dump_json(v, &n);
                if (!dump && osb_mem_failures() != failures)
                        return oom(p->err);
                /* Otherwise the dump met a string that is not UTF-8: bytes from addKey.value or
                 * addKeysFrom, which JSON cannot hold. */
                if (!dump)
                        return osb_error_set(p->err, OSB_E_BAD_REQUEST,
                                             "'%s' selects bytes that are not UTF-8, which cannot be written as JSON",
                                             p->expr);
                r = append(p, dump, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int part_done(struct jp *p, size_t start, size_t end, const struct nodes *got)
{
        if (got->n == 0 && !p->missing) {
                p->missing = true;
                p->missing_start = start;
                p->missing_end = end;
        }
        /* Once a part is missing the text is thrown away; parsing goes on for syntax errors. */
        return p->missing ? 0 : emit(p, got);
}

/* The {...} at p->pos: a quoted literal or a PATH. */
static int parse_braces(struct jp *p)
{
        size_t start = p->pos++;
        skip_space(p);
        char c = peek(p);
        if (c == '\'' || c == '"') {
                osb_auto(buf_releasep) struct osb_buf lit;
                osb_buf_init(&lit, SIZE_MAX / 2);
                int r = parse_quoted(p, &lit);
                if (r < 0)
                        return r;
                skip_space(p);
                if (p->pos == p->len)
                        return syntax(p, start, "unclosed '{'");
                if (peek(p) != '}')
                        return syntax(p, p->pos, "expected '}'");
                p->pos++;
                return p->missing ? 0 : append(p, lit.data ? lit.data : "", lit.len);
        }
        if (c == '}')
                return syntax(p, start, "empty '{}'");
        if (p->pos == p->len)
                return syntax(p, start, "unclosed '{'");
        osb_auto(nodes_release) struct nodes got = {0};
        int r = parse_path(p, true, &got);
        if (r < 0)
                return r;
        skip_space(p);
        if (p->pos == p->len)
                return syntax(p, start, "unclosed '{'");
        if (peek(p) != '}')
                return syntax(p, p->pos, "expected '}'");
        p->pos++;
        return part_done(p, start, p->pos, &got);
}

/* Evaluates @expr over @root, appending the text to @out (whose max bounds it). */
static int jsonpath_eval(const json_t *root, const char *expr, struct osb_buf *out, struct osb_error *err)
{
        struct jp p = {.expr = expr, .len = strlen(expr), .root = root, .out = out, .err = err};
        int r = 0;
        /* kubectl's relaxed form: ".a.b" means "{.a.b}". */
        if (p.len && (expr[0] == '.' || expr[0] == '$') && !memchr(expr, '{', p.len)) {
                osb_auto(nodes_release) struct nodes got = {0};
                r = parse_path(&p, false, &got);
                if (r == 0)
                        r = part_done(&p, 0, p.len, &got);
        } else {
                while (r == 0 && p.pos < p.len) {
                        const char *brace = memchr(expr + p.pos, '{', p.len - p.pos);
                        size_t lit_end = brace ? (size_t) (brace - expr) : p.len;
                        if (lit_end > p.pos && !p.missing)
                                r = append(&p, expr + p.pos, lit_end - p.pos);
                        p.pos = lit_end;
                        if (r == 0 && brace)
                                r = parse_braces(&p);
                }
        }
        if (r < 0)
                return r;
        if (p.missing)
                return osb_error_set(err, OSB_E_NOT_FOUND, "'%.*s' matches nothing",
                                     (int) (p.missing_end - p.missing_start), expr + p.missing_start);
        return 0;
}

int credentials_jsonpath(const json_t *root, const char *expr, char **ret, struct osb_error *err)
{
        osb_auto(buf_releasep) struct osb_buf out;
        osb_buf_init(&out, CREDENTIALS_MAX_BYTES);
        int r = jsonpath_eval(root, expr, &out, err);
        if (r < 0)
                return r;
        /* osb_buf_detach() of a buffer never appended to returns memory without a NUL. */
        if (!out.data && osb_buf_append(&out, "", 0) < 0)
                return oom(err);
        char *s = osb_buf_detach(&out, NULL);
        if (!s)
                return oom(err);
        *ret = s;
        return 0;
}

/* ---- Transforms ---- */

struct ctx {
        json_t *work;  /* the credentials so far; bytes are strings made with _nocheck */
        const char *default_ns;
        credentials_secret_fn get_secret;
        void *userdata;
        struct osb_error *err;
};

/* Kubernetes' IsConfigMapKey, which Secret keys follow. */
static bool secret_key_valid(const char *k, size_t len)
{
        if (len == 0 || len > CREDENTIALS_MAX_KEY_LEN)
                return false;
        if (k[0] == '.' && (len == 1 || k[1] == '.'))
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = k[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_'))
                        return false;
        }
        return true;
}

/* A required string field naming a key; *ret borrowed, *ret_len counts NUL bytes in it. */
static int get_key(const json_t *obj, const char *path, const char *field, const char **ret, size_t *ret_len,
                   struct osb_error *err)
{
        const char *s = NULL;
        int r = osb_json_get_string(obj, path, field, true, &s, err);
        if (r < 0)
                return r;
        *ret = s;
        *ret_len = json_string_length(json_object_get(obj, field));
        return 0;
}

static int rename_key(struct ctx *c, const char *path, const json_t *body)
{
        const char *from, *to;
        size_t from_len, to_len;
        int r = get_key(body, path, "from", &from, &from_len, c->err);
        if (r == 0)
                r = get_key(body, path, "to", &to, &to_len, c->err);
        if (r < 0)
                return r;
        /* Only the new name is checked: renaming a key Kubernetes refuses is what this is for. */
        if (!secret_key_valid(to, to_len))
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s.to: '%s' is not a valid Secret key", path, to);
        json_t *v = json_object_getn(c->work, from, from_len);
        if (!v || (from_len == to_len && memcmp(from, to, to_len) == 0))
                return 0;
        json_incref(v);
        (void) json_object_deln(c->work, from, from_len);
        if (json_object_setn_new(c->work, to, to_len, v) < 0)
                return oom(c->err);
        return 0;
}

/* The value of addKey.jsonPathExpression, as a new string of the bytes it gives. */
static int add_key_jsonpath(struct ctx *c, const char *path, const char *expr, json_t **ret)
{
        osb_auto(buf_releasep) struct osb_buf out;
        osb_buf_init(&out, CREDENTIALS_MAX_BYTES);
        struct osb_error sub = OSB_ERROR_INIT;
        int r = jsonpath_eval(c->work, expr, &out, &sub);
        if (r == -ENOMEM)
                return oom(c->err);
        if (r < 0)
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s.jsonPathExpression: %s%s", path, sub.text,
                                     r == OSB_E_NOT_FOUND ? " in the credentials" : "");
        json_t *v = json_stringn_nocheck(out.data ? out.data : "", out.len);
        if (!v)
                return oom(c->err);
        *ret = v;
        return 0;
}

static int add_key(struct ctx *c, const char *path, const json_t *body)
{
        const char *key, *expr = NULL, *sval = NULL, *b64 = NULL;
        size_t key_len;
        int r = get_key(body, path, "key", &key, &key_len, c->err);
        if (r < 0)
                return r;
        if (!secret_key_valid(key, key_len))
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s.key: '%s' is not a valid Secret key", path, key);
        /* All three are type-checked, though only the first present is used: a wrong type
         * is a mistake in the binding either way. */
        r = osb_json_get_string(body, path, "jsonPathExpression", false, &expr, c->err);
        if (r == 0)
                r = osb_json_get_string(body, path, "stringValue", false, &sval, c->err);
        if (r == 0)
                r = osb_json_get_string(body, path, "value", false, &b64, c->err);
        if (r < 0)
                return r;

        json_t *v = NULL;
        if (expr) {
                r = add_key_jsonpath(c, path, expr, &v);
                if (r < 0)
                        return r;
        } else if (sval) {
                v = json_stringn_nocheck(sval, json_string_length(json_object_get(body, "stringValue")));
        } else if (b64) {
                osb_autofree char *bytes = NULL;
                size_t n, bad;
                /* Go's []byte in JSON: standard padded base64, line breaks ignored. */
                r = osb_base64_decode(b64, json_string_length(json_object_get(body, "value")),
                                      OSB_BASE64_STRICT | OSB_BASE64_SKIP_NEWLINES, &bytes, &n, &bad);
                if (r == -EINVAL)
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s.value: not valid base64 at offset %zu",
                                             path, bad);
                if (r < 0)
                        return oom(c->err);
                v = json_stringn_nocheck(bytes, n);
        } else {
                return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                     "%s: one of jsonPathExpression, stringValue or value is required", path);
        }
        if (!v || json_object_setn_new(c->work, key, key_len, v) < 0)
                return oom(c->err);
        return 0;
}

static int add_keys_from(struct ctx *c, const char *path, const json_t *body)
{
        char ref_path[128];
        json_t *ref = NULL;
        const char *ns = NULL, *name = NULL;
        (void) snprintf(ref_path, sizeof(ref_path), "%s.secretRef", path);
        int r = osb_json_get_object(body, path, "secretRef", true, &ref, c->err);
        if (r == 0)
                r = osb_json_get_string(ref, ref_path, "name", true, &name, c->err);
        if (r == 0)
                r = osb_json_get_string(ref, ref_path, "namespace", false, &ns, c->err);
        if (r < 0)
                return r;
        if (!*name)
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s.name must not be empty", ref_path);
        if (!ns || !*ns)
                ns = c->default_ns;
        if (!c->get_secret)
                return osb_error_set(c->err, -EINVAL, "%s: reading other Secrets is not available", path);

        struct osb_error sub = OSB_ERROR_INIT;
        json_t *got = NULL;
        r = c->get_secret(c->userdata, ns, name, &got, &sub);
        if (r < 0) {
                if (!sub.text[0])
                        (void) snprintf(sub.text, sizeof(sub.text), "cannot read Secret %s/%s (%s)", ns, name,
                                        osb_error_name(r));
                return osb_error_set(c->err, r, "%s: %s", path, sub.text);
        }
        osb_autojson json_t *data = got;
        if (!data)
                return 0;
        if (!json_is_object(data))
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s: Secret %s/%s: data must be an object, not %s",
                                     path, ns, name, osb_json_type_name(data));
        const char *key;
        size_t key_len;
        json_t *v;
        json_object_keylen_foreach (data, key, key_len, v) {
                if (!json_is_string(v))
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                             "%s: Secret %s/%s key '%s' must be a base64 string, not %s", path, ns,
                                             name, key, osb_json_type_name(v));
                if (!secret_key_valid(key, key_len))
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                             "%s: Secret %s/%s key '%s' is not a valid Secret key", path, ns, name,
                                             key);
                osb_autofree char *bytes = NULL;
                size_t n, bad;
                r = osb_base64_decode(json_string_value(v), json_string_length(v),
                                      OSB_BASE64_STRICT | OSB_BASE64_SKIP_NEWLINES, &bytes, &n, &bad);
                if (r == -EINVAL)
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                             "%s: Secret %s/%s key '%s': not valid base64 at offset %zu", path, ns,
                                             name, key, bad);
                if (r < 0)
                        return oom(c->err);
                json_t *s = json_stringn_nocheck(bytes, n);
                if (!s || json_object_setn_new(c->work, key, key_len, s) < 0)
                        return oom(c->err);
        }
        return 0;
}

static int remove_key(struct ctx *c, const char *path, const json_t *body)
{
        const char *key;
        size_t key_len;
        int r = get_key(body, path, "key", &key, &key_len, c->err);
        if (r < 0)
                return r;
        (void) json_object_deln(c->work, key, key_len);
        return 0;
}

static const struct {
        const char *name;
        int (*apply)(struct ctx *c, const char *path, const json_t *body);
} transforms_table[] = {
        {"renameKey", rename_key},
        {"addKey", add_key},
        {"addKeysFrom", add_keys_from},
        {"removeKey", remove_key},
};

static int transform_apply(struct ctx *c, size_t i, const json_t *t)
{
        char path[64], sub[96];
        (void) snprintf(path, sizeof(path), "spec.secretTransforms[%zu]", i);
        if (!json_is_object(t))
                return osb_error_set(c->err, OSB_E_BAD_REQUEST, "%s must be an object, not %s", path,
                                     osb_json_type_name(t));
        /* Exactly one transform per entry, as service-catalog's one-of: an unknown or second key
         * is a mistake that would otherwise be silently skipped. */
        size_t which = OSB_ELEMENTSOF(transforms_table);
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *) t, key, v) {
                size_t k = 0;
                while (k < OSB_ELEMENTSOF(transforms_table) && strcmp(key, transforms_table[k].name) != 0)
                        k++;
                if (k == OSB_ELEMENTSOF(transforms_table))
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                             "%s: unknown transform '%s' (expected renameKey, addKey, addKeysFrom "
                                             "or removeKey)",
                                             path, key);
                if (which != OSB_ELEMENTSOF(transforms_table))
                        return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                             "%s: has both %s and %s; each entry holds one transform", path,
                                             transforms_table[which].name, key);
                which = k;
        }
        if (which == OSB_ELEMENTSOF(transforms_table))
                return osb_error_set(c->err, OSB_E_BAD_REQUEST,
                                     "%s: empty; expected one of renameKey, addKey, addKeysFrom or removeKey", path);
        json_t *body = NULL;
        int r = osb_json_get_object(t, path, transforms_table[which].name, true, &body, c->err);
        if (r < 0)
                return r;
        (void) snprintf(sub, sizeof(sub), "%s.%s", path, transforms_table[which].name);
        return transforms_table[which].apply(c, sub, body);
}

/* The bytes a value becomes in the Secret: a string's own bytes, anything else its JSON.
 * *owned (new) holds the JSON when one was made. */
static int value_bytes(const json_t *v, const char *key, const char **ret, size_t *ret_len, char **owned,
                       struct osb_error *err)
{
        if (json_is_string(v)) {
                *ret = json_string_value(v);
                *ret_len = json_string_length(v);
                return 0;
        }
        size_t failures = osb_mem_failures();
        char *dump = dump_json(v, ret_len);
        if (!dump && osb_mem_failures() != failures)
                return oom(err);
        if (!dump)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "credentials key '%s' holds a string that is not UTF-8 inside a JSON value", key);
        *ret = *owned = dump;
        return 0;
}

/* The top level of @creds in a new object that transforms may change. The values are shared,
 * not copied: transforms never change them. json_deep_copy() would also cut keys at a NUL
 * byte, and a key like that must be refused, not renamed. */
static int credentials_copy(const json_t *creds, json_t **ret)
{
        json_t *work = json_object();
        if (!work)
                return -ENOMEM;
        const char *key;
        size_t key_len;
        json_t *v;
        json_object_keylen_foreach ((json_t *) creds, key, key_len, v) {
                if (json_object_setn_nocheck(work, key, key_len, v) < 0) {
                        json_decref(work);
                        return -ENOMEM;
                }
        }
        *ret = work;
        return 0;
}

/* Step 1: @creds with @transforms applied, in *ret (new; values shared with @creds). */
static int transform_all(const json_t *creds, const json_t *transforms, const char *default_ns,
                         credentials_secret_fn get_secret, void *userdata, json_t **ret, struct osb_error *err)
{
        if (creds && !json_is_object(creds))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "credentials must be a JSON object, not %s",
                                     osb_json_type_name(creds));
        /* "secretTransforms: null" decodes to none in service-catalog's Go. */
        if (json_is_null(transforms))
                transforms = NULL;
        if (transforms && !json_is_array(transforms))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTransforms must be an array, not %s",
                                     osb_json_type_name(transforms));
        osb_autojson json_t *work = NULL;
        if (credentials_copy(creds, &work) < 0)
                return oom(err);
        struct ctx c = {
                .work = work, .default_ns = default_ns, .get_secret = get_secret, .userdata = userdata, .err = err,
        };
        size_t i;
        json_t *t;
        json_array_foreach (transforms, i, t) {
                int r = transform_apply(&c, i, t);
                if (r < 0)
                        return r;
        }
        *ret = OSB_TAKE_PTR(work);
        return 0;
}

/* The last step: every value of @work to base64 in *data (new), keys and size checked. */
static int serialise(const json_t *work, json_t **data, struct osb_error *err)
{
        osb_autojson json_t *out = json_object();
        if (!out)
                return oom(err);
        /* Kubernetes counts the values' bytes against MaxSecretSize, not the keys'. */
        size_t total = 0;
        const char *key;
        size_t key_len;
        json_t *v;
        size_t nth = 0;
        json_object_keylen_foreach ((json_t *) work, key, key_len, v) {
                nth++;
                /* the key is the broker's bytes (it may hold a credential): described, never quoted */
                if (!secret_key_valid(key, key_len))
                        return osb_error_set(err, OSB_E_BAD_REQUEST, "credentials key %zu of %zu (%zu bytes) is not a "
                                             "valid Secret key (1 to %u of [-._a-zA-Z0-9], not '.' or '..')", nth,
                                             json_object_size(work), key_len, (unsigned) CREDENTIALS_MAX_KEY_LEN);
                osb_autofree char *owned = NULL;
                const char *bytes = NULL;
                size_t n = 0;
                int r = value_bytes(v, key, &bytes, &n, &owned, err);
                if (r < 0)
                        return r;
                total = n > SIZE_MAX - total ? SIZE_MAX : total + n;
                /* Past the limit only the total is still wanted, for the message. */
                if (total > CREDENTIALS_MAX_BYTES)
                        continue;
                osb_autofree char *b64 = osb_base64_encode(bytes, n);
                json_t *s = b64 ? json_stringn_nocheck(b64, strlen(b64)) : NULL;
                if (!s || json_object_setn_new_nocheck(out, key, key_len, s) < 0)
                        return oom(err);
        }
        if (total > CREDENTIALS_MAX_BYTES)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "the credentials come to %zu bytes, more than a Secret can hold (%u)", total,
                                     CREDENTIALS_MAX_BYTES);
        *data = OSB_TAKE_PTR(out);
        return 0;
}

int credentials_to_secret_data(const json_t *creds, const json_t *transforms, const char *default_ns,
                               credentials_secret_fn get_secret, void *userdata, json_t **data,
                               struct osb_error *err)
{
        /* jansson does not report every allocation failure it meets (common/osb_mem.h), so the
         * allocator's failure count has the last word. */
        size_t failures = osb_mem_failures();
        osb_autojson json_t *work = NULL;
        json_t *out = NULL;
        int r = transform_all(creds, transforms, default_ns, get_secret, userdata, &work, err);
        if (r == 0)
                r = serialise(work, &out, err);
        if (r < 0)
                return r;
        if (osb_mem_failures() != failures) {
                json_decref(out);
                return oom(err);
        }
        *data = out;
        return 0;
}

/* ---- the layout (credentials_secret_build) ---- */

void credentials_secret_release(struct credentials_secret *s)
{
        json_decref(s->data);
        osb_free(s->type);
        json_decref(s->labels);
        json_decref(s->annotations);
        *s = (struct credentials_secret){0};
}

static int opt_string(const json_t *spec, const char *path, const char *field, const char **ret, struct osb_error *err)
{
        const json_t *v = json_object_get(spec, field);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "%s.%s must be a string, not %s", path, field,
                                     osb_json_type_name(v));
        *ret = json_string_length(v) ? json_string_value(v) : NULL;
        return 0;
}

int credentials_shape_from_spec(const json_t *spec, const json_t *instance, const char *sb_type,
                                const char *sb_provider, struct credentials_shape *ret, struct osb_error *err)
{
        struct credentials_shape sh = {.transforms = json_object_get(spec, "secretTransforms"), .instance = instance};
        int r = opt_string(spec, "spec", "secretKey", &sh.secret_key, err);
        if (r == 0)
                r = opt_string(spec, "spec", "secretRootKey", &sh.root_key, err);
        if (r == 0)
                r = opt_string(spec, "spec", "secretTemplate", &sh.template_text, err);
        if (r < 0)
                return r;
        const json_t *im = json_object_get(spec, "secretInstanceMetadata");
        if (im && !json_is_boolean(im) && !json_is_null(im))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretInstanceMetadata must be a boolean, not %s",
                                     osb_json_type_name(im));
        sh.instance_keys = json_is_true(im);
        const json_t *sb = json_object_get(spec, "serviceBindingIO");
        if (sb && !json_is_null(sb)) {
                if (!json_is_object(sb))
                        return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.serviceBindingIO must be an object, not %s",
                                             osb_json_type_name(sb));
                const char *t = NULL, *p = NULL;
                r = opt_string(sb, "spec.serviceBindingIO", "type", &t, err);
                if (r == 0)
                        r = opt_string(sb, "spec.serviceBindingIO", "provider", &p, err);
                if (r < 0)
                        return r;
                const json_t *st = json_object_get(sb, "secretType");
                if (st && !json_is_boolean(st))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.serviceBindingIO.secretType must be a boolean, not %s",
                                             osb_json_type_name(st));
                sh.sb_type = t ? t : sb_type;
                sh.sb_provider = p ? p : sb_provider;
                if (!sh.sb_type)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.serviceBindingIO.type is needed: the class has no tags to take it from");
                sh.sb_secret_type = json_is_true(st);
        }
        *ret = sh;
        return 0;
}

/* The compact JSON of @v, as a new JSON string; @field names the spec field for the error. */
static int json_text(const json_t *v, const char *field, json_t **ret, struct osb_error *err)
{
        size_t failures = osb_mem_failures(), n;
        osb_autofree char *d = dump_json(v, &n);
        if (!d && osb_mem_failures() != failures)
                return oom(err);
        if (!d)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "%s: the credentials hold bytes that are not UTF-8, which JSON cannot carry", field);
        *ret = json_stringn_nocheck(d, n);
        return *ret ? 0 : oom(err);
}

static int merge(json_t *into, const json_t *from, struct osb_error *err)
{
        const char *k;
        size_t kl;
        json_t *v;
        json_object_keylen_foreach ((json_t *) from, k, kl, v)
                if (json_object_setn_nocheck(into, k, kl, v) < 0)
                        return oom(err);
        return 0;
}

/* Step 2: *ret (new) the keys of the Secret before the template. */
static int layout(json_t *work, const struct credentials_shape *sh, json_t **ret, struct osb_error *err)
{
        const json_t *instance = json_is_object(sh->instance) ? sh->instance : NULL;
        osb_autojson json_t *out = json_object();
        json_t *text = NULL;
        if (!out)
                return oom(err);
        int r = 0;
        if (sh->root_key) {
                osb_autojson json_t *root = json_object();
                if (!root)
                        return oom(err);
                if (sh->secret_key)
                        r = json_object_set(root, sh->secret_key, work) < 0 ? oom(err) : 0;
                else
                        r = merge(root, work, err);
                if (r == 0 && instance)
                        r = merge(root, instance, err);
                if (r == 0)
                        r = json_text(root, "spec.secretRootKey", &text, err);
                if (r == 0 && json_object_set_new(out, sh->root_key, text) < 0)
                        r = oom(err);
        } else {
                if (sh->secret_key) {
                        r = json_text(work, "spec.secretKey", &text, err);
                        if (r == 0 && json_object_set_new(out, sh->secret_key, text) < 0)
                                r = oom(err);
                } else {
                        r = merge(out, work, err);
                }
                if (r == 0 && sh->instance_keys && instance)
                        r = merge(out, instance, err);
        }
        if (r < 0)
                return r;
        *ret = OSB_TAKE_PTR(out);
        return 0;
}

static const char template_fields[] =
        "apiVersion: v1, kind: Secret, metadata.labels, metadata.annotations, type, stringData, data";

/* Kubernetes' label value (IsValidLabelValue): empty, or up to 63 of [-_.A-Za-z0-9] starting
 * and ending with an alphanumeric. A label name is the same, but not empty. */
static bool label_name_ok(const char *s, size_t n, bool empty_ok)
{
        if (n == 0)
                return empty_ok;
        if (n > 63 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("-_.", s[i]))
                        return false;
        return true;
}

/* A label or annotation key (IsQualifiedName): [DNS-subdomain "/"] name. */
static bool qualified_name_ok(const char *k)
{
        const char *slash = strchr(k, '/');
        if (!slash)
                return label_name_ok(k, strlen(k), false);
        size_t pl = (size_t) (slash - k);
        if (pl == 0 || pl > 253 || !isalnum((unsigned char) k[0]) || !isalnum((unsigned char) k[pl - 1]))
                return false;
        for (size_t i = 0; i < pl; i++)
                if (!(islower((unsigned char) k[i]) || isdigit((unsigned char) k[i]) || k[i] == '-' || k[i] == '.'))
                        return false;
        return label_name_ok(slash + 1, strlen(slash + 1), false);
}

/* A map of string values (labels, annotations) from the rendered Secret, or NULL when absent.
 * Checked here as Kubernetes checks them: its refusal would quote the offending text. */
static int string_map(const json_t *m, const char *what, json_t **ret, struct osb_error *err)
{
        *ret = NULL;
        if (!m || json_is_null(m))
                return 0;
        if (!json_is_object(m))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: %s must be a mapping, not %s", what,
                                     osb_json_type_name(m));
        const char *k;
        json_t *v;
        bool labels = strcmp(what, "metadata.labels") == 0;
        json_object_foreach ((json_t *) m, k, v) {
                if (!json_is_string(v))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: every value of %s must be a string, not %s "
                                             "(quote it)", what, osb_json_type_name(v));
                if (!qualified_name_ok(k))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: a key of %s is not a valid Kubernetes name", what);
                if (labels && !label_name_ok(json_string_value(v), json_string_length(v), true))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: a value of metadata.labels is not a valid label "
                                             "value (up to 63 of [-_.A-Za-z0-9], alphanumeric at both ends)");
        }
        *ret = json_incref((json_t *) m);
        return 0;
}

/* Step 3: renders the template and applies the Secret it describes to *data, @ret. */
/* The place in osb_yaml_parse()'s "line N column M: reason" message, never its reason (which may
 * quote the text parsed). */
static bool yaml_error_place(const char *msg, size_t *line, size_t *col)
{
        char word[48];
        int64_t l, c;
        const char *end;
        if (!osb_starts_with(msg, "line ") || osb_parse_int64_word(msg + 5, 1, INT32_MAX, &l, &end) < 0 ||
            !osb_starts_with(end, " column "))
                return false;
        end += strlen(" column ");
        size_t n = strcspn(end, ":");
        if (n == 0 || n >= sizeof(word))
                return false;
        memcpy(word, end, n);
        word[n] = '\0';
        if (osb_parse_int64(word, 1, INT32_MAX, &c) < 0)
                return false;
        *line = (size_t) l;
        *col = (size_t) c;
        return true;
}

static int apply_template(const json_t *work, const struct credentials_shape *sh, json_t **data,
                          struct credentials_secret *ret, struct osb_error *err)
{
        osb_autojson json_t *input = json_pack("{s:O,s:O}", "credentials", work, "instance",
                                               sh->instance ? sh->instance : json_object());
        if (!input)
                return oom(err);
        osb_autofree char *text = NULL;
        size_t len = 0;
        struct osb_error sub = OSB_ERROR_INIT;
        int r = template_render(sh->template_text, strlen(sh->template_text), input, CREDENTIALS_MAX_BYTES, &text, &len,
                                &sub);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: %s", sub.text);
        osb_autojson json_t *doc = NULL;
        sub = (struct osb_error) OSB_ERROR_INIT;
        r = osb_yaml_parse(text, len, &doc, &sub);
        if (r == -ENOMEM)
                return oom(err);
        if (r < 0) {
                /* the YAML parser's reason may quote the rendered text, credentials included:
                 * only its place is kept */
                size_t line = 0, col = 0;
                if (yaml_error_place(sub.text, &line, &col))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: the rendered Secret is not valid YAML at line %zu "
                                             "column %zu of the output (use quote for values)", line, col);
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: the rendered Secret is not valid YAML");
        }
        if (!json_is_object(doc))
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "spec.secretTemplate: the rendered Secret must be a YAML mapping, not %s",
                                     osb_json_type_name(doc));
        /* Field names in the output may come from credentials: they are checked, never quoted. */
        const char *k;
        json_t *v;
        json_object_foreach (doc, k, v) {
                bool known = !strcmp(k, "apiVersion") || !strcmp(k, "kind") || !strcmp(k, "metadata") ||
                             !strcmp(k, "type") || !strcmp(k, "stringData") || !strcmp(k, "data");
                if (!known)
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: the rendered Secret has a field other than %s",
                                             template_fields);
        }
        const json_t *av = json_object_get(doc, "apiVersion"), *kind = json_object_get(doc, "kind");
        if ((av && !osb_streq(json_string_value(av), "v1")) || (kind && !osb_streq(json_string_value(kind), "Secret")))
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "spec.secretTemplate: the rendered object must be a Secret (apiVersion v1, kind Secret)");
        const json_t *md = json_object_get(doc, "metadata");
        if (md && !json_is_null(md)) {
                if (!json_is_object(md))
                        return osb_error_set(err, OSB_E_BAD_REQUEST,
                                             "spec.secretTemplate: metadata must be a mapping, not %s",
                                             osb_json_type_name(md));
                json_object_foreach ((json_t *) md, k, v)
                        if (strcmp(k, "labels") != 0 && strcmp(k, "annotations") != 0)
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "spec.secretTemplate: metadata may have labels and annotations "
                                                     "only (the name is spec.secretName)");
        }
        json_t *labels = NULL, *annotations = NULL;
        r = string_map(json_object_get(md, "labels"), "metadata.labels", &labels, err);
        if (r < 0)
                return r;
        json_auto_t *l = labels;
        r = string_map(json_object_get(md, "annotations"), "metadata.annotations", &annotations, err);
        if (r < 0)
                return r;
        json_auto_t *a = annotations;
        const json_t *type = json_object_get(doc, "type");
        if (type && !json_is_null(type) && (!json_is_string(type) || json_string_length(type) == 0))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: type must be a non-empty string");
        const json_t *sd = json_object_get(doc, "stringData"), *dd = json_object_get(doc, "data");
        if (sd && !json_is_null(sd) && !json_is_object(sd))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: stringData must be a mapping, not %s",
                                     osb_json_type_name(sd));
        if (dd && !json_is_null(dd) && !json_is_object(dd))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretTemplate: data must be a mapping, not %s",
                                     osb_json_type_name(dd));
        osb_autojson json_t *out = NULL;
        if (json_is_object(sd) || json_is_object(dd)) {
                /* as Kubernetes does: data, then stringData over it */
                out = json_object();
                if (!out)
                        return oom(err);
                json_object_foreach ((json_t *) dd, k, v) {
                        osb_autofree char *bytes = NULL;
                        size_t n, bad;
                        if (!json_is_string(v))
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "spec.secretTemplate: every value of data must be a base64 string, "
                                                     "not %s", osb_json_type_name(v));
                        r = osb_base64_decode(json_string_value(v), json_string_length(v),
                                              OSB_BASE64_STRICT | OSB_BASE64_SKIP_NEWLINES, &bytes, &n, &bad);
                        if (r == -EINVAL)
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "spec.secretTemplate: a value of data is not valid base64");
                        if (r < 0)
                                return oom(err);
                        json_t *s = json_stringn_nocheck(bytes, n);
                        if (!s || json_object_set_new_nocheck(out, k, s) < 0)
                                return oom(err);
                }
                json_object_foreach ((json_t *) sd, k, v) {
                        if (json_is_object(v) || json_is_array(v) || json_is_null(v))
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "spec.secretTemplate: every value of stringData must be a "
                                                     "scalar, not %s (use json and quote)", osb_json_type_name(v));
                        if (json_object_set_nocheck(out, k, v) < 0)
                                return oom(err);
                }
                const char *key;
                size_t key_len;
                json_object_keylen_foreach (out, key, key_len, v)
                        if (!secret_key_valid(key, key_len))
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "spec.secretTemplate: a key of stringData or data is not a valid "
                                                     "Secret key (1 to 253 of [-._a-zA-Z0-9])");
                json_decref(*data);
                *data = OSB_TAKE_PTR(out);
        }
        if (json_is_string(type)) {
                char *t = osb_strdup(json_string_value(type));
                if (!t)
                        return oom(err);
                osb_free(ret->type);
                ret->type = t;
        }
        ret->labels = json_incref(l);
        ret->annotations = json_incref(a);
        return 0;
}

int credentials_secret_build(const json_t *creds, const struct credentials_shape *sh, const char *default_ns,
                             credentials_secret_fn get_secret, void *userdata, struct credentials_secret *ret,
                             struct osb_error *err)
{
        static const struct credentials_shape none = {0};
        if (!sh)
                sh = &none;
        if (sh->secret_key && !secret_key_valid(sh->secret_key, strlen(sh->secret_key)))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretKey: '%s' is not a valid Secret key",
                                     sh->secret_key);
        if (sh->root_key && !secret_key_valid(sh->root_key, strlen(sh->root_key)))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "spec.secretRootKey: '%s' is not a valid Secret key",
                                     sh->root_key);
        size_t failures = osb_mem_failures();
        osb_autojson json_t *work = NULL;
        osb_autojson json_t *keys = NULL;
        osb_auto(credentials_secret_release) struct credentials_secret s = {0};
        int r = transform_all(creds, sh->transforms, default_ns, get_secret, userdata, &work, err);
        if (r == 0)
                r = layout(work, sh, &keys, err);
        if (r == 0 && sh->template_text)
                r = apply_template(work, sh, &keys, &s, err);
        if (r < 0)
                return r;
        if ((sh->sb_type && json_object_set_new(keys, "type", json_string(sh->sb_type)) < 0) ||
            (sh->sb_provider && json_object_set_new(keys, "provider", json_string(sh->sb_provider)) < 0))
                return oom(err);
        if (sh->sb_type && sh->sb_secret_type) {
                osb_free(s.type);
                s.type = osb_asprintf("servicebinding.io/%s", sh->sb_type);
        } else if (!s.type) {
                s.type = osb_strdup("Opaque");
        }
        if (!s.type)
                return oom(err);
        r = serialise(keys, &s.data, err);
        if (r < 0)
                return r;
        if (osb_mem_failures() != failures)
                return oom(err);
        *ret = s;
        s = (struct credentials_secret){0};
        return 0;
}
