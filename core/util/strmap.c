#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

static const char strmap_tombstone_key[1];
#define STRMAP_TOMBSTONE (strmap_tombstone_key)

uint32_t strmap_hash(const char *s)
{
    /* FNV-1a: short keys (topic names), no need for anything stronger. */
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, uint32_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != STRMAP_TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
    return NULL;
}

static int strmap_grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->count * 2 < m->cap)
        ncap = m->cap; /* mostly tombstones: rehash in place size */
    struct strmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key || s->key == STRMAP_TOMBSTONE)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));
    return s ? s->val : NULL;
}

int strmap_put(struct strmap *m, const char *key, void *val)
{
    uint32_t h = strmap_hash(key);
    struct strmap_slot *s = strmap_find(m, key, h);
    if (s) {
        s->key = key;
        s->val = val;
        return 0;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && strmap_grow(m) < 0)
        return -1;
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != STRMAP_TOMBSTONE)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->slots[i].hash = h;
    m->count++;
    return 0;
}

void *strmap_del(struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));
    if (!s)
        return NULL;
    void *v = s->val;
    s->key = STRMAP_TOMBSTONE;
    s->val = NULL;
    m->count--;
    return v;
}

int strmap_next(const struct strmap *m, size_t *iter, const char **key, void **val)
{
    for (; *iter < m->cap; (*iter)++) {
        struct strmap_slot *s = &m->slots[*iter];
        if (s->key && s->key != STRMAP_TOMBSTONE) {
            if (key)
                *key = s->key;
            if (val)
                *val = s->val;
            (*iter)++;
            return 1;
        }
    }
    return 0;
}
