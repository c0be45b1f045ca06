/* broker/api.c: the OSB endpoints. Every decision that depends on stored state (idempotent
 * repeat, conflict, concurrency, gone) is taken inside one write transaction (store_begin(), a
 * request's own part of a group-committed batch with SQLite), so 50 identical concurrent
 * requests create exactly one resource and the rest see it; an answer is sent only once what
 * it was decided on is committed. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "broker/api.h"
#include "broker/backend.h"
#include "broker/lifecycle.h"
#include "broker/request.h"
#include "common/osb_schema.h"

#include <uuid/uuid.h>

/* ---- plumbing ---------------------------------------------------------------------------- */

static void close_thread_store(void *p)
{
        store_close(p);
}

int api_init(struct api *api, const struct catalog *cat, struct ops *ops, const char *db_path,
             enum store_sync sync)
{
        *api = (struct api){.cat = cat, .ops = ops, .db_path = db_path, .sync = sync,
                            .sync_timeout_ms = 50 * 1000};
        return pthread_key_create(&api->store_key, close_thread_store) == 0 ? 0 : -EAGAIN;
}

void api_release(struct api *api)
{
        struct store *st = pthread_getspecific(api->store_key);
        if (st) {
                store_close(st);
                pthread_setspecific(api->store_key, NULL);
        }
        pthread_key_delete(api->store_key);
}

struct store *api_store(struct api *api, struct osb_error *err)
{
        struct store *st = pthread_getspecific(api->store_key);
        if (st)
                return st;
        if (store_open(api->db_path, api->sync, &st, err) < 0)
                return NULL;
        if (pthread_setspecific(api->store_key, st) != 0) {
                store_close(st);
                (void) osb_error_set(err, -ENOMEM, "out of memory");
                return NULL;
        }
        return st;
}

void api_response_release(struct api_response *resp)
{
        json_decref(resp->body);
        *resp = (struct api_response){.retry_after_s = -1};
}

static void respond(struct api_response *resp, unsigned status, json_t *body)
{
        json_decref(resp->body);
        resp->status = status;
        resp->body = body ? body : json_object();
        resp->retry_after_s = -1;
}

void api_response_error(struct api_response *resp, const struct osb_error *err)
{
        json_t *body = json_object();
        const char *name = osb_error_osb_name(err->code);
        if (name)
                json_object_set_new(body, "error", json_string(name));
        if (!osb_error_is_domain(err->code) && err->code == -ENOMEM) {
                json_object_set_new(body, "description", json_string("the broker ran out of memory"));
        } else if (!osb_error_is_domain(err->code) &&
                   (err->code == -EIO || err->code == -ENOSPC || err->code == -EUCLEAN || err->code == -EROFS)) {
                /* The store's faults: say what failed, never where (no file names or URLs). */
                char text[sizeof(err->text) + 96];
                (void) snprintf(text, sizeof(text), "%s: the broker's storage failed (%s)",
                                err->text[0] ? err->text : "internal error",
                                err->code == -ENOSPC    ? "it is full"
                                : err->code == -EUCLEAN ? "its database is damaged"
                                : err->code == -EROFS   ? "it is read-only"
                                                        : "an I/O error");
                json_object_set_new(body, "description", json_string(text));
        } else
                json_object_set_new(body, "description",
                                    json_string(err->text[0] ? err->text : "internal error"));
        respond(resp, osb_error_http_status(err->code), body);
}

/* An error of a failed update or deprovision: the instance is still usable. */
static void respond_error_usable(struct api_response *resp, const struct osb_error *err,
                                 bool update)
{
        api_response_error(resp, err);
        json_object_set_new(resp->body, "instance_usable", json_true());
        if (update)
                json_object_set_new(resp->body, "update_repeatable", json_true());
}

/* An open transaction and the answer decided in it. Leaving the scope without a commit rolls
 * it back; when the batch whose changes the request read then fails to commit (store_abandon()),
 * the answer, decided on state never stored, becomes that failure. */
struct tx {
        struct store *st;  /* NULL once committed */
        struct api_response *resp;
};

static void tx_abandonp(struct tx *tx)
{
        if (!tx->st)
                return;
        struct osb_error err = OSB_ERROR_INIT;
        if (store_abandon(tx->st, &err) < 0)
                api_response_error(tx->resp, &err);
}
#define TX osb_auto(tx_abandonp) struct tx

static void new_op_id(char out[37])
{
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, out);
}

/* Canonical text of the attributes that decide "identical" vs "conflict". New (osb_free). */
static char *request_key(const char *const *keys, json_t *const *values, size_t n)
{
        json_auto_t *o = json_object();
        for (size_t i = 0; o && i < n; i++)
                if (values[i] && json_object_set(o, keys[i], values[i]) < 0)
                        return NULL;
        return o ? osb_json_dump(o, NULL) : NULL;
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : NULL;
}

static json_t *parse_text(const char *text)
{
        return text ? json_loads(text, 0, NULL) : NULL;
}

static int resolve_plan(const struct catalog *cat, const char *service_id, const char *plan_id,
                        const struct catalog_plan **ret, struct osb_error *err)
{
        const struct catalog_service *svc = catalog_find_service(cat, service_id);
        if (!svc)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "service_id '%s' is not a service of this broker's catalog", service_id);
        const struct catalog_plan *plan = catalog_find_plan(cat, plan_id);
        if (!plan || plan->service != svc)
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "plan_id '%s' is not a plan of service '%s'", plan_id, svc->name);
        *ret = plan;
        return 0;
}

static int check_params(const json_t *schema, const json_t *params, struct osb_error *err)
{
        if (!schema || !params)
                return 0;
        return osb_schema_validate(schema, params, "parameters", err);
}

static int check_maintenance(const struct catalog_plan *plan, const char *version,
                             struct osb_error *err)
{
        if (!version || osb_streq(version, plan->maintenance_version))
                return 0;
        if (!plan->maintenance_version)
                return osb_error_set(err, OSB_E_MAINT_INFO,
                                     "maintenance_info.version '%s' was given but plan '%s' has no maintenance_info",
                                     version, plan->name);
        return osb_error_set(err, OSB_E_MAINT_INFO,
                             "maintenance_info.version '%s' does not match the version '%s' of plan '%s'",
                             version, plan->maintenance_version, plan->name);
}

/* Writes a new in-progress operation row. */
static int insert_op(struct store *st, enum op_kind kind, const char *instance_id,
                     const char *binding_id, const char *request, int64_t due, char id[37])
{
        new_op_id(id);
        int64_t now = store_now_ms();
        struct op_row op = {
                .id = id,
                .kind = (char *) op_kind_name(kind),
                .instance_id = (char *) instance_id,
                .binding_id = (char *) binding_id,
                .state = (char *) lifecycle_initial(LIFECYCLE_OPERATION, OP_STATE_IN_PROGRESS),
                .request = (char *) request,
                .due_at = due,
                .instance_usable = -1,
                .update_repeatable = -1,
                .created_at = now,
        };
        return store_put_op(st, &op);
}

/* Marks an in-progress operation failed because a delete overtook it. */
static int cancel_op(struct store *st, const char *op_id, const char *why)
{
        osb_auto(op_row_freep) struct op_row *op = NULL;
        if (!op_id)
                return 0;
        int r = store_get_op(st, op_id, &op);
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0 || !lifecycle_op_is(op, OP_STATE_IN_PROGRESS))
                return r;
        r = lifecycle_op_move(op, OP_STATE_FAILED);
        if (r < 0)
                return r;
        if (store_set_str(&op->description, why) < 0)
                return -ENOMEM;
        op->finished_at = store_now_ms();
        return store_put_op(st, op);
}

static json_t *instance_body(const struct instance_row *inst, const char *op_id)
{
        json_t *b = json_object();
        if (inst->dashboard_url)
                json_object_set_new(b, "dashboard_url", json_string(inst->dashboard_url));
        if (inst->metadata)
                json_object_set_new(b, "metadata", parse_text(inst->metadata));
        if (op_id)
                json_object_set_new(b, "operation", json_string(op_id));
        return b;
}

static json_t *operation_body(const char *op_id)
{
        json_t *b = json_object();
        json_object_set_new(b, "operation", json_string(op_id));
        return b;
}

/* How one request runs its operation (backend.h, "Blocking"), decided once by dispatch_init():
 * - async: recorded in the request's transaction, scheduled on the operation workers after the
 *   commit, answered 202;
 * - inline_run (synchronous, blocking backend): recorded the same way, then run on the request
 *   thread outside the write lock (run_inline());
 * - neither (synchronous, non-blocking backend): nothing is recorded; the endpoint calls run()
 *   inside its transaction and commits the outcome with the state change.
 * Every endpoint with an operation (provision, update, deprovision, bind, unbind) goes
 * dispatch_init(), dispatch_check(), then for a recorded one dispatch_record() before its commit
 * and dispatch_answer() after it. */
struct dispatch {
        enum op_kind kind;
        const char *instance_id, *binding_id;  /* borrowed; binding_id NULL for an instance */
        enum backend_async mode;
        bool accepts_incomplete, async, inline_run;
        int64_t due;                           /* recorded: when the operation is first due */
        char op_id[37];                        /* recorded: its id */
};

static void dispatch_init(struct dispatch *d, enum op_kind kind, const struct catalog_plan *plan,
                          bool accepts_incomplete, const char *instance_id, const char *binding_id)
{
        const struct backend *be = backend_of(plan);
        *d = (struct dispatch){
                .kind = kind, .instance_id = instance_id, .binding_id = binding_id,
                .mode = be->async_mode(plan, kind), .accepts_incomplete = accepts_incomplete,
        };
        d->async = d->mode != BACKEND_ASYNC_NEVER && accepts_incomplete;
        d->inline_run = !d->async && be->blocking;
}

/* 0, or OSB_E_ASYNC_REQUIRED when the plan runs this kind only asynchronously and the platform
 * did not accept that. */
static int dispatch_check(const struct dispatch *d, const struct catalog_plan *plan, struct osb_error *err)
{
        static const char *const done[OP_KIND_MAX] = {
                [OP_PROVISION] = "provisioned", [OP_UPDATE] = "updated", [OP_DEPROVISION] = "deprovisioned",
                [OP_BIND] = "bound", [OP_UNBIND] = "unbound",
        };
        if (d->mode != BACKEND_ASYNC_REQUIRED || d->accepts_incomplete)
                return 0;
        return osb_error_set(err, OSB_E_ASYNC_REQUIRED,
                             "plan '%s' can only be %s asynchronously; send accepts_incomplete=true",
                             plan->name, done[d->kind]);
}

/* Whether @plan runs @kind only synchronously: an operation of it found in progress is another
 * request's, still running, never one a platform may follow with last_operation. */
static bool never_async(const struct catalog_plan *plan, enum op_kind kind)
{
        return backend_of(plan)->async_mode(plan, kind) == BACKEND_ASYNC_NEVER;
}

static bool dispatch_recorded(const struct dispatch *d)
{
        return d->async || d->inline_run;
}

/* Records the operation in the open transaction (@request: JSON text for the worker, or NULL),
 * due at once, or after the backend's first-run delay when asynchronous. */
static int dispatch_record(struct dispatch *d, struct store *st, const struct catalog_plan *plan,
                           const char *request, int64_t now)
{
        d->due = d->async ? now + backend_of(plan)->first_run_delay_ms(plan, d->kind) : now;
        return insert_op(st, d->kind, d->instance_id, d->binding_id, request, d->due, d->op_id);
}

static void run_inline(struct api *api, struct store *st, const struct dispatch *d,
                       const char *old_dashboard, struct api_response *resp);

/* After the commit of a recorded operation: runs it here (inline_run), or schedules it and
 * answers 202 with @accepted (taken; NULL: {"operation": id}). @old_dashboard: run_inline(). */
static void dispatch_answer(struct api *api, struct store *st, const struct dispatch *d,
                            const char *old_dashboard, json_t *accepted, struct api_response *resp)
{
        if (!d->async) {
                json_decref(accepted);
                return run_inline(api, st, d, old_dashboard, resp);
        }
        (void) ops_schedule(api->ops, d->op_id, d->due);
        respond(resp, 202, accepted ? accepted : operation_body(d->op_id));
}

/* Answers a synchronous request to a blocking backend (backend.h, "Blocking"): operation @op_id
 * is committed but not scheduled; it runs here, outside the write lock, again and again while
 * the backend answers "not finished", until it finishes or api->sync_timeout_ms passes (then it
 * goes on in the background and the platform is told how to follow it). The answer is the one
 * the synchronous path of its kind gives: the stored rows for a success, the backend's error
 * for a failure. @old_dashboard: update only, the dashboard URL before. */
static void run_inline(struct api *api, struct store *st, const struct dispatch *d,
                       const char *old_dashboard, struct api_response *resp)
{
        enum op_kind kind = d->kind;
        const char *instance_id = d->instance_id, *binding_id = d->binding_id, *op_id = d->op_id;
        struct osb_error failure = OSB_ERROR_INIT;
        int64_t deadline = store_now_ms() + api->sync_timeout_ms;
        int r;
        for (;;) {
                int64_t again = 0;
                r = ops_execute_sync(api->cat, st, op_id, &again, &failure);
                if (r == 0)
                        break;
                if (r < 0 || again > deadline) {
                        /* The operation is durable: the workers finish it. */
                        (void) ops_schedule(api->ops, op_id, r < 0 ? store_now_ms() + 1000 : again);
                        struct osb_error err = OSB_ERROR_INIT;
                        if (r < 0)
                                (void) osb_error_set(&err, r, "the %s could not be recorded; it will be "
                                                     "retried in the background (operation %s)",
                                                     op_kind_name(kind), op_id);
                        else
                                (void) osb_error_set(&err, OSB_E_BACKEND,
                                                     "the %s did not finish within %" PRId64 "s; it goes on in "
                                                     "the background (operation %s): repeat the request with "
                                                     "accepts_incomplete=true to follow it",
                                                     op_kind_name(kind), api->sync_timeout_ms / 1000, op_id);
                        return api_response_error(resp, &err);
                }
                osb_sleep_ms(again - store_now_ms());
        }

        osb_auto(op_row_freep) struct op_row *op = NULL;
        r = store_get_op(st, op_id, &op);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the operation"});
        if (!lifecycle_op_is(op, OP_STATE_SUCCEEDED)) {
                if (failure.code >= 0)  /* cancelled by a delete meanwhile, or finished elsewhere */
                        (void) osb_error_set(&failure, OSB_E_BACKEND, "%s",
                                             op->description ? op->description : "the operation failed");
                if (kind == OP_UPDATE || kind == OP_DEPROVISION)
                        return respond_error_usable(resp, &failure, kind == OP_UPDATE);
                return api_response_error(resp, &failure);
        }
        switch (kind) {
        case OP_PROVISION:
        case OP_UPDATE: {
                osb_auto(instance_row_freep) struct instance_row *inst = NULL;
                r = store_get_instance(st, instance_id, &inst);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
                if (kind == OP_PROVISION)
                        return respond(resp, 201, instance_body(inst, NULL));
                json_t *body = json_object();
                if (inst->dashboard_url && !osb_streq(inst->dashboard_url, old_dashboard))
                        json_object_set_new(body, "dashboard_url", json_string(inst->dashboard_url));
                return respond(resp, 200, body);
        }
        case OP_BIND: {
                osb_auto(binding_row_freep) struct binding_row *b = NULL;
                r = store_get_binding(st, instance_id, binding_id, &b);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot read the binding"});
                return respond(resp, 201, parse_text(b->response));
        }
        default:
                return respond(resp, 200, NULL);
        }
}

/* ---- instances ------------------------------------------------------------------------- */

/* Records @d's operation on the stored instance @inst (in the open transaction @tx, which this
 * commits), moving it to @to. Returns 0 or a negative code (the transaction rolled back by the
 * caller's cleanup). */
static int record_instance_op(struct store *st, struct store **tx, struct dispatch *d,
                              const struct catalog_plan *plan, struct instance_row *inst,
                              enum instance_state to, const char *request, int64_t now,
                              struct osb_error *err)
{
        int r = dispatch_record(d, st, plan, request, now);
        if (r >= 0)
                r = lifecycle_instance_move(inst, to);
        if (r >= 0 && store_set_str(&inst->op_id, d->op_id) < 0)
                r = -ENOMEM;
        inst->updated_at = now;
        if (r >= 0)
                r = store_put_instance(st, inst);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(*tx), err);
        return r;
}

void api_provision(struct api *api, struct store *st, const char *instance_id,
                   bool accepts_incomplete, const char *data, size_t len, struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(provision_req_releasep) struct provision_req req = {0};
        const struct catalog_plan *plan = NULL;

        if (request_parse_provision(data, len, &req, &err) < 0 ||
            resolve_plan(api->cat, req.service_id, req.plan_id, &plan, &err) < 0 ||
            check_params(plan->schema_create, req.parameters, &err) < 0 ||
            check_maintenance(plan, req.maintenance_version, &err) < 0)
                return api_response_error(resp, &err);

        static const char *const keys[] = {"service_id", "plan_id", "organization_guid",
                                           "space_guid", "parameters", "context"};
        json_auto_t *svc = json_string(req.service_id), *pl = json_string(req.plan_id),
                    *org = json_string(req.organization_guid), *space = json_string(req.space_guid);
        json_t *values[] = {svc, pl, org, space, req.parameters, req.context};
        osb_autofree char *key = request_key(keys, values, OSB_ELEMENTSOF(keys));
        osb_autofree char *params = req.parameters ? osb_json_dump(req.parameters, NULL) : NULL;
        osb_autofree char *context = req.context ? osb_json_dump(req.context, NULL) : NULL;
        if (!key || (req.parameters && !params) || (req.context && !context))
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});

        const struct backend *be = backend_of(plan);
        struct dispatch d;
        dispatch_init(&d, OP_PROVISION, plan, accepts_incomplete, instance_id, NULL);

        if (store_begin(st, &err) < 0)
                return api_response_error(resp, &err);
        TX tx = {st, resp};
        osb_auto(instance_row_freep) struct instance_row *old = NULL;
        int r = store_get_instance(st, instance_id, &old);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        if (old && lifecycle_instance_is(old, INSTANCE_FAILED)) {
                /* A failed provision left only its record: a new provision replaces it. */
                instance_row_free(OSB_TAKE_PTR(old));
        }
        if (old) {
                if (!osb_streq(old->request_key, key))
                        return (void) osb_error_set(&err, OSB_E_CONFLICT,
                                                    "instance '%s' already exists with different attributes",
                                                    instance_id),
                               api_response_error(resp, &err);
                if (lifecycle_instance_is(old, INSTANCE_READY))
                        return respond(resp, 200, instance_body(old, NULL));
                if (lifecycle_instance_is(old, INSTANCE_PROVISIONING) && never_async(plan, OP_PROVISION)) {
                        (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                             "instance '%s' is being provisioned by another request", instance_id);
                        return api_response_error(resp, &err);
                }
                if (lifecycle_instance_is(old, INSTANCE_PROVISIONING)) {
                        if (accepts_incomplete)
                                return respond(resp, 202, instance_body(old, old->op_id));
                        (void) osb_error_set(&err, OSB_E_ASYNC_REQUIRED,
                                             "instance '%s' is being provisioned asynchronously; "
                                             "repeat the request with accepts_incomplete=true", instance_id);
                        return api_response_error(resp, &err);
                }
                (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                     "instance '%s' has another operation in progress (%s)", instance_id,
                                     old->state);
                return api_response_error(resp, &err);
        }
        if (dispatch_check(&d, plan, &err) < 0)
                return api_response_error(resp, &err);

        int64_t now = store_now_ms();
        struct instance_row inst = {
                .id = (char *) instance_id,
                .service_id = (char *) req.service_id,
                .plan_id = (char *) req.plan_id,
                .request_key = key,
                .parameters = params,
                .context = context,
                .organization_guid = (char *) req.organization_guid,
                .space_guid = (char *) req.space_guid,
                .maintenance_version = (char *) plan->maintenance_version,
                .created_at = now,
                .updated_at = now,
        };
        struct backend_call call = {
                .kind = OP_PROVISION, .plan = plan, .instance_id = instance_id,
                .parameters = req.parameters, .instance_parameters = req.parameters,
                .context = req.context, .synchronous = !d.async,
        };
        struct backend_result res = {0};

        if (dispatch_recorded(&d)) {
                r = dispatch_record(&d, st, plan, NULL, now);
                inst.state = (char *) lifecycle_initial(LIFECYCLE_INSTANCE, INSTANCE_PROVISIONING);
                inst.op_id = d.op_id;
                /* A dashboard URL must be in the first response, even for an async provision. */
                if (r >= 0 && d.async && be->dashboard_url) {
                        res.dashboard_url = be->dashboard_url(&call);
                        inst.dashboard_url = res.dashboard_url;
                }
        } else {
                r = be->run(&call, &res, &err);
                if (r < 0) {
                        backend_result_release(&res);
                        return api_response_error(resp, &err);
                }
                inst.state = (char *) lifecycle_initial(LIFECYCLE_INSTANCE, INSTANCE_READY);
                inst.dashboard_url = res.dashboard_url;
        }
        if (r >= 0)
                r = store_put_instance(st, &inst);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(tx.st), &err);
        if (r < 0) {
                backend_result_release(&res);
                return api_response_error(resp, &(struct osb_error){r, "cannot store the instance"});
        }
        json_t *body = instance_body(&inst, d.async ? d.op_id : NULL);
        backend_result_release(&res);
        if (dispatch_recorded(&d))
                return dispatch_answer(api, st, &d, NULL, body, resp);
        respond(resp, 201, body);
}

void api_update(struct api *api, struct store *st, const char *instance_id,
                bool accepts_incomplete, const char *data, size_t len, struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(update_req_releasep) struct update_req req = {0};
        if (request_parse_update(data, len, &req, &err) < 0)
                return api_response_error(resp, &err);
        if (!catalog_find_service(api->cat, req.service_id)) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                     "service_id '%s' is not a service of this broker's catalog", req.service_id);
                return api_response_error(resp, &err);
        }

        if (store_begin(st, &err) < 0)
                return api_response_error(resp, &err);
        TX tx = {st, resp};
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        int r = store_get_instance(st, instance_id, &inst);
        if (r == OSB_E_NOT_FOUND || (r >= 0 && lifecycle_instance_is(inst, INSTANCE_FAILED))) {
                (void) osb_error_set(&err, OSB_E_NOT_FOUND, "instance '%s' does not exist", instance_id);
                return api_response_error(resp, &err);
        }
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        if (!osb_streq(req.service_id, inst->service_id)) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                     "service_id '%s' is not the service of instance '%s'", req.service_id,
                                     instance_id);
                return api_response_error(resp, &err);
        }
        const char *new_plan_id = req.plan_id ? req.plan_id : inst->plan_id;
        const struct catalog_plan *plan = NULL, *old_plan = catalog_find_plan(api->cat, inst->plan_id);
        if (resolve_plan(api->cat, req.service_id, new_plan_id, &plan, &err) < 0)
                return api_response_error(resp, &err);

        static const char *const ukeys[] = {"plan_id", "parameters", "context", "maintenance_version"};
        json_auto_t *pl = json_string(new_plan_id), *mv = str_or_null(req.maintenance_version);
        json_t *uvalues[] = {pl, req.parameters, req.context, mv};
        osb_autofree char *update_key = request_key(ukeys, uvalues, OSB_ELEMENTSOF(ukeys));
        if (!update_key)
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});

        if (!lifecycle_instance_is(inst, INSTANCE_READY)) {
                osb_auto(op_row_freep) struct op_row *op = NULL;
                if (lifecycle_instance_is(inst, INSTANCE_UPDATING) && accepts_incomplete && inst->op_id &&
                    store_get_op(st, inst->op_id, &op) >= 0) {
                        json_auto_t *oreq = parse_text(op->request);
                        if (osb_streq(json_string_value(json_object_get(oreq, "update_key")), update_key))
                                return respond(resp, 202, operation_body(op->id));
                }
                (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                     "instance '%s' has another operation in progress (%s)", instance_id,
                                     inst->state);
                return api_response_error(resp, &err);
        }

        bool plan_change = !osb_streq(new_plan_id, inst->plan_id);
        bool updateable = old_plan ? old_plan->plan_updateable : plan->service->plan_updateable;
        if (plan_change && !updateable) {
                (void) osb_error_set(&err, OSB_E_UNPROCESSABLE,
                                     "plan '%s' cannot be changed to another plan (plan_updateable is false)",
                                     old_plan ? old_plan->name : inst->plan_id);
                return api_response_error(resp, &err);
        }
        if (check_params(plan->schema_update, req.parameters, &err) < 0 ||
            check_maintenance(plan, req.maintenance_version, &err) < 0)
                return api_response_error(resp, &err);

        json_auto_t *old_params = parse_text(inst->parameters);
        json_auto_t *old_context = parse_text(inst->context);
        bool context_change = req.context && !json_equal(req.context, old_context);
        bool allow_context = plan->service->allow_context_updates;
        if (context_change && !allow_context && !plan_change && !req.parameters &&
            !req.maintenance_version) {
                (void) osb_error_set(&err, OSB_E_UNPROCESSABLE,
                                     "service '%s' does not accept context-only updates "
                                     "(allow_context_updates is false)", plan->service->name);
                return api_response_error(resp, &err);
        }

        /* The instance's attributes after the update: parameters are merged over the old ones. */
        json_auto_t *params = old_params ? json_deep_copy(old_params) : json_object();
        if (!params || (req.parameters && json_object_update(params, req.parameters) < 0))
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});
        json_t *context = context_change && allow_context ? req.context : old_context;
        static const char *const keys[] = {"service_id", "plan_id", "organization_guid",
                                           "space_guid", "parameters", "context"};
        json_auto_t *svc = json_string(inst->service_id),
                    *org = str_or_null(inst->organization_guid), *space = str_or_null(inst->space_guid);
        json_t *values[] = {svc, pl, org, space, json_object_size(params) || old_params ? params : NULL,
                            context};
        osb_autofree char *key = request_key(keys, values, OSB_ELEMENTSOF(keys));
        if (!key)
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});

        const struct backend *be = backend_of(plan);
        struct dispatch d;
        dispatch_init(&d, OP_UPDATE, plan, accepts_incomplete, instance_id, NULL);
        if (dispatch_check(&d, plan, &err) < 0)
                return api_response_error(resp, &err);
        const char *new_mv = req.maintenance_version ? req.maintenance_version
                           : plan_change                ? plan->maintenance_version
                                                        : inst->maintenance_version;
        int64_t now = store_now_ms();
        if (dispatch_recorded(&d)) {
                json_auto_t *oreq = json_pack("{s:s, s:O, s:s, s:s}", "plan_id", new_plan_id,
                                              "parameters", params, "update_key", update_key,
                                              "request_key", key);
                if (oreq && context)
                        json_object_set(oreq, "context", context);
                if (oreq && new_mv)
                        json_object_set_new(oreq, "maintenance_version", json_string(new_mv));
                osb_autofree char *otext = oreq ? osb_json_dump(oreq, NULL) : NULL;
                if (!otext)
                        return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});
                osb_autofree char *old_dashboard = inst->dashboard_url ? osb_strdup(inst->dashboard_url) : NULL;
                /* A changed dashboard URL must be in the first response, even for an async update. */
                osb_autofree char *new_dashboard = NULL;
                if (d.async && be->dashboard_url) {
                        struct backend_call dcall = {
                                .kind = OP_UPDATE, .plan = plan, .instance_id = instance_id,
                                .parameters = params, .instance_parameters = old_params, .context = context,
                                .previous_plan = old_plan,
                        };
                        new_dashboard = be->dashboard_url(&dcall);
                }
                r = record_instance_op(st, &tx.st, &d, plan, inst, INSTANCE_UPDATING, otext, now, &err);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot store the update"});
                json_t *accepted = NULL;
                if (new_dashboard && !osb_streq(new_dashboard, old_dashboard)) {
                        accepted = operation_body(d.op_id);
                        json_object_set_new(accepted, "dashboard_url", json_string(new_dashboard));
                }
                return dispatch_answer(api, st, &d, old_dashboard, accepted, resp);
        }

        struct backend_call call = {
                .kind = OP_UPDATE, .plan = plan, .instance_id = instance_id,
                .parameters = params, .instance_parameters = old_params, .context = context,
                .previous_plan = old_plan, .synchronous = true,
        };
        struct backend_result res = {0};
        r = be->run(&call, &res, &err);
        if (r < 0) {
                backend_result_release(&res);
                return respond_error_usable(resp, &err, true);
        }
        osb_autofree char *ptext = osb_json_dump(params, NULL);
        osb_autofree char *ctext = context ? osb_json_dump(context, NULL) : NULL;
        bool dash_changed = res.dashboard_url && !osb_streq(res.dashboard_url, inst->dashboard_url);
        if (!ptext || store_set_str(&inst->plan_id, new_plan_id) < 0 ||
            store_set_str(&inst->request_key, key) < 0 ||
            store_set_str(&inst->parameters, json_object_size(params) || old_params ? ptext : NULL) < 0 ||
            store_set_str(&inst->context, ctext) < 0 ||
            store_set_str(&inst->maintenance_version, new_mv) < 0 ||
            (res.dashboard_url && store_set_str(&inst->dashboard_url, res.dashboard_url) < 0)) {
                backend_result_release(&res);
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});
        }
        backend_result_release(&res);
        inst->updated_at = now;
        r = store_put_instance(st, inst);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(tx.st), &err);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot store the update"});
        json_t *body = json_object();
        if (dash_changed)
                json_object_set_new(body, "dashboard_url", json_string(inst->dashboard_url));
        respond(resp, 200, body);
}

void api_deprovision(struct api *api, struct store *st, const char *instance_id,
                     bool accepts_incomplete, const char *service_id, const char *plan_id,
                     struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        if (!service_id || !*service_id || !plan_id || !*plan_id) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                     "the query parameters service_id and plan_id are required");
                return api_response_error(resp, &err);
        }
        if (store_begin(st, &err) < 0)
                return api_response_error(resp, &err);
        TX tx = {st, resp};
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        int r = store_get_instance(st, instance_id, &inst);
        if (r == OSB_E_NOT_FOUND)
                return respond(resp, 410, NULL);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        /* As for update and bind: ids that are not the instance's are a client error, and
         * nothing is deleted. (While an update runs, possibly to another plan, the answer is
         * the 422 below whatever the ids.) */
        if (!lifecycle_instance_is(inst, INSTANCE_UPDATING) &&
            (!osb_streq(service_id, inst->service_id) || !osb_streq(plan_id, inst->plan_id))) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST, "%s '%s' is not the %s of instance '%s'",
                                     !osb_streq(service_id, inst->service_id) ? "service_id" : "plan_id",
                                     !osb_streq(service_id, inst->service_id) ? service_id : plan_id,
                                     !osb_streq(service_id, inst->service_id) ? "service" : "plan", instance_id);
                return api_response_error(resp, &err);
        }

        const struct catalog_plan *plan = catalog_find_plan(api->cat, inst->plan_id);
        int64_t now = store_now_ms();
        if (lifecycle_instance_is(inst, INSTANCE_FAILED) || !plan) {
                /* Nothing was provisioned (or the plan is gone): forget the record. */
                r = store_delete_instance(st, instance_id);
                if (r >= 0)
                        r = store_commit(OSB_TAKE_PTR(tx.st), &err);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot delete the instance"});
                return respond(resp, 200, NULL);
        }
        if (lifecycle_instance_is(inst, INSTANCE_DEPROVISIONING)) {
                if (accepts_incomplete)
                        return respond(resp, 202, operation_body(inst->op_id));
                (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                     "instance '%s' is already being deprovisioned", instance_id);
                return api_response_error(resp, &err);
        }
        if (lifecycle_instance_is(inst, INSTANCE_UPDATING)) {
                (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                     "instance '%s' is being updated; deprovision it when the update finishes",
                                     instance_id);
                return api_response_error(resp, &err);
        }
        const struct backend *be = backend_of(plan);
        struct dispatch d;
        dispatch_init(&d, OP_DEPROVISION, plan, accepts_incomplete, instance_id, NULL);
        if (dispatch_check(&d, plan, &err) < 0)
                return api_response_error(resp, &err);
        if (lifecycle_instance_is(inst, INSTANCE_PROVISIONING)) {
                r = cancel_op(st, inst->op_id, "provisioning was cancelled by a deprovision request");
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot cancel provisioning"});
        }
        if (dispatch_recorded(&d)) {
                r = record_instance_op(st, &tx.st, &d, plan, inst, INSTANCE_DEPROVISIONING, NULL, now, &err);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot store the deprovision"});
                return dispatch_answer(api, st, &d, NULL, NULL, resp);
        }
        json_auto_t *params = parse_text(inst->parameters);
        json_auto_t *context = parse_text(inst->context);
        struct backend_call call = {
                .kind = OP_DEPROVISION, .plan = plan, .instance_id = instance_id,
                .parameters = params, .instance_parameters = params, .context = context,
                .synchronous = true,
        };
        struct backend_result res = {0};
        r = be->run(&call, &res, &err);
        backend_result_release(&res);
        if (r < 0) {
                return respond_error_usable(resp, &err, false);
        }
        r = store_delete_instance(st, instance_id);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(tx.st), &err);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot delete the instance"});
        respond(resp, 200, NULL);
}

void api_get_instance(struct api *api, struct store *st, const char *instance_id,
                      struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        int r = store_get_instance(st, instance_id, &inst);
        if (r == OSB_E_NOT_FOUND || (r >= 0 && (lifecycle_instance_is(inst, INSTANCE_PROVISIONING) ||
                                                lifecycle_instance_is(inst, INSTANCE_FAILED)))) {
                (void) osb_error_set(&err, OSB_E_NOT_FOUND, "instance '%s' does not exist%s", instance_id,
                                     r >= 0 && lifecycle_instance_is(inst, INSTANCE_PROVISIONING) ? " yet (provisioning)" : "");
                return api_response_error(resp, &err);
        }
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        if (!lifecycle_instance_is(inst, INSTANCE_READY)) {
                (void) osb_error_set(&err, OSB_E_CONCURRENCY, "instance '%s' is being %s", instance_id,
                                     lifecycle_instance_is(inst, INSTANCE_UPDATING) ? "updated" : "deprovisioned");
                return api_response_error(resp, &err);
        }
        json_t *b = json_pack("{s:s, s:s}", "service_id", inst->service_id, "plan_id", inst->plan_id);
        if (inst->parameters)
                json_object_set_new(b, "parameters", parse_text(inst->parameters));
        if (inst->dashboard_url)
                json_object_set_new(b, "dashboard_url", json_string(inst->dashboard_url));
        if (inst->maintenance_version)
                json_object_set_new(b, "maintenance_info", json_pack("{s:s}", "version", inst->maintenance_version));
        if (inst->metadata)
                json_object_set_new(b, "metadata", parse_text(inst->metadata));
        respond(resp, 200, b);
}

/* last_operation for an instance (@binding_id NULL) or a binding. */
static void last_operation(struct api *api, struct store *st, const char *instance_id,
                           const char *binding_id, const char *operation, struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        const char *what = binding_id ? "binding" : "instance";
        const char *id = binding_id ? binding_id : instance_id;
        osb_auto(op_row_freep) struct op_row *op = NULL;
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        osb_auto(binding_row_freep) struct binding_row *b = NULL;
        int r;

        bool exists;
        if (binding_id)
                r = store_get_binding(st, instance_id, binding_id, &b), exists = r >= 0;
        else
                r = store_get_instance(st, instance_id, &inst), exists = r >= 0;
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the state"});

        enum op_kind kind;
        if (operation && *operation) {
                /* An operation may also be named by its kind (the Go osb-checker polls with
                 * "provision", "update" or "deprovision"): the latest of that kind. */
                if (op_kind_parse(operation, &kind) == 0)
                        r = store_latest_op(st, instance_id, binding_id, operation, &op);
                else
                        r = store_get_op(st, operation, &op);
                if (r >= 0 && (!osb_streq(op->instance_id, instance_id) ||
                               !osb_streq(op->binding_id, binding_id)))
                        op_row_free(OSB_TAKE_PTR(op)), r = OSB_E_NOT_FOUND;
                if (r == OSB_E_NOT_FOUND) {
                        if (!exists) {
                                (void) osb_error_set(&err, OSB_E_NOT_FOUND, "%s '%s' does not exist", what, id);
                                return api_response_error(resp, &err);
                        }
                        (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                             "operation '%.200s' is not an operation of %s '%s'", operation,
                                             what, id);
                        return api_response_error(resp, &err);
                }
        } else {
                r = store_latest_op(st, instance_id, binding_id, NULL, &op);
                bool deleted = r >= 0 && lifecycle_op_is(op, OP_STATE_SUCCEEDED) &&
                               (osb_streq(op->kind, "deprovision") || osb_streq(op->kind, "unbind"));
                if (deleted && exists) {
                        /* A succeeded deprovision or unbind removed its resource in the same
                         * transaction, and the read above is a snapshot of its own that may
                         * predate that commit: read it again (found now, it was made anew since). */
                        instance_row_free(OSB_TAKE_PTR(inst));
                        binding_row_free(OSB_TAKE_PTR(b));
                        int r2 = binding_id ? store_get_binding(st, instance_id, binding_id, &b)
                                            : store_get_instance(st, instance_id, &inst);
                        if (r2 < 0 && r2 != OSB_E_NOT_FOUND)
                                return api_response_error(resp, &(struct osb_error){r2, "cannot read the state"});
                        exists = r2 >= 0;
                }
                if (deleted && !exists)
                        return respond(resp, 410, NULL);
                if (!exists) {
                        (void) osb_error_set(&err, OSB_E_NOT_FOUND, "%s '%s' does not exist", what, id);
                        return api_response_error(resp, &err);
                }
                if (r == OSB_E_NOT_FOUND)  /* created synchronously: nothing is pending */
                        return respond(resp, 200, json_pack("{s:s}", "state",
                                                            lifecycle_name(LIFECYCLE_OPERATION, OP_STATE_SUCCEEDED)));
        }
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the operation"});

        json_t *body = json_pack("{s:s}", "state", op->state);
        if (op->description && *op->description)
                json_object_set_new(body, "description", json_string(op->description));
        if (!binding_id && lifecycle_op_is(op, OP_STATE_FAILED) &&
            (osb_streq(op->kind, "update") || osb_streq(op->kind, "deprovision"))) {
                if (op->instance_usable >= 0)
                        json_object_set_new(body, "instance_usable", json_boolean(op->instance_usable));
                if (op->update_repeatable >= 0 && osb_streq(op->kind, "update"))
                        json_object_set_new(body, "update_repeatable", json_boolean(op->update_repeatable));
        }
        respond(resp, 200, body);
        if (lifecycle_op_is(op, OP_STATE_IN_PROGRESS)) {
                const char *plan_id = b ? b->plan_id : inst ? inst->plan_id : NULL;
                const struct catalog_plan *plan = plan_id ? catalog_find_plan(api->cat, plan_id) : NULL;
                if (plan)
                        resp->retry_after_s = backend_of(plan)->retry_after_s(plan, op->due_at - store_now_ms());
        }
}

void api_instance_last_operation(struct api *api, struct store *st, const char *instance_id,
                                 const char *operation, struct api_response *resp)
{
        last_operation(api, st, instance_id, NULL, operation, resp);
}

/* ---- bindings -------------------------------------------------------------------------- */

void api_bind(struct api *api, struct store *st, const char *instance_id, const char *binding_id,
              bool accepts_incomplete, const char *data, size_t len, struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(bind_req_releasep) struct bind_req req = {0};
        const struct catalog_plan *plan = NULL;
        if (request_parse_bind(data, len, &req, &err) < 0 ||
            resolve_plan(api->cat, req.service_id, req.plan_id, &plan, &err) < 0)
                return api_response_error(resp, &err);
        if (!plan->bindable) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST, "plan '%s' is not bindable", plan->name);
                return api_response_error(resp, &err);
        }
        if (check_params(plan->schema_bind, req.parameters, &err) < 0)
                return api_response_error(resp, &err);

        static const char *const keys[] = {"service_id", "plan_id", "app_guid", "bind_resource",
                                           "parameters", "context", "predecessor_binding_id"};
        json_auto_t *svc = json_string(req.service_id), *pl = json_string(req.plan_id),
                    *app = str_or_null(req.app_guid), *pred = str_or_null(req.predecessor_binding_id);
        json_t *values[] = {svc, pl, app, req.bind_resource, req.parameters, req.context, pred};
        osb_autofree char *key = request_key(keys, values, OSB_ELEMENTSOF(keys));
        osb_autofree char *params = req.parameters ? osb_json_dump(req.parameters, NULL) : NULL;
        osb_autofree char *context = req.context ? osb_json_dump(req.context, NULL) : NULL;
        if (!key || (req.parameters && !params) || (req.context && !context))
                return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});

        if (store_begin(st, &err) < 0)
                return api_response_error(resp, &err);
        TX tx = {st, resp};
        osb_auto(instance_row_freep) struct instance_row *inst = NULL;
        osb_auto(binding_row_freep) struct binding_row *old = NULL;
        int r = store_get_instance(st, instance_id, &inst);
        if (r == OSB_E_NOT_FOUND || (r >= 0 && lifecycle_instance_is(inst, INSTANCE_FAILED))) {
                (void) osb_error_set(&err, OSB_E_NOT_FOUND, "instance '%s' does not exist", instance_id);
                return api_response_error(resp, &err);
        }
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        if (!osb_streq(inst->service_id, req.service_id) || !osb_streq(inst->plan_id, req.plan_id)) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                     "service_id and plan_id must be those of instance '%s'", instance_id);
                return api_response_error(resp, &err);
        }
        r = store_get_binding(st, instance_id, binding_id, &old);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the binding"});
        if (old && lifecycle_binding_is(old, BINDING_FAILED))
                binding_row_free(OSB_TAKE_PTR(old));
        if (old) {
                if (!osb_streq(old->request_key, key)) {
                        (void) osb_error_set(&err, OSB_E_CONFLICT,
                                             "binding '%s' already exists with different attributes", binding_id);
                        return api_response_error(resp, &err);
                }
                if (lifecycle_binding_is(old, BINDING_READY))
                        return respond(resp, 200, parse_text(old->response));
                if (lifecycle_binding_is(old, BINDING_BINDING) && never_async(plan, OP_BIND)) {
                        (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                             "binding '%s' is being created by another request", binding_id);
                        return api_response_error(resp, &err);
                }
                if (lifecycle_binding_is(old, BINDING_BINDING)) {
                        if (accepts_incomplete)
                                return respond(resp, 202, operation_body(old->op_id));
                        (void) osb_error_set(&err, OSB_E_ASYNC_REQUIRED,
                                             "binding '%s' is being created asynchronously; "
                                             "repeat the request with accepts_incomplete=true", binding_id);
                        return api_response_error(resp, &err);
                }
                (void) osb_error_set(&err, OSB_E_CONCURRENCY, "binding '%s' is being deleted", binding_id);
                return api_response_error(resp, &err);
        }
        if (!lifecycle_instance_is(inst, INSTANCE_READY)) {
                (void) osb_error_set(&err, OSB_E_CONCURRENCY,
                                     "instance '%s' has an operation in progress (%s); bind when it finishes",
                                     instance_id, inst->state);
                return api_response_error(resp, &err);
        }
        const struct backend *be = backend_of(plan);
        if (be->requires_app(plan) && !req.app_guid) {
                (void) osb_error_set(&err, OSB_E_REQUIRES_APP,
                                     "plan '%s' can only be bound to an application: send bind_resource.app_guid",
                                     plan->name);
                return api_response_error(resp, &err);
        }
        if (req.predecessor_binding_id) {
                osb_auto(binding_row_freep) struct binding_row *pred_b = NULL;
                if (!plan->binding_rotatable) {
                        (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                             "plan '%s' does not support binding rotation (binding_rotatable is false)",
                                             plan->name);
                        return api_response_error(resp, &err);
                }
                r = store_get_binding(st, instance_id, req.predecessor_binding_id, &pred_b);
                if (r < 0 || !lifecycle_binding_is(pred_b, BINDING_READY)) {
                        (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                             "predecessor_binding_id '%s' is not a binding of instance '%s'",
                                             req.predecessor_binding_id, instance_id);
                        return api_response_error(resp, &err);
                }
        }
        struct dispatch d;
        dispatch_init(&d, OP_BIND, plan, accepts_incomplete, instance_id, binding_id);
        if (dispatch_check(&d, plan, &err) < 0)
                return api_response_error(resp, &err);
        int64_t now = store_now_ms();
        struct binding_row b = {
                .instance_id = (char *) instance_id,
                .id = (char *) binding_id,
                .service_id = (char *) req.service_id,
                .plan_id = (char *) req.plan_id,
                .request_key = key,
                .parameters = params,
                .context = context,
                .app_guid = (char *) req.app_guid,
                .predecessor_id = (char *) req.predecessor_binding_id,
                .created_at = now,
                .updated_at = now,
        };
        osb_autofree char *response = NULL;
        json_auto_t *inst_params = parse_text(inst->parameters);
        json_auto_t *body = NULL;
        if (dispatch_recorded(&d)) {
                r = dispatch_record(&d, st, plan, NULL, now);
                b.state = (char *) lifecycle_initial(LIFECYCLE_BINDING, BINDING_BINDING);
                b.op_id = d.op_id;
        } else {
                struct backend_call call = {
                        .kind = OP_BIND, .plan = plan, .instance_id = instance_id,
                        .binding_id = binding_id, .parameters = req.parameters,
                        .instance_parameters = inst_params, .context = req.context,
                        .app_guid = req.app_guid, .synchronous = true,
                };
                struct backend_result res = {0};
                r = be->run(&call, &res, &err);
                if (r < 0) {
                        backend_result_release(&res);
                        return api_response_error(resp, &err);
                }
                body = res.response ? OSB_TAKE_PTR(res.response) : json_object();
                backend_result_release(&res);
                response = body ? osb_json_dump(body, NULL) : NULL;
                if (!response)
                        return api_response_error(resp, &(struct osb_error){-ENOMEM, ""});
                b.state = (char *) lifecycle_initial(LIFECYCLE_BINDING, BINDING_READY);
                b.response = response;
        }
        if (r >= 0)
                r = store_put_binding(st, &b);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(tx.st), &err);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot store the binding"});
        if (dispatch_recorded(&d))
                return dispatch_answer(api, st, &d, NULL, NULL, resp);
        respond(resp, 201, OSB_TAKE_PTR(body));
}

void api_unbind(struct api *api, struct store *st, const char *instance_id, const char *binding_id,
                bool accepts_incomplete, const char *service_id, const char *plan_id,
                struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        if (!service_id || !*service_id || !plan_id || !*plan_id) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST,
                                     "the query parameters service_id and plan_id are required");
                return api_response_error(resp, &err);
        }
        if (store_begin(st, &err) < 0)
                return api_response_error(resp, &err);
        TX tx = {st, resp};
        osb_auto(binding_row_freep) struct binding_row *b = NULL;
        int r = store_get_binding(st, instance_id, binding_id, &b);
        if (r == OSB_E_NOT_FOUND)
                return respond(resp, 410, NULL);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the binding"});
        /* The platform names the instance's plan, which an update may have changed since the
         * bind: the binding's plan or the instance's current one; anything else is 400. */
        osb_auto(instance_row_freep) struct instance_row *owner = NULL;
        r = store_get_instance(st, instance_id, &owner);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the instance"});
        bool plan_ok = osb_streq(plan_id, b->plan_id) || (owner && osb_streq(plan_id, owner->plan_id));
        if (!osb_streq(service_id, b->service_id) || !plan_ok) {
                (void) osb_error_set(&err, OSB_E_BAD_REQUEST, "%s '%s' is not the %s of binding '%s'",
                                     !osb_streq(service_id, b->service_id) ? "service_id" : "plan_id",
                                     !osb_streq(service_id, b->service_id) ? service_id : plan_id,
                                     !osb_streq(service_id, b->service_id) ? "service" : "plan", binding_id);
                return api_response_error(resp, &err);
        }
        const struct catalog_plan *plan = catalog_find_plan(api->cat, b->plan_id);
        int64_t now = store_now_ms();
        if (lifecycle_binding_is(b, BINDING_FAILED) || !plan) {
                r = store_delete_binding(st, instance_id, binding_id);
                if (r >= 0)
                        r = store_commit(OSB_TAKE_PTR(tx.st), &err);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot delete the binding"});
                return respond(resp, 200, NULL);
        }
        if (lifecycle_binding_is(b, BINDING_UNBINDING)) {
                if (accepts_incomplete)
                        return respond(resp, 202, operation_body(b->op_id));
                (void) osb_error_set(&err, OSB_E_CONCURRENCY, "binding '%s' is already being deleted", binding_id);
                return api_response_error(resp, &err);
        }
        const struct backend *be = backend_of(plan);
        struct dispatch d;
        dispatch_init(&d, OP_UNBIND, plan, accepts_incomplete, instance_id, binding_id);
        if (dispatch_check(&d, plan, &err) < 0)
                return api_response_error(resp, &err);
        if (lifecycle_binding_is(b, BINDING_BINDING)) {
                r = cancel_op(st, b->op_id, "binding was cancelled by an unbind request");
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot cancel the binding"});
        }
        if (dispatch_recorded(&d)) {
                r = dispatch_record(&d, st, plan, NULL, now);
                if (r >= 0)
                        r = lifecycle_binding_move(b, BINDING_UNBINDING);
                if (r >= 0 && store_set_str(&b->op_id, d.op_id) < 0)
                        r = -ENOMEM;
                b->updated_at = now;
                if (r >= 0)
                        r = store_put_binding(st, b);
                if (r >= 0)
                        r = store_commit(OSB_TAKE_PTR(tx.st), &err);
                if (r < 0)
                        return api_response_error(resp, &(struct osb_error){r, "cannot store the unbind"});
                return dispatch_answer(api, st, &d, NULL, NULL, resp);
        }
        json_auto_t *params = parse_text(b->parameters);
        struct backend_call call = {
                .kind = OP_UNBIND, .plan = plan, .instance_id = instance_id,
                .binding_id = binding_id, .parameters = params, .app_guid = b->app_guid,
                .synchronous = true,
        };
        struct backend_result res = {0};
        r = be->run(&call, &res, &err);
        backend_result_release(&res);
        if (r < 0) {
                return api_response_error(resp, &err);
        }
        r = store_delete_binding(st, instance_id, binding_id);
        if (r >= 0)
                r = store_commit(OSB_TAKE_PTR(tx.st), &err);
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot delete the binding"});
        respond(resp, 200, NULL);
}

void api_get_binding(struct api *api, struct store *st, const char *instance_id,
                     const char *binding_id, struct api_response *resp)
{
        struct osb_error err = OSB_ERROR_INIT;
        osb_auto(binding_row_freep) struct binding_row *b = NULL;
        int r = store_get_binding(st, instance_id, binding_id, &b);
        if (r == OSB_E_NOT_FOUND || (r >= 0 && !lifecycle_binding_is(b, BINDING_READY) &&
                                     !lifecycle_binding_is(b, BINDING_UNBINDING))) {
                (void) osb_error_set(&err, OSB_E_NOT_FOUND, "binding '%s' of instance '%s' does not exist%s",
                                     binding_id, instance_id,
                                     r >= 0 && lifecycle_binding_is(b, BINDING_BINDING) ? " yet (binding)" : "");
                return api_response_error(resp, &err);
        }
        if (r < 0)
                return api_response_error(resp, &(struct osb_error){r, "cannot read the binding"});
        json_t *body = parse_text(b->response);
        if (!body)
                body = json_object();
        if (b->parameters)
                json_object_set_new(body, "parameters", parse_text(b->parameters));
        respond(resp, 200, body);
}

void api_binding_last_operation(struct api *api, struct store *st, const char *instance_id,
                                const char *binding_id, const char *operation,
                                struct api_response *resp)
{
        last_operation(api, st, instance_id, binding_id, operation, resp);
}
