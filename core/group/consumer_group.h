/* A KIP-848 "consumer" group (ConsumerGroupHeartbeat), Kafka's
 * ConsumerGroup plus the consumer-group half of GroupMetadataManager:
 *
 *   group epoch        bumped whenever what the assignor sees changes (a
 *                      member joins, leaves or changes its subscription, a
 *                      subscribed topic appears or changes partitions);
 *   assignment epoch   the group epoch the current target assignment was
 *                      computed for; when it lags, the next heartbeat runs
 *                      the assignor (a loaded module, chosen from
 *                      group.consumer.assignors and the members' ServerAssignor);
 *   member epoch       each member walks towards its part of the target with
 *                      consumer_group_reconcile.c (revoke before assign).
 *
 * States (ConsumerGroup.state): Empty (no member), Assigning (group epoch >
 * assignment epoch), Reconciling (a member has not reached the assignment
 * epoch), Stable.
 *
 * Every change is written to __consumer_offsets as Kafka's records
 * (ConsumerGroupMetadata, PartitionMetadata, MemberMetadata,
 * TargetAssignmentMetadata/Member, CurrentMemberAssignment) before the
 * heartbeat is answered, and replayed by cgrp_load_record at start-up.
 *
 * Timers on the coordinator's loop: each member's session timeout
 * (group.consumer.session.timeout.ms) and, while it has partitions to
 * revoke, its rebalance timeout; either one expiring fences the member. */
#ifndef SLUICE_GROUP_CONSUMER_GROUP_H
#define SLUICE_GROUP_CONSUMER_GROUP_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "group/consumer_group_reconcile.h"
#include "group/coordinator.h"
#include "proto/kafka_schema.h"
#include "util/arena.h"
#include "util/strmap.h"

struct grec;
struct topic_regex;

enum cgrp_state {
    CGRP_EMPTY = 0,
    CGRP_ASSIGNING,
    CGRP_RECONCILING,
    CGRP_STABLE,
};

/* One topic of the group's subscription metadata. */
struct cgrp_topic {
    uint8_t id[16];
    char *name;
    int32_t nparts;
};

struct cgrp_member {
    char *member_id;
    char *instance_id; /* NULL: dynamic */
    char *rack_id;     /* NULL: none */
    char *client_id, *client_host;
    char **topics;     /* SubscribedTopicNames, sorted, deduplicated */
    int ntopics;
    char *regex;       /* SubscribedTopicRegex, NULL: none */
    struct topic_regex *re; /* compiled regex (NULL when invalid or none) */
    char *server_assignor; /* NULL: none */
    int32_t rebalance_timeout_ms;
    struct cgr_member a;  /* epochs, state, assigned and pending partitions */
    struct cgr_set target; /* its part of the target assignment */
    ev_timer session, rebalance;
    bool rebalance_armed;
    struct consumer_group *g;
};

struct consumer_group {
    struct group base;
    int32_t group_epoch;
    int32_t assignment_epoch;
    struct strmap members;        /* member id -> struct cgrp_member * (key borrowed) */
    struct strmap static_members; /* instance id -> struct cgrp_member * */
    struct cgr_epochs epochs;     /* partition -> epoch of its current owner */
    struct cgrp_topic *meta;      /* subscription metadata, sorted by name */
    int nmeta;
    int64_t regex_resolved_ms;    /* last regex resolution (-1: never) */
    bool meta_known;              /* meta was computed or loaded */
};

const char *cgrp_state_name(int state);
int cgrp_state(const struct consumer_group *g);

struct consumer_group *cgrp_create(struct group_coordinator *gc, const char *id);
/* Stop timers and free (the group must already be out of the map). */
void cgrp_free(struct consumer_group *g);
/* After loading: rebuild the partition epochs, start the timers. */
void cgrp_start_loaded(struct consumer_group *g);
/* Applies one KIP-848 record (types GREC_CG_*).  0 or -1 (out of memory). */
int cgrp_load_record(struct group_coordinator *gc, const struct grec *rec);

/* Is a member subscribed to topic (name or regex)?  For OffsetDelete and
 * offset expiry. */
bool cgrp_is_subscribed(const struct consumer_group *g, const char *topic);

/* ConsumerGroup.validateOffsetCommit / validateOffsetFetch: 0,
 * UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH or UNSUPPORTED_VERSION (commit
 * below v9 from a KIP-848 member). */
int16_t cgrp_validate_commit(struct consumer_group *g, const char *member_id,
                             int32_t member_epoch, int16_t api_version);
int16_t cgrp_validate_fetch(struct consumer_group *g, const char *member_id,
                            int32_t member_epoch);

/* Drops the group with tombstones for all its records (DeleteGroups,
 * expiry, conversion to a classic group); it must be Empty. */
void cgrp_delete(struct group_coordinator *gc, struct consumer_group *g);

/* Topic name for a topic id, through the coordinator's metadata (NULL:
 * unknown). */
const char *cgrp_topic_name(struct group_coordinator *gc, const uint8_t id[16],
                            struct kp_arena *a);

#endif
