/* common/osb_strmap.c: string-keyed hash map. */
#include "common/osb_compat.h"
#include "common/osb_mem.h"
#include "common/osb_strmap.h"

static size_t fnv1a(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 1099511628211ULL;
        }
        return (size_t) h;
}

void osb_strmap_release(struct osb_strmap *m)
{
        for (size_t i = 0; i < m->nbuckets; i++) {
                struct osb_strmap_entry *e = m->buckets[i];
                while (e) {
                        struct osb_strmap_entry *n = e->next;
                        osb_free(e);
                        e = n;
                }
        }
        osb_free(m->buckets);
        *m = (struct osb_strmap) OSB_STRMAP_INIT;
}

static struct osb_strmap_entry **find(const struct osb_strmap *m, const char *key, size_t h)
{
        if (!m->nbuckets)
                return NULL;
        struct osb_strmap_entry **p = &m->buckets[h & (m->nbuckets - 1)];
        for (; *p; p = &(*p)->next)
                if ((*p)->hash == h && strcmp((*p)->key, key) == 0)
                        return p;
        return p;
}

void *osb_strmap_get(const struct osb_strmap *m, const char *key)
{
        struct osb_strmap_entry **p = find(m, key, fnv1a(key));
        return p && *p ? (*p)->value : NULL;
}

static int grow(struct osb_strmap *m)
{
        /* small first: the informers keep one map per index key, most with one or two entries */
        size_t n = m->nbuckets ? m->nbuckets * 2 : 4;
        struct osb_strmap_entry **b = osb_calloc(n, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < m->nbuckets; i++) {
                struct osb_strmap_entry *e = m->buckets[i];
                while (e) {
                        struct osb_strmap_entry *next = e->next;
                        e->next = b[e->hash & (n - 1)];
                        b[e->hash & (n - 1)] = e;
                        e = next;
                }
        }
        osb_free(m->buckets);
        m->buckets = b;
        m->nbuckets = n;
        return 0;
}

int osb_strmap_put(struct osb_strmap *m, const char *key, void *value, void **old)
{
        size_t h = fnv1a(key);
        struct osb_strmap_entry **p = find(m, key, h);
        if (p && *p) {
                if (old)
                        *old = (*p)->value;
                (*p)->value = value;
                return 0;
        }
        if (m->count >= m->nbuckets && grow(m) < 0)
                return -ENOMEM;
        size_t kl = strlen(key);
        struct osb_strmap_entry *e = osb_malloc(sizeof(*e) + kl + 1);
        if (!e)
                return -ENOMEM;
        memcpy(e->key, key, kl + 1);
        e->hash = h;
        e->value = value;
        size_t i = h & (m->nbuckets - 1);
        e->next = m->buckets[i];
        m->buckets[i] = e;
        m->count++;
        if (old)
                *old = NULL;
        return 0;
}

void *osb_strmap_remove(struct osb_strmap *m, const char *key)
{
        struct osb_strmap_entry **p = find(m, key, fnv1a(key));
        if (!p || !*p)
                return NULL;
        struct osb_strmap_entry *e = *p;
        void *v = e->value;
        *p = e->next;
        osb_free(e);
        m->count--;
        return v;
}

struct osb_strmap_entry *osb_strmap_first(const struct osb_strmap *m, size_t *i)
{
        for (*i = 0; *i < m->nbuckets; (*i)++)
                if (m->buckets[*i])
                        return m->buckets[*i];
        return NULL;
}

struct osb_strmap_entry *osb_strmap_next(const struct osb_strmap *m, size_t *i, struct osb_strmap_entry *e)
{
        if (e->next)
                return e->next;
        for ((*i)++; *i < m->nbuckets; (*i)++)
                if (m->buckets[*i])
                        return m->buckets[*i];
        return NULL;
}
