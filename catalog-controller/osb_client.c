/* catalog-controller/osb_client.c: OSB requests on a small pool of reusable curl easy handles per
 * broker: the broker's instances and bindings are reconciled by several workers at once, and one
 * slow request must not hold up the others. */
#include "common/osb_compat.h"
#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"
#include "common/osb_hash.h"
#include "catalog-controller/metrics.h"
#include "catalog-controller/osb_client.h"

#define DEFAULT_MAX_BODY (16u * 1024u * 1024u)

#define POOL_MAX 8      /* concurrent requests to one broker; more wait for a free handle */

struct osb_client {
        pthread_mutex_t lock;   /* guards the pool */
        CURL *idle[POOL_MAX];   /* handles not in use (each keeps its connection) */
        unsigned nidle, nbusy, max_busy;
        pthread_cond_t freed;   /* a handle was given back (CLOCK_MONOTONIC) */
        char *broker, *url, *userpwd, *auth_header, *ca_pem;
        size_t ca_pem_len;
        bool insecure;
        long timeout_ms, connect_timeout_ms;
        size_t max_body;
        const atomic_bool *cancel;
};

static char *dup_or_null(const char *s, bool *oom)
{
        if (!s)
                return NULL;
        char *d = osb_strdup(s);
        if (!d)
                *oom = true;
        return d;
}

static void wipe_free(char *s)
{
        if (s)
                explicit_bzero(s, strlen(s));
        osb_free(s);
}

struct osb_client *osb_client_free(struct osb_client *c)
{
        if (!c)
                return NULL;
        for (unsigned i = 0; i < c->nidle; i++)
                curl_easy_cleanup(c->idle[i]);
        osb_free(c->broker);
        osb_free(c->url);
        wipe_free(c->userpwd);
        wipe_free(c->auth_header);
        osb_free(c->ca_pem);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->freed);
        osb_free(c);
        return NULL;
}

void osb_client_freep(struct osb_client **c)
{
        *c = osb_client_free(*c);
}

void osb_client_fingerprint(const struct osb_client_config *cfg, char out[57])
{
        struct osb_buf b;
        osb_buf_init(&b, SIZE_MAX / 2);
        /* NUL-separated fields, so no two different configurations run together */
        const char *fields[] = {cfg->url, cfg->username, cfg->password, cfg->token};
        int r = 0;
        for (size_t i = 0; i < OSB_ELEMENTSOF(fields) && r >= 0; i++)
                r = osb_buf_appendf(&b, "%d%s", fields[i] != NULL, fields[i] ? fields[i] : "") < 0 ? -1 :
                    osb_buf_append(&b, "", 1);
        if (r >= 0 && cfg->ca_pem)
                r = osb_buf_append(&b, cfg->ca_pem, cfg->ca_pem_len);
        if (r >= 0)
                r = osb_buf_appendf(&b, "|%d|%ld|%ld|%zu", cfg->insecure_skip_tls_verify, cfg->timeout_ms,
                                    cfg->connect_timeout_ms, cfg->max_body);
        uint8_t d[OSB_HASH_SHA224_LEN];
        if (r < 0)      /* out of memory: a fingerprint that matches nothing */
                memset(d, 0, sizeof(d));
        else
                osb_hash_sha224(b.data, b.len, d);
        osb_hash_hex(d, sizeof(d), out);
        if (b.data)
                explicit_bzero(b.data, b.len);
        osb_buf_release(&b);
}

int osb_client_new(const struct osb_client_config *cfg, struct osb_client **ret, struct osb_error *err)
{
        if (!cfg->url || !*cfg->url)
                return osb_error_set(err, -EINVAL, "the broker has no URL");
        if (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)
                return osb_error_set(err, -EINVAL, "broker URL '%s' is not http:// or https://", cfg->url);
        if (cfg->ca_pem && cfg->insecure_skip_tls_verify)
                return osb_error_set(err, -EINVAL, "caBundle and insecureSkipTLSVerify exclude each other");
        if (cfg->username && cfg->token)
                return osb_error_set(err, -EINVAL, "basic and bearer authentication exclude each other");
        struct osb_client *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return osb_error_set(err, -ENOMEM, "out of memory");
        pthread_mutex_init(&c->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->freed, &ca);
        pthread_condattr_destroy(&ca);
        bool oom = false;
        c->broker = dup_or_null(cfg->broker ? cfg->broker : cfg->url, &oom);
        c->url = dup_or_null(cfg->url, &oom);
        if (c->url) {
                size_t n = strlen(c->url);
                while (n > 0 && c->url[n - 1] == '/')
                        c->url[--n] = '\0';
        }
        if (cfg->username) {
                c->userpwd = osb_asprintf("%s:%s", cfg->username, cfg->password ? cfg->password : "");
                oom |= !c->userpwd;
        }
        if (cfg->token) {
                c->auth_header = osb_asprintf("Authorization: Bearer %s", cfg->token);
                oom |= !c->auth_header;
        }
        if (cfg->ca_pem) {
                c->ca_pem = osb_malloc(cfg->ca_pem_len + 1);
                if (c->ca_pem) {
                        memcpy(c->ca_pem, cfg->ca_pem, cfg->ca_pem_len);
                        c->ca_pem[cfg->ca_pem_len] = '\0';
                        c->ca_pem_len = cfg->ca_pem_len;
                }
                oom |= !c->ca_pem;
        }
        c->insecure = cfg->insecure_skip_tls_verify;
        c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
        c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
        c->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
        c->cancel = cfg->cancel;
        c->max_busy = cfg->max_concurrent > 0 && cfg->max_concurrent < POOL_MAX ? cfg->max_concurrent : POOL_MAX;
        c->idle[0] = oom ? NULL : curl_easy_init();
        c->nidle = c->idle[0] ? 1 : 0;
        if (!c->nidle) {
                osb_client_free(c);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        *ret = c;
        return 0;
}

/* A handle for one request: an idle one, or a new one while fewer than max_busy are in use,
 * else the next one given back within BUSY_WAIT_MS. NULL with *busy when none came (the broker
 * is slow or hung: the caller tries later, and its thread serves other brokers meanwhile);
 * NULL when curl cannot make one. */
#define BUSY_WAIT_MS 2000
static CURL *take_handle(struct osb_client *c, bool *busy)
{
        CURL *h = NULL;
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += BUSY_WAIT_MS / 1000;
        pthread_mutex_lock(&c->lock);
        while (c->nbusy >= c->max_busy && pthread_cond_timedwait(&c->freed, &c->lock, &deadline) == 0)
                ;
        *busy = c->nbusy >= c->max_busy;
        if (*busy)
                ;
        else if (c->nidle > 0)
                h = c->idle[--c->nidle];
        else
                h = curl_easy_init();
        if (h)
                c->nbusy++;
        pthread_mutex_unlock(&c->lock);
        return h;
}

static void give_handle(struct osb_client *c, CURL *h)
{
        pthread_mutex_lock(&c->lock);
        c->nbusy--;
        if (c->nidle < POOL_MAX)
                c->idle[c->nidle++] = h;
        else
                curl_easy_cleanup(h);
        pthread_cond_signal(&c->freed);
        pthread_mutex_unlock(&c->lock);
}

struct xfer {
        struct osb_client *c;
        struct osb_buf body;
        long retry_after;
        bool too_big;
};

static size_t on_write(char *p, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        if (osb_buf_append(&x->body, p, len) < 0) {
                x->too_big = x->body.len + len > x->body.max;
                return 0;
        }
        return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        static const char name[] = "retry-after:";
        if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
                char v[32];
                size_t vl = OSB_MIN(len - (sizeof(name) - 1), sizeof(v) - 1);
                memcpy(v, p + sizeof(name) - 1, vl);
                v[vl] = '\0';
                char *end;
                errno = 0;
                long s = strtol(v, &end, 10);
                while (*end == ' ' || *end == '\r' || *end == '\n')
                        end++;
                /* the broker's number: a value past a day (or past long) is read as a day, so no
                 * caller's arithmetic on it can overflow */
                if (end != v && *end == '\0' && s >= 0)
                        x->retry_after = errno == ERANGE || s > OSB_CLIENT_RETRY_AFTER_MAX ? OSB_CLIENT_RETRY_AFTER_MAX : s;
        }
        return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
        struct xfer *x = userdata;
        return x->c->cancel && atomic_load(x->c->cancel) ? 1 : 0;
}

static int transport_error(CURLcode cc, const struct xfer *x)
{
        switch (cc) {
        case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER: return -EPROTO;
        case CURLE_ABORTED_BY_CALLBACK: return -ECANCELED;
        case CURLE_OUT_OF_MEMORY: return -ENOMEM;
        case CURLE_FILESIZE_EXCEEDED: return -E2BIG;
        case CURLE_WRITE_ERROR: return x->too_big ? -E2BIG : -ENOMEM;
        default: return -EIO;
        }
}

static const char *phrase(long status)
{
        switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 412: return "Precondition Failed";
        case 422: return "Unprocessable Entity";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "";
        }
}

int osb_client_request(struct osb_client *c, const char *osb_method, const char *method, const char *path,
                       const json_t *body, const char *const *headers, struct osb_response *ret,
                       struct osb_error *err)
{
        osb_autofree char *url = osb_asprintf("%s%s", c->url, path);
        osb_autofree char *payload = body ? osb_json_dump(body, NULL) : NULL;
        if (!url || (body && !payload))
                return osb_error_set(err, -ENOMEM, "out of memory");
        struct curl_slist *hl = NULL, *t;
        const char *std[] = {"X-Broker-API-Version: " OSB_CLIENT_API_VERSION, "Accept: application/json",
                             body ? "Content-Type: application/json" : NULL, c->auth_header};
        bool oom = false;
        for (size_t i = 0; i < OSB_ELEMENTSOF(std); i++) {
                if (!std[i])
                        continue;
                if (!(t = curl_slist_append(hl, std[i])))
                        oom = true;
                else
                        hl = t;
        }
        for (size_t i = 0; headers && headers[i]; i++) {
                if (!(t = curl_slist_append(hl, headers[i])))
                        oom = true;
                else
                        hl = t;
        }
        if (oom) {
                curl_slist_free_all(hl);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }

        struct xfer x = {.c = c, .retry_after = -1};
        osb_buf_init(&x.body, c->max_body);
        char errbuf[CURL_ERROR_SIZE] = "";
        bool busy;
        CURL *h = take_handle(c, &busy);
        if (!h) {
                curl_slist_free_all(hl);
                osb_buf_release(&x.body);
                if (busy)
                        return osb_error_set(err, -EBUSY, "%s %s: %u requests to this broker are already in flight",
                                             method, url, c->max_busy);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        curl_easy_reset(h);     /* keeps the connection cache */
        CURLcode cc = CURLE_OK;
#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val); } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_HTTPHEADER, hl);
        SET(CURLOPT_USERAGENT, "bindery-catalog-controller/" PACKAGE_VERSION);
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, &x);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, &x);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, &x);
        SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
        SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->max_body);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        if (c->userpwd) {
                SET(CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                SET(CURLOPT_USERPWD, c->userpwd);
        }
        if (c->insecure) {
                SET(CURLOPT_SSL_VERIFYPEER, 0L);
                SET(CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (c->ca_pem) {
                /* the bundle is the only trust anchor: no system store */
                struct curl_blob blob = {.data = c->ca_pem, .len = c->ca_pem_len, .flags = CURL_BLOB_COPY};
                SET(CURLOPT_CAINFO, NULL);
                SET(CURLOPT_CAPATH, NULL);
                SET(CURLOPT_CAINFO_BLOB, &blob);
        }
        if (payload) {
                SET(CURLOPT_POSTFIELDS, payload);
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(payload));
                SET(CURLOPT_CUSTOMREQUEST, method);
        } else if (strcmp(method, "GET") == 0) {
                SET(CURLOPT_HTTPGET, 1L);
        } else {
                SET(CURLOPT_CUSTOMREQUEST, method);
        }
#undef SET
        long status = 0;
        if (cc == CURLE_OK) {
                cc = curl_easy_perform(h);
                (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        give_handle(c, h);
        curl_slist_free_all(hl);

        int r = cc == CURLE_OK ? 0 : transport_error(cc, &x);
        /* a success too large to read is an answer, unreadable (for a provision or a bind an
         * orphan-mitigation trigger), not a transport failure to retry */
        bool cut = r == -E2BIG && status >= 200 && status < 300;
        if (r < 0 && !cut) {
                osb_buf_release(&x.body);
                metrics_osb_request(c->broker, osb_method, 0);
                if (r == -E2BIG)
                        return osb_error_set(err, r, "%s %s: the response is larger than %zu bytes", method, url, c->max_body);
                return osb_error_set(err, r, "%s %s: %s", method, url,
                                     r == -ECANCELED ? "cancelled" : *errbuf ? errbuf : curl_easy_strerror(cc));
        }
        metrics_osb_request(c->broker, osb_method, status);
        r = osb_response_decode(status, x.body.data, cut ? c->max_body : x.body.len, cut, x.retry_after, ret);
        osb_buf_release(&x.body);
        if (r < 0)
                return osb_error_set(err, r, "out of memory");
        if (ret->too_long)
                osb_log_warn("the broker's answer was dropped: a field is too long", "broker=%s call=%s status=%ld "
                             "field=%s bytes=%zu max=%u", c->broker, osb_method, status, ret->too_long,
                             ret->too_long_len, (unsigned) OSB_RESPONSE_FIELD_MAX);
        return 0;
}

int osb_client_get_catalog(struct osb_client *c, json_t **ret, struct osb_error *err)
{
        struct osb_response resp = {0};
        int r = osb_client_request(c, "GetCatalog", "GET", "/v2/catalog", NULL, NULL, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                long s = resp.status;
                r = s == 401 ? OSB_E_UNAUTHORIZED : s == 403 ? -EACCES : s == 404 ? OSB_E_NOT_FOUND :
                    s == 412 ? OSB_E_API_VERSION : OSB_E_BACKEND;
                const char *ph = phrase(s);
                (void) osb_error_set(err, r, "GET %s/v2/catalog: %ld%s%s%s%s", c->url, s, *ph ? " " : "", ph,
                                     resp.description ? ": " : resp.error ? ": " : "",
                                     resp.description ? resp.description : resp.error ? resp.error : "");
                osb_response_release(&resp);
                return r;
        }
        r = osb_response_catalog(&resp, err);
        if (r < 0) {
                osb_response_release(&resp);
                osb_error_prefix(err, "GET %s/v2/catalog: 200 OK but ", c->url);
                return r;
        }
        *ret = OSB_TAKE_PTR(resp.body);
        osb_response_release(&resp);
        return 0;
}

/* ---- instances and bindings ---- */

static char *escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s ? s : "", 0);
        if (!e)
                return NULL;
        char *d = osb_strdup(e);
        curl_free(e);
        return d;
}

/* Appends "&key=value" (or "?" first) when @value is non-NULL. */
static int add_query(struct osb_buf *b, const char *key, const char *value)
{
        if (!value)
                return 0;
        osb_autofree char *v = escape(value);
        if (!v)
                return -ENOMEM;
        return osb_buf_appendf(b, "%c%s=%s", strchr(b->data ? b->data : "", '?') ? '&' : '?', key, v);
}

static int instance_path(struct osb_buf *b, const char *instance_id, const char *binding_id, const char *tail)
{
        osb_autofree char *i = escape(instance_id);
        osb_autofree char *bd = binding_id ? escape(binding_id) : NULL;
        if (!i || (binding_id && !bd))
                return -ENOMEM;
        int r = osb_buf_appendf(b, "/v2/service_instances/%s", i);
        if (r >= 0 && bd)
                r = osb_buf_appendf(b, "/service_bindings/%s", bd);
        if (r >= 0 && tail)
                r = osb_buf_appends(b, tail);
        return r;
}

static int call(struct osb_client *c, const char *osb_method, const char *method, struct osb_buf *path,
                int r, const json_t *body, const char *identity, struct osb_response *ret, struct osb_error *err)
{
        osb_autofree char *hdr = identity ? osb_asprintf("X-Broker-API-Originating-Identity: %s", identity) : NULL;
        if (r < 0 || (identity && !hdr)) {
                osb_buf_release(path);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        const char *headers[] = {hdr, NULL};
        r = osb_client_request(c, osb_method, method, path->data, body, headers, ret, err);
        osb_buf_release(path);
        return r;
}

int osb_client_provision(struct osb_client *c, const char *instance_id, const json_t *body,
                         const char *identity, struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, NULL, "?accepts_incomplete=true");
        return call(c, "ProvisionInstance", "PUT", &p, r, body, identity, ret, err);
}

int osb_client_update(struct osb_client *c, const char *instance_id, const json_t *body,
                      const char *identity, struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, NULL, "?accepts_incomplete=true");
        return call(c, "UpdateInstance", "PATCH", &p, r, body, identity, ret, err);
}

int osb_client_deprovision(struct osb_client *c, const char *instance_id, const char *service_id,
                           const char *plan_id, const char *identity, struct osb_response *ret,
                           struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, NULL, "?accepts_incomplete=true");
        if (r >= 0)
                r = add_query(&p, "service_id", service_id);
        if (r >= 0)
                r = add_query(&p, "plan_id", plan_id);
        return call(c, "DeprovisionInstance", "DELETE", &p, r, NULL, identity, ret, err);
}

int osb_client_last_operation(struct osb_client *c, const char *instance_id, const char *binding_id,
                              const char *service_id, const char *plan_id, const char *operation,
                              const char *identity, struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 16384);
        int r = instance_path(&p, instance_id, binding_id, "/last_operation");
        if (r >= 0)
                r = add_query(&p, "service_id", service_id);
        if (r >= 0)
                r = add_query(&p, "plan_id", plan_id);
        if (r >= 0)
                r = add_query(&p, "operation", operation);
        return call(c, binding_id ? "PollBindingLastOperation" : "PollLastOperation", "GET", &p, r, NULL, identity,
                    ret, err);
}

int osb_client_bind(struct osb_client *c, const char *instance_id, const char *binding_id,
                    const json_t *body, bool accepts_incomplete, const char *identity,
                    struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, binding_id, accepts_incomplete ? "?accepts_incomplete=true" : NULL);
        return call(c, "Bind", "PUT", &p, r, body, identity, ret, err);
}

int osb_client_unbind(struct osb_client *c, const char *instance_id, const char *binding_id,
                      const char *service_id, const char *plan_id, bool accepts_incomplete,
                      const char *identity, struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, binding_id, accepts_incomplete ? "?accepts_incomplete=true" : NULL);
        if (r >= 0)
                r = add_query(&p, "service_id", service_id);
        if (r >= 0)
                r = add_query(&p, "plan_id", plan_id);
        return call(c, "Unbind", "DELETE", &p, r, NULL, identity, ret, err);
}

int osb_client_fetch(struct osb_client *c, const char *instance_id, const char *binding_id,
                     const char *identity, struct osb_response *ret, struct osb_error *err)
{
        struct osb_buf p;
        osb_buf_init(&p, 8192);
        int r = instance_path(&p, instance_id, binding_id, NULL);
        return call(c, binding_id ? "GetBinding" : "GetInstance", "GET", &p, r, NULL, identity, ret, err);
}
