/* broker/auth.h: platform authentication: HTTP Basic and/or Bearer, compared in constant time. */
#pragma once

#include <stdbool.h>

#include "common/osb_error.h"

struct auth {
        char *basic;  /* "username:password", new, or NULL */
        char *token;  /* bearer token, new, or NULL */
};

/* Fills @a from the given values; a *_file argument names a file whose first line is the
 * secret (it wins over the plain value). A username without a password (or the reverse) is
 * an error. Returns 0 or OSB_E_INVALID_CONFIG / -errno with a message naming the file. */
int auth_load(struct auth *a, const char *username, const char *password, const char *password_file,
              const char *token, const char *token_file, struct osb_error *err);
void auth_release(struct auth *a);
bool auth_enabled(const struct auth *a);
/* True when @authorization (the header value, may be NULL) carries valid credentials, or when
 * authentication is disabled. */
bool auth_check(const struct auth *a, const char *authorization);
/* Constant-time equality of two NUL-terminated strings (time depends only on their lengths). */
bool auth_equal(const char *a, const char *b);
