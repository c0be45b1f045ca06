/* test/fuzz/fuzz_jsonpath.c: the first line is a JSONPath template, the rest a JSON document.
 * Runs credentials_jsonpath() over them; credentials_to_secret_data() with the document as the
 * broker's credentials and, as spec.secretTransforms, the first line when it parses as a JSON
 * array (else one addKey using it as jsonPathExpression); and params_build() with the document
 * as a parametersFrom Secret value. Checks each contract: a known code, a message, nothing
 * written on failure, and on success Secret data that Kubernetes would accept. */
#include "common/osb_compat.h"

#include "common/osb_base64.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/credentials.h"
#include "common/osb_hash.h"
#include "catalog-controller/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                           \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz_jsonpath: invariant failed: %s\n", #cond);        \
                        abort();                                                                \
                }                                                                               \
        } while (0)

static json_t sentinel;
#define UNTOUCHED (&sentinel)

/* Any name starting with 's' is a Secret with a text key and a binary one; others are missing. */
static int get_secret(void *userdata, const char *ns, const char *name, json_t **data, struct osb_error *err)
{
        if (name[0] != 's')
                return osb_error_set(err, OSB_E_NOT_FOUND, "Secret %s/%s not found", ns, name);
        json_t *j = json_pack("{s:s, s:s}", "extra", "eHl6", "bin", "/wA=");
        if (!j)
                return osb_error_set(err, -ENOMEM, "out of memory");
        *data = j;
        return 0;
}

static bool key_ok(const char *k, size_t len)
{
        if (len == 0 || len > CREDENTIALS_MAX_KEY_LEN || (k[0] == '.' && (len == 1 || k[1] == '.')))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum((unsigned char) k[i]) && !strchr("-._", k[i]))
                        return false;
        return true;
}

static void check_jsonpath(const json_t *doc, const char *expr)
{
        struct osb_error err = OSB_ERROR_INIT;
        char *ret = (char *) "untouched";
        int r = credentials_jsonpath(doc, expr, &ret, &err);
        if (r == 0) {
                REQUIRE(ret != NULL);
                REQUIRE(strlen(ret) <= CREDENTIALS_MAX_BYTES);
                osb_free(ret);
                return;
        }
        REQUIRE(r == -EINVAL || r == OSB_E_NOT_FOUND || r == -E2BIG || r == OSB_E_BAD_REQUEST || r == -ENOMEM);
        REQUIRE(err.code == r && err.text[0] != '\0');
        REQUIRE(strcmp(ret, "untouched") == 0);
}

static void check_secret_data(const json_t *creds, const json_t *transforms)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *data = UNTOUCHED;
        int r = credentials_to_secret_data(creds, transforms, "ns", get_secret, NULL, &data, &err);
        if (r < 0) {
                REQUIRE(r == OSB_E_BAD_REQUEST || r == OSB_E_NOT_FOUND || r == -ENOMEM);
                REQUIRE(err.code == r && err.text[0] != '\0');
                REQUIRE(data == UNTOUCHED);
                return;
        }
        REQUIRE(json_is_object(data));
        size_t total = 0;
        const char *key;
        size_t key_len;
        json_t *v;
        json_object_keylen_foreach (data, key, key_len, v) {
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
        json_decref(data);
}

static void check_params(const char *value, size_t len)
{
        struct params_source src = {.secret_name = "s", .key = "k", .value = value, .len = len};
        struct osb_error err = OSB_ERROR_INIT;
        json_t *params = UNTOUCHED, *redacted = UNTOUCHED;
        char sum[65] = "untouched";
        int r = params_build(NULL, &src, 1, &params, &redacted, sum, &err);
        if (r < 0) {
                REQUIRE(r == OSB_E_BAD_REQUEST || r == -ENOMEM);
                REQUIRE(err.code == r && err.text[0] != '\0');
                REQUIRE(params == UNTOUCHED && redacted == UNTOUCHED && strcmp(sum, "untouched") == 0);
                return;
        }
        REQUIRE(json_is_object(params) && json_is_object(redacted));
        REQUIRE(json_object_size(params) == json_object_size(redacted));
        const char *key;
        json_t *v;
        json_object_foreach (redacted, key, v)
                REQUIRE(json_object_get(params, key) && json_is_string(v) &&
                        strcmp(json_string_value(v), PARAMS_REDACTED) == 0);
        size_t n;
        char *dump = osb_json_dump_flags(params, JSON_COMPACT | JSON_SORT_KEYS, &n);
        if (dump) {
                char want[65];
                osb_hash_sha256_hex(dump, n, want);
                REQUIRE(strcmp(sum, want) == 0);
                osb_free(dump);
        }
        json_decref(params);
        json_decref(redacted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        const char *text = (const char *) data;
        const char *nl = memchr(text, '\n', size);
        size_t line_len = nl ? (size_t) (nl - text) : size;
        const char *rest = nl ? nl + 1 : text + size;
        size_t rest_len = size - (size_t) (rest - text);

        /* The expression is a C string: it ends at a NUL byte if the line has one. */
        char *expr = osb_strndup(text, line_len);
        if (!expr)
                return 0;
        json_t *doc = json_loadb(rest, rest_len, JSON_DECODE_ANY, NULL);

        check_jsonpath(doc, expr);

        json_t *transforms = json_loadb(text, line_len, JSON_DECODE_ANY, NULL);
        if (!json_is_array(transforms)) {
                json_decref(transforms);
                transforms = json_pack("[{s:{s:s, s:s}}]", "addKey", "key", "k", "jsonPathExpression", expr);
        }
        if (transforms)
                check_secret_data(doc, transforms);
        check_params(rest, rest_len);

        json_decref(transforms);
        json_decref(doc);
        osb_free(expr);
        return 0;
}
