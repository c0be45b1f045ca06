/* catalog-controller/reconcile_rotation.c: the steps of a binding's credential rotation
 * (docs/controller.md, "Credential rotation"): the pending id recorded, the new bind (sent again
 * until the broker answers, polled when asynchronous), the new credentials written to the Secret
 * in place, the retired bindings unbound after their TTL; the workloads that opted in roll. The
 * decisions (policy, due or not) are rotation.c's; the Secret and the bind request the binding
 * reconciler's (reconcile_binding.h). */
#include "common/osb_compat.h"

#include <uuid/uuid.h>

#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/binding_secret.h"
#include "catalog-controller/reconcile_rotation.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/osb_response.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/request.h"
#include "catalog-controller/rotation.h"
#include "catalog-controller/workloads.h"

#define OOM(err) osb_error_set(err, -ENOMEM, "out of memory")

/* ---- what rotation keeps in the status (status.credentialsRotation) ---- */

static json_t *rot(const struct pass *p)
{
        return json_object_get(p->status, "credentialsRotation");
}

bool reconcile_rotation_pending(const struct pass *p)
{
        return json_is_object(json_object_get(rot(p), "pending"));
}

/* The binding id whose credentials the Secret holds: spec.externalID until a rotation. */
const char *reconcile_rotation_current_id(const struct pass *p)
{
        const char *id = osb_json_str(rot(p), "currentExternalID");
        return id && *id ? id : osb_json_str(pass_spec(p), "externalID");
}

/* A binding made by a rotation is sent again as it was made: with its predecessor_binding_id,
 * so the broker sees the same request (OSB: an identical PUT is answered 200). */
int reconcile_rotation_predecessor_into(struct pass *p, json_t *body)
{
        const char *pred = osb_json_str(rot(p), "currentPredecessorExternalID");
        return pred && *pred ? json_object_set_new(body, "predecessor_binding_id", json_string(pred)) : 0;
}

/* ---- credential rotation (docs/controller.md, "Credential rotation") ----
 *
 * status.credentialsRotation holds the state, so a restarted controller carries on: pending
 * (the new binding id, written before the broker hears of it, then sent again with the same id
 * and body until the broker answers: an identical PUT is idempotent), currentExternalID, the
 * retired bindings (unbound once their rotatedBindingTTL ends, their credentials in a Secret of
 * their own until then) and a short history. */

#define ROTATION_CONDITION "CredRotationInProgress"    /* SAP's condition type */
#define ROTATION_HISTORY_MAX 10

static time_t time_of(const json_t *o, const char *field)
{
        time_t t;
        return osb_time_parse_rfc3339(osb_json_str(o, field), &t) == 0 ? t : 0;
}

static int set_time(json_t *o, const char *field, time_t t)
{
        if (t <= 0) {
                (void) json_object_del(o, field);
                return 0;
        }
        char b[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(t, b);
        return json_object_set_new(o, field, json_string(b)) < 0 ? -ENOMEM : 0;
}

static json_t *rot_make(struct pass *p)
{
        json_t *cr = rot(p);
        if (json_is_object(cr))
                return cr;
        cr = json_object();
        return cr && json_object_set_new(p->status, "credentialsRotation", cr) == 0 ? cr : NULL;
}

static json_t *rot_array(struct pass *p, const char *field)
{
        json_t *cr = rot_make(p);
        json_t *a = json_object_get(cr, field);
        if (json_is_array(a))
                return a;
        a = json_array();
        return cr && a && json_object_set_new(cr, field, a) == 0 ? a : NULL;
}

static void requeue_at(struct pass *p, time_t t)
{
        int64_t ms = t > p->tnow ? (int64_t) (t - p->tnow) * 1000 : 0;
        if (p->requeue_ms < 0 || ms < p->requeue_ms)
                p->requeue_ms = ms;
}

/* The broker's metadata.expires_at and renew_before (OSB 2.17) of a bind answer, as times:
 * only values that parse as RFC 3339 (Z or an offset) are kept, as UTC (the broker's bytes are
 * never copied). */
static int record_expiry(struct pass *p, const json_t *resp_body)
{
        json_t *cr = rot_make(p);
        if (!cr)
                return -ENOMEM;
        time_t e, rb;
        osb_response_bind_expiry(resp_body, &e, &rb);
        return set_time(cr, "expiresAt", e) < 0 || set_time(cr, "renewBefore", rb) < 0 ? -ENOMEM : 0;
}

/* The schedule into the status (nextRotationTime) and the queue (the earliest of the next
 * rotation and the retired bindings' ends). Returns why a rotation is due now, or ROTATION_NONE. */
static enum rotation_reason schedule(struct pass *p, const struct rotation_policy *pol, bool forced)
{
        json_t *cr = rot(p);
        struct rotation_times t = {time_of(p->status, "lastCredentialsRotationTime"), time_of(cr, "expiresAt"),
                                   time_of(cr, "renewBefore")};
        time_t next = 0;
        enum rotation_reason why = rotation_decide(pol, &t, forced, p->tnow, &next);
        if (cr)
                (void) set_time(cr, "nextRotationTime", forced ? 0 : next);
        if (next > 0)
                requeue_at(p, next);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(cr, "retired"), i, e) {
                time_t u = time_of(e, "unbindAfter");
                if (u > 0)
                        requeue_at(p, u);
        }
        return why;
}

/* After the first bind: the schedule starts, the broker's expiry is kept. */
int reconcile_rotation_bound(struct pass *p, const json_t *resp_body)
{
        struct rotation_policy pol;
        struct osb_error ignored = OSB_ERROR_INIT;
        if (record_expiry(p, resp_body) < 0)
                return -ENOMEM;
        if (!pass_str(p, "lastCredentialsRotationTime") && pass_set_str(p, "lastCredentialsRotationTime", p->now) < 0)
                return -ENOMEM;
        if (rotation_policy_parse(pass_spec(p), &pol, &ignored) == 0)
                (void) schedule(p, &pol, false);
        json_t *cr = rot(p);
        if (cr && json_object_size(cr) == 0)
                (void) json_object_del(p->status, "credentialsRotation");
        return 0;
}

/* DELETE of binding @id (a retired or a pending one). Returns 0 with *gone when the broker no
 * longer has it (200, 410), or with *gone false and @msg saying why not ("" while an
 * asynchronous unbind runs); -ENOMEM, -ECANCELED. */
static int unbind_other(struct pass *p, const char *iid, const char *id, bool *gone, char *msg, size_t n,
                        struct osb_error *err)
{
        *gone = false;
        *msg = 0;
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        struct osb_response resp = {.retry_after_s = -1};
        if (r >= 0)
                r = osb_client_unbind(p->oc, iid, id, p->rv.cls->external_id, p->rv.plan->external_id,
                                      p->rv.cls->binding_retrievable, identity, &resp, err);
        if (pass_busy(p, &r))
                return 0;
        if (r == -ENOMEM || r == -ECANCELED)
                return r;
        if (r < 0) {
                (void) snprintf(msg, n, "Error unbinding binding %s: %s", id, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return 0;
        }
        if (resp.status == 200 || resp.status == 410) {
                *gone = true;
        } else if (resp.status == 202) {
                requeue_at(p, p->tnow + OSB_MAX(resp.retry_after_s, 1));
        } else {
                (void) snprintf(msg, n, "Error unbinding binding %s: the broker answered HTTP %ld", id, (long) resp.status);
        }
        osb_response_release(&resp);
        return 0;
}

static int delete_secret(struct pass *p, const char *name, struct osb_error *err)
{
        if (!name)
                return 0;
        int r = kapi_delete(p->c->kube, &kube_secrets, p->ns, name, err);
        if (r == OSB_E_NOT_FOUND) {
                *err = (struct osb_error) OSB_ERROR_INIT;
                return 0;
        }
        return r;
}

/* Marks the history entry of the rotation that retired @id as unbound now. */
static void history_unbound(struct pass *p, const char *id)
{
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(rot(p), "history"), i, h) {
                if (osb_streq(osb_json_str(h, "fromExternalID"), id))
                        (void) json_object_set_new(h, "retiredUnboundTime", json_string(p->now));
        }
}

/* Unbinds the retired bindings whose TTL ended (@all: every one, and a pending one: the
 * ServiceBinding is being deleted), each with its Secret. Returns 0 when none is left to do
 * now, 1 when one is still at the broker (the key comes back), or a negative code. */
int reconcile_rotation_unbind_retired(struct pass *p, const char *iid, bool all, struct osb_error *err)
{
        json_t *cr = rot(p);
        if (!cr)
                return 0;
        int waiting = 0;
        char msg[1200];
        json_t *pending = json_object_get(cr, "pending");
        if (all && json_is_object(pending)) {
                bool gone;
                osb_autofree char *id = osb_strdup(osb_json_str(pending, "externalID"));
                if (!id)
                        return OOM(err);
                int r = unbind_other(p, iid, id, &gone, msg, sizeof(msg), err);
                if (r < 0)
                        return r;
                if (!gone) {
                        waiting = 1;
                        if (*msg)
                                pass_log(p, OSB_LOG_WARN, "cannot unbind the pending binding", msg);
                } else {
                        (void) json_object_del(cr, "pending");
                        condition_remove(p->status, ROTATION_CONDITION);
                }
        }
        json_t *retired = json_object_get(cr, "retired");
        for (size_t i = 0; i < json_array_size(retired);) {
                json_t *e = json_array_get(retired, i);
                if (!all && !rotation_retired_due(time_of(e, "unbindAfter"), p->tnow)) {
                        i++;
                        continue;
                }
                osb_autofree char *id = osb_strdup(osb_json_str(e, "externalID") ? osb_json_str(e, "externalID") : "");
                osb_autofree char *sec = osb_strdup(osb_json_str(e, "secretName") ? osb_json_str(e, "secretName") : "");
                if (!id || !sec)
                        return OOM(err);
                bool gone;
                int r = unbind_other(p, iid, id, &gone, msg, sizeof(msg), err);
                if (r < 0)
                        return r;
                if (!gone) {
                        waiting = 1;
                        if (*msg) {
                                int64_t delay = ctl_retry_fail(p->c, p->key);
                                char when[OSB_TIME_RFC3339_MAX];
                                osb_time_format_rfc3339(p->tnow + (time_t) ((delay + 999) / 1000), when);
                                char full[1400];
                                (void) snprintf(full, sizeof(full), "%s; will retry at %s", msg, when);
                                pass_log(p, OSB_LOG_WARN, "RetiredBindingUnbindFailed", full);
                                pass_event(p, true, "RetiredBindingUnbindFailed", full);
                                requeue_at(p, p->tnow + (time_t) ((delay + 999) / 1000));
                        }
                        i++;
                        continue;
                }
                r = *sec ? delete_secret(p, sec, err) : 0;
                if (r < 0)
                        return r;
                (void) json_array_remove(retired, i);
                history_unbound(p, id);
                (void) snprintf(msg, sizeof(msg), "Unbound the retired binding %s at the broker%s%s", id,
                                *sec ? " and deleted its Secret " : "", sec);
                pass_log(p, OSB_LOG_INFO, "retired binding unbound", msg);
                pass_event(p, false, "RetiredBindingUnbound", msg);
                r = pass_write_status(p, err);
                if (r < 0)
                        return r;
        }
        if (json_array_size(retired) == 0)
                (void) json_object_del(cr, "retired");
        return waiting;
}

/* A rotation that failed: the old credentials stay, the same new id is tried again later. */
static int rotation_failed(struct pass *p, const char *message, struct osb_error *err)
{
        int64_t delay = ctl_retry_fail(p->c, p->key);
        time_t at = p->tnow + (time_t) ((delay + 999) / 1000);
        char when[OSB_TIME_RFC3339_MAX];
        osb_time_format_rfc3339(at, when);
        char msg[1600];
        (void) snprintf(msg, sizeof(msg), "%s; the current credentials stay in place; will retry at %s", message, when);
        json_t *pending = json_object_get(rot(p), "pending");
        if (set_time(pending, "nextAttemptTime", at) < 0 ||
            condition_set(p->status, ROTATION_CONDITION, "True", "CredentialsRotationFailed", msg, p->now) < 0)
                return OOM(err);
        pass_log(p, OSB_LOG_WARN, "CredentialsRotationFailed", msg);
        requeue_at(p, at);
        int r = pass_write_status(p, err);
        if (r >= 0)
                pass_event(p, true, "CredentialsRotationFailed", msg);
        return r;
}

/* Keeps the Secret's current bytes in Secret @retired_name (ours too), unless it exists
 * already: then it was made by this rotation before a restart, and holds the old bytes. */
static int keep_old_secret(struct pass *p, const char *retired_name, const char *old_id, struct osb_error *err)
{
        json_auto_t *live = NULL;
        int r = kapi_get(p->c->kube, &kube_secrets, p->ns, binding_secret_name(p), &live, err);
        if (r == OSB_E_NOT_FOUND) {
                *err = (struct osb_error) OSB_ERROR_INIT;
                return 0;
        }
        if (r < 0)
                return r;
        if (!binding_secret_owned(p, live))
                return 0;
        const json_t *md = json_object_get(p->obj, "metadata");
        const json_t *data = json_object_get(live, "data");
        json_auto_t *sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s},s:{s:s},s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:O?,s:O}",
                                     "apiVersion", "v1", "kind", "Secret", "metadata", "name", retired_name,
                                     "namespace", p->ns, "labels", "bindery.dev/retired-credentials-of", p->name,
                                     "annotations", "bindery.dev/retired-external-id", old_id, "ownerReferences",
                                     "apiVersion", "servicecatalog.k8s.io/v1beta1", "kind", "ServiceBinding", "name", p->name,
                                     "uid", osb_json_str(md, "uid") ? osb_json_str(md, "uid") : "", "controller", 1, "blockOwnerDeletion", 1,
                                     "type", json_object_get(live, "type"), "data", json_is_object(data) ? data : json_object());
        if (!sec)
                return OOM(err);
        r = kapi_create(p->c->kube, &kube_secrets, p->ns, sec, NULL, err);
        if (r == OSB_E_CONFLICT) {
                *err = (struct osb_error) OSB_ERROR_INIT;
                return 0;
        }
        return r;
}

static int history_add(struct pass *p, const json_t *pending, const char *from, const char *to)
{
        json_t *hist = rot_array(p, "history");
        json_t *h = json_pack("{s:s,s:s,s:s,s:s,s:s}", "time", p->now, "reason", osb_json_str(pending, "reason") ?
                              osb_json_str(pending, "reason") : "", "method", osb_json_str(pending, "method") ? osb_json_str(pending, "method") : "",
                              "fromExternalID", from, "toExternalID", to);
        if (!hist || !h || json_array_append_new(hist, h) < 0)
                return -ENOMEM;
        while (json_array_size(hist) > ROTATION_HISTORY_MAX)
                (void) json_array_remove(hist, 0);
        return 0;
}

/* After a rotation: the workloads that use the Secret and opted in roll (workloads.h). The
 * stamp stays in the status until they are patched, so a restart loses no roll. */
static int notify_workloads(struct pass *p, struct osb_error *err)
{
        json_t *cr = rot(p);
        if (!osb_json_str(cr, "workloadsStamp"))
                return 0;
        osb_autofree char *stamp = osb_strdup(osb_json_str(cr, "workloadsStamp"));
        if (!stamp)
                return OOM(err);
        unsigned n = 0;
        char names[600], msg[1200];
        struct osb_error werr = OSB_ERROR_INIT;
        int r = workloads_restart(p->c, p->ns, binding_secret_name(p), workloads_opted_in(p->obj), stamp, &n, names, sizeof(names),
                                  &werr);
        if (r == -ENOMEM || r == -ECANCELED)
                return r == -ENOMEM ? OOM(err) : r;
        if (r < 0) {
                int64_t delay = ctl_retry_fail(p->c, p->key);
                char when[OSB_TIME_RFC3339_MAX];
                osb_time_format_rfc3339(p->tnow + (time_t) ((delay + 999) / 1000), when);
                (void) snprintf(msg, sizeof(msg), "Cannot restart the workloads that use Secret %s: %s; will retry at %s",
                                binding_secret_name(p), werr.text, when);
                pass_log(p, OSB_LOG_WARN, "WorkloadRestartFailed", msg);
                pass_event(p, true, "WorkloadRestartFailed", msg);
                requeue_at(p, p->tnow + (time_t) ((delay + 999) / 1000));
                return 0;
        }
        if (n > 0) {
                (void) snprintf(msg, sizeof(msg), "Annotated the pod template of %s (" WORKLOADS_ANNOTATION_STAMP "=%s) "
                                "so they roll with the new credentials", names, stamp);
                pass_log(p, OSB_LOG_INFO, "workloads restarted", msg);
                pass_event(p, false, "WorkloadsRestarted", msg);
        }
        (void) json_object_del(cr, "workloadsStamp");
        return pass_write_status(p, err);
}

/* The broker made the new binding: its credentials go into the Secret, in place. @generation:
 * the one the bind's body was built from (a later one is carried by a following rotation). */
static int finish_rotation(struct pass *p, const json_t *instance, const struct rotation_policy *pol,
                           const json_t *creds, const json_t *resp_body, const json_t *props, int64_t generation,
                           struct osb_error *err)
{
        json_t *cr = rot(p);
        json_t *pending = json_object_get(cr, "pending");
        osb_autofree char *old = osb_strdup(reconcile_rotation_current_id(p));
        osb_autofree char *new = osb_strdup(osb_json_str(pending, "externalID"));
        osb_autofree char *retired_name = old ? rotation_retired_secret_name(binding_secret_name(p), old) : NULL;
        if (!old || !new || !retired_name)
                return OOM(err);
        int r = keep_old_secret(p, retired_name, old, err);
        if (r >= 0)
                r = binding_secret_inject(p, instance, creds, err);
        if (r == -ENOMEM || r == -ECANCELED)
                return r;
        if (r < 0) {
                char msg[1200];
                (void) snprintf(msg, sizeof(msg), "Error writing the new credentials (binding %s) to the Secret: %s", new,
                                err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return rotation_failed(p, msg, err);
        }
        json_t *retired = rot_array(p, "retired");
        json_t *e = json_pack("{s:s,s:s,s:s}", "externalID", old, "secretName", retired_name, "retiredTime", p->now);
        const char *pred = osb_json_str(pending, "predecessorExternalID");
        if (!retired || !e || set_time(e, "unbindAfter", p->tnow + (time_t) pol->ttl_s) < 0 ||
            json_array_append_new(retired, e) < 0 || history_add(p, pending, old, new) < 0 ||
            json_object_set_new(cr, "currentExternalID", json_string(new)) < 0 ||
            json_object_set_new(cr, "currentPredecessorExternalID", json_string(pred ? pred : "")) < 0 ||
            pass_set_str(p, "lastCredentialsRotationTime", p->now) < 0 || record_expiry(p, resp_body) < 0 ||
            json_object_set_new(cr, "workloadsStamp", json_string(p->now)) < 0 ||
            (props && json_object_set(p->status, "externalProperties", (json_t *) props) < 0) ||
            json_object_set_new(p->status, "reconciledGeneration", json_integer(generation)) < 0 ||
            json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return OOM(err);
        (void) json_object_del(p->status, "inProgressProperties");  /* an asynchronous bind's, now external */
        char msg[1200];
        (void) snprintf(msg, sizeof(msg), "Rotated the credentials (%s): binding %s replaces binding %s (%s); "
                        "the old credentials stay valid in Secret %s until %s", osb_json_str(pending, "reason"), new, old,
                        pred ? "predecessor_binding_id" : "a fresh bind", retired_name, osb_json_str(e, "unbindAfter"));
        (void) json_object_del(cr, "pending");
        condition_remove(p->status, ROTATION_CONDITION);
        ctl_retry_reset(p->c, p->key);
        (void) schedule(p, pol, false);
        r = pass_write_status(p, err);
        if (r >= 0) {
                pass_log(p, OSB_LOG_INFO, "credentials rotated", msg);
                pass_event(p, false, "CredentialsRotated", msg);
                r = notify_workloads(p, err);
        }
        return r;
}

static int start_rotation(struct pass *p, const json_t *instance, const struct rotation_policy *pol, const char *why,
                          struct osb_error *err);

/* The broker answered 409 for the pending id: it holds it with another request. The id is
 * unbound (it may hold credentials: the orphan-mitigation rule), and only then forgotten; the
 * rotation goes on with a new id and the request as it is now. Nothing is bound twice, nothing
 * is left at the broker. */
static int replace_pending(struct pass *p, const json_t *instance, const struct rotation_policy *pol,
                           struct osb_error *err)
{
        json_t *pending = json_object_get(rot(p), "pending");
        osb_autofree char *id = osb_strdup(osb_json_str(pending, "externalID") ? osb_json_str(pending, "externalID") : "");
        osb_autofree char *why = osb_strdup(osb_json_str(pending, "reason") ? osb_json_str(pending, "reason") : "");
        if (!id || !why)
                return OOM(err);
        bool gone;
        char msg[1200];
        int r = unbind_other(p, osb_json_str(json_object_get(instance, "spec"), "externalID"), id, &gone, msg, sizeof(msg), err);
        if (r < 0)
                return r;
        if (!gone)      /* an asynchronous unbind (the key comes back), or a failure: tried again */
                return *msg ? rotation_failed(p, msg, err) : pass_write_status(p, err);
        pass_log(p, OSB_LOG_INFO, "conflicting new binding unbound", id);
        (void) json_object_del(rot(p), "pending");
        return start_rotation(p, instance, pol, why, err);
}

/* The pending id's bind was accepted (202): its last_operation is polled; once it succeeded
 * the binding is fetched (GET) and the rotation finished. A poll or a fetch that fails is tried
 * again with back-off; a bind the broker says failed is sent again (same id). */
static int poll_rotation(struct pass *p, const json_t *instance, const struct rotation_policy *pol,
                         struct osb_error *err)
{
        json_t *pending = json_object_get(rot(p), "pending");
        osb_autofree char *id = osb_strdup(osb_json_str(pending, "externalID") ? osb_json_str(pending, "externalID") : "");
        if (!id)
                return OOM(err);
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        char msg[1200];
        struct osb_response resp = {.retry_after_s = -1};
        if (r >= 0)
                r = osb_client_last_operation(p->oc, iid, id, p->rv.cls->external_id, p->rv.plan->external_id,
                                              osb_json_str(pending, "operation"), identity, &resp, err);
        if (pass_busy(p, &r))
                return pass_write_status(p, err);
        if (r == -ECANCELED || r == -ENOMEM)
                return r;
        enum osb_response_state st = OSB_RESPONSE_IN_PROGRESS;
        const char *desc = NULL;
        if (r < 0 || (resp.status == 200 && osb_response_last_operation(&resp, "last_operation", &st, &desc, err) < 0)) {
                (void) snprintf(msg, sizeof(msg), "Error polling the bind of the new credentials (binding %s): %s", id, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                osb_response_release(&resp);
                return rotation_failed(p, msg, err);
        }
        long status = resp.status;
        int64_t retry_after = resp.retry_after_s;
        osb_response_release(&resp);
        if (status == 410)
                st = OSB_RESPONSE_FAILED;   /* the broker has no such binding: it is bound again */
        else if (status != 200) {
                (void) snprintf(msg, sizeof(msg), "Error polling the bind of the new credentials (binding %s): the broker "
                                "answered HTTP %ld", id, status);
                return rotation_failed(p, msg, err);
        }
        if (st == OSB_RESPONSE_IN_PROGRESS) {
                requeue_at(p, p->tnow + (time_t) OSB_MAX(retry_after, 1));
                return pass_write_status(p, err);
        }
        if (st == OSB_RESPONSE_FAILED) {
                /* the broker's description stays out of the condition */
                (void) json_object_del(pending, "asyncOpInProgress");
                (void) json_object_del(pending, "operation");
                (void) json_object_del(pending, "generation");
                (void) snprintf(msg, sizeof(msg), "Error binding the new credentials (binding %s): the broker's "
                                "asynchronous bind failed", id);
                return rotation_failed(p, msg, err);
        }
        resp = (struct osb_response) {.retry_after_s = -1};
        r = osb_client_fetch(p->oc, iid, id, identity, &resp, err);
        if (pass_busy(p, &r))
                return pass_write_status(p, err);
        if (r == -ECANCELED || r == -ENOMEM)
                return r;
        const json_t *creds = NULL;
        if (r < 0 || resp.status != 200 || osb_response_bind(&resp, "fetching the binding", &creds, err) < 0) {
                if (r >= 0 && resp.status != 200)
                        (void) snprintf(msg, sizeof(msg), "Error fetching the new binding %s: the broker answered HTTP %ld", id,
                                        (long) resp.status);
                else
                        (void) snprintf(msg, sizeof(msg), "Error fetching the new binding %s: %s", id, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                osb_response_release(&resp);
                return rotation_failed(p, msg, err);
        }
        int64_t gen = json_integer_value(json_object_get(pending, "generation"));
        /* the properties of the request the broker accepted, recorded at its 202 */
        json_auto_t *props = json_incref(json_object_get(p->status, "inProgressProperties"));
        r = finish_rotation(p, instance, pol, creds, resp.body, props, gen > 0 ? gen : p->generation, err);
        osb_response_release(&resp);
        return r;
}

/* Sends the pending rotation's bind (again: same id, same body) and carries out the answer. */
static int continue_rotation(struct pass *p, const json_t *instance, const struct rotation_policy *pol,
                             struct osb_error *err)
{
        json_t *pending = json_object_get(rot(p), "pending");
        time_t next = time_of(pending, "nextAttemptTime");
        if (next > p->tnow) {
                requeue_at(p, next);
                return pass_write_status(p, err);
        }
        if (json_is_true(json_object_get(pending, "conflict")))
                return replace_pending(p, instance, pol, err);
        if (json_is_true(json_object_get(pending, "asyncOpInProgress")))
                return poll_rotation(p, instance, pol, err);
        const char *id = osb_json_str(pending, "externalID");
        json_t *body = NULL, *props = NULL;
        char *identity = NULL;
        const char *reason;
        char msg[1200];
        int r = request_bind(p, instance, &body, &props, &identity, &reason, err);
        json_auto_t *b = body, *pr = props;
        osb_autofree char *ident = identity;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error preparing the bind of the new credentials: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return rotation_failed(p, msg, err);
        }
        const char *pred = osb_json_str(pending, "predecessorExternalID");
        if (pred && json_object_set_new(b, "predecessor_binding_id", json_string(pred)) < 0)
                return OOM(err);
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        struct osb_response resp = {.retry_after_s = -1};
        pass_log(p, OSB_LOG_INFO, "binding the new credentials", id);
        r = osb_client_bind(p->oc, iid, id, b, p->rv.cls->binding_retrievable, ident, &resp, err);
        if (pass_busy(p, &r))
                return pass_write_status(p, err);
        if (r == -ECANCELED || r == -ENOMEM)
                return r;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error binding the new credentials (binding %s): %s", id, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return rotation_failed(p, msg, err);
        }
        const json_t *creds = NULL;
        if (resp.status == 200 || resp.status == 201) {
                if (osb_response_bind(&resp, "bind", &creds, err) < 0) {
                        (void) snprintf(msg, sizeof(msg), "Error binding the new credentials (binding %s): %s", id, err->text);
                        *err = (struct osb_error) OSB_ERROR_INIT;
                        r = rotation_failed(p, msg, err);
                } else {
                        r = finish_rotation(p, instance, pol, creds, resp.body, pr, p->generation, err);
                }
        } else if (resp.status == 202) {
                /* polled (last_operation of the new id), then fetched (GET): the body's generation
                 * is kept, the one the rotation reconciles */
                const char *token = osb_json_str(resp.body, "operation");
                (void) snprintf(msg, sizeof(msg), "The new binding %s is being created asynchronously", id);
                requeue_at(p, p->tnow + OSB_MAX(resp.retry_after_s, 1));
                (void) json_object_del(pending, "operation");
                r = json_object_set_new(pending, "asyncOpInProgress", json_true()) < 0 ||
                    json_object_set_new(pending, "generation", json_integer(p->generation)) < 0 ||
                    (pr && json_object_set(p->status, "inProgressProperties", pr) < 0) ||
                    (token && json_object_set_new(pending, "operation", json_string(token)) < 0) ||
                    condition_set(p->status, ROTATION_CONDITION, "True", "Rotating", msg, p->now) < 0 ? OOM(err) :
                    pass_write_status(p, err);
        } else if (resp.status == 409) {
                /* the broker holds this id with the request as it was first sent (the spec, a
                 * parametersFrom Secret or the plan changed since): sending it again can never
                 * succeed. Recorded first, so a restart does not send it again either. */
                (void) snprintf(msg, sizeof(msg), "Error binding the new credentials (binding %s): the broker answered HTTP 409 "
                                "(it holds that binding with an earlier request); it is unbound and a new binding id takes "
                                "its place", id);
                r = json_object_set_new(pending, "conflict", json_true()) < 0 ? OOM(err) : rotation_failed(p, msg, err);
        } else {
                /* the status only: the broker's own words stay out of conditions and Events */
                (void) snprintf(msg, sizeof(msg), "Error binding the new credentials (binding %s): the broker answered HTTP %ld",
                                id, (long) resp.status);
                r = rotation_failed(p, msg, err);
        }
        osb_response_release(&resp);
        return r;
}

/* A rotation is due: the new id goes into the status before the broker hears of it. */
static int start_rotation(struct pass *p, const json_t *instance, const struct rotation_policy *pol, const char *why,
                          struct osb_error *err)
{
        char id[37];
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, id);
        json_t *cr = rot_make(p);
        bool rotatable = p->rv.plan->binding_rotatable;
        json_t *pending = json_pack("{s:s,s:s,s:s,s:s}", "externalID", id, "reason", why, "startTime",
                                    p->now, "method", rotatable ? "PredecessorBindingID" : "FreshBind");
        if (!cr || !pending || json_object_set_new(cr, "pending", pending) < 0 ||
            (rotatable && json_object_set_new(pending, "predecessorExternalID", json_string(reconcile_rotation_current_id(p))) < 0))
                return OOM(err);
        char msg[600];
        (void) snprintf(msg, sizeof(msg), "Rotating the credentials (%s): binding %s is to replace binding %s", why, id,
                        reconcile_rotation_current_id(p));
        if (condition_set(p->status, ROTATION_CONDITION, "True", "Rotating", msg, p->now) < 0)
                return OOM(err);
        int r = pass_write_status(p, err);
        if (r < 0)
                return r;
        return continue_rotation(p, instance, pol, err);
}

/* The forced rotation was recorded (pending): the annotation that asked for it comes off. */
static int drop_force_annotation(struct pass *p, struct osb_error *err)
{
        json_t *ann = json_object_get(json_object_get(p->obj, "metadata"), "annotations");
        if (!json_object_get(ann, ROTATION_ANNOTATION_FORCE))
                return 0;
        (void) json_object_del(ann, ROTATION_ANNOTATION_FORCE);
        json_t *keep = json_incref(p->status);
        int r = pass_write_object(p, err);
        /* the write returns the object with the status we just wrote; keep our copy */
        json_decref(p->status);
        p->status = keep;
        return r;
}

/* One rotation step of a Ready binding: unbind retired bindings whose TTL ended, carry on a
 * pending rotation, or start one when due. @spec_changed: a new generation of a rotated
 * binding, carried out by a rotation. Returns 0 (the key comes back when the schedule says). */
static int rotate(struct pass *p, const json_t *instance, bool spec_changed, struct osb_error *err)
{
        struct rotation_policy pol;
        struct osb_error perr = OSB_ERROR_INIT;
        if (rotation_policy_parse(pass_spec(p), &pol, &perr) < 0) {
                char msg[600];
                (void) snprintf(msg, sizeof(msg), "%s", perr.text);
                if (condition_set(p->status, ROTATION_CONDITION, "False", "InvalidRotationPolicy", msg, p->now) < 0)
                        return OOM(err);
                return pass_write_status(p, err);
        }
        if (condition_is(p->status, ROTATION_CONDITION, "False"))
                condition_remove(p->status, ROTATION_CONDITION);
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        int r = notify_workloads(p, err);
        if (r >= 0)
                r = reconcile_rotation_unbind_retired(p, iid, false, err);
        if (r < 0)
                return r;
        if (!pass_str(p, "lastCredentialsRotationTime") && pass_set_str(p, "lastCredentialsRotationTime", p->now) < 0)
                return OOM(err);
        bool forced = json_object_get(json_object_get(json_object_get(p->obj, "metadata"), "annotations"),
                                      ROTATION_ANNOTATION_FORCE) != NULL;
        if (json_is_object(json_object_get(rot(p), "pending"))) {
                if (forced && (r = drop_force_annotation(p, err)) < 0)
                        return r;
                (void) schedule(p, &pol, false);
                return continue_rotation(p, instance, &pol, err);
        }
        enum rotation_reason why = schedule(p, &pol, forced || spec_changed);
        if (why == ROTATION_FORCED && spec_changed && !forced)
                why = ROTATION_SPEC_CHANGED;
        if (why == ROTATION_NONE) {
                json_t *cr = rot(p);
                if (cr && json_object_size(cr) == 0)
                        (void) json_object_del(p->status, "credentialsRotation");
                return pass_write_status(p, err);
        }
        r = start_rotation(p, instance, &pol, rotation_reason_name(why), err);
        if (r >= 0 && forced)
                r = drop_force_annotation(p, err);
        return r;
}

/* Whether a Ready, reconciled binding has anything to do with rotation. */
bool reconcile_rotation_wanted(const struct pass *p)
{
        const json_t *pol = json_object_get(pass_spec(p), "credentialsRotationPolicy");
        return json_is_true(json_object_get(pol, "enabled")) || json_object_size(rot(p)) > 0 ||
               json_object_get(json_object_get(json_object_get(p->obj, "metadata"), "annotations"), ROTATION_ANNOTATION_FORCE);
}

/* A Ready binding with rotation to do: Ready stays as it is whatever happens here (the
 * credentials in the Secret still work); an instance that is busy or cannot be resolved only
 * delays the rotation. */
int reconcile_rotation_pass(struct pass *p, const json_t *instance, bool spec_changed, struct osb_error *err)
{
        const json_t *ist = json_object_get(instance, "status");
        const json_t *imd = json_object_get(instance, "metadata");
        if ((json_object_get(imd, "deletionTimestamp") && !json_is_null(json_object_get(imd, "deletionTimestamp"))) ||
            !condition_is(ist, "Ready", "True") || json_is_true(json_object_get(ist, "asyncOpInProgress"))) {
                p->requeue_ms = 5000;   /* the instance becoming Ready wakes us sooner */
                return 0;
        }
        resolve_release(&p->rv);
        const char *reason;
        int r = resolve_spec(p->c, json_object_get(instance, "spec"), p->ns, true, &p->rv, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                pass_log(p, OSB_LOG_WARN, "cannot rotate: the instance's references are unresolved", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                p->requeue_ms = ctl_retry_fail(p->c, p->key);
                return 0;
        }
        return rotate(p, instance, spec_changed, err);
}
