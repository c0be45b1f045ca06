/* test/lib/http_client.c: the libcurl wrapper behind http_client.h. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "test/lib/http_client.h"

#define HTTP_CLIENT_MAX_BODY (16u * 1024 * 1024)
#define HTTP_CLIENT_MAX_HEADERS 256

struct http_client {
        CURL *curl;
};

/* What the curl callbacks write into; the first failure sticks. */
struct http_sink {
        struct http_response *resp;
        int error;
};

static bool curl_ready;

int http_client_new(struct http_client **ret)
{
        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -ENOMEM;
                curl_ready = true;
        }
        struct http_client *c = osb_calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->curl = curl_easy_init();
        if (!c->curl) {
                osb_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

struct http_client *http_client_free(struct http_client *c)
{
        if (c) {
                curl_easy_cleanup(c->curl);
                osb_free(c);
        }
        return NULL;
}

void http_response_init(struct http_response *r)
{
        *r = (struct http_response){0};
        osb_buf_init(&r->body, HTTP_CLIENT_MAX_BODY);
}

static void headers_clear(struct http_response *r)
{
        for (size_t i = 0; i < r->n_headers; i++) {
                osb_free(r->headers[i].name);
                osb_free(r->headers[i].value);
        }
        osb_free(r->headers);
        r->headers = NULL;
        r->n_headers = 0;
}

void http_response_release(struct http_response *r)
{
        headers_clear(r);
        osb_buf_release(&r->body);
        http_response_init(r);
}

const char *http_response_header(const struct http_response *r, const char *name)
{
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcasecmp(r->headers[i].name, name) == 0)
                        return r->headers[i].value;
        return NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *userdata)
{
        struct http_sink *sink = userdata;
        int r = osb_buf_append(&sink->resp->body, p, size * n);
        if (r < 0) {
                sink->error = r;
                return 0;  /* makes curl abort the transfer */
        }
        return size * n;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Called once per header line, status lines included: a new status line starts a new response
 * (after a 100 Continue or an informational answer), so earlier headers are dropped. */
static size_t on_header(char *p, size_t size, size_t n, void *userdata)
{
        struct http_sink *sink = userdata;
        struct http_response *r = sink->resp;
        size_t len = size * n;

        if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
                headers_clear(r);
                return len;
        }
        const char *colon = memchr(p, ':', len);
        if (!colon)
                return len;  /* the blank line that ends the headers */
        if (r->n_headers >= HTTP_CLIENT_MAX_HEADERS) {
                sink->error = -E2BIG;
                return 0;
        }
        const char *v = colon + 1, *end = p + len;
        while (v < end && is_blank(*v))
                v++;
        while (end > v && is_blank(end[-1]))
                end--;
        struct http_header *h = osb_realloc(r->headers, (r->n_headers + 1) * sizeof(*h));
        if (!h) {
                sink->error = -ENOMEM;
                return 0;
        }
        r->headers = h;
        h[r->n_headers].name = osb_strndup(p, (size_t) (colon - p));
        h[r->n_headers].value = osb_strndup(v, (size_t) (end - v));
        r->n_headers++;
        if (!h[r->n_headers - 1].name || !h[r->n_headers - 1].value) {
                sink->error = -ENOMEM;
                return 0;
        }
        return len;
}

static bool has_header(const char *const *headers, const char *name)
{
        for (size_t i = 0; headers && headers[i]; i += 2)
                if (strcasecmp(headers[i], name) == 0)
                        return true;
        return false;
}

/* Appends "Name: value" (or "Name;" for an empty value, "Name:" to remove) to @list. */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
        char *line;
        if (!value)
                line = osb_asprintf("%s:", name);
        else if (!*value)
                line = osb_asprintf("%s;", name);
        else
                line = osb_asprintf("%s: %s", name, value);
        if (!line)
                return -ENOMEM;
        struct curl_slist *l = curl_slist_append(*list, line);
        osb_free(line);
        if (!l)
                return -ENOMEM;
        *list = l;
        return 0;
}

static void slist_freep(struct curl_slist **l)
{
        curl_slist_free_all(*l);
}

int http_client_do(struct http_client *c, const struct http_request *req,
                   struct http_response *ret, struct osb_error *err)
{
        osb_auto(slist_freep) struct curl_slist *hdrs = NULL;
        struct http_sink sink = {.resp = ret};
        CURL *h = c->curl;
        int r = 0;

        http_response_release(ret);
        for (size_t i = 0; req->headers && req->headers[i]; i += 2)
                if (add_header(&hdrs, req->headers[i], req->headers[i + 1]) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");
        /* Keep curl from adding headers of its own the caller did not ask for. */
        static const char *const curl_defaults[] = {"Accept", "Expect", "Content-Type"};
        for (size_t i = 0; i < OSB_ELEMENTSOF(curl_defaults); i++)
                if (!has_header(req->headers, curl_defaults[i]) &&
                    add_header(&hdrs, curl_defaults[i], NULL) < 0)
                        return osb_error_set(err, -ENOMEM, "out of memory");

        curl_easy_reset(h);  /* keeps the connection cache */
        curl_easy_setopt(h, CURLOPT_URL, req->url);
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 5000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
        if (req->has_body) {
                /* POSTFIELDS makes curl send exactly these bytes; CUSTOMREQUEST sets the verb. */
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        }
        if (strcmp(req->method, "HEAD") == 0)
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (req->has_body || strcmp(req->method, "GET") != 0)
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);

        CURLcode cr = curl_easy_perform(h);
        if (sink.error < 0)
                r = osb_error_set(err, sink.error, "%s %s: response too large or out of memory",
                                  req->method, req->url);
        else if (cr != CURLE_OK)
                r = osb_error_set(err, -EIO, "%s %s: %s", req->method, req->url,
                                  curl_easy_strerror(cr));
        else
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        return r;
}
