/* common/osb_http.c: libmicrohttpd glue. libmicrohttpd calls the access handler several times
 * per request (headers, body chunks, end of body); this file folds that into one call of the
 * application's handler with the whole body, bounded by max_body. */
#include "common/osb_compat.h"
#include "common/osb_http.h"
#include "common/osb_log.h"
#include "common/osb_mem.h"

#include <arpa/inet.h>
#include <poll.h>
#include <strings.h>
#include <netinet/in.h>

/* One open connection, for the deadlines libmicrohttpd does not have: its idle timeout never
 * fires against a client that sends one byte a second. */
struct conn_track {
        struct conn_track *prev, *next;
        int fd;
        uint64_t phase_start_ms;  /* opened, or its previous answer went out */
        bool headers_in;          /* the current request's line and headers are in */
        bool handling;            /* its body is in too: the answer is being made or sent */
        bool shut;                /* the reaper shut it down */
};

struct osb_http_server {
        struct MHD_Daemon *mhd;
        pthread_mutex_t lock;           /* conns */
        struct conn_track *conns;
        unsigned header_timeout_ms, request_deadline_ms;
        pthread_t reaper;
        bool reaper_started;
        atomic_bool stopping;
        atomic_uint_fast64_t reaped;
        osb_http_handler handler;
        osb_http_done done;
        void *userdata;
        size_t max_body;
        bool refuse_large_early;
        bool tls;
        uint16_t port;
        atomic_uint in_flight;  /* requests between arrival and completion */
        atomic_bool draining;   /* stopping: new requests are refused with 503 */
};

/* libmicrohttpd's own diagnostics (bad requests, TLS handshake failures) as logfmt lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        osb_log_warn("http server", "detail=%s", msg);
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t now_ms(void)
{
        return now_ns() / 1000000u;
}

static struct conn_track *track_of(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

/* Connections come and go: each is tracked from its opening to its closing, so the reaper
 * never touches a descriptor libmicrohttpd has closed (NOTIFY_CLOSED comes before the close). */
static void notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
        struct osb_http_server *srv = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                struct conn_track *t = ci ? osb_calloc(1, sizeof(*t)) : NULL;
                if (!t)
                        return;
                t->fd = ci->connect_fd;
                t->phase_start_ms = now_ms();
                pthread_mutex_lock(&srv->lock);
                t->next = srv->conns;
                if (srv->conns)
                        srv->conns->prev = t;
                srv->conns = t;
                pthread_mutex_unlock(&srv->lock);
                *socket_context = t;
                return;
        }
        struct conn_track *t = *socket_context;
        if (!t)
                return;
        pthread_mutex_lock(&srv->lock);
        if (t->prev)
                t->prev->next = t->next;
        else
                srv->conns = t->next;
        if (t->next)
                t->next->prev = t->prev;
        pthread_mutex_unlock(&srv->lock);
        osb_free(t);
        *socket_context = NULL;
}

static void track_set(struct osb_http_server *srv, struct MHD_Connection *conn, bool headers_in, bool handling)
{
        struct conn_track *t = track_of(conn);
        if (!t)
                return;
        pthread_mutex_lock(&srv->lock);
        t->headers_in = headers_in;
        t->handling = handling;
        if (!headers_in)
                t->phase_start_ms = now_ms();
        pthread_mutex_unlock(&srv->lock);
}

/* Shuts down (libmicrohttpd then sees the end of the stream and closes it) every connection
 * that has not sent its request line and headers within header_timeout_ms of opening or of its
 * previous answer, or its whole request within request_deadline_ms. */
static void *reaper_main(void *arg)
{
        struct osb_http_server *srv = arg;
        while (!atomic_load(&srv->stopping)) {
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
                uint64_t now = now_ms();
                pthread_mutex_lock(&srv->lock);
                for (struct conn_track *t = srv->conns; t; t = t->next) {
                        if (t->handling || t->shut)
                                continue;
                        unsigned limit = t->headers_in ? srv->request_deadline_ms : srv->header_timeout_ms;
                        if (limit && now - t->phase_start_ms > limit) {
                                (void) shutdown(t->fd, SHUT_RDWR);
                                t->shut = true;
                                atomic_fetch_add(&srv->reaped, 1);
                        }
                }
                pthread_mutex_unlock(&srv->lock);
        }
        return NULL;
}

/* Keep the URL raw so the router can split the path before decoding each segment (an id may
 * contain an encoded '/'); query values are decoded in place, once, by decode_arg(). */
static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
        return strlen(s);
}

static enum MHD_Result decode_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
        struct osb_http_request *req = cls;
        /* The strings live in the connection's writable memory pool; decoding only shortens. A
         * value that does not decode, or decodes to a NUL (which would cut it short), is marked
         * for the handler to refuse: it cannot tell "a%00b" from "a" by the string. */
        ssize_t n = value ? osb_http_unescape_len((char *) value) : 0;
        if ((n < 0 || (value && strlen(value) != (size_t) n)) && !req->bad_query_arg)
                req->bad_query_arg = key;
        return MHD_YES;
}

/* Whether a Content-Length header value announces more than @max bytes. A value that is not a
 * plain decimal number is left to libmicrohttpd, which refuses it. */
static bool length_over(const char *v, size_t max)
{
        while (*v == ' ' || *v == '\t')
                v++;
        if (!isdigit((unsigned char) *v))
                return false;
        uint64_t n = 0;
        for (; isdigit((unsigned char) *v); v++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return true;
                n = n * 10 + (uint64_t) (*v - '0');
        }
        return n > (uint64_t) max;
}

/* What framing_error() found in the headers. */
struct framing {
        unsigned content_lengths;
        const char *content_length;
        size_t content_length_size;
        bool lengths_differ;
        bool chunked;                 /* Transfer-Encoding: chunked, alone */
        bool other_coding;            /* a Transfer-Encoding other than that */
};

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                    const char *value, size_t value_size)
{
        (void) kind, (void) key_size;
        struct framing *f = cls;
        if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
                if (f->content_lengths++ &&
                    (value_size != f->content_length_size || memcmp(value, f->content_length, value_size) != 0))
                        f->lengths_differ = true;
                f->content_length = value;
                f->content_length_size = value_size;
        } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
                if (value && strcasecmp(value, "chunked") == 0 && !f->chunked)
                        f->chunked = true;
                else
                        f->other_coding = true;
        }
        return MHD_YES;
}

/* A request whose headers leave its body's end in doubt is refused before any of the body is
 * read (RFC 9112, section 6): a Transfer-Encoding other than "chunked" alone (501: no other
 * coding is implemented), one next to a Content-Length, or two Content-Lengths that differ (400:
 * two readers of the request could split it differently, the way requests are smuggled past a
 * proxy). Returns the status, or 0, and the answer's JSON body. */
static unsigned framing_error(struct MHD_Connection *conn, const char **body)
{
        struct framing f = {0};
        (void) MHD_get_connection_values_n(conn, MHD_HEADER_KIND, note_framing, &f);
        if (f.other_coding)
                *body = "{\"description\":\"only the chunked Transfer-Encoding is implemented\"}";
        else if (f.chunked && f.content_lengths)
                *body = "{\"description\":\"the request has both a Transfer-Encoding and a Content-Length\"}";
        else if (f.lengths_differ)
                *body = "{\"description\":\"the request has Content-Length headers that differ\"}";
        else
                return 0;
        return f.other_coding ? 501 : 400;
}

static void answer(struct osb_http_server *srv, struct osb_http_request *req)
{
        track_set(srv, req->conn, true, true);
        if (req->refused) {
                static const char msg[] = "{\"description\":\"the server is shutting down\"}";
                static const char *const hdrs[] = {"Connection", "close", NULL};
                (void) osb_http_respond_static(req, 503, "application/json", msg, sizeof(msg) - 1, hdrs);
                return;
        }
        if (req->bad_framing) {
                static const char *const hdrs[] = {"Connection", "close", NULL};
                (void) osb_http_respond_static(req, req->bad_framing, "application/json", req->bad_framing_body,
                                               strlen(req->bad_framing_body), hdrs);
                return;
        }
        srv->handler(srv->userdata, req);
        if (!req->responded) {
                static const char msg[] = "{\"description\":\"internal error: no response\"}";
                (void) osb_http_respond_static(req, 500, "application/json", msg, sizeof(msg) - 1, NULL);
        }
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
        struct osb_http_server *srv = cls;
        struct osb_http_request *req = *con_cls;

        if (!req) {
                req = osb_calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                req->conn = conn;
                req->method = method;
                req->path = url;
                req->start_ns = now_ns();
                (void) MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, decode_arg, req);
                osb_buf_init(&req->body, srv->max_body);
                req->refused = atomic_load(&srv->draining);
                atomic_fetch_add(&srv->in_flight, 1);
                *con_cls = req;
                track_set(srv, conn, true, false);
                /* Framing in doubt: answered now, before any of the body is read (as below). */
                req->bad_framing = framing_error(conn, &req->bad_framing_body);
                if (req->bad_framing) {
                        answer(srv, req);
                        return MHD_YES;
                }
                /* A body announced larger than max_body is discarded as it arrives and answered
                 * 413 at its end, so that a client still writing it reads the answer (closing a
                 * socket with unread bytes resets the connection, and a client whose write
                 * fails there never reads the 413). One announced more than OSB_HTTP_DRAIN
                 * beyond max_body is answered now, before any of it is read: libmicrohttpd then
                 * never reads it (no "100 Continue" either) and closes the connection after
                 * the answer. */
                const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl && length_over(cl, srv->max_body)) {
                        req->body_too_large = true;
                        osb_buf_release(&req->body);
                        if (srv->refuse_large_early && length_over(cl, srv->max_body + OSB_HTTP_DRAIN))
                                answer(srv, req);
                }
                return MHD_YES;
        }
        if (*upload_data_size) {
                req->received += *upload_data_size;
                if (!req->body_too_large && !req->responded) {
                        int r = osb_buf_append(&req->body, upload_data, *upload_data_size);
                        if (r == -E2BIG) {
                                req->body_too_large = true;
                                osb_buf_release(&req->body);
                                /* A body without a Content-Length (chunked) is refused as soon
                                 * as it has gone past max_body. libmicrohttpd queues no answer
                                 * while a body arrives, so the handler's answer is written to
                                 * the socket directly (see respond_mid_body()) and the
                                 * connection closed: no more of the body is read. Over TLS
                                 * the socket carries records only libmicrohttpd can write:
                                 * the body is discarded instead, and answered at its end. */
                                if (srv->refuse_large_early && !srv->tls) {
                                        req->mid_body = true;
                                        answer(srv, req);
                                        return MHD_NO;
                                }
                        } else if (r < 0) {
                                return MHD_NO;
                        }
                }
                /* ... unless it goes on past OSB_HTTP_DRAIN: then it is cut off unanswered. */
                if (req->body_too_large && srv->refuse_large_early &&
                    req->received > srv->max_body + OSB_HTTP_DRAIN)
                        return MHD_NO;
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->responded)
                return MHD_YES;
        answer(srv, req);
        return MHD_YES;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct osb_http_server *srv = cls;
        struct osb_http_request *req = *con_cls;
        if (!req)
                return;
        /* A kept-alive connection starts waiting for its next request's headers. */
        track_set(srv, conn, false, false);
        if (srv->done)
                srv->done(srv->userdata, req);
        osb_buf_release(&req->body);
        osb_free(req->data);
        osb_free(req);
        *con_cls = NULL;
        atomic_fetch_sub(&srv->in_flight, 1);
}

static int parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss,
                         bool *ret_v6)
{
        memset(ss, 0, sizeof(*ss));
        struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
        if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                *ret_v6 = false;
                return 0;
        }
        if (strcmp(address, "localhost") == 0) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                *ret_v6 = false;
                return 0;
        }
        const char *a = address;
        char tmp[INET6_ADDRSTRLEN + 2];
        size_t len = strlen(a);
        if (len >= 2 && a[0] == '[' && a[len - 1] == ']' && len - 2 < sizeof(tmp)) {
                memcpy(tmp, a + 1, len - 2);
                tmp[len - 2] = '\0';
                a = tmp;
        }
        if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                *ret_v6 = true;
                return 0;
        }
        return -EINVAL;
}

int osb_http_server_start(const struct osb_http_config *cfg, osb_http_handler handler,
                          osb_http_done done, void *userdata, struct osb_http_server **ret,
                          struct osb_error *err)
{
        struct sockaddr_storage ss;
        bool v6 = false;
        const char *address = cfg->address && *cfg->address ? cfg->address : "127.0.0.1";
        if (parse_address(address, cfg->port, &ss, &v6) < 0)
                return osb_error_set(err, -EINVAL, "'%s' is not an IPv4 or IPv6 address", address);

        bool tls = cfg->tls_cert_pem || cfg->tls_key_pem;
        if (tls && !(cfg->tls_cert_pem && cfg->tls_key_pem))
                return osb_error_set(err, -EINVAL, "TLS needs both a certificate and a key");
        if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return osb_error_set(err, -ENOTSUP, "this libmicrohttpd was built without TLS support");

        struct osb_http_server *srv = osb_calloc(1, sizeof(*srv));
        if (!srv)
                return osb_error_set(err, -ENOMEM, "out of memory");
        srv->handler = handler;
        srv->done = done;
        srv->userdata = userdata;
        srv->max_body = cfg->max_body ? cfg->max_body : 1024 * 1024;
        srv->refuse_large_early = cfg->refuse_large_early;
        srv->tls = tls;
        srv->header_timeout_ms = cfg->header_timeout_ms;
        srv->request_deadline_ms = cfg->request_deadline_ms;
        pthread_mutex_init(&srv->lock, NULL);

        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
        if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
                flags |= MHD_USE_EPOLL;
        if (v6)
                flags |= MHD_USE_IPv6;
        if (tls)
                flags |= MHD_USE_TLS;
        if (cfg->allow_suspend)
                flags |= MHD_ALLOW_SUSPEND_RESUME;
        unsigned threads = cfg->threads ? cfg->threads : 1;

        struct MHD_OptionItem opts[20];
        unsigned o = 0;
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t) mhd_log, NULL};
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) completed_cb, srv};
        if (threads > 1)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
        if (cfg->max_connections)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL};
        if (cfg->per_client_limit)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_client_limit, NULL};
        if (cfg->header_timeout_ms || cfg->request_deadline_ms)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) notify_conn, srv};
        if (cfg->timeout_s)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s, NULL};
        if (cfg->max_header)
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) cfg->max_header, NULL};
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t) keep_raw, NULL};
        if (tls) {
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *) cfg->tls_cert_pem};
                opts[o++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *) cfg->tls_key_pem};
        }
        opts[o++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

        errno = 0;
        srv->mhd = MHD_start_daemon(flags, cfg->port, NULL, NULL, access_cb, srv,
                                    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
        if (!srv->mhd) {
                int e = errno ? errno : EADDRINUSE;
                pthread_mutex_destroy(&srv->lock);
                osb_free(srv);
                return osb_error_set(err, -e, "cannot listen on %s port %u: %s%s", address,
                                     (unsigned) cfg->port, strerror(e),
                                     tls ? " (or the TLS certificate/key was rejected)" : "");
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
        srv->port = info ? info->port : cfg->port;
        if ((cfg->header_timeout_ms || cfg->request_deadline_ms) &&
            pthread_create(&srv->reaper, NULL, reaper_main, srv) == 0)
                srv->reaper_started = true;
        else if (cfg->header_timeout_ms || cfg->request_deadline_ms) {
                MHD_stop_daemon(srv->mhd);
                pthread_mutex_destroy(&srv->lock);
                osb_free(srv);
                return osb_error_set(err, -EAGAIN, "cannot start the connection deadline thread");
        }
        *ret = srv;
        return 0;
}

uint16_t osb_http_server_port(const struct osb_http_server *srv)
{
        return srv->port;
}

uint64_t osb_http_server_reaped(const struct osb_http_server *srv)
{
        return srv ? atomic_load(&srv->reaped) : 0;
}

struct osb_http_server *osb_http_server_stop(struct osb_http_server *srv, unsigned drain_ms)
{
        if (!srv)
                return NULL;
        /* MHD_quiesce_daemon() is not used: in libmicrohttpd 0.9.75 it takes the listening
         * socket out of each worker's epoll set from this thread while the worker may do the
         * same, and the loser aborts the process ("Failed to remove listen FD from epoll set").
         * Instead, requests that arrive from now on are answered 503, and the ones already
         * being served get up to @drain_ms to finish. */
        atomic_store(&srv->draining, true);
        for (unsigned waited = 0; waited < drain_ms && atomic_load(&srv->in_flight) > 0; waited += 10) {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        atomic_store(&srv->stopping, true);
        if (srv->reaper_started)
                pthread_join(srv->reaper, NULL);
        MHD_stop_daemon(srv->mhd);
        pthread_mutex_destroy(&srv->lock);
        osb_free(srv);
        return NULL;
}

const char *osb_http_header(const struct osb_http_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *osb_http_query(const struct osb_http_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Writes a complete "Connection: close" answer to the connection's socket itself, for a request
 * answered while its body is still arriving (libmicrohttpd refuses to queue one then); the
 * caller then closes the connection. Best effort within a second: the socket is non-blocking
 * and the answer small. */
static int respond_mid_body(struct osb_http_request *req, unsigned status, const char *content_type,
                            const void *body, size_t len, const char *const *headers)
{
        req->responded = true;
        req->status = status;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci)
                return -EIO;
        struct osb_buf head;
        osb_buf_init(&head, 16 * 1024);
        const char *reason = MHD_get_reason_phrase_for(status);
        int r = osb_buf_appendf(&head, "HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Length: %zu\r\n", status,
                                reason && *reason ? reason : "Unknown", len);
        if (r >= 0 && content_type)
                r = osb_buf_appendf(&head, "Content-Type: %s\r\n", content_type);
        for (const char *const *h = headers; r >= 0 && h && h[0]; h += 2)
                if (h[1] && !strpbrk(h[0], "\r\n") && !strpbrk(h[1], "\r\n"))  /* as MHD_add_response_header() */
                        r = osb_buf_appendf(&head, "%s: %s\r\n", h[0], h[1]);
        if (r >= 0)
                r = osb_buf_appends(&head, "\r\n");
        if (r >= 0)
                r = osb_buf_append(&head, body, len);
        uint64_t deadline = now_ns() + 1000000000u;
        for (size_t off = 0; r >= 0 && off < head.len;) {
                ssize_t w = send(ci->connect_fd, head.data + off, head.len - off, MSG_NOSIGNAL);
                if (w > 0) {
                        off += (size_t) w;
                        continue;
                }
                uint64_t now = now_ns();
                if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || now >= deadline) {
                        r = -EIO;
                        break;
                }
                struct pollfd p = {.fd = ci->connect_fd, .events = POLLOUT};
                (void) poll(&p, 1, (int) ((deadline - now) / 1000000u) + 1);
        }
        /* The end of the answer, before the close that follows may reset the connection. */
        if (r >= 0)
                (void) shutdown(ci->connect_fd, SHUT_WR);
        osb_buf_release(&head);
        return r < 0 ? r : 0;
}

static int queue(struct osb_http_request *req, unsigned status, const char *content_type,
                 struct MHD_Response *resp, const char *const *headers)
{
        if (!resp)
                return -ENOMEM;
        if (content_type)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        for (const char *const *h = headers; h && h[0]; h += 2)
                if (h[1])
                        (void) MHD_add_response_header(resp, h[0], h[1]);
        enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
        MHD_destroy_response(resp);
        req->responded = true;
        req->status = status;
        return r == MHD_YES ? 0 : -EIO;
}

int osb_http_respond(struct osb_http_request *req, unsigned status, const char *content_type,
                     const void *body, size_t len, bool steal_body, const char *const *headers)
{
        if (req->mid_body) {
                int r = respond_mid_body(req, status, content_type, body, len, headers);
                if (steal_body)
                        osb_free((void *) body);
                return r;
        }
        struct MHD_Response *resp;
        if (steal_body)
                resp = MHD_create_response_from_buffer_with_free_callback(len, (void *) body, osb_free);
        else
                resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
        if (!resp && steal_body)
                osb_free((void *) body);
        return queue(req, status, content_type, resp, headers);
}

int osb_http_respond_static(struct osb_http_request *req, unsigned status,
                            const char *content_type, const void *body, size_t len,
                            const char *const *headers)
{
        if (req->mid_body)
                return respond_mid_body(req, status, content_type, body, len, headers);
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_PERSISTENT);
        return queue(req, status, content_type, resp, headers);
}

struct stream {
        osb_http_stream_fn fn;
        void (*free_fn)(void *cls);
        void *cls;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct stream *s = cls;
        ssize_t n = s->fn(s->cls, buf, max);
        if (n == OSB_HTTP_STREAM_END)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (n < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        return n;
}

static void stream_free(void *cls)
{
        struct stream *s = cls;
        if (s->free_fn)
                s->free_fn(s->cls);
        osb_free(s);
}

int osb_http_respond_stream(struct osb_http_request *req, unsigned status, const char *content_type,
                            osb_http_stream_fn fn, void (*free_fn)(void *cls), void *cls,
                            const char *const *headers)
{
        struct stream *s = osb_malloc(sizeof(*s));
        if (!s) {
                if (free_fn)
                        free_fn(cls);
                return -ENOMEM;
        }
        *s = (struct stream){.fn = fn, .free_fn = free_fn, .cls = cls};
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, s,
                                                                      stream_free);
        if (!resp) {
                stream_free(s);
                return -ENOMEM;
        }
        return queue(req, status, content_type, resp, headers);
}

void osb_http_suspend(struct MHD_Connection *conn)
{
        MHD_suspend_connection(conn);
}

void osb_http_resume(struct MHD_Connection *conn)
{
        MHD_resume_connection(conn);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int osb_http_unescape(char *s)
{
        ssize_t n = osb_http_unescape_len(s);
        return n < 0 ? (int) n : 0;
}

ssize_t osb_http_unescape_len(char *s)
{
        char *o = s;
        for (const char *p = s; *p; p++) {
                if (*p == '%') {
                        int hi = hexval(p[1]);
                        int lo = hi < 0 ? -1 : hexval(p[2]);
                        if (lo < 0)
                                return -EINVAL;
                        *o++ = (char) (hi * 16 + lo);
                        p += 2;
                } else {
                        *o++ = *p;
                }
        }
        *o = '\0';
        return o - s;
}

int osb_http_write_port_file(const char *path, uint16_t port, struct osb_error *err)
{
        char tmp[4096];
        (void) snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "we");
        if (!f)
                return osb_error_set(err, -errno, "cannot write '%s': %s", tmp, strerror(errno));
        fprintf(f, "%u\n", (unsigned) port);
        if (fclose(f) != 0 || rename(tmp, path) != 0)
                return osb_error_set(err, -errno, "cannot write '%s': %s", path, strerror(errno));
        return 0;
}
