/* catalog-controller/request.c: what instances and bindings send to a broker. */
#include "common/osb_compat.h"

#include <uuid/uuid.h>

#include "common/osb_base64.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/params.h"
#include "catalog-controller/pass.h"
#include "catalog-controller/request.h"

int request_parameters(struct ctl *c, const char *ns, const json_t *spec, json_t **params, json_t **redacted,
                       char checksum[65], struct osb_error *err)
{
        const json_t *pf = json_object_get(spec, "parametersFrom");
        size_t n = json_array_size(pf), i;
        struct params_source *src = n ? osb_calloc(n, sizeof(*src)) : NULL;
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
                src[i] = (struct params_source){.secret_name = name, .key = key, .value = values[i], .len = src[i].len};
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

int request_call(struct pass *p, char **identity, struct osb_error *err)
{
        bool oom;
        *identity = request_identity(pass_spec(p), &oom);
        if (oom)
                return osb_error_set(err, -ENOMEM, "out of memory");
        return pass_client(p, err);
}

char *request_identity(const json_t *spec, bool *oom)
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

json_t *request_context(struct ctl *c, const char *ns, const char *ns_uid, const char *instance_name)
{
        return json_pack("{s:s,s:s,s:s,s:s,s:s}", "platform", "kubernetes", "namespace", ns, "namespace_uid",
                         ns_uid ? ns_uid : "", "clusterid", c->opts.cluster_id ? c->opts.cluster_id : "",
                         "instance_name", instance_name);
}

int request_default_external_id(json_t *spec)
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

int request_bind(struct pass *p, const json_t *instance, json_t **body, json_t **props, char **identity,
                 const char **reason, struct osb_error *err)
{
        const json_t *spec = json_object_get(p->obj, "spec");
        json_t *params = NULL, *redacted = NULL;
        char sum[65];
        osb_autofree char *ns_uid = NULL;
        *reason = "ErrorWithParameters";
        int r = request_parameters(p->c, p->ns, spec, &params, &redacted, sum, err);
        if (r < 0)
                return r;
        json_auto_t *pa = params, *re = redacted;
        /* nothing is sent when they break the plan's schema: the broker would refuse them, after a
         * round trip (-EDOM: *reason stays ErrorWithParameters) */
        r = params_check(p->rv.plan->schema_bind, pa, err);
        if (r < 0)
                return r == -ENOMEM ? r : -EDOM;
        *reason = "BindCallFailed";
        r = ctl_namespace_uid(p->c, p->ns, &ns_uid, err);
        if (r >= 0)
                r = pass_client(p, err);
        if (r < 0)
                return r;
        bool oom;
        osb_autofree char *id = request_identity(spec, &oom);
        const char *iname = json_string_value(json_object_get(json_object_get(instance, "metadata"), "name"));
        json_auto_t *b = json_pack("{s:s,s:s,s:s,s:{s:s},s:o*}", "service_id", p->rv.cls->external_id ? p->rv.cls->external_id : "",
                                   "plan_id", p->rv.plan->external_id ? p->rv.plan->external_id : "", "app_guid", ns_uid,
                                   "bind_resource", "app_guid", ns_uid, "context",
                                   request_context(p->c, p->ns, ns_uid, iname ? iname : ""));
        json_auto_t *pr = json_object();
        const json_t *ui = json_object_get(spec, "userInfo");
        if (oom || !b || !pr || (pa && json_object_set(b, "parameters", pa) < 0) ||
            (re && json_object_set(pr, "parameters", re) < 0) ||
            (*sum && json_object_set_new(pr, "parameterChecksum", json_string(sum)) < 0) ||
            (ui && json_object_set(pr, "userInfo", (json_t *) ui) < 0))
                return osb_error_set(err, -ENOMEM, "out of memory");
        *body = OSB_TAKE_PTR(b);
        *props = OSB_TAKE_PTR(pr);
        *identity = OSB_TAKE_PTR(id);
        return 0;
}
