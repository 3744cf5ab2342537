#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

/* Small requests fit in the first chunk; chunks double up to 1 MiB so a big
 * request costs few mallocs, and an allocation bigger than that gets a chunk
 * of its own. */
#define CHUNK_MIN 4096
#define CHUNK_MAX ((size_t)1 << 20)

struct kp_arena_chunk {
    struct kp_arena_chunk *next;
    size_t size, pos;
    _Alignas(8) unsigned char data[];
};

void kp_arena_init(struct kp_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->cap = KP_ARENA_DEFAULT_CAP;
}

void kp_arena_set_cap(struct kp_arena *a, size_t cap)
{
    a->cap = cap;
}

void *kp_arena_alloc(struct kp_arena *a, size_t n)
{
    if (n > SIZE_MAX - 7)
        return NULL;
    n = n ? (n + 7) & ~(size_t)7 : 8;
    struct kp_arena_chunk *c = a->head;
    if (!c || c->size - c->pos < n) {
        size_t size = c ? c->size * 2 : CHUNK_MIN;
        if (size > CHUNK_MAX)
            size = CHUNK_MAX;
        if (size < n)
            size = n;
        if (size > a->cap || a->used > a->cap - size)
            return NULL;
        struct kp_arena_chunk *nc = calloc(1, sizeof *nc + size);
        if (!nc)
            return NULL;
        nc->size = size;
        a->used += size;
        /* A dedicated big chunk goes behind the head so the head's free
         * space stays usable for the small allocations that follow. */
        if (c && size == n && c->size - c->pos >= 64) {
            nc->next = c->next;
            c->next = nc;
            nc->pos = n;
            return nc->data;
        }
        nc->next = c;
        a->head = c = nc;
    }
    void *p = c->data + c->pos;
    c->pos += n;
    return p;
}

char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = kp_arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void kp_arena_free(struct kp_arena *a)
{
    struct kp_arena_chunk *c = a->head;
    while (c) {
        struct kp_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}
