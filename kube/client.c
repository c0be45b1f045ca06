/* kube/client.c: requests to the Kubernetes API over libcurl: a pool of easy handles (each
 * keeps its connections alive) sharing DNS and TLS session caches; paths, CRUD verbs and the
 * mapping of HTTP statuses to Bindery's error codes. */
#include "common/osb_compat.h"

#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "kube/client.h"

#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_REQUEST_TIMEOUT_MS 60000L
#define DEFAULT_MAX_BODY (64u * 1024u * 1024u)
#define DEFAULT_MAX_IDLE 8u
/* Bodies of failed streaming requests (a Status) are read up to this size. */
#define ERROR_BODY_MAX (1024u * 1024u)

const struct kube_resource kube_namespaces = {"", "v1", "namespaces", false};
const struct kube_resource kube_secrets = {"", "v1", "secrets", true};
const struct kube_resource kube_events = {"", "v1", "events", true};
const struct kube_resource kube_leases = {"coordination.k8s.io", "v1", "leases", true};
const struct kube_resource kube_crds = {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
#define SC "servicecatalog.k8s.io", "v1beta1"
const struct kube_resource kube_sc_cluster_brokers = {SC, "clusterservicebrokers", false};
const struct kube_resource kube_sc_cluster_classes = {SC, "clusterserviceclasses", false};
const struct kube_resource kube_sc_cluster_plans = {SC, "clusterserviceplans", false};
const struct kube_resource kube_sc_brokers = {SC, "servicebrokers", true};
const struct kube_resource kube_sc_classes = {SC, "serviceclasses", true};
const struct kube_resource kube_sc_plans = {SC, "serviceplans", true};
const struct kube_resource kube_sc_instances = {SC, "serviceinstances", true};
const struct kube_resource kube_sc_bindings = {SC, "servicebindings", true};
#undef SC

struct kube_client {
        struct kube_config *cfg;
        struct kube_client_options opts;
        CURLSH *share;
        pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
        pthread_mutex_t pool_lock;
        CURL **idle;             /* max_idle slots */
        unsigned n_idle;
        atomic_bool cancelled;
        /* The sockets libcurl has open (its open/close callbacks), so that kube_client_cancel()
         * can shut them down: a request waiting on a silent server ends at once, not at the
         * next progress callback (about a second when nothing arrives). */
        pthread_mutex_t sock_lock;
        curl_socket_t *socks;
        size_t nsocks, capsocks;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
        curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userdata)
{
        struct kube_client *c = userdata;
        if ((unsigned) data < CURL_LOCK_DATA_LAST)
                pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userdata)
{
        struct kube_client *c = userdata;
        if ((unsigned) data < CURL_LOCK_DATA_LAST)
                pthread_mutex_unlock(&c->share_locks[data]);
}

int kube_client_new(struct kube_config *cfg, const struct kube_client_options *opts,
                    struct kube_client **ret, struct osb_error *err)
{
        osb_auto(kube_config_freep) struct kube_config *owned = cfg;
        pthread_once(&curl_once, curl_init);
        if (curl_init_result != CURLE_OK)
                return osb_error_set(err, -EIO, "cannot initialise libcurl: %s",
                                     curl_easy_strerror(curl_init_result));
        struct kube_client *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return osb_error_set(err, -ENOMEM, "out of memory");
        if (opts)
                c->opts = *opts;
        if (c->opts.connect_timeout_ms <= 0)
                c->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
        if (c->opts.request_timeout_ms <= 0)
                c->opts.request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
        if (c->opts.max_body == 0)
                c->opts.max_body = DEFAULT_MAX_BODY;
        if (c->opts.max_idle == 0)
                c->opts.max_idle = DEFAULT_MAX_IDLE;
        c->idle = osb_calloc(c->opts.max_idle, sizeof(*c->idle));
        c->share = curl_share_init();
        if (!c->idle || !c->share) {
                curl_share_cleanup(c->share);
                osb_free(c->idle);
                osb_free(c);
                return osb_error_set(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < OSB_ELEMENTSOF(c->share_locks); i++)
                pthread_mutex_init(&c->share_locks[i], NULL);
        pthread_mutex_init(&c->pool_lock, NULL);
        pthread_mutex_init(&c->sock_lock, NULL);
        (void) curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
        (void) curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        (void) curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        (void) curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        c->cfg = OSB_TAKE_PTR(owned);
        *ret = c;
        return 0;
}

struct kube_client *kube_client_free(struct kube_client *c)
{
        if (!c)
                return NULL;
        for (unsigned i = 0; i < c->n_idle; i++)
                curl_easy_cleanup(c->idle[i]);
        curl_share_cleanup(c->share);
        for (size_t i = 0; i < OSB_ELEMENTSOF(c->share_locks); i++)
                pthread_mutex_destroy(&c->share_locks[i]);
        pthread_mutex_destroy(&c->pool_lock);
        pthread_mutex_destroy(&c->sock_lock);
        osb_free(c->socks);
        osb_free(c->idle);
        kube_config_free(c->cfg);
        osb_free(c);
        return NULL;
}

void kube_client_freep(struct kube_client **c)
{
        *c = kube_client_free(*c);
}

struct kube_config *kube_client_config(struct kube_client *c)
{
        return c->cfg;
}

void kube_client_cancel(struct kube_client *c)
{
        atomic_store(&c->cancelled, true);
        /* Under sock_lock no socket is closed (close_socket takes it), so no descriptor here
         * can have been reused for something else. */
        pthread_mutex_lock(&c->sock_lock);
        for (size_t i = 0; i < c->nsocks; i++)
                (void) shutdown(c->socks[i], SHUT_RDWR);
        pthread_mutex_unlock(&c->sock_lock);
}

static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *addr)
{
        struct kube_client *c = userdata;
        (void) purpose;
        curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
        if (fd == CURL_SOCKET_BAD)
                return CURL_SOCKET_BAD;
        pthread_mutex_lock(&c->sock_lock);
        bool ok = !atomic_load(&c->cancelled);
        if (ok && c->nsocks == c->capsocks) {
                size_t cap = c->capsocks ? c->capsocks * 2 : 16;
                curl_socket_t *v = osb_realloc(c->socks, cap * sizeof(*v));
                ok = v != NULL;
                if (v) {
                        c->socks = v;
                        c->capsocks = cap;
                }
        }
        if (ok)
                c->socks[c->nsocks++] = fd;
        pthread_mutex_unlock(&c->sock_lock);
        if (!ok) {
                (void) close(fd);
                return CURL_SOCKET_BAD;
        }
        return fd;
}

static int close_socket(void *userdata, curl_socket_t fd)
{
        struct kube_client *c = userdata;
        pthread_mutex_lock(&c->sock_lock);
        for (size_t i = 0; i < c->nsocks; i++)
                if (c->socks[i] == fd) {
                        c->socks[i] = c->socks[--c->nsocks];
                        break;
                }
        int r = close(fd);
        pthread_mutex_unlock(&c->sock_lock);
        return r;
}

static CURL *handle_get(struct kube_client *c)
{
        CURL *h = NULL;
        pthread_mutex_lock(&c->pool_lock);
        if (c->n_idle > 0)
                h = c->idle[--c->n_idle];
        pthread_mutex_unlock(&c->pool_lock);
        return h ? h : curl_easy_init();
}

static void handle_put(struct kube_client *c, CURL *h)
{
        pthread_mutex_lock(&c->pool_lock);
        if (c->n_idle < c->opts.max_idle) {
                c->idle[c->n_idle++] = h;
                h = NULL;
        }
        pthread_mutex_unlock(&c->pool_lock);
        if (h)
                curl_easy_cleanup(h);
}

void kube_response_release(struct kube_response *r)
{
        json_decref(r->body);
        osb_free(r->reason);
        osb_free(r->message);
        *r = (struct kube_response){0};
}

/* One transfer in progress. */
struct xfer {
        CURL *h;
        struct kube_client *c;
        struct osb_buf body;     /* the whole body, or a failed stream's error body */
        kube_stream_fn fn;       /* streaming: 2xx bodies go here */
        void *userdata;
        int stream_state;        /* 0 unknown, 1 streaming to fn, -1 collecting an error body */
        int abort_code;          /* why a callback stopped the transfer */
};

static size_t on_write(char *p, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        if (x->fn && x->stream_state == 0) {
                long status = 0;
                (void) curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
                x->stream_state = status >= 200 && status < 300 ? 1 : -1;
                if (x->stream_state < 0)
                        osb_buf_init(&x->body, ERROR_BODY_MAX);
        }
        if (x->stream_state == 1) {
                int r = x->fn(p, len, x->userdata);
                if (r < 0) {
                        x->abort_code = r;
                        return 0;
                }
                return len;
        }
        int r = osb_buf_append(&x->body, p, len);
        if (r < 0) {
                x->abort_code = r;
                return 0;
        }
        return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct xfer *x = userdata;
        return atomic_load(&x->c->cancelled) ? 1 : 0;
}

static const char *status_phrase(long status)
{
        switch (status) {
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 413: return "Request Entity Too Large";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return status < 300 ? "OK" : "Error";
        }
}

int kube_status_code(long status)
{
        switch (status) {
        case 400: return OSB_E_BAD_REQUEST;
        case 401: return OSB_E_UNAUTHORIZED;
        case 403: return -EACCES;
        case 404: return OSB_E_NOT_FOUND;
        case 405: return OSB_E_METHOD;
        case 409: return OSB_E_CONFLICT;
        case 410: return OSB_E_GONE;
        case 413: return OSB_E_TOO_LARGE;
        case 415: return OSB_E_UNSUPPORTED_MEDIA;
        case 422: return OSB_E_UNPROCESSABLE;
        case 429:
        case 503:
        case 504: return OSB_E_UNAVAILABLE;
        default: return status >= 200 && status < 300 ? 0 : OSB_E_BACKEND;
        }
}

int kube_response_error(struct kube_client *c, const char *method, const char *path,
                        const struct kube_response *r, struct osb_error *err)
{
        int code = kube_status_code(r->status);
        if (code == 0)
                return 0;
        return osb_error_set(err, code, "%s %s%s: %ld %s%s%s", method, c->cfg->server, path,
                             r->status, r->reason ? r->reason : status_phrase(r->status),
                             r->message ? ": " : "", r->message ? r->message : "");
}

/* Fills reason/message of @resp from a Status body, or the start of a text body. */
static int extract_status(struct kube_response *resp, const char *text, size_t len)
{
        if (resp->body) {
                const char *reason = json_string_value(json_object_get(resp->body, "reason"));
                const char *message = json_string_value(json_object_get(resp->body, "message"));
                if (reason && *reason && !(resp->reason = osb_strdup(reason)))
                        return -ENOMEM;
                if (message && *message && !(resp->message = osb_strdup(message)))
                        return -ENOMEM;
                return 0;
        }
        /* Proxies and load balancers answer in text or HTML: keep one printable line of it. */
        char line[201];
        size_t n = 0;
        for (size_t i = 0; i < len && n < sizeof(line) - 1; i++) {
                unsigned char ch = (unsigned char) text[i];
                if (ch == '\n' && n > 0)
                        break;
                if (ch >= 0x20 && ch != 0x7f)
                        line[n++] = (char) ch;
        }
        line[n] = '\0';
        if (n > 0 && !(resp->message = osb_strdup(line)))
                return -ENOMEM;
        return 0;
}

static int curl_code(CURLcode cc, const struct xfer *x)
{
        switch (cc) {
        case CURLE_WRITE_ERROR:
                return x->abort_code < 0 ? x->abort_code : -EIO;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_FILESIZE_EXCEEDED:
                return -E2BIG;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_USE_SSL_FAILED:
                return -EPROTO;
        default:
                return -EIO;
        }
}

static void free_slist(struct curl_slist **l)
{
        curl_slist_free_all(*l);
        *l = NULL;
}

static int add_header(struct curl_slist **l, const char *fmt, const char *value)
{
        osb_autofree char *h = osb_asprintf(fmt, value);
        if (!h)
                return -ENOMEM;
        struct curl_slist *n = curl_slist_append(*l, h);
        if (n)
                *l = n;
        if (h[0] == 'A' && strncmp(h, "Authorization:", 14) == 0)
                explicit_bzero(h, strlen(h));
        return n ? 0 : -ENOMEM;
}

/* Sets everything on @h that does not depend on the request. */
static int setup_tls_and_limits(struct kube_client *c, CURL *h)
{
        const struct kube_config *cfg = c->cfg;
        CURLcode cc = CURLE_OK;
#define SET(opt, val)                                           \
        do {                                                    \
                if (cc == CURLE_OK)                             \
                        cc = curl_easy_setopt(h, opt, val);     \
        } while (0)
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_SHARE, c->share);
        SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
        SET(CURLOPT_OPENSOCKETDATA, c);
        SET(CURLOPT_CLOSESOCKETFUNCTION, close_socket);
        SET(CURLOPT_CLOSESOCKETDATA, c);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_TCP_KEEPIDLE, 30L);
        SET(CURLOPT_TCP_KEEPINTVL, 10L);
        SET(CURLOPT_ACCEPT_ENCODING, "gzip");
        SET(CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : "bindery/" PACKAGE_VERSION);
        if (cfg->proxy_url)
                SET(CURLOPT_PROXY, cfg->proxy_url);
        if (cfg->insecure_skip_tls_verify) {
                SET(CURLOPT_SSL_VERIFYPEER, 0L);
                SET(CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (cfg->ca_pem) {
                /* Only the configured CA, as kubectl does: not the system's store too. */
                struct curl_blob blob = {cfg->ca_pem, cfg->ca_pem_len, CURL_BLOB_COPY};
                SET(CURLOPT_CAINFO, NULL);
                SET(CURLOPT_CAPATH, NULL);
                SET(CURLOPT_CAINFO_BLOB, &blob);
        }
        if (cfg->cert_pem && cfg->key_pem) {
                struct curl_blob cert = {cfg->cert_pem, cfg->cert_pem_len, CURL_BLOB_COPY};
                struct curl_blob key = {cfg->key_pem, cfg->key_pem_len, CURL_BLOB_COPY};
                SET(CURLOPT_SSLCERTTYPE, "PEM");
                SET(CURLOPT_SSLCERT_BLOB, &cert);
                SET(CURLOPT_SSLKEYTYPE, "PEM");
                SET(CURLOPT_SSLKEY_BLOB, &key);
        }
#undef SET
        return cc == CURLE_OK ? 0 : cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

/* The common body of kube_request() and kube_stream_get(). */
static int perform(struct kube_client *c, const char *method, const char *path, const json_t *body,
                   const char *content_type, long timeout_ms, kube_stream_fn fn, void *userdata,
                   struct kube_response *ret, struct osb_error *err)
{
        if (atomic_load(&c->cancelled))
                return osb_error_set(err, -ECANCELED, "%s %s%s: cancelled", method, c->cfg->server, path);
        osb_autofree char *url = osb_asprintf("%s%s", c->cfg->server, path);
        if (!url)
                return osb_error_set(err, -ENOMEM, "out of memory");
        osb_autofree char *payload = NULL;
        size_t payload_len = 0;
        if (body && !(payload = osb_json_dump_flags(body, JSON_COMPACT | JSON_ENCODE_ANY, &payload_len)))
                return osb_error_set(err, -ENOMEM, "%s %s: out of memory", method, url);

        osb_autofree char *token = NULL;
        int r = kube_config_token(c->cfg, &token, err);
        if (r < 0) {
                osb_error_prefix(err, "%s %s: ", method, url);
                return r;
        }
        osb_auto(free_slist) struct curl_slist *headers = NULL;
        if ((r = add_header(&headers, "%s", "Accept: application/json")) < 0 ||
            (r = add_header(&headers, "%s", "Expect:")) < 0 ||
            (payload && (r = add_header(&headers, "Content-Type: %s",
                                        content_type ? content_type : "application/json")) < 0) ||
            (token && (r = add_header(&headers, "Authorization: Bearer %s", token)) < 0))
                return osb_error_set(err, r, "%s %s: out of memory", method, url);
        if (token)
                explicit_bzero(token, strlen(token));

        CURL *h = handle_get(c);
        if (!h)
                return osb_error_set(err, -ENOMEM, "%s %s: cannot create a curl handle", method, url);
        curl_easy_reset(h);
        struct xfer x = {.h = h, .c = c, .fn = fn, .userdata = userdata};
        osb_buf_init(&x.body, c->opts.max_body);
        char errbuf[CURL_ERROR_SIZE] = "";
        r = setup_tls_and_limits(c, h);
        CURLcode cc = CURLE_OK;
#define SET(opt, val)                                           \
        do {                                                    \
                if (cc == CURLE_OK)                             \
                        cc = curl_easy_setopt(h, opt, val);     \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_HTTPHEADER, headers);
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, &x);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, &x);
        SET(CURLOPT_TIMEOUT_MS, timeout_ms);
        if (!fn)
                SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->opts.max_body);
        if (payload) {
                SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) payload_len);
                SET(CURLOPT_POSTFIELDS, payload);
                SET(CURLOPT_CUSTOMREQUEST, method);
        } else if (strcmp(method, "GET") == 0) {
                SET(CURLOPT_HTTPGET, 1L);
        } else if (strcmp(method, "HEAD") == 0) {
                SET(CURLOPT_NOBODY, 1L);
        } else {
                SET(CURLOPT_CUSTOMREQUEST, method);
        }
#undef SET
        if (r == 0 && cc != CURLE_OK)
                r = cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        if (r < 0) {
                handle_put(c, h);
                osb_buf_release(&x.body);
                return osb_error_set(err, r, "%s %s: cannot set up the request: %s", method, url,
                                     cc != CURLE_OK ? curl_easy_strerror(cc) : strerror(-r));
        }

        cc = curl_easy_perform(h);
        long status = 0;
        (void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        /* The handle keeps pointers to our stack; drop them before it goes back to the pool. */
        (void) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        (void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        handle_put(c, h);
        if (cc != CURLE_OK) {
                r = curl_code(cc, &x);
                /* a socket kube_client_cancel() shut down fails as whatever that looked like */
                if (atomic_load(&c->cancelled) && !(cc == CURLE_WRITE_ERROR && x.abort_code < 0))
                        r = -ECANCELED;
                osb_buf_release(&x.body);
                if (cc == CURLE_WRITE_ERROR && x.stream_state == 1 && x.abort_code < 0)
                        return r;  /* the stream callback's own code; it filled @err */
                if (r == -E2BIG)
                        return osb_error_set(err, r, "%s %s: the response is larger than %zu bytes",
                                             method, url, fn ? (size_t) ERROR_BODY_MAX : c->opts.max_body);
                return osb_error_set(err, r, "%s %s: %s", method, url,
                                     r == -ECANCELED ? "cancelled" : *errbuf ? errbuf : curl_easy_strerror(cc));
        }

        struct kube_response resp = {.status = status};
        if (fn && x.stream_state != -1 && status >= 200 && status < 300) {
                osb_buf_release(&x.body);
                *ret = resp;
                return 0;
        }
        if (x.body.len > 0) {
                json_error_t jerr;
                size_t failures = osb_mem_failures();
                resp.body = json_loadb(x.body.data, x.body.len, JSON_REJECT_DUPLICATES, &jerr);
                if (osb_mem_failures() != failures) {
                        kube_response_release(&resp);
                        osb_buf_release(&x.body);
                        return osb_error_set(err, -ENOMEM, "%s %s: out of memory", method, url);
                }
                if (!resp.body && status >= 200 && status < 300) {
                        osb_buf_release(&x.body);
                        return osb_error_set(err, -EBADMSG, "%s %s: %ld: the response is not JSON: %s",
                                             method, url, status, jerr.text);
                }
        }
        if (status >= 300 && extract_status(&resp, x.body.data, x.body.len) < 0) {
                kube_response_release(&resp);
                osb_buf_release(&x.body);
                return osb_error_set(err, -ENOMEM, "%s %s: out of memory", method, url);
        }
        osb_buf_release(&x.body);
        *ret = resp;
        return 0;
}

int kube_request(struct kube_client *c, const char *method, const char *path, const json_t *body,
                 const char *content_type, struct kube_response *ret, struct osb_error *err)
{
        return perform(c, method, path, body, content_type, c->opts.request_timeout_ms, NULL, NULL,
                       ret, err);
}

int kube_stream_get(struct kube_client *c, const char *path, long timeout_ms, kube_stream_fn fn,
                    void *userdata, long *ret_status, struct kube_response *ret_error_response,
                    struct osb_error *err)
{
        struct kube_response resp = {0};
        int r = perform(c, "GET", path, NULL, NULL, timeout_ms > 0 ? timeout_ms : 0, fn, userdata,
                        &resp, err);
        if (r < 0)
                return r;
        *ret_status = resp.status;
        if (resp.status >= 300)
                *ret_error_response = resp;
        else
                kube_response_release(&resp);
        return 0;
}

/* Percent-encodes @s into @b: everything but RFC 3986 unreserved characters. */
static int append_escaped(struct osb_buf *b, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                int r;
                if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
                        char ch = (char) *p;
                        r = osb_buf_append(b, &ch, 1);
                } else {
                        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
                        r = osb_buf_append(b, esc, 3);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool bad_segment(const char *s)
{
        return !s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

static int append_segment(struct osb_buf *b, const char *s)
{
        int r = osb_buf_append(b, "/", 1);
        return r < 0 ? r : append_escaped(b, s);
}

int kube_path(const struct kube_resource *res, const char *ns, const char *name,
              const char *subresource, char **ret)
{
        bool core = !res->group || !*res->group;
        if (bad_segment(res->version) || bad_segment(res->plural) ||
            (!core && bad_segment(res->group)) || (name && bad_segment(name)) ||
            (subresource && (bad_segment(subresource) || !name)) ||
            (res->namespaced && name && bad_segment(ns)) || (res->namespaced && ns && bad_segment(ns)))
                return -EINVAL;
        struct osb_buf b;
        osb_buf_init(&b, 8192);
        int r = osb_buf_appends(&b, core ? "/api" : "/apis");
        if (r == 0 && !core)
                r = append_segment(&b, res->group);
        if (r == 0)
                r = append_segment(&b, res->version);
        if (r == 0 && res->namespaced && ns) {
                r = osb_buf_appends(&b, "/namespaces");
                if (r == 0)
                        r = append_segment(&b, ns);
        }
        if (r == 0)
                r = append_segment(&b, res->plural);
        if (r == 0 && name)
                r = append_segment(&b, name);
        if (r == 0 && subresource)
                r = append_segment(&b, subresource);
        char *s = r == 0 ? osb_buf_detach(&b, NULL) : NULL;
        if (!s) {
                osb_buf_release(&b);
                return r == -E2BIG ? -EINVAL : -ENOMEM;
        }
        *ret = s;
        return 0;
}

int kube_path_add_query(char **path, const char *key, const char *value)
{
        struct osb_buf b;
        osb_buf_init(&b, SIZE_MAX / 2);
        int r = osb_buf_appends(&b, *path);
        if (r == 0)
                r = osb_buf_append(&b, strchr(*path, '?') ? "&" : "?", 1);
        if (r == 0)
                r = append_escaped(&b, key);
        if (r == 0)
                r = osb_buf_append(&b, "=", 1);
        if (r == 0)
                r = append_escaped(&b, value);
        char *s = r == 0 ? osb_buf_detach(&b, NULL) : NULL;
        if (!s) {
                osb_buf_release(&b);
                return -ENOMEM;
        }
        osb_free(*path);
        *path = s;
        return 0;
}

/* Runs a request whose success returns an object, mapping failed statuses to codes. */
static int do_verb(struct kube_client *c, const char *method, const char *path, const json_t *body,
                   const char *content_type, json_t **ret, struct osb_error *err)
{
        struct kube_response resp = {0};
        int r = kube_request(c, method, path, body, content_type, &resp, err);
        if (r < 0)
                return r;
        r = kube_response_error(c, method, path, &resp, err);
        if (r == 0 && ret) {
                if (!json_is_object(resp.body))
                        r = osb_error_set(err, -EBADMSG, "%s %s%s: %ld: the response is not a JSON object",
                                          method, c->cfg->server, path, resp.status);
                else
                        *ret = OSB_TAKE_PTR(resp.body);
        }
        kube_response_release(&resp);
        return r;
}

static const char *meta_string(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
        return s && *s ? s : NULL;
}

/* The namespace for @obj: @ns, or its metadata.namespace. */
static int object_namespace(const struct kube_resource *res, const char *ns, const json_t *obj,
                            const char *verb, const char **ret, struct osb_error *err)
{
        if (!res->namespaced || ns) {
                *ret = ns;
                return 0;
        }
        const char *m = meta_string(obj, "namespace");
        if (!m)
                return osb_error_set(err, -EINVAL, "%s %s: no namespace given and metadata.namespace is not set",
                                     verb, res->plural);
        *ret = m;
        return 0;
}

static int path_error(int r, const char *verb, const struct kube_resource *res, const char *ns,
                      const char *name, struct osb_error *err)
{
        if (r == -ENOMEM)
                return osb_error_set(err, r, "out of memory");
        return osb_error_set(err, r, "%s %s: invalid resource, namespace '%s' or name '%s'", verb,
                             res->plural ? res->plural : "(null)", ns ? ns : "", name ? name : "");
}

int kube_get(struct kube_client *c, const struct kube_resource *res, const char *ns,
             const char *name, json_t **ret, struct osb_error *err)
{
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, name, NULL, &path);
        if (r < 0 || !name)
                return path_error(r < 0 ? r : -EINVAL, "GET", res, ns, name, err);
        json_t *obj = NULL;
        r = do_verb(c, "GET", path, NULL, NULL, &obj, err);
        if (r == 0)
                *ret = obj;
        return r;
}

int kube_create(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const json_t *obj, json_t **ret, struct osb_error *err)
{
        int r = object_namespace(res, ns, obj, "POST", &ns, err);
        if (r < 0)
                return r;
        osb_autofree char *path = NULL;
        r = kube_path(res, ns, NULL, NULL, &path);
        if (r < 0 || (res->namespaced && !ns))
                return path_error(r < 0 ? r : -EINVAL, "POST", res, ns, NULL, err);
        return do_verb(c, "POST", path, obj, NULL, ret, err);
}

static int put(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const json_t *obj, const char *subresource, json_t **ret, struct osb_error *err)
{
        int r = object_namespace(res, ns, obj, "PUT", &ns, err);
        if (r < 0)
                return r;
        const char *name = meta_string(obj, "name");
        if (!name)
                return osb_error_set(err, -EINVAL, "PUT %s: metadata.name is not set", res->plural);
        if (!meta_string(obj, "resourceVersion"))
                return osb_error_set(err, -EINVAL,
                                     "PUT %s/%s: metadata.resourceVersion is not set (every write "
                                     "must be conditional on the version read)", res->plural, name);
        osb_autofree char *path = NULL;
        r = kube_path(res, ns, name, subresource, &path);
        if (r < 0)
                return path_error(r, "PUT", res, ns, name, err);
        return do_verb(c, "PUT", path, obj, NULL, ret, err);
}

int kube_update(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const json_t *obj, json_t **ret, struct osb_error *err)
{
        return put(c, res, ns, obj, NULL, ret, err);
}

int kube_update_status(struct kube_client *c, const struct kube_resource *res, const char *ns,
                       const json_t *obj, json_t **ret, struct osb_error *err)
{
        return put(c, res, ns, obj, "status", ret, err);
}

int kube_patch(struct kube_client *c, const struct kube_resource *res, const char *ns,
               const char *name, const char *subresource, enum kube_patch_type type,
               const json_t *patch, json_t **ret, struct osb_error *err)
{
        static const char *const types[] = {
                [KUBE_PATCH_MERGE] = "application/merge-patch+json",
                [KUBE_PATCH_JSON] = "application/json-patch+json",
                [KUBE_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
        };
        if ((unsigned) type >= OSB_ELEMENTSOF(types) || !patch)
                return osb_error_set(err, -EINVAL, "PATCH %s: invalid patch", res->plural);
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, name, subresource, &path);
        if (r < 0 || !name)
                return path_error(r < 0 ? r : -EINVAL, "PATCH", res, ns, name, err);
        return do_verb(c, "PATCH", path, patch, types[type], ret, err);
}

int kube_delete(struct kube_client *c, const struct kube_resource *res, const char *ns,
                const char *name, const json_t *options, struct osb_error *err)
{
        osb_autofree char *path = NULL;
        int r = kube_path(res, ns, name, NULL, &path);
        if (r < 0 || !name)
                return path_error(r < 0 ? r : -EINVAL, "DELETE", res, ns, name, err);
        struct kube_response resp = {0};
        r = kube_request(c, "DELETE", path, options, NULL, &resp, err);
        if (r < 0)
                return r;
        r = kube_response_error(c, "DELETE", path, &resp, err);
        kube_response_release(&resp);
        return r;
}
