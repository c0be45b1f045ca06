/* test/apiserver/openapi.c: OpenAPI v2 (protobuf, gnostic's openapi_v2.Document) and v3 (JSON)
 * documents listing each kind's PATCH operation with its query parameters and
 * x-kubernetes-group-version-kind, which is what kubectl inspects; v3 also has each CRD's schema
 * (kubectl explain). */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_mem.h"
#include "test/apiserver/openapi.h"

static const char *const query_params[] = {"dryRun", "fieldManager", "fieldValidation", "force", "pretty", NULL};

/* The item path of a kind: /api/v1/namespaces/{namespace}/secrets/{name}. */
static void item_path(const struct kt_type *t, char *buf, size_t n)
{
        if (*t->group)
                (void) snprintf(buf, n, "/apis/%s/%s%s/%s/{name}", t->group, t->version,
                                t->namespaced ? "/namespaces/{namespace}" : "", t->resource);
        else
                (void) snprintf(buf, n, "/api/%s%s/%s/{name}", t->version, t->namespaced ? "/namespaces/{namespace}" : "",
                                t->resource);
}

/* ---- a tiny protobuf writer ---- */

static int pb_varint(struct osb_buf *b, uint64_t v)
{
        uint8_t tmp[10];
        size_t n = 0;
        do {
                tmp[n] = (uint8_t) (v & 0x7f);
                v >>= 7;
                if (v)
                        tmp[n] |= 0x80;
                n++;
        } while (v);
        return osb_buf_append(b, tmp, n);
}

static int pb_bytes(struct osb_buf *b, unsigned field, const void *p, size_t len)
{
        int r = pb_varint(b, (uint64_t) field << 3 | 2);
        if (r == 0)
                r = pb_varint(b, len);
        if (r == 0 && len)
                r = osb_buf_append(b, p, len);
        return r;
}

static int pb_string(struct osb_buf *b, unsigned field, const char *s)
{
        return pb_bytes(b, field, s, strlen(s));
}

/* Appends @sub as a length-delimited field and releases it. */
static int pb_message(struct osb_buf *b, unsigned field, struct osb_buf *sub)
{
        int r = pb_bytes(b, field, sub->data ? sub->data : "", sub->len);
        osb_buf_release(sub);
        return r;
}

static int pb_query_param(struct osb_buf *op, const char *name)
{
        struct osb_buf q, nb, p, item;
        osb_buf_init(&q, SIZE_MAX / 2);
        osb_buf_init(&nb, SIZE_MAX / 2);
        osb_buf_init(&p, SIZE_MAX / 2);
        osb_buf_init(&item, SIZE_MAX / 2);
        int r = pb_string(&q, 2, "query");           /* QueryParameterSubSchema.in */
        r = r ?: pb_string(&q, 3, "");
        r = r ?: pb_string(&q, 4, name);             /* .name */
        r = r ?: pb_string(&q, 6, "string");         /* .type */
        r = r ?: pb_message(&nb, 3, &q);             /* NonBodyParameter.query_parameter_sub_schema */
        r = r ?: pb_message(&p, 2, &nb);             /* Parameter.non_body_parameter */
        r = r ?: pb_message(&item, 1, &p);           /* ParametersItem.parameter */
        r = r ?: pb_message(op, 8, &item);           /* Operation.parameters */
        osb_buf_release(&q);
        osb_buf_release(&nb);
        osb_buf_release(&p);
        osb_buf_release(&item);
        return r;
}

static int pb_path(struct osb_buf *paths, const struct kt_type *t)
{
        char path[600], yaml[600];
        item_path(t, path, sizeof(path));
        (void) snprintf(yaml, sizeof(yaml), "group: \"%s\"\nkind: %s\nversion: %s\n", t->group, t->kind, t->version);
        struct osb_buf op, any, ext, item, named;
        osb_buf_init(&op, SIZE_MAX / 2);
        osb_buf_init(&any, SIZE_MAX / 2);
        osb_buf_init(&ext, SIZE_MAX / 2);
        osb_buf_init(&item, SIZE_MAX / 2);
        osb_buf_init(&named, SIZE_MAX / 2);
        char opid[300];
        (void) snprintf(opid, sizeof(opid), "patch%s", t->kind);
        int r = pb_string(&op, 5, opid);  /* Operation.operation_id */
        for (const char *const *q = query_params; r == 0 && *q; q++)
                r = pb_query_param(&op, *q);
        r = r ?: pb_string(&any, 2, yaml);                         /* Any.yaml */
        r = r ?: pb_string(&ext, 1, "x-kubernetes-group-version-kind");
        r = r ?: pb_message(&ext, 2, &any);                        /* NamedAny.value */
        r = r ?: pb_message(&op, 13, &ext);                        /* Operation.vendor_extension */
        r = r ?: pb_message(&item, 8, &op);                        /* PathItem.patch */
        r = r ?: pb_string(&named, 1, path);                       /* NamedPathItem.name */
        r = r ?: pb_message(&named, 2, &item);                     /* NamedPathItem.value */
        r = r ?: pb_message(paths, 2, &named);                     /* Paths.path */
        osb_buf_release(&op);
        osb_buf_release(&any);
        osb_buf_release(&ext);
        osb_buf_release(&item);
        osb_buf_release(&named);
        return r;
}

char *openapi_v2_protobuf(struct types *ts, size_t *len)
{
        size_t n = 0;
        struct kt_type **list = types_list_served(ts, &n);
        struct osb_buf doc, info, paths;
        osb_buf_init(&doc, SIZE_MAX / 2);
        osb_buf_init(&info, SIZE_MAX / 2);
        osb_buf_init(&paths, SIZE_MAX / 2);
        int r = list ? 0 : -ENOMEM;
        r = r ?: pb_string(&doc, 1, "2.0");            /* Document.swagger */
        r = r ?: pb_string(&info, 1, "Kubernetes");    /* Info.title */
        r = r ?: pb_string(&info, 2, "v1.32.0");       /* Info.version */
        r = r ?: pb_message(&doc, 2, &info);           /* Document.info */
        for (size_t i = 0; r == 0 && i < n; i++)
                r = pb_path(&paths, list[i]);
        r = r ?: pb_message(&doc, 8, &paths);          /* Document.paths */
        types_list_free(list, n);
        osb_buf_release(&info);
        osb_buf_release(&paths);
        if (r < 0) {
                osb_buf_release(&doc);
                return NULL;
        }
        return osb_buf_detach(&doc, len);
}

static json_t *json_params(void)
{
        json_t *a = json_array();
        for (const char *const *q = query_params; a && *q; q++)
                if (json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:{s:s, s:b}}", "name", *q, "in", "query",
                                                       "uniqueItems", 1, "schema", "type", "string", "uniqueItems", 1)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *gvk(const struct kt_type *t)
{
        return json_pack("{s:s, s:s, s:s}", "group", t->group, "kind", t->kind, "version", t->version);
}

json_t *openapi_v2_json(struct types *ts)
{
        size_t n = 0;
        struct kt_type **list = types_list_served(ts, &n);
        json_t *paths = json_object();
        for (size_t i = 0; list && paths && i < n; i++) {
                char path[600];
                item_path(list[i], path, sizeof(path));
                json_t *params = json_params();
                for (size_t k = 0; k < json_array_size(params); k++) {
                        json_t *p = json_array_get(params, k);
                        (void) json_object_del(p, "schema");
                        (void) json_object_set_new(p, "type", json_string("string"));
                }
                if (json_object_set_new(paths, path, json_pack("{s:{s:o, s:o}}", "patch", "parameters", params,
                                                              "x-kubernetes-group-version-kind", gvk(list[i]))) < 0) {
                        json_decref(paths);
                        paths = NULL;
                }
        }
        types_list_free(list, n);
        if (!paths)
                return NULL;
        return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{}}", "swagger", "2.0", "info", "title", "Kubernetes", "version",
                         "v1.32.0", "paths", paths, "definitions");
}

json_t *openapi_v3_root(struct types *ts)
{
        size_t n = 0;
        struct kt_type **list = types_list_served(ts, &n);
        json_t *paths = json_object();
        unsigned gen = types_generation(ts);
        for (size_t i = 0; list && paths && i < n; i++) {
                char key[300], url[400];
                if (*list[i]->group)
                        (void) snprintf(key, sizeof(key), "apis/%s/%s", list[i]->group, list[i]->version);
                else
                        (void) snprintf(key, sizeof(key), "api/%s", list[i]->version);
                (void) snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%08X%08X", key, gen, (unsigned) strlen(key) * 2654435761u);
                if (json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url)) < 0) {
                        json_decref(paths);
                        paths = NULL;
                }
        }
        types_list_free(list, n);
        return paths ? json_pack("{s:o}", "paths", paths) : NULL;
}

/* A CRD's schema under the name kube-apiserver gives it (the group reversed, then version and
 * kind: io.k8s.servicecatalog.v1beta1.ServiceInstance), with its x-kubernetes-group-version-kind,
 * which is how kubectl explain finds it. */
static int add_crd_schema(json_t *schemas, const struct kt_type *t)
{
        char name[600] = "";
        size_t o = 0;
        const char *end = t->group + strlen(t->group);
        while (end > t->group && o < sizeof(name)) {
                const char *dot = end;
                while (dot > t->group && dot[-1] != '.')
                        dot--;
                o += (size_t) snprintf(name + o, sizeof(name) - o, "%.*s.", (int) (end - dot), dot);
                end = dot > t->group ? dot - 1 : dot;
        }
        if (o < sizeof(name))
                (void) snprintf(name + o, sizeof(name) - o, "%s.%s", t->version, t->kind);
        json_t *sch = json_deep_copy(t->schema);
        if (!sch || json_object_set_new(sch, "x-kubernetes-group-version-kind", json_pack("[o]", gvk(t))) < 0 ||
            json_object_set_new(schemas, name, sch) < 0) {
                json_decref(sch);
                return -ENOMEM;
        }
        return 0;
}

json_t *openapi_v3_group_version(struct types *ts, const char *group, const char *version)
{
        size_t n = 0;
        struct kt_type **list = types_list_served(ts, &n);
        json_t *paths = json_object();
        json_t *schemas = json_object();
        bool any = false;
        for (size_t i = 0; list && paths && i < n; i++) {
                const struct kt_type *t = list[i];
                if (strcmp(t->group, group) || strcmp(t->version, version))
                        continue;
                any = true;
                char path[600];
                item_path(t, path, sizeof(path));
                if (json_object_set_new(paths, path, json_pack("{s:{s:s, s:o, s:o, s:{s:{s:s}}}}", "patch", "operationId",
                                                              "patch", "parameters", json_params(),
                                                              "x-kubernetes-group-version-kind", gvk(t), "responses",
                                                              "200", "description", "OK")) < 0 ||
                    (t->crd_name && t->schema && schemas && add_crd_schema(schemas, t) < 0)) {
                        json_decref(paths);
                        paths = NULL;
                }
        }
        types_list_free(list, n);
        if (!paths || !any || !schemas) {
                json_decref(paths);
                json_decref(schemas);
                return NULL;
        }
        return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title", "Kubernetes", "version",
                         "v1.32.0", "paths", paths, "components", "schemas", schemas);
}
