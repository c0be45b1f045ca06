/* test/apiserver/api.c: REST semantics. Every write runs under the store lock from the read of
 * the current object to the put, so resourceVersion checks, generation and finalizer logic see
 * one consistent state. Messages follow kube-apiserver's wording (apimachinery's
 * k8s.io/apimachinery/pkg/api/errors and field errors), since kubectl prints them verbatim. */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "test/apiserver/api.h"
#include "test/apiserver/kinds.h"
#include "test/apiserver/patch.h"
#include "test/apiserver/rbac.h"
#include "test/apiserver/schema.h"
#include "test/apiserver/selector.h"
#include "test/apiserver/table.h"
#include "test/apiserver/util.h"

#define NS_KEY "namespaces"
#define CRD_KEY "customresourcedefinitions.apiextensions.k8s.io"
#define CRD_FINALIZER "customresourcecleanup.apiextensions.k8s.io"
#define MAX_OBJECT_DATA (1024 * 1024)


void api_result_release(struct api_result *res)
{
        json_decref(res->body);
        res->body = NULL;
}

/* ---- Status bodies ---- */

static json_t *vstatus(unsigned code, const char *reason, json_t *details, const char *fmt, va_list ap)
{
        char msg[2048];
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                              "status", "Failure", "message", msg, "reason", reason, "code", (int) code);
        if (s && details && json_object_set_new(s, "details", details) < 0) {
                json_decref(s);
                return NULL;
        }
        if (!s)
                json_decref(details);
        return s;
}

json_t *api_status(unsigned code, const char *reason, json_t *details, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        json_t *s = vstatus(code, reason, details, fmt, ap);
        va_end(ap);
        return s;
}

unsigned api_fail(struct api_result *res, unsigned code, const char *reason, json_t *details, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        json_decref(res->body);
        res->body = vstatus(code, reason, details, fmt, ap);
        va_end(ap);
        res->code = code;
        return code;
}

unsigned api_too_large_rv(struct api_result *res, uint64_t want, uint64_t current)
{
        json_t *d = json_pack("{s:[{s:s, s:s}], s:i}", "causes", "reason", "ResourceVersionTooLarge", "message",
                              "Too large resource version", "retryAfterSeconds", 1);
        return api_fail(res, 504, "Timeout", d, "Too large resource version: %" PRIu64 ", current: %" PRIu64, want, current);
}

static unsigned oom(struct api_result *res)
{
        return api_fail(res, 500, "InternalError", NULL, "Internal error occurred: out of memory");
}

/* "secrets" or "widgets.example.com" */
static const char *qresource(const struct kt_type *t, char *buf, size_t n)
{
        (void) snprintf(buf, n, "%s%s%s", t->resource, *t->group ? "." : "", t->group);
        return buf;
}

/* "Secret" or "Widget.example.com" */
static const char *qkind(const struct kt_type *t, char *buf, size_t n)
{
        (void) snprintf(buf, n, "%s%s%s", t->kind, *t->group ? "." : "", t->group);
        return buf;
}

static json_t *details(const struct kt_type *t, const char *name, const char *kind)
{
        json_t *d = json_object();
        if (!d)
                return NULL;
        if (name && *name)
                (void) json_object_set_new(d, "name", json_string(name));
        if (*t->group)
                (void) json_object_set_new(d, "group", json_string(t->group));
        (void) json_object_set_new(d, "kind", json_string(kind ? kind : t->resource));
        return d;
}

static unsigned not_found(struct api_result *res, const struct kt_type *t, const char *name)
{
        char q[512];
        return api_fail(res, 404, "NotFound", details(t, name, NULL), "%s \"%s\" not found", qresource(t, q, sizeof(q)), name);
}

static unsigned ns_not_found(struct api_result *res, const char *ns)
{
        return api_fail(res, 404, "NotFound", json_pack("{s:s, s:s}", "name", ns, "kind", "namespaces"),
                        "namespaces \"%s\" not found", ns);
}

static unsigned conflict(struct api_result *res, const struct kt_type *t, const char *name, const char *why)
{
        char q[512];
        return api_fail(res, 409, "Conflict", details(t, name, NULL), "Operation cannot be fulfilled on %s \"%s\": %s",
                        qresource(t, q, sizeof(q)), name, why);
}

static unsigned bad_request(struct api_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static unsigned bad_request(struct api_result *res, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return api_fail(res, 400, "BadRequest", NULL, "%s", msg);
}

static unsigned invalid(struct api_result *res, const struct kt_type *t, const char *name, json_t *causes)
{
        char q[512], text[1536];
        (void) schema_causes_text(causes, text, sizeof(text));
        json_t *d = details(t, name, t->kind);
        if (d)
                (void) json_object_set(d, "causes", causes);
        return api_fail(res, 422, "Invalid", d, "%s \"%s\" is invalid: %s", qkind(t, q, sizeof(q)), name ? name : "", text);
}

/* ---- small object helpers ---- */

static char *dump_text(const json_t *j)
{
        size_t len;
        return osb_json_dump_flags(j, JSON_COMPACT | JSON_PRESERVE_ORDER, &len);
}

static json_t *meta_of(const json_t *obj)
{
        return json_object_get(obj, "metadata");
}

static const char *mstr(const json_t *obj, const char *k)
{
        return json_string_value(json_object_get(meta_of(obj), k));
}

static bool tracks_generation(const struct kt_type *t)
{
        return t->builtin == BT_NONE || t->builtin == BT_CRD || t->builtin == BT_DEPLOYMENT ||
               t->builtin == BT_STATEFULSET || t->builtin == BT_DAEMONSET || t->builtin == BT_PDB;
}

static const char *ns_or_empty(const struct kt_type *t, const char *ns)
{
        return t->namespaced && ns ? ns : "";
}

static void now_rfc3339(char buf[32])
{
        (void) util_time_rfc3339(time(NULL), buf, 32);
}

/* events.k8s.io/v1 <-> core/v1 Event field names. */
static const char *const event_fields[][2] = {
        {"involvedObject", "regarding"},
        {"message", "note"},
        {"source", "deprecatedSource"},
        {"firstTimestamp", "deprecatedFirstTimestamp"},
        {"lastTimestamp", "deprecatedLastTimestamp"},
        {"count", "deprecatedCount"},
        {"reportingComponent", "reportingController"},
};

static int rename_fields(json_t *o, int from, int to)
{
        for (size_t i = 0; i < OSB_ELEMENTSOF(event_fields); i++) {
                json_t *v = json_object_get(o, event_fields[i][from]);
                if (!v)
                        continue;
                if (json_object_set(o, event_fields[i][to], v) < 0)
                        return -ENOMEM;
                (void) json_object_del(o, event_fields[i][from]);
        }
        return 0;
}

/* The stored object as served by @t (a shallow copy: stored objects are never mutated). */
static json_t *out_obj(const struct kt_type *t, const json_t *stored)
{
        json_t *o = json_copy((json_t *) stored);
        if (!o)
                return NULL;
        if (json_object_set_new(o, "apiVersion", json_string(t->api_version)) < 0 ||
            json_object_set_new(o, "kind", json_string(t->kind)) < 0 ||
            (t->builtin == BT_EVENT_V1 && rename_fields(o, 0, 1) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* ---- validation shared by all kinds ---- */

static const char subdomain_msg[] =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
static const char label_msg[] =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
        "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
static const char qname_msg[] =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
static const char lvalue_msg[] =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
static const char ckey_msg[] =
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

static const char dns1035_msg[] =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
        "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/* One cause per message, as ValidateObjectMeta reports what the kind's name function returns
 * (apimachinery IsDNS1123Label etc.: the length error, then the regex error). */
static int name_causes(json_t *causes, const char *q, size_t len, size_t max, bool matches, const char *msg)
{
        if (len > max &&
            schema_add_cause(causes, "FieldValueInvalid", "metadata.name", "Invalid value: %s: must be no more than %zu "
                             "characters", q, max) < 0)
                return -ENOMEM;
        if (!matches && schema_add_cause(causes, "FieldValueInvalid", "metadata.name", "Invalid value: %s: %s", q, msg) < 0)
                return -ENOMEM;
        return 0;
}

/* The name rule of each kind, as kube-apiserver has it: Namespace NameIsDNSLabel, Service
 * NameIsDNS1035Label (pkg/apis/core/validation: ValidateNamespaceName, ValidateServiceName), RBAC
 * objects (ValidateRBACName: path.IsValidPathSegmentName) and core v1 Events (legacy validation:
 * none) a path segment, everything else (Secret, ConfigMap, Pod, PVC, Deployment, StatefulSet, DaemonSet, PDB, Lease,
 * ServiceAccount, events.k8s.io/v1 Events, custom resources: NameIsDNSSubdomain) a DNS-1123
 * subdomain: up to 253 characters, dots allowed, no limit on one label. */
static int validate_name(const struct kt_type *t, const char *name, json_t *causes)
{
        char q[300];
        (void) util_quote(q, sizeof(q), name);
        size_t len = strlen(name);
        if (t->builtin == BT_NAMESPACE)
                return name_causes(causes, q, len, 63, util_matches_dns1123_label(name), label_msg);
        if (t->builtin == BT_SERVICE)
                return name_causes(causes, q, len, 63, util_matches_dns1035_label(name), dns1035_msg);
        /* core v1 Events and RBAC objects ("system:discovery") only need to be a path segment */
        if (t->builtin == BT_EVENT || t->builtin == BT_ROLE || t->builtin == BT_ROLEBINDING ||
            t->builtin == BT_CLUSTERROLE || t->builtin == BT_CLUSTERROLEBINDING) {
                if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/%"))
                        return schema_add_cause(causes, "FieldValueInvalid", "metadata.name",
                                                "Invalid value: %s: may not contain '/' or '%%' and may not be '.' or '..'", q);
                return 0;
        }
        return name_causes(causes, q, len, 253, util_matches_dns1123_subdomain(name), subdomain_msg);
}

/* Checks the shapes Go's decoder would refuse (400), before anything else. */
static int check_decodable(const json_t *obj, char *msg, size_t n)
{
        json_t *meta = meta_of(obj);
        if (meta && !json_is_object(meta))
                return snprintf(msg, n, "json: cannot unmarshal %s into Go struct field .metadata of type v1.ObjectMeta",
                                json_is_array(meta) ? "array" : json_is_string(meta) ? "string" : "number"), -EINVAL;
        const char *maps[] = {"labels", "annotations"};
        for (size_t i = 0; i < 2; i++) {
                json_t *m = json_object_get(meta, maps[i]);
                if (!m || json_is_null(m))
                        continue;
                const char *k;
                json_t *v;
                if (!json_is_object(m))
                        return snprintf(msg, n, "json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.%s of type map[string]string",
                                        json_is_array(m) ? "array" : "string", maps[i]), -EINVAL;
                json_object_foreach(m, k, v)
                        if (!json_is_string(v))
                                return snprintf(msg, n, "json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.%s of type string",
                                                json_is_number(v) ? "number" : json_is_boolean(v) ? "bool" : "object", maps[i]), -EINVAL;
        }
        json_t *fin = json_object_get(meta, "finalizers");
        if (fin && !json_is_null(fin)) {
                size_t i;
                json_t *v;
                if (!json_is_array(fin))
                        return snprintf(msg, n, "json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.finalizers of type []string",
                                        json_is_object(fin) ? "object" : "string"), -EINVAL;
                json_array_foreach(fin, i, v)
                        if (!json_is_string(v))
                                return snprintf(msg, n, "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.finalizers of type string"), -EINVAL;
        }
        json_t *own = json_object_get(meta, "ownerReferences");
        if (own && !json_is_null(own) && !json_is_array(own))
                return snprintf(msg, n, "json: cannot unmarshal object into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference"), -EINVAL;
        const char *strs[] = {"name", "namespace", "generateName", "resourceVersion", "uid"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(strs); i++) {
                json_t *v = json_object_get(meta, strs[i]);
                if (v && !json_is_string(v) && !json_is_null(v))
                        return snprintf(msg, n, "json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.%s of type string",
                                        json_is_number(v) ? "number" : json_is_boolean(v) ? "bool" : "object", strs[i]), -EINVAL;
        }
        return 0;
}

/* A core/v1 Event's namespace against its involvedObject's (ValidateEventCreate's legacy rules,
 * pkg/apis/core/validation/events.go): an object without a namespace (cluster-scoped) may be
 * reported only in "default" (or, with an eventTime, "kube-system"); a namespaced one only in
 * its own namespace. */
static int validate_event(const json_t *obj, json_t *causes)
{
        const char *ns = mstr(obj, "namespace") ? mstr(obj, "namespace") : "";
        const char *ions = json_string_value(json_object_get(json_object_get(obj, "involvedObject"), "namespace"));
        bool timed = json_string_value(json_object_get(obj, "eventTime")) != NULL;
        bool ok = ions && *ions ? strcmp(ns, ions) == 0
                                : !*ns || strcmp(ns, "default") == 0 || (timed && strcmp(ns, "kube-system") == 0);
        char q[300];
        (void) util_quote(q, sizeof(q), ions ? ions : "");
        if (!ok && schema_add_cause(causes, "FieldValueInvalid", "involvedObject.namespace",
                                    "Invalid value: %s: does not match event.namespace", q) < 0)
                return -ENOMEM;
        return 0;
}

static int validate_meta(const struct kt_type *t, const json_t *obj, json_t *causes)
{
        json_t *meta = meta_of(obj);
        char q[1024];
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(meta, "labels"), k, v) {
                (void) util_quote(q, sizeof(q), k);
                if (!util_is_qualified_name(k) && schema_add_cause(causes, "FieldValueInvalid", "metadata.labels",
                                                                    "Invalid value: %s: %s", q, qname_msg) < 0)
                        return -ENOMEM;
                /* IsValidLabelValue: the length (63) and the pattern are separate errors */
                const char *lv = json_string_value(v) ? json_string_value(v) : "";
                (void) util_quote(q, sizeof(q), lv);
                if (strlen(lv) > 63 &&
                    schema_add_cause(causes, "FieldValueInvalid", "metadata.labels",
                                     "Invalid value: %s: must be no more than 63 characters", q) < 0)
                        return -ENOMEM;
                if (!util_matches_label_value(lv) &&
                    schema_add_cause(causes, "FieldValueInvalid", "metadata.labels", "Invalid value: %s: %s", q, lvalue_msg) < 0)
                        return -ENOMEM;
        }
        size_t total = 0;
        json_object_foreach(json_object_get(meta, "annotations"), k, v) {
                char lower[512];
                (void) snprintf(lower, sizeof(lower), "%s", k);
                for (char *c = lower; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                (void) util_quote(q, sizeof(q), k);
                if (!util_is_qualified_name(lower) && schema_add_cause(causes, "FieldValueInvalid", "metadata.annotations",
                                                                        "Invalid value: %s: %s", q, qname_msg) < 0)
                        return -ENOMEM;
                total += strlen(k) + strlen(json_string_value(v));
        }
        if (total > 256 * 1024 &&
            schema_add_cause(causes, "FieldValueTooLong", "metadata.annotations", "Too long: must have at most 262144 bytes") < 0)
                return -ENOMEM;
        size_t i;
        json_array_foreach(json_object_get(meta, "finalizers"), i, v) {
                char f[64];
                (void) snprintf(f, sizeof(f), "metadata.finalizers[%zu]", i);
                (void) util_quote(q, sizeof(q), json_string_value(v));
                if (!util_is_qualified_name(json_string_value(v)) &&
                    schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, qname_msg) < 0)
                        return -ENOMEM;
        }
        int controllers = 0;
        json_array_foreach(json_object_get(meta, "ownerReferences"), i, v) {
                const char *fields[][2] = {{"apiVersion", "version must not be empty"},
                                           {"kind", "kind must not be empty"},
                                           {"name", "name must not be empty"},
                                           {"uid", "uid must not be empty"}};
                for (size_t j = 0; j < OSB_ELEMENTSOF(fields); j++) {
                        const char *s = json_string_value(json_object_get(v, fields[j][0]));
                        char f[96];
                        (void) snprintf(f, sizeof(f), "metadata.ownerReferences.%s", fields[j][0]);
                        if ((!s || !*s) && schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: \"\": %s",
                                                            fields[j][1]) < 0)
                                return -ENOMEM;
                }
                if (json_is_true(json_object_get(v, "controller")))
                        controllers++;
        }
        if (controllers > 1 &&
            schema_add_cause(causes, "FieldValueInvalid", "metadata.ownerReferences",
                             "Invalid value: []v1.OwnerReference{...}: Only one reference can have Controller set to true") < 0)
                return -ENOMEM;
        (void) t;
        return 0;
}

/* ---- per-kind preparation: defaults, normalisation, validation ---- */

struct prep {
        json_t *causes;        /* 422 causes */
        char bad[1024];        /* a 400 BadRequest message when set */
        char warning[512];
};

static int prep_secret(json_t *obj, const json_t *old, struct prep *p)
{
        json_t *sd = json_object_get(obj, "stringData");
        json_t *data = json_object_get(obj, "data");
        if (data && !json_is_null(data) && !json_is_object(data)) {
                (void) snprintf(p->bad, sizeof(p->bad), "Secret in version \"v1\" cannot be handled as a Secret: json: "
                                "cannot unmarshal %s into Go struct field Secret.data of type map[string][]uint8",
                                json_is_array(data) ? "array" : "string");
                return 0;
        }
        const char *k;
        json_t *v;
        json_object_foreach(data, k, v) {
                if (!json_is_string(v)) {
                        (void) snprintf(p->bad, sizeof(p->bad), "Secret in version \"v1\" cannot be handled as a Secret: "
                                        "json: cannot unmarshal %s into Go struct field Secret.data of type []uint8",
                                        json_is_number(v) ? "number" : json_is_boolean(v) ? "bool" : "object");
                        return 0;
                }
                size_t bad = 0;
                char *dec = NULL;
                int rb = osb_base64_decode(json_string_value(v), json_string_length(v), OSB_BASE64_SKIP_NEWLINES,
                                           &dec, NULL, &bad);
                if (rb == -ENOMEM)
                        return -ENOMEM;
                osb_free(dec);
                if (rb < 0) {
                        (void) snprintf(p->bad, sizeof(p->bad), "Secret in version \"v1\" cannot be handled as a Secret: "
                                        "illegal base64 data at input byte %zu", bad);
                        return 0;
                }
        }
        if (json_is_object(sd)) {
                data = util_json_obj_ensure(obj, "data");
                if (!data)
                        return -ENOMEM;
                json_object_foreach(sd, k, v) {
                        if (!json_is_string(v)) {
                                (void) snprintf(p->bad, sizeof(p->bad), "Secret in version \"v1\" cannot be handled as a "
                                                "Secret: json: cannot unmarshal number into Go struct field "
                                                "Secret.stringData of type string");
                                return 0;
                        }
                        char *enc = osb_base64_encode(json_string_value(v), json_string_length(v));
                        if (!enc || json_object_set_new(data, k, json_string(enc)) < 0) {
                                osb_free(enc);
                                return -ENOMEM;
                        }
                        osb_free(enc);
                }
        }
        (void) json_object_del(obj, "stringData");
        if (json_is_null(json_object_get(obj, "data")))
                (void) json_object_del(obj, "data");
        if (!json_string_value(json_object_get(obj, "type")) || !*json_string_value(json_object_get(obj, "type")))
                if (json_object_set_new(obj, "type", json_string(old && json_string_value(json_object_get(old, "type"))
                                                                        ? json_string_value(json_object_get(old, "type"))
                                                                        : "Opaque")) < 0)
                        return -ENOMEM;
        size_t total = 0;
        char q[600], f[600];
        json_object_foreach(json_object_get(obj, "data"), k, v) {
                (void) snprintf(f, sizeof(f), "data[%s]", k);
                (void) util_quote(q, sizeof(q), k);
                if (!util_is_config_key(k) && schema_add_cause(p->causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, ckey_msg) < 0)
                        return -ENOMEM;
                total += json_string_length(v) / 4 * 3;
        }
        if (total > MAX_OBJECT_DATA &&
            schema_add_cause(p->causes, "FieldValueTooLong", "data", "Too long: must have at most 1048576 bytes") < 0)
                return -ENOMEM;
        const char *type = json_string_value(json_object_get(obj, "type"));
        if (type && !strcmp(type, "kubernetes.io/tls")) {
                const char *req[] = {"tls.crt", "tls.key"};
                for (size_t i = 0; i < 2; i++) {
                        (void) snprintf(f, sizeof(f), "data[%s]", req[i]);
                        if (!json_object_get(json_object_get(obj, "data"), req[i]) &&
                            schema_add_cause(p->causes, "FieldValueRequired", f, "Required value") < 0)
                                return -ENOMEM;
                }
        }
        if (old) {
                const char *ot = json_string_value(json_object_get(old, "type"));
                if (ot && type && strcmp(ot, type)) {
                        (void) util_quote(q, sizeof(q), type);
                        if (schema_add_cause(p->causes, "FieldValueInvalid", "type", "Invalid value: %s: field is immutable", q) < 0)
                                return -ENOMEM;
                }
                if (json_is_true(json_object_get(old, "immutable"))) {
                        if (!json_equal(json_object_get(old, "data"), json_object_get(obj, "data")) &&
                            schema_add_cause(p->causes, "FieldValueForbidden", "data",
                                             "Forbidden: field is immutable when `immutable` is set") < 0)
                                return -ENOMEM;
                        if (!json_is_true(json_object_get(obj, "immutable")) &&
                            schema_add_cause(p->causes, "FieldValueForbidden", "immutable",
                                             "Forbidden: field is immutable when `immutable` is set") < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int prep_configmap(json_t *obj, const json_t *old, struct prep *p)
{
        const char *k;
        json_t *v;
        char q[600], f[600];
        size_t total = 0;
        json_t *data = json_object_get(obj, "data"), *bin = json_object_get(obj, "binaryData");
        if ((data && !json_is_null(data) && !json_is_object(data)) || (bin && !json_is_null(bin) && !json_is_object(bin))) {
                (void) snprintf(p->bad, sizeof(p->bad), "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: "
                                "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string");
                return 0;
        }
        json_object_foreach(data, k, v) {
                if (!json_is_string(v)) {
                        (void) snprintf(p->bad, sizeof(p->bad), "ConfigMap in version \"v1\" cannot be handled as a "
                                        "ConfigMap: json: cannot unmarshal %s into Go struct field ConfigMap.data of type string",
                                        json_is_number(v) ? "number" : json_is_boolean(v) ? "bool" : "object");
                        return 0;
                }
                (void) snprintf(f, sizeof(f), "data[%s]", k);
                (void) util_quote(q, sizeof(q), k);
                if (!util_is_config_key(k) && schema_add_cause(p->causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, ckey_msg) < 0)
                        return -ENOMEM;
                if (json_object_get(bin, k) &&
                    schema_add_cause(p->causes, "FieldValueInvalid", f, "Invalid value: %s: duplicate of key present in binaryData", q) < 0)
                        return -ENOMEM;
                total += json_string_length(v);
        }
        json_object_foreach(bin, k, v) {
                size_t bad = 0, len = 0;
                char *dec = NULL;
                int rb = json_is_string(v) ? osb_base64_decode(json_string_value(v), json_string_length(v),
                                                               OSB_BASE64_SKIP_NEWLINES, &dec, &len, &bad)
                                           : -EINVAL;
                if (rb == -ENOMEM)
                        return -ENOMEM;
                osb_free(dec);
                if (rb < 0) {
                        (void) snprintf(p->bad, sizeof(p->bad), "ConfigMap in version \"v1\" cannot be handled as a "
                                        "ConfigMap: illegal base64 data at input byte %zu", json_is_string(v) ? bad : 0);
                        return 0;
                }
                (void) snprintf(f, sizeof(f), "binaryData[%s]", k);
                (void) util_quote(q, sizeof(q), k);
                if (!util_is_config_key(k) && schema_add_cause(p->causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, ckey_msg) < 0)
                        return -ENOMEM;
                total += len;
        }
        if (total > MAX_OBJECT_DATA &&
            schema_add_cause(p->causes, "FieldValueTooLong", "", "Too long: must have at most 1048576 bytes") < 0)
                return -ENOMEM;
        if (old && json_is_true(json_object_get(old, "immutable"))) {
                if ((!json_equal(json_object_get(old, "data"), data) || !json_equal(json_object_get(old, "binaryData"), bin)) &&
                    schema_add_cause(p->causes, "FieldValueForbidden", "data",
                                     "Forbidden: field is immutable when `immutable` is set") < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int prep_namespace(json_t *obj, const json_t *old, struct prep *p)
{
        const char *name = mstr(obj, "name");
        json_t *labels = util_json_obj_ensure(json_object_get(obj, "metadata"), "labels");
        if (!labels || json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name ? name : "")) < 0)
                return -ENOMEM;
        if (!old) {
                json_t *spec = util_json_obj_ensure(obj, "spec");
                if (!spec || json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes")) < 0 ||
                    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active")) < 0)
                        return -ENOMEM;
        } else {
                /* spec.finalizers only changes through /finalize */
                json_t *spec = util_json_obj_ensure(obj, "spec");
                json_t *of = json_object_get(json_object_get(old, "spec"), "finalizers");
                if (!spec)
                        return -ENOMEM;
                if (of && json_object_set(spec, "finalizers", of) < 0)
                        return -ENOMEM;
                if (!of)
                        (void) json_object_del(spec, "finalizers");
        }
        (void) p;
        return 0;
}

static json_t *condition(const char *type, const char *status, const char *reason, const char *message, const char *when)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status, "lastTransitionTime", when,
                         "reason", reason, "message", message);
}

/* The API approval rule of kube-apiserver for CRDs in the protected groups k8s.io, *.k8s.io,
 * kubernetes.io and *.kubernetes.io (https://github.com/kubernetes/enhancements/pull/1111):
 * apihelpers.IsProtectedCommunityGroup and GetAPIApprovalState, and validateAPIApproval in
 * k8s.io/apiextensions-apiserver's registry/customresourcedefinition/strategy.go. */
#define API_APPROVED_ANN "api-approved.kubernetes.io"
enum approval { APPROVAL_INVALID, APPROVAL_APPROVED, APPROVAL_BYPASSED, APPROVAL_MISSING };

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && !strcmp(s + n - m, suffix);
}

bool api_is_protected_group(const char *group)
{
        return group && (!strcmp(group, "k8s.io") || has_suffix(group, ".k8s.io") || !strcmp(group, "kubernetes.io") ||
                         has_suffix(group, ".kubernetes.io"));
}

/* Go's url.ParseRequestURI(v) succeeding with a scheme and a host, near enough: scheme "://" host. */
static bool is_url_with_host(const char *v)
{
        const char *p = v;
        if (!isalpha((unsigned char) *p))
                return false;
        while (isalnum((unsigned char) *p) || *p == '+' || *p == '-' || *p == '.')
                p++;
        if (strncmp(p, "://", 3))
                return false;
        p += 3;
        size_t host = strcspn(p, "/?#");
        if (!host)
                return false;
        for (const char *c = v; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f || (c >= p && c < p + host && strchr("<>\\\"{}|^`", *c)))
                        return false;
        return true;
}

static enum approval approval_state(const json_t *obj, char *reason, size_t n)
{
        const char *v = json_string_value(json_object_get(json_object_get(meta_of(obj), "annotations"), API_APPROVED_ANN));
        char q[600];
        if (!v || !*v) {
                (void) snprintf(reason, n, "protected groups must have approval annotation \"" API_APPROVED_ANN
                                "\", see https://github.com/kubernetes/enhancements/pull/1111");
                return APPROVAL_MISSING;
        }
        if (!strncmp(v, "unapproved", 10)) {
                (void) util_quote(q, sizeof(q), v);
                (void) snprintf(reason, n, "not approved: %s", q);
                return APPROVAL_BYPASSED;
        }
        if (is_url_with_host(v)) {
                (void) snprintf(reason, n, "approved in %s", v);
                return APPROVAL_APPROVED;
        }
        (void) snprintf(reason, n, "protected groups must have approval annotation \"" API_APPROVED_ANN "\" with either a "
                        "URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111");
        return APPROVAL_INVALID;
}

/* Refuses what validateAPIApproval refuses: a missing or invalid annotation, unless the update
 * leaves the approval state as it was. */
static int check_api_approval(const json_t *obj, const json_t *old, const char *group, json_t *causes)
{
        if (!api_is_protected_group(group))
                return 0;
        char reason[800], oreason[800], q[600];
        enum approval st = approval_state(obj, reason, sizeof(reason));
        if (old && approval_state(old, oreason, sizeof(oreason)) == st)
                return 0;
        const char *f = "metadata.annotations[" API_APPROVED_ANN "]";
        switch (st) {
        case APPROVAL_MISSING:
                return schema_add_cause(causes, "FieldValueRequired", f, "Required value: %s", reason);
        case APPROVAL_INVALID:
                (void) util_quote(q, sizeof(q), json_string_value(json_object_get(
                                                        json_object_get(meta_of(obj), "annotations"), API_APPROVED_ANN)));
                return schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, reason);
        case APPROVAL_APPROVED:
        case APPROVAL_BYPASSED:
                break;
        }
        return 0;
}

/* The condition KubernetesAPIApprovalPolicyConformant, as the apiapproval controller sets it on
 * CRDs of protected groups (and removes it elsewhere). */
static int set_approval_condition(json_t *conds, const json_t *obj, const char *group, const char *when)
{
        size_t i;
        json_t *c;
        json_array_foreach(conds, i, c)
                if (osb_streq(json_string_value(json_object_get(c, "type")), "KubernetesAPIApprovalPolicyConformant")) {
                        (void) json_array_remove(conds, i);
                        break;
                }
        if (!api_is_protected_group(group))
                return 0;
        char reason[800];
        static const char *const why[] = {"InvalidAnnotation", "ApprovedAnnotation", "UnapprovedAnnotation",
                                          "MissingAnnotation"};
        enum approval st = approval_state(obj, reason, sizeof(reason));
        json_t *nc = condition("KubernetesAPIApprovalPolicyConformant", st == APPROVAL_APPROVED ? "True" : "False", why[st],
                               reason, when);
        return !nc || json_array_insert_new(conds, 0, nc) < 0 ? -ENOMEM : 0;
}

/* ---- CRD schemas: the checks of apiextensions-apiserver (apis/apiextensions/validation:
 * ValidateCustomResourceDefinitionOpenAPISchema, then apiserver/schema ValidateStructural) ---- */
#define CRD_PATH_MAX 1024
enum crd_level { LVL_ROOT, LVL_ITEM, LVL_FIELD };

static void crd_child(char *out, const char *path, const char *fmt, const char *key)
{
        int n = snprintf(out, CRD_PATH_MAX, "%s", path);
        if (n >= 0 && n < CRD_PATH_MAX)
                (void) snprintf(out + n, (size_t) (CRD_PATH_MAX - n), fmt, key);
}

/* The first pass: additionalProperties with properties, uniqueItems. */
static int crd_schema_openapi(const json_t *s, const char *path, json_t *causes)
{
        char f[CRD_PATH_MAX];
        int r = 0;
        if (!json_is_object(s))
                return 0;
        json_t *props = json_object_get(s, "properties");
        json_t *ap = json_object_get(s, "additionalProperties");
        if (json_is_true(json_object_get(s, "uniqueItems"))) {
                crd_child(f, path, ".%s", "uniqueItems");
                r |= schema_add_cause(causes, "FieldValueForbidden", f,
                                      "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
        }
        if (ap && json_object_size(props) && (json_is_false(ap) || json_is_object(ap))) {
                crd_child(f, path, ".%s", "additionalProperties");
                r |= schema_add_cause(causes, "FieldValueForbidden", f, "Forbidden: additionalProperties and properties are mutual exclusive");
        }
        if (json_is_object(ap)) {
                crd_child(f, path, ".%s", "additionalProperties");
                r |= crd_schema_openapi(ap, f, causes);
        }
        const char *k;
        json_t *v;
        json_object_foreach(props, k, v) {
                crd_child(f, path, ".properties[%s]", k);
                r |= crd_schema_openapi(v, f, causes);
        }
        if (json_is_object(json_object_get(s, "items"))) {
                crd_child(f, path, ".%s", "items");
                r |= crd_schema_openapi(json_object_get(s, "items"), f, causes);
        }
        return r;
}

/* The structural schema rules the project's CRDs meet: a type at every level (unless
 * x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields), an object at the root,
 * and nothing about metadata at the root but name and generateName. */
static int crd_schema_structural(const json_t *s, const char *path, enum crd_level lvl, json_t *causes)
{
        char f[CRD_PATH_MAX];
        int r = 0;
        if (!json_is_object(s))
                return 0;
        const char *type = json_string_value(json_object_get(s, "type"));
        if ((!type || !*type) && !json_is_true(json_object_get(s, "x-kubernetes-int-or-string")) &&
            !json_is_true(json_object_get(s, "x-kubernetes-preserve-unknown-fields"))) {
                crd_child(f, path, ".%s", "type");
                r |= schema_add_cause(causes, "FieldValueRequired", f, "Required value: %s",
                                      lvl == LVL_ROOT ? "must not be empty at the root"
                                      : lvl == LVL_ITEM ? "must not be empty for specified array items"
                                                        : "must not be empty for specified object fields");
        }
        if (lvl == LVL_ROOT && type && *type && strcmp(type, "object")) {
                char q[600];
                crd_child(f, path, ".%s", "type");
                (void) util_quote(q, sizeof(q), type);
                r |= schema_add_cause(causes, "FieldValueInvalid", f, "Invalid value: %s: must be object at the root", q);
        }
        json_t *props = json_object_get(s, "properties");
        json_t *meta = json_object_get(props, "metadata");
        if (lvl == LVL_ROOT && json_is_object(meta)) {
                /* only {type: object} and restrictions of name and generateName */
                const char *k;
                json_t *v;
                bool other = false;
                json_object_foreach(meta, k, v) {
                        if (!strcmp(k, "type"))
                                other |= !json_is_string(v) || strcmp(json_string_value(v), "object");
                        else if (!strcmp(k, "properties")) {
                                const char *pk;
                                json_t *pv;
                                json_object_foreach(v, pk, pv)
                                        other |= strcmp(pk, "name") && strcmp(pk, "generateName");
                        } else
                                other = true;
                }
                if (other) {
                        crd_child(f, path, ".properties[%s]", "metadata");
                        r |= schema_add_cause(causes, "FieldValueForbidden", f,
                                              "Forbidden: must not specify anything other than name and generateName, "
                                              "but metadata is implicitly specified");
                }
        }
        const char *k;
        json_t *v;
        json_object_foreach(props, k, v) {
                if (lvl == LVL_ROOT && !strcmp(k, "metadata"))
                        continue;
                crd_child(f, path, ".properties[%s]", k);
                r |= crd_schema_structural(v, f, LVL_FIELD, causes);
        }
        if (json_is_object(json_object_get(s, "items"))) {
                crd_child(f, path, ".%s", "items");
                r |= crd_schema_structural(json_object_get(s, "items"), f, LVL_ITEM, causes);
        }
        if (json_is_object(json_object_get(s, "additionalProperties"))) {
                crd_child(f, path, ".%s", "additionalProperties");
                r |= crd_schema_structural(json_object_get(s, "additionalProperties"), f, LVL_FIELD, causes);
        }
        return r;
}

static int prep_crd(struct api *a, json_t *obj, const json_t *old, struct prep *p)
{
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(spec))
                return schema_add_cause(p->causes, "FieldValueRequired", "spec", "Required value");
        json_t *names = json_object_get(spec, "names");
        const char *group = json_string_value(json_object_get(spec, "group"));
        const char *plural = json_string_value(json_object_get(names, "plural"));
        const char *kind = json_string_value(json_object_get(names, "kind"));
        const char *scope = json_string_value(json_object_get(spec, "scope"));
        json_t *versions = json_object_get(spec, "versions");
        const char *name = mstr(obj, "name");
        char q[600];
        int r = 0;
        if (!group || !*group)
                r |= schema_add_cause(p->causes, "FieldValueRequired", "spec.group", "Required value");
        else if (!strchr(group, '.')) {
                (void) util_quote(q, sizeof(q), group);
                r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.group",
                                      "Invalid value: %s: should be a domain with at least one dot", q);
        }
        if (!plural || !*plural)
                r |= schema_add_cause(p->causes, "FieldValueRequired", "spec.names.plural", "Required value");
        else if (!util_is_dns1035_label(plural)) {
                (void) util_quote(q, sizeof(q), plural);
                r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.names.plural", "Invalid value: %s: %s", q, dns1035_msg);
        }
        if (!kind || !*kind)
                r |= schema_add_cause(p->causes, "FieldValueRequired", "spec.names.kind", "Required value");
        if (!scope || (strcmp(scope, "Namespaced") && strcmp(scope, "Cluster"))) {
                (void) util_quote(q, sizeof(q), scope ? scope : "");
                r |= scope ? schema_add_cause(p->causes, "FieldValueNotSupported", "spec.scope",
                                              "Unsupported value: %s: supported values: \"Cluster\", \"Namespaced\"", q)
                           : schema_add_cause(p->causes, "FieldValueRequired", "spec.scope", "Required value");
        }
        if (group && plural && name) {
                char want[600];
                (void) snprintf(want, sizeof(want), "%s.%s", plural, group);
                if (strcmp(want, name)) {
                        (void) util_quote(q, sizeof(q), name);
                        r |= schema_add_cause(p->causes, "FieldValueInvalid", "metadata.name",
                                              "Invalid value: %s: must be spec.names.plural+\".\"+spec.group", q);
                }
        }
        r |= check_api_approval(obj, old, group, p->causes);
        size_t storage = 0, i;
        json_t *v;
        if (!json_array_size(versions))
                r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.versions", "Invalid value: []apiextensions.CustomResourceDefinitionVersion(nil): must have exactly one version marked as storage version");
        json_array_foreach(versions, i, v) {
                char f[128];
                if (json_is_true(json_object_get(v, "storage")))
                        storage++;
                const char *vn = json_string_value(json_object_get(v, "name"));
                if (!vn || !util_is_dns1035_label(vn)) {
                        (void) snprintf(f, sizeof(f), "spec.versions[%zu].name", i);
                        (void) util_quote(q, sizeof(q), vn ? vn : "");
                        r |= schema_add_cause(p->causes, "FieldValueInvalid", f, "Invalid value: %s: %s", q, dns1035_msg);
                }
                json_t *schema = json_object_get(json_object_get(v, "schema"), "openAPIV3Schema");
                if (!json_is_object(schema)) {
                        (void) snprintf(f, sizeof(f), "spec.versions[%zu].schema.openAPIV3Schema", i);
                        r |= schema_add_cause(p->causes, "FieldValueRequired", f, "Required value: schemas are required");
                } else {
                        char path[CRD_PATH_MAX];
                        (void) snprintf(path, sizeof(path), "spec.versions[%zu].schema.openAPIV3Schema", i);
                        size_t before = json_array_size(p->causes);
                        r |= crd_schema_openapi(schema, path, p->causes);
                        /* the structural checks run only on a schema the first pass accepted */
                        if (json_array_size(p->causes) == before)
                                r |= crd_schema_structural(schema, path, LVL_ROOT, p->causes);
                }
        }
        if (json_array_size(versions) && storage != 1)
                r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.versions",
                                      "Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version");
        if (old) {
                json_t *ospec = json_object_get(old, "spec");
                if (!osb_streq(json_string_value(json_object_get(ospec, "scope")), scope)) {
                        (void) util_quote(q, sizeof(q), scope ? scope : "");
                        r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.scope", "Invalid value: %s: field is immutable", q);
                }
                if (!osb_streq(json_string_value(json_object_get(ospec, "group")), group)) {
                        (void) util_quote(q, sizeof(q), group ? group : "");
                        r |= schema_add_cause(p->causes, "FieldValueInvalid", "spec.group", "Invalid value: %s: field is immutable", q);
                }
        }
        if (r < 0)
                return -ENOMEM;
        if (json_array_size(p->causes))
                return 0;
        /* Defaults, as the v1 defaulting functions set them. */
        char buf[600];
        if (!json_string_value(json_object_get(names, "singular"))) {
                (void) snprintf(buf, sizeof(buf), "%s", kind);
                for (char *c = buf; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                if (json_object_set_new(names, "singular", json_string(buf)) < 0)
                        return -ENOMEM;
        }
        if (!json_string_value(json_object_get(names, "listKind"))) {
                (void) snprintf(buf, sizeof(buf), "%sList", kind);
                if (json_object_set_new(names, "listKind", json_string(buf)) < 0)
                        return -ENOMEM;
        }
        if (!json_object_get(spec, "conversion") &&
            json_object_set_new(spec, "conversion", json_pack("{s:s}", "strategy", "None")) < 0)
                return -ENOMEM;
        /* Status, as the naming and establishing controllers set it. */
        char when[32];
        now_rfc3339(when);
        json_t *ost = json_object_get(old, "status");
        json_t *conds = json_object_get(ost, "conditions");
        json_t *stored = json_array();
        json_t *osv = json_object_get(ost, "storedVersions");
        json_array_foreach(osv, i, v)
                if (stored && json_array_append(stored, v) < 0)
                        goto oom;
        json_array_foreach(versions, i, v)
                if (json_is_true(json_object_get(v, "storage")) &&
                    !util_json_strarr_has(stored, json_string_value(json_object_get(v, "name"))) && stored &&
                    json_array_append(stored, json_object_get(v, "name")) < 0)
                        goto oom;
        json_t *status = json_pack("{s:O, s:o, s:o}", "acceptedNames", names, "conditions",
                                   json_array_size(conds) ? json_incref(conds)
                                                          : json_pack("[o, o]",
                                                                      condition("NamesAccepted", "True", "NoConflicts",
                                                                                "no conflicts found", when),
                                                                      condition("Established", "True", "InitialNamesAccepted",
                                                                                "the initial names have been accepted", when)),
                                   "storedVersions", stored);
        stored = NULL;
        if (!status || json_object_set_new(obj, "status", status) < 0)
                return -ENOMEM;
        /* A copy: the conditions may be the old object's. */
        json_t *nconds = json_copy(json_object_get(status, "conditions"));
        if (!nconds || json_object_set_new(status, "conditions", nconds) < 0 ||
            set_approval_condition(nconds, obj, group, when) < 0)
                return -ENOMEM;
        (void) a;
        return 0;
oom:
        json_decref(stored);
        return -ENOMEM;
}

static int prep_custom(const struct kt_type *t, json_t *obj, const struct api_opts *o, struct prep *p)
{
        if (!t->schema)
                return 0;
        json_t *unknown = json_array();
        if (!unknown || schema_prune(t->schema, obj, unknown) < 0) {
                json_decref(unknown);
                return -ENOMEM;
        }
        if (json_array_size(unknown) && o && o->field_validation &&
            (!strcmp(o->field_validation, "Strict") || !strcmp(o->field_validation, "Warn"))) {
                char list[900];
                size_t off = 0, i;
                json_t *u;
                json_array_foreach(unknown, i, u)
                        if (off < sizeof(list))
                                off += (size_t) snprintf(list + off, sizeof(list) - off, "%sunknown field \"%s\"",
                                                         i ? ", " : "", json_string_value(u));
                if (!strcmp(o->field_validation, "Strict"))
                        (void) snprintf(p->bad, sizeof(p->bad), "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
                                        t->kind, t->version, t->kind, list);
                else
                        (void) snprintf(p->warning, sizeof(p->warning), "%.500s", list);
        }
        json_decref(unknown);
        if (schema_default(t->schema, obj) < 0)
                return -ENOMEM;
        return schema_validate(t->schema, obj, p->causes) < 0 ? -ENOMEM : 0;
}

/* Runs the kind's preparation and the metadata checks. Returns 0 (look at p), or -ENOMEM. */
static int prepare(struct api *a, const struct kt_type *t, json_t *obj, const json_t *old, const struct api_opts *o,
                   struct prep *p)
{
        int r = 0;
        switch (t->builtin) {
        case BT_SECRET:
                r = prep_secret(obj, old, p);
                break;
        case BT_CONFIGMAP:
                r = prep_configmap(obj, old, p);
                break;
        case BT_NAMESPACE:
                r = prep_namespace(obj, old, p);
                break;
        case BT_CRD:
                r = prep_crd(a, obj, old, p);
                break;
        case BT_NONE:
                r = prep_custom(t, obj, o, p);
                break;
        case BT_POD:
        case BT_SERVICE:
        case BT_PVC:
        case BT_DEPLOYMENT:
        case BT_STATEFULSET:
        case BT_DAEMONSET:
        case BT_PDB:
        case BT_ROLE:
        case BT_ROLEBINDING:
        case BT_CLUSTERROLE:
        case BT_CLUSTERROLEBINDING:
        case BT_MUTATINGWEBHOOK:
        case BT_VALIDATINGWEBHOOK:
                r = kinds_prepare(t, obj, old, p->causes);
                break;
        case BT_EVENT:
                r = validate_event(obj, p->causes);
                break;
        case BT_EVENT_V1:
        case BT_SERVICEACCOUNT:
        case BT_LEASE:
        case BT_SSAR:  /* answered by the server, never stored */
        case BT_SAR:
                break;
        }
        if (r < 0 || p->bad[0])
                return r;
        const char *name = mstr(obj, "name");
        if (validate_name(t, name ? name : "", p->causes) < 0)
                return -ENOMEM;
        return validate_meta(t, obj, p->causes);
}

/* ---- the write paths (store lock held) ---- */

static bool is_deleting(const json_t *obj)
{
        return mstr(obj, "deletionTimestamp") != NULL;
}

static bool no_finalizers_left(const struct kt_type *t, const json_t *obj)
{
        if (json_array_size(json_object_get(meta_of(obj), "finalizers")))
                return false;
        if (t->builtin == BT_NAMESPACE && json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")))
                return false;
        return true;
}

/* Hooks after an object of @t changed in the store. */
static void after_put(struct api *a, const struct kt_type *t, const json_t *obj)
{
        if (t->builtin == BT_CRD) {
                char msg[256];
                if (types_register_crd(a->types, obj, msg, sizeof(msg)) < 0)
                        osb_log_warn("cannot serve CRD", "name=%s", mstr(obj, "name") ? mstr(obj, "name") : "");
        }
}

static void remove_locked(struct api *a, const struct kt_type *t, const char *ns, const char *name, json_t *final)
{
        (void) store_remove(a->st, t->storage_key, ns, name, final);
        if (t->builtin == BT_CRD)
                types_unregister_crd(a->types, name);
}

static unsigned create_locked(struct api *a, struct kt_type *t, const char *ns, json_t *obj, const struct api_opts *o,
                              bool internal, struct api_result *res);

static void create_namespace_defaults(struct api *a, const char *ns)
{
        struct kt_type *sa = types_find(a->types, "", "v1", "serviceaccounts");
        struct kt_type *cm = types_find(a->types, "", "v1", "configmaps");
        struct api_result r1 = {0}, r2 = {0};
        struct api_opts o = API_OPTS_INIT;
        json_t *so = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata", "name", "default");
        json_t *co = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
                               "name", "kube-root-ca.crt", "annotations", "kubernetes.io/description",
                               "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                               "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                               "guaranteed across distributions of Kubernetes clusters.",
                               "data", "ca.crt", a->root_ca ? a->root_ca : "");
        if (sa && so)
                (void) create_locked(a, sa, ns, so, &o, true, &r1);
        else
                json_decref(so);
        if (cm && co)
                (void) create_locked(a, cm, ns, co, &o, true, &r2);
        else
                json_decref(co);
        api_result_release(&r1);
        api_result_release(&r2);
        kt_type_unref(sa);
        kt_type_unref(cm);
}

/* Admission of a create (@old NULL) or an update: sets apiVersion and kind, then defaults and
 * validates @obj (prepare()). Returns 0 to go on (its warning in @res), or the status of the
 * refusal already in @res: 400 BadRequest, 422 Invalid with the causes, 500. */
static unsigned admit(struct api *a, const struct kt_type *t, json_t *obj, const json_t *old, const struct api_opts *o,
                      const char *name, struct api_result *res)
{
        if (json_object_set_new(obj, "apiVersion", json_string(t->builtin == BT_EVENT_V1 ? "v1" : t->api_version)) < 0 ||
            json_object_set_new(obj, "kind", json_string(t->kind)) < 0)
                return oom(res);
        struct prep p = {.causes = json_array()};
        if (!p.causes)
                return oom(res);
        unsigned c = 0;
        if (prepare(a, t, obj, old, o, &p) < 0)
                c = oom(res);
        else if (p.bad[0])
                c = bad_request(res, "%s", p.bad);
        else if (json_array_size(p.causes))
                c = invalid(res, t, name, p.causes);
        else
                (void) snprintf(res->warning, sizeof(res->warning), "%s", p.warning);
        json_decref(p.causes);
        return c;
}

/* @obj is owned. @internal: created by the server itself (no kind checks). */
static unsigned create_locked(struct api *a, struct kt_type *t, const char *ns, json_t *obj, const struct api_opts *o,
                              bool internal, struct api_result *res)
{
        osb_autojson json_t *own = obj;  /* released on every return */
        (void) own;
        char q[512];
        json_t *meta = util_json_obj_ensure(obj, "metadata");
        if (!meta)
                return oom(res);
        ns = ns_or_empty(t, ns);
        const char *bns = json_string_value(json_object_get(meta, "namespace"));
        if (t->namespaced) {
                if (bns && *bns && strcmp(bns, ns))
                        return bad_request(res, "the namespace of the provided object does not match the namespace sent on the request");
                if (json_object_set_new(meta, "namespace", json_string(ns)) < 0)
                        return oom(res);
        } else {
                (void) json_object_del(meta, "namespace");
        }
        const char *name = json_string_value(json_object_get(meta, "name"));
        const char *gen = json_string_value(json_object_get(meta, "generateName"));
        if ((!name || !*name) && gen && *gen) {
                char buf[320], suffix[8];
                util_random_suffix(suffix, 5);
                (void) snprintf(buf, sizeof(buf), "%.*s%s", (int) OSB_MIN(strlen(gen), 58), gen, suffix);
                if (json_object_set_new(meta, "name", json_string(buf)) < 0)
                        return oom(res);
                name = json_string_value(json_object_get(meta, "name"));
        }
        if (!name || !*name) {
                json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired", "message",
                                           "Required value: name or generateName is required", "field", "metadata.name");
                if (!causes)
                        return oom(res);
                unsigned c = invalid(res, t, "", causes);
                json_decref(causes);
                return c;
        }
        if (t->namespaced) {
                json_t *nso = store_get(a->st, NS_KEY, "", ns);
                if (!nso)
                        return ns_not_found(res, ns);
                if (is_deleting(nso)) {
                        char msg[512];
                        (void) snprintf(msg, sizeof(msg), "unable to create new content in namespace %s because it is being terminated", ns);
                        json_t *d = details(t, name, NULL);
                        if (d)
                                (void) json_object_set_new(d, "causes", json_pack("[{s:s, s:s, s:s}]", "reason", "NamespaceTerminating",
                                                                                  "message", msg, "field", "metadata.namespace"));
                        return api_fail(res, 403, "Forbidden", d, "%s \"%s\" is forbidden: %s", qresource(t, q, sizeof(q)), name, msg);
                }
        }
        if (t->crd_name) {
                json_t *crd = store_get(a->st, CRD_KEY, "", t->crd_name);
                if (crd && is_deleting(crd))
                        return api_fail(res, 405, "MethodNotAllowed", details(t, name, NULL),
                                        "create not allowed while custom resource definition is terminating");
        }
        char uid[37], when[32];
        util_uuid(uid);
        now_rfc3339(when);
        if (json_object_set_new(meta, "uid", json_string(uid)) < 0 ||
            json_object_set_new(meta, "creationTimestamp", json_string(when)) < 0)
                return oom(res);
        const char *drop[] = {"deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink", "managedFields"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(drop); i++)
                (void) json_object_del(meta, drop[i]);
        if (tracks_generation(t)) {
                if (json_object_set_new(meta, "generation", json_integer(1)) < 0)
                        return oom(res);
        } else {
                (void) json_object_del(meta, "generation");
        }
        if (t->builtin == BT_NONE && t->has_status)
                (void) json_object_del(obj, "status");
        if (t->builtin == BT_EVENT_V1 && rename_fields(obj, 1, 0) < 0)
                return oom(res);
        unsigned refused = admit(a, t, obj, NULL, o, name, res);
        if (refused)
                return refused;
        if (store_get(a->st, t->storage_key, ns, name))
                return api_fail(res, 409, "AlreadyExists", details(t, name, NULL), "%s \"%s\" already exists",
                                qresource(t, q, sizeof(q)), name);
        if (o->dry_run) {
                res->body = out_obj(t, obj);
                res->code = 201;
                return res->body ? 201 : oom(res);
        }
        char *name_copy = osb_strdup(name);
        if (!name_copy || !store_put(a->st, t->storage_key, ns, name_copy, json_incref(obj))) {
                osb_free(name_copy);
                return oom(res);
        }
        after_put(a, t, obj);
        if (t->builtin == BT_NAMESPACE)
                create_namespace_defaults(a, name_copy);
        osb_free(name_copy);
        res->body = out_obj(t, obj);
        res->code = 201;
        return res->body ? 201 : oom(res);
}

static bool body_kind_ok(const struct kt_type *t, const json_t *obj, struct api_result *res)
{
        const char *av = json_string_value(json_object_get(obj, "apiVersion"));
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        if (!kind || !*kind) {
                char *txt = dump_text(obj);
                (void) bad_request(res, "Object 'Kind' is missing in '%.400s'", txt ? txt : "");
                osb_free(txt);
                return false;
        }
        if (!av || !*av) {
                char *txt = dump_text(obj);
                (void) bad_request(res, "Object 'apiVersion' is missing in '%.400s'", txt ? txt : "");
                osb_free(txt);
                return false;
        }
        if (strcmp(av, t->api_version) != 0) {
                /* Another served version of the same resource is fine (no conversion needed). */
                const char *slash = strchr(av, '/');
                size_t gl = slash ? (size_t) (slash - av) : 0;
                bool same_group = slash ? (strlen(t->group) == gl && !strncmp(av, t->group, gl)) : !*t->group;
                if (!same_group || !t->crd_name) {
                        (void) bad_request(res, "the API version in the data (%s) does not match the expected API version (%s)",
                                           av, t->api_version);
                        return false;
                }
        }
        if (strcmp(kind, t->kind) != 0) {
                (void) bad_request(res, "the kind in the data (%s) does not match the expected kind (%s)", kind, t->kind);
                return false;
        }
        return true;
}

unsigned api_create(struct api *a, const struct api_target *t, const json_t *obj, const struct api_opts *o,
                    struct api_result *res)
{
        if (t->sub)
                return api_fail(res, 405, "MethodNotAllowed", NULL, "the server does not allow this method on the requested resource");
        if (!body_kind_ok(t->type, obj, res))
                return res->code;
        char msg[512];
        if (check_decodable(obj, msg, sizeof(msg)) < 0)
                return bad_request(res, "%s in version \"%s\" cannot be handled as a %s: %s", t->type->kind,
                                   t->type->version, t->type->kind, msg);
        json_t *copy = json_deep_copy(obj);
        if (!copy)
                return oom(res);
        store_lock(a->st);
        unsigned c = create_locked(a, t->type, t->ns, copy, o, false, res);
        store_unlock(a->st);
        return c;
}

static json_t *strip_for_compare(const json_t *obj, bool drop_status)
{
        json_t *c = json_copy((json_t *) obj);
        if (!c)
                return NULL;
        (void) json_object_del(c, "metadata");
        if (drop_status)
                (void) json_object_del(c, "status");
        (void) json_object_del(c, "apiVersion");
        (void) json_object_del(c, "kind");
        return c;
}

static bool spec_changed(const struct kt_type *t, const json_t *old, const json_t *cur)
{
        json_t *a = strip_for_compare(old, t->has_status), *b = strip_for_compare(cur, t->has_status);
        bool changed = !a || !b || !json_equal(a, b);
        json_decref(a);
        json_decref(b);
        return changed;
}

/* @body borrowed. @sub: NULL, "status" or "finalize". */
static unsigned update_locked(struct api *a, struct kt_type *t, const char *ns, const char *name, const char *sub,
                              const json_t *body, const struct api_opts *o, struct api_result *res)
{
        char q[512];
        ns = ns_or_empty(t, ns);
        json_t *old = store_get(a->st, t->storage_key, ns, name);
        if (!old)
                return not_found(res, t, name);
        json_t *bmeta = meta_of(body);
        const char *bname = json_string_value(json_object_get(bmeta, "name"));
        if (bname && *bname && strcmp(bname, name))
                return bad_request(res, "the name of the object (%s) does not match the name on the URL (%s)", bname, name);
        const char *bns = json_string_value(json_object_get(bmeta, "namespace"));
        if (t->namespaced && bns && *bns && strcmp(bns, ns))
                return bad_request(res, "the namespace of the provided object does not match the namespace sent on the request");
        const char *brv = json_string_value(json_object_get(bmeta, "resourceVersion"));
        if (brv && *brv && strcmp(brv, mstr(old, "resourceVersion")))
                return conflict(res, t, name, "the object has been modified; please apply your changes to the latest version and try again");

        osb_autojson json_t *obj = NULL;
        if (sub && !strcmp(sub, "status")) {
                obj = json_deep_copy(old);
                json_t *st = json_object_get(body, "status");
                if (!obj || (st ? json_object_set(obj, "status", st) : (json_object_del(obj, "status"), 0)) < 0)
                        return oom(res);
        } else if (sub && !strcmp(sub, "finalize")) {
                obj = json_deep_copy(old);
                json_t *spec = obj ? util_json_obj_ensure(obj, "spec") : NULL;
                json_t *fin = json_object_get(json_object_get(body, "spec"), "finalizers");
                if (!spec || (fin ? json_object_set(spec, "finalizers", fin) : (json_object_del(spec, "finalizers"), 0)) < 0)
                        return oom(res);
        } else {
                obj = json_deep_copy(body);
                json_t *meta = obj ? util_json_obj_ensure(obj, "metadata") : NULL;
                if (!meta)
                        return oom(res);
                json_t *ometa = meta_of(old);
                const char *keep[] = {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                      "generation", "generateName"};
                for (size_t i = 0; i < OSB_ELEMENTSOF(keep); i++) {
                        json_t *v = json_object_get(ometa, keep[i]);
                        if ((v ? json_object_set(meta, keep[i], v) : (json_object_del(meta, keep[i]), 0)) < 0)
                                return oom(res);
                }
                (void) json_object_del(meta, "managedFields");
                (void) json_object_del(meta, "selfLink");
                if (json_object_set_new(meta, "name", json_string(name)) < 0 ||
                    (t->namespaced && json_object_set_new(meta, "namespace", json_string(ns)) < 0))
                        return oom(res);
                if (t->has_status) {
                        json_t *ost = json_object_get(old, "status");
                        if ((ost ? json_object_set(obj, "status", ost) : (json_object_del(obj, "status"), 0)) < 0)
                                return oom(res);
                }
                if (t->builtin == BT_EVENT_V1 && rename_fields(obj, 1, 0) < 0)
                        return oom(res);
                unsigned refused = admit(a, t, obj, old, o, name, res);
                if (refused)
                        return refused;
        }
        if (t->builtin == BT_NONE && t->schema && sub && !strcmp(sub, "status")) {
                struct prep p = {.causes = json_array()};
                if (!p.causes || prep_custom(t, obj, o, &p) < 0) {
                        json_decref(p.causes);
                        return oom(res);
                }
                if (json_array_size(p.causes)) {
                        unsigned c = invalid(res, t, name, p.causes);
                        json_decref(p.causes);
                        return c;
                }
                json_decref(p.causes);
        }
        /* No new finalizers once deletion started. */
        if (is_deleting(old)) {
                json_t *of = json_object_get(meta_of(old), "finalizers");
                size_t i;
                json_t *f;
                json_array_foreach(json_object_get(meta_of(obj), "finalizers"), i, f)
                        if (!util_json_strarr_has(of, json_string_value(f))) {
                                json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueForbidden", "message",
                                                           "Forbidden: no new finalizers can be added if the object is being deleted",
                                                           "field", "metadata.finalizers");
                                unsigned c = invalid(res, t, name, causes);
                                json_decref(causes);
                                return c;
                        }
        }
        if (tracks_generation(t) && spec_changed(t, old, obj)) {
                json_int_t g = json_integer_value(json_object_get(meta_of(old), "generation"));
                if (json_object_set_new(meta_of(obj), "generation", json_integer(g + 1)) < 0)
                        return oom(res);
        }
        if (json_object_set(meta_of(obj), "resourceVersion", json_object_get(meta_of(old), "resourceVersion")) < 0)
                return oom(res);
        if (json_equal(obj, old)) {
                res->body = out_obj(t, old);
                res->code = 200;
                return res->body ? 200 : oom(res);
        }
        if (o->dry_run) {
                res->body = out_obj(t, obj);
                res->code = 200;
                return res->body ? 200 : oom(res);
        }
        if (is_deleting(obj) && no_finalizers_left(t, obj)) {
                json_t *final = json_incref(obj);
                remove_locked(a, t, ns, name, final);
                res->body = out_obj(t, obj);
                res->code = 200;
                return res->body ? 200 : oom(res);
        }
        if (!store_put(a->st, t->storage_key, ns, name, json_incref(obj)))
                return oom(res);
        after_put(a, t, obj);
        (void) q;
        res->body = out_obj(t, obj);
        res->code = 200;
        return res->body ? 200 : oom(res);
}

unsigned api_update(struct api *a, const struct api_target *t, const json_t *obj, const struct api_opts *o,
                    struct api_result *res)
{
        if (!t->name)
                return api_fail(res, 405, "MethodNotAllowed", NULL, "the server does not allow this method on the requested resource");
        if (!body_kind_ok(t->type, obj, res))
                return res->code;
        char msg[512];
        if (check_decodable(obj, msg, sizeof(msg)) < 0)
                return bad_request(res, "%s in version \"%s\" cannot be handled as a %s: %s", t->type->kind,
                                   t->type->version, t->type->kind, msg);
        store_lock(a->st);
        unsigned c = update_locked(a, t->type, t->ns, t->name, t->sub, obj, o, res);
        store_unlock(a->st);
        return c;
}

unsigned api_patch(struct api *a, const struct api_target *t, const char *content_type, const json_t *patch,
                   const struct api_opts *o, struct api_result *res)
{
        if (!t->name)
                return api_fail(res, 405, "MethodNotAllowed", NULL, "the server does not allow this method on the requested resource");
        char ct[128];
        (void) snprintf(ct, sizeof(ct), "%s", content_type ? content_type : "");
        ct[strcspn(ct, "; ")] = '\0';
        enum { MERGE, JSONPATCH, STRATEGIC, APPLY } kind;
        if (!strcasecmp(ct, "application/merge-patch+json"))
                kind = MERGE;
        else if (!strcasecmp(ct, "application/json-patch+json"))
                kind = JSONPATCH;
        else if (!strcasecmp(ct, "application/strategic-merge-patch+json") && t->type->builtin != BT_NONE)
                kind = STRATEGIC;
        else if (!strcasecmp(ct, "application/apply-patch+yaml") || !strcasecmp(ct, "application/apply-patch+json"))
                kind = APPLY;
        else
                return api_fail(res, 415, "UnsupportedMediaType", NULL,
                                "the body of the request was in an unknown format - accepted media types include: "
                                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml%s",
                                t->type->builtin != BT_NONE ? ", application/strategic-merge-patch+json" : "");
        if (kind != JSONPATCH && !json_is_object(patch))
                return bad_request(res, "json: cannot unmarshal array into Go value of type map[string]interface {}");
        struct kt_type *ty = t->type;
        const char *ns = ns_or_empty(ty, t->ns);
        store_lock(a->st);
        json_t *old = store_get(a->st, ty->storage_key, ns, t->name);
        if (!old && kind == APPLY) {
                /* Server-side apply creates (field ownership is not tracked). */
                json_t *copy = json_deep_copy(patch);
                unsigned c = !copy ? oom(res) : !body_kind_ok(ty, copy, res) ? (json_decref(copy), res->code)
                                                                              : create_locked(a, ty, ns, copy, o, false, res);
                store_unlock(a->st);
                return c;
        }
        if (!old) {
                store_unlock(a->st);
                return not_found(res, ty, t->name);
        }
        osb_autojson json_t *cur = out_obj(ty, old);
        osb_autojson json_t *patched = NULL;
        char msg[1024] = "";
        int r = !cur ? -ENOMEM : 0;
        if (r == 0) {
                switch (kind) {
                case MERGE:
                case APPLY:
                        r = patch_merge(cur, patch, &patched);
                        break;
                case JSONPATCH:
                        r = patch_json(cur, patch, &patched, msg, sizeof(msg));
                        break;
                case STRATEGIC:
                        r = patch_strategic(cur, patch, &patched, msg, sizeof(msg));
                        break;
                }
        }
        unsigned c;
        if (r == -ENOMEM)
                c = oom(res);
        else if (r < 0 && kind == JSONPATCH)
                c = api_fail(res, 422, "Invalid", NULL, "%s", msg);
        else if (r < 0)
                c = bad_request(res, "%s", msg);
        else if (!json_is_object(patched))
                c = bad_request(res, "the patch produced a value that is not an object");
        else {
                /* The patch may not change the identity. */
                const char *pn = mstr(patched, "name");
                if (pn && strcmp(pn, t->name))
                        c = bad_request(res, "the name of the object (%s) does not match the name on the URL (%s)", pn, t->name);
                else
                        c = update_locked(a, ty, ns, t->name, t->sub, patched, o, res);
        }
        store_unlock(a->st);
        return c;
}

/* ---- delete ---- */

static int add_finalizer(json_t *obj, const char *f)
{
        json_t *meta = meta_of(obj);
        json_t *fins = json_object_get(meta, "finalizers");
        if (!json_is_array(fins)) {
                fins = json_array();
                if (!fins || json_object_set_new(meta, "finalizers", fins) < 0)
                        return -ENOMEM;
        }
        if (util_json_strarr_has(fins, f))
                return 0;
        return json_array_append_new(fins, json_string(f)) < 0 ? -ENOMEM : 0;
}

static unsigned delete_locked(struct api *a, struct kt_type *t, const char *ns, const char *name, const char *policy,
                              const json_t *preconditions, bool dry_run, struct api_result *res)
{
        ns = ns_or_empty(t, ns);
        json_t *old = store_get(a->st, t->storage_key, ns, name);
        if (!old)
                return not_found(res, t, name);
        const char *puid = json_string_value(json_object_get(preconditions, "uid"));
        const char *prv = json_string_value(json_object_get(preconditions, "resourceVersion"));
        char why[512];
        if (puid && strcmp(puid, mstr(old, "uid") ? mstr(old, "uid") : "")) {
                (void) snprintf(why, sizeof(why), "Precondition failed: UID in precondition: %s, UID in object meta: %s", puid,
                                mstr(old, "uid") ? mstr(old, "uid") : "");
                return conflict(res, t, name, why);
        }
        if (prv && strcmp(prv, mstr(old, "resourceVersion"))) {
                (void) snprintf(why, sizeof(why),
                                "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
                                prv, mstr(old, "resourceVersion"));
                return conflict(res, t, name, why);
        }
        if (t->builtin == BT_NAMESPACE &&
            (!strcmp(name, "default") || !strcmp(name, "kube-system") || !strcmp(name, "kube-public")))
                return api_fail(res, 403, "Forbidden", details(t, name, NULL),
                                "namespaces \"%s\" is forbidden: this namespace may not be deleted", name);
        osb_autojson json_t *obj = json_deep_copy(old);
        if (!obj)
                return oom(res);
        json_t *meta = meta_of(obj);
        bool was_deleting = is_deleting(old);
        if (policy && !strcmp(policy, "Orphan") && add_finalizer(obj, "orphan") < 0)
                return oom(res);
        if (policy && !strcmp(policy, "Foreground") && add_finalizer(obj, "foregroundDeletion") < 0)
                return oom(res);
        if (t->builtin == BT_CRD && add_finalizer(obj, CRD_FINALIZER) < 0)
                return oom(res);
        if (t->builtin == BT_NAMESPACE) {
                if (json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Terminating")) < 0)
                        return oom(res);
        }
        if (t->builtin == BT_CRD && !was_deleting) {
                char when[32];
                now_rfc3339(when);
                json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
                if (json_is_array(conds))
                        (void) json_array_append_new(conds, condition("Terminating", "True", "InstanceDeletionInProgress",
                                                                      "CustomResource deletion is in progress", when));
        }
        if (!no_finalizers_left(t, obj)) {
                if (!was_deleting) {
                        char when[32];
                        now_rfc3339(when);
                        if (json_object_set_new(meta, "deletionTimestamp", json_string(when)) < 0 ||
                            json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0)) < 0)
                                return oom(res);
                }
                if (json_object_set(meta, "resourceVersion", json_object_get(meta_of(old), "resourceVersion")) < 0)
                        return oom(res);
                if (!dry_run && !json_equal(obj, old)) {
                        if (!store_put(a->st, t->storage_key, ns, name, json_incref(obj)))
                                return oom(res);
                }
                res->body = out_obj(t, obj);
                res->code = 200;
                return res->body ? 200 : oom(res);
        }
        char *uid = osb_strdup(mstr(old, "uid") ? mstr(old, "uid") : "");
        if (!uid)
                return oom(res);
        if (!dry_run)
                remove_locked(a, t, ns, name, NULL);
        json_t *d = details(t, name, NULL);
        if (d)
                (void) json_object_set_new(d, "uid", json_string(uid));
        osb_free(uid);
        json_t *body = json_pack("{s:s, s:s, s:{}, s:s, s:o}", "kind", "Status", "apiVersion", "v1", "metadata", "status",
                                 "Success", "details", d ? d : json_object());
        if (!body)
                return oom(res);
        json_decref(res->body);
        res->body = body;
        res->code = 200;
        return 200;
}

static const char *delete_policy(const json_t *delopts, const struct api_opts *o)
{
        const char *p = json_string_value(json_object_get(delopts, "propagationPolicy"));
        if (!p)
                p = o->propagation;
        json_t *orphan = json_object_get(delopts, "orphanDependents");
        if (!p && json_is_boolean(orphan))
                p = json_is_true(orphan) ? "Orphan" : "Background";
        return p;
}

static bool dry_run_in(const json_t *delopts, const struct api_opts *o)
{
        json_t *dr = json_object_get(delopts, "dryRun");
        return o->dry_run || util_json_strarr_has(dr, "All");
}

unsigned api_delete(struct api *a, const struct api_target *t, const json_t *delopts, const struct api_opts *o,
                    struct api_result *res)
{
        if (!t->name || t->sub)
                return api_fail(res, 405, "MethodNotAllowed", NULL, "the server does not allow this method on the requested resource");
        const char *policy = delete_policy(delopts, o);
        if (policy && strcmp(policy, "Orphan") && strcmp(policy, "Foreground") && strcmp(policy, "Background")) {
                json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueNotSupported", "message",
                                           "Unsupported value: ...: supported values: \"Foreground\", \"Background\", \"Orphan\"",
                                           "field", "propagationPolicy");
                char q[256];
                (void) util_quote(q, sizeof(q), policy);
                unsigned c = api_fail(res, 422, "Invalid", json_pack("{s:s, s:o}", "kind", "DeleteOptions", "causes", causes),
                                      "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: %s: "
                                      "supported values: \"Foreground\", \"Background\", \"Orphan\"", q);
                return c;
        }
        store_lock(a->st);
        unsigned c = delete_locked(a, t->type, t->ns, t->name, policy, json_object_get(delopts, "preconditions"),
                                   dry_run_in(delopts, o), res);
        store_unlock(a->st);
        return c;
}

/* ---- reads ---- */

struct field_ctx {
        const json_t *obj;
        char buf[64];
};

static const char *field_get(void *userdata, const char *field)
{
        struct field_ctx *f = userdata;
        if (!strcmp(field, "metadata.name"))
                return mstr(f->obj, "name");
        if (!strcmp(field, "metadata.namespace"))
                return mstr(f->obj, "namespace");
        if (!strcmp(field, "source"))
                return util_json_str2(f->obj, "source", "component");
        json_t *v = util_json_get_path(f->obj, field);
        if (json_is_integer(v)) {
                (void) snprintf(f->buf, sizeof(f->buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return f->buf;
        }
        return json_string_value(v);
}

static bool field_supported(const struct kt_type *t, const char *field)
{
        static const char *const event_fields_sel[] = {
                "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type", NULL};
        if (!strcmp(field, "metadata.name") || !strcmp(field, "metadata.namespace"))
                return true;
        if (t->builtin == BT_EVENT)
                for (const char *const *f = event_fields_sel; *f; f++)
                        if (!strcmp(*f, field))
                                return true;
        if (t->builtin == BT_SECRET && !strcmp(field, "type"))
                return true;
        if (t->builtin == BT_NAMESPACE && !strcmp(field, "status.phase"))
                return true;
        return false;
}

struct filter {
        struct selector *labels, *fields;
};

static void filter_release(struct filter *f)
{
        f->labels = selector_free(f->labels);
        f->fields = selector_free(f->fields);
}

static unsigned filter_init(struct filter *f, const struct kt_type *t, const struct api_opts *o, const char *name,
                            struct api_result *res)
{
        char msg[1024];
        memset(f, 0, sizeof(*f));
        int r = selector_parse_labels(o->label_selector, &f->labels, msg, sizeof(msg));
        if (r == -ENOMEM)
                return oom(res);
        if (r < 0)
                return bad_request(res, "%s", msg);
        char *fs = NULL;
        if (name)
                fs = osb_asprintf("metadata.name=%s%s%s", name, o->field_selector && *o->field_selector ? "," : "",
                                  o->field_selector ? o->field_selector : "");
        r = selector_parse_fields(fs ? fs : o->field_selector, &f->fields, msg, sizeof(msg));
        osb_free(fs);
        if (r == -ENOMEM) {
                filter_release(f);
                return oom(res);
        }
        if (r < 0) {
                filter_release(f);
                return bad_request(res, "%s", msg);
        }
        for (size_t i = 0; i < selector_count(f->fields); i++) {
                const char *k = selector_key(f->fields, i);
                if (!field_supported(t, k)) {
                        unsigned c = t->builtin == BT_NONE
                                             ? bad_request(res, "\"%s\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", k)
                                             : bad_request(res, "field label not supported: %s", k);
                        filter_release(f);
                        return c;
                }
        }
        return 0;
}

static bool filter_match(const struct filter *f, const json_t *obj)
{
        struct field_ctx fc = {.obj = obj};
        return selector_match_labels(f->labels, json_object_get(meta_of(obj), "labels")) &&
               selector_match_fields(f->fields, field_get, &fc);
}

unsigned api_get(struct api *a, const struct api_target *t, const struct api_opts *o, struct api_result *res)
{
        store_lock(a->st);
        json_t *obj = store_get(a->st, t->type->storage_key, ns_or_empty(t->type, t->ns), t->name);
        json_t *out = obj ? out_obj(t->type, obj) : NULL;
        store_unlock(a->st);
        if (!obj)
                return not_found(res, t->type, t->name);
        if (!out)
                return oom(res);
        if (o->table) {
                json_t *objs = json_pack("[o]", out);
                res->body = objs ? table_render(t->type, objs, mstr(out, "resourceVersion"), NULL, o->include_object, true) : NULL;
                json_decref(objs);
        } else {
                res->body = out;
        }
        res->code = 200;
        return res->body ? 200 : oom(res);
}

/* Continue tokens: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"ns/name"}, like the real ones. */
static char *make_continue(uint64_t rv, const char *ns, const char *name)
{
        char start[1024];
        (void) snprintf(start, sizeof(start), "%s/%s", ns ? ns : "", name ? name : "");
        json_t *j = json_pack("{s:s, s:I, s:s}", "v", "meta.k8s.io/v1", "rv", (json_int_t) rv, "start", start);
        char *txt = j ? dump_text(j) : NULL;
        json_decref(j);
        char *enc = txt ? osb_base64_encode(txt, strlen(txt)) : NULL;
        osb_free(txt);
        return enc;
}

static int parse_continue(const char *tok, char *start, size_t n)
{
        char *dec = NULL;
        int rb = osb_base64_decode(tok, strlen(tok), OSB_BASE64_SKIP_NEWLINES, &dec, NULL, NULL);
        if (rb < 0)
                return rb;
        json_t *j = json_loads(dec, 0, NULL);
        osb_free(dec);
        const char *s = json_string_value(json_object_get(j, "start"));
        int r = s ? 0 : -EINVAL;
        if (s)
                (void) snprintf(start, n, "%s", s);
        json_decref(j);
        return r;
}

unsigned api_list(struct api *a, const struct api_target *t, const struct api_opts *o, struct api_result *res)
{
        struct filter f;
        unsigned c = filter_init(&f, t->type, o, NULL, res);
        if (c)
                return c;
        char start[1024] = "";
        if (o->cont && *o->cont && parse_continue(o->cont, start, sizeof(start)) < 0) {
                filter_release(&f);
                return bad_request(res, "continue key is not valid: illegal base64 data");
        }
        /* resourceVersion=N (not "0", not with continue): "not older than N". kube-apiserver's
         * watch cache waits up to 3 s to reach N (waitUntilFreshAndBlock), then answers 504
         * "Too large resource version" (storage.NewTooLargeResourceVersionError: reason Timeout,
         * cause ResourceVersionTooLarge, retryAfterSeconds 1). */
        uint64_t want = 0;
        int64_t v;
        if (o->resource_version && *o->resource_version && strcmp(o->resource_version, "0") && !(o->cont && *o->cont) &&
            osb_parse_int64(o->resource_version, 1, INT64_MAX, &v) == 0)
                want = (uint64_t) v;
        const char *ns = t->type->namespaced && t->ns && *t->ns ? t->ns : NULL;
        store_lock(a->st);
        if (want > store_rv(a->st))
                (void) store_wait(a->st, want - 1, API_TOO_LARGE_WAIT_MS);
        uint64_t rv = store_rv(a->st);
        if (want > rv) {
                store_unlock(a->st);
                filter_release(&f);
                return api_too_large_rv(res, want, rv);
        }
        json_t *all = store_list(a->st, t->type->storage_key, ns);
        store_unlock(a->st);
        json_t *items = json_array();
        char *cont = NULL;
        json_int_t remaining = 0;
        if (!all || !items) {
                json_decref(all);
                json_decref(items);
                filter_release(&f);
                return oom(res);
        }
        size_t i;
        json_t *obj;
        json_array_foreach(all, i, obj) {
                if (start[0]) {
                        char key[1024];
                        (void) snprintf(key, sizeof(key), "%s/%s", mstr(obj, "namespace") ? mstr(obj, "namespace") : "",
                                        mstr(obj, "name"));
                        if (strcmp(key, start) <= 0)
                                continue;
                }
                if (!filter_match(&f, obj))
                        continue;
                if (o->limit > 0 && (int64_t) json_array_size(items) >= o->limit) {
                        remaining++;
                        continue;
                }
                json_t *out = out_obj(t->type, obj);
                if (out && t->type->builtin != BT_NONE && !o->table) {
                        /* typed lists carry no kind/apiVersion per item */
                        (void) json_object_del(out, "kind");
                        (void) json_object_del(out, "apiVersion");
                }
                if (!out || json_array_append_new(items, out) < 0) {
                        json_decref(all);
                        json_decref(items);
                        filter_release(&f);
                        return oom(res);
                }
        }
        json_decref(all);
        filter_release(&f);
        if (remaining) {
                json_t *last = json_array_get(items, json_array_size(items) - 1);
                cont = make_continue(rv, mstr(last, "namespace"), mstr(last, "name"));
        }
        char rvs[32];
        (void) snprintf(rvs, sizeof(rvs), "%" PRIu64, rv);
        if (o->table) {
                res->body = table_render(t->type, items, rvs, cont, o->include_object, true);
                json_decref(items);
        } else {
                res->body = json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", t->type->list_kind, "apiVersion",
                                      t->type->api_version, "metadata", "resourceVersion", rvs, "items", items);
                json_t *meta = meta_of(res->body);
                if (meta && cont) {
                        (void) json_object_set_new(meta, "continue", json_string(cont));
                        (void) json_object_set_new(meta, "remainingItemCount", json_integer(remaining));
                }
        }
        osb_free(cont);
        res->code = 200;
        return res->body ? 200 : oom(res);
}

unsigned api_delete_collection(struct api *a, const struct api_target *t, const json_t *delopts,
                               const struct api_opts *o, struct api_result *res)
{
        if (t->type->builtin == BT_NAMESPACE)
                return api_fail(res, 405, "MethodNotAllowed", NULL, "the server does not allow this method on the requested resource");
        struct filter f;
        unsigned c = filter_init(&f, t->type, o, NULL, res);
        if (c)
                return c;
        const char *policy = delete_policy(delopts, o);
        bool dry = dry_run_in(delopts, o);
        const char *ns = t->type->namespaced && t->ns && *t->ns ? t->ns : NULL;
        store_lock(a->st);
        json_t *all = store_list(a->st, t->type->storage_key, ns);
        json_t *items = json_array();
        size_t i;
        json_t *obj;
        json_array_foreach(all, i, obj) {
                if (!filter_match(&f, obj))
                        continue;
                struct api_result r = {0};
                (void) delete_locked(a, t->type, mstr(obj, "namespace"), mstr(obj, "name"), policy, NULL, dry, &r);
                if (r.code == 200 && items)
                        (void) json_array_append_new(items, out_obj(t->type, obj));
                api_result_release(&r);
        }
        char rvs[32];
        (void) snprintf(rvs, sizeof(rvs), "%" PRIu64, store_rv(a->st));
        store_unlock(a->st);
        json_decref(all);
        filter_release(&f);
        if (!items)
                return oom(res);
        res->body = json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", t->type->list_kind, "apiVersion", t->type->api_version,
                              "metadata", "resourceVersion", rvs, "items", items);
        res->code = 200;
        return res->body ? 200 : oom(res);
}

/* ---- watch ---- */

struct api_watch {
        struct api *a;
        struct kt_type *type;
        struct store_watch *sw;
        struct filter f;
        bool table, headers_sent, bookmarks;
        char *include_object;
        char *error_line;      /* a pending ERROR event (410) */
        uint64_t start_rv;     /* the version the watch started from: bookmarks only past it */
        uint64_t deadline_ms;
        uint64_t last_bookmark_ms;
        bool done;
};

static uint64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static char *event_line(const char *type, json_t *obj /* stolen */, size_t *len)
{
        json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", obj);
        if (!ev)
                return NULL;
        size_t n = 0;
        char *txt = osb_json_dump_flags(ev, JSON_COMPACT | JSON_PRESERVE_ORDER, &n);
        json_decref(ev);
        if (!txt)
                return NULL;
        char *line = osb_realloc(txt, n + 2);
        if (!line) {
                osb_free(txt);
                return NULL;
        }
        line[n] = '\n';
        line[n + 1] = '\0';
        *len = n + 1;
        return line;
}

unsigned api_watch_open(struct api *a, const struct api_target *t, const struct api_opts *o, store_notify_fn notify,
                        void *userdata, struct api_watch **ret, struct api_result *res)
{
        struct api_watch *w = osb_calloc(1, sizeof(*w));
        if (!w)
                return oom(res);
        unsigned c = filter_init(&w->f, t->type, o, t->name, res);
        if (c) {
                osb_free(w);
                return c;
        }
        w->a = a;
        w->type = kt_type_ref(t->type);
        w->table = o->table;
        w->bookmarks = o->allow_bookmarks;
        w->include_object = o->include_object ? osb_strdup(o->include_object) : NULL;
        uint64_t now = mono_ms();
        w->deadline_ms = now + (uint64_t) (o->timeout_seconds > 0 ? o->timeout_seconds : 1800) * 1000u;
        w->last_bookmark_ms = now;
        uint64_t since = 0;
        const char *rvs = o->resource_version;
        if (rvs && *rvs && strcmp(rvs, "0")) {
                int64_t v;
                if (osb_parse_int64(rvs, 1, INT64_MAX, &v) < 0) {
                        api_watch_close(w);
                        return bad_request(res, "invalid resource version: %s", rvs);
                }
                since = (uint64_t) v;
        }
        const char *ns = t->type->namespaced && t->ns && *t->ns ? t->ns : NULL;
        store_lock(a->st);
        int r = store_watch_open(a->st, t->type->storage_key, ns, since, notify, userdata, &w->sw);
        uint64_t cur = store_rv(a->st);
        store_unlock(a->st);
        w->start_rv = since ? since : cur;
        if (r == -ESTALE) {
                json_t *s = api_status(410, "Expired", NULL, "too old resource version: %" PRIu64 " (%" PRIu64 ")", since,
                                       cur >= 1 ? cur - 1 : 0);
                size_t len;
                w->error_line = s ? event_line("ERROR", s, &len) : NULL;
                if (!w->error_line) {
                        api_watch_close(w);
                        return oom(res);
                }
        } else if (r < 0) {
                api_watch_close(w);
                return oom(res);
        }
        *ret = w;
        return 0;
}

static json_t *watch_obj(struct api_watch *w, const json_t *stored)
{
        json_t *out = out_obj(w->type, stored);
        if (!out || !w->table)
                return out;
        json_t *objs = json_pack("[o]", out);
        json_t *tab = objs ? table_render(w->type, objs, mstr(out, "resourceVersion"), NULL, w->include_object,
                                          !w->headers_sent) : NULL;
        json_decref(objs);
        if (tab)
                w->headers_sent = true;
        return tab;
}

char *api_watch_next(struct api_watch *w, size_t *len, bool *done, unsigned bookmark_ms, bool *arm)
{
        *done = false;
        if (w->done) {
                *done = true;
                return NULL;
        }
        if (w->error_line) {
                char *l = OSB_TAKE_PTR(w->error_line);
                *len = strlen(l);
                w->done = true;
                return l;
        }
        uint64_t now = mono_ms();
        if (atomic_load(&w->a->stopping) || now >= w->deadline_ms) {
                w->done = *done = true;
                return NULL;
        }
        char *line = NULL;
        store_lock(w->a->st);
        for (;;) {
                struct store_event ev;
                int r = store_watch_next(w->sw, &ev);
                if (r < 0) {
                        w->done = *done = true;
                        break;
                }
                if (r == 0)
                        break;
                bool now_in = filter_match(&w->f, ev.obj);
                bool was_in = ev.old && filter_match(&w->f, ev.old);
                const char *type = NULL;
                json_t *obj = NULL;
                if (ev.type == STORE_ADDED && now_in) {
                        type = "ADDED";
                        obj = json_incref(ev.obj);
                } else if (ev.type == STORE_MODIFIED && now_in) {
                        type = was_in ? "MODIFIED" : "ADDED";
                        obj = json_incref(ev.obj);
                } else if (ev.type == STORE_MODIFIED && was_in) {
                        /* left the selection: DELETED with the old content at the new version */
                        type = "DELETED";
                        obj = json_deep_copy(ev.old);
                        json_t *m = meta_of(obj);
                        if (m)
                                (void) json_object_set(m, "resourceVersion", json_object_get(meta_of(ev.obj), "resourceVersion"));
                } else if (ev.type == STORE_DELETED && (now_in || was_in)) {
                        type = "DELETED";
                        obj = json_incref(ev.obj);
                }
                if (!type)
                        continue;
                json_t *wo = obj ? watch_obj(w, obj) : NULL;
                json_decref(obj);
                if (!wo) {
                        w->done = *done = true;
                        break;
                }
                line = event_line(type, wo, len);
                if (!line)
                        w->done = *done = true;
                break;
        }
        /* As kube-apiserver's watch cache: a BOOKMARK only with a version newer than the one the
         * watch started from (cacheWatcher drops events, bookmarks too, that are not newer). */
        if (!line && !*done && w->bookmarks && bookmark_ms && now - w->last_bookmark_ms >= bookmark_ms &&
            store_watch_rv(w->sw) > w->start_rv) {
                char rv[32];
                (void) snprintf(rv, sizeof(rv), "%" PRIu64, store_watch_rv(w->sw));
                json_t *bm = json_pack("{s:s, s:s, s:{s:s, s:n}}", "kind", w->type->kind, "apiVersion", w->type->api_version,
                                       "metadata", "resourceVersion", rv, "creationTimestamp");
                line = bm ? event_line("BOOKMARK", bm, len) : NULL;
                w->last_bookmark_ms = now;
        }
        if (!line && !*done && arm)
                *arm = true;
        store_unlock(w->a->st);
        return line;
}

void api_watch_close(struct api_watch *w)
{
        if (!w)
                return;
        if (w->sw) {
                store_lock(w->a->st);
                store_watch_close(w->sw);
                store_unlock(w->a->st);
        }
        filter_release(&w->f);
        kt_type_unref(w->type);
        osb_free(w->include_object);
        osb_free(w->error_line);
        osb_free(w);
}

void api_watch_kick(struct api *a)
{
        store_lock(a->st);
        store_watch_kick_all(a->st);
        store_wake(a->st);
        store_unlock(a->st);
}

/* ---- controllers: garbage collector, namespace and CRD cleanup (store lock held) ---- */

static int remove_finalizer_locked(struct api *a, struct kt_type *t, const json_t *obj, const char *fin, bool spec)
{
        json_t *copy = json_deep_copy(obj);
        if (!copy)
                return -ENOMEM;
        json_t *list = spec ? json_object_get(json_object_get(copy, "spec"), "finalizers")
                            : json_object_get(meta_of(copy), "finalizers");
        (void) util_json_strarr_remove(list, fin);
        const char *ns = mstr(obj, "namespace") ? mstr(obj, "namespace") : "";
        const char *name = mstr(obj, "name");
        if (is_deleting(copy) && no_finalizers_left(t, copy)) {
                char *n = osb_strdup(name);
                char *nsd = osb_strdup(ns);
                if (n && nsd)
                        remove_locked(a, t, nsd, n, copy);
                else
                        json_decref(copy);
                osb_free(n);
                osb_free(nsd);
                return 1;
        }
        char *n = osb_strdup(name);
        char *nsd = osb_strdup(ns);
        uint64_t rv = n && nsd ? store_put(a->st, t->storage_key, nsd, n, copy) : (json_decref(copy), 0);
        osb_free(n);
        osb_free(nsd);
        return rv ? 1 : -ENOMEM;
}

static bool owned_by(const json_t *obj, const char *uid)
{
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(meta_of(obj), "ownerReferences"), i, r)
                if (osb_streq(json_string_value(json_object_get(r, "uid")), uid))
                        return true;
        return false;
}

/* Every stored object (new references), with its type: arrays of equal length. */
struct snapshot {
        struct kt_type **types;
        size_t ntypes;
        json_t *lists;  /* array of arrays, parallel to types */
};

static void snapshot_release(struct snapshot *s)
{
        types_list_free(s->types, s->ntypes);
        json_decref(s->lists);
}

static int snapshot_take(struct api *a, struct snapshot *s)
{
        s->types = types_list_storage(a->types, &s->ntypes);
        s->lists = json_array();
        if (!s->types || !s->lists)
                return -ENOMEM;
        for (size_t i = 0; i < s->ntypes; i++)
                if (json_array_append_new(s->lists, store_list(a->st, s->types[i]->storage_key, NULL)) < 0)
                        return -ENOMEM;
        return 0;
}

/* ---- the owner index: owner uid -> its dependents, as the real garbage collector's graph ----
 * a->gc_owners: uid -> { "KEY\nNS\nNAME" -> [KEY, NS, NAME] }, kept by the controllers thread
 * from the store's change events (and built again by every full pass), so a deletion costs its
 * dependents, not every stored object. */

static int ref_id(char *buf, size_t n, const char *key, const char *ns, const char *name)
{
        int r = snprintf(buf, n, "%s\n%s\n%s", key, ns ? ns : "", name ? name : "");
        return r < 0 || (size_t) r >= n ? -ENAMETOOLONG : 0;
}

/* Adds (@add) or removes @obj (of storage key @key) as a dependent of each of its owners. */
static void owners_index(struct api *a, const char *key, const json_t *obj, bool add)
{
        char id[1400];
        const char *ns = mstr(obj, "namespace") ? mstr(obj, "namespace") : "";
        if (!obj || ref_id(id, sizeof(id), key, ns, mstr(obj, "name")) < 0)
                return;
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(meta_of(obj), "ownerReferences"), i, r) {
                const char *uid = json_string_value(json_object_get(r, "uid"));
                if (!uid)
                        continue;
                json_t *deps = json_object_get(a->gc_owners, uid);
                if (!add) {
                        (void) json_object_del(deps, id);
                        if (deps && !json_object_size(deps))
                                (void) json_object_del(a->gc_owners, uid);
                        continue;
                }
                if (!deps && json_object_set_new(a->gc_owners, uid, deps = json_object()) < 0)
                        continue;
                (void) json_object_set_new(deps, id, json_pack("[sss]", key, ns, mstr(obj, "name")));
        }
}

static int gc_dependents(struct api *a, const char *uid, bool orphan, size_t *remaining)
{
        int changes = 0;
        *remaining = 0;
        /* a copy: deleting and orphaning change the index */
        osb_autojson json_t *deps = json_deep_copy(json_object_get(a->gc_owners, uid));
        const char *id;
        json_t *ref;
        json_object_foreach(deps, id, ref) {
                const char *key = json_string_value(json_array_get(ref, 0));
                const char *ns = json_string_value(json_array_get(ref, 1));
                const char *name = json_string_value(json_array_get(ref, 2));
                json_t *o = store_get(a->st, key, ns, name);
                if (!o || !owned_by(o, uid))
                        continue;
                struct kt_type *t = types_find_storage(a->types, key);
                if (!t)
                        continue;
                if (orphan) {
                        json_t *copy = json_deep_copy(o);
                        json_t *refs = json_object_get(meta_of(copy), "ownerReferences");
                        for (size_t k = 0; k < json_array_size(refs);)
                                if (osb_streq(json_string_value(json_object_get(json_array_get(refs, k), "uid")), uid))
                                        (void) json_array_remove(refs, k);
                                else
                                        k++;
                        if (!json_array_size(refs))
                                (void) json_object_del(meta_of(copy), "ownerReferences");
                        if (copy) {
                                owners_index(a, key, o, false);
                                owners_index(a, key, copy, true);
                                if (store_put(a->st, key, ns, name, copy))
                                        changes++;
                        }
                        kt_type_unref(t);
                        continue;
                }
                (*remaining)++;
                if (!is_deleting(o)) {
                        struct api_result r = {0};
                        (void) delete_locked(a, t, ns, name, "Background", NULL, false, &r);
                        api_result_release(&r);
                        changes++;
                }
                kt_type_unref(t);
        }
        return changes;
}

static int namespace_cleanup(struct api *a, const char *ns, size_t *remaining)
{
        int changes = 0;
        size_t ntypes = 0;
        struct kt_type **types = types_list_storage(a->types, &ntypes);
        *remaining = 0;
        for (size_t i = 0; types && i < ntypes; i++) {
                struct kt_type *t = types[i];
                if (!t->namespaced || !store_count(a->st, t->storage_key, ns))
                        continue;
                json_t *objs = store_list(a->st, t->storage_key, ns);
                size_t j;
                json_t *o;
                json_array_foreach(objs, j, o) {
                        (*remaining)++;
                        if (is_deleting(o))
                                continue;
                        struct api_result r = {0};
                        (void) delete_locked(a, t, ns, mstr(o, "name"), "Background", NULL, false, &r);
                        api_result_release(&r);
                        changes++;
                }
                json_decref(objs);
        }
        types_list_free(types, ntypes);
        return changes;
}

static int crd_cleanup(struct api *a, const json_t *crd, size_t *remaining)
{
        json_t *spec = json_object_get(crd, "spec");
        char key[600];
        (void) snprintf(key, sizeof(key), "%s.%s", util_json_str2(spec, "names", "plural") ?: "",
                        json_string_value(json_object_get(spec, "group")) ?: "");
        struct kt_type *t = types_find_storage(a->types, key);
        *remaining = store_count(a->st, key, NULL);
        if (!t || !*remaining) {
                kt_type_unref(t);
                return 0;
        }
        json_t *objs = store_list(a->st, key, NULL);
        int changes = 0;
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) {
                if (is_deleting(o))
                        continue;
                struct api_result r = {0};
                (void) delete_locked(a, t, mstr(o, "namespace"), mstr(o, "name"), "Background", NULL, false, &r);
                api_result_release(&r);
                changes++;
        }
        json_decref(objs);
        kt_type_unref(t);
        return changes;
}

/* What the controllers do about one stored object @o of type @t: a deleting namespace or CRD
 * empties itself, an orphan or foreground deletion handles the dependents, and a dependent
 * whose owners are all gone is deleted in the background. Returns the changes made. */
static int controllers_object(struct api *a, struct kt_type *t, json_t *o)
{
        int changes = 0;
        const char *ns = mstr(o, "namespace") ? mstr(o, "namespace") : "";
        const char *uid = mstr(o, "uid");
        json_t *fins = json_object_get(meta_of(o), "finalizers");
        size_t remaining;
        if (is_deleting(o)) {
                if (t->builtin == BT_NAMESPACE &&
                    util_json_strarr_has(json_object_get(json_object_get(o, "spec"), "finalizers"), "kubernetes")) {
                        changes += namespace_cleanup(a, mstr(o, "name"), &remaining);
                        if (!remaining)
                                changes += remove_finalizer_locked(a, t, o, "kubernetes", true) > 0;
                        return changes;
                }
                if (t->builtin == BT_CRD && util_json_strarr_has(fins, CRD_FINALIZER)) {
                        changes += crd_cleanup(a, o, &remaining);
                        if (!remaining)
                                changes += remove_finalizer_locked(a, t, o, CRD_FINALIZER, false) > 0;
                        return changes;
                }
                if (util_json_strarr_has(fins, "orphan")) {
                        changes += gc_dependents(a, uid, true, &remaining);
                        changes += remove_finalizer_locked(a, t, o, "orphan", false) > 0;
                        return changes;
                }
                if (util_json_strarr_has(fins, "foregroundDeletion")) {
                        changes += gc_dependents(a, uid, false, &remaining);
                        if (!remaining)
                                changes += remove_finalizer_locked(a, t, o, "foregroundDeletion", false) > 0;
                        return changes;
                }
        }
        json_t *refs = json_object_get(meta_of(o), "ownerReferences");
        if (!json_array_size(refs) || is_deleting(o))
                return changes;
        size_t k;
        json_t *r;
        json_array_foreach(refs, k, r)
                if (store_uid_exists(a->st, json_string_value(json_object_get(r, "uid"))))
                        return changes;
        struct api_result res = {0};
        (void) delete_locked(a, t, ns, mstr(o, "name"), "Background", NULL, false, &res);
        api_result_release(&res);
        return changes + 1;
}

/* Every stored object: the owner index built again, then controllers_object() on each. */
static int controllers_pass_locked(struct api *a)
{
        struct snapshot s = {0};
        json_t *owners = json_object();
        if (!owners || snapshot_take(a, &s) < 0) {
                json_decref(owners);
                snapshot_release(&s);
                return -ENOMEM;
        }
        json_decref(a->gc_owners);
        a->gc_owners = owners;
        for (size_t i = 0; i < s.ntypes; i++) {
                size_t j;
                json_t *o;
                json_array_foreach(json_array_get(s.lists, i), j, o)
                        owners_index(a, s.types[i]->storage_key, o, true);
        }
        int changes = 0;
        for (size_t i = 0; i < s.ntypes; i++) {
                struct kt_type *t = s.types[i];
                size_t j;
                json_t *o;
                json_array_foreach(json_array_get(s.lists, i), j, o) {
                        const char *ns = mstr(o, "namespace") ? mstr(o, "namespace") : "";
                        if (store_get(a->st, t->storage_key, ns, mstr(o, "name")) != o)
                                continue;  /* changed during this pass: its event brings it back */
                        changes += controllers_object(a, t, o);
                }
        }
        snapshot_release(&s);
        return changes;
}

/* Puts KEY/NS/NAME on the list of objects to look at (@todo: id -> [KEY, NS, NAME]). */
static void todo_add(json_t *todo, const char *key, const char *ns, const char *name)
{
        char id[1400];
        if (key && name && ref_id(id, sizeof(id), key, ns, name) == 0 && !json_object_get(todo, id))
                (void) json_object_set_new(todo, id, json_pack("[sss]", key, ns ? ns : "", name));
}

/* The objects a change of @ev makes worth a look, and the owner index kept in step. */
static void controllers_note(struct api *a, json_t *todo, const struct store_event *ev)
{
        const json_t *o = ev->obj;
        const char *ns = mstr(o, "namespace") ? mstr(o, "namespace") : "";
        if (ev->old)
                owners_index(a, ev->key, ev->old, false);
        if (ev->type != STORE_DELETED) {
                owners_index(a, ev->key, o, true);
                if (is_deleting(o) || json_array_size(json_object_get(meta_of(o), "ownerReferences")))
                        todo_add(todo, ev->key, ns, mstr(o, "name"));
                return;
        }
        owners_index(a, ev->key, o, false);
        /* its dependents may have lost their last owner */
        const char *id;
        json_t *ref;
        json_object_foreach(json_object_get(a->gc_owners, mstr(o, "uid")), id, ref)
                todo_add(todo, json_string_value(json_array_get(ref, 0)), json_string_value(json_array_get(ref, 1)),
                         json_string_value(json_array_get(ref, 2)));
        /* its owners may wait for it (foregroundDeletion), its namespace or CRD for it to go */
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(meta_of(o), "ownerReferences"), i, r) {
                const char *uid = json_string_value(json_object_get(r, "uid"));
                const char *okey = NULL;
                if (!uid || !store_uid_exists(a->st, uid))
                        continue;
                /* the owner's name and namespace: kind and name from the reference, namespace ours */
                struct kt_type *t = NULL;
                okey = store_uid_key(a->st, uid);
                t = okey ? types_find_storage(a->types, okey) : NULL;
                const char *oname = json_string_value(json_object_get(r, "name"));
                if (t && oname)
                        todo_add(todo, okey, t->namespaced ? ns : "", oname);
                kt_type_unref(t);
        }
        if (*ns)
                todo_add(todo, NS_KEY, "", ns);
        if (!osb_streq(ev->key, NS_KEY) && !osb_streq(ev->key, CRD_KEY) && strchr(ev->key, '.') &&
            store_get(a->st, CRD_KEY, "", ev->key))
                todo_add(todo, CRD_KEY, "", ev->key);
}

/* The changes since the last call (a->gc_watch), and what they make worth a look. Returns the
 * changes made, or -EPIPE when the watch fell behind the store's history (a full pass is then
 * due). */
static int controllers_incremental_locked(struct api *a)
{
        osb_autojson json_t *todo = json_object();
        if (!todo)
                return -ENOMEM;
        struct store_event ev;
        int r;
        while ((r = store_watch_next(a->gc_watch, &ev)) == 1)
                controllers_note(a, todo, &ev);
        if (r < 0)
                return r;
        int changes = 0;
        const char *id;
        json_t *ref;
        json_object_foreach(todo, id, ref) {
                const char *key = json_string_value(json_array_get(ref, 0));
                const char *ns = json_string_value(json_array_get(ref, 1));
                /* a reference of our own: the object may be replaced meanwhile */
                json_t *o = json_incref(store_get(a->st, key, ns, json_string_value(json_array_get(ref, 2))));
                struct kt_type *t = o ? types_find_storage(a->types, key) : NULL;
                if (t)
                        changes += controllers_object(a, t, o);
                json_decref(o);
                kt_type_unref(t);
        }
        return changes;
}

int api_controllers_pass(struct api *a)
{
        store_lock(a->st);
        int n = controllers_pass_locked(a);
        store_unlock(a->st);
        return n;
}

/* One full pass, then passes over what changed: the store's change events since the last
 * pass (a watch of every key), a full pass again only when that watch fell behind. */
static void *controllers_main(void *arg)
{
        struct api *a = arg;
        store_lock(a->st);
        bool full = true;
        while (!atomic_load(&a->stopping)) {
                int n;
                if (full) {
                        store_watch_close(a->gc_watch);
                        a->gc_watch = NULL;
                        /* the watch starts before the pass, so the pass's own changes are seen */
                        if (store_watch_open(a->st, NULL, NULL, store_rv(a->st), NULL, NULL, &a->gc_watch) < 0)
                                a->gc_watch = NULL;
                        n = controllers_pass_locked(a);
                        full = !a->gc_watch;
                } else {
                        n = controllers_incremental_locked(a);
                        if (n == -EPIPE)
                                full = true;
                }
                if (atomic_load(&a->stopping))
                        break;
                if (n == 0 || (n < 0 && !full)) {
                        (void) store_wait(a->st, store_rv(a->st), 1000);
                        /* a burst of writes (a thousand objects created at once) makes one pass
                         * every 50 ms, not one pass per write */
                        store_unlock(a->st);
                        struct timespec ts = {0, 50 * 1000 * 1000};
                        if (!atomic_load(&a->stopping))
                                (void) nanosleep(&ts, NULL);
                        store_lock(a->st);
                }
        }
        store_watch_close(a->gc_watch);
        a->gc_watch = NULL;
        store_unlock(a->st);
        return NULL;
}

int api_start_controllers(struct api *a)
{
        int r = pthread_create(&a->gc_thread, NULL, controllers_main, a);
        if (r != 0)
                return -r;
        a->gc_running = true;
        return 0;
}

void api_stop_controllers(struct api *a)
{
        if (!a->gc_running)
                return;
        atomic_store(&a->stopping, true);
        store_lock(a->st);
        store_wake(a->st);
        store_unlock(a->st);
        pthread_join(a->gc_thread, NULL);
        a->gc_running = false;
}

/* ---- lifecycle ---- */

int api_new(size_t history, const char *root_ca, struct api **ret)
{
        struct api *a = osb_calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        atomic_init(&a->stopping, false);
        a->root_ca = osb_strdup(root_ca ? root_ca : "");
        if (!a->root_ca || store_new(history, &a->st) < 0 || types_new(&a->types) < 0) {
                api_free(a);
                return -ENOMEM;
        }
        struct kt_type *nst = types_find(a->types, "", "v1", "namespaces");
        const char *names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
        struct api_opts o = API_OPTS_INIT;
        int r = 0;
        store_lock(a->st);
        for (size_t i = 0; i < OSB_ELEMENTSOF(names) && nst; i++) {
                struct api_result res = {0};
                json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", names[i]);
                if (!ns || create_locked(a, nst, NULL, ns, &o, true, &res) != 201)
                        r = -ENOMEM;
                api_result_release(&res);
        }
        /* The roles a real cluster bootstraps, which the authorizer reads like any other. */
        osb_autojson json_t *boot = rbac_bootstrap_objects();
        size_t i;
        json_t *obj;
        r = boot ? r : -ENOMEM;
        json_array_foreach(boot, i, obj) {
                const char *kind = json_string_value(json_object_get(obj, "kind"));
                struct kt_type *t = types_find(a->types, "rbac.authorization.k8s.io", "v1",
                                               osb_streq(kind, "ClusterRole") ? "clusterroles" : "clusterrolebindings");
                struct api_result res = {0};
                if (!t || create_locked(a, t, NULL, json_incref(obj), &o, true, &res) != 201)
                        r = -ENOMEM;
                api_result_release(&res);
                kt_type_unref(t);
        }
        store_unlock(a->st);
        kt_type_unref(nst);
        if (!nst || r < 0) {
                api_free(a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

struct api *api_free(struct api *a)
{
        if (!a)
                return NULL;
        api_stop_controllers(a);
        json_decref(a->gc_owners);
        store_free(a->st);
        types_free(a->types);
        osb_free(a->root_ca);
        osb_free(a);
        return NULL;
}
