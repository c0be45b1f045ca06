/* catalog-controller/osb_response.c: decoding and checking brokers' answers (see the header). */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "common/osb_time.h"
#include "catalog-controller/osb_response.h"

void osb_response_release(struct osb_response *r)
{
        if (r->body)
                json_decref(r->body);
        osb_free(r->error);
        osb_free(r->description);
        *r = (struct osb_response){.retry_after_s = -1};
}

int osb_response_text(const json_t *v, bool code, char **ret)
{
        *ret = NULL;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!s || !n)
                return 0;
        if (code) {
                /* an OSB error code: a word ("AsyncRequired"), or nothing */
                if (n > OSB_RESPONSE_CODE_MAX)
                        return 0;
                for (size_t i = 0; i < n; i++)
                        if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
                                return 0;
                *ret = osb_strndup(s, n);
                return *ret ? 0 : -ENOMEM;
        }
        size_t keep = n;
        if (keep > OSB_RESPONSE_TEXT_MAX) {
                keep = OSB_RESPONSE_TEXT_MAX;
                while (keep > 0 && ((unsigned char) s[keep] & 0xc0) == 0x80)   /* not inside a character */
                        keep--;
        }
        char *t = osb_malloc(keep + 4);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < keep; i++)
                t[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
        if (keep < n) {
                memcpy(t + keep, "...", 3);
                keep += 3;
        }
        t[keep] = '\0';
        *ret = t;
        return 0;
}

int osb_response_decode(long status, const char *data, size_t len, bool too_big, long retry_after_s,
                        struct osb_response *ret)
{
        struct osb_response resp = {.status = status, .retry_after_s = retry_after_s, .body_len = len,
                                    .too_big = too_big};
        if (len && !too_big) {
                json_error_t jerr;
                size_t failures = osb_mem_failures();
                resp.body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
                if (osb_mem_failures() != failures) {
                        osb_response_release(&resp);
                        return -ENOMEM;
                }
                if (!resp.body) {
                        resp.json_line = jerr.line;
                        resp.json_column = jerr.column;
                }
        }
        static const char *const capped[] = {"operation", "dashboard_url"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(capped) && json_is_object(resp.body); i++) {
                const json_t *v = json_object_get(resp.body, capped[i]);
                if (json_is_string(v) && json_string_length(v) > OSB_RESPONSE_FIELD_MAX) {
                        resp.too_long = capped[i];
                        resp.too_long_len = json_string_length(v);
                        json_decref(resp.body);
                        resp.body = NULL;
                }
        }
        if (json_is_object(resp.body)) {
                const json_t *e = json_object_get(resp.body, "error");
                const json_t *d = json_object_get(resp.body, "description");
                if ((e && osb_response_text(e, true, &resp.error) < 0) ||
                    (d && osb_response_text(d, false, &resp.description) < 0)) {
                        osb_response_release(&resp);
                        return -ENOMEM;
                }
        }
        *ret = resp;
        return 0;
}

/* The JSON type of @j, for messages that must not show its value. */
static const char *type_name(const json_t *j)
{
        switch (json_typeof(j)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER:
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        default: return "null";
        }
}

void osb_response_summary(const struct osb_response *r, const char *call, char *out, size_t n)
{
        if (r->too_big)
                (void) snprintf(out, n, "the broker's response to %s was larger than %zu bytes", call, r->body_len);
        else if (!r->body_len)
                (void) snprintf(out, n, "the broker's response to %s was empty", call);
        else if (r->too_long)
                (void) snprintf(out, n, "the broker's response to %s has a \"%s\" of %zu bytes, more than %u", call,
                                r->too_long, r->too_long_len, (unsigned) OSB_RESPONSE_FIELD_MAX);
        else if (!r->body)
                (void) snprintf(out, n, "the broker's response to %s was not valid JSON (line %d, column %d, %zu bytes)",
                                call, r->json_line, r->json_column, r->body_len);
        else if (!json_is_object(r->body))
                (void) snprintf(out, n, "the broker's response to %s was not a JSON object (%s, %zu bytes)", call,
                                type_name(r->body), r->body_len);
        else
                (void) snprintf(out, n, "the broker's response to %s", call);
}

static int unreadable(const struct osb_response *r, const char *call, struct osb_error *err)
{
        char s[sizeof(err->text)];
        osb_response_summary(r, call, s, sizeof(s));
        return osb_error_set(err, -EBADMSG, "%s", s);
}

int osb_response_bind(const struct osb_response *r, const char *call, const json_t **credentials,
                      struct osb_error *err)
{
        *credentials = NULL;
        if (!json_is_object(r->body))
                return unreadable(r, call, err);
        const json_t *c = json_object_get(r->body, "credentials");
        if (c && !json_is_object(c))
                return osb_error_set(err, -EBADMSG, "the broker's response to %s has \"credentials\" that are %s, "
                                     "not a JSON object (%zu bytes)", call, type_name(c), r->body_len);
        *credentials = c;
        return 0;
}

void osb_response_bind_expiry(const json_t *body, time_t *expires_at, time_t *renew_before)
{
        const json_t *md = json_object_get(body, "metadata");
        time_t t;
        *expires_at = *renew_before = 0;
        if (!json_is_object(md))
                return;
        if (osb_time_parse_rfc3339(json_string_value(json_object_get(md, "expires_at")), &t) == 0 && t > 0)
                *expires_at = t;
        if (osb_time_parse_rfc3339(json_string_value(json_object_get(md, "renew_before")), &t) == 0 && t > 0)
                *renew_before = t;
}

int osb_response_provision(const struct osb_response *r, const char *call, const char **dashboard_url,
                           struct osb_error *err)
{
        if (dashboard_url)
                *dashboard_url = NULL;
        if (!json_is_object(r->body))
                return unreadable(r, call, err);
        if (dashboard_url)
                *dashboard_url = json_string_value(json_object_get(r->body, "dashboard_url"));
        return 0;
}

int osb_response_last_operation(const struct osb_response *r, const char *call, enum osb_response_state *state,
                                const char **description, struct osb_error *err)
{
        if (description)
                *description = NULL;
        if (!json_is_object(r->body))
                return unreadable(r, call, err);
        const json_t *s = json_object_get(r->body, "state");
        if (!s)
                return osb_error_set(err, -EBADMSG, "the broker's response to %s has no \"state\" (%zu bytes)", call,
                                     r->body_len);
        if (!json_is_string(s))
                return osb_error_set(err, -EBADMSG, "the broker's response to %s has a \"state\" that is %s, not a "
                                     "string (%zu bytes)", call, type_name(s), r->body_len);
        const char *v = json_string_value(s);
        size_t n = json_string_length(s);      /* "succeeded\u0000..." is not "succeeded" */
        if (n == strlen("in progress") && strcmp(v, "in progress") == 0)
                *state = OSB_RESPONSE_IN_PROGRESS;
        else if (n == strlen("succeeded") && strcmp(v, "succeeded") == 0)
                *state = OSB_RESPONSE_SUCCEEDED;
        else if (n == strlen("failed") && strcmp(v, "failed") == 0)
                *state = OSB_RESPONSE_FAILED;
        else
                return osb_error_set(err, -EBADMSG, "the broker's response to %s has a \"state\" of %zu bytes that is "
                                     "not \"in progress\", \"succeeded\" or \"failed\"", call, json_string_length(s));
        if (description)
                *description = r->description;
        return 0;
}

int osb_response_catalog(const struct osb_response *r, struct osb_error *err)
{
        if (!json_is_object(r->body))
                return unreadable(r, "GET /v2/catalog", err);
        const json_t *s = json_object_get(r->body, "services");
        if (!json_is_array(s))
                return osb_error_set(err, -EBADMSG, "the broker's response to GET /v2/catalog has %s \"services\", "
                                     "not an array (%zu bytes)", s ? type_name(s) : "no", r->body_len);
        return 0;
}

void osb_response_describe(const struct osb_response *resp, char *out, size_t n)
{
        (void) snprintf(out, n, "the broker answered %ld%s%s%s%s", resp->status, resp->error ? " " : "",
                        resp->error ? resp->error : "", resp->description ? ": " : "",
                        resp->description ? resp->description : "");
}
