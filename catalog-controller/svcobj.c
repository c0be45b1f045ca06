/* catalog-controller/svcobj.c: cached instances and bindings, conditions, reference resolution. */
#include "common/osb_compat.h"

#include <uuid/uuid.h>

#include "common/osb_base64.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/names.h"
#include "catalog-controller/params.h"
#include "catalog-controller/svcobj.h"

/* ---- the cache ---- */

void svcobj_free(struct kmeta *m)
{
        struct svcobj *o = (struct svcobj *) m;
        kmeta_release(&o->meta);
        osb_free(o->json);
        osb_free(o->instance_ref);
        for (size_t i = 0; i < o->nsecret_refs; i++)
                osb_free(o->secret_refs[i]);
        osb_free(o->secret_refs);
        osb_free(o);
}

static bool starts_with(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

int svcobj_extract(const json_t *obj, struct kmeta **ret)
{
        struct svcobj *o = osb_calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        int r = kmeta_init(&o->meta, obj);
        if (r < 0) {
                osb_free(o);
                return r;
        }
        const json_t *md = json_object_get(obj, "metadata");
        const json_t *spec = json_object_get(obj, "spec");
        const json_t *status = json_object_get(obj, "status");
        o->ready = svc_condition_is(status, "Ready", "True");
        const json_t *rc = svc_condition(status, "Ready");
        o->unresolved = !o->ready && starts_with(json_string_value(json_object_get(rc, "reason")), "References");
        o->abandon = osb_streq(json_string_value(json_object_get(json_object_get(md, "annotations"), SVC_ANNOTATION_ABANDON)),
                               "true");
        const char *iref = json_string_value(json_object_get(json_object_get(spec, "instanceRef"), "name"));
        if (iref && !(o->instance_ref = osb_strdup(iref)))
                goto oom;
        const json_t *pf = json_object_get(spec, "parametersFrom");
        size_t n = json_array_size(pf), i;
        const json_t *v;
        if (n && !(o->secret_refs = osb_calloc(n, sizeof(char *))))
                goto oom;
        json_array_foreach(pf, i, v) {
                const char *name = json_string_value(json_object_get(json_object_get(v, "secretKeyRef"), "name"));
                if (name && !(o->secret_refs[o->nsecret_refs++] = osb_strdup(name)))
                        goto oom;
        }
        /* the whole object but managedFields, which nothing here reads */
        json_t *copy = json_copy((json_t *) obj);
        json_t *mdc = copy ? json_copy(json_object_get(copy, "metadata")) : NULL;
        if (mdc && json_object_set_new(copy, "metadata", mdc) == 0) {
                (void) json_object_del(mdc, "managedFields");
                o->json = json_dumps(copy, JSON_COMPACT);
        }
        if (copy)
                json_decref(copy);
        if (!o->json)
                goto oom;
        *ret = &o->meta;
        return 0;
oom:
        svcobj_free(&o->meta);
        return -ENOMEM;
}

bool svcobj_relevant(const struct kmeta *old, const struct kmeta *new)
{
        const struct svcobj *a = (const struct svcobj *) old, *b = (const struct svcobj *) new;
        return old->generation != new->generation || old->deleting != new->deleting || old->finalizer != new->finalizer ||
               old->nfinalizers != new->nfinalizers || !osb_streq(old->uid, new->uid) || a->ready != b->ready ||
               a->abandon != b->abandon;
}

json_t *svcobj_json(const struct svcobj *o)
{
        return json_loads(o->json, 0, NULL);
}

int secret_extract(const json_t *obj, struct kmeta **ret)
{
        struct kmeta *m = osb_calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        int r = kmeta_init(m, obj);
        if (r < 0) {
                osb_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

void secret_free(struct kmeta *m)
{
        kmeta_release(m);
        osb_free(m);
}

/* ---- conditions ---- */

json_t *svc_condition(const json_t *status, const char *type)
{
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(status, "conditions"), i, c) {
                if (osb_streq(json_string_value(json_object_get(c, "type")), type))
                        return c;
        }
        return NULL;
}

bool svc_condition_is(const json_t *status, const char *type, const char *value)
{
        return osb_streq(json_string_value(json_object_get(svc_condition(status, type), "status")), value);
}

/* The reference's printer helper: the last condition's type when True, else its reason. */
static int recompute_state(json_t *status)
{
        json_t *conds = json_object_get(status, "conditions");
        size_t n = json_array_size(conds);
        if (!n) {
                (void) json_object_del(status, "lastConditionState");
                return 0;
        }
        json_t *last = json_array_get(conds, n - 1);
        const char *v = osb_streq(json_string_value(json_object_get(last, "status")), "True") ?
                        json_string_value(json_object_get(last, "type")) :
                        json_string_value(json_object_get(last, "reason"));
        return json_object_set_new(status, "lastConditionState", json_string(v ? v : ""));
}

int svc_set_condition(json_t *status, const char *type, const char *value, const char *reason, const char *message,
                      const char *now)
{
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                if (!conds || json_object_set_new(status, "conditions", conds) < 0)
                        return -ENOMEM;
        }
        json_t *c = svc_condition(status, type);
        const char *ltt = now;
        if (c && osb_streq(json_string_value(json_object_get(c, "status")), value) &&
            json_string_value(json_object_get(c, "lastTransitionTime")))
                ltt = json_string_value(json_object_get(c, "lastTransitionTime"));
        json_t *n = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", value, "lastTransitionTime", ltt,
                              "reason", reason, "message", message ? message : "");
        if (!n)
                return -ENOMEM;
        if (c) {
                /* replace in place, keeping the order of the conditions */
                size_t i;
                json_t *x;
                json_array_foreach(conds, i, x) {
                        if (x == c) {
                                if (json_array_set_new(conds, i, n) < 0)
                                        return -ENOMEM;
                                break;
                        }
                }
        } else if (json_array_append_new(conds, n) < 0) {
                return -ENOMEM;
        }
        return recompute_state(status) < 0 ? -ENOMEM : 0;
}

void svc_remove_condition(json_t *status, const char *type)
{
        json_t *conds = json_object_get(status, "conditions");
        size_t i;
        json_t *x;
        json_array_foreach(conds, i, x) {
                if (osb_streq(json_string_value(json_object_get(x, "type")), type)) {
                        (void) json_array_remove(conds, i);
                        (void) recompute_state(status);
                        return;
                }
        }
}

/* ---- resolution ---- */

void resolved_release(struct resolved *rv)
{
        int idx = rv->fl && rv->fl->namespaced ? 1 : 0;
        if (rv->c) {
                informer_put(rv->c->classes[idx], rv->cls ? &rv->cls->meta : NULL);
                informer_put(rv->c->plans[idx], rv->plan ? &rv->plan->meta : NULL);
                informer_put(rv->c->brokers[idx], rv->broker ? &rv->broker->meta : NULL);
        }
        osb_free(rv->user_class);
        osb_free(rv->user_plan);
        *rv = (struct resolved){0};
}

/* Which of the three ways the spec names its class, for one flavour. */
struct mode {
        const char *class_field, *plan_field;
        int by;                 /* 0 external name, 1 external id, 2 k8s name */
};
static const struct mode modes[2][3] = {
        {{"clusterServiceClassExternalName", "clusterServicePlanExternalName", 0},
         {"clusterServiceClassExternalID", "clusterServicePlanExternalID", 1},
         {"clusterServiceClassName", "clusterServicePlanName", 2}},
        {{"serviceClassExternalName", "servicePlanExternalName", 0},
         {"serviceClassExternalID", "servicePlanExternalID", 1},
         {"serviceClassName", "servicePlanName", 2}},
};
static const char *const by_words[3] = {"external name", "external ID", "name"};

static bool matches(const struct offering *o, int by, const char *value)
{
        return by == 0 ? osb_streq(o->external_name, value) : by == 1 ? osb_streq(o->external_id, value) :
               osb_streq(o->meta.name, value);
}

static const char *nonempty(const json_t *spec, const char *field)
{
        const char *v = json_string_value(json_object_get(spec, field));
        return v && *v ? v : NULL;
}

int svc_resolve(struct ctl *c, const json_t *spec, const char *ns, bool by_ref, struct resolved *ret,
                const char **reason, struct osb_error *err)
{
        *ret = (struct resolved){.c = c};
        const struct mode *m = NULL;
        const char *class_value = NULL, *plan_value = NULL;
        int idx = 0;
        if (by_ref) {
                static const struct mode ref_modes[2] = {{"clusterServiceClassRef", "clusterServicePlanRef", 2},
                                                         {"serviceClassRef", "servicePlanRef", 2}};
                for (idx = 0; idx < 2 && !m; idx++) {
                        class_value = json_string_value(json_object_get(json_object_get(spec, ref_modes[idx].class_field), "name"));
                        if (class_value) {
                                m = &ref_modes[idx];
                                plan_value = json_string_value(json_object_get(json_object_get(spec, m->plan_field), "name"));
                        }
                }
                idx--;
        } else {
                for (int f = 0; f < 2 && !m; f++)
                        for (int k = 0; k < 3 && !m; k++)
                                if ((class_value = nonempty(spec, modes[f][k].class_field))) {
                                        m = &modes[f][k];
                                        idx = f;
                                        plan_value = nonempty(spec, m->plan_field);
                                }
        }
        *reason = "ReferencesNonexistentServiceClass";
        if (!m)
                return osb_error_set(err, OSB_E_NOT_FOUND, by_ref ? "the class reference has not been resolved" :
                                     "spec names no class: set clusterServiceClassExternalName (or ...ExternalID, "
                                     "...Name, or the serviceClass* fields for a namespaced broker)");
        const struct flavour *fl = idx ? &flavour_namespaced : &flavour_cluster;
        ret->fl = fl;
        if (idx && !c->classes[1])
                return osb_error_set(err, OSB_E_NOT_FOUND, "namespaced brokers are disabled (--namespaced-brokers=false)");
        const char *kind_prefix = idx ? "ServiceClass/" : "ClusterServiceClass/";
        ret->user_class = osb_asprintf("%s%s", kind_prefix, class_value);
        if (!ret->user_class)
                return osb_error_set(err, -ENOMEM, "out of memory");

        /* the class: exactly one match among the cached classes (of the namespace for ServiceClasses) */
        struct kmeta **v = NULL;
        size_t n = 0, found = 0;
        if (informer_snapshot(c->classes[idx], &v, &n) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                struct offering *o = (struct offering *) v[i];
                if (idx && !osb_streq(o->meta.ns, ns))
                        continue;
                if (matches(o, m->by, class_value) && found++ == 0) {
                        ret->cls = o;
                        atomic_fetch_add(&o->meta.refs, 1);
                }
        }
        informer_snapshot_free(c->classes[idx], v, n);
        if (found != 1) {
                int r = found ? osb_error_set(err, OSB_E_NOT_FOUND, "%zu %ses have %s '%s': name the class by external ID "
                                              "or name instead", found, fl->class_kind, by_words[m->by], class_value) :
                        osb_error_set(err, OSB_E_NOT_FOUND, "no %s with %s '%s'%s%s", fl->class_kind, by_words[m->by],
                                      class_value, idx ? " in namespace " : "", idx ? ns : "");
                return r;
        }

        /* the plan: of that class and its broker; omitted = the class's only plan */
        *reason = "ReferencesNonexistentServicePlan";
        if (informer_snapshot(c->plans[idx], &v, &n) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        found = 0;
        const struct offering *cls = ret->cls;
        for (size_t i = 0; i < n; i++) {
                struct offering *o = (struct offering *) v[i];
                if ((idx && !osb_streq(o->meta.ns, ns)) || !osb_streq(o->class_ref, cls->meta.name) ||
                    !osb_streq(o->broker, cls->broker))
                        continue;
                if ((!plan_value || matches(o, m->by, plan_value)) && found++ == 0) {
                        ret->plan = o;
                        atomic_fetch_add(&o->meta.refs, 1);
                }
        }
        informer_snapshot_free(c->plans[idx], v, n);
        if (found != 1) {
                informer_put(c->plans[idx], ret->plan ? &ret->plan->meta : NULL);
                ret->plan = NULL;
                if (!plan_value && found)
                        return osb_error_set(err, OSB_E_NOT_FOUND, "%s %s has %zu plans: name one in spec.%s",
                                             fl->class_kind, cls->meta.name, found, m->plan_field);
                if (!plan_value)
                        return osb_error_set(err, OSB_E_NOT_FOUND, "%s %s has no plans", fl->class_kind, cls->meta.name);
                return osb_error_set(err, OSB_E_NOT_FOUND, "no %s with %s '%s' for %s %s", fl->plan_kind, by_words[m->by],
                                     plan_value, fl->class_kind, cls->meta.name);
        }
        /* the reference prefixes the class's kind, not the plan's */
        ret->user_plan = osb_asprintf("%s", plan_value ? plan_value :
                                      m->by == 0 ? ret->plan->external_name : m->by == 1 ? ret->plan->external_id :
                                      ret->plan->meta.name);
        if (!ret->user_plan)
                return osb_error_set(err, -ENOMEM, "out of memory");

        *reason = "ReferencesNonexistentBroker";
        osb_autofree char *bkey = idx ? osb_asprintf("%s/%s", ns, cls->broker ? cls->broker : "") :
                                  osb_strdup(cls->broker ? cls->broker : "");
        if (!bkey)
                return osb_error_set(err, -ENOMEM, "out of memory");
        ret->broker = (struct broker *) informer_get(c->brokers[idx], bkey);
        if (!ret->broker || ret->broker->meta.deleting)
                return osb_error_set(err, OSB_E_NOT_FOUND, "the %s '%s' of %s %s %s", fl->broker_kind,
                                     cls->broker ? cls->broker : "", fl->class_kind, cls->meta.name,
                                     ret->broker ? "is being deleted" : "does not exist");
        *reason = NULL;
        return 0;
}

/* ---- what instances and bindings send ---- */

int svc_parameters(struct ctl *c, const char *ns, const json_t *spec, json_t **params, json_t **redacted,
                   char checksum[65], struct osb_error *err)
{
        const json_t *pf = json_object_get(spec, "parametersFrom");
        size_t n = json_array_size(pf), i;
        struct param_source *src = n ? osb_calloc(n, sizeof(*src)) : NULL;
        char **values = n ? osb_calloc(n, sizeof(char *)) : NULL;
        int r = 0;
        if (n && (!src || !values))
                r = osb_error_set(err, -ENOMEM, "out of memory");
        for (i = 0; i < n && r >= 0; i++) {
                const json_t *ref = json_object_get(json_array_get(pf, i), "secretKeyRef");
                const char *name = json_string_value(json_object_get(ref, "name"));
                const char *key = json_string_value(json_object_get(ref, "key"));
                if (!name || !key) {
                        r = osb_error_set(err, OSB_E_BAD_REQUEST, "spec.parametersFrom[%zu]: secretKeyRef needs name and key", i);
                        break;
                }
                r = ctl_secret_value(c, ns, name, key, &values[i], &src[i].len, err);
                if (r < 0)
                        osb_error_prefix(err, "spec.parametersFrom[%zu]: ", i);
                src[i] = (struct param_source){.secret_name = name, .key = key, .value = values[i], .len = src[i].len};
        }
        if (r >= 0)
                r = params_build(json_object_get(spec, "parameters"), src, n, params, redacted, checksum, err);
        for (i = 0; values && i < n; i++) {
                if (values[i])
                        explicit_bzero(values[i], src[i].len);
                osb_free(values[i]);
        }
        osb_free(values);
        osb_free(src);
        return r;
}

char *svc_identity(const json_t *spec, bool *oom)
{
        *oom = false;
        const json_t *ui = json_object_get(spec, "userInfo");
        if (!json_is_object(ui) || !json_string_value(json_object_get(ui, "username")))
                return NULL;
        osb_autofree char *text = osb_json_dump(ui, NULL);
        osb_autofree char *b64 = text ? osb_base64_encode(text, strlen(text)) : NULL;
        char *h = b64 ? osb_asprintf("kubernetes %s", b64) : NULL;
        *oom = !h;
        return h;
}

json_t *svc_context(struct ctl *c, const char *ns, const char *ns_uid, const char *instance_name)
{
        return json_pack("{s:s,s:s,s:s,s:s,s:s}", "platform", "kubernetes", "namespace", ns, "namespace_uid",
                         ns_uid ? ns_uid : "", "clusterid", c->opts.cluster_id ? c->opts.cluster_id : "",
                         "instance_name", instance_name);
}

const char *svc_annotation(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

bool svc_drop_finalizer(json_t *obj)
{
        json_t *fin = json_object_get(json_object_get(obj, "metadata"), "finalizers");
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f) {
                if (osb_streq(json_string_value(f), NAMES_FINALIZER)) {
                        (void) json_array_remove(fin, i);
                        return true;
                }
        }
        return false;
}

int svc_add_finalizer(json_t *obj)
{
        json_t *md = json_object_get(obj, "metadata");
        json_t *fin = json_object_get(md, "finalizers");
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f) {
                if (osb_streq(json_string_value(f), NAMES_FINALIZER))
                        return 0;
        }
        if (!json_is_array(fin)) {
                fin = json_array();
                if (!fin || json_object_set_new(md, "finalizers", fin) < 0)
                        return -ENOMEM;
        }
        return json_array_append_new(fin, json_string(NAMES_FINALIZER)) < 0 ? -ENOMEM : 1;
}

/* ---- one reconcile ---- */

void spass_release(struct spass *p)
{
        if (p->obj)
                json_decref(p->obj);
        if (p->status)
                json_decref(p->status);
        ctl_client_put(p->cc);
        resolved_release(&p->rv);
        p->obj = p->status = NULL;
        p->cc = NULL;
}

int spass_begin(struct spass *p, bool *deleting, bool *has_finalizer)
{
        const json_t *md = json_object_get(p->obj, "metadata");
        const json_t *st = json_object_get(p->obj, "status");
        p->status = json_is_object(st) ? json_deep_copy(st) : json_object();
        if (!p->status)
                return -ENOMEM;
        p->generation = json_integer_value(json_object_get(md, "generation"));
        *deleting = json_object_get(md, "deletionTimestamp") && !json_is_null(json_object_get(md, "deletionTimestamp"));
        *has_finalizer = false;
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(md, "finalizers"), i, f)
                *has_finalizer |= osb_streq(json_string_value(f), NAMES_FINALIZER);
        return 0;
}

void spass_log(const struct spass *p, enum osb_log_level lvl, const char *msg, const char *detail)
{
        if (osb_log_enabled(lvl))
                osb_log_write(lvl, msg, "kind=%s namespace=%s name=%s detail=%s", p->kind, p->ns, p->name, detail);
}

void spass_event(const struct spass *p, bool warning, const char *reason, const char *message)
{
        const json_t *md = json_object_get(p->obj, "metadata");
        struct ctl_object_ref o = {p->kind, p->ns, p->name, json_string_value(json_object_get(md, "uid")),
                                   json_string_value(json_object_get(md, "resourceVersion"))};
        ctl_event(p->c, &o, warning, reason, message);
}

const char *spass_str(const struct spass *p, const char *field)
{
        return json_string_value(json_object_get(p->status, field));
}

int spass_set_str(struct spass *p, const char *field, const char *value)
{
        if (!value) {
                (void) json_object_del(p->status, field);
                return 0;
        }
        return json_object_set_new(p->status, field, json_string(value)) < 0 ? -ENOMEM : 0;
}

static int keep_written(struct spass *p, json_t *out)
{
        if (!out)
                return 0;
        json_decref(p->obj);
        p->obj = out;
        ctl_note_write(p->c, p->key, out);
        return 0;
}

int spass_write_status(struct spass *p, struct osb_error *err)
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

int spass_write_object(struct spass *p, struct osb_error *err)
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

int spass_ready(struct spass *p, const char *value, const char *reason, const char *message, bool warning,
                struct osb_error *err)
{
        const json_t *old = svc_condition(json_object_get(p->obj, "status"), "Ready");
        bool transition = !old || !osb_streq(json_string_value(json_object_get(old, "status")), value) ||
                          !osb_streq(json_string_value(json_object_get(old, "reason")), reason);
        if (svc_set_condition(p->status, "Ready", value, reason, message, p->now) < 0 ||
            json_object_set_new(p->status, "observedGeneration", json_integer(p->generation)) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        int r = spass_write_status(p, err);
        if (r >= 0 && transition && (warning || !progress_reason(reason)))
                spass_event(p, warning, reason, message);
        return r;
}

int spass_retry(struct spass *p, const char *value, const char *reason, const char *message, struct osb_error *err)
{
        int64_t delay = ctl_retry_fail(p->c, p->key);
        char when[32];
        format_time(p->tnow + (time_t) ((delay + 999) / 1000), when);
        osb_autofree char *msg = osb_asprintf("%s; will retry at %s", message, when);
        if (!msg || spass_set_str(p, "nextRetryTime", when) < 0)
                return osb_error_set(err, -ENOMEM, "out of memory");
        spass_log(p, OSB_LOG_WARN, reason, msg);
        p->requeue_ms = delay;
        return spass_ready(p, value, reason, msg, true, err);
}

int spass_finalize(struct spass *p, struct osb_error *err)
{
        if (!svc_drop_finalizer(p->obj))
                return 0;
        int r = spass_write_object(p, err);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}

bool spass_busy(struct spass *p, int *r)
{
        if (*r != -EBUSY)
                return false;
        *r = 0;
        p->requeue_ms = 500;
        return true;
}

int spass_client(struct spass *p, struct osb_error *err)
{
        if (p->oc)
                return 0;
        return ctl_broker_client(p->c, p->rv.fl, p->rv.broker, &p->oc, &p->cc, err);
}

void spass_describe(const struct osb_response *resp, char *out, size_t n)
{
        (void) snprintf(out, n, "the broker answered %ld%s%s%s%s", resp->status, resp->error ? " " : "",
                        resp->error ? resp->error : "", resp->description ? ": " : "",
                        resp->description ? resp->description : "");
}

void spass_clear_operation(struct spass *p)
{
        static const char *const fields[] = {"lastOperation", "currentOperation", "operationStartTime", "nextRetryTime"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(fields); i++)
                (void) json_object_del(p->status, fields[i]);
        /* the reference always shows these two */
        (void) json_object_set_new(p->status, "asyncOpInProgress", json_false());
        if (!json_object_get(p->status, "orphanMitigationInProgress"))
                (void) json_object_set_new(p->status, "orphanMitigationInProgress", json_false());
}

int svc_default_external_id(json_t *spec)
{
        const char *id = json_string_value(json_object_get(spec, "externalID"));
        if (id && *id)
                return 0;
        char buf[37];
        uuid_t u;
        uuid_generate_random(u);
        uuid_unparse_lower(u, buf);
        return json_object_set_new(spec, "externalID", json_string(buf)) < 0 ? -ENOMEM : 1;
}

int spass_run(struct ctl *c, const char *key, const char *kind, const struct kube_resource *res,
              struct informer *inf, size_t prefix_len, int (*pass)(struct spass *p, struct osb_error *err))
{
        struct svcobj *o = (struct svcobj *) informer_get(inf, key + prefix_len);
        if (!o) {
                ctl_forget(c, key);
                return 0;
        }
        osb_autofree char *ns = osb_strdup(o->meta.ns ? o->meta.ns : "");
        osb_autofree char *name = osb_strdup(o->meta.name);
        bool stale = ctl_cache_stale(c, key, o->meta.resource_version);
        json_t *obj = stale ? NULL : svcobj_json(o);
        informer_put(inf, &o->meta);
        if (!ns || !name) {
                if (obj)
                        json_decref(obj);
                return -ENOMEM;
        }
        struct osb_error err = OSB_ERROR_INIT;
        int r = 0;
        for (int attempt = 0; attempt < 4; attempt++) {
                if (!obj) {
                        r = kapi_get(c->kube, res, ns, name, &obj, &err);
                        if (r == OSB_E_NOT_FOUND)
                                return 0;
                        if (r < 0)
                                break;
                }
                struct spass p = {.c = c, .kind = kind, .res = res, .key = key, .ns = ns, .name = name, .obj = obj,
                                  .tnow = c->now(), .requeue_ms = -1};
                obj = NULL;
                format_time(p.tnow, p.now);
                r = pass(&p, &err);
                if (r >= 0 && p.requeue_ms >= 0)
                        (void) queue_add_after(c->queue, key, p.requeue_ms);
                spass_release(&p);
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
