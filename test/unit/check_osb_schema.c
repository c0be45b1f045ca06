/* test/unit/check_osb_schema.c: the JSON Schema subset (common/osb_schema.c). JSON in these tests is
 * written with single quotes, turned into double quotes before parsing. */
#include "common/osb_compat.h"

#include "common/osb_schema.h"
#include "common/osb_mem.h"
#include "test/lib/check_main.h"

static json_t *sq(const char *text)
{
        char *s = osb_strdup(text);
        ck_assert_ptr_nonnull(s);
        for (char *p = s; *p; p++)
                if (*p == '\'')
                        *p = '"';
        json_error_t jerr;
        json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
        ck_assert_msg(j != NULL, "bad test JSON %s: %s", s, jerr.text);
        osb_free(s);
        return j;
}

/* Validates @inst against @schema under root "parameters"; @want NULL means it must pass,
 * else the error must contain @want. */
static void expect(const char *schema, const char *inst, const char *want)
{
        json_t *s = sq(schema), *i = sq(inst);
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_schema_validate(s, i, "parameters", &err);
        if (want) {
                ck_assert_msg(r == OSB_E_BAD_REQUEST, "%s accepted %s", schema, inst);
                ck_assert_int_eq(err.code, OSB_E_BAD_REQUEST);
                ck_assert_msg(strstr(err.text, want) != NULL, "error '%s' lacks '%s'", err.text, want);
        } else {
                ck_assert_msg(r == 0, "%s refused %s: %s", schema, inst, err.text);
        }
        json_decref(s);
        json_decref(i);
}

static void check_ok(const char *schema)
{
        json_t *s = sq(schema);
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_schema_check(s, "plans[0].create", &err);
        ck_assert_msg(r == 0, "schema_check refused %s: %s", schema, err.text);
        json_decref(s);
}

static void check_bad(const char *schema, const char *want)
{
        json_t *s = sq(schema);
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_schema_check(s, "plans[0].create", &err);
        ck_assert_msg(r == OSB_E_INVALID_CONFIG, "schema_check accepted %s", schema);
        ck_assert_int_eq(err.code, OSB_E_INVALID_CONFIG);
        ck_assert_msg(strstr(err.text, want) != NULL, "error '%s' lacks '%s'", err.text, want);
        json_decref(s);
}

START_TEST(type_keyword)
{
        expect("{'type':'object'}", "{}", NULL);
        expect("{'type':'object'}", "[]", "parameters: must be an object, not an array");
        expect("{'type':'array'}", "[1]", NULL);
        expect("{'type':'array'}", "{}", "parameters: must be an array, not an object");
        expect("{'type':'string'}", "'x'", NULL);
        expect("{'type':'string'}", "1", "must be a string, not an integer");
        expect("{'type':'integer'}", "3", NULL);
        expect("{'type':'integer'}", "3.0", NULL);
        expect("{'type':'integer'}", "3.5", "must be an integer, not a number");
        expect("{'type':'number'}", "3.5", NULL);
        expect("{'type':'number'}", "3", NULL);
        expect("{'type':'number'}", "'3'", "must be a number, not a string");
        expect("{'type':'boolean'}", "false", NULL);
        expect("{'type':'boolean'}", "0", "must be a boolean");
        expect("{'type':'null'}", "null", NULL);
        expect("{'type':'null'}", "false", "must be a null, not a boolean");
        expect("{'type':['string','null']}", "null", NULL);
        expect("{'type':['string','null']}", "2", "must be one of the types string, null, not an integer");
}
END_TEST

START_TEST(properties_and_paths)
{
        const char *s = "{'type':'object','properties':{'db':{'type':'object','properties':"
                        "{'size':{'type':'integer','maximum':10}}}}}";
        expect(s, "{'db':{'size':5}}", NULL);
        expect(s, "{'db':{'size':11}}", "parameters.db.size: must be at most 10");
        expect(s, "{'other':'anything'}", NULL);
}
END_TEST

START_TEST(required_keyword)
{
        const char *s = "{'required':['name','size']}";
        expect(s, "{'name':'a','size':1}", NULL);
        expect(s, "{'name':'a'}", "parameters.size: is required");
        expect(s, "'not an object'", NULL); /* required only applies to objects */
}
END_TEST

START_TEST(additional_and_pattern_properties)
{
        const char *s = "{'properties':{'a':{}},'patternProperties':{'^x_':{'type':'integer'}},"
                        "'additionalProperties':false}";
        expect(s, "{'a':1,'x_b':2}", NULL);
        expect(s, "{'a':1,'x_b':'two'}", "parameters.x_b: must be an integer");
        expect(s, "{'a':1,'extra':true}", "parameters.extra: is not an allowed property");
        expect("{'additionalProperties':{'type':'string'}}", "{'k':'v'}", NULL);
        expect("{'additionalProperties':{'type':'string'}}", "{'k':1}", "parameters.k: must be a string");
}
END_TEST

START_TEST(items_keyword)
{
        expect("{'items':{'type':'integer'}}", "[1,2,3]", NULL);
        expect("{'items':{'type':'integer'}}", "[1,2,'x']", "parameters[2]: must be an integer");
        const char *tuple = "{'items':[{'type':'string'},{'type':'integer'}],'additionalItems':false}";
        expect(tuple, "['a',1]", NULL);
        expect(tuple, "['a','b']", "parameters[1]: must be an integer");
        expect(tuple, "['a',1,2]", "parameters[2]: is not allowed");
        expect("{'items':[{}],'additionalItems':{'type':'boolean'}}", "[1,true,3]",
               "parameters[2]: must be a boolean");
        expect("{'properties':{'l':{'items':{'properties':{'n':{'minimum':0}}}}}}",
               "{'l':[{'n':1},{'n':-1}]}", "parameters.l[1].n: must be at least 0");
}
END_TEST

START_TEST(enum_and_const)
{
        expect("{'enum':['eu','us',1,null]}", "'eu'", NULL);
        expect("{'enum':['eu','us',1,null]}", "null", NULL);
        expect("{'enum':['eu','us']}", "'ap'", "parameters: must be one of [\"eu\",\"us\"]");
        expect("{'enum':[{'a':1}]}", "{'a':1}", NULL);
        expect("{'const':'x'}", "'x'", NULL);
        expect("{'const':'x'}", "'y'", "parameters: must be \"x\"");
}
END_TEST

START_TEST(numeric_bounds)
{
        expect("{'minimum':1,'maximum':100}", "1", NULL);
        expect("{'minimum':1,'maximum':100}", "100", NULL);
        expect("{'minimum':1,'maximum':100}", "0", "must be at least 1");
        expect("{'minimum':1,'maximum':100}", "101", "must be at most 100");
        expect("{'minimum':1.5}", "1.4", "must be at least 1.5");
        /* draft-04 boolean form */
        expect("{'minimum':1,'exclusiveMinimum':true}", "1", "must be greater than 1");
        expect("{'maximum':5,'exclusiveMaximum':true}", "5", "must be less than 5");
        expect("{'maximum':5,'exclusiveMaximum':true}", "4.9", NULL);
        /* draft-06 numeric form */
        expect("{'exclusiveMinimum':0}", "0", "must be greater than 0");
        expect("{'exclusiveMinimum':0}", "0.1", NULL);
        expect("{'exclusiveMaximum':10}", "10", "must be less than 10");
        /* exact for integers beyond 2^53 */
        expect("{'maximum':9007199254740993}", "9007199254740994", "must be at most 9007199254740993");
        expect("{'maximum':9007199254740993}", "9007199254740993", NULL);
        /* bounds do not apply to other types */
        expect("{'minimum':5}", "'3'", NULL);
}
END_TEST

START_TEST(string_lengths_count_characters)
{
        expect("{'minLength':2,'maxLength':3}", "'ab'", NULL);
        expect("{'minLength':2}", "'a'", "must be at least 2 characters long");
        expect("{'maxLength':3}", "'abcd'", "must be at most 3 characters long");
        expect("{'maxLength':4}", "'caf\xc3\xa9'", NULL); /* 5 bytes, 4 characters */
        expect("{'maxLength':3}", "'caf\xc3\xa9'", "must be at most 3 characters long");
}
END_TEST

START_TEST(pattern_keyword)
{
        expect("{'pattern':'^[a-z]+$'}", "'abc'", NULL);
        expect("{'pattern':'^[a-z]+$'}", "'abC'", "parameters: must match the pattern '^[a-z]+$'");
        expect("{'pattern':'b'}", "'abc'", NULL); /* unanchored: a search */
        expect("{'pattern':'^\\\\d{3}$'}", "'123'", NULL);
        expect("{'pattern':'^\\\\d{3}$'}", "'12a'", "must match the pattern");
        expect("{'pattern':'^[\\\\w.\\\\-]+$'}", "'a_b.c-d'", NULL);
        expect("{'pattern':'^[\\\\w.\\\\-]+$'}", "'a b'", "must match");
        expect("{'pattern':'^\\\\S+$'}", "'nospace'", NULL);
        expect("{'pattern':'^\\\\S+$'}", "'has space'", "must match");
        expect("{'pattern':'^a\\\\.b$'}", "'a.b'", NULL);
        expect("{'pattern':'^a\\\\.b$'}", "'axb'", "must match");
        expect("{'pattern':'^[^\\\\]]+$'}", "'abc'", NULL);
        expect("{'pattern':'^[^\\\\]]+$'}", "'a]c'", "must match");
}
END_TEST

START_TEST(array_bounds_and_uniqueness)
{
        expect("{'minItems':1,'maxItems':2}", "[1]", NULL);
        expect("{'minItems':1}", "[]", "parameters: must have at least 1 items");
        expect("{'maxItems':2}", "[1,2,3]", "must have at most 2 items");
        expect("{'uniqueItems':true}", "[1,'1',{'a':1},{'b':1}]", NULL);
        expect("{'uniqueItems':true}", "[1,{'a':1,'b':2},{'b':2,'a':1}]", "items [1] and [2] must not be equal");
        expect("{'uniqueItems':false}", "[1,1]", NULL);
}
END_TEST

START_TEST(object_bounds)
{
        expect("{'minProperties':1}", "{'a':1}", NULL);
        expect("{'minProperties':1}", "{}", "must have at least 1 properties");
        expect("{'maxProperties':1}", "{'a':1,'b':2}", "must have at most 1 properties");
}
END_TEST

START_TEST(combinators)
{
        expect("{'allOf':[{'type':'integer'},{'minimum':2}]}", "3", NULL);
        expect("{'allOf':[{'type':'integer'},{'minimum':2}]}", "1", "must be at least 2");
        expect("{'anyOf':[{'type':'string'},{'type':'integer'}]}", "1", NULL);
        expect("{'anyOf':[{'type':'string'},{'type':'integer'}]}", "true",
               "parameters: must match at least one of the anyOf schemas");
        expect("{'oneOf':[{'type':'integer'},{'minimum':2}]}", "1", NULL);
        expect("{'oneOf':[{'type':'integer'},{'minimum':2}]}", "3", "must match exactly one of the oneOf schemas (it matches 2)");
        expect("{'oneOf':[{'type':'integer'},{'type':'string'}]}", "true", "(it matches 0)");
        expect("{'not':{'type':'string'}}", "1", NULL);
        expect("{'not':{'type':'string'}}", "'s'", "parameters: must not match the schema under \"not\"");
        expect("{'properties':{'a':{'not':{'const':1}}}}", "{'a':1}", "parameters.a: must not match");
}
END_TEST

START_TEST(local_refs)
{
        const char *s = "{'definitions':{'size':{'type':'integer','minimum':1}},"
                        "'$defs':{'name':{'type':'string'}},"
                        "'properties':{'size':{'$ref':'#/definitions/size'},'name':{'$ref':'#/$defs/name'}}}";
        expect(s, "{'size':2,'name':'n'}", NULL);
        expect(s, "{'size':0}", "parameters.size: must be at least 1");
        expect(s, "{'name':3}", "parameters.name: must be a string");
        /* JSON pointer escapes */
        expect("{'definitions':{'a/b':{'type':'string'}},'$ref':'#/definitions/a~1b'}", "1", "must be a string");
        /* Recursive schemas validate recursive data. */
        const char *tree = "{'type':'object','properties':{'kids':{'type':'array','items':{'$ref':'#'}}}}";
        expect(tree, "{'kids':[{'kids':[]},{'kids':[{}]}]}", NULL);
        expect(tree, "{'kids':[{'kids':[5]}]}", "parameters.kids[0].kids[0]: must be an object");
}
END_TEST

START_TEST(ref_loops_and_depth_are_bounded)
{
        expect("{'$ref':'#'}", "1", "nested deeper than 64 levels");
        expect("{'anyOf':[{'$ref':'#'}]}", "1", "nested deeper than 64 levels");
        expect("{'not':{'$ref':'#'}}", "1", "nested deeper than 64 levels");
        expect("{'definitions':{'a':{'$ref':'#/definitions/b'},'b':{'$ref':'#/definitions/a'}},"
               "'$ref':'#/definitions/a'}", "{}", "nested deeper");
        expect("{'$ref':'#/definitions/missing'}", "1", "does not resolve");
        /* 70 levels of nesting in the data and schema */
        char schema[4096] = "", inst[4096] = "";
        size_t sl = 0, il = 0;
        for (int i = 0; i < 70; i++) {
                sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "{'items':");
                il += (size_t) snprintf(inst + il, sizeof(inst) - il, "[");
        }
        sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "{}");
        for (int i = 0; i < 70; i++) {
                sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "}");
                il += (size_t) snprintf(inst + il, sizeof(inst) - il, "]");
        }
        expect(schema, inst, "nested deeper than 64 levels");
}
END_TEST

/* A recursive anyOf whose first alternatives fail only after recursing: each level of the value
 * tries all three, so plain validation costs 3^depth. The work is bounded instead: a 400
 * saying so, quickly. */
START_TEST(exponential_anyof_is_stopped_by_the_step_budget)
{
        static const char schema[] =
                "{'definitions':{'node':{'anyOf':["
                "{'allOf':[{'properties':{'c':{'$ref':'#/definitions/node'}}},{'required':['zz']}]},"
                "{'allOf':[{'properties':{'c':{'$ref':'#/definitions/node'}}},{'required':['yy']}]},"
                "{'properties':{'c':{'$ref':'#/definitions/node'}}}]}},"
                "'$ref':'#/definitions/node'}";
        char inst[1024] = "";
        size_t il = 0;
        for (int i = 0; i < 15; i++)
                il += (size_t) snprintf(inst + il, sizeof(inst) - il, "{'c':");
        il += (size_t) snprintf(inst + il, sizeof(inst) - il, "{}");
        for (int i = 0; i < 15; i++)
                il += (size_t) snprintf(inst + il, sizeof(inst) - il, "}");
        /* Without the budget this takes minutes (the test's time-out ends it); with it, the
         * validator stops after a bounded number of steps and says so. */
        expect(schema, inst, "parameters cannot be checked against the plan's schema: it would take more than");
        /* The same schema with shallow values is checked as before. */
        expect(schema, "{'c':{'c':{}}}", NULL);
        expect(schema, "{'c':{'c':1}}", NULL);
}
END_TEST

START_TEST(booleans_unknown_keywords_and_format)
{
        expect("true", "{'anything':1}", NULL);
        expect("false", "1", "parameters: is not allowed");
        expect("{'properties':{'a':false}}", "{'a':1}", "parameters.a: is not allowed");
        expect("{'format':'email','x-custom':{'type':'string'},'title':'T'}", "'not an email'", NULL);
        /* Draft-04 to -07: "$ref" replaces its siblings. */
        expect("{'definitions':{'s':{'type':'string'}},'properties':{'a':{'$ref':'#/definitions/s','maxLength':1}}}",
               "{'a':'long'}", NULL);
}
END_TEST

START_TEST(root_path_defaults)
{
        json_t *s = sq("{'type':'string'}"), *i = sq("1");
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_schema_validate(s, i, "", &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "(root): must be a string, not an integer");
        ck_assert_int_eq(osb_schema_validate(s, i, NULL, NULL), OSB_E_BAD_REQUEST);
        json_decref(s);
        json_decref(i);
}
END_TEST

START_TEST(check_accepts_usable_schemas)
{
        check_ok("{'$schema':'http://json-schema.org/draft-04/schema#'}");
        check_ok("{'$schema':'http://json-schema.org/draft-04/schema#','type':'object',"
                 "'properties':{'size':{'type':'integer','minimum':1,'maximum':100},"
                 "'region':{'type':'string','enum':['eu','us']},"
                 "'$ref':{'type':'string'}},"
                 "'definitions':{'d':{'type':'string','pattern':'^[a-z]+$'}},"
                 "'additionalProperties':{'$ref':'#/definitions/d'},'required':['size']}");
        check_ok("{'$schema':'x','enum':[{'$ref':'http://data.not/a/ref'}]}");
        check_ok("{'$schema':'x','items':[{'type':'string'},true],'allOf':[{'minimum':1}],"
                 "'exclusiveMaximum':true,'maximum':3}");
}
END_TEST

START_TEST(check_refuses_unusable_schemas)
{
        check_bad("[]", "plans[0].create: must be a JSON Schema object, not an array");
        check_bad("{'type':'object'}", "plans[0].create.$schema: is required");
        check_bad("{'$schema':4}", "plans[0].create.$schema: must be a string, not an integer");
        check_bad("{'$schema':'x','properties':{'a':{'$ref':'http://example.com/s.json'}}}",
                  "plans[0].create.properties.a.$ref: 'http://example.com/s.json' leaves the document");
        check_bad("{'$schema':'x','definitions':{'d':{'$ref':'other.json#/x'}}}",
                  "plans[0].create.definitions.d.$ref:");
        check_bad("{'$schema':'x','allOf':[{},{'$ref':'#/definitions/nope'}]}",
                  "plans[0].create.allOf[1].$ref: '#/definitions/nope' does not resolve");
        check_bad("{'$schema':'x','$ref':5}", "plans[0].create.$ref: must be a string");
        check_bad("{'$schema':'x','type':'text'}", "plans[0].create.type: must be a JSON Schema type name");
        check_bad("{'$schema':'x','type':['string',3]}", "plans[0].create.type: [1] is not a JSON Schema type name");
        check_bad("{'$schema':'x','required':'name'}", "plans[0].create.required: must be an array of strings");
        check_bad("{'$schema':'x','required':[1]}", "plans[0].create.required: must be an array of strings");
        check_bad("{'$schema':'x','enum':'a'}", "plans[0].create.enum: must be an array");
        check_bad("{'$schema':'x','minimum':'1'}", "plans[0].create.minimum: must be a number");
        check_bad("{'$schema':'x','exclusiveMinimum':'1'}", "plans[0].create.exclusiveMinimum: must be a number or a boolean");
        check_bad("{'$schema':'x','maxLength':-1}", "plans[0].create.maxLength: must be a non-negative integer");
        check_bad("{'$schema':'x','uniqueItems':1}", "plans[0].create.uniqueItems: must be a boolean");
        check_bad("{'$schema':'x','pattern':'(unclosed'}", "plans[0].create.pattern: is not a usable regular expression");
        check_bad("{'$schema':'x','pattern':'(?=lookahead)'}", "plans[0].create.pattern: is not a usable");
        check_bad("{'$schema':'x','pattern':'\\\\bword'}", "plans[0].create.pattern: is not a usable");
        check_bad("{'$schema':'x','patternProperties':{'(':{}}}", "plans[0].create.patternProperties[\"(\"]: is not a usable");
        check_bad("{'$schema':'x','properties':[]}", "plans[0].create.properties: must be an object of schemas");
        check_bad("{'$schema':'x','properties':{'a':3}}", "plans[0].create.properties.a: must be a schema");
        check_bad("{'$schema':'x','anyOf':[]}", "plans[0].create.anyOf: must not be empty");
        check_bad("{'$schema':'x','oneOf':{}}", "plans[0].create.oneOf: must be an array of schemas");
        check_bad("{'$schema':'x','items':[1]}", "plans[0].create.items[0]: must be a schema");
        check_bad("{'$schema':'x','not':'x'}", "plans[0].create.not: must be a schema");
}
END_TEST

START_TEST(check_limits_size_to_64k)
{
        json_t *s = json_pack("{s:s}", "$schema", "http://json-schema.org/draft-04/schema#");
        json_t *e = json_array();
        json_object_set_new(s, "enum", e);
        char item[100];
        memset(item, 'a', sizeof(item) - 1);
        item[sizeof(item) - 1] = '\0';
        for (int i = 0; i < 641; i++)
                json_array_append_new(e, json_string(item));
        char *d = json_dumps(s, JSON_COMPACT);
        size_t n = strlen(d);
        osb_free(d);
        ck_assert_uint_lt(n, 64 * 1024);
        ck_assert_uint_gt(n, 64 * 1024 - 102);
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(osb_schema_check(s, "p", &err), 0);
        json_array_append_new(e, json_string(item));
        ck_assert_int_eq(osb_schema_check(s, "p", &err), OSB_E_INVALID_CONFIG);
        ck_assert_ptr_nonnull(strstr(err.text, "p: is larger than 64 KiB"));
        json_decref(s);
}
END_TEST

START_TEST(check_bounds_nesting)
{
        char schema[8192] = "{'$schema':'x','not':";
        size_t sl = strlen(schema);
        for (int i = 0; i < 70; i++)
                sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "{'not':");
        sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "{}");
        for (int i = 0; i < 71; i++)
                sl += (size_t) snprintf(schema + sl, sizeof(schema) - sl, "}");
        check_bad(schema, "is nested deeper than 64 levels");
}
END_TEST

START_TEST(validate_allocation_failures_are_clean)
{
        json_t *s = sq("{'type':'object','properties':{'l':{'type':'array','uniqueItems':true,"
                       "'items':{'enum':[1,2,3,4]}},'p':{'pattern':'^[a-z]+$'}},'anyOf':[{'required':['l']},{}]}");
        json_t *i = sq("{'l':[1,2,3,4],'p':'abc'}");
        json_t *bad = sq("{'l':[1,2,2],'p':'abc'}");
        struct osb_error err = OSB_ERROR_INIT;
        for (int which = 0; which < 2; which++) {
                json_t *inst = which ? bad : i;
                osb_mem_fail_at(SIZE_MAX);
                int want = osb_schema_validate(s, inst, "parameters", &err);
                size_t n = osb_mem_allocs();
                ck_assert_int_eq(want, which ? OSB_E_BAD_REQUEST : 0);
                for (size_t k = 0; k < n; k++) {
                        osb_mem_fail_at(k);
                        int r = osb_schema_validate(s, inst, "parameters", &err);
                        osb_mem_fail_at(SIZE_MAX);
                        ck_assert_msg(r == want || r == -ENOMEM, "allocation %zu: r=%d", k, r);
                }
        }
        json_decref(s);
        json_decref(i);
        json_decref(bad);
}
END_TEST

/* ---- osb_schema_validate_flags: every violation, and messages without the schema's text ---- */

static json_t *violations_of(const char *schema, const char *inst, unsigned flags, struct osb_error *err)
{
        json_t *s = sq(schema), *i = sq(inst), *list = NULL;
        int r = osb_schema_validate_flags(s, i, "parameters", flags, &list, err);
        json_decref(s);
        json_decref(i);
        ck_assert_int_eq(r, list ? OSB_E_BAD_REQUEST : r);
        return list;
}

START_TEST(all_lists_every_violation_in_document_order)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = violations_of("{'type':'object','required':['name','size'],'additionalProperties':false,"
                                     "'properties':{'name':{'type':'string'},'size':{'maximum':10},"
                                     "'tags':{'type':'array','items':{'type':'string'}}}}",
                                     "{'size':11,'tags':['a',2,3],'colour':'red'}", OSB_SCHEMA_ALL, &err);
        ck_assert_ptr_nonnull(list);
        const char *want[] = {"parameters.name: is required", "parameters.size: must be at most 10",
                              "parameters.tags[1]: must be a string, not an integer",
                              "parameters.tags[2]: must be a string, not an integer",
                              "parameters.colour: is not an allowed property"};
        ck_assert_uint_eq(json_array_size(list), 5);
        for (size_t k = 0; k < 5; k++)
                ck_assert_str_eq(json_string_value(json_array_get(list, k)), want[k]);
        ck_assert_str_eq(err.text, "parameters.name: is required (and 4 more)");
        json_decref(list);
}
END_TEST

START_TEST(all_counts_an_alternative_as_one_violation)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = violations_of("{'properties':{'a':{'anyOf':[{'type':'string'},{'type':'object',"
                                     "'required':['x','y']}]},'b':{'not':{'type':'integer'}}}}",
                                     "{'a':{},'b':1}", OSB_SCHEMA_ALL, &err);
        ck_assert_uint_eq(json_array_size(list), 2);
        ck_assert_str_eq(json_string_value(json_array_get(list, 0)),
                         "parameters.a: must match at least one of the anyOf schemas");
        ck_assert_str_eq(json_string_value(json_array_get(list, 1)),
                         "parameters.b: must not match the schema under \"not\"");
        json_decref(list);
}
END_TEST

START_TEST(all_with_one_violation_or_none)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = violations_of("{'type':'object'}", "[1]", OSB_SCHEMA_ALL, &err);
        ck_assert_uint_eq(json_array_size(list), 1);
        ck_assert_str_eq(err.text, "parameters: must be an object, not an array");
        json_decref(list);
        ck_assert_ptr_null(violations_of("{'type':'object'}", "{}", OSB_SCHEMA_ALL, &err));
        /* without OSB_SCHEMA_ALL: the first violation only, no list */
        ck_assert_ptr_null(violations_of("{'required':['a','b']}", "{}", 0, &err));
        ck_assert_str_eq(err.text, "parameters.a: is required");
}
END_TEST

START_TEST(all_stays_within_the_step_budget)
{
        /* collecting violations is no way around the bound on work */
        json_t *s = sq("{'items':{'anyOf':[{'items':{'anyOf':[{'type':'string'},{'type':'string'}]}},"
                       "{'items':{'anyOf':[{'type':'string'},{'type':'string'}]}}]}}");
        json_t *row = json_array(), *inst = json_array();
        for (int k = 0; k < 2000; k++)
                json_array_append_new(row, json_string("x"));
        for (int k = 0; k < 200; k++)
                json_array_append(inst, row);
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = NULL;
        ck_assert_int_eq(osb_schema_validate_flags(s, inst, "parameters", OSB_SCHEMA_ALL, &list, &err), OSB_E_BAD_REQUEST);
        ck_assert_ptr_nonnull(strstr(err.text, "validation steps"));
        ck_assert_uint_le(json_array_size(list), OSB_SCHEMA_MAX_VIOLATIONS + 1);
        json_decref(list);
        json_decref(row);
        json_decref(inst);
        json_decref(s);
}
END_TEST

START_TEST(quiet_never_quotes_the_schema)
{
        struct osb_error err = OSB_ERROR_INIT;
        json_t *list = violations_of("{'properties':{'size':{'enum':['SECRETENUM','b']},'c':{'const':'SECRETCONST'},"
                                     "'p':{'pattern':'^SECRETPAT$'},'r':{'$ref':'#/definitions/SECRETREF'}}}",
                                     "{'size':'x','c':'y','p':'z','r':1}", OSB_SCHEMA_ALL | OSB_SCHEMA_QUIET, &err);
        ck_assert_uint_eq(json_array_size(list), 4);
        ck_assert_str_eq(json_string_value(json_array_get(list, 0)),
                         "parameters.size: must be one of the 2 values the plan's schema lists");
        ck_assert_str_eq(json_string_value(json_array_get(list, 1)),
                         "parameters.c: must be the value the plan's schema fixes");
        ck_assert_str_eq(json_string_value(json_array_get(list, 2)), "parameters.p: must match the plan's pattern");
        ck_assert_str_eq(json_string_value(json_array_get(list, 3)),
                         "parameters.r: cannot be checked: a schema reference does not resolve");
        for (size_t k = 0; k < 4; k++)
                ck_assert_ptr_null(strstr(json_string_value(json_array_get(list, k)), "SECRET"));
        json_decref(list);
        /* a property name's control bytes are escaped */
        json_t *s = sq("{'additionalProperties':false}"), *i = json_pack("{s:i}", "a\x1b[31mb", 1);
        ck_assert_int_eq(osb_schema_validate_flags(s, i, "parameters", OSB_SCHEMA_QUIET, NULL, &err), OSB_E_BAD_REQUEST);
        ck_assert_str_eq(err.text, "parameters.a\\x1B[31mb: is not an allowed property");
        json_decref(s);
        json_decref(i);
}
END_TEST

START_TEST(all_allocation_failures_are_clean)
{
        json_t *s = sq("{'required':['a'],'properties':{'b':{'enum':[1]},'c':{'items':{'type':'string'}}}}");
        json_t *i = sq("{'b':2,'c':[1,2]}");
        struct osb_error err = OSB_ERROR_INIT;
        osb_mem_fail_at(SIZE_MAX);
        json_t *list = NULL;
        ck_assert_int_eq(osb_schema_validate_flags(s, i, "p", OSB_SCHEMA_ALL, &list, &err), OSB_E_BAD_REQUEST);
        json_decref(list);
        size_t n = osb_mem_allocs();
        for (size_t k = 0; k < n; k++) {
                list = NULL;
                osb_mem_fail_at(k);
                int r = osb_schema_validate_flags(s, i, "p", OSB_SCHEMA_ALL, &list, &err);
                osb_mem_fail_at(SIZE_MAX);
                ck_assert_msg(r == OSB_E_BAD_REQUEST || r == -ENOMEM, "allocation %zu: r=%d", k, r);
                ck_assert(r == -ENOMEM ? list == NULL : json_array_size(list) == 4);
                json_decref(list);
        }
        json_decref(s);
        json_decref(i);
}
END_TEST

static Suite *schema_suite(void)
{
        Suite *s = suite_create("schema");
        TCase *v = tcase_create("validate");
        tcase_add_test(v, type_keyword);
        tcase_add_test(v, properties_and_paths);
        tcase_add_test(v, required_keyword);
        tcase_add_test(v, additional_and_pattern_properties);
        tcase_add_test(v, items_keyword);
        tcase_add_test(v, enum_and_const);
        tcase_add_test(v, numeric_bounds);
        tcase_add_test(v, string_lengths_count_characters);
        tcase_add_test(v, pattern_keyword);
        tcase_add_test(v, array_bounds_and_uniqueness);
        tcase_add_test(v, object_bounds);
        tcase_add_test(v, combinators);
        tcase_add_test(v, local_refs);
        tcase_add_test(v, ref_loops_and_depth_are_bounded);
        tcase_add_test(v, exponential_anyof_is_stopped_by_the_step_budget);
        tcase_add_test(v, booleans_unknown_keywords_and_format);
        tcase_add_test(v, root_path_defaults);
        tcase_add_test(v, validate_allocation_failures_are_clean);
        suite_add_tcase(s, v);
        TCase *c = tcase_create("check");
        tcase_add_test(c, check_accepts_usable_schemas);
        tcase_add_test(c, check_refuses_unusable_schemas);
        tcase_add_test(c, check_limits_size_to_64k);
        tcase_add_test(c, check_bounds_nesting);
        suite_add_tcase(s, c);
        TCase *a = tcase_create("flags");
        tcase_add_test(a, all_lists_every_violation_in_document_order);
        tcase_add_test(a, all_counts_an_alternative_as_one_violation);
        tcase_add_test(a, all_with_one_violation_or_none);
        tcase_add_test(a, all_stays_within_the_step_budget);
        tcase_add_test(a, quiet_never_quotes_the_schema);
        tcase_add_test(a, all_allocation_failures_are_clean);
        suite_add_tcase(s, a);
        return s;
}

OSB_CHECK_MAIN(schema_suite)
