/* common/osb_yaml.c: YAML to jansson over libyaml's event API. Builds the tree with an explicit
 * stack (no recursion on untrusted nesting) and types plain scalars by the YAML 1.2 core schema. */
#include "common/osb_compat.h"

#include <math.h>
#include <yaml.h>

#include "common/osb_mem.h"
#include "common/osb_yaml.h"

/* Deeper nesting than this is refused: everything downstream walks trees recursively. */
#define YAML_MAX_DEPTH 256
/* Nodes that aliases may add to a stream, in total ("billion laughs" stops here). */
#define YAML_MAX_ALIAS_NODES 100000

#define TAG_PREFIX "tag:yaml.org,2002:"

struct anchor {
        char *name;   /* owned */
        json_t *node; /* a reference of ours */
        size_t nodes; /* size of the subtree, aliases expanded */
};

struct frame {
        json_t *node;      /* the object or array being built; owned */
        char *anchor;      /* owned, or NULL */
        size_t nodes;      /* nodes in this subtree so far, itself included */
        char *key;         /* mappings: the key waiting for its value; owned */
        yaml_mark_t mark;  /* where the collection started */
};

struct yaml_ctx {
        const char *data;
        size_t len;
        struct osb_error *err;
        struct frame stack[YAML_MAX_DEPTH];
        size_t depth;
        struct anchor *anchors;
        size_t n_anchors, cap_anchors;
        size_t alias_nodes;
        json_t *doc;       /* the current document's root once complete; owned */
        bool have_doc;
};

static int fail_at(struct yaml_ctx *c, yaml_mark_t m, const char *fmt, ...) OSB_PRINTF(3, 4);

static int fail_at(struct yaml_ctx *c, yaml_mark_t m, const char *fmt, ...)
{
        char why[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        return osb_error_set(c->err, OSB_E_BAD_REQUEST, "line %zu column %zu: %s",
                             (size_t) m.line + 1, (size_t) m.column + 1, why);
}

static void anchors_clear(struct yaml_ctx *c)
{
        for (size_t i = 0; i < c->n_anchors; i++) {
                osb_free(c->anchors[i].name);
                json_decref(c->anchors[i].node);
        }
        c->n_anchors = 0;
}

static void ctx_release(struct yaml_ctx *c)
{
        anchors_clear(c);
        osb_free(c->anchors);
        c->anchors = NULL;
        c->cap_anchors = 0;
        for (size_t i = 0; i < c->depth; i++) {
                json_decref(c->stack[i].node);
                osb_free(c->stack[i].anchor);
                osb_free(c->stack[i].key);
        }
        c->depth = 0;
        json_decref(c->doc);
        c->doc = NULL;
}

/* Takes @name (owned). Later definitions of the same name win, as YAML says. */
static int anchor_add(struct yaml_ctx *c, char *name, json_t *node, size_t nodes)
{
        if (c->n_anchors == c->cap_anchors) {
                size_t cap = c->cap_anchors ? c->cap_anchors * 2 : 8;
                struct anchor *a = osb_realloc(c->anchors, cap * sizeof(*a));
                if (!a) {
                        osb_free(name);
                        return -ENOMEM;
                }
                c->anchors = a;
                c->cap_anchors = cap;
        }
        c->anchors[c->n_anchors++] = (struct anchor){name, json_incref(node), nodes};
        return 0;
}

static const struct anchor *anchor_find(const struct yaml_ctx *c, const char *name)
{
        for (size_t i = c->n_anchors; i > 0; i--)
                if (strcmp(c->anchors[i - 1].name, name) == 0)
                        return &c->anchors[i - 1];
        return NULL;
}

static bool is_null(const char *s, size_t n)
{
        return n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
               strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int parse_bool(const char *s, bool *ret)
{
        if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
                *ret = true;
                return 0;
        }
        if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
                *ret = false;
                return 0;
        }
        return 1;
}

static bool all_digits(const char *s, const char *set)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!strchr(set, *s))
                        return false;
        return true;
}

/* Returns 0 (an integer), 1 (not an integer) or -ERANGE. */
static int parse_int(const char *s, json_int_t *ret)
{
        int base = 10;
        const char *digits = s;
        bool neg = false;
        if (s[0] == '0' && s[1] == 'x') {
                base = 16;
                digits = s + 2;
                if (!all_digits(digits, "0123456789abcdefABCDEF"))
                        return 1;
        } else if (s[0] == '0' && s[1] == 'o') {
                base = 8;
                digits = s + 2;
                if (!all_digits(digits, "01234567"))
                        return 1;
        } else {
                if (*digits == '-' || *digits == '+') {
                        neg = *digits == '-';
                        digits++;
                }
                if (!all_digits(digits, "0123456789"))
                        return 1;
        }
        errno = 0;
        unsigned long long u = strtoull(digits, NULL, base);
        if (errno == ERANGE || u > (unsigned long long) INT64_MAX + (neg ? 1u : 0u))
                return -ERANGE;
        if (neg)
                *ret = u == (unsigned long long) INT64_MAX + 1u ? INT64_MIN : -(json_int_t) u;
        else
                *ret = (json_int_t) u;
        return 0;
}

/* Returns 0 (a finite float), 1 (not a float), -EDOM (.inf/.nan) or -ERANGE. */
static int parse_float(const char *s, double *ret)
{
        const char *p = s;
        if (*p == '-' || *p == '+')
                p++;
        if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0)
                return -EDOM;
        if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)
                return -EDOM;
        /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
        size_t int_digits = 0, frac_digits = 0;
        while (isdigit((unsigned char) *p)) {
                p++;
                int_digits++;
        }
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char) *p)) {
                        p++;
                        frac_digits++;
                }
                if (int_digits == 0 && frac_digits == 0)
                        return 1;
        } else if (int_digits == 0) {
                return 1;
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '-' || *p == '+')
                        p++;
                if (!isdigit((unsigned char) *p))
                        return 1;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        if (*p)
                return 1;
        errno = 0;
        double d = strtod(s, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
                return -ERANGE;
        if (!isfinite(d))
                return -ERANGE;
        *ret = d;
        return 0;
}

/* Types one scalar. @tag is libyaml's resolved tag or NULL. */
static int scalar_to_json(struct yaml_ctx *c, const yaml_event_t *ev, json_t **ret)
{
        const char *s = (const char *) ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        const char *tag = (const char *) ev->data.scalar.tag;
        yaml_mark_t m = ev->start_mark;
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

        if (memchr(s, '\0', n))
                return fail_at(c, m, "NUL characters are not allowed in strings");

        const char *want = NULL; /* "str", "int", ... or NULL for core-schema resolution */
        if (tag && strcmp(tag, "!") != 0) {
                if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
                        return fail_at(c, m, "unsupported tag '%.100s'", tag);
                want = tag + strlen(TAG_PREFIX);
                if (strcmp(want, "str") != 0 && strcmp(want, "int") != 0 &&
                    strcmp(want, "float") != 0 && strcmp(want, "bool") != 0 &&
                    strcmp(want, "null") != 0)
                        return fail_at(c, m, "unsupported tag '!!%.100s' on a scalar", want);
        } else if (!plain || tag) {
                want = "str"; /* quoted, block, or the non-specific "!" tag */
        }

        json_t *v = NULL;
        json_int_t i;
        double d;
        bool b;
        int r;
        if (want && strcmp(want, "str") == 0) {
                v = json_stringn(s, n);
        } else if (want && strcmp(want, "null") == 0) {
                if (!is_null(s, n))
                        return fail_at(c, m, "'%.100s' is not a null", s);
                v = json_null();
        } else if (want && strcmp(want, "bool") == 0) {
                if (parse_bool(s, &b) != 0)
                        return fail_at(c, m, "'%.100s' is not a boolean", s);
                v = json_boolean(b);
        } else if (want && strcmp(want, "int") == 0) {
                r = parse_int(s, &i);
                if (r == -ERANGE)
                        return fail_at(c, m, "integer '%.100s' is out of range", s);
                if (r != 0)
                        return fail_at(c, m, "'%.100s' is not an integer", s);
                v = json_integer(i);
        } else if (want && strcmp(want, "float") == 0) {
                r = parse_int(s, &i);
                if (r == 0) {
                        v = json_real((double) i);
                } else {
                        r = parse_float(s, &d);
                        if (r == -EDOM)
                                return fail_at(c, m, "'%.100s' (infinity or NaN) cannot be represented in JSON", s);
                        if (r != 0)
                                return fail_at(c, m, "'%.100s' is not a number", s);
                        v = json_real(d);
                }
        } else if (is_null(s, n)) {
                v = json_null();
        } else if (parse_bool(s, &b) == 0) {
                v = json_boolean(b);
        } else if ((r = parse_int(s, &i)) <= 0) {
                if (r < 0)
                        return fail_at(c, m, "integer '%.100s' is out of range", s);
                v = json_integer(i);
        } else if ((r = parse_float(s, &d)) <= 0) {
                if (r == -EDOM)
                        return fail_at(c, m, "'%.100s' (infinity or NaN) cannot be represented in JSON", s);
                if (r < 0)
                        return fail_at(c, m, "number '%.100s' is out of range", s);
                v = json_real(d);
        } else {
                v = json_stringn(s, n);
        }
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

/* The text a scalar value has as a mapping key (non-string keys become strings). */
static char *key_from_value(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return osb_strdup(json_string_value(v));
        case JSON_INTEGER:
                return osb_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_REAL:
                return osb_asprintf("%.17g", json_real_value(v));
        case JSON_TRUE:
                return osb_strdup("true");
        case JSON_FALSE:
                return osb_strdup("false");
        default:
                return osb_strdup("null");
        }
}

/* Accepts a mapping key (takes @key). */
static int set_key(struct yaml_ctx *c, char *key, yaml_mark_t m)
{
        struct frame *f = &c->stack[c->depth - 1];
        if (json_object_get(f->node, key)) {
                int r = fail_at(c, m, "duplicate mapping key '%.100s'", key);
                osb_free(key);
                return r;
        }
        f->key = key;
        return 0;
}

/* Attaches a complete node (steals @v) to its parent, or makes it the document root.
 * @anchor (taken) names it for later aliases. */
static int attach(struct yaml_ctx *c, json_t *v, size_t nodes, char *anchor)
{
        if (anchor) {
                int r = anchor_add(c, anchor, v, nodes);
                if (r < 0) {
                        json_decref(v);
                        return r;
                }
        }
        if (c->depth == 0) {
                json_decref(c->doc);
                c->doc = v;
                c->have_doc = true;
                return 0;
        }
        struct frame *f = &c->stack[c->depth - 1];
        f->nodes += nodes;
        if (json_is_array(f->node))
                return json_array_append_new(f->node, v) == 0 ? 0 : -ENOMEM;
        char *key = OSB_TAKE_PTR(f->key);
        int r = json_object_set_new(f->node, key, v) == 0 ? 0 : -ENOMEM;
        osb_free(key);
        return r;
}

static bool want_key(const struct yaml_ctx *c)
{
        if (c->depth == 0)
                return false;
        const struct frame *f = &c->stack[c->depth - 1];
        return json_is_object(f->node) && !f->key;
}

static char *dup_anchor(const yaml_char_t *a, int *r)
{
        *r = 0;
        if (!a)
                return NULL;
        char *s = osb_strdup((const char *) a);
        if (!s)
                *r = -ENOMEM;
        return s;
}

static int on_scalar(struct yaml_ctx *c, const yaml_event_t *ev)
{
        json_t *v = NULL;
        int r = scalar_to_json(c, ev, &v);
        if (r < 0)
                return r;
        if (want_key(c)) {
                if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                    strcmp((const char *) ev->data.scalar.value, "<<") == 0 && !ev->data.scalar.tag) {
                        json_decref(v);
                        return fail_at(c, ev->start_mark, "merge keys ('<<') are not supported");
                }
                if (ev->data.scalar.anchor) {
                        char *a = dup_anchor(ev->data.scalar.anchor, &r);
                        if (r < 0 || (r = anchor_add(c, a, v, 1)) < 0) {
                                json_decref(v);
                                return r;
                        }
                }
                /* Keys keep the author's spelling ("0x10" stays "0x10"). */
                char *key = json_is_string(v) ? osb_strdup(json_string_value(v))
                                               : osb_strdup((const char *) ev->data.scalar.value);
                json_decref(v);
                if (!key)
                        return -ENOMEM;
                return set_key(c, key, ev->start_mark);
        }
        char *a = dup_anchor(ev->data.scalar.anchor, &r);
        if (r < 0) {
                json_decref(v);
                return r;
        }
        return attach(c, v, 1, a);
}

static int on_alias(struct yaml_ctx *c, const yaml_event_t *ev)
{
        const char *name = (const char *) ev->data.alias.anchor;
        const struct anchor *a = anchor_find(c, name);
        if (!a)
                return fail_at(c, ev->start_mark, "undefined alias '*%.100s'", name);
        if (want_key(c)) {
                if (json_is_object(a->node) || json_is_array(a->node))
                        return fail_at(c, ev->start_mark, "collections cannot be mapping keys");
                char *key = key_from_value(a->node);
                if (!key)
                        return -ENOMEM;
                return set_key(c, key, ev->start_mark);
        }
        if (a->nodes > YAML_MAX_ALIAS_NODES - c->alias_nodes)
                return fail_at(c, ev->start_mark,
                               "aliases expand to more than %d nodes", YAML_MAX_ALIAS_NODES);
        c->alias_nodes += a->nodes;
        /* A copy, so the result is a tree that callers may modify. */
        json_t *v = json_deep_copy(a->node);
        if (!v)
                return -ENOMEM;
        return attach(c, v, a->nodes, NULL);
}

static int on_start(struct yaml_ctx *c, const yaml_event_t *ev, bool mapping)
{
        if (want_key(c))
                return fail_at(c, ev->start_mark, "collections cannot be mapping keys");
        if (c->depth == YAML_MAX_DEPTH)
                return fail_at(c, ev->start_mark, "nested deeper than %d levels", YAML_MAX_DEPTH);
        const yaml_char_t *tag = mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
        const yaml_char_t *anchor = mapping ? ev->data.mapping_start.anchor
                                            : ev->data.sequence_start.anchor;
        if (tag && strcmp((const char *) tag, "!") != 0 &&
            strcmp((const char *) tag, mapping ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0)
                return fail_at(c, ev->start_mark, "unsupported tag '%.100s'", (const char *) tag);
        int r;
        char *a = dup_anchor(anchor, &r);
        if (r < 0)
                return r;
        json_t *node = mapping ? json_object() : json_array();
        if (!node) {
                osb_free(a);
                return -ENOMEM;
        }
        c->stack[c->depth++] = (struct frame){node, a, 1, NULL, ev->start_mark};
        return 0;
}

static int on_end(struct yaml_ctx *c)
{
        struct frame f = c->stack[--c->depth];
        assert(!f.key); /* libyaml always pairs keys with values */
        osb_free(f.key);
        return attach(c, f.node, f.nodes, f.anchor);
}

static void mark_of_offset(const struct yaml_ctx *c, size_t off, yaml_mark_t *m)
{
        *m = (yaml_mark_t){0};
        for (size_t i = 0; i < off && i < c->len; i++) {
                if (c->data[i] == '\n') {
                        m->line++;
                        m->column = 0;
                } else {
                        m->column++;
                }
        }
}

static int parser_error(struct yaml_ctx *c, const yaml_parser_t *p)
{
        if (p->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        yaml_mark_t m = p->problem_mark;
        if (p->error == YAML_READER_ERROR)
                mark_of_offset(c, p->problem_offset, &m);
        const char *problem = p->problem ? p->problem : "malformed YAML";
        if (p->context)
                return fail_at(c, m, "%s %s", p->context, problem);
        return fail_at(c, m, "%s", problem);
}

static int parse(const char *data, size_t len, bool all, json_t **ret, struct osb_error *err)
{
        if (!data)
                data = ""; /* libyaml asserts on a NULL input */
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        struct yaml_ctx *c = osb_calloc(1, sizeof(*c));
        json_t *docs = all ? json_array() : NULL;
        if (!c || (all && !docs)) {
                osb_free(c);
                json_decref(docs);
                yaml_parser_delete(&parser);
                return -ENOMEM;
        }
        c->data = data;
        c->len = len;
        c->err = err;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);

        int r = 0;
        bool done = false;
        while (!done) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&parser, &ev)) {
                        r = parser_error(c, &parser);
                        break;
                }
                switch (ev.type) {
                case YAML_DOCUMENT_START_EVENT:
                        anchors_clear(c);
                        json_decref(c->doc);
                        c->doc = NULL;
                        c->have_doc = false;
                        break;
                case YAML_DOCUMENT_END_EVENT:
                        if (!all) {
                                done = true;
                        } else if (c->doc && !json_is_null(c->doc)) {
                                if (json_array_append_new(docs, OSB_TAKE_PTR(c->doc)) < 0)
                                        r = -ENOMEM;
                        }
                        break;
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_SCALAR_EVENT:
                        r = on_scalar(c, &ev);
                        break;
                case YAML_ALIAS_EVENT:
                        r = on_alias(c, &ev);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_start(c, &ev, false);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_start(c, &ev, true);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        r = on_end(c);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
                if (r < 0)
                        break;
        }
        yaml_parser_delete(&parser);

        if (r == 0) {
                if (all) {
                        *ret = OSB_TAKE_PTR(docs);
                } else {
                        json_t *v = c->doc ? OSB_TAKE_PTR(c->doc) : json_null();
                        *ret = v;
                }
        }
        ctx_release(c);
        osb_free(c);
        json_decref(docs);
        return r;
}

int osb_yaml_parse(const char *data, size_t len, json_t **ret, struct osb_error *err)
{
        return parse(data, len, false, ret, err);
}

int osb_yaml_parse_all(const char *data, size_t len, json_t **ret, struct osb_error *err)
{
        return parse(data, len, true, ret, err);
}
