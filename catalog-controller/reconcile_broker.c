/* catalog-controller/reconcile_broker.c: brokers → classes and plans. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/names.h"
#include "catalog-controller/osb_client.h"
#include "catalog-controller/reconcile_broker.h"

#define REASON_FETCHED "FetchedCatalog"
#define REASON_ERROR_FETCHING "ErrorFetchingCatalog"
#define REASON_ERROR_SYNCING "ErrorSyncingCatalog"
#define REASON_RETRY_TIMEOUT "ErrorReconciliationRetryTimeout"
#define MESSAGE_FETCHED "Successfully fetched catalog entries from broker."


static const char *str_of(const json_t *o, const char *field)
{
        return json_string_value(json_object_get(o, field));
}

/* ---- one reconcile ---- */

struct broker_pass {
        struct ctl *c;
        const struct flavour *fl;
        const char *key;                 /* the queue key */
        const struct broker *b;
        const char *ns;                  /* the broker's namespace (namespaced flavour) */
        char now[OSB_TIME_RFC3339_MAX];
};

static void log_obj(const struct broker_pass *p, enum osb_log_level lvl, const char *msg, const char *detail)
{
        if (!osb_log_enabled(lvl))
                return;
        if (p->ns)
                osb_log_write(lvl, msg, "kind=%s namespace=%s name=%s error=%s", p->fl->broker_kind, p->ns,
                              p->b->meta.name, detail);
        else
                osb_log_write(lvl, msg, "kind=%s name=%s error=%s", p->fl->broker_kind, p->b->meta.name, detail);
}

/* An Event about the broker. Best effort. */
static void emit_event(const struct broker_pass *p, bool warning, const char *reason, const char *message)
{
        struct ctl_object_ref o = {p->fl->broker_kind, p->ns, p->b->meta.name, p->b->meta.uid, p->b->meta.resource_version};
        ctl_event(p->c, &o, warning, reason, message);
}

/* Writes @desired as the broker's status unless it equals the cached one. GET, replace status,
 * PUT /status; on 409 re-read and retry. Returns 0 (also when nothing was written) or an error. */
static int write_status(const struct broker_pass *p, json_t *desired, struct osb_error *err)
{
        if (json_equal(p->b->status, desired))
                return 0;
        for (int attempt = 0;; attempt++) {
                json_auto_t *live = NULL;
                int r = kapi_get(p->c->kube, p->fl->broker_res, p->ns, p->b->meta.name, &live, err);
                if (r < 0)
                        return r;
                /* compare with the live object too: the cache may lag behind our last write */
                const json_t *cur = json_object_get(live, "status");
                if (cur && json_equal((json_t *) cur, desired))
                        return 0;
                if (json_object_set(live, "status", desired) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = kapi_update_status(p->c->kube, p->fl->broker_res, p->ns, live, NULL, err);
                if (r != OSB_E_CONFLICT || attempt >= 4)
                        return r;
        }
}

/* Sets Ready, writes the status when it changed, and emits an Event when the Ready reason
 * changed. */
static int finish(const struct broker_pass *p, json_t *st, const char *status, const char *reason,
                  const char *message, bool warning, struct osb_error *err)
{
        const json_t *old = condition_get(p->b->status, "Ready");
        bool transition = !old || !osb_streq(str_of(old, "status"), status) || !osb_streq(str_of(old, "reason"), reason);
        if (condition_set(st, "Ready", status, reason, message, p->now) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = write_status(p, st, err);
        if (r < 0)
                return r;
        if (transition)
                emit_event(p, warning, reason, message);
        return 0;
}

/* A copy of the cached status to edit; reconciledGeneration is always written. NULL on OOM. */
static json_t *status_copy(const struct broker *b)
{
        json_t *st = json_deep_copy(b->status);
        if (st && !json_object_get(st, "reconciledGeneration") &&
            json_object_set_new(st, "reconciledGeneration", json_integer(0)) < 0) {
                json_decref(st);
                return NULL;
        }
        return st;
}

/* ---- classes and plans ---- */

struct existing_ctx {
        struct kmeta **classes, **plans;
        size_t nclasses, nplans;
        const char *broker;
        const char *ns;
};

static bool mine(const struct existing_ctx *x, const struct offering *o)
{
        return osb_streq(o->broker, x->broker) && osb_streq(o->meta.ns, x->ns);
}

static const char *existing_name(void *userdata, bool is_plan, const char *external_id)
{
        const struct existing_ctx *x = userdata;
        struct kmeta **v = is_plan ? x->plans : x->classes;
        size_t n = is_plan ? x->nplans : x->nclasses;
        for (size_t i = 0; i < n; i++) {
                const struct offering *o = (const struct offering *) v[i];
                if (mine(x, o) && osb_streq(o->external_id, external_id))
                        return o->meta.name;
        }
        return NULL;
}

static const struct offering *find(struct kmeta **v, size_t n, const char *ns, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (osb_streq(v[i]->name, name) && osb_streq(v[i]->ns, ns))
                        return (const struct offering *) v[i];
        return NULL;
}

/* Sets status.removedFromBrokerCatalog of @name to @removed. */
static int set_removed(const struct broker_pass *p, const struct kube_resource *res, const char *name, bool removed,
                       struct osb_error *err)
{
        for (int attempt = 0;; attempt++) {
                json_auto_t *live = NULL;
                int r = kapi_get(p->c->kube, res, p->ns, name, &live, err);
                if (r < 0)
                        return r == OSB_E_NOT_FOUND ? 0 : r;
                json_t *st = json_object_get(live, "status");
                if (json_is_true(json_object_get(st, "removedFromBrokerCatalog")) == removed)
                        return 0;
                if (!json_is_object(st)) {
                        st = json_object();
                        if (!st || json_object_set_new(live, "status", st) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                }
                if (json_object_set_new(st, "removedFromBrokerCatalog", json_boolean(removed)) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                r = kapi_update_status(p->c->kube, res, p->ns, live, NULL, err);
                if (r != OSB_E_CONFLICT || attempt >= 4)
                        return r;
        }
}

/* Makes one desired class or plan exist as wanted. */
static int sync_one(const struct broker_pass *p, const struct desired *d, const struct offering *cached, const char *kind,
                    const struct kube_resource *res, unsigned *writes, struct osb_error *err)
{
        const struct broker *b = p->b;
        if (cached && !osb_streq(cached->broker, b->meta.name))
                return osb_error_set(err, OSB_E_CONFLICT, "%s %s already exists for Broker %s", kind, d->name,
                                     cached->broker ? cached->broker : "(none)");
        if (cached && cached->external_id && !osb_streq(cached->external_id, d->external_id))
                return osb_error_set(err, OSB_E_CONFLICT, "%s %s has externalID %s, the catalog says %s", kind, d->name,
                                     cached->external_id, d->external_id);
        if (cached && strcmp(cached->digest, d->digest) == 0) {
                if (cached->removed) {
                        (*writes)++;
                        return set_removed(p, res, d->name, false, err);
                }
                return 0;
        }
        if (!cached) {
                int r = kapi_create(p->c->kube, res, p->ns, d->obj, NULL, err);
                if (r != OSB_E_CONFLICT) {
                        if (r >= 0)
                                (*writes)++;
                        return r;
                }
                /* the cache lags: it exists; fall through to compare and update it */
        }
        for (int attempt = 0;; attempt++) {
                json_auto_t *live = NULL;
                int r = kapi_get(p->c->kube, res, p->ns, d->name, &live, err);
                if (r < 0)
                        return r;
                const json_t *spec = json_object_get(live, "spec");
                const char *owner = json_string_value(json_object_get(spec, p->fl->broker_field));
                if (!osb_streq(owner, b->meta.name))
                        return osb_error_set(err, OSB_E_CONFLICT, "%s %s already exists for Broker %s", kind, d->name,
                                             owner ? owner : "(none)");
                char digest[OFFERING_DIGEST_LEN + 1];
                if (offering_digest(live, d->is_plan, digest) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                bool removed = json_is_true(json_object_get(json_object_get(live, "status"), "removedFromBrokerCatalog"));
                if (strcmp(digest, d->digest) != 0) {
                        if (offering_overlay(live, d->obj, d->is_plan) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        r = kapi_update(p->c->kube, res, p->ns, live, NULL, err);
                        if (r == OSB_E_CONFLICT && attempt < 4)
                                continue;
                        if (r < 0)
                                return r;
                        (*writes)++;
                }
                if (removed) {
                        (*writes)++;
                        return set_removed(p, res, d->name, false, err);
                }
                return 0;
        }
}

static int sync_catalog(const struct broker_pass *p, const json_t *catalog, unsigned *nclasses, unsigned *nplans,
                        unsigned *writes, struct osb_error *err)
{
        const struct flavour *fl = p->fl;
        const struct broker *b = p->b;
        int idx = fl->namespaced ? 1 : 0;
        struct existing_ctx x = {.broker = b->meta.name, .ns = p->ns};
        struct desired_set ds = {0};
        struct restrictions crs = {0}, prs = {0};
        int r = informer_snapshot(p->c->classes[idx], &x.classes, &x.nclasses);
        if (r >= 0)
                r = informer_snapshot(p->c->plans[idx], &x.plans, &x.nplans);
        if (r < 0) {
                r = osb_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        static const char *const class_props[] = {"name", "spec.externalName", "spec.externalID", NULL};
        const char *plan_props[] = {"name", "spec.externalName", "spec.externalID", "spec.free", fl->class_name_property, NULL};
        r = offering_restrictions_parse((const char *const *) b->class_restrictions, b->nclass_restrictions, class_props, &crs, err);
        if (r >= 0)
                r = offering_restrictions_parse((const char *const *) b->plan_restrictions, b->nplan_restrictions, plan_props, &prs, err);
        if (r < 0)
                goto out;
        struct catalog_owner ow = {.fl = fl, .name = b->meta.name, .ns = p->ns, .uid = b->meta.uid,
                                   .existing_name = existing_name, .userdata = &x};
        r = offering_convert(catalog, &ow, &crs, &prs, &ds, err);
        if (r < 0) {
                osb_error_prefix(err, "invalid catalog: ");
                goto out;
        }
        /* classes first: plans refer to them */
        for (size_t i = 0; i < ds.nclasses && r >= 0; i++)
                r = sync_one(p, &ds.classes[i], find(x.classes, x.nclasses, p->ns, ds.classes[i].name), fl->class_kind,
                             fl->class_res, writes, err);
        for (size_t i = 0; i < ds.nplans && r >= 0; i++)
                r = sync_one(p, &ds.plans[i], find(x.plans, x.nplans, p->ns, ds.plans[i].name), fl->plan_kind,
                             fl->plan_res, writes, err);
        /* what the catalog no longer has (cluster: only what we control: marked removedFromBrokerCatalog, or deleted when no instance uses it) */
        for (int pass = 0; pass < 2 && r >= 0; pass++) {
                struct kmeta **v = pass ? x.plans : x.classes;
                size_t n = pass ? x.nplans : x.nclasses;
                const struct desired *dv = pass ? ds.plans : ds.classes;
                size_t dn = pass ? ds.nplans : ds.nclasses;
                for (size_t i = 0; i < n && r >= 0; i++) {
                        const struct offering *o = (const struct offering *) v[i];
                        if (!mine(&x, o) || o->removed || (!fl->namespaced && !o->controller_owned))
                                continue;
                        bool wanted = false;
                        for (size_t k = 0; k < dn && !wanted; k++)
                                wanted = strcmp(dv[k].name, o->meta.name) == 0;
                        if (!wanted) {
                                (*writes)++;
                                r = set_removed(p, pass ? fl->plan_res : fl->class_res, o->meta.name, true, err);
                        }
                }
        }
        *nclasses = (unsigned) ds.nclasses;
        *nplans = (unsigned) ds.nplans;
out:
        offering_restrictions_release(&crs);
        offering_restrictions_release(&prs);
        offering_desired_set_release(&ds);
        if (x.classes)
                informer_snapshot_free(p->c->classes[idx], x.classes, x.nclasses);
        if (x.plans)
                informer_snapshot_free(p->c->plans[idx], x.plans, x.nplans);
        return r;
}

/* Deletes every class and plan of the broker (plans first). */
static int delete_offerings(const struct broker_pass *p, struct osb_error *err)
{
        int idx = p->fl->namespaced ? 1 : 0;
        struct existing_ctx x = {.broker = p->b->meta.name, .ns = p->ns};
        for (int pass = 0; pass < 2; pass++) {
                struct informer *inf = pass ? p->c->classes[idx] : p->c->plans[idx];
                const struct kube_resource *res = pass ? p->fl->class_res : p->fl->plan_res;
                struct kmeta **v = NULL;
                size_t n = 0;
                if (informer_snapshot(inf, &v, &n) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                int r = 0;
                for (size_t i = 0; i < n && r >= 0; i++) {
                        const struct offering *o = (const struct offering *) v[i];
                        if (!mine(&x, o) || o->meta.deleting)
                                continue;
                        r = kapi_delete(p->c->kube, res, p->ns, o->meta.name, err);
                        if (r == OSB_E_NOT_FOUND)
                                r = 0;
                }
                informer_snapshot_free(inf, v, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Adds (@add) or removes our finalizer: GET, edit metadata.finalizers, PUT; retried on 409. */
static int edit_finalizer(const struct broker_pass *p, bool add, struct osb_error *err)
{
        for (int attempt = 0;; attempt++) {
                json_auto_t *live = NULL;
                int r = kapi_get(p->c->kube, p->fl->broker_res, p->ns, p->b->meta.name, &live, err);
                if (r < 0)
                        return r == OSB_E_NOT_FOUND && !add ? 0 : r;
                if (add) {
                        int a = kobj_add_finalizer(live);
                        if (a < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        if (a == 0)
                                return 0;
                } else {
                        bool present = false;
                        while (kobj_drop_finalizer(live))      /* every copy of it */
                                present = true;
                        if (!present)
                                return 0;
                }
                r = kapi_update(p->c->kube, p->fl->broker_res, p->ns, live, NULL, err);
                if (r != OSB_E_CONFLICT || attempt >= 4)
                        return r == OSB_E_NOT_FOUND && !add ? 0 : r;
        }
}

static int reconcile_delete(const struct broker_pass *p, struct osb_error *err)
{
        if (!p->b->meta.finalizer)
                return 0;
        int r = delete_offerings(p, err);
        if (r < 0) {
                log_obj(p, OSB_LOG_WARN, "cannot delete classes and plans", err->text);
                return r;
        }
        json_auto_t *st = status_copy(p->b);
        if (!st)
                return osb_error_set(err, -ENOMEM, "out of memory");
        char msg[512];
        (void) snprintf(msg, sizeof(msg), "The broker %s was deleted successfully.", p->b->meta.name);
        r = finish(p, st, "False", p->fl->deleted_reason, msg, false, err);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return r;
        r = edit_finalizer(p, false, err);
        if (r >= 0) {
                log_obj(p, OSB_LOG_INFO, "broker finalized", NULL);
                ctl_drop_client(p->c, p->key);
        }
        return r;
}

int reconcile_broker(struct ctl *c, const struct flavour *fl, const char *key)
{
        int idx = fl->namespaced ? 1 : 0;
        const char *cache_key = key + strlen(fl->namespaced ? CTL_KEY_BROKER : CTL_KEY_CLUSTER_BROKER);
        struct broker *b = (struct broker *) informer_get(c->brokers[idx], cache_key);
        if (!b) {
                ctl_drop_client(c, key);
                return 0;
        }
        struct broker_pass p = {.c = c, .fl = fl, .key = key, .b = b, .ns = fl->namespaced ? b->meta.ns : NULL};
        time_t now = c->now();
        osb_time_format_rfc3339(now, p.now);
        struct osb_error err = OSB_ERROR_INIT;
        int r = 0;
        json_t *st = NULL;
        json_t *catalog = NULL;

        if (b->meta.deleting) {
                r = reconcile_delete(&p, &err);
                if (r < 0)
                        log_obj(&p, OSB_LOG_WARN, "finalization failed", err.text);
                goto out;
        }
        if (!b->meta.finalizer) {
                /* the UPDATE event of this write brings the key back */
                r = edit_finalizer(&p, true, &err);
                if (r < 0)
                        log_obj(&p, OSB_LOG_WARN, "cannot add the finalizer", err.text);
                goto out;
        }
        int64_t wait_ms;
        if (!broker_needs_relist(b, c->opts.relist_ms, now, &wait_ms)) {
                if (wait_ms >= 0)
                        (void) queue_add_after(c->queue, key, wait_ms);
                goto out;
        }
        /* deploy/crds keep status.observedGeneration for brokers */
        st = status_copy(b);
        if (!st || json_object_set_new(st, "observedGeneration", json_integer(b->meta.generation)) < 0) {
                r = -ENOMEM;
                goto out;
        }

        struct osb_client *oc = NULL;
        struct ctl_client *cc = NULL;
        if (b->relist_duration_invalid)
                r = osb_error_set(&err, OSB_E_BAD_REQUEST, "spec.relistDuration is not a positive duration");
        if (r >= 0)
                r = ctl_broker_client(c, fl, b, &oc, &cc, &err);
        if (r >= 0)
                r = osb_client_get_catalog(oc, &catalog, &err);
        ctl_client_put(cc);
        if (r == -EBUSY) {
                /* the broker is busy with instances and bindings: not a failure of the broker */
                (void) queue_add_after(c->queue, key, 1000);
                r = 0;
                goto out;
        }
        if (r < 0) {
                char msg[700];
                (void) snprintf(msg, sizeof(msg), "Error fetching catalog: %s", err.text);
                log_obj(&p, OSB_LOG_WARN, "cannot fetch the catalog", err.text);
                time_t started;
                if (!str_of(st, "operationStartTime")) {
                        if (json_object_set_new(st, "operationStartTime", json_string(p.now)) < 0)
                                goto oom;
                } else if (osb_time_parse_rfc3339(str_of(st, "operationStartTime"), &started) == 0 &&
                           (int64_t) (now - started) * 1000 >= c->opts.retry_duration_ms) {
                        /* --reconciliation-retry-duration passed: give up until the spec changes */
                        if (condition_set(st, "Failed", "True", REASON_RETRY_TIMEOUT,
                                          "Stopped retrying to fetch the catalog: the retry duration passed.", p.now) < 0 ||
                            json_object_set_new(st, "reconciledGeneration", json_integer(b->meta.generation)) < 0)
                                goto oom;
                        emit_event(&p, true, REASON_RETRY_TIMEOUT, "Stopped retrying to fetch the catalog.");
                }
                struct osb_error werr = OSB_ERROR_INIT;
                int w = finish(&p, st, "False", REASON_ERROR_FETCHING, msg, true, &werr);
                if (w < 0)
                        log_obj(&p, OSB_LOG_WARN, "cannot write status", werr.text);
                if (condition_get(st, "Failed"))
                        r = 0;  /* terminal: no retry until the spec changes */
                goto out;
        }
        unsigned nclasses = 0, nplans = 0, writes = 0;
        r = sync_catalog(&p, catalog, &nclasses, &nplans, &writes, &err);
        if (r < 0) {
                char msg[700];
                (void) snprintf(msg, sizeof(msg), "Error syncing catalog from broker: %s", err.text);
                log_obj(&p, OSB_LOG_WARN, "cannot sync the catalog", err.text);
                struct osb_error werr = OSB_ERROR_INIT;
                if (finish(&p, st, "False", REASON_ERROR_SYNCING, msg, true, &werr) < 0)
                        log_obj(&p, OSB_LOG_WARN, "cannot write status", werr.text);
                goto out;
        }
        condition_remove(st, "Failed");
        (void) json_object_del(st, "operationStartTime");
        if (json_object_set_new(st, "reconciledGeneration", json_integer(b->meta.generation)) < 0 ||
            json_object_set_new(st, "lastCatalogRetrievalTime", json_string(p.now)) < 0)
                goto oom;
        r = finish(&p, st, "True", REASON_FETCHED, MESSAGE_FETCHED, false, &err);
        if (r < 0) {
                log_obj(&p, OSB_LOG_WARN, "cannot write status", err.text);
                goto out;
        }
        if (p.ns)
                osb_log_info("catalog synced", "kind=%s namespace=%s name=%s classes=%u plans=%u writes=%u",
                             fl->broker_kind, p.ns, b->meta.name, nclasses, nplans, writes);
        else
                osb_log_info("catalog synced", "kind=%s name=%s classes=%u plans=%u writes=%u", fl->broker_kind,
                             b->meta.name, nclasses, nplans, writes);
        if (!b->manual_relist)
                (void) queue_add_after(c->queue, key, b->relist_ms > 0 ? b->relist_ms : c->opts.relist_ms);
        goto out;
oom:
        r = -ENOMEM;
out:
        if (catalog)
                json_decref(catalog);
        if (st)
                json_decref(st);
        informer_put(c->brokers[idx], &b->meta);
        return r;
}
