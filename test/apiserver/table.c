/* test/apiserver/table.c: Table rendering. Columns and cells as in kube-apiserver's
 * pkg/printers/internalversion (always "wide": kubectl hides priority > 0 columns itself) and
 * apiextensions' tableconvertor. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/table.h"
#include "test/apiserver/util.h"

static const char name_desc[] =
        "Name must be unique within a namespace. Is required when creating resources, although some resources may "
        "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
        "for creation idempotence and configuration definition. Cannot be updated. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
static const char age_desc[] =
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
        "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
        "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
        "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

struct col {
        const char *name, *type, *format;
        int priority;
};

static const struct col ns_cols[] = {{"Name", "string", "name", 0}, {"Status", "string", "", 0}, {"Age", "string", "", 0}};
static const struct col secret_cols[] = {{"Name", "string", "name", 0}, {"Type", "string", "", 0}, {"Data", "string", "", 0}, {"Age", "string", "", 0}};
static const struct col cm_cols[] = {{"Name", "string", "name", 0}, {"Data", "string", "", 0}, {"Age", "string", "", 0}};
static const struct col sa_cols[] = {{"Name", "string", "name", 0}, {"Secrets", "string", "", 0}, {"Age", "string", "", 0}};
static const struct col lease_cols[] = {{"Name", "string", "name", 0}, {"Holder", "string", "", 0}, {"Age", "string", "", 0}};
static const struct col crd_cols[] = {{"Name", "string", "name", 0}, {"Created At", "date", "", 0}};
static const struct col event_cols[] = {
        {"Last Seen", "string", "", 0}, {"Type", "string", "", 0},     {"Reason", "string", "", 0},
        {"Object", "string", "", 0},    {"Subobject", "string", "", 1}, {"Source", "string", "", 1},
        {"Message", "string", "", 0},   {"First Seen", "string", "", 1}, {"Count", "string", "", 1},
        {"Name", "string", "name", 1},
};

static json_t *col_defs(const struct col *c, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                const char *desc = !strcmp(c[i].name, "Name") ? name_desc : !strcmp(c[i].name, "Age") ? age_desc : "";
                if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c[i].name, "type", c[i].type,
                                                       "format", c[i].format, "description", desc, "priority",
                                                       c[i].priority)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *crd_col_defs(const struct kt_type *t)
{
        json_t *a = json_array();
        if (!a || json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "Name", "type", "string",
                                                     "format", "name", "description", name_desc, "priority", 0)) < 0) {
                json_decref(a);
                return NULL;
        }
        size_t i;
        json_t *c;
        json_array_foreach(t->columns, i, c) {
                const char *jp = json_string_value(json_object_get(c, "jsonPath"));
                const char *d = json_string_value(json_object_get(c, "description"));
                char desc[600];
                (void) snprintf(desc, sizeof(desc), "Custom resource definition column (in JSONPath format): %s", jp ? jp : "");
                const char *fmt = json_string_value(json_object_get(c, "format"));
                if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name",
                                                       json_string_value(json_object_get(c, "name")) ?: "", "type",
                                                       json_string_value(json_object_get(c, "type")) ?: "string",
                                                       "format", fmt ? fmt : "", "description", d && *d ? d : desc,
                                                       "priority",
                                                       (json_int_t) json_integer_value(json_object_get(c, "priority")))) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static const char *meta_str(const json_t *obj, const char *k)
{
        return json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
}

/* HumanDuration since an RFC 3339 time; "<unknown>" when absent. */
static json_t *since(const char *ts)
{
        time_t t;
        char buf[32];
        if (!ts || util_parse_time(ts, &t) < 0)
                return json_string("<unknown>");
        return json_string(util_human_duration((int64_t) (time(NULL) - t), buf, sizeof(buf)));
}

/* ---- a small JSONPath for printer columns ---- */

static const char *parse_key(const char *p, char *key, size_t n)
{
        size_t o = 0;
        while (*p && *p != '.' && *p != '[' && o + 1 < n)
                key[o++] = *p++;
        key[o] = '\0';
        return p;
}

static bool filter_match(const json_t *item, const char *expr)
{
        /* @.a.b==value, value quoted with ' or ", or a bare number / true / false. */
        if (strncmp(expr, "@.", 2) != 0)
                return false;
        const char *eq = strstr(expr, "==");
        bool neg = false;
        if (!eq) {
                eq = strstr(expr, "!=");
                neg = true;
        }
        if (!eq)
                return util_json_get_path(item, expr + 2) != NULL;
        char field[256], want[256];
        size_t fl = (size_t) (eq - expr - 2);
        if (fl >= sizeof(field))
                return false;
        memcpy(field, expr + 2, fl);
        field[fl] = '\0';
        while (fl && field[fl - 1] == ' ')
                field[--fl] = '\0';
        const char *v = eq + 2;
        while (*v == ' ')
                v++;
        (void) snprintf(want, sizeof(want), "%s", v);
        size_t wl = strlen(want);
        while (wl && want[wl - 1] == ' ')
                want[--wl] = '\0';
        bool quoted = wl >= 2 && (want[0] == '"' || want[0] == '\'') && want[wl - 1] == want[0];
        json_t *have = util_json_get_path(item, field);
        bool match;
        if (quoted) {
                want[wl - 1] = '\0';
                match = osb_streq(json_string_value(have), want + 1);
        } else {
                char *txt = have ? json_dumps(have, JSON_ENCODE_ANY) : NULL;
                match = txt && !strcmp(txt, want);
                osb_free(txt);
        }
        return neg ? !match : match;
}

json_t *table_jsonpath(const json_t *obj, const char *path)
{
        const json_t *cur = obj;
        const char *p = path;
        char key[256];
        while (cur && *p) {
                if (*p == '.') {
                        p = parse_key(p + 1, key, sizeof(key));
                        if (*key)
                                cur = json_object_get(cur, key);
                        continue;
                }
                if (*p != '[')
                        return NULL;
                const char *end = strchr(p, ']');
                if (!end)
                        return NULL;
                char inner[512];
                size_t il = (size_t) (end - p - 1);
                if (il >= sizeof(inner))
                        return NULL;
                memcpy(inner, p + 1, il);
                inner[il] = '\0';
                if (inner[0] == '?') {
                        /* [?(expr)] */
                        size_t l = strlen(inner);
                        if (l < 4 || inner[1] != '(' || inner[l - 1] != ')') {
                                /* the expression may contain ']' — not supported */
                                return NULL;
                        }
                        inner[l - 1] = '\0';
                        const json_t *hit = NULL;
                        size_t i;
                        json_t *item;
                        json_array_foreach(cur, i, item)
                                if (!hit && filter_match(item, inner + 2))
                                        hit = item;
                        cur = hit;
                } else if (inner[0] == '\'' || inner[0] == '"') {
                        size_t l = strlen(inner);
                        if (l >= 2)
                                inner[l - 1] = '\0';
                        cur = json_object_get(cur, inner + 1);
                } else if (!strcmp(inner, "*")) {
                        cur = json_array_get(cur, 0);
                } else {
                        long idx = strtol(inner, NULL, 10);
                        size_t n = json_array_size(cur);
                        if (idx < 0)
                                idx += (long) n;
                        cur = idx >= 0 ? json_array_get(cur, (size_t) idx) : NULL;
                }
                p = end + 1;
        }
        return (json_t *) cur;
}

static json_t *crd_cell(const json_t *col, const json_t *obj)
{
        const char *type = json_string_value(json_object_get(col, "type"));
        const char *jp = json_string_value(json_object_get(col, "jsonPath"));
        json_t *v = jp ? table_jsonpath(obj, jp) : NULL;
        if (!v || json_is_null(v))
                return json_null();
        if (!type || !strcmp(type, "string")) {
                if (json_is_string(v))
                        return json_incref(v);
                char *txt = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                json_t *s = json_string(txt ? txt : "");
                osb_free(txt);
                return s;
        }
        if (!strcmp(type, "integer")) {
                if (json_is_integer(v))
                        return json_incref(v);
                if (json_is_real(v))
                        return json_integer((json_int_t) json_real_value(v));
                return json_null();
        }
        if (!strcmp(type, "number"))
                return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
        if (!strcmp(type, "boolean"))
                return json_is_boolean(v) ? json_incref(v) : json_null();
        if (!strcmp(type, "date")) {
                time_t t;
                if (!json_is_string(v))
                        return json_null();
                if (util_parse_time(json_string_value(v), &t) < 0)
                        return json_string("<invalid>");
                return since(json_string_value(v));
        }
        return json_null();
}

static const char *first_nonempty(const char *a, const char *b)
{
        return a && *a ? a : b ? b : "";
}

static json_t *event_cells(const json_t *o)
{
        json_t *first = meta_str(o, "x") ? NULL : NULL;
        const char *ft = json_string_value(json_object_get(o, "firstTimestamp"));
        first = ft ? since(ft) : since(json_string_value(json_object_get(o, "eventTime")));
        const char *lt = json_string_value(json_object_get(o, "lastTimestamp"));
        json_t *last = lt ? since(lt) : json_incref(first);
        json_int_t count = json_integer_value(json_object_get(o, "count"));
        json_t *series = json_object_get(o, "series");
        if (json_is_object(series)) {
                json_decref(last);
                last = since(json_string_value(json_object_get(series, "lastObservedTime")));
                count = json_integer_value(json_object_get(series, "count"));
        } else if (count == 0) {
                count = 1;
        }
        json_t *io = json_object_get(o, "involvedObject");
        const char *kind = json_string_value(json_object_get(io, "kind"));
        const char *name = json_string_value(json_object_get(io, "name"));
        char target[600];
        char lk[256];
        (void) snprintf(lk, sizeof(lk), "%s", kind ? kind : "");
        for (char *c = lk; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        if (name && *name)
                (void) snprintf(target, sizeof(target), "%s/%s", lk, name);
        else
                (void) snprintf(target, sizeof(target), "%s", lk);
        json_t *src = json_object_get(o, "source");
        const char *comp = first_nonempty(json_string_value(json_object_get(src, "component")),
                                          json_string_value(json_object_get(o, "reportingComponent")));
        const char *inst = first_nonempty(json_string_value(json_object_get(src, "host")),
                                          json_string_value(json_object_get(o, "reportingInstance")));
        char source[600];
        (void) snprintf(source, sizeof(source), "%s%s%s", comp, *inst ? ", " : "", inst);
        const char *msg = json_string_value(json_object_get(o, "message"));
        char *trimmed = osb_strdup(msg ? msg : "");
        if (trimmed) {
                char *s = trimmed;
                while (isspace((unsigned char) *s))
                        s++;
                memmove(trimmed, s, strlen(s) + 1);
                size_t l = strlen(trimmed);
                while (l && isspace((unsigned char) trimmed[l - 1]))
                        trimmed[--l] = '\0';
        }
        json_t *cells = json_pack("[o, s, s, s, s, s, s, o, I, s]", last,
                                  json_string_value(json_object_get(o, "type")) ?: "",
                                  json_string_value(json_object_get(o, "reason")) ?: "", target,
                                  json_string_value(json_object_get(io, "fieldPath")) ?: "", source,
                                  trimmed ? trimmed : "", first, (json_int_t) count, meta_str(o, "name") ?: "");
        osb_free(trimmed);
        return cells;
}

static json_t *row_cells(const struct kt_type *t, const json_t *o)
{
        const char *name = meta_str(o, "name") ?: "";
        json_t *age = since(meta_str(o, "creationTimestamp"));
        switch (t->builtin) {
        case BT_NAMESPACE:
                return json_pack("[s, s, o]", name, util_json_str2(o, "status", "phase") ?: "", age);
        case BT_SECRET:
                return json_pack("[s, s, I, o]", name, json_string_value(json_object_get(o, "type")) ?: "",
                                 (json_int_t) json_object_size(json_object_get(o, "data")), age);
        case BT_CONFIGMAP:
                return json_pack("[s, I, o]", name,
                                 (json_int_t) (json_object_size(json_object_get(o, "data")) +
                                               json_object_size(json_object_get(o, "binaryData"))), age);
        case BT_SERVICEACCOUNT:
                return json_pack("[s, I, o]", name, (json_int_t) json_array_size(json_object_get(o, "secrets")), age);
        case BT_LEASE:
                return json_pack("[s, s, o]", name, util_json_str2(o, "spec", "holderIdentity") ?: "", age);
        case BT_CRD: {
                json_decref(age);
                return json_pack("[s, s]", name, meta_str(o, "creationTimestamp") ?: "");
        }
        case BT_EVENT:
        case BT_EVENT_V1:
                json_decref(age);
                return event_cells(o);
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
        case BT_SSAR:
        case BT_SAR:
        case BT_NONE:  /* the printer columns in t->columns */
                break;
        }
        json_decref(age);
        json_t *cells = json_array();
        if (!cells || json_array_append_new(cells, json_string(name)) < 0) {
                json_decref(cells);
                return NULL;
        }
        size_t i;
        json_t *c;
        json_array_foreach(t->columns, i, c)
                if (json_array_append_new(cells, crd_cell(c, o)) < 0) {
                        json_decref(cells);
                        return NULL;
                }
        return cells;
}

static json_t *headers_for(const struct kt_type *t)
{
        switch (t->builtin) {
        case BT_NAMESPACE:
                return col_defs(ns_cols, OSB_ELEMENTSOF(ns_cols));
        case BT_SECRET:
                return col_defs(secret_cols, OSB_ELEMENTSOF(secret_cols));
        case BT_CONFIGMAP:
                return col_defs(cm_cols, OSB_ELEMENTSOF(cm_cols));
        case BT_SERVICEACCOUNT:
                return col_defs(sa_cols, OSB_ELEMENTSOF(sa_cols));
        case BT_LEASE:
                return col_defs(lease_cols, OSB_ELEMENTSOF(lease_cols));
        case BT_CRD:
                return col_defs(crd_cols, OSB_ELEMENTSOF(crd_cols));
        case BT_EVENT:
        case BT_EVENT_V1:
                return col_defs(event_cols, OSB_ELEMENTSOF(event_cols));
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
        case BT_SSAR:
        case BT_SAR:
        case BT_NONE:  /* the printer columns in t->columns */
                break;
        }
        return crd_col_defs(t);
}

json_t *table_render(const struct kt_type *t, const json_t *objs, const char *rv, const char *cont,
                     const char *include_object, bool headers)
{
        json_t *rows = json_array();
        json_t *table = json_pack("{s:s, s:s, s:{}}", "kind", "Table", "apiVersion", "meta.k8s.io/v1", "metadata");
        if (!rows || !table)
                goto oom;
        json_t *meta = json_object_get(table, "metadata");
        if (rv && json_object_set_new(meta, "resourceVersion", json_string(rv)) < 0)
                goto oom;
        if (cont && *cont && json_object_set_new(meta, "continue", json_string(cont)) < 0)
                goto oom;
        if (headers) {
                json_t *h = headers_for(t);
                if (!h || json_object_set_new(table, "columnDefinitions", h) < 0)
                        goto oom;
        } else if (json_object_set_new(table, "columnDefinitions", json_null()) < 0) {
                goto oom;
        }
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) {
                json_t *cells = row_cells(t, o);
                json_t *row = cells ? json_pack("{s:o}", "cells", cells) : NULL;
                if (!row)
                        goto oom;
                json_t *ro = NULL;
                if (!include_object || !strcmp(include_object, "Metadata"))
                        ro = json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1",
                                       "metadata", json_object_get(o, "metadata"));
                else if (!strcmp(include_object, "Object"))
                        ro = json_incref((json_t *) o);
                if (ro && json_object_set_new(row, "object", ro) < 0) {
                        json_decref(row);
                        goto oom;
                }
                if (json_array_append_new(rows, row) < 0)
                        goto oom;
        }
        if (json_object_set_new(table, "rows", rows) < 0) {
                rows = NULL;
                goto oom;
        }
        return table;
oom:
        json_decref(rows);
        json_decref(table);
        return NULL;
}
