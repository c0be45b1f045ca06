/* catalog-controller/broker.c: ClusterServiceBrokers and ServiceBrokers as the informers cache them. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "common/osb_time.h"
#include "catalog-controller/broker.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/condition.h"

static int sdup(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        return (*ret = osb_strdup(s)) ? 0 : -ENOMEM;
}

void broker_free(struct informer_kmeta *m)
{
        struct broker *b = (struct broker *) m;
        informer_kmeta_release(&b->meta);
        osb_free(b->json);
        osb_free(b->url);
        osb_free(b->ca_bundle);
        for (size_t i = 0; i < b->nclass_restrictions; i++)
                osb_free(b->class_restrictions[i]);
        for (size_t i = 0; i < b->nplan_restrictions; i++)
                osb_free(b->plan_restrictions[i]);
        osb_free(b->class_restrictions);
        osb_free(b->plan_restrictions);
        osb_free(b->basic_ns);
        osb_free(b->basic_name);
        osb_free(b->bearer_ns);
        osb_free(b->bearer_name);
        if (b->status)
                json_decref(b->status);
        osb_free(b);
}

static int dup_strings(const json_t *arr, char ***ret, size_t *n)
{
        size_t cnt = json_array_size(arr), i;
        json_t *v;
        *ret = NULL;
        *n = 0;
        if (!cnt)
                return 0;
        if (!(*ret = osb_calloc(cnt, sizeof(char *))))
                return -ENOMEM;
        json_array_foreach(arr, i, v) {
                if (!json_is_string(v))
                        continue;
                if (!((*ret)[*n] = osb_strdup(json_string_value(v))))
                        return -ENOMEM;
                (*n)++;
        }
        return 0;
}

int broker_extract(const json_t *obj, struct informer_kmeta **ret)
{
        struct informer_kmeta *m = NULL;
        int r = informer_kmeta_new(sizeof(struct broker), obj, &m);
        if (r < 0)
                return r;
        struct broker *b = (struct broker *) m;
        const json_t *spec = json_object_get(obj, "spec");
        b->insecure_skip_tls_verify = json_is_true(json_object_get(spec, "insecureSkipTLSVerify"));
        b->manual_relist = osb_streq(json_string_value(json_object_get(spec, "relistBehavior")), "Manual");
        b->relist_requests = json_integer_value(json_object_get(spec, "relistRequests"));
        const char *rd = json_string_value(json_object_get(spec, "relistDuration"));
        if (rd && osb_parse_go_duration_ms(rd, &b->relist_ms) < 0)
                b->relist_duration_invalid = true;
        const json_t *cr = json_object_get(spec, "catalogRestrictions");
        const json_t *auth = json_object_get(spec, "authInfo");
        const json_t *basic = json_object_get(json_object_get(auth, "basic"), "secretRef");
        const json_t *bearer = json_object_get(json_object_get(auth, "bearer"), "secretRef");
        r = 0;
        if (sdup(json_string_value(json_object_get(spec, "url")), &b->url) < 0 ||
            sdup(json_string_value(json_object_get(spec, "caBundle")), &b->ca_bundle) < 0 ||
            dup_strings(json_object_get(cr, "serviceClass"), &b->class_restrictions, &b->nclass_restrictions) < 0 ||
            dup_strings(json_object_get(cr, "servicePlan"), &b->plan_restrictions, &b->nplan_restrictions) < 0 ||
            sdup(json_string_value(json_object_get(basic, "namespace")), &b->basic_ns) < 0 ||
            sdup(json_string_value(json_object_get(basic, "name")), &b->basic_name) < 0 ||
            sdup(json_string_value(json_object_get(bearer, "namespace")), &b->bearer_ns) < 0 ||
            sdup(json_string_value(json_object_get(bearer, "name")), &b->bearer_name) < 0 ||
            !(b->json = cached_text(obj)) ||
            !(b->status = json_is_object(json_object_get(obj, "status")) ?
                          json_deep_copy(json_object_get(obj, "status")) : json_object())) {
                broker_free(&b->meta);
                return -ENOMEM;
        }
        *ret = &b->meta;
        return 0;
}

json_t *broker_json(const struct informer_kmeta *m)
{
        return json_loads(((const struct broker *) m)->json, 0, NULL);
}

bool broker_relevant(const struct informer_kmeta *old, const struct informer_kmeta *new)
{
        return old->generation != new->generation || old->deleting != new->deleting ||
               old->finalizer != new->finalizer || old->nfinalizers != new->nfinalizers || !osb_streq(old->uid, new->uid);
}

bool broker_needs_relist(const struct broker *b, int64_t default_relist_ms, time_t now, int64_t *wait_ms)
{
        *wait_ms = -1;
        if (b->meta.generation != json_integer_value(json_object_get(b->status, "reconciledGeneration")))
                return true;
        /* a retry timeout stops fetching until the spec changes (--reconciliation-retry-duration) */
        if (condition_is(b->status, "Failed", "True"))
                return false;
        if (!condition_is(b->status, "Ready", "True"))
                return true;
        if (b->manual_relist)
                return false;
        time_t last;
        if (osb_time_parse_rfc3339(osb_json_str(b->status, "lastCatalogRetrievalTime"), &last) < 0)
                return true;
        int64_t interval = b->relist_ms > 0 ? b->relist_ms : default_relist_ms;
        int64_t due_ms = (int64_t) (last - now) * 1000 + interval;
        if (due_ms <= 0)
                return true;
        *wait_ms = due_ms;
        return false;
}

const struct informer_kind broker_kind_cluster = {"ClusterServiceBroker", &kube_sc_cluster_brokers, broker_extract,
                                                  broker_free, broker_relevant};
const struct informer_kind broker_kind_namespaced = {"ServiceBroker", &kube_sc_brokers, broker_extract, broker_free,
                                                     broker_relevant};
