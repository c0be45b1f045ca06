/* test/fuzz/fuzz_catalog.c: bytes -> catalog_load_buffer() (JSON or YAML by content), then
 * the invariants a loaded catalog promises, and every plan schema run over the input's doc;
 * and the same bytes as a file (a memfd) -> catalog_load_checked(), whose part of the valid
 * plans of an invalid catalog must hold what the backends read. */
#include "common/osb_compat.h"

#include <sys/mman.h>

#include "broker/catalog.h"
#include "common/osb_schema.h"
#include "common/osb_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                   \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "fuzz_catalog: invariant failed: %s\n", #cond); \
                        abort();                                                        \
                }                                                                       \
        } while (0)

static bool has_x_key(const json_t *j)
{
        const char *key;
        json_t *v;
        if (json_is_object(j)) {
                json_object_foreach((json_t *) j, key, v)
                        if (strncmp(key, "x-", 2) == 0 || has_x_key(v))
                                return true;
        } else if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        if (has_x_key(json_array_get(j, i)))
                                return true;
        }
        return false;
}

static void check_catalog(const struct catalog *c)
{
        REQUIRE(c->body && strlen(c->body) == c->body_len);
        REQUIRE(c->etag[0] == '"' && strlen(c->etag) == 18);
        json_error_t jerr;
        json_t *body = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &jerr);
        REQUIRE(body != NULL);
        REQUIRE(!has_x_key(body));
        REQUIRE(json_array_size(json_object_get(body, "services")) == c->n_services);
        json_decref(body);
        for (size_t i = 0; i < c->n_services; i++) {
                const struct catalog_service *s = &c->services[i];
                REQUIRE(s->id && *s->id && s->name && *s->name && s->n_plans > 0);
                REQUIRE(catalog_find_service(c, s->id) == s);
                for (size_t j = 0; j < s->n_plans; j++) {
                        const struct catalog_plan *p = &s->plans[j];
                        REQUIRE(catalog_find_plan(c, p->id) == p);
                        REQUIRE(p->service == s);
                        REQUIRE(json_is_string(json_object_get(p->backend, "type")));
                        REQUIRE(p->backend_path[0] != '\0');
                        json_t *schemas[] = {p->schema_create, p->schema_update, p->schema_bind};
                        for (size_t k = 0; k < 3; k++) {
                                if (!schemas[k])
                                        continue;
                                struct osb_error err = OSB_ERROR_INIT;
                                int r = osb_schema_validate(schemas[k], c->doc, "parameters", &err);
                                REQUIRE(r == 0 || r == OSB_E_BAD_REQUEST || r == -ENOMEM);
                                r = osb_schema_validate(schemas[k], schemas[k], "parameters", &err);
                                REQUIRE(r == 0 || r == OSB_E_BAD_REQUEST || r == -ENOMEM);
                                /* the platforms' mode: every violation, the schema never quoted */
                                json_t *list = NULL;
                                int all = osb_schema_validate_flags(schemas[k], c->doc, "parameters",
                                                                    OSB_SCHEMA_ALL | OSB_SCHEMA_QUIET, &list, &err);
                                REQUIRE(all == 0 || all == OSB_E_BAD_REQUEST || all == -ENOMEM);
                                REQUIRE((all == OSB_E_BAD_REQUEST) == (list != NULL));
                                REQUIRE(json_array_size(list) <= OSB_SCHEMA_MAX_VIOLATIONS + 1);
                                json_decref(list);
                        }
                }
        }
}

/* What backend configure() reads of a plan of the valid part (backend.h). */
static void check_valid_part(const struct catalog *c)
{
        REQUIRE(c->n_services > 0);
        for (size_t i = 0; i < c->n_services; i++) {
                const struct catalog_service *s = &c->services[i];
                REQUIRE(s->id && s->name && s->n_plans > 0);
                for (size_t j = 0; j < s->n_plans; j++) {
                        const struct catalog_plan *p = &s->plans[j];
                        REQUIRE(p->id && p->name && p->service == s && p->backend_state == NULL);
                        REQUIRE(json_is_object(p->backend) && json_is_string(json_object_get(p->backend, "type")));
                        REQUIRE(p->backend_path[0] != '\0');
                }
        }
}

static void fuzz_checked(const uint8_t *data, size_t size)
{
        int fd = memfd_create("fuzz-catalog", MFD_CLOEXEC);
        if (fd < 0)
                return;
        for (size_t off = 0; off < size;) {
                ssize_t w = write(fd, data + off, size - off);
                if (w <= 0) {
                        close(fd);
                        return;
                }
                off += (size_t) w;
        }
        char path[64];
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct catalog *c = NULL, *valid = NULL;
        char *errors = NULL;
        int r = catalog_load_checked(path, &c, &valid, &errors);
        if (r == 0) {
                REQUIRE(valid == NULL && errors == NULL);
                catalog_free(c);
        } else {
                REQUIRE(c == NULL);
                REQUIRE(valid == NULL || r == OSB_E_INVALID_CONFIG);
                if (valid)
                        check_valid_part(valid);
                catalog_free(valid);
        }
        osb_free(errors);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        struct catalog *c = NULL;
        char *errors = NULL;
        int r = catalog_load_buffer((const char *) data, size, "fuzz", &c, &errors);
        if (r == 0) {
                REQUIRE(errors == NULL);
                check_catalog(c);
                catalog_free(c);
        } else {
                REQUIRE(c == NULL);
                REQUIRE(r == OSB_E_INVALID_CONFIG || r == -EFBIG || r == -ENOMEM);
                REQUIRE(r == -ENOMEM || (errors && strncmp(errors, "fuzz: ", 6) == 0));
        }
        osb_free(errors);
        fuzz_checked(data, size);
        return 0;
}
