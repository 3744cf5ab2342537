/* The log cleaner's offset map (Kafka's SkimpyOffsetMap): key hash →
 * latest offset, built over the dirty section of a log so the copy pass
 * keeps only each key's latest record.
 *
 * Keys are reduced to a 128-bit hash (MurmurHash3 x64-128, where Kafka uses
 * MD5) and two keys with the same hash count as one key, as in Kafka: with
 * 128 bits the chance of a collision is negligible.  A slot is 24 bytes
 * (hash + offset); the capacity is memory / 24 slots, the map is "full" at
 * load_factor * slots entries (log.cleaner.io.buffer.load.factor) and the
 * cleaner then stops mapping, cleaning only up to the last mapped offset.
 *
 * Unlike Kafka the table is not allocated at full size up front: it starts
 * small and doubles (rehashing) up to the configured capacity, so an idle
 * or lightly used cleaner does not hold log.cleaner.dedupe.buffer.size of
 * memory.  Open addressing with linear probing.
 *
 * One map per cleaner thread; not thread-safe. */
#ifndef SLUICE_OFFSET_MAP_H
#define SLUICE_OFFSET_MAP_H

#include <stddef.h>
#include <stdint.h>

#define OFFSET_MAP_SLOT_BYTES 24

struct offset_map;

/* memory: the most the table may use (bytes); load_factor in (0, 1].
 * NULL when memory holds fewer than 2 slots or out of memory. */
struct offset_map *offset_map_new(size_t memory, double load_factor);
void offset_map_free(struct offset_map *m);

/* Forget every entry and the latest offset (keeps the smaller table). */
void offset_map_clear(struct offset_map *m);

/* Map key → offset (replacing an older offset for the same key).
 * Returns 0, or -1 when the map is full (size() >= max_entries()) for a new
 * key, or out of memory while growing. */
int offset_map_put(struct offset_map *m, const void *key, size_t klen, int64_t offset);

/* The offset stored for key, or -1. */
int64_t offset_map_get(const struct offset_map *m, const void *key, size_t klen);

/* Distinct keys stored. */
size_t offset_map_size(const struct offset_map *m);
/* Capacity in slots (memory / 24) and the entries allowed (slots * load factor). */
size_t offset_map_slots(const struct offset_map *m);
size_t offset_map_max_entries(const struct offset_map *m);
/* size / slots, Kafka's "buffer utilization". */
double offset_map_utilization(const struct offset_map *m);

/* The highest offset seen while mapping (Kafka's latestOffset), -1 when
 * none: records above it were not mapped and are kept as they are. */
int64_t offset_map_latest_offset(const struct offset_map *m);
void offset_map_update_latest_offset(struct offset_map *m, int64_t offset);

/* 128-bit MurmurHash3 (x64) of data, seed 0; exposed for tests. */
void offset_map_hash(const void *data, size_t len, uint64_t out[2]);

#endif
