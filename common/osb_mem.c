/* common/osb_mem.c: allocation wrappers with a failure-injection hook for tests. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"

static atomic_size_t alloc_count;
static atomic_size_t fail_at = SIZE_MAX;
static _Thread_local size_t failures;

static bool should_fail(void)
{
        size_t n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        if (n != atomic_load_explicit(&fail_at, memory_order_relaxed))
                return false;
        failures++;
        return true;
}

static void *counted(void *p)
{
        if (!p)
                failures++;
        return p;
}

size_t osb_mem_failures(void)
{
        return failures;
}

void *osb_malloc(size_t n)
{
        if (should_fail())
                return NULL;
        return counted(malloc(n ? n : 1));
}

void *osb_calloc(size_t nmemb, size_t size)
{
        if (should_fail())
                return NULL;
        return counted(calloc(nmemb ? nmemb : 1, size ? size : 1));
}

void *osb_realloc(void *p, size_t n)
{
        if (should_fail())
                return NULL;
        return counted(realloc(p, n ? n : 1));
}

char *osb_strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *d = osb_malloc(len + 1);
        if (!d)
                return NULL;
        memcpy(d, s, len);
        d[len] = '\0';
        return d;
}

char *osb_strdup(const char *s)
{
        return osb_strndup(s, strlen(s));
}

char *osb_asprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        char *s = osb_malloc((size_t) n + 1);
        if (!s)
                return NULL;
        va_start(ap, fmt);
        (void) vsnprintf(s, (size_t) n + 1, fmt, ap);
        va_end(ap);
        return s;
}

void osb_free(void *p)
{
        free(p);
}

void osb_json_decrefp(void *p)
{
        json_t **j = p;
        json_decref(*j);
        *j = NULL;
}

static void *json_malloc(size_t n)
{
        return osb_malloc(n);
}

void osb_mem_setup(void)
{
        json_set_alloc_funcs(json_malloc, osb_free);
}

void osb_mem_fail_at(size_t n)
{
        atomic_store(&alloc_count, 0);
        atomic_store(&fail_at, n);
}

size_t osb_mem_allocs(void)
{
        return atomic_load(&alloc_count);
}
