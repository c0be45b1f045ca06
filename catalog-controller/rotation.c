/* catalog-controller/rotation.c: the rotation policy and schedule of a ServiceBinding (pure). */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "common/osb_parse.h"
#include "catalog-controller/names.h"
#include "catalog-controller/rotation.h"

#define PATH "spec.credentialsRotationPolicy"

static int duration_field(const json_t *pol, const char *field, int64_t *ret, struct osb_error *err)
{
        const json_t *v = json_object_get(pol, field);
        if (!v || json_is_null(v))
                return 0;
        int64_t ms;
        if (!json_is_string(v) || osb_parse_go_duration_ms(json_string_value(v), &ms) < 0 || ms < 1000)
                return osb_error_set(err, OSB_E_BAD_REQUEST, PATH ".%s: not a duration of a second or more, "
                                     "such as 720h or 90m", field);
        *ret = ms / 1000;
        return 1;
}

int rotation_policy_parse(const json_t *spec, struct rotation_policy *ret, struct osb_error *err)
{
        struct rotation_policy p = {.ttl_s = ROTATION_DEFAULT_TTL_S};
        const json_t *pol = json_object_get(spec, "credentialsRotationPolicy");
        if (pol && !json_is_null(pol)) {
                if (!json_is_object(pol))
                        return osb_error_set(err, OSB_E_BAD_REQUEST, PATH ": must be an object");
                const json_t *en = json_object_get(pol, "enabled");
                if (en && !json_is_boolean(en))
                        return osb_error_set(err, OSB_E_BAD_REQUEST, PATH ".enabled: must be true or false");
                p.enabled = json_is_true(en);
                int r = duration_field(pol, "rotationFrequency", &p.frequency_s, err);
                if (r < 0)
                        return r;
                if (p.enabled && r == 0)
                        return osb_error_set(err, OSB_E_BAD_REQUEST, PATH ".rotationFrequency: required when enabled");
                r = duration_field(pol, "rotatedBindingTTL", &p.ttl_s, err);
                if (r < 0)
                        return r;
        }
        *ret = p;
        return 0;
}

static time_t expiry_due(const struct rotation_times *t)
{
        if (t->renew_before > 0)
                return t->renew_before;
        if (t->expires_at <= 0)
                return 0;
        if (t->last <= 0 || t->last >= t->expires_at)
                return 1;       /* at once */
        return t->expires_at - (t->expires_at - t->last) / 5;
}

enum rotation_reason rotation_decide(const struct rotation_policy *pol, const struct rotation_times *t, bool forced,
                                     time_t now, time_t *next_at)
{
        time_t sched = 0, exp = expiry_due(t);
        if (pol->enabled && pol->frequency_s > 0)
                sched = (t->last > 0 ? t->last : now) + (time_t) pol->frequency_s;
        enum rotation_reason why = ROTATION_NONE;
        time_t next = 0;
        if (exp > 0 && (sched == 0 || exp <= sched)) {
                next = exp;
                why = ROTATION_EXPIRY;
        } else if (sched > 0) {
                next = sched;
                why = ROTATION_SCHEDULED;
        }
        if (forced) {
                *next_at = now;
                return ROTATION_FORCED;
        }
        *next_at = next;
        return next > 0 && next <= now ? why : ROTATION_NONE;
}

const char *rotation_reason_name(enum rotation_reason r)
{
        switch (r) {
        case ROTATION_SCHEDULED:
                return "Scheduled";
        case ROTATION_EXPIRY:
                return "Expiry";
        case ROTATION_FORCED:
                return "Forced";
        case ROTATION_SPEC_CHANGED:
                return "SpecChanged";
        case ROTATION_NONE:
        default:
                return "";
        }
}

bool rotation_retired_due(time_t unbind_after, time_t now)
{
        return unbind_after <= now;
}

char *rotation_retired_secret_name(const char *secret_name, const char *external_id)
{
        char h[NAMES_LABEL_VALUE_LEN + 1];
        names_label_value(external_id, h);
        size_t n = strlen(secret_name);
        if (n > 253 - 11)
                n = 253 - 11;
        while (n > 0 && (secret_name[n - 1] == '.' || secret_name[n - 1] == '-'))
                n--;
        return osb_asprintf("%.*s-%.10s", (int) n, secret_name, h);
}
