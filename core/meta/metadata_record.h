/* Applying one metadata log record to the image: Kafka's
 * MetadataRecordSerde framing (frame version, api key and record version as
 * unsigned varints, then the body), the KRaft record types Sluice uses and
 * Sluice's own SluiceModuleRecord.  Kept apart from the store so the decoder
 * can be fuzzed without a log. */
#ifndef SLUICE_METADATA_RECORD_H
#define SLUICE_METADATA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "meta/metadata_image.h"

/* Kafka's metadata record framing version. */
#define META_FRAME_VERSION 1

/* Applies a decoded record: msg is the generated struct of its type (see
 * struct meta_record).  Unused types are skipped (0); -1 when it does not
 * apply (e.g. a partition of an unknown topic). */
int meta_record_apply(struct meta_image *img, int16_t type, const void *msg);

/* Decodes the record value v[0..len) found at `offset` and applies it to
 * img.  Record types this version does not use are skipped (0), as KRaft
 * brokers skip what they don't know.  Returns 0, or -1 with a message naming
 * the offset in err (bad framing, undecodable body, a record that does not
 * apply, a SluiceModuleRecord from a newer version). */
int meta_record_apply_value(struct meta_image *img, const uint8_t *v, int32_t len, int64_t offset,
                            char *err, size_t errlen);

#endif
