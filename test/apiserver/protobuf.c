/* test/apiserver/protobuf.c: a table-driven protobuf-to-JSON decoder for the few k8s.io/api
 * messages we accept (field numbers from k8s.io/api/.../generated.proto). */
#include "common/osb_compat.h"
#include "common/osb_base64.h"
#include "common/osb_mem.h"
#include "test/apiserver/protobuf.h"
#include "test/apiserver/util.h"

enum fkind {
        F_STRING,
        F_BYTES,        /* base64 in JSON */
        F_INT,          /* varint, int64/int32 */
        F_BOOL,
        F_TIME,         /* metav1.Time {seconds=1, nanos=2} -> RFC 3339 */
        F_MICROTIME,    /* metav1.MicroTime -> RFC 3339 with microseconds */
        F_MESSAGE,
        F_MAP_SS,       /* map<string,string> */
        F_MAP_SB,       /* map<string,bytes> */
        F_REP_STRING,
        F_REP_MESSAGE,
};

struct pfield {
        unsigned num;
        const char *name;
        enum fkind kind;
        const struct pfield *sub;  /* F_MESSAGE, F_REP_MESSAGE */
};

#define END {0, NULL, F_STRING, NULL}

static const struct pfield owner_ref[] = {
        {1, "kind", F_STRING, NULL}, {3, "name", F_STRING, NULL},     {4, "uid", F_STRING, NULL},
        {5, "apiVersion", F_STRING, NULL}, {6, "controller", F_BOOL, NULL}, {7, "blockOwnerDeletion", F_BOOL, NULL},
        END,
};
static const struct pfield object_meta[] = {
        {1, "name", F_STRING, NULL},
        {2, "generateName", F_STRING, NULL},
        {3, "namespace", F_STRING, NULL},
        {5, "uid", F_STRING, NULL},
        {6, "resourceVersion", F_STRING, NULL},
        {7, "generation", F_INT, NULL},
        {8, "creationTimestamp", F_TIME, NULL},
        {9, "deletionTimestamp", F_TIME, NULL},
        {10, "deletionGracePeriodSeconds", F_INT, NULL},
        {11, "labels", F_MAP_SS, NULL},
        {12, "annotations", F_MAP_SS, NULL},
        {13, "ownerReferences", F_REP_MESSAGE, owner_ref},
        {14, "finalizers", F_REP_STRING, NULL},
        END,
};
static const struct pfield object_ref[] = {
        {1, "kind", F_STRING, NULL}, {2, "namespace", F_STRING, NULL},      {3, "name", F_STRING, NULL},
        {4, "uid", F_STRING, NULL},  {5, "apiVersion", F_STRING, NULL},     {6, "resourceVersion", F_STRING, NULL},
        {7, "fieldPath", F_STRING, NULL}, END,
};
static const struct pfield local_ref[] = {{1, "name", F_STRING, NULL}, END};
static const struct pfield ns_spec[] = {{1, "finalizers", F_REP_STRING, NULL}, END};
static const struct pfield ns_status[] = {{1, "phase", F_STRING, NULL}, END};
static const struct pfield namespace_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta}, {2, "spec", F_MESSAGE, ns_spec}, {3, "status", F_MESSAGE, ns_status}, END,
};
static const struct pfield secret_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta}, {2, "data", F_MAP_SB, NULL}, {3, "type", F_STRING, NULL},
        {4, "stringData", F_MAP_SS, NULL},       {5, "immutable", F_BOOL, NULL}, END,
};
static const struct pfield configmap_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta}, {2, "data", F_MAP_SS, NULL}, {3, "binaryData", F_MAP_SB, NULL},
        {4, "immutable", F_BOOL, NULL}, END,
};
static const struct pfield sa_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta},
        {2, "secrets", F_REP_MESSAGE, object_ref},
        {3, "imagePullSecrets", F_REP_MESSAGE, local_ref},
        {4, "automountServiceAccountToken", F_BOOL, NULL},
        END,
};
static const struct pfield event_source[] = {{1, "component", F_STRING, NULL}, {2, "host", F_STRING, NULL}, END};
static const struct pfield event_series[] = {{1, "count", F_INT, NULL}, {2, "lastObservedTime", F_MICROTIME, NULL}, END};
static const struct pfield event_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta}, {2, "involvedObject", F_MESSAGE, object_ref},
        {3, "reason", F_STRING, NULL},           {4, "message", F_STRING, NULL},
        {5, "source", F_MESSAGE, event_source},  {6, "firstTimestamp", F_TIME, NULL},
        {7, "lastTimestamp", F_TIME, NULL},      {8, "count", F_INT, NULL},
        {9, "type", F_STRING, NULL},             {10, "eventTime", F_MICROTIME, NULL},
        {11, "series", F_MESSAGE, event_series}, {12, "action", F_STRING, NULL},
        {13, "related", F_MESSAGE, object_ref},  {14, "reportingComponent", F_STRING, NULL},
        {15, "reportingInstance", F_STRING, NULL}, END,
};
static const struct pfield lease_spec[] = {
        {1, "holderIdentity", F_STRING, NULL}, {2, "leaseDurationSeconds", F_INT, NULL}, {3, "acquireTime", F_MICROTIME, NULL},
        {4, "renewTime", F_MICROTIME, NULL},   {5, "leaseTransitions", F_INT, NULL},     {6, "strategy", F_STRING, NULL},
        {7, "preferredHolder", F_STRING, NULL}, END,
};
static const struct pfield lease_msg[] = {{1, "metadata", F_MESSAGE, object_meta}, {2, "spec", F_MESSAGE, lease_spec}, END};
static const struct pfield resource_attrs[] = {
        {1, "namespace", F_STRING, NULL}, {2, "verb", F_STRING, NULL},        {3, "group", F_STRING, NULL},
        {4, "version", F_STRING, NULL},   {5, "resource", F_STRING, NULL},    {6, "subresource", F_STRING, NULL},
        {7, "name", F_STRING, NULL},      END,
};
static const struct pfield non_resource_attrs[] = {{1, "path", F_STRING, NULL}, {2, "verb", F_STRING, NULL}, END};
static const struct pfield review_spec[] = {
        {1, "resourceAttributes", F_MESSAGE, resource_attrs},
        {2, "nonResourceAttributes", F_MESSAGE, non_resource_attrs},
        {3, "user", F_STRING, NULL},  /* SubjectAccessReviewSpec only */
        {4, "groups", F_REP_STRING, NULL},
        {6, "uid", F_STRING, NULL},
        END,
};
static const struct pfield review_msg[] = {{1, "metadata", F_MESSAGE, object_meta}, {2, "spec", F_MESSAGE, review_spec}, END};
static const struct pfield bound_ref[] = {
        {1, "kind", F_STRING, NULL}, {2, "apiVersion", F_STRING, NULL}, {3, "name", F_STRING, NULL},
        {4, "uid", F_STRING, NULL},  END,
};
static const struct pfield token_spec[] = {
        {1, "audiences", F_REP_STRING, NULL}, {3, "boundObjectRef", F_MESSAGE, bound_ref},
        {4, "expirationSeconds", F_INT, NULL}, END,
};
static const struct pfield token_status[] = {{1, "token", F_STRING, NULL}, {2, "expirationTimestamp", F_TIME, NULL}, END};
static const struct pfield token_msg[] = {
        {1, "metadata", F_MESSAGE, object_meta}, {2, "spec", F_MESSAGE, token_spec},
        {3, "status", F_MESSAGE, token_status}, END,
};
static const struct pfield type_meta[] = {{1, "apiVersion", F_STRING, NULL}, {2, "kind", F_STRING, NULL}, END};

static const struct {
        const char *api_version, *kind;
        const struct pfield *msg;
} kinds[] = {
        {"v1", "Namespace", namespace_msg},
        {"v1", "Secret", secret_msg},
        {"v1", "ConfigMap", configmap_msg},
        {"v1", "ServiceAccount", sa_msg},
        {"v1", "Event", event_msg},
        {"coordination.k8s.io/v1", "Lease", lease_msg},
        {"authorization.k8s.io/v1", "SelfSubjectAccessReview", review_msg},
        {"authorization.k8s.io/v1", "SubjectAccessReview", review_msg},
        {"authentication.k8s.io/v1", "TokenRequest", token_msg},  /* kubectl create token */
};

struct reader {
        const uint8_t *p, *end;
};

static int read_varint(struct reader *r, uint64_t *ret)
{
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end)
                        return -EINVAL;
                uint8_t b = *r->p++;
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Reads one field header and, for length-delimited fields, the payload. */
static int read_field(struct reader *r, unsigned *num, unsigned *wire, uint64_t *varint, struct reader *payload)
{
        uint64_t key;
        if (read_varint(r, &key) < 0)
                return -EINVAL;
        *num = (unsigned) (key >> 3);
        *wire = (unsigned) (key & 7);
        switch (*wire) {
        case 0:
                return read_varint(r, varint);
        case 1:
                if (r->end - r->p < 8)
                        return -EINVAL;
                r->p += 8;
                return 0;
        case 5:
                if (r->end - r->p < 4)
                        return -EINVAL;
                r->p += 4;
                return 0;
        case 2: {
                uint64_t len;
                if (read_varint(r, &len) < 0 || len > (uint64_t) (r->end - r->p))
                        return -EINVAL;
                payload->p = r->p;
                payload->end = r->p + len;
                r->p += len;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static int decode_msg(struct reader r, const struct pfield *fields, json_t *out, int depth);

static json_t *time_value(struct reader r, bool micro)
{
        int64_t secs = 0, nanos = 0;
        while (r.p < r.end) {
                unsigned num, wire;
                uint64_t v = 0;
                struct reader pl;
                if (read_field(&r, &num, &wire, &v, &pl) < 0)
                        return NULL;
                if (wire == 0 && num == 1)
                        secs = (int64_t) v;
                else if (wire == 0 && num == 2)
                        nanos = (int64_t) v;
        }
        char buf[64];
        if (!micro)
                return json_string(util_time_rfc3339((time_t) secs, buf, sizeof(buf)));
        char base[32];
        (void) util_time_rfc3339((time_t) secs, base, sizeof(base));
        base[strlen(base) - 1] = '\0';  /* drop the Z */
        (void) snprintf(buf, sizeof(buf), "%s.%06ldZ", base, (long) (nanos / 1000));
        return json_string(buf);
}

static json_t *bytes_value(struct reader r)
{
        char *enc = osb_base64_encode(r.p, (size_t) (r.end - r.p));
        json_t *s = enc ? json_string(enc) : NULL;
        osb_free(enc);
        return s;
}

static json_t *ensure(json_t *out, const char *name, bool array)
{
        json_t *v = json_object_get(out, name);
        if (v)
                return v;
        v = array ? json_array() : json_object();
        if (!v || json_object_set_new(out, name, v) < 0)
                return NULL;
        return v;
}

static int decode_field(const struct pfield *f, unsigned wire, uint64_t v, struct reader pl, json_t *out, int depth)
{
        json_t *val = NULL;
        switch (f->kind) {
        case F_STRING:
                if (wire != 2)
                        return -EINVAL;
                if (pl.p == pl.end)
                        return 0;  /* Go's omitempty: "" is absent */
                val = json_stringn((const char *) pl.p, (size_t) (pl.end - pl.p));
                if (!val)
                        return -EINVAL;  /* not UTF-8 (or out of memory) */
                break;
        case F_BYTES:
                if (wire != 2)
                        return -EINVAL;
                val = bytes_value(pl);
                break;
        case F_INT:
                if (wire != 0)
                        return -EINVAL;
                val = json_integer((json_int_t) (int64_t) v);
                break;
        case F_BOOL:
                if (wire != 0)
                        return -EINVAL;
                val = json_boolean(v != 0);
                break;
        case F_TIME:
        case F_MICROTIME:
                if (wire != 2)
                        return -EINVAL;
                if (pl.p == pl.end)
                        return 0;  /* the zero time is null in JSON */
                val = time_value(pl, f->kind == F_MICROTIME);
                break;
        case F_MESSAGE: {
                if (wire != 2)
                        return -EINVAL;
                val = json_object();
                if (!val)
                        return -ENOMEM;
                int r = decode_msg(pl, f->sub, val, depth + 1);
                if (r < 0) {
                        json_decref(val);
                        return r;
                }
                break;
        }
        case F_REP_STRING: {
                if (wire != 2)
                        return -EINVAL;
                json_t *a = ensure(out, f->name, true);
                return !a || json_array_append_new(a, json_stringn((const char *) pl.p, (size_t) (pl.end - pl.p))) < 0
                               ? -ENOMEM : 0;
        }
        case F_REP_MESSAGE: {
                if (wire != 2)
                        return -EINVAL;
                json_t *a = ensure(out, f->name, true);
                json_t *m = json_object();
                if (!a || !m || json_array_append_new(a, m) < 0)
                        return -ENOMEM;
                return decode_msg(pl, f->sub, m, depth + 1);
        }
        case F_MAP_SS:
        case F_MAP_SB: {
                if (wire != 2)
                        return -EINVAL;
                json_t *m = ensure(out, f->name, false);
                if (!m)
                        return -ENOMEM;
                char *key = NULL;
                json_t *value = NULL;
                struct reader e = pl;
                while (e.p < e.end) {
                        unsigned num, w;
                        uint64_t x;
                        struct reader p2;
                        if (read_field(&e, &num, &w, &x, &p2) < 0 || w != 2) {
                                osb_free(key);
                                json_decref(value);
                                return -EINVAL;
                        }
                        if (num == 1) {
                                osb_free(key);
                                key = osb_strndup((const char *) p2.p, (size_t) (p2.end - p2.p));
                        } else if (num == 2) {
                                json_decref(value);
                                value = f->kind == F_MAP_SB ? bytes_value(p2)
                                                            : json_stringn((const char *) p2.p, (size_t) (p2.end - p2.p));
                        }
                }
                if (!value)
                        value = json_string("");
                int r = key && value && json_object_set_new(m, key, value) == 0 ? 0 : -ENOMEM;
                if (r < 0 && !key)
                        json_decref(value);
                osb_free(key);
                return r;
        }
        }
        if (!val || json_object_set_new(out, f->name, val) < 0)
                return -ENOMEM;
        return 0;
}

static int decode_msg(struct reader r, const struct pfield *fields, json_t *out, int depth)
{
        if (depth > 16)
                return -EINVAL;
        while (r.p < r.end) {
                unsigned num, wire;
                uint64_t v = 0;
                struct reader pl = {NULL, NULL};
                if (read_field(&r, &num, &wire, &v, &pl) < 0)
                        return -EINVAL;
                for (const struct pfield *f = fields; f->name; f++) {
                        if (f->num != num)
                                continue;
                        int rr = decode_field(f, wire, v, pl, out, depth);
                        if (rr < 0)
                                return rr;
                        break;
                }
        }
        return 0;
}

int protobuf_decode(const void *data, size_t len, json_t **ret, char *msg, size_t msglen)
{
        static const uint8_t magic[4] = {'k', '8', 's', 0};
        if (len < 4 || memcmp(data, magic, 4) != 0) {
                (void) snprintf(msg, msglen, "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
                return -EINVAL;
        }
        struct reader r = {(const uint8_t *) data + 4, (const uint8_t *) data + len};
        json_t *tm = json_object();
        struct reader raw = {NULL, NULL};
        if (!tm)
                return -ENOMEM;
        while (r.p < r.end) {
                unsigned num, wire;
                uint64_t v;
                struct reader pl;
                if (read_field(&r, &num, &wire, &v, &pl) < 0) {
                        json_decref(tm);
                        (void) snprintf(msg, msglen, "proto: malformed runtime.Unknown");
                        return -EINVAL;
                }
                if (num == 1 && wire == 2 && decode_msg(pl, type_meta, tm, 0) < 0) {
                        json_decref(tm);
                        (void) snprintf(msg, msglen, "proto: malformed TypeMeta");
                        return -EINVAL;
                }
                if (num == 2 && wire == 2)
                        raw = pl;
        }
        const char *av = json_string_value(json_object_get(tm, "apiVersion"));
        const char *kind = json_string_value(json_object_get(tm, "kind"));
        const struct pfield *fields = NULL;
        for (size_t i = 0; i < OSB_ELEMENTSOF(kinds) && av && kind; i++)
                if (!strcmp(kinds[i].api_version, av) && !strcmp(kinds[i].kind, kind))
                        fields = kinds[i].msg;
        if (!fields) {
                (void) snprintf(msg, msglen, "no kind \"%s\" is registered for version \"%s\" in protobuf", kind ? kind : "",
                                av ? av : "");
                json_decref(tm);
                return -EINVAL;
        }
        int rr = raw.p ? decode_msg(raw, fields, tm, 0) : 0;
        if (rr < 0) {
                json_decref(tm);
                if (rr == -EINVAL)
                        (void) snprintf(msg, msglen, "proto: cannot parse invalid wire-format data");
                return rr;
        }
        *ret = tm;
        return 0;
}
