/* catalog-controller/resolve.c: an instance's class, plan and broker from the caches. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/resolve.h"

void resolve_release(struct resolve_result *rv)
{
        int idx = rv->fl && rv->fl->namespaced ? 1 : 0;
        if (rv->c) {
                informer_put(rv->c->classes[idx], rv->cls ? &rv->cls->meta : NULL);
                informer_put(rv->c->plans[idx], rv->plan ? &rv->plan->meta : NULL);
                informer_put(rv->c->brokers[idx], rv->broker ? &rv->broker->meta : NULL);
        }
        osb_free(rv->user_class);
        osb_free(rv->user_plan);
        *rv = (struct resolve_result){0};
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

int resolve_spec(struct ctl *c, const json_t *spec, const char *ns, bool by_ref, struct resolve_result *ret,
                 const char **reason, struct osb_error *err)
{
        *ret = (struct resolve_result){.c = c};
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
        const struct offering_flavour *fl = idx ? &offering_flavour_namespaced : &offering_flavour_cluster;
        ret->fl = fl;
        if (idx && !c->classes[1])
                return osb_error_set(err, OSB_E_NOT_FOUND, "namespaced brokers are disabled (--namespaced-brokers=false)");
        const char *kind_prefix = idx ? "ServiceClass/" : "ClusterServiceClass/";
        ret->user_class = osb_asprintf("%s%s", kind_prefix, class_value);
        if (!ret->user_class)
                return osb_error_set(err, -ENOMEM, "out of memory");

        /* the class: exactly one match among the cached classes (of the namespace for ServiceClasses) */
        struct informer_kmeta **v = NULL;
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
        /* service-catalog prefixes the class's kind, not the plan's */
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
