/* catalog-controller/hash.h: MD5, SHA-224 and SHA-256, one-shot, for names and label values (the
 * reference's GenerateEscapedName and GenerateSHA) and parameter checksums (P5). Not for
 * security: MD5 only shortens names, SHA-256 only tells whether parameters changed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HASH_MD5_LEN 16
#define HASH_SHA224_LEN 28
#define HASH_SHA256_LEN 32

void hash_md5(const void *data, size_t len, uint8_t out[HASH_MD5_LEN]);
void hash_sha224(const void *data, size_t len, uint8_t out[HASH_SHA224_LEN]);
void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SHA256_LEN]);
/* The SHA-256 of @data as 64 lowercase hex digits and a NUL. */
void hash_sha256_hex(const void *data, size_t len, char out[2 * HASH_SHA256_LEN + 1]);
/* Writes 2 * @n lowercase hex digits and a NUL to @out (size >= 2 * @n + 1). Returns @out. */
char *hash_hex(const uint8_t *digest, size_t n, char *out);
