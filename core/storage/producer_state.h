/* Per-partition producer state for idempotent producers: Kafka's
 * ProducerStateManager / ProducerStateEntry / ProducerAppendInfo.
 *
 * For every producer id that wrote to the partition it keeps the epoch and
 * the metadata of its last 5 batches (last sequence, last offset, offset
 * delta, max timestamp).  An append is checked against it before anything
 * is written:
 *   - a batch whose epoch and exact sequence range match one of the 5 is a
 *     retry of a batch already in the log: the append is skipped and the
 *     original offsets are returned (PSTATE_DUPLICATE), like Kafka;
 *   - an epoch below the current one → INVALID_PRODUCER_EPOCH;
 *   - a new (higher) epoch must start at sequence 0, else
 *     OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - the same epoch must continue at last sequence + 1 (INT32_MAX wraps to
 *     0), else OUT_OF_ORDER_SEQUENCE_NUMBER (this is also what a retry of a
 *     batch older than the last 5 gets);
 *   - a producer id the partition does not know (never wrote, or expired)
 *     is accepted at any sequence: since KIP-360 (Kafka 2.5) the broker
 *     never answers Produce with UNKNOWN_PRODUCER_ID.
 *
 * Snapshots: Kafka's "<offset>.snapshot" files (version 1, CRC-32C, one
 * 46-byte entry per record) beside the segments, holding the state of
 * everything below <offset>.  Kafka writes one entry per producer (its last
 * batch); Sluice writes one entry per retained batch, oldest first, so its
 * own reader restores all 5 while Kafka's reader, which keeps the last
 * entry per producer id, still reads a valid state from the same file.
 *
 * Nothing here runs off the loop thread; see partition_log.c for when
 * snapshots are written, loaded and deleted. */
#ifndef SLUICE_PRODUCER_STATE_H
#define SLUICE_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>

struct flusher;
struct segment;
struct producer_state;

#define PSTATE_NUM_BATCHES 5 /* ProducerStateEntry.NUM_BATCHES_TO_RETAIN */
#define PSTATE_SNAPSHOT_VERSION 1
#define PSTATE_SNAPSHOT_HEADER 10 /* version i16, crc u32, entry count i32 */
#define PSTATE_SNAPSHOT_ENTRY 46
/* pstate_check_append: the append is a retry of batches already stored
 * (outside the range of Kafka error codes, which include -1). */
#define PSTATE_DUPLICATE 0x7000

/* Kafka's BatchMetadata. */
struct pstate_batch {
    int32_t last_seq;
    int32_t offset_delta; /* last offset - first offset */
    int64_t last_offset;
    int64_t timestamp;    /* the batch's maxTimestamp as stored */
};

struct pstate_entry {
    int64_t producer_id;
    int16_t epoch;             /* -1: none yet */
    int nbatches;              /* b[0] oldest */
    struct pstate_batch b[PSTATE_NUM_BATCHES];
    int64_t last_timestamp;    /* for producer.id.expiration.ms */
    int32_t coordinator_epoch; /* -1 until transaction markers exist */
    int64_t txn_first_offset;  /* -1: no ongoing transaction */
};

/* Sequence arithmetic of DefaultRecordBatch (wraps at INT32_MAX to 0). */
int32_t pstate_seq_add(int32_t seq, int32_t n);
int32_t pstate_seq_sub(int32_t seq, int32_t n);
static inline int32_t pstate_batch_first_seq(const struct pstate_batch *b)
{
    return pstate_seq_sub(b->last_seq, b->offset_delta);
}
static inline int64_t pstate_batch_first_offset(const struct pstate_batch *b)
{
    return b->last_offset - b->offset_delta;
}

struct producer_state *pstate_new(void);
void pstate_free(struct producer_state *ps);
size_t pstate_count(const struct producer_state *ps);
/* The entry of producer_id or NULL.  Valid until the state changes. */
const struct pstate_entry *pstate_get(const struct producer_state *ps, int64_t producer_id);
/* Iterate: for (size_t it = 0; (e = pstate_next(ps, &it));) */
const struct pstate_entry *pstate_next(const struct producer_state *ps, size_t *iter);
/* Offset below which every batch is reflected in the state. */
int64_t pstate_map_end_offset(const struct producer_state *ps);

/* ---- appends ---------------------------------------------------------- */

/* One producer's entry as an append would leave it: Kafka's updatedEntry
 * (current epoch and txn state, only the batches of this append) plus the
 * facts about the current entry the sequence check needs. */
struct pstate_staged {
    struct pstate_entry upd;
    int16_t cur_epoch;    /* -1 when the producer is unknown */
    int32_t cur_last_seq; /* -1 when it has no batches */
};

/* A transaction ended by a marker (Kafka's CompletedTxn): first offset of
 * its data, last_offset = the marker's offset. */
struct pstate_completed {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset;
    int abort;
};

/* The entries an append changes, staged until the write succeeded.  Holds
 * one producer inline so the common single-batch append does not
 * allocate; do not copy an initialised txn. */
struct pstate_txn {
    struct pstate_staged *v;
    size_t n, cap;
    struct pstate_staged one;
    /* Transactions the append's markers end, in offset order (only
     * non-empty ones, like Kafka: an empty transaction has no index entry). */
    struct pstate_completed *done;
    size_t ndone, done_cap;
    struct pstate_completed done_one;
};
void pstate_txn_init(struct pstate_txn *tx);
void pstate_txn_free(struct pstate_txn *tx);

/* Check every batch of an append blob (complete, validated batches) in
 * order.  first_offset is the offset the first batch will get; batch_ts[i]
 * the maxTimestamp batch i will be stored with.  client=1 is a producer's
 * append (duplicate detection and sequence checks); client=0 a broker
 * write (only the epoch is checked, like Kafka's coordinator origin, and
 * a marker's coordinator epoch: TRANSACTION_COORDINATOR_FENCED when older
 * than the producer's).  A transactional batch starts the producer's
 * transaction at its first offset; a marker ends it (tx->done).
 * Returns 0 (changes staged in tx), PSTATE_DUPLICATE (*dup: the stored
 * batch; nothing staged) or a Kafka error code with detail in msg. */
int pstate_check_append(const struct producer_state *ps, struct pstate_txn *tx,
                        const uint8_t *records, size_t len, int64_t first_offset,
                        const int64_t *batch_ts, int client, struct pstate_batch *dup, char *msg,
                        size_t msglen);
/* The write succeeded: apply the staged changes; end is the new log end. */
void pstate_commit(struct producer_state *ps, struct pstate_txn *tx, int64_t end);

/* Earliest first offset of an ongoing transaction of a producer other than
 * exclude_pid (-1: none excluded), or -1 when there is none.  O(log n)
 * amortised (a min-heap of ongoing transactions; not const because it
 * drops ended ones from the heap as it meets them). */
int64_t pstate_first_unstable(struct producer_state *ps, int64_t exclude_pid);
/* Number of producers with an ongoing transaction. */
size_t pstate_ongoing(const struct producer_state *ps);

/* Kafka's lastStableOffset(completedTxn) once the marker is applied: the
 * first offset of the earliest other ongoing transaction (also counting
 * later transactions of `later`, ended further on in the same append),
 * else the marker's offset + 1. */
int64_t pstate_completed_lso(struct producer_state *ps, const struct pstate_completed *c,
                             const struct pstate_completed *later, size_t nlater);

/* Called for every non-empty transaction a replayed marker ends (before
 * the state forgets it), with Kafka's lastStableOffset for the index. */
typedef void (*pstate_completed_fn)(void *ud, const struct pstate_completed *c, int64_t lso);

/* Recovery: apply one stored batch without checks (Kafka's replication
 * origin).  The header (61 bytes) is read, and for a control batch the
 * whole batch (avail must cover it, else it counts as an empty marker). */
void pstate_replay_batch(struct producer_state *ps, const uint8_t *batch, size_t avail,
                         pstate_completed_fn cb, void *ud);

/* Drop producers idle for expiration_ms (Kafka's removeExpiredProducers:
 * now - lastTimestamp >= producer.id.expiration.ms, no ongoing transaction).
 * Returns how many were removed. */
size_t pstate_remove_expired(struct producer_state *ps, int64_t now_ms, int64_t expiration_ms);

/* ---- snapshots -------------------------------------------------------- */

/* Encode / decode Kafka's snapshot format.  encode: malloc'd buffer.
 * decode: replaces the state; returns 0 or -1 with err (the state is then
 * empty).  map_end is the snapshot's offset. */
int pstate_snapshot_encode(const struct producer_state *ps, uint8_t **out, size_t *len);
int pstate_snapshot_decode(struct producer_state *ps, const uint8_t *buf, size_t len,
                           int64_t map_end, char *err, size_t errlen);

/* Write "<dir>/<offset %020>.snapshot" atomically (tmp + rename).  With a
 * flusher the fsync runs on its thread and the rename follows it; without,
 * everything is synchronous (shutdown).  Returns 0 or -errno. */
int pstate_snapshot_write(const struct producer_state *ps, const char *dir, int64_t offset,
                          struct flusher *fl);
/* Remove the snapshot at offset, if any (its segment was deleted). */
void pstate_snapshot_delete(const char *dir, int64_t offset);

/* Open-time load: drop snapshots past the log end, stray ones (Kafka's
 * removeStraySnapshots) and corrupt ones; load the newest valid one; then
 * replay the batches from it (or from the log start when there is none)
 * to log_end.  After a clean shutdown with no snapshot at all the log is
 * not scanned (Kafka's upgrade shortcut: such a log predates idempotence).
 * rebuild_from (INT64_MAX: none): the base of the first segment whose
 * aborted-transaction index must be rebuilt; snapshots above it are
 * dropped (Kafka's recoverSegment reloads state at the segment base) so the
 * replay passes every such segment, and cb gets each completed
 * transaction replayed.  segs: the open segments in offset order.
 * Returns 0 or -1 with err. */
int pstate_load(struct producer_state *ps, const char *dir, struct segment *const *segs,
                size_t nsegs, int64_t log_start, int64_t log_end, int clean,
                int64_t rebuild_from, pstate_completed_fn cb, void *ud, char *err,
                size_t errlen);

#endif
