/* broker/store_types.c: the rows and helpers that both store implementations share. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "broker/migrations.h"
#include "broker/store_types.h"

int store_schema_known(unsigned have, const struct migration *list, unsigned n, struct osb_error *err)
{
        unsigned known = n ? list[n - 1].version : 0;
        if (have <= known)
                return 0;
        return osb_error_set(err, OSB_E_INVALID_CONFIG,
                             "the database has schema version %u, written by a newer "
                             "osb-broker; this binary knows versions up to %u. Run the "
                             "newer osb-broker, or restore a backup made before the upgrade",
                             have, known);
}

int64_t store_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store_set_str(char **field, const char *value)
{
        char *v = NULL;
        if (value) {
                v = osb_strdup(value);
                if (!v)
                        return -ENOMEM;
        }
        osb_free(*field);
        *field = v;
        return 0;
}

void instance_row_free(struct instance_row *r)
{
        if (!r)
                return;
        char **f[] = {&r->id, &r->service_id, &r->plan_id, &r->request_key, &r->parameters,
                      &r->context, &r->organization_guid, &r->space_guid, &r->maintenance_version,
                      &r->dashboard_url, &r->metadata, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                osb_free(*f[i]);
        osb_free(r);
}

void binding_row_free(struct binding_row *r)
{
        if (!r)
                return;
        char **f[] = {&r->instance_id, &r->id, &r->service_id, &r->plan_id, &r->request_key,
                      &r->parameters, &r->context, &r->app_guid, &r->predecessor_id,
                      &r->response, &r->state, &r->op_id};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                osb_free(*f[i]);
        osb_free(r);
}

void op_row_free(struct op_row *r)
{
        if (!r)
                return;
        char **f[] = {&r->id, &r->kind, &r->instance_id, &r->binding_id, &r->state,
                      &r->description, &r->request};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(f); i++)
                osb_free(*f[i]);
        osb_free(r);
}
