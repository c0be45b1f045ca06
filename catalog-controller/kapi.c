/* catalog-controller/kapi.c: counted wrappers over kube/client.h. */
#include "common/osb_compat.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/metrics.h"

int kapi_get(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
             json_t **ret, struct osb_error *err)
{
        int r = kube_get(c, res, ns, name, ret, err);
        metrics_kube_request("get", res->plural, r);
        return r;
}

int kapi_create(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        int r = kube_create(c, res, ns, obj, ret, err);
        metrics_kube_request("create", res->plural, r);
        return r;
}

int kapi_update(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        int r = kube_update(c, res, ns, obj, ret, err);
        metrics_kube_request("update", res->plural, r);
        return r;
}

int kapi_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err)
{
        int r = kube_update_status(c, res, ns, obj, ret, err);
        char label[128];
        (void) snprintf(label, sizeof(label), "%s/status", res->plural);
        metrics_kube_request("update", label, r);
        return r;
}

int kapi_delete(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
                struct osb_error *err)
{
        int r = kube_delete(c, res, ns, name, NULL, err);
        metrics_kube_request("delete", res->plural, r);
        return r;
}
