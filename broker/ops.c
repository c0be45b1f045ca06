/* broker/ops.c: the operation workers: operation ids on a common/osb_pool.h pool (a timer heap,
 * N threads, each with a store handle of its own) that runs each operation when it is due, and
 * the state transitions that finish one. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_pool.h"
#include "broker/backend.h"
#include "broker/lifecycle.h"
#include "broker/ops.h"

struct ops {
        struct ops_config cfg;
        struct osb_pool *pool;
        pthread_mutex_t lock;        /* the rescanner's sleep and stopping */
        pthread_cond_t rescan_cond;
        pthread_t rescanner;
        bool rescanning;
        bool stopping;
};

static json_t *parse_or_null(const char *text)
{
        return text ? json_loads(text, 0, NULL) : NULL;
}

/* Applies a finished update (the operation's request) to @inst. Returns 0 or -ENOMEM. */
static int apply_update(struct instance_row *inst, const json_t *req)
{
        json_t *params = json_object_get(req, "parameters");
        json_t *context = json_object_get(req, "context");
        osb_autofree char *ptext = params ? osb_json_dump(params, NULL) : NULL;
        osb_autofree char *ctext = context ? osb_json_dump(context, NULL) : NULL;
        if ((params && !ptext) || (context && !ctext))
                return -ENOMEM;
        static const char *const keys[] = {"plan_id", "maintenance_version", "request_key"};
        char **fields[] = {&inst->plan_id, &inst->maintenance_version, &inst->request_key};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(keys); i++) {
                const char *v = json_string_value(json_object_get(req, keys[i]));
                if (v && store_set_str(fields[i], v) < 0)
                        return -ENOMEM;
        }
        if ((ptext && store_set_str(&inst->parameters, ptext) < 0) ||
            (ctext && store_set_str(&inst->context, ctext) < 0))
                return -ENOMEM;
        return 0;
}

/* Finishes @op in a transaction with the backend's outcome @rc. */
static int finish(const struct catalog *cat, struct store *st, const char *op_id, int rc,
                  const struct osb_error *berr, struct backend_result *res)
{
        struct osb_error err = OSB_ERROR_INIT;
        int r = store_begin(st, &err);
        if (r < 0)
                return r;
        osb_auto(op_row_freep) struct op_row *op = NULL;
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        osb_auto(binding_row_freep) struct binding_row *b = NULL;
        r = store_get_op(st, op_id, &op);
        if (r < 0 || !lifecycle_op_is(op, OP_STATE_IN_PROGRESS)) {
                /* Cancelled meanwhile (a deprovision during provisioning, ...): nothing to record,
                 * once what was read is durable: it may be the change of a request batched before
                 * this one whose commit then fails (store_abandon), and then the operation still
                 * runs and is finished again. */
                int a = store_abandon(st, &err);
                if (a < 0)
                        return a;
                return r == OSB_E_NOT_FOUND ? 0 : r;
        }
        enum op_kind kind;
        if (op_kind_parse(op->kind, &kind) < 0) {
                store_rollback(st);
                return -EINVAL;
        }
        int64_t now = store_now_ms();
        bool ok = rc >= 0;
        r = store_get_instance(st, op->instance_id, &inst);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                goto rollback;
        if (op->binding_id) {
                r = store_get_binding(st, op->instance_id, op->binding_id, &b);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        goto rollback;
        }
        r = 0;
        switch (kind) {
        case OP_PROVISION:
                if (inst) {
                        r = lifecycle_instance_move(inst, ok ? INSTANCE_READY : INSTANCE_FAILED);
                        if (r < 0)
                                goto rollback;
                        if (ok && res->dashboard_url) {
                                osb_free(inst->dashboard_url);
                                inst->dashboard_url = OSB_TAKE_PTR(res->dashboard_url);
                        }
                }
                break;
        case OP_UPDATE:
                if (inst && ok) {
                        json_auto_t *req = parse_or_null(op->request);
                        r = apply_update(inst, req);
                        if (r >= 0 && res->dashboard_url)
                                r = store_set_str(&inst->dashboard_url, res->dashboard_url);
                        if (r < 0)
                                goto rollback;
                }
                if (inst)
                        r = lifecycle_instance_move(inst, INSTANCE_READY);
                if (r < 0)
                        goto rollback;
                if (!ok) {
                        op->instance_usable = 1;
                        op->update_repeatable = 1;
                }
                break;
        case OP_DEPROVISION:
                if (ok) {
                        r = store_delete_instance(st, op->instance_id);
                        if (r < 0)
                                goto rollback;
                        instance_row_free(OSB_TAKE_PTR(inst));
                } else {
                        if (inst)
                                r = lifecycle_instance_move(inst, INSTANCE_READY);
                        if (r < 0)
                                goto rollback;
                        op->instance_usable = 1;
                }
                break;
        case OP_BIND:
                if (b) {
                        r = lifecycle_binding_move(b, ok ? BINDING_READY : BINDING_FAILED);
                        if (r < 0)
                                goto rollback;
                        if (ok && res->response) {
                                osb_free(b->response);
                                b->response = osb_json_dump(res->response, NULL);
                                if (!b->response) {
                                        r = -ENOMEM;
                                        goto rollback;
                                }
                        }
                }
                break;
        case OP_UNBIND:
                if (ok) {
                        r = store_delete_binding(st, op->instance_id, op->binding_id);
                        if (r < 0)
                                goto rollback;
                        binding_row_free(OSB_TAKE_PTR(b));
                } else if (b) {
                        r = lifecycle_binding_move(b, BINDING_READY);
                        if (r < 0)
                                goto rollback;
                }
                break;
        default:
                break;
        }
        if (inst) {
                inst->updated_at = now;
                r = store_put_instance(st, inst);
                if (r < 0)
                        goto rollback;
        }
        if (b) {
                b->updated_at = now;
                r = store_put_binding(st, b);
                if (r < 0)
                        goto rollback;
        }
        r = lifecycle_op_move(op, ok ? OP_STATE_SUCCEEDED : OP_STATE_FAILED);
        if (r < 0)
                goto rollback;
        osb_free(op->description);
        op->description = ok ? NULL : osb_strdup(berr->text);
        op->finished_at = now;
        r = store_put_op(st, op);
        if (r < 0)
                goto rollback;
        return store_commit(st, &err);
rollback:
        store_rollback(st);
        return r;
}

/* Records what a backend said about an operation that is not finished (last_operation shows it
 * as the description) and when it runs next (its Retry-After). Only when the text changed: a
 * backend asked again and again writes once per new message, not once per run; except in a
 * shared store, where the time it runs next is what tells the other replicas to leave it be
 * until then (see execute()). */
static int note_progress(struct store *st, const char *op_id, const char *progress, int64_t due_at)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(op_row_freep) struct op_row *op = NULL;
        int r = store_get_op(st, op_id, &op);
        if (r < 0 || !lifecycle_op_is(op, OP_STATE_IN_PROGRESS))
                return r == OSB_E_NOT_FOUND ? 0 : r;
        bool new_text = progress && !osb_streq(op->description, progress);
        if (!new_text && !store_is_shared(st))
                return 0;
        r = store_begin(st, &err);
        if (r < 0)
                return r;
        op_row_free(OSB_TAKE_PTR(op));
        r = store_get_op(st, op_id, &op);  /* again, inside the transaction */
        if (r >= 0 && lifecycle_op_is(op, OP_STATE_IN_PROGRESS)) {
                op->due_at = due_at;
                if (new_text)
                        r = store_set_str(&op->description, progress);
                if (r >= 0)
                        r = store_put_op(st, op);
                if (r >= 0)
                        return store_commit(st, &err);
        }
        store_rollback(st);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}

static int execute(const struct catalog *cat, struct store *st, const char *op_id, bool synchronous,
                   int64_t *ret_again, struct osb_error *ret_failure)
{
        osb_auto(op_row_freep) struct op_row *op = NULL;
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        osb_auto(binding_row_freep) struct binding_row *b = NULL;
        int r = store_get_op(st, op_id, &op);
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        if (!lifecycle_op_is(op, OP_STATE_IN_PROGRESS))
                return 0;
        /* In a shared store another replica may have run a step and set when the next is due
         * (note_progress()): an asynchronous worker waits for it. */
        if (!synchronous && store_is_shared(st) && op->due_at > store_now_ms() + 100) {
                *ret_again = op->due_at;
                return 1;
        }
        enum op_kind kind;
        if (op_kind_parse(op->kind, &kind) < 0)
                return -EINVAL;

        struct osb_error berr = OSB_ERROR_INIT;
        struct backend_result res = {0};
        json_auto_t *req = parse_or_null(op->request);
        json_auto_t *inst_params = NULL, *params = NULL, *context = NULL;
        const char *plan_id = NULL;
        int rc;

        r = store_get_instance(st, op->instance_id, &inst);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return r;
        if (op->binding_id) {
                r = store_get_binding(st, op->instance_id, op->binding_id, &b);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return r;
        }
        if (inst) {
                inst_params = parse_or_null(inst->parameters);
                context = parse_or_null(inst->context);
                plan_id = inst->plan_id;
        }
        if (b) {
                params = parse_or_null(b->parameters);
                plan_id = b->plan_id;
        } else if (kind == OP_UPDATE) {
                params = json_incref(json_object_get(req, "parameters"));
                plan_id = json_string_value(json_object_get(req, "plan_id")) ?: plan_id;
        } else {
                params = json_incref(inst_params);
        }
        const struct catalog_plan *plan = plan_id ? catalog_find_plan(cat, plan_id) : NULL;
        const struct catalog_plan *previous_plan =
                kind == OP_UPDATE && inst ? catalog_find_plan(cat, inst->plan_id) : NULL;
        if (!inst || (op->binding_id && !b)) {
                rc = osb_error_set(&berr, OSB_E_GONE, "the %s no longer exists",
                                   op->binding_id ? "binding" : "instance");
        } else if (!plan) {
                rc = osb_error_set(&berr, OSB_E_INVALID_CONFIG,
                                   "plan '%s' is no longer in the broker's catalog; the %s cannot finish",
                                   plan_id ? plan_id : "", op->kind);
        } else {
                struct backend_call call = {
                        .kind = kind,
                        .plan = plan,
                        .instance_id = op->instance_id,
                        .binding_id = op->binding_id,
                        .parameters = params,
                        .instance_parameters = inst_params,
                        .context = context,
                        .previous_plan = previous_plan,
                        .operation_id = op_id,
                        .app_guid = b ? b->app_guid : NULL,
                        .synchronous = synchronous,
                };
                rc = backend_of(plan)->run(&call, &res, &berr);
                if (rc >= 0 && res.retry_after_ms > 0) {
                        *ret_again = store_now_ms() + res.retry_after_ms;
                        r = note_progress(st, op_id, res.progress, *ret_again);
                        backend_result_release(&res);
                        return r < 0 ? r : 1;
                }
        }
        r = finish(cat, st, op_id, rc, &berr, &res);
        if (r >= 0 && ret_failure)
                *ret_failure = rc < 0 ? berr : (struct osb_error) OSB_ERROR_INIT;
        if (r >= 0)
                osb_log_info("operation finished", "op=%s kind=%s instance_id=%s binding_id=%s state=%s",
                             op_id, op->kind, op->instance_id, op->binding_id,
                             lifecycle_name(LIFECYCLE_OPERATION, rc >= 0 ? OP_STATE_SUCCEEDED : OP_STATE_FAILED));
        backend_result_release(&res);
        return r;
}

/* execute() while holding the operation's claim (see store_lock_op(): replicas sharing a
 * PostgreSQL store): one that another replica runs right now is tried again in a second, by
 * when it is usually finished (and then skipped), or its runner died and this one takes over. */
static int execute_claimed(const struct catalog *cat, struct store *st, const char *op_id, bool synchronous,
                           int64_t *ret_again, struct osb_error *ret_failure)
{
        int r = store_lock_op(st, op_id);
        if (r == -EBUSY) {
                *ret_again = store_now_ms() + 1000;
                return 1;
        }
        if (r < 0)
                return r;
        r = execute(cat, st, op_id, synchronous, ret_again, ret_failure);
        store_unlock_op(st, op_id);
        return r;
}

int ops_execute(const struct catalog *cat, struct store *st, const char *op_id, int64_t *ret_again)
{
        return execute_claimed(cat, st, op_id, false, ret_again, NULL);
}

int ops_execute_sync(const struct catalog *cat, struct store *st, const char *op_id, int64_t *ret_again,
                     struct osb_error *ret_failure)
{
        return execute_claimed(cat, st, op_id, true, ret_again, ret_failure);
}

/* A worker's context: its own store handle. */
static int worker_open(void *userdata, void **worker)
{
        struct ops *o = userdata;
        struct osb_error err = OSB_ERROR_INIT;
        struct store *st = NULL;
        int r = store_open(o->cfg.db_path, o->cfg.sync, &st, &err);
        if (r < 0) {
                osb_log_error("operation worker cannot open the database", "error=%s", err.text);
                return r;
        }
        *worker = st;
        return 0;
}

static void worker_close(void *userdata, void *worker)
{
        (void) userdata;
        store_close(worker);
}

/* Runs operation @id one step; a step that is not the last schedules the next. A storage
 * failure is tried again after the pool's back-off (1 s). */
static int run_op(void *userdata, void *worker, const char *id)
{
        struct ops *o = userdata;
        int64_t again = 0;
        int r = ops_execute(o->cfg.cat, worker, id, &again);
        if (r < 0) {
                osb_log_warn("operation step failed; retrying in 1s", "op=%s error=%s", id, osb_error_name(r));
                return r;
        }
        if (r > 0 && osb_pool_add_after(o->pool, id, again - store_now_ms()) < 0)
                osb_log_warn("cannot schedule the next step; it runs at the next start", "op=%s", id);
        return 0;
}

/* Schedules @id (the pool holds an id once: one already queued or running is not doubled). */
static int schedule_missing(void *userdata, const char *id, int64_t due_at)
{
        return ops_schedule(userdata, id, due_at);
}

/* A shared store: every cfg.rescan_ms, queue the unfinished operations this replica does not
 * know, so that those of a replica that died are finished by the others (each step still runs
 * on one replica at a time: store_lock_op()). */
static void *rescanner(void *arg)
{
        struct ops *o = arg;
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(store_closep) struct store *st = NULL;
        pthread_mutex_lock(&o->lock);
        while (!o->stopping) {
                int64_t next = store_now_ms() + o->cfg.rescan_ms;
                struct timespec ts = {next / 1000, (next % 1000) * 1000000};
                while (!o->stopping && store_now_ms() < next)
                        pthread_cond_timedwait(&o->rescan_cond, &o->lock, &ts);
                if (o->stopping)
                        break;
                pthread_mutex_unlock(&o->lock);
                int r = st ? 0 : store_open(o->cfg.db_path, o->cfg.sync, &st, &err);
                if (r >= 0)
                        r = store_each_pending_op(st, schedule_missing, o);
                if (r < 0) {
                        osb_log_warn("cannot look for unfinished operations", "error=%s", osb_error_name(r));
                        st = store_close(st);
                }
                pthread_mutex_lock(&o->lock);
        }
        pthread_mutex_unlock(&o->lock);
        return NULL;
}

int ops_schedule(struct ops *o, const char *op_id, int64_t due_at)
{
        if (!o)
                return 0;
        return osb_pool_add_after(o->pool, op_id, due_at - store_now_ms());
}

size_t ops_in_flight(struct ops *o)
{
        return o ? osb_pool_pending(o->pool) : 0;
}

struct resume {
        struct ops *o;
        size_t n;
};

static int resume_one(void *userdata, const char *id, int64_t due_at)
{
        struct resume *rs = userdata;
        rs->n++;
        return ops_schedule(rs->o, id, due_at);
}

int ops_start(const struct ops_config *cfg, struct ops **ret, struct osb_error *err)
{
        struct ops *o = osb_calloc(1, sizeof(*o));
        if (!o)
                return osb_error_set(err, -ENOMEM, "out of memory");
        o->cfg = *cfg;
        pthread_mutex_init(&o->lock, NULL);
        pthread_cond_init(&o->rescan_cond, NULL);

        /* a storage failure is tried again in a second, every time */
        struct osb_pool_options po = {.workers = cfg->workers ? cfg->workers : 1, .base_delay_ms = 1000,
                                      .max_delay_ms = 1000, .worker_init = worker_open, .worker_release = worker_close};
        int r = osb_pool_new(&po, run_op, o, &o->pool);
        if (r < 0) {
                ops_stop(o);
                return osb_error_set(err, r, "cannot start operation worker threads");
        }
        struct resume rs = {o, 0};
        osb_auto(store_closep) struct store *st = NULL;
        r = store_open(cfg->db_path, cfg->sync, &st, err);
        if (r >= 0)
                r = store_each_pending_op(st, resume_one, &rs);
        if (r < 0) {
                if (!err || !err->code)
                        (void) osb_error_set(err, r, "cannot read unfinished operations");
                ops_stop(o);
                return r;
        }
        if (rs.n)
                osb_log_info("resuming unfinished operations", "count=%zu", rs.n);
        if (cfg->rescan_ms > 0) {
                if (pthread_create(&o->rescanner, NULL, rescanner, o) != 0) {
                        ops_stop(o);
                        return osb_error_set(err, -EAGAIN, "cannot start the operation rescanner thread");
                }
                o->rescanning = true;
        }
        *ret = o;
        return 0;
}

struct ops *ops_stop(struct ops *o)
{
        if (!o)
                return NULL;
        pthread_mutex_lock(&o->lock);
        o->stopping = true;
        pthread_cond_broadcast(&o->rescan_cond);
        pthread_mutex_unlock(&o->lock);
        if (o->rescanning)
                pthread_join(o->rescanner, NULL);
        o->pool = osb_pool_free(o->pool);
        pthread_mutex_destroy(&o->lock);
        pthread_cond_destroy(&o->rescan_cond);
        osb_free(o);
        return NULL;
}
