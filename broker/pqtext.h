/* broker/pqtext.h: text helpers for the two users of libpq (store_pg.c and
 * backend_postgresql.c): the password in a connection URL, and libpq's messages made safe to
 * show (no password, one line). */
#pragma once

#include <stddef.h>

/* The password as written in @url's user info ("scheme://user:PASSWORD@host/...", still
 * percent-encoded), or NULL when it has none; *ret_len is its length. Borrowed from @url. */
const char *pqtext_uri_password(const char *url, size_t *ret_len);

/* Copies @msg (NULL: "") to @out (@size >= 8 bytes, always terminated) with every occurrence of
 * each non-empty string of @secrets (@n of them; NULL entries skipped) replaced by "***" and
 * runs of white space (libpq's messages span lines) folded into single spaces. */
void pqtext_scrub(const char *msg, const char *const *secrets, size_t n, char *out, size_t size);
