/* The records of __transaction_state in Kafka's own formats (the
 * transaction-coordinator JSON schemas), framed as Kafka's TransactionLog
 * does, so Kafka's tools and anything that reads the topic understand them:
 *   key   = int16 key version 0 (CoordinatorRecordType.TRANSACTION_LOG)
 *           + TransactionLogKey v0 (TransactionalId)
 *   value = int16 value version + TransactionLogValue at that version;
 *           a null value is the tombstone of an expired transactional id.
 * Sluice writes value version 0 (transaction.version 1: no tagged fields),
 * and reads 0 and 1.  The partitions are null in state Empty and grouped
 * by topic otherwise, like TransactionLog.valueToBytes. */
#ifndef SLUICE_TXN_RECORDS_H
#define SLUICE_TXN_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/kafka_schema.h"
#include "util/arena.h"
#include "util/wire.h"

#define TXN_RECORD_KEY_VERSION 0
#define TXN_RECORD_VALUE_VERSION 0

struct txn_meta;

struct txn_record {
    struct kp_str transactional_id;
    bool tombstone;
    int16_t value_version;
    struct kp_TransactionLogValue value; /* valid unless tombstone */
};

/* Decodes one record (key/value as stored; value NULL or vlen < 0 for a
 * tombstone).  Strings and arrays go into a.  Returns 0, 1 when the key is
 * not a transaction log key (another key version: skipped, as Kafka's
 * loader does), or -1 when malformed. */
int txn_record_decode(const uint8_t *key, int32_t klen, const uint8_t *val, int32_t vlen,
                      struct kp_arena *a, struct txn_record *out);

/* Encoders append to w (check w->err). */
void txn_record_encode_key(struct wire_writer *w, const char *transactional_id);
/* The value of m at TXN_RECORD_VALUE_VERSION; -1 when it does not encode
 * (out of memory, or partitions in state Empty). */
int txn_record_encode_value(struct wire_writer *w, const struct txn_meta *m);

#endif
