/* kube/config.h: where a Kubernetes API server is and how to authenticate to it: a kubeconfig
 * file (--kubeconfig, $KUBECONFIG, ~/.kube/config) or the in-cluster service account. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/osb_error.h"

/* Where the in-cluster service account's files live; $KUBE_SA_DIR overrides it (tests). */
#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

/* Files a kubeconfig refers to (certificates, keys, tokens) larger than this are refused. */
#define KUBE_CONFIG_MAX_FILE (1024u * 1024u)
/* A kubeconfig larger than this is refused. */
#define KUBE_CONFIG_MAX_KUBECONFIG (16u * 1024u * 1024u)

/* A loaded configuration. It only ever comes from the functions below (it carries private state
 * for the token cache). Every pointer is owned by the struct (free with kube_config_free()); a
 * caller may replace a field with a new string from osb_malloc/osb_strdup, freeing the old.
 * PEM buffers are NUL-terminated; their *_len does not count the terminator. */
struct kube_config {
        char *server;              /* "https://host:port[/prefix]", no trailing '/'; never NULL */
        char *ca_pem;              /* trusted CA certificates; NULL: the system's trust store */
        size_t ca_pem_len;
        char *cert_pem;            /* client certificate, or NULL; set with key_pem */
        size_t cert_pem_len;
        char *key_pem;             /* client private key, or NULL */
        size_t key_pem_len;
        char *token;               /* static bearer token, or NULL */
        char *token_file;          /* bearer token file, re-read when it changes (see
                                    * kube_config_token()); used when token is NULL */
        bool insecure_skip_tls_verify;
        char *proxy_url;           /* the cluster's proxy-url, or NULL (curl's environment
                                    * proxy variables apply then) */
        char *namespace;           /* the context's namespace, the in-cluster one, or "default" */
        char *context;             /* the context used; NULL in-cluster or for kube_config_new() */
        char *user_agent;          /* "bindery/VERSION" unless changed */
        char *source;              /* for messages: "kubeconfig PATH" or "in-cluster config" */
};

/* Loads the configuration the way kubectl finds it:
 *   @kubeconfig_path non-NULL (and not ""): that file;
 *   else $KUBECONFIG: the first existing file of its ':'-separated list (files are not
 *     merged), or the first entry when none exists;
 *   else, when $KUBERNETES_SERVICE_HOST is set: the in-cluster service account
 *     (https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, and token, ca.crt,
 *     namespace from KUBE_SA_DIR_DEFAULT or $KUBE_SA_DIR); @context is ignored;
 *   else $HOME/.kube/config.
 * @context: the kubeconfig context to use; NULL or "": its current-context.
 * Returns 0 with *ret new (free with kube_config_free()); -errno when a file cannot be read;
 * OSB_E_INVALID_CONFIG for anything wrong inside the file. @err names the kubeconfig and the
 * field, e.g. "kubeconfig /x/config: users[0].user.client-certificate: cannot read '/y': No
 * such file or directory". */
int kube_config_load(const char *kubeconfig_path, const char *context, struct kube_config **ret,
                     struct osb_error *err);

/* Parses kubeconfig YAML/JSON bytes (@len, need not be NUL-terminated). @path names the file
 * in messages and its directory resolves relative file references (NULL: "(memory)", relative
 * to the current directory). @context as for kube_config_load(). Returns as kube_config_load(). */
int kube_config_parse(const char *data, size_t len, const char *path, const char *context,
                      struct kube_config **ret, struct osb_error *err);

/* The in-cluster configuration alone. Returns 0 with *ret new, -ENOENT when
 * $KUBERNETES_SERVICE_HOST is unset or the token or CA file is missing, other -errno, or
 * OSB_E_INVALID_CONFIG. */
int kube_config_in_cluster(struct kube_config **ret, struct osb_error *err);

/* A configuration for @server with nothing else set (namespace "default"), for callers that
 * fill the fields themselves. Returns 0 with *ret new, -EINVAL for a server that is not an
 * http:// or https:// URL, or -ENOMEM. */
int kube_config_new(const char *server, struct kube_config **ret, struct osb_error *err);

/* NULL-safe; returns NULL. */
struct kube_config *kube_config_free(struct kube_config *cfg);
void kube_config_freep(struct kube_config **cfg);

/* The bearer token to send now: @cfg->token, else the contents of @cfg->token_file (trailing
 * whitespace removed), which is re-read whenever the file's identity, size or modification time
 * changes (service-account tokens are rotated by replacing the file). When a re-read fails the
 * last good token is kept. Thread-safe. Returns 0 with *ret new (NULL when no token is
 * configured), or -errno / OSB_E_INVALID_CONFIG (empty file) with @err naming the file when no
 * token could ever be read. */
int kube_config_token(struct kube_config *cfg, char **ret, struct osb_error *err);
