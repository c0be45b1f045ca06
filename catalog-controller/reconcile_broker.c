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
#include "catalog-controller/pass.h"
#include "catalog-controller/reconcile_broker.h"

#define REASON_FETCHED "FetchedCatalog"
#define REASON_ERROR_FETCHING "ErrorFetchingCatalog"
#define REASON_ERROR_SYNCING "ErrorSyncingCatalog"
#define REASON_RETRY_TIMEOUT "ErrorReconciliationRetryTimeout"
#define MESSAGE_FETCHED "Successfully fetched catalog entries from broker."


/* ---- one reconcile ---- */

/* What the decisions below read: the pass (pass.c) and the broker parsed from its object. */
struct broker_pass {
        struct pass *pass;
        struct ctl *c;
        const struct offering_flavour *fl;
        const char *key;                 /* the queue key */
        const struct broker *b;          /* parsed from pass->obj */
        const char *ns;                  /* the broker's namespace (namespaced flavour) */
        const char *now;                 /* pass->now */
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

/* Sets Ready in the pass's status, writes it when it changed (pass_write_status(): a 409 is
 * OSB_E_CONFLICT, and the pass is run again on a fresh read), and emits an Event when the Ready
 * reason changed. */
static int finish(const struct broker_pass *p, const char *status, const char *reason, const char *message,
                  bool warning, struct osb_error *err)
{
        const json_t *old = condition_get(p->b->status, "Ready");
        bool transition = !old || !osb_streq(osb_json_str(old, "status"), status) || !osb_streq(osb_json_str(old, "reason"), reason);
        if (condition_set(p->pass->status, "Ready", status, reason, message, p->now) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = pass_write_status(p->pass, err);
        if (r < 0)
                return r;
        if (transition)
                emit_event(p, warning, reason, message);
        return 0;
}

/* A failure that is not a conflicting write of the broker: OSB_E_CONFLICT (a class another
 * broker owns, a 409 from the broker) must not make pass_run() run the pass again at once. */
static int not_rerun(int r)
{
        return r == OSB_E_CONFLICT ? -EAGAIN : r;
}

/* ---- classes and plans ---- */

struct existing_ctx {
        struct informer_kmeta **classes, **plans;
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
        struct informer_kmeta **v = is_plan ? x->plans : x->classes;
        size_t n = is_plan ? x->nplans : x->nclasses;
        for (size_t i = 0; i < n; i++) {
                const struct offering *o = (const struct offering *) v[i];
                if (mine(x, o) && osb_streq(o->external_id, external_id))
                        return o->meta.name;
        }
        return NULL;
}

static const struct offering *find(struct informer_kmeta **v, size_t n, const char *ns, const char *name)
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
static int sync_one(const struct broker_pass *p, const struct offering_desired *d, const struct offering *cached, const char *kind,
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
        const struct offering_flavour *fl = p->fl;
        const struct broker *b = p->b;
        int idx = fl->namespaced ? 1 : 0;
        struct existing_ctx x = {.broker = b->meta.name, .ns = p->ns};
        struct offering_desired_set ds = {0};
        struct offering_restrictions crs = {0}, prs = {0};
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
        struct offering_catalog_owner ow = {.fl = fl, .name = b->meta.name, .ns = p->ns, .uid = b->meta.uid,
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
                struct informer_kmeta **v = pass ? x.plans : x.classes;
                size_t n = pass ? x.nplans : x.nclasses;
                const struct offering_desired *dv = pass ? ds.plans : ds.classes;
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
                struct informer_kmeta **v = NULL;
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

/* Adds (@add) or removes (every copy of) our finalizer, and writes the object when that
 * changed it. Returns 0, OSB_E_CONFLICT (run the pass again), or an error. */
static int edit_finalizer(const struct broker_pass *p, bool add, struct osb_error *err)
{
        if (add) {
                int a = kobj_add_finalizer(p->pass->obj);
                if (a < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                return a ? pass_write_object(p->pass, err) : 0;
        }
        bool present = false;
        while (kobj_drop_finalizer(p->pass->obj))
                present = true;
        if (!present)
                return 0;
        int r = pass_write_object(p->pass, err);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}

static int reconcile_delete(const struct broker_pass *p, struct osb_error *err)
{
        if (!p->b->meta.finalizer)
                return 0;
        int r = delete_offerings(p, err);
        if (r < 0) {
                log_obj(p, OSB_LOG_WARN, "cannot delete classes and plans", err->text);
                return not_rerun(r);
        }
        char msg[512];
        (void) snprintf(msg, sizeof(msg), "The broker %s was deleted successfully.", p->b->meta.name);
        r = finish(p, "False", p->fl->deleted_reason, msg, false, err);
        if (r < 0 && r != OSB_E_NOT_FOUND)
                return r;
        r = edit_finalizer(p, false, err);
        if (r >= 0) {
                log_obj(p, OSB_LOG_INFO, "broker finalized", NULL);
                ctl_drop_client(p->c, p->key);
        }
        return r;
}

/* The decisions of one pass over a broker. */
static int decide(struct broker_pass *p, struct osb_error *err)
{
        struct ctl *c = p->c;
        const struct offering_flavour *fl = p->fl;
        const struct broker *b = p->b;
        struct pass *ps = p->pass;
        json_t *catalog = NULL;
        int r = 0;

        if (b->meta.deleting) {
                r = reconcile_delete(p, err);
                if (r < 0 && r != OSB_E_CONFLICT)
                        log_obj(p, OSB_LOG_WARN, "finalization failed", err->text);
                return r;
        }
        if (!b->meta.finalizer) {
                /* the UPDATE event of this write brings the key back */
                r = edit_finalizer(p, true, err);
                if (r < 0 && r != OSB_E_CONFLICT)
                        log_obj(p, OSB_LOG_WARN, "cannot add the finalizer", err->text);
                return r;
        }
        int64_t wait_ms;
        /* an instance's MaintenanceInfoConflict: the cached catalog is behind the broker's */
        if (!broker_needs_relist(b, c->opts.relist_ms, ps->tnow, &wait_ms) && !ctl_relist_take(c, ps->key)) {
                ps->requeue_ms = wait_ms;
                return 0;
        }
        /* reconciledGeneration is always written; deploy/crds keep status.observedGeneration */
        json_t *st = ps->status;
        if ((!json_object_get(st, "reconciledGeneration") &&
             json_object_set_new(st, "reconciledGeneration", json_integer(0)) < 0) ||
            json_object_set_new(st, "observedGeneration", json_integer(b->meta.generation)) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");

        struct osb_client *oc = NULL;
        struct ctl_client *cc = NULL;
        if (b->relist_duration_invalid)
                r = osb_error_set(err, OSB_E_BAD_REQUEST, "spec.relistDuration is not a positive duration");
        if (r >= 0)
                r = ctl_broker_client(c, fl, b, &oc, &cc, err);
        if (r >= 0)
                r = osb_client_get_catalog(oc, &catalog, err);
        ctl_client_put(cc);
        if (r == -EBUSY) {
                /* the broker is busy with instances and bindings: not a failure of the broker */
                ps->requeue_ms = 1000;
                return 0;
        }
        if (r < 0) {
                char msg[700];
                (void) snprintf(msg, sizeof(msg), "Error fetching catalog: %s", err->text);
                log_obj(p, OSB_LOG_WARN, "cannot fetch the catalog", err->text);
                time_t started;
                if (!osb_json_str(st, "operationStartTime")) {
                        if (json_object_set_new(st, "operationStartTime", json_string(p->now)) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                } else if (osb_time_parse_rfc3339(osb_json_str(st, "operationStartTime"), &started) == 0 &&
                           (int64_t) (ps->tnow - started) * 1000 >= c->opts.retry_duration_ms) {
                        /* --reconciliation-retry-duration passed: give up until the spec changes */
                        if (condition_set(st, "Failed", "True", REASON_RETRY_TIMEOUT,
                                          "Stopped retrying to fetch the catalog: the retry duration passed.", p->now) < 0 ||
                            json_object_set_new(st, "reconciledGeneration", json_integer(b->meta.generation)) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        emit_event(p, true, REASON_RETRY_TIMEOUT, "Stopped retrying to fetch the catalog.");
                }
                struct osb_error werr = OSB_ERROR_INIT;
                int w = finish(p, "False", REASON_ERROR_FETCHING, msg, true, &werr);
                if (w == OSB_E_CONFLICT)
                        return w;       /* changed meanwhile: read it and decide again */
                if (w < 0)
                        log_obj(p, OSB_LOG_WARN, "cannot write status", werr.text);
                if (condition_get(st, "Failed"))
                        return 0;       /* terminal: no retry until the spec changes */
                return not_rerun(r);
        }
        unsigned nclasses = 0, nplans = 0, writes = 0;
        r = sync_catalog(p, catalog, &nclasses, &nplans, &writes, err);
        json_decref(catalog);
        if (r < 0) {
                char msg[700];
                (void) snprintf(msg, sizeof(msg), "Error syncing catalog from broker: %s", err->text);
                log_obj(p, OSB_LOG_WARN, "cannot sync the catalog", err->text);
                struct osb_error werr = OSB_ERROR_INIT;
                int w = finish(p, "False", REASON_ERROR_SYNCING, msg, true, &werr);
                if (w == OSB_E_CONFLICT)
                        return w;
                if (w < 0)
                        log_obj(p, OSB_LOG_WARN, "cannot write status", werr.text);
                return not_rerun(r);
        }
        condition_remove(st, "Failed");
        (void) json_object_del(st, "operationStartTime");
        if (json_object_set_new(st, "reconciledGeneration", json_integer(b->meta.generation)) < 0 ||
            json_object_set_new(st, "lastCatalogRetrievalTime", json_string(p->now)) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        r = finish(p, "True", REASON_FETCHED, MESSAGE_FETCHED, false, err);
        if (r < 0) {
                if (r != OSB_E_CONFLICT)
                        log_obj(p, OSB_LOG_WARN, "cannot write status", err->text);
                return r;
        }
        if (p->ns)
                osb_log_info("catalog synced", "kind=%s namespace=%s name=%s classes=%u plans=%u writes=%u",
                             fl->broker_kind, p->ns, b->meta.name, nclasses, nplans, writes);
        else
                osb_log_info("catalog synced", "kind=%s name=%s classes=%u plans=%u writes=%u", fl->broker_kind,
                             b->meta.name, nclasses, nplans, writes);
        if (!b->manual_relist)
                ps->requeue_ms = b->relist_ms > 0 ? b->relist_ms : c->opts.relist_ms;
        return 0;
}

/* pass_run()'s pass: the broker parsed from the object read, then the decisions. */
static int broker_pass_run(struct pass *ps, const struct offering_flavour *fl, struct osb_error *err)
{
        bool deleting, has_finalizer;
        struct informer_kmeta *m = NULL;
        if (pass_begin(ps, &deleting, &has_finalizer) < 0 || broker_extract(ps->obj, &m) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        struct broker *b = (struct broker *) m;
        struct broker_pass p = {.pass = ps, .c = ps->c, .fl = fl, .key = ps->key, .b = b,
                                .ns = fl->namespaced ? b->meta.ns : NULL, .now = ps->now};
        int r = decide(&p, err);
        broker_free(m);
        return r;
}

static int cluster_broker_pass(struct pass *ps, struct osb_error *err)
{
        return broker_pass_run(ps, &offering_flavour_cluster, err);
}

static int namespaced_broker_pass(struct pass *ps, struct osb_error *err)
{
        return broker_pass_run(ps, &offering_flavour_namespaced, err);
}

int reconcile_broker(struct ctl *c, const struct offering_flavour *fl, const char *key)
{
        int idx = fl->namespaced ? 1 : 0;
        size_t prefix_len = strlen(fl->namespaced ? CTL_KEY_BROKER : CTL_KEY_CLUSTER_BROKER);
        return pass_run(c, key, fl->broker_kind, fl->broker_res, c->brokers[idx], prefix_len, broker_json,
                        fl->namespaced ? namespaced_broker_pass : cluster_broker_pass);
}
