/* test/fuzz/fuzz_osb_response.c: bytes -> every broker answer the catalog controller reads
 * (catalog-controller/osb_response.h): GET /v2/catalog, provision, bind, fetching a binding, and
 * last_operation. Input: byte 0 picks the call, byte 1 the HTTP status, byte 2 bit 0 says the body
 * was cut at the size cap; the rest is the body. Invariants: never a success with something that
 * was not read (a bind or fetch succeeds only with credentials that are the JSON object the body
 * really holds, or none when the body has no "credentials"; a last_operation only with one of the
 * three states it names); every failure is -EBADMSG with a summary that quotes nothing of the body
 * (no JSON punctuation, no bytes outside the summaries' own alphabet, no string of the body that
 * the summaries could not contain); the "error" and "description" kept for messages are a word
 * and a bounded text without control characters; a binding's metadata gives times only from the
 * strings it holds. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "catalog-controller/osb_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                         \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        fprintf(stderr, "fuzz_osb_response: invariant failed: %s\n", #cond);  \
                        abort();                                                              \
                }                                                                             \
        } while (0)

enum call { CALL_CATALOG, CALL_PROVISION, CALL_BIND, CALL_FETCH_BINDING, CALL_LAST_OPERATION, CALL_N };

static const long statuses[] = {200, 201, 202, 204, 400, 410, 422, 500};

/* The characters a summary is made of: the fixed texts, call names, numbers. */
static bool summary_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != '\0' && strchr(" ,.()'\"_/-", c) != NULL);
}

/* A summary never quotes a string of the body: one holding a character no summary has could
 * only be there if it was copied. */
static void check_not_quoted(const json_t *j, const char *text)
{
        const char *k;
        json_t *v;
        size_t i;
        if (json_is_string(j)) {
                const char *s = json_string_value(j);
                size_t n = json_string_length(j);
                bool foreign = false;
                for (size_t x = 0; x < n; x++)
                        foreign |= !summary_char(s[x]);
                if (foreign && n == strlen(s))
                        REQUIRE(strstr(text, s) == NULL);
        } else if (json_is_object(j)) {
                json_object_foreach((json_t *) j, k, v)
                        check_not_quoted(v, text);
        } else if (json_is_array(j)) {
                json_array_foreach(j, i, v)
                        check_not_quoted(v, text);
        }
}

static void check_failure(int r, const struct osb_error *err, const json_t *independent)
{
        REQUIRE(r == -EBADMSG);
        REQUIRE(err->code == -EBADMSG);
        REQUIRE(strncmp(err->text, "the broker's response to ", 25) == 0);
        for (const char *c = err->text; *c; c++)
                REQUIRE(summary_char(*c));
        check_not_quoted(independent, err->text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        if (size < 3)
                return 0;
        enum call call = (enum call) (data[0] % CALL_N);
        long status = statuses[data[1] % OSB_ELEMENTSOF(statuses)];
        bool too_big = data[2] & 1;
        const char *body = (const char *) data + 3;
        size_t len = size - 3;

        struct osb_response resp;
        int r = osb_response_decode(status, body, len, too_big, -1, &resp);
        REQUIRE(r == 0 || r == -ENOMEM);
        if (r < 0)
                return 0;
        /* what the body holds, read independently: the decoded body must be exactly that */
        json_t *independent = too_big || !len ? NULL : json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        REQUIRE((resp.body == NULL) == (independent == NULL));
        REQUIRE(!resp.body || json_equal(resp.body, independent));
        REQUIRE(resp.status == status && resp.body_len == len && resp.too_big == too_big);
        /* the only text ever shown: an error code that is a word, a bounded description with
         * no control characters */
        REQUIRE(!resp.error || osb_streq(resp.error, json_string_value(json_object_get(independent, "error"))));
        for (const char *c = resp.error; c && *c; c++)
                REQUIRE(isalnum((unsigned char) *c) || *c == '_' || *c == '-' || *c == '.');
        REQUIRE(!resp.error || strlen(resp.error) <= OSB_RESPONSE_CODE_MAX);
        REQUIRE(!resp.description || json_is_string(json_object_get(independent, "description")));
        REQUIRE(!resp.description || strlen(resp.description) <= OSB_RESPONSE_TEXT_MAX + 3);
        for (const char *c = resp.description; c && *c; c++)
                REQUIRE((unsigned char) *c >= 0x20 && *c != 0x7f);

        struct osb_error err = OSB_ERROR_INIT;
        switch (call) {
        case CALL_CATALOG:
                r = osb_response_catalog(&resp, &err);
                if (r == 0)
                        REQUIRE(json_is_array(json_object_get(independent, "services")));
                else
                        check_failure(r, &err, independent);
                break;
        case CALL_PROVISION: {
                const char *dash = "unset";
                r = osb_response_provision(&resp, "provision", &dash, &err);
                if (r == 0) {
                        REQUIRE(json_is_object(independent));
                        REQUIRE(osb_streq(dash, json_string_value(json_object_get(independent, "dashboard_url"))));
                } else {
                        REQUIRE(dash == NULL);
                        check_failure(r, &err, independent);
                }
                break;
        }
        case CALL_BIND:
        case CALL_FETCH_BINDING: {
                const json_t *creds = (const json_t *) &err;   /* anything but NULL */
                r = osb_response_bind(&resp, call == CALL_BIND ? "bind" : "fetching the binding", &creds, &err);
                if (r == 0) {
                        /* success => the credentials are the object the body really holds, or
                         * the body (a JSON object) has none */
                        REQUIRE(json_is_object(independent));
                        const json_t *real = json_object_get(independent, "credentials");
                        if (creds) {
                                REQUIRE(json_is_object(creds));
                                REQUIRE(json_is_object(real) && json_equal(creds, real));
                                REQUIRE(creds == json_object_get(resp.body, "credentials"));
                        } else {
                                REQUIRE(real == NULL);
                        }
                } else {
                        REQUIRE(creds == NULL);
                        check_failure(r, &err, independent);
                }
                /* the binding metadata: a time only when the body holds that string */
                time_t exp = 1, renew = 1;
                osb_response_bind_expiry(resp.body, &exp, &renew);
                const json_t *md = json_object_get(independent, "metadata");
                REQUIRE(exp == 0 || (json_is_string(json_object_get(md, "expires_at")) && exp > 0));
                REQUIRE(renew == 0 || (json_is_string(json_object_get(md, "renew_before")) && renew > 0));
                break;
        }
        case CALL_LAST_OPERATION: {
                enum osb_response_state st = (enum osb_response_state) 99;
                const char *desc = "unset";
                r = osb_response_last_operation(&resp, "last_operation", &st, &desc, &err);
                const json_t *rs = json_object_get(independent, "state");
                /* a state with a NUL byte is none of the three: compare it whole */
                const char *real = json_is_string(rs) && strlen(json_string_value(rs)) == json_string_length(rs) ?
                                   json_string_value(rs) : NULL;
                if (r == 0) {
                        REQUIRE(json_is_object(independent) && real);
                        REQUIRE((st == OSB_RESPONSE_IN_PROGRESS && strcmp(real, "in progress") == 0) ||
                                (st == OSB_RESPONSE_SUCCEEDED && strcmp(real, "succeeded") == 0) ||
                                (st == OSB_RESPONSE_FAILED && strcmp(real, "failed") == 0));
                        REQUIRE(desc == resp.description);
                } else {
                        REQUIRE(desc == NULL);
                        REQUIRE(!real || !json_is_object(independent) ||
                                (strcmp(real, "in progress") != 0 && strcmp(real, "succeeded") != 0 &&
                                 strcmp(real, "failed") != 0));
                        check_failure(r, &err, independent);
                }
                break;
        }
        default:
                abort();
        }
        if (independent)
                json_decref(independent);
        osb_response_release(&resp);
        return 0;
}
