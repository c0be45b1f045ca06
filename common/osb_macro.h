/* common/osb_macro.h: cleanup attributes, ownership hand-off and small helpers. */
#pragma once

#include <stdbool.h>
#include <stdlib.h>

#define osb_auto(fn) __attribute__((cleanup(fn)))
#define OSB_TAKE_PTR(p)                          \
        ({                                       \
                __typeof__(p) _osb_p = (p);      \
                (p) = NULL;                      \
                _osb_p;                          \
        })
#define OSB_DEFINE_AUTO(name, type, fn)          \
        static inline void name(type *p)         \
        {                                        \
                if (*p) {                        \
                        (void) fn(*p);           \
                        *p = NULL;               \
                }                                \
        }

#define OSB_ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define OSB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define OSB_MAX(a, b) ((a) > (b) ? (a) : (b))
#define OSB_UNUSED __attribute__((unused))
#define OSB_WUR __attribute__((warn_unused_result))
#define OSB_PRINTF(a, b) __attribute__((format(printf, a, b)))

void osb_free(void *p);
static inline void osb_freep(void *p)
{
        osb_free(*(void **) p);
        *(void **) p = NULL;
}
#define osb_autofree osb_auto(osb_freep)

/* jansson's json_auto_t needs json_decref; give it a name in our vocabulary too. */
#define osb_autojson osb_auto(osb_json_decrefp)
struct json_t;
void osb_json_decrefp(void *p);

static inline bool osb_streq(const char *a, const char *b)
{
        return a == b || (a && b && __builtin_strcmp(a, b) == 0);
}

/* @s (may be NULL) begins with @prefix. */
static inline bool osb_starts_with(const char *s, const char *prefix)
{
        return s && __builtin_strncmp(s, prefix, __builtin_strlen(prefix)) == 0;
}
