/* catalog-controller/template.c: spec.secretTemplate's template language (template.h): a
 * one-pass interpreter. The template is parsed and run together; the branch of an if not
 * taken is parsed with evaluation off, so its syntax and function names are still checked. */
#include "common/osb_compat.h"

#include "common/osb_base64.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/template.h"

#define MAX_ARGS 8

struct tpl {
        const char *s;
        size_t len, pos;
        const json_t *input;
        struct osb_buf out;
        struct osb_error *err;
        size_t steps;
        size_t work;            /* bytes the functions have made or compared, against TEMPLATE_WORK() */
        int depth;
};

/* What ends a list of actions. */
enum term { TERM_EOF, TERM_ELSE, TERM_ELSE_IF, TERM_END };

static void buf_releasep(struct osb_buf *b)
{
        osb_buf_release(b);
}

static void tpl_release(struct tpl *t)
{
        osb_buf_release(&t->out);
}

static void decrefp(json_t **j)
{
        json_decref(*j);
        *j = NULL;
}

/* Sets @err to "line L column C: WHAT" for the byte at @at; returns @code. */
static int fail_code(struct tpl *t, int code, size_t at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_code(struct tpl *t, int code, size_t at, const char *fmt, ...)
{
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < t->len; i++) {
                if (t->s[i] == '\n') {
                        line++;
                        col = 1;
                } else {
                        col++;
                }
        }
        char what[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return osb_error_set(t->err, code, "line %zu column %zu: %s", line, col, what);
}

#define fail(t, at, ...) fail_code(t, -EINVAL, at, __VA_ARGS__)

static int oom(struct tpl *t)
{
        return osb_error_set(t->err, -ENOMEM, "out of memory");
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ident(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static char peek(const struct tpl *t)
{
        return t->pos < t->len ? t->s[t->pos] : '\0';
}

static bool at_str(const struct tpl *t, size_t at, const char *lit)
{
        size_t n = strlen(lit);
        return at <= t->len && t->len - at >= n && memcmp(t->s + at, lit, n) == 0;
}

static void skip_space(struct tpl *t)
{
        while (t->pos < t->len && is_space(t->s[t->pos]))
                t->pos++;
}

static int step(struct tpl *t, size_t at)
{
        if (++t->steps > TEMPLATE_MAX_STEPS)
                return fail(t, at, "more than %d steps", TEMPLATE_MAX_STEPS);
        return 0;
}

/* Charges @n bytes of a function's work: with only 10000 steps, a step that copies or compares
 * a large value must still not cost 10000 times its size. */
static int charge(struct tpl *t, size_t at, size_t n)
{
        size_t max = TEMPLATE_WORK(t->out.max);
        t->work = n > max - OSB_MIN(t->work, max) ? max + 1 : t->work + n;
        if (t->work > max)
                return fail_code(t, -E2BIG, at, "the functions' results pass %zu bytes", max);
        return 0;
}

static int emit(struct tpl *t, size_t at, const char *p, size_t n)
{
        int r = osb_buf_append(&t->out, p, n);
        if (r == -E2BIG)
                return fail_code(t, -E2BIG, at, "the output passes %zu bytes", t->out.max);
        return r < 0 ? oom(t) : 0;
}

/* Go's truth: missing, false, null, 0, "", [] and {} are false. */
static bool truthy(const json_t *v)
{
        if (!v || json_is_false(v) || json_is_null(v))
                return false;
        if (json_is_string(v))
                return json_string_length(v) > 0;
        if (json_is_integer(v))
                return json_integer_value(v) != 0;
        if (json_is_real(v))
                return json_real_value(v) != 0.0;
        if (json_is_array(v))
                return json_array_size(v) > 0;
        if (json_is_object(v))
                return json_object_size(v) > 0;
        return true;
}

static const char *type_name(const json_t *v)
{
        return v ? osb_json_type_name(v) : "missing";
}

/* The bytes a value is written as: a string's own, anything else its compact JSON (*owned new). */
static int text_of(struct tpl *t, size_t at, const char *what, const json_t *v, const char **ret, size_t *ret_len,
                   char **owned)
{
        if (!v)
                return fail(t, at, "%s has no value (use default or if)", what);
        if (json_is_string(v)) {
                *ret = json_string_value(v);
                *ret_len = json_string_length(v);
                return 0;
        }
        size_t failures = osb_mem_failures();
        char *d = osb_json_dump_flags(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER, ret_len);
        if (!d)
                return osb_mem_failures() != failures ? oom(t) : fail(t, at, "%s holds a string that is not UTF-8", what);
        *ret = *owned = d;
        return 0;
}

/* ---- functions ---- */

typedef int (*fn_t)(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret);

static int fn_base64(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) n;
        const char *p;
        size_t len;
        osb_autofree char *owned = NULL;
        int r = text_of(t, at, "the argument of base64", args[0], &p, &len, &owned);
        if (r < 0)
                return r;
        osb_autofree char *b = osb_base64_encode(p, len);
        if (!b || !(*ret = json_string(b)))
                return oom(t);
        return 0;
}

static int fn_json(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) n;
        if (!args[0])
                return fail(t, at, "the argument of json has no value (use default or if)");
        size_t failures = osb_mem_failures(), len;
        osb_autofree char *d = osb_json_dump_flags(args[0], JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER, &len);
        if (!d)
                return osb_mem_failures() != failures ? oom(t) : fail(t, at, "json: the value holds a string that is not UTF-8");
        if (!(*ret = json_stringn_nocheck(d, len)))
                return oom(t);
        return 0;
}

static int fn_quote(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) n;
        const char *p;
        size_t len;
        osb_autofree char *owned = NULL;
        int r = text_of(t, at, "the argument of quote", args[0], &p, &len, &owned);
        if (r < 0)
                return r;
        json_auto_t *s = json_stringn_nocheck(p, len);
        if (!s)
                return oom(t);
        size_t failures = osb_mem_failures(), dl;
        osb_autofree char *d = osb_json_dump_flags(s, JSON_ENCODE_ANY, &dl);
        if (!d)
                return osb_mem_failures() != failures ? oom(t) : fail(t, at, "quote: the value is not UTF-8");
        if (!(*ret = json_stringn_nocheck(d, dl)))
                return oom(t);
        return 0;
}

static int fn_default(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) t, (void) at, (void) n;
        json_t *v = truthy(args[1]) ? args[1] : args[0];
        *ret = json_incref(v);
        return 0;
}

static int fn_index(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        json_t *cur = args[0];
        for (size_t i = 1; i < n && cur; i++) {
                json_t *k = args[i];
                if (json_is_string(k) && json_is_object(cur))
                        cur = json_object_getn(cur, json_string_value(k), json_string_length(k));
                else if (json_is_integer(k) && json_is_array(cur))
                        cur = json_integer_value(k) >= 0 ? json_array_get(cur, (size_t) json_integer_value(k)) : NULL;
                else if (json_is_string(k) || json_is_integer(k))
                        cur = NULL;
                else
                        return fail(t, at, "index: argument %zu is %s, not a string or an integer", i + 1, type_name(k));
        }
        *ret = json_incref(cur);
        return 0;
}

static int fn_eq(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) n;
        for (int i = 0; i < 2; i++) {
                if (json_is_object(args[i]) || json_is_array(args[i]))
                        return fail(t, at, "eq and ne compare strings, numbers, booleans and nil, not %s",
                                    type_name(args[i]));
                int r = charge(t, at, json_is_string(args[i]) ? json_string_length(args[i]) : 0);
                if (r < 0)
                        return r;
        }
        bool eq = (!args[0] && !args[1]) || (args[0] && args[1] && json_equal(args[0], args[1]));
        return (*ret = json_boolean(eq)) ? 0 : oom(t);
}

static int fn_ne(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        int r = fn_eq(t, at, args, n, ret);
        if (r == 0) {
                bool eq = json_is_true(*ret);
                json_decref(*ret);
                *ret = json_boolean(!eq);
        }
        return r;
}

static int fn_not(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) at, (void) n;
        return (*ret = json_boolean(!truthy(args[0]))) ? 0 : oom(t);
}

static int fn_and(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) t, (void) at, (void) n;
        *ret = json_incref(truthy(args[0]) ? args[1] : args[0]);
        return 0;
}

static int fn_or(struct tpl *t, size_t at, json_t **args, size_t n, json_t **ret)
{
        (void) t, (void) at, (void) n;
        *ret = json_incref(truthy(args[0]) ? args[0] : args[1]);
        return 0;
}

static const struct {
        const char *name;
        size_t min, max;
        fn_t fn;
} functions[] = {
        {"base64", 1, 1, fn_base64}, {"b64enc", 1, 1, fn_base64}, {"json", 1, 1, fn_json},
        {"toJson", 1, 1, fn_json},   {"quote", 1, 1, fn_quote},   {"default", 2, 2, fn_default},
        {"index", 2, MAX_ARGS, fn_index}, {"eq", 2, 2, fn_eq},    {"ne", 2, 2, fn_ne},
        {"not", 1, 1, fn_not},       {"and", 2, 2, fn_and},       {"or", 2, 2, fn_or},
};

/* ---- expressions ---- */

static int pipeline(struct tpl *t, bool active, json_t **ret);

/* The end of an action at t->pos (after white space): "}}", or "-}}" after white space, which
 * also trims the white space that follows. */
static bool at_action_end(const struct tpl *t)
{
        return at_str(t, t->pos, "}}") ||
               (at_str(t, t->pos, "-}}") && t->pos > 0 && is_space(t->s[t->pos - 1]));
}

static int expect_action_end(struct tpl *t)
{
        skip_space(t);
        if (at_str(t, t->pos, "}}")) {
                t->pos += 2;
                return 0;
        }
        if (at_action_end(t)) {
                t->pos += 3;
                skip_space(t);
                return 0;
        }
        if (t->pos >= t->len)
                return fail(t, t->pos, "unterminated action: expected }}");
        unsigned char c = (unsigned char) t->s[t->pos];
        if (c > ' ' && c < 0x7f)
                return fail(t, t->pos, "unexpected '%c' (expected }})", c);
        return fail(t, t->pos, "unexpected byte 0x%02x (expected }})", c);
}

/* A field path ".a.b" (or "."), looked up in the input when @active. */
static int field(struct tpl *t, bool active, json_t **ret)
{
        const json_t *cur = t->input;
        size_t start = t->pos;
        t->pos++;       /* the first '.' */
        if (!is_ident(peek(t))) {
                *ret = active ? json_incref((json_t *) cur) : NULL;
                return 0;
        }
        for (;;) {
                size_t name = t->pos;
                while (is_ident(peek(t)))
                        t->pos++;
                if (t->pos == name)
                        return fail(t, t->pos, "expected a field name after '.'");
                cur = json_is_object(cur) ? json_object_getn(cur, t->s + name, t->pos - name) : NULL;
                if (peek(t) != '.')
                        break;
                t->pos++;
        }
        (void) start;
        *ret = active ? json_incref((json_t *) cur) : NULL;
        return 0;
}

/* A "..." string with Go's escapes, or a `raw` one. */
static int string_lit(struct tpl *t, json_t **ret)
{
        size_t start = t->pos;
        char q = t->s[t->pos++];
        osb_auto(buf_releasep) struct osb_buf b;
        osb_buf_init(&b, TEMPLATE_MAX_TEXT);
        while (t->pos < t->len && t->s[t->pos] != q) {
                char c = t->s[t->pos++];
                if (q == '"' && c == '\n')
                        break;
                if (q == '"' && c == '\\') {
                        if (t->pos >= t->len)
                                break;
                        size_t esc = t->pos - 1;
                        c = t->s[t->pos++];
                        switch (c) {
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case 'r': c = '\r'; break;
                        case '\\': case '"': break;
                        case 'x': {
                                int v = 0;
                                for (int k = 0; k < 2; k++) {
                                        char h = peek(t);
                                        if (!isxdigit((unsigned char) h))
                                                return fail(t, esc, "\\x needs two hex digits");
                                        v = v * 16 + (isdigit((unsigned char) h) ? h - '0' : (h | 0x20) - 'a' + 10);
                                        t->pos++;
                                }
                                c = (char) v;
                                break;
                        }
                        default:
                                return fail(t, esc, "unknown escape in a string");
                        }
                }
                if (osb_buf_append(&b, &c, 1) < 0)
                        return oom(t);
        }
        if (t->pos >= t->len || t->s[t->pos] != q)
                return fail(t, start, "unterminated string");
        t->pos++;
        *ret = json_stringn_nocheck(b.data ? b.data : "", b.len);
        return *ret ? 0 : oom(t);
}

static int number_lit(struct tpl *t, json_t **ret)
{
        size_t start = t->pos;
        bool neg = peek(t) == '-';
        if (neg)
                t->pos++;
        if (!isdigit((unsigned char) peek(t)))
                return fail(t, start, "expected a number after '-'");
        long long v = 0;
        while (isdigit((unsigned char) peek(t))) {
                if (v > (LLONG_MAX - 9) / 10)
                        return fail(t, start, "number out of range");
                v = v * 10 + (t->s[t->pos++] - '0');
        }
        if (is_ident(peek(t)) || peek(t) == '.')
                return fail(t, start, "only whole numbers are supported");
        *ret = json_integer(neg ? -v : v);
        return *ret ? 0 : oom(t);
}

/* Whether an argument can start here (not the end of the command). */
static bool at_operand(const struct tpl *t)
{
        char c = peek(t);
        return t->pos < t->len && c != '|' && c != ')' && !at_action_end(t);
}

/* One operand: a field, a literal, or a parenthesised pipeline. *ret new, or NULL (missing). */
static int operand(struct tpl *t, bool active, json_t **ret)
{
        size_t at = t->pos;
        char c = peek(t);
        *ret = NULL;
        if (c == '.')
                return field(t, active, ret);
        if (c == '"' || c == '`')
                return string_lit(t, ret);
        if (c == '-' || isdigit((unsigned char) c))
                return number_lit(t, ret);
        if (c == '(') {
                if (++t->depth > TEMPLATE_MAX_DEPTH)
                        return fail(t, at, "nested more than %d deep", TEMPLATE_MAX_DEPTH);
                t->pos++;
                int r = pipeline(t, active, ret);
                if (r < 0)
                        return r;
                skip_space(t);
                if (peek(t) != ')') {
                        decrefp(ret);
                        return fail(t, t->pos, "expected ')'");
                }
                t->pos++;
                t->depth--;
                return 0;
        }
        if (is_ident(c)) {
                size_t s = t->pos;
                while (is_ident(peek(t)))
                        t->pos++;
                size_t n = t->pos - s;
                if (n == 4 && memcmp(t->s + s, "true", 4) == 0)
                        *ret = json_true();
                else if (n == 5 && memcmp(t->s + s, "false", 5) == 0)
                        *ret = json_false();
                else if (n == 3 && memcmp(t->s + s, "nil", 3) == 0)
                        *ret = json_null();
                else
                        return fail(t, at, "a function call as an argument needs parentheses");
                return 0;
        }
        if (t->pos >= t->len)
                return fail(t, at, "unterminated action: expected }}");
        if ((unsigned char) c > ' ' && (unsigned char) c < 0x7f)
                return fail(t, at, "unexpected '%c'", c);
        return fail(t, at, "unexpected byte 0x%02x", (unsigned char) c);
}

/* One command: "f ARG..." (with @piped, when not NULL-and-absent, as the last argument) or an
 * operand. @has_piped says whether a value comes from the left of a '|'. */
static int command(struct tpl *t, bool active, bool has_piped, json_t *piped, json_t **ret)
{
        skip_space(t);
        size_t at = t->pos;
        *ret = NULL;
        if (!is_ident(peek(t)) || isdigit((unsigned char) peek(t))) {
                if (has_piped)
                        return fail(t, at, "only a function can follow '|'");
                return operand(t, active, ret);
        }
        size_t s = t->pos;
        while (is_ident(peek(t)))
                t->pos++;
        size_t n = t->pos - s;
        if ((n == 4 && memcmp(t->s + s, "true", 4) == 0) || (n == 5 && memcmp(t->s + s, "false", 5) == 0) ||
            (n == 3 && memcmp(t->s + s, "nil", 3) == 0)) {
                t->pos = s;
                if (has_piped)
                        return fail(t, at, "only a function can follow '|'");
                return operand(t, active, ret);
        }
        size_t k = 0;
        while (k < OSB_ELEMENTSOF(functions) && !(strlen(functions[k].name) == n && memcmp(functions[k].name, t->s + s, n) == 0))
                k++;
        if (k == OSB_ELEMENTSOF(functions))
                return fail(t, at, "unknown function '%.*s'", (int) OSB_MIN(n, (size_t) 40), t->s + s);
        int r = step(t, at);
        if (r < 0)
                return r;
        json_t *args[MAX_ARGS + 1] = {0};
        size_t nargs = 0;
        for (;;) {
                skip_space(t);
                if (!at_operand(t))
                        break;
                if (nargs == MAX_ARGS) {
                        r = fail(t, t->pos, "too many arguments to %s", functions[k].name);
                        goto out;
                }
                r = operand(t, active, &args[nargs]);
                if (r < 0)
                        goto out;
                nargs++;
        }
        if (has_piped)
                args[nargs++] = json_incref(piped);
        if (nargs < functions[k].min || nargs > functions[k].max) {
                r = functions[k].min == functions[k].max
                            ? fail(t, at, "%s takes %zu argument%s, not %zu", functions[k].name, functions[k].min,
                                   functions[k].min == 1 ? "" : "s", nargs)
                            : fail(t, at, "%s takes %zu to %zu arguments, not %zu", functions[k].name,
                                   functions[k].min, functions[k].max, nargs);
                goto out;
        }
        r = active ? functions[k].fn(t, at, args, nargs, ret) : 0;
        if (r == 0 && json_is_string(*ret)) {
                r = charge(t, at, json_string_length(*ret));
                if (r < 0) {
                        json_decref(*ret);
                        *ret = NULL;
                }
        }
out:
        for (size_t i = 0; i < nargs; i++)
                json_decref(args[i]);
        return r;
}

/* command ('|' command)*; *ret new, or NULL for a missing value (always NULL when not @active). */
static int pipeline(struct tpl *t, bool active, json_t **ret)
{
        json_t *v = NULL;
        int r = command(t, active, false, NULL, &v);
        for (;;) {
                if (r < 0) {
                        json_decref(v);
                        return r;
                }
                skip_space(t);
                if (peek(t) != '|')
                        break;
                t->pos++;
                json_t *next = NULL;
                r = command(t, active, true, v, &next);
                json_decref(v);
                v = next;
        }
        *ret = v;
        return 0;
}

/* ---- actions ---- */

static int list(struct tpl *t, bool active, enum term *term, size_t *term_at);

/* After "if" (or "else if"): the condition, the branches, up to and including {{end}}. */
static int if_action(struct tpl *t, bool active, size_t at)
{
        if (++t->depth > TEMPLATE_MAX_DEPTH)
                return fail(t, at, "nested more than %d deep", TEMPLATE_MAX_DEPTH);
        bool done = false;      /* a branch was taken */
        for (;;) {
                json_auto_t *cond = NULL;
                skip_space(t);
                if (at_action_end(t))
                        return fail(t, t->pos, "if needs a condition");
                int r = pipeline(t, active && !done, &cond);
                if (r == 0)
                        r = expect_action_end(t);
                if (r < 0)
                        return r;
                bool take = active && !done && truthy(cond);
                enum term term;
                size_t term_at;
                r = list(t, take, &term, &term_at);
                if (r < 0)
                        return r;
                done = done || take;
                if (term == TERM_ELSE_IF)
                        continue;
                if (term == TERM_ELSE) {
                        r = list(t, active && !done, &term, &term_at);
                        if (r < 0)
                                return r;
                        if (term == TERM_ELSE || term == TERM_ELSE_IF)
                                return fail(t, term_at, "else after else");
                }
                if (term == TERM_EOF)
                        return fail(t, at, "if without end");
                t->depth--;
                return 0;
        }
}

/* A keyword at t->pos: advances past it and returns true. */
static bool keyword(struct tpl *t, const char *kw)
{
        size_t n = strlen(kw);
        if (!at_str(t, t->pos, kw) || (t->pos + n < t->len && is_ident(t->s[t->pos + n])))
                return false;
        t->pos += n;
        return true;
}

/* Text and actions up to the end or to an else/end, which *term names (*term_at its place). */
static int list(struct tpl *t, bool active, enum term *term, size_t *term_at)
{
        for (;;) {
                size_t text = t->pos;
                const char *open = t->pos < t->len ? memmem(t->s + t->pos, t->len - t->pos, "{{", 2) : NULL;
                size_t text_end = open ? (size_t) (open - t->s) : t->len;
                bool trim = open && at_str(t, text_end, "{{-") && text_end + 3 < t->len && is_space(t->s[text_end + 3]);
                size_t keep = text_end;
                if (trim)
                        while (keep > text && is_space(t->s[keep - 1]))
                                keep--;
                int r = 0;
                if (active && keep > text)
                        r = emit(t, text, t->s + text, keep - text);
                if (r < 0)
                        return r;
                if (!open) {
                        t->pos = t->len;
                        *term = TERM_EOF;
                        *term_at = t->len;
                        return 0;
                }
                size_t at = text_end;
                r = step(t, at);
                if (r < 0)
                        return r;
                t->pos = text_end + (trim ? 3 : 2);
                if (trim && at_str(t, t->pos + 1, "/*"))
                        t->pos++;
                if (at_str(t, t->pos, "/*")) {
                        const char *close = memmem(t->s + t->pos + 2, t->len - t->pos - 2, "*/", 2);
                        if (!close)
                                return fail(t, at, "unterminated comment");
                        t->pos = (size_t) (close - t->s) + 2;
                        r = expect_action_end(t);
                        if (r < 0)
                                return r;
                        continue;
                }
                skip_space(t);
                size_t kw = t->pos;
                if (keyword(t, "end")) {
                        r = expect_action_end(t);
                        if (r < 0)
                                return r;
                        *term = TERM_END;
                        *term_at = kw;
                        return 0;
                }
                if (keyword(t, "else")) {
                        skip_space(t);
                        *term_at = kw;
                        if (keyword(t, "if")) {
                                *term = TERM_ELSE_IF;
                                return 0;
                        }
                        r = expect_action_end(t);
                        *term = TERM_ELSE;
                        return r;
                }
                if (keyword(t, "if")) {
                        r = if_action(t, active, kw);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (keyword(t, "range") || keyword(t, "with") || keyword(t, "define") || keyword(t, "template") ||
                    keyword(t, "block") || keyword(t, "break") || keyword(t, "continue"))
                        return fail(t, kw, "'%.*s' is not supported (only if, else and end)", (int) (t->pos - kw), t->s + kw);
                if (at_action_end(t))
                        return fail(t, at, "empty action");
                json_auto_t *v = NULL;
                r = pipeline(t, active, &v);
                if (r == 0)
                        r = expect_action_end(t);
                if (r < 0)
                        return r;
                if (!active)
                        continue;
                const char *p;
                size_t n;
                osb_autofree char *owned = NULL;
                char what[80];
                size_t elen = OSB_MIN(t->pos - kw, (size_t) 60);
                while (elen > 0 && (is_space(t->s[kw + elen - 1]) || t->s[kw + elen - 1] == '}' || t->s[kw + elen - 1] == '-'))
                        elen--;
                (void) snprintf(what, sizeof(what), "'%.*s'", (int) elen, t->s + kw);
                r = text_of(t, kw, what, v, &p, &n, &owned);
                if (r == 0)
                        r = emit(t, kw, p, n);
                if (r < 0)
                        return r;
        }
}

int template_render(const char *text, size_t len, const json_t *input, size_t max_out, char **ret, size_t *ret_len,
                    struct osb_error *err)
{
        if (len > TEMPLATE_MAX_TEXT)
                return osb_error_set(err, -E2BIG, "the template has %zu bytes, more than %u", len, TEMPLATE_MAX_TEXT);
        osb_auto(tpl_release) struct tpl t = {.s = text ? text : "", .len = text ? len : 0, .input = input, .err = err};
        osb_buf_init(&t.out, max_out);
        size_t failures = osb_mem_failures();
        enum term term;
        size_t term_at;
        int r = list(&t, true, &term, &term_at);
        if (r < 0)
                return r;
        if (term != TERM_EOF)
                return fail(&t, term_at, "%s without if", term == TERM_END ? "end" : "else");
        if (osb_mem_failures() != failures)
                return oom(&t);
        size_t n = 0;
        char *s = osb_buf_detach(&t.out, &n);
        if (!s)
                return oom(&t);
        *ret = s;
        if (ret_len)
                *ret_len = n;
        return 0;
}
