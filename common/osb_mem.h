/* common/osb_mem.h: every allocation of ours and jansson's goes through here, so tests can fail
 * the n-th allocation (failure injection: allocation failure is tested, not hoped for). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Returns new memory (free with osb_free()), or NULL on out-of-memory. */
void *osb_malloc(size_t n);
void *osb_calloc(size_t nmemb, size_t size);
void *osb_realloc(void *p, size_t n);
char *osb_strdup(const char *s);
char *osb_strndup(const char *s, size_t n);
/* Returns new string formatted like printf, or NULL on out-of-memory. */
char *osb_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void osb_free(void *p);

/* Route jansson through the functions above. Call once at start-up. */
void osb_mem_setup(void);

/* Allocations that failed on this thread so far (real or injected). jansson sometimes reports
 * an allocation failure as a syntax error or drops data silently, so callers compare this
 * before and after a jansson call to tell. */
size_t osb_mem_failures(void);

/* Failure injection, for tests: allocation number @n (0-based, counted from this call) fails;
 * SIZE_MAX disarms. osb_mem_allocs() counts allocations since the last osb_mem_fail_at(). */
void osb_mem_fail_at(size_t n);
size_t osb_mem_allocs(void);
