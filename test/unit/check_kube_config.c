/* test/unit/check_kube_config.c: kubeconfig files, $KUBECONFIG, ~/.kube/config and the in-cluster
 * service account (kube/config.c), and the rotating token file. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "kube/config.h"
#include "test/lib/check_main.h"

static char dir[256];
static char *saved_home;

/* "-----BEGIN CERTIFICATE-----..." in base64, and the text itself. */
#define CA_TEXT "-----BEGIN CERTIFICATE-----\nQ0EgY2VydA==\n-----END CERTIFICATE-----\n"
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClEwRWdZMlZ5ZEE9PQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="
#define CERT_TEXT "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n"
#define KEY_TEXT "-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n"

static void write_file(const char *name, const char *text)
{
        char path[512];
        (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

static char *path_of(const char *name)
{
        static char path[4][512];
        static int i;
        i = (i + 1) % 4;
        (void) snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
        return path[i];
}

static void setup(void)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        (void) snprintf(dir, sizeof(dir), "%s/check_kube_config.XXXXXX", tmp);
        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(mkdir(path_of("sub"), 0700), 0);
        ck_assert_int_eq(mkdir(path_of("sa"), 0700), 0);
        write_file("ca.crt", CA_TEXT);
        write_file("client.crt", CERT_TEXT);
        write_file("client.key", KEY_TEXT);
        write_file("token", "file-token\n");
        saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
        unsetenv("KUBECONFIG");
        unsetenv("KUBERNETES_SERVICE_HOST");
        unsetenv("KUBERNETES_SERVICE_PORT");
        unsetenv("KUBE_SA_DIR");
}

static void teardown(void)
{
        if (saved_home)
                setenv("HOME", saved_home, 1);
        free(saved_home);
        saved_home = NULL;
        unsetenv("KUBECONFIG");
        unsetenv("KUBERNETES_SERVICE_HOST");
        unsetenv("KUBERNETES_SERVICE_PORT");
        unsetenv("KUBE_SA_DIR");
        char cmd[600];
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* Writes @yaml as NAME and loads it. */
static int load(const char *name, const char *yaml, const char *context, struct kube_config **ret,
                struct osb_error *err)
{
        write_file(name, yaml);
        return kube_config_load(path_of(name), context, ret, err);
}

static struct kube_config *load_ok(const char *yaml, const char *context)
{
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = load("config", yaml, context, &cfg, &err);
        ck_assert_msg(r == 0, "load failed: %d %s", r, err.text);
        return cfg;
}

static void load_fails(const char *yaml, int code, const char *want)
{
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = load("config", yaml, NULL, &cfg, &err);
        ck_assert_msg(r == code, "got %d, want %d (%s)", r, code, err.text);
        ck_assert_ptr_null(cfg);
        char prefixed[600];
        (void) snprintf(prefixed, sizeof(prefixed), "kubeconfig %s: %s", path_of("config"), want);
        ck_assert_msg(strcmp(err.text, prefixed) == 0 || strstr(err.text, want) != NULL,
                      "error '%s' lacks '%s'", err.text, want);
        ck_assert_msg(strncmp(err.text, prefixed, strlen("kubeconfig ") + strlen(path_of("config")) + 2) == 0,
                      "error '%s' does not name the file", err.text);
}

#define CLUSTERS(extra) \
        "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n" extra
#define CONTEXTS \
        "contexts:\n- name: ctx1\n  context: {cluster: c1, user: u1}\n" \
        "- name: ctx2\n  context: {cluster: c1, user: u2, namespace: team-b}\n"
#define CURRENT "current-context: ctx1\n"

START_TEST(token_user_on_the_current_context)
{
        struct kube_config *cfg = load_ok("apiVersion: v1\nkind: Config\n" CLUSTERS("") CONTEXTS CURRENT
                                          "users:\n- name: u1\n  user: {token: abc.def}\n"
                                          "- name: u2\n  user: {token: other}\n", NULL);
        ck_assert_str_eq(cfg->server, "https://127.0.0.1:6443");
        ck_assert_str_eq(cfg->token, "abc.def");
        ck_assert_ptr_null(cfg->token_file);
        ck_assert_ptr_null(cfg->ca_pem);
        ck_assert_ptr_null(cfg->cert_pem);
        ck_assert(!cfg->insecure_skip_tls_verify);
        ck_assert_str_eq(cfg->namespace, "default");
        ck_assert_str_eq(cfg->context, "ctx1");
        ck_assert_ptr_nonnull(strstr(cfg->user_agent, "bindery/"));
        char *t = NULL;
        ck_assert_int_eq(kube_config_token(cfg, &t, NULL), 0);
        ck_assert_str_eq(t, "abc.def");
        osb_free(t);
        kube_config_free(cfg);
}
END_TEST

START_TEST(explicit_context_picks_its_user_and_namespace)
{
        struct kube_config *cfg = load_ok(CLUSTERS("") CONTEXTS CURRENT
                                          "users:\n- name: u1\n  user: {token: one}\n"
                                          "- name: u2\n  user: {token: two}\n", "ctx2");
        ck_assert_str_eq(cfg->token, "two");
        ck_assert_str_eq(cfg->namespace, "team-b");
        ck_assert_str_eq(cfg->context, "ctx2");
        kube_config_free(cfg);
}
END_TEST

START_TEST(context_without_user_has_no_credentials)
{
        struct kube_config *cfg = load_ok(CLUSTERS("") "contexts:\n- name: x\n  context: {cluster: c1}\n"
                                          "current-context: x\n", NULL);
        char *t = (char *) "unchanged";
        ck_assert_int_eq(kube_config_token(cfg, &t, NULL), 0);
        ck_assert_ptr_null(t);
        kube_config_free(cfg);
}
END_TEST

START_TEST(certificate_authority_data_is_decoded)
{
        struct kube_config *cfg = load_ok(CLUSTERS("    certificate-authority-data: " CA_B64 "\n")
                                          CONTEXTS CURRENT "users:\n- name: u1\n  user: {token: t}\n", NULL);
        ck_assert_str_eq(cfg->ca_pem, CA_TEXT);
        ck_assert_uint_eq(cfg->ca_pem_len, strlen(CA_TEXT));
        kube_config_free(cfg);
}
END_TEST

START_TEST(files_are_relative_to_the_kubeconfig_directory)
{
        /* The kubeconfig lives in sub/, the files one level up; the working directory is
         * elsewhere on purpose. */
        char cwd[4096];
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
        ck_assert_int_eq(chdir("/"), 0);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = load("sub/config",
                     CLUSTERS("    certificate-authority: ../ca.crt\n") CONTEXTS CURRENT
                     "users:\n- name: u1\n  user:\n    client-certificate: ../client.crt\n"
                     "    client-key: ../client.key\n    tokenFile: ../token\n", NULL, &cfg, &err);
        ck_assert_int_eq(chdir(cwd), 0);
        ck_assert_msg(r == 0, "%s", err.text);
        ck_assert_str_eq(cfg->ca_pem, CA_TEXT);
        ck_assert_str_eq(cfg->cert_pem, CERT_TEXT);
        ck_assert_str_eq(cfg->key_pem, KEY_TEXT);
        ck_assert_uint_eq(cfg->key_pem_len, strlen(KEY_TEXT));
        ck_assert_str_eq(cfg->token_file, path_of("sub/../token"));
        char *t = NULL;
        ck_assert_int_eq(kube_config_token(cfg, &t, NULL), 0);
        ck_assert_str_eq(t, "file-token");
        osb_free(t);
        kube_config_free(cfg);
}
END_TEST

START_TEST(client_certificate_data_and_absolute_files)
{
        char yaml[2048];
        (void) snprintf(yaml, sizeof(yaml),
                        CLUSTERS("    certificate-authority: %s\n") CONTEXTS CURRENT
                        "users:\n- name: u1\n  user:\n"
                        "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
                        "    client-key: %s\n",
                        path_of("ca.crt"), path_of("client.key"));
        struct kube_config *cfg = load_ok(yaml, NULL);
        ck_assert_str_eq(cfg->cert_pem, "-----BEGIN CERTIFICATE-----\n");
        ck_assert_str_eq(cfg->key_pem, KEY_TEXT);
        ck_assert_str_eq(cfg->ca_pem, CA_TEXT);
        kube_config_free(cfg);
}
END_TEST

START_TEST(data_wins_over_file_like_kubectl)
{
        struct kube_config *cfg = load_ok(CLUSTERS("    certificate-authority: /nonexistent/ca.crt\n"
                                                   "    certificate-authority-data: " CA_B64 "\n")
                                          CONTEXTS CURRENT "users:\n- name: u1\n  user: {token: t}\n", NULL);
        ck_assert_str_eq(cfg->ca_pem, CA_TEXT);
        kube_config_free(cfg);
}
END_TEST

START_TEST(insecure_skip_tls_verify)
{
        struct kube_config *cfg = load_ok(CLUSTERS("    insecure-skip-tls-verify: true\n")
                                          CONTEXTS CURRENT "users:\n- name: u1\n  user: {token: t}\n", NULL);
        ck_assert(cfg->insecure_skip_tls_verify);
        kube_config_free(cfg);
        load_fails(CLUSTERS("    insecure-skip-tls-verify: true\n    certificate-authority-data: " CA_B64 "\n")
                   CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters[0].cluster: insecure-skip-tls-verify cannot be combined with a certificate authority");
        load_fails(CLUSTERS("    insecure-skip-tls-verify: 'yes'\n") CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters[0].cluster.insecure-skip-tls-verify must be a boolean, not a string");
}
END_TEST

START_TEST(missing_files_name_the_field_and_the_path)
{
        char want[600];
        (void) snprintf(want, sizeof(want),
                        "kubeconfig %s: users[0].user.client-certificate: cannot read '%s': No such file or directory",
                        path_of("config"), path_of("nope.crt"));
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = load("config", CLUSTERS("") CONTEXTS CURRENT
                     "users:\n- name: u1\n  user: {client-certificate: nope.crt, client-key: client.key}\n",
                     NULL, &cfg, &err);
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_str_eq(err.text, want);

        (void) snprintf(want, sizeof(want),
                        "kubeconfig %s: clusters[0].cluster.certificate-authority: cannot read '%s': Is a directory",
                        path_of("config"), path_of("sub"));
        r = load("config", CLUSTERS("    certificate-authority: sub\n") CONTEXTS CURRENT, NULL, &cfg, &err);
        ck_assert_int_eq(r, -EISDIR);
        ck_assert_str_eq(err.text, want);

        r = load("config", CLUSTERS("") CONTEXTS CURRENT "users:\n- name: u1\n  user: {tokenFile: nope}\n",
                 NULL, &cfg, &err);
        ck_assert_int_eq(r, -ENOENT);
        (void) snprintf(want, sizeof(want), "kubeconfig %s: users[0].user.tokenFile: cannot read token file '%s'",
                        path_of("config"), path_of("nope"));
        ck_assert_msg(strncmp(err.text, want, strlen(want)) == 0, "%s", err.text);
        ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(invalid_fields_are_errors_naming_the_path)
{
        load_fails(CLUSTERS("") CONTEXTS CURRENT
                   "users:\n- name: u1\n  user: {client-certificate: client.crt}\n", OSB_E_INVALID_CONFIG,
                   "users[0].user: client-certificate is set but client-key is not");
        load_fails(CLUSTERS("") CONTEXTS CURRENT
                   "users:\n- name: u1\n  user: {client-key-data: '!!notbase64'}\n", OSB_E_INVALID_CONFIG,
                   "users[0].user.client-key-data is not valid base64");
        load_fails(CLUSTERS("") CONTEXTS CURRENT
                   "users:\n- name: u1\n  user: {client-key-data: aGVsbG8=, client-certificate-data: aGVsbG8=}\n",
                   OSB_E_INVALID_CONFIG, "users[0].user.client-certificate-data: not PEM data");
        load_fails("clusters:\n- name: c1\n  cluster: {}\n" CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters[0].cluster.server is required");
        load_fails("clusters:\n- name: c1\n  cluster: {server: 5}\n" CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters[0].cluster.server must be a string, not an integer");
        load_fails("clusters:\n- name: c1\n  cluster: {server: 'ftp://x'}\n" CONTEXTS CURRENT,
                   OSB_E_INVALID_CONFIG, "clusters[0].cluster.server: 'ftp://x' is not an http:// or https:// URL");
        load_fails(CLUSTERS("") CONTEXTS "current-context: nope\n", OSB_E_INVALID_CONFIG,
                   "context 'nope' (the current-context) is not in contexts");
        load_fails(CLUSTERS("") CONTEXTS, OSB_E_INVALID_CONFIG,
                   "current-context is not set and no context was chosen");
        load_fails(CLUSTERS("") "contexts:\n- name: x\n  context: {cluster: c9}\ncurrent-context: x\n",
                   OSB_E_INVALID_CONFIG, "cluster 'c9' (contexts[0].context.cluster) is not in clusters");
        load_fails(CLUSTERS("") CONTEXTS CURRENT "users:\n- name: u2\n  user: {}\n", OSB_E_INVALID_CONFIG,
                   "user 'u1' (contexts[0].context.user) is not in users");
        load_fails(CLUSTERS("") CONTEXTS CURRENT "users:\n- name: u1\n  user:\n    exec: {command: aws}\n",
                   OSB_E_INVALID_CONFIG, "users[0].user.exec: this kind of authentication is not supported");
        load_fails("clusters: {}\n" CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters must be an array, not an object");
        load_fails("clusters: [5]\n" CONTEXTS CURRENT, OSB_E_INVALID_CONFIG,
                   "clusters[0] must be an object, not an integer");
        load_fails("- a\n", OSB_E_INVALID_CONFIG, "must be a mapping, not an array");
        load_fails("", OSB_E_INVALID_CONFIG, "the file is empty");
        load_fails("clusters: [\n", OSB_E_INVALID_CONFIG, "line ");
}
END_TEST

START_TEST(explicit_path_wins_over_kubeconfig_env)
{
        write_file("other", CLUSTERS("") "contexts:\n- name: o\n  context: {cluster: c1}\ncurrent-context: o\n");
        setenv("KUBECONFIG", path_of("other"), 1);
        struct kube_config *cfg = load_ok(CLUSTERS("") CONTEXTS CURRENT
                                          "users:\n- name: u1\n  user: {token: t}\n", NULL);
        ck_assert_str_eq(cfg->context, "ctx1");
        kube_config_free(cfg);
}
END_TEST

START_TEST(kubeconfig_env_takes_the_first_existing_file)
{
        write_file("second", CLUSTERS("") "contexts:\n- name: second\n  context: {cluster: c1}\n"
                             "current-context: second\n");
        char env[1200];
        (void) snprintf(env, sizeof(env), "%s::%s:%s", path_of("missing"), path_of("second"), path_of("ca.crt"));
        setenv("KUBECONFIG", env, 1);
        setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);  /* $KUBECONFIG comes first */
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_load(NULL, NULL, &cfg, &err) == 0, "%s", err.text);
        ck_assert_str_eq(cfg->context, "second");
        char src[600];
        (void) snprintf(src, sizeof(src), "kubeconfig %s", path_of("second"));
        ck_assert_str_eq(cfg->source, src);
        kube_config_free(cfg);

        (void) snprintf(env, sizeof(env), "%s:%s", path_of("missing"), path_of("missing2"));
        setenv("KUBECONFIG", env, 1);
        ck_assert_int_eq(kube_config_load("", NULL, &cfg, &err), -ENOENT);
        char want[600];
        (void) snprintf(want, sizeof(want), "kubeconfig %s: cannot read: No such file or directory", path_of("missing"));
        ck_assert_str_eq(err.text, want);
}
END_TEST

START_TEST(home_kube_config_is_the_last_resort)
{
        ck_assert_int_eq(mkdir(path_of(".kube"), 0700), 0);
        write_file(".kube/config", CLUSTERS("") "contexts:\n- name: home\n  context: {cluster: c1}\n"
                                   "current-context: home\n");
        setenv("HOME", dir, 1);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_load(NULL, NULL, &cfg, &err) == 0, "%s", err.text);
        ck_assert_str_eq(cfg->context, "home");
        kube_config_free(cfg);

        setenv("HOME", path_of("sub"), 1);
        ck_assert_int_eq(kube_config_load(NULL, NULL, &cfg, &err), -ENOENT);
        ck_assert_msg(strstr(err.text, "sub/.kube/config: cannot read: No such file or directory "
                                       "(and not in a cluster: KUBERNETES_SERVICE_HOST is not set)") != NULL,
                      "%s", err.text);
}
END_TEST

static void write_sa(void)
{
        write_file("sa/token", "sa-token-1");
        write_file("sa/ca.crt", CA_TEXT);
        write_file("sa/namespace", "catalog\n");
        setenv("KUBE_SA_DIR", path_of("sa"), 1);
}

START_TEST(in_cluster_reads_the_service_account)
{
        write_sa();
        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_load(NULL, "ignored", &cfg, &err) == 0, "%s", err.text);
        ck_assert_str_eq(cfg->server, "https://10.96.0.1:443");
        ck_assert_str_eq(cfg->namespace, "catalog");
        ck_assert_str_eq(cfg->ca_pem, CA_TEXT);
        ck_assert_str_eq(cfg->token_file, path_of("sa/token"));
        ck_assert_ptr_null(cfg->token);
        ck_assert_str_eq(cfg->source, "in-cluster config");
        char *t = NULL;
        ck_assert_int_eq(kube_config_token(cfg, &t, NULL), 0);
        ck_assert_str_eq(t, "sa-token-1");
        osb_free(t);
        kube_config_free(cfg);

        setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
        ck_assert_msg(kube_config_in_cluster(&cfg, &err) == 0, "%s", err.text);
        ck_assert_str_eq(cfg->server, "https://[fd00::1]:443");
        kube_config_free(cfg);

        /* Without a namespace file the namespace is "default". */
        ck_assert_int_eq(unlink(path_of("sa/namespace")), 0);
        ck_assert_msg(kube_config_in_cluster(&cfg, &err) == 0, "%s", err.text);
        ck_assert_str_eq(cfg->namespace, "default");
        kube_config_free(cfg);
}
END_TEST

START_TEST(in_cluster_errors_name_the_file)
{
        write_sa();
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_config_in_cluster(&cfg, &err), -ENOENT);
        ck_assert_str_eq(err.text, "in-cluster config: KUBERNETES_SERVICE_HOST is not set");
        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "https", 1);
        ck_assert_int_eq(kube_config_in_cluster(&cfg, &err), OSB_E_INVALID_CONFIG);
        ck_assert_str_eq(err.text, "in-cluster config: KUBERNETES_SERVICE_PORT 'https' is not a port");
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
        ck_assert_int_eq(unlink(path_of("sa/ca.crt")), 0);
        ck_assert_int_eq(kube_config_in_cluster(&cfg, &err), -ENOENT);
        char want[600];
        (void) snprintf(want, sizeof(want), "in-cluster config: cannot read '%s': No such file or directory",
                        path_of("sa/ca.crt"));
        ck_assert_str_eq(err.text, want);
        ck_assert_int_eq(unlink(path_of("sa/token")), 0);
        ck_assert_int_eq(kube_config_in_cluster(&cfg, &err), -ENOENT);
        (void) snprintf(want, sizeof(want), "in-cluster config: cannot read token file '%s': No such file or directory",
                        path_of("sa/token"));
        ck_assert_str_eq(err.text, want);
        write_file("sa/token", "\n");
        ck_assert_int_eq(kube_config_in_cluster(&cfg, &err), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_null(cfg);
}
END_TEST

static char *token_now(struct kube_config *cfg)
{
        char *t = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_token(cfg, &t, &err) == 0, "%s", err.text);
        return t;
}

START_TEST(rotated_token_file_is_read_again)
{
        write_sa();
        setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_msg(kube_config_load(NULL, NULL, &cfg, &err) == 0, "%s", err.text);
        char *t = token_now(cfg);
        ck_assert_str_eq(t, "sa-token-1");
        osb_free(t);

        /* The kubelet swaps in a new file (a new inode). */
        write_file("sa/token.new", "sa-token-2\n");
        ck_assert_int_eq(rename(path_of("sa/token.new"), path_of("sa/token")), 0);
        t = token_now(cfg);
        ck_assert_str_eq(t, "sa-token-2");
        osb_free(t);

        /* Rewritten in place with a different size. */
        write_file("sa/token", "sa-token-three");
        t = token_now(cfg);
        ck_assert_str_eq(t, "sa-token-three");
        osb_free(t);

        /* Rewritten in place, same size, another modification time. */
        write_file("sa/token", "sa-token-four!");
        struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, path_of("sa/token"), times, 0), 0);
        t = token_now(cfg);
        ck_assert_str_eq(t, "sa-token-four!");
        osb_free(t);

        /* Gone for a moment (mid-rotation): the last good token is kept. */
        ck_assert_int_eq(unlink(path_of("sa/token")), 0);
        t = token_now(cfg);
        ck_assert_str_eq(t, "sa-token-four!");
        osb_free(t);
        kube_config_free(cfg);
}
END_TEST

START_TEST(parse_from_memory_names_memory)
{
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        static const char y[] = "{\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"http://h\"}}],"
                                "\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\"}}]}";
        ck_assert_int_eq(kube_config_parse(y, sizeof(y) - 1, NULL, NULL, &cfg, &err), OSB_E_INVALID_CONFIG);
        ck_assert_str_eq(err.text, "kubeconfig (memory): current-context is not set and no context was chosen");
        ck_assert_int_eq(kube_config_parse(y, sizeof(y) - 1, NULL, "x", &cfg, &err), 0);
        ck_assert_str_eq(cfg->server, "http://h");
        kube_config_free(cfg);
}
END_TEST

START_TEST(new_config_validates_the_server)
{
        struct kube_config *cfg = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(kube_config_new("127.0.0.1:6443", &cfg, &err), -EINVAL);
        ck_assert_str_eq(err.text, "'127.0.0.1:6443' is not an http:// or https:// URL");
        ck_assert_int_eq(kube_config_new("https://", &cfg, &err), -EINVAL);
        ck_assert_int_eq(kube_config_new("https://a b", &cfg, &err), -EINVAL);
        ck_assert_int_eq(kube_config_new("https://k8s.example:443//", &cfg, &err), 0);
        ck_assert_str_eq(cfg->server, "https://k8s.example:443");
        ck_assert_str_eq(cfg->namespace, "default");
        kube_config_free(cfg);
}
END_TEST

START_TEST(every_allocation_failure_is_enomem_or_complete)
{
        static const char y[] =
                CLUSTERS("    certificate-authority-data: " CA_B64 "\n    proxy-url: http://proxy:3128\n")
                CONTEXTS CURRENT "users:\n- name: u1\n  user:\n    client-certificate: client.crt\n"
                "    client-key: client.key\n    tokenFile: token\n";
        write_file("config", y);
        bool succeeded = false;
        for (size_t n = 0; !succeeded && n < 100000; n++) {
                struct kube_config *cfg = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                osb_mem_fail_at(n);
                int r = kube_config_load(path_of("config"), NULL, &cfg, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        ck_assert_str_eq(cfg->proxy_url, "http://proxy:3128");
                        ck_assert_str_eq(cfg->key_pem, KEY_TEXT);
                        succeeded = true;
                        kube_config_free(cfg);
                } else {
                        ck_assert_msg(r == -ENOMEM, "allocation %zu: %d %s", n, r, err.text);
                        ck_assert_ptr_null(cfg);
                }
        }
        ck_assert(succeeded);
}
END_TEST

static Suite *kube_config_suite(void)
{
        Suite *s = suite_create("kube_config");
        TCase *tc = tcase_create("kubeconfig");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, token_user_on_the_current_context);
        tcase_add_test(tc, explicit_context_picks_its_user_and_namespace);
        tcase_add_test(tc, context_without_user_has_no_credentials);
        tcase_add_test(tc, certificate_authority_data_is_decoded);
        tcase_add_test(tc, files_are_relative_to_the_kubeconfig_directory);
        tcase_add_test(tc, client_certificate_data_and_absolute_files);
        tcase_add_test(tc, data_wins_over_file_like_kubectl);
        tcase_add_test(tc, insecure_skip_tls_verify);
        tcase_add_test(tc, missing_files_name_the_field_and_the_path);
        tcase_add_test(tc, invalid_fields_are_errors_naming_the_path);
        tcase_add_test(tc, parse_from_memory_names_memory);
        tcase_add_test(tc, new_config_validates_the_server);
        tcase_add_test(tc, every_allocation_failure_is_enomem_or_complete);
        suite_add_tcase(s, tc);
        tc = tcase_create("discovery");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, explicit_path_wins_over_kubeconfig_env);
        tcase_add_test(tc, kubeconfig_env_takes_the_first_existing_file);
        tcase_add_test(tc, home_kube_config_is_the_last_resort);
        tcase_add_test(tc, in_cluster_reads_the_service_account);
        tcase_add_test(tc, in_cluster_errors_name_the_file);
        tcase_add_test(tc, rotated_token_file_is_read_again);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(kube_config_suite)
