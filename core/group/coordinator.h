/* The group coordinator of this node: every group (all offsets topic
 * partitions are led here), the committed offsets, their persistence in
 * __consumer_offsets through a writer, the load on start-up and offset
 * expiry.  It follows Kafka's GroupCoordinator/GroupMetadataManager: the
 * classic protocol's state machine is in classic_group.c, offsets in
 * offset_store.c, the records in group_records.c.
 *
 * Results go to callbacks, which may run before the call returns (an
 * immediate error) or later (a JoinGroup waiting for the rebalance, a
 * SyncGroup waiting for the leader, a commit waiting for fsync).  Pointers
 * in a result are valid only during the callback.
 *
 * Groups have a type so a KIP-848 "consumer" group can sit beside the
 * classic one in the same map: struct group is the common head, and each
 * type has its own struct that embeds it first. */
#ifndef SLUICE_GROUP_COORDINATOR_H
#define SLUICE_GROUP_COORDINATOR_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "group/offset_store.h"
#include "util/strmap.h"

struct sluice_logger;
struct module_registry;
struct kp_arena;
struct kp_ConsumerGroupHeartbeatRequest;
struct kp_ConsumerGroupHeartbeatResponse;
struct kp_ConsumerGroupDescribeResponse_DescribedGroup;

enum group_type {
    GROUP_TYPE_CLASSIC = 0,
    GROUP_TYPE_CONSUMER = 1, /* KIP-848 (consumer_group.c) */
};

struct group_coordinator;

struct group {
    char *id;
    int type;        /* enum group_type */
    uint64_t uid;    /* distinguishes a re-created group from its predecessor */
    struct group_coordinator *gc;
};

struct gc_config {
    int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms */
    int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms */
    int32_t max_size;                   /* group.max.size */
    int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms */
    int64_t offsets_retention_ms;       /* offsets.retention.minutes */
    int64_t retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    int32_t offset_metadata_max_bytes;  /* offset.metadata.max.bytes */
    /* KIP-848 consumer groups */
    int32_t consumer_session_timeout_ms;     /* group.consumer.session.timeout.ms */
    int32_t consumer_heartbeat_interval_ms;  /* group.consumer.heartbeat.interval.ms */
    int32_t consumer_max_size;               /* group.consumer.max.size */
    const char *consumer_assignors;          /* group.consumer.assignors (borrowed) */
};

/* What the coordinator needs to know about topics (KIP-848 groups address
 * partitions by topic id).  Callbacks fill *out and return true when the
 * topic exists; out->name stays valid until the loop returns. */
struct gc_topic_info {
    uint8_t id[16];
    const char *name;
    int32_t nparts;
    bool internal; /* __consumer_offsets...: never matched by a regex */
};
struct gc_metadata {
    bool (*by_name)(void *ctx, const char *name, struct gc_topic_info *out);
    bool (*by_id)(void *ctx, const uint8_t id[16], struct gc_topic_info *out);
    /* All topics: *it starts at 0; false at the end. */
    bool (*next)(void *ctx, size_t *it, struct gc_topic_info *out);
    void *ctx;
};

/* Persistence.  append() writes recs as one batch to the offsets topic
 * partition of group_id and calls done(ud, err) once the batch is durable
 * per the topic's flush policy (possibly before returning).  It returns 0,
 * or a Kafka error code when nothing was written (done not called). */
struct gc_record {
    const uint8_t *key;
    int32_t klen;
    const uint8_t *value; /* NULL: tombstone */
    int32_t vlen;
};
typedef void (*gc_write_done)(void *ud, int16_t err);
struct gc_writer {
    int16_t (*append)(void *ctx, const char *group_id, const struct gc_record *recs, size_t n,
                      gc_write_done done, void *ud);
    void *ctx;
    /* The same as one transactional batch of producer_id/epoch
     * (TxnOffsetCommit); NULL: transactional commits are refused. */
    int16_t (*append_txn)(void *ctx, const char *group_id, const struct gc_record *recs,
                          size_t n, int64_t producer_id, int16_t producer_epoch,
                          gc_write_done done, void *ud);
};

struct group_coordinator {
    struct ev_loop *loop;
    struct sluice_logger *log;
    struct gc_config cfg;
    struct gc_writer writer; /* append == NULL: nothing persisted (tests) */
    struct strmap groups;    /* id -> struct group * */
    struct offset_store offsets;
    uint64_t next_uid;
    bool active;             /* false until loaded, and after shutdown */
    ev_timer expiry;
    int64_t (*now_ms)(void); /* wall clock (commit timestamps); replaceable in tests */
    struct gc_metadata meta;  /* by_name == NULL: no topics (tests) */
    const struct module_registry *modules; /* assignor modules of consumer groups */
    /* group.coordinator.rebalance.protocols has "consumer" and its assignors
     * are loaded: ConsumerGroupHeartbeat/Describe are served and advertised. */
    bool consumer_protocol;
};

void gc_config_default(struct gc_config *cfg);
int gc_init(struct group_coordinator *gc, struct ev_loop *loop, struct sluice_logger *log,
            const struct gc_config *cfg, const struct gc_writer *writer);
/* Loading done: schedule member heartbeats of loaded groups, start expiry,
 * accept requests. */
void gc_start(struct group_coordinator *gc);
/* Complete every pending callback (NOT_COORDINATOR, as Kafka does when a
 * partition is unloaded), stop timers, free everything. */
void gc_shutdown(struct group_coordinator *gc);

struct group *gc_group(struct group_coordinator *gc, const char *id);
/* Kafka's validateGroupStatus: INVALID_GROUP_ID for an empty id where the
 * API needs one (allow_empty: OffsetCommit/Fetch, DescribeGroups,
 * DeleteGroups), COORDINATOR_NOT_AVAILABLE when not active. */
int16_t gc_validate_group(struct group_coordinator *gc, const char *id, bool allow_empty);

/* ---- classic membership (classic_group.c) -------------------------- */

struct gc_protocol {
    const char *name;
    const uint8_t *metadata;
    int32_t len;
};

struct gc_join_req {
    const char *group_id;
    const char *member_id;         /* "" for a new member */
    const char *group_instance_id; /* NULL: dynamic member */
    const char *client_id, *client_host;
    const char *protocol_type;
    const char *reason;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    const struct gc_protocol *protocols;
    int nprotocols;
    bool require_known_member_id;  /* JoinGroup v4+ without instance id (KIP-394) */
    bool supports_skip_assignment; /* JoinGroup v9+ */
};

struct gc_join_member {
    const char *member_id;
    const char *group_instance_id;
    const uint8_t *metadata;
    int32_t len;
};

struct gc_join_result {
    int16_t error;
    int32_t generation_id;
    const char *protocol_type, *protocol_name; /* NULL when none */
    const char *leader_id, *member_id;
    bool skip_assignment;
    const struct gc_join_member *members;
    int nmembers;
};
typedef void (*gc_join_cb)(void *ud, const struct gc_join_result *res);

struct gc_assignment {
    const char *member_id;
    const uint8_t *data;
    int32_t len;
};

struct gc_sync_req {
    const char *group_id, *member_id, *group_instance_id;
    const char *protocol_type, *protocol_name; /* NULL: not sent (SyncGroup < v5) */
    int32_t generation_id;
    const struct gc_assignment *assignments;
    int nassignments;
};

struct gc_sync_result {
    int16_t error;
    const char *protocol_type, *protocol_name;
    const uint8_t *assignment;
    int32_t len;
};
typedef void (*gc_sync_cb)(void *ud, const struct gc_sync_result *res);

struct gc_leave_member {
    const char *member_id;
    const char *group_instance_id;
    const char *reason;
    int16_t error; /* out */
};

void gc_join(struct group_coordinator *gc, const struct gc_join_req *req, gc_join_cb cb,
             void *ud);
void gc_sync(struct group_coordinator *gc, const struct gc_sync_req *req, gc_sync_cb cb,
             void *ud);
int16_t gc_heartbeat(struct group_coordinator *gc, const char *group_id, int32_t generation_id,
                     const char *member_id, const char *group_instance_id);
/* Returns the top-level error; per-member errors in m[i].error. */
int16_t gc_leave(struct group_coordinator *gc, const char *group_id, struct gc_leave_member *m,
                 int n);

/* ---- KIP-848 consumer groups (consumer_group.c) ------------------------ */

/* ConsumerGroupHeartbeat at `version`: the response is built in `a` (its
 * pointers live as long as the arena) and given to cb once the records it
 * caused are durable, or at once for an error. */
typedef void (*gc_cgh_cb)(void *ud, struct kp_ConsumerGroupHeartbeatResponse *resp);
void gc_consumer_heartbeat(struct group_coordinator *gc,
                           const struct kp_ConsumerGroupHeartbeatRequest *req, int16_t version,
                           const char *client_id, const char *client_host, struct kp_arena *a,
                           gc_cgh_cb cb, void *ud);
/* ConsumerGroupDescribe of one group into *out (allocated in a). */
void gc_consumer_describe(struct group_coordinator *gc, const char *group_id,
                          struct kp_ConsumerGroupDescribeResponse_DescribedGroup *out,
                          struct kp_arena *a);
/* OffsetFetch v9+ member check (KIP-848 groups; 0 for the others). */
int16_t gc_validate_offset_fetch(struct group_coordinator *gc, const char *group_id,
                                 const char *member_id, int32_t member_epoch);
/* Startup check of cfg.consumer_assignors against the loaded modules:
 * 0, or -1 with err. */
int gc_check_assignors(const struct group_coordinator *gc, char *err, size_t errlen);

/* ---- offsets (coordinator.c) --------------------------------------- */

struct gc_commit_part {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;  /* -1: none */
    const char *metadata;  /* NULL: none */
    int64_t commit_ts;
    int64_t expire_ts;     /* -1: none */
    int16_t error;         /* in: non-zero skips the partition (e.g. unknown topic); out */
};

struct gc_commit_req {
    const char *group_id, *member_id, *group_instance_id;
    int32_t generation_id;
    bool group_id_not_found; /* OffsetCommit v9+: GROUP_ID_NOT_FOUND for an unknown group */
    int16_t api_version;     /* OffsetCommit version: KIP-848 members need v9+ */
};
typedef void (*gc_commit_cb)(void *ud, struct gc_commit_part *parts, int n);

/* parts stay owned by the caller until cb. */
void gc_commit_offsets(struct group_coordinator *gc, const struct gc_commit_req *req,
                       struct gc_commit_part *parts, int n, gc_commit_cb cb, void *ud);

/* OffsetDelete: partition errors in parts[i].error (GROUP_SUBSCRIBED_TO_TOPIC
 * for topics a live consumer group subscribes to).  Returns the group
 * error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, ...). */
int16_t gc_delete_offsets(struct group_coordinator *gc, const char *group_id,
                          struct gc_commit_part *parts, int n);
/* DeleteGroups, one group: NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP... */
int16_t gc_delete_group(struct group_coordinator *gc, const char *group_id);

/* A topic was deleted: drop every group's offsets for it, with tombstones
 * (Kafka's onPartitionsDeleted). */
void gc_topic_deleted(struct group_coordinator *gc, const char *topic);

/* Expiry pass (normally on its timer; exposed for tests). */
void gc_expire_offsets(struct group_coordinator *gc, int64_t now_ms);

/* GroupMetadataManager's mapping of a failed offsets append to the code
 * OffsetCommit / TxnOffsetCommit answer. */
int16_t gc_map_commit_error(int16_t err);
/* The OffsetCommit record of p for group_id into kw/vw (initialised here;
 * the caller frees them after the write), *out pointing at them. */
struct wire_writer;
void gc_encode_commit(struct wire_writer *kw, struct wire_writer *vw, const char *group_id,
                      const struct gc_commit_part *p, struct gc_record *out);

/* ---- transactional offsets (txn_offset_commit.c) --------------------- */

struct gc_txn_commit_req {
    const char *group_id, *member_id, *group_instance_id;
    int32_t generation_id;       /* -1: none (TxnOffsetCommit < v3) */
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t offsets_partition;   /* the group's __consumer_offsets partition */
};
/* TxnOffsetCommit: the offsets are written in a transactional batch and
 * stay pending (offset_store.h) until the transaction's marker on the
 * group's partition commits or aborts them.  parts as gc_commit_offsets. */
void gc_txn_commit_offsets(struct group_coordinator *gc, const struct gc_txn_commit_req *req,
                           struct gc_commit_part *parts, int n, gc_commit_cb cb, void *ud);
/* A marker for producer_id was written to __consumer_offsets-partition
 * (Kafka's onTransactionCompleted), also while loading. */
void gc_txn_complete(struct group_coordinator *gc, int32_t offsets_partition,
                     int64_t producer_id, bool commit);

/* ---- loading (from __consumer_offsets, in log order) ----------------- */
struct grec;
/* Applies one decoded record.  Returns 0 or -1 (out of memory). */
int gc_load_record(struct group_coordinator *gc, const struct grec *rec);
/* An offset record of a transactional batch of producer_id: pending
 * until its marker is loaded.  0 or -1 (out of memory). */
int gc_load_txn_offset(struct group_coordinator *gc, const struct grec *rec, int64_t producer_id,
                       int32_t offsets_partition);

/* ---- internal helpers shared by classic_group.c and coordinator.c ----- */
void gc_write(struct group_coordinator *gc, const char *group_id, const struct gc_record *recs,
              size_t n, gc_write_done done, void *ud);
void gc_remove_group(struct group_coordinator *gc, struct group *g);

#endif
