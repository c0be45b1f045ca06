/* catalog-controller/reconcile_binding.c: ServiceBindings: wait for the instance, bind (async when
 * the service's bindings are retrievable), write the Secret, unbind on deletion (service-catalog's
 * lifecycle; how ours differs is in docs/controller.md). */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/credentials.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/names.h"
#include "catalog-controller/reconcile_binding.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/osb_response.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/request.h"

#define OOM(err) osb_error_set(err, -ENOMEM, "out of memory")

static const json_t *spec_of(const struct pass *p)
{
        return json_object_get(p->obj, "spec");
}

static const char *str_of(const json_t *o, const char *field)
{
        return json_string_value(json_object_get(o, field));
}

static bool status_bool(const struct pass *p, const char *field)
{
        return json_is_true(json_object_get(p->status, field));
}

static const char *secret_name(const struct pass *p)
{
        const char *s = str_of(spec_of(p), "secretName");
        return s && *s ? s : p->name;
}

/* The instance this binding names, from the cache: *instance new, or NULL with @err saying so. */
static int get_instance(struct pass *p, json_t **instance, struct osb_error *err)
{
        const char *iname = str_of(json_object_get(spec_of(p), "instanceRef"), "name");
        *instance = NULL;
        if (!iname)
                return osb_error_set(err, OSB_E_NOT_FOUND, "spec.instanceRef.name is not set");
        osb_autofree char *k = osb_asprintf("%s/%s", p->ns, iname);
        if (!k)
                return OOM(err);
        struct cached *o = (struct cached *) informer_get(p->c->instances, k);
        if (!o)
                return osb_error_set(err, OSB_E_NOT_FOUND, "ServiceInstance %s/%s does not exist", p->ns, iname);
        *instance = cached_json(o);
        informer_put(p->c->instances, &o->meta);
        return *instance ? 0 : OOM(err);
}

/* The instance, resolved to its class, plan and broker (by the references the instance
 * reconciler wrote). Returns 0, or OSB_E_NOT_FOUND with *reason. */
static int find_instance(struct pass *p, json_t **instance, const char **reason, struct osb_error *err)
{
        *reason = "ReferencesNonexistentInstance";
        int r = get_instance(p, instance, err);
        if (r < 0)
                return r;
        r = resolve_spec(p->c, json_object_get(*instance, "spec"), p->ns, true, &p->rv, reason, err);
        if (r < 0 && r != -ENOMEM) {
                osb_error_prefix(err, "ServiceInstance %s: ", str_of(json_object_get(*instance, "metadata"), "name"));
                *reason = "ErrorInstanceRefsUnresolved";
        }
        return r;
}

/* ---- the Secret ---- */

static int read_secret_data(void *userdata, const char *ns, const char *name, json_t **data, struct osb_error *err)
{
        struct pass *p = userdata;
        /* the controller can read every namespace; whoever creates a binding may not: only
         * Secrets beside the binding (service-catalog allowed any, a way to copy others' Secrets) */
        if (!osb_streq(ns, p->ns))
                return osb_error_set(err, OSB_E_BAD_REQUEST, "Secret %s/%s is not in the binding's namespace %s",
                                     ns, name, p->ns);
        json_auto_t *sec = NULL;
        int r = kapi_get(p->c->kube, &kube_secrets, ns, name, &sec, err);
        if (r == OSB_E_NOT_FOUND)
                return osb_error_set(err, r, "Secret %s/%s not found", ns, name);
        if (r < 0)
                return r;
        json_t *d = json_object_get(sec, "data");
        *data = json_is_object(d) ? json_incref(d) : json_object();
        return *data ? 0 : OOM(err);
}

/* The controller ownerReference of @secret names this binding. */
static bool owned(const struct pass *p, const json_t *secret)
{
        const char *uid = str_of(json_object_get(p->obj, "metadata"), "uid");
        size_t i;
        json_t *ref;
        json_array_foreach(json_object_get(json_object_get(secret, "metadata"), "ownerReferences"), i, ref) {
                if (json_is_true(json_object_get(ref, "controller")) && osb_streq(str_of(ref, "uid"), uid))
                        return true;
        }
        return false;
}

/* Writes the credentials into the Secret: created with our ownerReference, replaced when ours,
 * refused when someone else's. Returns 0, or an error with @err for the status. */
static int inject(struct pass *p, const json_t *creds, struct osb_error *err)
{
        json_t *data = NULL;
        int r = credentials_to_secret_data(json_is_object(creds) ? creds : NULL, json_object_get(spec_of(p), "secretTransforms"),
                                           p->ns, read_secret_data, p, &data, err);
        if (r < 0)
                return r;
        json_auto_t *d = data;
        const char *name = secret_name(p);
        json_auto_t *live = NULL;
        r = kapi_get(p->c->kube, &kube_secrets, p->ns, name, &live, err);
        if (r == OSB_E_NOT_FOUND) {
                const json_t *md = json_object_get(p->obj, "metadata");
                json_auto_t *sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:s,s:O}",
                                             "apiVersion", "v1", "kind", "Secret", "metadata", "name", name, "namespace",
                                             p->ns, "ownerReferences", "apiVersion", "servicecatalog.k8s.io/v1beta1",
                                             "kind", "ServiceBinding", "name", p->name, "uid", str_of(md, "uid") ? str_of(md, "uid") : "",
                                             "controller", 1, "blockOwnerDeletion", 1, "type", "Opaque", "data", d);
                if (!sec)
                        return OOM(err);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = kapi_create(p->c->kube, &kube_secrets, p->ns, sec, NULL, err);
                return r;
        }
        if (r < 0)
                return r;
        if (!owned(p, live))
                return osb_error_set(err, OSB_E_CONFLICT, "Secret %s/%s exists and is not owned by ServiceBinding %s/%s",
                                     p->ns, name, p->ns, p->name);
        if (json_equal(json_object_get(live, "data"), d))
                return 0;
        if (json_object_set(live, "data", d) < 0)
                return OOM(err);
        (void) json_object_del(live, "stringData");
        return kapi_update(p->c->kube, &kube_secrets, p->ns, live, NULL, err);
}

/* Deletes the Secret if it is ours. */
static int eject(struct pass *p, struct osb_error *err)
{
        json_auto_t *live = NULL;
        int r = kapi_get(p->c->kube, &kube_secrets, p->ns, secret_name(p), &live, err);
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        if (!owned(p, live))
                return 0;
        r = kapi_delete(p->c->kube, &kube_secrets, p->ns, secret_name(p), err);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}

/* ---- bind ---- */

static int bound(struct pass *p, const json_t *creds, struct osb_error *err)
{
        json_t *props = json_object_get(p->status, "inProgressProperties");
        if (props && json_object_set(p->status, "externalProperties", props) < 0)
                return OOM(err);
        (void) json_object_del(p->status, "inProgressProperties");
        if (json_object_set_new(p->status, "unbindStatus", json_string("Required")) < 0)
                return OOM(err);
        int r = inject(p, creds, err);
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
        if (json_object_set_new(p->status, "reconciledGeneration", json_integer(p->generation)) < 0)
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
        json_t *params = NULL, *redacted = NULL, *body = NULL;
        char sum[65];
        char *ns_uid = NULL, *identity = NULL;
        char msg[1200];
        int r = request_parameters(p->c, p->ns, spec_of(p), &params, &redacted, sum, err);
        if (r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error building the parameters: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorWithParameters", msg, err);
                goto out;
        }
        r = ctl_namespace_uid(p->c, p->ns, &ns_uid, err);
        if (r >= 0)
                r = pass_client(p, err);
        if (r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error preparing the bind request: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "BindCallFailed", msg, err);
                goto out;
        }
        bool oom;
        identity = request_identity(spec_of(p), &oom);
        const char *iname = str_of(json_object_get(instance, "metadata"), "name");
        body = json_pack("{s:s,s:s,s:s,s:{s:s},s:o*}", "service_id", p->rv.cls->external_id ? p->rv.cls->external_id : "",
                         "plan_id", p->rv.plan->external_id ? p->rv.plan->external_id : "", "app_guid", ns_uid,
                         "bind_resource", "app_guid", ns_uid, "context", request_context(p->c, p->ns, ns_uid, iname ? iname : ""));
        json_t *props = json_object();
        if (props && json_object_set_new(p->status, "inProgressProperties", props) < 0)
                props = NULL;   /* freed by the failed set */
        const json_t *ui = json_object_get(spec_of(p), "userInfo");
        if (oom || !body || !props || (params && json_object_set(body, "parameters", params) < 0) ||
            (redacted && json_object_set(props, "parameters", redacted) < 0) ||
            (*sum && json_object_set_new(props, "parameterChecksum", json_string(sum)) < 0) ||
            (ui && json_object_set(props, "userInfo", (json_t *) ui) < 0) ||
            json_object_set_new(p->status, "currentOperation", json_string("Bind")) < 0) {
                r = OOM(err);
                goto out;
        }
        bool async = p->rv.cls->binding_retrievable;
        const char *iid = str_of(json_object_get(instance, "spec"), "externalID");
        const char *bid = str_of(spec_of(p), "externalID");
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
                r = bound(p, creds, err);
        } else if (resp.status == 202) {
                const char *token = str_of(resp.body, "operation");
                if (json_object_set_new(p->status, "asyncOpInProgress", json_true()) < 0 ||
                    (token && json_object_set_new(p->status, "lastOperation", json_string(token)) < 0) ||
                    json_object_set_new(p->status, "operationStartTime", json_string(p->now)) < 0 ||
                    json_object_set_new(p->status, "unbindStatus", json_string("Required")) < 0) {
                        r = OOM(err);
                } else {
                        p->requeue_ms = resp.retry_after_s >= 0 ? OSB_MAX(resp.retry_after_s * 1000, 250) : 250;
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
        if (params)
                json_decref(params);
        if (redacted)
                json_decref(redacted);
        if (body)
                json_decref(body);
        osb_free(ns_uid);
        osb_free(identity);
        return r < 0 ? r : 0;
}

/* ---- poll (asynchronous bind and unbind) ---- */

static int poll_binding(struct pass *p, const json_t *instance, struct osb_error *err)
{
        bool unbinding = osb_streq(str_of(p->status, "currentOperation"), "Unbind");
        const char *iid = str_of(json_object_get(instance, "spec"), "externalID");
        const char *bid = str_of(spec_of(p), "externalID");
        int r = pass_client(p, err);
        if (r == -ENOMEM)
                return r;
        bool oom;
        osb_autofree char *identity = request_identity(spec_of(p), &oom);
        struct osb_response resp = {.retry_after_s = -1};
        if (r >= 0)
                r = osb_client_last_operation(p->oc, iid, bid, p->rv.cls->external_id, p->rv.plan->external_id,
                                              str_of(p->status, "lastOperation"), identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        char msg[1200];
        int64_t next = resp.retry_after_s >= 0 ? OSB_MAX(resp.retry_after_s * 1000, 250) : 1000;
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
                        r = bound(p, creds, err);
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
                r = eject(p, err);
                return r < 0 ? r : pass_finalize(p, err);
        }
        char msg[1200];
        if (r < 0 && !str_of(p->status, "unbindStatus")) {
                /* no bind was ever recorded, and the instance cannot name its broker: nothing to undo */
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = eject(p, err);
                return r < 0 ? r : pass_finalize(p, err);
        }
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Cannot unbind: %s. To delete the binding without calling the broker: "
                                "kubectl annotate servicebinding %s " NAMES_ANNOTATION_ABANDON "=true", err->text, p->name);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", "UnbindCallFailed", msg, err);
        }
        r = eject(p, err);
        if (r < 0)
                return r;
        r = pass_client(p, err);
        if (r == -ENOMEM)
                return r;
        bool oom;
        osb_autofree char *identity = request_identity(spec_of(p), &oom);
        struct osb_response resp = {.retry_after_s = -1};
        const char *iid = str_of(json_object_get(instance, "spec"), "externalID");
        if (r >= 0)
                r = osb_client_unbind(p->oc, iid, str_of(spec_of(p), "externalID"), p->rv.cls->external_id,
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
                const char *token = str_of(resp.body, "operation");
                if (json_object_set_new(p->status, "asyncOpInProgress", json_true()) < 0 ||
                    json_object_set_new(p->status, "currentOperation", json_string("Unbind")) < 0 ||
                    (token && json_object_set_new(p->status, "lastOperation", json_string(token)) < 0) ||
                    json_object_set_new(p->status, "operationStartTime", json_string(p->now)) < 0) {
                        r = OOM(err);
                } else {
                        p->requeue_ms = resp.retry_after_s >= 0 ? OSB_MAX(resp.retry_after_s * 1000, 250) : 250;
                        r = pass_ready(p, "False", "Unbinding", "The binding is being deleted asynchronously", false, err);
                }
        } else {
                r = pass_retry(p, "Unknown", mitigation ? "OrphanMitigationFailed" : "UnbindCallFailed", msg, err);
        }
        osb_response_release(&resp);
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
        const char *sn = str_of(spec, "secretName");
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
            osb_time_parse_rfc3339(str_of(json_object_get(p->obj, "metadata"), "creationTimestamp"), &created) < 0 ||
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
                        int r = eject(p, err);
                        if (r >= 0)
                                r = pass_finalize(p, err);
                        if (r >= 0) {
                                pass_log(p, OSB_LOG_WARN, "binding abandoned", "the finalizer was removed without calling the broker");
                                pass_event(p, true, "Abandoned", "The finalizer was removed without calling the broker "
                                            "(annotation " NAMES_ANNOTATION_ABANDON "); the broker may still hold the binding");
                        }
                        return r;
                }
                const char *ubs = str_of(p->status, "unbindStatus");
                if ((osb_streq(ubs, "NotRequired") || osb_streq(ubs, "Succeeded")) && !status_bool(p, "asyncOpInProgress")) {
                        int r = eject(p, err);
                        return r < 0 ? r : pass_finalize(p, err);
                }
                if (status_bool(p, "asyncOpInProgress") && osb_streq(str_of(p->status, "currentOperation"), "Unbind")) {
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
                return pass_ready(p, "False", "ReferencesNonexistentInstance", msg, false, err);
        }
        int64_t og = json_integer_value(json_object_get(p->status, "observedGeneration"));
        if (condition_is(p->status, "Failed", "True")) {
                if (og == p->generation)
                        return 0;
                condition_remove(p->status, "Failed");
                ctl_retry_reset(p->c, p->key);
        }
        if (condition_is(p->status, "Ready", "True") &&
            json_integer_value(json_object_get(p->status, "reconciledGeneration")) == p->generation)
                return 0;
        time_t next;
        if (osb_time_parse_rfc3339(str_of(p->status, "nextRetryTime"), &next) == 0 && next > p->tnow && og == p->generation) {
                p->requeue_ms = (int64_t) (next - p->tnow) * 1000;
                return 0;
        }
        const json_t *ist = json_object_get(instance, "status");
        const json_t *imd = json_object_get(instance, "metadata");
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
                    (!irc || (osb_time_parse_rfc3339(str_of(irc, "lastTransitionTime"), &since) == 0 && p->tnow - since < 3))) {
                        p->requeue_ms = irc ? (int64_t) (since + 3 - p->tnow) * 1000 : 3000;
                        return 0;
                }
                /* an asynchronous operation whose poll is overdue in our own queue: the delay is
                 * ours, not the instance's; look again shortly, without writing */
                if (!condition_get(p->status, "Ready") && json_is_true(json_object_get(ist, "asyncOpInProgress"))) {
                        osb_autofree char *ikey = osb_asprintf(CTL_KEY_INSTANCE "%s/%s", p->ns, str_of(imd, "name"));
                        if (ikey && p->c->queue && queue_behind(p->c->queue, ikey)) {
                                p->requeue_ms = 500;
                                return 0;
                        }
                }
                char msg[400];
                (void) snprintf(msg, sizeof(msg), "Binding cannot begin because the referenced ServiceInstance %s/%s is not ready",
                                p->ns, str_of(imd, "name"));
                return pass_ready(p, "False", "ErrorInstanceNotReady", msg, false, err);     /* woken when it is */
        }
        resolve_release(&p->rv);
        r = resolve_spec(p->c, json_object_get(instance, "spec"), p->ns, true, &p->rv, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "ServiceInstance %s: %s", str_of(imd, "name"), err->text);
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
        return bind_binding(p, instance, err);
}

int reconcile_binding(struct ctl *c, const char *key)
{
        return pass_run(c, key, "ServiceBinding", &kube_sc_bindings, c->bindings, strlen(CTL_KEY_BINDING), cached_json_of,
                        binding_pass);
}
