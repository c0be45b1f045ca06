/* broker/backend_postgresql.c: the "postgresql" backend (being written; see docs/backends.md). */
#include "common/osb_compat.h"
#include "broker/backend.h"

static int postgresql_configure(struct catalog_plan *plan, struct osb_error *err)
{
        return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s.type: the postgresql backend is not built yet",
                             plan->backend_path);
}

static void postgresql_release(struct catalog_plan *plan)
{
        plan->backend_state = NULL;
}

const struct backend backend_postgresql = {
        .type = "postgresql",
        .blocking = true,
        .configure = postgresql_configure,
        .release = postgresql_release,
};
