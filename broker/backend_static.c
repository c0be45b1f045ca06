/* broker/backend_static.c: the "static" backend. Nothing real is provisioned: bind returns the
 * plan's configured credentials merged with the instance's provision parameters. Settings let
 * a plan be asynchronous (with a simulated duration) or fail on purpose, so platforms and
 * conformance checkers can exercise every path against a real broker; sync_delay makes a
 * synchronous answer slow, so a platform's request time-out can be exercised too. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "common/osb_parse.h"
#include "broker/backend.h"

#define SYNC_DELAY_MAX_MS (10 * 60 * 1000)

struct static_plan {
        const struct backend *be;  /* must be first: see backend_of() */
        json_t *credentials;       /* borrowed from the catalog */
        json_t *extra;             /* new: syslog_drain_url, endpoints, ... copied into binds */
        enum backend_async async, bind_async;
        int64_t delay_ms;
        int64_t sync_delay_ms;     /* a synchronous operation sleeps this long first (0: none) */
        int64_t binding_ttl_ms;    /* > 0: a binding's metadata.expires_at is this long after the bind */
        int64_t retry_after_s;     /* -1: derived from the remaining delay */
        bool fail[OP_KIND_MAX];
        const char *fail_message;
        const char *dashboard_url;
        bool requires_app;
};

static void static_release(struct catalog_plan *plan)
{
        struct static_plan *sp = plan->backend_state;
        if (!sp)
                return;
        json_decref(sp->extra);
        osb_free(sp);
        plan->backend_state = NULL;
}

static int static_configure(struct catalog_plan *plan, struct backend_problems *bp)
{
        size_t problems_before = bp->count;
        const char *path = plan->backend_path;
        json_t *cfg = plan->backend;
        static const char *const known[] = {"type", "credentials", "async", "bind_async", "delay",
                                            "retry_after", "fail", "fail_message", "dashboard_url",
                                            "requires_app", "syslog_drain_url", "route_service_url",
                                            "volume_mounts", "endpoints", "sync_delay", "binding_ttl"};
        const char *key;
        json_t *v;
        json_object_foreach(cfg, key, v) {
                bool ok = false;
                for (unsigned i = 0; i < OSB_ELEMENTSOF(known); i++)
                        ok = ok || strcmp(key, known[i]) == 0;
                if (!ok)
                        (void) backend_problem(bp, "%s.%s: unknown setting of the static backend", path, key);
        }

        osb_autofree struct static_plan *sp = osb_calloc(1, sizeof(*sp));
        if (!sp)
                return -ENOMEM;
        sp->be = &backend_static;
        sp->delay_ms = 1000;
        sp->retry_after_s = -1;
        sp->fail_message = "the operation failed (static backend configured to fail)";

        sp->credentials = json_object_get(cfg, "credentials");
        if (sp->credentials && !json_is_object(sp->credentials))
                (void) backend_problem(bp, "%s.credentials: must be an object", path);
        (void) backend_setting_async(cfg, path, "async", &sp->async, bp);
        (void) backend_setting_async(cfg, path, "bind_async", &sp->bind_async, bp);
        if (sp->bind_async != BACKEND_ASYNC_NEVER && !plan->service->bindings_retrievable)
                (void) backend_problem(bp, "%s.bind_async: asynchronous bindings need the service to "
                                       "set \"bindings_retrievable\": true", path);
        (void) backend_setting_duration(cfg, path, "delay", 0, -1, &sp->delay_ms, bp);
        /* A synchronous answer holds a request thread and the write lock: minutes at most. */
        (void) backend_setting_duration(cfg, path, "sync_delay", 0, SYNC_DELAY_MAX_MS, &sp->sync_delay_ms, bp);
        (void) backend_setting_duration(cfg, path, "binding_ttl", 1000, -1, &sp->binding_ttl_ms, bp);
        v = json_object_get(cfg, "retry_after");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < 0)
                        (void) backend_problem(bp, "%s.retry_after: must be a whole number of seconds", path);
                else
                        sp->retry_after_s = json_integer_value(v);
        }
        v = json_object_get(cfg, "fail");
        if (v) {
                size_t i;
                json_t *e;
                if (!json_is_array(v))
                        (void) backend_problem(bp, "%s.fail: must be an array", path);
                json_array_foreach(v, i, e) {
                        enum op_kind k;
                        if (op_kind_parse(json_string_value(e), &k) < 0)
                                (void) backend_problem(bp, "%s.fail[%zu]: must be one of provision, update, "
                                                       "deprovision, bind, unbind", path, i);
                        else
                                sp->fail[k] = true;
                }
        }
        static const char *const strings[] = {"fail_message", "dashboard_url"};
        const char **targets[] = {&sp->fail_message, &sp->dashboard_url};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(strings); i++) {
                v = json_object_get(cfg, strings[i]);
                if (!v)
                        continue;
                if (!json_is_string(v) || !*json_string_value(v))
                        (void) backend_problem(bp, "%s.%s: must be a non-empty string", path, strings[i]);
                else
                        *targets[i] = json_string_value(v);
        }
        v = json_object_get(cfg, "requires_app");
        if (v) {
                if (!json_is_boolean(v))
                        (void) backend_problem(bp, "%s.requires_app: must be a boolean", path);
                else
                        sp->requires_app = json_is_true(v);
        }
        if (bp->count > problems_before)
                return OSB_E_INVALID_CONFIG;
        sp->extra = json_object();
        if (!sp->extra)
                return -ENOMEM;
        static const char *const extras[] = {"syslog_drain_url", "route_service_url", "volume_mounts", "endpoints"};
        for (unsigned i = 0; i < OSB_ELEMENTSOF(extras); i++) {
                v = json_object_get(cfg, extras[i]);
                if (v && json_object_set(sp->extra, extras[i], v) < 0) {
                        json_decref(sp->extra);
                        return -ENOMEM;
                }
        }
        plan->backend_state = OSB_TAKE_PTR(sp);
        return 0;
}

static const struct static_plan *sp_of(const struct catalog_plan *plan)
{
        return plan->backend_state;
}

static enum backend_async static_async_mode(const struct catalog_plan *plan, enum op_kind kind)
{
        const struct static_plan *sp = sp_of(plan);
        return kind == OP_BIND || kind == OP_UNBIND ? sp->bind_async : sp->async;
}

static int64_t static_first_run_delay_ms(const struct catalog_plan *plan, enum op_kind kind)
{
        return sp_of(plan)->delay_ms;
}

static int64_t static_retry_after_s(const struct catalog_plan *plan, int64_t due_in_ms)
{
        const struct static_plan *sp = sp_of(plan);
        if (sp->retry_after_s >= 0)
                return sp->retry_after_s;
        int64_t s = (due_in_ms + 999) / 1000;
        return s < 1 ? 1 : s;
}

static bool static_requires_app(const struct catalog_plan *plan)
{
        return sp_of(plan)->requires_app;
}

/* Returns a new string with {instance_id}, {binding_id}, {plan_id}, {service_id} replaced. */
static char *expand(const char *tmpl, const struct backend_call *call)
{
        static const char *const names[] = {"{instance_id}", "{binding_id}", "{plan_id}", "{service_id}"};
        static const size_t name_len[] = {13, 12, 9, 12};
        const char *values[] = {call->instance_id, call->binding_id ? call->binding_id : "",
                                call->plan->id, call->plan->service->id};
        size_t value_len[OSB_ELEMENTSOF(values)], longest = 0;
        for (unsigned i = 0; i < OSB_ELEMENTSOF(values); i++) {
                value_len[i] = strlen(values[i]);
                longest = value_len[i] > longest ? value_len[i] : longest;
        }
        /* Only a '{' can start a name: the rest is copied as it is, a span at a time. */
        size_t len = strlen(tmpl), cap = len + 1;
        for (const char *p = memchr(tmpl, '{', len); p; p = memchr(p + 1, '{', len - (size_t) (p + 1 - tmpl)))
                cap += longest;
        char *out = osb_malloc(cap), *o = out;
        if (!out)
                return NULL;
        const char *p = tmpl, *end = tmpl + len;
        while (p < end) {
                const char *brace = memchr(p, '{', (size_t) (end - p));
                if (!brace)
                        brace = end;
                memcpy(o, p, (size_t) (brace - p));
                o += brace - p;
                p = brace;
                if (p == end)
                        break;
                unsigned i = 0;
                while (i < OSB_ELEMENTSOF(names) &&
                       ((size_t) (end - p) < name_len[i] || memcmp(p, names[i], name_len[i]) != 0))
                        i++;
                if (i < OSB_ELEMENTSOF(names)) {
                        memcpy(o, values[i], value_len[i]);
                        o += value_len[i];
                        p += name_len[i];
                } else
                        *o++ = *p++;
        }
        *o = '\0';
        return out;
}

/* Deep copy of @v with every string expanded. Returns new, or NULL on OOM. */
static json_t *expand_json(const json_t *v, const struct backend_call *call)
{
        if (json_is_string(v)) {
                osb_autofree char *s = expand(json_string_value(v), call);
                return s ? json_string(s) : NULL;
        }
        if (json_is_object(v)) {
                json_t *o = json_object();
                const char *k;
                json_t *e;
                json_object_foreach((json_t *) v, k, e) {
                        if (!o || json_object_set_new(o, k, expand_json(e, call)) < 0) {
                                json_decref(o);
                                return NULL;
                        }
                }
                return o;
        }
        if (json_is_array(v)) {
                json_t *a = json_array();
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) {
                        if (!a || json_array_append_new(a, expand_json(e, call)) < 0) {
                                json_decref(a);
                                return NULL;
                        }
                }
                return a;
        }
        return json_deep_copy(v);
}

static int static_run(const struct backend_call *call, struct backend_result *res, struct osb_error *err)
{
        const struct static_plan *sp = sp_of(call->plan);
        if (call->synchronous && sp->sync_delay_ms > 0) {
                /* Inside the request's write transaction (see backend.h): a request for the same
                 * resource meanwhile (a platform's orphan-mitigation DELETE after its time-out)
                 * waits for this one's outcome, as it would behind a slow real backend. */
                osb_sleep_ms(sp->sync_delay_ms);
        }
        if (sp->fail[call->kind])
                return osb_error_set(err, OSB_E_BACKEND, "%s", sp->fail_message);

        switch (call->kind) {
        case OP_PROVISION:
        case OP_UPDATE:
                if (sp->dashboard_url) {
                        res->dashboard_url = expand(sp->dashboard_url, call);
                        if (!res->dashboard_url)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                }
                return 0;
        case OP_BIND: {
                json_auto_t *creds = sp->credentials ? expand_json(sp->credentials, call) : json_object();
                json_auto_t *body = expand_json(sp->extra, call);
                if (!creds || !body)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                if (json_is_object(call->instance_parameters) &&
                    json_object_update(creds, (json_t *) call->instance_parameters) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                if (json_object_set(body, "credentials", creds) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
                if (sp->binding_ttl_ms > 0) {
                        /* OSB 2.17 binding metadata: valid for binding_ttl, renew after half of it */
                        char exp[OSB_TIME_RFC3339_MAX], renew[OSB_TIME_RFC3339_MAX];
                        time_t now = time(NULL);
                        osb_time_format_rfc3339(now + (time_t) (sp->binding_ttl_ms / 1000), exp);
                        osb_time_format_rfc3339(now + (time_t) (sp->binding_ttl_ms / 2000), renew);
                        /* the spec's pattern yyyy-mm-ddThh:mm:ss.sZ has a fraction of a second */
                        (void) snprintf(exp + strlen(exp) - 1, 4, ".0Z");
                        (void) snprintf(renew + strlen(renew) - 1, 4, ".0Z");
                        if (json_object_set_new(body, "metadata", json_pack("{s:s,s:s}", "expires_at", exp,
                                                                            "renew_before", renew)) < 0)
                                return osb_error_set(err, -ENOMEM, "out of memory");
                }
                res->response = OSB_TAKE_PTR(body);
                return 0;
        }
        case OP_DEPROVISION:
        case OP_UNBIND:
        default:
                return 0;
        }
}

static char *static_dashboard_url(const struct backend_call *call)
{
        const struct static_plan *sp = sp_of(call->plan);
        return sp->dashboard_url ? expand(sp->dashboard_url, call) : NULL;
}

const struct backend backend_static = {
        .type = "static",
        .configure = static_configure,
        .release = static_release,
        .async_mode = static_async_mode,
        .first_run_delay_ms = static_first_run_delay_ms,
        .retry_after_s = static_retry_after_s,
        .requires_app = static_requires_app,
        .dashboard_url = static_dashboard_url,
        .run = static_run,
};
