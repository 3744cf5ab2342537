/* Committed offsets, per group and partition: the in-memory view of the
 * OffsetCommit records in __consumer_offsets.  Kept apart from the group
 * membership objects (as Kafka 4's OffsetMetadataManager is) so classic
 * groups, KIP-848 consumer groups and simple (group-less) committers all
 * share it, and TxnOffsetCommit can later add per-producer pending offsets
 * that become committed when the transaction marker arrives.
 *
 * A slot also counts commits written but not yet durable ("pending"), so
 * offset expiry never tombstones a partition whose newer commit is still
 * on its way to disk (Kafka's pendingOffsetCommits). */
#ifndef SLUICE_GROUP_OFFSET_STORE_H
#define SLUICE_GROUP_OFFSET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strmap.h"

struct offset_entry {
    int64_t offset;
    int32_t leader_epoch; /* -1: none */
    char *metadata;       /* never NULL ("" for none) */
    int64_t commit_ts;
    int64_t expire_ts;    /* -1: expiry by offsets.retention.minutes */
    /* Order of the record's append to __consumer_offsets (Kafka compares
     * appendedBatchOffset): a committed transaction's offset replaces a
     * committed one only when it was appended later.  0: unknown. */
    uint64_t append_seq;
};

struct offset_slot {
    char *key; /* "<partition>:<topic>" */
    const char *topic;
    int32_t partition;
    bool committed;
    int pending;
    struct offset_entry e;
};

/* A TxnOffsetCommit offset waiting for its transaction's marker on the
 * __consumer_offsets partition (Kafka's pendingTransactionalOffsetCommits):
 * invisible to OffsetFetch, UNSTABLE_OFFSET_COMMIT with RequireStable. */
struct offset_txn_pending {
    struct offset_txn_pending *next;
    char *group, *topic;
    int32_t partition;
    int64_t producer_id;
    int32_t offsets_partition; /* the __consumer_offsets partition of the group */
    bool appended;             /* its record is in the log (else still being written) */
    struct offset_entry e;
};

struct offset_store {
    struct strmap groups; /* group id -> struct group_offsets * */
    struct offset_txn_pending *txn_pending;
    uint64_t append_seq;  /* last sequence handed out (offset_store_next_seq) */
};

void offset_store_init(struct offset_store *s);
void offset_store_free(struct offset_store *s);

/* The committed entry, or NULL. */
const struct offset_entry *offset_store_get(const struct offset_store *s, const char *group,
                                            const char *topic, int32_t partition);
/* The slot (created when create is set), or NULL (absent, out of memory). */
struct offset_slot *offset_store_slot(struct offset_store *s, const char *group,
                                      const char *topic, int32_t partition, bool create);
/* Stores a copy of e as the committed value.  0 or -1 (out of memory). */
int offset_store_put(struct offset_store *s, const char *group, const char *topic,
                     int32_t partition, const struct offset_entry *e);
/* Forgets the committed value (a tombstone).  true when there was one. */
bool offset_store_delete(struct offset_store *s, const char *group, const char *topic,
                         int32_t partition);
/* A commit in flight on sl finished (applied or not): the slot may go. */
void offset_store_unpend(struct offset_store *s, const char *group, struct offset_slot *sl);
/* Committed partitions of group. */
size_t offset_store_count(const struct offset_store *s, const char *group);
void offset_store_delete_group(struct offset_store *s, const char *group);
/* Iterate the committed slots of a group: *it starts at 0. */
struct offset_slot *offset_store_next(const struct offset_store *s, const char *group,
                                      size_t *it);
/* The next append sequence (one per batch written or replayed). */
uint64_t offset_store_next_seq(struct offset_store *s);

/* Transactional offsets.  add: a copy of e pending for producer_id
 * (replacing its earlier pending offset of that partition); NULL when out
 * of memory.  complete: the marker for producer_id on offsets_partition
 * commits (the pending offsets become committed) or aborts them; returns
 * how many were applied.  has_pending: any producer's offset pending for
 * the partition. */
struct offset_txn_pending *offset_store_txn_add(struct offset_store *s, const char *group,
                                                const char *topic, int32_t partition,
                                                int64_t producer_id, int32_t offsets_partition,
                                                const struct offset_entry *e);
/* The write of p failed: forget it (Kafka's failPendingTxnOffsetCommit). */
void offset_store_txn_fail(struct offset_store *s, struct offset_txn_pending *p);
size_t offset_store_txn_complete(struct offset_store *s, int32_t offsets_partition,
                                 int64_t producer_id, bool commit);
bool offset_store_txn_has_pending(const struct offset_store *s, const char *group,
                                  const char *topic, int32_t partition);

/* Iterate group ids that have any slot. */
const char *offset_store_next_group(const struct offset_store *s, size_t *it);

#endif
