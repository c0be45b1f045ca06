/* test/fuzz/fuzz_watch.c: bytes -> the watch-stream parser (kube_watch_parser_feed()). The first
 * byte picks a chunk size and the second an event size cap; the rest is the stream. Feeding it
 * whole and feeding it in chunks must deliver the same events and end the same way. */
#include "common/osb_compat.h"

#include "common/osb_buf.h"
#include "common/osb_json.h"
#include "common/osb_mem.h"
#include "kube/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                    \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "fuzz_watch: invariant failed: %s\n", #cond);    \
                        abort();                                                         \
                }                                                                        \
        } while (0)

static int record(enum kube_event_type type, json_t *obj, void *userdata)
{
        struct osb_buf *log = userdata;
        REQUIRE(json_is_object(obj));
        char *s = osb_json_dump(obj, NULL);
        if (!s)
                return -ENOMEM;
        int r = osb_buf_appendf(log, "%s %s\n", kube_event_type_name(type), s);
        osb_free(s);
        return r;
}

static int run(const char *stream, size_t len, size_t chunk, size_t max_event, struct osb_buf *log,
               char **ret_rv)
{
        struct kube_watch_parser p;
        struct osb_error err = OSB_ERROR_INIT;
        kube_watch_parser_init(&p, max_event, record, log);
        int r = 0;
        for (size_t off = 0; off < len && r == 0; off += chunk)
                r = kube_watch_parser_feed(&p, stream + off, OSB_MIN(chunk, len - off), &err);
        if (r == 0)
                r = kube_watch_parser_finish(&p, &err);
        REQUIRE(r == 0 || err.text[0] != '\0');
        REQUIRE(p.event.len <= p.event.max);
        *ret_rv = OSB_TAKE_PTR(p.resource_version);
        kube_watch_parser_release(&p);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static bool ready;
        if (!ready) {
                osb_mem_setup();
                ready = true;
        }
        if (size < 2)
                return 0;
        size_t chunk = 1 + data[0] % 64;
        size_t max_event = data[1] < 128 ? 16 + (size_t) data[1] * 8 : 0;
        const char *stream = (const char *) data + 2;
        size_t len = size - 2;

        struct osb_buf whole_log, chunked_log;
        osb_buf_init(&whole_log, 64u << 20);
        osb_buf_init(&chunked_log, 64u << 20);
        char *whole_rv = NULL, *chunked_rv = NULL;
        int whole = run(stream, len, len ? len : 1, max_event, &whole_log, &whole_rv);
        int chunked = run(stream, len, chunk, max_event, &chunked_log, &chunked_rv);
        REQUIRE(whole == chunked);
        REQUIRE(whole_log.len == chunked_log.len);
        REQUIRE(whole_log.len == 0 || memcmp(whole_log.data, chunked_log.data, whole_log.len) == 0);
        REQUIRE(osb_streq(whole_rv, chunked_rv));
        osb_free(whole_rv);
        osb_free(chunked_rv);
        osb_buf_release(&whole_log);
        osb_buf_release(&chunked_log);
        return 0;
}
