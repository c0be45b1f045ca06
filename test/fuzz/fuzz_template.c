/* test/fuzz/fuzz_template.c: the input is a binding's spec.secretTemplate. Renders it with
 * template_render() over fixed credentials and instance metadata, then builds the Secret it
 * describes with credentials_secret_build(). Checks each contract: a known code and a message on
 * failure, nothing written; the output within its bound; Secret data that Kubernetes would
 * accept; and no message holding the credentials' password unless the template itself does. */
#include "common/osb_compat.h"

#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "catalog-controller/credentials.h"
#include "catalog-controller/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                           \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz_template: invariant failed: %s\n", #cond);        \
                        abort();                                                                \
                }                                                                               \
        } while (0)

#define MARKER "Qz7pw-MARKER"

static const char creds_text[] =
        "{\"user\":\"app\",\"password\":\"" MARKER "\",\"port\":5432,\"tls\":true,\"nested\":{\"a\":[1,\"x\"]},"
        "\"bin\":\"" MARKER "\"}";
static const char instance_text[] =
        "{\"instance_guid\":\"ig\",\"instance_name\":\"db\",\"plan\":\"small\",\"type\":\"pg\",\"label\":\"pg\","
        "\"tags\":[\"sql\"]}";

static bool key_ok(const char *k, size_t len)
{
        if (len == 0 || len > CREDENTIALS_MAX_KEY_LEN || (k[0] == '.' && (len == 1 || k[1] == '.')))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char) k[i]) && !strchr("-._", k[i]))
                        return false;
        return true;
}

static void check_render(const char *text, size_t len, const json_t *input, bool marked)
{
        struct osb_error err = OSB_ERROR_INIT;
        char *out = (char *) "untouched";
        size_t n = 0;
        int r = template_render(text, len, input, 4096, &out, &n, &err);
        if (r == 0) {
                REQUIRE(out != NULL && n <= 4096 && strlen(out) <= n);
                osb_free(out);
                return;
        }
        REQUIRE(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
        REQUIRE(err.code == r && err.text[0] != '\0');
        REQUIRE(strcmp(out, "untouched") == 0);
        REQUIRE(marked || !strstr(err.text, MARKER));
}

static void check_build(const char *text, const json_t *creds, const json_t *instance, bool marked)
{
        struct credentials_shape sh = {.instance = instance, .template_text = text, .sb_type = "t"};
        struct credentials_secret s = {0};
        struct osb_error err = OSB_ERROR_INIT;
        int r = credentials_secret_build(creds, &sh, "ns", NULL, NULL, &s, &err);
        if (r < 0) {
                REQUIRE(r == OSB_E_BAD_REQUEST || r == -ENOMEM);
                REQUIRE(err.code == r && err.text[0] != '\0');
                REQUIRE(s.data == NULL && s.type == NULL);
                REQUIRE(marked || !strstr(err.text, MARKER));
                return;
        }
        REQUIRE(json_is_object(s.data) && s.type && *s.type);
        REQUIRE(json_object_get(s.data, "type") != NULL);
        size_t total = 0;
        const char *key;
        size_t key_len;
        json_t *v;
        json_object_keylen_foreach (s.data, key, key_len, v) {
                REQUIRE(key_ok(key, key_len));
                REQUIRE(json_is_string(v));
                char *bytes = NULL;
                size_t n = 0;
                REQUIRE(osb_base64_decode(json_string_value(v), json_string_length(v), OSB_BASE64_STRICT, &bytes,
                                          &n, NULL) == 0);
                osb_free(bytes);
                total += n;
        }
        REQUIRE(total <= CREDENTIALS_MAX_BYTES);
        REQUIRE(!s.labels || json_is_object(s.labels));
        REQUIRE(!s.annotations || json_is_object(s.annotations));
        credentials_secret_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        json_t *creds = json_loads(creds_text, 0, NULL);
        json_t *instance = json_loads(instance_text, 0, NULL);
        json_t *input = json_pack("{s:O,s:O}", "credentials", creds, "instance", instance);
        /* the spec field is a string: it ends at a NUL byte */
        char *text = osb_strndup((const char *) data, size);
        if (creds && instance && input && text) {
                bool marked = memmem(data, size, MARKER, strlen(MARKER)) != NULL;
                check_render((const char *) data, size, input, marked);
                check_build(text, creds, instance, marked);
        }
        osb_free(text);
        json_decref(input);
        json_decref(instance);
        json_decref(creds);
        return 0;
}
