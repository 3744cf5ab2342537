/* Offset map of the log cleaner; see offset_map.h. */
#include "storage/offset_map.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t h[2];
    int64_t off1; /* offset + 1; 0 marks an empty slot */
};

_Static_assert(sizeof(struct slot) == OFFSET_MAP_SLOT_BYTES, "slot layout");

/* The table starts this small and doubles while more than half full. */
#define INITIAL_SLOTS 4096

struct offset_map {
    struct slot *tab;
    size_t nslots;     /* current table size (power of two, or the cap) */
    size_t max_slots;  /* memory / 24 */
    size_t max_entries;
    size_t size;
    int64_t latest;
};

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* the algorithm is defined on little-endian blocks */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

void offset_map_hash(const void *data, size_t len, uint64_t out[2])
{
    const uint8_t *p = (const uint8_t *)data;
    const size_t nblocks = len / 16;
    uint64_t h1 = 0, h2 = 0;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = load64(p + i * 16), k2 = load64(p + i * 16 + 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const uint8_t *tail = p + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    switch (len & 15) {
    case 15: k2 ^= (uint64_t)tail[14] << 48; /* fall through */
    case 14: k2 ^= (uint64_t)tail[13] << 40; /* fall through */
    case 13: k2 ^= (uint64_t)tail[12] << 32; /* fall through */
    case 12: k2 ^= (uint64_t)tail[11] << 24; /* fall through */
    case 11: k2 ^= (uint64_t)tail[10] << 16; /* fall through */
    case 10: k2 ^= (uint64_t)tail[9] << 8;   /* fall through */
    case 9:  k2 ^= (uint64_t)tail[8];
             k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
             /* fall through */
    case 8:  k1 ^= (uint64_t)tail[7] << 56;  /* fall through */
    case 7:  k1 ^= (uint64_t)tail[6] << 48;  /* fall through */
    case 6:  k1 ^= (uint64_t)tail[5] << 40;  /* fall through */
    case 5:  k1 ^= (uint64_t)tail[4] << 32;  /* fall through */
    case 4:  k1 ^= (uint64_t)tail[3] << 24;  /* fall through */
    case 3:  k1 ^= (uint64_t)tail[2] << 16;  /* fall through */
    case 2:  k1 ^= (uint64_t)tail[1] << 8;   /* fall through */
    case 1:  k1 ^= (uint64_t)tail[0];
             k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

static size_t initial_slots(const struct offset_map *m)
{
    return m->max_slots < INITIAL_SLOTS ? m->max_slots : INITIAL_SLOTS;
}

struct offset_map *offset_map_new(size_t memory, double load_factor)
{
    size_t max_slots = memory / sizeof(struct slot);
    if (max_slots < 2 || !(load_factor > 0) || load_factor > 1)
        return NULL;
    struct offset_map *m = (struct offset_map *)calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->max_slots = max_slots;
    m->max_entries = (size_t)((double)max_slots * load_factor);
    if (m->max_entries < 1)
        m->max_entries = 1;
    if (m->max_entries >= max_slots)
        m->max_entries = max_slots - 1; /* linear probing needs one empty slot */
    m->nslots = initial_slots(m);
    m->tab = (struct slot *)calloc(m->nslots, sizeof *m->tab);
    if (!m->tab) {
        free(m);
        return NULL;
    }
    m->latest = -1;
    return m;
}

void offset_map_free(struct offset_map *m)
{
    if (!m)
        return;
    free(m->tab);
    free(m);
}

void offset_map_clear(struct offset_map *m)
{
    size_t want = initial_slots(m);
    if (m->nslots != want) {
        struct slot *t = (struct slot *)calloc(want, sizeof *t);
        if (t) {
            free(m->tab);
            m->tab = t;
            m->nslots = want;
        } else {
            memset(m->tab, 0, m->nslots * sizeof *m->tab);
        }
    } else {
        memset(m->tab, 0, m->nslots * sizeof *m->tab);
    }
    m->size = 0;
    m->latest = -1;
}

static size_t find(const struct slot *tab, size_t nslots, const uint64_t h[2])
{
    size_t i = (size_t)(h[0] % nslots);
    while (tab[i].off1 != 0 && (tab[i].h[0] != h[0] || tab[i].h[1] != h[1]))
        i = i + 1 == nslots ? 0 : i + 1;
    return i;
}

static int grow(struct offset_map *m)
{
    size_t n = m->nslots * 2;
    if (n > m->max_slots || n < m->nslots)
        n = m->max_slots;
    struct slot *t = (struct slot *)calloc(n, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->tab[i].off1)
            t[find(t, n, m->tab[i].h)] = m->tab[i];
    free(m->tab);
    m->tab = t;
    m->nslots = n;
    return 0;
}

int offset_map_put(struct offset_map *m, const void *key, size_t klen, int64_t offset)
{
    uint64_t h[2];
    offset_map_hash(key, klen, h);
    size_t i = find(m->tab, m->nslots, h);
    if (m->tab[i].off1) {
        m->tab[i].off1 = offset + 1;
    } else {
        if (m->size >= m->max_entries)
            return -1;
        /* Keep probes short while the table may still grow. */
        if (m->nslots < m->max_slots && (m->size + 1) * 2 > m->nslots) {
            if (grow(m) != 0)
                return -1;
            i = find(m->tab, m->nslots, h);
        }
        m->tab[i].h[0] = h[0];
        m->tab[i].h[1] = h[1];
        m->tab[i].off1 = offset + 1;
        m->size++;
    }
    if (offset > m->latest)
        m->latest = offset;
    return 0;
}

int64_t offset_map_get(const struct offset_map *m, const void *key, size_t klen)
{
    uint64_t h[2];
    offset_map_hash(key, klen, h);
    size_t i = find(m->tab, m->nslots, h);
    return m->tab[i].off1 ? m->tab[i].off1 - 1 : -1;
}

size_t offset_map_size(const struct offset_map *m) { return m->size; }
size_t offset_map_slots(const struct offset_map *m) { return m->max_slots; }
size_t offset_map_max_entries(const struct offset_map *m) { return m->max_entries; }
double offset_map_utilization(const struct offset_map *m)
{
    return (double)m->size / (double)m->max_slots;
}
int64_t offset_map_latest_offset(const struct offset_map *m) { return m->latest; }
void offset_map_update_latest_offset(struct offset_map *m, int64_t offset)
{
    m->latest = offset;
}
