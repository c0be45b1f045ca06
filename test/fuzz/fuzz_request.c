/* test/fuzz/fuzz_request.c: bytes -> request_parse_provision(), request_parse_update() and
 * request_parse_bind(), the parsers of untrusted request bodies. Each must either fail with
 * OSB_E_BAD_REQUEST (or -ENOMEM) and a message, or return fields that keep their promises:
 * required ids present and non-empty C strings, objects where objects are promised, every
 * pointer borrowed from the body, and a body that dumps and parses back to itself (the broker
 * stores those dumps). */
#include "common/osb_compat.h"

#include "broker/request.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                   \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "fuzz_request: invariant failed: %s\n", #cond); \
                        abort();                                                        \
                }                                                                       \
        } while (0)

static void check_error(int r, const struct osb_error *err)
{
        REQUIRE(r == OSB_E_BAD_REQUEST || r == -ENOMEM);
        REQUIRE(err->code == r);
        REQUIRE(err->text[0] != '\0');
        REQUIRE(memchr(err->text, '\0', sizeof(err->text)) != NULL);
}

/* @s is the string member @key of @body, or (when @key is NULL) borrowed from somewhere in it. */
static void check_id(const json_t *body, const char *key, const char *s, bool required)
{
        if (!s) {
                REQUIRE(!required);
                return;
        }
        REQUIRE(*s != '\0');
        if (key)
                REQUIRE(json_string_value(json_object_get(body, key)) == s);
}

static void check_obj(const json_t *body, const char *key, const json_t *v)
{
        if (!v) {
                const json_t *raw = json_object_get(body, key);
                REQUIRE(!raw || json_is_null(raw));
                return;
        }
        REQUIRE(json_is_object(v));
        REQUIRE(json_object_get(body, key) == v);
}

/* What the broker does with a parsed body: dump it (the stored request key) and read it back. */
static void check_roundtrip(const json_t *body)
{
        REQUIRE(json_is_object(body));
        char *text = osb_json_dump(body, NULL);
        if (!text)
                return;  /* out of memory */
        json_t *back = NULL;
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_json_parse_object(text, strlen(text), &back, &err);
        REQUIRE(r == 0 || r == -ENOMEM);
        if (r == 0)
                REQUIRE(json_equal(back, body));
        json_decref(back);
        osb_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        const char *in = (const char *) data;
        struct osb_error err = OSB_ERROR_INIT;

        struct provision_req p = {0};
        int r = request_parse_provision(in, size, &p, &err);
        if (r < 0) {
                check_error(r, &err);
                REQUIRE(p.body == NULL);
        } else {
                REQUIRE(r == 0);
                check_id(p.body, "service_id", p.service_id, true);
                check_id(p.body, "plan_id", p.plan_id, true);
                check_id(p.body, "organization_guid", p.organization_guid, true);
                check_id(p.body, "space_guid", p.space_guid, true);
                check_obj(p.body, "parameters", p.parameters);
                check_obj(p.body, "context", p.context);
                if (p.maintenance_version)
                        REQUIRE(json_string_value(json_object_get(json_object_get(p.body, "maintenance_info"),
                                                                  "version")) == p.maintenance_version);
                check_roundtrip(p.body);
                provision_req_release(&p);
                REQUIRE(p.body == NULL && p.service_id == NULL);
        }

        struct update_req u = {0};
        err = (struct osb_error) OSB_ERROR_INIT;
        r = request_parse_update(in, size, &u, &err);
        if (r < 0) {
                check_error(r, &err);
                REQUIRE(u.body == NULL);
        } else {
                check_id(u.body, "service_id", u.service_id, true);
                check_id(u.body, "plan_id", u.plan_id, false);
                check_obj(u.body, "parameters", u.parameters);
                check_obj(u.body, "context", u.context);
                check_obj(u.body, "previous_values", u.previous_values);
                check_roundtrip(u.body);
                update_req_release(&u);
        }

        struct bind_req b = {0};
        err = (struct osb_error) OSB_ERROR_INIT;
        r = request_parse_bind(in, size, &b, &err);
        if (r < 0) {
                check_error(r, &err);
                REQUIRE(b.body == NULL);
        } else {
                check_id(b.body, "service_id", b.service_id, true);
                check_id(b.body, "plan_id", b.plan_id, true);
                check_id(b.body, "predecessor_binding_id", b.predecessor_binding_id, false);
                /* app_guid comes from the top level, else from bind_resource. */
                check_id(b.body, NULL, b.app_guid, false);
                if (b.app_guid) {
                        const char *top = json_string_value(json_object_get(b.body, "app_guid"));
                        const char *nested = json_string_value(json_object_get(b.bind_resource, "app_guid"));
                        REQUIRE(b.app_guid == top || (!top && b.app_guid == nested));
                }
                check_obj(b.body, "bind_resource", b.bind_resource);
                check_obj(b.body, "parameters", b.parameters);
                check_obj(b.body, "context", b.context);
                check_roundtrip(b.body);
                bind_req_release(&b);
        }
        return 0;
}
