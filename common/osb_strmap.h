/* common/osb_strmap.h: a hash map from strings to pointers (FNV-1a, chaining, grows
 * at load 1). Not thread-safe: its owner locks. The map copies keys; values are borrowed. */
#pragma once

#include <stddef.h>

struct osb_strmap_entry {
        struct osb_strmap_entry *next;
        size_t hash;
        void *value;
        char key[];
};

struct osb_strmap {
        struct osb_strmap_entry **buckets;
        size_t nbuckets, count;
};

#define OSB_STRMAP_INIT {NULL, 0, 0}

/* Frees the entries (not the values). The map can be used again afterwards. */
void osb_strmap_release(struct osb_strmap *m);
/* The value for @key, or NULL. */
void *osb_strmap_get(const struct osb_strmap *m, const char *key);
/* Sets @key to @value. Returns 0 with *old (may be NULL) the previous value or NULL, or
 * -ENOMEM (map unchanged). */
int osb_strmap_put(struct osb_strmap *m, const char *key, void *value, void **old);
/* Removes @key. Returns its value, or NULL when absent. */
void *osb_strmap_remove(struct osb_strmap *m, const char *key);

/* Iteration: for (e = osb_strmap_first(m, &i); e; e = osb_strmap_next(m, &i, e)). The map must not
 * change meanwhile. */
struct osb_strmap_entry *osb_strmap_first(const struct osb_strmap *m, size_t *i);
struct osb_strmap_entry *osb_strmap_next(const struct osb_strmap *m, size_t *i, struct osb_strmap_entry *e);
