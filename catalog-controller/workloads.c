/* catalog-controller/workloads.c: the pod templates that use a binding's Secret, rolled after a
 * credential rotation when their owner opted in. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "catalog-controller/kapi.h"
#include "catalog-controller/workloads.h"

static const struct kube_resource deployments = {"apps", "v1", "deployments", true};
static const struct kube_resource statefulsets = {"apps", "v1", "statefulsets", true};
static const struct kube_resource daemonsets = {"apps", "v1", "daemonsets", true};

static const char *str_at(const json_t *o, const char *a, const char *b)
{
        const json_t *v = json_object_get(o, a);
        return json_string_value(b ? json_object_get(v, b) : v);
}

static bool containers_use(const json_t *containers, const char *secret)
{
        size_t i, j;
        const json_t *c, *e;
        json_array_foreach(containers, i, c) {
                json_array_foreach(json_object_get(c, "envFrom"), j, e) {
                        if (osb_streq(str_at(e, "secretRef", "name"), secret))
                                return true;
                }
                json_array_foreach(json_object_get(c, "env"), j, e) {
                        if (osb_streq(str_at(json_object_get(e, "valueFrom"), "secretKeyRef", "name"), secret))
                                return true;
                }
        }
        return false;
}

bool workloads_uses_secret(const json_t *workload, const char *secret)
{
        const json_t *pod = json_object_get(json_object_get(json_object_get(workload, "spec"), "template"), "spec");
        size_t i, j;
        const json_t *v, *s;
        json_array_foreach(json_object_get(pod, "volumes"), i, v) {
                if (osb_streq(str_at(v, "secret", "secretName"), secret))
                        return true;
                json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j, s) {
                        if (osb_streq(str_at(s, "secret", "name"), secret))
                                return true;
                }
        }
        return containers_use(json_object_get(pod, "containers"), secret) ||
               containers_use(json_object_get(pod, "initContainers"), secret);
}

bool workloads_opted_in(const json_t *obj)
{
        return osb_streq(str_at(json_object_get(obj, "metadata"), "annotations", WORKLOADS_ANNOTATION_OPT_IN), "true");
}

struct names {
        json_t *list;           /* [name, ...] of the workloads to patch */
        const char *secret, *stamp;
        bool all;
};

static int collect(json_t *item, void *userdata)
{
        struct names *n = userdata;
        const json_t *tmd = json_object_get(json_object_get(json_object_get(item, "spec"), "template"), "metadata");
        if ((!n->all && !workloads_opted_in(item)) || !workloads_uses_secret(item, n->secret) ||
            osb_streq(str_at(tmd, "annotations", WORKLOADS_ANNOTATION_STAMP), n->stamp))
                return 0;
        const char *name = str_at(json_object_get(item, "metadata"), "name", NULL);
        return name && json_array_append_new(n->list, json_string(name)) < 0 ? -ENOMEM : 0;
}

int workloads_restart(struct ctl *c, const char *ns, const char *secret, bool all, const char *stamp,
                      unsigned *patched, char *names, size_t names_len, struct osb_error *err)
{
        static const struct {
                const struct kube_resource *res;
                const char *kind;
        } kinds[] = {{&deployments, "Deployment"}, {&statefulsets, "StatefulSet"}, {&daemonsets, "DaemonSet"}};
        unsigned n = 0;
        size_t used = 0;
        if (names_len)
                *names = 0;
        for (size_t k = 0; k < OSB_ELEMENTSOF(kinds); k++) {
                json_auto_t *list = json_array();
                struct names ctx = {list, secret, stamp, all};
                if (!list)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                int r = kapi_list(c->kube, kinds[k].res, ns, collect, &ctx, err);
                if (r == OSB_E_NOT_FOUND) {    /* a kind this server does not serve */
                        *err = (struct osb_error) OSB_ERROR_INIT;
                        continue;
                }
                if (r < 0)
                        return r;
                size_t i;
                json_t *name;
                json_array_foreach(list, i, name) {
                        json_auto_t *patch = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata",
                                                       "annotations", WORKLOADS_ANNOTATION_STAMP, stamp);
                        if (!patch)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                        r = kapi_patch(c->kube, kinds[k].res, ns, json_string_value(name), NULL, patch, err);
                        if (r == OSB_E_NOT_FOUND) {     /* deleted meanwhile */
                                *err = (struct osb_error) OSB_ERROR_INIT;
                                continue;
                        }
                        if (r < 0)
                                return r;
                        n++;
                        int w = snprintf(names + used, names_len - used, "%s%s/%s", used ? ", " : "", kinds[k].kind,
                                         json_string_value(name));
                        if (w > 0 && (size_t) w < names_len - used)
                                used += (size_t) w;
                }
        }
        *patched = n;
        return 0;
}
