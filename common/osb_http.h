/* common/osb_http.h: HTTP server glue over libmicrohttpd. One handler call per complete request
 * (the body already read, bounded), a response helper that echoes chosen headers, and graceful
 * draining on shutdown. Used by osb-broker, catalog-controller and the test API server. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/osb_buf.h"
#include "common/osb_error.h"

struct osb_http_server;
struct MHD_Connection;

struct osb_http_request {
        struct MHD_Connection *conn;  /* borrowed from libmicrohttpd */
        const char *method;           /* borrowed: "GET", "PUT", ... */
        const char *path;             /* borrowed: URL path as sent (still percent-encoded), no
                                       * query; decode each segment with osb_http_unescape() */
        struct osb_buf body;          /* the request body, at most the server's max_body */
        bool body_too_large;          /* the body went past max_body and was discarded, or its
                                       * Content-Length announced that (the handler is then called
                                       * before the body is read, and none of it is) */
        bool responded;
        bool refused;                 /* arrived while the server was stopping: answered 503 */
        const char *bad_query_arg;    /* the first query argument whose value has a bad escape
                                       * or an encoded NUL (osb_http_query() would cut it), or NULL */
        unsigned status;              /* the status sent, for the completion hook */
        bool mid_body;                /* internal: answered while the body is still arriving */
        uint64_t received;            /* internal: bytes of the body received so far */
        unsigned bad_framing;         /* internal: 400 or 501 when the headers leave the body's
                                       * end in doubt (answered by the server, not the handler) */
        const char *bad_framing_body; /* internal: its static JSON answer */
        uint64_t start_ns;            /* CLOCK_MONOTONIC when the request arrived */
        void *data;                   /* free for the handler; freed by the completion hook */
};

/* Called once per request, when the whole body is in. It must call osb_http_respond() exactly
 * once. Runs on one of the server's threads, concurrently with other requests. */
typedef void (*osb_http_handler)(void *userdata, struct osb_http_request *req);
/* Called once per request after the response went out (or the connection died), with
 * @req->status 0 when no response was sent. */
typedef void (*osb_http_done)(void *userdata, struct osb_http_request *req);

/* How far past max_body a body announced by its Content-Length is still read (and discarded)
 * before its 413, so that the client, still writing it, reads the answer. */
#define OSB_HTTP_DRAIN ((size_t) 1024 * 1024)

struct osb_http_config {
        const char *address;       /* "127.0.0.1" (default), "0.0.0.0", "::", or any literal */
        uint16_t port;             /* 0 picks a free port: see osb_http_server_port() */
        unsigned threads;          /* worker threads (>= 1) */
        size_t max_body;           /* bytes; larger bodies are answered 413 */
        bool refuse_large_early;   /* a Content-Length over max_body + OSB_HTTP_DRAIN is
                                    * answered 413 at once, and the body never read; a body
                                    * without one (chunked) is answered 413 as soon as what
                                    * arrived exceeds max_body, and no more of it is read (the
                                    * connection is closed after the answer: a client still
                                    * writing may see a reset instead); over TLS a chunked body
                                    * is read and discarded up to max_body + OSB_HTTP_DRAIN and
                                    * answered at its end, or cut off unanswered past that.
                                    * Else, and for a Content-Length up to max_body +
                                    * OSB_HTTP_DRAIN, the body is read and discarded first, as
                                    * kube-apiserver does, and the client always reads the 413. */
        size_t max_header;         /* per-connection memory for the request line and headers */
        unsigned max_connections;
        unsigned timeout_s;        /* idle connection timeout */
        unsigned header_timeout_ms;   /* a connection must send a request line and headers within
                                       * this of opening, or of its previous answer; else it is
                                       * closed (a slow-loris client trickling bytes). 0: none */
        unsigned request_deadline_ms; /* the same for the whole request, headers and body. 0: none */
        unsigned per_client_limit;    /* connections per client address. 0: no limit */
        const char *tls_cert_pem;  /* PEM contents (not paths), both or neither */
        const char *tls_key_pem;
        bool allow_suspend;        /* allow osb_http_suspend()/osb_http_resume() (streaming) */
};

/* Starts listening. Returns 0 with *ret new (free with osb_http_server_stop()), or a negative
 * code with a message in @err (address in use, bad address, TLS unsupported...). */
int osb_http_server_start(const struct osb_http_config *cfg, osb_http_handler handler,
                          osb_http_done done, void *userdata, struct osb_http_server **ret,
                          struct osb_error *err);
uint16_t osb_http_server_port(const struct osb_http_server *srv);
/* How many connections were closed for missing header_timeout_ms or request_deadline_ms. */
uint64_t osb_http_server_reaped(const struct osb_http_server *srv);
/* Answers every new request 503 from now on, waits up to @drain_ms for the requests in
 * progress to finish, then closes everything. NULL-safe; returns NULL. */
struct osb_http_server *osb_http_server_stop(struct osb_http_server *srv, unsigned drain_ms);

/* A request header, or a query argument (percent-decoded), borrowed until the request completes; NULL if absent. */
const char *osb_http_header(const struct osb_http_request *req, const char *name);
const char *osb_http_query(const struct osb_http_request *req, const char *name);

/* Sends the response. @body (may be NULL) is copied unless @steal_body, in which case it must
 * come from osb_malloc and is owned by the server afterwards, even on failure. @headers is a
 * NULL-terminated list of name, value pairs (values may be NULL to skip). Returns 0 or -EIO. */
int osb_http_respond(struct osb_http_request *req, unsigned status, const char *content_type,
                     const void *body, size_t len, bool steal_body, const char *const *headers);
/* As above, for a body that outlives the server (static or long-lived): never copied. */
int osb_http_respond_static(struct osb_http_request *req, unsigned status,
                            const char *content_type, const void *body, size_t len,
                            const char *const *headers);

/* Streaming responses (chunked transfer encoding), e.g. Kubernetes watches. @fn fills up to
 * @max bytes of @buf and returns how many (> 0), OSB_HTTP_STREAM_END to finish the body,
 * OSB_HTTP_STREAM_ERROR to abort the connection, or 0 when it has nothing yet: it must then have
 * called osb_http_suspend() on the request's connection first (else libmicrohttpd would poll it
 * in a busy loop), and someone calls osb_http_resume() when there is more. @fn runs on the
 * server's threads; @free_fn(@cls) runs once when the response is done with (also when the
 * client went away). Needs .allow_suspend in the config. Returns 0 or -EIO/-ENOMEM (then
 * @free_fn has been called). */
#define OSB_HTTP_STREAM_END ((ssize_t) -1)
#define OSB_HTTP_STREAM_ERROR ((ssize_t) -2)
typedef ssize_t (*osb_http_stream_fn)(void *cls, char *buf, size_t max);
int osb_http_respond_stream(struct osb_http_request *req, unsigned status, const char *content_type,
                            osb_http_stream_fn fn, void (*free_fn)(void *cls), void *cls,
                            const char *const *headers);
/* Stops / restarts processing of a connection. osb_http_suspend() only from inside a stream
 * callback of that connection; osb_http_resume() from any thread, also before the matching
 * suspend (the suspend then does nothing). Every suspended connection must be resumed before
 * osb_http_server_stop(). */
void osb_http_suspend(struct MHD_Connection *conn);
void osb_http_resume(struct MHD_Connection *conn);

/* Writes "@port\n" to @path atomically (a temporary file renamed into place), so a process
 * that waits for the file never reads a partial port. Returns 0 or -errno with the file named
 * in @err. */
int osb_http_write_port_file(const char *path, uint16_t port, struct osb_error *err);

/* Percent-decodes @s in place ("a%20b" -> "a b"). Returns 0 or -EINVAL on a bad escape. */
int osb_http_unescape(char *s);
/* The same, returning the decoded length: more than strlen(@s) afterwards when it decoded a
 * NUL ("a%00b"), which callers of untrusted input must refuse. Or -EINVAL on a bad escape. */
ssize_t osb_http_unescape_len(char *s);
