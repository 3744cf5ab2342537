/* Open-addressing hash map from NUL-terminated string keys to pointers.
 * Keys are borrowed: the caller keeps each key alive while it is in the map
 * (typically the key is a field of the value). */
#ifndef SLUICE_STRMAP_H
#define SLUICE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    const char *key; /* NULL = empty; STRMAP_TOMBSTONE = deleted */
    void *val;
    uint32_t hash;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;   /* power of two */
    size_t count; /* live entries */
    size_t used;  /* live + tombstones */
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const char *key, void *val);
/* Returns the removed value, or NULL. */
void *strmap_del(struct strmap *m, const char *key);

/* Iteration: for (size_t i = 0; strmap_next(m, &i, &k, &v);) ... */
int strmap_next(const struct strmap *m, size_t *iter, const char **key, void **val);

uint32_t strmap_hash(const char *s);

#endif
