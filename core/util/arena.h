/* Per-request bump allocator: decoded requests (arrays, strings) live here
 * and die together when the response is sent.  A cap makes a hostile request
 * fail with ENOMEM instead of eating the broker's memory. */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>

#define KP_ARENA_DEFAULT_CAP ((size_t)64 << 20)

struct kp_arena_chunk;

struct kp_arena {
    struct kp_arena_chunk *head; /* current chunk; older ones chained behind */
    size_t used;                 /* bytes handed out plus chunk slack */
    size_t cap;                  /* 0 until init; total limit */
};

void kp_arena_init(struct kp_arena *a);
/* Change the limit (before or between allocations). */
void kp_arena_set_cap(struct kp_arena *a, size_t cap);
/* Zeroed, 8-byte aligned; NULL when out of memory or over the cap.  A size
 * of 0 returns a valid non-NULL pointer. */
void *kp_arena_alloc(struct kp_arena *a, size_t n);
/* Copy of n bytes of s plus a terminating NUL. */
char *kp_arena_strndup(struct kp_arena *a, const char *s, size_t n);
/* Release every chunk; the arena can be used again afterwards. */
void kp_arena_free(struct kp_arena *a);

#endif
