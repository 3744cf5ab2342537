/* KIP-848 member reconciliation: how one consumer-group member moves from
 * its current assignment to its share of the group's target assignment
 * without two members ever owning a partition at once.  Kafka's
 * CurrentAssignmentBuilder (group-coordinator, modern/consumer) plus the
 * heartbeat's member-epoch check and the group's partition-epoch table, as
 * a pure state machine: no I/O, no clock, no coordinator types, so the
 * ConsumerGroupHeartbeat handler can call it and persist what it returns.
 *
 * Vocabulary (Kafka's):
 *   member epoch            the epoch of the assignment the member runs; it
 *                           catches up with the target assignment epoch
 *                           once the member has revoked what it must give up;
 *   assigned partitions     what the member may own now;
 *   pending revocation      what it owns but must give up before it may
 *                           move to the target epoch;
 *   unreleased partitions   target partitions still owned by another
 *                           member (its partition epoch is not -1): the
 *                           member waits for them in UNRELEASED_PARTITIONS.
 *
 * Topic-partitions are (Kafka topic id, partition) pairs kept in sorted,
 * duplicate-free arrays.  Threads: none of this is shared; the caller owns
 * every struct. */
#ifndef SLUICE_CONSUMER_GROUP_RECONCILE_H
#define SLUICE_CONSUMER_GROUP_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's MemberState (persisted in ConsumerGroupCurrentMemberAssignment). */
enum cgr_state {
    CGR_STABLE = 0,
    CGR_UNREVOKED_PARTITIONS = 1,
    CGR_UNRELEASED_PARTITIONS = 2,
    CGR_UNKNOWN = 127,
};

/* Kafka error codes returned here. */
#define CGR_FENCED_MEMBER_EPOCH 110

struct cgr_tp {
    uint8_t topic_id[16];
    int32_t partition;
};

/* A sorted set of topic-partitions (by topic id bytes, then partition). */
struct cgr_set {
    struct cgr_tp *v;
    size_t n, cap;
};

/* -------- sets -------- */

void cgr_set_free(struct cgr_set *s);
/* Adds tp (keeps the order; no-op when present).  0 or -1 (ENOMEM). */
int cgr_set_add(struct cgr_set *s, const uint8_t topic_id[16], int32_t partition);
int cgr_set_contains(const struct cgr_set *s, const uint8_t topic_id[16], int32_t partition);
/* Sorts and dedups an array filled in any order (e.g. from a request). */
void cgr_set_normalize(struct cgr_set *s);
int cgr_set_copy(struct cgr_set *dst, const struct cgr_set *src);
int cgr_set_equal(const struct cgr_set *a, const struct cgr_set *b);
/* a is a subset of b */
int cgr_set_subset(const struct cgr_set *a, const struct cgr_set *b);

/* -------- the member -------- */

struct cgr_member {
    enum cgr_state state;
    int32_t member_epoch;
    int32_t previous_member_epoch;
    struct cgr_set assigned;
    struct cgr_set pending_revocation;
};

void cgr_member_free(struct cgr_member *m);
int cgr_member_copy(struct cgr_member *dst, const struct cgr_member *src);

/* The current owner epoch of a partition in the group, or -1 when no member
 * owns it (Kafka's ConsumerGroup.currentPartitionEpoch). */
typedef int32_t (*cgr_partition_epoch_fn)(void *ud, const uint8_t topic_id[16], int32_t partition);

struct cgr_input {
    int32_t target_epoch;          /* the group's target assignment epoch */
    const struct cgr_set *target;  /* this member's part of the target */
    /* Topics the member subscribes to (sorted 16-byte ids), or NULL: when
     * set, target partitions of other topics are treated as not targeted,
     * so a stale target never hands out an unsubscribed topic. */
    const uint8_t (*subscribed)[16];
    size_t nsubscribed;
    cgr_partition_epoch_fn partition_epoch;
    void *partition_epoch_ud;
    /* TopicPartitions of the heartbeat, or NULL when the member did not
     * send them (then it is assumed to still own everything). */
    const struct cgr_set *owned;
};

/* One reconciliation step (CurrentAssignmentBuilder.build): computes the
 * member's next state into *next (which must be zeroed or freed; it is
 * always written, as a copy of *cur when nothing changes) and sets
 * *changed.  Returns 0, CGR_FENCED_MEMBER_EPOCH for a member in UNKNOWN
 * state that still claims partitions (it must rejoin), or -1 on ENOMEM. */
int cgr_reconcile(const struct cgr_member *cur, const struct cgr_input *in, struct cgr_member *next,
                  int *changed);

/* ConsumerGroupHeartbeat's member-epoch check (throwIfMemberEpochIsInvalid):
 * 0 when `received` equals the member epoch, or is the previous epoch with
 * `owned` reported and a subset of the assigned partitions (the response that
 * bumped the epoch may have been lost); otherwise CGR_FENCED_MEMBER_EPOCH with
 * Kafka's message in err. */
int cgr_check_member_epoch(const struct cgr_member *m, int32_t received,
                           const struct cgr_set *owned, char *err, size_t errlen);

/* -------- the group's partition epochs -------- */

/* (topic, partition) -> epoch of the member that owns it (assigned or
 * pending revocation).  What partition_epoch looks up. */
struct cgr_epochs {
    struct cgr_epoch_slot *slots;
    size_t cap, n;
};

void cgr_epochs_free(struct cgr_epochs *e);
int32_t cgr_epochs_get(const struct cgr_epochs *e, const uint8_t topic_id[16], int32_t partition);
/* A cgr_partition_epoch_fn over a struct cgr_epochs (ud). */
int32_t cgr_epochs_lookup(void *ud, const uint8_t topic_id[16], int32_t partition);

/* Applies a member's transition to the table: drops the epochs of old's
 * assigned and pending partitions (only where they still carry old's epoch)
 * then records next's at next->member_epoch.  old may be NULL (a new
 * member) and next may be NULL (a member leaving or fenced).  Returns 0, -1
 * on ENOMEM, or -2 when a partition of next is still owned at another epoch
 * by someone else (Kafka's IllegalStateException: a bug, never a client
 * error); the table is unchanged on -2. */
int cgr_epochs_update(struct cgr_epochs *e, const struct cgr_member *old,
                      const struct cgr_member *next);

#endif
