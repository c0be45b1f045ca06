/* broker/store.c: the store's front. Picks the implementation that claims a location (each a
 * struct store_impl: PostgreSQL for its URLs, SQLite for any other name) and hands every call
 * of broker/store.h to the handle's table. Holds no state of its own. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "broker/store.h"
#include "broker/store_pg.h"
#include "broker/store_sqlite.h"

/* Asked in this order; SQLite, last, claims any location. */
static const struct store_impl *const impls[] = {&store_pg_impl, &store_sqlite_impl};

static const struct store_impl *impl_for(const char *location)
{
        for (size_t i = 0; i + 1 < OSB_ELEMENTSOF(impls); i++)
                if (impls[i]->claims(location))
                        return impls[i];
        return impls[OSB_ELEMENTSOF(impls) - 1];
}

int store_parse_sync(const char *s, enum store_sync *ret)
{
        if (osb_streq(s, "off"))
                *ret = STORE_SYNC_OFF;
        else if (osb_streq(s, "normal"))
                *ret = STORE_SYNC_NORMAL;
        else if (osb_streq(s, "full"))
                *ret = STORE_SYNC_FULL;
        else
                return -EINVAL;
        return 0;
}

char *store_redact_location(const char *location)
{
        const struct store_impl *impl = impl_for(location);
        return impl->redact_location ? impl->redact_location(location) : osb_strdup(location);
}

bool store_location_is_shared(const char *location)
{
        return impl_for(location)->shared;
}

int store_open(const char *path, enum store_sync sync, struct store **ret, struct osb_error *err)
{
        return impl_for(path)->open(path, sync, ret, err);
}

struct store *store_close(struct store *st)
{
        if (st)
                st->impl->close(st);
        return NULL;
}

unsigned store_schema_version(struct store *st)
{
        return st->impl->schema_version(st);
}

int store_ping(struct store *st)
{
        return st->impl->ping(st);
}

int store_check(struct store *st, struct osb_error *err)
{
        return st->impl->check ? st->impl->check(st, err) : 0;
}

int store_begin(struct store *st, struct osb_error *err)
{
        return st->impl->begin(st, err);
}

int store_commit(struct store *st, struct osb_error *err)
{
        return st->impl->commit(st, err);
}

void store_rollback(struct store *st)
{
        st->impl->rollback(st);
}

int store_abandon(struct store *st, struct osb_error *err)
{
        if (st->impl->abandon)
                return st->impl->abandon(st, err);
        st->impl->rollback(st);
        return 0;
}

int store_get_instance(struct store *st, const char *id, struct instance_row **ret)
{
        return st->impl->get_instance(st, id, ret);
}

int store_get_binding(struct store *st, const char *instance_id, const char *id,
                      struct binding_row **ret)
{
        return st->impl->get_binding(st, instance_id, id, ret);
}

int store_get_op(struct store *st, const char *id, struct op_row **ret)
{
        return st->impl->get_op(st, id, ret);
}

int store_latest_op(struct store *st, const char *instance_id, const char *binding_id,
                    const char *kind, struct op_row **ret)
{
        return st->impl->latest_op(st, instance_id, binding_id, kind, ret);
}

int store_put_instance(struct store *st, const struct instance_row *r)
{
        return st->impl->put_instance(st, r);
}

int store_put_binding(struct store *st, const struct binding_row *r)
{
        return st->impl->put_binding(st, r);
}

int store_put_op(struct store *st, const struct op_row *r)
{
        return st->impl->put_op(st, r);
}

int store_delete_instance(struct store *st, const char *id)
{
        return st->impl->delete_instance(st, id);
}

int store_delete_binding(struct store *st, const char *instance_id, const char *id)
{
        return st->impl->delete_binding(st, instance_id, id);
}

int store_count_bindings(struct store *st, const char *instance_id, int64_t *ret)
{
        return st->impl->count_bindings(st, instance_id, ret);
}

int store_count(struct store *st, int64_t *ret_instances, int64_t *ret_bindings,
                int64_t *ret_ops_in_progress)
{
        return st->impl->count(st, ret_instances, ret_bindings, ret_ops_in_progress);
}

int store_each_pending_op(struct store *st, int (*fn)(void *userdata, const char *id, int64_t due_at),
                          void *userdata)
{
        return st->impl->each_pending_op(st, fn, userdata);
}

int store_lock_op(struct store *st, const char *op_id)
{
        return st->impl->lock_op ? st->impl->lock_op(st, op_id) : 0;
}

void store_unlock_op(struct store *st, const char *op_id)
{
        if (st->impl->unlock_op)
                st->impl->unlock_op(st, op_id);
}

bool store_is_shared(const struct store *st)
{
        return st->impl->shared;
}

int store_checkpointer_start(const char *path, unsigned interval_ms, struct store_checkpointer **ret,
                             struct osb_error *err)
{
        const struct store_impl *impl = impl_for(path);
        *ret = NULL;
        return impl->checkpointer_start ? impl->checkpointer_start(path, interval_ms, ret, err) : 0;
}

struct store_checkpointer *store_checkpointer_stop(struct store_checkpointer *c)
{
        if (c)
                c->impl->checkpointer_stop(c);
        return NULL;
}
