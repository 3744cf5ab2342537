/* Sluice plugin ABI: consumer-group partition assignors (SLUICE_KIND_ASSIGNOR),
 * added in ABI 1.1.  Included by <sluice/plugin.h>; see the changelog there.
 *
 * An assignor computes the TARGET assignment of a KIP-848 consumer group: the
 * coordinator describes the group (members, their subscriptions, racks and
 * current target) and the subscribed topics (partition counts, replica
 * racks), and the assignor says which member should own every partition.
 * This is Kafka's server-side ConsumerGroupPartitionAssignor
 * (assign(GroupSpec, SubscribedTopicDescriber) -> GroupAssignment) in plain C.
 *
 * Names.  An assignor is known by the name it registers ("range",
 * "uniform", ...).  The broker config `group.consumer.assignors` lists the
 * enabled names, the first being the default; a member asks for another with
 * the ConsumerGroupHeartbeat `ServerAssignor` field and gets
 * UNSUPPORTED_ASSIGNOR when that name is not enabled.  When members ask for
 * different ones the group uses the name most members ask for (Kafka's
 * computePreferredServerAssignor).  A module may register several names (the
 * sticky module is also Kafka's "uniform").
 *
 * Indexes, not strings.  Members, topics and racks are given as arrays and
 * refer to each other by index, so an assignor never hashes a string on the
 * hot path: member i is group->members[i], topic t is group->topics[t], rack
 * r is group->racks[r].  Arrays of structs are passed as arrays of POINTERS
 * so that each element can carry its own struct_size (a host built against a
 * later minor may hand bigger structs to an older module).
 *
 * Ownership.  Everything reachable from `group` is owned by the host and
 * borrowed for the duration of one call; the assignor must not keep any
 * pointer into it after returning, nor write to it.  The output goes into
 * `out`, a host-owned struct whose owner arrays the host allocated and filled
 * with SLUICE_ASSIGNOR_UNASSIGNED before the call; the assignor only writes
 * cells of those arrays.  Scratch memory is the assignor's own business
 * (host->alloc/free or malloc) and must be released before returning.
 *
 * Threads.  assign() and next_step() may be called from ANY broker thread:
 * the coordinator runs small groups inline on its event loop and hands large
 * ones to a worker thread, and several groups may be assigned concurrently
 * with the same ops.  Therefore the `state` given to register_assignor must
 * be immutable after init (or internally synchronized), the callbacks must be
 * reentrant, must not block on I/O, and may call only the host functions
 * that are safe from any thread (log, vlog, alloc, free).  They are never
 * called after fini has started.
 *
 * Output checks.  The host validates every result before using it: an
 * owner index out of range, a partition given to a member that does not
 * subscribe to its topic, or (for next_step) a partition handed to a member
 * while another one still owns it, makes the host drop the result and keep
 * the previous target.  assign() must give every partition of every topic
 * that has at least one subscriber to one of its subscribers (the host
 * rejects a result that leaves one out); partitions of topics nobody
 * subscribes to stay SLUICE_ASSIGNOR_UNASSIGNED. */
#ifndef SLUICE_ASSIGNOR_H
#define SLUICE_ASSIGNOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Owner value meaning "no member" (input and output owner arrays). */
#define SLUICE_ASSIGNOR_UNASSIGNED (-1)
/* Member rack value meaning "the member did not say" (no client.rack). */
#define SLUICE_ASSIGNOR_NO_RACK (-1)

/* One topic that at least one member subscribes to (Kafka's
 * SubscribedTopicDescriber entry). */
struct sluice_assignor_topic {
    size_t struct_size; /* sizeof(struct sluice_assignor_topic) in the host */
    uint8_t id[16];     /* Kafka topic id (Uuid) */
    const char *name;   /* topic name, NUL-terminated */
    int32_t num_partitions; /* >= 1; partitions are 0 .. num_partitions-1 */

    /* Current owner of each partition in the group's CURRENT TARGET
     * assignment (what the previous assign() produced, as the coordinator
     * persisted it): a member index, or SLUICE_ASSIGNOR_UNASSIGNED.  This is
     * the stickiness input.  The host has already mapped members that left
     * the group to SLUICE_ASSIGNOR_UNASSIGNED, so every other value is a
     * valid index; a partition has at most one owner by construction.  It
     * may name a member that no longer subscribes to the topic; assignors
     * must not keep such a partition with that member.  NULL when no
     * partition of the topic is owned.
     *
     * In next_step() this array is instead what each member OWNS right now
     * (partitions it has acknowledged and not yet revoked). */
    const int32_t *current_owner;

    /* Racks of each partition's replicas (KIP-881), or both NULL when no
     * rack is known for this topic.  The racks of partition p are
     *     rack_ids[rack_offsets[p]] .. rack_ids[rack_offsets[p + 1] - 1]
     * (indexes into group->racks, ascending, no duplicates); rack_offsets
     * has num_partitions + 1 entries.  A partition with no rack listed has
     * an empty range.  Replicas offline or out of ISR are included, as in
     * Kafka, so a transient outage does not reshuffle the group. */
    const uint32_t *rack_offsets;
    const int32_t *rack_ids;
};

/* One member of the group (Kafka's MemberSubscriptionSpec plus the member
 * identity the classic range assignor sorts by). */
struct sluice_assignor_member {
    size_t struct_size;      /* sizeof(struct sluice_assignor_member) in the host */
    const char *member_id;   /* Kafka member id (a Uuid string), never NULL */
    const char *instance_id; /* group.instance.id of a static member, or NULL */
    int32_t rack;            /* index into group->racks, or SLUICE_ASSIGNOR_NO_RACK */
    uint32_t num_topics;     /* number of subscribed topics, may be 0 */
    const uint32_t *topics;  /* subscribed topics: indexes into group->topics,
                              * strictly ascending (NULL when num_topics == 0).
                              * Names and regexes were already resolved to the
                              * topics that exist. */
};

/* The whole input of one assignment (Kafka's GroupSpec + describer). */
struct sluice_assignor_group {
    size_t struct_size;  /* sizeof(struct sluice_assignor_group) in the host */
    const char *group_id;
    int32_t group_epoch; /* the epoch the new target assignment is for */

    uint32_t num_members;
    const struct sluice_assignor_member *const *members; /* [num_members] */

    uint32_t num_topics;
    const struct sluice_assignor_topic *const *topics; /* [num_topics] */

    uint32_t num_racks;
    const char *const *racks; /* [num_racks] distinct rack names */
};

/* Where the assignor writes its answer.  The host allocates owner[t] with
 * group->topics[t]->num_partitions cells, all SLUICE_ASSIGNOR_UNASSIGNED,
 * and the assignor stores the member index that should own each partition.
 * The host frees the arrays; the assignor never (re)allocates them. */
struct sluice_assignor_result {
    size_t struct_size;     /* sizeof(struct sluice_assignor_result) in the host */
    uint32_t num_topics;    /* == group->num_topics */
    int32_t *const *owner;  /* owner[t][p] */
};

/* A partition assignor, registered from init() with host->register_assignor().
 * The host copies this struct (only the first struct_size bytes it knows), so
 * it may live in read-only static storage; `name` must stay valid until fini.
 *
 * Return 0, or a negative SLUICE_ERR_* with a message in err (always
 * NUL-terminated when errlen > 0):
 *   SLUICE_ERR_INVALID  the input breaks the rules above (index out of
 *                       range, unsorted subscription, ...), Kafka's
 *                       PartitionAssignorException;
 *   SLUICE_ERR_NOMEM    scratch allocation failed.
 * On failure the host ignores `out` and keeps the previous target.  */
struct sluice_assignor_ops {
    size_t struct_size; /* sizeof(struct sluice_assignor_ops) at build time */
    const char *name;   /* [a-z0-9._-]{1,64}, e.g. "range", "uniform", "cooperative-sticky" */

    /* --- ABI 1.1 --- */

    /* Computes the target assignment of `group` into `out`.  Must be a pure
     * function of its input (the same input gives the same output), so a
     * coordinator that replays its log computes the same targets. */
    int (*assign)(void *state, const struct sluice_assignor_group *group,
                  struct sluice_assignor_result *out, char *err, size_t errlen);

    /* Optional (NULL: the host uses its own, identical rule).  Computes the
     * next SAFE ownership on the way from the current ownership
     * (group->topics[t]->current_owner, what members own now) to `target`
     * (a previous assign() result for the same group), for cooperative
     * rebalancing: a partition that changes hands is first revoked from its
     * old owner in one step and given to its new owner only in a later step,
     * once nobody owns it.  For every partition the result must be the
     * current owner, SLUICE_ASSIGNOR_UNASSIGNED, or, only when the partition
     * is currently unowned, its target owner.  Applying next_step until
     * nothing changes must reach `target`. */
    int (*next_step)(void *state, const struct sluice_assignor_group *group,
                     const struct sluice_assignor_result *target,
                     struct sluice_assignor_result *out, char *err, size_t errlen);
};

/* Smallest struct_size accepted by register_assignor (everything up to assign). */
#define SLUICE_ASSIGNOR_OPS_MIN_SIZE_V1_1                                                          \
    (offsetof(struct sluice_assignor_ops, assign) + sizeof(((struct sluice_assignor_ops *)0)->assign))

/* True when a host struct `s` of type `type` (which starts with struct_size)
 * contains `member`: use before reading members added after the minor the
 * module was built for. */
#define SLUICE_ASSIGNOR_HAS(type, s, member)                                                       \
    ((s)->struct_size >= offsetof(type, member) + sizeof(((type *)0)->member))

#ifdef __cplusplus
}
#endif

#endif
