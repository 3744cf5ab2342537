/* A classic-protocol group (JoinGroup/SyncGroup/Heartbeat/LeaveGroup),
 * Kafka's GroupMetadata plus the GroupCoordinator logic that drives it.
 *
 * States and transitions (Kafka's GroupState):
 *   Empty ──join──> PreparingRebalance ──all joined / timeout──> CompletingRebalance
 *   CompletingRebalance ──leader's SyncGroup stored──> Stable
 *   Stable/CompletingRebalance ──join with new metadata, leader join,
 *       member leaves or expires──> PreparingRebalance
 *   PreparingRebalance ──nobody left──> Empty;  Empty ──deleted/expired──> Dead
 * Timers run on the coordinator's loop: each member's session (heartbeat)
 * timer, the join timer (rebalance timeout, or group.initial.rebalance.delay.ms
 * for a group that starts from Empty), the pending-sync timer, and pending
 * member (KIP-394) expiry. */
#ifndef SLUICE_GROUP_CLASSIC_GROUP_H
#define SLUICE_GROUP_CLASSIC_GROUP_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "group/coordinator.h"
#include "group/member.h"
#include "proto/kafka_schema.h"
#include "util/strmap.h"

enum cg_state {
    CG_EMPTY = 0,
    CG_PREPARING_REBALANCE,
    CG_COMPLETING_REBALANCE,
    CG_STABLE,
    CG_DEAD,
};

/* Kafka's NewMemberJoinTimeoutMs: a new member's JoinGroup may wait this
 * long for the rebalance before it is dropped (it cannot heartbeat). */
#define CG_NEW_MEMBER_JOIN_TIMEOUT_MS 300000

struct cg_pending;

struct classic_group {
    struct group base;
    int state;
    int32_t generation_id;
    char *protocol_type; /* NULL: none yet (a group used only to store offsets) */
    char *protocol_name; /* NULL: none */
    char *leader_id;     /* NULL: none */
    struct strmap members;        /* member id -> struct cg_member * (key borrowed) */
    struct cg_member *head, *tail; /* join order, which Kafka's leader choice follows */
    int nmembers;
    struct strmap static_members; /* group instance id -> struct cg_member * */
    struct strmap pending_members; /* member id -> struct cg_pending * (KIP-394) */
    struct strmap pending_sync;    /* member id -> struct cg_member *: joined, no SyncGroup yet */
    int num_awaiting_join;
    bool new_member_added;
    int64_t current_state_ts; /* -1: unknown */
    /* Topics the members subscribe to (consumer protocol), when known. */
    char **subscribed;
    int nsubscribed;
    bool subscribed_known;
    ev_timer join_timer;
    bool join_armed, join_initial;
    int32_t join_delay_ms, join_remaining_ms;
    ev_timer sync_timer;
    bool sync_armed;
    int32_t sync_generation;
};

const char *cg_state_name(int state);
/* A new Empty group added to the coordinator's map (NULL: out of memory). */
struct classic_group *cg_create(struct group_coordinator *gc, const char *id);
/* Stop timers and free (the group must already be out of the map). */
void cg_free(struct classic_group *g);
/* Answer every waiting JoinGroup/SyncGroup with err (unload, shutdown). */
void cg_fail_waiting(struct classic_group *g, int16_t err);
/* Replace/create the group from a loaded GroupMetadataValue. */
struct classic_group *cg_load(struct group_coordinator *gc, const char *id,
                              const struct kp_GroupMetadataValue *v);
/* After loading: start the members' session timers. */
void cg_start_loaded(struct classic_group *g);
/* Kafka's isSubscribedToTopic: true when subscriptions are unknown. */
bool cg_is_subscribed(const struct classic_group *g, const char *topic);
bool cg_is_consumer_group(const struct classic_group *g);
/* Record a heartbeat-like activity (an offset commit from a member). */
void cg_member_activity(struct classic_group *g, struct cg_member *m);
/* Kafka's validateCurrentMember: FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID or 0. */
int16_t cg_validate_member(struct classic_group *g, const char *member_id,
                           const char *group_instance_id);
void cg_transition(struct classic_group *g, int state);

#endif
