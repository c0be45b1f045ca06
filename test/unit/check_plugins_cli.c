/* test/unit/check_plugins_cli.c: the kubectl plugins' shared code: kubectl's global flags
 * wherever they appear, -o values, YAML output that reads back as the same JSON (strings that
 * look like numbers, booleans or null stay strings), aligned tables, ages, and the status
 * column. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "plugins/cli.h"
#include "test/lib/check_main.h"

/* What @fn printed to a memory stream. New (free). */
static char *capture_json(int (*fn)(FILE *, const json_t *), const json_t *v)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fn(f, v), 0);
        fclose(f);
        return buf;
}

/* A writable argv of copies of @args (NULL-terminated), as main() gets one. */
struct args {
        char *owned[16];
        char *argv[17];
        int argc;
};

static void args_init(struct args *a, const char *const *args)
{
        *a = (struct args){0};
        for (; args[a->argc]; a->argc++) {
                ck_assert_int_lt(a->argc, 16);
                a->owned[a->argc] = a->argv[a->argc] = osb_strdup(args[a->argc]);
        }
}

static void args_release(struct args *a)
{
        for (int i = 0; i < 16; i++)
                osb_free(a->owned[i]);
}

START_TEST(global_flags_are_taken_out_wherever_they_are)
{
        struct args a;
        args_init(&a, (const char *const[]){"kubectl-svcat", "get", "-n", "shop", "instances", "--context=kind-a",
                                            "--kubeconfig", "/tmp/kc", "-o", "json", NULL});
        char **argv = a.argv;
        int argc = a.argc;
        struct cli cli = {.prog = "kubectl svcat"};
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(cli_global_flags(&cli, &argc, argv, &err), 0);
        ck_assert_int_eq(argc, 5);
        ck_assert_str_eq(argv[1], "get");
        ck_assert_str_eq(argv[2], "instances");
        ck_assert_str_eq(argv[3], "-o");
        ck_assert_str_eq(argv[4], "json");
        ck_assert_ptr_null(argv[5]);
        ck_assert_str_eq(cli.namespace, "shop");
        ck_assert(cli.namespace_given);
        ck_assert_str_eq(cli.context, "kind-a");
        ck_assert_str_eq(cli.kubeconfig, "/tmp/kc");
        cli_release(&cli);

        /* -nNS, --namespace=NS; "--" stops the scan; a later flag wins. */
        args_release(&a);
        args_init(&a, (const char *const[]){"p", "-nfirst", "x", "--namespace=second", "--", "-n", "kept", NULL});
        char **argv2 = a.argv;
        argc = a.argc;
        cli = (struct cli){0};
        ck_assert_int_eq(cli_global_flags(&cli, &argc, argv2, &err), 0);
        ck_assert_str_eq(cli.namespace, "second");
        ck_assert_int_eq(argc, 5);
        ck_assert_str_eq(argv2[1], "x");
        ck_assert_str_eq(argv2[2], "--");
        ck_assert_str_eq(argv2[3], "-n");
        ck_assert_str_eq(argv2[4], "kept");
        cli_release(&cli);

        /* Other flags that start like a global one are left alone. */
        args_release(&a);
        args_init(&a, (const char *const[]){"p", "--namespaces", "--contextual", "-name", NULL});
        char **argv3 = a.argv;
        argc = a.argc;
        cli = (struct cli){0};
        ck_assert_int_eq(cli_global_flags(&cli, &argc, argv3, &err), 0);
        ck_assert_int_eq(argc, 3);  /* "-name" is -n "ame", as kubectl reads it */
        ck_assert_str_eq(cli.namespace, "ame");
        cli_release(&cli);

        args_release(&a);
        args_init(&a, (const char *const[]){"p", "get", "--context", NULL});
        char **argv4 = a.argv;
        argc = a.argc;
        cli = (struct cli){0};
        ck_assert_int_eq(cli_global_flags(&cli, &argc, argv4, &err), CLI_EXIT_USAGE);
        ck_assert_str_eq(err.text, "flag needs an argument: --context");
        cli_release(&cli);
        args_release(&a);
}
END_TEST

START_TEST(output_values)
{
        enum cli_output o;
        struct osb_error err = OSB_ERROR_INIT;
        ck_assert_int_eq(cli_parse_output("json", &o, &err), 0);
        ck_assert_int_eq(o, CLI_OUTPUT_JSON);
        ck_assert_int_eq(cli_parse_output("yaml", &o, &err), 0);
        ck_assert_int_eq(o, CLI_OUTPUT_YAML);
        ck_assert_int_eq(cli_parse_output("name", &o, &err), 0);
        ck_assert_int_eq(o, CLI_OUTPUT_NAME);
        ck_assert_int_eq(cli_parse_output("", &o, &err), 0);
        ck_assert_int_eq(o, CLI_OUTPUT_TABLE);
        ck_assert_int_eq(cli_parse_output("xml", &o, &err), CLI_EXIT_USAGE);
        ck_assert_str_eq(err.text, "--output must be json, yaml or name, not 'xml'");
}
END_TEST

START_TEST(yaml_reads_back_as_the_same_json)
{
        static const char *const docs[] = {
                "{\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceInstance\","
                "\"metadata\":{\"name\":\"db\",\"annotations\":{\"bindery.dev/abandon\":\"true\"}},"
                "\"spec\":{\"parameters\":{\"n\":\"123\",\"i\":123,\"f\":1.5,\"s\":\"1e3\",\"b\":false,"
                "\"yes\":\"yes\",\"off\":\"Off\",\"null\":\"null\",\"nil\":null,\"tilde\":\"~\","
                "\"empty\":\"\",\"hex\":\"0x1F\",\"neg\":\"-7\",\"dot\":\".5\",\"time\":\"12:30\","
                "\"colon\":\"a: b\",\"hash\":\"# not a comment\",\"dash\":\"- x\",\"star\":\"*ref\","
                "\"multi\":\"line one\\nline two\\n\",\"utf8\":\"caf\\u00e9\",\"ver\":\"1.2.3\","
                "\"list\":[\"a\",1,{\"k\":\"v\"},[]],\"obj\":{},\"<<\":\"<<\"}}}",
                "[]",
                "\"just a string\"",
        };
        for (unsigned i = 0; i < OSB_ELEMENTSOF(docs); i++) {
                json_auto_t *want = json_loads(docs[i], JSON_DECODE_ANY, NULL);
                ck_assert_ptr_nonnull(want);
                char *yaml = capture_json(cli_print_yaml, want);
                json_t *got = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                ck_assert_msg(osb_yaml_parse(yaml, strlen(yaml), &got, &err) == 0, "%s: %s", err.text, yaml);
                ck_assert_msg(json_equal(got, want), "the YAML reads back differently:\n%s", yaml);
                json_decref(got);
                free(yaml);
        }
        /* Plain where it can be, as kubectl prints it. */
        json_auto_t *v = json_loads("{\"metadata\":{\"name\":\"db\",\"labels\":{\"k\":\"1\",\"n\":\"no\"}},\"items\":[\"a\"]}", 0, NULL);
        char *yaml = capture_json(cli_print_yaml, v);
        ck_assert_str_eq(yaml, "metadata:\n  name: db\n  labels:\n    k: \"1\"\n    \"n\": \"no\"\nitems:\n- a\n");
        free(yaml);
}
END_TEST

START_TEST(json_is_indented_by_four_in_stored_order)
{
        json_auto_t *v = json_loads("{\"b\":1,\"a\":[true]}", JSON_PRESERVE_ORDER, NULL);
        char *text = capture_json(cli_print_json, v);
        ck_assert_str_eq(text, "{\n    \"b\": 1,\n    \"a\": [\n        true\n    ]\n}\n");
        free(text);
}
END_TEST

START_TEST(tables_are_aligned_like_kubectl)
{
        struct cli_table *t = cli_table_new(3, (const char *const[]){"name", "class", "status"});
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(cli_table_add(t, (const char *const[]){"orders-db", "postgresql", "Ready"}), 0);
        ck_assert_int_eq(cli_table_add(t, (const char *const[]){"x", NULL, ""}), 0);
        ck_assert_uint_eq(cli_table_rows(t), 2);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cli_table_print(t, f);
        fclose(f);
        ck_assert_str_eq(buf, "NAME        CLASS        STATUS\n"
                              "orders-db   postgresql   Ready\n"
                              "x           <none>       <none>\n");
        free(buf);

        /* Columns count characters, not bytes: "bücher" is 6 wide, as kubectl's tabwriter has it. */
        t = cli_table_new(2, (const char *const[]){"name", "plan"});
        ck_assert_int_eq(cli_table_add(t, (const char *const[]){"b\xc3\xbc" "cher", "small"}), 0);
        ck_assert_int_eq(cli_table_add(t, (const char *const[]){"ab", "\xe5\xa4\xa7"}), 0);
        buf = NULL;
        f = open_memstream(&buf, &len);
        cli_table_print(t, f);
        fclose(f);
        ck_assert_str_eq(buf, "NAME     PLAN\n"
                              "b\xc3\xbc" "cher   small\n"
                              "ab       \xe5\xa4\xa7\n");
        free(buf);

        /* No rows: nothing at all. */
        t = cli_table_new(1, (const char *const[]){"name"});
        buf = NULL;
        f = open_memstream(&buf, &len);
        cli_table_print(t, f);
        fclose(f);
        ck_assert_str_eq(buf, "");
        free(buf);
}
END_TEST

START_TEST(ages_and_status)
{
        char out[32];
        ck_assert_str_eq(cli_age("not a time", out, sizeof(out)), "<unknown>");
        time_t now = time(NULL);
        /* A second may tick between the two time() calls: each case names both ages. */
        struct {
                long ago;
                const char *want, *or_want;
        } cases[] = {{5, "5s", "6s"}, {119, "119s", "2m0s"}, {150, "2m30s", "2m31s"}, {3600, "60m", "60m"},
                     {4 * 3600 + 120, "4h2m", "4h2m"}, {20 * 3600, "20h", "20h"},
                     {3 * 86400 + 7200, "3d2h", "3d2h"}, {30 * 86400, "30d", "30d"}};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(cases); i++) {
                time_t then = now - cases[i].ago;
                struct tm tm;
                char ts[32];
                gmtime_r(&then, &tm);
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                const char *got = cli_age(ts, out, sizeof(out));
                ck_assert_msg(strcmp(got, cases[i].want) == 0 || strcmp(got, cases[i].or_want) == 0,
                              "%ld s ago: %s, want %s", cases[i].ago, got, cases[i].want);
        }

        json_auto_t *inst = json_loads("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                                       "\"reason\":\"Provisioning\"}]}}", 0, NULL);
        ck_assert_str_eq(cli_status_reason(inst), "Provisioning");
        ck_assert_str_eq(cli_str(cli_condition(inst, "Ready"), "status", NULL), "False");
        ck_assert_ptr_null(cli_condition(inst, "Failed"));
        json_object_set_new(json_object_get(inst, "status"), "lastConditionState", json_string("Ready"));
        ck_assert_str_eq(cli_status_reason(inst), "Ready");
        json_auto_t *empty = json_object();
        ck_assert_str_eq(cli_status_reason(empty), "");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("plugins_cli");
        TCase *tc = tcase_create("cli");
        tcase_add_test(tc, global_flags_are_taken_out_wherever_they_are);
        tcase_add_test(tc, output_values);
        tcase_add_test(tc, yaml_reads_back_as_the_same_json);
        tcase_add_test(tc, json_is_indented_by_four_in_stored_order);
        tcase_add_test(tc, tables_are_aligned_like_kubectl);
        tcase_add_test(tc, ages_and_status);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
