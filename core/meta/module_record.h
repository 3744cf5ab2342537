/* Durable small records of modules (credentials, ACLs, a service's state),
 * kept in the metadata log so they replicate with cluster metadata later.
 *
 * Kafka has no generic record type, so Sluice defines its own metadata
 * record, SluiceModuleRecord, with an apiKey far outside Kafka's range
 * (Kafka's metadata record types are 0..~30; Sluice's own start at 10000)
 * and the same framing as every metadata record (frame version, apiKey,
 * version as unsigned varints, then the body).  Body, version 0, in Kafka's
 * flexible-version encoding:
 *
 *   Module  COMPACT_STRING        module name, [a-z0-9_]{1,64}
 *   Key     COMPACT_STRING        1..MODULE_RECORD_MAX_KEY bytes, no NUL
 *   Value   COMPACT_NULLABLE_BYTES 0..MODULE_RECORD_MAX_VALUE bytes; null
 *                                 deletes the key (as ConfigRecord's null
 *                                 Value removes an override)
 *   _tagged_fields                 (none defined; unknown tags are skipped)
 *
 * A later version appends fields or tagged fields; a version this broker
 * does not know stops replay with a message instead of being skipped, since
 * skipping and then overwriting would lose a newer broker's data.
 *
 * The image keeps the latest value per (module, key); the records are
 * applied at replay and after each append, like every metadata record. */
#ifndef SLUICE_MODULE_RECORD_H
#define SLUICE_MODULE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/wire.h"

struct meta_image;

#define META_REC_SLUICE_MODULE_RECORD 10000 /* Sluice's own range starts at 10000 */
#define MODULE_RECORD_VERSION 0
#define MODULE_RECORD_MAX_MODULE 64
#define MODULE_RECORD_MAX_KEY 255
#define MODULE_RECORD_MAX_VALUE 65536

struct meta_module_record {
    const char *module;   /* NUL-terminated */
    const char *key;      /* NUL-terminated */
    const uint8_t *value; /* NULL with value_len -1: delete */
    int32_t value_len;
};

/* 0 when module, key and value fit the limits above; -1 with err. */
int module_record_check(const struct meta_module_record *rec, char *err, size_t errlen);

/* Appends the body (not the frame) to w.  -1 on an invalid record. */
int module_record_encode(struct wire_writer *w, int16_t version,
                         const struct meta_module_record *rec);

/* Decodes a body of `version`; strings are NUL-terminated copies in the
 * arena, value points into the arena too.  Bounds-checked: returns -1 on
 * truncation, bad lengths, limits, an unknown version, or trailing bytes. */
int module_record_decode(struct wire_reader *r, int16_t version, struct kp_arena *a,
                         struct meta_module_record *out);

/* Image side.  apply: set or (value_len < 0) delete; 0 or -1 (ENOMEM or
 * invalid record). */
void meta_module_records_init(struct meta_image *img);
void meta_module_records_free(struct meta_image *img);
int meta_image_apply_module_record(struct meta_image *img, const struct meta_module_record *rec);

/* The stored value (borrowed until the next apply), or NULL. */
const uint8_t *meta_module_record_get(const struct meta_image *img, const char *module,
                                      const char *key, size_t *len);

/* Calls cb for each record of `module` whose key starts with prefix (NULL
 * or "" = all), in byte order of keys.  Keys are collected first, so cb may
 * put or delete records: a key deleted before its turn is skipped.  cb
 * returning non-zero stops the walk and that value is returned; otherwise 0,
 * or -1 when out of memory. */
int meta_module_records_iterate(const struct meta_image *img, const char *module,
                                const char *prefix,
                                int (*cb)(void *ud, const char *key, const uint8_t *value,
                                          size_t len),
                                void *ud);

/* Number of records of a module (NULL: all modules). */
size_t meta_module_record_count(const struct meta_image *img, const char *module);

#endif
