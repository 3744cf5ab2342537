/* Test helper: deterministic inputs for compression tests, the same bytes
 * in every run.  make_text(n): n bytes of word soup (compresses well);
 * make_random(n): n xorshift bytes (does not compress), also as
 * fill_random(p, n) into a buffer.  malloc'd, free() them. */
#ifndef SLUICE_CODEC_INPUTS_H
#define SLUICE_CODEC_INPUTS_H

#include <stdint.h>
#include <stdlib.h>

static inline uint8_t *make_text(size_t n)
{
    static const char *words[] = {"kafka ", "sluice ", "record ", "batch ", "offset ", "topic\n"};
    uint8_t *p = malloc(n ? n : 1);
    uint32_t x = 12345;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 6];
        for (; *w && i < n; w++)
            p[i++] = (uint8_t)*w;
    }
    return p;
}

/* n xorshift bytes into p. */
static inline void fill_random(uint8_t *p, size_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static inline uint8_t *make_random(size_t n)
{
    uint8_t *p = malloc(n);
    fill_random(p, n);
    return p;
}

#endif
