/* test/unit/check_catalog_controller_names.c: MD5/SHA-224 against md5sum/sha224sum vectors,
 * SHA-256 against the FIPS 180-2 examples, and the reference's escaped names (expected values computed with a transcription of
 * GenerateEscapedName). */
#include "common/osb_compat.h"
#include <check.h>
#include "common/osb_mem.h"
#include "common/osb_hash.h"
#include "catalog-controller/names.h"
#include "test/lib/check_main.h"

struct vector {
        const char *input;
        size_t repeat;  /* @input is one character repeated this often when > 0 */
        const char *md5, *sha224;
};

/* md5sum / sha224sum of the same bytes; lengths chosen around the 55/56/64-byte padding edges. */
static const struct vector vectors[] = {
        {"", 0, "d41d8cd98f00b204e9800998ecf8427e", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
        {"abc", 0, "900150983cd24fb0d6963f7d28e17f72", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
        {"The quick brown fox jumps over the lazy dog", 0, "9e107d9d372bb6826bd81d3542a419d6",
         "730e109bd7a8a32b1cb9d9a09aa2325d2430587ddbc0c38bad911525"},
        {"a", 64, "014842d480b571495a4a0363793f7367", "a88cd5cde6d6fe9136a4e58b49167461ea95d388ca2bdb7afdc3cbf4"},
        {"x", 56, "668a72d5ba17f08e62dabcafad6db14b", "82199913c2712c46707ad08c8bfa2a69f68e9092dc5cdfaaaf07d77f"},
        {"y", 119, "b2ea3db8221fa9ae01ee0adf42970ba0", "c87f54867fe7347cfe419516bb055e166c901dcaaffffdd849c3b3eb"},
        {"my-broker", 0, "1f8d3f3774ffa3642639505de43cfb4a", "aa9617cd3975446998c91bf393c5c58b3425953b7bdb3f9f1ae8230b"},
};

static char *input_of(const struct vector *v)
{
        if (!v->repeat)
                return osb_strdup(v->input);
        char *s = osb_malloc(v->repeat + 1);
        memset(s, v->input[0], v->repeat);
        s[v->repeat] = '\0';
        return s;
}

START_TEST(md5_matches_md5sum)
{
        const struct vector *v = &vectors[_i];
        char *in = input_of(v);
        uint8_t d[OSB_HASH_MD5_LEN];
        char hex[2 * OSB_HASH_MD5_LEN + 1];
        osb_hash_md5(in, strlen(in), d);
        ck_assert_str_eq(osb_hash_hex(d, sizeof(d), hex), v->md5);
        osb_free(in);
}
END_TEST

START_TEST(sha224_matches_sha224sum)
{
        const struct vector *v = &vectors[_i];
        char *in = input_of(v);
        uint8_t d[OSB_HASH_SHA224_LEN];
        char hex[2 * OSB_HASH_SHA224_LEN + 1];
        osb_hash_sha224(in, strlen(in), d);
        ck_assert_str_eq(osb_hash_hex(d, sizeof(d), hex), v->sha224);
        osb_free(in);
}
END_TEST

/* FIPS 180-2 appendix B (one block, multi-block, a million 'a'), the empty message, and
 * sha256sum of lengths around the padding edges. */
static const struct {
        const char *input;
        size_t repeat;  /* as in struct vector */
        const char *sha256;
} sha256_vectors[] = {
        {"abc", 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        {"x", 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {"x", 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {"a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {"y", 119, "0ee964660d4956e34132b7b0f5bdc15fd0d365e26186ac9fd97a090d8d5e5508"},
};

START_TEST(sha256_matches_fips_180_2)
{
        struct vector v = {.input = sha256_vectors[_i].input, .repeat = sha256_vectors[_i].repeat};
        char *in = input_of(&v);
        uint8_t d[OSB_HASH_SHA256_LEN];
        char hex[2 * OSB_HASH_SHA256_LEN + 1];
        osb_hash_sha256(in, strlen(in), d);
        ck_assert_str_eq(osb_hash_hex(d, sizeof(d), hex), sha256_vectors[_i].sha256);
        memset(hex, 'z', sizeof(hex));
        osb_hash_sha256_hex(in, strlen(in), hex);
        ck_assert_str_eq(hex, sha256_vectors[_i].sha256);
        osb_free(in);
}
END_TEST

START_TEST(label_value_is_hex_sha224)
{
        char out[NAMES_LABEL_VALUE_LEN + 1];
        ck_assert_str_eq(names_label_value("my-broker", out), "aa9617cd3975446998c91bf393c5c58b3425953b7bdb3f9f1ae8230b");
        ck_assert_uint_eq(strlen(out), 56);
}
END_TEST

static const struct {
        const char *id, *name;
} escapes[] = {
        {"4f6e6cf6-ffdd-425f-a2c7-3c9258ad2468", "4f6e6cf6-ffdd-425f-a2c7-3c9258ad2468"},
        {"Foo_Bar", "z46zooz5fzz42zar"},
        {"a..b", "a.z2ezb"},
        {"-a-", "z2dzaz2dz"},
        {"a.-b", "a.z2dzb"},
        {"a--b", "a--b"},
        {"z", "z7az"},
        {"\xc3\xa9", "ze9z"},
        {"\xe2\x82\xacx", "z20aczx"},
        {"\xff", "zfffdz"},
        {"service.1", "service.1"},
        {"", ""},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-0f5c6c4e740bfcc08c3c26ccb2673d46"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1d3b168eff0a9fdb3ef9c403a1485267"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "z41zz42zz43zz44zz45zz46zz47zz4-437bba8e0bf58337674f4539e75186ac"},
};

START_TEST(escaped_name_matches_reference)
{
        char *name = NULL;
        ck_assert_int_eq(names_escape(escapes[_i].id, &name), 0);
        ck_assert_str_eq(name, escapes[_i].name);
        ck_assert_uint_le(strlen(name), 63);
        osb_free(name);
}
END_TEST

START_TEST(escape_survives_allocation_failures)
{
        for (size_t n = 0;; n++) {
                char *name = NULL;
                osb_mem_fail_at(n);
                int r = names_escape("ABCDEFGHIJKLMNOPQRSTUVWXYZ", &name);
                osb_mem_fail_at(SIZE_MAX);
                if (r == 0) {
                        ck_assert_str_eq(name, "z41zz42zz43zz44zz45zz46zz47zz4-437bba8e0bf58337674f4539e75186ac");
                        osb_free(name);
                        break;
                }
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_ptr_null(name);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("catalog-controller names");
        TCase *tc = tcase_create("core");
        tcase_add_loop_test(tc, md5_matches_md5sum, 0, (int) OSB_ELEMENTSOF(vectors));
        tcase_add_loop_test(tc, sha224_matches_sha224sum, 0, (int) OSB_ELEMENTSOF(vectors));
        tcase_add_loop_test(tc, sha256_matches_fips_180_2, 0, (int) OSB_ELEMENTSOF(sha256_vectors));
        tcase_add_test(tc, label_value_is_hex_sha224);
        tcase_add_loop_test(tc, escaped_name_matches_reference, 0, (int) OSB_ELEMENTSOF(escapes));
        tcase_add_test(tc, escape_survives_allocation_failures);
        suite_add_tcase(s, tc);
        return s;
}

OSB_CHECK_MAIN(suite)
