/* catalog-controller/kapi.h: the controller's Kubernetes API calls: kube/ client calls that are
 * counted in metrics_kube_request() by verb and resource, so /metrics shows every request the
 * controller makes (and the e2e tests can check that an idle controller writes nothing). Same
 * contracts as kube_get() and friends in kube/client.h. */
#pragma once

#include <jansson.h>

#include "common/osb_error.h"
#include "kube/client.h"
#include "kube/watch.h"

/* A client-side limit on the request rate (a token bucket shared by every thread): at most @qps
 * requests a second on average, @burst at once. @qps 0 (the default): no limit. Call before
 * the first request. */
void kapi_set_rate_limit(double qps, unsigned burst);

int kapi_get(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
             json_t **ret, struct osb_error *err);
int kapi_create(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err);
int kapi_update(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err);
int kapi_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err);
int kapi_delete(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
                struct osb_error *err);
/* Every item of @res in @ns, page by page, to @fn (as kube_list()). */
int kapi_list(struct kube_client *c, const struct kube_resource *res, const char *ns, kube_list_fn fn, void *userdata,
              struct osb_error *err);
/* A merge patch of @name (or of its @subresource; NULL: the object). */
int kapi_patch(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
               const char *subresource, const json_t *patch, struct osb_error *err);
