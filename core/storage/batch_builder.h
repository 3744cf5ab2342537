/* Builds uncompressed record batches v2 inside the broker: metadata log
 * records now, control batches and coordinator records later. */
#ifndef SLUICE_BATCH_BUILDER_CORE_H
#define SLUICE_BATCH_BUILDER_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "util/wire.h"

struct batch_builder {
    struct wire_writer records;
    int32_t count;
    int64_t base_ts, max_ts;
};

void batch_builder_init(struct batch_builder *bb);
/* key/value NULL with len -1 for null. */
void batch_builder_add(struct batch_builder *bb, int64_t ts, const void *key, int32_t klen,
                       const void *value, int32_t vlen);
/* Returns a malloc'd batch (base offset 0, CRC set) and frees the builder's
 * buffers, or NULL when out of memory or empty. */
uint8_t *batch_builder_finish(struct batch_builder *bb, int16_t attributes, int64_t producer_id,
                              int16_t producer_epoch, size_t *len);
void batch_builder_free(struct batch_builder *bb);

#endif
