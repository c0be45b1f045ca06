/* plugins/svcat_get.c: kubectl svcat get and marketplace, and the listings they share with
 * describe and completion. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "plugins/svcat.h"
#include "plugins/svcat_params.h"

#define SC_API_VERSION "servicecatalog.k8s.io/v1beta1"

static const struct {
        const struct kube_resource *res;
        const char *kind;
} kinds[] = {
        {&kube_sc_cluster_brokers, "ClusterServiceBroker"},
        {&kube_sc_cluster_classes, "ClusterServiceClass"},
        {&kube_sc_cluster_plans, "ClusterServicePlan"},
        {&kube_sc_brokers, "ServiceBroker"},
        {&kube_sc_classes, "ServiceClass"},
        {&kube_sc_plans, "ServicePlan"},
        {&kube_sc_instances, "ServiceInstance"},
        {&kube_sc_bindings, "ServiceBinding"},
};

static const struct {
        const char *name;
        enum svcat_kind kind;
} kind_names[] = {
        {"brokers", SVCAT_BROKER},     {"broker", SVCAT_BROKER},       {"brk", SVCAT_BROKER},
        {"classes", SVCAT_CLASS},      {"class", SVCAT_CLASS},         {"cl", SVCAT_CLASS},
        {"plans", SVCAT_PLAN},         {"plan", SVCAT_PLAN},           {"pl", SVCAT_PLAN},
        {"instances", SVCAT_INSTANCE}, {"instance", SVCAT_INSTANCE},   {"inst", SVCAT_INSTANCE},
        {"si", SVCAT_INSTANCE},        {"bindings", SVCAT_BINDING},    {"binding", SVCAT_BINDING},
        {"sbd", SVCAT_BINDING},
};

int svcat_kind_parse(const char *s, enum svcat_kind *ret)
{
        for (size_t i = 0; i < OSB_ELEMENTSOF(kind_names); i++)
                if (osb_streq(s, kind_names[i].name)) {
                        *ret = kind_names[i].kind;
                        return 0;
                }
        return -EINVAL;
}

const struct kube_resource *svcat_resource(enum svcat_kind kind, bool namespaced)
{
        switch (kind) {
        case SVCAT_BROKER:
                return namespaced ? &kube_sc_brokers : &kube_sc_cluster_brokers;
        case SVCAT_CLASS:
                return namespaced ? &kube_sc_classes : &kube_sc_cluster_classes;
        case SVCAT_PLAN:
                return namespaced ? &kube_sc_plans : &kube_sc_cluster_plans;
        case SVCAT_INSTANCE:
                return &kube_sc_instances;
        case SVCAT_BINDING:
                break;
        }
        return &kube_sc_bindings;
}

const char *svcat_kind_name(const struct kube_resource *res)
{
        for (size_t i = 0; i < OSB_ELEMENTSOF(kinds); i++)
                if (kinds[i].res == res)
                        return kinds[i].kind;
        return "";
}

static void response_releasep(struct kube_response *r)
{
        kube_response_release(r);
}

int svcat_list(struct kube_client *kc, const struct kube_resource *res, const char *ns,
               const char *field_selector, json_t **ret, struct osb_error *err)
{
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, NULL, NULL, &path);
        if (r < 0)
                return osb_error_set(err, r, "cannot make the path of %s: %s", res->plural, strerror(-r));
        if (field_selector && (r = kube_path_add_query(&path, "fieldSelector", field_selector)) < 0)
                return osb_error_set(err, r, "out of memory");
        osb_auto(response_releasep) struct kube_response resp = {0};
        r = kube_request(kc, "GET", path, NULL, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status >= 300)
                return kube_response_error(kc, "GET", path, &resp, err);
        json_t *items = json_object_get(resp.body, "items");
        if (!json_is_array(items))
                return osb_error_set(err, -EBADMSG, "GET %s: the answer is not a list", path);
        /* lists of built-in kinds leave kind and apiVersion out of their items: -o json has them */
        const char *kind = svcat_kind_name(res);
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item) {
                if (*kind && !json_object_get(item, "kind") &&
                    (json_object_set_new(item, "apiVersion", json_string(SC_API_VERSION)) < 0 ||
                     json_object_set_new(item, "kind", json_string(kind)) < 0))
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        *ret = json_incref(items);
        return 0;
}

int svcat_list_both(struct cli *cli, enum svcat_kind kind, bool all, json_t *items,
                    struct osb_error *err)
{
        for (int namespaced = 0; namespaced <= 1; namespaced++) {
                osb_autojson json_t *part = NULL;
                int r = svcat_list(cli->kc, svcat_resource(kind, namespaced), all ? NULL : cli->namespace,
                                   NULL, &part, err);
                /* a cluster without the namespaced CRDs has no namespaced brokers, and that is all */
                if (r == OSB_E_NOT_FOUND && namespaced)
                        continue;
                if (r < 0)
                        return r;
                if (json_array_extend(items, part) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

int svcat_not_found(const struct kube_resource *res, const char *name)
{
        fprintf(stderr, "Error from server (NotFound): %s.%s \"%s\" not found\n", res->plural, res->group, name);
        return CLI_EXIT_ERROR;
}

/* The external name of the class of @plan, from @classes (cluster and namespaced). */
static const char *plan_class_name(const json_t *plan, const json_t *classes)
{
        const char *ref = cli_str(plan, "spec", "clusterServiceClassRef", "name", NULL);
        const char *ns = NULL;
        if (!ref) {
                ref = cli_str(plan, "spec", "serviceClassRef", "name", NULL);
                ns = cli_str(plan, "metadata", "namespace", NULL);
        }
        size_t i;
        const json_t *c;
        json_array_foreach(classes, i, c) {
                if (osb_streq(cli_str(c, "metadata", "name", NULL), ref) &&
                    osb_streq(cli_str(c, "metadata", "namespace", NULL), ns))
                        return cli_str(c, "spec", "externalName", NULL);
        }
        return ref;
}

int svcat_find_offering(struct cli *cli, enum svcat_kind kind, const char *name, json_t **ret,
                        struct osb_error *err)
{
        osb_autojson json_t *items = json_array();
        osb_autojson json_t *classes = json_array();
        osb_autojson json_t *found = json_array();
        if (!items || !classes || !found)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = svcat_list_both(cli, kind, false, items, err);
        if (r < 0)
                return r;
        const char *slash = kind == SVCAT_PLAN ? strchr(name, '/') : NULL;
        if (slash && (r = svcat_list_both(cli, SVCAT_CLASS, false, classes, err)) < 0)
                return r;
        size_t i;
        json_t *o;
        json_array_foreach(items, i, o) {
                const char *ext = cli_str(o, "spec", "externalName", NULL);
                bool match;
                if (slash) {
                        const char *cn = plan_class_name(o, classes);
                        size_t len = (size_t) (slash - name);
                        match = osb_streq(ext, slash + 1) && cn && strlen(cn) == len && strncmp(cn, name, len) == 0;
                } else {
                        match = osb_streq(ext, name) || osb_streq(cli_str(o, "metadata", "name", NULL), name);
                }
                if (match && json_array_append(found, o) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }
        *ret = OSB_TAKE_PTR(found);
        return 0;
}

static const char *after_slash(const char *s)
{
        const char *p = s ? strchr(s, '/') : NULL;
        return p ? p + 1 : s;
}

const char *svcat_instance_class(const json_t *si)
{
        const char *s = cli_str(si, "spec", "clusterServiceClassExternalName", NULL);
        if (!s)
                s = cli_str(si, "spec", "serviceClassExternalName", NULL);
        if (!s)
                s = after_slash(cli_str(si, "status", "userSpecifiedClassName", NULL));
        if (!s)
                s = cli_str(si, "spec", "clusterServiceClassName", NULL);
        if (!s)
                s = cli_str(si, "spec", "serviceClassName", NULL);
        return s;
}

const char *svcat_instance_plan(const json_t *si)
{
        const char *s = cli_str(si, "spec", "clusterServicePlanExternalName", NULL);
        if (!s)
                s = cli_str(si, "spec", "servicePlanExternalName", NULL);
        if (!s)
                s = cli_str(si, "status", "externalProperties", "clusterServicePlanExternalName", NULL);
        if (!s)
                s = cli_str(si, "status", "externalProperties", "servicePlanExternalName", NULL);
        if (!s)
                s = after_slash(cli_str(si, "status", "userSpecifiedPlanName", NULL));
        return s;
}

/* ---- output ---------------------------------------------------------------------------------- */

static void table_freep(struct cli_table **t)
{
        cli_table_free(*t);
        *t = NULL;
}

static int print_list(json_t *items, enum cli_output out, bool single)
{
        if (out == CLI_OUTPUT_NAME) {
                size_t i;
                const json_t *o;
                json_array_foreach(items, i, o) {
                        const char *kind = cli_str(o, "kind", NULL);
                        printf("%c", kind ? tolower((unsigned char) kind[0]) : '?');
                        for (const char *k = kind ? kind + 1 : ""; *k; k++)
                                putchar(tolower((unsigned char) *k));
                        printf(".servicecatalog.k8s.io/%s\n", cli_str(o, "metadata", "name", NULL));
                }
                return CLI_EXIT_OK;
        }
        osb_autojson json_t *list = NULL;
        const json_t *v = items;
        if (single && json_array_size(items) == 1) {
                v = json_array_get(items, 0);
        } else {
                list = json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind", "List",
                                 "metadata", "resourceVersion", "");
                if (!list)
                        return cli_error(NULL, CLI_EXIT_ERROR, "out of memory");
                v = list;
        }
        int r = out == CLI_OUTPUT_JSON ? cli_print_json(stdout, v) : cli_print_yaml(stdout, v);
        if (r < 0)
                return cli_error(NULL, CLI_EXIT_ERROR, "cannot print: %s", strerror(-r));
        return CLI_EXIT_OK;
}

static int add_row(struct cli_table *t, const char *const *cells)
{
        if (cli_table_add(t, cells) < 0)
                return cli_error(NULL, CLI_EXIT_ERROR, "out of memory");
        return 0;
}

/* A table of @items of @kind; the NAMESPACE column first when @all. */
static int print_table(struct cli *cli, enum svcat_kind kind, json_t *items, bool all)
{
        static const char *const h_broker[] = {"NAMESPACE", "NAME", "URL", "STATUS", "AGE"};
        static const char *const h_class[] = {"NAMESPACE", "NAME", "DESCRIPTION"};
        static const char *const h_plan[] = {"NAMESPACE", "NAME", "CLASS", "DESCRIPTION"};
        static const char *const h_inst[] = {"NAMESPACE", "NAME", "CLASS", "PLAN", "STATUS", "AGE"};
        static const char *const h_bind[] = {"NAMESPACE", "NAME", "INSTANCE", "SECRET", "STATUS", "AGE"};
        const char *const *h;
        unsigned n;
        switch (kind) {
        case SVCAT_BROKER: h = h_broker, n = OSB_ELEMENTSOF(h_broker); break;
        case SVCAT_CLASS: h = h_class, n = OSB_ELEMENTSOF(h_class); break;
        case SVCAT_PLAN: h = h_plan, n = OSB_ELEMENTSOF(h_plan); break;
        case SVCAT_INSTANCE: h = h_inst, n = OSB_ELEMENTSOF(h_inst); break;
        default: h = h_bind, n = OSB_ELEMENTSOF(h_bind); break;
        }
        unsigned skip = all ? 0 : 1;
        osb_auto(table_freep) struct cli_table *t = cli_table_new(n - skip, h + skip);
        osb_autojson json_t *classes = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        if (!t)
                return cli_error(NULL, CLI_EXIT_ERROR, "out of memory");
        if (kind == SVCAT_PLAN) {
                if (!(classes = json_array()))
                        return cli_error(NULL, CLI_EXIT_ERROR, "out of memory");
                int r = svcat_list_both(cli, SVCAT_CLASS, all, classes, &err);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
        }
        size_t i;
        const json_t *o;
        json_array_foreach(items, i, o) {
                char age[32];
                const char *row[6];
                row[0] = cli_str(o, "metadata", "namespace", NULL);
                const char *name = cli_str(o, "metadata", "name", NULL);
                cli_age(cli_str(o, "metadata", "creationTimestamp", NULL), age, sizeof(age));
                switch (kind) {
                case SVCAT_BROKER:
                        row[1] = name;
                        row[2] = cli_str(o, "spec", "url", NULL);
                        row[3] = cli_status_reason(o);
                        row[4] = age;
                        break;
                case SVCAT_CLASS:
                        row[1] = cli_str(o, "spec", "externalName", NULL);
                        row[2] = cli_str(o, "spec", "description", NULL);
                        break;
                case SVCAT_PLAN:
                        row[1] = cli_str(o, "spec", "externalName", NULL);
                        row[2] = plan_class_name(o, classes);
                        row[3] = cli_str(o, "spec", "description", NULL);
                        break;
                case SVCAT_INSTANCE:
                        row[1] = name;
                        row[2] = svcat_instance_class(o);
                        row[3] = svcat_instance_plan(o);
                        row[4] = cli_status_reason(o);
                        row[5] = age;
                        break;
                case SVCAT_BINDING:
                        row[1] = name;
                        row[2] = cli_str(o, "spec", "instanceRef", "name", NULL);
                        row[3] = cli_str(o, "spec", "secretName", NULL);
                        if (!row[3])
                                row[3] = name;
                        row[4] = cli_status_reason(o);
                        row[5] = age;
                        break;
                }
                if (add_row(t, row + skip) < 0)
                        return CLI_EXIT_ERROR;
        }
        cli_table_print(OSB_TAKE_PTR(t), stdout);
        return CLI_EXIT_OK;
}

int svcat_cmd_get(struct cli *cli, const struct svcat_args *a)
{
        struct osb_error err = OSB_ERROR_INIT;
        enum svcat_kind kind;
        if (svcat_kind_parse(a->pos[0], &kind) < 0)
                return cli_error(cli, CLI_EXIT_USAGE,
                                 "unknown resource kind \"%s\": brokers, classes, plans, instances or bindings\n"
                                 "Run '%s get --help' for usage.", a->pos[0], cli->prog);
        enum cli_output out;
        if (cli_parse_output(a->val[SVCAT_OPT_OUTPUT] ? a->val[SVCAT_OPT_OUTPUT] : "", &out, &err) != 0)
                return cli_error(cli, CLI_EXIT_USAGE, "%s", err.text);
        bool all = a->val[SVCAT_OPT_ALL] != NULL;
        const char *name = a->npos > 1 ? a->pos[1] : NULL;
        if (all && name)
                return cli_error(cli, CLI_EXIT_USAGE, "a resource cannot be retrieved by name across all namespaces");
        osb_autojson json_t *items = json_array();
        if (!items)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        int r = 0;
        if (name && (kind == SVCAT_INSTANCE || kind == SVCAT_BINDING || kind == SVCAT_BROKER)) {
                /* a broker: the cluster's, else the namespace's; with -n the namespace's first */
                bool ns_first = kind != SVCAT_BROKER || cli->namespace_given;
                const struct kube_resource *res = svcat_resource(kind, ns_first);
                json_t *obj = NULL;
                r = kube_get(cli->kc, res, cli->namespace, name, &obj, &err);
                if (r == OSB_E_NOT_FOUND && kind == SVCAT_BROKER) {
                        err = (struct osb_error) OSB_ERROR_INIT;
                        r = kube_get(cli->kc, svcat_resource(kind, !ns_first), cli->namespace, name, &obj, &err);
                }
                if (r == OSB_E_NOT_FOUND)
                        return svcat_not_found(res, name);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                if (!json_object_get(obj, "kind"))
                        (void) json_object_set_new(obj, "kind", json_string(svcat_kind_name(res)));
                if (json_array_append_new(items, obj) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        } else if (name) {
                json_decref(items);
                items = NULL;
                r = svcat_find_offering(cli, kind, name, &items, &err);
                if (r < 0)
                        return cli_request_error(cli, r, &err);
                if (json_array_size(items) == 0)
                        return svcat_not_found(svcat_resource(kind, false), name);
        } else if (kind == SVCAT_INSTANCE || kind == SVCAT_BINDING) {
                json_decref(items);
                items = NULL;
                r = svcat_list(cli->kc, svcat_resource(kind, true), all ? NULL : cli->namespace, NULL, &items, &err);
        } else {
                r = svcat_list_both(cli, kind, all, items, &err);
        }
        if (r < 0)
                return cli_request_error(cli, r, &err);
        if (out != CLI_OUTPUT_TABLE)
                return print_list(items, out, name != NULL);
        if (json_array_size(items) == 0) {
                if (all)
                        fprintf(stderr, "No resources found\n");
                else
                        fprintf(stderr, "No resources found in %s namespace.\n", cli->namespace);
                return CLI_EXIT_OK;
        }
        return print_table(cli, kind, items, all);
}

/* ---- marketplace ------------------------------------------------------------------------------- */

static int by_external_name(const void *a, const void *b)
{
        const json_t *x = *(const json_t *const *) a, *y = *(const json_t *const *) b;
        const char *p = cli_str(x, "spec", "externalName", NULL), *q = cli_str(y, "spec", "externalName", NULL);
        return strcmp(p ? p : "", q ? q : "");
}

/* The elements of @arr sorted by spec.externalName, as a new array of borrowed pointers. */
static const json_t **sorted(const json_t *arr)
{
        size_t n = json_array_size(arr);
        const json_t **v = osb_calloc(n + 1, sizeof(*v));
        if (!v)
                return NULL;
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(arr, i);
        qsort(v, n, sizeof(*v), by_external_name);
        return v;
}

static bool removed(const json_t *o)
{
        return json_is_true(cli_get(o, "status", "removedFromBrokerCatalog", NULL));
}

/* Whether @plan belongs to @class (same name, same scope and namespace). */
static bool plan_of(const json_t *plan, const json_t *class)
{
        const char *cref = cli_str(plan, "spec", "clusterServiceClassRef", "name", NULL);
        const char *cns = cli_str(class, "metadata", "namespace", NULL);
        if (cref)
                return !cns && osb_streq(cref, cli_str(class, "metadata", "name", NULL));
        return cns && osb_streq(cli_str(plan, "spec", "serviceClassRef", "name", NULL), cli_str(class, "metadata", "name", NULL)) &&
               osb_streq(cli_str(plan, "metadata", "namespace", NULL), cns);
}

static const char *class_broker(const json_t *c)
{
        const char *b = cli_str(c, "spec", "clusterServiceBrokerName", NULL);
        return b ? b : cli_str(c, "spec", "serviceBrokerName", NULL);
}

int svcat_cmd_marketplace(struct cli *cli, const struct svcat_args *a)
{
        struct osb_error err = OSB_ERROR_INIT;
        const char *o = a->val[SVCAT_OPT_OUTPUT] ? a->val[SVCAT_OPT_OUTPUT] : "";
        enum cli_output out;
        if (cli_parse_output(o, &out, &err) != 0 || out == CLI_OUTPUT_NAME)
                return cli_error(cli, CLI_EXIT_USAGE, "--output must be json, yaml or wide here");
        bool wide = strcmp(o, "wide") == 0, all = a->val[SVCAT_OPT_ALL] != NULL;
        osb_autojson json_t *classes = json_array();
        osb_autojson json_t *plans = json_array();
        osb_autojson json_t *result = json_array();
        if (!classes || !plans || !result)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        int r = svcat_list_both(cli, SVCAT_CLASS, all, classes, &err);
        if (r >= 0)
                r = svcat_list_both(cli, SVCAT_PLAN, all, plans, &err);
        if (r < 0)
                return cli_request_error(cli, r, &err);
        osb_autofree const json_t **cs = sorted(classes);
        osb_autofree const json_t **ps = sorted(plans);
        if (!cs || !ps)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        static const char *const head[] = {"CLASS", "PLAN", "FREE", "DESCRIPTION", "BROKER", "CLASS DESCRIPTION",
                                           "PARAMETERS"};
        osb_auto(table_freep) struct cli_table *t = cli_table_new(wide ? 7 : 4, head);
        if (!t)
                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
        for (size_t i = 0; cs[i]; i++) {
                if (removed(cs[i]))
                        continue;
                const char *cname = cli_str(cs[i], "spec", "externalName", NULL);
                const char *cdesc = cli_str(cs[i], "spec", "description", NULL);
                json_t *jc = json_pack("{s:s?, s:s?, s:s?, s:[]}", "class", cname, "description", cdesc,
                                       "broker", class_broker(cs[i]), "plans");
                if (!jc || json_array_append_new(result, jc) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
                const char *ns = cli_str(cs[i], "metadata", "namespace", NULL);
                if (ns && json_object_set_new(jc, "namespace", json_string(ns)) < 0)
                        return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
                for (size_t j = 0; ps[j]; j++) {
                        if (!plan_of(ps[j], cs[i]) || removed(ps[j]))
                                continue;
                        const char *pname = cli_str(ps[j], "spec", "externalName", NULL);
                        const char *pdesc = cli_str(ps[j], "spec", "description", NULL);
                        bool free_ = json_is_true(cli_get(ps[j], "spec", "free", NULL));
                        json_t *jp = json_pack("{s:s?, s:b, s:s?}", "plan", pname, "free", free_, "description", pdesc);
                        if (!jp || json_array_append_new(json_object_get(jc, "plans"), jp) < 0)
                                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
                        /* which parameters the plan takes at provisioning (its create schema) */
                        const json_t *schema = cli_get(ps[j], "spec", "instanceCreateParameterSchema", NULL);
                        osb_autofree char *params = svcat_params_summary(schema);
                        if (!params || (schema && json_object_set_new(jp, "parameters", json_string(params)) < 0))
                                return cli_error(cli, CLI_EXIT_ERROR, "out of memory");
                        const char *row[] = {cname, pname, free_ ? "yes" : "no", pdesc, class_broker(cs[i]), cdesc, params};
                        if (add_row(t, row) < 0)
                                return CLI_EXIT_ERROR;
                }
        }
        if (out == CLI_OUTPUT_JSON || out == CLI_OUTPUT_YAML) {
                r = out == CLI_OUTPUT_JSON ? cli_print_json(stdout, result) : cli_print_yaml(stdout, result);
                return r < 0 ? cli_error(cli, CLI_EXIT_ERROR, "cannot print: %s", strerror(-r)) : CLI_EXIT_OK;
        }
        if (cli_table_rows(t) == 0) {
                fprintf(stderr, "No service classes found (cluster-wide or in %s namespace).\n",
                        all ? "any" : cli->namespace);
                return CLI_EXIT_OK;
        }
        cli_table_print(OSB_TAKE_PTR(t), stdout);
        return CLI_EXIT_OK;
}

/* ---- completion ------------------------------------------------------------------------------ */

void svcat_complete_names(struct cli *cli, enum svcat_kind kind, const char *prefix)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_autojson json_t *items = json_array();
        if (!items)
                return;
        int r;
        if (kind == SVCAT_INSTANCE || kind == SVCAT_BINDING) {
                json_decref(items);
                items = NULL;
                r = svcat_list(cli->kc, svcat_resource(kind, true), cli->namespace, NULL, &items, &err);
        } else {
                r = svcat_list_both(cli, kind, false, items, &err);
        }
        if (r < 0)
                return;
        size_t i;
        const json_t *o;
        json_array_foreach(items, i, o) {
                const char *n = kind == SVCAT_CLASS || kind == SVCAT_PLAN ? cli_str(o, "spec", "externalName", NULL)
                                                                          : cli_str(o, "metadata", "name", NULL);
                if (n && strncmp(n, prefix, strlen(prefix)) == 0)
                        printf("%s\n", n);
        }
}
