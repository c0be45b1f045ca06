/* catalog-controller/binding_secret.c: a ServiceBinding's Secret: its name, whether it is ours,
 * built from the broker's credentials (credentials.c: one shape for every write), written
 * (created with our ownerReference, replaced when ours, refused when someone else's) and
 * deleted. The binding's bind and its rotation write it the same way. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/binding_secret.h"
#include "catalog-controller/credentials.h"
#include "catalog-controller/kapi.h"

#define OOM(err) osb_error_set(err, -ENOMEM, "out of memory")

const char *binding_secret_name(const struct pass *p)
{
        const char *s = osb_json_str(pass_spec(p), "secretName");
        return s && *s ? s : p->name;
}

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
bool binding_secret_owned(const struct pass *p, const json_t *secret)
{
        const char *uid = osb_json_str(json_object_get(p->obj, "metadata"), "uid");
        size_t i;
        json_t *ref;
        json_array_foreach(json_object_get(json_object_get(secret, "metadata"), "ownerReferences"), i, ref) {
                if (json_is_true(json_object_get(ref, "controller")) && osb_streq(osb_json_str(ref, "uid"), uid))
                        return true;
        }
        return false;
}

/* The instance keys a Secret may carry, named as SAP's operator names them: instance_guid (the
 * OSB instance id), instance_name, plan (the plan's external name), type and label (the class's
 * external name), tags (the class's tags). */
static json_t *instance_info(const struct pass *p, const json_t *instance)
{
        const char *cls = p->rv.cls && p->rv.cls->external_name ? p->rv.cls->external_name : "";
        json_t *tags = p->rv.cls && p->rv.cls->tags ? json_loads(p->rv.cls->tags, 0, NULL) : json_array();
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "instance_guid",
                         osb_json_str(json_object_get(instance, "spec"), "externalID") ? osb_json_str(json_object_get(instance, "spec"), "externalID") : "",
                         "instance_name", osb_json_str(json_object_get(instance, "metadata"), "name") ? osb_json_str(json_object_get(instance, "metadata"), "name") : "",
                         "plan", p->rv.plan && p->rv.plan->external_name ? p->rv.plan->external_name : "", "type", cls,
                         "label", cls, "tags", tags ? tags : json_array());
}

/* The Secret this binding wants, from the broker's @creds: every write of the Secret is built
 * here (credentials_secret_build), so a Secret rewritten later has the same shape. */
static int secret_build(struct pass *p, const json_t *instance, const json_t *creds, struct credentials_secret *ret,
                        struct osb_error *err)
{
        json_auto_t *info = instance_info(p, instance);
        if (!info)
                return OOM(err);
        /* servicebinding.io defaults: type is the class's first tag, else its name; provider the
         * class's providerDisplayName, else its broker */
        const json_t *tag0 = json_array_get(json_object_get(info, "tags"), 0);
        const char *type = json_string_value(tag0) ? json_string_value(tag0) : osb_json_str(info, "type");
        const char *provider = p->rv.cls && p->rv.cls->provider ? p->rv.cls->provider : p->rv.cls ? p->rv.cls->broker : NULL;
        struct credentials_shape shape;
        int r = credentials_shape_from_spec(pass_spec(p), info, type && *type ? type : NULL, provider, &shape, err);
        if (r < 0)
                return r;
        return credentials_secret_build(json_is_object(creds) ? creds : NULL, &shape, p->ns, read_secret_data, p, ret, err);
}

/* Sets each of @want's keys in @obj's @field (an object made when missing); true when one changed. */
static int merge_map(json_t *obj, const char *field, const json_t *want, bool *changed)
{
        if (!want)
                return 0;
        json_t *m = json_object_get(obj, field);
        if (!json_is_object(m)) {
                m = json_object();
                if (!m || json_object_set_new(obj, field, m) < 0)
                        return -ENOMEM;
        }
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *) want, k, v) {
                if (json_equal(json_object_get(m, k), v))
                        continue;
                if (json_object_set(m, k, v) < 0)
                        return -ENOMEM;
                *changed = true;
        }
        return 0;
}

/* Writes the credentials into the Secret: created with our ownerReference, replaced when ours,
 * refused when someone else's. Returns 0, or an error with @err for the status. */
int binding_secret_inject(struct pass *p, const json_t *instance, const json_t *creds, struct osb_error *err)
{
        osb_auto(credentials_secret_release) struct credentials_secret want = {0};
        int r = secret_build(p, instance, creds, &want, err);
        if (r < 0)
                return r;
        const char *name = binding_secret_name(p);
        json_auto_t *live = NULL;
        r = kapi_get(p->c->kube, &kube_secrets, p->ns, name, &live, err);
        if (r >= 0 && binding_secret_owned(p, live) && !osb_streq(osb_json_str(live, "type"), want.type)) {
                /* Kubernetes does not change a Secret's type: it is made anew */
                r = kapi_delete(p->c->kube, &kube_secrets, p->ns, name, err);
                if (r < 0 && r != OSB_E_NOT_FOUND)
                        return r;
                json_decref(live);
                live = NULL;
                r = OSB_E_NOT_FOUND;
        }
        if (r == OSB_E_NOT_FOUND) {
                const json_t *md = json_object_get(p->obj, "metadata");
                json_auto_t *sec = json_pack("{s:s,s:s,s:{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:s,s:O}",
                                             "apiVersion", "v1", "kind", "Secret", "metadata", "name", name, "namespace",
                                             p->ns, "ownerReferences", "apiVersion", "servicecatalog.k8s.io/v1beta1",
                                             "kind", "ServiceBinding", "name", p->name, "uid", osb_json_str(md, "uid") ? osb_json_str(md, "uid") : "",
                                             "controller", 1, "blockOwnerDeletion", 1, "type", want.type, "data", want.data);
                json_t *smd = json_object_get(sec, "metadata");
                if (!sec || (want.labels && json_object_set(smd, "labels", want.labels) < 0) ||
                    (want.annotations && json_object_set(smd, "annotations", want.annotations) < 0))
                        return OOM(err);
                *err = (struct osb_error) OSB_ERROR_INIT;
                r = kapi_create(p->c->kube, &kube_secrets, p->ns, sec, NULL, err);
                return r;
        }
        if (r < 0)
                return r;
        if (!binding_secret_owned(p, live))
                return osb_error_set(err, OSB_E_CONFLICT, "Secret %s/%s exists and is not owned by ServiceBinding %s/%s",
                                     p->ns, name, p->ns, p->name);
        bool changed = !json_equal(json_object_get(live, "data"), want.data);
        json_t *lmd = json_object_get(live, "metadata");
        if (merge_map(lmd, "labels", want.labels, &changed) < 0 ||
            merge_map(lmd, "annotations", want.annotations, &changed) < 0)
                return OOM(err);
        if (!changed)
                return 0;
        if (json_object_set(live, "data", want.data) < 0)
                return OOM(err);
        (void) json_object_del(live, "stringData");
        return kapi_update(p->c->kube, &kube_secrets, p->ns, live, NULL, err);
}

/* Deletes the Secret if it is ours. */
int binding_secret_eject(struct pass *p, struct osb_error *err)
{
        json_auto_t *live = NULL;
        int r = kapi_get(p->c->kube, &kube_secrets, p->ns, binding_secret_name(p), &live, err);
        if (r == OSB_E_NOT_FOUND)
                return 0;
        if (r < 0)
                return r;
        if (!binding_secret_owned(p, live))
                return 0;
        r = kapi_delete(p->c->kube, &kube_secrets, p->ns, binding_secret_name(p), err);
        return r == OSB_E_NOT_FOUND ? 0 : r;
}
