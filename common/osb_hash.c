/* common/osb_hash.c: MD5 (RFC 1321), SHA-224 and SHA-256 (FIPS 180-4), straightforward
 * implementations: inputs are short (ids, names, parameters), so clarity beats speed. */
#include "common/osb_compat.h"
#include "common/osb_hash.h"

static inline uint32_t rol32(uint32_t x, unsigned n)
{
        return (x << n) | (x >> (32 - n));
}

static inline uint32_t ror32(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

/* ---- MD5 ---- */

static const uint32_t md5_k[64] = {
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const uint8_t md5_r[64] = {
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static void md5_block(uint32_t h[4], const uint8_t *p)
{
        uint32_t w[16];
        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8 | (uint32_t) p[4 * i + 2] << 16 |
                       (uint32_t) p[4 * i + 3] << 24;
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        for (unsigned i = 0; i < 64; i++) {
                uint32_t f;
                unsigned g;
                if (i < 16) {
                        f = (b & c) | (~b & d);
                        g = i;
                } else if (i < 32) {
                        f = (d & b) | (~d & c);
                        g = (5 * i + 1) % 16;
                } else if (i < 48) {
                        f = b ^ c ^ d;
                        g = (3 * i + 5) % 16;
                } else {
                        f = c ^ (b | ~d);
                        g = (7 * i) % 16;
                }
                uint32_t t = d;
                d = c;
                c = b;
                b = b + rol32(a + f + md5_k[i] + w[g], md5_r[i]);
                a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
}

/* Runs @block over @data with MD-style padding; @big_endian selects the length encoding. */
static void md_pad_run(const uint8_t *data, size_t len, bool big_endian, void (*block)(uint32_t *, const uint8_t *),
                       uint32_t *h)
{
        size_t full = len / 64 * 64;
        for (size_t off = 0; off < full; off += 64)
                block(h, data + off);
        uint8_t tail[128] = {0};
        size_t rest = len - full;
        if (rest)
                memcpy(tail, data + full, rest);
        tail[rest] = 0x80;
        size_t total = rest + 1 + 8 <= 64 ? 64 : 128;
        uint64_t bits = (uint64_t) len * 8;
        for (unsigned i = 0; i < 8; i++)
                tail[big_endian ? total - 1 - i : total - 8 + i] = (uint8_t) (bits >> (8 * i));
        for (size_t off = 0; off < total; off += 64)
                block(h, tail + off);
}

void osb_hash_md5(const void *data, size_t len, uint8_t out[OSB_HASH_MD5_LEN])
{
        uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
        md_pad_run(data, len, false, md5_block, h);
        for (unsigned i = 0; i < 16; i++)
                out[i] = (uint8_t) (h[i / 4] >> (8 * (i % 4)));
}

/* ---- SHA-256, and SHA-224 (the same with other initial values, truncated) ---- */

static const uint32_t sha_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
        uint32_t w[64];
        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8 |
                       (uint32_t) p[4 * i + 3];
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (unsigned i = 0; i < 64; i++) {
                uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
                uint32_t ch = (e & f) ^ (~e & g);
                uint32_t t1 = hh + S1 + ch + sha_k[i] + w[i];
                uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
                uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
                uint32_t t2 = S0 + maj;
                hh = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
}

void osb_hash_sha224(const void *data, size_t len, uint8_t out[OSB_HASH_SHA224_LEN])
{
        uint32_t h[8] = {0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939,
                         0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4};
        md_pad_run(data, len, true, sha256_block, h);
        for (unsigned i = 0; i < OSB_HASH_SHA224_LEN; i++)
                out[i] = (uint8_t) (h[i / 4] >> (24 - 8 * (i % 4)));
}

void osb_hash_sha256(const void *data, size_t len, uint8_t out[OSB_HASH_SHA256_LEN])
{
        uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        md_pad_run(data, len, true, sha256_block, h);
        for (unsigned i = 0; i < OSB_HASH_SHA256_LEN; i++)
                out[i] = (uint8_t) (h[i / 4] >> (24 - 8 * (i % 4)));
}

void osb_hash_sha256_hex(const void *data, size_t len, char out[2 * OSB_HASH_SHA256_LEN + 1])
{
        uint8_t d[OSB_HASH_SHA256_LEN];
        osb_hash_sha256(data, len, d);
        (void) osb_hash_hex(d, sizeof(d), out);
}

char *osb_hash_hex(const uint8_t *digest, size_t n, char *out)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[digest[i] >> 4];
                out[2 * i + 1] = hex[digest[i] & 15];
        }
        out[2 * n] = '\0';
        return out;
}
