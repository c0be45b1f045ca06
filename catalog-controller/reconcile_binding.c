/* catalog-controller/reconcile_binding.c: ServiceBindings: wait for the instance, bind (async when
 * the service's bindings are retrievable), write the Secret (binding_secret.c), unbind on deletion
 * (service-catalog's lifecycle; how ours differs is in docs/controller.md); orphaning and
 * adoption. A Ready binding's credential rotation is reconcile_rotation.c's. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/binding_secret.h"
#include "catalog-controller/names.h"
#include "catalog-controller/reconcile_binding.h"
#include "catalog-controller/reconcile_instance.h"
#include "catalog-controller/reconcile_rotation.h"
#include "catalog-controller/adopt.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/osb_response.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/request.h"

#define OOM(err) osb_error_set(err, -ENOMEM, "out of memory")

static bool status_bool(const struct pass *p, const char *field)
{
        return json_is_true(json_object_get(p->status, field));
}

/* The namespace of the instance this binding names: spec.instanceRef.namespace, else its own. */
static const char *instance_ns(const struct pass *p)
{
        const char *ns = osb_json_str(json_object_get(pass_spec(p), "instanceRef"), "namespace");
        return ns && *ns ? ns : p->ns;
}

static bool cross_namespace(const struct pass *p)
{
        return !osb_streq(instance_ns(p), p->ns);
}

/* The instance this binding names, from the cache: *instance new, or NULL with @err saying so.
 * An instance of another namespace that is missing is described as one that is not shared, so
 * that a binding cannot tell whether an instance it may not use exists. */
static int get_instance(struct pass *p, json_t **instance, struct osb_error *err)
{
        const char *iname = osb_json_str(json_object_get(pass_spec(p), "instanceRef"), "name");
        *instance = NULL;
        if (!iname)
                return osb_error_set(err, OSB_E_NOT_FOUND, "spec.instanceRef.name is not set");
        osb_autofree char *k = osb_asprintf("%s/%s", instance_ns(p), iname);
        if (!k)
                return OOM(err);
        struct cached *o = (struct cached *) informer_get(p->c->instances, k);
        if (!o && cross_namespace(p))
                return osb_error_set(err, OSB_E_NOT_FOUND, "ServiceInstance %s/%s does not exist or does not allow "
                                     "bindings from namespace %s (annotation " NAMES_ANNOTATION_ALLOWED_NS " on the instance)",
                                     instance_ns(p), iname, p->ns);
        if (!o)
                return osb_error_set(err, OSB_E_NOT_FOUND, "ServiceInstance %s/%s does not exist", p->ns, iname);
        *instance = cached_json(o);
        informer_put(p->c->instances, &o->meta);
        return *instance ? 0 : OOM(err);
}

/* Whether @instance lets this binding use it: always from its own namespace; from another only
 * when the instance says so (NAMES_ANNOTATION_ALLOW_CROSS_NS "true", or the binding's namespace
 * in the comma-separated NAMES_ANNOTATION_ALLOWED_NS). Pure. */
bool reconcile_binding_shared(const json_t *instance, const char *binding_ns)
{
        const json_t *md = json_object_get(instance, "metadata");
        const char *ins = osb_json_str(md, "namespace");
        if (!binding_ns || !ins || osb_streq(ins, binding_ns))
                return true;
        const json_t *ann = json_object_get(md, "annotations");
        if (osb_streq(osb_json_str(ann, NAMES_ANNOTATION_ALLOW_CROSS_NS), "true"))
                return true;
        const char *list = osb_json_str(ann, NAMES_ANNOTATION_ALLOWED_NS);
        size_t n = strlen(binding_ns);
        for (const char *s = list; s && *s;) {
                while (*s == ' ' || *s == ',')
                        s++;
                size_t len = strcspn(s, ", ");
                if (len == n && memcmp(s, binding_ns, n) == 0)
                        return true;
                s += len;
        }
        return false;
}

/* The instance, resolved to its class, plan and broker (by the references the instance
 * reconciler wrote). Returns 0, or OSB_E_NOT_FOUND with *reason. */
static int find_instance(struct pass *p, json_t **instance, const char **reason, struct osb_error *err)
{
        *reason = "ReferencesNonexistentInstance";
        int r = get_instance(p, instance, err);
        if (r < 0)
                return r;
        r = resolve_spec(p->c, json_object_get(*instance, "spec"), instance_ns(p), true, &p->rv, reason, err);
        if (r < 0 && r != -ENOMEM) {
                osb_error_prefix(err, "ServiceInstance %s: ", osb_json_str(json_object_get(*instance, "metadata"), "name"));
                *reason = "ErrorInstanceRefsUnresolved";
        }
        return r;
}

/* ---- bind ---- */

/* The wait before the next poll of a binding's operation: the broker's Retry-After read as an
 * instance's (at least 250 ms, at most --max-poll-interval), else @dflt. */
static int64_t binding_poll_ms(const struct pass *p, long retry_after_s, int64_t dflt)
{
        return retry_after_s >= 0 ? reconcile_instance_poll_delay(0, retry_after_s, p->c->opts.max_poll_ms) : dflt;
}


static int bound(struct pass *p, const json_t *instance, const json_t *creds, const json_t *resp_body,
                 struct osb_error *err)
{
        json_t *props = json_object_get(p->status, "inProgressProperties");
        if (props && json_object_set(p->status, "externalProperties", props) < 0)
                return OOM(err);
        (void) json_object_del(p->status, "inProgressProperties");
        if (json_object_set_new(p->status, "unbindStatus", json_string("Required")) < 0)
                return OOM(err);
        int r = binding_secret_inject(p, instance, creds, err);
        if (pass_busy(p, &r) || r == -ENOMEM || r == -ECANCELED)
                return r;
        if (r < 0) {
                char msg[1200];
                (void) snprintf(msg, sizeof(msg), "Error injecting the bind result: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                pass_clear_operation(p);
                return pass_retry(p, "False", "ErrorInjectingBindResult", msg, err);
        }
        pass_clear_operation(p);
        condition_remove(p->status, "Failed");
        /* servicebinding.io's Provisioned Service: status.binding.name names the Secret */
        if (json_object_set_new(p->status, "reconciledGeneration", json_integer(p->generation)) < 0 ||
            json_object_set_new(p->status, "binding", json_pack("{s:s}", "name", binding_secret_name(p))) < 0 ||
            reconcile_rotation_bound(p, resp_body) < 0)
                return OOM(err);
        ctl_retry_reset(p->c, p->key);
        r = pass_ready(p, "True", "InjectedBindResult", "Injected bind result", false, err);
        if (r >= 0)
                pass_log(p, OSB_LOG_INFO, "binding ready", NULL);
        return r;
}

static int terminal(struct pass *p, const char *reason, const char *message, struct osb_error *err)
{
        pass_clear_operation(p);
        if (condition_set(p->status, "Failed", "True", reason, message, p->now) < 0)
                return OOM(err);
        ctl_retry_reset(p->c, p->key);
        pass_log(p, OSB_LOG_WARN, reason, message);
        return pass_ready(p, "False", reason, message, true, err);
}

static int unbind(struct pass *p, bool mitigation, struct osb_error *err);

/* The broker may hold a binding we could not learn of (a 5xx, a time-out, an answer that cannot
 * be read): Failed=True @reason, then unbind at the broker. */
static int mitigate(struct pass *p, const char *reason, const char *message, struct osb_error *err)
{
        if (condition_set(p->status, "Failed", "True", reason, message, p->now) < 0 ||
            json_object_set_new(p->status, "orphanMitigationInProgress", json_true()) < 0)
                return OOM(err);
        pass_log(p, OSB_LOG_WARN, "starting orphan mitigation", message);
        int r = pass_ready(p, "False", "ServiceBindingNeedsOrphanMitigation", message, true, err);
        return r < 0 ? r : unbind(p, true, err);
}

static int bind_binding(struct pass *p, const json_t *instance, struct osb_error *err)
{
        json_t *body = NULL, *props = NULL;
        char *identity = NULL;
        char msg[1200];
        const char *reason;
        int r = request_bind(p, instance, &body, &props, &identity, &reason, err);
        if (r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "%s: %s", r == -EDOM ? "The parameters do not match the plan's schema" :
                                osb_streq(reason, "ErrorWithParameters") ? "Error building the parameters" :
                                "Error preparing the bind request", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", reason, msg, err);
                goto out;
        }
        if (json_object_set(p->status, "inProgressProperties", props) < 0 ||
            json_object_set_new(p->status, "currentOperation", json_string("Bind")) < 0 ||
            reconcile_rotation_predecessor_into(p, body) < 0) {
                r = OOM(err);
                goto out;
        }
        bool async = p->rv.cls->binding_retrievable;
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        const char *bid = reconcile_rotation_current_id(p);
        struct osb_response resp = {.retry_after_s = -1};
        pass_log(p, OSB_LOG_INFO, "binding", NULL);
        r = osb_client_bind(p->oc, iid, bid, body, async, identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error binding: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                if (r == -ETIMEDOUT) {
                        /* the broker may have made the binding: remove it */
                        r = mitigate(p, "BindCallFailed", msg, err);
                } else {
                        r = pass_retry(p, "False", "BindCallFailed", msg, err);
                }
                goto out;
        }
        char d[1000];
        osb_response_describe(&resp, d, sizeof(d));
        (void) snprintf(msg, sizeof(msg), "Error binding: %s", d);
        const json_t *creds = NULL;
        if ((resp.status == 200 || resp.status == 201) && osb_response_bind(&resp, "bind", &creds, err) < 0) {
                /* an answer that cannot be read is no binding: the broker may hold one we know
                 * nothing of, so it is unbound (the OSB spec's orphan mitigation for bindings) */
                (void) snprintf(msg, sizeof(msg), "Error binding: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = mitigate(p, "ServiceBindingReturnedFailure", msg, err);
        } else if (resp.status == 200 || resp.status == 201) {
                r = bound(p, instance, creds, resp.body, err);
        } else if (resp.status == 202) {
                const char *token = osb_json_str(resp.body, "operation");
                if (json_object_set_new(p->status, "asyncOpInProgress", json_true()) < 0 ||
                    (token && json_object_set_new(p->status, "lastOperation", json_string(token)) < 0) ||
                    json_object_set_new(p->status, "operationStartTime", json_string(p->now)) < 0 ||
                    json_object_set_new(p->status, "unbindStatus", json_string("Required")) < 0) {
                        r = OOM(err);
                } else {
                        p->requeue_ms = binding_poll_ms(p, resp.retry_after_s, 250);
                        r = pass_ready(p, "False", "Binding", "The binding is being created asynchronously", false, err);
                }
        } else if (resp.status >= 500) {
                r = mitigate(p, "ServiceBindingReturnedFailure", msg, err);
        } else if (resp.status == 409 || resp.status == 422) {
                r = pass_retry(p, "False", "BindCallFailed", msg, err);
        } else {
                if (json_object_set_new(p->status, "unbindStatus", json_string("NotRequired")) < 0)
                        r = OOM(err);
                else
                        r = terminal(p, "ServiceBindingReturnedFailure", msg, err);
        }
        osb_response_release(&resp);
out:
        if (props)
                json_decref(props);
        if (body)
                json_decref(body);
        osb_free(identity);
        return r < 0 ? r : 0;
}

/* ---- poll (asynchronous bind and unbind) ---- */

static int poll_binding(struct pass *p, const json_t *instance, struct osb_error *err)
{
        bool unbinding = osb_streq(osb_json_str(p->status, "currentOperation"), "Unbind");
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        const char *bid = reconcile_rotation_current_id(p);
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        struct osb_response resp = {.retry_after_s = -1};
        if (r >= 0)
                r = osb_client_last_operation(p->oc, iid, bid, p->rv.cls->external_id, p->rv.plan->external_id,
                                              osb_json_str(p->status, "lastOperation"), identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        char msg[1200];
        int64_t next = binding_poll_ms(p, resp.retry_after_s, 1000);
        if (r >= 0 && resp.status == 410 && unbinding) {
                osb_response_release(&resp);
                pass_clear_operation(p);
                return pass_finalize(p, err);
        }
        enum osb_response_state st = OSB_RESPONSE_IN_PROGRESS;
        const char *desc = NULL;
        /* an answer that cannot be read (not JSON, a state we do not know) is shown, and
         * polling goes on, as when the broker cannot be reached */
        bool unreadable = r >= 0 && resp.status == 200 &&
                          osb_response_last_operation(&resp, "last_operation", &st, &desc, err) < 0;
        if (r < 0 || resp.status != 200 || unreadable) {
                if (r >= 0 && !unreadable)
                        osb_response_describe(&resp, msg, sizeof(msg));
                else
                        (void) snprintf(msg, sizeof(msg), "%s", err->text);
                osb_response_release(&resp);
                *err = (struct osb_error) OSB_ERROR_INIT;
                p->requeue_ms = OSB_MIN(next * 2, p->c->opts.max_poll_ms > 0 ? p->c->opts.max_poll_ms : 300000);
                char full[1400];
                (void) snprintf(full, sizeof(full), "Error polling the %s operation: %s", unbinding ? "unbind" : "bind", msg);
                pass_log(p, OSB_LOG_WARN, "cannot poll", full);
                return pass_ready(p, unbinding ? "Unknown" : "False", "ErrorPollingLastOperation", full, true, err);
        }
        if (st == OSB_RESPONSE_SUCCEEDED) {
                osb_response_release(&resp);
                if (unbinding) {
                        pass_clear_operation(p);
                        r = pass_finalize(p, err);
                        if (r >= 0)
                                pass_event(p, false, "UnboundSuccessfully", "The binding was deleted at the broker");
                        return r;
                }
                /* fetch the binding for its credentials (GET of the binding, async bindings) */
                r = osb_client_fetch(p->oc, iid, bid, identity, &resp, err);
                if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                        return r == -ENOMEM ? r : 0;
                const json_t *creds = NULL;
                if (r >= 0 && resp.status == 200 && osb_response_bind(&resp, "fetching the binding", &creds, err) < 0) {
                        /* the broker says the binding exists but its credentials cannot be read */
                        (void) snprintf(msg, sizeof(msg), "Error fetching the binding: %s", err->text);
                        *err = (struct osb_error) OSB_ERROR_INIT;
                        r = mitigate(p, "FetchingBindingFailed", msg, err);
                } else if (r >= 0 && resp.status == 200) {
                        r = bound(p, instance, creds, resp.body, err);
                } else {
                        if (r >= 0)
                                osb_response_describe(&resp, msg, sizeof(msg));
                        else
                                (void) snprintf(msg, sizeof(msg), "%s", err->text);
                        *err = (struct osb_error) OSB_ERROR_INIT;
                        char full[1400];
                        (void) snprintf(full, sizeof(full), "Error fetching the binding: %s", msg);
                        r = pass_retry(p, "False", "FetchingBindingFailed", full, err);
                }
        } else if (st == OSB_RESPONSE_FAILED) {
                (void) snprintf(msg, sizeof(msg), "The %s operation failed%s%s", unbinding ? "unbind" : "bind",
                                desc ? ": " : "", desc ? desc : "");
                if (unbinding) {
                        pass_clear_operation(p);
                        r = pass_retry(p, "Unknown", "UnbindCallFailed", msg, err);
                } else if (json_object_set_new(p->status, "unbindStatus", json_string("NotRequired")) < 0) {
                        r = OOM(err);
                } else {
                        r = terminal(p, "ServiceBindingReturnedFailure", msg, err);
                }
        } else {
                p->requeue_ms = next;
                r = pass_ready(p, "False", unbinding ? "Unbinding" : "Binding", desc ? desc : unbinding ?
                                "The binding is being deleted asynchronously" : "The binding is being created asynchronously",
                                false, err);
        }
        osb_response_release(&resp);
        return r;
}

/* ---- unbind ---- */

static int unbind(struct pass *p, bool mitigation, struct osb_error *err)
{
        json_auto_t *instance = NULL;
        const char *reason = NULL;
        /* the instance is needed for its id; its broker, unless the bind path resolved it */
        int r = p->rv.broker ? get_instance(p, &instance, err) : find_instance(p, &instance, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (!instance) {
                /* the instance is gone, and the broker's bindings went with it */
                *err = (struct osb_error) OSB_ERROR_INIT;
                pass_log(p, OSB_LOG_INFO, "instance gone", "nothing to unbind at the broker");
                r = binding_secret_eject(p, err);
                return r < 0 ? r : pass_finalize(p, err);
        }
        char msg[1200];
        if (r < 0 && !osb_json_str(p->status, "unbindStatus")) {
                /* no bind was ever recorded, and the instance cannot name its broker: nothing to undo */
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = binding_secret_eject(p, err);
                return r < 0 ? r : pass_finalize(p, err);
        }
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Cannot unbind: %s. To delete the binding without calling the broker: "
                                "kubectl annotate servicebinding %s " NAMES_ANNOTATION_ABANDON "=true", err->text, p->name);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", "UnbindCallFailed", msg, err);
        }
        /* bindings a rotation made or retired go first: none is left at the broker */
        r = reconcile_rotation_unbind_retired(p, osb_json_str(json_object_get(instance, "spec"), "externalID"), true, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (p->requeue_ms < 0)
                        p->requeue_ms = ctl_retry_fail(p->c, p->key);
                return pass_write_status(p, err);
        }
        r = binding_secret_eject(p, err);
        if (r < 0)
                return r;
        osb_autofree char *identity = NULL;
        r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        struct osb_response resp = {.retry_after_s = -1};
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        if (r >= 0)
                r = osb_client_unbind(p->oc, iid, reconcile_rotation_current_id(p), p->rv.cls->external_id,
                                      p->rv.plan->external_id, p->rv.cls->binding_retrievable, identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error unbinding: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", mitigation ? "OrphanMitigationFailed" : "UnbindCallFailed", msg, err);
        }
        char d[1000];
        osb_response_describe(&resp, d, sizeof(d));
        (void) snprintf(msg, sizeof(msg), "Error unbinding: %s", d);
        if (resp.status == 200 || resp.status == 410) {
                if (mitigation) {
                        (void) json_object_set_new(p->status, "orphanMitigationInProgress", json_false());
                        (void) json_object_set_new(p->status, "unbindStatus", json_string("Succeeded"));
                        r = pass_ready(p, "False", "OrphanMitigationSuccessful", "Orphan mitigation was completed successfully",
                                        false, err);
                } else {
                        r = pass_finalize(p, err);
                        if (r >= 0) {
                                pass_log(p, OSB_LOG_INFO, "binding deleted", NULL);
                                pass_event(p, false, "UnboundSuccessfully", "The binding was deleted at the broker");
                        }
                }
        } else if (resp.status == 202) {
                const char *token = osb_json_str(resp.body, "operation");
                if (json_object_set_new(p->status, "asyncOpInProgress", json_true()) < 0 ||
                    json_object_set_new(p->status, "currentOperation", json_string("Unbind")) < 0 ||
                    (token && json_object_set_new(p->status, "lastOperation", json_string(token)) < 0) ||
                    json_object_set_new(p->status, "operationStartTime", json_string(p->now)) < 0) {
                        r = OOM(err);
                } else {
                        p->requeue_ms = binding_poll_ms(p, resp.retry_after_s, 250);
                        r = pass_ready(p, "False", "Unbinding", "The binding is being deleted asynchronously", false, err);
                }
        } else {
                r = pass_retry(p, "Unknown", mitigation ? "OrphanMitigationFailed" : "UnbindCallFailed", msg, err);
        }
        osb_response_release(&resp);
        return r;
}

/* ---- orphaning and adoption ---- */

/* spec.deletionPolicy Orphan: the binding goes without an unbind; the broker keeps the
 * credentials valid. The Secret goes with the binding (it is the binding's, as on a normal
 * deletion: deleted here, and by the garbage collector through its owner reference anyway). */
static int orphan(struct pass *p, struct osb_error *err)
{
        int r = binding_secret_eject(p, err);
        if (r >= 0)
                r = pass_finalize(p, err);
        if (r >= 0) {
                pass_log(p, OSB_LOG_INFO, "binding orphaned", "the finalizer was removed without unbinding");
                char msg[600];
                const char *id = osb_json_str(pass_spec(p), "externalID");
                (void) snprintf(msg, sizeof(msg), "Released without unbinding (spec.deletionPolicy: Orphan): the broker "
                                "keeps binding %s; its Secret was deleted with it", id ? id : "(none)");
                pass_event(p, false, "Orphaned", msg);
        }
        return r;
}

static bool adopt_requested(const struct pass *p)
{
        return osb_streq(kobj_annotation(p->obj, NAMES_ANNOTATION_ADOPT), "true");
}

/* Adoption cannot be done: Failed=True until the spec changes; deleting the binding then never
 * unbinds (unbindStatus NotRequired: the broker's binding is not ours). */
static int adopt_refused(struct pass *p, const char *message, struct osb_error *err)
{
        if (json_object_set_new(p->status, "unbindStatus", json_string("NotRequired")) < 0)
                return OOM(err);
        return terminal(p, "ErrorAdoptingBinding", message, err);
}

/* Takes over the binding spec.externalID that the broker already holds: GET
 * .../service_bindings/:id (the service must be bindings_retrievable); its credentials become
 * the Secret, as after a bind. Nothing is sent that changes the broker. */
static int adopt_binding(struct pass *p, const json_t *instance, struct osb_error *err)
{
        const char *bid = osb_json_str(pass_spec(p), "externalID");
        const char *iid = osb_json_str(json_object_get(instance, "spec"), "externalID");
        char msg[1400];
        /* until the broker confirms it, the binding is not ours: never unbound */
        if (json_object_set_new(p->status, "unbindStatus", json_string("NotRequired")) < 0)
                return OOM(err);
        if (!p->rv.cls->binding_retrievable) {
                (void) snprintf(msg, sizeof(msg), "Cannot adopt binding %s: %s %s does not let its bindings be fetched "
                                "(bindings_retrievable is false), so the broker cannot confirm that it holds it", bid,
                                p->rv.fl->class_kind, p->rv.cls->meta.name);
                return adopt_refused(p, msg, err);
        }
        struct osb_response resp;
        enum adopt_fetched got;
        int r = adopt_fetch(p, iid, bid, &resp, &got, msg, sizeof(msg), err);
        if (got == ADOPT_FETCHED_ABSENT)
                return adopt_refused(p, msg, err);
        if (got != ADOPT_FETCHED_HELD)
                return r;
        const json_t *creds = NULL;
        if (osb_response_bind(&resp, "fetching the binding", &creds, err) < 0) {
                /* an answer that cannot be read: later */
                (void) snprintf(msg, sizeof(msg), "Error adopting the binding: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                osb_response_release(&resp);
                return pass_retry(p, "False", "ErrorAdoptingBinding", msg, err);
        }
        r = bound(p, instance, creds, resp.body, err);
        osb_response_release(&resp);
        if (r >= 0 && condition_is(p->status, "Ready", "True"))
                pass_log(p, OSB_LOG_INFO, "binding adopted", NULL);
        return r;
}

/* ---- one pass ---- */

static int settle_spec(struct pass *p, struct osb_error *err)
{
        json_t *spec = json_object_get(p->obj, "spec");
        if (!spec)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "the object has no spec");
        int changed = kobj_add_finalizer(p->obj);
        if (changed < 0)
                return OOM(err);
        int idr = request_default_external_id(spec);
        if (idr < 0)
                return OOM(err);
        changed |= idr;
        const char *sn = osb_json_str(spec, "secretName");
        if (!sn || !*sn) {
                if (json_object_set_new(spec, "secretName", json_string(p->name)) < 0)
                        return OOM(err);
                changed = 1;
        }
        if (!changed)
                return 0;
        int r = pass_write_object(p, err);
        if (r >= 0)
                p->generation = json_integer_value(json_object_get(json_object_get(p->obj, "metadata"), "generation"));
        return r;
}

/* A binding created a moment ago with its instance (kubectl create -f app.yaml) usually finds the
 * instance about to be Ready: it waits a few seconds before writing that it waits (one status
 * write less per binding); the instance becoming Ready wakes it sooner. */
static bool just_created(struct pass *p)
{
        time_t created;
        if (condition_get(p->status, "Ready") ||
            osb_time_parse_rfc3339(osb_json_str(json_object_get(p->obj, "metadata"), "creationTimestamp"), &created) < 0 ||
            p->tnow - created >= 3)
                return false;
        p->requeue_ms = (int64_t) (created + 3 - p->tnow) * 1000;
        return true;
}

static int binding_pass(struct pass *p, struct osb_error *err)
{
        bool deleting, has_finalizer;
        if (pass_begin(p, &deleting, &has_finalizer) < 0)
                return OOM(err);

        if (deleting) {
                if (!has_finalizer)
                        return 0;
                if (osb_streq(kobj_annotation(p->obj, NAMES_ANNOTATION_ABANDON), "true")) {
                        int r = binding_secret_eject(p, err);
                        if (r >= 0)
                                r = pass_finalize(p, err);
                        if (r >= 0) {
                                pass_log(p, OSB_LOG_WARN, "binding abandoned", "the finalizer was removed without calling the broker");
                                pass_event(p, true, "Abandoned", "The finalizer was removed without calling the broker "
                                            "(annotation " NAMES_ANNOTATION_ABANDON "); the broker may still hold the binding");
                        }
                        return r;
                }
                if (osb_streq(osb_json_str(pass_spec(p), "deletionPolicy"), "Orphan"))
                        return orphan(p, err);
                const char *ubs = osb_json_str(p->status, "unbindStatus");
                if ((osb_streq(ubs, "NotRequired") || osb_streq(ubs, "Succeeded")) && !status_bool(p, "asyncOpInProgress")) {
                        int r = binding_secret_eject(p, err);
                        return r < 0 ? r : pass_finalize(p, err);
                }
                if (status_bool(p, "asyncOpInProgress") && osb_streq(osb_json_str(p->status, "currentOperation"), "Unbind")) {
                        json_auto_t *instance = NULL;
                        const char *reason;
                        int r = find_instance(p, &instance, &reason, err);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                *err = (struct osb_error) OSB_ERROR_INIT;
                                return unbind(p, false, err);
                        }
                        return poll_binding(p, instance, err);
                }
                return unbind(p, false, err);
        }

        if (adopt_requested(p) && !osb_json_str(pass_spec(p), "externalID")) {
                if (condition_is(p->status, "Failed", "True") &&
                    json_integer_value(json_object_get(p->status, "observedGeneration")) == p->generation)
                        return 0;
                return adopt_refused(p, "Cannot adopt: spec.externalID must name the broker's binding (annotation "
                                     NAMES_ANNOTATION_ADOPT ")", err);
        }
        int r = settle_spec(p, err);
        if (r < 0)
                return r;
        if (status_bool(p, "orphanMitigationInProgress"))
                return unbind(p, true, err);
        json_auto_t *instance = NULL;
        const char *reason = NULL;
        if (status_bool(p, "asyncOpInProgress")) {
                r = find_instance(p, &instance, &reason, err);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        return poll_binding(p, instance, err);
        } else {
                r = get_instance(p, &instance, err);
                if (r == -ENOMEM)
                        return r;
        }
        if (!instance) {
                if (just_created(p))
                        return 0;
                /* it may be on its way (created together with the binding): its arrival wakes us */
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "%s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                if (cross_namespace(p))
                        return pass_retry(p, "False", "CrossNamespaceBindingNotAllowed", msg, err);
                return pass_ready(p, "False", "ReferencesNonexistentInstance", msg, false, err);
        }
        int64_t og = json_integer_value(json_object_get(p->status, "observedGeneration"));
        if (condition_is(p->status, "Failed", "True")) {
                if (og == p->generation)
                        return 0;
                condition_remove(p->status, "Failed");
                ctl_retry_reset(p->c, p->key);
        }
        bool ready = condition_is(p->status, "Ready", "True");
        bool reconciled = json_integer_value(json_object_get(p->status, "reconciledGeneration")) == p->generation;
        /* a rotated binding's new generation is carried out by a rotation (a new binding with the
         * new spec): sending the current id again with another body would be refused (409); so is
         * one that changes while a rotation is pending (the pending rotation carries it) */
        bool rotated = !osb_streq(reconcile_rotation_current_id(p), osb_json_str(pass_spec(p), "externalID")) ||
                       reconcile_rotation_pending(p);
        if (ready && (reconciled ? reconcile_rotation_wanted(p) : rotated))
                return reconcile_rotation_pass(p, instance, !reconciled, err);
        if (ready && reconciled)
                return 0;
        time_t next;
        if (osb_time_parse_rfc3339(osb_json_str(p->status, "nextRetryTime"), &next) == 0 && next > p->tnow && og == p->generation) {
                p->requeue_ms = (int64_t) (next - p->tnow) * 1000;
                return 0;
        }
        const json_t *ist = json_object_get(instance, "status");
        const json_t *imd = json_object_get(instance, "metadata");
        if (!reconcile_binding_shared(instance, p->ns)) {
                /* the same words as for a missing instance: an instance not shared is not shown to exist;
                 * retried, since a change of the instance's annotations wakes nothing */
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "ServiceInstance %s/%s does not exist or does not allow bindings from "
                                "namespace %s (annotation " NAMES_ANNOTATION_ALLOWED_NS " on the instance)", instance_ns(p),
                                osb_json_str(imd, "name"), p->ns);
                return pass_retry(p, "False", "CrossNamespaceBindingNotAllowed", msg, err);
        }
        if (json_object_get(imd, "deletionTimestamp") && !json_is_null(json_object_get(imd, "deletionTimestamp")))
                return pass_ready(p, "False", "ErrorInstanceNotReady", "The ServiceInstance is being deleted", true, err);
        if (!condition_is(ist, "Ready", "True") || json_is_true(json_object_get(ist, "asyncOpInProgress"))) {
                if (just_created(p))
                        return 0;
                /* the controller has not reached the instance yet (no Ready condition: it waits in
                 * the queue behind others, at scale), or reached it less than 3 s ago: the same
                 * grace as a new binding's, no write; its Ready wakes us, and a look after the
                 * grace says ErrorInstanceNotReady if it is still not Ready */
                const json_t *irc = condition_get(ist, "Ready");
                time_t since = 0;
                if (!condition_get(p->status, "Ready") &&
                    (!irc || (osb_time_parse_rfc3339(osb_json_str(irc, "lastTransitionTime"), &since) == 0 && p->tnow - since < 3))) {
                        p->requeue_ms = irc ? (int64_t) (since + 3 - p->tnow) * 1000 : 3000;
                        return 0;
                }
                /* an asynchronous operation whose poll is overdue in our own queue: the delay is
                 * ours, not the instance's; look again shortly, without writing */
                if (!condition_get(p->status, "Ready") && json_is_true(json_object_get(ist, "asyncOpInProgress"))) {
                        osb_autofree char *ikey = osb_asprintf(CTL_KEY_INSTANCE "%s/%s", p->ns, osb_json_str(imd, "name"));
                        if (ikey && p->c->queue && queue_behind(p->c->queue, ikey)) {
                                p->requeue_ms = 500;
                                return 0;
                        }
                }
                char msg[400];
                (void) snprintf(msg, sizeof(msg), "Binding cannot begin because the referenced ServiceInstance %s/%s is not ready",
                                instance_ns(p), osb_json_str(imd, "name"));
                return pass_ready(p, "False", "ErrorInstanceNotReady", msg, false, err);     /* woken when it is */
        }
        resolve_release(&p->rv);
        r = resolve_spec(p->c, json_object_get(instance, "spec"), instance_ns(p), true, &p->rv, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "ServiceInstance %s: %s", osb_json_str(imd, "name"), err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "False", "ErrorInstanceRefsUnresolved", msg, err);
        }
        int bindable = p->rv.plan->bindable >= 0 ? p->rv.plan->bindable : p->rv.cls->bindable;
        if (bindable == 0) {
                char msg[400];
                (void) snprintf(msg, sizeof(msg), "%s %s (plan %s) is not bindable", p->rv.fl->class_kind, p->rv.cls->meta.name,
                                p->rv.plan->meta.name);
                return terminal(p, "ErrorNonbindableServiceClass", msg, err);
        }
        if (adopt_requested(p))
                return adopt_binding(p, instance, err);
        return bind_binding(p, instance, err);
}

int reconcile_binding(struct ctl *c, const char *key)
{
        return pass_run(c, key, "ServiceBinding", &kube_sc_bindings, c->bindings, strlen(CTL_KEY_BINDING), cached_json_of,
                        binding_pass);
}
