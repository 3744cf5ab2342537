/* Kafka record batches, format v2 (magic 2) only.
 *
 * Layout (big-endian), 61 bytes of header then the records:
 *   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 |
 *  16 magic i8 | 17 crc u32 | 21 attributes i16 | 23 lastOffsetDelta i32 |
 *  27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 |
 *  51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32 | 61 records
 * batchLength counts from partitionLeaderEpoch to the end (size - 12); the
 * CRC-32C covers attributes..end, so baseOffset and partitionLeaderEpoch can
 * be rewritten by the broker without touching it.
 *
 * Error codes returned here are Kafka's (KP_ERR_*), chosen like Kafka 4.0:
 *  - a batch with magic 0/1 → INVALID_RECORD: Kafka 4.0 only accepts Produce
 *    v3+, whose ProduceRequest.validateRecords throws InvalidRecordException
 *    ("Produce requests with version N are only allowed to contain record
 *    batches with magic version 2");
 *  - batch framing/size/CRC problems → CORRUPT_MESSAGE (CorruptRecordException
 *    from DefaultRecordBatch.ensureValid);
 *  - problems inside the records, offset/count inconsistencies → INVALID_RECORD
 *    (InvalidRecordException from LogValidator / DefaultRecord.readFrom);
 *  - compressed batch with a codec nobody can decode → UNSUPPORTED_COMPRESSION_TYPE. */
#ifndef SLUICE_RECORD_BATCH_H
#define SLUICE_RECORD_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/kafka_errors.h"
#include "util/wire.h"

#define RB_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define RB_HEADER_SIZE 61
#define RB_MAGIC 2

/* Field offsets inside a batch. */
enum {
    RB_OFF_BASE_OFFSET = 0,
    RB_OFF_LENGTH = 8,
    RB_OFF_LEADER_EPOCH = 12,
    RB_OFF_MAGIC = 16,
    RB_OFF_CRC = 17,
    RB_OFF_ATTRIBUTES = 21,
    RB_OFF_LAST_OFFSET_DELTA = 23,
    RB_OFF_BASE_TIMESTAMP = 27,
    RB_OFF_MAX_TIMESTAMP = 35,
    RB_OFF_PRODUCER_ID = 43,
    RB_OFF_PRODUCER_EPOCH = 51,
    RB_OFF_BASE_SEQUENCE = 53,
    RB_OFF_RECORD_COUNT = 57,
};

enum {
    RB_ATTR_COMPRESSION_MASK = 0x07, /* 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
    RB_ATTR_LOG_APPEND_TIME = 0x08,
    RB_ATTR_TRANSACTIONAL = 0x10,
    RB_ATTR_CONTROL = 0x20,
    RB_ATTR_DELETE_HORIZON = 0x40,
};

enum { RB_CODEC_NONE = 0, RB_CODEC_GZIP = 1, RB_CODEC_SNAPPY = 2, RB_CODEC_LZ4 = 3, RB_CODEC_ZSTD = 4 };

struct rb_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
};

/* Decompresses the records section of a compressed batch.  On success
 * returns 0 and sets *out (malloc'd, freed by the caller with free()) and
 * *outlen; returns a Kafka error code otherwise (CORRUPT_MESSAGE for bad
 * data, UNSUPPORTED_COMPRESSION_TYPE for an unknown codec). */
typedef int (*rb_decompress_fn)(void *ctx, int codec, const uint8_t *in, size_t inlen,
                                uint8_t **out, size_t *outlen);

/* Decode the 61-byte header; no validation.  Returns 0, or -1 if len < 61. */
int rb_header_decode(const uint8_t *p, size_t len, struct rb_header *h);

/* Size of the batch starting at p (12 + batchLength) if at least the first
 * 12 bytes are there, else 0.  Does not check that the whole batch is. */
size_t rb_batch_size(const uint8_t *p, size_t len);

/* CRC-32C over attributes..end of a complete batch of `size` bytes. */
uint32_t rb_compute_crc(const uint8_t *batch, size_t size);

/* Validation flags. */
enum {
    /* Produce rules (LogValidator): recordCount > 0, lastOffsetDelta ==
     * recordCount - 1, offset deltas exactly 0..n-1, no control batch. */
    RB_VALIDATE_PRODUCE = 1,
    /* With PRODUCE: allow control batches (the broker's own markers). */
    RB_VALIDATE_ALLOW_CONTROL = 2,
    /* Check only the header and CRC, not the records (recovery). */
    RB_VALIDATE_SHALLOW = 4,
    /* Count records without a key in info->null_keys (compacted topics
     * refuse them; the caller decides). */
    RB_VALIDATE_COUNT_NULL_KEYS = 8,
};

/* Facts gathered while validating, used by the append path. */
struct rb_info {
    struct rb_header h;
    size_t size;               /* bytes of this batch */
    int64_t max_record_timestamp; /* max of record timestamps, -1 if none */
    int64_t min_record_timestamp; /* min of record timestamps other than -1, INT64_MAX if none */
    int32_t records;           /* records actually iterated */
    int32_t null_keys;         /* with RB_VALIDATE_COUNT_NULL_KEYS: records without a key */
};

/* Validate the batch at the start of p (len may hold more batches after it).
 * Checks framing, magic, CRC and, unless SHALLOW, every record (through
 * `dec` for compressed batches).  Timestamps are not checked here (see
 * timestamp_rules.h).  Returns 0 or a Kafka error code, detail in err. */
int rb_validate(const uint8_t *p, size_t len, unsigned flags, rb_decompress_fn dec,
                void *dec_ctx, struct rb_info *info, char *err, size_t errlen);

/* One record of a batch.  key/value point into the batch (or into the
 * iterator's decompressed buffer); len -1 means null. */
struct rb_record {
    int64_t offset;     /* baseOffset + offsetDelta */
    int64_t timestamp;  /* baseTimestamp + timestampDelta, or maxTimestamp for LogAppendTime */
    int32_t offset_delta;
    int8_t attributes;
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;
    int32_t header_count;
    const uint8_t *headers; /* raw header bytes, walk with rb_header_next */
    size_t headers_len;
};

struct rb_iter {
    struct rb_header h;
    struct wire_reader r;
    uint8_t *owned; /* decompressed records, freed by rb_iter_free */
    int32_t index;
    int32_t prev_delta;
    int strict;     /* deltas must be exactly 0..n-1 */
    int err;        /* Kafka error code once next() failed */
    char errmsg[96];
};

/* Start iterating the records of one complete batch (size bytes at batch).
 * Does not verify the CRC (rb_validate does).  Returns 0 or a Kafka error. */
int rb_iter_init(struct rb_iter *it, const uint8_t *batch, size_t size, rb_decompress_fn dec,
                 void *dec_ctx);
/* 1: *rec filled; 0: end (it->err == 0) or error (it->err set). */
int rb_iter_next(struct rb_iter *it, struct rb_record *rec);
void rb_iter_free(struct rb_iter *it);

/* Walk a record's headers: *pos starts at 0; returns 1 with key/value set,
 * 0 at the end or on malformed data (already rejected by validation). */
int rb_header_next(const struct rb_record *rec, size_t *pos, const uint8_t **key,
                   int32_t *key_len, const uint8_t **value, int32_t *value_len);

/* In-place rewrites done by the broker when it appends a batch. */
void rb_set_base_offset(uint8_t *batch, int64_t base_offset);
void rb_set_partition_leader_epoch(uint8_t *batch, int32_t epoch);
/* Sets maxTimestamp, and with log_append_time the LogAppendTime attribute
 * bit; recomputes the CRC if anything covered by it changed. */
void rb_set_max_timestamp(uint8_t *batch, size_t size, int64_t max_ts, int log_append_time);

/* Big-endian field access in a raw batch. */
static inline int64_t rb_get_i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return (int64_t)v;
}
static inline int32_t rb_get_i32(const uint8_t *p)
{
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]);
}
static inline int16_t rb_get_i16(const uint8_t *p)
{
    return (int16_t)((p[0] << 8) | p[1]);
}
static inline void rb_put_i64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v = (int64_t)((uint64_t)v >> 8);
    }
}
static inline void rb_put_i32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

#endif
