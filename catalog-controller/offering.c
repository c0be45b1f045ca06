/* catalog-controller/offering.c: classes and plans: cache form, digest, conversion, restrictions. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "kube/client.h"
#include "common/osb_hash.h"
#include "common/osb_strmap.h"
#include "catalog-controller/names.h"
#include "catalog-controller/offering.h"

#define GROUP "servicecatalog.k8s.io"
#define API_VERSION GROUP "/v1beta1"

const struct offering_flavour offering_flavour_cluster = {
        .namespaced = false,
        .broker_kind = "ClusterServiceBroker", .class_kind = "ClusterServiceClass", .plan_kind = "ClusterServicePlan",
        .broker_res = &kube_sc_cluster_brokers, .class_res = &kube_sc_cluster_classes, .plan_res = &kube_sc_cluster_plans,
        .broker_field = "clusterServiceBrokerName", .class_ref_field = "clusterServiceClassRef",
        .broker_label = NAMES_LABEL_CLUSTER_BROKER, .class_ref_label = NAMES_LABEL_CLUSTER_CLASS_REF,
        .class_name_property = "spec.clusterServiceClass.name",
        .deleted_reason = "DeletedClusterServiceBrokerSuccessfully",
};
const struct offering_flavour offering_flavour_namespaced = {
        .namespaced = true,
        .broker_kind = "ServiceBroker", .class_kind = "ServiceClass", .plan_kind = "ServicePlan",
        .broker_res = &kube_sc_brokers, .class_res = &kube_sc_classes, .plan_res = &kube_sc_plans,
        .broker_field = "serviceBrokerName", .class_ref_field = "serviceClassRef",
        .broker_label = NAMES_LABEL_BROKER, .class_ref_label = NAMES_LABEL_CLASS_REF,
        .class_name_property = "spec.serviceClass.name",
        .deleted_reason = "DeletedSuccessfully",
};

/* The spec fields the controller owns (written from the catalog); the rest is the user's. */
static const char *const class_owned[] = {
        "externalName", "externalID", "description", "bindable", "bindingRetrievable", "planUpdatable",
        "instancesRetrievable", "allowContextUpdates", "externalMetadata", "tags", "requires",
        "clusterServiceBrokerName", "serviceBrokerName", NULL,
};
static const char *const plan_owned[] = {
        "externalName", "externalID", "description", "bindable", "free", "externalMetadata",
        "instanceCreateParameterSchema", "instanceUpdateParameterSchema", "serviceBindingCreateParameterSchema",
        "maximumPollingDuration", "maintenanceInfo", "planUpdatable", "bindingRotatable",
        "clusterServiceBrokerName", "serviceBrokerName", "clusterServiceClassRef", "serviceClassRef", NULL,
};
static const char *const owned_labels[] = {
        NAMES_LABEL_EXTERNAL_ID, NAMES_LABEL_EXTERNAL_NAME, NAMES_LABEL_CLUSTER_BROKER, NAMES_LABEL_BROKER,
        NAMES_LABEL_CLUSTER_CLASS_REF, NAMES_LABEL_CLASS_REF, NULL,
};

/* ---- digest ---- */

/* A copy of @j with integral reals turned into integers, since the API server may write 1.0 back
 * as 1. Returns new, or NULL on OOM. */
static json_t *normalized(const json_t *j)
{
        if (json_is_real(j)) {
                double d = json_real_value(j);
                if (d == (double) (json_int_t) d && d > -9e15 && d < 9e15)
                        return json_integer((json_int_t) d);
                return json_real(d);
        }
        if (json_is_object(j)) {
                json_t *o = json_object();
                const char *k;
                json_t *v;
                if (!o)
                        return NULL;
                json_object_foreach((json_t *) j, k, v) {
                        json_t *n = normalized(v);
                        if (!n || json_object_set_new(o, k, n) < 0) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        if (json_is_array(j)) {
                json_t *a = json_array();
                size_t i;
                json_t *v;
                if (!a)
                        return NULL;
                json_array_foreach(j, i, v) {
                        json_t *n = normalized(v);
                        if (!n || json_array_append_new(a, n) < 0) {
                                json_decref(a);
                                return NULL;
                        }
                }
                return a;
        }
        return json_deep_copy(j);
}

static json_t *controller_ref(const json_t *obj)
{
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, r) {
                const char *kind = json_string_value(json_object_get(r, "kind"));
                if (json_is_true(json_object_get(r, "controller")) && kind &&
                    (strcmp(kind, "ClusterServiceBroker") == 0 || strcmp(kind, "ServiceBroker") == 0))
                        return r;
        }
        return NULL;
}

int offering_digest(const json_t *obj, bool is_plan, char out[OFFERING_DIGEST_LEN + 1])
{
        json_auto_t *view = json_object();
        json_t *spec = json_object(), *labels = json_object();
        if (!view || json_object_set_new(view, "spec", spec) < 0 || json_object_set_new(view, "labels", labels) < 0)
                return -ENOMEM;
        const json_t *ospec = json_object_get(obj, "spec");
        for (const char *const *k = is_plan ? plan_owned : class_owned; *k; k++) {
                json_t *v = json_object_get(ospec, *k);
                if (v && !json_is_null(v) && json_object_set_new(spec, *k, normalized(v)) < 0)
                        return -ENOMEM;
        }
        const json_t *olabels = json_object_get(json_object_get(obj, "metadata"), "labels");
        for (const char *const *k = owned_labels; *k; k++) {
                json_t *v = json_object_get(olabels, *k);
                if (v && json_object_set(labels, *k, v) < 0)
                        return -ENOMEM;
        }
        json_t *ref = controller_ref(obj);
        if (ref) {
                json_t *r = json_pack("{s:O?,s:O?,s:O?,s:b}", "kind", json_object_get(ref, "kind"), "name",
                                      json_object_get(ref, "name"), "uid", json_object_get(ref, "uid"),
                                      "blockOwnerDeletion", json_is_true(json_object_get(ref, "blockOwnerDeletion")));
                if (!r || json_object_set_new(view, "owner", r) < 0)
                        return -ENOMEM;
        }
        osb_autofree char *dump = osb_json_dump_flags(view, JSON_COMPACT | JSON_SORT_KEYS, NULL);
        if (!dump)
                return -ENOMEM;
        uint8_t d[OSB_HASH_SHA224_LEN];
        osb_hash_sha224(dump, strlen(dump), d);
        osb_hash_hex(d, sizeof(d), out);
        return 0;
}

/* ---- the cached form ---- */

static int dup_str(const json_t *v, char **ret)
{
        const char *s = json_string_value(v);
        *ret = NULL;
        if (!s)
                return 0;
        return (*ret = osb_strdup(s)) ? 0 : -ENOMEM;
}

/* A deep copy of @spec's @field (absent or null: NULL): the cache shares nothing with the
 * object it was made from. */
static int copy_json(const json_t *spec, const char *field, json_t **ret)
{
        const json_t *v = json_object_get(spec, field);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        return (*ret = json_deep_copy(v)) ? 0 : -ENOMEM;
}

static int extract(const json_t *obj, bool is_plan, struct informer_kmeta **ret)
{
        struct informer_kmeta *m = NULL;
        int r = informer_kmeta_new(sizeof(struct offering), obj, &m);
        if (r < 0)
                return r;
        struct offering *o = (struct offering *) m;
        o->is_plan = is_plan;
        const json_t *spec = json_object_get(obj, "spec");
        json_t *broker = json_object_get(spec, "clusterServiceBrokerName");
        if (!broker)
                broker = json_object_get(spec, "serviceBrokerName");
        json_t *cref = json_object_get(spec, "clusterServiceClassRef");
        if (!cref)
                cref = json_object_get(spec, "serviceClassRef");
        o->removed = json_is_true(json_object_get(json_object_get(obj, "status"), "removedFromBrokerCatalog"));
        o->controller_owned = controller_ref(obj) != NULL;
        /* what the instance and binding reconcilers need to know of a class or plan */
        const json_t *bindable = json_object_get(spec, "bindable");
        o->bindable = json_is_boolean(bindable) ? json_is_true(bindable) : -1;
        o->binding_retrievable = json_is_true(json_object_get(spec, "bindingRetrievable"));
        o->instance_retrievable = json_is_true(json_object_get(spec, "instancesRetrievable"));
        o->binding_rotatable = json_is_true(json_object_get(spec, "bindingRotatable"));
        o->max_poll_s = json_integer_value(json_object_get(spec, "maximumPollingDuration"));
        if (is_plan && (copy_json(spec, "instanceCreateParameterSchema", &o->schema_create) < 0 ||
                        copy_json(spec, "instanceUpdateParameterSchema", &o->schema_update) < 0 ||
                        copy_json(spec, "serviceBindingCreateParameterSchema", &o->schema_bind) < 0 ||
                        copy_json(spec, "maintenanceInfo", &o->maintenance_info) < 0)) {
                offering_free(&o->meta);
                return -ENOMEM;
        }
        if (dup_str(broker, &o->broker) < 0 || dup_str(json_object_get(spec, "externalID"), &o->external_id) < 0 ||
            dup_str(json_object_get(spec, "externalName"), &o->external_name) < 0 ||
            dup_str(json_object_get(cref, "name"), &o->class_ref) < 0 ||
            dup_str(json_object_get(json_object_get(spec, "externalMetadata"), "providerDisplayName"), &o->provider) < 0 ||
            offering_digest(obj, is_plan, o->digest) < 0) {
                offering_free(&o->meta);
                return -ENOMEM;
        }
        /* for the Secret's instance metadata and servicebinding.io type (credentials.h) */
        const json_t *tags = json_object_get(spec, "tags");
        if (!is_plan && json_is_array(tags) && json_array_size(tags) > 0) {
                o->tags = osb_json_dump_flags(tags, JSON_COMPACT | JSON_ENCODE_ANY, NULL);
                if (!o->tags) {
                        offering_free(&o->meta);
                        return -ENOMEM;
                }
        }
        *ret = &o->meta;
        return 0;
}

int offering_extract_class(const json_t *obj, struct informer_kmeta **ret)
{
        return extract(obj, false, ret);
}

int offering_extract_plan(const json_t *obj, struct informer_kmeta **ret)
{
        return extract(obj, true, ret);
}

void offering_free(struct informer_kmeta *m)
{
        struct offering *o = (struct offering *) m;
        informer_kmeta_release(&o->meta);
        osb_free(o->broker);
        osb_free(o->external_id);
        osb_free(o->external_name);
        osb_free(o->class_ref);
        json_decref(o->schema_create);
        json_decref(o->schema_update);
        json_decref(o->schema_bind);
        json_decref(o->maintenance_info);
        osb_free(o->tags);
        osb_free(o->provider);
        osb_free(o);
}

bool offering_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        const struct offering *a = (const struct offering *) old, *b = (const struct offering *) new;
        return strcmp(a->digest, b->digest) != 0 || a->removed != b->removed || a->meta.deleting != b->meta.deleting;
}

/* ---- restrictions ---- */

void offering_restrictions_release(struct offering_restrictions *rs)
{
        for (size_t i = 0; i < rs->n; i++) {
                osb_free(rs->v[i].property);
                for (size_t k = 0; k < rs->v[i].nvalues; k++)
                        osb_free(rs->v[i].values[k]);
                osb_free(rs->v[i].values);
        }
        osb_free(rs->v);
        *rs = (struct offering_restrictions){0};
}

static bool is_value_char(char c)
{
        return isalnum((unsigned char) c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static void skip_ws(const char **p)
{
        while (**p == ' ' || **p == '\t')
                (*p)++;
}

static int add_value(struct offering_restriction *r, const char *s, size_t n)
{
        char **v = osb_realloc(r->values, (r->nvalues + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        r->values = v;
        if (!(v[r->nvalues] = osb_strndup(s, n)))
                return -ENOMEM;
        r->nvalues++;
        return 0;
}

/* Parses one requirement at *p, leaving *p after it. */
static int parse_requirement(const char **p, const char *const *allowed, struct offering_restriction *req,
                             const char *expr, struct osb_error *err)
{
        skip_ws(p);
        const char *k = *p;
        while (is_value_char(**p))
                (*p)++;
        if (*p == k)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "catalog restriction '%s': expected a property at '%s'", expr, k);
        if (!(req->property = osb_strndup(k, (size_t) (*p - k))))
                return -ENOMEM;
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
                known = strcmp(*a, req->property) == 0;
        if (!known)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "catalog restriction '%s': unknown property '%s'", expr,
                                     req->property);
        skip_ws(p);
        bool set = false;
        if (strncmp(*p, "==", 2) == 0) {
                req->op = OFFERING_RESTRICT_EQ, *p += 2;
        } else if (strncmp(*p, "!=", 2) == 0) {
                req->op = OFFERING_RESTRICT_NE, *p += 2;
        } else if (**p == '=') {
                req->op = OFFERING_RESTRICT_EQ, *p += 1;
        } else if (strncmp(*p, "notin", 5) == 0 && !is_value_char((*p)[5])) {
                req->op = OFFERING_RESTRICT_NOTIN, *p += 5, set = true;
        } else if (strncmp(*p, "in", 2) == 0 && !is_value_char((*p)[2])) {
                req->op = OFFERING_RESTRICT_IN, *p += 2, set = true;
        } else {
                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                     "catalog restriction '%s': expected =, ==, !=, in or notin after '%s'", expr,
                                     req->property);
        }
        skip_ws(p);
        if (!set) {
                const char *v = *p;
                while (is_value_char(**p))
                        (*p)++;
                return add_value(req, v, (size_t) (*p - v));
        }
        if (**p != '(')
                return osb_error_set(err, OSB_E_BAD_REQUEST, "catalog restriction '%s': expected '(' after %s", expr,
                                     req->op == OFFERING_RESTRICT_IN ? "in" : "notin");
        (*p)++;
        for (;;) {
                skip_ws(p);
                const char *v = *p;
                while (is_value_char(**p))
                        (*p)++;
                int r = add_value(req, v, (size_t) (*p - v));
                if (r < 0)
                        return r;
                skip_ws(p);
                if (**p == ',') {
                        (*p)++;
                        continue;
                }
                if (**p == ')') {
                        (*p)++;
                        return 0;
                }
                return osb_error_set(err, OSB_E_BAD_REQUEST, "catalog restriction '%s': expected ',' or ')' at '%s'",
                                     expr, *p);
        }
}

int offering_restrictions_parse(const char *const *exprs, size_t n, const char *const *allowed,
                                struct offering_restrictions *ret, struct osb_error *err)
{
        struct offering_restrictions rs = {0};
        for (size_t i = 0; i < n; i++) {
                const char *p = exprs[i];
                skip_ws(&p);
                if (!*p)
                        continue;
                for (;;) {
                        struct offering_restriction *v = osb_realloc(rs.v, (rs.n + 1) * sizeof(*v));
                        if (!v) {
                                offering_restrictions_release(&rs);
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        }
                        rs.v = v;
                        rs.v[rs.n] = (struct offering_restriction){0};
                        rs.n++;
                        int r = parse_requirement(&p, allowed, &rs.v[rs.n - 1], exprs[i], err);
                        if (r < 0) {
                                offering_restrictions_release(&rs);
                                return r == -ENOMEM ? osb_error_set(err, r, "out of memory") : r;
                        }
                        skip_ws(&p);
                        if (!*p)
                                break;
                        if (*p != ',') {
                                offering_restrictions_release(&rs);
                                return osb_error_set(err, OSB_E_BAD_REQUEST,
                                                     "catalog restriction '%s': unexpected '%s'", exprs[i], p);
                        }
                        p++;
                }
        }
        *ret = rs;
        return 0;
}

bool offering_restrictions_match(const struct offering_restrictions *rs,
                                 const char *(*get)(void *userdata, const char *property), void *userdata)
{
        for (size_t i = 0; rs && i < rs->n; i++) {
                const struct offering_restriction *q = &rs->v[i];
                const char *val = get(userdata, q->property);
                bool in = false;
                for (size_t k = 0; k < q->nvalues && val; k++)
                        in |= strcmp(q->values[k], val) == 0;
                bool ok = q->op == OFFERING_RESTRICT_EQ || q->op == OFFERING_RESTRICT_IN ? in : !in;
                if (!ok)
                        return false;
        }
        return true;
}

/* ---- conversion ---- */

void offering_desired_set_release(struct offering_desired_set *ds)
{
        for (size_t i = 0; i < ds->nclasses; i++)
                json_decref(ds->classes[i].obj);
        for (size_t i = 0; i < ds->nplans; i++)
                json_decref(ds->plans[i].obj);
        osb_free(ds->classes);
        osb_free(ds->plans);
        *ds = (struct offering_desired_set){0};
}

/* Copies @key of @from into @to as @as when present (and not null). */
static int copy_field(json_t *to, const char *as, const json_t *from, const char *key)
{
        json_t *v = json_object_get(from, key);
        if (!v || json_is_null(v))
                return 0;
        return json_object_set(to, as, v) < 0 ? -ENOMEM : 0;
}

static int set_bool(json_t *to, const char *as, const json_t *from, const char *key, bool dflt)
{
        json_t *v = json_object_get(from, key);
        return json_object_set_new(to, as, json_boolean(json_is_boolean(v) ? json_is_true(v) : dflt)) < 0 ? -ENOMEM : 0;
}

static int set_label(json_t *labels, const char *key, const char *value)
{
        char v[NAMES_LABEL_VALUE_LEN + 1];
        return json_object_set_new(labels, key, json_string(names_label_value(value, v))) < 0 ? -ENOMEM : 0;
}

/* The skeleton of a class or plan: apiVersion, kind, metadata (name, namespace, labels, owner). */
static json_t *skeleton(const struct offering_catalog_owner *ow, bool is_plan, const char *name)
{
        const struct offering_flavour *fl = ow->fl;
        json_t *o = json_pack("{s:s,s:s,s:{s:s,s:{}},s:{}}", "apiVersion", API_VERSION, "kind",
                              is_plan ? fl->plan_kind : fl->class_kind, "metadata", "name", name, "labels", "spec");
        if (!o)
                return NULL;
        json_t *md = json_object_get(o, "metadata");
        if (ow->ns && json_object_set_new(md, "namespace", json_string(ow->ns)) < 0)
                goto oom;
        if (!fl->namespaced) {
                json_t *refs = json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", API_VERSION, "kind",
                                         fl->broker_kind, "name", ow->name, "uid", ow->uid ? ow->uid : "",
                                         "controller", 1, "blockOwnerDeletion", 0);
                if (!refs || json_object_set_new(md, "ownerReferences", refs) < 0)
                        goto oom;
        }
        return o;
oom:
        json_decref(o);
        return NULL;
}

struct props {
        const struct offering_flavour *fl;
        const char *name, *external_name, *external_id, *free, *class_name;
};

static const char *prop_get(void *userdata, const char *property)
{
        const struct props *p = userdata;
        if (strcmp(property, "name") == 0)
                return p->name;
        if (strcmp(property, "spec.externalName") == 0)
                return p->external_name;
        if (strcmp(property, "spec.externalID") == 0)
                return p->external_id;
        if (strcmp(property, "spec.free") == 0)
                return p->free;
        if (strcmp(property, p->fl->class_name_property) == 0)
                return p->class_name;
        return NULL;
}

static int bad(struct osb_error *err, const char *path, const char *what)
{
        return osb_error_set(err, OSB_E_BAD_REQUEST, "%s: %s", path, what);
}

static int need_string(const json_t *o, const char *path, const char *key, struct osb_error *err)
{
        const char *s = NULL;
        int r = osb_json_get_string(o, path, key, true, &s, err);
        if (r < 0)
                return r;
        if (!*s)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "%s.%s: must not be empty", path, key);
        return 0;
}

static int push(struct offering_desired **v, size_t *n, json_t *obj, bool is_plan)
{
        struct offering_desired *nv = osb_realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv) {
                json_decref(obj);
                return -ENOMEM;
        }
        *v = nv;
        struct offering_desired *d = &nv[*n];
        json_t *md = json_object_get(obj, "metadata");
        *d = (struct offering_desired){.obj = obj, .is_plan = is_plan,
                              .name = json_string_value(json_object_get(md, "name")),
                              .external_id = json_string_value(json_object_get(json_object_get(obj, "spec"), "externalID"))};
        (*n)++;
        return offering_digest(obj, is_plan, d->digest);
}

static char *escaped_or_existing(const struct offering_catalog_owner *ow, bool is_plan, const char *id)
{
        const char *old = ow->existing_name ? ow->existing_name(ow->userdata, is_plan, id) : NULL;
        if (old)
                return osb_strdup(old);
        char *name = NULL;
        return names_escape(id, &name) < 0 ? NULL : name;
}

/* Builds the plan objects of service @svc (class @class_name) that pass @plan_rs into @ds. */
/* The ids of a catalog seen so far, each with the JSON path that used it first (owned). */
static void ids_release(struct osb_strmap *ids)
{
        size_t i;
        for (struct osb_strmap_entry *e = osb_strmap_first(ids, &i); e; e = osb_strmap_next(ids, &i, e))
                osb_free(e->value);
        osb_strmap_release(ids);
}

/* Records @id at @path in @ids, or refuses it when an earlier path used it. The message names
 * both paths, never the id: the broker's bytes are not quoted. */
static int id_first_use(struct osb_strmap *ids, const char *id, const char *path, struct osb_error *err)
{
        const char *first = osb_strmap_get(ids, id);
        if (first)
                return osb_error_set(err, OSB_E_BAD_REQUEST, "%s.id: the same id as %s.id (ids must be unique)",
                                     path, first);
        char *copy = osb_strdup(path);
        if (!copy || osb_strmap_put(ids, id, copy, NULL) < 0) {
                osb_free(copy);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

static int convert_plans(const json_t *svc, const char *spath, const char *class_name, const struct offering_catalog_owner *ow,
                         const struct offering_restrictions *plan_rs, struct offering_desired_set *ds, size_t *accepted,
                         struct osb_strmap *plan_ids, struct osb_error *err)
{
        const struct offering_flavour *fl = ow->fl;
        json_t *plans = json_object_get(svc, "plans");
        size_t i;
        json_t *p;
        json_array_foreach(plans, i, p) {
                char path[256];
                (void) snprintf(path, sizeof(path), "%s.plans[%zu]", spath, i);
                if (!json_is_object(p))
                        return bad(err, path, "must be an object");
                int r;
                if ((r = need_string(p, path, "id", err)) < 0 || (r = need_string(p, path, "name", err)) < 0 ||
                    (r = need_string(p, path, "description", err)) < 0)
                        return r;
                const char *id = json_string_value(json_object_get(p, "id"));
                const char *pname = json_string_value(json_object_get(p, "name"));
                if ((r = id_first_use(plan_ids, id, path, err)) < 0)
                        return r;
                osb_autofree char *name = escaped_or_existing(ow, true, id);
                if (!name)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                struct props pr = {fl, name, pname, id, json_is_true(json_object_get(p, "free")) ? "true" : "false", class_name};
                if (!offering_restrictions_match(plan_rs, prop_get, &pr))
                        continue;
                json_t *o = skeleton(ow, true, name);
                if (!o)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                json_t *spec = json_object_get(o, "spec"), *labels = json_object_get(json_object_get(o, "metadata"), "labels");
                json_t *schemas = json_object_get(p, "schemas");
                json_t *si = json_object_get(schemas, "service_instance"), *sb = json_object_get(schemas, "service_binding");
                r = 0;
                if (json_object_set_new(spec, "externalName", json_string(pname)) < 0 ||
                    json_object_set_new(spec, "externalID", json_string(id)) < 0 ||
                    copy_field(spec, "description", p, "description") < 0 ||
                    copy_field(spec, "bindable", p, "bindable") < 0 || set_bool(spec, "free", p, "free", false) < 0 ||
                    copy_field(spec, "externalMetadata", p, "metadata") < 0 ||
                    copy_field(spec, "instanceCreateParameterSchema", json_object_get(si, "create"), "parameters") < 0 ||
                    copy_field(spec, "instanceUpdateParameterSchema", json_object_get(si, "update"), "parameters") < 0 ||
                    copy_field(spec, "serviceBindingCreateParameterSchema", json_object_get(sb, "create"), "parameters") < 0 ||
                    copy_field(spec, "maximumPollingDuration", p, "maximum_polling_duration") < 0 ||
                    copy_field(spec, "maintenanceInfo", p, "maintenance_info") < 0 ||
                    copy_field(spec, "planUpdatable", p, "plan_updateable") < 0 ||
                    copy_field(spec, "bindingRotatable", p, "binding_rotatable") < 0 ||
                    json_object_set_new(spec, fl->broker_field, json_string(ow->name)) < 0 ||
                    json_object_set_new(spec, fl->class_ref_field, json_pack("{s:s}", "name", class_name)) < 0 ||
                    set_label(labels, NAMES_LABEL_EXTERNAL_ID, id) < 0 || set_label(labels, NAMES_LABEL_EXTERNAL_NAME, pname) < 0 ||
                    set_label(labels, fl->broker_label, ow->name) < 0 || set_label(labels, fl->class_ref_label, class_name) < 0)
                        r = -ENOMEM;
                if (r < 0) {
                        json_decref(o);
                        return osb_error_set(err, r, "out of memory");
                }
                if (push(&ds->plans, &ds->nplans, o, true) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                (*accepted)++;
        }
        return 0;
}

int offering_convert(const json_t *catalog, const struct offering_catalog_owner *ow,
                     const struct offering_restrictions *class_rs, const struct offering_restrictions *plan_rs,
                     struct offering_desired_set *ret, struct osb_error *err)
{
        const struct offering_flavour *fl = ow->fl;
        struct offering_desired_set ds = {0};
        struct osb_strmap class_ids = OSB_STRMAP_INIT, plan_ids = OSB_STRMAP_INIT;
        json_t *services = json_object_get(catalog, "services");
        int r = 0;
        if (!json_is_array(services)) {
                r = bad(err, "services", "missing or not an array");
                goto fail;
        }
        size_t nplans = 0;
        for (size_t k = 0; k < json_array_size(services); k++)
                nplans += json_array_size(json_object_get(json_array_get(services, k), "plans"));
        if (json_array_size(services) > OFFERING_MAX_PLANS || nplans > OFFERING_MAX_PLANS) {
                r = osb_error_set(err, OSB_E_BAD_REQUEST, "services: %zu services with %zu plans, more than the %u "
                                  "plans a catalog may have", json_array_size(services), nplans,
                                  (unsigned) OFFERING_MAX_PLANS);
                goto fail;
        }
        size_t i;
        json_t *s;
        json_array_foreach(services, i, s) {
                char path[64];
                (void) snprintf(path, sizeof(path), "services[%zu]", i);
                if (!json_is_object(s)) {
                        r = bad(err, path, "must be an object");
                        goto fail;
                }
                bool b;
                json_t *plans = NULL;
                if ((r = need_string(s, path, "id", err)) < 0 || (r = need_string(s, path, "name", err)) < 0 ||
                    (r = need_string(s, path, "description", err)) < 0 ||
                    (r = osb_json_get_bool(s, path, "bindable", true, &b, err)) < 0 ||
                    (r = osb_json_get_array(s, path, "plans", true, &plans, err)) < 0)
                        goto fail;
                if (json_array_size(plans) == 0) {
                        r = bad(err, path, "must have at least one plan");
                        goto fail;
                }
                const char *id = json_string_value(json_object_get(s, "id"));
                const char *sname = json_string_value(json_object_get(s, "name"));
                if ((r = id_first_use(&class_ids, id, path, err)) < 0)
                        goto fail;
                osb_autofree char *name = escaped_or_existing(ow, false, id);
                if (!name) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        goto fail;
                }
                struct props pr = {fl, name, sname, id, NULL, NULL};
                if (!offering_restrictions_match(class_rs, prop_get, &pr))
                        continue;
                size_t nplans_before = ds.nplans, accepted = 0;
                r = convert_plans(s, path, name, ow, plan_rs, &ds, &accepted, &plan_ids, err);
                if (r < 0)
                        goto fail;
                if (!accepted)
                        continue;
                json_t *o = skeleton(ow, false, name);
                if (!o) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        goto fail;
                }
                json_t *spec = json_object_get(o, "spec"), *labels = json_object_get(json_object_get(o, "metadata"), "labels");
                if (json_object_set_new(spec, "externalName", json_string(sname)) < 0 ||
                    json_object_set_new(spec, "externalID", json_string(id)) < 0 ||
                    copy_field(spec, "description", s, "description") < 0 || copy_field(spec, "bindable", s, "bindable") < 0 ||
                    set_bool(spec, "planUpdatable", s, "plan_updateable", false) < 0 ||
                    set_bool(spec, "bindingRetrievable", s, "bindings_retrievable", false) < 0 ||
                    set_bool(spec, "instancesRetrievable", s, "instances_retrievable", false) < 0 ||
                    set_bool(spec, "allowContextUpdates", s, "allow_context_updates", false) < 0 ||
                    copy_field(spec, "externalMetadata", s, "metadata") < 0 || copy_field(spec, "tags", s, "tags") < 0 ||
                    copy_field(spec, "requires", s, "requires") < 0 ||
                    json_object_set_new(spec, fl->broker_field, json_string(ow->name)) < 0 ||
                    set_label(labels, NAMES_LABEL_EXTERNAL_ID, id) < 0 || set_label(labels, NAMES_LABEL_EXTERNAL_NAME, sname) < 0 ||
                    set_label(labels, fl->broker_label, ow->name) < 0) {
                        json_decref(o);
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        goto fail;
                }
                (void) nplans_before;
                if (push(&ds.classes, &ds.nclasses, o, false) < 0) {
                        r = osb_error_set(err, -ENOMEM, "out of memory");
                        goto fail;
                }
        }
        ids_release(&class_ids);
        ids_release(&plan_ids);
        *ret = ds;
        return 0;
fail:
        ids_release(&class_ids);
        ids_release(&plan_ids);
        offering_desired_set_release(&ds);
        return r;
}

int offering_overlay(json_t *live, const json_t *desired, bool is_plan)
{
        json_t *spec = json_object_get(live, "spec");
        if (!json_is_object(spec)) {
                spec = json_object();
                if (!spec || json_object_set_new(live, "spec", spec) < 0)
                        return -ENOMEM;
        }
        const json_t *dspec = json_object_get(desired, "spec");
        for (const char *const *k = is_plan ? plan_owned : class_owned; *k; k++) {
                json_t *v = json_object_get(dspec, *k);
                if (v) {
                        if (json_object_set(spec, *k, v) < 0)
                                return -ENOMEM;
                } else {
                        (void) json_object_del(spec, *k);
                }
        }
        json_t *md = json_object_get(live, "metadata");
        const json_t *dmd = json_object_get(desired, "metadata");
        json_t *labels = json_object_get(md, "labels");
        if (!json_is_object(labels)) {
                labels = json_object();
                if (!labels || json_object_set_new(md, "labels", labels) < 0)
                        return -ENOMEM;
        }
        if (json_object_update(labels, json_object_get(dmd, "labels")) < 0)
                return -ENOMEM;
        json_t *dref = json_array_get(json_object_get(dmd, "ownerReferences"), 0);
        if (dref) {
                json_t *refs = json_object_get(md, "ownerReferences");
                if (!json_is_array(refs)) {
                        refs = json_array();
                        if (!refs || json_object_set_new(md, "ownerReferences", refs) < 0)
                                return -ENOMEM;
                }
                /* drop any other controller reference to a broker, and an old one to this broker */
                for (size_t i = json_array_size(refs); i-- > 0;) {
                        json_t *r = json_array_get(refs, i);
                        if ((json_is_true(json_object_get(r, "controller")) && controller_ref(live) == r) ||
                            osb_streq(json_string_value(json_object_get(r, "uid")), json_string_value(json_object_get(dref, "uid"))))
                                (void) json_array_remove(refs, i);
                }
                if (json_array_append(refs, dref) < 0)
                        return -ENOMEM;
        }
        return 0;
}

const struct informer_kind offering_kind_cluster_classes = {"ClusterServiceClass", &kube_sc_cluster_classes,
                                                            offering_extract_class, offering_free, offering_relevant};
const struct informer_kind offering_kind_cluster_plans = {"ClusterServicePlan", &kube_sc_cluster_plans,
                                                          offering_extract_plan, offering_free, offering_relevant};
const struct informer_kind offering_kind_classes = {"ServiceClass", &kube_sc_classes, offering_extract_class,
                                                    offering_free, offering_relevant};
const struct informer_kind offering_kind_plans = {"ServicePlan", &kube_sc_plans, offering_extract_plan, offering_free,
                                                  offering_relevant};
