/* catalog-controller/kobj.c: our annotations and finalizer on an object as JSON. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "catalog-controller/kobj.h"
#include "catalog-controller/names.h"

const char *kobj_annotation(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

bool kobj_drop_finalizer(json_t *obj)
{
        json_t *fin = json_object_get(json_object_get(obj, "metadata"), "finalizers");
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f) {
                if (osb_streq(json_string_value(f), NAMES_FINALIZER)) {
                        (void) json_array_remove(fin, i);
                        return true;
                }
        }
        return false;
}

int kobj_add_finalizer(json_t *obj)
{
        json_t *md = json_object_get(obj, "metadata");
        json_t *fin = json_object_get(md, "finalizers");
        size_t i;
        json_t *f;
        json_array_foreach(fin, i, f) {
                if (osb_streq(json_string_value(f), NAMES_FINALIZER))
                        return 0;
        }
        if (!json_is_array(fin)) {
                fin = json_array();
                if (!fin || json_object_set_new(md, "finalizers", fin) < 0)
                        return -ENOMEM;
        }
        return json_array_append_new(fin, json_string(NAMES_FINALIZER)) < 0 ? -ENOMEM : 1;
}

bool kobj_has_finalizer(const json_t *obj)
{
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f) {
                if (osb_streq(json_string_value(f), NAMES_FINALIZER))
                        return true;
        }
        return false;
}
