/* broker/catalog.c: loading, validating (OSB v2.17 §1, every problem collected) and serving the
 * catalog. The validated document is kept whole in catalog->doc; the structs borrow from it. */
#include "common/osb_compat.h"
#include "common/osb_file.h"

#include "broker/catalog.h"
#include "common/osb_schema.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "common/osb_yaml.h"

#define CATALOG_MAX_DEPTH 128           /* nesting of the document */
#define CATALOG_MAX_ERROR_BYTES (64 * 1024)
#define CATALOG_MAX_TEXT_CHARS 255      /* names and descriptions (OSB: SHOULD) */
#define BACKEND_KEY "x-bindery-backend"

/* ---- problem collection ---- */

struct problems {
        const char *source;
        struct osb_buf buf;
        size_t count;
        bool oom;
        bool truncated;
        json_t *ok_plans;  /* "services[i].plans[j]" -> true for each plan that passed with its
                            * service, or NULL when not wanted */
};

static void problem(struct problems *p, const char *path, const char *fmt, ...) OSB_PRINTF(3, 4);

static void problem(struct problems *p, const char *path, const char *fmt, ...)
{
        char msg[600];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        p->count++;
        if (p->buf.len >= CATALOG_MAX_ERROR_BYTES)
                p->truncated = true;
        if (p->truncated || p->oom)
                return;
        int r = *path ? osb_buf_appendf(&p->buf, "%.300s: %s: %s\n", p->source, path, msg)
                      : osb_buf_appendf(&p->buf, "%.300s: %s\n", p->source, msg);
        if (r == -ENOMEM)
                p->oom = true;
        else if (r < 0)
                p->truncated = true;
}

/* Hands the collected text to the caller (NULL on OOM). */
static char *problems_detach(struct problems *p)
{
        /* The buffer's hard maximum leaves room for this note past the soft limit. */
        if (p->truncated && osb_buf_appendf(&p->buf, "%.300s: (more problems not shown)\n",
                                            p->source) == -ENOMEM)
                p->oom = true;
        char *s = osb_buf_detach(&p->buf, NULL);
        if (s && s[0] && s[strlen(s) - 1] == '\n')
                s[strlen(s) - 1] = '\0';
        return s;
}

/* ---- small checks ---- */

static size_t utf8_chars(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

/* ASCII only, whatever the locale. */
static bool ascii_alnum(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool cli_friendly(const char *s)
{
        if (!*s || *s == '-')
                return false;
        for (; *s; s++)
                if (!ascii_alnum(*s) && *s != '.' && *s != '-')
                        return false;
        return true;
}

static bool semver_numeric(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char) s[i]))
                        return false;
        return n == 1 || s[0] != '0';
}

/* Dot-separated identifiers of [0-9A-Za-z-]; @pre: numeric ones have no leading zeros. */
static bool semver_idents(const char *s, size_t n, bool pre)
{
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '.') {
                        if (!ascii_alnum(s[i]) && s[i] != '-')
                                return false;
                        continue;
                }
                size_t len = i - start;
                if (len == 0)
                        return false;
                bool digits = true;
                for (size_t k = start; k < i; k++)
                        digits = digits && isdigit((unsigned char) s[k]);
                if (pre && digits && !semver_numeric(s + start, len))
                        return false;
                start = i + 1;
        }
        return true;
}

bool catalog_semver_valid(const char *s)
{
        const char *p = s;
        for (int part = 0; part < 3; part++) {
                size_t n = strspn(p, "0123456789");
                if (!semver_numeric(p, n))
                        return false;
                p += n;
                if (part < 2) {
                        if (*p != '.')
                                return false;
                        p++;
                }
        }
        if (*p == '-') {
                p++;
                size_t n = strcspn(p, "+");
                if (!semver_idents(p, n, true))
                        return false;
                p += n;
        }
        if (*p == '+') {
                p++;
                if (!semver_idents(p, strlen(p), false))
                        return false;
                p += strlen(p);
        }
        return *p == '\0';
}

/* ---- typed field access that reports instead of stopping ---- */

enum want { W_STRING, W_BOOL, W_OBJECT, W_ARRAY, W_INTEGER };

static const char *const want_names[] = {"a string", "a boolean", "an object", "an array", "an integer"};

static bool is_a(const json_t *v, enum want w)
{
        switch (w) {
        case W_STRING:
                return json_is_string(v);
        case W_BOOL:
                return json_is_boolean(v);
        case W_OBJECT:
                return json_is_object(v);
        case W_ARRAY:
                return json_is_array(v);
        case W_INTEGER:
                return json_is_integer(v);
        }
        return false;
}

/* Paths only go into messages: a (very unlikely) truncated one is acceptable. */
static void join(char *dst, size_t n, const char *base, const char *key)
{
        int r = snprintf(dst, n, "%s%s%s", base, *base ? "." : "", key);
        if (r < 0)
                dst[0] = '\0';
}

/* Returns the field when present with the right type, else NULL (after reporting). */
static const json_t *field(struct problems *p, const json_t *obj, const char *path, const char *key,
                           bool required, enum want w)
{
        char fp[256];
        join(fp, sizeof(fp), path, key);
        const json_t *v = json_object_get(obj, key);
        if (!v) {
                if (required)
                        problem(p, fp, "is required");
                return NULL;
        }
        if (json_is_null(v) && !required) {
                problem(p, fp, "is null; omit optional fields instead of null");
                return NULL;
        }
        if (!is_a(v, w)) {
                problem(p, fp, "must be %s, not %s", want_names[w], osb_json_type_name(v));
                return NULL;
        }
        return v;
}

enum text_rule { T_ANY = 0, T_NONEMPTY = 1, T_LIMIT = 2, T_CLI_NAME = 4 };

static const char *text_field(struct problems *p, const json_t *obj, const char *path,
                              const char *key, bool required, unsigned rules)
{
        const json_t *v = field(p, obj, path, key, required, W_STRING);
        if (!v)
                return NULL;
        char fp[256];
        join(fp, sizeof(fp), path, key);
        const char *s = json_string_value(v);
        if ((rules & T_NONEMPTY) && !*s) {
                problem(p, fp, "must not be empty");
                return NULL;
        }
        bool ok = true;
        if (strlen(s) != json_string_length(v)) {
                problem(p, fp, "must not contain NUL characters");
                ok = false;
        }
        if ((rules & T_LIMIT) && utf8_chars(s) > CATALOG_MAX_TEXT_CHARS) {
                problem(p, fp, "is %zu characters long; at most %d are allowed", utf8_chars(s),
                        CATALOG_MAX_TEXT_CHARS);
                ok = false;
        }
        if ((rules & T_CLI_NAME) && *s && !cli_friendly(s)) {
                problem(p, fp, "'%.100s' is not CLI-friendly: use only letters, digits, '.' and '-', "
                        "and do not start with '-'", s);
                ok = false;
        }
        return ok ? s : NULL;
}

static void bool_field(struct problems *p, const json_t *obj, const char *path, const char *key)
{
        (void) field(p, obj, path, key, false, W_BOOL);
}

static void string_array(struct problems *p, const json_t *obj, const char *path, const char *key)
{
        const json_t *a = field(p, obj, path, key, false, W_ARRAY);
        for (size_t i = 0; i < json_array_size(a); i++) {
                const json_t *v = json_array_get(a, i);
                char ep[256];
                (void) snprintf(ep, sizeof(ep), "%s.%s[%zu]", path, key, i);
                if (!json_is_string(v))
                        problem(p, ep, "must be a string, not %s", osb_json_type_name(v));
        }
}

/* Set membership with the first path that used a value: @set maps value -> path. Reports
 * "duplicates" when @value is already there. Returns true when it was new. */
static bool set_add(struct problems *p, json_t *set, const char *value, const char *path,
                    const char *what)
{
        const json_t *first = json_object_get(set, value);
        if (first) {
                problem(p, path, "duplicates the %s of %s ('%.100s')", what, json_string_value(first), value);
                return false;
        }
        if (json_object_set_new(set, value, json_string(path)) < 0)
                p->oom = true;
        return true;
}

/* ---- validation ---- */

struct sets {
        json_t *service_ids;   /* id -> "services[i]" */
        json_t *service_names;
        json_t *plan_ids;      /* id -> "services[i].plans[j]" */
};

static void check_backend(struct problems *p, const json_t *obj, const char *path)
{
        const json_t *b = field(p, obj, path, BACKEND_KEY, false, W_OBJECT);
        if (!b)
                return;
        char bp[256];
        join(bp, sizeof(bp), path, BACKEND_KEY);
        (void) text_field(p, b, bp, "type", true, T_NONEMPTY);
}

static void check_schema_at(struct problems *p, const json_t *obj, const char *path,
                            const char *kind, const char *action)
{
        char kp[256], ap[256];
        const json_t *k = field(p, obj, path, kind, false, W_OBJECT);
        if (!k)
                return;
        join(kp, sizeof(kp), path, kind);
        const json_t *a = field(p, k, kp, action, false, W_OBJECT);
        if (!a)
                return;
        join(ap, sizeof(ap), kp, action);
        const json_t *params = json_object_get(a, "parameters");
        if (!params)
                return;
        char pp[256];
        join(pp, sizeof(pp), ap, "parameters");
        if (json_is_null(params)) {
                problem(p, pp, "is null; omit optional fields instead of null");
                return;
        }
        struct osb_error err = OSB_ERROR_INIT;
        int r = osb_schema_check(params, pp, &err);
        if (r < 0) {
                if (r == -ENOMEM)
                        p->oom = true;
                else
                        problem(p, "", "%s", err.text);
        }
}

static void check_plan(struct problems *p, const json_t *plan, const char *path, struct sets *sets,
                       json_t *plan_names)
{
        if (!json_is_object(plan)) {
                problem(p, path, "must be an object, not %s", osb_json_type_name(plan));
                return;
        }
        char fp[256];
        const char *id = text_field(p, plan, path, "id", true, T_NONEMPTY);
        if (id) {
                join(fp, sizeof(fp), path, "id");
                const json_t *svc = json_object_get(sets->service_ids, id);
                if (svc)
                        problem(p, fp, "'%.100s' is also the id of %s; ids must be unique across the catalog",
                                id, json_string_value(svc));
                else
                        (void) set_add(p, sets->plan_ids, id, fp, "id");
        }
        const char *name = text_field(p, plan, path, "name", true, T_NONEMPTY | T_LIMIT | T_CLI_NAME);
        if (name) {
                join(fp, sizeof(fp), path, "name");
                (void) set_add(p, plan_names, name, fp, "name");
        }
        (void) text_field(p, plan, path, "description", true, T_NONEMPTY | T_LIMIT);
        bool_field(p, plan, path, "free");
        bool_field(p, plan, path, "bindable");
        bool_field(p, plan, path, "plan_updateable");
        bool_field(p, plan, path, "binding_rotatable");
        (void) field(p, plan, path, "metadata", false, W_OBJECT);
        const json_t *mpd = field(p, plan, path, "maximum_polling_duration", false, W_INTEGER);
        if (mpd && json_integer_value(mpd) <= 0) {
                join(fp, sizeof(fp), path, "maximum_polling_duration");
                problem(p, fp, "must be a positive number of seconds, not %" JSON_INTEGER_FORMAT,
                        json_integer_value(mpd));
        }
        const json_t *mi = field(p, plan, path, "maintenance_info", false, W_OBJECT);
        if (mi) {
                char mp[256];
                join(mp, sizeof(mp), path, "maintenance_info");
                const char *v = text_field(p, mi, mp, "version", true, T_NONEMPTY);
                if (v && !catalog_semver_valid(v)) {
                        join(fp, sizeof(fp), mp, "version");
                        problem(p, fp, "'%.100s' is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH, "
                                "e.g. 1.0.0 or 2.1.0-beta.1)", v);
                }
                (void) text_field(p, mi, mp, "description", false, T_ANY);
        }
        const json_t *schemas = field(p, plan, path, "schemas", false, W_OBJECT);
        if (schemas) {
                char sp[256];
                join(sp, sizeof(sp), path, "schemas");
                check_schema_at(p, schemas, sp, "service_instance", "create");
                check_schema_at(p, schemas, sp, "service_instance", "update");
                check_schema_at(p, schemas, sp, "service_binding", "create");
        }
        check_backend(p, plan, path);
}

static void check_service(struct problems *p, const json_t *svc, const char *path, struct sets *sets)
{
        if (!json_is_object(svc)) {
                problem(p, path, "must be an object, not %s", osb_json_type_name(svc));
                return;
        }
        char fp[256];
        size_t count_before = p->count;
        /* The id is registered in a first pass, so plans can be checked against all of them. */
        (void) text_field(p, svc, path, "id", true, T_NONEMPTY);
        const char *name = text_field(p, svc, path, "name", true, T_NONEMPTY | T_LIMIT | T_CLI_NAME);
        if (name) {
                join(fp, sizeof(fp), path, "name");
                (void) set_add(p, sets->service_names, name, fp, "name");
        }
        (void) text_field(p, svc, path, "description", true, T_NONEMPTY | T_LIMIT);
        (void) field(p, svc, path, "bindable", true, W_BOOL);
        string_array(p, svc, path, "tags");
        const json_t *req = field(p, svc, path, "requires", false, W_ARRAY);
        for (size_t i = 0; i < json_array_size(req); i++) {
                const char *r = json_string_value(json_array_get(req, i));
                if (!r || (strcmp(r, "syslog_drain") != 0 && strcmp(r, "route_forwarding") != 0 &&
                           strcmp(r, "volume_mount") != 0)) {
                        (void) snprintf(fp, sizeof(fp), "%s.requires[%zu]", path, i);
                        problem(p, fp, "must be one of \"syslog_drain\", \"route_forwarding\", \"volume_mount\"");
                }
        }
        bool_field(p, svc, path, "instances_retrievable");
        bool_field(p, svc, path, "bindings_retrievable");
        bool_field(p, svc, path, "allow_context_updates");
        bool_field(p, svc, path, "plan_updateable");
        (void) field(p, svc, path, "metadata", false, W_OBJECT);
        const json_t *dc = field(p, svc, path, "dashboard_client", false, W_OBJECT);
        if (dc) {
                char dp[256];
                join(dp, sizeof(dp), path, "dashboard_client");
                (void) text_field(p, dc, dp, "id", true, T_NONEMPTY);
                (void) text_field(p, dc, dp, "secret", true, T_NONEMPTY);
                (void) text_field(p, dc, dp, "redirect_uri", false, T_ANY);
        }
        check_backend(p, svc, path);
        bool service_ok = p->count == count_before;

        const json_t *plans = field(p, svc, path, "plans", true, W_ARRAY);
        if (!plans)
                return;
        if (json_array_size(plans) == 0) {
                join(fp, sizeof(fp), path, "plans");
                problem(p, fp, "must list at least one plan");
                return;
        }
        json_t *plan_names = json_object();
        if (!plan_names) {
                p->oom = true;
                return;
        }
        for (size_t j = 0; j < json_array_size(plans); j++) {
                (void) snprintf(fp, sizeof(fp), "%s.plans[%zu]", path, j);
                size_t before = p->count;
                check_plan(p, json_array_get(plans, j), fp, sets, plan_names);
                if (p->ok_plans && service_ok && p->count == before &&
                    json_object_set_new(p->ok_plans, fp, json_true()) < 0)
                        p->oom = true;
        }
        json_decref(plan_names);
}

static bool depth_ok(const json_t *j, unsigned depth)
{
        if (depth > CATALOG_MAX_DEPTH)
                return false;
        const char *key;
        json_t *v;
        if (json_is_object(j)) {
                json_object_foreach((json_t *) j, key, v)
                        if (!depth_ok(v, depth + 1))
                                return false;
        } else if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        if (!depth_ok(json_array_get(j, i), depth + 1))
                                return false;
        }
        return true;
}

static void check_doc(struct problems *p, const json_t *doc)
{
        if (!json_is_object(doc)) {
                problem(p, "", "the catalog must be a JSON object with a \"services\" array, not %s",
                        osb_json_type_name(doc));
                return;
        }
        if (!depth_ok(doc, 1)) {
                problem(p, "", "the catalog is nested deeper than %d levels", CATALOG_MAX_DEPTH);
                return;
        }
        const json_t *services = field(p, doc, "", "services", true, W_ARRAY);
        if (!services)
                return;
        struct sets sets = {json_object(), json_object(), json_object()};
        if (!sets.service_ids || !sets.service_names || !sets.plan_ids) {
                p->oom = true;
                goto out;
        }
        char path[64];
        for (size_t i = 0; i < json_array_size(services); i++) {
                const char *id = json_string_value(json_object_get(json_array_get(services, i), "id"));
                if (!id || !*id)
                        continue;
                (void) snprintf(path, sizeof(path), "services[%zu].id", i);
                if (json_object_get(sets.service_ids, id)) {
                        problem(p, path, "duplicates the id of %s ('%.100s')",
                                json_string_value(json_object_get(sets.service_ids, id)), id);
                        continue;
                }
                (void) snprintf(path, sizeof(path), "services[%zu]", i);
                if (json_object_set_new(sets.service_ids, id, json_string(path)) < 0)
                        p->oom = true;
        }
        for (size_t i = 0; i < json_array_size(services); i++) {
                (void) snprintf(path, sizeof(path), "services[%zu]", i);
                check_service(p, json_array_get(services, i), path, &sets);
        }
out:
        json_decref(sets.service_ids);
        json_decref(sets.service_names);
        json_decref(sets.plan_ids);
}

/* ---- building the structs and the served body ---- */

static bool get_bool(const json_t *obj, const char *key, bool dflt)
{
        const json_t *v = json_object_get(obj, key);
        return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static json_t *schema_of(const json_t *plan, const char *kind, const char *action)
{
        const json_t *s = json_object_get(plan, "schemas");
        return json_object_get(json_object_get(json_object_get(s, kind), action), "parameters");
}

static void strip_x_keys(json_t *j)
{
        const char *key;
        json_t *v;
        void *tmp;
        if (json_is_object(j)) {
                json_object_foreach_safe(j, tmp, key, v) {
                        if (strncmp(key, "x-", 2) == 0)
                                (void) json_object_del(j, key);
                        else
                                strip_x_keys(v);
                }
        } else if (json_is_array(j)) {
                for (size_t i = 0; i < json_array_size(j); i++)
                        strip_x_keys(json_array_get(j, i));
        }
}

static uint64_t fnv1a64(const char *s, size_t n)
{
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static int dump_body(const json_t *j, char **ret, size_t *ret_len)
{
        /* jansson keeps insertion order: the author's key order is served as written. */
        char *body = osb_json_dump_line(j, JSON_COMPACT | JSON_PRESERVE_ORDER, ret_len);
        if (!body)
                return -ENOMEM;
        *ret = body;
        return 0;
}

/* Whether plan @j of service @i is in @only (NULL: every plan is). */
static bool plan_included(const json_t *only, size_t i, size_t j)
{
        if (!only)
                return true;
        char path[64];
        (void) snprintf(path, sizeof(path), "services[%zu].plans[%zu]", i, j);
        return json_object_get(only, path) != NULL;
}

/* Builds the structs of every plan, or when @only is not NULL of the plans it names (and of the
 * services that have one of them). */
static int build(struct catalog *c, const json_t *only)
{
        const json_t *services = json_object_get(c->doc, "services");
        c->default_backend = json_pack("{s:s}", "type", "static");
        if (!c->default_backend)
                return -ENOMEM;
        size_t n_services = json_array_size(services);
        if (n_services) {
                c->services = osb_calloc(n_services, sizeof(*c->services));
                if (!c->services)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_services; i++) {
                const json_t *sj = json_array_get(services, i);
                const json_t *plans = json_object_get(sj, "plans");
                size_t n_plans = 0;
                for (size_t j = 0; j < json_array_size(plans); j++)
                        n_plans += plan_included(only, i, j);
                if (n_plans == 0)
                        continue;
                struct catalog_service *s = &c->services[c->n_services++];
                s->id = json_string_value(json_object_get(sj, "id"));
                s->name = json_string_value(json_object_get(sj, "name"));
                s->bindable = get_bool(sj, "bindable", false);
                s->plan_updateable = get_bool(sj, "plan_updateable", false);
                s->instances_retrievable = get_bool(sj, "instances_retrievable", false);
                s->bindings_retrievable = get_bool(sj, "bindings_retrievable", false);
                s->allow_context_updates = get_bool(sj, "allow_context_updates", false);
                const json_t *req = json_object_get(sj, "requires");
                for (size_t k = 0; k < json_array_size(req); k++) {
                        const char *r = json_string_value(json_array_get(req, k));
                        s->requires_syslog_drain |= strcmp(r, "syslog_drain") == 0;
                        s->requires_route_forwarding |= strcmp(r, "route_forwarding") == 0;
                        s->requires_volume_mount |= strcmp(r, "volume_mount") == 0;
                }
                json_t *svc_backend = json_object_get(sj, BACKEND_KEY);
                s->plans = osb_calloc(n_plans, sizeof(*s->plans));
                if (!s->plans)
                        return -ENOMEM;
                for (size_t j = 0; j < json_array_size(plans); j++) {
                        if (!plan_included(only, i, j))
                                continue;
                        const json_t *pj = json_array_get(plans, j);
                        struct catalog_plan *p = &s->plans[s->n_plans++];
                        p->id = json_string_value(json_object_get(pj, "id"));
                        p->name = json_string_value(json_object_get(pj, "name"));
                        p->service = s;
                        p->catalog_source = c->source;
                        p->bindable = get_bool(pj, "bindable", s->bindable);
                        p->plan_updateable = get_bool(pj, "plan_updateable", s->plan_updateable);
                        p->binding_rotatable = get_bool(pj, "binding_rotatable", false);
                        p->free = get_bool(pj, "free", true);
                        const json_t *mpd = json_object_get(pj, "maximum_polling_duration");
                        p->maximum_polling_duration = mpd ? json_integer_value(mpd) : -1;
                        p->maintenance_version = json_string_value(
                                json_object_get(json_object_get(pj, "maintenance_info"), "version"));
                        p->schema_create = schema_of(pj, "service_instance", "create");
                        p->schema_update = schema_of(pj, "service_instance", "update");
                        p->schema_bind = schema_of(pj, "service_binding", "create");
                        json_t *b = json_object_get(pj, BACKEND_KEY);
                        if (b) {
                                p->backend = b;
                                (void) snprintf(p->backend_path, sizeof(p->backend_path),
                                                "services[%zu].plans[%zu]." BACKEND_KEY, i, j);
                        } else if (svc_backend) {
                                p->backend = svc_backend;
                                (void) snprintf(p->backend_path, sizeof(p->backend_path),
                                                "services[%zu]." BACKEND_KEY, i);
                        } else {
                                p->backend = c->default_backend;
                                (void) snprintf(p->backend_path, sizeof(p->backend_path),
                                                "services[%zu].plans[%zu] (default static backend)", i, j);
                        }
                }
        }

        json_t *served = json_deep_copy(c->doc);
        if (!served)
                return -ENOMEM;
        strip_x_keys(served);
        int r = dump_body(served, &c->body, &c->body_len);
        json_decref(served);
        if (r < 0)
                return r;
        (void) snprintf(c->etag, sizeof(c->etag), "\"%016" PRIx64 "\"", fnv1a64(c->body, c->body_len));
        return 0;
}

/* ---- loading ---- */

static bool looks_like_json(const char *data, size_t len)
{
        size_t i = 0;
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                i = 3;
        while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
                i++;
        return i < len && data[i] == '{';
}

/* Sets *ret_errors to a single formatted line (or NULL on OOM) and returns @code. */
static int fail_with(int code, char **ret_errors, const char *fmt, ...) OSB_PRINTF(3, 4);

static int fail_with(int code, char **ret_errors, const char *fmt, ...)
{
        char msg[700];
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        *ret_errors = osb_strdup(msg);
        return code;
}

/* jansson 2.14's parser does not survive allocation failure well: some are reported as syntax
 * errors, and a failure while lexing a string silently drops characters. A catalog is parsed
 * once per start, so parse twice: a real syntax error repeats, and two different trees mean an
 * allocation failed. */
static int parse_json(const char *data, size_t len, const char *source, json_t **ret,
                      char **ret_errors)
{
        json_error_t jerr;
        json_t *a = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!a)
                a = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!a) {
                /* jansson leaves the text empty when its lexer cannot allocate. */
                if (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0])
                        return -ENOMEM;
                return fail_with(OSB_E_INVALID_CONFIG, ret_errors, "%s: line %d column %d: %s",
                                 source, jerr.line, jerr.column, jerr.text);
        }
        json_t *b = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        bool same = b && json_equal(a, b);
        json_decref(b);
        if (!same) {
                json_decref(a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

static void catalog_freep(struct catalog **c)
{
        *c = catalog_free(*c);
}

/* The loaders below write problems to *ret_errors (never NULL) on failure; the public
 * functions hand them out. With @ret_valid, structural problems also set *ret_valid to the
 * catalog of the plans that passed (NULL when none did). */
static int load(const char *data, size_t len, const char *source, bool yaml, struct catalog **ret,
                struct catalog **ret_valid, char **ret_errors)
{
        if (!data && len == 0)
                data = "";
        if (len > CATALOG_MAX_BYTES)
                return fail_with(-EFBIG, ret_errors, "%s: is larger than 4 MiB (%zu bytes); catalogs are limited to %u bytes",
                                 source, len, CATALOG_MAX_BYTES);

        osb_auto(catalog_freep) struct catalog *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->source = osb_strdup(source);
        if (!c->source)
                return -ENOMEM;

        if (yaml || !looks_like_json(data, len)) {
                struct osb_error err = OSB_ERROR_INIT;
                int r = osb_yaml_parse(data, len, &c->doc, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return fail_with(OSB_E_INVALID_CONFIG, ret_errors, "%s: %s", source, err.text);
        } else {
                int r = parse_json(data, len, source, &c->doc, ret_errors);
                if (r < 0)
                        return r;
        }

        struct problems p = {.source = source};
        osb_buf_init(&p.buf, CATALOG_MAX_ERROR_BYTES + 2048);
        if (ret_valid && !(p.ok_plans = json_object())) {
                osb_buf_release(&p.buf);
                return -ENOMEM;
        }
        check_doc(&p, c->doc);
        if (p.oom) {
                osb_buf_release(&p.buf);
                json_decref(p.ok_plans);
                return -ENOMEM;
        }
        if (p.count) {
                int r = 0;
                struct catalog *valid = NULL;
                if (ret_valid && json_object_size(p.ok_plans) > 0) {
                        r = build(c, p.ok_plans);
                        if (r >= 0)
                                valid = OSB_TAKE_PTR(c);
                }
                json_decref(p.ok_plans);
                char *text = problems_detach(&p);
                if (!text || p.oom || r < 0) {
                        osb_free(text);
                        catalog_free(valid);
                        return -ENOMEM;
                }
                if (ret_valid)
                        *ret_valid = valid;
                *ret_errors = text;
                return OSB_E_INVALID_CONFIG;
        }
        osb_buf_release(&p.buf);
        json_decref(p.ok_plans);

        int r = build(c, NULL);
        if (r < 0)
                return r;
        *ret = OSB_TAKE_PTR(c);
        return 0;
}

/* Hands the problems out on failure only (out-parameters are written only when they mean
 * something); frees them otherwise. */
static int hand_errors(int r, char *errors, char **ret_errors)
{
        if (r < 0 && ret_errors)
                *ret_errors = errors;
        else
                osb_free(errors);
        return r;
}

int catalog_load_buffer(const char *data, size_t len, const char *source, struct catalog **ret,
                        char **ret_errors)
{
        char *errors = NULL;
        int r = load(data, len, source, false, ret, NULL, &errors);
        return hand_errors(r, errors, ret_errors);
}

static int load_demo(struct catalog **ret, struct catalog **ret_valid, char **ret_errors)
{
        return load(catalog_demo_json, strlen(catalog_demo_json), "built-in demo catalog", false, ret,
                    ret_valid, ret_errors);
}

int catalog_load_demo(struct catalog **ret, char **ret_errors)
{
        char *errors = NULL;
        int r = load_demo(ret, NULL, &errors);
        return hand_errors(r, errors, ret_errors);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int load_file(const char *path, struct catalog **ret, struct catalog **ret_valid, char **ret_errors)
{
        osb_autofree char *data = NULL;
        size_t len = 0;
        int r = osb_read_file(path, CATALOG_MAX_BYTES, &data, &len, NULL);
        if (r == -E2BIG)
                return fail_with(-EFBIG, ret_errors, "%s: is larger than 4 MiB; catalogs are limited to %u bytes",
                                 path, CATALOG_MAX_BYTES);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail_with(r, ret_errors, "%s: cannot %s the catalog file: %s", path,
                                 r == -EISDIR ? "read" : "open", strerror(-r));
        bool yaml = has_suffix(path, ".yaml") || has_suffix(path, ".yml");
        return load(data, len, path, yaml, ret, ret_valid, ret_errors);
}

int catalog_load_file(const char *path, struct catalog **ret, char **ret_errors)
{
        char *errors = NULL;
        int r = load_file(path, ret, NULL, &errors);
        return hand_errors(r, errors, ret_errors);
}

int catalog_load_checked(const char *path, struct catalog **ret, struct catalog **ret_valid,
                         char **ret_errors)
{
        char *errors = NULL;
        int r = path ? load_file(path, ret, ret_valid, &errors) : load_demo(ret, ret_valid, &errors);
        return hand_errors(r, errors, ret_errors);
}

struct catalog *catalog_free(struct catalog *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_services; i++)
                osb_free(c->services[i].plans);
        osb_free(c->services);
        osb_free(c->body);
        json_decref(c->default_backend);
        json_decref(c->doc);
        osb_free(c->source);
        osb_free(c);
        return NULL;
}

const struct catalog_service *catalog_find_service(const struct catalog *c, const char *service_id)
{
        if (!c || !service_id)
                return NULL;
        for (size_t i = 0; i < c->n_services; i++)
                if (strcmp(c->services[i].id, service_id) == 0)
                        return &c->services[i];
        return NULL;
}

const struct catalog_plan *catalog_find_plan(const struct catalog *c, const char *plan_id)
{
        if (!c || !plan_id)
                return NULL;
        for (size_t i = 0; i < c->n_services; i++)
                for (size_t j = 0; j < c->services[i].n_plans; j++)
                        if (strcmp(c->services[i].plans[j].id, plan_id) == 0)
                                return &c->services[i].plans[j];
        return NULL;
}
