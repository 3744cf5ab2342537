/* Transaction markers: the control batches that end a transaction on a
 * partition (Kafka's EndTransactionMarker / ControlRecordType).
 *
 * A marker batch has the transactional and control attribute bits, the
 * producer id and epoch of the transaction, base sequence -1 and exactly
 * one record:
 *   key   = { version int16 (0), type int16 (0 ABORT, 1 COMMIT) }
 *   value = { version int16 (0), coordinatorEpoch int32 }
 * Kafka accepts newer key/value versions as long as the fields it knows are
 * there, and refuses negative versions, short keys/values and other types
 * (InvalidRecordException → INVALID_RECORD). */
#ifndef SLUICE_TXN_MARKER_H
#define SLUICE_TXN_MARKER_H

#include <stddef.h>
#include <stdint.h>

#include "storage/record_batch.h"

enum { TXN_MARKER_ABORT = 0, TXN_MARKER_COMMIT = 1 };

#define TXN_MARKER_KEY_SIZE 4
#define TXN_MARKER_VALUE_SIZE 6

/* Decode one control record.  Returns 0 with *type (ABORT/COMMIT) and
 * *coordinator_epoch set, or KP_ERR_INVALID_RECORD with a reason in err. */
int txn_marker_decode(const uint8_t *key, int32_t key_len, const uint8_t *value,
                      int32_t value_len, int *type, int32_t *coordinator_epoch, char *err,
                      size_t errlen);

/* The marker of a complete control batch (size bytes): 1 with the fields
 * set, 0 when the batch has no record (the cleaner emptied it), or a
 * negative Kafka error code (-KP_ERR_INVALID_RECORD, ...). */
int txn_marker_read_batch(const uint8_t *batch, size_t size, rb_decompress_fn dec, void *dec_ctx,
                          int *type, int32_t *coordinator_epoch);

/* A marker batch (base offset 0, CRC set), malloc'd; NULL when out of memory. */
uint8_t *txn_marker_build(int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                          int type, int64_t timestamp, size_t *len);

#endif
