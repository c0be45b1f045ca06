/* test/apiserver/kinds.c: defaults and validation of the workload, RBAC and admission webhook
 * kinds, after k8s.io/kubernetes/pkg/apis/{core,apps,policy,rbac,admissionregistration}/validation
 * and their defaulters. Values in
 * messages are printed as JSON where Go would print its own %#v. */
#include "common/osb_compat.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "test/apiserver/kinds.h"
#include "test/apiserver/schema.h"
#include "test/apiserver/util.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* Sets @obj[@key] to @v (stolen) when absent. Returns 0 or -ENOMEM. */
static int set_default(json_t *obj, const char *key, json_t *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_get(obj, key)) {
                json_decref(v);
                return 0;
        }
        return json_object_set_new(obj, key, v);
}

/* Compact JSON of @v for a message, cut at @n - 1 bytes. */
static const char *show(const json_t *v, char *buf, size_t n)
{
        size_t len;
        char *s = v ? osb_json_dump_flags(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS, &len) : NULL;
        (void) snprintf(buf, n, "%s", s ? s : "null");
        osb_free(s);
        return buf;
}

/* ---- pods and pod templates ---- */

static int default_container(json_t *c)
{
        /* Always for ":latest" or no tag, unless pinned by digest. */
        const char *image = json_string_value(json_object_get(c, "image"));
        const char *slash = image ? strrchr(image, '/') : NULL;
        const char *last = slash ? slash + 1 : image ? image : "";
        const char *tag = strchr(last, ':');
        bool always = !strchr(last, '@') && (!tag || !strcmp(tag, ":latest"));
        int r = set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
        r = r ?: set_default(c, "terminationMessagePolicy", json_string("File"));
        r = r ?: set_default(c, "imagePullPolicy", json_string(always ? "Always" : "IfNotPresent"));
        r = r ?: set_default(c, "resources", json_object());
        size_t i;
        json_t *port;
        json_array_foreach(json_object_get(c, "ports"), i, port)
                if (json_is_object(port))
                        r = r ?: set_default(port, "protocol", json_string("TCP"));
        return r;
}

/* Defaults and validates the PodSpec at @spec (@field: its path in messages). */
static int pod_spec(json_t *spec, const char *field, json_t *causes)
{
        char f[256];
        if (!json_is_object(spec)) {
                (void) snprintf(f, sizeof(f), "%s.containers", field);
                return schema_add_cause(causes, "FieldValueRequired", f, "Required value");
        }
        int r = set_default(spec, "restartPolicy", json_string("Always"));
        r = r ?: set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
        r = r ?: set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
        r = r ?: set_default(spec, "securityContext", json_object());
        r = r ?: set_default(spec, "schedulerName", json_string("default-scheduler"));
        if (r < 0)
                return r;
        json_t *containers = json_object_get(spec, "containers");
        if (!json_array_size(containers)) {
                (void) snprintf(f, sizeof(f), "%s.containers", field);
                return schema_add_cause(causes, "FieldValueRequired", f, "Required value");
        }
        size_t i;
        json_t *c;
        json_array_foreach(containers, i, c) {
                const char *name = json_string_value(json_object_get(c, "name"));
                const char *image = json_string_value(json_object_get(c, "image"));
                if (!name || !*name) {
                        (void) snprintf(f, sizeof(f), "%s.containers[%zu].name", field, i);
                        if (schema_add_cause(causes, "FieldValueRequired", f, "Required value") < 0)
                                return -ENOMEM;
                }
                if (!image || !*image) {
                        (void) snprintf(f, sizeof(f), "%s.containers[%zu].image", field, i);
                        if (schema_add_cause(causes, "FieldValueRequired", f, "Required value") < 0)
                                return -ENOMEM;
                }
                if (json_is_object(c) && default_container(c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* True if the LabelSelector @sel selects @labels (matchLabels and matchExpressions). */
static bool selector_selects(const json_t *sel, const json_t *labels)
{
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) json_object_get(sel, "matchLabels"), k, v)
                if (!json_equal(json_object_get(labels, k), v))
                        return false;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
                const char *key = json_string_value(json_object_get(e, "key"));
                const char *op = json_string_value(json_object_get(e, "operator"));
                json_t *have = key ? json_object_get(labels, key) : NULL;
                bool in = false;
                size_t j;
                json_t *val;
                json_array_foreach(json_object_get(e, "values"), j, val)
                        if (have && json_equal(have, val))
                                in = true;
                if ((osb_streq(op, "In") && !in) || (osb_streq(op, "NotIn") && in) ||
                    (osb_streq(op, "Exists") && !have) || (osb_streq(op, "DoesNotExist") && have))
                        return false;
        }
        return true;
}

static int prep_pod(json_t *obj, const json_t *old, json_t *causes)
{
        if (!old && json_object_set_new(obj, "status", json_pack("{s:s, s:s}", "phase", "Pending", "qosClass", "BestEffort")) < 0)
                return -ENOMEM;
        return pod_spec(json_object_get(obj, "spec"), "spec", causes);
}

/* The checks of spec.selector and spec.template's labels that Deployments, StatefulSets and
 * DaemonSets share (@what: "deployment", ... in the message): required, not empty, selecting the
 * template's labels, and immutable (apps/v1). Returns 0 or -ENOMEM. */
static int template_selector(const json_t *spec, const json_t *old, const char *what, json_t *causes)
{
        char v[512], msg[700];
        json_t *sel = json_object_get(spec, "selector");
        json_t *tmpl = json_object_get(spec, "template");
        json_t *labels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
        if (!json_is_object(sel)) {
                if (schema_add_cause(causes, "FieldValueRequired", "spec.selector", "Required value") < 0)
                        return -ENOMEM;
        } else if (!json_object_size(json_object_get(sel, "matchLabels")) &&
                   !json_array_size(json_object_get(sel, "matchExpressions"))) {
                if (schema_add_cause(causes, "FieldValueInvalid", "spec.selector", "Invalid value: %s: empty selector is "
                                     "invalid for %s", show(sel, v, sizeof(v)), what) < 0)
                        return -ENOMEM;
        } else if (!selector_selects(sel, labels)) {
                (void) snprintf(msg, sizeof(msg), "Invalid value: %s: `selector` does not match template `labels`",
                                show(labels, v, sizeof(v)));
                if (schema_add_cause(causes, "FieldValueInvalid", "spec.template.metadata.labels", "%s", msg) < 0)
                        return -ENOMEM;
        }
        json_t *old_sel = old ? json_object_get(json_object_get(old, "spec"), "selector") : NULL;
        if (old_sel && !json_equal(old_sel, sel) &&
            schema_add_cause(causes, "FieldValueInvalid", "spec.selector", "Invalid value: %s: field is immutable",
                             show(sel, v, sizeof(v))) < 0)
                return -ENOMEM;
        return 0;
}

/* StatefulSets and DaemonSets: their pods always restart, and have no deadline. */
static int template_restarts(const json_t *spec, const char *kind, json_t *causes)
{
        char v[512];
        json_t *pod = json_object_get(json_object_get(spec, "template"), "spec");
        json_t *policy = json_object_get(pod, "restartPolicy");
        if (policy && !osb_streq(json_string_value(policy), "Always") &&
            schema_add_cause(causes, "FieldValueNotSupported", "spec.template.spec.restartPolicy", "Unsupported value: %s: "
                             "supported values: \"Always\"", show(policy, v, sizeof(v))) < 0)
                return -ENOMEM;
        if (json_object_get(pod, "activeDeadlineSeconds") &&
            schema_add_cause(causes, "FieldValueForbidden", "spec.template.spec.activeDeadlineSeconds", "Forbidden: "
                             "activeDeadlineSeconds in %s is not Supported", kind) < 0)
                return -ENOMEM;
        return 0;
}

/* A workload without a spec: what kube-apiserver says is missing. Returns 0 or -ENOMEM. */
static int spec_missing(json_t *causes)
{
        return schema_add_cause(causes, "FieldValueRequired", "spec.selector", "Required value") < 0 ||
                       schema_add_cause(causes, "FieldValueRequired", "spec.template.spec.containers", "Required value") < 0
                       ? -ENOMEM
                       : 0;
}

static int prep_deployment(json_t *obj, const json_t *old, json_t *causes)
{
        char v[512];
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec))
                return spec_missing(causes);
        if (!old && json_object_set_new(obj, "status", json_object()) < 0)
                return -ENOMEM;
        json_t *strategy = json_object_get(spec, "strategy");
        int r = set_default(spec, "replicas", json_integer(1));
        r = r ?: set_default(spec, "revisionHistoryLimit", json_integer(10));
        r = r ?: set_default(spec, "progressDeadlineSeconds", json_integer(600));
        if (r == 0 && !strategy)
                r = json_object_set_new(spec, "strategy", json_pack("{s:s, s:{s:s, s:s}}", "type", "RollingUpdate",
                                                                    "rollingUpdate", "maxUnavailable", "25%", "maxSurge", "25%"));
        if (r < 0)
                return -ENOMEM;
        json_t *replicas = json_object_get(spec, "replicas");
        if (!json_is_integer(replicas) || json_integer_value(replicas) < 0) {
                if (schema_add_cause(causes, "FieldValueInvalid", "spec.replicas", "Invalid value: %s: must be greater than or "
                                     "equal to 0", show(replicas, v, sizeof(v))) < 0)
                        return -ENOMEM;
        }
        if (template_selector(spec, old, "deployment", causes) < 0)
                return -ENOMEM;
        json_t *tmpl = json_object_get(spec, "template");
        return pod_spec(json_object_get(tmpl, "spec"), "spec.template.spec", causes);
}

/* A spec's fields other than @keep (NULL-terminated) as a new object, NULL on OOM. */
static json_t *spec_without(const json_t *spec, const char *const *keep)
{
        json_t *c = json_deep_copy(spec ? spec : json_object());
        for (; c && *keep; keep++)
                (void) json_object_del(c, *keep);
        return c;
}

static int prep_statefulset(json_t *obj, const json_t *old, json_t *causes)
{
        char v[512];
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec))
                return spec_missing(causes);
        if (!old && json_object_set_new(obj, "status", json_pack("{s:i, s:i}", "replicas", 0, "availableReplicas", 0)) < 0)
                return -ENOMEM;
        /* spec.serviceName is not checked: kube-apiserver's validation never required it. */
        int r = set_default(spec, "replicas", json_integer(1));
        r = r ?: set_default(spec, "podManagementPolicy", json_string("OrderedReady"));
        r = r ?: set_default(spec, "updateStrategy", json_pack("{s:s, s:{s:i}}", "type", "RollingUpdate", "rollingUpdate",
                                                                "partition", 0));
        r = r ?: set_default(spec, "revisionHistoryLimit", json_integer(10));
        r = r ?: set_default(spec, "persistentVolumeClaimRetentionPolicy", json_pack("{s:s, s:s}", "whenDeleted", "Retain",
                                                                                      "whenScaled", "Retain"));
        if (r < 0)
                return -ENOMEM;
        json_t *replicas = json_object_get(spec, "replicas");
        if ((!json_is_integer(replicas) || json_integer_value(replicas) < 0) &&
            schema_add_cause(causes, "FieldValueInvalid", "spec.replicas", "Invalid value: %s: must be greater than or "
                             "equal to 0", show(replicas, v, sizeof(v))) < 0)
                return -ENOMEM;
        const char *pmp = json_string_value(json_object_get(spec, "podManagementPolicy"));
        if (!osb_streq(pmp, "OrderedReady") && !osb_streq(pmp, "Parallel") &&
            schema_add_cause(causes, "FieldValueInvalid", "spec.podManagementPolicy", "Invalid value: %s: must be "
                             "'OrderedReady' or 'Parallel'", show(json_object_get(spec, "podManagementPolicy"), v, sizeof(v))) < 0)
                return -ENOMEM;
        if (template_selector(spec, NULL, "statefulset", causes) < 0 || template_restarts(spec, "StatefulSet", causes) < 0)
                return -ENOMEM;
        if (old) {
                /* Only these may change; the selector among the rest. */
                static const char *const mutable[] = {"replicas", "ordinals", "template", "updateStrategy",
                                                      "persistentVolumeClaimRetentionPolicy", "minReadySeconds", NULL};
                osb_autojson json_t *a = spec_without(json_object_get(old, "spec"), mutable);
                osb_autojson json_t *b = spec_without(spec, mutable);
                if (!a || !b)
                        return -ENOMEM;
                if (!json_equal(a, b) &&
                    schema_add_cause(causes, "FieldValueForbidden", "spec", "Forbidden: updates to statefulset spec for fields "
                                     "other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                                     "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden") < 0)
                        return -ENOMEM;
        }
        /* The pod template's own checks, as kube-apiserver makes them since Kubernetes PR 131790
         * (2025; before, it checked only the template's labels). */
        return pod_spec(json_object_get(json_object_get(spec, "template"), "spec"), "spec.template.spec", causes);
}

static int prep_daemonset(json_t *obj, const json_t *old, json_t *causes)
{
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec))
                return spec_missing(causes);
        if (!old && json_object_set_new(obj, "status", json_pack("{s:i, s:i, s:i, s:i}", "currentNumberScheduled", 0,
                                                                 "numberMisscheduled", 0, "desiredNumberScheduled", 0,
                                                                 "numberReady", 0)) < 0)
                return -ENOMEM;
        int r = set_default(spec, "updateStrategy", json_pack("{s:s, s:{s:i, s:i}}", "type", "RollingUpdate", "rollingUpdate",
                                                               "maxUnavailable", 1, "maxSurge", 0));
        r = r ?: set_default(spec, "revisionHistoryLimit", json_integer(10));
        if (r < 0)
                return -ENOMEM;
        if (template_selector(spec, old, "daemonset", causes) < 0 || template_restarts(spec, "DaemonSet", causes) < 0)
                return -ENOMEM;
        return pod_spec(json_object_get(json_object_get(spec, "template"), "spec"), "spec.template.spec", causes);
}

/* ---- services, claims, disruption budgets ---- */

static atomic_uint next_cluster_ip = 10;

static int prep_service(json_t *obj, const json_t *old, json_t *causes)
{
        char f[128], v[64];
        json_t *spec = util_json_obj_ensure(obj, "spec");
        if (!spec)
                return -ENOMEM;
        const json_t *ospec = old ? json_object_get(old, "spec") : NULL;
        int r = set_default(spec, "type", json_string("ClusterIP"));
        r = r ?: set_default(spec, "sessionAffinity", json_string("None"));
        if (r < 0)
                return r;
        const char *type = json_string_value(json_object_get(spec, "type"));
        bool external_name = osb_streq(type, "ExternalName");
        /* The allocated address stays when an update leaves it out (as kube-apiserver does). */
        const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
        const char *oip = json_string_value(json_object_get(ospec, "clusterIP"));
        if (!external_name && !ip && oip)
                ip = oip;
        char buf[32];
        if (!external_name && (!ip || !*ip)) {
                unsigned n = atomic_fetch_add(&next_cluster_ip, 1);
                (void) snprintf(buf, sizeof(buf), "10.96.%u.%u", (n / 250) % 250, n % 250 + 1);
                ip = buf;
        }
        if (!external_name) {
                char ipc[32];
                (void) snprintf(ipc, sizeof(ipc), "%s", ip);
                if (json_object_set_new(spec, "clusterIP", json_string(ipc)) < 0 ||
                    json_object_set_new(spec, "clusterIPs", json_pack("[s]", ipc)) < 0)
                        return -ENOMEM;
                r = set_default(spec, "ipFamilies", json_pack("[s]", "IPv4"));
                r = r ?: set_default(spec, "ipFamilyPolicy", json_string("SingleStack"));
                r = r ?: set_default(spec, "internalTrafficPolicy", json_string("Cluster"));
                if (r < 0)
                        return r;
        }
        if (oip && !external_name && strcmp(oip, json_string_value(json_object_get(spec, "clusterIP"))) != 0 &&
            schema_add_cause(causes, "FieldValueInvalid", "spec.clusterIPs[0]", "Invalid value: [\"%s\"]: may not change "
                             "once set", json_string_value(json_object_get(spec, "clusterIP"))) < 0)
                return -ENOMEM;
        if (!old && json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer")) < 0)
                return -ENOMEM;
        json_t *ports = json_object_get(spec, "ports");
        bool headless = osb_streq(json_string_value(json_object_get(spec, "clusterIP")), "None");
        if (!json_array_size(ports) && !external_name && !headless)
                return schema_add_cause(causes, "FieldValueRequired", "spec.ports", "Required value");
        size_t i;
        json_t *p;
        json_array_foreach(ports, i, p) {
                json_t *port = json_object_get(p, "port");
                if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
                        (void) snprintf(f, sizeof(f), "spec.ports[%zu].port", i);
                        if (schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: must be between 1 and "
                                             "65535, inclusive", show(port, v, sizeof(v))) < 0)
                                return -ENOMEM;
                }
                const char *name = json_string_value(json_object_get(p, "name"));
                if (json_array_size(ports) > 1 && (!name || !*name)) {
                        (void) snprintf(f, sizeof(f), "spec.ports[%zu].name", i);
                        if (schema_add_cause(causes, "FieldValueRequired", f, "Required value") < 0)
                                return -ENOMEM;
                }
                if (json_is_object(p) && (set_default(p, "protocol", json_string("TCP")) < 0 ||
                                          (port && set_default(p, "targetPort", json_incref(port)) < 0)))
                        return -ENOMEM;
        }
        return 0;
}

static int prep_pvc(json_t *obj, const json_t *old, json_t *causes)
{
        json_t *spec = util_json_obj_ensure(obj, "spec");
        if (!spec || set_default(spec, "volumeMode", json_string("Filesystem")) < 0)
                return -ENOMEM;
        if (!old && json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending")) < 0)
                return -ENOMEM;
        if (!json_array_size(json_object_get(spec, "accessModes")) &&
            schema_add_cause(causes, "FieldValueRequired", "spec.accessModes", "Required value: at least 1 access mode is required") < 0)
                return -ENOMEM;
        if (!json_object_get(json_object_get(json_object_get(spec, "resources"), "requests"), "storage") &&
            schema_add_cause(causes, "FieldValueRequired", "spec.resources[storage]", "Required value") < 0)
                return -ENOMEM;
        if (old) {
                /* Only the requested size may change (volume expansion). */
                osb_autojson json_t *a = json_deep_copy(json_object_get(old, "spec"));
                osb_autojson json_t *b = json_deep_copy(spec);
                if (!a || !b)
                        return -ENOMEM;
                (void) json_object_del(a, "resources");
                (void) json_object_del(b, "resources");
                if (!json_equal(a, b) &&
                    schema_add_cause(causes, "FieldValueForbidden", "spec", "Forbidden: spec is immutable after creation except "
                                     "resources.requests and volumeAttributesClassName for bound claims") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int prep_pdb(json_t *obj, const json_t *old, json_t *causes)
{
        json_t *spec = json_object_get(obj, "spec");
        if (!old && json_object_set_new(obj, "status", json_pack("{s:i, s:i, s:i, s:i}", "disruptionsAllowed", 0,
                                                                 "currentHealthy", 0, "desiredHealthy", 0, "expectedPods", 0)) < 0)
                return -ENOMEM;
        if (json_object_get(spec, "minAvailable") && json_object_get(spec, "maxUnavailable")) {
                char v[512];
                return schema_add_cause(causes, "FieldValueInvalid", "spec", "Invalid value: %s: minAvailable and "
                                        "maxUnavailable cannot be both set", show(spec, v, sizeof(v)));
        }
        return 0;
}

/* ---- RBAC ---- */

static int prep_role(json_t *obj, bool namespaced, json_t *causes)
{
        char f[128], v[512];
        size_t i;
        json_t *rule;
        json_array_foreach(json_object_get(obj, "rules"), i, rule) {
                json_t *urls = json_object_get(rule, "nonResourceURLs");
                bool has_res = json_array_size(json_object_get(rule, "apiGroups")) || json_array_size(json_object_get(rule, "resources")) ||
                               json_array_size(json_object_get(rule, "resourceNames"));
                int r = 0;
                if (!json_array_size(json_object_get(rule, "verbs"))) {
                        (void) snprintf(f, sizeof(f), "rules[%zu].verbs", i);
                        r = schema_add_cause(causes, "FieldValueRequired", f, "Required value: verbs must contain at least one value");
                }
                if (json_array_size(urls)) {
                        (void) snprintf(f, sizeof(f), "rules[%zu].nonResourceURLs", i);
                        if (namespaced)
                                r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: namespaced rules "
                                                          "cannot apply to non-resource URLs", show(urls, v, sizeof(v)));
                        if (has_res)
                                r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: rules cannot apply "
                                                          "to both regular resources and non-resource URLs", show(urls, v, sizeof(v)));
                } else {
                        if (!json_array_size(json_object_get(rule, "apiGroups"))) {
                                (void) snprintf(f, sizeof(f), "rules[%zu].apiGroups", i);
                                r = r ?: schema_add_cause(causes, "FieldValueRequired", f,
                                                          "Required value: resource rules must supply at least one api group");
                        }
                        if (!json_array_size(json_object_get(rule, "resources"))) {
                                (void) snprintf(f, sizeof(f), "rules[%zu].resources", i);
                                r = r ?: schema_add_cause(causes, "FieldValueRequired", f,
                                                          "Required value: resource rules must supply at least one resource");
                        }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int prep_binding(json_t *obj, const json_t *old, bool namespaced, json_t *causes)
{
        char f[128], v[512];
        json_t *ref = json_object_get(obj, "roleRef");
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *group = json_string_value(json_object_get(ref, "apiGroup"));
        int r = 0;
        if (!osb_streq(group, RBAC_GROUP))
                r = schema_add_cause(causes, "FieldValueNotSupported", "roleRef.apiGroup", "Unsupported value: \"%s\": "
                                     "supported values: \"" RBAC_GROUP "\"", group ? group : "");
        if (!kind || !*kind)
                r = r ?: schema_add_cause(causes, "FieldValueRequired", "roleRef.kind", "Required value");
        else if (namespaced ? strcmp(kind, "Role") && strcmp(kind, "ClusterRole") : strcmp(kind, "ClusterRole") != 0)
                r = r ?: schema_add_cause(causes, "FieldValueNotSupported", "roleRef.kind", "Unsupported value: \"%s\": "
                                          "supported values: %s", kind, namespaced ? "\"Role\", \"ClusterRole\"" : "\"ClusterRole\"");
        if (!name || !*name)
                r = r ?: schema_add_cause(causes, "FieldValueRequired", "roleRef.name", "Required value");
        if (old && !json_equal(json_object_get(old, "roleRef"), ref))
                r = r ?: schema_add_cause(causes, "FieldValueInvalid", "roleRef", "Invalid value: %s: cannot change roleRef",
                                          show(ref, v, sizeof(v)));
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(obj, "subjects"), i, s) {
                const char *sk = json_string_value(json_object_get(s, "kind"));
                const char *sn = json_string_value(json_object_get(s, "name"));
                bool sa = osb_streq(sk, "ServiceAccount");
                if (!sa && !osb_streq(sk, "User") && !osb_streq(sk, "Group")) {
                        (void) snprintf(f, sizeof(f), "subjects[%zu].kind", i);
                        r = r ?: schema_add_cause(causes, "FieldValueNotSupported", f, "Unsupported value: \"%s\": supported "
                                                  "values: \"ServiceAccount\", \"User\", \"Group\"", sk ? sk : "");
                        continue;
                }
                if (!sn || !*sn) {
                        (void) snprintf(f, sizeof(f), "subjects[%zu].name", i);
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value");
                }
                if (sa && !namespaced && !util_json_str2(s, "namespace", NULL)) {
                        (void) snprintf(f, sizeof(f), "subjects[%zu].namespace", i);
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value");
                }
                /* A ServiceAccount's default group is "", which Go leaves out of the JSON. */
                if (json_is_object(s) && !sa)
                        r = r ?: set_default(s, "apiGroup", json_string(RBAC_GROUP));
                if (r < 0)
                        return r;
        }
        return r;
}

/* ---- admission webhook configurations (stored and validated; the server never calls them) ---- */

/* Whether JSON string @v is one of the NULL-terminated @allowed; a cause naming them if not. */
static int one_of(const json_t *v, const char *field, const char *const *allowed, json_t *causes)
{
        const char *s = json_string_value(v);
        for (size_t i = 0; s && allowed[i]; i++)
                if (!strcmp(s, allowed[i]))
                        return 0;
        char list[256] = "", val[256];
        for (size_t i = 0; allowed[i]; i++)
                (void) snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"", i ? ", " : "", allowed[i]);
        return schema_add_cause(causes, "FieldValueNotSupported", field, "Unsupported value: %s: supported values: %s",
                                show(v, val, sizeof(val)), list);
}

static int webhook_client(json_t *cc, const char *field, json_t *causes)
{
        char f[256], v[512];
        json_t *svc = json_object_get(cc, "service");
        const char *url = json_string_value(json_object_get(cc, "url"));
        if ((svc != NULL) == (url != NULL))
                return schema_add_cause(causes, "FieldValueRequired", field,
                                        "Required value: exactly one of url or service is required");
        if (url) {
                if (strncmp(url, "https://", 8) != 0) {
                        (void) snprintf(f, sizeof(f), "%.200s.url", field);
                        return schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: 'https' is the only "
                                                "allowed URL scheme", show(json_object_get(cc, "url"), v, sizeof(v)));
                }
                return 0;
        }
        int r = 0;
        static const char *const req[] = {"name", "namespace"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(req); i++) {
                const char *s = json_string_value(json_object_get(svc, req[i]));
                if (!s || !*s) {
                        (void) snprintf(f, sizeof(f), "%.200s.service.%s", field, req[i]);
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value: service %s is required",
                                                  req[i]);
                }
        }
        const char *path = json_string_value(json_object_get(svc, "path"));
        if (path && path[0] != '/') {
                (void) snprintf(f, sizeof(f), "%.200s.service.path", field);
                r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: must start with a '/'",
                                          show(json_object_get(svc, "path"), v, sizeof(v)));
        }
        json_t *port = json_object_get(svc, "port");
        if (port && (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)) {
                (void) snprintf(f, sizeof(f), "%.200s.service.port", field);
                r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: port is not valid: must be "
                                          "between 1 and 65535, inclusive", show(port, v, sizeof(v)));
        }
        return r ?: set_default(svc, "port", json_integer(443));
}

static int webhook_rules(json_t *rules, const char *field, json_t *causes)
{
        static const char *const ops[] = {"*", "CONNECT", "CREATE", "DELETE", "UPDATE", NULL};
        static const char *const scopes[] = {"*", "Cluster", "Namespaced", NULL};
        static const char *const lists[] = {"apiGroups", "apiVersions", "resources"};
        char f[256];
        size_t i, j;
        json_t *rule, *op;
        int r = 0;
        json_array_foreach(rules, i, rule) {
                (void) snprintf(f, sizeof(f), "%.200s[%zu].operations", field, i);
                if (!json_array_size(json_object_get(rule, "operations")))
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value");
                json_array_foreach(json_object_get(rule, "operations"), j, op) {
                        char fo[300];
                        (void) snprintf(fo, sizeof(fo), "%.250s[%zu]", f, j);
                        r = r ?: one_of(op, fo, ops, causes);
                }
                for (size_t k = 0; k < OSB_ELEMENTSOF(lists); k++)
                        if (!json_array_size(json_object_get(rule, lists[k]))) {
                                (void) snprintf(f, sizeof(f), "%.200s[%zu].%s", field, i, lists[k]);
                                r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value");
                        }
                if (json_object_get(rule, "scope")) {
                        (void) snprintf(f, sizeof(f), "%.200s[%zu].scope", field, i);
                        r = r ?: one_of(json_object_get(rule, "scope"), f, scopes, causes);
                }
                r = r ?: (json_is_object(rule) ? set_default(rule, "scope", json_string("*")) : 0);
        }
        return r;
}

/* Validates and defaults webhooks[] of a Mutating (@mutating) or ValidatingWebhookConfiguration. */
static int prep_webhooks(json_t *obj, bool mutating, json_t *causes)
{
        static const char *const side_effects[] = {"None", "NoneOnDryRun", NULL};
        static const char *const failure[] = {"Fail", "Ignore", NULL};
        static const char *const match[] = {"Equivalent", "Exact", NULL};
        static const char *const reinvocation[] = {"IfNeeded", "Never", NULL};
        char f[256], v[512];
        size_t i, j;
        json_t *w, *other;
        int r = 0;
        json_array_foreach(json_object_get(obj, "webhooks"), i, w) {
                const char *name = json_string_value(json_object_get(w, "name"));
                (void) snprintf(f, sizeof(f), "webhooks[%zu].name", i);
                if (!name || !*name) {
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f, "Required value");
                } else if (!util_is_dns1123_subdomain(name)) {
                        r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: a lowercase RFC 1123 "
                                                  "subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                                                  "and must start and end with an alphanumeric character",
                                                  show(json_object_get(w, "name"), v, sizeof(v)));
                } else if (!strchr(name, '.') || !strchr(strchr(name, '.') + 1, '.')) {
                        r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: should be a domain "
                                                  "with at least three segments separated by dots",
                                                  show(json_object_get(w, "name"), v, sizeof(v)));
                }
                json_array_foreach(json_object_get(obj, "webhooks"), j, other)
                        if (j < i && name && osb_streq(name, json_string_value(json_object_get(other, "name")))) {
                                r = r ?: schema_add_cause(causes, "FieldValueDuplicate", f, "Duplicate value: %s",
                                                          show(json_object_get(w, "name"), v, sizeof(v)));
                                break;
                        }
                json_t *versions = json_object_get(w, "admissionReviewVersions");
                (void) snprintf(f, sizeof(f), "webhooks[%zu].admissionReviewVersions", i);
                bool known = false;
                json_t *ver;
                json_array_foreach(versions, j, ver)
                        known = known || osb_streq(json_string_value(ver), "v1") || osb_streq(json_string_value(ver), "v1beta1");
                if (!json_array_size(versions))
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f,
                                                  "Required value: must specify one of v1, v1beta1");
                else if (!known)
                        r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: must include at "
                                                  "least one of v1, v1beta1", show(versions, v, sizeof(v)));
                (void) snprintf(f, sizeof(f), "webhooks[%zu].sideEffects", i);
                if (!json_object_get(w, "sideEffects"))
                        r = r ?: schema_add_cause(causes, "FieldValueRequired", f,
                                                  "Required value: must specify one of None, NoneOnDryRun");
                else
                        r = r ?: one_of(json_object_get(w, "sideEffects"), f, side_effects, causes);
                struct {
                        const char *key;
                        const char *const *allowed;
                        const char *dflt;
                } enums[] = {{"failurePolicy", failure, "Fail"}, {"matchPolicy", match, "Equivalent"},
                             {"reinvocationPolicy", mutating ? reinvocation : NULL, "Never"}};
                for (size_t k = 0; k < OSB_ELEMENTSOF(enums); k++) {
                        if (!enums[k].allowed)
                                continue;
                        (void) snprintf(f, sizeof(f), "webhooks[%zu].%s", i, enums[k].key);
                        if (json_object_get(w, enums[k].key))
                                r = r ?: one_of(json_object_get(w, enums[k].key), f, enums[k].allowed, causes);
                        else if (json_is_object(w))
                                r = r ?: set_default(w, enums[k].key, json_string(enums[k].dflt));
                }
                json_t *timeout = json_object_get(w, "timeoutSeconds");
                if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1 || json_integer_value(timeout) > 30)) {
                        (void) snprintf(f, sizeof(f), "webhooks[%zu].timeoutSeconds", i);
                        r = r ?: schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: the timeout value must "
                                                  "be between 1 and 30 seconds", show(timeout, v, sizeof(v)));
                }
                (void) snprintf(f, sizeof(f), "webhooks[%zu].clientConfig", i);
                r = r ?: webhook_client(json_object_get(w, "clientConfig"), f, causes);
                (void) snprintf(f, sizeof(f), "webhooks[%zu].rules", i);
                r = r ?: webhook_rules(json_object_get(w, "rules"), f, causes);
                if (json_is_object(w)) {
                        r = r ?: set_default(w, "timeoutSeconds", json_integer(10));
                        r = r ?: set_default(w, "namespaceSelector", json_object());
                        r = r ?: set_default(w, "objectSelector", json_object());
                }
        }
        return r;
}

int kinds_prepare(const struct kt_type *t, json_t *obj, const json_t *old, json_t *causes)
{
        switch (t->builtin) {
        case BT_POD:
                return prep_pod(obj, old, causes);
        case BT_SERVICE:
                return prep_service(obj, old, causes);
        case BT_PVC:
                return prep_pvc(obj, old, causes);
        case BT_DEPLOYMENT:
                return prep_deployment(obj, old, causes);
        case BT_STATEFULSET:
                return prep_statefulset(obj, old, causes);
        case BT_DAEMONSET:
                return prep_daemonset(obj, old, causes);
        case BT_PDB:
                return prep_pdb(obj, old, causes);
        case BT_ROLE:
                return prep_role(obj, true, causes);
        case BT_CLUSTERROLE:
                return prep_role(obj, false, causes);
        case BT_ROLEBINDING:
                return prep_binding(obj, old, true, causes);
        case BT_CLUSTERROLEBINDING:
                return prep_binding(obj, old, false, causes);
        case BT_MUTATINGWEBHOOK:
                return prep_webhooks(obj, true, causes);
        case BT_VALIDATINGWEBHOOK:
                return prep_webhooks(obj, false, causes);
        default:
                return 0;
        }
}
