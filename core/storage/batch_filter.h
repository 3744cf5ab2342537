/* Filtering one stored record batch for the log cleaner (Kafka's
 * MemoryRecords.filterTo for one batch):
 *
 *  - check_batch decides the batch's fate first: DELETE (drop it without
 *    looking at its records), DELETE_EMPTY (drop it if no record survives)
 *    or RETAIN_EMPTY (keep at least an empty header, which preserves the
 *    batch's last offset, producer id/epoch and sequence);
 *  - retain_record then decides each record;
 *  - a batch whose records all survive and needs no new delete horizon is
 *    copied byte for byte (compressed batches stay exactly as stored);
 *  - otherwise the surviving records are re-encoded into a new batch with
 *    the same base offset, last offset delta, producer fields, leader epoch
 *    and codec (re-compressed through `comp`); offsets keep their gaps;
 *  - KIP-534: the first time a batch holding tombstones (or a marker of a
 *    transaction that left no data) is cleaned, its baseTimestamp becomes
 *    the delete horizon (now + delete.retention.ms) and the
 *    DELETE_HORIZON attribute is set; a later cleaning after the horizon
 *    removes those tombstones (the caller's retain_record decides that
 *    from rb_delete_horizon());
 *  - a batch left with no record under RETAIN_EMPTY becomes Kafka's empty
 *    header (DefaultRecordBatch.writeEmptyHeader): 61 bytes, count 0.
 *
 * Pure function of its inputs: callable from any thread. */
#ifndef SLUICE_BATCH_FILTER_H
#define SLUICE_BATCH_FILTER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/record_batch.h"
#include "util/wire.h"

/* Same contract as module_registry_compress; level BF_CODEC_LEVEL_DEFAULT
 * (== SLUICE_CODEC_LEVEL_DEFAULT) is the codec's configured level. */
typedef int (*rb_compress_fn)(void *ctx, int codec, int level, const uint8_t *in, size_t inlen,
                              uint8_t **out, size_t *outlen);
#define BF_CODEC_LEVEL_DEFAULT INT_MIN

enum bf_retention { BF_DELETE = 0, BF_RETAIN_EMPTY = 1, BF_DELETE_EMPTY = 2 };

struct bf_filter {
    int64_t now_ms;
    int64_t delete_retention_ms;
    /* *marker_for_empty_txn: set for a control batch whose transaction
     * has no data left, so its delete horizon gets set (Kafka's
     * containsMarkerForEmptyTxn). */
    enum bf_retention (*check_batch)(void *ud, const struct rb_header *h, const uint8_t *batch,
                                     size_t size, int *marker_for_empty_txn);
    int (*retain_record)(void *ud, const struct rb_header *h, const struct rb_record *r);
    void *ud;
};

struct bf_result {
    int32_t records_read;
    int32_t records_retained;
    size_t bytes_written;    /* appended to out (0 when the batch went) */
    int copied;              /* the original bytes were kept as they are */
    int rebuilt;             /* a new batch was encoded */
    int64_t max_offset;      /* of retained records, -1 */
};

/* Filter the complete batch (size bytes, CRC already checked) into out.
 * Returns 0, or a Kafka error code (UNSUPPORTED_COMPRESSION_TYPE when the
 * codec is not available, CORRUPT_MESSAGE/INVALID_RECORD for bad data)
 * with detail in err; out is unchanged on error. */
int bf_filter_batch(const uint8_t *batch, size_t size, const struct bf_filter *f,
                    rb_decompress_fn dec, void *dec_ctx, rb_compress_fn comp, void *comp_ctx,
                    struct wire_writer *out, struct bf_result *res, char *err, size_t errlen);

/* Kafka's DefaultRecordBatch.writeEmptyHeader for batch header h. */
void bf_write_empty_header(struct wire_writer *out, const struct rb_header *h);

/* The batch's delete horizon (baseTimestamp when the DELETE_HORIZON
 * attribute is set), or -1. */
int64_t rb_delete_horizon(const struct rb_header *h);

#endif
