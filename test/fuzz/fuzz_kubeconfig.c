/* test/fuzz/fuzz_kubeconfig.c: bytes -> kube_config_parse() with the current context and with a
 * chosen one. A success must be a usable configuration; a failure must leave nothing behind and
 * name the kubeconfig. Relative file references resolve under a directory that does not exist. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "kube/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                         \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        fprintf(stderr, "fuzz_kubeconfig: invariant failed: %s\n", #cond);    \
                        abort();                                                              \
                }                                                                             \
        } while (0)

#define FUZZ_PATH "/nonexistent-bindery-fuzz/config"

static void check(int r, struct kube_config *cfg, const struct osb_error *err)
{
        if (r < 0) {
                REQUIRE(cfg == NULL);
                REQUIRE(r == -ENOMEM || strncmp(err->text, "kubeconfig " FUZZ_PATH ": ", 12 + strlen(FUZZ_PATH)) == 0);
                return;
        }
        REQUIRE(r == 0 && cfg != NULL);
        REQUIRE(cfg->server && (strncmp(cfg->server, "https://", 8) == 0 || strncmp(cfg->server, "http://", 7) == 0));
        REQUIRE(cfg->server[strlen(cfg->server) - 1] != '/');
        REQUIRE(cfg->namespace && *cfg->namespace);
        REQUIRE(cfg->context && cfg->source && cfg->user_agent);
        REQUIRE(!cfg->cert_pem == !cfg->key_pem);
        REQUIRE(!cfg->ca_pem || strlen(cfg->ca_pem) == cfg->ca_pem_len);
        REQUIRE(!(cfg->insecure_skip_tls_verify && cfg->ca_pem));
        char *token = NULL;
        struct osb_error terr = OSB_ERROR_INIT;
        int tr = kube_config_token(cfg, &token, &terr);
        REQUIRE(tr == 0 || tr == -ENOMEM);
        REQUIRE(tr < 0 || !cfg->token || (token && strcmp(token, cfg->token) == 0));
        osb_free(token);
        kube_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        struct osb_error err = OSB_ERROR_INIT;
        struct kube_config *cfg = NULL;
        int r = kube_config_parse((const char *) data, size, FUZZ_PATH, NULL, &cfg, &err);
        check(r, cfg, &err);
        cfg = NULL;
        r = kube_config_parse((const char *) data, size, FUZZ_PATH, "ctx", &cfg, &err);
        check(r, cfg, &err);
        return 0;
}
