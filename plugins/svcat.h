/* plugins/svcat.h: what the files of kubectl-svcat share: kubectl-svcat.c (the command line,
 * help, version, completion and the commands that change objects), svcat_get.c (get,
 * marketplace, the listings behind completion) and svcat_describe.c (describe). One program,
 * not a library: every function here writes its output and its errors itself and returns an
 * exit code (CLI_EXIT_*), unless its comment says otherwise. */
#pragma once

#include "plugins/cli.h"

#define SVCAT_MAX_ARGS 32
#define SVCAT_MAX_OPTS 8

/* A flag of a command: --NAME (and -SHORTNAME), with a value when @arg is not NULL. */
struct svcat_opt {
        const char *name;
        char shortname;      /* 0: none */
        const char *arg;     /* what the value is ("FORMAT"), or NULL for a switch */
        bool repeat;         /* may be given more than once: every value goes to args.multi */
        const char *help;
};

/* A command line after the global flags and the command's own flags were taken out. All
 * pointers borrow argv. */
struct svcat_args {
        const char *pos[SVCAT_MAX_ARGS];   /* the positional arguments */
        size_t npos;
        const char *val[SVCAT_MAX_OPTS];   /* by option index: the value ("" for a switch), or NULL */
        const char *multi[SVCAT_MAX_ARGS]; /* every value of the repeatable option, in order */
        size_t nmulti;
};

/* The kinds of object the commands name. */
enum svcat_kind { SVCAT_BROKER, SVCAT_CLASS, SVCAT_PLAN, SVCAT_INSTANCE, SVCAT_BINDING };

/* "brokers", "broker", "brk", "classes", "class", "cl", "plans", "plan", "pl", "instances",
 * "instance", "inst", "si", "bindings", "binding", "sbd". Returns 0 or -EINVAL. */
int svcat_kind_parse(const char *s, enum svcat_kind *ret);

/* The cluster-scoped or namespaced resource of a kind (cluster-scoped for instances and
 * bindings: there is none, the namespaced one is returned), and its Kind ("ClusterServicePlan"). */
const struct kube_resource *svcat_resource(enum svcat_kind kind, bool namespaced);
const char *svcat_kind_name(const struct kube_resource *res);

/* Lists @res in @ns (NULL: all namespaces; ignored for cluster-scoped resources), optionally
 * with a fieldSelector. Returns 0 with *ret the items (a new array; every item has kind and
 * apiVersion set), or a kube error code with @err set. */
int svcat_list(struct kube_client *kc, const struct kube_resource *res, const char *ns,
               const char *field_selector, json_t **ret, struct osb_error *err);

/* Appends to @items (an array) the items of the cluster-scoped and of the namespaced resource
 * of @kind (classes, plans, brokers): the namespaced ones of cli->namespace, or of every
 * namespace when @all. A cluster without the namespaced CRD is not an error. Returns 0 or a
 * kube error code with @err set. */
int svcat_list_both(struct cli *cli, enum svcat_kind kind, bool all, json_t *items,
                    struct osb_error *err);

/* The class or plan named @name: its metadata.name or its spec.externalName; a plan also as
 * "CLASS/PLAN" (external names). Cluster-scoped ones and those of cli->namespace. Returns 0
 * with *ret a new array of the matches (may be empty), or a kube error code with @err set. */
int svcat_find_offering(struct cli *cli, enum svcat_kind kind, const char *name, json_t **ret,
                        struct osb_error *err);

/* Prints kubectl's message for an object that does not exist, to stderr:
 * Error from server (NotFound): serviceinstances.servicecatalog.k8s.io "NAME" not found
 * Returns CLI_EXIT_ERROR. */
int svcat_not_found(const struct kube_resource *res, const char *name);

/* The external name of the class (or the plan) an instance names, whichever way it names it. */
const char *svcat_instance_class(const json_t *si);
const char *svcat_instance_plan(const json_t *si);

/* The commands. */
int svcat_cmd_get(struct cli *cli, const struct svcat_args *a);
int svcat_cmd_marketplace(struct cli *cli, const struct svcat_args *a);
int svcat_cmd_describe(struct cli *cli, const struct svcat_args *a);

/* Prints, one per line, the names of the objects of @kind that start with @prefix (for
 * completion; errors print nothing). */
void svcat_complete_names(struct cli *cli, enum svcat_kind kind, const char *prefix);

/* Option indices of get and marketplace (their flag tables are in kubectl-svcat.c). */
enum { SVCAT_OPT_OUTPUT = 0, SVCAT_OPT_ALL = 1 };

/* kubectl svcat migrate (svcat_migrate.c): @sub is plan, export, run or verify. */
struct svcat_migrate_opts {
        const char *dir;        /* --dir: where the snapshot (objects.json) is kept; NULL for plan */
        const char *crds;       /* --crds: Bindery's CRDs (plan, run) */
        const char *old_ns;     /* --old-namespace: service-catalog's Deployments */
        int stop_after;         /* --stop-after N (run): 0 = every step */
};
int svcat_migrate(struct cli *cli, const char *sub, const struct svcat_migrate_opts *o);
