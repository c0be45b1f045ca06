/* catalog-controller/condition.c: conditions on a JSON status. */
#include "common/osb_compat.h"

#include "common/osb_json.h"
#include "catalog-controller/condition.h"

json_t *condition_get(const json_t *status, const char *type)
{
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(status, "conditions"), i, c) {
                if (osb_streq(json_string_value(json_object_get(c, "type")), type))
                        return c;
        }
        return NULL;
}

bool condition_is(const json_t *status, const char *type, const char *value)
{
        return osb_streq(json_string_value(json_object_get(condition_get(status, type), "status")), value);
}

/* What kubectl get prints: the last condition's type when True, else its reason. An
 * informational condition (UpgradeAvailable) says nothing of the object's state: skipped. */
static int recompute_state(json_t *status)
{
        json_t *conds = json_object_get(status, "conditions");
        size_t n = json_array_size(conds);
        while (n && osb_streq(json_string_value(json_object_get(json_array_get(conds, n - 1), "type")),
                              CONDITION_INFORMATIONAL))
                n--;
        if (!n) {
                (void) json_object_del(status, "lastConditionState");
                return 0;
        }
        json_t *last = json_array_get(conds, n - 1);
        const char *v = osb_streq(json_string_value(json_object_get(last, "status")), "True") ?
                        json_string_value(json_object_get(last, "type")) :
                        json_string_value(json_object_get(last, "reason"));
        return json_object_set_new(status, "lastConditionState", json_string(v ? v : ""));
}

int condition_set(json_t *status, const char *type, const char *value, const char *reason, const char *message,
                  const char *now)
{
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
                conds = json_array();
                if (!conds || json_object_set_new(status, "conditions", conds) < 0)
                        return -ENOMEM;
        }
        json_t *c = condition_get(status, type);
        const char *ltt = now;
        if (c && osb_streq(json_string_value(json_object_get(c, "status")), value) &&
            json_string_value(json_object_get(c, "lastTransitionTime")))
                ltt = json_string_value(json_object_get(c, "lastTransitionTime"));
        json_t *n = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", value, "lastTransitionTime", ltt,
                              "reason", reason, "message", message ? message : "");
        if (!n)
                return -ENOMEM;
        if (c) {
                /* replace in place, keeping the order of the conditions */
                size_t i;
                json_t *x;
                json_array_foreach(conds, i, x) {
                        if (x == c) {
                                if (json_array_set_new(conds, i, n) < 0)
                                        return -ENOMEM;
                                break;
                        }
                }
        } else if (json_array_append_new(conds, n) < 0) {
                return -ENOMEM;
        }
        return recompute_state(status) < 0 ? -ENOMEM : 0;
}

void condition_remove(json_t *status, const char *type)
{
        json_t *conds = json_object_get(status, "conditions");
        size_t i;
        json_t *x;
        json_array_foreach(conds, i, x) {
                if (osb_streq(json_string_value(json_object_get(x, "type")), type)) {
                        (void) json_array_remove(conds, i);
                        (void) recompute_state(status);
                        return;
                }
        }
}
