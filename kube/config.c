/* kube/config.c: kubeconfig files (YAML through common/osb_yaml) and the in-cluster service
 * account, turned into one struct kube_config; the rotating token file cache. */
#include "common/osb_compat.h"
#include "common/osb_file.h"
#include "common/osb_base64.h"

#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_yaml.h"
#include "kube/config.h"

/* The public struct plus the token cache; every kube_config is allocated as one of these. */
struct config_priv {
        struct kube_config pub;
        pthread_mutex_t lock;
        char *cached_token;       /* last good contents of token_file */
        bool have_stamp;
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
};

static struct config_priv *priv_of(struct kube_config *cfg)
{
        return (struct config_priv *) ((char *) cfg - offsetof(struct config_priv, pub));
}

static struct kube_config *config_alloc(void)
{
        struct config_priv *p = osb_calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        if (pthread_mutex_init(&p->lock, NULL) != 0) {
                osb_free(p);
                return NULL;
        }
        p->pub.user_agent = osb_strdup("bindery/" PACKAGE_VERSION);
        p->pub.namespace = osb_strdup("default");
        if (!p->pub.user_agent || !p->pub.namespace)
                return kube_config_free(&p->pub);
        return &p->pub;
}

struct kube_config *kube_config_free(struct kube_config *cfg)
{
        if (!cfg)
                return NULL;
        struct config_priv *p = priv_of(cfg);
        osb_free(cfg->server);
        osb_free(cfg->ca_pem);
        osb_free(cfg->cert_pem);
        if (cfg->key_pem) {
                explicit_bzero(cfg->key_pem, cfg->key_pem_len);
                osb_free(cfg->key_pem);
        }
        if (cfg->token) {
                explicit_bzero(cfg->token, strlen(cfg->token));
                osb_free(cfg->token);
        }
        if (p->cached_token) {
                explicit_bzero(p->cached_token, strlen(p->cached_token));
                osb_free(p->cached_token);
        }
        osb_free(cfg->token_file);
        osb_free(cfg->proxy_url);
        osb_free(cfg->namespace);
        osb_free(cfg->context);
        osb_free(cfg->user_agent);
        osb_free(cfg->source);
        pthread_mutex_destroy(&p->lock);
        osb_free(p);
        return NULL;
}

void kube_config_freep(struct kube_config **cfg)
{
        *cfg = kube_config_free(*cfg);
}

OSB_DEFINE_AUTO(jsonp_release, json_t *, json_decref)

static const char *read_error_text(int r, char *buf, size_t n)
{
        if (r == -E2BIG)
                (void) snprintf(buf, n, "larger than %u bytes", KUBE_CONFIG_MAX_FILE);
        else
                (void) snprintf(buf, n, "%s", strerror(-r));
        return buf;
}

/* Parsing context: the kubeconfig's name for messages and its directory for relative paths. */
struct kc {
        const char *path;  /* for messages */
        char *dir;         /* owned; NULL: relative paths stay relative */
        struct osb_error *err;
};

static int kc_fail(struct kc *k, int code, const char *fmt, ...) OSB_PRINTF(3, 4);

static int kc_fail(struct kc *k, int code, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return osb_error_set(k->err, code, "kubeconfig %s: %s", k->path, msg);
}

/* Turns an osb_json_get_* failure (already in k->err) into a config error with our prefix. */
static int kc_field_error(struct kc *k, int r)
{
        if (r == -ENOMEM)
                return osb_error_set(k->err, r, "out of memory");
        osb_error_prefix(k->err, "kubeconfig %s: ", k->path);
        k->err->code = OSB_E_INVALID_CONFIG;
        return OSB_E_INVALID_CONFIG;
}

static int kc_get_string(struct kc *k, const json_t *obj, const char *path, const char *key,
                         bool required, const char **ret)
{
        const char *s = NULL;
        int r = osb_json_get_string(obj, path, key, required, &s, k->err);
        if (r < 0)
                return kc_field_error(k, r);
        if (s && required && !*s)
                return kc_fail(k, OSB_E_INVALID_CONFIG, "%s.%s must not be empty", path, key);
        if (s && *s)
                *ret = s;
        return 0;
}

static char *resolve_path(struct kc *k, const char *file)
{
        if (file[0] == '/' || !k->dir)
                return osb_strdup(file);
        return osb_asprintf("%s/%s", k->dir, file);
}

/* One of a pair "X-data" (base64) / "X" (a file, relative to the kubeconfig): data wins, as in
 * kubectl. Leaves *ret NULL when neither is set. */
static int kc_get_pem(struct kc *k, const json_t *obj, const char *path, const char *file_key,
                      char **ret, size_t *ret_len)
{
        char data_key[64];
        (void) snprintf(data_key, sizeof(data_key), "%s-data", file_key);
        const char *data = NULL, *file = NULL;
        int r = kc_get_string(k, obj, path, data_key, false, &data);
        if (r < 0)
                return r;
        r = kc_get_string(k, obj, path, file_key, false, &file);
        if (r < 0)
                return r;
        char *pem = NULL;
        size_t len = 0;
        if (data) {
                /* white space is skipped: YAML may fold long data lines */
                r = osb_base64_decode(data, strlen(data), OSB_BASE64_SKIP_SPACE, &pem, &len, NULL);
                if (r == -ENOMEM)
                        return osb_error_set(k->err, r, "out of memory");
                if (r < 0)
                        return kc_fail(k, OSB_E_INVALID_CONFIG, "%s.%s is not valid base64", path,
                                       data_key);
        } else if (file) {
                osb_autofree char *full = resolve_path(k, file);
                if (!full)
                        return osb_error_set(k->err, -ENOMEM, "out of memory");
                r = osb_read_file(full, KUBE_CONFIG_MAX_FILE, &pem, &len, NULL);
                if (r < 0) {
                        char why[128];
                        return kc_fail(k, r == -E2BIG ? OSB_E_INVALID_CONFIG : r,
                                       "%s.%s: cannot read '%s': %s", path, file_key, full,
                                       read_error_text(r, why, sizeof(why)));
                }
        } else {
                return 0;
        }
        if (len == 0 || memchr(pem, '\0', len) || !strstr(pem, "-----BEGIN ")) {
                osb_free(pem);
                return kc_fail(k, OSB_E_INVALID_CONFIG, "%s.%s: not PEM data", path,
                               data ? data_key : file_key);
        }
        *ret = pem;
        *ret_len = len;
        return 0;
}

/* Finds the entry of @list (clusters/contexts/users) whose "name" is @name; *ret_obj is its
 * @inner member (borrowed) and @ret_path its JSON path ("clusters[2].cluster"). */
static int kc_find(struct kc *k, const json_t *root, const char *list, const char *inner,
                   const char *name, const char *why, json_t **ret_obj, char *ret_path, size_t n)
{
        json_t *arr = NULL;
        int r = osb_json_get_array(root, "", list, false, &arr, k->err);
        if (r < 0)
                return kc_field_error(k, r);
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
                char epath[64];
                (void) snprintf(epath, sizeof(epath), "%s[%zu]", list, i);
                if (!json_is_object(e))
                        return kc_fail(k, OSB_E_INVALID_CONFIG, "%s must be an object, not %s",
                                       epath, osb_json_type_name(e));
                const char *ename = NULL;
                r = kc_get_string(k, e, epath, "name", true, &ename);
                if (r < 0)
                        return r;
                if (!osb_streq(ename, name))
                        continue;
                json_t *obj = NULL;
                r = osb_json_get_object(e, epath, inner, true, &obj, k->err);
                if (r < 0)
                        return kc_field_error(k, r);
                *ret_obj = obj;
                (void) snprintf(ret_path, n, "%s.%s", epath, inner);
                return 0;
        }
        return kc_fail(k, OSB_E_INVALID_CONFIG, "%s '%s' (%s) is not in %s", inner, name, why, list);
}

static int validate_server(const char *server, char **ret)
{
        if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
                return -EINVAL;
        const char *host = server + (server[4] == 's' ? 8 : 7);
        if (!*host || *host == '/')
                return -EINVAL;
        for (const char *p = server; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return -EINVAL;
        size_t len = strlen(server);
        while (len > 0 && server[len - 1] == '/')
                len--;
        char *s = osb_strndup(server, len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int kc_parse_cluster(struct kc *k, const json_t *cluster, const char *path,
                            struct kube_config *cfg)
{
        const char *server = NULL, *proxy = NULL;
        int r = kc_get_string(k, cluster, path, "server", true, &server);
        if (r < 0)
                return r;
        r = validate_server(server, &cfg->server);
        if (r == -ENOMEM)
                return osb_error_set(k->err, r, "out of memory");
        if (r < 0)
                return kc_fail(k, OSB_E_INVALID_CONFIG,
                               "%s.server: '%s' is not an http:// or https:// URL", path, server);
        bool insecure = false;
        r = osb_json_get_bool(cluster, path, "insecure-skip-tls-verify", false, &insecure, k->err);
        if (r < 0)
                return kc_field_error(k, r);
        cfg->insecure_skip_tls_verify = insecure;
        r = kc_get_pem(k, cluster, path, "certificate-authority", &cfg->ca_pem, &cfg->ca_pem_len);
        if (r < 0)
                return r;
        if (insecure && cfg->ca_pem)
                return kc_fail(k, OSB_E_INVALID_CONFIG,
                               "%s: insecure-skip-tls-verify cannot be combined with a certificate "
                               "authority", path);
        r = kc_get_string(k, cluster, path, "proxy-url", false, &proxy);
        if (r < 0)
                return r;
        if (proxy && !(cfg->proxy_url = osb_strdup(proxy)))
                return osb_error_set(k->err, -ENOMEM, "out of memory");
        return 0;
}

static int kc_parse_user(struct kc *k, const json_t *user, const char *path, struct kube_config *cfg)
{
        const char *token = NULL, *token_file = NULL;
        int r = kc_get_string(k, user, path, "token", false, &token);
        if (r < 0)
                return r;
        r = kc_get_string(k, user, path, "tokenFile", false, &token_file);
        if (r < 0)
                return r;
        if (token) {
                if (!(cfg->token = osb_strdup(token)))
                        return osb_error_set(k->err, -ENOMEM, "out of memory");
        } else if (token_file) {
                if (!(cfg->token_file = resolve_path(k, token_file)))
                        return osb_error_set(k->err, -ENOMEM, "out of memory");
                osb_autofree char *t = NULL;
                r = kube_config_token(cfg, &t, k->err);
                if (r < 0) {
                        osb_error_prefix(k->err, "kubeconfig %s: %s.tokenFile: ", k->path, path);
                        return r;
                }
        }
        r = kc_get_pem(k, user, path, "client-certificate", &cfg->cert_pem, &cfg->cert_pem_len);
        if (r < 0)
                return r;
        r = kc_get_pem(k, user, path, "client-key", &cfg->key_pem, &cfg->key_pem_len);
        if (r < 0)
                return r;
        if (!cfg->cert_pem != !cfg->key_pem)
                return kc_fail(k, OSB_E_INVALID_CONFIG, "%s: %s is set but %s is not", path,
                               cfg->cert_pem ? "client-certificate" : "client-key",
                               cfg->cert_pem ? "client-key" : "client-certificate");
        bool authenticated = cfg->token || cfg->token_file || cfg->cert_pem;
        if (!authenticated) {
                static const char *const unsupported[] = {"exec", "auth-provider", "username"};
                for (size_t i = 0; i < OSB_ELEMENTSOF(unsupported); i++)
                        if (json_object_get(user, unsupported[i]))
                                return kc_fail(k, OSB_E_INVALID_CONFIG,
                                               "%s.%s: this kind of authentication is not "
                                               "supported (use a token, a token file or a client "
                                               "certificate)", path, unsupported[i]);
        }
        return 0;
}

int kube_config_parse(const char *data, size_t len, const char *path, const char *context,
                      struct kube_config **ret, struct osb_error *err)
{
        struct kc k = {.path = path ? path : "(memory)", .err = err};
        osb_autofree char *dir = NULL;
        if (path) {
                const char *slash = strrchr(path, '/');
                dir = slash ? osb_strndup(path, slash == path ? 1 : (size_t) (slash - path))
                            : osb_strdup(".");
                if (!dir)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                k.dir = dir;
        }

        osb_auto(jsonp_release) json_t *root = NULL;
        int r = osb_yaml_parse(data, len, &root, err);
        if (r == -ENOMEM)
                return osb_error_set(err, r, "out of memory");
        if (r < 0) {
                osb_error_prefix(err, "kubeconfig %s: ", k.path);
                err->code = OSB_E_INVALID_CONFIG;
                return OSB_E_INVALID_CONFIG;
        }
        if (json_is_null(root))
                return kc_fail(&k, OSB_E_INVALID_CONFIG, "the file is empty");
        if (!json_is_object(root))
                return kc_fail(&k, OSB_E_INVALID_CONFIG, "must be a mapping, not %s",
                               osb_json_type_name(root));

        const char *ctx_name = context && *context ? context : NULL;
        if (!ctx_name) {
                r = kc_get_string(&k, root, "", "current-context", false, &ctx_name);
                if (r < 0)
                        return r;
                if (!ctx_name)
                        return kc_fail(&k, OSB_E_INVALID_CONFIG,
                                       "current-context is not set and no context was chosen");
        }

        osb_auto(kube_config_freep) struct kube_config *cfg = config_alloc();
        if (!cfg)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (!(cfg->context = osb_strdup(ctx_name)) ||
            !(cfg->source = osb_asprintf("kubeconfig %s", k.path)))
                return osb_error_set(err, -ENOMEM, "out of memory");

        json_t *ctx = NULL;
        char ctx_path[96];
        r = kc_find(&k, root, "contexts", "context", ctx_name,
                    context && *context ? "the context chosen" : "the current-context", &ctx,
                    ctx_path, sizeof(ctx_path));
        if (r < 0)
                return r;
        const char *cluster_name = NULL, *user_name = NULL, *ns = NULL;
        if ((r = kc_get_string(&k, ctx, ctx_path, "cluster", true, &cluster_name)) < 0 ||
            (r = kc_get_string(&k, ctx, ctx_path, "user", false, &user_name)) < 0 ||
            (r = kc_get_string(&k, ctx, ctx_path, "namespace", false, &ns)) < 0)
                return r;
        if (ns) {
                osb_free(cfg->namespace);
                if (!(cfg->namespace = osb_strdup(ns)))
                        return osb_error_set(err, -ENOMEM, "out of memory");
        }

        char why[160];
        json_t *cluster = NULL;
        char cluster_path[96];
        (void) snprintf(why, sizeof(why), "%s.cluster", ctx_path);
        r = kc_find(&k, root, "clusters", "cluster", cluster_name, why, &cluster, cluster_path,
                    sizeof(cluster_path));
        if (r < 0)
                return r;
        r = kc_parse_cluster(&k, cluster, cluster_path, cfg);
        if (r < 0)
                return r;

        if (user_name) {
                json_t *user = NULL;
                char user_path[96];
                (void) snprintf(why, sizeof(why), "%s.user", ctx_path);
                r = kc_find(&k, root, "users", "user", user_name, why, &user, user_path,
                            sizeof(user_path));
                if (r < 0)
                        return r;
                r = kc_parse_user(&k, user, user_path, cfg);
                if (r < 0)
                        return r;
        }
        *ret = OSB_TAKE_PTR(cfg);
        return 0;
}

static int load_file(const char *path, const char *context, struct kube_config **ret,
                     struct osb_error *err)
{
        osb_autofree char *data = NULL;
        size_t len = 0;
        int r = osb_read_file(path, KUBE_CONFIG_MAX_KUBECONFIG, &data, &len, NULL);
        if (r == -E2BIG)
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "kubeconfig %s: larger than %u bytes",
                                     path, KUBE_CONFIG_MAX_KUBECONFIG);
        if (r < 0)
                return osb_error_set(err, r, "kubeconfig %s: cannot read: %s", path, strerror(-r));
        return kube_config_parse(data, len, path, context, ret, err);
}

int kube_config_new(const char *server, struct kube_config **ret, struct osb_error *err)
{
        osb_auto(kube_config_freep) struct kube_config *cfg = config_alloc();
        if (!cfg || !(cfg->source = osb_asprintf("server %s", server)))
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = validate_server(server, &cfg->server);
        if (r == -EINVAL)
                return osb_error_set(err, r, "'%s' is not an http:// or https:// URL", server);
        if (r < 0)
                return osb_error_set(err, r, "out of memory");
        *ret = OSB_TAKE_PTR(cfg);
        return 0;
}

int kube_config_in_cluster(struct kube_config **ret, struct osb_error *err)
{
        const char *host = getenv("KUBERNETES_SERVICE_HOST");
        const char *port = getenv("KUBERNETES_SERVICE_PORT");
        const char *dir = getenv("KUBE_SA_DIR");
        if (!dir || !*dir)
                dir = KUBE_SA_DIR_DEFAULT;
        if (!host || !*host)
                return osb_error_set(err, -ENOENT, "in-cluster config: KUBERNETES_SERVICE_HOST is not set");
        int64_t portnum;
        if (!port || osb_parse_int64(port, 1, 65535, &portnum) < 0)
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "in-cluster config: KUBERNETES_SERVICE_PORT '%s' is not a port",
                                     port ? port : "");

        osb_auto(kube_config_freep) struct kube_config *cfg = config_alloc();
        if (!cfg)
                return osb_error_set(err, -ENOMEM, "out of memory");
        bool v6 = strchr(host, ':') != NULL && host[0] != '[';
        char *server = osb_asprintf("https://%s%s%s:%" PRId64, v6 ? "[" : "", host, v6 ? "]" : "",
                                    portnum);
        if (!server)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = validate_server(server, &cfg->server);
        osb_free(server);
        if (r == -ENOMEM)
                return osb_error_set(err, r, "out of memory");
        if (r < 0)
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "in-cluster config: KUBERNETES_SERVICE_HOST '%s' is not a host", host);
        if (!(cfg->source = osb_strdup("in-cluster config")) ||
            !(cfg->token_file = osb_asprintf("%s/token", dir)))
                return osb_error_set(err, -ENOMEM, "out of memory");

        osb_autofree char *token = NULL;
        r = kube_config_token(cfg, &token, err);
        if (r < 0) {
                osb_error_prefix(err, "in-cluster config: ");
                return r;
        }

        osb_autofree char *ca_path = osb_asprintf("%s/ca.crt", dir);
        osb_autofree char *ns_path = osb_asprintf("%s/namespace", dir);
        if (!ca_path || !ns_path)
                return osb_error_set(err, -ENOMEM, "out of memory");
        r = osb_read_file(ca_path, KUBE_CONFIG_MAX_FILE, &cfg->ca_pem, &cfg->ca_pem_len, NULL);
        if (r < 0) {
                char why[128];
                return osb_error_set(err, r == -E2BIG ? OSB_E_INVALID_CONFIG : r,
                                     "in-cluster config: cannot read '%s': %s", ca_path,
                                     read_error_text(r, why, sizeof(why)));
        }
        osb_autofree char *ns = NULL;
        r = osb_read_file(ns_path, 256, &ns, NULL, NULL);
        if (r == 0) {
                size_t n = strlen(ns);
                while (n > 0 && isspace((unsigned char) ns[n - 1]))
                        ns[--n] = '\0';
                if (n > 0) {
                        osb_free(cfg->namespace);
                        cfg->namespace = OSB_TAKE_PTR(ns);
                }
        } else if (r == -ENOMEM) {
                return osb_error_set(err, r, "out of memory");
        }
        *ret = OSB_TAKE_PTR(cfg);
        return 0;
}

int kube_config_load(const char *kubeconfig_path, const char *context, struct kube_config **ret,
                     struct osb_error *err)
{
        if (kubeconfig_path && *kubeconfig_path)
                return load_file(kubeconfig_path, context, ret, err);

        const char *env = getenv("KUBECONFIG");
        if (env && *env) {
                /* The first file that exists; when none does, the first entry's error. */
                osb_autofree char *list = osb_strdup(env);
                if (!list)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                const char *first = NULL;
                for (char *save = NULL, *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                        if (!*p)
                                continue;
                        if (!first)
                                first = p;
                        if (access(p, F_OK) == 0)
                                return load_file(p, context, ret, err);
                }
                if (first)
                        return load_file(first, context, ret, err);
        }

        if (getenv("KUBERNETES_SERVICE_HOST") && *getenv("KUBERNETES_SERVICE_HOST"))
                return kube_config_in_cluster(ret, err);

        const char *home = getenv("HOME");
        if (!home || !*home)
                return osb_error_set(err, -ENOENT,
                                     "no kubeconfig: not in a cluster, $KUBECONFIG and $HOME are not set");
        osb_autofree char *path = osb_asprintf("%s/.kube/config", home);
        if (!path)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = load_file(path, context, ret, err);
        if (r == -ENOENT)
                osb_error_set(err, r, "kubeconfig %s: cannot read: %s (and not in a cluster: "
                              "KUBERNETES_SERVICE_HOST is not set)", path, strerror(ENOENT));
        return r;
}

static bool same_stamp(const struct config_priv *p, const struct stat *st)
{
        return p->have_stamp && p->dev == st->st_dev && p->ino == st->st_ino &&
               p->size == st->st_size && p->mtime.tv_sec == st->st_mtim.tv_sec &&
               p->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

int kube_config_token(struct kube_config *cfg, char **ret, struct osb_error *err)
{
        if (cfg->token) {
                char *t = osb_strdup(cfg->token);
                if (!t)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                *ret = t;
                return 0;
        }
        if (!cfg->token_file) {
                *ret = NULL;
                return 0;
        }

        struct config_priv *p = priv_of(cfg);
        pthread_mutex_lock(&p->lock);
        struct stat st;
        int r = 0;
        if (stat(cfg->token_file, &st) < 0)
                r = -errno;
        if (r == 0 && !same_stamp(p, &st)) {
                char *t = NULL;
                size_t len = 0;
                r = osb_read_file(cfg->token_file, KUBE_CONFIG_MAX_FILE, &t, &len, &st);
                if (r == 0) {
                        while (len > 0 && isspace((unsigned char) t[len - 1]))
                                t[--len] = '\0';
                        if (len == 0 || memchr(t, '\0', len) || strpbrk(t, "\r\n")) {
                                osb_free(t);
                                r = OSB_E_INVALID_CONFIG;
                        }
                }
                if (r == 0) {
                        if (p->cached_token) {
                                explicit_bzero(p->cached_token, strlen(p->cached_token));
                                osb_free(p->cached_token);
                        }
                        p->cached_token = t;
                        p->have_stamp = true;
                        p->dev = st.st_dev;
                        p->ino = st.st_ino;
                        p->size = st.st_size;
                        p->mtime = st.st_mtim;
                }
        }
        /* A failed re-read (the file being replaced right now) keeps the last good token. */
        if (p->cached_token) {
                char *t = osb_strdup(p->cached_token);
                pthread_mutex_unlock(&p->lock);
                if (!t)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                *ret = t;
                return 0;
        }
        pthread_mutex_unlock(&p->lock);
        char why[128];
        if (r == OSB_E_INVALID_CONFIG)
                return osb_error_set(err, r, "token file '%s' is empty or not one line",
                                     cfg->token_file);
        return osb_error_set(err, r, "cannot read token file '%s': %s", cfg->token_file,
                             read_error_text(r, why, sizeof(why)));
}
