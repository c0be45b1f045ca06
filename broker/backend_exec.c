/* broker/backend_exec.c: the "exec" backend (being written; see docs/backends.md). */
#include "common/osb_compat.h"
#include "broker/backend.h"

static int exec_configure(struct catalog_plan *plan, struct osb_error *err)
{
        return osb_error_set(err, OSB_E_INVALID_CONFIG, "%s.type: the exec backend is not built yet",
                             plan->backend_path);
}

static void exec_release(struct catalog_plan *plan)
{
        plan->backend_state = NULL;
}

const struct backend backend_exec = {
        .type = "exec",
        .blocking = true,
        .configure = exec_configure,
        .release = exec_release,
};
