/* plugins/create.h: what kubectl-create-serviceinstance and kubectl-create-servicebinding share
 * on top of plugins/cli.h: a flag table per command (parsed from argv, and the source of
 * --help), spec.parameters and spec.parametersFrom from --param, --params-json and
 * --secret-param, their check against the plan's schema (--validate), the -o and --dry-run
 * output, listing a collection, and --wait. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/osb_error.h"
#include "kube/client.h"
#include "plugins/cli.h"

/* The values of a repeatable flag, in command-line order. The array is new (freed by
 * create_flags_release()); the strings are borrowed from argv. */
struct create_list {
        const char **v;
        size_t n;
};

enum create_flag_kind {
        CREATE_FLAG_STRING,    /* target: const char ** (borrowed from argv); given twice, the last wins */
        CREATE_FLAG_BOOL,      /* target: bool *; "--wait" alone is true, "--wait=false" */
        CREATE_FLAG_LIST,      /* target: struct create_list *; repeatable */
        CREATE_FLAG_DURATION,  /* target: int64_t *, milliseconds: "500ms", "30s", "5m", "1h" */
};

/* One row of a command's flag table: parsing and --help both come from it. */
struct create_flag {
        const char *name;      /* long name without the dashes: "class" */
        char shorthand;        /* 'o', or 0 */
        enum create_flag_kind kind;
        const char *metavar;   /* "CLASS"; NULL for BOOL */
        const char *noarg;     /* STRING only: the value of the flag given alone ("--dry-run" means
                                * "client"); NULL: a value is required */
        const char *def;       /* shown as the default in --help, or NULL */
        const char *help;      /* one or more sentences */
        void *target;
};

struct create_command {
        const char *prog;      /* "kubectl create serviceinstance" */
        const char *summary;   /* first paragraph of --help */
        const char *synopsis;  /* "NAME --class CLASS --plan PLAN [options]" */
        const struct create_flag *flags;
        size_t nflags;
        const char *footer;    /* examples and notes, printed after the options */
};

/* Parses @argv (global flags already removed by cli_global_flags(); argv[0] is skipped) into
 * the table's targets: "--flag value", "--flag=value", "-o yaml", "-oyaml", "-o=yaml", "--"
 * ending the flags. Exactly one positional argument is expected; *ret_name is borrowed from
 * @argv. Returns 0; 1 when -h/--help was given (the usage is printed on stdout and the caller
 * exits 0); or CLI_EXIT_USAGE with a message in @err ("unknown flag: --x; see --help"). */
int create_flags_parse(const struct create_command *cmd, int argc, char **argv, const char **ret_name,
                       struct osb_error *err);
/* Prints the full usage of @cmd: summary, synopsis, the table's flags, the global flags, the
 * footer and the exit codes. */
void create_usage(const struct create_command *cmd, FILE *f);
/* Frees what LIST targets hold. */
void create_flags_release(const struct create_command *cmd);

/* Sets spec.parameters (an object of the --param KEY=VALUE strings merged with the
 * --params-json objects) and spec.parametersFrom ([{secretKeyRef: {name, key}}] from
 * --secret-param SECRET[:KEY], KEY "parameters" by default) in @spec, each only when non-empty.
 * A key given twice (by two --param, or by --param and --params-json, or by two --params-json),
 * a --param without '=', an empty key or Secret name, or a --params-json that is not a JSON object
 * return CLI_EXIT_USAGE with @err naming the flag; else 0 or -ENOMEM. */
int create_parameters(const struct create_list *params, const struct create_list *params_json,
                      const struct create_list *secret_params, json_t *spec, struct osb_error *err);

/* How the result is printed. */
struct create_output {
        enum cli_output format;  /* CLI_OUTPUT_TABLE: kubectl's "KIND/NAME created" line */
        bool dry_run;            /* --dry-run=client: print the object (YAML unless -o), create nothing */
};
/* From the values of -o (NULL: not given) and --dry-run (NULL or "none": off; "client"). Returns
 * 0 or CLI_EXIT_USAGE with @err ("--output must be name, yaml or json"). */
int create_output_parse(const char *output, const char *dry_run, struct create_output *ret,
                        struct osb_error *err);
/* Prints @obj (borrowed) as @o says: "RESOURCE/NAME created" (with " (dry run)" for a dry run),
 * "RESOURCE/NAME", or the object as YAML/JSON. @resource: "serviceinstance.servicecatalog.k8s.io".
 * Returns 0 or -EIO/-ENOMEM. */
int create_print(const struct create_output *o, const char *resource, const char *name, const json_t *obj);

/* GETs the collection of @res in @ns (NULL for cluster-scoped resources). Returns 0 with *ret
 * the items array (new; a 404, the resource not served at all, gives an empty one), a
 * kube_request() error, or kube_status_code() of a failed status with @err set. */
int create_list_items(struct kube_client *kc, const struct kube_resource *res, const char *ns, json_t **ret,
                      struct osb_error *err);
/* "a, b, c": the sorted, distinct strings of @names (a JSON array). Returns new (osb_free), or
 * NULL on out-of-memory. */
char *create_join_sorted(const json_t *names);

/* --wait: GETs @name (of @res in cli->namespace) every 500 ms until its Ready condition is True
 * (returns CLI_EXIT_OK with *ret the object, new), its Failed condition is True (prints
 * "error: ...: KIND 'NAME' failed: REASON: MESSAGE" and returns CLI_EXIT_FAILED), or @timeout_ms
 * passes (prints the conditions as they are and returns CLI_EXIT_TIMEOUT). A GET that fails for
 * want of a connection is retried until then; any other failure (the object was deleted, no
 * permission) is printed and returns CLI_EXIT_ERROR. @kind is "serviceinstance" for messages. */
int create_wait(const struct cli *cli, const struct kube_resource *res, const char *kind, const char *name,
                int64_t timeout_ms, json_t **ret);

/* Creates @obj (borrowed) as @res in cli->namespace and prints the result as @o says (with
 * @wait and -o json|yaml: the object once it is Ready instead). With @wait, waits as
 * create_wait() does and prints "KIND NAME is Ready: MESSAGE" (on stderr when -o is given, so
 * stdout keeps only the object). Returns CLI_EXIT_* with *ret_ready the Ready object (new) when
 * @wait and it became Ready, else NULL. @resource and @kind as for create_print() and
 * create_wait(). */
int create_submit(struct cli *cli, const struct kube_resource *res, const char *resource, const char *kind,
                  const char *name, const json_t *obj, const struct create_output *o, bool wait,
                  int64_t timeout_ms, json_t **ret_ready);

/* --validate: checks @spec's parameters against the plan's schema @field
 * ("instanceCreateParameterSchema", "serviceBindingCreateParameterSchema") of @plan (a
 * ClusterServicePlan or ServicePlan, borrowed), as the catalog controller will before it calls
 * the broker. Nothing to check (no spec.parameters, or the plan has no such schema): 0. With
 * spec.parametersFrom the Secrets' values are not read here: a note on stderr says the
 * controller checks them, and 0. Violations: every one printed on stderr, one a line
 * ("  parameters.size: must be at most 10": JSON path and rule, never a value nor the schema's
 * text), after "error: PROG: the parameters do not match the schema of plan 'NAME' (N violations...)"
 * (NAME: the plan's Kubernetes name),
 * and CLI_EXIT_ERROR. */
int create_check_parameters(const struct cli *cli, const json_t *spec, const json_t *plan, const char *field);
