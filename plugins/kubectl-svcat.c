/* plugins/kubectl-svcat.c: "kubectl svcat", the Service Catalog from kubectl (the archived
 * project's svcat CLI as a kubectl plugin): the command table, flags, help, and the commands
 * that change objects (sync, touch, upgrade, deprovision, unbind, abandon), version and completion.
 * migrate is in svcat_migrate.c.
 * get, marketplace and describe are in svcat_get.c and svcat_describe.c. */
#include "common/osb_compat.h"

#include <time.h>

#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "common/osb_parse.h"
#include "plugins/svcat.h"

#define ABANDON_ANNOTATION "bindery.dev/abandon"
#define FORCE_ROTATE_ANNOTATION "services.cloud.sap.com/forceRotate"
#define DEFAULT_TIMEOUT_MS (5 * 60 * 1000)
#define CONFLICT_RETRIES 5

struct command {
        const char *name;
        const char *alias;
        int (*run)(struct cli *cli, const struct svcat_args *a);
        const struct svcat_opt *opts;   /* NULL-named entry last */
        const char *usage;              /* after "kubectl svcat " */
        const char *summary;
        const char *text;               /* the rest of --help: what it does, and examples */
        unsigned min_args, max_args;
        bool connect;                   /* needs the cluster (cli_connect() before run) */
        bool hidden;
};

static const struct command *find_command(const char *name);

/* ---- flags ------------------------------------------------------------------------------------- */

static const struct svcat_opt opts_get[] = {
        {"output", 'o', "FORMAT", false, "json, yaml or name (default: a table)"},
        {"all-namespaces", 'A', NULL, false, "instances and bindings of every namespace (namespaced brokers, classes and plans too)"},
        {NULL, 0, NULL, false, NULL},
};
static const struct svcat_opt opts_marketplace[] = {
        {"output", 'o', "FORMAT", false, "json, yaml, or wide (adds the broker and the class description)"},
        {"all-namespaces", 'A', NULL, false, "also the classes of namespaced brokers in every namespace"},
        {NULL, 0, NULL, false, NULL},
};
enum { OPT_WAIT, OPT_TIMEOUT };
static const struct svcat_opt opts_deprovision[] = {
        {"wait", 0, NULL, false, "wait until the instance is gone"},
        {"timeout", 0, "DURATION", false, "how long --wait waits (default 5m): 30s, 2m, 1h"},
        {NULL, 0, NULL, false, NULL},
};
enum { OPT_UNBIND_NAME = 2 };
static const struct svcat_opt opts_unbind[] = {
        {"wait", 0, NULL, false, "wait until the bindings are gone"},
        {"timeout", 0, "DURATION", false, "how long --wait waits (default 5m)"},
        {"name", 0, "BINDING", true, "only this binding (may be given more than once)"},
        {NULL, 0, NULL, false, NULL},
};
enum { OPT_YES };
static const struct svcat_opt opts_abandon[] = {
        {"yes", 'y', NULL, false, "do not ask for confirmation"},
        {NULL, 0, NULL, false, NULL},
};
enum { OPT_CLIENT };
static const struct svcat_opt opts_version[] = {
        {"client", 0, NULL, false, "only the plugin's version (does not contact the cluster)"},
        {NULL, 0, NULL, false, NULL},
};
enum { OPT_MIG_DIR, OPT_MIG_CRDS, OPT_MIG_OLD_NS, OPT_MIG_STOP };
static const struct svcat_opt opts_migrate[] = {
        {"dir", 0, "DIR", false, "where the snapshot (objects.json: the objects, the Secrets' SHA-256 digests) is kept"},
        {"crds", 0, "DIR", false, "Bindery's CRDs (deploy/crds of the release): what plan checks fields against, what run installs"},
        {"old-namespace", 0, "NS", false, "namespace of service-catalog's Deployments, checked by run (default catalog)"},
        {"stop-after", 0, "N", false, "run: stop after step N (3 to 6); running again carries on"},
        {NULL, 0, NULL, false, NULL},
};
static const struct svcat_opt opts_none[] = {
        {NULL, 0, NULL, false, NULL},
};

static const struct svcat_opt *opt_by_name(const struct svcat_opt *opts, const char *name, size_t len, size_t *ret)
{
        for (size_t i = 0; opts[i].name; i++)
                if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) {
                        *ret = i;
                        return &opts[i];
                }
        return NULL;
}

static const struct svcat_opt *opt_by_short(const struct svcat_opt *opts, char c, size_t *ret)
{
        for (size_t i = 0; opts[i].name; i++)
                if (opts[i].shortname && opts[i].shortname == c) {
                        *ret = i;
                        return &opts[i];
                }
        return NULL;
}

static int usage_error(const struct cli *cli, const struct command *cmd, const char *fmt, const char *what)
{
        char msg[512];
        snprintf(msg, sizeof(msg), fmt, what);
        return cli_error(cli, CLI_EXIT_USAGE, "%s\nRun '%s %s --help' for usage.", msg, cli->prog, cmd->name);
}

/* Takes @cmd's flags out of @argv (@argc words after the command's name) into @a. Returns 0,
 * 1 for -h/--help, or CLI_EXIT_USAGE (printed). */
static int parse_args(const struct cli *cli, const struct command *cmd, int argc, char **argv, struct svcat_args *a)
{
        bool dashdash = false;
        for (int i = 0; i < argc; i++) {
                const char *s = argv[i];
                if (dashdash || s[0] != '-' || strcmp(s, "-") == 0) {
                        if (a->npos >= SVCAT_MAX_ARGS)
                                return usage_error(cli, cmd, "too many arguments%s", "");
                        a->pos[a->npos++] = s;
                        continue;
                }
                if (strcmp(s, "--") == 0) {
                        dashdash = true;
                        continue;
                }
                if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0)
                        return 1;
                const struct svcat_opt *o;
                size_t idx = 0;
                const char *val = NULL;
                if (s[1] == '-') {
                        const char *eq = strchr(s + 2, '=');
                        o = opt_by_name(cmd->opts, s + 2, eq ? (size_t) (eq - s - 2) : strlen(s + 2), &idx);
                        if (eq)
                                val = eq + 1;
                } else {
                        o = opt_by_short(cmd->opts, s[1], &idx);
                        if (s[2])
                                val = s[2] == '=' ? s + 3 : s + 2;
                }
                if (!o)
                        return usage_error(cli, cmd, "unknown flag: %s", s);
                if (o->arg && !val) {
                        if (i + 1 >= argc)
                                return usage_error(cli, cmd, "flag needs an argument: %s", s);
                        val = argv[++i];
                } else if (!o->arg && val) {
                        /* --all-namespaces=true, as kubectl takes it */
                        bool b;
                        if (osb_parse_bool(val, &b) < 0)
                                return usage_error(cli, cmd, "invalid value for a switch: %s", s);
                        val = b ? "" : NULL;
                        a->val[idx] = val;
                        continue;
                } else if (!o->arg) {
                        val = "";
                }
                if (o->repeat) {
                        if (a->nmulti >= SVCAT_MAX_ARGS)
                                return usage_error(cli, cmd, "too many %s flags", s);
                        a->multi[a->nmulti++] = val;
                }
                a->val[idx] = val;
        }
        if (a->npos < cmd->min_args)
                return usage_error(cli, cmd, "missing arguments: %s", cmd->usage);
        if (a->npos > cmd->max_args)
                return usage_error(cli, cmd, "unexpected argument \"%s\"", a->pos[cmd->max_args]);
        return 0;
}

static const char global_flags_help[] =
        "Global flags:\n"
        "  -n, --namespace NS        the namespace (default: the kubeconfig context's, else \"default\")\n"
        "      --context NAME        the kubeconfig context to use\n"
        "      --kubeconfig FILE     the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)\n"
        "  -h, --help                help for this command\n";

static void command_help(const struct cli *cli, const struct command *cmd)
{
        printf("%s\n\nUsage:\n  %s %s\n", cmd->summary, cli->prog, cmd->usage);
        if (cmd->alias)
                printf("\nAliases:\n  %s, %s\n", cmd->name, cmd->alias);
        printf("\n%s", cmd->text);
        if (cmd->opts[0].name) {
                printf("\nFlags:\n");
                for (const struct svcat_opt *o = cmd->opts; o->name; o++) {
                        char f[64];
                        snprintf(f, sizeof(f), "%c%c%c --%s%s%s", o->shortname ? '-' : ' ', o->shortname ? o->shortname : ' ',
                                 o->shortname ? ',' : ' ', o->name, o->arg ? " " : "", o->arg ? o->arg : "");
                        printf("  %-26s%s\n", f, o->help);
                }
        }
        printf("\n%s", global_flags_help);
}

/* ---- changing objects --------------------------------------------------------------------------- */

static int parse_timeout(const struct cli *cli, const struct command *cmd, const struct svcat_args *a, int64_t *ret)
{
        *ret = DEFAULT_TIMEOUT_MS;
        if (a->val[OPT_TIMEOUT] && (osb_parse_duration_ms(a->val[OPT_TIMEOUT], ret) < 0 || *ret <= 0))
                return usage_error(cli, cmd, "invalid --timeout \"%s\": a duration such as 30s, 2m or 1h", a->val[OPT_TIMEOUT]);
        return 0;
}

/* Adds 1 to spec.@field of @name: a merge patch that carries the resourceVersion it read, so it
 * applies to that version only; read again and retried on a conflict. */
static int bump(struct cli *cli, const struct kube_resource *res, const char *name, const char *field,
                json_int_t *ret, struct osb_error *err)
{
        for (int attempt = 0;; attempt++) {
                osb_autojson json_t *obj = NULL;
                int r = kube_get(cli->kc, res, cli->namespace, name, &obj, err);
                if (r < 0)
                        return r;
                json_int_t n = json_integer_value(cli_get(obj, "spec", field, NULL)) + 1;
                osb_autojson json_t *patch = json_pack("{s:{s:s?}, s:{s:I}}", "metadata", "resourceVersion",
                                                       cli_str(obj, "metadata", "resourceVersion", NULL), "spec", field, n);
                if (!patch)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = kube_patch(cli->kc, res, cli->namespace, name, NULL, KUBE_PATCH_MERGE, patch, NULL, err);
                if (r == OSB_E_CONFLICT && attempt < CONFLICT_RETRIES) {
                        *err = (struct osb_error) OSB_ERROR_INIT;
                        continue;
                }
                if (r < 0)
                        return r;
                *ret = n;
                return 0;
        }
}

static int cmd_sync(struct cli *cli, const struct svcat_args *a)
{
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0 || kind != SVCAT_BROKER)
                return usage_error(cli, find_command("sync"), "sync takes \"broker\", not \"%s\"", a->pos[0]);
        const struct kube_resource *res = svcat_resource(SVCAT_BROKER, cli->namespace_given);
        struct osb_error err = OSB_ERROR_INIT;
        json_int_t n;
        int r = bump(cli, res, a->pos[1], "relistRequests", &n, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(res, a->pos[1]);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        printf("Synchronization requested for broker: %s (relistRequests: %lld)\n", a->pos[1], (long long) n);
        return CLI_EXIT_OK;
}

static int cmd_touch(struct cli *cli, const struct svcat_args *a)
{
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0 || kind != SVCAT_INSTANCE)
                return usage_error(cli, find_command("touch"), "touch takes \"instance\", not \"%s\"", a->pos[0]);
        struct osb_error err = OSB_ERROR_INIT;
        json_int_t n;
        int r = bump(cli, &kube_sc_instances, a->pos[1], "updateRequests", &n, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(&kube_sc_instances, a->pos[1]);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        printf("Touched instance %s/%s (updateRequests: %lld): the broker gets an update\n", cli->namespace, a->pos[1],
               (long long) n);
        return CLI_EXIT_OK;
}

/* A maintenance_info version (the broker's bytes) fit for the terminal: semantic-version
 * characters only, else a placeholder. */
static const char *shown_version(const char *v)
{
        if (!v)
                return "none";
        size_t n = strlen(v);
        if (n == 0 || n > 64 || strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-") != n)
                return "(not shown)";
        return v;
}

static int cmd_upgrade(struct cli *cli, const struct svcat_args *a)
{
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0 || kind != SVCAT_INSTANCE)
                return usage_error(cli, find_command("upgrade"), "upgrade takes \"instance\", not \"%s\"", a->pos[0]);
        const char *name = a->pos[1];
        for (int attempt = 0;; attempt++) {
                struct osb_error err = OSB_ERROR_INIT;
                osb_autojson json_t *inst = NULL, *plan = NULL;
                int r = kube_get(cli->kc, &kube_sc_instances, cli->namespace, name, &inst, &err);
                if (r == OSB_E_NOT_FOUND)
                        return svcat_not_found(&kube_sc_instances, name);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                const char *cplan = cli_str(inst, "spec", "clusterServicePlanRef", "name", NULL);
                const char *nplan = cli_str(inst, "spec", "servicePlanRef", "name", NULL);
                if (!cplan && !nplan)
                        return cli_error(cli, CLI_EXIT_ERROR, "instance %s/%s has no resolved plan yet (spec.clusterServicePlanRef): "
                                         "see kubectl svcat describe instance %s", cli->namespace, name, name);
                r = cplan ? kube_get(cli->kc, &kube_sc_cluster_plans, NULL, cplan, &plan, &err) :
                            kube_get(cli->kc, &kube_sc_plans, cli->namespace, nplan, &plan, &err);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                const char *pv = cli_str(plan, "spec", "maintenanceInfo", "version", NULL);
                const char *iv = cli_str(inst, "status", "externalProperties", "maintenanceInfo", "version", NULL);
                const char *sv = cli_str(inst, "spec", "maintenanceInfo", "version", NULL);
                if (!pv || !*pv)
                        return cli_error(cli, CLI_EXIT_ERROR, "plan %s has no maintenance_info: there is no version to upgrade to",
                                         cplan ? cplan : nplan);
                if (osb_streq(pv, iv) && (!sv || osb_streq(sv, pv))) {
                        printf("Instance %s/%s already runs version %s of plan %s: nothing to upgrade\n", cli->namespace, name,
                               shown_version(pv), cplan ? cplan : nplan);
                        return CLI_EXIT_OK;
                }
                osb_autojson json_t *patch = json_pack("{s:{s:s?}, s:{s:{s:s}}}", "metadata", "resourceVersion",
                                                       cli_str(inst, "metadata", "resourceVersion", NULL), "spec",
                                                       "maintenanceInfo", "version", pv);
                if (!patch)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
                r = kube_patch(cli->kc, &kube_sc_instances, cli->namespace, name, NULL, KUBE_PATCH_MERGE, patch, NULL, &err);
                if (r == OSB_E_CONFLICT && attempt < CONFLICT_RETRIES)
                        continue;
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                printf("Upgrade requested for instance %s/%s: maintenance_info version %s -> %s (spec.maintenanceInfo.version); "
                       "the broker gets an update\n", cli->namespace, name, shown_version(iv), shown_version(pv));
                return CLI_EXIT_OK;
        }
}

/* Asks the controller for new credentials now: the annotation SAP's operator reads too. */
static int cmd_rotate(struct cli *cli, const struct svcat_args *a)
{
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0 || kind != SVCAT_BINDING)
                return usage_error(cli, find_command("rotate"), "rotate takes \"binding\", not \"%s\"", a->pos[0]);
        char now[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(time(NULL), now);
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", FORCE_ROTATE_ANNOTATION, now);
        if (!patch)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        int r = kube_patch(cli->kc, &kube_sc_bindings, cli->namespace, a->pos[1], NULL, KUBE_PATCH_MERGE, patch, NULL, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(&kube_sc_bindings, a->pos[1]);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        printf("Rotation requested for binding %s/%s (annotated %s): the controller binds new credentials and "
               "updates its Secret in place\n", cli->namespace, a->pos[1], FORCE_ROTATE_ANNOTATION);
        return CLI_EXIT_OK;
}

/* Waits until every one of @names (@n of them) of @res is gone. Returns CLI_EXIT_OK,
 * CLI_EXIT_TIMEOUT or CLI_EXIT_ERROR (printed). */
static int wait_gone(struct cli *cli, const struct kube_resource *res, const char *const *names, size_t n,
                     int64_t timeout_ms)
{
        int64_t deadline = osb_mono_ms() + timeout_ms;
        for (size_t i = 0; i < n;) {
                struct osb_error err = OSB_ERROR_INIT;
                osb_autojson json_t *obj = NULL;
                int r = kube_get(cli->kc, res, cli->namespace, names[i], &obj, &err);
                if (r == OSB_E_NOT_FOUND) {
                        printf("%s %s/%s is gone\n", svcat_kind_name(res), cli->namespace, names[i]);
                        i++;
                        continue;
                }
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                if (osb_mono_ms() >= deadline) {
                        const char *reason = cli_status_reason(obj);
                        return cli_error(cli, CLI_EXIT_TIMEOUT, "timed out waiting for %s %s/%s to go (status: %s)",
                                         svcat_kind_name(res), cli->namespace, names[i], reason && *reason ? reason : "<none>");
                }
                osb_sleep_ms(250);
        }
        return CLI_EXIT_OK;
}

static int cmd_deprovision(struct cli *cli, const struct svcat_args *a)
{
        int64_t timeout;
        if (parse_timeout(cli, find_command("deprovision"), a, &timeout) != 0)
                return CLI_EXIT_USAGE;
        struct osb_error err = OSB_ERROR_INIT;
        const char *name = a->pos[0];
        int r = kube_delete(cli->kc, &kube_sc_instances, cli->namespace, name, NULL, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(&kube_sc_instances, name);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        printf("Deprovision requested for instance %s/%s\n", cli->namespace, name);
        if (!a->val[OPT_WAIT])
                return CLI_EXIT_OK;
        return wait_gone(cli, &kube_sc_instances, &name, 1, timeout);
}

/* The bindings of instance @instance in cli->namespace (a new array), or NULL with @err set. */
static json_t *bindings_of(struct cli *cli, const char *instance, struct osb_error *err)
{
        osb_autojson json_t *all = NULL;
        if (svcat_list(cli->kc, &kube_sc_bindings, cli->namespace, NULL, &all, err) < 0)
                return NULL;
        json_t *mine = json_array();
        size_t i;
        json_t *b;
        json_array_foreach(all, i, b) {
                if (mine && osb_streq(cli_str(b, "spec", "instanceRef", "name", NULL), instance) &&
                    json_array_append(mine, b) < 0) {
                        json_decref(mine);
                        mine = NULL;
                }
        }
        if (!mine)
                osb_error_set(err, -ENOMEM, "out of memory");
        return mine;
}

static int cmd_unbind(struct cli *cli, const struct svcat_args *a)
{
        int64_t timeout;
        if (parse_timeout(cli, find_command("unbind"), a, &timeout) != 0)
                return CLI_EXIT_USAGE;
        struct osb_error err = OSB_ERROR_INIT;
        const char *instance = a->pos[0];
        osb_autojson json_t *si = NULL;
        int r = kube_get(cli->kc, &kube_sc_instances, cli->namespace, instance, &si, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(&kube_sc_instances, instance);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        osb_autojson json_t *bindings = bindings_of(cli, instance, &err);
        if (!bindings)
                return cli_request_error(cli, err.code, &err);
        const char *names[SVCAT_MAX_ARGS];
        size_t n = 0, i;
        const json_t *b;
        if (a->nmulti) {
                /* only those named, and each must be a binding of this instance */
                for (i = 0; i < a->nmulti; i++) {
                        bool found = false;
                        size_t j;
                        json_array_foreach(bindings, j, b)
                                found = found || osb_streq(cli_str(b, "metadata", "name", NULL), a->multi[i]);
                        if (!found)
                                return cli_error(cli, CLI_EXIT_ERROR, "instance %s/%s has no binding named \"%s\"",
                                                 cli->namespace, instance, a->multi[i]);
                        names[n++] = a->multi[i];
                }
        } else {
                json_array_foreach(bindings, i, b) {
                        if (n < SVCAT_MAX_ARGS)
                                names[n++] = cli_str(b, "metadata", "name", NULL);
                }
        }
        if (n == 0) {
                fprintf(stderr, "Instance %s/%s has no bindings.\n", cli->namespace, instance);
                return CLI_EXIT_OK;
        }
        for (i = 0; i < n; i++) {
                r = kube_delete(cli->kc, &kube_sc_bindings, cli->namespace, names[i], NULL, &err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return cli_request_error(cli, r, &err);
                printf("Unbind requested for binding %s/%s\n", cli->namespace, names[i]);
        }
        if (!a->val[OPT_WAIT])
                return CLI_EXIT_OK;
        return wait_gone(cli, &kube_sc_bindings, names, n, timeout);
}

/* Sets the abandon annotation on @name and deletes it. */
static int abandon_one(struct cli *cli, const struct kube_resource *res, const char *name, struct osb_error *err)
{
        osb_autojson json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", ABANDON_ANNOTATION, "true");
        if (!patch)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = kube_patch(cli->kc, res, cli->namespace, name, NULL, KUBE_PATCH_MERGE, patch, NULL, err);
        if (r < 0)
                return r;
        r = kube_delete(cli->kc, res, cli->namespace, name, NULL, err);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return r;
        printf("%s %s/%s abandoned: annotated %s=true and deleted\n", svcat_kind_name(res), cli->namespace, name,
               ABANDON_ANNOTATION);
        return 0;
}

static int cmd_abandon(struct cli *cli, const struct svcat_args *a)
{
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0 || (kind != SVCAT_INSTANCE && kind != SVCAT_BINDING))
                return usage_error(cli, find_command("abandon"), "abandon takes \"instance\" or \"binding\", not \"%s\"",
                                   a->pos[0]);
        const struct kube_resource *res = svcat_resource(kind, true);
        const char *name = a->pos[1];
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *obj = NULL;
        int r = kube_get(cli->kc, res, cli->namespace, name, &obj, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(res, name);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        /* an instance's bindings go first, abandoned too: deleting the instance deletes them,
         * and they would wait for the same broker */
        osb_autojson json_t *bindings = kind == SVCAT_INSTANCE ? bindings_of(cli, name, &err) : json_array();
        if (!bindings)
                return cli_request_error(cli, err.code, &err);
        if (!a->val[OPT_YES]) {
                char prompt[1024], extra[64] = "";
                if (json_array_size(bindings))
                        snprintf(extra, sizeof(extra), " and its %zu binding%s", json_array_size(bindings),
                                 json_array_size(bindings) == 1 ? "" : "s");
                snprintf(prompt, sizeof(prompt),
                         "This removes %s %s/%s%s without calling the broker: resources at the broker may be left "
                         "behind. Continue?", svcat_kind_name(res), cli->namespace, name, extra);
                if (!cli_confirm(prompt)) {
                        /* an answer piped in is not echoed: end the prompt's line */
                        fprintf(stderr, "%sCancelled: nothing was changed.\n", isatty(STDIN_FILENO) ? "" : "\n");
                        return CLI_EXIT_CANCELLED;
                }
        }
        size_t i;
        const json_t *b;
        json_array_foreach(bindings, i, b) {
                r = abandon_one(cli, &kube_sc_bindings, cli_str(b, "metadata", "name", NULL), &err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return cli_request_error(cli, r, &err);
        }
        r = abandon_one(cli, res, name, &err);
        if (r == OSB_E_NOT_FOUND)
                return svcat_not_found(res, name);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        return CLI_EXIT_OK;
}

/* ---- migrate ------------------------------------------------------------------------------------- */

static int cmd_migrate(struct cli *cli, const struct svcat_args *a)
{
        struct svcat_migrate_opts o = {.dir = a->val[OPT_MIG_DIR], .crds = a->val[OPT_MIG_CRDS],
                                       .old_ns = a->val[OPT_MIG_OLD_NS] ? a->val[OPT_MIG_OLD_NS] : "catalog"};
        if (a->val[OPT_MIG_STOP]) {
                int64_t n;
                if (osb_parse_int64(a->val[OPT_MIG_STOP], 3, 6, &n) < 0)
                        return usage_error(cli, find_command("migrate"), "--stop-after takes a step from 3 to 6, not \"%s\"",
                                           a->val[OPT_MIG_STOP]);
                o.stop_after = (int) n;
        }
        return svcat_migrate(cli, a->pos[0], &o);
}

/* ---- version, completion ------------------------------------------------------------------------ */

static int cmd_version(struct cli *cli, const struct svcat_args *a)
{
        printf("Client Version: v%s\n", cli_version());
        if (a->val[OPT_CLIENT])
                return CLI_EXIT_OK;
        fflush(stdout);
        struct osb_error err = OSB_ERROR_INIT;
        int r = cli_connect(cli, &err);
        if (r != 0)
                return cli_error(cli, CLI_EXIT_ERROR, "%s", err.text);
        struct kube_response resp = {0};
        r = kube_request(cli->kc, "GET", "/version", NULL, NULL, &resp, &err);
        if (r == 0 && resp.status >= 300)
                r = kube_response_error(cli->kc, "GET", "/version", &resp, &err);
        if (r < 0) {
                kube_response_release(&resp);
                return cli_request_error(cli, r, &err);
        }
        const char *v = cli_str(resp.body, "gitVersion", NULL);
        printf("Server Version: %s\n", v ? v : "<unknown>");
        kube_response_release(&resp);
        return CLI_EXIT_OK;
}

static const char bash_completion[] =
        "# bash completion for kubectl-svcat (kubectl svcat), from: kubectl-svcat completion bash\n"
        "#   source <(kubectl-svcat completion bash)       # now, or in ~/.bashrc\n"
        "# \"kubectl svcat <TAB>\" needs kubectl 1.26 or later with kubectl's own completion loaded\n"
        "# (source <(kubectl completion bash)): kubectl then asks kubectl_complete-svcat, installed\n"
        "# next to kubectl-svcat. This script completes kubectl-svcat run by itself.\n"
        "_kubectl_svcat()\n"
        "{\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} out line directive=0\n"
        "    COMPREPLY=()\n"
        "    out=$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD-1}\" \"$cur\" 2>/dev/null) || return 0\n"
        "    while IFS= read -r line; do\n"
        "        case $line in\n"
        "            :*) directive=${line#:} ;;\n"
        "            '') ;;\n"
        "            *) COMPREPLY+=(\"$line\") ;;\n"
        "        esac\n"
        "    done <<<\"$out\"\n"
        "    # directive 4 (no file completion) unless the plugin leaves it to the shell\n"
        "    if [ $((directive & 4)) -eq 0 ] && [ ${#COMPREPLY[@]} -eq 0 ]; then\n"
        "        compopt -o default 2>/dev/null\n"
        "    fi\n"
        "    return 0\n"
        "}\n"
        "complete -F _kubectl_svcat kubectl-svcat\n";

static int cmd_completion(struct cli *cli, const struct svcat_args *a)
{
        if (strcmp(a->pos[0], "bash") != 0)
                return usage_error(cli, find_command("completion"), "unsupported shell \"%s\": bash", a->pos[0]);
        fputs(bash_completion, stdout);
        return CLI_EXIT_OK;
}

/* ---- the commands -------------------------------------------------------------------------------- */

static int cmd_help(struct cli *cli, const struct svcat_args *a);

static const struct command commands[] = {
        {"marketplace", "mp", svcat_cmd_marketplace, opts_marketplace, "marketplace [-o json|yaml|wide]",
         "List the service classes and their plans that brokers offer",
         "One row per plan: the class (its external name), the plan, whether it is free, and the plan's\n"
         "description. The cluster's classes and those of namespaced brokers in the namespace.\n\n"
         "Examples:\n"
         "  kubectl svcat marketplace\n"
         "  kubectl svcat mp -o wide          # also the broker and the class's description\n"
         "  kubectl svcat marketplace -o json\n",
         0, 0, true, false},
        {"get", NULL, svcat_cmd_get, opts_get, "get KIND [NAME] [-n NS | -A] [-o json|yaml|name]",
         "List brokers, classes, plans, instances or bindings",
         "KIND: brokers (broker, brk), classes (class, cl), plans (plan, pl), instances (instance,\n"
         "inst, si), bindings (binding, sbd). Classes and plans are shown and found by their external\n"
         "names (a plan also as CLASS/PLAN); brokers, instances and bindings by their names. Brokers,\n"
         "classes and plans: the cluster's and those of the namespace. Nothing found: \"No resources\n"
         "found\" on stderr, exit 0; a NAME that does not exist: exit 1.\n\n"
         "Examples:\n"
         "  kubectl svcat get instances -n shop\n"
         "  kubectl svcat get instances -A\n"
         "  kubectl svcat get plans\n"
         "  kubectl svcat get class my-db -o yaml\n"
         "  kubectl svcat get bindings -o name\n",
         1, 2, true, false},
        {"describe", NULL, svcat_cmd_describe, opts_none, "describe KIND NAME",
         "Show the details of an instance, binding, broker, class or plan",
         "KIND: instance, binding, broker, class or plan. The status (conditions, last and current\n"
         "operation), the parameters (of a Secret named in parametersFrom only its name, its key and\n"
         "the parameter names: values are never shown), an instance's bindings, a binding's Secret\n"
         "and its keys (no values), and the object's Events, oldest first. A broker: the cluster's\n"
         "(ClusterServiceBroker), or with -n the namespace's (ServiceBroker) first.\n\n"
         "Examples:\n"
         "  kubectl svcat describe instance my-db -n shop\n"
         "  kubectl svcat describe binding my-db-creds -n shop\n"
         "  kubectl svcat describe plan my-db/small\n",
         2, 2, true, false},
        {"sync", NULL, cmd_sync, opts_none, "sync broker NAME",
         "Make the controller fetch a broker's catalog again",
         "Adds 1 to the broker's spec.relistRequests, which makes the controller fetch its catalog now.\n"
         "The cluster's broker (ClusterServiceBroker), or with -n the namespace's ServiceBroker.\n\n"
         "Examples:\n"
         "  kubectl svcat sync broker my-broker\n"
         "  kubectl svcat sync broker team-broker -n shop\n",
         2, 2, true, false},
        {"touch", NULL, cmd_touch, opts_none, "touch instance NAME",
         "Make the controller send an instance's update to its broker again",
         "Adds 1 to the instance's spec.updateRequests: the controller sends the broker an update\n"
         "request, also for an instance that Failed (which is otherwise not retried until its spec\n"
         "changes).\n\n"
         "Examples:\n"
         "  kubectl svcat touch instance my-db -n shop\n",
         2, 2, true, false},
        {"upgrade", NULL, cmd_upgrade, opts_none, "upgrade instance NAME",
         "Upgrade an instance to its plan's maintenance_info version",
         "When the broker's catalog gives the instance's plan a new maintenance_info version (the\n"
         "instance's condition UpgradeAvailable is True; kubectl get serviceinstances -o wide shows it),\n"
         "sets the instance's spec.maintenanceInfo.version to the plan's: the controller sends the broker\n"
         "an update with that version. Nothing to do when the instance runs it already (exit 0); a plan\n"
         "without maintenance_info: exit 1. GitOps: set spec.maintenanceInfo.version in the manifest.\n\n"
         "Examples:\n"
         "  kubectl svcat upgrade instance my-db -n shop\n",
         2, 2, true, false},
        {"rotate", NULL, cmd_rotate, opts_none, "rotate binding NAME",
         "Make the controller rotate a binding's credentials now",
         "Sets the annotation services.cloud.sap.com/forceRotate on the ServiceBinding. The controller\n"
         "binds a new binding id at the broker (with predecessor_binding_id when the plan is\n"
         "binding_rotatable), writes the new credentials into the binding's Secret in place (same name),\n"
         "keeps the old ones in a Secret of their own until spec.credentialsRotationPolicy.\n"
         "rotatedBindingTTL (default 1h) ends, then unbinds the old binding id, and removes the\n"
         "annotation. `kubectl svcat describe binding NAME` shows the rotation history.\n\n"
         "Examples:\n"
         "  kubectl svcat rotate binding my-db-creds -n shop\n",
         2, 2, true, false},
        {"deprovision", NULL, cmd_deprovision, opts_deprovision, "deprovision NAME [--wait [--timeout D]]",
         "Delete a service instance (the broker deprovisions it)",
         "Deletes the ServiceInstance: the controller deletes its bindings, deprovisions it at the\n"
         "broker and then lets it go. With --wait, waits until it is gone (exit 4 after --timeout).\n\n"
         "Examples:\n"
         "  kubectl svcat deprovision my-db -n shop\n"
         "  kubectl svcat deprovision my-db --wait --timeout 2m\n",
         1, 1, true, false},
        {"unbind", NULL, cmd_unbind, opts_unbind, "unbind INSTANCE [--name BINDING ...] [--wait [--timeout D]]",
         "Delete the bindings of an instance (the broker unbinds them)",
         "Deletes every ServiceBinding of the instance, or only those named with --name; the controller\n"
         "unbinds them at the broker and deletes their Secrets. With --wait, waits until they are gone.\n\n"
         "Examples:\n"
         "  kubectl svcat unbind my-db -n shop\n"
         "  kubectl svcat unbind my-db --name my-db-creds --wait\n",
         1, 1, true, false},
        {"abandon", NULL, cmd_abandon, opts_abandon, "abandon instance|binding NAME [--yes]",
         "Delete an instance or binding without calling its broker",
         "For an object whose broker is gone for good: sets the annotation bindery.dev/abandon: \"true\"\n"
         "and deletes the object, and the controller lets it go without calling the broker (a binding's\n"
         "Secret is deleted too). An instance's bindings are abandoned with it. Whatever the broker\n"
         "holds stays there. Asks first, on stderr, unless --yes; answered no: exit 5.\n\n"
         "Examples:\n"
         "  kubectl svcat abandon instance my-db -n shop\n"
         "  kubectl svcat abandon binding my-db-creds --yes\n",
         2, 2, true, false},
        {"migrate", NULL, cmd_migrate, opts_migrate,
         "migrate plan|export|run|verify [--dir DIR] [--crds DIR] [--old-namespace NS] [--stop-after N]",
         "Move a Kubernetes Service Catalog (v0.3) installation to Bindery, re-provisioning nothing",
         "The instances, bindings and their Secrets stay as they are: no provision, bind, update or\n"
         "deprovision is sent to any broker. The objects are read through the API, so this works with\n"
         "service-catalog's CRD mode and with its aggregated API server (export first, then install\n"
         "the CRDs and run with the same --dir: missing objects are created with their status).\n\n"
         "  plan    what happens to every broker, class, plan, instance, binding and Secret, the webhook\n"
         "          configurations and the CRDs; refuses (exit 1) where it is not safe: an operation or\n"
         "          orphan mitigation in progress, a failed deprovision, an object being deleted, a spec\n"
         "          field Bindery's CRD does not have, a Ready binding without its Secret. Needs --crds.\n"
         "  export  the objects and the SHA-256 digests of the bindings' Secrets (never their data) to\n"
         "          DIR/objects.json.\n"
         "  run     the steps, in order: 1. [you] service-catalog's controller-manager and webhook at 0\n"
         "          replicas (checked in --old-namespace); 2. the snapshot (kept when DIR has one); 3.\n"
         "          delete its webhook configurations; 4. install Bindery's CRDs over the old ones (the\n"
         "          stored objects stay); 5. create what is missing and restore each status through the\n"
         "          status subresource; 6. the finalizer kubernetes-incubator/service-catalog on every\n"
         "          instance and binding; 7. [you] start Bindery. Each step does only what is not done\n"
         "          yet: after an interruption run it again; a second run changes nothing.\n"
         "  verify  every instance and binding of the snapshot is there with the same externalID, Ready\n"
         "          when it was, and every Secret byte for byte as it was (exit 1 otherwise).\n\n"
         "docs/migration.md walks through a migration.\n\n"
         "Examples:\n"
         "  kubectl svcat migrate plan --crds ./deploy/crds\n"
         "  kubectl svcat migrate run --dir ./svcat-migration --crds ./deploy/crds\n"
         "  kubectl svcat migrate verify --dir ./svcat-migration\n",
         1, 1, true, false},
        {"version", NULL, cmd_version, opts_version, "version [--client]",
         "Print the plugin's version and the API server's",
         "Examples:\n"
         "  kubectl svcat version\n"
         "  kubectl svcat version --client\n",
         0, 0, false, false},
        {"completion", NULL, cmd_completion, opts_none, "completion bash",
         "Print a bash completion script",
         "Completes commands, kinds, flags and the names of objects in the cluster.\n\n"
         "Examples:\n"
         "  source <(kubectl svcat completion bash)\n"
         "  kubectl svcat completion bash > /etc/bash_completion.d/kubectl-svcat\n",
         1, 1, false, false},
        {"help", NULL, cmd_help, opts_none, "help [COMMAND]", "Help about a command", "", 0, 1, false, false},
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, false, false},
};

static const struct command *find_command(const char *name)
{
        for (const struct command *c = commands; c->name; c++)
                if (strcmp(c->name, name) == 0 || (c->alias && strcmp(c->alias, name) == 0))
                        return c;
        return NULL;
}

static void main_help(const struct cli *cli)
{
        printf("%s: the Service Catalog (servicecatalog.k8s.io) from kubectl: the classes and plans brokers\n"
               "offer, and the instances and bindings made of them.\n\nUsage:\n  %s COMMAND [ARGS] [flags]\n\n"
               "Commands:\n", cli->prog, cli->prog);
        for (const struct command *c = commands; c->name; c++) {
                char n[32];
                snprintf(n, sizeof(n), "%s%s%s%s", c->name, c->alias ? " (" : "", c->alias ? c->alias : "", c->alias ? ")" : "");
                if (!c->hidden)
                        printf("  %-18s%s\n", n, c->summary);
        }
        printf("\n%s\nRun '%s COMMAND --help' for a command's flags and examples.\n", global_flags_help, cli->prog);
}

static int cmd_help(struct cli *cli, const struct svcat_args *a)
{
        if (a->npos == 0) {
                main_help(cli);
                return CLI_EXIT_OK;
        }
        const struct command *c = find_command(a->pos[0]);
        if (!c)
                return cli_error(cli, CLI_EXIT_USAGE, "unknown command \"%s\"\nRun '%s --help' for usage.", a->pos[0], cli->prog);
        command_help(cli, c);
        return CLI_EXIT_OK;
}

static void complete_words(const char *prefix, const char *const *words)
{
        for (; *words; words++)
                if (strncmp(*words, prefix, strlen(prefix)) == 0)
                        printf("%s\n", *words);
}

/* __complete WORD... TO-COMPLETE: the candidates for the last word, one per line, then ":4"
 * (Cobra's ShellCompDirectiveNoFileComp), as kubectl >= 1.26 expects of kubectl_complete-svcat. */
static int cmd_complete(struct cli *cli, int argc, char **argv)
{
        const char *cur = argc > 0 ? argv[argc - 1] : "";
        const char *prev = argc > 1 ? argv[argc - 2] : "";
        struct osb_error err = OSB_ERROR_INIT;
        bool connected = cli_connect(cli, &err) == 0;
        static const char *const formats[] = {"json", "yaml", "name", "wide", NULL};
        if (strcmp(prev, "-o") == 0 || strcmp(prev, "--output") == 0) {
                complete_words(cur, formats);
        } else if (strcmp(prev, "-n") == 0 || strcmp(prev, "--namespace") == 0) {
                osb_autojson json_t *ns = NULL;
                size_t i;
                const json_t *o;
                if (connected && svcat_list(cli->kc, &kube_namespaces, NULL, NULL, &ns, &err) == 0)
                        json_array_foreach(ns, i, o) {
                                const char *n = cli_str(o, "metadata", "name", NULL);
                                if (n && strncmp(n, cur, strlen(cur)) == 0)
                                        printf("%s\n", n);
                        }
        } else if (strcmp(prev, "--kubeconfig") == 0) {
                printf(":0\n");   /* a file: the shell's own completion */
                return CLI_EXIT_OK;
        } else if (strcmp(prev, "--context") == 0 || strcmp(prev, "--timeout") == 0) {
                /* nothing to offer */
        } else if (argc <= 1) {
                for (const struct command *c = commands; c->name; c++)
                        if (!c->hidden && strncmp(c->name, cur, strlen(cur)) == 0)
                                printf("%s\n", c->name);
        } else {
                const struct command *cmd = find_command(argv[0]);
                /* the positional words before the one being completed */
                size_t npos = 0;
                for (int i = 1; cmd && i < argc - 1; i++) {
                        size_t idx;
                        if (argv[i][0] != '-') {
                                npos++;
                        } else if (argv[i][1] == '-' ? (opt_by_name(cmd->opts, argv[i] + 2, strlen(argv[i] + 2), &idx) &&
                                                        cmd->opts[idx].arg)
                                                     : (argv[i][1] && !argv[i][2] && opt_by_short(cmd->opts, argv[i][1], &idx) &&
                                                        cmd->opts[idx].arg)) {
                                i++;   /* and its value */
                        }
                }
                if (cmd && cur[0] == '-') {
                        for (const struct svcat_opt *o = cmd->opts; o->name; o++) {
                                char f[64];
                                snprintf(f, sizeof(f), "--%s", o->name);
                                if (strncmp(f, cur, strlen(cur)) == 0)
                                        printf("%s\n", f);
                        }
                        static const char *const globals[] = {"--namespace", "--context", "--kubeconfig", "--help", NULL};
                        complete_words(cur, globals);
                } else if (cmd && strcmp(prev, "--name") == 0) {
                        if (connected)
                                svcat_complete_names(cli, SVCAT_BINDING, cur);
                } else if (cmd) {
                        static const char *const get_kinds[] = {"brokers", "classes", "plans", "instances", "bindings", NULL};
                        static const char *const one_kinds[] = {"instance", "binding", "broker", "class", "plan", NULL};
                        static const char *const broker[] = {"broker", NULL}, *const instance[] = {"instance", NULL},
                                                 *const binding[] = {"binding", NULL};
                        static const char *const abandon_kinds[] = {"instance", "binding", NULL};
                        static const char *const shells[] = {"bash", NULL};
                        static const char *const migrate_steps[] = {"plan", "export", "run", "verify", NULL};
                        const char *const *kinds = NULL;
                        const char *n = cmd->name;
                        if (strcmp(n, "get") == 0)
                                kinds = get_kinds;
                        else if (strcmp(n, "describe") == 0)
                                kinds = one_kinds;
                        else if (strcmp(n, "sync") == 0)
                                kinds = broker;
                        else if (strcmp(n, "touch") == 0 || strcmp(n, "upgrade") == 0)
                                kinds = instance;
                        else if (strcmp(n, "rotate") == 0)
                                kinds = binding;
                        else if (strcmp(n, "abandon") == 0)
                                kinds = abandon_kinds;
                        enum svcat_kind kind;
                        if (kinds && npos == 0) {
                                complete_words(cur, kinds);
                        } else if (kinds && npos == 1 && connected) {
                                /* the kind word is the first positional one */
                                for (int i = 1; i < argc - 1; i++)
                                        if (argv[i][0] != '-') {
                                                if (svcat_kind_parse(argv[i], &kind) == 0)
                                                        svcat_complete_names(cli, kind, cur);
                                                break;
                                        }
                        } else if ((strcmp(n, "deprovision") == 0 || strcmp(n, "unbind") == 0) && npos == 0 && connected) {
                                svcat_complete_names(cli, SVCAT_INSTANCE, cur);
                        } else if (strcmp(n, "completion") == 0 && npos == 0) {
                                complete_words(cur, shells);
                        } else if (strcmp(n, "migrate") == 0 && npos == 0) {
                                complete_words(cur, migrate_steps);
                        }
                }
        }
        printf(":4\n");
        return CLI_EXIT_OK;
}

static void cli_releasep(struct cli *cli)
{
        cli_release(cli);
}

int main(int argc, char **argv)
{
        osb_mem_setup();
        osb_auto(cli_releasep) struct cli cli = {.prog = "kubectl svcat"};
        struct osb_error err = OSB_ERROR_INIT;
        bool complete = argc > 1 && strcmp(argv[1], "__complete") == 0;
        /* completing the value of a global flag: the flag must not swallow the word */
        int keep = argc;
        if (complete && argc > 2 &&
            (strcmp(argv[argc - 2], "-n") == 0 || strcmp(argv[argc - 2], "--namespace") == 0 ||
             strcmp(argv[argc - 2], "--context") == 0 || strcmp(argv[argc - 2], "--kubeconfig") == 0))
                keep = argc - 2;
        int n = keep;
        if (cli_global_flags(&cli, &n, argv, &err) != 0)
                return cli_error(&cli, CLI_EXIT_USAGE, "%s\nRun '%s --help' for usage.", err.text, cli.prog);
        if (keep != argc) {
                argv[n] = argv[argc - 2];
                argv[n + 1] = argv[argc - 1];
                n += 2;
        }
        argc = n;
        if (complete)
                return cmd_complete(&cli, argc - 2, argv + 2);
        if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                main_help(&cli);
                return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        const struct command *cmd = find_command(argv[1]);
        if (!cmd)
                return cli_error(&cli, CLI_EXIT_USAGE, "unknown %s \"%s\" for \"%s\"\nRun '%s --help' for usage.",
                                 argv[1][0] == '-' ? "flag" : "command", argv[1], cli.prog, cli.prog);
        struct svcat_args a = {.npos = 0};
        int rc = parse_args(&cli, cmd, argc - 2, argv + 2, &a);
        if (rc == 1) {
                command_help(&cli, cmd);
                return CLI_EXIT_OK;
        }
        if (rc != 0)
                return rc;
        if (cmd->connect && cli_connect(&cli, &err) != 0)
                return cli_error(&cli, CLI_EXIT_ERROR, "%s", err.text);
        return cmd->run(&cli, &a);
}
