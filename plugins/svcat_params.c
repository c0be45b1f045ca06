/* plugins/svcat_params.c: parameter schemas for people (svcat_params.h). */
#include "common/osb_compat.h"

#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "plugins/cli.h"
#include "plugins/svcat_params.h"

#define LABEL_WIDTH 24
#define TEXT_MAX 200

/* Appends @s (at most TEXT_MAX bytes of it) with bytes that are not printable ASCII as '?'. */
static int append_safe(struct osb_buf *b, const char *s)
{
        int r = 0;
        size_t n = 0;
        for (const unsigned char *c = (const unsigned char *) s; *c && r == 0; c++, n++) {
                if (n == TEXT_MAX)
                        return osb_buf_appends(b, "...");
                char ch = *c >= 0x20 && *c < 0x7f ? (char) *c : '?';
                r = osb_buf_append(b, &ch, 1);
        }
        return r;
}

/* A JSON value from the schema, compact and safe. */
static int append_value(struct osb_buf *b, const json_t *v)
{
        if (json_is_string(v))
                return append_safe(b, json_string_value(v));
        osb_autofree char *d = osb_json_dump_flags(v, JSON_COMPACT | JSON_ENCODE_ANY, NULL);
        return d ? append_safe(b, d) : -ENOMEM;
}

static bool is_required(const json_t *schema, const char *name)
{
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(schema, "required"), i, v)
                if (osb_streq(json_string_value(v), name))
                        return true;
        return false;
}

char *svcat_params_summary(const json_t *schema)
{
        if (!schema || json_is_null(schema))
                return osb_strdup("-");
        const json_t *props = json_object_get(schema, "properties");
        if (json_object_size(props) == 0)
                return osb_strdup("(any)");
        struct osb_buf b;
        osb_buf_init(&b, 64 * 1024);
        const char *name;
        json_t *v;
        int r = 0;
        json_object_foreach((json_t *) props, name, v) {
                if (r == 0 && b.len)
                        r = osb_buf_appends(&b, ", ");
                if (r == 0)
                        r = append_safe(&b, name);
                if (r == 0 && is_required(schema, name))
                        r = osb_buf_appends(&b, "*");
        }
        if (r < 0 && r != -E2BIG) {
                osb_buf_release(&b);
                return NULL;
        }
        char *s = osb_strdup(b.data ? b.data : "");
        osb_buf_release(&b);
        return s;
}

static const char *type_of(const json_t *p, char *buf, size_t n)
{
        const json_t *t = json_object_get(p, "type");
        if (json_is_string(t))
                return json_string_value(t);
        if (!json_is_array(t))
                return json_object_get(p, "enum") ? "(enum)" : "(any)";
        size_t used = 0;
        buf[0] = '\0';
        size_t i;
        json_t *v;
        json_array_foreach(t, i, v) {
                int k = snprintf(buf + used, n - used, "%s%s", i ? "|" : "", json_string_value(v) ? json_string_value(v) : "?");
                if (k < 0 || (size_t) k >= n - used)
                        break;
                used += (size_t) k;
        }
        return buf;
}

/* Starts a rule: "; " after the previous one. */
static int rule(struct osb_buf *b, const char *text)
{
        if (b->len && osb_buf_appends(b, "; ") < 0)
                return -ENOMEM;
        return osb_buf_appends(b, text);
}

/* "1 to 10", "at most 10 characters", "one of a, b", "pattern P", "default D", "; "-joined.
 * Returns 0 or -ENOMEM/-E2BIG (what was built so far stays). */
static int rules_of(const json_t *p, struct osb_buf *b)
{
        const json_t *min = json_object_get(p, "minimum"), *max = json_object_get(p, "maximum");
        const json_t *minl = json_object_get(p, "minLength"), *maxl = json_object_get(p, "maxLength");
        const json_t *en = json_object_get(p, "enum"), *pat = json_object_get(p, "pattern");
        const json_t *def = json_object_get(p, "default");
        int r = 0;
        if (json_is_number(min) && json_is_number(max)) {
                if ((r = rule(b, "")) < 0 || (r = append_value(b, min)) < 0 || (r = osb_buf_appends(b, " to ")) < 0 ||
                    (r = append_value(b, max)) < 0)
                        return r;
        } else if (json_is_number(min) || json_is_number(max)) {
                if ((r = rule(b, json_is_number(min) ? "at least " : "at most ")) < 0 ||
                    (r = append_value(b, json_is_number(min) ? min : max)) < 0)
                        return r;
        }
        char text[64];
        if (json_is_integer(minl)) {
                (void) snprintf(text, sizeof(text), "at least %" JSON_INTEGER_FORMAT " characters", json_integer_value(minl));
                if ((r = rule(b, text)) < 0)
                        return r;
        }
        if (json_is_integer(maxl)) {
                (void) snprintf(text, sizeof(text), "at most %" JSON_INTEGER_FORMAT " characters", json_integer_value(maxl));
                if ((r = rule(b, text)) < 0)
                        return r;
        }
        if (json_is_array(en)) {
                if ((r = rule(b, "one of ")) < 0)
                        return r;
                size_t i;
                json_t *v;
                json_array_foreach(en, i, v)
                        if ((i && (r = osb_buf_appends(b, ", ")) < 0) || (r = append_value(b, v)) < 0)
                                return r;
        }
        if (json_is_string(pat) && ((r = rule(b, "pattern ")) < 0 || (r = append_safe(b, json_string_value(pat))) < 0))
                return r;
        if (def && ((r = rule(b, "default ")) < 0 || (r = append_value(b, def)) < 0))
                return r;
        return 0;
}

void svcat_params_describe(const char *label, const json_t *schema)
{
        char l[64];
        (void) snprintf(l, sizeof(l), "%s:", label);
        if (!schema || json_is_null(schema)) {
                printf("%-*s<none>\n", LABEL_WIDTH, l);
                return;
        }
        printf("%s\n", l);
        const json_t *props = json_object_get(schema, "properties");
        static const char *const head[] = {"PARAMETER", "TYPE", "REQUIRED", "RULES", "DESCRIPTION"};
        struct cli_table *t = cli_table_new(5, head);
        const char *name;
        json_t *p;
        json_object_foreach((json_t *) props, name, p) {
                struct osb_buf n, rules, desc;
                osb_buf_init(&n, 4096);
                osb_buf_init(&rules, 4096);
                osb_buf_init(&desc, 4096);
                char tb[64];
                (void) append_safe(&n, name);
                (void) rules_of(p, &rules);
                if (json_is_string(json_object_get(p, "description")))
                        (void) append_safe(&desc, json_string_value(json_object_get(p, "description")));
                const char *row[] = {n.data ? n.data : "", type_of(p, tb, sizeof(tb)),
                                     is_required(schema, name) ? "yes" : "no", rules.data ? rules.data : "",
                                     desc.data ? desc.data : ""};
                if (t)
                        (void) cli_table_add(t, row);
                osb_buf_release(&n);
                osb_buf_release(&rules);
                osb_buf_release(&desc);
        }
        if (t && cli_table_rows(t) > 0) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                if (f) {
                        cli_table_print(t, f);
                        t = NULL;
                        fclose(f);
                        for (const char *line = buf; line && *line;) {
                                const char *nl = strchr(line, '\n');
                                size_t k = nl ? (size_t) (nl - line) : strlen(line);
                                printf("  %.*s\n", (int) k, line);
                                line = nl ? nl + 1 : NULL;
                        }
                        free(buf);   /* open_memstream's buffer is the C library's */
                }
        }
        if (t)
                cli_table_free(t);
        const json_t *addl = json_object_get(schema, "additionalProperties");
        printf("  %s\n", json_is_false(addl) ? "No other parameters are allowed." :
                         json_object_size(props) ? "Other parameters are allowed." : "Any parameters are allowed.");
}
