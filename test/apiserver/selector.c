/* test/apiserver/selector.c: label and field selector parsing and matching. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/apiserver/selector.h"
#include "test/apiserver/util.h"

enum sel_op { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOT_EXISTS, OP_GT, OP_LT };

struct requirement {
        char *key;
        enum sel_op op;
        char **vals;
        size_t nvals;
};

struct selector {
        struct requirement *reqs;
        size_t n;
};

struct selector *selector_free(struct selector *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                osb_free(s->reqs[i].key);
                for (size_t j = 0; j < s->reqs[i].nvals; j++)
                        osb_free(s->reqs[i].vals[j]);
                osb_free(s->reqs[i].vals);
        }
        osb_free(s->reqs);
        osb_free(s);
        return NULL;
}
OSB_DEFINE_AUTO(selector_freep, struct selector *, selector_free)

static struct requirement *add_req(struct selector *s)
{
        struct requirement *r = osb_realloc(s->reqs, (s->n + 1) * sizeof(*r));
        if (!r)
                return NULL;
        s->reqs = r;
        memset(&r[s->n], 0, sizeof(*r));
        return &r[s->n++];
}

static int add_val(struct requirement *r, const char *v, size_t len)
{
        char **vals = osb_realloc(r->vals, (r->nvals + 1) * sizeof(*vals));
        if (!vals)
                return -ENOMEM;
        r->vals = vals;
        vals[r->nvals] = osb_strndup(v, len);
        if (!vals[r->nvals])
                return -ENOMEM;
        r->nvals++;
        return 0;
}

static void skip_ws(const char **p)
{
        while (**p == ' ' || **p == '\t')
                (*p)++;
}

/* A label key or value token: stops at whitespace and the operator characters. */
static size_t token_len(const char *p)
{
        size_t n = 0;
        while (p[n] && !strchr(" \t,=!()<>", p[n]))
                n++;
        return n;
}

static int fail(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int check_label_value(const char *v, char *msg, size_t msglen)
{
        if (!util_is_label_value(v))
                return fail(msg, msglen,
                            "unable to parse requirement: values[0]: Invalid value: \"%s\": a valid label must be "
                            "an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
                            "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                            "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                            v);
        return 0;
}

static int parse_label_req(struct selector *s, const char **pp, char *msg, size_t msglen)
{
        const char *p = *pp;
        skip_ws(&p);
        bool neg = false;
        if (*p == '!') {
                neg = true;
                p++;
                skip_ws(&p);
        }
        size_t klen = token_len(p);
        if (klen == 0)
                return fail(msg, msglen, "unable to parse requirement: found '%c', expected: identifier", *p ? *p : ' ');
        struct requirement *r = add_req(s);
        if (!r || !(r->key = osb_strndup(p, klen)))
                return -ENOMEM;
        if (!util_is_qualified_name(r->key))
                return fail(msg, msglen,
                            "unable to parse requirement: key: Invalid value: \"%s\": name part must consist of "
                            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')", r->key);
        p += klen;
        skip_ws(&p);
        if (neg) {
                r->op = OP_NOT_EXISTS;
                if (*p && *p != ',')
                        return fail(msg, msglen, "unable to parse requirement: found '%c', expected: ','", *p);
                *pp = p;
                return 0;
        }
        if (!*p || *p == ',') {
                r->op = OP_EXISTS;
                *pp = p;
                return 0;
        }
        if (p[0] == '=' && p[1] == '=') {
                r->op = OP_EQ;
                p += 2;
        } else if (p[0] == '=') {
                r->op = OP_EQ;
                p++;
        } else if (p[0] == '!' && p[1] == '=') {
                r->op = OP_NE;
                p += 2;
        } else if (p[0] == '>') {
                r->op = OP_GT;
                p++;
        } else if (p[0] == '<') {
                r->op = OP_LT;
                p++;
        } else if (strncmp(p, "in", 2) == 0 && (p[2] == ' ' || p[2] == '(' || p[2] == '\t')) {
                r->op = OP_IN;
                p += 2;
        } else if (strncmp(p, "notin", 5) == 0 && (p[5] == ' ' || p[5] == '(' || p[5] == '\t')) {
                r->op = OP_NOTIN;
                p += 5;
        } else {
                return fail(msg, msglen,
                            "unable to parse requirement: found '%.*s', expected: in, notin, =, ==, !=, gt, lt",
                            (int) OSB_MAX(token_len(p), 1), p);
        }
        skip_ws(&p);
        if (r->op == OP_IN || r->op == OP_NOTIN) {
                if (*p != '(')
                        return fail(msg, msglen, "unable to parse requirement: found '%c', expected: '('", *p ? *p : ' ');
                p++;
                for (;;) {
                        skip_ws(&p);
                        size_t vlen = token_len(p);
                        if (add_val(r, p, vlen) < 0)
                                return -ENOMEM;
                        if (check_label_value(r->vals[r->nvals - 1], msg, msglen) < 0)
                                return -EINVAL;
                        p += vlen;
                        skip_ws(&p);
                        if (*p == ',') {
                                p++;
                                continue;
                        }
                        if (*p == ')') {
                                p++;
                                break;
                        }
                        return fail(msg, msglen, "unable to parse requirement: found '%c', expected: ',', ')'", *p ? *p : ' ');
                }
        } else {
                size_t vlen = token_len(p);
                if (add_val(r, p, vlen) < 0)
                        return -ENOMEM;
                p += vlen;
                if (r->op == OP_GT || r->op == OP_LT) {
                        int64_t dummy;
                        if (osb_parse_int64(r->vals[0], INT64_MIN, INT64_MAX, &dummy) < 0)
                                return fail(msg, msglen, "unable to parse requirement: for 'Gt', 'Lt' operators, "
                                            "the value must be an integer");
                } else if (check_label_value(r->vals[0], msg, msglen) < 0) {
                        return -EINVAL;
                }
        }
        skip_ws(&p);
        if (*p && *p != ',')
                return fail(msg, msglen, "unable to parse requirement: found '%c', expected: ','", *p);
        *pp = p;
        return 0;
}

int selector_parse_labels(const char *text, struct selector **ret, char *msg, size_t msglen)
{
        osb_auto(selector_freep) struct selector *s = osb_calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        const char *p = text ? text : "";
        skip_ws(&p);
        while (*p) {
                int r = parse_label_req(s, &p, msg, msglen);
                if (r < 0)
                        return r;
                if (*p == ',') {
                        p++;
                        skip_ws(&p);
                        if (!*p)
                                return fail(msg, msglen, "unable to parse requirement: found '', expected: identifier");
                }
        }
        *ret = OSB_TAKE_PTR(s);
        return 0;
}

/* fields.ParseSelector: "k=v,k2!=v2", with backslash escapes for ',', '=', '!' and '\'. */
static int unescape_until(const char **pp, const char *stops, char **ret)
{
        const char *p = *pp;
        char *out = osb_malloc(strlen(p) + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        while (*p && !strchr(stops, *p)) {
                if (*p == '\\' && p[1]) {
                        p++;
                }
                out[o++] = *p++;
        }
        out[o] = '\0';
        *pp = p;
        *ret = out;
        return 0;
}

int selector_parse_fields(const char *text, struct selector **ret, char *msg, size_t msglen)
{
        osb_auto(selector_freep) struct selector *s = osb_calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        const char *p = text ? text : "";
        while (*p) {
                struct requirement *r = add_req(s);
                if (!r || unescape_until(&p, "=!,", &r->key) < 0)
                        return -ENOMEM;
                /* Keys are trimmed like fields.ParseSelector does. */
                size_t kl = strlen(r->key);
                while (kl && r->key[kl - 1] == ' ')
                        r->key[--kl] = '\0';
                if (p[0] == '!' && p[1] == '=') {
                        r->op = OP_NE;
                        p += 2;
                } else if (p[0] == '=' && p[1] == '=') {
                        r->op = OP_EQ;
                        p += 2;
                } else if (p[0] == '=') {
                        r->op = OP_EQ;
                        p++;
                } else {
                        return fail(msg, msglen, "invalid selector: '%s'; can't understand '%s'", text, r->key);
                }
                char *v = NULL;
                if (unescape_until(&p, ",", &v) < 0)
                        return -ENOMEM;
                r->vals = osb_malloc(sizeof(char *));
                if (!r->vals) {
                        osb_free(v);
                        return -ENOMEM;
                }
                r->vals[0] = v;
                r->nvals = 1;
                if (*p == ',')
                        p++;
        }
        *ret = OSB_TAKE_PTR(s);
        return 0;
}

static bool has_val(const struct requirement *r, const char *v)
{
        for (size_t i = 0; i < r->nvals; i++)
                if (strcmp(r->vals[i], v) == 0)
                        return true;
        return false;
}

bool selector_match_labels(const struct selector *s, const json_t *labels)
{
        for (size_t i = 0; s && i < s->n; i++) {
                const struct requirement *r = &s->reqs[i];
                const char *v = json_string_value(json_object_get(labels, r->key));
                switch (r->op) {
                case OP_EQ:
                case OP_IN:
                        if (!v || !has_val(r, v))
                                return false;
                        break;
                case OP_NE:
                case OP_NOTIN:
                        if (v && has_val(r, v))
                                return false;
                        break;
                case OP_EXISTS:
                        if (!v)
                                return false;
                        break;
                case OP_NOT_EXISTS:
                        if (v)
                                return false;
                        break;
                case OP_GT:
                case OP_LT: {
                        int64_t have, want;
                        if (!v || osb_parse_int64(v, INT64_MIN, INT64_MAX, &have) < 0 ||
                            osb_parse_int64(r->vals[0], INT64_MIN, INT64_MAX, &want) < 0)
                                return false;
                        if (r->op == OP_GT ? !(have > want) : !(have < want))
                                return false;
                        break;
                }
                }
        }
        return true;
}

bool selector_match_fields(const struct selector *s, selector_field_fn get, void *userdata)
{
        for (size_t i = 0; s && i < s->n; i++) {
                const struct requirement *r = &s->reqs[i];
                const char *v = get(userdata, r->key);
                bool eq = strcmp(v ? v : "", r->vals[0]) == 0;
                if (r->op == OP_EQ ? !eq : eq)
                        return false;
        }
        return true;
}

size_t selector_count(const struct selector *s)
{
        return s ? s->n : 0;
}

const char *selector_key(const struct selector *s, size_t i)
{
        return i < selector_count(s) ? s->reqs[i].key : NULL;
}

const char *selector_equals_value(const struct selector *s, const char *key)
{
        for (size_t i = 0; i < selector_count(s); i++)
                if (s->reqs[i].op == OP_EQ && strcmp(s->reqs[i].key, key) == 0)
                        return s->reqs[i].vals[0];
        return NULL;
}
