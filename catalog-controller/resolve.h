/* catalog-controller/resolve.h: an instance's class, plan and broker, looked up in the
 * informer caches (the ClusterService* kinds, or the namespaced Service* kinds when the spec
 * uses the serviceClass* fields). A struct resolve_result holds references into the caches
 * until resolve_release(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "common/osb_error.h"
#include "catalog-controller/ctl.h"
#include "catalog-controller/offering.h"
#include "catalog-controller/broker.h"

struct resolve_result {
        const struct offering_flavour *fl;
        struct offering *cls, *plan;    /* references (informer_put by resolve_release) */
        struct broker *broker;
        char *user_class, *user_plan;   /* status.userSpecifiedClassName/PlanName */
        struct ctl *c;
};
void resolve_release(struct resolve_result *rv);

/* Resolves @spec's class and plan (external name, external id or k8s name; the plan may be
 * omitted when the class has one) among the cached ones of namespace @ns, and the broker. On
 * failure returns OSB_E_NOT_FOUND with *reason (static) one of the Ready reasons
 * ReferencesNonexistentServiceClass, ...ServicePlan or ...Broker, and @err the message;
 * -ENOMEM. With @by_ref, uses spec.clusterServiceClassRef and the like (what was resolved
 * before) instead of the user's fields. *ret is filled as far as resolution got (class and plan
 * without a broker, say): resolve_release() it in every case. */
int resolve_spec(struct ctl *c, const json_t *spec, const char *ns, bool by_ref, struct resolve_result *ret,
                 const char **reason, struct osb_error *err);
