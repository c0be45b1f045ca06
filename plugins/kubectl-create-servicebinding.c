/* plugins/kubectl-create-servicebinding.c: "kubectl create servicebinding NAME --instance
 * INSTANCE": checks that the instance exists, creates a servicecatalog.k8s.io/v1beta1
 * ServiceBinding and, with --wait, follows it until it is Ready (then shows the Secret's keys)
 * or Failed. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "plugins/cli.h"
#include "plugins/create.h"

#define RESOURCE "servicebinding.servicecatalog.k8s.io"

static const char *arg_instance, *arg_secret_name, *arg_external_id, *arg_output, *arg_dry_run;
static bool arg_wait, arg_show_secret, arg_validate = true;
static int64_t arg_timeout_ms = 5 * 60 * 1000;
static struct create_list arg_params, arg_params_json, arg_secret_params;

static const struct create_flag flags[] = {
        {"instance", 0, CREATE_FLAG_STRING, "INSTANCE", NULL, NULL,
         "The ServiceInstance to bind to, in the same namespace. Required.", &arg_instance},
        {"secret-name", 0, CREATE_FLAG_STRING, "SECRET", NULL, NULL,
         "The Secret to write the credentials to (default: the binding's name).", &arg_secret_name},
        {"param", 'p', CREATE_FLAG_LIST, "KEY=VALUE", NULL, NULL,
         "A parameter for the broker, as a string (repeatable; a KEY given twice is an error).", &arg_params},
        {"params-json", 0, CREATE_FLAG_LIST, "JSON", NULL, NULL,
         "Parameters as a JSON object, merged with --param (a key given by both is an error).", &arg_params_json},
        {"secret-param", 0, CREATE_FLAG_LIST, "SECRET[:KEY]", NULL, NULL,
         "Parameters from the JSON object in key KEY (default \"parameters\") of Secret SECRET in the namespace "
         "(spec.parametersFrom; repeatable).", &arg_secret_params},
        {"external-id", 0, CREATE_FLAG_STRING, "ID", NULL, NULL,
         "The binding id sent to the broker (default: a UUID the controller picks).", &arg_external_id},
        {"validate", 0, CREATE_FLAG_BOOL, NULL, NULL, "true",
         "Check the parameters (--param, --params-json) against the binding create schema of the instance's plan "
         "before creating, and print every violation (exit 1); --validate=false skips the check. Parameters "
         "from Secrets (--secret-param) are not read here: the catalog controller checks them. With "
         "--dry-run=client the instance and its plan are read from the cluster for this check when the cluster "
         "can be reached.", &arg_validate},
        {"wait", 0, CREATE_FLAG_BOOL, NULL, NULL, NULL,
         "After creating, wait until the binding is Ready (then print its Secret's name and keys; exit 0), Failed "
         "(exit 3) or --timeout passes (exit 4).", &arg_wait},
        {"timeout", 0, CREATE_FLAG_DURATION, "DURATION", NULL, "5m", "How long --wait waits: 500ms, 30s, 5m, 1h.",
         &arg_timeout_ms},
        {"show-secret", 0, CREATE_FLAG_BOOL, NULL, NULL, NULL,
         "With --wait: print the Secret's values too, as KEY=VALUE (decoded). Without it only the keys are shown.",
         &arg_show_secret},
        {"dry-run", 0, CREATE_FLAG_STRING, "none|client", "client", "none",
         "client: print the object that would be created (YAML unless -o json) and create nothing; the cluster "
         "is read only to check the parameters (--validate).", &arg_dry_run},
        {"output", 'o', CREATE_FLAG_STRING, "name|yaml|json", NULL, NULL,
         "name: print only servicebinding.servicecatalog.k8s.io/NAME; yaml, json: print the object as created "
         "(with --wait: as it is once Ready).", &arg_output},
};

static const struct create_command command = {
        .prog = "kubectl create servicebinding",
        .summary = "Create a ServiceBinding (servicecatalog.k8s.io/v1beta1): ask the broker of a ServiceInstance\n"
                   "for credentials, which the catalog controller writes into a Secret in the namespace. The\n"
                   "instance must exist: when it does not, the error lists those in the namespace.",
        .synopsis = "NAME --instance INSTANCE [options]",
        .flags = flags,
        .nflags = OSB_ELEMENTSOF(flags),
        .footer = "Examples:\n"
                  "  # Credentials for instance \"db\" in Secret \"db-creds\", waiting for them\n"
                  "  kubectl create servicebinding db-app --instance db --secret-name db-creds --wait\n"
                  "  # The same, showing the values (they are secrets: mind the terminal)\n"
                  "  kubectl create servicebinding db-app --instance db --wait --show-secret\n"
                  "  # The manifest, without creating anything\n"
                  "  kubectl create servicebinding db-app --instance db --dry-run=client -o yaml\n"
                  "\n"
                  "Output: \"servicebinding.servicecatalog.k8s.io/NAME created\"; with --wait then\n"
                  "\"servicebinding NAME is Ready: MESSAGE\" (on stderr when -o is given), and on stdout\n"
                  "\"Secret: SECRET\" and \"Keys:\" followed by one key per line (KEY=VALUE with --show-secret).\n",
};

/* Checks that --instance exists in the namespace; if not, prints the error with the instances
 * that do and returns CLI_EXIT_ERROR. @ret (may be NULL): the instance (new). */
static int check_instance(const struct cli *cli, json_t **ret)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *inst = NULL;
        int r = kube_get(cli->kc, &kube_sc_instances, cli->namespace, arg_instance, &inst, &err);
        if (r == 0) {
                if (ret)
                        *ret = OSB_TAKE_PTR(inst);
                return 0;
        }
        if (r != OSB_E_NOT_FOUND)
                return cli_request_error(cli, r, &err);
        json_auto_t *items = NULL;
        r = create_list_items(cli->kc, &kube_sc_instances, cli->namespace, &items, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        json_auto_t *names = json_array();
        if (!names)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
                if (json_array_append_new(names, json_string(cli_str(it, "metadata", "name", NULL))) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        if (json_array_size(names) == 0)
                return cli_error(cli, CLI_EXIT_ERROR, "no serviceinstance '%s' in namespace '%s': it has no service instances",
                                 arg_instance, cli->namespace);
        osb_autofree char *list = create_join_sorted(names);
        return cli_error(cli, CLI_EXIT_ERROR, "no serviceinstance '%s' in namespace '%s'. Instances there: %s",
                         arg_instance, cli->namespace, list ? list : "(out of memory)");
}

/* --validate: @spec's parameters against the binding schema of @inst's plan (the plan the
 * controller resolved: spec.clusterServicePlanRef or servicePlanRef). An instance not resolved
 * yet, or whose plan cannot be read, is not checked (a note says so): the controller checks. */
static int check_parameters(const struct cli *cli, const json_t *inst, const json_t *spec)
{
        if (!arg_validate || !json_object_get(spec, "parameters"))
                return 0;
        const char *cplan = cli_str(inst, "spec", "clusterServicePlanRef", "name", NULL);
        const char *nplan = cli_str(inst, "spec", "servicePlanRef", "name", NULL);
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *plan = NULL;
        int r = cplan ? kube_get(cli->kc, &kube_sc_cluster_plans, NULL, cplan, &plan, &err) :
                nplan ? kube_get(cli->kc, &kube_sc_plans, cli->namespace, nplan, &plan, &err) : OSB_E_NOT_FOUND;
        if (r != 0) {
                fprintf(stderr, "note: the parameters are not checked here: the plan of instance '%s' %s; the "
                                "catalog controller checks them\n", arg_instance,
                        cplan || nplan ? "cannot be read" : "is not resolved yet");
                return 0;
        }
        return create_check_parameters(cli, spec, plan, "serviceBindingCreateParameterSchema");
}

static int build(const char *name, const char *ns, json_t **ret, struct osb_error *err)
{
        json_auto_t *obj = json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s}}}", "apiVersion", "servicecatalog.k8s.io/v1beta1",
                                     "kind", "ServiceBinding", "metadata", "name", name, "spec", "instanceRef", "name",
                                     arg_instance);
        if (!obj)
                return osb_error_set(err, -ENOMEM, "out of memory (or an argument is not UTF-8)");
        json_t *spec = json_object_get(obj, "spec");
        if ((ns && json_object_set_new(json_object_get(obj, "metadata"), "namespace", json_string(ns)) < 0) ||
            (arg_secret_name && json_object_set_new(spec, "secretName", json_string(arg_secret_name)) < 0) ||
            (arg_external_id && json_object_set_new(spec, "externalID", json_string(arg_external_id)) < 0))
                return osb_error_set(err, -ENOMEM, "out of memory (or an argument is not UTF-8)");
        int r = create_parameters(&arg_params, &arg_params_json, &arg_secret_params, spec, err);
        if (r != 0)
                return r;
        *ret = OSB_TAKE_PTR(obj);
        return 0;
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Prints "Secret: NAME", "Keys:" and the keys of the Secret the Ready binding @b wrote, sorted,
 * one per line (KEY=VALUE, decoded, with --show-secret). */
static int show_secret(const struct cli *cli, const json_t *b, const char *name)
{
        const char *sname = cli_str(b, "spec", "secretName", NULL);
        if (!sname || !*sname)
                sname = name;
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *secret = NULL;
        int r = kube_get(cli->kc, &kube_secrets, cli->namespace, sname, &secret, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        const json_t *data = cli_get(secret, "data", NULL);
        size_t n = json_object_size(data), k = 0;
        osb_autofree const char **keys = osb_calloc(n ? n : 1, sizeof(*keys));
        if (!keys)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *) data, key, v)
                keys[k++] = key;
        qsort(keys, k, sizeof(*keys), cmp_key);
        printf("Secret: %s\nKeys:\n", sname);
        for (size_t i = 0; i < k; i++) {
                if (!arg_show_secret) {
                        printf("  %s\n", keys[i]);
                        continue;
                }
                const char *b64 = json_string_value(json_object_get(data, keys[i]));
                osb_autofree char *value = NULL;
                size_t len = 0;
                if (!b64 || osb_base64_decode(b64, strlen(b64), OSB_BASE64_STRICT, &value, &len, NULL) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "Secret '%s': the value of key '%s' is not base64", sname,
                                         keys[i]);
                printf("  %s=", keys[i]);
                fwrite(value, 1, len, stdout);
                putchar('\n');
        }
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static int usage_error(const struct cli *cli, int r, const struct osb_error *err)
{
        return cli_error(cli, r == CLI_EXIT_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_ERROR, "%s", err->text);
}

static int run(struct cli *cli, int argc, char **argv)
{
        struct osb_error err = OSB_ERROR_INIT;
        const char *name = NULL;
        int r = cli_global_flags(cli, &argc, argv, &err);
        if (r == 0)
                r = create_flags_parse(&command, argc, argv, &name, &err);
        if (r == 1)
                return CLI_EXIT_OK;
        if (r != 0)
                return usage_error(cli, r, &err);
        if (!arg_instance || !*arg_instance)
                return cli_error(cli, CLI_EXIT_USAGE, "--instance is required; see --help");
        struct create_output out;
        r = create_output_parse(arg_output, arg_dry_run, &out, &err);
        if (r != 0)
                return usage_error(cli, r, &err);
        if (out.dry_run && arg_wait)
                return cli_error(cli, CLI_EXIT_USAGE, "--wait cannot be used with --dry-run=client");
        if (arg_show_secret && !arg_wait)
                return cli_error(cli, CLI_EXIT_USAGE, "--show-secret needs --wait; see --help");

        json_auto_t *obj = NULL;
        r = build(name, cli->namespace, &obj, &err);   /* before cli_connect(): set only by -n */
        if (r != 0)
                return usage_error(cli, r, &err);
        json_auto_t *inst = NULL;
        if (out.dry_run && arg_validate && json_object_get(json_object_get(obj, "spec"), "parameters") &&
            !json_object_get(json_object_get(obj, "spec"), "parametersFrom")) {
                /* the instance is read only for the check, and only when the cluster can be */
                if (cli_connect(cli, &err) == 0 &&
                    kube_get(cli->kc, &kube_sc_instances, cli->namespace, arg_instance, &inst, &err) == 0) {
                        r = check_parameters(cli, inst, json_object_get(obj, "spec"));
                        if (r != 0)
                                return r;
                } else {
                        fprintf(stderr, "warning: the parameters were not checked against the plan's schema: instance "
                                        "'%s' cannot be read (%s)\n", arg_instance, err.text);
                }
        }
        if (out.dry_run)
                return create_print(&out, RESOURCE, name, obj) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;

        if (cli_connect(cli, &err) != 0)
                return cli_error(cli, CLI_EXIT_ERROR, "%s", err.text);
        r = check_instance(cli, &inst);
        if (r == 0)
                r = check_parameters(cli, inst, json_object_get(obj, "spec"));
        if (r != 0)
                return r;
        json_decref(OSB_TAKE_PTR(obj));
        r = build(name, cli->namespace, &obj, &err);
        if (r != 0)
                return usage_error(cli, r, &err);

        json_auto_t *ready = NULL;
        r = create_submit(cli, &kube_sc_bindings, RESOURCE, "servicebinding", name, obj, &out, arg_wait,
                          arg_timeout_ms, &ready);
        if (r != CLI_EXIT_OK || !ready || out.format == CLI_OUTPUT_JSON || out.format == CLI_OUTPUT_YAML)
                return r;
        return show_secret(cli, ready, name);
}

int main(int argc, char **argv)
{
        osb_mem_setup();
        struct cli cli = {.prog = command.prog};
        int code = run(&cli, argc, argv);
        create_flags_release(&command);
        cli_release(&cli);
        return code;
}
