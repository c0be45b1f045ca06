/* test/apiserver/patch.c: JSON merge patch, JSON patch and strategic merge patch. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/apiserver/patch.h"

static int fail(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* RFC 7386 on @t in place (t is ours); returns the result, which may be a new value. */
static json_t *merge_into(json_t *t, const json_t *p)
{
        if (!json_is_object(p)) {
                json_decref(t);
                return json_deep_copy(p);
        }
        if (!json_is_object(t)) {
                json_decref(t);
                t = json_object();
                if (!t)
                        return NULL;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) p, k, v) {
                if (json_is_null(v)) {
                        (void) json_object_del(t, k);
                        continue;
                }
                json_t *cur = json_object_get(t, k);
                json_t *merged = merge_into(cur ? json_incref(cur) : NULL, v);
                if (!merged || json_object_set_new(t, k, merged) < 0) {
                        json_decref(t);
                        return NULL;
                }
        }
        return t;
}

int patch_merge(const json_t *target, const json_t *patch, json_t **ret)
{
        json_t *t = json_deep_copy(target);
        if (!t && target)
                return -ENOMEM;
        /* merge_into shares sub-values of @t by reference while rebuilding: deep copies keep
         * the caller's @target untouched. */
        json_t *r = merge_into(t, patch);
        if (!r)
                return -ENOMEM;
        *ret = r;
        return 0;
}

/* ---- RFC 6902 ---- */

/* Splits a JSON pointer's next token into @tok (unescaped ~1 -> /, ~0 -> ~). */
static int next_token(const char **pp, char *tok, size_t n)
{
        const char *p = *pp;
        if (*p != '/')
                return -EINVAL;
        p++;
        size_t o = 0;
        while (*p && *p != '/') {
                if (o + 1 >= n)
                        return -EINVAL;
                if (*p == '~') {
                        if (p[1] == '0')
                                tok[o++] = '~';
                        else if (p[1] == '1')
                                tok[o++] = '/';
                        else
                                return -EINVAL;
                        p += 2;
                } else {
                        tok[o++] = *p++;
                }
        }
        tok[o] = '\0';
        *pp = p;
        return 0;
}

static int array_index(const char *tok, size_t size, bool allow_end, size_t *ret)
{
        if (allow_end && strcmp(tok, "-") == 0) {
                *ret = size;
                return 0;
        }
        if (!*tok || (tok[0] == '0' && tok[1]) )
                return -EINVAL;
        size_t v = 0;
        for (const char *c = tok; *c; c++) {
                if (!isdigit((unsigned char) *c) || v > 100000000)
                        return -EINVAL;
                v = v * 10 + (size_t) (*c - '0');
        }
        if (v > size || (!allow_end && v == size))
                return -ERANGE;
        *ret = v;
        return 0;
}

/* Resolves all but the last token of @ptr in @doc: *parent (borrowed) and the last token. */
static int resolve_parent(json_t *doc, const char *ptr, json_t **parent, char *last, size_t n)
{
        const char *p = ptr;
        json_t *cur = doc;
        char tok[1024];
        if (*p == '\0')
                return -EINVAL;  /* the root itself: handled by the callers */
        for (;;) {
                if (next_token(&p, tok, sizeof(tok)) < 0)
                        return -EINVAL;
                if (*p == '\0') {
                        snprintf(last, n, "%s", tok);
                        *parent = cur;
                        return 0;
                }
                if (json_is_object(cur)) {
                        cur = json_object_get(cur, tok);
                } else if (json_is_array(cur)) {
                        size_t i;
                        if (array_index(tok, json_array_size(cur), false, &i) < 0)
                                return -ENOENT;
                        cur = json_array_get(cur, i);
                } else {
                        return -ENOENT;
                }
                if (!cur)
                        return -ENOENT;
        }
}

static json_t *get_ptr(json_t *doc, const char *ptr)
{
        if (!*ptr)
                return doc;
        json_t *parent;
        char last[1024];
        if (resolve_parent(doc, ptr, &parent, last, sizeof(last)) < 0)
                return NULL;
        if (json_is_object(parent))
                return json_object_get(parent, last);
        size_t i;
        if (json_is_array(parent) && array_index(last, json_array_size(parent), false, &i) == 0)
                return json_array_get(parent, i);
        return NULL;
}

/* Removes the value at @ptr and returns it (new reference) or NULL. */
static json_t *take_ptr(json_t *doc, const char *ptr)
{
        json_t *parent;
        char last[1024];
        if (resolve_parent(doc, ptr, &parent, last, sizeof(last)) < 0)
                return NULL;
        if (json_is_object(parent)) {
                json_t *v = json_object_get(parent, last);
                if (!v)
                        return NULL;
                json_incref(v);
                (void) json_object_del(parent, last);
                return v;
        }
        size_t i;
        if (json_is_array(parent) && array_index(last, json_array_size(parent), false, &i) == 0) {
                json_t *v = json_incref(json_array_get(parent, i));
                (void) json_array_remove(parent, i);
                return v;
        }
        return NULL;
}

/* Adds @val (stolen) at @ptr. *doc may be replaced (root). */
static int add_ptr(json_t **doc, const char *ptr, json_t *val, bool replace)
{
        if (!*ptr) {
                json_decref(*doc);
                *doc = val;
                return 0;
        }
        json_t *parent;
        char last[1024];
        int r = resolve_parent(*doc, ptr, &parent, last, sizeof(last));
        if (r < 0) {
                json_decref(val);
                return r;
        }
        if (json_is_object(parent)) {
                if (replace && !json_object_get(parent, last)) {
                        json_decref(val);
                        return -ENOENT;
                }
                return json_object_set_new(parent, last, val) < 0 ? -ENOMEM : 0;
        }
        if (json_is_array(parent)) {
                size_t i;
                if (array_index(last, json_array_size(parent), !replace, &i) < 0) {
                        json_decref(val);
                        return -ENOENT;
                }
                if (replace)
                        return json_array_set_new(parent, i, val) < 0 ? -ENOMEM : 0;
                return json_array_insert_new(parent, i, val) < 0 ? -ENOMEM : 0;
        }
        json_decref(val);
        return -ENOENT;
}

int patch_json(const json_t *target, const json_t *ops, json_t **ret, char *msg, size_t msglen)
{
        if (!json_is_array(ops))
                return fail(msg, msglen, "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
                            json_is_object(ops) ? "object" : "value");
        osb_autojson json_t *doc = json_deep_copy(target);
        if (!doc)
                return -ENOMEM;
        size_t idx;
        json_t *op;
        json_array_foreach(ops, idx, op) {
                const char *name = json_string_value(json_object_get(op, "op"));
                const char *path = json_string_value(json_object_get(op, "path"));
                const char *from = json_string_value(json_object_get(op, "from"));
                json_t *value = json_object_get(op, "value");
                if (!name)
                        return fail(msg, msglen, "Unexpected kind: unknown");
                if (!path)
                        return fail(msg, msglen, "%s operation missing path", name);
                int r;
                if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
                        if (!value)
                                return fail(msg, msglen, "%s operation missing value", name);
                        json_t *v = json_deep_copy(value);
                        if (!v)
                                return -ENOMEM;
                        r = add_ptr(&doc, path, v, name[0] == 'r');
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return fail(msg, msglen, name[0] == 'r'
                                            ? "replace operation does not apply: doc is missing key: %s"
                                            : "add operation does not apply: doc is missing path: \"%s\"", path);
                } else if (strcmp(name, "remove") == 0) {
                        json_t *v = take_ptr(doc, path);
                        if (!v)
                                return fail(msg, msglen, "remove operation does not apply: doc is missing path: \"%s\"", path);
                        json_decref(v);
                } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
                        if (!from)
                                return fail(msg, msglen, "%s operation missing from", name);
                        json_t *v;
                        if (name[0] == 'm') {
                                v = take_ptr(doc, from);
                        } else {
                                json_t *src = get_ptr(doc, from);
                                v = src ? json_deep_copy(src) : NULL;
                        }
                        if (!v)
                                return fail(msg, msglen, "%s operation does not apply: doc is missing from path: %s", name, from);
                        r = add_ptr(&doc, path, v, false);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return fail(msg, msglen, "%s operation does not apply: doc is missing destination path: %s", name, path);
                } else if (strcmp(name, "test") == 0) {
                        json_t *v = get_ptr(doc, path);
                        if (!v && json_is_null(value))
                                continue;
                        if (!v || !json_equal(v, value))
                                return fail(msg, msglen, "testing value %s failed: test failed", path);
                } else {
                        return fail(msg, msglen, "Unexpected kind: %s", name);
                }
        }
        *ret = OSB_TAKE_PTR(doc);
        return 0;
}

/* ---- strategic merge patch ---- */

/* The lists of our built-in types that do not simply replace (patchStrategy in the Go types). */
enum list_strategy { LIST_REPLACE, LIST_MERGE_PRIMITIVE, LIST_MERGE_KEYED };

/* Keyed lists of a pod spec (patchMergeKey in k8s.io/api/core/v1), relative to the spec. */
static const char *const pod_spec_keys[][2] = {
        {"containers", "name"},
        {"initContainers", "name"},
        {"ephemeralContainers", "name"},
        {"volumes", "name"},
        {"imagePullSecrets", "name"},
        {"hostAliases", "ip"},
        {"containers[].env", "name"},
        {"containers[].ports", "containerPort"},
        {"containers[].volumeMounts", "mountPath"},
        {"containers[].volumeDevices", "devicePath"},
        {"initContainers[].env", "name"},
        {"initContainers[].ports", "containerPort"},
        {"initContainers[].volumeMounts", "mountPath"},
};

static enum list_strategy strategy_for(const char *path, const char **ret_key)
{
        if (strcmp(path, "metadata.finalizers") == 0)
                return LIST_MERGE_PRIMITIVE;
        if (strcmp(path, "metadata.ownerReferences") == 0) {
                *ret_key = "uid";
                return LIST_MERGE_KEYED;
        }
        if (strcmp(path, "secrets") == 0) {  /* ServiceAccount.secrets */
                *ret_key = "name";
                return LIST_MERGE_KEYED;
        }
        if (strcmp(path, "spec.ports") == 0) {  /* Service.spec.ports */
                *ret_key = "port";
                return LIST_MERGE_KEYED;
        }
        /* A Pod's spec, or a Deployment's pod template. */
        const char *rel = !strncmp(path, "spec.template.spec.", 19) ? path + 19 : !strncmp(path, "spec.", 5) ? path + 5 : NULL;
        for (size_t i = 0; rel && i < OSB_ELEMENTSOF(pod_spec_keys); i++)
                if (!strcmp(rel, pod_spec_keys[i][0])) {
                        *ret_key = pod_spec_keys[i][1];
                        return LIST_MERGE_KEYED;
                }
        return LIST_REPLACE;
}

static json_t *smp_into(json_t *t, const json_t *p, const char *path, char *msg, size_t msglen, int *err);

static json_t *strip_directives(const json_t *p)
{
        if (json_is_object(p)) {
                json_t *o = json_object();
                const char *k;
                json_t *v;
                json_object_foreach((json_t *) p, k, v) {
                        if (k[0] == '$')
                                continue;
                        if (json_is_object(v) && osb_streq(json_string_value(json_object_get(v, "$patch")), "delete"))
                                continue;
                        if (!o || json_object_set_new(o, k, strip_directives(v)) < 0) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        if (json_is_array(p)) {
                json_t *a = json_array();
                size_t i;
                json_t *v;
                json_array_foreach(p, i, v)
                        if (!a || json_array_append_new(a, strip_directives(v)) < 0) {
                                json_decref(a);
                                return NULL;
                        }
                return a;
        }
        return json_deep_copy(p);
}

static json_t *merge_list(json_t *t, const json_t *p, const char *path, char *msg, size_t msglen, int *err)
{
        const char *key = NULL;
        enum list_strategy s = strategy_for(path, &key);
        if (!json_is_array(t) || s == LIST_REPLACE) {
                json_decref(t);
                return strip_directives(p);
        }
        size_t i;
        json_t *item;
        if (s == LIST_MERGE_PRIMITIVE) {
                json_array_foreach(p, i, item) {
                        bool have = false;
                        size_t j;
                        json_t *e;
                        json_array_foreach(t, j, e)
                                if (json_equal(e, item))
                                        have = true;
                        if (!have && json_array_append(t, item) < 0)
                                goto oom;
                }
                return t;
        }
        json_array_foreach(p, i, item) {
                json_t *kv = json_object_get(item, key);
                const char *directive = json_string_value(json_object_get(item, "$patch"));
                if (!kv) {
                        (void) snprintf(msg, msglen, "map: %s does not contain declared merge key: %s", path, key);
                        *err = -EINVAL;
                        json_decref(t);
                        return NULL;
                }
                size_t j, found = SIZE_MAX;
                json_t *e;
                json_array_foreach(t, j, e)
                        if (json_equal(json_object_get(e, key), kv))
                                found = j;
                if (directive && strcmp(directive, "delete") == 0) {
                        if (found != SIZE_MAX)
                                (void) json_array_remove(t, found);
                        continue;
                }
                if (found == SIZE_MAX) {
                        json_t *n = strip_directives(item);
                        if (!n || json_array_append_new(t, n) < 0)
                                goto oom;
                } else {
                        char sub[600];
                        (void) snprintf(sub, sizeof(sub), "%.512s[]", path);
                        json_t *m = smp_into(json_incref(json_array_get(t, found)), item, sub, msg, msglen, err);
                        if (!m || json_array_set_new(t, found, m) < 0) {
                                json_decref(t);
                                return NULL;
                        }
                }
        }
        return t;
oom:
        *err = -ENOMEM;
        json_decref(t);
        return NULL;
}

static json_t *smp_into(json_t *t, const json_t *p, const char *path, char *msg, size_t msglen, int *err)
{
        if (!json_is_object(p)) {
                json_decref(t);
                return strip_directives(p);
        }
        const char *directive = json_string_value(json_object_get(p, "$patch"));
        if (directive && strcmp(directive, "replace") == 0) {
                json_decref(t);
                return strip_directives(p);
        }
        if (!json_is_object(t)) {
                json_decref(t);
                t = json_object();
                if (!t) {
                        *err = -ENOMEM;
                        return NULL;
                }
        } else {
                json_t *copy = json_copy(t);  /* shallow: children are replaced, not mutated */
                json_decref(t);
                t = copy;
                if (!t) {
                        *err = -ENOMEM;
                        return NULL;
                }
        }
        json_t *retain = json_object_get(p, "$retainKeys");
        if (json_is_array(retain)) {
                const char *k;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(t, tmp, k, v) {
                        size_t i;
                        json_t *e;
                        bool keep = false;
                        json_array_foreach(retain, i, e)
                                if (osb_streq(json_string_value(e), k))
                                        keep = true;
                        if (!keep)
                                (void) json_object_del(t, k);
                }
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *) p, k, v) {
                char sub[600];
                if (strncmp(k, "$deleteFromPrimitiveList/", 25) == 0) {
                        json_t *list = json_object_get(t, k + 25);
                        if (json_is_array(list)) {
                                json_t *nl = json_copy(list);
                                size_t i;
                                json_t *e;
                                json_array_foreach(v, i, e)
                                        for (size_t j = 0; nl && j < json_array_size(nl);)
                                                if (json_equal(json_array_get(nl, j), e))
                                                        (void) json_array_remove(nl, j);
                                                else
                                                        j++;
                                if (!nl || json_object_set_new(t, k + 25, nl) < 0)
                                        goto oom;
                        }
                        continue;
                }
                if (k[0] == '$')
                        continue;
                (void) snprintf(sub, sizeof(sub), "%.300s%s%.200s", path, *path ? "." : "", k);
                if (json_is_null(v)) {
                        (void) json_object_del(t, k);
                        continue;
                }
                if (json_is_object(v) && osb_streq(json_string_value(json_object_get(v, "$patch")), "delete")) {
                        (void) json_object_del(t, k);
                        continue;
                }
                json_t *cur = json_object_get(t, k);
                json_t *m;
                if (json_is_array(v))
                        m = merge_list(cur ? json_deep_copy(cur) : NULL, v, sub, msg, msglen, err);
                else
                        m = smp_into(cur ? json_incref(cur) : NULL, v, sub, msg, msglen, err);
                if (!m) {
                        if (!*err)
                                *err = -ENOMEM;
                        json_decref(t);
                        return NULL;
                }
                if (json_object_set_new(t, k, m) < 0)
                        goto oom;
        }
        return t;
oom:
        *err = -ENOMEM;
        json_decref(t);
        return NULL;
}

int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, char *msg, size_t msglen)
{
        if (!json_is_object(patch))
                return fail(msg, msglen, "json: cannot unmarshal array into Go value of type map[string]interface {}");
        int err = 0;
        json_t *t = json_deep_copy(target);
        if (!t)
                return -ENOMEM;
        json_t *r = smp_into(t, patch, "", msg, msglen, &err);
        if (!r)
                return err ? err : -ENOMEM;
        *ret = r;
        return 0;
}
