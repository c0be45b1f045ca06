/* test/unit/check_credentials.c: binding credentials -> Secret data: the exact
 * base64 of every kind of value (expected values from Python's base64 over the bytes named in
 * the comments), each secretTransform and their order, addKey precedence, the JSONPath
 * subset, every error message, and allocation failures. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "catalog-controller/credentials.h"
#include "test/lib/check_main.h"

/* Outputs are written only on success: a failed call must leave this in place. */
static json_t sentinel;
#define UNTOUCHED (&sentinel)

static json_t *parse(const char *text)
{
        json_error_t jerr;
        json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
        ck_assert_msg(j != NULL, "fixture %s: %s", text, jerr.text);
        return j;
}

/* Asserts @got is exactly the JSON @want, printing both on a mismatch. */
static void assert_json(const json_t *got, const char *want)
{
        json_t *w = parse(want);
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        ck_assert_msg(json_equal(got, w), "got %s, want %s", g, want);
        osb_free(g);
        json_decref(w);
}

/* The test's Secret store for addKeysFrom: ns "team" has "extra" and "binary"; anything else
 * is not found, and "broken" fails without a message. Counts calls. */
struct store {
        unsigned calls;
        char last_ns[64], last_name[64];
};

static int get_secret(void *userdata, const char *ns, const char *name, json_t **data, struct osb_error *err)
{
        struct store *st = userdata;
        st->calls++;
        (void) snprintf(st->last_ns, sizeof(st->last_ns), "%s", ns);
        (void) snprintf(st->last_name, sizeof(st->last_name), "%s", name);
        const char *text = NULL;
        if (strcmp(ns, "team") == 0 && strcmp(name, "extra") == 0)
                text = "{\"x\":\"eHl6\",\"user\":\"b3RoZXI=\"}";  /* x=xyz, user=other */
        else if (strcmp(ns, "team") == 0 && strcmp(name, "binary") == 0)
                text = "{\"bin\":\"/wA=\"}";  /* 0xff 0x00 */
        else if (strcmp(ns, "team") == 0 && strcmp(name, "empty") == 0)
                return 0;
        else if (strcmp(ns, "team") == 0 && strcmp(name, "badkey") == 0)
                text = "{\"a b\":\"eA==\"}";
        else if (strcmp(ns, "team") == 0 && strcmp(name, "badb64") == 0)
                text = "{\"k\":\"e!==\"}";
        else if (strcmp(ns, "team") == 0 && strcmp(name, "number") == 0)
                text = "{\"k\":7}";
        else if (strcmp(ns, "team") == 0 && strcmp(name, "array") == 0)
                text = "[]";
        else if (strcmp(name, "broken") == 0)
                return -EIO;
        else
                return osb_error_set(err, OSB_E_NOT_FOUND, "Secret %s/%s not found", ns, name);
        json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
        if (!j)
                return osb_error_set(err, -ENOMEM, "out of memory");
        *data = j;
        return 0;
}

/* Runs credentials_to_secret_data over JSON texts (@transforms may be NULL), default ns "team". */
static int run(const char *creds, const char *transforms, json_t **data, struct osb_error *err)
{
        struct store st = {0};
        json_t *c = creds ? parse(creds) : NULL;
        json_t *t = transforms ? parse(transforms) : NULL;
        int r = credentials_to_secret_data(c, t, "team", get_secret, &st, data, err);
        json_decref(c);
        json_decref(t);
        return r;
}

static void assert_secret(const char *creds, const char *transforms, const char *want)
{
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        int r = run(creds, transforms, &data, &err);
        ck_assert_msg(r == 0, "r=%d: %s", r, err.text);
        assert_json(data, want);
        json_decref(data);
}

/* ---- serialisation ---- */

START_TEST(strings_become_their_utf8_bytes)
{
        /* admin, héllo € (UTF-8), "" */
        assert_secret("{\"user\":\"admin\",\"greeting\":\"h\\u00e9llo \\u20ac\",\"empty\":\"\"}", NULL,
                      "{\"user\":\"YWRtaW4=\",\"greeting\":\"aMOpbGxvIOKCrA==\",\"empty\":\"\"}");
}
END_TEST

START_TEST(numbers_booleans_and_null_become_json_text)
{
        /* 5432, 1.5, -7, true, false, null */
        assert_secret("{\"port\":5432,\"ratio\":1.5,\"neg\":-7,\"tls\":true,\"off\":false,\"none\":null}", NULL,
                      "{\"port\":\"NTQzMg==\",\"ratio\":\"MS41\",\"neg\":\"LTc=\",\"tls\":\"dHJ1ZQ==\","
                      "\"off\":\"ZmFsc2U=\",\"none\":\"bnVsbA==\"}");
}
END_TEST

/* A real is written in the shortest form that reads back as the same double, as the broker
 * most likely sent it (0.1, not jansson's %.17g 0.10000000000000001), and stays a real (1.0). */
START_TEST(reals_are_written_in_their_shortest_round_trip_form)
{
        static const struct {
                const char *key, *want;
        } want[] = {
                {"ratio", "0.1"}, {"third", "0.30000000000000004"}, {"one", "1.0"}, {"neg", "-2.5"},
                {"big", "1e300"}, {"tiny", "5e-324"}, {"max", "1.7976931348623157e308"}, {"e21", "1e21"},
                {"small", "1.5e-7"}, {"pi", "3.141592653589793"}, {"nested", "{\"r\":[0.1,0.2,7.0],\"s\":\"x\",\"n\":3}"},
                {"list", "[1.1,{\"k\":2.675}]"},
        };
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        int r = run("{\"ratio\":0.1,\"third\":0.30000000000000004,\"one\":1.0,\"neg\":-2.5,\"big\":1e300,"
                    "\"tiny\":5e-324,\"max\":1.7976931348623157e308,\"e21\":1e21,\"small\":0.00000015,"
                    "\"pi\":3.141592653589793,\"nested\":{\"r\":[0.1,0.2,7.0],\"s\":\"x\",\"n\":3},"
                    "\"list\":[1.1,{\"k\":2.675}]}", NULL, &data, &err);
        ck_assert_msg(r == 0, "%s", err.text);
        ck_assert_uint_eq(json_object_size(data), OSB_ELEMENTSOF(want));
        for (size_t i = 0; i < OSB_ELEMENTSOF(want); i++) {
                const char *b64 = json_string_value(json_object_get(data, want[i].key));
                ck_assert_ptr_nonnull(b64);
                char *got = NULL;
                size_t n = 0;
                ck_assert_int_eq(osb_base64_decode(b64, strlen(b64), 0, &got, &n, NULL), 0);
                ck_assert_msg(n == strlen(want[i].want) && memcmp(got, want[i].want, n) == 0, "%s: got %.*s, want %s",
                              want[i].key, (int) n, got, want[i].want);
                osb_free(got);
        }
        json_decref(data);
        /* a JSONPath selecting a real writes it the same way */
        json_t *doc = parse("{\"ratio\":0.1,\"o\":{\"r\":0.7}}");
        char *got = NULL;
        ck_assert_int_eq(credentials_jsonpath(doc, "{.ratio} {.o}", &got, &err), 0);
        ck_assert_str_eq(got, "0.1 {\"r\":0.7}");
        osb_free(got);
        json_decref(doc);
}
END_TEST

START_TEST(objects_and_arrays_are_compact_json_in_broker_order)
{
        /* {"host":"h","port":1,"z":[1,"a"],"a":null} -- keys not sorted; [1,"two"];
         * {"k":"é"} with é as raw UTF-8, not \u00e9 */
        assert_secret("{\"db\":{\"host\":\"h\",\"port\":1,\"z\":[1,\"a\"],\"a\":null},\"list\":[1,\"two\"],"
                      "\"uni\":{\"k\":\"\\u00e9\"}}",
                      NULL,
                      "{\"db\":\"eyJob3N0IjoiaCIsInBvcnQiOjEsInoiOlsxLCJhIl0sImEiOm51bGx9\","
                      "\"list\":\"WzEsInR3byJd\",\"uni\":\"eyJrIjoiw6kifQ==\"}");
}
END_TEST

START_TEST(no_credentials_and_no_transforms_is_empty_data)
{
        assert_secret(NULL, NULL, "{}");
        assert_secret("{}", "[]", "{}");
        assert_secret("{\"a\":\"1\"}", "null", "{\"a\":\"MQ==\"}");
}
END_TEST

START_TEST(secret_key_rules_are_kubernetes)
{
        char k253[254], k254[255];
        memset(k253, 'k', 253);
        k253[253] = '\0';
        memset(k254, 'k', 254);
        k254[254] = '\0';
        json_t *c = json_pack("{s:s, s:s, s:s, s:s}", k253, "v", ".dot", "v", "a-b_c.D9", "v", "x..y", "v");
        json_t *data = NULL;
        ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, NULL), 0);
        ck_assert_uint_eq(json_object_size(data), 4);
        ck_assert_str_eq(json_string_value(json_object_get(data, k253)), "dg==");
        json_decref(data);
        json_decref(c);

        static const char *const bad[] = {"a b", ".", "..", "..a", "", "a/b", "\xc3\xa9", "a:b"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++) {
                c = json_pack("{s:s}", bad[i], "v");
                struct osb_error err = OSB_ERROR_INIT;
                char want[128];
                data = UNTOUCHED;
                ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, &err),
                                 OSB_E_BAD_REQUEST);
                (void) snprintf(want, sizeof(want), "credentials key 1 of 1 (%zu bytes) is not a valid Secret key "
                                "(1 to 253 of [-._a-zA-Z0-9], not '.' or '..')", strlen(bad[i]));
                ck_assert_str_eq(err.text, want);
                /* the broker's key may be a credential: never quoted */
                ck_assert(!*bad[i] || strcmp(bad[i], ".") == 0 || strcmp(bad[i], "..") == 0 || !strstr(err.text, bad[i]));
                ck_assert_ptr_eq(data, UNTOUCHED);
                json_decref(c);
        }
        c = json_pack("{s:s}", k254, "v");
        data = UNTOUCHED;
        ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, NULL), OSB_E_BAD_REQUEST);
        ck_assert_ptr_eq(data, UNTOUCHED);
        json_decref(c);
}
END_TEST

START_TEST(key_with_nul_byte_is_invalid)
{
        json_t *c = json_object();
        json_object_setn_new(c, "a\0b", 3, json_string("v"));
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "credentials key 1 of 1 (3 bytes) is not a valid Secret key (1 to 253 of "
                         "[-._a-zA-Z0-9], not '.' or '..')");
        ck_assert_ptr_eq(data, UNTOUCHED);
        json_decref(c);
}
END_TEST

START_TEST(size_limit_is_one_mebibyte_of_values)
{
        size_t max = CREDENTIALS_MAX_BYTES;
        char *v = osb_malloc(max + 1);
        memset(v, 'a', max);
        v[max] = '\0';
        /* Exactly 1 MiB of values fits, the keys not counted. */
        json_t *c = json_pack("{s:s%}", "k", v, max - 1);
        json_object_set_new(c, "z", json_string("1"));
        json_t *data = NULL;
        ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, NULL), 0);
        ck_assert_uint_eq(json_object_size(data), 2);
        json_decref(data);
        json_object_set_new(c, "z", json_string("12"));
        struct osb_error err = OSB_ERROR_INIT;
        data = UNTOUCHED;
        ck_assert_int_eq(credentials_to_secret_data(c, NULL, "team", NULL, NULL, &data, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "the credentials come to 1048577 bytes, more than a Secret can hold (1048576)");
        ck_assert_ptr_eq(data, UNTOUCHED);
        json_decref(c);
        osb_free(v);
}
END_TEST

START_TEST(bytes_that_are_not_utf8_stay_as_given)
{
        /* addKey.value "/w==" is the single byte 0xff; it is written back unchanged. */
        assert_secret("{}", "[{\"addKey\":{\"key\":\"b\",\"value\":\"/w==\"}}]", "{\"b\":\"/w==\"}");
        /* Bytes with a NUL from another Secret, too. */
        assert_secret("{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"binary\"}}}]", "{\"bin\":\"/wA=\"}");
}
END_TEST

/* ---- transforms ---- */

START_TEST(rename_key_moves_a_present_key)
{
        /* 1 */
        assert_secret("{\"a\":\"1\",\"keep\":\"x\"}", "[{\"renameKey\":{\"from\":\"a\",\"to\":\"b\"}}]",
                      "{\"b\":\"MQ==\",\"keep\":\"eA==\"}");
        /* absent: nothing happens */
        assert_secret("{\"keep\":\"x\"}", "[{\"renameKey\":{\"from\":\"a\",\"to\":\"b\"}}]", "{\"keep\":\"eA==\"}");
        /* onto an existing key: replaces it */
        assert_secret("{\"a\":\"1\",\"b\":\"2\"}", "[{\"renameKey\":{\"from\":\"a\",\"to\":\"b\"}}]",
                      "{\"b\":\"MQ==\"}");
        /* onto itself: unchanged */
        assert_secret("{\"a\":\"1\"}", "[{\"renameKey\":{\"from\":\"a\",\"to\":\"a\"}}]", "{\"a\":\"MQ==\"}");
        /* a key Kubernetes refuses is renamed out of the way */
        assert_secret("{\"db url\":\"u\"}", "[{\"renameKey\":{\"from\":\"db url\",\"to\":\"db-url\"}}]",
                      "{\"db-url\":\"dQ==\"}");
}
END_TEST

START_TEST(add_key_value_string_value_and_jsonpath)
{
        /* value: base64 "aGk=" is "hi" and stays that; line breaks in it are ignored */
        assert_secret("{}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"aG\\nk=\"}}]", "{\"k\":\"aGk=\"}");
        /* stringValue "héllo €" */
        assert_secret("{}", "[{\"addKey\":{\"key\":\"k\",\"stringValue\":\"h\\u00e9llo \\u20ac\"}}]",
                      "{\"k\":\"aMOpbGxvIOKCrA==\"}");
        /* jsonPathExpression: postgres://admin@db.example:5432/db */
        assert_secret("{\"user\":\"admin\",\"host\":\"db.example\",\"port\":5432}",
                      "[{\"addKey\":{\"key\":\"uri\","
                      "\"jsonPathExpression\":\"postgres://{.user}@{.host}:{.port}/db\"}}]",
                      "{\"user\":\"YWRtaW4=\",\"host\":\"ZGIuZXhhbXBsZQ==\",\"port\":\"NTQzMg==\","
                      "\"uri\":\"cG9zdGdyZXM6Ly9hZG1pbkBkYi5leGFtcGxlOjU0MzIvZGI=\"}");
        /* an existing key is replaced; empty value is empty bytes */
        assert_secret("{\"k\":\"old\"}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"\"}}]", "{\"k\":\"\"}");
}
END_TEST

START_TEST(add_key_precedence_is_jsonpath_then_string_then_value)
{
        /* admin (jsonPath) over s (stringValue) over "hi" (value) */
        assert_secret("{\"user\":\"admin\"}",
                      "[{\"addKey\":{\"key\":\"k\",\"value\":\"aGk=\",\"stringValue\":\"s\","
                      "\"jsonPathExpression\":\"{.user}\"}}]",
                      "{\"user\":\"YWRtaW4=\",\"k\":\"YWRtaW4=\"}");
        /* s (stringValue) over value */
        assert_secret("{}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"aGk=\",\"stringValue\":\"s\"}}]",
                      "{\"k\":\"cw==\"}");
        /* The losers are not decoded: an invalid value beside a stringValue is not an error. */
        assert_secret("{}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"!!\",\"stringValue\":\"s\"}}]",
                      "{\"k\":\"cw==\"}");
}
END_TEST

START_TEST(add_keys_from_copies_every_key_in_the_default_or_named_namespace)
{
        struct store st = {0};
        json_t *c = parse("{\"user\":\"admin\",\"keep\":\"1\"}");
        json_t *t = parse("[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"extra\"}}}]");
        json_t *data = NULL;
        ck_assert_int_eq(credentials_to_secret_data(c, t, "team", get_secret, &st, &data, NULL), 0);
        /* user=other replaces admin; x=xyz is added; bytes stay as the Secret had them */
        assert_json(data, "{\"user\":\"b3RoZXI=\",\"keep\":\"MQ==\",\"x\":\"eHl6\"}");
        ck_assert_uint_eq(st.calls, 1);
        ck_assert_str_eq(st.last_ns, "team");
        ck_assert_str_eq(st.last_name, "extra");
        json_decref(data);
        json_decref(t);

        st = (struct store){0};
        t = parse("[{\"addKeysFrom\":{\"secretRef\":{\"namespace\":\"team\",\"name\":\"extra\"}}}]");
        ck_assert_int_eq(credentials_to_secret_data(c, t, "elsewhere", get_secret, &st, &data, NULL), 0);
        ck_assert_str_eq(st.last_ns, "team");
        assert_json(data, "{\"user\":\"b3RoZXI=\",\"keep\":\"MQ==\",\"x\":\"eHl6\"}");
        json_decref(data);
        json_decref(t);

        /* A Secret without data adds nothing. */
        t = parse("[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"empty\"}}}]");
        ck_assert_int_eq(credentials_to_secret_data(c, t, "team", get_secret, &st, &data, NULL), 0);
        assert_json(data, "{\"user\":\"YWRtaW4=\",\"keep\":\"MQ==\"}");
        json_decref(data);
        json_decref(t);
        json_decref(c);
}
END_TEST

START_TEST(remove_key_removes_a_present_key)
{
        assert_secret("{\"a\":\"1\",\"b\":\"2\"}", "[{\"removeKey\":{\"key\":\"a\"}}]", "{\"b\":\"Mg==\"}");
        assert_secret("{\"b\":\"2\"}", "[{\"removeKey\":{\"key\":\"a\"}}]", "{\"b\":\"Mg==\"}");
        /* an invalid broker key can be dropped */
        assert_secret("{\"a b\":\"1\",\"b\":\"2\"}", "[{\"removeKey\":{\"key\":\"a b\"}}]", "{\"b\":\"Mg==\"}");
}
END_TEST

START_TEST(transforms_apply_in_order)
{
        /* rename then remove the new name: gone */
        assert_secret("{\"a\":\"1\"}",
                      "[{\"renameKey\":{\"from\":\"a\",\"to\":\"b\"}},{\"removeKey\":{\"key\":\"b\"}}]", "{}");
        /* remove the new name then rename: there */
        assert_secret("{\"a\":\"1\"}",
                      "[{\"removeKey\":{\"key\":\"b\"}},{\"renameKey\":{\"from\":\"a\",\"to\":\"b\"}}]",
                      "{\"b\":\"MQ==\"}");
        /* a jsonPath sees keys added by earlier transforms, including bytes and other Secrets:
         * "other:xyz:hi" */
        assert_secret("{}",
                      "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"extra\"}}},"
                      "{\"addKey\":{\"key\":\"greeting\",\"value\":\"aGk=\"}},"
                      "{\"addKey\":{\"key\":\"all\",\"jsonPathExpression\":\"{.user}:{.x}:{.greeting}\"}},"
                      "{\"removeKey\":{\"key\":\"x\"}},{\"renameKey\":{\"from\":\"user\",\"to\":\"u\"}}]",
                      "{\"greeting\":\"aGk=\",\"all\":\"b3RoZXI6eHl6Omhp\",\"u\":\"b3RoZXI=\"}");
}
END_TEST

/* ---- errors ---- */

static const struct {
        const char *creds, *transforms;
        int code;
        const char *message;
} errors[] = {
        {"[1]", NULL, OSB_E_BAD_REQUEST, "credentials must be a JSON object, not an array"},
        {"{}", "{}", OSB_E_BAD_REQUEST, "spec.secretTransforms must be an array, not an object"},
        {"{}", "[7]", OSB_E_BAD_REQUEST, "spec.secretTransforms[0] must be an object, not an integer"},
        {"{}", "[{}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0]: empty; expected one of renameKey, addKey, addKeysFrom or removeKey"},
        {"{}", "[{\"removeKey\":{\"key\":\"a\"}},{\"addkey\":{}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[1]: unknown transform 'addkey' (expected renameKey, addKey, addKeysFrom or "
         "removeKey)"},
        {"{}", "[{\"removeKey\":{\"key\":\"a\"},\"addKey\":{\"key\":\"b\",\"value\":\"\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0]: has both removeKey and addKey; each entry holds one transform"},
        {"{}", "[{\"removeKey\":[]}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].removeKey must be an object, not an array"},
        {"{}", "[{\"removeKey\":{}}]", OSB_E_BAD_REQUEST, "spec.secretTransforms[0].removeKey.key is required"},
        {"{}", "[{\"renameKey\":{\"to\":\"b\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].renameKey.from is required"},
        {"{}", "[{\"renameKey\":{\"from\":\"a\",\"to\":1}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].renameKey.to must be a string, not an integer"},
        {"{}", "[{\"renameKey\":{\"from\":\"a\",\"to\":\"b c\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].renameKey.to: 'b c' is not a valid Secret key"},
        {"{}", "[{\"addKey\":{\"value\":\"\"}}]", OSB_E_BAD_REQUEST, "spec.secretTransforms[0].addKey.key is required"},
        {"{}", "[{\"addKey\":{\"key\":\"..\",\"value\":\"\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.key: '..' is not a valid Secret key"},
        {"{}", "[{\"addKey\":{\"key\":\"k\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey: one of jsonPathExpression, stringValue or value is required"},
        {"{}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"aGk\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.value: not valid base64 at offset 3"},
        {"{}", "[{\"addKey\":{\"key\":\"k\",\"value\":\"a!k=\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.value: not valid base64 at offset 1"},
        {"{}", "[{\"addKey\":{\"key\":\"k\",\"stringValue\":false}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.stringValue must be a string, not a boolean"},
        {"{}", "[{\"addKey\":{\"key\":\"k\",\"jsonPathExpression\":\"{.a}\",\"value\":7}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.value must be a string, not an integer"},
        {"{\"a\":1}",
         "[{\"removeKey\":{\"key\":\"x\"}},{\"removeKey\":{\"key\":\"y\"}},"
         "{\"addKey\":{\"key\":\"k\",\"jsonPathExpression\":\"{.nope}\"}}]",
         OSB_E_BAD_REQUEST,
         "spec.secretTransforms[2].addKey.jsonPathExpression: '{.nope}' matches nothing in the credentials"},
        {"{\"a\":1}", "[{\"addKey\":{\"key\":\"k\",\"jsonPathExpression\":\"{.a\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.jsonPathExpression: invalid JSONPath '{.a': unclosed '{' at offset 0"},
        {"{}", "[{\"addKeysFrom\":{}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom.secretRef is required"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"namespace\":\"team\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom.secretRef.name is required"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom.secretRef.name must not be empty"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"x\",\"namespace\":1}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom.secretRef.namespace must be a string, not an integer"},
        {"{}", "[{\"removeKey\":{\"key\":\"x\"}},{\"addKeysFrom\":{\"secretRef\":{\"name\":\"missing\"}}}]",
         OSB_E_NOT_FOUND, "spec.secretTransforms[1].addKeysFrom: Secret team/missing not found"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"broken\",\"namespace\":\"ops\"}}}]", -EIO,
         "spec.secretTransforms[0].addKeysFrom: cannot read Secret ops/broken (EIO)"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"array\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom: Secret team/array: data must be an object, not an array"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"number\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom: Secret team/number key 'k' must be a base64 string, not an integer"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"badb64\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom: Secret team/badb64 key 'k': not valid base64 at offset 1"},
        {"{}", "[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"badkey\"}}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKeysFrom: Secret team/badkey key 'a b' is not a valid Secret key"},
        {"{\"a b\":1}", "[{\"removeKey\":{\"key\":\"a\"}}]", OSB_E_BAD_REQUEST,
         "credentials key 1 of 1 (3 bytes) is not a valid Secret key (1 to 253 of [-._a-zA-Z0-9], not '.' or '..')"},
        {"{\"a\":1}", "[{\"addKey\":{\"key\":\"k\",\"jsonPathExpression\":\"{.a}{.a[\"}}]", OSB_E_BAD_REQUEST,
         "spec.secretTransforms[0].addKey.jsonPathExpression: invalid JSONPath '{.a}{.a[': expected an index, '*' "
         "or a quoted name at offset 8"},
};

START_TEST(errors_name_the_json_path)
{
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        int r = run(errors[_i].creds, errors[_i].transforms, &data, &err);
        ck_assert_msg(r == errors[_i].code, "r=%d (%s), want %d", r, err.text, errors[_i].code);
        ck_assert_int_eq(err.code, errors[_i].code);
        ck_assert_str_eq(err.text, errors[_i].message);
        ck_assert_ptr_eq(data, UNTOUCHED);
}
END_TEST

START_TEST(add_keys_from_without_a_reader_is_einval)
{
        json_t *t = parse("[{\"addKeysFrom\":{\"secretRef\":{\"name\":\"extra\"}}}]");
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(credentials_to_secret_data(NULL, t, "team", NULL, NULL, &data, &err), -EINVAL);
        ck_assert_str_eq(err.text, "spec.secretTransforms[0].addKeysFrom: reading other Secrets is not available");
        ck_assert_ptr_eq(data, UNTOUCHED);
        json_decref(t);
}
END_TEST

START_TEST(bytes_cannot_be_dumped_inside_json)
{
        /* A jsonPath of the whole credentials after 0xff bytes were added: not JSON. */
        json_t *data = UNTOUCHED;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(run("{}",
                             "[{\"addKey\":{\"key\":\"b\",\"value\":\"/w==\"}},"
                             "{\"addKey\":{\"key\":\"all\",\"jsonPathExpression\":\"{$}\"}}]",
                             &data, &err),
                         OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "spec.secretTransforms[1].addKey.jsonPathExpression: '{$}' selects bytes that are "
                                   "not UTF-8, which cannot be written as JSON");
        ck_assert_ptr_eq(data, UNTOUCHED);
        /* The same bytes selected alone are fine: they stay as given. */
        assert_secret("{}",
                      "[{\"addKey\":{\"key\":\"b\",\"value\":\"/w==\"}},"
                      "{\"addKey\":{\"key\":\"c\",\"jsonPathExpression\":\"{.b}\"}}]",
                      "{\"b\":\"/w==\",\"c\":\"/w==\"}");
}
END_TEST

/* ---- JSONPath ---- */

static const char doc_text[] =
        "{\"user\":\"admin\",\"host\":\"db.example\",\"port\":5432,\"tls\":true,\"opt\":null,"
        "\"a\":{\"b\":{\"c\":\"deep\"},\"list\":[{\"b\":\"first\"},{\"b\":\"second\"}],\"x-y\":\"dash\","
        "\"k.dot\":\"dotted\",\"q'uote\":\"quoted\"},"
        "\"uni\":\"\\u00e9\\u20ac\",\"arr\":[1,\"two\",{\"three\":3}]}";

static const struct {
        const char *expr, *want;
} paths[] = {
        {"{.user}", "admin"},
        {"{.a.b.c}", "deep"},
        {"{.a.list[0].b}", "first"},
        {"{.a.list[1].b}", "second"},
        {"{.a.list[-1].b}", "second"},
        {"{.a.list[-2].b}", "first"},
        {"{.a['x-y']}", "dash"},
        {"{.a[\"x-y\"]}", "dash"},
        {"{.a[ 'x-y' ]}", "dash"},
        {"{.a.x-y}", "dash"},
        {"{.a.k\\.dot}", "dotted"},
        {"{.a['k.dot']}", "dotted"},
        {"{.a['q\\'uote']}", "quoted"},
        {"{['user']}", "admin"},
        {"{$.user}", "admin"},
        {"{$['a']['b']['c']}", "deep"},
        {".a.b.c", "deep"},
        {"$.port", "5432"},
        {"{ .user }", "admin"},
        {"postgres://{.user}@{.host}:{.port}/db", "postgres://admin@db.example:5432/db"},
        {"{.user}{.host}", "admindb.example"},
        {"{.port}", "5432"},
        {"{.tls}", "true"},
        {"{.opt}", "null"},
        {"{.a.b}", "{\"c\":\"deep\"}"},
        {"{.arr}", "[1,\"two\",{\"three\":3}]"},
        {"{.arr[2]}", "{\"three\":3}"},
        {"{.arr[*]}", "1 two {\"three\":3}"},
        {"{.a.list[*].b}", "first second"},
        {"{.a.list.*.b}", "first second"},
        {"{.a.b.*}", "deep"},
        {"{.uni}", "\xc3\xa9\xe2\x82\xac"},
        {"plain text", "plain text"},
        {"", ""},
        {"a}b", "a}b"},
        {"{'{'}{.user}{\"}\"}", "{admin}"},
        {"{\"tab\\there\"}", "tab\there"},
};

START_TEST(jsonpath_selects)
{
        json_t *doc = parse(doc_text);
        char *got = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = credentials_jsonpath(doc, paths[_i].expr, &got, &err);
        ck_assert_msg(r == 0, "%s: r=%d (%s)", paths[_i].expr, r, err.text);
        ck_assert_str_eq(got, paths[_i].want);
        osb_free(got);
        json_decref(doc);
}
END_TEST

START_TEST(jsonpath_root_is_the_whole_document)
{
        json_t *doc = parse("{\"b\":1,\"a\":[true]}");
        static const char *const roots[] = {"{.}", "{$}", "$", "."};
        for (size_t i = 0; i < OSB_ELEMENTSOF(roots); i++) {
                char *got = NULL;
                ck_assert_int_eq(credentials_jsonpath(doc, roots[i], &got, NULL), 0);
                ck_assert_str_eq(got, "{\"b\":1,\"a\":[true]}");
                osb_free(got);
        }
        json_decref(doc);
}
END_TEST

static const struct {
        const char *expr;
        int code;
        const char *message;
} path_errors[] = {
        {"{.nope}", OSB_E_NOT_FOUND, "'{.nope}' matches nothing"},
        {"a{.user}b{.nope}c{.nope2}", OSB_E_NOT_FOUND, "'{.nope}' matches nothing"},
        {"{.a.list[5]}", OSB_E_NOT_FOUND, "'{.a.list[5]}' matches nothing"},
        {"{.a.list[-3]}", OSB_E_NOT_FOUND, "'{.a.list[-3]}' matches nothing"},
        {"{.user.x}", OSB_E_NOT_FOUND, "'{.user.x}' matches nothing"},
        {"{.user[0]}", OSB_E_NOT_FOUND, "'{.user[0]}' matches nothing"},
        {"{.a[0]}", OSB_E_NOT_FOUND, "'{.a[0]}' matches nothing"},
        {"{.port[*]}", OSB_E_NOT_FOUND, "'{.port[*]}' matches nothing"},
        {".nope", OSB_E_NOT_FOUND, "'.nope' matches nothing"},
        /* A syntax error anywhere wins over a missing key before it. */
        {"{.nope}{.a", -EINVAL, "invalid JSONPath '{.nope}{.a': unclosed '{' at offset 7"},
        {"{", -EINVAL, "invalid JSONPath '{': unclosed '{' at offset 0"},
        {"{.a..b}", -EINVAL, "invalid JSONPath '{.a..b}': recursive descent '..' is not supported at offset 3"},
        {"{..a}", -EINVAL, "invalid JSONPath '{..a}': recursive descent '..' is not supported at offset 1"},
        {"{.a[?(@.b)]}", -EINVAL, "invalid JSONPath '{.a[?(@.b)]}': filters are not supported at offset 4"},
        {"{.a[0:1]}", -EINVAL, "invalid JSONPath '{.a[0:1]}': slices are not supported at offset 5"},
        {"{.a[:1]}", -EINVAL, "invalid JSONPath '{.a[:1]}': slices are not supported at offset 4"},
        {"{.a['x','y']}", -EINVAL, "invalid JSONPath '{.a['x','y']}': unions are not supported at offset 7"},
        {"{user}", -EINVAL, "invalid JSONPath '{user}': expected '.', '[' or '$' at offset 1"},
        {"{}", -EINVAL, "invalid JSONPath '{}': empty '{}' at offset 0"},
        {"{ }", -EINVAL, "invalid JSONPath '{ }': empty '{}' at offset 0"},
        {"{.a['x}", -EINVAL, "invalid JSONPath '{.a['x}': unterminated string at offset 4"},
        {"{'x}", -EINVAL, "invalid JSONPath '{'x}': unterminated string at offset 1"},
        {"{'x' .a}", -EINVAL, "invalid JSONPath '{'x' .a}': expected '}' at offset 5"},
        {"{.a[x]}", -EINVAL, "invalid JSONPath '{.a[x]}': expected an index, '*' or a quoted name at offset 4"},
        {"{.a[1}", -EINVAL, "invalid JSONPath '{.a[1}': expected ']' at offset 5"},
        {"{.a[-]}", -EINVAL, "invalid JSONPath '{.a[-]}': expected a digit at offset 5"},
        {"{.a b}", -EINVAL, "invalid JSONPath '{.a b}': expected '}' at offset 4"},
        {"{.a[99999999999999999999]}", -EINVAL,
         "invalid JSONPath '{.a[99999999999999999999]}': index out of range at offset 4"},
        {".a}", -EINVAL, "invalid JSONPath '.a}': unexpected '}' at offset 2"},
        {"$x", -EINVAL, "invalid JSONPath '$x': unexpected 'x' at offset 1"},
        {"{.a[0]\x01}", -EINVAL, "invalid JSONPath '{.a[0]\x01}': unexpected byte 0x01 at offset 6"},
        {"{.a{}", -EINVAL, "invalid JSONPath '{.a{}': unexpected '{' at offset 3"},
        {"{.a,b}", -EINVAL, "invalid JSONPath '{.a,b}': unexpected ',' at offset 3"},
};

START_TEST(jsonpath_errors)
{
        json_t *doc = parse(doc_text);
        char *got = (char *) "untouched";
        struct osb_error err = OSB_ERROR_INIT;
        int r = credentials_jsonpath(doc, path_errors[_i].expr, &got, &err);
        ck_assert_msg(r == path_errors[_i].code, "%s: r=%d (%s)", path_errors[_i].expr, r, err.text);
        ck_assert_str_eq(err.text, path_errors[_i].message);
        ck_assert_str_eq(got, "untouched");
        json_decref(doc);
}
END_TEST

START_TEST(jsonpath_without_a_document_matches_nothing)
{
        char *got = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(credentials_jsonpath(NULL, "{.a}", &got, &err), OSB_E_NOT_FOUND);
        ck_assert_str_eq(err.text, "'{.a}' matches nothing");
        ck_assert_int_eq(credentials_jsonpath(NULL, "text", &got, &err), 0);
        ck_assert_str_eq(got, "text");
        osb_free(got);
}
END_TEST

START_TEST(jsonpath_output_is_bounded)
{
        size_t half = CREDENTIALS_MAX_BYTES / 2 + 1;
        char *big = osb_malloc(half + 1);
        memset(big, 'b', half);
        big[half] = '\0';
        json_t *doc = json_pack("{s:s}", "big", big);
        char *got = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(credentials_jsonpath(doc, "{.big}", &got, &err), 0);
        ck_assert_uint_eq(strlen(got), half);
        osb_free(got);
        got = NULL;
        ck_assert_int_eq(credentials_jsonpath(doc, "{.big}{.big}", &got, &err), -E2BIG);
        ck_assert_str_eq(err.text, "'{.big}{.big}' gives more than 1048576 bytes");
        ck_assert_ptr_null(got);
        json_decref(doc);
        osb_free(big);
}
END_TEST

START_TEST(jsonpath_wildcards_over_shared_values_are_bounded)
{
        /* 1025 references to one array of 1024: [*][*] would select 1049600 values. */
        json_t *inner = json_array(), *outer = json_array();
        for (int i = 0; i < 1024; i++)
                json_array_append_new(inner, json_integer(i));
        for (int i = 0; i < 1025; i++)
                json_array_append(outer, inner);
        char *got = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(credentials_jsonpath(outer, "{[*][*]}", &got, &err), -E2BIG);
        ck_assert_str_eq(err.text, "'{[*][*]}' selects more than 1048576 values");
        ck_assert_ptr_null(got);
        ck_assert_int_eq(credentials_jsonpath(outer, "{[1024][1023]}", &got, &err), 0);
        ck_assert_str_eq(got, "1023");
        osb_free(got);
        json_decref(inner);
        json_decref(outer);
}
END_TEST

/* ---- allocation failures ---- */

/* ---- the layout: secretKey, secretRootKey, instance keys, template, servicebinding.io ---- */

static const char shape_creds[] = "{\"user\":\"admin\",\"password\":\"pw\",\"port\":5432}";
static const char shape_instance[] =
        "{\"instance_guid\":\"ig\",\"instance_name\":\"db\",\"plan\":\"small\",\"type\":\"pg\",\"label\":\"pg\","
        "\"tags\":[\"sql\",\"pg\"]}";

/* Asserts @data (Secret.data) decodes to exactly the strings of @want (a JSON object). */
static void assert_plain(const json_t *data, const char *want)
{
        json_t *plain = json_object();
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *) data, k, v) {
                char *bytes = NULL;
                size_t n = 0;
                ck_assert_int_eq(osb_base64_decode(json_string_value(v), json_string_length(v), OSB_BASE64_STRICT,
                                                   &bytes, &n, NULL), 0);
                json_object_set_new(plain, k, json_stringn(bytes, n));
                osb_free(bytes);
        }
        json_t *w = parse(want);
        char *g = json_dumps(plain, JSON_COMPACT | JSON_SORT_KEYS);
        ck_assert_msg(json_equal(plain, w), "got %s, want %s", g, want);
        osb_free(g);
        json_decref(w);
        json_decref(plain);
}

/* Builds with the spec @spec_text (a JSON object) and returns 0 or the error, *s filled. */
static int build(const char *spec_text, struct credentials_secret *s, struct osb_error *err)
{
        json_t *creds = parse(shape_creds), *inst = parse(shape_instance), *spec = parse(spec_text);
        struct credentials_shape sh;
        int r = credentials_shape_from_spec(spec, inst, "postgresql", "bindery", &sh, err);
        if (r == 0)
                r = credentials_secret_build(creds, &sh, "team", NULL, NULL, s, err);
        json_decref(creds);
        json_decref(inst);
        json_decref(spec);
        return r;
}

START_TEST(layouts_give_the_documented_keys)
{
        static const struct {
                const char *spec, *want;
        } cases[] = {
                {"{}", "{\"user\":\"admin\",\"password\":\"pw\",\"port\":\"5432\"}"},
                {"{\"secretKey\":\"creds.json\"}", "{\"creds.json\":\"{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432}\"}"},
                {"{\"secretKey\":\"c\",\"secretInstanceMetadata\":true}",
                 "{\"c\":\"{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432}\",\"instance_guid\":\"ig\","
                 "\"instance_name\":\"db\",\"plan\":\"small\",\"type\":\"pg\",\"label\":\"pg\",\"tags\":\"[\\\"sql\\\",\\\"pg\\\"]\"}"},
                {"{\"secretInstanceMetadata\":true}",
                 "{\"user\":\"admin\",\"password\":\"pw\",\"port\":\"5432\",\"instance_guid\":\"ig\",\"instance_name\":\"db\","
                 "\"plan\":\"small\",\"type\":\"pg\",\"label\":\"pg\",\"tags\":\"[\\\"sql\\\",\\\"pg\\\"]\"}"},
                {"{\"secretRootKey\":\"all\"}",
                 "{\"all\":\"{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432,\\\"instance_guid\\\":\\\"ig\\\","
                 "\\\"instance_name\\\":\\\"db\\\",\\\"plan\\\":\\\"small\\\",\\\"type\\\":\\\"pg\\\",\\\"label\\\":\\\"pg\\\","
                 "\\\"tags\\\":[\\\"sql\\\",\\\"pg\\\"]}\"}"},
                {"{\"secretRootKey\":\"all\",\"secretKey\":\"credentials\"}",
                 "{\"all\":\"{\\\"credentials\\\":{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432},"
                 "\\\"instance_guid\\\":\\\"ig\\\",\\\"instance_name\\\":\\\"db\\\",\\\"plan\\\":\\\"small\\\",\\\"type\\\":\\\"pg\\\","
                 "\\\"label\\\":\\\"pg\\\",\\\"tags\\\":[\\\"sql\\\",\\\"pg\\\"]}\"}"},
                /* transforms first, then the layout */
                {"{\"secretKey\":\"c\",\"secretTransforms\":[{\"removeKey\":{\"key\":\"port\"}},"
                 "{\"renameKey\":{\"from\":\"user\",\"to\":\"username\"}}]}",
                 "{\"c\":\"{\\\"password\\\":\\\"pw\\\",\\\"username\\\":\\\"admin\\\"}\"}"},
                /* servicebinding.io: defaults, then the binding's own */
                {"{\"serviceBindingIO\":{}}",
                 "{\"user\":\"admin\",\"password\":\"pw\",\"port\":\"5432\",\"type\":\"postgresql\",\"provider\":\"bindery\"}"},
                {"{\"serviceBindingIO\":{\"type\":\"mysql\",\"provider\":\"me\"},\"secretInstanceMetadata\":true,"
                 "\"secretKey\":\"c\"}",
                 "{\"c\":\"{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432}\",\"instance_guid\":\"ig\","
                 "\"instance_name\":\"db\",\"plan\":\"small\",\"type\":\"mysql\",\"label\":\"pg\",\"tags\":\"[\\\"sql\\\",\\\"pg\\\"]\","
                 "\"provider\":\"me\"}"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                struct credentials_secret s = {0};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_msg(build(cases[i].spec, &s, &err) == 0, "%s: %s", cases[i].spec, err.text);
                assert_plain(s.data, cases[i].want);
                ck_assert_str_eq(s.type, "Opaque");
                ck_assert_ptr_null(s.labels);
                credentials_secret_release(&s);
        }
}
END_TEST

START_TEST(secret_type_servicebinding_io)
{
        struct credentials_secret s = {0};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(build("{\"serviceBindingIO\":{\"secretType\":true}}", &s, &err), 0);
        ck_assert_str_eq(s.type, "servicebinding.io/postgresql");
        credentials_secret_release(&s);
}
END_TEST

START_TEST(template_replaces_data_and_sets_metadata)
{
        struct credentials_secret s = {0};
        struct osb_error err = OSB_ERROR_INIT;
        /* SAP's example, with quote */
        ck_assert_int_eq(build("{\"secretTemplate\":\"apiVersion: v1\\nkind: Secret\\nmetadata:\\n  labels:\\n"
                               "    service_plan: {{ .instance.plan }}\\n  annotations:\\n    instance: {{ .instance.instance_name }}\\n"
                               "stringData:\\n  USERNAME: {{ .credentials.user | quote }}\\n  PORT: {{ .credentials.port }}\\n"
                               "  URI: \\\"pg://{{ .credentials.user }}@h:{{ .credentials.port }}\\\"\\n\","
                               "\"secretKey\":\"ignored\",\"serviceBindingIO\":{}}", &s, &err), 0);
        assert_plain(s.data, "{\"USERNAME\":\"admin\",\"PORT\":\"5432\",\"URI\":\"pg://admin@h:5432\",\"type\":\"postgresql\","
                             "\"provider\":\"bindery\"}");
        assert_json(s.labels, "{\"service_plan\":\"small\"}");
        assert_json(s.annotations, "{\"instance\":\"db\"}");
        ck_assert_str_eq(s.type, "Opaque");
        credentials_secret_release(&s);
        /* without stringData the layout stays; data is base64, stringData over it; type taken */
        ck_assert_int_eq(build("{\"secretTemplate\":\"metadata:\\n  labels: {a: b}\\n\",\"secretKey\":\"c\"}", &s, &err), 0);
        assert_plain(s.data, "{\"c\":\"{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432}\"}");
        assert_json(s.labels, "{\"a\":\"b\"}");
        credentials_secret_release(&s);
        ck_assert_int_eq(build("{\"secretTemplate\":\"type: kubernetes.io/basic-auth\\ndata:\\n  username: {{ base64 .credentials.user }}\\n"
                               "  x: eA==\\nstringData:\\n  x: y\\n\"}", &s, &err), 0);
        assert_plain(s.data, "{\"username\":\"admin\",\"x\":\"y\"}");
        ck_assert_str_eq(s.type, "kubernetes.io/basic-auth");
        credentials_secret_release(&s);
}
END_TEST

START_TEST(layout_errors_never_quote_values)
{
        static const struct {
                const char *spec, *msg;
        } cases[] = {
                {"{\"secretKey\":\"a b\"}", "spec.secretKey: 'a b' is not a valid Secret key"},
                {"{\"secretRootKey\":7}", "spec.secretRootKey must be a string, not an integer"},
                {"{\"secretInstanceMetadata\":\"yes\"}", "spec.secretInstanceMetadata must be a boolean, not a string"},
                {"{\"serviceBindingIO\":{\"type\":1}}", "spec.serviceBindingIO.type must be a string, not an integer"},
                {"{\"secretTemplate\":\"{{ .credentials.nope }}\"}",
                 "spec.secretTemplate: line 1 column 4: '.credentials.nope' has no value (use default or if)"},
                {"{\"secretTemplate\":\"stringData:\\n  p: {{ .credentials.password }}: x\\n\"}",
                 "spec.secretTemplate: the rendered Secret is not valid YAML at line 2 column 8 of the output (use quote for values)"},
                {"{\"secretTemplate\":\"{{ .credentials.password }}: x\\n\"}",
                 "spec.secretTemplate: the rendered Secret has a field other than apiVersion: v1, kind: Secret, "
                 "metadata.labels, metadata.annotations, type, stringData, data"},
                {"{\"secretTemplate\":\"stringData:\\n  '{{ .credentials.password }} x': y\\n\"}",
                 "spec.secretTemplate: a key of stringData or data is not a valid Secret key (1 to 253 of [-._a-zA-Z0-9])"},
                {"{\"secretTemplate\":\"metadata:\\n  name: x\\n\"}",
                 "spec.secretTemplate: metadata may have labels and annotations only (the name is spec.secretName)"},
                {"{\"secretTemplate\":\"kind: ConfigMap\\n\"}",
                 "spec.secretTemplate: the rendered object must be a Secret (apiVersion v1, kind Secret)"},
                {"{\"secretTemplate\":\"stringData:\\n  a: [1]\\n\"}",
                 "spec.secretTemplate: every value of stringData must be a scalar, not an array (use json and quote)"},
                {"{\"secretTemplate\":\"- a\\n\"}", "spec.secretTemplate: the rendered Secret must be a YAML mapping, not an array"},
                {"{\"secretTemplate\":\"data:\\n  a: '{{ .credentials.password }}!'\\n\"}",
                 "spec.secretTemplate: a value of data is not valid base64"},
                {"{\"secretTemplate\":\"metadata:\\n  labels: {a: '{{ .credentials.password }} x'}\\n\"}",
                 "spec.secretTemplate: a value of metadata.labels is not a valid label value (up to 63 of "
                 "[-_.A-Za-z0-9], alphanumeric at both ends)"},
                {"{\"secretTemplate\":\"metadata:\\n  annotations: {'{{ .credentials.password }}_/x': y}\\n\"}",
                 "spec.secretTemplate: a key of metadata.annotations is not a valid Kubernetes name"},
                {"{\"secretTemplate\":\"metadata:\\n  labels: {a: 5}\\n\"}",
                 "spec.secretTemplate: every value of metadata.labels must be a string, not an integer (quote it)"},
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                struct credentials_secret s = {0};
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_msg(build(cases[i].spec, &s, &err) == OSB_E_BAD_REQUEST, "%s", cases[i].spec);
                ck_assert_str_eq(err.text, cases[i].msg);
                ck_assert_ptr_null(s.data);
                ck_assert_ptr_null(strstr(err.text, "pw"));
        }
}
END_TEST

START_TEST(build_every_allocation_failure_is_enomem_or_exact)
{
        static const char spec[] = "{\"secretRootKey\":\"r\",\"secretKey\":\"k\",\"serviceBindingIO\":{\"secretType\":true},"
                                   "\"secretTemplate\":\"metadata:\\n  labels: {p: {{ .instance.plan }}}\\n\"}";
        static const char want[] =
                "{\"r\":\"{\\\"k\\\":{\\\"user\\\":\\\"admin\\\",\\\"password\\\":\\\"pw\\\",\\\"port\\\":5432},"
                "\\\"instance_guid\\\":\\\"ig\\\",\\\"instance_name\\\":\\\"db\\\",\\\"plan\\\":\\\"small\\\",\\\"type\\\":\\\"pg\\\","
                "\\\"label\\\":\\\"pg\\\",\\\"tags\\\":[\\\"sql\\\",\\\"pg\\\"]}\",\"type\":\"postgresql\",\"provider\":\"bindery\"}";
        struct credentials_secret s = {0};
        struct osb_error err = OSB_ERROR_INIT;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(build(spec, &s, &err), 0);
        assert_plain(s.data, want);
        credentials_secret_release(&s);
        json_t *creds = parse(shape_creds), *inst = parse(shape_instance), *sp = parse(spec);
        struct credentials_shape sh;
        ck_assert_int_eq(credentials_shape_from_spec(sp, inst, "postgresql", "bindery", &sh, &err), 0);
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(credentials_secret_build(creds, &sh, "team", NULL, NULL, &s, &err), 0);
        credentials_secret_release(&s);
        size_t n = osb_mem_allocs();
        for (size_t i = 0; i < n; i++) {
                osb_mem_fail_at(i);
                int r = credentials_secret_build(creds, &sh, "team", NULL, NULL, &s, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        assert_plain(s.data, want);
                        ck_assert_str_eq(s.type, "servicebinding.io/postgresql");
                        credentials_secret_release(&s);
                        continue;
                }
                ck_assert_msg(r == -ENOMEM, "allocation %zu: r=%d (%s)", i, r, err.text);
                ck_assert_ptr_null(s.data);
        }
        json_decref(creds);
        json_decref(inst);
        json_decref(sp);
}
END_TEST

static const char fail_creds[] = "{\"user\":\"admin\",\"port\":5432,\"db\":{\"host\":\"h\",\"z\":[1,2]},\"bad key\":1}";
static const char fail_transforms[] =
        "[{\"renameKey\":{\"from\":\"port\",\"to\":\"p\"}},"
        "{\"addKey\":{\"key\":\"uri\",\"jsonPathExpression\":\"pg://{.user}@{.db.host}:{.p}/{.db.z[*]}\"}},"
        "{\"addKey\":{\"key\":\"s\",\"stringValue\":\"str\"}},"
        "{\"addKey\":{\"key\":\"v\",\"value\":\"aGk=\"}},"
        "{\"addKeysFrom\":{\"secretRef\":{\"name\":\"extra\"}}},"
        "{\"removeKey\":{\"key\":\"bad key\"}}]";
/* uri is pg://admin@h:5432/1 2: the jsonPath ran before addKeysFrom replaced user with other;
 * db is {"host":"h","z":[1,2]}. */
static const char fail_want[] =
        "{\"user\":\"b3RoZXI=\",\"db\":\"eyJob3N0IjoiaCIsInoiOlsxLDJdfQ==\",\"p\":\"NTQzMg==\","
        "\"uri\":\"cGc6Ly9hZG1pbkBoOjU0MzIvMSAy\",\"s\":\"c3Ry\",\"v\":\"aGk=\",\"x\":\"eHl6\"}";

START_TEST(every_allocation_failure_is_enomem_or_exact)
{
        json_t *c = parse(fail_creds), *t = parse(fail_transforms);
        struct store st = {0};
        json_t *data = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(credentials_to_secret_data(c, t, "team", get_secret, &st, &data, &err), 0);
        assert_json(data, fail_want);
        json_decref(data);
        size_t n = osb_mem_allocs();
        ck_assert_uint_gt(n, 20);
        for (size_t i = 0; i < n; i++) {
                data = UNTOUCHED;
                osb_mem_fail_at(i);
                int r = credentials_to_secret_data(c, t, "team", get_secret, &st, &data, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        assert_json(data, fail_want);
                        json_decref(data);
                        continue;
                }
                ck_assert_msg(r == -ENOMEM, "allocation %zu: r=%d (%s)", i, r, err.text);
                ck_assert_ptr_eq(data, UNTOUCHED);
        }
        json_decref(c);
        json_decref(t);
}
END_TEST

START_TEST(jsonpath_every_allocation_failure_is_enomem_or_exact)
{
        json_t *doc = parse(doc_text);
        static const char expr[] = "x{.a.list[*].b}|{.arr}|{$['a'].b}|{'lit'}";
        static const char want[] = "xfirst second|[1,\"two\",{\"three\":3}]|{\"c\":\"deep\"}|lit";
        char *got = NULL;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(credentials_jsonpath(doc, expr, &got, NULL), 0);
        ck_assert_str_eq(got, want);
        osb_free(got);
        size_t n = osb_mem_allocs();
        for (size_t i = 0; i < n; i++) {
                got = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                osb_mem_fail_at(i);
                int r = credentials_jsonpath(doc, expr, &got, &err);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        ck_assert_str_eq(got, want);
                        osb_free(got);
                        continue;
                }
                ck_assert_msg(r == -ENOMEM, "allocation %zu: r=%d (%s)", i, r, err.text);
                ck_assert_ptr_null(got);
        }
        json_decref(doc);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller credentials");
        TCase *tc = tcase_create("serialise");
        tcase_add_test(tc, strings_become_their_utf8_bytes);
        tcase_add_test(tc, numbers_booleans_and_null_become_json_text);
        tcase_add_test(tc, reals_are_written_in_their_shortest_round_trip_form);
        tcase_add_test(tc, objects_and_arrays_are_compact_json_in_broker_order);
        tcase_add_test(tc, no_credentials_and_no_transforms_is_empty_data);
        tcase_add_test(tc, secret_key_rules_are_kubernetes);
        tcase_add_test(tc, key_with_nul_byte_is_invalid);
        tcase_add_test(tc, size_limit_is_one_mebibyte_of_values);
        tcase_add_test(tc, bytes_that_are_not_utf8_stay_as_given);
        suite_add_tcase(s, tc);
        tc = tcase_create("transforms");
        tcase_add_test(tc, rename_key_moves_a_present_key);
        tcase_add_test(tc, add_key_value_string_value_and_jsonpath);
        tcase_add_test(tc, add_key_precedence_is_jsonpath_then_string_then_value);
        tcase_add_test(tc, add_keys_from_copies_every_key_in_the_default_or_named_namespace);
        tcase_add_test(tc, remove_key_removes_a_present_key);
        tcase_add_test(tc, transforms_apply_in_order);
        suite_add_tcase(s, tc);
        tc = tcase_create("errors");
        tcase_add_loop_test(tc, errors_name_the_json_path, 0, (int) OSB_ELEMENTSOF(errors));
        tcase_add_test(tc, add_keys_from_without_a_reader_is_einval);
        tcase_add_test(tc, bytes_cannot_be_dumped_inside_json);
        suite_add_tcase(s, tc);
        tc = tcase_create("jsonpath");
        tcase_add_loop_test(tc, jsonpath_selects, 0, (int) OSB_ELEMENTSOF(paths));
        tcase_add_test(tc, jsonpath_root_is_the_whole_document);
        tcase_add_loop_test(tc, jsonpath_errors, 0, (int) OSB_ELEMENTSOF(path_errors));
        tcase_add_test(tc, jsonpath_without_a_document_matches_nothing);
        tcase_add_test(tc, jsonpath_output_is_bounded);
        tcase_add_test(tc, jsonpath_wildcards_over_shared_values_are_bounded);
        suite_add_tcase(s, tc);
        tc = tcase_create("layout");
        tcase_add_test(tc, layouts_give_the_documented_keys);
        tcase_add_test(tc, secret_type_servicebinding_io);
        tcase_add_test(tc, template_replaces_data_and_sets_metadata);
        tcase_add_test(tc, layout_errors_never_quote_values);
        suite_add_tcase(s, tc);
        tc = tcase_create("oom");
        tcase_add_test(tc, build_every_allocation_failure_is_enomem_or_exact);
        tcase_add_test(tc, every_allocation_failure_is_enomem_or_exact);
        tcase_add_test(tc, jsonpath_every_allocation_failure_is_enomem_or_exact);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
