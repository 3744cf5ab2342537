/* The transaction coordinator of this node, after Kafka's
 * TransactionCoordinator, TransactionStateManager and
 * TransactionMarkerChannelManager (transaction.version 1): every
 * transactional id (all __transaction_state partitions are led here), its
 * metadata (txn_state.h), the log of its transitions in __transaction_state
 * (txn_log.c), the commit/abort markers (txn_markers.c: written directly
 * into the partition logs, the same code path as WriteTxnMarkers, since
 * there is no other broker to send them to), the abort of timed-out
 * transactions and the expiry of idle transactional ids.
 *
 * Results go to callbacks, which may run before the call returns (an
 * immediate answer) or later (after the transition is durable). */
#ifndef SLUICE_TXN_COORDINATOR_H
#define SLUICE_TXN_COORDINATOR_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "txn/txn_state.h"
#include "util/strmap.h"

struct broker;
struct marker_job;

#define TXN_TOPIC "__transaction_state"

struct txn_coordinator {
    struct broker *b;
    struct strmap ids;          /* transactional id -> struct txn_entry * */
    bool active;                /* loaded and not shut down */
    int32_t coordinator_epoch;  /* the leader epoch of __transaction_state (one node: 0) */
    ev_timer abort_timer;       /* transaction.abort.timed.out.transaction.cleanup.interval.ms */
    ev_timer expire_timer;      /* transaction.remove.expired.transaction.cleanup.interval.ms */
    ev_timer marker_retry;      /* markers refused with a retriable error */
    struct marker_job *jobs;    /* transactions whose markers are being written */
};

/* Create the coordinator, replay __transaction_state if it exists, finish
 * the transactions found in PrepareCommit/PrepareAbort (markers written
 * again), start the timers.  Returns 0 or -1 with err. */
int txn_coordinator_start(struct broker *b, char *err, size_t errlen);
void txn_coordinator_stop(struct broker *b);

/* The __transaction_state partition of a transactional id
 * (Utils.abs(transactionalId.hashCode) % partition count). */
int32_t txn_partition_for(struct broker *b, const char *transactional_id);
struct txn_entry *txn_lookup(struct txn_coordinator *tc, const char *transactional_id);

typedef void (*txn_pid_cb)(void *ud, int16_t err, int64_t producer_id, int16_t epoch);
typedef void (*txn_done_cb)(void *ud, int16_t err);

/* handleInitProducerId with a transactional id.  expected_pid/epoch -1
 * when absent.  cb gets NONE with the id and epoch, or an error. */
void txn_init_producer_id(struct txn_coordinator *tc, const char *transactional_id,
                          int32_t timeout_ms, int64_t expected_pid, int16_t expected_epoch,
                          txn_pid_cb cb, void *ud);
/* handleAddPartitionsToTransaction (AddOffsetsToTxn adds the group's
 * __consumer_offsets partition). */
void txn_add_partitions(struct txn_coordinator *tc, const char *transactional_id, int64_t pid,
                        int16_t epoch, const struct txn_partitions *parts, txn_done_cb cb,
                        void *ud);
/* handleEndTransaction from a client. */
void txn_end(struct txn_coordinator *tc, const char *transactional_id, int64_t pid, int16_t epoch,
             bool commit, txn_done_cb cb, void *ud);
/* handleVerifyPartitionsInTransaction for one transaction: 0 and the
 * entry in *out (check each partition with txn_verify_partition), or a
 * Kafka error code for every partition. */
int16_t txn_verify(struct txn_coordinator *tc, const char *transactional_id, int64_t pid,
                   int16_t epoch, const struct txn_entry **out);

/* Kafka's KIP-890 check of a transactional batch before it is appended
 * (transaction.partition.verification.enable): NONE when the partition is
 * in the producer's ongoing transaction, else the error the Produce (or
 * TxnOffsetCommit) at `version` answers, as Kafka's ReplicaManager maps it.
 * transaction_abortable: the request version knows TRANSACTION_ABORTABLE. */
int16_t txn_verify_append(struct broker *b, const char *transactional_id, int64_t pid,
                          int16_t epoch, const char *topic, int32_t partition,
                          bool transaction_abortable);

/* Timer passes (exposed for tests). */
void txn_abort_timed_out(struct txn_coordinator *tc, int64_t now_ms);
void txn_expire_ids(struct txn_coordinator *tc, int64_t now_ms);

/* ---- txn_log.c: __transaction_state -------------------------------------- */

struct broker_topic;
/* The topic, created now if missing (FindCoordinator for a transaction key
 * or the first write); NULL with *err (a Kafka code). */
struct broker_topic *txn_topic_ensure(struct broker *b, int16_t *err);

/* Write the transit of e (or a tombstone when m is NULL) to the id's
 * partition; done(ud, err) once durable per the topic's flush policy
 * (possibly before returning), with Kafka's appendTransactionToLog error
 * mapping applied. */
void txn_log_append(struct txn_coordinator *tc, const char *transactional_id,
                    const struct txn_meta *m, txn_done_cb done, void *ud);
/* Replay every partition (start-up).  0 or -1 with err. */
int txn_log_load(struct txn_coordinator *tc, char *err, size_t errlen);

/* ---- txn_markers.c ------------------------------------------------------- */

/* One marker into one partition: the path of WriteTxnMarkers and of the
 * coordinator's own markers.  A marker on __consumer_offsets completes the
 * producer's pending TxnOffsetCommit offsets there.  Returns a Kafka code. */
int16_t txn_write_marker(struct broker *b, const char *topic, int32_t partition,
                         int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                         bool commit);
/* e is in PrepareCommit/PrepareAbort with its Complete transit pending:
 * write the markers to its partitions, then the Complete record. */
void txn_markers_send(struct txn_coordinator *tc, struct txn_entry *e);
void txn_markers_stop(struct txn_coordinator *tc);

#endif
