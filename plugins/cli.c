/* plugins/cli.c: what the kubectl plugins share (see cli.h). */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "plugins/cli.h"
#include "kube/config.h"

#include <stdarg.h>
#include <yaml.h>

/* ---- flags and connection ------------------------------------------------------------------ */

/* Matches @arg against a global flag taking a value: "--NAME VALUE", "--NAME=VALUE" (and, for a
 * short name, "-S VALUE" and "-SVALUE"). Returns 0 no match, 1 matched with *ret_value set
 * (consuming the next argument when *ret_used_next), or -1 for a missing value. */
static int match_flag(const char *arg, const char *next, const char *name, char short_name,
                      const char **ret_value, bool *ret_used_next)
{
        size_t n = strlen(name);
        *ret_used_next = false;
        if (arg[0] == '-' && arg[1] == '-' && strncmp(arg + 2, name, n) == 0) {
                const char *rest = arg + 2 + n;
                if (*rest == '=') {
                        *ret_value = rest + 1;
                        return 1;
                }
                if (*rest != '\0')
                        return 0;
        } else if (short_name && arg[0] == '-' && arg[1] == short_name) {
                if (arg[2] != '\0') {
                        *ret_value = arg[2] == '=' ? arg + 3 : arg + 2;
                        return 1;
                }
        } else {
                return 0;
        }
        if (!next)
                return -1;
        *ret_value = next;
        *ret_used_next = true;
        return 1;
}

int cli_global_flags(struct cli *cli, int *argc, char **argv, struct osb_error *err)
{
        static const struct {
                const char *name;
                char short_name;
                size_t offset;
        } flags[] = {
                {"namespace", 'n', offsetof(struct cli, namespace)},
                {"context", 0, offsetof(struct cli, context)},
                {"kubeconfig", 0, offsetof(struct cli, kubeconfig)},
        };
        int out = 1;
        bool rest = false;
        for (int i = 1; i < *argc; i++) {
                const char *arg = argv[i];
                bool matched = false;
                if (!rest && strcmp(arg, "--") == 0)
                        rest = true;
                for (unsigned k = 0; !rest && !matched && k < OSB_ELEMENTSOF(flags); k++) {
                        const char *value = NULL;
                        bool used_next = false;
                        int m = match_flag(arg, i + 1 < *argc ? argv[i + 1] : NULL, flags[k].name,
                                           flags[k].short_name, &value, &used_next);
                        if (m == 0)
                                continue;
                        if (m < 0 || !*value)
                                return osb_error_set(err, CLI_EXIT_USAGE, "flag needs an argument: %s", arg);
                        char **field = (char **) ((char *) cli + flags[k].offset);
                        osb_free(*field);
                        *field = osb_strdup(value);
                        if (!*field)
                                return osb_error_set(err, CLI_EXIT_ERROR, "out of memory");
                        if (flags[k].short_name == 'n')
                                cli->namespace_given = true;
                        if (used_next)
                                i++;
                        matched = true;
                }
                if (!matched)
                        argv[out++] = argv[i];
        }
        argv[out] = NULL;
        *argc = out;
        return 0;
}

int cli_connect(struct cli *cli, struct osb_error *err)
{
        struct kube_config *cfg = NULL;
        int r = kube_config_load(cli->kubeconfig, cli->context, &cfg, err);
        if (r < 0)
                return CLI_EXIT_ERROR;
        if (!cli->namespace) {
                cli->namespace = osb_strdup(cfg->namespace ? cfg->namespace : "default");
                if (!cli->namespace) {
                        kube_config_free(cfg);
                        return osb_error_set(err, CLI_EXIT_ERROR, "out of memory");
                }
        }
        struct kube_client_options opts = {.connect_timeout_ms = 5000, .request_timeout_ms = 30000};
        r = kube_client_new(cfg, &opts, &cli->kc, err);
        return r < 0 ? CLI_EXIT_ERROR : 0;
}

void cli_release(struct cli *cli)
{
        cli->kc = kube_client_free(cli->kc);
        osb_free(cli->namespace);
        osb_free(cli->context);
        osb_free(cli->kubeconfig);
        cli->namespace = cli->context = cli->kubeconfig = NULL;
}

static void verror(const struct cli *cli, const char *fmt, va_list ap)
{
        fputs("error: ", stderr);
        if (cli && cli->prog)
                fprintf(stderr, "%s: ", cli->prog);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int cli_error(const struct cli *cli, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        verror(cli, fmt, ap);
        va_end(ap);
        return code;
}

int cli_request_error(const struct cli *cli, int rc, const struct osb_error *err)
{
        bool unreachable = rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
                           rc == -ENETUNREACH || rc == -EPROTO || rc == -EIO;
        const struct kube_config *cfg = cli && cli->kc ? kube_client_config(cli->kc) : NULL;
        if (unreachable && cfg)
                return cli_error(cli, CLI_EXIT_ERROR,
                                 "cannot reach the Kubernetes API server at %s (%s%s%s): %s", cfg->server,
                                 cfg->source ? cfg->source : "configuration", cfg->context ? ", context " : "",
                                 cfg->context ? cfg->context : "", err->text[0] ? err->text : osb_error_name(rc));
        return cli_error(cli, CLI_EXIT_ERROR, "%s", err->text[0] ? err->text : osb_error_name(rc));
}

/* ---- output -------------------------------------------------------------------------------- */

int cli_parse_output(const char *s, enum cli_output *ret, struct osb_error *err)
{
        if (!s || !*s || strcmp(s, "wide") == 0)
                *ret = CLI_OUTPUT_TABLE;
        else if (strcmp(s, "json") == 0)
                *ret = CLI_OUTPUT_JSON;
        else if (strcmp(s, "yaml") == 0)
                *ret = CLI_OUTPUT_YAML;
        else if (strcmp(s, "name") == 0)
                *ret = CLI_OUTPUT_NAME;
        else
                return osb_error_set(err, CLI_EXIT_USAGE, "--output must be json, yaml or name, not '%s'", s);
        return 0;
}

int cli_print_json(FILE *f, const json_t *v)
{
        if (json_dumpf(v, f, JSON_INDENT(4) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0)
                return -EIO;
        return fputc('\n', f) == EOF ? -EIO : 0;
}

/* Whether the plain scalar @s would be read back as something other than a string (YAML 1.1
 * and 1.2 core schemas: null, booleans, numbers; "<<", YAML 1.1's merge key, which kubectl's
 * YAML reader merges instead of keeping as a key) or needs quoting for its first character. */
static bool needs_quotes(const char *s)
{
        static const char *const words[] = {"~", "null", "true", "false", "yes", "no", "on", "off",
                                            "y", "n", ".inf", "-.inf", "+.inf", ".nan", "<<"};
        if (!*s)
                return true;
        for (unsigned i = 0; i < OSB_ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        /* Anything number-like: digits, signs, dots, exponents, 0x/0o prefixes, '_' and ':' (1.1
         * sexagesimal). Quoting a string that only looks numeric costs nothing. */
        bool digit = false;
        for (const char *p = s; *p; p++) {
                if (isdigit((unsigned char) *p))
                        digit = true;
                else if (!strchr("+-._:eExXoOabcdefABCDEF", *p))
                        return false;
        }
        return digit && (isdigit((unsigned char) s[0]) || strchr("+-.", s[0]));
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, size_t len, bool is_string)
{
        yaml_event_t ev;
        yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
        if (is_string && needs_quotes(s))
                style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) s, (int) len, 1, 1, style))
                return -ENOMEM;
        return emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, const json_t *v, unsigned depth)
{
        yaml_event_t ev;
        int r = 0;
        if (depth > 512)
                return -ELOOP;
        switch (json_typeof(v)) {
        case JSON_OBJECT: {
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
                        return -ENOMEM;
                r = emit(e, &ev);
                const char *k;
                const json_t *m;
                void *iter = json_object_iter((json_t *) v);
                while (r >= 0 && iter) {
                        k = json_object_iter_key(iter);
                        m = json_object_iter_value(iter);
                        r = emit_scalar(e, k, strlen(k), true);
                        if (r >= 0)
                                r = emit_value(e, m, depth + 1);
                        iter = json_object_iter_next((json_t *) v, iter);
                }
                if (r >= 0 && !yaml_mapping_end_event_initialize(&ev))
                        r = -ENOMEM;
                return r < 0 ? r : emit(e, &ev);
        }
        case JSON_ARRAY: {
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
                        return -ENOMEM;
                r = emit(e, &ev);
                for (size_t i = 0; r >= 0 && i < json_array_size(v); i++)
                        r = emit_value(e, json_array_get(v, i), depth + 1);
                if (r >= 0 && !yaml_sequence_end_event_initialize(&ev))
                        r = -ENOMEM;
                return r < 0 ? r : emit(e, &ev);
        }
        case JSON_STRING:
                return emit_scalar(e, json_string_value(v), json_string_length(v), true);
        case JSON_NULL:
                return emit_scalar(e, "null", 4, false);
        case JSON_TRUE:
                return emit_scalar(e, "true", 4, false);
        case JSON_FALSE:
                return emit_scalar(e, "false", 5, false);
        default: {
                osb_autofree char *num = json_dumps(v, JSON_ENCODE_ANY);
                return num ? emit_scalar(e, num, strlen(num), false) : -ENOMEM;
        }
        }
}

int cli_print_yaml(FILE *f, const json_t *v)
{
        yaml_emitter_t e;
        yaml_event_t ev;
        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output_file(&e, f);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        yaml_emitter_set_indent(&e, 2);
        int r = 0;
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
                r = -ENOMEM;
        if (r >= 0)
                r = emit(&e, &ev);
        if (r >= 0 && !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
                r = -ENOMEM;
        if (r >= 0)
                r = emit(&e, &ev);
        if (r >= 0)
                r = emit_value(&e, v, 0);
        if (r >= 0 && !yaml_document_end_event_initialize(&ev, 1))
                r = -ENOMEM;
        if (r >= 0)
                r = emit(&e, &ev);
        if (r >= 0 && !yaml_stream_end_event_initialize(&ev))
                r = -ENOMEM;
        if (r >= 0)
                r = emit(&e, &ev);
        if (r >= 0 && !yaml_emitter_flush(&e))
                r = -EIO;
        yaml_emitter_delete(&e);
        return r;
}

/* ---- tables -------------------------------------------------------------------------------- */

struct cli_table {
        unsigned ncols;
        char **cells;    /* lines * ncols: the headers, then the rows */
        size_t lines, cap;
};

/* Appends a line of ncols copies of @cells (NULL or "" becomes "<none>"). */
static int add_line(struct cli_table *t, const char *const *cells)
{
        if (t->lines == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                char **n = osb_realloc(t->cells, cap * t->ncols * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                t->cells = n;
                t->cap = cap;
        }
        char **line = &t->cells[t->lines * t->ncols];
        for (unsigned c = 0; c < t->ncols; c++) {
                line[c] = osb_strdup(cells[c] && *cells[c] ? cells[c] : "<none>");
                if (!line[c]) {
                        while (c--)
                                osb_free(line[c]);
                        return -ENOMEM;
                }
        }
        t->lines++;
        return 0;
}

struct cli_table *cli_table_new(unsigned ncols, const char *const *headers)
{
        struct cli_table *t = ncols >= 1 && ncols <= 64 ? osb_calloc(1, sizeof(*t)) : NULL;
        if (t)
                t->ncols = ncols;
        if (!t || add_line(t, headers) < 0) {
                osb_free(t);
                return NULL;
        }
        for (unsigned c = 0; c < ncols; c++)
                for (char *p = t->cells[c]; *p; p++)
                        *p = (char) toupper((unsigned char) *p);
        return t;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
        return add_line(t, cells);
}

size_t cli_table_rows(const struct cli_table *t)
{
        return t && t->lines ? t->lines - 1 : 0;
}

/* The columns a cell takes: its UTF-8 characters, as kubectl's tabwriter counts them (a name
 * or message with accents or CJK characters must not push the next column out of line). */
static size_t display_width(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

void cli_table_print(struct cli_table *t, FILE *f)
{
        if (!t)
                return;
        if (t->lines > 1) {
                size_t width[64] = {0};
                for (size_t l = 0; l < t->lines; l++)
                        for (unsigned c = 0; c < t->ncols; c++) {
                                size_t w = display_width(t->cells[l * t->ncols + c]);
                                if (w > width[c])
                                        width[c] = w;
                        }
                for (size_t l = 0; l < t->lines; l++)
                        for (unsigned c = 0; c < t->ncols; c++) {
                                const char *v = t->cells[l * t->ncols + c];
                                fputs(v, f);
                                if (c + 1 < t->ncols)
                                        fprintf(f, "%*s", (int) (width[c] - display_width(v) + 3), "");
                                else
                                        fputc('\n', f);
                        }
        }
        cli_table_free(t);
}

void cli_table_free(struct cli_table *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->lines * t->ncols; i++)
                osb_free(t->cells[i]);
        osb_free(t->cells);
        osb_free(t);
}

char *cli_age(const char *timestamp, char *out, size_t n)
{
        time_t then;
        if (osb_time_parse_rfc3339(timestamp, &then) < 0) {
                (void) snprintf(out, n, "<unknown>");
                return out;
        }
        long long d = (long long) difftime(time(NULL), then);
        if (d < 0)
                d = 0;
        /* kubectl's HumanDuration, simplified: seconds under 2 minutes, then minutes (with seconds
         * under 10 minutes), hours (with minutes under 8 hours), days (with hours under 2 days). */
        if (d < 120)
                (void) snprintf(out, n, "%llds", d);
        else if (d < 600)
                (void) snprintf(out, n, "%lldm%llds", d / 60, d % 60);
        else if (d < 3 * 3600)
                (void) snprintf(out, n, "%lldm", d / 60);
        else if (d < 8 * 3600)
                (void) snprintf(out, n, "%lldh%lldm", d / 3600, (d % 3600) / 60);
        else if (d < 48 * 3600)
                (void) snprintf(out, n, "%lldh", d / 3600);
        else if (d < 8 * 86400)
                (void) snprintf(out, n, "%lldd%lldh", d / 86400, (d % 86400) / 3600);
        else
                (void) snprintf(out, n, "%lldd", d / 86400);
        return out;
}

/* ---- objects ------------------------------------------------------------------------------- */

static const json_t *vget(const json_t *obj, va_list ap)
{
        const json_t *v = obj;
        for (const char *k = va_arg(ap, const char *); k && v; k = va_arg(ap, const char *))
                v = json_object_get(v, k);
        return v;
}

const json_t *cli_get(const json_t *obj, ...)
{
        va_list ap;
        va_start(ap, obj);
        const json_t *v = vget(obj, ap);
        va_end(ap);
        return v;
}

const char *cli_str(const json_t *obj, ...)
{
        va_list ap;
        va_start(ap, obj);
        const json_t *v = vget(obj, ap);
        va_end(ap);
        return json_string_value(v);
}

const json_t *cli_condition(const json_t *obj, const char *type)
{
        const json_t *conds = cli_get(obj, "status", "conditions", NULL);
        size_t i;
        const json_t *c;
        json_array_foreach(conds, i, c)
                if (osb_streq(json_string_value(json_object_get(c, "type")), type))
                        return c;
        return NULL;
}

const char *cli_status_reason(const json_t *obj)
{
        const char *s = cli_str(obj, "status", "lastConditionState", NULL);
        if (s && *s)
                return s;
        s = json_string_value(json_object_get(cli_condition(obj, "Ready"), "reason"));
        return s ? s : "";
}

bool cli_confirm(const char *prompt)
{
        fprintf(stderr, "%s [y/N]: ", prompt);
        fflush(stderr);
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

const char *cli_version(void)
{
        return PACKAGE_VERSION;
}
