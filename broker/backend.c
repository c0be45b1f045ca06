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

int backend_problem(struct backend_problems *bp, const char *fmt, ...)
{
        char msg[700];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        bp->count++;
        int r = osb_buf_appendf(bp->buf, "%.300s: %s\n", bp->source, msg);
        if (r == -ENOMEM)
                bp->oom = true;
        else if (r < 0)
                bp->truncated = true;
        return OSB_E_INVALID_CONFIG;
}

int backend_setting_async(const json_t *cfg, const char *path, const char *key, enum backend_async *ret,
                          struct backend_problems *bp)
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
                return backend_problem(bp, "%s.%s: must be \"never\", \"optional\" or \"required\"", path, key);
        return 0;
}

int backend_setting_duration(const json_t *cfg, const char *path, const char *key, int64_t min_ms,
                             int64_t max_ms, int64_t *ret, struct backend_problems *bp)
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
                return backend_problem(bp, "%s.%s: must be a duration such as \"500ms\" or \"2s\"", path, key);
        if (max_ms >= 0 && ms > max_ms)
                return backend_problem(bp, "%s.%s: must be at most %" PRId64 "s", path, key, max_ms / 1000);
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
        struct backend_problems bp = {.source = cat->source, .buf = &errors};
        int r = 0;
        for (size_t i = 0; i < cat->n_services && r != -ENOMEM; i++)
                for (size_t j = 0; j < cat->services[i].n_plans && r != -ENOMEM; j++) {
                        struct catalog_plan *p = &cat->services[i].plans[j];
                        const char *type = json_string_value(json_object_get(p->backend, "type"));
                        const struct backend *be = NULL;
                        for (unsigned k = 0; k < OSB_ELEMENTSOF(backends); k++)
                                if (osb_streq(type, backends[k]->type))
                                        be = backends[k];
                        if (!be)
                                (void) backend_problem(&bp, "%s.type: unknown backend '%.100s' (known: static, exec, postgresql)",
                                                       p->backend_path, type ? type : "");
                        else if (be->configure(p, &bp) == -ENOMEM)
                                r = -ENOMEM;
                }
        if (r == 0 && bp.count == 0 && !bp.oom) {
                osb_buf_release(&errors);
                return 0;
        }
        backend_release_catalog(cat);
        if (r == -ENOMEM || bp.oom) {
                osb_buf_release(&errors);
                *ret_errors = osb_asprintf("%s: out of memory while checking the backend settings", cat->source);
                return -ENOMEM;
        }
        if (bp.truncated) {
                errors.max += 1024;  /* room for the note */
                if (osb_buf_appendf(&errors, "%.300s: (more problems not shown)\n", cat->source) == -ENOMEM) {
                        osb_buf_release(&errors);
                        return -ENOMEM;
                }
        }
        errors.data[errors.len - 1] = '\0';
        *ret_errors = osb_buf_detach(&errors, NULL);
        return *ret_errors ? OSB_E_INVALID_CONFIG : -ENOMEM;
}

int backend_load_catalog(const char *path, struct catalog **ret, char **ret_errors)
{
        struct catalog *cat = NULL, *valid = NULL;
        char *errors = NULL;
        int r = catalog_load_checked(path, &cat, &valid, &errors);
        if (r >= 0) {
                r = backend_configure_catalog(cat, &errors);
                if (r < 0) {
                        catalog_free(cat);
                        *ret_errors = errors;
                        return r;
                }
                *ret = cat;
                return 0;
        }
        if (valid) {
                char *more = NULL;
                if (backend_configure_catalog(valid, &more) == 0)
                        backend_release_catalog(valid);
                catalog_free(valid);
                if (more && errors) {
                        char *both = osb_asprintf("%s\n%s", errors, more);
                        if (both) {
                                osb_free(errors);
                                errors = both;
                        }
                }
                osb_free(more);
        }
        *ret_errors = errors;
        return r;
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
