/* test/unit/fake_osb.c: catalog-controller/osb_client.h as a scripted broker (fake_ctl.h). The
 * answers are decoded by the real osb_response.c, as the real client's are. */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "catalog-controller/osb_client.h"
#include "test/unit/fake_ctl.h"

struct osb_client {
        char url[256];
};

struct answer {
        char call[24];
        int r;
        long status;
        char *body;
};

struct call {
        char call[24];
        json_t *body;
        char *operation;
        char binding[64];
};

#define FAKE_OSB_MAX 32
static struct answer answers[FAKE_OSB_MAX];
static size_t nanswers, next_answer;
static struct call calls[FAKE_OSB_MAX];
static size_t ncalls;

void fake_osb_reset(void)
{
        for (size_t i = 0; i < nanswers; i++)
                osb_free(answers[i].body);
        for (size_t i = 0; i < ncalls; i++) {
                if (calls[i].body)
                        json_decref(calls[i].body);
                osb_free(calls[i].operation);
        }
        nanswers = next_answer = ncalls = 0;
}

void fake_osb_answer(const char *call, int r, long status, const char *body)
{
        ck_assert_uint_lt(nanswers, FAKE_OSB_MAX);
        struct answer *a = &answers[nanswers++];
        *a = (struct answer){.r = r, .status = status, .body = body ? osb_strdup(body) : NULL};
        (void) snprintf(a->call, sizeof(a->call), "%s", call);
}

size_t fake_osb_calls(void)
{
        return ncalls;
}

const char *fake_osb_call(size_t n)
{
        ck_assert_uint_lt(n, ncalls);
        return calls[n].call;
}

json_t *fake_osb_body(size_t n)
{
        ck_assert_uint_lt(n, ncalls);
        return calls[n].body;
}

const char *fake_osb_binding(size_t n)
{
        ck_assert_uint_lt(n, ncalls);
        return calls[n].binding;
}

const char *fake_osb_operation(size_t n)
{
        ck_assert_uint_lt(n, ncalls);
        return calls[n].operation;
}

size_t fake_osb_unused(void)
{
        return nanswers - next_answer;
}

/* Records call @name and answers it with the next scripted answer, which must be for it. */
static int answer(const char *name, const char *binding_id, const json_t *body, const char *operation,
                  struct osb_response *ret, struct osb_error *err)
{
        ck_assert_uint_lt(ncalls, FAKE_OSB_MAX);
        struct call *c = &calls[ncalls++];
        *c = (struct call){.body = body ? json_deep_copy(body) : NULL, .operation = operation ? osb_strdup(operation) : NULL};
        (void) snprintf(c->call, sizeof(c->call), "%s", name);
        (void) snprintf(c->binding, sizeof(c->binding), "%s", binding_id ? binding_id : "");
        ck_assert_msg(next_answer < nanswers, "the broker was called (%s) with no answer scripted", name);
        const struct answer *a = &answers[next_answer++];
        ck_assert_msg(osb_streq(a->call, name), "the broker was called (%s) where the test expected %s", name, a->call);
        if (a->r < 0)
                return osb_error_set(err, a->r, "%s http://broker.test: scripted failure", name);
        size_t len = a->body ? strlen(a->body) : 0;
        ck_assert_int_eq(osb_response_decode(a->status, a->body ? a->body : "", len, false, -1, ret), 0);
        return 0;
}

int osb_client_new(const struct osb_client_config *cfg, struct osb_client **ret, struct osb_error *err)
{
        struct osb_client *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return osb_error_set(err, -ENOMEM, "out of memory");
        (void) snprintf(c->url, sizeof(c->url), "%s", cfg->url ? cfg->url : "");
        *ret = c;
        return 0;
}

struct osb_client *osb_client_free(struct osb_client *c)
{
        osb_free(c);
        return NULL;
}

void osb_client_freep(struct osb_client **c)
{
        *c = osb_client_free(*c);
}

void osb_client_fingerprint(const struct osb_client_config *cfg, char out[57])
{
        (void) snprintf(out, 57, "%.56s", cfg->url ? cfg->url : "");
}

int osb_client_request(struct osb_client *c, const char *osb_method, const char *method, const char *path,
                       const json_t *body, const char *const *headers, struct osb_response *ret,
                       struct osb_error *err)
{
        (void) c, (void) method, (void) path, (void) headers;
        return answer(osb_method, NULL, body, NULL, ret, err);
}

int osb_client_get_catalog(struct osb_client *c, json_t **ret, struct osb_error *err)
{
        (void) c;
        struct osb_response resp = {0};
        int r = answer("catalog", NULL, NULL, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200)
                r = osb_error_set(err, OSB_E_BACKEND, "GET http://broker.test/v2/catalog: %ld", resp.status);
        else if ((r = osb_response_catalog(&resp, err)) == 0)
                *ret = json_incref(resp.body);
        osb_response_release(&resp);
        return r;
}

int osb_client_provision(struct osb_client *c, const char *instance_id, const json_t *body,
                         const char *identity, struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) identity;
        return answer("provision", NULL, body, NULL, ret, err);
}

int osb_client_update(struct osb_client *c, const char *instance_id, const json_t *body,
                      const char *identity, struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) identity;
        return answer("update", NULL, body, NULL, ret, err);
}

int osb_client_deprovision(struct osb_client *c, const char *instance_id, const char *service_id,
                           const char *plan_id, const char *identity, struct osb_response *ret,
                           struct osb_error *err)
{
        (void) c, (void) instance_id, (void) service_id, (void) plan_id, (void) identity;
        return answer("deprovision", NULL, NULL, NULL, ret, err);
}

int osb_client_last_operation(struct osb_client *c, const char *instance_id, const char *binding_id,
                              const char *service_id, const char *plan_id, const char *operation,
                              const char *identity, struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) service_id, (void) plan_id, (void) identity;
        return answer("last_operation", binding_id, NULL, operation, ret, err);
}

int osb_client_bind(struct osb_client *c, const char *instance_id, const char *binding_id,
                    const json_t *body, bool accepts_incomplete, const char *identity,
                    struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) accepts_incomplete, (void) identity;
        return answer("bind", binding_id, body, NULL, ret, err);
}

int osb_client_unbind(struct osb_client *c, const char *instance_id, const char *binding_id,
                      const char *service_id, const char *plan_id, bool accepts_incomplete,
                      const char *identity, struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) service_id, (void) plan_id;
        (void) accepts_incomplete, (void) identity;
        return answer("unbind", binding_id, NULL, NULL, ret, err);
}

int osb_client_fetch(struct osb_client *c, const char *instance_id, const char *binding_id,
                     const char *identity, struct osb_response *ret, struct osb_error *err)
{
        (void) c, (void) instance_id, (void) identity;
        return answer("fetch", binding_id, NULL, NULL, ret, err);
}
