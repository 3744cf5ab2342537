/* A member of a classic group (Kafka's MemberMetadata): identity, the
 * protocols it supports with their metadata, its assignment, and whether a
 * JoinGroup or SyncGroup of it is waiting for the rebalance. */
#ifndef SLUICE_GROUP_MEMBER_H
#define SLUICE_GROUP_MEMBER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "group/coordinator.h"

struct classic_group;

struct cg_protocol {
    char *name;
    uint8_t *metadata;
    int32_t len;
};

struct cg_member {
    char *member_id;
    char *group_instance_id; /* NULL: dynamic */
    char *client_id, *client_host;
    char *protocol_type;
    int32_t rebalance_timeout_ms, session_timeout_ms;
    struct cg_protocol *protocols;
    int nprotocols;
    uint8_t *assignment;
    int32_t assignment_len;
    /* A waiting JoinGroup / SyncGroup (callback set = awaiting). */
    gc_join_cb join_cb;
    void *join_ud;
    gc_sync_cb sync_cb;
    void *sync_ud;
    bool is_new;
    bool heartbeat_satisfied;
    ev_timer heartbeat; /* session timeout (or the new-member join timeout) */
    struct classic_group *group;
    struct cg_member *prev, *next; /* join order */
};

struct cg_member *member_new(const char *member_id, const char *group_instance_id,
                             const char *client_id, const char *client_host,
                             const char *protocol_type, int32_t rebalance_timeout_ms,
                             int32_t session_timeout_ms);
void member_free(struct cg_member *m);
/* Replace the supported protocols (copies).  0 or -1. */
int member_set_protocols(struct cg_member *m, const struct gc_protocol *p, int n);
int member_set_assignment(struct cg_member *m, const uint8_t *data, int32_t len);
int member_set_id(struct cg_member *m, const char *member_id);
/* Kafka's MemberMetadata.matches: same protocols, same order, same bytes. */
bool member_matches(const struct cg_member *m, const struct gc_protocol *p, int n);
bool member_supports(const struct cg_member *m, const char *protocol);
/* Metadata for a protocol (NULL/0 when the member lacks it). */
const struct cg_protocol *member_protocol(const struct cg_member *m, const char *protocol);

static inline bool member_awaiting_join(const struct cg_member *m) { return m->join_cb != NULL; }
static inline bool member_awaiting_sync(const struct cg_member *m) { return m->sync_cb != NULL; }

#endif
