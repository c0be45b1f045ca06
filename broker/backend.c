/* broker/backend.c: the backend registry and per-catalog configuration. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "broker/backend.h"

static const struct backend *const backends[] = {&backend_static, &backend_exec, &backend_postgresql};

static const char *const kind_names[OP_KIND_MAX] = {
        [OP_PROVISION] = "provision", [OP_UPDATE] = "update", [OP_DEPROVISION] = "deprovision",
        [OP_BIND] = "bind", [OP_UNBIND] = "unbind",
};

const char *op_kind_name(enum op_kind k)
{
        return k < OP_KIND_MAX ? kind_names[k] : "unknown";
}

int op_kind_parse(const char *s, enum op_kind *ret)
{
        for (unsigned i = 0; i < OP_KIND_MAX; i++)
                if (osb_streq(s, kind_names[i])) {
                        *ret = (enum op_kind) i;
                        return 0;
                }
        return -EINVAL;
}

void backend_result_release(struct backend_result *res)
{
        json_decref(res->response);
        osb_free(res->dashboard_url);
        osb_free(res->progress);
        *res = (struct backend_result){0};
}

int backend_setting_async(const json_t *cfg, const char *path, const char *key, enum backend_async *ret,
                          struct osb_error *err)
{
        const json_t *v = json_object_get(cfg, key);
        if (!v)
                return 0;
        const char *s = json_string_value(v);
        if (osb_streq(s, "never"))
                *ret = BACKEND_ASYNC_NEVER;
        else if (osb_streq(s, "optional"))
                *ret = BACKEND_ASYNC_OPTIONAL;
        else if (osb_streq(s, "required"))
                *ret = BACKEND_ASYNC_REQUIRED;
        else
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "%s.%s: must be \"never\", \"optional\" or \"required\"", path, key);
        return 0;
}

int backend_setting_duration(const json_t *cfg, const char *path, const char *key, int64_t min_ms,
                             int64_t max_ms, int64_t *ret, struct osb_error *err)
{
        const json_t *v = json_object_get(cfg, key);
        int64_t ms = -1;
        if (!v)
                return 0;
        if (json_is_integer(v))
                ms = json_integer_value(v);
        else if (json_is_string(v) && osb_parse_duration_ms(json_string_value(v), &ms) < 0)
                ms = -1;
        if (ms < 0 || ms < min_ms)
                return osb_error_set(err, OSB_E_INVALID_CONFIG,
                                     "%s.%s: must be a duration such as \"500ms\" or \"2s\"", path, key);
        if (max_ms >= 0 && ms > max_ms)
                return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s.%s: must be at most %" PRId64 "s",
                                     path, key, max_ms / 1000);
        *ret = ms;
        return 0;
}

bool backend_env_name_valid(const char *s)
{
        if (!*s || isdigit((unsigned char) *s))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '_')
                        return false;
        return true;
}

const struct backend *backend_of(const struct catalog_plan *plan)
{
        return *(const struct backend *const *) plan->backend_state;
}

int backend_configure_catalog(struct catalog *cat, char **ret_errors)
{
        struct osb_buf errors;
        osb_buf_init(&errors, 64 * 1024);
        for (size_t i = 0; i < cat->n_services; i++)
                for (size_t j = 0; j < cat->services[i].n_plans; j++) {
                        struct catalog_plan *p = &cat->services[i].plans[j];
                        const char *type = json_string_value(json_object_get(p->backend, "type"));
                        const struct backend *be = NULL;
                        for (unsigned k = 0; k < OSB_ELEMENTSOF(backends); k++)
                                if (osb_streq(type, backends[k]->type))
                                        be = backends[k];
                        struct osb_error err = OSB_ERROR_INIT;
                        if (!be)
                                (void) osb_error_set(&err, OSB_E_INVALID_CONFIG,
                                                     "%s.type: unknown backend '%s' (known: static, exec, postgresql)",
                                                     p->backend_path, type ? type : "");
                        else if (be->configure(p, &err) >= 0)
                                continue;
                        if (osb_buf_appendf(&errors, "%s: %s\n", cat->source, err.text) < 0 &&
                            errors.len == 0)
                                return -ENOMEM;  /* cannot even report it */
                }
        if (errors.len == 0) {
                osb_buf_release(&errors);
                return 0;
        }
        backend_release_catalog(cat);
        errors.data[errors.len - 1] = '\0';
        *ret_errors = osb_buf_detach(&errors, NULL);
        return OSB_E_INVALID_CONFIG;
}

void backend_release_catalog(struct catalog *cat)
{
        if (!cat)
                return;
        for (size_t i = 0; i < cat->n_services; i++)
                for (size_t j = 0; j < cat->services[i].n_plans; j++) {
                        struct catalog_plan *p = &cat->services[i].plans[j];
                        if (p->backend_state)
                                backend_of(p)->release(p);
                        p->backend_state = NULL;
                }
}
