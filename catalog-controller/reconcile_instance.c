/* catalog-controller/reconcile_instance.c: ServiceInstances: resolve the class and plan, provision,
 * poll, update, orphan mitigation, deprovision (service-catalog's lifecycle;
 * how ours differs is in docs/controller.md). One pass decides one step from the object's spec and
 * status, so a restarted controller carries on where the last one stopped. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/names.h"
#include "catalog-controller/reconcile_instance.h"
#include "catalog-controller/adopt.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/osb_response.h"
#include "catalog-controller/params.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/request.h"

#define OOM(err) osb_error_set(err, -ENOMEM, "out of memory")

static int64_t status_int(const struct pass *p, const char *field)
{
        return json_integer_value(json_object_get(p->status, field));
}

static bool status_bool(const struct pass *p, const char *field)
{
        return json_is_true(json_object_get(p->status, field));
}

static int set_bool(struct pass *p, const char *field, bool v)
{
        return json_object_set_new(p->status, field, json_boolean(v)) < 0 ? -ENOMEM : 0;
}

static const char *external_id(const struct pass *p)
{
        return json_string_value(json_object_get(pass_spec(p), "externalID"));
}

/* The plan fields of inProgressProperties/externalProperties for the resolved flavour. */
static const char *plan_id_field(const struct pass *p)
{
        return p->rv.fl && p->rv.fl->namespaced ? "servicePlanExternalID" : "clusterServicePlanExternalID";
}

static const char *props_plan_id(const struct pass *p, const char *which)
{
        const json_t *props = json_object_get(p->status, which);
        const char *v = json_string_value(json_object_get(props, "clusterServicePlanExternalID"));
        return v ? v : json_string_value(json_object_get(props, "servicePlanExternalID"));
}

/* Where a poll stands: how long the operation has been running. */
static int64_t elapsed_ms(const struct pass *p)
{
        time_t start;
        if (osb_time_parse_rfc3339(pass_str(p, "operationStartTime"), &start) < 0)
                return 0;
        return (int64_t) (p->tnow - start) * 1000;
}

int64_t reconcile_instance_poll_delay(int64_t age_ms, long retry_after_s, int64_t cap_ms)
{
        int64_t d;
        if (cap_ms <= 0)
                cap_ms = 300000;
        if (retry_after_s >= 0)
                d = OSB_MAX((int64_t) retry_after_s * 1000, 250);
        else if (age_ms < 600000)
                d = OSB_MIN(OSB_MAX(age_ms / 4, 250), 2000);
        else
                d = OSB_MAX(age_ms / 30, 2000);
        return OSB_MIN(d, cap_ms);
}

static int64_t poll_delay(const struct pass *p, long retry_after_s)
{
        return reconcile_instance_poll_delay(elapsed_ms(p), retry_after_s, p->c->opts.max_poll_ms);
}

/* How long an asynchronous operation may take: the plan's maximum_polling_duration, else
 * --reconciliation-retry-duration. */
static int64_t horizon_ms(const struct pass *p)
{
        if (p->rv.plan && p->rv.plan->max_poll_s > 0)
                return p->rv.plan->max_poll_s * 1000;
        return p->c->opts.retry_duration_ms > 0 ? p->c->opts.retry_duration_ms : 7 * 24 * 3600 * 1000LL;
}

/* status.inProgressProperties for what is about to be sent. */
static int set_in_progress(struct pass *p, const json_t *redacted, const char *checksum)
{
        const bool ns = p->rv.fl->namespaced;
        json_t *props = json_pack("{s:s,s:s}", ns ? "servicePlanExternalName" : "clusterServicePlanExternalName",
                                  p->rv.plan->external_name ? p->rv.plan->external_name : "", plan_id_field(p),
                                  p->rv.plan->external_id ? p->rv.plan->external_id : "");
        if (!props || json_object_set_new(p->status, "inProgressProperties", props) < 0)
                return -ENOMEM;
        const json_t *ui = json_object_get(pass_spec(p), "userInfo");
        if ((redacted && json_object_set(props, "parameters", (json_t *) redacted) < 0) ||
            (checksum && *checksum && json_object_set_new(props, "parameterChecksum", json_string(checksum)) < 0) ||
            (ui && json_object_set(props, "userInfo", (json_t *) ui) < 0))
                return -ENOMEM;
        return 0;
}

/* The operation finished: what was sent is what the broker holds. */
static int adopt_in_progress(struct pass *p)
{
        json_t *props = json_object_get(p->status, "inProgressProperties");
        if (props && json_object_set(p->status, "externalProperties", props) < 0)
                return -ENOMEM;
        (void) json_object_del(p->status, "inProgressProperties");
        return 0;
}

/* The generation the finished operation was started for: a spec changed meanwhile is then
 * still seen as new, and sent as an update. */
static int64_t op_generation(const struct pass *p)
{
        int64_t g = status_int(p, "observedGeneration");
        return g > 0 ? g : p->generation;
}

/* ---- maintenance_info ---- */

#define UPGRADE_CONDITION CONDITION_INFORMATIONAL

static const char *mi_version(const json_t *mi)
{
        return json_string_value(json_object_get(mi, "version"));
}

/* The plan's maintenance_info.version (the catalog's), or NULL. */
static const char *plan_version(const struct pass *p)
{
        return p->rv.plan ? mi_version(p->rv.plan->maintenance_info) : NULL;
}

/* The version the instance runs: what the broker last accepted, or NULL. */
static const char *instance_version(const struct pass *p)
{
        return mi_version(json_object_get(json_object_get(p->status, "externalProperties"), "maintenanceInfo"));
}

/* spec.maintenanceInfo.version: the version the user asks for (an upgrade), or NULL. */
static const char *wanted_version(const struct pass *p)
{
        const char *v = mi_version(json_object_get(pass_spec(p), "maintenanceInfo"));
        return v && *v ? v : NULL;
}

/* A version from the broker's catalog, fit to quote in a condition: semantic-version
 * characters only and short, else a placeholder (a broker's bytes are never quoted as they are). */
static const char *printable_version(const char *v)
{
        if (!v)
                return "none";
        size_t n = strlen(v);
        if (n == 0 || n > 64 || strspn(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-") != n)
                return "(not shown)";
        return v;
}

/* Records @version as the one the request in progress sends (status.inProgressProperties,
 * which becomes externalProperties when it succeeds). NULL: none. */
static int set_in_progress_version(struct pass *p, const char *version)
{
        json_t *props = json_object_get(p->status, "inProgressProperties");
        if (!version || !props)
                return 0;
        return json_object_set_new(props, "maintenanceInfo", json_pack("{s:s}", "version", version)) < 0 ? -ENOMEM : 0;
}

/* Condition UpgradeAvailable: True when the plan's maintenance_info.version is not the one the
 * instance runs; False once it is; absent when the plan has none. */
static int note_upgrade(struct pass *p)
{
        const char *pv = plan_version(p), *iv = instance_version(p);
        if (!pv) {
                condition_remove(p->status, UPGRADE_CONDITION);
                return 0;
        }
        char msg[400];
        if (osb_streq(pv, iv)) {
                (void) snprintf(msg, sizeof(msg), "The instance runs version %s of the plan's maintenance_info",
                                printable_version(iv));
                return condition_set(p->status, UPGRADE_CONDITION, "False", "UpToDate", msg, p->now);
        }
        (void) snprintf(msg, sizeof(msg), "The plan's maintenance_info version is %s, the instance runs %s: "
                        "kubectl svcat upgrade instance %s (or set spec.maintenanceInfo.version) upgrades it",
                        printable_version(pv), printable_version(iv), p->name);
        return condition_set(p->status, UPGRADE_CONDITION, "True", "UpgradeAvailable", msg, p->now);
}

/* The broker answered 422 MaintenanceInfoConflict: the version sent is not its plan's. Its
 * catalog is read again (the cached plan is behind it, or the spec asks for a version it has
 * not); the request is retried after the back-off. */
static int maintenance_conflict(struct pass *p, const char *sent, struct osb_error *err)
{
        const struct offering_flavour *fl = p->rv.fl;
        const struct informer_kmeta *bm = &p->rv.broker->meta;
        osb_autofree char *key = fl->namespaced ? osb_asprintf("%s%s/%s", CTL_KEY_BROKER, bm->ns, bm->name) :
                                                  osb_asprintf("%s%s", CTL_KEY_CLUSTER_BROKER, bm->name);
        if (!key)
                return OOM(err);
        ctl_relist_request(p->c, key);
        char msg[700];
        (void) snprintf(msg, sizeof(msg), "The broker refused maintenance_info version %s (MaintenanceInfoConflict): "
                        "its catalog has another version for plan %s, so the controller reads %s %s's catalog again%s",
                        printable_version(sent), p->rv.plan->meta.name, fl->broker_kind, bm->name,
                        wanted_version(p) ? "; spec.maintenanceInfo.version must be the plan's (or be removed)" : "");
        pass_clear_operation(p);
        return pass_retry(p, "False", "MaintenanceInfoConflict", msg, err);
}

static int succeeded(struct pass *p, bool update, const char *dashboard, struct osb_error *err)
{
        int64_t g = op_generation(p);
        pass_clear_operation(p);
        condition_remove(p->status, "Failed");
        if (adopt_in_progress(p) < 0 || note_upgrade(p) < 0 || pass_set_str(p, "provisionStatus", "Provisioned") < 0 ||
            pass_set_str(p, "deprovisionStatus", "Required") < 0 ||
            (dashboard && pass_set_str(p, "dashboardURL", dashboard) < 0) ||
            json_object_set_new(p->status, "reconciledGeneration", json_integer(g)) < 0)
                return OOM(err);
        ctl_retry_reset(p->c, p->key);
        int64_t keep = p->generation;
        p->generation = g;
        int r = update ? pass_ready(p, "True", "InstanceUpdatedSuccessfully", "The instance was updated successfully", false, err) :
                pass_ready(p, "True", "ProvisionedSuccessfully", "The instance was provisioned successfully", false, err);
        p->generation = keep;
        if (r >= 0)
                pass_log(p, OSB_LOG_INFO, update ? "instance updated" : "instance provisioned", NULL);
        if (r >= 0 && keep != g)
                p->requeue_ms = 0;      /* the spec changed while the operation ran */
        return r;
}

/* A failure the user must fix (or that needs a spec change to retry): Failed=True. */
static int terminal(struct pass *p, const char *reason, const char *message, struct osb_error *err)
{
        pass_clear_operation(p);
        if (condition_set(p->status, "Failed", "True", reason, message, p->now) < 0)
                return OOM(err);
        ctl_retry_reset(p->c, p->key);
        pass_log(p, OSB_LOG_WARN, reason, message);
        return pass_ready(p, "False", reason, message, true, err);
}

static bool mitigation_disabled(const struct pass *p)
{
        return osb_streq(kobj_annotation(p->obj, NAMES_ANNOTATION_ORPHAN_MITIGATION), "disabled");
}

static int deprovision(struct pass *p, struct osb_error *err);

/* Orphan mitigation (after a provision that failed with a 5xx, timed out or could not be read): the broker may hold an instance we could not learn of;
 * delete it there. @permanent: the failure does not get retried afterwards (Failed=True). */
static int start_mitigation(struct pass *p, const char *reason, const char *message, bool permanent,
                            struct osb_error *err)
{
        if (mitigation_disabled(p)) {
                osb_autofree char *m = osb_asprintf("%s (orphan mitigation is disabled for this instance)", message);
                if (!m)
                        return OOM(err);
                if (permanent)
                        return terminal(p, reason, m, err);
                pass_clear_operation(p);
                return pass_retry(p, "False", reason, m, err);
        }
        pass_clear_operation(p);
        if (condition_set(p->status, "OrphanMitigation", "True", reason, message, p->now) < 0 ||
            set_bool(p, "orphanMitigationInProgress", true) < 0 || pass_set_str(p, "deprovisionStatus", "Required") < 0 ||
            (permanent && condition_set(p->status, "Failed", "True", reason, message, p->now) < 0))
                return OOM(err);
        pass_log(p, OSB_LOG_WARN, "starting orphan mitigation", message);
        int r = pass_ready(p, "False", "StartingInstanceOrphanMitigation", message, true, err);
        return r < 0 ? r : deprovision(p, err);
}

/* ---- provision ---- */

/* What the provision, update and deprovision requests share. */
struct request {
        json_t *params, *redacted, *body;
        char checksum[65];
        char *ns_uid, *identity;
};

static void request_release(struct request *q)
{
        if (q->params)
                json_decref(q->params);
        if (q->redacted)
                json_decref(q->redacted);
        if (q->body)
                json_decref(q->body);
        osb_free(q->ns_uid);
        osb_free(q->identity);
}

/* The parameters break the plan's schema for this request (the create schema for a provision;
 * the update schema for an update, which sends parameters only when they changed)? Returns 0,
 * OSB_E_BAD_REQUEST with @err naming the paths and rules, or -ENOMEM. */
static int check_parameters(const struct pass *p, const struct request *q, bool update, struct osb_error *err)
{
        if (!update)
                return params_check(p->rv.plan->schema_create, q->params, err);
        const char *old_sum = json_string_value(json_object_get(json_object_get(p->status, "externalProperties"),
                                                                "parameterChecksum"));
        if (osb_streq(old_sum ? old_sum : "", q->checksum))
                return 0;
        /* all parameters removed: {} is sent, and checked */
        json_auto_t *none = q->params ? NULL : json_object();
        if (!q->params && !none)
                return osb_error_set(err, -ENOMEM, "out of memory");
        return params_check(p->rv.plan->schema_update, q->params ? q->params : none, err);
}

/* Builds the common part of a provision or update body. A failure is written to the status
 * (ErrorWithParameters, ...) and returns 1: nothing more to do in this pass. */
static int prepare(struct pass *p, struct request *q, bool update, struct osb_error *err)
{
        /* the generation this operation is for (op_generation() reads it back) */
        if (json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return OOM(err);
        int r = request_parameters(p->c, p->ns, pass_spec(p), &q->params, &q->redacted, q->checksum, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "Error building the parameters: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorWithParameters", msg, err);
                return r < 0 ? r : 1;
        }
        r = check_parameters(p, q, update, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* nothing is sent: the broker would refuse them, after a round trip */
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "The parameters do not match the plan's schema: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorWithParameters", msg, err);
                return r < 0 ? r : 1;
        }
        r = ctl_namespace_uid(p->c, p->ns, &q->ns_uid, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "Error finding namespace %s: %s", p->ns, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorFindingNamespaceForInstance", msg, err);
                return r < 0 ? r : 1;
        }
        r = request_call(p, &q->identity, err);
        if (r == -ENOMEM)
                return r;
        json_t *ctx = request_context(p->c, p->ns, q->ns_uid, p->name);
        q->body = json_pack("{s:s,s:o*}", "service_id", p->rv.cls->external_id ? p->rv.cls->external_id : "",
                            "context", ctx);
        if (!q->body || set_in_progress(p, q->redacted, q->checksum) < 0)
                return OOM(err);
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "Error getting the client of %s %s: %s", p->rv.fl->broker_kind,
                                p->rv.broker->meta.name, err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorGettingAuthCredentials", msg, err);
                return r < 0 ? r : 1;
        }
        return 0;
}

/* A 202: the operation runs at the broker; poll it. */
static int accepted(struct pass *p, const char *op, const char *reason, const char *message,
                    const struct osb_response *resp, struct osb_error *err)
{
        const char *token = json_string_value(json_object_get(resp->body, "operation"));
        const char *dashboard = json_string_value(json_object_get(resp->body, "dashboard_url"));
        if (set_bool(p, "asyncOpInProgress", true) < 0 || pass_set_str(p, "currentOperation", op) < 0 ||
            pass_set_str(p, "lastOperation", token) < 0 || pass_set_str(p, "operationStartTime", p->now) < 0 ||
            pass_set_str(p, "nextRetryTime", NULL) < 0 || (dashboard && pass_set_str(p, "dashboardURL", dashboard) < 0))
                return OOM(err);
        if (strcmp(op, "Deprovision") != 0 && pass_set_str(p, "deprovisionStatus", "Required") < 0)
                return OOM(err);
        p->requeue_ms = poll_delay(p, resp->retry_after_s);
        return pass_ready(p, "False", reason, message, false, err);
}

static int provision(struct pass *p, struct osb_error *err)
{
        struct request q = {0};
        int r = prepare(p, &q, false, err);
        if (r != 0)
                goto out;
        /* the plan's maintenance_info, or the version the spec asks for */
        const char *mv = wanted_version(p) ? wanted_version(p) : plan_version(p);
        if (json_object_set_new(q.body, "plan_id", json_string(p->rv.plan->external_id ? p->rv.plan->external_id : "")) < 0 ||
            json_object_set_new(q.body, "organization_guid", json_string(p->c->opts.cluster_id ? p->c->opts.cluster_id : "")) < 0 ||
            json_object_set_new(q.body, "space_guid", json_string(q.ns_uid)) < 0 ||
            (q.params && json_object_set(q.body, "parameters", q.params) < 0) ||
            (mv && json_object_set_new(q.body, "maintenance_info", json_pack("{s:s}", "version", mv)) < 0) ||
            set_in_progress_version(p, mv) < 0 || pass_set_str(p, "currentOperation", "Provision") < 0) {
                r = OOM(err);
                goto out;
        }
        struct osb_response resp = {.retry_after_s = -1};
        pass_log(p, OSB_LOG_INFO, "provisioning", NULL);
        r = osb_client_provision(p->oc, external_id(p), q.body, q.identity, &resp, err);
        char msg[1200];
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error provisioning the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                /* a timeout leaves the broker's state unknown: clean up (deprovision at once) */
                r = r == -ETIMEDOUT ? start_mitigation(p, "ErrorCallingProvision", msg, false, err) :
                    pass_retry(p, "False", "ErrorCallingProvision", msg, err);
                goto out;
        }
        osb_response_describe(&resp, msg + 0, sizeof(msg));
        char full[1400];
        (void) snprintf(full, sizeof(full), "Error provisioning the instance: %s", msg);
        const char *dashboard = NULL;
        if ((resp.status == 200 || resp.status == 201) && osb_response_provision(&resp, "provision", &dashboard, err) < 0) {
                /* an answer that cannot be read is no instance: the broker may hold one (OSB
                 * orphan mitigation) */
                (void) snprintf(full, sizeof(full), "Error provisioning the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = start_mitigation(p, "ProvisionCallFailed", full, false, err);
        } else if (resp.status == 200 || resp.status == 201) {
                r = succeeded(p, false, dashboard, err);
        } else if (resp.status == 202) {
                r = accepted(p, "Provision", "Provisioning", "The instance is being provisioned asynchronously", &resp, err);
        } else if (resp.status == 422 && osb_streq(resp.error, "MaintenanceInfoConflict")) {
                r = maintenance_conflict(p, mv, err);
        } else if (resp.status == 400) {
                if (pass_set_str(p, "deprovisionStatus", "NotRequired") < 0)
                        r = OOM(err);
                else
                        r = terminal(p, p->rv.fl->namespaced ? "ServiceBrokerReturnedFailure" : "ClusterServiceBrokerReturnedFailure",
                                     full, err);
        } else if (resp.status >= 500 || (resp.status >= 200 && resp.status < 300)) {
                r = start_mitigation(p, "ProvisionCallFailed", full, false, err);
        } else {
                r = pass_retry(p, "False", "ProvisionCallFailed", full, err);
        }
        osb_response_release(&resp);
out:
        request_release(&q);
        return r < 0 ? r : 0;
}

/* ---- update ---- */

static int update(struct pass *p, struct osb_error *err)
{
        struct request q = {0};
        int r = prepare(p, &q, true, err);
        if (r != 0)
                goto out;
        const json_t *ext = json_object_get(p->status, "externalProperties");
        const char *old_plan = props_plan_id(p, "externalProperties");
        const char *old_sum = json_string_value(json_object_get(ext, "parameterChecksum"));
        const char *new_plan = p->rv.plan->external_id ? p->rv.plan->external_id : "";
        json_t *prev = json_pack("{s:s,s:s}", "service_id", p->rv.cls->external_id ? p->rv.cls->external_id : "",
                                 "plan_id", old_plan ? old_plan : new_plan);
        /* maintenance_info: sent for an upgrade (spec.maintenanceInfo.version is not the version
         * the instance runs) and with a plan change (the new plan's); otherwise the instance
         * keeps its version, which may be behind the plan's: no other update is refused for it */
        const char *cur = instance_version(p), *want = wanted_version(p);
        const char *mv = want && !osb_streq(want, cur) ? want :
                         !osb_streq(old_plan, new_plan) ? (want ? want : plan_version(p)) : NULL;
        if (!prev || (cur && json_object_set_new(prev, "maintenance_info", json_pack("{s:s}", "version", cur)) < 0) ||
            json_object_set_new(q.body, "previous_values", prev) < 0 ||
            (!osb_streq(old_plan, new_plan) && json_object_set_new(q.body, "plan_id", json_string(new_plan)) < 0) ||
            (mv && json_object_set_new(q.body, "maintenance_info", json_pack("{s:s}", "version", mv)) < 0) ||
            set_in_progress_version(p, mv ? mv : cur) < 0 || pass_set_str(p, "currentOperation", "Update") < 0) {
                r = OOM(err);
                goto out;
        }
        /* parameters only when they changed; {} when they were all removed, so the broker drops them too */
        if (!osb_streq(old_sum ? old_sum : "", q.checksum)) {
                json_t *v = q.params ? json_incref(q.params) : json_object();
                if (!v || json_object_set_new(q.body, "parameters", v) < 0) {
                        r = OOM(err);
                        goto out;
                }
        }
        struct osb_response resp = {.retry_after_s = -1};
        pass_log(p, OSB_LOG_INFO, "updating", NULL);
        r = osb_client_update(p->oc, external_id(p), q.body, q.identity, &resp, err);
        char msg[1200];
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                goto out;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error updating the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = pass_retry(p, "False", "ErrorCallingUpdateInstance", msg, err);
                goto out;
        }
        char d[1000];
        osb_response_describe(&resp, d, sizeof(d));
        (void) snprintf(msg, sizeof(msg), "Error updating the instance: %s", d);
        if (resp.status == 200 || resp.status == 201)
                r = succeeded(p, true, NULL, err);
        else if (resp.status == 202)
                r = accepted(p, "Update", "UpdatingInstance", "The instance is being updated asynchronously", &resp, err);
        else if (resp.status == 422 && osb_streq(resp.error, "MaintenanceInfoConflict"))
                r = maintenance_conflict(p, mv, err);
        else if (resp.status == 400)
                r = terminal(p, "UpdateInstanceCallFailed", msg, err);
        else
                r = pass_retry(p, "False", "UpdateInstanceCallFailed", msg, err);
        osb_response_release(&resp);
out:
        request_release(&q);
        return r < 0 ? r : 0;
}

/* ---- deprovision ---- */

/* The broker no longer holds the instance. */
static int deprovisioned(struct pass *p, struct osb_error *err)
{
        bool mitigation = status_bool(p, "orphanMitigationInProgress");
        pass_clear_operation(p);
        if (pass_set_str(p, "provisionStatus", "NotProvisioned") < 0 ||
            pass_set_str(p, "deprovisionStatus", "Succeeded") < 0)
                return OOM(err);
        (void) json_object_set_new(p->status, "orphanMitigationInProgress", json_false());
        condition_remove(p->status, "OrphanMitigation");
        const json_t *md = json_object_get(p->obj, "metadata");
        bool deleting = json_object_get(md, "deletionTimestamp") && !json_is_null(json_object_get(md, "deletionTimestamp"));
        if (deleting) {
                /* no status write: the object goes */
                int r = pass_finalize(p, err);
                if (r >= 0) {
                        pass_log(p, OSB_LOG_INFO, "instance deprovisioned", NULL);
                        pass_event(p, false, "DeprovisionedSuccessfully", "The instance was deprovisioned successfully");
                }
                return r;
        }
        if (!mitigation)
                return pass_ready(p, "False", "DeprovisionedSuccessfully", "The instance was deprovisioned successfully",
                                   false, err);
        pass_log(p, OSB_LOG_INFO, "orphan mitigation done", NULL);
        if (condition_is(p->status, "Failed", "True"))
                return pass_ready(p, "False", "OrphanMitigationSuccessful", "Orphan mitigation was completed successfully",
                                   false, err);
        /* a temporary failure: provision again after the back-off */
        return pass_retry(p, "False", "OrphanMitigationSuccessful",
                           "Orphan mitigation was completed successfully; provisioning is tried again", err);
}

static int deprovision(struct pass *p, struct osb_error *err)
{
        bool mitigation = status_bool(p, "orphanMitigationInProgress");
        const char *plan = props_plan_id(p, "inProgressProperties");
        if (!plan)
                plan = props_plan_id(p, "externalProperties");
        if (!plan)
                plan = p->rv.plan->external_id;
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        char msg[1200];
        const char *fail_reason = mitigation ? "OrphanMitigationFailed" : "DeprovisionCallFailed";
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error deprovisioning the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", fail_reason, msg, err);
        }
        struct osb_response resp = {.retry_after_s = -1};
        pass_log(p, OSB_LOG_INFO, mitigation ? "deprovisioning (orphan mitigation)" : "deprovisioning", NULL);
        r = osb_client_deprovision(p->oc, external_id(p), p->rv.cls->external_id, plan, identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error deprovisioning the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", fail_reason, msg, err);
        }
        char d[1000];
        osb_response_describe(&resp, d, sizeof(d));
        (void) snprintf(msg, sizeof(msg), "Error deprovisioning the instance: %s", d);
        if (resp.status == 200 || resp.status == 410) {
                r = deprovisioned(p, err);
        } else if (resp.status == 202) {
                r = accepted(p, "Deprovision", "Deprovisioning", "The instance is being deprovisioned asynchronously", &resp, err);
        } else if (resp.status == 422 && osb_streq(resp.error, "ConcurrencyError") && status_bool(p, "asyncOpInProgress")) {
                /* the broker finishes the running operation first: keep polling it */
                p->requeue_ms = poll_delay(p, resp.retry_after_s);
                r = 0;
        } else {
                if (status_bool(p, "asyncOpInProgress") && !osb_streq(pass_str(p, "currentOperation"), "Deprovision")) {
                        /* keep polling the running operation; deletion is tried again after it */
                        p->requeue_ms = poll_delay(p, -1);
                        r = 0;
                } else {
                        r = pass_retry(p, "Unknown", fail_reason, msg, err);
                }
        }
        osb_response_release(&resp);
        return r;
}

/* ---- poll ---- */

static int give_up(struct pass *p, const char *op, struct osb_error *err)
{
        char msg[600];
        (void) snprintf(msg, sizeof(msg), "Stopped polling the %s operation: it ran past its time limit (%" PRId64 " s)",
                        op, horizon_ms(p) / 1000);
        if (strcmp(op, "Provision") == 0)
                return start_mitigation(p, "ErrorReconciliationRetryTimeout", msg, true, err);
        if (strcmp(op, "Deprovision") == 0 && pass_set_str(p, "deprovisionStatus", "Failed") < 0)
                return OOM(err);
        return terminal(p, "ErrorReconciliationRetryTimeout", msg, err);
}

static const char *progress_reason(const char *op)
{
        return strcmp(op, "Provision") == 0 ? "Provisioning" : strcmp(op, "Update") == 0 ? "UpdatingInstance" : "Deprovisioning";
}

static int poll(struct pass *p, struct osb_error *err)
{
        const char *op0 = pass_str(p, "currentOperation");
        char op[16];
        (void) snprintf(op, sizeof(op), "%s", op0 ? op0 : "Provision");
        const char *plan = props_plan_id(p, "inProgressProperties");
        if (!plan)
                plan = p->rv.plan->external_id;
        char msg[1200];
        osb_autofree char *identity = NULL;
        int r = request_call(p, &identity, err);
        if (r == -ENOMEM)
                return r;
        struct osb_response resp = {.retry_after_s = -1};
        if (r >= 0)
                r = osb_client_last_operation(p->oc, external_id(p), NULL, p->rv.cls->external_id, plan,
                                              pass_str(p, "lastOperation"), identity, &resp, err);
        if (pass_busy(p, &r) || r == -ECANCELED || r == -ENOMEM)
                return r == -ENOMEM ? r : 0;
        bool give = elapsed_ms(p) > horizon_ms(p);
        enum osb_response_state st = OSB_RESPONSE_IN_PROGRESS;
        const char *desc = NULL;
        /* an answer that cannot be read (not JSON, a state we do not know) is shown, and
         * polling goes on until the time limit, as when the broker cannot be reached */
        bool unreadable = r >= 0 && resp.status == 200 &&
                          osb_response_last_operation(&resp, "last_operation", &st, &desc, err) < 0;
        if (r < 0 || unreadable || (resp.status != 200 && resp.status != 410 && resp.status != 400)) {
                if (r >= 0 && !unreadable)
                        osb_response_describe(&resp, msg, sizeof(msg));
                else
                        (void) snprintf(msg, sizeof(msg), "%s", err->text);
                osb_response_release(&resp);
                *err = (struct osb_error) OSB_ERROR_INIT;
                if (give)
                        return give_up(p, op, err);
                char full[1400];
                (void) snprintf(full, sizeof(full), "Error polling the %s operation: %s", op, msg);
                pass_log(p, OSB_LOG_WARN, "cannot poll", full);
                p->requeue_ms = poll_delay(p, -1);
                return pass_ready(p, "False", "ErrorPollingLastOperation", full, true, err);
        }
        if (resp.status == 410) {
                if (strcmp(op, "Deprovision") == 0)
                        r = deprovisioned(p, err);
                else if (strcmp(op, "Provision") == 0)
                        r = start_mitigation(p, "ProvisionCallFailed", "The broker no longer knows the instance (410 Gone)", true, err);
                else
                        r = terminal(p, "UpdateInstanceCallFailed", "The broker no longer knows the instance (410 Gone)", err);
        } else if (resp.status == 400) {
                osb_response_describe(&resp, msg, sizeof(msg));
                char full[1400];
                (void) snprintf(full, sizeof(full), "Error polling the %s operation: %s", op, msg);
                if (strcmp(op, "Provision") == 0) {
                        r = start_mitigation(p, "ErrorPollingLastOperation", full, true, err);
                } else if (strcmp(op, "Update") == 0) {
                        r = terminal(p, "ErrorPollingLastOperation", full, err);
                } else {
                        pass_clear_operation(p);
                        r = pass_retry(p, "Unknown", "DeprovisionCallFailed", full, err);
                }
        } else if (st == OSB_RESPONSE_SUCCEEDED) {
                if (strcmp(op, "Deprovision") == 0)
                        r = deprovisioned(p, err);
                else
                        r = succeeded(p, strcmp(op, "Update") == 0, NULL, err);
        } else if (st == OSB_RESPONSE_FAILED) {
                (void) snprintf(msg, sizeof(msg), "The %s operation failed%s%s", op, desc ? ": " : "", desc ? desc : "");
                if (strcmp(op, "Provision") == 0) {
                        r = start_mitigation(p, "ProvisionCallFailed", msg, true, err);
                } else if (strcmp(op, "Update") == 0) {
                        r = terminal(p, "UpdateInstanceCallFailed", msg, err);
                } else {
                        pass_clear_operation(p);
                        r = pass_retry(p, "Unknown", "DeprovisionCallFailed", msg, err);
                }
        } else if (give) {
                r = give_up(p, op, err);
        } else {
                /* in progress */
                (void) snprintf(msg, sizeof(msg), "%s", desc ? desc : strcmp(op, "Provision") == 0 ?
                                "The instance is being provisioned asynchronously" : strcmp(op, "Update") == 0 ?
                                "The instance is being updated asynchronously" : "The instance is being deprovisioned asynchronously");
                p->requeue_ms = poll_delay(p, resp.retry_after_s);
                r = pass_ready(p, "False", progress_reason(op), msg, false, err);
        }
        osb_response_release(&resp);
        return r;
}

/* ---- adoption ---- */

static bool adopt_requested(const struct pass *p)
{
        return osb_streq(kobj_annotation(p->obj, NAMES_ANNOTATION_ADOPT), "true");
}

/* Adoption cannot be done: Failed=True @reason until the spec changes; deleting the object then
 * never deprovisions (deprovisionStatus NotRequired: the broker's instance is not ours). */
static int adopt_refused(struct pass *p, const char *message, struct osb_error *err)
{
        if (pass_set_str(p, "deprovisionStatus", "NotRequired") < 0 ||
            json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return OOM(err);
        return terminal(p, "ErrorAdoptingInstance", message, err);
}

/* Takes over the instance spec.externalID that the broker already holds: GET
 * /v2/service_instances/:id (the service must be instances_retrievable), the same service and
 * plan, then Ready without a provision. What the spec's parameters are now is recorded as what
 * the broker holds, so no update follows; a later change of them is sent as one. */
static int adopt(struct pass *p, struct osb_error *err)
{
        const char *id = external_id(p);
        char msg[1400];
        /* until the broker confirms it, the instance is not ours: never deprovisioned */
        if (pass_set_str(p, "deprovisionStatus", "NotRequired") < 0 ||
            json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return OOM(err);
        if (!p->rv.cls->instance_retrievable) {
                (void) snprintf(msg, sizeof(msg), "Cannot adopt instance %s: %s %s does not let its instances be fetched "
                                "(instances_retrievable is false), so the broker cannot confirm that it holds it", id,
                                p->rv.fl->class_kind, p->rv.cls->meta.name);
                return adopt_refused(p, msg, err);
        }
        struct osb_response resp;
        enum adopt_fetched got;
        int r = adopt_fetch(p, id, NULL, &resp, &got, msg, sizeof(msg), err);
        if (got == ADOPT_FETCHED_ABSENT)
                return adopt_refused(p, msg, err);
        if (got != ADOPT_FETCHED_HELD)
                return r;
        if (osb_response_provision(&resp, "fetching the instance", NULL, err) < 0) {
                (void) snprintf(msg, sizeof(msg), "Error adopting the instance: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                osb_response_release(&resp);
                return pass_retry(p, "False", "ErrorAdoptingInstance", msg, err);
        }
        const char *svc = json_string_value(json_object_get(resp.body, "service_id"));
        const char *plan = json_string_value(json_object_get(resp.body, "plan_id"));
        bool same = (!svc || osb_streq(svc, p->rv.cls->external_id)) && (!plan || osb_streq(plan, p->rv.plan->external_id));
        osb_response_release(&resp);
        if (!same) {
                /* the broker's ids are not quoted: ours say what was expected */
                (void) snprintf(msg, sizeof(msg), "Cannot adopt instance %s: the broker holds it with another service or plan "
                                "than %s %s and %s %s", id, p->rv.fl->class_kind, p->rv.cls->meta.name, p->rv.fl->plan_kind,
                                p->rv.plan->meta.name);
                return adopt_refused(p, msg, err);
        }
        json_t *params = NULL, *redacted = NULL;
        char sum[65] = "";
        r = request_parameters(p->c, p->ns, pass_spec(p), &params, &redacted, sum, err);
        if (params)
                json_decref(params);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                (void) snprintf(msg, sizeof(msg), "Error building the parameters: %s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "False", "ErrorWithParameters", msg, err);
        }
        r = set_in_progress(p, redacted, sum);
        if (redacted)
                json_decref(redacted);
        if (r < 0 || adopt_in_progress(p) < 0 || pass_set_str(p, "provisionStatus", "Provisioned") < 0 ||
            pass_set_str(p, "deprovisionStatus", "Required") < 0 ||
            json_object_set_new(p->status, "reconciledGeneration", json_integer(p->generation)) < 0)
                return OOM(err);
        pass_clear_operation(p);
        condition_remove(p->status, "Failed");
        ctl_retry_reset(p->c, p->key);
        (void) snprintf(msg, sizeof(msg), "The instance %s held by the broker was adopted without provisioning", id);
        r = pass_ready(p, "True", "InstanceAdopted", msg, false, err);
        if (r >= 0)
                pass_log(p, OSB_LOG_INFO, "instance adopted", NULL);
        return r;
}

/* ---- deletion ---- */

/* The bindings of this instance, from the cache: *n of them, *live those not being deleted. */
static int count_bindings(struct pass *p, bool delete_them, size_t *n, struct osb_error *err)
{
        struct informer_kmeta **v = NULL;
        size_t cnt = 0;
        *n = 0;
        if (!p->c->bindings)
                return 0;
        char *ikey = cached_ikey_instance(p->ns, p->name);      /* its bindings only, not every one */
        int ri = ikey ? informer_index_snapshot(p->c->bindings, ikey, &v, &cnt) : -ENOMEM;
        osb_free(ikey);
        if (ri < 0)
                return OOM(err);
        int r = 0;
        for (size_t i = 0; i < cnt && r >= 0; i++) {
                struct cached *b = (struct cached *) v[i];
                if (!osb_streq(b->instance_ns ? b->instance_ns : b->meta.ns, p->ns) || !osb_streq(b->instance_ref, p->name))
                        continue;
                (*n)++;
                if (delete_them && !b->meta.deleting) {
                        r = kapi_delete(p->c->kube, &kube_sc_bindings, b->meta.ns, b->meta.name, err);
                        if (r == OSB_E_NOT_FOUND)
                                r = 0;
                }
        }
        informer_snapshot_free(p->c->bindings, v, cnt);
        return r;
}

static int delete_instance(struct pass *p, struct osb_error *err)
{
        if (osb_streq(kobj_annotation(p->obj, NAMES_ANNOTATION_ABANDON), "true")) {
                int r = pass_finalize(p, err);
                if (r >= 0) {
                        pass_log(p, OSB_LOG_WARN, "instance abandoned", "the finalizer was removed without calling the broker");
                        pass_event(p, true, "Abandoned", "The finalizer was removed without calling the broker "
                                    "(annotation " NAMES_ANNOTATION_ABANDON "); the broker may still hold the instance");
                }
                return r;
        }
        if (osb_streq(json_string_value(json_object_get(pass_spec(p), "deletionPolicy")), "Orphan")) {
                /* released, not deprovisioned: the broker keeps the instance (and its bindings) */
                int r = pass_finalize(p, err);
                if (r >= 0) {
                        pass_log(p, OSB_LOG_INFO, "instance orphaned", "the finalizer was removed without deprovisioning");
                        char msg[600];
                        (void) snprintf(msg, sizeof(msg), "Released without deprovisioning (spec.deletionPolicy: Orphan): "
                                        "the broker keeps instance %s", external_id(p) ? external_id(p) : "(none)");
                        pass_event(p, false, "Orphaned", msg);
                }
                return r;
        }
        size_t n = 0;
        bool cascade = p->c->opts.cascade_delete_bindings;
        int r = count_bindings(p, cascade, &n, err);
        if (r < 0)
                return r;
        if (n) {
                char msg[300];
                if (cascade) {
                        (void) snprintf(msg, sizeof(msg), "Deleting %zu ServiceBinding%s of the instance before deprovisioning it",
                                        n, n == 1 ? "" : "s");
                        return pass_ready(p, "False", "ServiceBindingsDeletion", msg, false, err);
                }
                (void) snprintf(msg, sizeof(msg), "The instance has %zu ServiceBinding%s: delete %s to deprovision it "
                                "(--cascade-delete-bindings is off)", n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
                return pass_ready(p, "False", "DeprovisionBlockedByExistingCredentials", msg, true, err);
        }
        const char *dps = pass_str(p, "deprovisionStatus");
        if (osb_streq(dps, "NotRequired") || osb_streq(dps, "Succeeded") || !external_id(p))
                return pass_finalize(p, err);
        const char *reason = NULL;
        r = resolve_spec(p->c, pass_spec(p), p->ns, true, &p->rv, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (!json_object_get(pass_spec(p), "clusterServiceClassRef") && !json_object_get(pass_spec(p), "serviceClassRef"))
                        return pass_finalize(p, err);  /* never resolved: never sent */
                char msg[1200];
                (void) snprintf(msg, sizeof(msg), "Cannot deprovision: %s. To delete the instance without calling the broker: "
                                "kubectl annotate serviceinstance %s " NAMES_ANNOTATION_ABANDON "=true", err->text, p->name);
                *err = (struct osb_error) OSB_ERROR_INIT;
                return pass_retry(p, "Unknown", "DeprovisionCallFailed", msg, err);
        }
        if (status_bool(p, "asyncOpInProgress") && osb_streq(pass_str(p, "currentOperation"), "Deprovision"))
                return poll(p, err);
        return deprovision(p, err);
}

/* ---- one pass ---- */

/* First touch (no webhook does it for us): finalizer, externalID, the resolved class and plan
 * references and their labels, in one write. */
static int settle_spec(struct pass *p, struct osb_error *err)
{
        json_t *spec = json_object_get(p->obj, "spec");
        json_t *md = json_object_get(p->obj, "metadata");
        if (!spec || !md)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "the object has no spec");
        int changed = kobj_add_finalizer(p->obj);
        if (changed < 0)
                return OOM(err);
        int idr = request_default_external_id(spec);
        if (idr < 0)
                return OOM(err);
        changed |= idr;
        const struct offering_flavour *fl = p->rv.fl;
        const char *cref = fl->class_ref_field, *pref = fl->namespaced ? "servicePlanRef" : "clusterServicePlanRef";
        const char *clabel = fl->namespaced ? NAMES_LABEL_CLASS_REF : NAMES_LABEL_CLUSTER_CLASS_REF;
        const char *plabel = fl->namespaced ? "servicecatalog.k8s.io/spec.servicePlanRef.name" :
                             "servicecatalog.k8s.io/spec.clusterServicePlanRef.name";
        const char *names[2] = {p->rv.cls->meta.name, p->rv.plan->meta.name};
        const char *fields[2] = {cref, pref}, *labels_k[2] = {clabel, plabel};
        json_t *labels = json_object_get(md, "labels");
        if (!json_is_object(labels)) {
                labels = json_object();
                if (!labels || json_object_set_new(md, "labels", labels) < 0)
                        return OOM(err);
        }
        for (int i = 0; i < 2; i++) {
                if (!osb_streq(json_string_value(json_object_get(json_object_get(spec, fields[i]), "name")), names[i])) {
                        if (json_object_set_new(spec, fields[i], json_pack("{s:s}", "name", names[i])) < 0)
                                return OOM(err);
                        changed = 1;
                }
                char lv[NAMES_LABEL_VALUE_LEN + 1];
                names_label_value(names[i], lv);
                if (!osb_streq(json_string_value(json_object_get(labels, labels_k[i])), lv)) {
                        if (json_object_set_new(labels, labels_k[i], json_string(lv)) < 0)
                                return OOM(err);
                        changed = 1;
                }
        }
        if (!changed)
                return 0;
        int r = pass_write_object(p, err);
        if (r >= 0)
                p->generation = json_integer_value(json_object_get(json_object_get(p->obj, "metadata"), "generation"));
        return r;
}

/* Whether the parameters built now (with the Secrets of spec.parametersFrom as they are now)
 * differ from those recorded in status.@props. False without parametersFrom. A Secret that
 * cannot be read counts as a change: the next request reports it. */
static bool secrets_changed(struct pass *p, const char *props)
{
        if (!json_array_size(json_object_get(pass_spec(p), "parametersFrom")))
                return false;
        json_t *params = NULL, *redacted = NULL;
        char sum[65] = "";
        struct osb_error e = OSB_ERROR_INIT;
        int r = request_parameters(p->c, p->ns, pass_spec(p), &params, &redacted, sum, &e);
        if (params)
                json_decref(params);
        if (redacted)
                json_decref(redacted);
        const char *old = json_string_value(json_object_get(json_object_get(p->status, props), "parameterChecksum"));
        return r < 0 ? r != -ENOMEM : !osb_streq(old ? old : "", sum);
}

/* servicebinding.io's Provisioned Service: status.binding.name names the Secret of the binding
 * the annotation NAMES_ANNOTATION_SERVICEBINDING names, once that binding of this instance is
 * Ready; without the annotation, or until then, there is no status.binding. */
static int servicebinding_status(struct pass *p, struct osb_error *err)
{
        const char *bname = kobj_annotation(p->obj, NAMES_ANNOTATION_SERVICEBINDING);
        const char *secret = NULL;
        json_auto_t *b = NULL;
        if (bname && *bname) {
                osb_autofree char *k = osb_asprintf("%s/%s", p->ns, bname);
                if (!k)
                        return OOM(err);
                struct cached *o = (struct cached *) informer_get(p->c->bindings, k);
                if (o && o->ready && osb_streq(o->instance_ref, p->name) && !o->meta.deleting) {
                        b = cached_json(o);
                        if (!b) {
                                informer_put(p->c->bindings, &o->meta);
                                return OOM(err);
                        }
                }
                if (o)
                        informer_put(p->c->bindings, &o->meta);
                secret = json_string_value(json_object_get(json_object_get(b, "spec"), "secretName"));
        }
        const json_t *had = json_object_get(p->status, "binding");
        if (osb_streq(json_string_value(json_object_get(had, "name")), secret) && (secret || !had))
                return 0;
        if (!secret)
                (void) json_object_del(p->status, "binding");
        else if (json_object_set_new(p->status, "binding", json_pack("{s:s}", "name", secret)) < 0)
                return OOM(err);
        /* a steady instance writes no status of its own: this change is written now */
        return pass_write_status(p, err);
}

static int instance_pass(struct pass *p, struct osb_error *err)
{
        bool deleting, has_finalizer;
        if (pass_begin(p, &deleting, &has_finalizer) < 0)
                return OOM(err);
        if (deleting)
                return has_finalizer ? delete_instance(p, err) : 0;
        int sr = servicebinding_status(p, err);
        if (sr < 0)
                return sr;

        bool provisioned = osb_streq(pass_str(p, "provisionStatus"), "Provisioned");
        bool busy = status_bool(p, "asyncOpInProgress") || status_bool(p, "orphanMitigationInProgress");
        const char *reason = NULL;
        /* while an operation runs, its class and plan are the resolved ones, whatever the spec says now */
        int r = resolve_spec(p->c, pass_spec(p), p->ns, busy, &p->rv, &reason, err);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && !busy && (!provisioned || !osb_streq(props_plan_id(p, "externalProperties"), p->rv.plan->external_id))) {
                /* no new instance (or plan change) onto a class or plan the broker removed from its catalog */
                if (p->rv.cls->removed)
                        r = osb_error_set(err, OSB_E_NOT_FOUND, "%s %s was removed from the broker's catalog",
                                          p->rv.fl->class_kind, p->rv.cls->meta.name), reason = "ReferencesDeletedServiceClass";
                else if (p->rv.plan->removed)
                        r = osb_error_set(err, OSB_E_NOT_FOUND, "%s %s was removed from the broker's catalog",
                                          p->rv.fl->plan_kind, p->rv.plan->meta.name), reason = "ReferencesDeletedServicePlan";
        }
        if (r < 0) {
                char msg[900];
                (void) snprintf(msg, sizeof(msg), "%s", err->text);
                *err = (struct osb_error) OSB_ERROR_INIT;
                if (!busy && p->rv.user_class && pass_set_str(p, "userSpecifiedClassName", p->rv.user_class) < 0)
                        return OOM(err);
                pass_log(p, OSB_LOG_INFO, reason, msg);
                /* woken when classes, plans or brokers change */
                return pass_ready(p, "False", reason, msg, true, err);
        }
        /* while busy the class and plan came from the references: the user's names stay */
        if (!busy && (pass_set_str(p, "userSpecifiedClassName", p->rv.user_class) < 0 ||
                      pass_set_str(p, "userSpecifiedPlanName", p->rv.user_plan) < 0))
                return OOM(err);
        if (!provisioned && adopt_requested(p) && !external_id(p)) {
                if (condition_is(p->status, "Failed", "True") && status_int(p, "observedGeneration") == p->generation)
                        return 0;
                return adopt_refused(p, "Cannot adopt: spec.externalID must name the broker's instance (annotation "
                                     NAMES_ANNOTATION_ADOPT ")", err);
        }
        r = settle_spec(p, err);
        if (r < 0)
                return r;
        if (status_bool(p, "asyncOpInProgress"))
                return poll(p, err);
        if (status_bool(p, "orphanMitigationInProgress"))
                return deprovision(p, err);

        int64_t og = status_int(p, "observedGeneration");
        if (condition_is(p->status, "Failed", "True")) {
                /* terminal until the spec changes (a new generation), or the Secrets behind
                 * parametersFrom do: fixing a rejected parameter there is a change too */
                if (og == p->generation && !secrets_changed(p, "inProgressProperties"))
                        return 0;
                condition_remove(p->status, "Failed");      /* a new generation starts afresh */
                ctl_retry_reset(p->c, p->key);
        }
        time_t next;
        if (osb_time_parse_rfc3339(pass_str(p, "nextRetryTime"), &next) == 0 && next > p->tnow && og == p->generation) {
                p->requeue_ms = (int64_t) (next - p->tnow) * 1000;
                return 0;
        }
        if (!provisioned)
                return adopt_requested(p) ? adopt(p, err) : provision(p, err);
        if (og != p->generation || status_int(p, "reconciledGeneration") != p->generation)
                return update(p, err);
        if (secrets_changed(p, "externalProperties")) {
                /* a Secret behind parametersFrom changed: the broker gets the new parameters */
                pass_log(p, OSB_LOG_INFO, "parameters changed", "a Secret named in spec.parametersFrom changed");
                return update(p, err);
        }
        /* the plan's maintenance_info may have moved on (a relist): say so (written only when
         * the condition changed) */
        if (note_upgrade(p) < 0)
                return OOM(err);
        return pass_write_status(p, err);
}

int reconcile_instance(struct ctl *c, const char *key)
{
        return pass_run(c, key, "ServiceInstance", &kube_sc_instances, c->instances, strlen(CTL_KEY_INSTANCE), cached_json_of,
                        instance_pass);
}
