/* plugins/kubectl-create-serviceinstance.c: "kubectl create serviceinstance NAME --class CLASS
 * --plan PLAN": checks that the class and plan exist, creates a servicecatalog.k8s.io/v1beta1
 * ServiceInstance and, with --wait, follows it until it is Ready or Failed. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "plugins/cli.h"
#include "plugins/create.h"

#define RESOURCE "serviceinstance.servicecatalog.k8s.io"

static const char *arg_class, *arg_plan, *arg_external_id, *arg_output, *arg_dry_run;
static bool arg_kubernetes_name, arg_wait, arg_validate = true;
static int64_t arg_timeout_ms = 5 * 60 * 1000;
static struct create_list arg_params, arg_params_json, arg_secret_params;

static const struct create_flag flags[] = {
        {"class", 0, CREATE_FLAG_STRING, "CLASS", NULL, NULL,
         "Service class: its external name (as the broker's catalog names it), or its Kubernetes name with "
         "--kubernetes-name. A ClusterServiceClass, else a ServiceClass in the namespace. Required.", &arg_class},
        {"plan", 0, CREATE_FLAG_STRING, "PLAN", NULL, NULL,
         "Plan of that class: its external name, or its Kubernetes name with --kubernetes-name. Required.", &arg_plan},
        {"kubernetes-name", 0, CREATE_FLAG_BOOL, NULL, NULL, NULL,
         "CLASS and PLAN are Kubernetes names (spec.clusterServiceClassName/clusterServicePlanName), not external "
         "names.", &arg_kubernetes_name},
        {"param", 'p', CREATE_FLAG_LIST, "KEY=VALUE", NULL, NULL,
         "A parameter for the broker, as a string (repeatable; a KEY given twice is an error).", &arg_params},
        {"params-json", 0, CREATE_FLAG_LIST, "JSON", NULL, NULL,
         "Parameters as a JSON object, merged with --param (a key given by both is an error).", &arg_params_json},
        {"secret-param", 0, CREATE_FLAG_LIST, "SECRET[:KEY]", NULL, NULL,
         "Parameters from the JSON object in key KEY (default \"parameters\") of Secret SECRET in the namespace "
         "(spec.parametersFrom; repeatable).", &arg_secret_params},
        {"external-id", 0, CREATE_FLAG_STRING, "ID", NULL, NULL,
         "The instance id sent to the broker (default: a UUID the controller picks).", &arg_external_id},
        {"validate", 0, CREATE_FLAG_BOOL, NULL, NULL, "true",
         "Check the parameters (--param, --params-json) against the plan's instance create schema before creating, "
         "and print every violation (exit 1); --validate=false skips the check. Parameters from Secrets "
         "(--secret-param) are not read here: the catalog controller checks them. With --dry-run=client the "
         "plan is read from the cluster for this check when the cluster can be reached.", &arg_validate},
        {"wait", 0, CREATE_FLAG_BOOL, NULL, NULL, NULL,
         "After creating, wait until the instance is Ready (exit 0), Failed (exit 3) or --timeout passes (exit 4).",
         &arg_wait},
        {"timeout", 0, CREATE_FLAG_DURATION, "DURATION", NULL, "5m", "How long --wait waits: 500ms, 30s, 5m, 1h.",
         &arg_timeout_ms},
        {"dry-run", 0, CREATE_FLAG_STRING, "none|client", "client", "none",
         "client: print the object that would be created (YAML unless -o json) and create nothing; the class and "
         "plan are taken as cluster-wide ones, and the cluster is read only to check the parameters (--validate).",
         &arg_dry_run},
        {"output", 'o', CREATE_FLAG_STRING, "name|yaml|json", NULL, NULL,
         "name: print only serviceinstance.servicecatalog.k8s.io/NAME; yaml, json: print the object as created "
         "(with --wait: as it is once Ready).", &arg_output},
};

static const struct create_command command = {
        .prog = "kubectl create serviceinstance",
        .summary = "Create a ServiceInstance (servicecatalog.k8s.io/v1beta1): ask a service broker for a new\n"
                   "instance of a service class and plan. The class and plan must exist: when they do not, the\n"
                   "error lists those that do.",
        .synopsis = "NAME --class CLASS --plan PLAN [options]",
        .flags = flags,
        .nflags = OSB_ELEMENTSOF(flags),
        .footer = "Examples:\n"
                  "  # A database of plan \"small\", waiting until the broker has provisioned it\n"
                  "  kubectl create serviceinstance db --class postgresql --plan small --wait\n"
                  "  # Parameters as strings, as JSON, and from a Secret's key \"parameters\"\n"
                  "  kubectl create serviceinstance db --class postgresql --plan small -n shop \\\n"
                  "      --param region=eu --params-json '{\"replicas\": 2}' --secret-param db-params\n"
                  "  # The manifest, without creating anything\n"
                  "  kubectl create serviceinstance db --class postgresql --plan small --dry-run=client -o yaml\n"
                  "\n"
                  "Output: \"serviceinstance.servicecatalog.k8s.io/NAME created\"; with --wait then\n"
                  "\"serviceinstance NAME is Ready: MESSAGE\" (on stderr when -o is given).\n",
};

/* The class or plan that matched, and what to write into the spec. */
struct offering {
        json_t *cls;           /* the ClusterServiceClass or ServiceClass; owned */
        bool cluster;
};

static void offering_release(struct offering *o)
{
        json_decref(o->cls);
        o->cls = NULL;
}

static const char *match_key(const json_t *obj)
{
        return arg_kubernetes_name ? cli_str(obj, "metadata", "name", NULL) : cli_str(obj, "spec", "externalName", NULL);
}

/* Appends the names a user could give (external or Kubernetes names) of @items to @names and
 * sets *ret to the item whose name is @want (borrowed), or NULL. Returns 0 or -ENOMEM. */
static int find_named(const json_t *items, const char *want, json_t *names, json_t **ret)
{
        json_t *found = NULL;
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
                const char *n = match_key(it);
                if (!n)
                        continue;
                if (json_array_append_new(names, json_string(n)) < 0)
                        return -ENOMEM;
                if (!found && strcmp(n, want) == 0)
                        found = it;
        }
        *ret = found;
        return 0;
}

/* Finds --class: a ClusterServiceClass, else a ServiceClass in the namespace. Prints the error
 * (with the classes that exist) and returns CLI_EXIT_ERROR when there is none. */
static int find_class(const struct cli *cli, struct offering *ret)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *names = json_array();
        json_auto_t *cluster = NULL, *local = NULL;
        if (!names)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        int r = create_list_items(cli->kc, &kube_sc_cluster_classes, NULL, &cluster, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        json_t *c = NULL;
        if (find_named(cluster, arg_class, names, &c) < 0)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        if (c) {
                ret->cls = json_incref(c);
                ret->cluster = true;
                return 0;
        }
        r = create_list_items(cli->kc, &kube_sc_classes, cli->namespace, &local, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        if (find_named(local, arg_class, names, &c) < 0)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        if (c) {
                ret->cls = json_incref(c);
                ret->cluster = false;
                return 0;
        }
        if (json_array_size(names) == 0)
                return cli_error(cli, CLI_EXIT_ERROR,
                                 "no service class named '%s': no service classes exist: is a broker registered? "
                                 "(kubectl svcat get brokers)", arg_class);
        osb_autofree char *list = create_join_sorted(names);
        return cli_error(cli, CLI_EXIT_ERROR, "no service class named '%s'%s. Classes: %s", arg_class,
                         arg_kubernetes_name ? " (Kubernetes name)" : "", list ? list : "(out of memory)");
}

/* Checks that --plan is a plan of the class. Prints the error (with the class's plans) and
 * returns CLI_EXIT_ERROR when it is not; else 0 with *ret the plan (new). */
static int check_plan(const struct cli *cli, const struct offering *o, json_t **ret)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *items = NULL;
        json_auto_t *plans = json_array();
        json_auto_t *names = json_array();
        if (!plans || !names)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        int r = create_list_items(cli->kc, o->cluster ? &kube_sc_cluster_plans : &kube_sc_plans,
                                  o->cluster ? NULL : cli->namespace, &items, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        const char *cls_name = cli_str(o->cls, "metadata", "name", NULL);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
                const char *ref = o->cluster ? cli_str(it, "spec", "clusterServiceClassRef", "name", NULL) :
                                               cli_str(it, "spec", "serviceClassRef", "name", NULL);
                if (osb_streq(ref, cls_name) && json_array_append(plans, it) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        }
        json_t *plan = NULL;
        if (find_named(plans, arg_plan, names, &plan) < 0)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        if (plan) {
                *ret = json_incref(plan);
                return 0;
        }
        if (json_array_size(names) == 0)
                return cli_error(cli, CLI_EXIT_ERROR, "no plan named '%s': class '%s' has no plans", arg_plan, arg_class);
        osb_autofree char *list = create_join_sorted(names);
        return cli_error(cli, CLI_EXIT_ERROR, "class '%s' has no plan named '%s'. Plans: %s", arg_class, arg_plan,
                         list ? list : "(out of memory)");
}

/* The ServiceInstance to create. @cluster: the class is a ClusterServiceClass. @ns may be NULL
 * (a dry run without -n: no metadata.namespace, as kubectl create does). */
static int build(const char *name, const char *ns, bool cluster, json_t **ret, struct osb_error *err)
{
        static const char *const keys[2][2][2] = {
                /* [cluster][kubernetes name][class, plan] */
                {{"serviceClassExternalName", "servicePlanExternalName"}, {"serviceClassName", "servicePlanName"}},
                {{"clusterServiceClassExternalName", "clusterServicePlanExternalName"},
                 {"clusterServiceClassName", "clusterServicePlanName"}},
        };
        const char *const *k = keys[cluster][arg_kubernetes_name];
        json_auto_t *obj = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "apiVersion", "servicecatalog.k8s.io/v1beta1",
                                     "kind", "ServiceInstance", "metadata", "name", name, "spec", k[0], arg_class, k[1],
                                     arg_plan);
        if (!obj)
                return osb_error_set(err, -ENOMEM, "out of memory (or an argument is not UTF-8)");
        json_t *spec = json_object_get(obj, "spec");
        if ((ns && json_object_set_new(json_object_get(obj, "metadata"), "namespace", json_string(ns)) < 0) ||
            (arg_external_id && json_object_set_new(spec, "externalID", json_string(arg_external_id)) < 0))
                return osb_error_set(err, -ENOMEM, "out of memory (or an argument is not UTF-8)");
        int r = create_parameters(&arg_params, &arg_params_json, &arg_secret_params, spec, err);
        if (r != 0)
                return r;
        *ret = OSB_TAKE_PTR(obj);
        return 0;
}

/* --dry-run=client with --validate: parameters given inline are checked against the plan's
 * schema when the cluster can be reached (a warning says they were not when it cannot: a dry
 * run needs no cluster). */
static int dry_run_check(struct cli *cli, const json_t *spec)
{
        if (!arg_validate || !json_object_get(spec, "parameters") || json_object_get(spec, "parametersFrom"))
                return 0;
        struct osb_error err = OSB_ERROR_INIT;
        json_auto_t *probe = NULL;
        int r = cli_connect(cli, &err);
        if (r == 0)
                r = create_list_items(cli->kc, &kube_sc_cluster_classes, NULL, &probe, &err);
        if (r != 0) {
                fprintf(stderr, "warning: the parameters were not checked against the plan's schema: the cluster "
                                "cannot be read (%s)\n", err.text);
                return 0;
        }
        osb_auto(offering_release) struct offering o = {0};
        json_auto_t *plan = NULL;
        r = find_class(cli, &o);
        if (r == 0)
                r = check_plan(cli, &o, &plan);
        if (r != 0)
                return r;
        return create_check_parameters(cli, spec, plan, "instanceCreateParameterSchema");
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
        if (!arg_class || !*arg_class || !arg_plan || !*arg_plan)
                return cli_error(cli, CLI_EXIT_USAGE, "--class and --plan are required; see --help");
        struct create_output out;
        r = create_output_parse(arg_output, arg_dry_run, &out, &err);
        if (r != 0)
                return usage_error(cli, r, &err);
        if (out.dry_run && arg_wait)
                return cli_error(cli, CLI_EXIT_USAGE, "--wait cannot be used with --dry-run=client");

        json_auto_t *obj = NULL;
        if (out.dry_run) {
                /* The class is taken as a cluster class; the cluster is read only for --validate. */
                r = build(name, cli->namespace_given ? cli->namespace : NULL, true, &obj, &err);
                if (r != 0)
                        return usage_error(cli, r, &err);
                r = dry_run_check(cli, json_object_get(obj, "spec"));
                if (r != 0)
                        return r;
                return create_print(&out, RESOURCE, name, obj) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
        }

        /* Bad parameters are reported before anything is read from the cluster. */
        r = build(name, NULL, true, &obj, &err);
        if (r != 0)
                return usage_error(cli, r, &err);
        json_decref(OSB_TAKE_PTR(obj));
        if (cli_connect(cli, &err) != 0)
                return cli_error(cli, CLI_EXIT_ERROR, "%s", err.text);
        osb_auto(offering_release) struct offering o = {0};
        json_auto_t *plan = NULL;
        r = find_class(cli, &o);
        if (r == 0)
                r = check_plan(cli, &o, &plan);
        if (r != 0)
                return r;
        r = build(name, cli->namespace, o.cluster, &obj, &err);
        if (r != 0)
                return usage_error(cli, r, &err);
        if (arg_validate && (r = create_check_parameters(cli, json_object_get(obj, "spec"), plan,
                                                         "instanceCreateParameterSchema")) != 0)
                return r;

        json_auto_t *ready = NULL;
        return create_submit(cli, &kube_sc_instances, RESOURCE, "serviceinstance", name, obj, &out, arg_wait,
                             arg_timeout_ms, &ready);
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
