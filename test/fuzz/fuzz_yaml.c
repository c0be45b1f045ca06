/* test/fuzz/fuzz_yaml.c: bytes -> osb_yaml_parse() and osb_yaml_parse_all(); whatever they
 * return must be a tree jansson can serialise, and errors must carry a position. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "common/osb_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                   \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "fuzz_yaml: invariant failed: %s\n", #cond);    \
                        abort();                                                        \
                }                                                                       \
        } while (0)

static void check(int r, json_t *j, const struct osb_error *err)
{
        if (r < 0) {
                REQUIRE(j == NULL);
                REQUIRE(r == OSB_E_BAD_REQUEST || r == -ENOMEM);
                REQUIRE(r == -ENOMEM || strncmp(err->text, "line ", 5) == 0);
                return;
        }
        REQUIRE(j != NULL);
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        REQUIRE(s != NULL);
        json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);
        REQUIRE(back != NULL && json_equal(back, j));
        json_decref(back);
        osb_free(s);
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        struct osb_error err = OSB_ERROR_INIT;
        json_t *j = NULL;
        int r = osb_yaml_parse((const char *) data, size, &j, &err);
        check(r, j, &err);
        j = NULL;
        r = osb_yaml_parse_all((const char *) data, size, &j, &err);
        check(r, j, &err);
        return 0;
}
