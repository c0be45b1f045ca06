/* common/osb_hash.h: MD5, SHA-224 and SHA-256, one-shot, for names and label values (the
 * controller's versions of service-catalog's GenerateEscapedName and GenerateSHA, the postgresql
 * backend's database and role names) and parameter checksums. Not for security: the
 * digests only shorten names and tell whether parameters changed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define OSB_HASH_MD5_LEN 16
#define OSB_HASH_SHA224_LEN 28
#define OSB_HASH_SHA256_LEN 32

void osb_hash_md5(const void *data, size_t len, uint8_t out[OSB_HASH_MD5_LEN]);
void osb_hash_sha224(const void *data, size_t len, uint8_t out[OSB_HASH_SHA224_LEN]);
void osb_hash_sha256(const void *data, size_t len, uint8_t out[OSB_HASH_SHA256_LEN]);
/* The SHA-256 of @data as 64 lowercase hex digits and a NUL. */
void osb_hash_sha256_hex(const void *data, size_t len, char out[2 * OSB_HASH_SHA256_LEN + 1]);
/* Writes 2 * @n lowercase hex digits and a NUL to @out (size >= 2 * @n + 1). Returns @out. */
char *osb_hash_hex(const uint8_t *digest, size_t n, char *out);
