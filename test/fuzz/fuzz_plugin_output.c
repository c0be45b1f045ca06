/* test/fuzz/fuzz_plugin_output.c: what the kubectl plugins make of bytes they do not control.
 * Objects read from a cluster hold whatever their authors stored: an input that is a JSON
 * document goes through cli_print_yaml() (-o yaml), which must read back (osb_yaml_parse) as
 * the same document, and cli_print_json() (-o json), likewise; then the helpers the tables and
 * describe use (cli_str, cli_condition, cli_status_reason, cli_age, a table of its strings).
 * Command-line values come from users and scripts: any other input is split into lines, each
 * "p:" line a --param, "j:" a --params-json and "s:" a --secret-param, and create_parameters()
 * must either fail with a message and leave the spec alone, or set spec.parameters (an object)
 * and spec.parametersFrom (an array of secretKeyRefs) only. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "common/osb_yaml.h"
#include "plugins/cli.h"
#include "plugins/create.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                           \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz_plugin_output: invariant failed: %s\n", #cond);   \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* What osb_yaml_parse() accepts (common/osb_yaml.c: YAML_MAX_DEPTH). */
#define YAML_READ_DEPTH 256
#define MAX_LINES 64

static size_t depth_of(const json_t *v)
{
        size_t d = 0, i;
        const char *k;
        json_t *m;
        if (json_is_object(v)) {
                json_object_foreach((json_t *) v, k, m) {
                        size_t c = depth_of(m);
                        d = c > d ? c : d;
                }
                return d + 1;
        }
        if (json_is_array(v)) {
                json_array_foreach(v, i, m) {
                        size_t c = depth_of(m);
                        d = c > d ? c : d;
                }
                return d + 1;
        }
        return 1;
}

/* Prints @v with @print into memory, its result in *rc. Returns the text (to free; what was
 * printed before a failure). */
static char *print_to_memory(int (*print)(FILE *, const json_t *), const json_t *v, int *rc)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        REQUIRE(f != NULL);
        *rc = print(f, v);
        REQUIRE(fclose(f) == 0);
        return text;
}

static void check_document(const json_t *doc)
{
        int rc;
        size_t depth = depth_of(doc);
        char *yaml = print_to_memory(cli_print_yaml, doc, &rc);
        if (rc == 0 && depth < YAML_READ_DEPTH) {
                json_t *back = NULL;
                struct osb_error err = OSB_ERROR_INIT;
                int r = osb_yaml_parse(yaml, strlen(yaml), &back, &err);
                if (r < 0 || !json_equal(back, doc))
                        fprintf(stderr, "-o yaml printed:\n%s\n(%s)\n", yaml, r < 0 ? err.text : "reads back differently");
                REQUIRE(r == 0);
                REQUIRE(json_equal(back, doc));
                json_decref(back);
        } else {
                /* Only an object nested deeper than the emitter goes may fail. */
                REQUIRE(rc == 0 || (rc == -ELOOP && depth > 512));
        }
        free(yaml);

        char *js = print_to_memory(cli_print_json, doc, &rc);
        REQUIRE(rc == 0);
        json_t *back = json_loads(js, JSON_DECODE_ANY, NULL);
        REQUIRE(back != NULL && json_equal(back, doc));
        json_decref(back);
        free(js);

        /* What get and describe read of an object, and a table of it. */
        const char *name = cli_str(doc, "metadata", "name", NULL);
        const char *created = cli_str(doc, "metadata", "creationTimestamp", NULL);
        const char *reason = cli_status_reason(doc);
        REQUIRE(reason != NULL);
        const json_t *ready = cli_condition(doc, "Ready");
        REQUIRE(ready == NULL || json_is_object(ready));
        char age[32];
        REQUIRE(cli_age(created, age, sizeof(age)) == age && age[0] != '\0');
        static const char *const headers[] = {"NAME", "STATUS", "AGE"};
        struct cli_table *t = cli_table_new(3, headers);
        REQUIRE(t != NULL);
        const char *row[] = {name, reason, age};
        REQUIRE(cli_table_add(t, row) == 0);
        REQUIRE(cli_table_rows(t) == 1);
        FILE *null = fopen("/dev/null", "w");
        REQUIRE(null != NULL);
        cli_table_print(t, null);  /* and frees it */
        fclose(null);
}

static void check_flags(char *text)
{
        const char *v[3][MAX_LINES];
        struct create_list lists[3] = {{v[0], 0}, {v[1], 0}, {v[2], 0}};
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                int which = strncmp(line, "p:", 2) == 0 ? 0 : strncmp(line, "j:", 2) == 0 ? 1
                          : strncmp(line, "s:", 2) == 0 ? 2 : -1;
                if (which >= 0 && lists[which].n < MAX_LINES)
                        v[which][lists[which].n++] = line + 2;
        }
        json_t *spec = json_object();
        REQUIRE(spec != NULL);
        struct osb_error err = OSB_ERROR_INIT;
        int r = create_parameters(&lists[0], &lists[1], &lists[2], spec, &err);
        if (r != 0) {
                REQUIRE(r == CLI_EXIT_USAGE || r == -ENOMEM);
                REQUIRE(err.text[0] != '\0');
                REQUIRE(json_object_size(spec) == 0);
        } else {
                const json_t *p = json_object_get(spec, "parameters");
                const json_t *from = json_object_get(spec, "parametersFrom");
                REQUIRE(json_object_size(spec) == (size_t) (p != NULL) + (size_t) (from != NULL));
                REQUIRE(p == NULL || json_is_object(p));
                /* Every --param is a string under its key (a later --params-json key would have
                 * been refused as given twice). */
                for (size_t i = 0; i < lists[0].n; i++) {
                        const char *eq = strchr(lists[0].v[i], '=');
                        REQUIRE(eq != NULL && eq != lists[0].v[i]);
                        char *key = strndup(lists[0].v[i], (size_t) (eq - lists[0].v[i]));
                        REQUIRE(key != NULL);
                        REQUIRE(osb_streq(json_string_value(json_object_get(p, key)), eq + 1));
                        free(key);
                }
                REQUIRE(json_array_size(from) == lists[2].n);
                size_t i;
                const json_t *ref;
                json_array_foreach(from, i, ref) {
                        const json_t *k = json_object_get(ref, "secretKeyRef");
                        REQUIRE(json_object_size(ref) == 1 && json_object_size(k) == 2);
                        REQUIRE(*json_string_value(json_object_get(k, "name")) != '\0');
                        REQUIRE(*json_string_value(json_object_get(k, "key")) != '\0');
                }
        }
        json_decref(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        json_t *doc = json_loadb((const char *) data, size, JSON_DECODE_ANY, NULL);
        if (doc) {
                check_document(doc);
                json_decref(doc);
                return 0;
        }
        char *text = strndup((const char *) data, size);
        REQUIRE(text != NULL);
        check_flags(text);
        free(text);
        return 0;
}
