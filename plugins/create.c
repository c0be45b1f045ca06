/* plugins/create.c: the flag tables, parameters, output and --wait that the two "kubectl create"
 * plugins share (plugins/create.h). */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "common/osb_parse.h"
#include "common/osb_schema.h"
#include "plugins/create.h"

#define WAIT_POLL_MS 500

/* ---- flags ----------------------------------------------------------------------------------- */

static const struct create_flag *find_long(const struct create_command *cmd, const char *name, size_t len)
{
        for (size_t i = 0; i < cmd->nflags; i++)
                if (strlen(cmd->flags[i].name) == len && strncmp(cmd->flags[i].name, name, len) == 0)
                        return &cmd->flags[i];
        return NULL;
}

static const struct create_flag *find_short(const struct create_command *cmd, char c)
{
        for (size_t i = 0; i < cmd->nflags; i++)
                if (cmd->flags[i].shorthand == c)
                        return &cmd->flags[i];
        return NULL;
}

static int list_add(struct create_list *l, const char *v)
{
        const char **n = osb_realloc(l->v, (l->n + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        n[l->n++] = v;
        l->v = n;
        return 0;
}

static int apply(const struct create_flag *f, const char *value, struct osb_error *err)
{
        int r;
        switch (f->kind) {
        case CREATE_FLAG_STRING:
                *(const char **) f->target = value;
                return 0;
        case CREATE_FLAG_BOOL:
                if (osb_parse_bool(value, f->target) < 0)
                        return osb_error_set(err, CLI_EXIT_USAGE, "invalid argument '%s' for --%s: true or false; see --help",
                                             value, f->name);
                return 0;
        case CREATE_FLAG_LIST:
                r = list_add(f->target, value);
                return r < 0 ? osb_error_set(err, r, "out of memory") : 0;
        case CREATE_FLAG_DURATION:
                if (osb_parse_duration_ms(value, f->target) < 0)
                        return osb_error_set(err, CLI_EXIT_USAGE,
                                             "invalid argument '%s' for --%s: a duration such as 500ms, 30s, 5m or 1h; see --help",
                                             value, f->name);
                return 0;
        }
        return osb_error_set(err, CLI_EXIT_USAGE, "--%s: unknown kind of flag", f->name);
}

/* --name[=value]: @a without the leading "--"; may take argv[*i + 1]. */
static int parse_long(const struct create_command *cmd, const char *a, int argc, char **argv, int *i,
                      struct osb_error *err)
{
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t) (eq - a) : strlen(a);
        const struct create_flag *f = find_long(cmd, a, len);
        if (!f)
                return osb_error_set(err, CLI_EXIT_USAGE, "unknown flag: --%.*s; see --help", (int) len, a);
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
                if (f->kind == CREATE_FLAG_BOOL)
                        value = "true";
                else if (f->kind == CREATE_FLAG_STRING && f->noarg)
                        value = f->noarg;
                else if (*i + 1 < argc)
                        value = argv[++*i];
                else
                        return osb_error_set(err, CLI_EXIT_USAGE, "flag needs an argument: --%s; see --help", f->name);
        }
        return apply(f, value, err);
}

/* -x, -xVALUE, -x=VALUE, -x VALUE (only single-letter flags that take a value exist). */
static int parse_short(const struct create_command *cmd, const char *a, int argc, char **argv, int *i,
                       struct osb_error *err)
{
        const struct create_flag *f = find_short(cmd, a[0]);
        if (!f)
                return osb_error_set(err, CLI_EXIT_USAGE, "unknown shorthand flag: '%c' in -%s; see --help", a[0], a);
        const char *value = a[1] ? a + 1 + (a[1] == '=') : NULL;
        if (f->kind == CREATE_FLAG_BOOL && !value)
                value = "true";
        if (!value) {
                if (*i + 1 >= argc)
                        return osb_error_set(err, CLI_EXIT_USAGE, "flag needs an argument: -%c; see --help", a[0]);
                value = argv[++*i];
        }
        return apply(f, value, err);
}

int create_flags_parse(const struct create_command *cmd, int argc, char **argv, const char **ret_name,
                       struct osb_error *err)
{
        const char *name = NULL;
        bool flags_done = false;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                int r = 0;
                if (flags_done || a[0] != '-' || a[1] == '\0') {
                        if (name)
                                return osb_error_set(err, CLI_EXIT_USAGE,
                                                     "unexpected argument '%s': only one NAME; see --help", a);
                        name = a;
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        flags_done = true;
                        continue;
                }
                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        create_usage(cmd, stdout);
                        return 1;
                }
                if (a[1] == '-')
                        r = parse_long(cmd, a + 2, argc, argv, &i, err);
                else
                        r = parse_short(cmd, a + 1, argc, argv, &i, err);
                if (r < 0 || r == CLI_EXIT_USAGE)
                        return r;
        }
        if (!name || !*name)
                return osb_error_set(err, CLI_EXIT_USAGE, "NAME is required; see --help");
        *ret_name = name;
        return 0;
}

void create_flags_release(const struct create_command *cmd)
{
        for (size_t i = 0; i < cmd->nflags; i++)
                if (cmd->flags[i].kind == CREATE_FLAG_LIST) {
                        struct create_list *l = cmd->flags[i].target;
                        osb_free(l->v);
                        l->v = NULL;
                        l->n = 0;
                }
}

static void flag_text(const struct create_flag *f, char *out, size_t n)
{
        char sh[8] = "";
        if (f->shorthand)
                (void) snprintf(sh, sizeof(sh), "-%c, ", f->shorthand);
        if (f->kind == CREATE_FLAG_BOOL)
                (void) snprintf(out, n, "%s--%s", sh, f->name);
        else if (f->noarg)
                (void) snprintf(out, n, "%s--%s[=%s]", sh, f->name, f->metavar ? f->metavar : "VALUE");
        else
                (void) snprintf(out, n, "%s--%s %s", sh, f->name, f->metavar ? f->metavar : "VALUE");
}

/* Prints @text wrapped at 100 columns, continuation lines indented by @indent. */
static void print_wrapped(FILE *f, const char *text, int indent)
{
        int col = indent;
        const char *p = text;
        while (*p) {
                size_t w = strcspn(p, " ");
                if (col > indent && col + 1 + (int) w > 100) {
                        fprintf(f, "\n%*s", indent, "");
                        col = indent;
                } else if (col > indent) {
                        fputc(' ', f);
                        col++;
                }
                fprintf(f, "%.*s", (int) w, p);
                col += (int) w;
                p += w;
                while (*p == ' ')
                        p++;
        }
        fputc('\n', f);
}

void create_usage(const struct create_command *cmd, FILE *f)
{
        static const struct {
                const char *flag, *help;
        } globals[] = {
                {"-n, --namespace NS", "Namespace of the object (default: the kubeconfig context's namespace)."},
                {"--context NAME", "kubeconfig context to use instead of its current-context."},
                {"--kubeconfig FILE", "kubeconfig to use (else $KUBECONFIG, then ~/.kube/config)."},
                {"-h, --help", "Show this help and exit."},
        };
        int width = 0;
        char text[96];
        for (size_t i = 0; i < cmd->nflags; i++) {
                flag_text(&cmd->flags[i], text, sizeof(text));
                width = OSB_MAX(width, (int) strlen(text));
        }
        for (size_t i = 0; i < OSB_ELEMENTSOF(globals); i++)
                width = OSB_MAX(width, (int) strlen(globals[i].flag));

        fprintf(f, "%s\n\nUsage:\n  %s %s\n\nOptions:\n", cmd->summary, cmd->prog, cmd->synopsis);
        for (size_t i = 0; i < cmd->nflags; i++) {
                const struct create_flag *fl = &cmd->flags[i];
                osb_autofree char *help = fl->def ? osb_asprintf("%s [default: %s]", fl->help, fl->def) : NULL;
                flag_text(fl, text, sizeof(text));
                fprintf(f, "  %-*s  ", width, text);
                print_wrapped(f, help ? help : fl->help, width + 4);
        }
        fprintf(f, "\nGlobal options (kubectl hands them to the plugin only when they follow its name):\n");
        for (size_t i = 0; i < OSB_ELEMENTSOF(globals); i++) {
                fprintf(f, "  %-*s  ", width, globals[i].flag);
                print_wrapped(f, globals[i].help, width + 4);
        }
        if (cmd->footer)
                fprintf(f, "\n%s", cmd->footer);
        fprintf(f, "\nExit codes:\n"
                   "  0  created (and, with --wait, Ready)\n"
                   "  1  the request failed: API error, unknown class, plan or instance, unreachable cluster\n"
                   "  2  bad command line\n"
                   "  3  --wait: the object ended Failed (the reason and the broker's message are printed)\n"
                   "  4  --wait: neither Ready nor Failed after --timeout (its conditions are printed)\n");
}

/* ---- parameters ------------------------------------------------------------------------------ */

int create_parameters(const struct create_list *params, const struct create_list *params_json,
                      const struct create_list *secret_params, json_t *spec, struct osb_error *err)
{
        json_auto_t *p = json_object();
        json_auto_t *from = json_array();
        if (!p || !from)
                return osb_error_set(err, -ENOMEM, "out of memory");

        for (size_t i = 0; i < params->n; i++) {
                const char *kv = params->v[i], *eq = strchr(kv, '=');
                if (!eq || eq == kv)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--param '%s': expected KEY=VALUE with a non-empty KEY", kv);
                osb_autofree char *key = osb_strndup(kv, (size_t) (eq - kv));
                if (!key)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                if (json_object_get(p, key))
                        return osb_error_set(err, CLI_EXIT_USAGE, "--param: key '%s' is given twice", key);
                /* jansson refuses a key or value that is not UTF-8 (and nothing else, short of
                 * memory): a command-line mistake, not a failure. */
                json_t *value = json_string(eq + 1);
                if (!value || json_object_set_new(p, key, value) < 0)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--param '%s': not valid UTF-8", kv);
        }
        for (size_t i = 0; i < params_json->n; i++) {
                json_auto_t *obj = NULL;
                struct osb_error perr = OSB_ERROR_INIT;
                const char *doc = params_json->v[i];
                if (osb_json_parse_object(doc, strlen(doc), &obj, &perr) < 0)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--params-json: not a JSON object: %s", perr.text);
                const char *key;
                json_t *v;
                json_object_foreach(obj, key, v) {
                        if (json_object_get(p, key))
                                return osb_error_set(err, CLI_EXIT_USAGE,
                                                     "--params-json: key '%s' is also given by --param or another --params-json",
                                                     key);
                        if (json_object_set(p, key, v) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                }
        }
        for (size_t i = 0; i < secret_params->n; i++) {
                const char *s = secret_params->v[i], *colon = strchr(s, ':');
                size_t nlen = colon ? (size_t) (colon - s) : strlen(s);
                const char *key = colon ? colon + 1 : "parameters";
                if (nlen == 0 || !*key)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--secret-param '%s': expected SECRET or SECRET:KEY", s);
                json_t *ref = json_pack("{s:{s:s%,s:s}}", "secretKeyRef", "name", s, nlen, "key", key);
                if (!ref)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--secret-param '%s': not valid UTF-8", s);
                if (json_array_append_new(from, ref) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        if ((json_object_size(p) > 0 && json_object_set(spec, "parameters", p) < 0) ||
            (json_array_size(from) > 0 && json_object_set(spec, "parametersFrom", from) < 0))
                return osb_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

int create_output_parse(const char *output, const char *dry_run, struct create_output *ret,
                        struct osb_error *err)
{
        struct create_output o = {CLI_OUTPUT_TABLE, false};
        if (output) {
                int r = cli_parse_output(output, &o.format, err);
                if (r != 0)
                        return r;
                if (o.format == CLI_OUTPUT_TABLE)
                        return osb_error_set(err, CLI_EXIT_USAGE, "--output must be name, yaml or json; see --help");
        }
        if (dry_run && strcmp(dry_run, "client") == 0)
                o.dry_run = true;
        else if (dry_run && strcmp(dry_run, "server") == 0)
                return osb_error_set(err, CLI_EXIT_USAGE, "--dry-run=server is not supported: use --dry-run=client");
        else if (dry_run && strcmp(dry_run, "none") != 0)
                return osb_error_set(err, CLI_EXIT_USAGE, "--dry-run must be none or client, not '%s'; see --help",
                                     dry_run);
        if (o.dry_run && o.format == CLI_OUTPUT_TABLE)
                o.format = CLI_OUTPUT_YAML;
        *ret = o;
        return 0;
}

int create_print(const struct create_output *o, const char *resource, const char *name, const json_t *obj)
{
        switch (o->format) {
        case CLI_OUTPUT_JSON:
                return cli_print_json(stdout, obj);
        case CLI_OUTPUT_YAML:
                return cli_print_yaml(stdout, obj);
        case CLI_OUTPUT_NAME:
                printf("%s/%s\n", resource, name);
                break;
        case CLI_OUTPUT_TABLE:
                printf("%s/%s created%s\n", resource, name, o->dry_run ? " (dry run)" : "");
                break;
        }
        return fflush(stdout) == 0 ? 0 : -EIO;
}

/* ---- reading --------------------------------------------------------------------------------- */

int create_list_items(struct kube_client *kc, const struct kube_resource *res, const char *ns, json_t **ret,
                      struct osb_error *err)
{
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, NULL, NULL, &path);
        if (r < 0)
                return osb_error_set(err, r, "GET %s: invalid resource or namespace '%s'", res->plural, ns ? ns : "");
        struct kube_response resp = {0};
        r = kube_request(kc, "GET", path, NULL, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status == 404) {
                kube_response_release(&resp);
                json_t *empty = json_array();
                if (!empty)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                *ret = empty;
                return 0;
        }
        r = kube_response_error(kc, "GET", path, &resp, err);
        if (r == 0) {
                json_t *items = json_object_get(resp.body, "items");
                if (json_is_array(items))
                        *ret = json_incref(items);
                else if (json_is_object(resp.body) && (!items || json_is_null(items)))
                        r = (*ret = json_array()) ? 0 : osb_error_set(err, -ENOMEM, "out of memory");
                else
                        r = osb_error_set(err, -EBADMSG, "GET %s: the response is not a list", path);
        }
        kube_response_release(&resp);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *create_join_sorted(const json_t *names)
{
        size_t n = json_array_size(names);
        osb_autofree const char **v = osb_calloc(n ? n : 1, sizeof(*v));
        if (!v)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(names, i));
                if (s)
                        v[k++] = s;
        }
        qsort(v, k, sizeof(*v), cmp_str);
        struct osb_buf b;
        osb_buf_init(&b, SIZE_MAX / 2);
        for (size_t i = 0; i < k; i++) {
                if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
                        continue;
                if ((b.len > 0 && osb_buf_appends(&b, ", ") < 0) || osb_buf_appends(&b, v[i]) < 0) {
                        osb_buf_release(&b);
                        return NULL;
                }
        }
        return osb_buf_detach(&b, NULL);
}

/* ---- --wait ---------------------------------------------------------------------------------- */

static bool condition_true(const json_t *obj, const char *type)
{
        return osb_streq(cli_str(cli_condition(obj, type), "status", NULL), "True");
}

/* Failures that a later GET may not have: the server restarting, a dropped connection. */
static bool transient(int r)
{
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EIO || r == OSB_E_UNAVAILABLE;
}

static void print_conditions(const json_t *obj)
{
        const json_t *conds = cli_get(obj, "status", "conditions", NULL);
        if (json_array_size(conds) == 0) {
                fprintf(stderr, "  no conditions yet: is the catalog controller running?\n");
                return;
        }
        size_t i;
        const json_t *c;
        json_array_foreach(conds, i, c) {
                const char *type = cli_str(c, "type", NULL), *status = cli_str(c, "status", NULL);
                const char *reason = cli_str(c, "reason", NULL), *message = cli_str(c, "message", NULL);
                fprintf(stderr, "  %s=%s %s: %s\n", type ? type : "?", status ? status : "?", reason ? reason : "",
                        message ? message : "");
        }
}

int create_wait(const struct cli *cli, const struct kube_resource *res, const char *kind, const char *name,
                int64_t timeout_ms, json_t **ret)
{
        int64_t deadline = osb_mono_ms() + timeout_ms;
        json_auto_t *last = NULL;
        struct osb_error last_err = OSB_ERROR_INIT;
        for (;;) {
                json_t *obj = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = kube_get(cli->kc, res, cli->namespace, name, &obj, &err);
                if (r < 0 && !transient(r))
                        return cli_request_error(cli, r, &err);
                if (r < 0) {
                        last_err = err;
                } else {
                        json_decref(last);
                        last = obj;
                        last_err.text[0] = '\0';
                        if (condition_true(last, "Failed")) {
                                const json_t *c = cli_condition(last, "Failed");
                                const char *reason = cli_str(c, "reason", NULL), *message = cli_str(c, "message", NULL);
                                return cli_error(cli, CLI_EXIT_FAILED, "%s '%s' failed: %s: %s", kind, name,
                                                 reason ? reason : "(no reason)", message ? message : "(no message)");
                        }
                        if (condition_true(last, "Ready")) {
                                *ret = OSB_TAKE_PTR(last);
                                return CLI_EXIT_OK;
                        }
                }
                int64_t left = deadline - osb_mono_ms();
                if (left <= 0)
                        break;
                osb_sleep_ms(OSB_MIN(left, (int64_t) WAIT_POLL_MS));
        }
        char took[32];
        if (timeout_ms > 0 && timeout_ms % 3600000 == 0)
                (void) snprintf(took, sizeof(took), "%" PRId64 "h", timeout_ms / 3600000);
        else if (timeout_ms > 0 && timeout_ms % 60000 == 0)
                (void) snprintf(took, sizeof(took), "%" PRId64 "m", timeout_ms / 60000);
        else if (timeout_ms % 1000 == 0)
                (void) snprintf(took, sizeof(took), "%" PRId64 "s", timeout_ms / 1000);
        else
                (void) snprintf(took, sizeof(took), "%" PRId64 "ms", timeout_ms);
        if (last_err.text[0])
                cli_error(cli, CLI_EXIT_TIMEOUT, "%s '%s' is not Ready after %s (--timeout); the last request failed: %s",
                          kind, name, took, last_err.text);
        else
                cli_error(cli, CLI_EXIT_TIMEOUT, "%s '%s' is not Ready after %s (--timeout); its conditions:", kind, name,
                          took);
        if (last)
                print_conditions(last);
        return CLI_EXIT_TIMEOUT;
}

int create_submit(struct cli *cli, const struct kube_resource *res, const char *resource, const char *kind,
                  const char *name, const json_t *obj, const struct create_output *o, bool wait,
                  int64_t timeout_ms, json_t **ret_ready)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *created = NULL;
        *ret_ready = NULL;
        int r = kube_create(cli->kc, res, cli->namespace, obj, &created, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        if (!wait || o->format == CLI_OUTPUT_NAME || o->format == CLI_OUTPUT_TABLE)
                if (create_print(o, resource, name, created) < 0)
                        return CLI_EXIT_ERROR;
        if (!wait)
                return CLI_EXIT_OK;
        json_auto_t *ready = NULL;
        r = create_wait(cli, res, kind, name, timeout_ms, &ready);
        if (r != CLI_EXIT_OK)
                return r;
        const char *msg = cli_str(cli_condition(ready, "Ready"), "message", NULL);
        fprintf(o->format == CLI_OUTPUT_TABLE ? stdout : stderr, "%s %s is Ready: %s\n", kind, name,
                msg ? msg : "");
        if ((o->format == CLI_OUTPUT_JSON || o->format == CLI_OUTPUT_YAML) &&
            create_print(o, resource, name, ready) < 0)
                return CLI_EXIT_ERROR;
        *ret_ready = OSB_TAKE_PTR(ready);
        return CLI_EXIT_OK;
}

/* ---- --validate ------------------------------------------------------------------------------ */

int create_check_parameters(const struct cli *cli, const json_t *spec, const json_t *plan, const char *field)
{
        const json_t *params = json_object_get(spec, "parameters");
        const json_t *schema = cli_get(plan, "spec", field, NULL);
        if (!params || !schema || json_is_null(schema))
                return CLI_EXIT_OK;
        if (json_array_size(json_object_get(spec, "parametersFrom")) > 0) {
                fprintf(stderr, "note: the parameters are not checked here, since some come from Secrets "
                                "(--secret-param): the catalog controller checks them against the plan's schema\n");
                return CLI_EXIT_OK;
        }
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = NULL;
        int r = osb_schema_validate_flags(schema, params, "parameters", OSB_SCHEMA_ALL | OSB_SCHEMA_QUIET, &list, &err);
        json_auto_t *found = list;
        if (r == -ENOMEM)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        if (r == 0)
                return CLI_EXIT_OK;
        const char *pname = cli_str(plan, "metadata", "name", NULL);       /* a Kubernetes name: safe to print */
        size_t n = json_array_size(found);
        if (n == 0)     /* the validator's step budget: its message says so */
                return cli_error(cli, CLI_EXIT_ERROR, "%s", err.text);
        fprintf(stderr, "error: %s: the parameters do not match the schema of plan '%s' (%zu violation%s; "
                        "kubectl svcat describe plan shows the schema, --validate=false skips this check):\n",
                cli->prog, pname ? pname : "?", n, n == 1 ? "" : "s");
        for (size_t k = 0; k < n; k++)
                fprintf(stderr, "  %s\n", json_string_value(json_array_get(found, k)));
        return CLI_EXIT_ERROR;
}
