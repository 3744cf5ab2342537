/* One transactional id's metadata and its state machine: Kafka's
 * TransactionMetadata / TxnTransitMetadata and the checks of
 * TransactionCoordinator (transaction.version 1 semantics).
 *
 * A change is two steps, as in Kafka: a prepare function checks the
 * request against the current metadata and, when something must be
 * written, fills a transit (the metadata to become current) and marks the
 * entry pending; once the transit is durable in __transaction_state,
 * txn_complete_transition makes it current (txn_abort_transition drops it
 * after a failed write).  While a transition is pending, other requests
 * get CONCURRENT_TRANSACTIONS.  Everything here is pure (no I/O, no
 * clock): the coordinator (txn_coordinator.c) drives it. */
#ifndef SLUICE_TXN_STATE_H
#define SLUICE_TXN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TransactionState ids, as stored in TransactionLogValue.TransactionStatus. */
enum txn_state {
    TXN_EMPTY = 0,
    TXN_ONGOING = 1,
    TXN_PREPARE_COMMIT = 2,
    TXN_PREPARE_ABORT = 3,
    TXN_COMPLETE_COMMIT = 4,
    TXN_COMPLETE_ABORT = 5,
    TXN_DEAD = 6,
    TXN_PREPARE_EPOCH_FENCE = 7,
};
#define TXN_STATE_COUNT 8
#define TXN_NO_PRODUCER_ID (-1LL)
#define TXN_NO_PRODUCER_EPOCH (-1)

/* Kafka's TransactionState.name ("Ongoing", ...); NULL when out of range. */
const char *txn_state_name(int state);
/* The state of a name, or -1. */
int txn_state_from_name(const char *name, size_t len);

struct txn_partition {
    char *topic;
    int32_t partition;
};

/* A set of partitions, sorted by (topic, partition). */
struct txn_partitions {
    struct txn_partition *v;
    size_t n, cap;
};
void txn_partitions_free(struct txn_partitions *s);
bool txn_partitions_contains(const struct txn_partitions *s, const char *topic, int32_t partition);
/* 0, or -1 out of memory.  Adding a member already present is a no-op. */
int txn_partitions_add(struct txn_partitions *s, const char *topic, int32_t partition);
int txn_partitions_copy(struct txn_partitions *dst, const struct txn_partitions *src);

struct txn_meta {
    int64_t producer_id;
    int64_t prev_producer_id; /* Kafka's previousProducerId (lastProducerId) */
    int16_t producer_epoch;
    int16_t last_producer_epoch; /* the epoch before the last bump (retries of InitProducerId) */
    int32_t timeout_ms;
    int state;                   /* enum txn_state */
    struct txn_partitions parts;
    int64_t start_ms;            /* txnStartTimestamp; -1 when none */
    int64_t last_update_ms;
};
void txn_meta_free(struct txn_meta *m);
/* Deep copy; 0 or -1 (out of memory). */
int txn_meta_copy(struct txn_meta *dst, const struct txn_meta *src);

struct txn_entry {
    char *id;
    struct txn_meta cur;
    bool pending;            /* a transition is being written */
    int pending_state;       /* its target state (PrepareEpochFence is never written) */
    struct txn_meta transit; /* valid while pending */
    bool failed_epoch_fence; /* hasFailedEpochFence: do not bump twice */
};

/* A new entry in state Empty (epoch -1, as before the first InitProducerId). */
struct txn_entry *txn_entry_new(const char *id, int64_t producer_id, int32_t timeout_ms,
                                int64_t now_ms);
void txn_entry_free(struct txn_entry *e);

/* isProducerEpochExhausted: the epoch cannot be bumped twice more. */
bool txn_epoch_exhausted(int16_t epoch);

/* Applies the pending transit (its write is durable). */
void txn_complete_transition(struct txn_entry *e);
/* Drops the pending transit (its write failed). */
void txn_abort_transition(struct txn_entry *e);

/* ---- prepares: 0 (transit pending), TXN_NO_WRITE (answer NONE, nothing
 * to write) or a Kafka error code ------------------------------------- */
#define TXN_NO_WRITE (-0x7000)
/* InitProducerId needs a fresh producer id first (the transactional id's
 * epoch is exhausted): call again with new_producer_id set. */
#define TXN_NEED_PRODUCER_ID (-0x7001)

/* InitProducerId (prepareInitProducerIdTransit).  expected_pid/epoch: -1
 * when the request carries none (v0-2 or a fresh producer).
 * new_producer_id: -1, or an id allocated after TXN_NEED_PRODUCER_ID.
 * State Ongoing gives a PrepareEpochFence transit: the caller must abort
 * the transaction (txn_prepare_end, from_client=false) and answer
 * CONCURRENT_TRANSACTIONS. */
int txn_prepare_init_pid(struct txn_entry *e, int32_t timeout_ms, int64_t expected_pid,
                         int16_t expected_epoch, int64_t new_producer_id, int64_t now_ms);
/* AddPartitionsToTxn / AddOffsetsToTxn (prepareAddPartitions). */
int txn_prepare_add_partitions(struct txn_entry *e, int64_t pid, int16_t epoch,
                               const struct txn_partitions *parts, int64_t now_ms);
/* AddPartitionsToTxn verify-only: 0 and per-partition answers by
 * txn_verify_partition, or a Kafka error code for all of them. */
int txn_check_verify(const struct txn_entry *e, int64_t pid, int16_t epoch);
int16_t txn_verify_partition(const struct txn_entry *e, const char *topic, int32_t partition);
/* EndTxn (endTransactionWithTV1): transit to PrepareCommit/PrepareAbort.
 * from_client=false is the coordinator's own abort (timeout, fencing). */
int txn_prepare_end(struct txn_entry *e, int64_t pid, int16_t epoch, bool commit,
                    bool from_client, int64_t now_ms);
/* After PrepareX is durable: transit to CompleteCommit/CompleteAbort
 * (prepareComplete), written once the markers are. */
int txn_prepare_complete(struct txn_entry *e, int64_t now_ms);
/* Timeout abort (prepareFenceProducerEpoch): PrepareEpochFence pending
 * with the bumped epoch, then txn_prepare_end(from_client=false). */
int txn_prepare_fence_epoch(struct txn_entry *e);
/* transactional.id.expiration.ms (prepareDead): true when e may be
 * removed now; then a Dead transit is pending (written as a tombstone). */
bool txn_prepare_dead(struct txn_entry *e, int64_t now_ms, int64_t expiration_ms);
/* Ongoing, no transition pending and started more than its timeout ago. */
bool txn_timed_out(const struct txn_entry *e, int64_t now_ms);

#endif
