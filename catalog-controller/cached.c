/* catalog-controller/cached.c: instances, bindings and Secrets as the informers cache them. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"
#include "catalog-controller/names.h"
#include "catalog-controller/packed.h"
#include "catalog-controller/rotation.h"

void cached_free(struct informer_kmeta *m)
{
        struct cached *o = (struct cached *) m;
        informer_kmeta_release(&o->meta);
        osb_free(o->json);
        osb_free(o->instance_ref);
        osb_free(o->plan_ref);
        osb_free(o->instance_ns);
        osb_free(o->servicebinding);
        for (size_t i = 0; i < o->nsecret_refs; i++)
                osb_free(o->secret_refs[i]);
        osb_free(o->secret_refs);
        osb_free(o);
}

char *cached_ikey_instance(const char *ns, const char *name)
{
        return osb_asprintf("instance:%s/%s", ns ? ns : "", name);
}

char *cached_ikey_secret(const char *ns, const char *name)
{
        return osb_asprintf("secret:%s/%s", ns ? ns : "", name);
}

char *cached_ikey_plan(const char *ns, const char *name)
{
        return osb_asprintf("plan:%s/%s", ns ? ns : "", name);
}

/* Adds the index key @ikey (stolen; NULL: out of memory) to @m. Returns 0 or -ENOMEM. */
static int add_ikey(struct informer_kmeta *m, char *ikey)
{
        int r = ikey ? informer_kmeta_add_ikey(m, ikey) : -ENOMEM;
        osb_free(ikey);
        return r;
}

/* cached_text(@obj), packed (packed.h). Returns new, or NULL on OOM. */
static char *cached_packed_text(const json_t *obj)
{
        osb_autofree char *text = cached_text(obj);
        return text ? packed_pack(text, strlen(text)) : NULL;
}

int cached_extract(const json_t *obj, struct informer_kmeta **ret)
{
        struct informer_kmeta *m = NULL;
        int r = informer_kmeta_new(sizeof(struct cached), obj, &m);
        if (r < 0)
                return r;
        struct cached *o = (struct cached *) m;
        const json_t *md = json_object_get(obj, "metadata");
        const json_t *spec = json_object_get(obj, "spec");
        const json_t *status = json_object_get(obj, "status");
        o->ready = condition_is(status, "Ready", "True");
        const json_t *rc = condition_get(status, "Ready");
        o->unresolved = !o->ready && osb_starts_with(json_string_value(json_object_get(rc, "reason")), "References");
        o->abandon = osb_streq(json_string_value(json_object_get(json_object_get(md, "annotations"), NAMES_ANNOTATION_ABANDON)),
                               "true");
        const char *sb = json_string_value(json_object_get(json_object_get(md, "annotations"), NAMES_ANNOTATION_SERVICEBINDING));
        if (sb && !(o->servicebinding = osb_strdup(sb)))
                goto oom;
        o->force_rotate = json_object_get(json_object_get(md, "annotations"), ROTATION_ANNOTATION_FORCE) != NULL;
        const char *iref = json_string_value(json_object_get(json_object_get(spec, "instanceRef"), "name"));
        if (iref && !(o->instance_ref = osb_strdup(iref)))
                goto oom;
        const json_t *pref = json_object_get(spec, "clusterServicePlanRef");
        const char *plan = json_string_value(json_object_get(pref ? pref : json_object_get(spec, "servicePlanRef"), "name"));
        if (plan && !(o->plan_ref = osb_strdup(plan)))
                goto oom;
        const char *ins = json_string_value(json_object_get(json_object_get(spec, "instanceRef"), "namespace"));
        if (ins && *ins && !osb_streq(ins, json_string_value(json_object_get(md, "namespace"))) &&
            !(o->instance_ns = osb_strdup(ins)))
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
        if (!(o->json = cached_packed_text(obj)))
                goto oom;
        if (o->instance_ref && add_ikey(m, cached_ikey_instance(o->instance_ns ? o->instance_ns : m->ns, o->instance_ref)) < 0)
                goto oom;
        if (o->plan_ref && add_ikey(m, cached_ikey_plan(pref ? NULL : m->ns, o->plan_ref)) < 0)
                goto oom;
        for (i = 0; i < o->nsecret_refs; i++)
                if (add_ikey(m, cached_ikey_secret(m->ns, o->secret_refs[i])) < 0)
                        goto oom;
        if (o->unresolved && informer_kmeta_add_ikey(m, CACHED_IKEY_UNRESOLVED) < 0)
                goto oom;
        *ret = &o->meta;
        return 0;
oom:
        cached_free(&o->meta);
        return -ENOMEM;
}

bool cached_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        const struct cached *a = (const struct cached *) old, *b = (const struct cached *) new;
        return old->generation != new->generation || old->deleting != new->deleting || old->finalizer != new->finalizer ||
               old->nfinalizers != new->nfinalizers || !osb_streq(old->uid, new->uid) || a->ready != b->ready ||
               a->abandon != b->abandon || !osb_streq(a->servicebinding, b->servicebinding) ||
               a->force_rotate != b->force_rotate;
}

json_t *cached_json(const struct cached *o)
{
        size_t n;
        osb_autofree char *text = packed_unpack(o->json, &n);
        return text ? json_loadb(text, n, 0, NULL) : NULL;
}

json_t *cached_json_of(const struct informer_kmeta *m)
{
        return cached_json((const struct cached *) m);
}

char *cached_text(const json_t *obj)
{
        /* the whole object but managedFields, which nothing here reads */
        char *text = NULL;
        json_t *copy = json_copy((json_t *) obj);
        json_t *mdc = copy ? json_copy(json_object_get(copy, "metadata")) : NULL;
        if (mdc && json_object_set_new(copy, "metadata", mdc) == 0) {
                (void) json_object_del(mdc, "managedFields");
                text = json_dumps(copy, JSON_COMPACT);
        }
        if (copy)
                json_decref(copy);
        return text;
}

int cached_secret_extract(const json_t *obj, struct informer_kmeta **ret)
{
        return informer_kmeta_new(sizeof(struct informer_kmeta), obj, ret);
}

void cached_secret_free(struct informer_kmeta *m)
{
        informer_kmeta_release(m);
        osb_free(m);
}

const struct informer_kind cached_kind_instances = {"ServiceInstance", &kube_sc_instances, cached_extract, cached_free,
                                                    cached_relevant};
const struct informer_kind cached_kind_bindings = {"ServiceBinding", &kube_sc_bindings, cached_extract, cached_free,
                                                   cached_relevant};
const struct informer_kind cached_kind_secrets = {"Secret", &kube_secrets, cached_secret_extract, cached_secret_free,
                                                  NULL};
