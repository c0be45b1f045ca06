/* test/unit/check_catalog_controller_index.c: the informer's index (kmeta.ikeys filled by
 * cached_extract, informer_index_snapshot()): bindings by instance, instances by the Secrets of
 * their parametersFrom and while unresolved, kept right by adds, updates, deletes and lists. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "kube/watch.h"
#include "catalog-controller/cached.h"
#include "catalog-controller/informer.h"
#include "test/lib/check_main.h"


static json_t *parse(const char *text)
{
        json_error_t e;
        json_t *obj = json_loads(text, 0, &e);
        ck_assert_msg(obj != NULL, "%s: %s", text, e.text);
        return obj;
}

static json_t *binding_obj(const char *ns, const char *name, const char *instance, int rv)
{
        char text[512];
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
                        "\"resourceVersion\":\"%d\",\"generation\":%d},\"spec\":{\"instanceRef\":{\"name\":\"%s\"}}}",
                        name, ns, name, rv, rv, instance);
        return parse(text);
}

/* An instance reading Secrets @s1 and @s2 (NULL: fewer), Ready=False @reason (NULL: none). */
static json_t *instance_obj(const char *ns, const char *name, const char *s1, const char *s2, const char *reason, int rv)
{
        char text[1024], pf[300] = "", st[200] = "";
        if (s1)
                (void) snprintf(pf, sizeof(pf), ",\"parametersFrom\":[{\"secretKeyRef\":{\"name\":\"%s\",\"key\":\"k\"}}%s%s%s]",
                                s1, s2 ? ",{\"secretKeyRef\":{\"name\":\"" : "", s2 ? s2 : "", s2 ? "\",\"key\":\"k\"}}" : "");
        if (reason)
                (void) snprintf(st, sizeof(st), ",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                                "\"reason\":\"%s\"}]}", reason);
        (void) snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
                        "\"resourceVersion\":\"%d\",\"generation\":%d},\"spec\":{\"clusterServiceClassExternalName\":\"db\"%s}%s}",
                        name, ns, name, rv, rv, pf, st);
        return parse(text);
}

static void apply(struct informer *inf, int type, json_t *obj)
{
        ck_assert_int_eq(informer_apply(inf, type, obj), 0);
        json_decref(obj);
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The keys of the objects indexed under @ikey (stolen), sorted, comma-separated. */
static const char *lookup(struct informer *inf, char *ikey)
{
        static char out[4096];
        struct informer_kmeta **v = NULL;
        size_t n = 0, len = 0;
        ck_assert_ptr_nonnull(ikey);
        ck_assert_int_eq(informer_index_snapshot(inf, ikey, &v, &n), 0);
        osb_free(ikey);
        char **keys = osb_calloc(n + 1, sizeof(*keys));
        ck_assert_ptr_nonnull(keys);
        for (size_t i = 0; i < n; i++)
                keys[i] = v[i]->key;
        qsort(keys, n, sizeof(*keys), cmp);
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "", keys[i]);
        osb_free(keys);
        informer_snapshot_free(inf, v, n);
        return out;
}

static const char *bindings_of(struct informer *inf, const char *ns, const char *instance)
{
        return lookup(inf, cached_ikey_instance(ns, instance));
}

static const char *readers_of(struct informer *inf, const char *ns, const char *secret)
{
        return lookup(inf, cached_ikey_secret(ns, secret));
}

START_TEST(bindings_are_found_by_their_instance_through_add_update_delete)
{
        struct informer *inf = informer_new_detached(&cached_kind_bindings, NULL, NULL);
        ck_assert_ptr_nonnull(inf);
        apply(inf, KUBE_EVENT_ADDED, binding_obj("a", "b1", "i1", 1));
        apply(inf, KUBE_EVENT_ADDED, binding_obj("a", "b2", "i1", 1));
        apply(inf, KUBE_EVENT_ADDED, binding_obj("b", "b3", "i1", 1));   /* another namespace's i1 */
        ck_assert_str_eq(bindings_of(inf, "a", "i1"), "a/b1,a/b2");
        ck_assert_str_eq(bindings_of(inf, "b", "i1"), "b/b3");
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "");
        /* b2 moves to i2 (a new generation, relevant or not: the index follows every update) */
        apply(inf, KUBE_EVENT_MODIFIED, binding_obj("a", "b2", "i2", 2));
        ck_assert_str_eq(bindings_of(inf, "a", "i1"), "a/b1");
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "a/b2");
        /* the same object again (a status write): still indexed once */
        apply(inf, KUBE_EVENT_MODIFIED, binding_obj("a", "b2", "i2", 2));
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "a/b2");
        apply(inf, KUBE_EVENT_DELETED, binding_obj("a", "b1", "i1", 3));
        ck_assert_str_eq(bindings_of(inf, "a", "i1"), "");
        apply(inf, KUBE_EVENT_DELETED, binding_obj("a", "b2", "i2", 3));
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "");
        ck_assert_str_eq(bindings_of(inf, "b", "i1"), "b/b3");
        /* a delete of an object never cached changes nothing */
        apply(inf, KUBE_EVENT_DELETED, binding_obj("b", "nope", "i1", 4));
        ck_assert_str_eq(bindings_of(inf, "b", "i1"), "b/b3");
        informer_free(inf);
}
END_TEST

START_TEST(instances_are_found_by_each_secret_and_while_unresolved)
{
        struct informer *inf = informer_new_detached(&cached_kind_bindings, NULL, NULL);
        ck_assert_ptr_nonnull(inf);
        apply(inf, KUBE_EVENT_ADDED, instance_obj("a", "i1", "s", "t", NULL, 1));
        apply(inf, KUBE_EVENT_ADDED, instance_obj("a", "i2", "t", NULL, "ReferencesNonexistentServiceClass", 1));
        apply(inf, KUBE_EVENT_ADDED, instance_obj("a", "i3", "s", "s", "Provisioning", 1));  /* s twice */
        ck_assert_str_eq(readers_of(inf, "a", "s"), "a/i1,a/i3");
        ck_assert_str_eq(readers_of(inf, "a", "t"), "a/i1,a/i2");
        ck_assert_str_eq(readers_of(inf, "b", "s"), "");
        ck_assert_str_eq(lookup(inf, osb_strdup(CACHED_IKEY_UNRESOLVED)), "a/i2");
        /* i1 stops reading t; i2 is resolved; i3 waits for its plan */
        apply(inf, KUBE_EVENT_MODIFIED, instance_obj("a", "i1", "s", NULL, NULL, 2));
        apply(inf, KUBE_EVENT_MODIFIED, instance_obj("a", "i2", "t", NULL, "Provisioning", 2));
        apply(inf, KUBE_EVENT_MODIFIED, instance_obj("a", "i3", "s", NULL, "ReferencesNonexistentServicePlan", 2));
        ck_assert_str_eq(readers_of(inf, "a", "t"), "a/i2");
        ck_assert_str_eq(lookup(inf, osb_strdup(CACHED_IKEY_UNRESOLVED)), "a/i3");
        /* an instance deleted is found no more */
        apply(inf, KUBE_EVENT_DELETED, instance_obj("a", "i3", "s", NULL, "ReferencesNonexistentServicePlan", 3));
        ck_assert_str_eq(readers_of(inf, "a", "s"), "a/i1");
        ck_assert_str_eq(lookup(inf, osb_strdup(CACHED_IKEY_UNRESOLVED)), "");
        informer_free(inf);
}
END_TEST

START_TEST(a_list_replaces_the_index_with_the_cache)
{
        struct informer *inf = informer_new_detached(&cached_kind_bindings, NULL, NULL);
        ck_assert_ptr_nonnull(inf);
        apply(inf, KUBE_EVENT_ADDED, binding_obj("a", "b1", "i1", 1));
        apply(inf, KUBE_EVENT_ADDED, binding_obj("a", "b2", "i1", 1));
        /* relisted: b1 now of i2, b2 gone, b4 new */
        json_t *items = json_array();
        ck_assert_ptr_nonnull(items);
        json_array_append_new(items, binding_obj("a", "b1", "i2", 2));
        json_array_append_new(items, binding_obj("a", "b4", "i1", 1));
        ck_assert_int_eq(informer_replace(inf, items), 0);
        json_decref(items);
        ck_assert_str_eq(bindings_of(inf, "a", "i1"), "a/b4");
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "a/b1");
        /* an empty list empties the index */
        items = json_array();
        ck_assert_int_eq(informer_replace(inf, items), 0);
        json_decref(items);
        ck_assert_str_eq(bindings_of(inf, "a", "i1"), "");
        ck_assert_str_eq(bindings_of(inf, "a", "i2"), "");
        informer_free(inf);
}
END_TEST

START_TEST(a_lookup_returns_only_its_objects_among_many)
{
        struct informer *inf = informer_new_detached(&cached_kind_bindings, NULL, NULL);
        ck_assert_ptr_nonnull(inf);
        char name[32], inst[32];
        for (int i = 0; i < 5000; i++) {
                (void) snprintf(name, sizeof(name), "b%05d", i);
                (void) snprintf(inst, sizeof(inst), "i%05d", i / 2);
                apply(inf, KUBE_EVENT_ADDED, binding_obj("ns", name, inst, 1));
        }
        ck_assert_uint_eq(informer_size(inf), 5000);
        ck_assert_str_eq(bindings_of(inf, "ns", "i01234"), "ns/b02468,ns/b02469");
        for (int i = 0; i < 5000; i += 2) {
                (void) snprintf(name, sizeof(name), "b%05d", i);
                (void) snprintf(inst, sizeof(inst), "i%05d", i / 2);
                apply(inf, KUBE_EVENT_DELETED, binding_obj("ns", name, inst, 2));
        }
        ck_assert_str_eq(bindings_of(inf, "ns", "i01234"), "ns/b02469");
        informer_free(inf);
}
END_TEST

static Suite *index_suite(void)
{
        Suite *s = suite_create("catalog_controller_index");
        TCase *tc = tcase_create("index");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, bindings_are_found_by_their_instance_through_add_update_delete);
        tcase_add_test(tc, instances_are_found_by_each_secret_and_while_unresolved);
        tcase_add_test(tc, a_list_replaces_the_index_with_the_cache);
        tcase_add_test(tc, a_lookup_returns_only_its_objects_among_many);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(index_suite)
