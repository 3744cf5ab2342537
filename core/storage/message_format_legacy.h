/* Message sets of magic 0 and 1 (the formats Produce v0-v2 carry) and
 * their up-conversion to one record batch v2, as Kafka's LogValidator does
 * when the log's format is v2 (every Kafka since 3.0).  Sluice stores v2
 * only, so a legacy message set is validated here and replaced by a v2
 * batch before the normal append path sees it.
 *
 * One message (big-endian):
 *   0 offset i64 | 8 size i32 | 12 crc u32 | 16 magic i8 | 17 attributes i8 |
 *   [18 timestamp i64, magic 1 only] | key: i32 length (-1 null) + bytes |
 *   value: i32 length (-1 null) + bytes
 * size counts from crc to the end; crc is CRC-32 (IEEE, zlib's crc32) over
 * magic..end.  attributes bits 0-2 are the codec, bit 3 (magic 1) the
 * timestamp type (LogAppendTime).  A compressed message (a "wrapper") has
 * a codec and a value that is a compressed message set of uncompressed
 * inner messages of the same magic; with magic 1 the inner offsets are
 * relative (0..n-1) and the wrapper's offset is that of the last inner
 * message (or 0, which some librdkafka versions send).
 *
 * Conversion, following LogValidator (convertAndAssignOffsetsNonCompressed
 * and validateMessagesAndAssignOffsetsCompressed):
 *  - records keep key and value; they get no headers; offsets are
 *    reassigned 0..n-1 (the broker assigns absolute ones on append);
 *  - timestamps: magic 0 has none, so -1 (NO_TIMESTAMP); magic 1 keeps the
 *    record's, except under a LogAppendTime wrapper, whose timestamp every
 *    inner record takes; a LogAppendTime topic later stamps the append time
 *    on the batch like any v2 batch;
 *  - producer id/epoch/sequence -1, not transactional; the batch is
 *    uncompressed: the caller re-compresses it to the topic's codec
 *    (compression.type=producer keeps the wrapper's codec, see
 *    batch_recompress.h).
 *
 * Errors (Kafka's exceptions → codes):
 *  - message size < 14, magic > 2, truncated message or message set, CRC
 *    mismatch (outer or inner), a key/value length that does not fit →
 *    CORRUPT_MESSAGE;
 *  - a message larger than max.message.bytes → MESSAGE_TOO_LARGE;
 *  - mixed magics, more than one message when one is compressed, a wrapper
 *    with a null value or no inner messages, a compressed inner message,
 *    an inner magic different from the wrapper's, a v1 wrapper offset
 *    below the last inner offset, a zstd wrapper (Kafka never allowed zstd
 *    in v0/v1) → INVALID_RECORD;
 *  - a codec id above 4, or one without a loaded module →
 *    UNSUPPORTED_COMPRESSION_TYPE;
 *  - LogAppendTime set by the producer (when the topic is LogAppendTime or
 *    the timestamp is -1, as in LogValidator.validateTimestamp), or a
 *    timestamp below -1 → INVALID_TIMESTAMP.
 * Deliberate difference: Kafka silently drops a partial message at the end
 * of a message set (a leftover from fetch responses); a producer never
 * sends one, so Sluice refuses the request (CORRUPT_MESSAGE) rather than
 * acknowledge data it did not store. */
#ifndef SLUICE_MESSAGE_FORMAT_LEGACY_H
#define SLUICE_MESSAGE_FORMAT_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/record_batch.h"

#define LEGACY_OVERHEAD_V0 14 /* crc + magic + attributes + key len + value len */
#define LEGACY_OVERHEAD_V1 22 /* + timestamp */
#define LEGACY_ATTR_LOG_APPEND_TIME 0x08

/* Does the records blob start with a magic 0/1 message?  (Magic sits at
 * byte 16 in every format.) */
bool legacy_is_message_set(const uint8_t *p, size_t len);

struct legacy_opts {
    bool log_append_time;      /* topic message.timestamp.type=LogAppendTime */
    int64_t max_message_bytes; /* max.message.bytes, per outer message */
};

struct legacy_result {
    uint8_t *batch; /* malloc'd record batch v2, uncompressed; free() it */
    size_t size;
    int magic;        /* 0 or 1 */
    int source_codec; /* RB_CODEC_* of the wrapper, RB_CODEC_NONE if none */
    int32_t records;
};

/* Validate the message set p[0..len) and convert it.  dec decompresses
 * wrapper values (module_registry_decompress).  Returns 0 with res filled,
 * or a Kafka error code with detail in err (res->batch NULL). */
int legacy_upconvert(const uint8_t *p, size_t len, const struct legacy_opts *opts,
                     rb_decompress_fn dec, void *dec_ctx, struct legacy_result *res, char *err,
                     size_t errlen);

/* Kafka 0.8/0.9 clients (and librdkafka for magic 0) computed the LZ4 frame
 * descriptor checksum over the wrong bytes; Kafka ignores it for magic 0.
 * Rewrites the header checksum byte of the LZ4 frame at p to the correct
 * value so a standard LZ4 frame decoder accepts it.  Returns 0, or -1 if p
 * is not an LZ4 frame header. */
int legacy_lz4_fix_header_checksum(uint8_t *p, size_t len);

/* XXH32 of a short buffer (< 16 bytes), the LZ4 frame descriptor hash. */
uint32_t legacy_xxh32_small(const uint8_t *p, size_t len, uint32_t seed);

#endif
