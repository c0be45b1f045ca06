/* catalog-controller/pass.c: one reconcile pass of an instance or a binding. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/queue.h"

void pass_release(struct pass *p)
{
        if (p->obj)
                json_decref(p->obj);
        if (p->status)
                json_decref(p->status);
        ctl_client_put(p->cc);
        resolve_release(&p->rv);
        p->obj = p->status = NULL;
        p->cc = NULL;
}

int pass_begin(struct pass *p, bool *deleting, bool *has_finalizer)
{
        const json_t *md = json_object_get(p->obj, "metadata");
        const json_t *st = json_object_get(p->obj, "status");
        p->status = json_is_object(st) ? json_deep_copy(st) : json_object();
        if (!p->status)
                return -ENOMEM;
        p->generation = json_integer_value(json_object_get(md, "generation"));
        *deleting = json_object_get(md, "deletionTimestamp") && !json_is_null(json_object_get(md, "deletionTimestamp"));
        *has_finalizer = kobj_has_finalizer(p->obj);
        return 0;
}

void pass_log(const struct pass *p, enum osb_log_level lvl, const char *msg, const char *detail)
{
        if (osb_log_enabled(lvl))
                osb_log_write(lvl, msg, "kind=%s namespace=%s name=%s detail=%s", p->kind, p->ns, p->name, detail);
}

void pass_event(const struct pass *p, bool warning, const char *reason, const char *message)
{
        const json_t *md = json_object_get(p->obj, "metadata");
        struct ctl_object_ref o = {p->kind, p->ns, p->name, json_string_value(json_object_get(md, "uid")),
                                   json_string_value(json_object_get(md, "resourceVersion"))};
        ctl_event(p->c, &o, warning, reason, message);
}

const char *pass_str(const struct pass *p, const char *field)
{
        return json_string_value(json_object_get(p->status, field));
}

int pass_set_str(struct pass *p, const char *field, const char *value)
{
        if (!value) {
                (void) json_object_del(p->status, field);
                return 0;
        }
        return json_object_set_new(p->status, field, json_string(value)) < 0 ? -ENOMEM : 0;
}

static int keep_written(struct pass *p, json_t *out)
{
        if (!out)
                return 0;
        json_decref(p->obj);
        p->obj = out;
        ctl_note_write(p->c, p->key, out);
        return 0;
}

int pass_write_status(struct pass *p, struct osb_error *err)
{
        const json_t *cur = json_object_get(p->obj, "status");
        if (cur && json_equal((json_t *) cur, p->status))
                return 0;
        if (json_object_set(p->obj, "status", p->status) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        json_t *out = NULL;
        int r = kapi_update_status(p->c->kube, p->res, p->ns, p->obj, &out, err);
        if (r < 0)
                return r;
        return keep_written(p, out);
}

int pass_write_object(struct pass *p, struct osb_error *err)
{
        json_t *out = NULL;
        int r = kapi_update(p->c->kube, p->res, p->ns, p->obj, &out, err);
        if (r < 0)
                return r;
        return keep_written(p, out);
}

/* Progress states: shown in the status, but no Event (an Event marks an outcome or a failure),
                                                       * which keeps an asynchronous provision within four writes. */
static bool progress_reason(const char *reason)
{
        static const char *const progress[] = {"Provisioning", "UpdatingInstance", "Deprovisioning", "Binding",
                                               "Unbinding", "ErrorInstanceNotReady", "ReferencesNonexistentInstance",
                                               "ServiceBindingsDeletion"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(progress); i++)
                if (strcmp(reason, progress[i]) == 0)
                        return true;
        return false;
}

int pass_ready(struct pass *p, const char *value, const char *reason, const char *message, bool warning,
               struct osb_error *err)
{
        const json_t *old = condition_get(json_object_get(p->obj, "status"), "Ready");
        bool transition = !old || !osb_streq(json_string_value(json_object_get(old, "status")), value) ||
                          !osb_streq(json_string_value(json_object_get(old, "reason")), reason);
        if (condition_set(p->status, "Ready", value, reason, message, p->now) < 0 ||
            json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = pass_write_status(p, err);
        if (r >= 0 && transition && (warning || !progress_reason(reason)))
                pass_event(p, warning, reason, message);
        return r;
}

int pass_retry(struct pass *p, const char *value, const char *reason, const char *message, struct osb_error *err)
{
        int64_t delay = ctl_retry_fail(p->c, p->key);
        char when[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(p->tnow + (time_t) ((delay + 999) / 1000), when);
        osb_autofree char *msg = osb_asprintf("%s; will retry at %s", message, when);
        if (!msg || pass_set_str(p, "nextRetryTime", when) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        pass_log(p, OSB_LOG_WARN, reason, msg);
        p->requeue_ms = delay;
        return pass_ready(p, value, reason, msg, true, err);
}

int pass_finalize(struct pass *p, struct osb_error *err)
{
        if (!kobj_drop_finalizer(p->obj))
                return 0;
        int r = pass_write_object(p, err);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}

bool pass_busy(struct pass *p, int *r)
{
        if (*r != -EBUSY)
                return false;
        *r = 0;
        p->requeue_ms = 500;
        return true;
}

int pass_client(struct pass *p, struct osb_error *err)
{
        if (p->oc)
                return 0;
        return ctl_broker_client(p->c, p->rv.fl, p->rv.broker, &p->oc, &p->cc, err);
}

void pass_clear_operation(struct pass *p)
{
        static const char *const fields[] = {"lastOperation", "currentOperation", "operationStartTime", "nextRetryTime"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(fields); i++)
                (void) json_object_del(p->status, fields[i]);
        /* service-catalog always shows these two */
        (void) json_object_set_new(p->status, "asyncOpInProgress", json_false());
        if (!json_object_get(p->status, "orphanMitigationInProgress"))
                (void) json_object_set_new(p->status, "orphanMitigationInProgress", json_false());
}

int pass_run(struct ctl *c, const char *key, const char *kind, const struct kube_resource *res,
             struct informer *inf, size_t prefix_len, json_t *(*json_of)(const struct informer_kmeta *m),
             int (*pass)(struct pass *p, struct osb_error *err))
{
        struct informer_kmeta *o = informer_get(inf, key + prefix_len);
        if (!o) {
                ctl_forget(c, key);
                return 0;
        }
        bool cluster_scoped = !o->ns;
        osb_autofree char *ns = osb_strdup(o->ns ? o->ns : "");
        osb_autofree char *name = osb_strdup(o->name);
        bool stale = ctl_cache_stale(c, key, o->resource_version);
        json_t *obj = stale ? NULL : json_of(o);
        informer_put(inf, o);
        if (!ns || !name) {
                if (obj)
                        json_decref(obj);
                return -ENOMEM;
        }
        struct osb_error err = OSB_ERROR_INIT;
        int r = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
                if (!obj) {
                        r = kapi_get(c->kube, res, cluster_scoped ? NULL : ns, name, &obj, &err);
                        if (r == OSB_E_NOT_FOUND)
                                return 0;
                        if (r < 0)
                                break;
                }
                struct pass p = {.c = c, .kind = kind, .res = res, .key = key, .ns = cluster_scoped ? NULL : ns,
                                 .name = name, .obj = obj, .tnow = c->now(), .requeue_ms = -1};
                obj = NULL;
                osb_time_format_rfc3339(p.tnow, p.now);
                r = pass(&p, &err);
                if (r >= 0 && p.requeue_ms >= 0)
                        (void) queue_add_after(c->queue, key, p.requeue_ms);
                pass_release(&p);
                if (r != OSB_E_CONFLICT)
                        break;
                err = (struct osb_error) OSB_ERROR_INIT;        /* changed meanwhile: read it and decide again */
        }
        if (obj)
                json_decref(obj);
        if (r < 0 && r != -ECANCELED) {
                osb_log_warn("reconcile failed", "kind=%s namespace=%s name=%s error=%s", kind, ns, name, err.text);
        }
        return r == -ECANCELED ? 0 : r;
}
