/* catalog-controller/strmap.h: a hash map from strings to pointers (FNV-1a, chaining, grows
 * at load 1). Not thread-safe: its owner locks. The map copies keys; values are borrowed. */
#pragma once

#include <stddef.h>

struct strmap_entry {
        struct strmap_entry *next;
        size_t hash;
        void *value;
        char key[];
};

struct strmap {
        struct strmap_entry **buckets;
        size_t nbuckets, count;
};

#define STRMAP_INIT {NULL, 0, 0}

/* Frees the entries (not the values). The map can be used again afterwards. */
void strmap_release(struct strmap *m);
/* The value for @key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Sets @key to @value. Returns 0 with *old (may be NULL) the previous value or NULL, or
 * -ENOMEM (map unchanged). */
int strmap_put(struct strmap *m, const char *key, void *value, void **old);
/* Removes @key. Returns its value, or NULL when absent. */
void *strmap_remove(struct strmap *m, const char *key);

/* Iteration: for (e = strmap_first(m, &i); e; e = strmap_next(m, &i, e)). The map must not
 * change meanwhile. */
struct strmap_entry *strmap_first(const struct strmap *m, size_t *i);
struct strmap_entry *strmap_next(const struct strmap *m, size_t *i, struct strmap_entry *e);
