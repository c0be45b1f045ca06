/* test/unit/fake_kapi.c: catalog-controller/kapi.h over an in-memory API server (fake_ctl.h). */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/kapi.h"
#include "test/unit/fake_ctl.h"

static json_t *objects;   /* "plural|ns|name" -> object */
static json_t *events;
static size_t writes;
static long long next_rv = 100, next_uid = 1;
static time_t (*clock_fn)(void);

void fake_kapi_reset(void)
{
        if (objects)
                json_decref(objects);
        if (events)
                json_decref(events);
        objects = json_object();
        events = json_array();
        writes = 0;
        next_rv = 100;
        clock_fn = NULL;
        ck_assert(objects && events);
}

void fake_kapi_set_clock(time_t (*now)(void))
{
        clock_fn = now;
}

static void now_text(char out[OSB_TIME_RFC3339_MAX])
{
        osb_time_format_rfc3339(clock_fn ? clock_fn() : time(NULL), out);
}

static char *key_of(const struct kube_resource *res, const char *ns, const char *name)
{
        char *k = osb_asprintf("%s|%s|%s", res->plural, ns ? ns : "", name ? name : "");
        ck_assert_ptr_nonnull(k);
        return k;
}

static const char *md_str(const json_t *obj, const char *field)
{
        return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static void set_rv(json_t *obj)
{
        char rv[32];
        (void) snprintf(rv, sizeof(rv), "%lld", next_rv++);
        ck_assert_int_eq(json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion", json_string(rv)), 0);
}

static int copy_out(const json_t *obj, json_t **ret)
{
        if (ret) {
                *ret = json_deep_copy(obj);
                ck_assert_ptr_nonnull(*ret);
        }
        return 0;
}

static bool has_finalizers(const json_t *obj)
{
        return json_array_size(json_object_get(json_object_get(obj, "metadata"), "finalizers")) > 0;
}

/* A write of @obj (counted): its key in *k (new) and the stored object; 404 when absent, 409 when
 * @obj's resourceVersion is not the stored one. */
static int writable(const struct kube_resource *res, const char *ns, const json_t *obj, char **k, json_t **stored,
                    struct osb_error *err)
{
        writes++;
        *k = key_of(res, ns, md_str(obj, "name"));
        *stored = json_object_get(objects, *k);
        if (!*stored)
                return osb_error_set(err, OSB_E_NOT_FOUND, "%s not found", *k);
        const char *rv = md_str(obj, "resourceVersion");
        if (rv && !osb_streq(rv, md_str(*stored, "resourceVersion")))
                return osb_error_set(err, OSB_E_CONFLICT, "%s: the object has been modified", *k);
        return 0;
}

int kapi_get(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
             json_t **ret, struct osb_error *err)
{
        (void) c;
        osb_autofree char *k = key_of(res, ns, name);
        json_t *obj = json_object_get(objects, k);
        if (!obj)
                return osb_error_set(err, OSB_E_NOT_FOUND, "%s \"%s\" not found", res->plural, name);
        return copy_out(obj, ret);
}

int kapi_create(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        (void) c;
        if (osb_streq(res->plural, "events")) {
                ck_assert_int_eq(json_array_append_new(events, json_deep_copy(obj)), 0);
                return copy_out(obj, ret);
        }
        writes++;
        osb_autofree char *k = key_of(res, ns, md_str(obj, "name"));
        if (json_object_get(objects, k))
                return osb_error_set(err, OSB_E_CONFLICT, "%s already exists", k);
        json_t *o = json_deep_copy(obj);
        ck_assert_ptr_nonnull(o);
        json_t *md = json_object_get(o, "metadata");
        char now[OSB_TIME_RFC3339_MAX], uid[32];
        now_text(now);
        (void) snprintf(uid, sizeof(uid), "uid-%lld", next_uid++);
        ck_assert_int_eq(json_object_set_new(md, "uid", json_string(uid)), 0);
        ck_assert_int_eq(json_object_set_new(md, "creationTimestamp", json_string(now)), 0);
        ck_assert_int_eq(json_object_set_new(md, "generation", json_integer(1)), 0);
        if (ns)
                ck_assert_int_eq(json_object_set_new(md, "namespace", json_string(ns)), 0);
        (void) json_object_del(md, "deletionTimestamp");
        set_rv(o);
        ck_assert_int_eq(json_object_set_new(objects, k, o), 0);
        return copy_out(o, ret);
}

int kapi_update(struct kube_client *c, const struct kube_resource *res, const char *ns, const json_t *obj,
                json_t **ret, struct osb_error *err)
{
        (void) c;
        osb_autofree char *k = NULL;
        json_t *stored;
        int r = writable(res, ns, obj, &k, &stored, err);
        if (r < 0)
                return r;
        json_t *o = json_deep_copy(obj);
        ck_assert_ptr_nonnull(o);
        json_t *md = json_object_get(o, "metadata"), *smd = json_object_get(stored, "metadata");
        /* what the server owns stays the server's */
        static const char *const server_owned[] = {"uid", "creationTimestamp", "deletionTimestamp", "generation"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(server_owned); i++) {
                json_t *v = json_object_get(smd, server_owned[i]);
                if (v)
                        ck_assert_int_eq(json_object_set(md, server_owned[i], v), 0);
                else
                        (void) json_object_del(md, server_owned[i]);
        }
        json_t *status = json_object_get(stored, "status");
        if (status)
                ck_assert_int_eq(json_object_set(o, "status", status), 0);
        else
                (void) json_object_del(o, "status");
        if (!json_equal(json_object_get(o, "spec"), json_object_get(stored, "spec")))
                ck_assert_int_eq(json_object_set_new(md, "generation",
                                                     json_integer(json_integer_value(json_object_get(smd, "generation")) + 1)), 0);
        set_rv(o);
        if (json_object_get(md, "deletionTimestamp") && !has_finalizers(o)) {
                /* the last finalizer gone: the object goes (the server answers with it) */
                (void) json_object_del(objects, k);
                (void) copy_out(o, ret);
                json_decref(o);
                return 0;
        }
        ck_assert_int_eq(json_object_set_new(objects, k, o), 0);
        return copy_out(o, ret);
}

int kapi_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err)
{
        (void) c;
        osb_autofree char *k = NULL;
        json_t *stored;
        int r = writable(res, ns, obj, &k, &stored, err);
        if (r < 0)
                return r;
        json_t *status = json_object_get(obj, "status");
        if (status)
                ck_assert_int_eq(json_object_set_new(stored, "status", json_deep_copy(status)), 0);
        else
                (void) json_object_del(stored, "status");
        set_rv(stored);
        return copy_out(stored, ret);
}

int kapi_delete(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
                struct osb_error *err)
{
        (void) c;
        writes++;
        osb_autofree char *k = key_of(res, ns, name);
        json_t *stored = json_object_get(objects, k);
        if (!stored)
                return osb_error_set(err, OSB_E_NOT_FOUND, "%s not found", k);
        if (!has_finalizers(stored)) {
                (void) json_object_del(objects, k);
                return 0;
        }
        json_t *md = json_object_get(stored, "metadata");
        if (!json_object_get(md, "deletionTimestamp")) {
                char now[OSB_TIME_RFC3339_MAX];
                now_text(now);
                ck_assert_int_eq(json_object_set_new(md, "deletionTimestamp", json_string(now)), 0);
                set_rv(stored);
        }
        return 0;
}

/* Every stored item of @res in @ns (all namespaces when NULL), to @fn. */
int kapi_list(struct kube_client *c, const struct kube_resource *res, const char *ns, kube_list_fn fn, void *userdata,
              struct osb_error *err)
{
        (void) c, (void) err;
        osb_autofree char *prefix = osb_asprintf("%s|%s|", res->plural, ns ? ns : "");
        ck_assert_ptr_nonnull(prefix);
        const char *k;
        json_t *v;
        json_object_foreach (objects, k, v) {
                if (ns ? !osb_starts_with(k, prefix) : !osb_starts_with(k, res->plural) || k[strlen(res->plural)] != '|')
                        continue;
                json_auto_t *item = json_deep_copy(v);
                ck_assert_ptr_nonnull(item);
                int r = fn(item, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A merge patch, applied as jansson's recursive update (enough for the reconcilers' patches). */
int kapi_patch(struct kube_client *c, const struct kube_resource *res, const char *ns, const char *name,
               const char *subresource, const json_t *patch, struct osb_error *err)
{
        (void) c, (void) subresource;
        writes++;
        osb_autofree char *k = key_of(res, ns, name);
        json_t *stored = json_object_get(objects, k);
        if (!stored)
                return osb_error_set(err, OSB_E_NOT_FOUND, "%s not found", k);
        ck_assert_int_eq(json_object_update_recursive(stored, (json_t *) patch), 0);
        set_rv(stored);
        return 0;
}

void kapi_set_rate_limit(double qps, unsigned burst)
{
        (void) qps, (void) burst;
}

void fake_kapi_put(const struct kube_resource *res, const char *text)
{
        json_error_t e;
        json_auto_t *obj = json_loads(text, 0, &e);
        ck_assert_msg(obj != NULL, "%s: %s", text, e.text);
        struct osb_error err = OSB_ERROR_INIT;
        size_t w = writes;
        ck_assert_int_eq(kapi_create(NULL, res, md_str(obj, "namespace"), obj, NULL, &err), 0);
        writes = w;     /* the test's, not the controller's */
        /* a status given is kept, as a later status write would */
        json_t *status = json_object_get(obj, "status");
        if (status) {
                osb_autofree char *k = key_of(res, md_str(obj, "namespace"), md_str(obj, "name"));
                ck_assert_int_eq(json_object_set(json_object_get(objects, k), "status", status), 0);
        }
}

json_t *fake_kapi_obj(const struct kube_resource *res, const char *ns, const char *name)
{
        osb_autofree char *k = key_of(res, ns, name);
        return json_object_get(objects, k);
}

json_t *fake_kapi_list(const struct kube_resource *res)
{
        json_t *items = json_array();
        ck_assert_ptr_nonnull(items);
        size_t n = strlen(res->plural);
        const char *k;
        json_t *v;
        json_object_foreach(objects, k, v) {
                if (strncmp(k, res->plural, n) == 0 && k[n] == '|')
                        ck_assert_int_eq(json_array_append(items, v), 0);
        }
        return items;
}

void fake_kapi_delete(const struct kube_resource *res, const char *ns, const char *name)
{
        struct osb_error err = OSB_ERROR_INIT;
        size_t w = writes;
        ck_assert_int_eq(kapi_delete(NULL, res, ns, name, &err), 0);
        writes = w;
}

size_t fake_kapi_writes(void)
{
        return writes;
}

json_t *fake_kapi_events(void)
{
        return events;
}

bool fake_kapi_event(const char *reason)
{
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev) {
                if (osb_streq(json_string_value(json_object_get(ev, "reason")), reason))
                        return true;
        }
        return false;
}
