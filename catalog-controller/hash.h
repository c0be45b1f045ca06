/* catalog-controller/hash.h: MD5 and SHA-224, one-shot, for names and label values (the
 * reference's GenerateEscapedName and GenerateSHA). Not for security: MD5 only shortens names. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HASH_MD5_LEN 16
#define HASH_SHA224_LEN 28

void hash_md5(const void *data, size_t len, uint8_t out[HASH_MD5_LEN]);
void hash_sha224(const void *data, size_t len, uint8_t out[HASH_SHA224_LEN]);
/* Writes 2 * @n lowercase hex digits and a NUL to @out (size >= 2 * @n + 1). Returns @out. */
char *hash_hex(const uint8_t *digest, size_t n, char *out);
