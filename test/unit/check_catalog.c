/* test/unit/check_catalog.c: loading, validating and serving the catalog (broker/catalog.c).
 * Rule tests start from a minimal valid catalog and change one field. */
#include "common/osb_compat.h"

#include "broker/backend.h"
#include "broker/catalog.h"
#include "common/osb_mem.h"
#include "test/lib/check_main.h"

#define DEMO_DB "5e1d0db0-0000-4000-8000-000000000001"
#define DEMO_QUEUE "5e1d0db0-0000-4000-8000-000000000002"
#define DEMO_SMALL "5e1d0db0-0000-4000-8000-000000000011"
#define DEMO_LARGE "5e1d0db0-0000-4000-8000-000000000012"
#define DEMO_ASYNC "5e1d0db0-0000-4000-8000-000000000013"
#define DEMO_STANDARD "5e1d0db0-0000-4000-8000-000000000021"
#define DEMO_FAILS "5e1d0db0-0000-4000-8000-000000000022"

static const char minimal[] =
        "{'services':[{'name':'svc','id':'s1','description':'A service','bindable':true,"
        "'plans':[{'id':'p1','name':'plan','description':'A plan'}]}]}";

static char *dq(const char *text)
{
        char *s = osb_strdup(text);
        ck_assert_ptr_nonnull(s);
        for (char *p = s; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return s;
}

static json_t *parse_sq(const char *text)
{
        char *s = dq(text);
        json_error_t jerr;
        json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
        ck_assert_msg(j != NULL, "bad test JSON %s: %s", s, jerr.text);
        osb_free(s);
        return j;
}

/* Loads JSON text written with single quotes, as source "t.json". */
static int load_sq(const char *text, struct catalog **ret, char **errors)
{
        char *s = dq(text);
        int r = catalog_load_buffer(s, strlen(s), "t.json", ret, errors);
        osb_free(s);
        return r;
}

static void expect_valid(const char *text)
{
        struct catalog *c = NULL;
        char *e = NULL;
        int r = load_sq(text, &c, &e);
        ck_assert_msg(r == 0, "refused: %s", e ? e : "(no text)");
        ck_assert_ptr_null(e);
        catalog_free(c);
}

static void expect_invalid(const char *text, const char *want)
{
        struct catalog *c = NULL;
        char *e = NULL;
        int r = load_sq(text, &c, &e);
        ck_assert_msg(r == OSB_E_INVALID_CONFIG, "accepted (r=%d): %s", r, text);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(strstr(e, want) != NULL, "errors\n%s\nlack '%s'", e, want);
        osb_free(e);
}

enum where { ROOT, SVC, PLAN };

/* The minimal catalog with @key of the root, services[0] or services[0].plans[0] set to
 * @value (JSON with single quotes), or removed when @value is NULL. Returns new JSON text. */
static char *mutate(enum where w, const char *key, const char *value)
{
        json_t *doc = parse_sq(minimal);
        json_t *obj = doc;
        if (w != ROOT)
                obj = json_array_get(json_object_get(doc, "services"), 0);
        if (w == PLAN)
                obj = json_array_get(json_object_get(obj, "plans"), 0);
        if (value)
                json_object_set_new(obj, key, parse_sq(value));
        else
                json_object_del(obj, key);
        char *s = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        return s;
}

#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16
static const char long256[] = "'" A64 A64 A64 A64 "'";

static const struct rule_case {
        enum where w;
        const char *key;
        const char *value; /* NULL: remove the key */
        const char *want;  /* must appear in the error text */
} rules[] = {
        {ROOT, "services", NULL, "t.json: services: is required"},
        {ROOT, "services", "{}", "t.json: services: must be an array, not an object"},
        {ROOT, "services", "null", "t.json: services: must be an array, not null"},
        {SVC, "name", NULL, "t.json: services[0].name: is required"},
        {SVC, "name", "''", "t.json: services[0].name: must not be empty"},
        {SVC, "name", "5", "t.json: services[0].name: must be a string, not an integer"},
        {SVC, "name", "'my db'", "t.json: services[0].name: 'my db' is not CLI-friendly"},
        {SVC, "name", "'my_db'", "t.json: services[0].name: 'my_db' is not CLI-friendly"},
        {SVC, "name", "'-db'", "t.json: services[0].name: '-db' is not CLI-friendly"},
        {SVC, "name", long256, "t.json: services[0].name: is 256 characters long; at most 255"},
        {SVC, "id", NULL, "t.json: services[0].id: is required"},
        {SVC, "id", "''", "t.json: services[0].id: must not be empty"},
        {SVC, "id", "[]", "t.json: services[0].id: must be a string, not an array"},
        {SVC, "description", NULL, "t.json: services[0].description: is required"},
        {SVC, "description", "''", "t.json: services[0].description: must not be empty"},
        {SVC, "description", long256, "t.json: services[0].description: is 256 characters long"},
        {SVC, "bindable", NULL, "t.json: services[0].bindable: is required"},
        {SVC, "bindable", "'true'", "t.json: services[0].bindable: must be a boolean, not a string"},
        {SVC, "bindable", "null", "t.json: services[0].bindable: must be a boolean, not null"},
        {SVC, "plans", NULL, "t.json: services[0].plans: is required"},
        {SVC, "plans", "[]", "t.json: services[0].plans: must list at least one plan"},
        {SVC, "plans", "{}", "t.json: services[0].plans: must be an array, not an object"},
        {SVC, "plans", "[3]", "t.json: services[0].plans[0]: must be an object, not an integer"},
        {SVC, "tags", "'db'", "t.json: services[0].tags: must be an array, not a string"},
        {SVC, "tags", "['a', 1]", "t.json: services[0].tags[1]: must be a string, not an integer"},
        {SVC, "tags", "null", "t.json: services[0].tags: is null; omit optional fields instead of null"},
        {SVC, "requires", "['syslog_drain', 'volume']", "t.json: services[0].requires[1]: must be one of"},
        {SVC, "requires", "[1]", "t.json: services[0].requires[0]: must be one of"},
        {SVC, "requires", "'volume_mount'", "t.json: services[0].requires: must be an array"},
        {SVC, "instances_retrievable", "'yes'", "t.json: services[0].instances_retrievable: must be a boolean"},
        {SVC, "bindings_retrievable", "1", "t.json: services[0].bindings_retrievable: must be a boolean"},
        {SVC, "allow_context_updates", "{}", "t.json: services[0].allow_context_updates: must be a boolean"},
        {SVC, "plan_updateable", "'no'", "t.json: services[0].plan_updateable: must be a boolean"},
        {SVC, "plan_updateable", "null", "t.json: services[0].plan_updateable: is null; omit optional fields"},
        {SVC, "metadata", "[]", "t.json: services[0].metadata: must be an object, not an array"},
        {SVC, "metadata", "null", "t.json: services[0].metadata: is null; omit optional fields instead of null"},
        {SVC, "dashboard_client", "'x'", "t.json: services[0].dashboard_client: must be an object"},
        {SVC, "dashboard_client", "null", "t.json: services[0].dashboard_client: is null; omit"},
        {SVC, "dashboard_client", "{'secret':'s'}", "t.json: services[0].dashboard_client.id: is required"},
        {SVC, "dashboard_client", "{'id':'i'}", "t.json: services[0].dashboard_client.secret: is required"},
        {SVC, "dashboard_client", "{'id':'i','secret':'s','redirect_uri':5}",
         "t.json: services[0].dashboard_client.redirect_uri: must be a string"},
        {SVC, "x-bindery-backend", "'static'", "t.json: services[0].x-bindery-backend: must be an object"},
        {SVC, "x-bindery-backend", "null", "t.json: services[0].x-bindery-backend: is null"},
        {SVC, "x-bindery-backend", "{}", "t.json: services[0].x-bindery-backend.type: is required"},
        {SVC, "x-bindery-backend", "{'type':''}", "t.json: services[0].x-bindery-backend.type: must not be empty"},
        {PLAN, "id", NULL, "t.json: services[0].plans[0].id: is required"},
        {PLAN, "id", "''", "t.json: services[0].plans[0].id: must not be empty"},
        {PLAN, "id", "7", "t.json: services[0].plans[0].id: must be a string, not an integer"},
        {PLAN, "name", NULL, "t.json: services[0].plans[0].name: is required"},
        {PLAN, "name", "''", "t.json: services[0].plans[0].name: must not be empty"},
        {PLAN, "name", "'big plan'", "t.json: services[0].plans[0].name: 'big plan' is not CLI-friendly"},
        {PLAN, "name", "'caf\xc3\xa9'", "t.json: services[0].plans[0].name: 'caf\xc3\xa9' is not CLI-friendly"},
        {PLAN, "name", long256, "t.json: services[0].plans[0].name: is 256 characters long"},
        {PLAN, "description", NULL, "t.json: services[0].plans[0].description: is required"},
        {PLAN, "description", "''", "t.json: services[0].plans[0].description: must not be empty"},
        {PLAN, "description", long256, "t.json: services[0].plans[0].description: is 256 characters long"},
        {PLAN, "free", "'no'", "t.json: services[0].plans[0].free: must be a boolean, not a string"},
        {PLAN, "free", "null", "t.json: services[0].plans[0].free: is null; omit optional fields instead of null"},
        {PLAN, "bindable", "0", "t.json: services[0].plans[0].bindable: must be a boolean"},
        {PLAN, "plan_updateable", "[]", "t.json: services[0].plans[0].plan_updateable: must be a boolean"},
        {PLAN, "binding_rotatable", "'true'", "t.json: services[0].plans[0].binding_rotatable: must be a boolean"},
        {PLAN, "metadata", "1", "t.json: services[0].plans[0].metadata: must be an object, not an integer"},
        {PLAN, "maximum_polling_duration", "0", "t.json: services[0].plans[0].maximum_polling_duration: must be a positive"},
        {PLAN, "maximum_polling_duration", "-5", "t.json: services[0].plans[0].maximum_polling_duration: must be a positive"},
        {PLAN, "maximum_polling_duration", "1.5", "t.json: services[0].plans[0].maximum_polling_duration: must be an integer, not a number"},
        {PLAN, "maximum_polling_duration", "'60'", "t.json: services[0].plans[0].maximum_polling_duration: must be an integer, not a string"},
        {PLAN, "maintenance_info", "'1.0.0'", "t.json: services[0].plans[0].maintenance_info: must be an object"},
        {PLAN, "maintenance_info", "null", "t.json: services[0].plans[0].maintenance_info: is null"},
        {PLAN, "maintenance_info", "{}", "t.json: services[0].plans[0].maintenance_info.version: is required"},
        {PLAN, "maintenance_info", "{'version':1}", "t.json: services[0].plans[0].maintenance_info.version: must be a string"},
        {PLAN, "maintenance_info", "{'version':'1.0'}", "t.json: services[0].plans[0].maintenance_info.version: '1.0' is not a SemVer 2.0.0 version"},
        {PLAN, "maintenance_info", "{'version':'01.0.0'}", "t.json: services[0].plans[0].maintenance_info.version: '01.0.0' is not a SemVer"},
        {PLAN, "maintenance_info", "{'version':'1.0.0','description':7}",
         "t.json: services[0].plans[0].maintenance_info.description: must be a string"},
        {PLAN, "maintenance_info", "{'version':'1.0.0','description':null}",
         "t.json: services[0].plans[0].maintenance_info.description: is null"},
        {PLAN, "schemas", "[]", "t.json: services[0].plans[0].schemas: must be an object, not an array"},
        {PLAN, "schemas", "{'service_instance':'x'}", "t.json: services[0].plans[0].schemas.service_instance: must be an object"},
        {PLAN, "schemas", "{'service_instance':null}", "t.json: services[0].plans[0].schemas.service_instance: is null"},
        {PLAN, "schemas", "{'service_binding':{'create':[]}}", "t.json: services[0].plans[0].schemas.service_binding.create: must be an object"},
        {PLAN, "schemas", "{'service_instance':{'create':{'parameters':{'type':'object'}}}}",
         "t.json: services[0].plans[0].schemas.service_instance.create.parameters.$schema: is required"},
        {PLAN, "schemas", "{'service_instance':{'update':{'parameters':{'$schema':'x','properties':{'a':{'$ref':'http://e.com/s'}}}}}}",
         "t.json: services[0].plans[0].schemas.service_instance.update.parameters.properties.a.$ref: 'http://e.com/s' leaves the document"},
        {PLAN, "schemas", "{'service_binding':{'create':{'parameters':'x'}}}",
         "t.json: services[0].plans[0].schemas.service_binding.create.parameters: must be a JSON Schema object"},
        {PLAN, "schemas", "{'service_binding':{'create':{'parameters':null}}}",
         "t.json: services[0].plans[0].schemas.service_binding.create.parameters: is null"},
        {PLAN, "x-bindery-backend", "[]", "t.json: services[0].plans[0].x-bindery-backend: must be an object, not an array"},
        {PLAN, "x-bindery-backend", "{'type':3}", "t.json: services[0].plans[0].x-bindery-backend.type: must be a string"},
        {PLAN, "x-bindery-backend", "{'credentials':{}}", "t.json: services[0].plans[0].x-bindery-backend.type: is required"},
};

START_TEST(validation_rule_names_the_path)
{
        const struct rule_case *rc = &rules[_i];
        char *text = mutate(rc->w, rc->key, rc->value);
        struct catalog *c = NULL;
        char *e = NULL;
        int r = catalog_load_buffer(text, strlen(text), "t.json", &c, &e);
        ck_assert_msg(r == OSB_E_INVALID_CONFIG, "case %d accepted: %s", _i, text);
        ck_assert_ptr_null(c);
        ck_assert_msg(e && strstr(e, rc->want), "case %d: errors\n%s\nlack '%s'", _i, e, rc->want);
        osb_free(e);
        osb_free(text);
}
END_TEST

START_TEST(minimal_catalog_is_valid)
{
        expect_valid(minimal);
        expect_valid("{'services':[]}");
        /* Unknown fields are extensions: allowed and served. */
        expect_valid("{'services':[],'extension':1}");
}
END_TEST

START_TEST(root_must_be_an_object)
{
        expect_invalid("[]", "t.json: the catalog must be a JSON object with a \"services\" array, not an array");
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_buffer("- a\n- b\n", 8, "t.yaml", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, "t.yaml: the catalog must be a JSON object"));
        osb_free(e);
        e = NULL;
        ck_assert_int_eq(catalog_load_buffer("", 0, "empty.yaml", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, "empty.yaml: the catalog must be a JSON object"));
        ck_assert_ptr_null(c);
        osb_free(e);
        ck_assert_int_eq(catalog_load_buffer(NULL, 0, "null", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, "null: the catalog must be a JSON object with a \"services\" array, not null"));
        osb_free(e);
}
END_TEST

START_TEST(demo_catalog_loads)
{
        struct catalog *c = NULL;
        char untouched[] = "untouched";
        char *e = untouched;
        ck_assert_int_eq(catalog_load_demo(&c, &e), 0);
        ck_assert_ptr_eq(e, untouched); /* written only on failure */
        ck_assert_str_eq(c->source, "built-in demo catalog");
        ck_assert_uint_eq(c->n_services, 2);

        const struct catalog_service *db = catalog_find_service(c, DEMO_DB);
        ck_assert_ptr_nonnull(db);
        ck_assert_str_eq(db->name, "bindery-demo-db");
        ck_assert(db->bindable && db->plan_updateable && db->instances_retrievable && db->bindings_retrievable);
        ck_assert(!db->allow_context_updates);
        ck_assert_uint_eq(db->n_plans, 3);

        const struct catalog_plan *small = catalog_find_plan(c, DEMO_SMALL);
        ck_assert_str_eq(small->name, "small");
        ck_assert_ptr_eq(small->service, db);
        ck_assert(small->free && small->bindable && small->plan_updateable && !small->binding_rotatable);
        ck_assert_int_eq(small->maximum_polling_duration, -1);
        ck_assert_ptr_null(small->maintenance_version);
        ck_assert_ptr_null(small->schema_create);
        ck_assert_str_eq(json_string_value(json_object_get(small->backend, "type")), "static");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(small->backend, "credentials"), "password")),
                         "demo-{binding_id}");
        ck_assert_str_eq(small->backend_path, "services[0].plans[0].x-bindery-backend");

        const struct catalog_plan *large = catalog_find_plan(c, DEMO_LARGE);
        ck_assert(!large->free);
        ck_assert_str_eq(large->maintenance_version, "1.0.0");
        ck_assert_ptr_nonnull(large->schema_create);
        ck_assert_ptr_nonnull(large->schema_update);
        ck_assert_ptr_null(large->schema_bind);
        ck_assert_str_eq(json_string_value(json_object_get(large->backend, "async")), "optional");
        ck_assert_str_eq(json_string_value(json_object_get(large->backend, "delay")), "2s");

        const struct catalog_plan *async = catalog_find_plan(c, DEMO_ASYNC);
        ck_assert_str_eq(async->name, "async-only");
        ck_assert_str_eq(json_string_value(json_object_get(async->backend, "async")), "required");
        ck_assert_str_eq(json_string_value(json_object_get(async->backend, "bind_async")), "optional");

        const struct catalog_service *queue = catalog_find_service(c, DEMO_QUEUE);
        ck_assert_str_eq(queue->name, "bindery-demo-queue");
        ck_assert(queue->bindable && !queue->plan_updateable);
        ck_assert_str_eq(catalog_find_plan(c, DEMO_STANDARD)->name, "standard");
        const struct catalog_plan *fails = catalog_find_plan(c, DEMO_FAILS);
        ck_assert_str_eq(fails->name, "always-fails");
        ck_assert_ptr_eq(fails->service, queue);
        ck_assert(!fails->plan_updateable);
        ck_assert_str_eq(json_string_value(json_object_get(fails->backend, "fail_message")),
                         "the demo plan always-fails fails on purpose");
        ck_assert_uint_eq(json_array_size(json_object_get(fails->backend, "fail")), 2);

        ck_assert_ptr_null(catalog_find_service(c, DEMO_SMALL));
        ck_assert_ptr_null(catalog_find_plan(c, DEMO_DB));
        ck_assert_ptr_null(catalog_find_plan(c, NULL));
        ck_assert_ptr_null(catalog_find_service(NULL, DEMO_DB));

        /* The served body is valid JSON without any x- key, and the large plan's schema is there. */
        ck_assert_uint_eq(strlen(c->body), c->body_len);
        ck_assert_ptr_null(strstr(c->body, "x-bindery"));
        ck_assert_ptr_null(strstr(c->body, "db.demo.bindery.invalid"));
        ck_assert_ptr_nonnull(strstr(c->body, "\"maintenance_info\":{\"version\":\"1.0.0\""));
        json_error_t jerr;
        json_t *body = json_loads(c->body, 0, &jerr);
        ck_assert_ptr_nonnull(body);
        ck_assert_uint_eq(json_array_size(json_object_get(body, "services")), 2);
        json_decref(body);
        ck_assert_ptr_null(catalog_free(c));
        ck_assert_ptr_null(catalog_free(NULL));
}
END_TEST

START_TEST(x_keys_are_stripped_at_every_depth)
{
        const char *text =
                "{'x-top':1,'services':[{'name':'svc','id':'s1','description':'d','bindable':true,"
                "'x-bindery-backend':{'type':'static'},'x-note':'n',"
                "'metadata':{'a':{'x-deep':{'y':1},'keep':[{'x-in-array':true,'k':1}]},'xylophone':1,'ax-b':2},"
                "'plans':[{'id':'p1','name':'plan','description':'d','x-bindery-backend':{'type':'other','x-k':1},"
                "'schemas':{'service_instance':{'create':{'parameters':{'$schema':'x','x-vendor':true}}}}}]}]}";
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(load_sq(text, &c, &e), 0);
        ck_assert_ptr_null(strstr(c->body, "\"x-"));
        ck_assert_ptr_nonnull(strstr(c->body, "\"xylophone\":1"));
        ck_assert_ptr_nonnull(strstr(c->body, "\"ax-b\":2"));
        ck_assert_ptr_nonnull(strstr(c->body, "\"keep\":[{\"k\":1}]"));
        ck_assert_ptr_nonnull(strstr(c->body, "\"parameters\":{\"$schema\":\"x\"}"));
        /* The document keeps them. */
        ck_assert_ptr_nonnull(json_object_get(c->doc, "x-top"));
        const struct catalog_plan *p = catalog_find_plan(c, "p1");
        ck_assert_str_eq(json_string_value(json_object_get(p->backend, "type")), "other");
        ck_assert_ptr_nonnull(json_object_get(p->backend, "x-k"));
        ck_assert_ptr_nonnull(json_object_get(p->schema_create, "x-vendor"));
        catalog_free(c);
}
END_TEST

START_TEST(body_is_served_as_written)
{
        /* Key order kept, no defaults added, compact, one line. */
        const char *text = "{'services':[{'plans':[{'name':'plan','id':'p1','description':'A plan'}],"
                           "'id':'s1','name':'svc','bindable':false,'description':'A service'}]}";
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(load_sq(text, &c, &e), 0);
        char *want = dq(text);
        ck_assert_int_eq(c->body_len, strlen(want) + 1);
        ck_assert_mem_eq(c->body, want, strlen(want));
        ck_assert_int_eq(c->body[strlen(want)], '\n');
        osb_free(want);
        const struct catalog_plan *p = catalog_find_plan(c, "p1");
        ck_assert(p->free);          /* the default, applied to the struct only */
        ck_assert(!p->bindable);
        ck_assert(!p->plan_updateable);
        catalog_free(c);
}
END_TEST

START_TEST(etag_is_stable_and_tracks_the_body)
{
        struct catalog *a = NULL, *b = NULL, *d = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_demo(&a, &e), 0);
        ck_assert_int_eq(catalog_load_demo(&b, &e), 0);
        ck_assert_str_eq(a->etag, b->etag);
        ck_assert_uint_eq(strlen(a->etag), 18);
        ck_assert_int_eq(a->etag[0], '"');
        ck_assert_int_eq(a->etag[17], '"');
        for (int i = 1; i < 17; i++)
                ck_assert(isxdigit((unsigned char) a->etag[i]));
        /* Only x- keys differ: same body, same ETag. */
        ck_assert_int_eq(load_sq("{'services':[],'x-a':1}", &d, &e), 0);
        struct catalog *f = NULL;
        ck_assert_int_eq(load_sq("{'services':[]}", &f, &e), 0);
        ck_assert_str_eq(d->etag, f->etag);
        ck_assert_str_ne(d->etag, a->etag);
        catalog_free(a);
        catalog_free(b);
        catalog_free(d);
        catalog_free(f);
}
END_TEST

START_TEST(every_problem_is_reported)
{
        struct catalog *c = NULL;
        char *e = NULL;
        int r = load_sq("{'services':[{'name':'a b','id':'s1','bindable':'yes','plans':["
                        "{'id':'p1','name':'x'},{'name':'y','description':'d','free':null}]},"
                        "{'name':'ok','id':'s2','description':'d','bindable':true}]}", &c, &e);
        ck_assert_int_eq(r, OSB_E_INVALID_CONFIG);
        const char *want[] = {
                "t.json: services[0].name: 'a b' is not CLI-friendly",
                "t.json: services[0].description: is required",
                "t.json: services[0].bindable: must be a boolean, not a string",
                "t.json: services[0].plans[0].description: is required",
                "t.json: services[0].plans[1].id: is required",
                "t.json: services[0].plans[1].free: is null; omit optional fields instead of null",
                "t.json: services[1].plans: is required",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(want); i++)
                ck_assert_msg(strstr(e, want[i]), "errors\n%s\nlack '%s'", e, want[i]);
        size_t lines = 1;
        for (const char *p = e; *p; p++)
                lines += *p == '\n';
        ck_assert_uint_eq(lines, OSB_ELEMENTSOF(want));
        ck_assert_int_ne(e[strlen(e) - 1], '\n');
        osb_free(e);
}
END_TEST

START_TEST(error_text_is_bounded)
{
        json_t *doc = json_pack("{s:[]}", "services");
        json_t *svcs = json_object_get(doc, "services");
        for (int i = 0; i < 3000; i++)
                json_array_append_new(svcs, json_pack("{s:s}", "name", "bad name"));
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_buffer(text, strlen(text), "big.json", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_uint_le(strlen(e), 64 * 1024 + 2048);
        ck_assert_ptr_nonnull(strstr(e, "big.json: (more problems not shown)"));
        osb_free(e);
        osb_free(text);
}
END_TEST

START_TEST(duplicate_ids_and_names)
{
        expect_invalid("{'services':["
                       "{'name':'a','id':'same','description':'d','bindable':true,'plans':[{'id':'p1','name':'p','description':'d'}]},"
                       "{'name':'b','id':'same','description':'d','bindable':true,'plans':[{'id':'p2','name':'p','description':'d'}]}]}",
                       "t.json: services[1].id: duplicates the id of services[0] ('same')");
        expect_invalid("{'services':["
                       "{'name':'a','id':'s1','description':'d','bindable':true,'plans':[{'id':'p1','name':'p','description':'d'}]},"
                       "{'name':'b','id':'s2','description':'d','bindable':true,'plans':[{'id':'p2','name':'q','description':'d'},"
                       "{'id':'p1','name':'r','description':'d'}]}]}",
                       "t.json: services[1].plans[1].id: duplicates the id of services[0].plans[0].id ('p1')");
        expect_invalid("{'services':["
                       "{'name':'a','id':'s1','description':'d','bindable':true,'plans':[{'id':'s2','name':'p','description':'d'}]},"
                       "{'name':'b','id':'s2','description':'d','bindable':true,'plans':[{'id':'p2','name':'p','description':'d'}]}]}",
                       "t.json: services[0].plans[0].id: 's2' is also the id of services[1]");
        expect_invalid("{'services':["
                       "{'name':'a','id':'s1','description':'d','bindable':true,'plans':[{'id':'p1','name':'p','description':'d'}]},"
                       "{'name':'a','id':'s2','description':'d','bindable':true,'plans':[{'id':'p2','name':'p','description':'d'}]}]}",
                       "t.json: services[1].name: duplicates the name of services[0].name ('a')");
        expect_invalid("{'services':[{'name':'a','id':'s1','description':'d','bindable':true,'plans':["
                       "{'id':'p1','name':'p','description':'d'},{'id':'p2','name':'p','description':'d'}]}]}",
                       "t.json: services[0].plans[1].name: duplicates the name of services[0].plans[0].name ('p')");
        /* Names are compared case-sensitively; equal plan names in different services are fine. */
        expect_valid("{'services':["
                     "{'name':'a','id':'s1','description':'d','bindable':true,'plans':[{'id':'p1','name':'p','description':'d'}]},"
                     "{'name':'A','id':'s2','description':'d','bindable':true,'plans':[{'id':'p2','name':'p','description':'d'}]}]}");
}
END_TEST

START_TEST(plan_values_override_the_service)
{
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(load_sq("{'services':[{'name':'a','id':'s1','description':'d','bindable':false,"
                                 "'plan_updateable':true,'requires':['volume_mount','route_forwarding'],"
                                 "'plans':[{'id':'p1','name':'p','description':'d','bindable':true,'plan_updateable':false,"
                                 "'binding_rotatable':true,'maximum_polling_duration':600},"
                                 "{'id':'p2','name':'q','description':'d','free':false}]}]}", &c, &e), 0);
        const struct catalog_plan *p1 = catalog_find_plan(c, "p1"), *p2 = catalog_find_plan(c, "p2");
        ck_assert(p1->bindable && !p1->plan_updateable && p1->binding_rotatable);
        ck_assert_int_eq(p1->maximum_polling_duration, 600);
        ck_assert(!p2->bindable && p2->plan_updateable && !p2->free);
        const struct catalog_service *s = catalog_find_service(c, "s1");
        ck_assert(s->requires_volume_mount && s->requires_route_forwarding && !s->requires_syslog_drain);
        catalog_free(c);
}
END_TEST

START_TEST(backend_defaults_and_inheritance)
{
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(load_sq("{'services':["
                                 "{'name':'a','id':'s1','description':'d','bindable':true,"
                                 "'x-bindery-backend':{'type':'svc-level','k':1},"
                                 "'plans':[{'id':'p1','name':'p','description':'d'},"
                                 "{'id':'p2','name':'q','description':'d','x-bindery-backend':{'type':'plan-level'}}]},"
                                 "{'name':'b','id':'s2','description':'d','bindable':true,"
                                 "'plans':[{'id':'p3','name':'p','description':'d'}]}]}", &c, &e), 0);
        const struct catalog_plan *p1 = catalog_find_plan(c, "p1"), *p2 = catalog_find_plan(c, "p2"),
                                  *p3 = catalog_find_plan(c, "p3");
        ck_assert_str_eq(json_string_value(json_object_get(p1->backend, "type")), "svc-level");
        ck_assert_str_eq(p1->backend_path, "services[0].x-bindery-backend");
        ck_assert_str_eq(json_string_value(json_object_get(p2->backend, "type")), "plan-level");
        ck_assert_str_eq(p2->backend_path, "services[0].plans[1].x-bindery-backend");
        ck_assert_str_eq(json_string_value(json_object_get(p3->backend, "type")), "static");
        ck_assert_uint_eq(json_object_size(p3->backend), 1);
        ck_assert_ptr_nonnull(strstr(p3->backend_path, "services[1].plans[0]"));
        ck_assert_ptr_null(p3->backend_state);
        catalog_free(c);
}
END_TEST

START_TEST(semver_is_strict)
{
        static const char *const good[] = {
                "0.0.0", "1.0.0", "10.20.30", "1.1.2-prerelease+meta", "1.1.2+meta", "1.1.2+meta-valid",
                "1.0.0-alpha", "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.beta.1", "1.0.0-alpha.1",
                "1.0.0-alpha0.valid", "1.0.0-alpha.0valid", "1.0.0-rc.1+build.1", "2.0.0-rc.1+build.123",
                "1.2.3-beta", "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123", "2.0.0+build.1848",
                "2.0.1-alpha.1227", "1.0.0-alpha+beta", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
                "1.2.3----R-S.12.9.1--.12+meta", "1.0.0+0.build.1-rc.10000aaa-kk-0.1", "1.0.0-0A.is.legal",
                "99999999999999999999999.999999999999999999.99999999999999999", "1.0.0+001",
        };
        static const char *const bad[] = {
                "", "1", "1.2", "1.2.3.4", "01.1.1", "1.01.1", "1.1.01", "1.2.3-0123", "1.2.3-0123.0123",
                "1.1.2+.123", "+invalid", "-invalid", "-invalid+invalid", "alpha", "1.2.3.DEV",
                "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", "1.2-RC-SNAPSHOT",
                "-1.0.3-gamma+b7718", "+justmeta", "9.8.7+meta+meta", "9.8.7-whatever+meta+meta",
                "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0-a_b", " 1.0.0", "1.0.0 ", "v1.0.0", "1.0.0-\xc3\xa9",
        };
        for (size_t i = 0; i < OSB_ELEMENTSOF(good); i++)
                ck_assert_msg(catalog_semver_valid(good[i]), "refused '%s'", good[i]);
        for (size_t i = 0; i < OSB_ELEMENTSOF(bad); i++)
                ck_assert_msg(!catalog_semver_valid(bad[i]), "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(parse_errors_name_source_and_position)
{
        expect_invalid("{'services': [}", "t.json: line 1 column");
        expect_invalid("{'services': [], 'services': []}", "t.json: line 1 column");
        struct catalog *c = NULL;
        char *e = NULL;
        const char *y = "services:\n  - name: a\n  name: b\n";
        ck_assert_int_eq(catalog_load_buffer(y, strlen(y), "c.yaml", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, "c.yaml: line 3 column 3:"));
        osb_free(e);
}
END_TEST

START_TEST(nesting_is_bounded)
{
        char text[2 * 200 + 64];
        size_t n = (size_t) snprintf(text, sizeof(text), "{\"services\":[],\"m\":");
        for (int i = 0; i < 150; i++)
                text[n++] = '[';
        for (int i = 0; i < 150; i++)
                text[n++] = ']';
        text[n++] = '}';
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_buffer(text, n, "deep.json", &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, "deep.json: the catalog is nested deeper than 128 levels"));
        osb_free(e);
}
END_TEST

static char *data_path(const char *name)
{
        const char *top = getenv("top_srcdir");
        return osb_asprintf("%s/test/unit/data/%s", top ? top : ".", name);
}

START_TEST(yaml_catalog_equals_json_catalog)
{
        char *path = data_path("demo-catalog.yaml");
        struct catalog *y = NULL, *j = NULL;
        char *e = NULL;
        int r = catalog_load_file(path, &y, &e);
        ck_assert_msg(r == 0, "%s", e ? e : "?");
        ck_assert_int_eq(catalog_load_demo(&j, &e), 0);
        ck_assert_str_eq(y->body, j->body);
        ck_assert_str_eq(y->etag, j->etag);
        ck_assert_str_eq(y->source, path);
        ck_assert(json_equal(y->doc, j->doc));
        /* Content sniffing: YAML in a buffer without a name is still YAML. */
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        char buf[16384];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        struct catalog *b = NULL;
        ck_assert_int_eq(catalog_load_buffer(buf, n, "inline", &b, &e), 0);
        ck_assert_str_eq(b->etag, j->etag);
        catalog_free(b);
        catalog_free(y);
        catalog_free(j);
        osb_free(path);
}
END_TEST

static char *temp_file(const char *suffix, const char *content, size_t len)
{
        char *path = osb_asprintf("/tmp/check_catalog_XXXXXX%s", suffix);
        int fd = mkstemps(path, (int) strlen(suffix));
        ck_assert_int_ge(fd, 0);
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, content + off, len - off);
                ck_assert_int_gt(w, 0);
                off += (size_t) w;
        }
        close(fd);
        return path;
}

START_TEST(file_extension_selects_yaml)
{
        /* A flow mapping is JSON-looking, but a .yml file is read as YAML (unquoted keys). */
        const char *text = "{services: []}";
        char *yml = temp_file(".yml", text, strlen(text));
        char *json = temp_file(".json", text, strlen(text));
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_file(yml, &c, &e), 0);
        catalog_free(c);
        c = NULL;
        ck_assert_int_eq(catalog_load_file(json, &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(e, json));
        ck_assert_ptr_nonnull(strstr(e, ": line 1 column"));
        osb_free(e);
        unlink(yml);
        unlink(json);
        osb_free(yml);
        osb_free(json);
}
END_TEST

START_TEST(file_not_found_names_path_and_reason)
{
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_file("/nonexistent/dir/cat.json", &c, &e), -ENOENT);
        ck_assert_ptr_null(c);
        ck_assert_str_eq(e, "/nonexistent/dir/cat.json: cannot open the catalog file: No such file or directory");
        osb_free(e);
        ck_assert_int_eq(catalog_load_file("/", &c, &e), -EISDIR);
        ck_assert_str_eq(e, "/: cannot read the catalog file: Is a directory");
        osb_free(e);
        /* ret_errors may be NULL. */
        ck_assert_int_eq(catalog_load_file("/nonexistent/dir/cat.json", &c, NULL), -ENOENT);
}
END_TEST

START_TEST(files_over_4_mib_are_refused)
{
        size_t len = CATALOG_MAX_BYTES + 1;
        char *big = osb_malloc(len);
        memset(big, ' ', len);
        big[0] = '{';
        char *path = temp_file(".json", big, len);
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_file(path, &c, &e), -EFBIG);
        ck_assert_ptr_nonnull(strstr(e, "is larger than 4 MiB"));
        ck_assert_ptr_nonnull(strstr(e, path));
        osb_free(e);
        ck_assert_int_eq(catalog_load_buffer(big, len, "buf", &c, &e), -EFBIG);
        ck_assert_ptr_nonnull(strstr(e, "buf: is larger than 4 MiB"));
        osb_free(e);
        unlink(path);
        osb_free(path);
        osb_free(big);
}
END_TEST

static void fail_each_allocation(const char *data, size_t len, bool yaml_data)
{
        struct catalog *c = NULL;
        char *e = NULL;
        osb_mem_fail_at(SIZE_MAX);
        int r = data ? catalog_load_buffer(data, len, "t", &c, &e) : catalog_load_demo(&c, &e);
        size_t n = osb_mem_allocs();
        ck_assert_int_eq(r, 0);
        char etag[sizeof(c->etag)];
        memcpy(etag, c->etag, sizeof(etag));
        catalog_free(c);
        ck_assert_uint_gt(n, 100);
        for (size_t i = 0; i < n; i++) {
                c = NULL;
                e = NULL;
                osb_mem_fail_at(i);
                r = data ? catalog_load_buffer(data, len, "t", &c, &e) : catalog_load_demo(&c, &e);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(r == 0 || r == -ENOMEM, "allocation %zu of %zu: r=%d (%s)", i, n, r,
                              e ? e : "");
                if (r == 0) {
                        ck_assert_str_eq(c->etag, etag);
                        catalog_free(c);
                } else {
                        ck_assert_ptr_null(c);
                }
                osb_free(e);
        }
        (void) yaml_data;
}

START_TEST(every_allocation_failure_is_clean)
{
        fail_each_allocation(NULL, 0, false);
}
END_TEST

START_TEST(every_allocation_failure_is_clean_yaml)
{
        char *path = data_path("demo-catalog.yaml");
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        char buf[16384];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        fail_each_allocation(buf, n, true);
        osb_free(path);
}
END_TEST

START_TEST(every_allocation_failure_is_clean_when_invalid)
{
        const char *text = "{\"services\":[{\"name\":\"a b\",\"id\":\"s\",\"plans\":[{\"id\":\"s\"},{}]},{\"id\":\"s\"}]}";
        osb_mem_fail_at(SIZE_MAX);
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_buffer(text, strlen(text), "t", &c, &e), OSB_E_INVALID_CONFIG);
        size_t n = osb_mem_allocs();
        osb_free(e);
        for (size_t i = 0; i < n; i++) {
                e = NULL;
                osb_mem_fail_at(i);
                int r = catalog_load_buffer(text, strlen(text), "t", &c, &e);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(r == OSB_E_INVALID_CONFIG || r == -ENOMEM, "allocation %zu: r=%d", i, r);
                ck_assert_ptr_null(c);
                osb_free(e);
        }
}
END_TEST

/* ---- every mistake at once: structure and backend settings (broker/backend.c) ---- */

/* Structural mistakes in service 0 (so its plan's bad backend is not checked) and in plan 1 of
 * service 1; several backend mistakes in each other plan of service 1. */
static const char several_mistakes[] =
        "{'services':["
        "{'id':'s1','name':'one','description':'d','bindable':'yes','plans':["
        " {'id':'p1','name':'a','description':'d','x-bindery-backend':{'type':'static','async':'sometimes'}}]},"
        "{'id':'s2','name':'two','description':'d','bindable':true,'plans':["
        " {'id':'p2','name':'b','description':'d','x-bindery-backend':{'type':'static','async':'sometimes',"
        "  'delay':'soon','colour':1}},"
        " {'id':'p3','name':'c','x-bindery-backend':{'type':'static','async':'sometimes'}},"
        " {'id':'p4','name':'d','description':'d','x-bindery-backend':{'type':'exec',"
        "  'provision':['no-such-program-i14.sh'],'deprovision':'x','timeout':'x'}},"
        " {'id':'p5','name':'e','description':'d','x-bindery-backend':{'type':'postgresql','port':0,"
        "  'grants':'all'}},"
        " {'id':'p6','name':'f','description':'d','x-bindery-backend':{'type':'mystery'}},"
        " {'id':'p7','name':'g','description':'d','x-bindery-backend':{'type':'static','delay':'2s'}}"
        "]},"
        "{'id':'s3','name':'three','description':'','bindable':false,'plans':[]}"
        "]}";

static size_t count_lines(const char *s)
{
        size_t n = 1;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

START_TEST(every_mistake_is_reported_at_once)
{
        osb_autofree char *text = dq(several_mistakes);
        osb_autofree char *path = temp_file(".json", text, strlen(text));
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(backend_load_catalog(path, &c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(e);
        static const char *const want[] = {
                /* structural, in document order */
                "services[0].bindable: must be a boolean, not a string",
                "services[1].plans[1].description: is required",
                "services[2].description: must not be empty",
                "services[2].plans: must list at least one plan",
                /* then every backend setting of every plan that passed */
                "services[1].plans[0].x-bindery-backend.colour: unknown setting of the static backend",
                "services[1].plans[0].x-bindery-backend.async: must be \"never\", \"optional\" or \"required\"",
                "services[1].plans[0].x-bindery-backend.delay: must be a duration such as \"500ms\" or \"2s\"",
                ("services[1].plans[2].x-bindery-backend.provision: /tmp/no-such-program-i14.sh is not an "
                 "executable file (it does not exist)"),
                "services[1].plans[2].x-bindery-backend.deprovision: must be a non-empty array of strings",
                "services[1].plans[2].x-bindery-backend.bind: is required (the plan is bindable)",
                "services[1].plans[2].x-bindery-backend.unbind: is required (the plan is bindable)",
                "services[1].plans[2].x-bindery-backend.timeout: must be a duration",
                "services[1].plans[3].x-bindery-backend: set exactly one of \"admin_url_file\" and \"admin_url_env\"",
                "services[1].plans[3].x-bindery-backend.port: must be a port number (1-65535)",
                "services[1].plans[3].x-bindery-backend.grants: must be \"readwrite\" or \"readonly\"",
                "services[1].plans[4].x-bindery-backend.type: unknown backend 'mystery'",
        };
        const char *at = e;
        for (size_t i = 0; i < OSB_ELEMENTSOF(want); i++) {
                osb_autofree char *line = osb_asprintf("%s: %s", path, want[i]);
                const char *hit = strstr(at, line);
                ck_assert_msg(hit, "missing (or out of order) '%s' in:\n%s", line, e);
                ck_assert_msg(hit == e || hit[-1] == '\n', "'%s' does not start a line:\n%s", line, e);
                at = hit + strlen(line);
        }
        ck_assert_msg(count_lines(e) == OSB_ELEMENTSOF(want), "%zu lines, want %zu:\n%s", count_lines(e),
                      OSB_ELEMENTSOF(want), e);
        /* The plan of a structurally broken service is not second-guessed. */
        ck_assert_ptr_null(strstr(e, "services[0].plans[0].x-bindery-backend"));
        osb_free(e);
        unlink(path);
}
END_TEST

START_TEST(every_backend_mistake_is_reported_when_the_structure_is_sound)
{
        const char *text = dq("{'services':[{'id':'s','name':'s','description':'d','bindable':false,'plans':["
                              "{'id':'p1','name':'a','description':'d','x-bindery-backend':{'type':'static',"
                              "'retry_after':-1,'fail':['explode'],'requires_app':'no'}},"
                              "{'id':'p2','name':'b','description':'d','x-bindery-backend':{'type':'postgresql',"
                              "'admin_url_env':'1BAD','connection_limit':'many'}}]}]}");
        struct catalog *c = NULL;
        char *e = NULL;
        ck_assert_int_eq(catalog_load_buffer(text, strlen(text), "b.json", &c, &e), 0);
        ck_assert_int_eq(backend_configure_catalog(c, &e), OSB_E_INVALID_CONFIG);
        ck_assert_str_eq(e,
                         "b.json: services[0].plans[0].x-bindery-backend.retry_after: must be a whole number of seconds\n"
                         "b.json: services[0].plans[0].x-bindery-backend.fail[0]: must be one of provision, update, "
                         "deprovision, bind, unbind\n"
                         "b.json: services[0].plans[0].x-bindery-backend.requires_app: must be a boolean\n"
                         "b.json: services[0].plans[1].x-bindery-backend.admin_url_env: must be the name of an "
                         "environment variable\n"
                         "b.json: services[0].plans[1].x-bindery-backend.connection_limit: must be a whole number, "
                         "-1 for unlimited");
        for (size_t i = 0; i < c->n_services; i++)
                for (size_t j = 0; j < c->services[i].n_plans; j++)
                        ck_assert_ptr_null(c->services[i].plans[j].backend_state);
        osb_free(e);
        catalog_free(c);
        osb_free((char *) text);
}
END_TEST

START_TEST(every_allocation_failure_is_clean_with_every_mistake)
{
        osb_autofree char *text = dq(several_mistakes);
        osb_autofree char *path = temp_file(".json", text, strlen(text));
        struct catalog *c = NULL;
        char *e = NULL;
        osb_mem_fail_at(SIZE_MAX);
        ck_assert_int_eq(backend_load_catalog(path, &c, &e), OSB_E_INVALID_CONFIG);
        size_t n = osb_mem_allocs();
        osb_autofree char *full = e;
        for (size_t i = 0; i < n; i++) {
                e = NULL;
                osb_mem_fail_at(i);
                int r = backend_load_catalog(path, &c, &e);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(r == OSB_E_INVALID_CONFIG || r == -ENOMEM, "allocation %zu: r=%d", i, r);
                ck_assert_ptr_null(c);
                /* Out of memory loses lines, never invents them: a complete answer is the full one. */
                if (r == OSB_E_INVALID_CONFIG && e && count_lines(e) == count_lines(full))
                        ck_assert_str_eq(e, full);
                osb_free(e);
        }
        unlink(path);
}
END_TEST

static Suite *catalog_suite(void)
{
        Suite *s = suite_create("catalog");
        TCase *v = tcase_create("validate");
        tcase_add_loop_test(v, validation_rule_names_the_path, 0, (int) OSB_ELEMENTSOF(rules));
        tcase_add_test(v, minimal_catalog_is_valid);
        tcase_add_test(v, root_must_be_an_object);
        tcase_add_test(v, every_problem_is_reported);
        tcase_add_test(v, error_text_is_bounded);
        tcase_add_test(v, duplicate_ids_and_names);
        tcase_add_test(v, semver_is_strict);
        tcase_add_test(v, parse_errors_name_source_and_position);
        tcase_add_test(v, nesting_is_bounded);
        tcase_add_test(v, every_mistake_is_reported_at_once);
        tcase_add_test(v, every_backend_mistake_is_reported_when_the_structure_is_sound);
        suite_add_tcase(s, v);

        TCase *l = tcase_create("load");
        tcase_add_test(l, demo_catalog_loads);
        tcase_add_test(l, x_keys_are_stripped_at_every_depth);
        tcase_add_test(l, body_is_served_as_written);
        tcase_add_test(l, etag_is_stable_and_tracks_the_body);
        tcase_add_test(l, plan_values_override_the_service);
        tcase_add_test(l, backend_defaults_and_inheritance);
        tcase_add_test(l, yaml_catalog_equals_json_catalog);
        tcase_add_test(l, file_extension_selects_yaml);
        tcase_add_test(l, file_not_found_names_path_and_reason);
        tcase_add_test(l, files_over_4_mib_are_refused);
        suite_add_tcase(s, l);

        TCase *m = tcase_create("allocation failures");
        tcase_set_timeout(m, 120);
        tcase_add_test(m, every_allocation_failure_is_clean);
        tcase_add_test(m, every_allocation_failure_is_clean_yaml);
        tcase_add_test(m, every_allocation_failure_is_clean_when_invalid);
        tcase_add_test(m, every_allocation_failure_is_clean_with_every_mistake);
        suite_add_tcase(s, m);
        return s;
}

OSB_CHECK_MAIN(catalog_suite)
