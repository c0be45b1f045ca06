/* plugins/cli.h: what the kubectl plugins (kubectl-create-serviceinstance,
 * kubectl-create-servicebinding, kubectl-svcat) share: kubectl's global flags, the connection
 * to the cluster, exit codes, errors, aligned tables and -o json|yaml output.
 *
 * kubectl runs a plugin with the arguments that follow its name ("kubectl svcat get instances
 * -n shop" runs "kubectl-svcat get instances -n shop"), so each plugin handles the global flags
 * itself, the way kubectl does: -n/--namespace, --context, --kubeconfig, and $KUBECONFIG. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/osb_error.h"
#include "kube/client.h"

/* Exit codes, the same in every plugin (documented in docs/kubectl-plugins.md). */
enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_ERROR = 1,      /* the request failed: API error, not found, unreachable cluster */
        CLI_EXIT_USAGE = 2,      /* bad command line (the message says what, and points to --help) */
        CLI_EXIT_FAILED = 3,     /* --wait: the instance or binding ended Failed */
        CLI_EXIT_TIMEOUT = 4,    /* --wait: still not Ready or Failed after --timeout */
        CLI_EXIT_CANCELLED = 5,  /* a confirmation prompt was answered no */
};

struct cli {
        const char *prog;        /* "kubectl svcat", for messages and usage; borrowed */
        char *namespace;         /* -n/--namespace; NULL until cli_connect() fills in the context's */
        bool namespace_given;    /* -n was on the command line */
        char *context;           /* --context, or NULL */
        char *kubeconfig;        /* --kubeconfig, or NULL */
        struct kube_client *kc;  /* after cli_connect() */
};

/* Removes the global flags (-n NS, -nNS, --namespace NS, --namespace=NS, --context[=]X,
 * --kubeconfig[=]X) from @argv (wherever they appear, before or after the command, as kubectl
 * accepts them; a "--" ends the scan) and stores them in @cli (zeroed by the caller, with .prog
 * set). Returns 0, or CLI_EXIT_USAGE with a message in @err (e.g. "flag needs an argument: -n").
 * *@argc and @argv are compacted in place; argv[0] stays. */
int cli_global_flags(struct cli *cli, int *argc, char **argv, struct osb_error *err);

/* Loads the kubeconfig as kubectl would (kube_config_load()) and creates the client; fills
 * cli->namespace from the context when -n was not given. Returns 0 or CLI_EXIT_ERROR with @err
 * naming the kubeconfig. Does not contact the server. */
int cli_connect(struct cli *cli, struct osb_error *err);

/* Releases everything. */
void cli_release(struct cli *cli);

/* Prints "error: MESSAGE" (the plugin's prog first when @cli is not NULL: "error: kubectl svcat:
 * ...") to stderr. A failed request's message (kube_response_error()) already names the server
 * and the path; cli_request_error() turns "could not connect" into "cannot reach the Kubernetes
 * API server at https://HOST:PORT (kubeconfig PATH, context C): REASON". Returns @code. */
int cli_error(const struct cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_request_error(const struct cli *cli, int rc, const struct osb_error *err);

/* ---- output -------------------------------------------------------------------------------- */

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON, CLI_OUTPUT_YAML, CLI_OUTPUT_NAME };

/* Parses the value of -o/--output ("json", "yaml", "name", "" or "wide" = table). Returns 0 or
 * CLI_EXIT_USAGE with @err ("--output must be json, yaml or name"). */
int cli_parse_output(const char *s, enum cli_output *ret, struct osb_error *err);

/* @v as kubectl prints it: JSON indented by 4 with keys in their stored order and a final
 * newline; YAML in block style, strings quoted only where a plain scalar would read back as
 * something else (a number, a boolean, null, a leading special character...). Returns 0 or
 * -ENOMEM/-EIO. */
int cli_print_json(FILE *f, const json_t *v);
int cli_print_yaml(FILE *f, const json_t *v);

/* An aligned table as kubectl prints one: upper-case headers, columns separated by at least 3
 * spaces, no trailing spaces, "<none>" for an empty cell. */
struct cli_table;
/* @ncols: 1 to 64. NULL on OOM. */
struct cli_table *cli_table_new(unsigned ncols, const char *const *headers);
/* Adds a row of ncols cells (copied; NULL or "" prints as <none>). Returns 0 or -ENOMEM. */
int cli_table_add(struct cli_table *t, const char *const *cells);
/* Number of rows added. */
size_t cli_table_rows(const struct cli_table *t);
/* Prints and frees. With no rows prints nothing (the caller says "No resources found in NS
 * namespace." on stderr, as kubectl does). NULL-safe. */
void cli_table_print(struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

/* "5m", "2d3h", "45s" from a metadata.creationTimestamp (RFC 3339) to now, as kubectl's AGE
 * column; "<unknown>" when unparseable. Writes to @out (>= 16 bytes) and returns it. */
char *cli_age(const char *timestamp, char *out, size_t n);

/* ---- objects -------------------------------------------------------------------------------- */

/* Convenience reads of nested members: cli_str(obj, "status", "lastOperation", NULL). Borrowed;
 * NULL when absent or not a string. */
const char *cli_str(const json_t *obj, ...) __attribute__((sentinel));
const json_t *cli_get(const json_t *obj, ...) __attribute__((sentinel));

/* The condition of @type in obj.status.conditions, or NULL. Borrowed. */
const json_t *cli_condition(const json_t *obj, const char *type);
/* The STATUS column of an instance or binding, as the CRDs' printer column shows it:
 * status.lastConditionState, else the Ready condition's reason, else "". Borrowed. */
const char *cli_status_reason(const json_t *obj);

/* Asks "PROMPT [y/N]: " on stderr and reads a line from stdin (not a terminal: reads it all the
 * same). Returns true only for y/yes (any case). */
bool cli_confirm(const char *prompt);

/* The program version ("0.1.0"), from config.h. */
const char *cli_version(void);
