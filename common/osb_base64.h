/* common/osb_base64.h: base64 (RFC 4648) for everyone: HTTP Basic credentials and originating
 * identities in the broker, certificate data in kubeconfigs, Secret data in the test API
 * server. The callers differ in what they accept, so the rules are flags. */
#pragma once

#include <stddef.h>

enum osb_base64_flags {
        OSB_BASE64_STRICT = 0,             /* standard alphabet, padded to a multiple of 4 */
        OSB_BASE64_URLSAFE = 1 << 0,       /* also accept '-' and '_' (RFC 4648 §5) */
        OSB_BASE64_LENIENT = 1 << 1,       /* padding optional: trailing '=' are ignored */
        OSB_BASE64_SKIP_SPACE = 1 << 2,    /* ignore all white space (folded YAML) */
        OSB_BASE64_SKIP_NEWLINES = 1 << 3, /* ignore '\r' and '\n' (Go's StdEncoding) */
};

/* Decodes @len bytes of @in. Returns 0 with *ret new (osb_free; NUL-terminated, the NUL not
 * counted in *ret_len), -EINVAL with *ret_bad (when not NULL) the offset of the first bad byte
 * (@len when the input ends too early), or -ENOMEM. */
int osb_base64_decode(const char *in, size_t len, unsigned flags, char **ret, size_t *ret_len,
                      size_t *ret_bad);

/* Returns new padded standard base64 of @len bytes (osb_free), or NULL on OOM. */
char *osb_base64_encode(const void *data, size_t len);
