/* test/fuzz/fuzz_packed.c: the input is an object's JSON text as the API server sends it (any
 * bytes). Packs it with packed_pack() and checks that packed_unpack() gives the same bytes back;
 * then reads the input itself as a packed form, which packed_unpack() must refuse or decode
 * without reading or writing out of bounds. */
#include "common/osb_compat.h"

#include "common/osb_mem.h"
#include "catalog-controller/packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                           \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "fuzz_packed: invariant failed: %s\n", #cond);          \
                        abort();                                                                \
                }                                                                               \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 1 << 20)
                return 0;
        char *text = osb_malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        bool has_nul = memchr(text, '\0', size) != NULL;
        char *packed = packed_pack(text, size);
        if (has_nul)
                REQUIRE(packed == NULL);
        if (packed) {
                REQUIRE(strlen(packed) > 0 || size == 0);
                size_t n = 0;
                char *back = packed_unpack(packed, &n);
                if (back) {     /* NULL only when memory ran out */
                        REQUIRE(n == size);
                        REQUIRE(memcmp(back, text, size) == 0);
                        REQUIRE(back[n] == '\0');
                }
                osb_free(back);
        }
        osb_free(packed);
        /* the input as a packed form: refused, or decoded into a NUL-terminated text */
        size_t n = 0;
        char *any = packed_unpack(text, &n);
        if (any)
                REQUIRE(any[n] == '\0');
        osb_free(any);
        osb_free(text);
        return 0;
}
