/* The classic group state machine, driven through the coordinator API on a
 * real libev loop (no persistence: the writer is absent, so every store
 * completes at once).  Error codes and transitions are Kafka's. */
#include "group/classic_group.h"
#include "group/coordinator.h"
#include "proto/kafka_errors.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *loop;
static struct group_coordinator gc;
static int64_t fake_now = 1000000;
static int64_t clock_ms(void) { return fake_now; }

struct join_out {
    int done;
    int16_t error;
    int32_t generation;
    char member_id[256], leader[256], protocol[64];
    int nmembers;
    bool skip;
};

static void join_cb(void *ud, const struct gc_join_result *r)
{
    struct join_out *o = ud;
    o->done++;
    o->error = r->error;
    o->generation = r->generation_id;
    snprintf(o->member_id, sizeof o->member_id, "%s", r->member_id ? r->member_id : "");
    snprintf(o->leader, sizeof o->leader, "%s", r->leader_id ? r->leader_id : "");
    snprintf(o->protocol, sizeof o->protocol, "%s", r->protocol_name ? r->protocol_name : "");
    o->nmembers = r->nmembers;
    o->skip = r->skip_assignment;
}

struct sync_out {
    int done;
    int16_t error;
    char assignment[64];
};

static void sync_cb(void *ud, const struct gc_sync_result *r)
{
    struct sync_out *o = ud;
    o->done++;
    o->error = r->error;
    snprintf(o->assignment, sizeof o->assignment, "%.*s", (int)r->len,
             r->assignment ? (const char *)r->assignment : "");
}

static const struct gc_protocol range = { "range", (const uint8_t *)"\0\0\0\0\0\1\0\1t\0\0\0\0", 13 };
static const struct gc_protocol rr = { "roundrobin", (const uint8_t *)"meta", 4 };

static void join(const char *group, const char *member, const char *instance,
                 const struct gc_protocol *p, int np, int32_t session, struct join_out *o,
                 bool require_known)
{
    memset(o, 0, sizeof *o);
    struct gc_join_req r = { .group_id = group, .member_id = member, .group_instance_id = instance,
                             .client_id = "cli", .client_host = "/127.0.0.1",
                             .protocol_type = "consumer", .session_timeout_ms = session,
                             .rebalance_timeout_ms = 2000, .protocols = p, .nprotocols = np,
                             .require_known_member_id = require_known };
    gc_join(&gc, &r, join_cb, o);
}

static void sync_(const char *group, const char *member, int32_t gen,
                  const struct gc_assignment *a, int n, struct sync_out *o)
{
    memset(o, 0, sizeof *o);
    struct gc_sync_req r = { .group_id = group, .member_id = member, .generation_id = gen,
                             .assignments = a, .nassignments = n };
    gc_sync(&gc, &r, sync_cb, o);
}

/* Run the loop until *flag is set or ms pass. */
static void run_until(int *flag, int ms)
{
    ev_tstamp end = ev_time() + ms / 1000.0;
    while (!*flag && ev_time() < end)
        ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT), ev_sleep(0.001);
}

static struct classic_group *grp(const char *id)
{
    return (struct classic_group *)gc_group(&gc, id);
}

struct commit_out {
    int done;
    int16_t err[4];
};

static void commit_cb(void *ud, struct gc_commit_part *parts, int n)
{
    struct commit_out *o = ud;
    o->done++;
    for (int i = 0; i < n && i < 4; i++)
        o->err[i] = parts[i].error;
}

static int16_t commit(const char *group, const char *member, int32_t gen, const char *topic,
                      int64_t offset)
{
    struct gc_commit_part p = { topic, 0, offset, -1, "m", fake_now, -1, 0 };
    struct gc_commit_req r = { group, member, NULL, gen, false };
    struct commit_out o = { 0 };
    gc_commit_offsets(&gc, &r, &p, 1, commit_cb, &o);
    return o.done ? o.err[0] : 9999;
}

int main(void)
{
    loop = ev_default_loop(0);
    struct gc_config cfg;
    gc_config_default(&cfg);
    cfg.initial_rebalance_delay_ms = 50;
    cfg.max_size = 100;
    cfg.offsets_retention_ms = 60000;
    gc_init(&gc, loop, NULL, &cfg, NULL);
    gc.now_ms = clock_ms;
    gc_start(&gc);

    struct join_out a, b, c;
    struct sync_out sa, sb;

    /* ---- validation ---- */
    join("g", "", NULL, &range, 1, 100, &a, false);
    is_int(a.error, KP_ERR_INVALID_SESSION_TIMEOUT, "session timeout below min");
    join("", "", NULL, &range, 1, 10000, &a, false);
    is_int(a.error, KP_ERR_INVALID_GROUP_ID, "empty group id");
    join("nogroup", "someone", NULL, &range, 1, 10000, &a, false);
    is_int(a.error, KP_ERR_UNKNOWN_MEMBER_ID, "known member id for a group that does not exist");

    /* ---- KIP-394: member id required, then the join ---- */
    join("g", "", NULL, &range, 1, 10000, &a, true);
    is_int(a.error, KP_ERR_MEMBER_ID_REQUIRED, "first join: MEMBER_ID_REQUIRED");
    ok(strncmp(a.member_id, "cli-", 4) == 0 && strlen(a.member_id) == 4 + 36,
       "member id is client id + '-' + UUID (%s)", a.member_id);
    char ida[256];
    snprintf(ida, sizeof ida, "%s", a.member_id);
    is_int(grp("g")->state, CG_EMPTY, "group still Empty with a pending member");
    join("g", ida, NULL, &range, 1, 10000, &a, true);
    is_int(a.done, 0, "join waits for the rebalance");
    is_int(grp("g")->state, CG_PREPARING_REBALANCE, "PreparingRebalance");
    join("g", "", NULL, &range, 1, 10000, &b, false);
    is_int(b.done, 0, "second member waits too");
    run_until(&a.done, 2000);
    is_int(a.error, 0, "first member joined");
    is_int(b.error, 0, "second member joined");
    is_int(a.generation, 1, "generation 1");
    is_int(b.generation, 1, "same generation");
    is_str(a.leader, ida, "first member leads");
    is_int(a.nmembers, 2, "leader gets every member");
    is_int(b.nmembers, 0, "follower gets none");
    is_str(a.protocol, "range", "protocol chosen");
    is_int(grp("g")->state, CG_COMPLETING_REBALANCE, "CompletingRebalance");
    char idb[256];
    snprintf(idb, sizeof idb, "%s", b.member_id);

    /* Commit during CompletingRebalance: REBALANCE_IN_PROGRESS. */
    is_int(commit("g", ida, 1, "t", 5), KP_ERR_REBALANCE_IN_PROGRESS,
           "commit while completing the rebalance");

    /* ---- SyncGroup ---- */
    sync_("g", idb, 1, NULL, 0, &sb);
    is_int(sb.done, 0, "follower's sync waits for the leader");
    sync_("g", ida, 0, NULL, 0, &sa);
    is_int(sa.error, KP_ERR_ILLEGAL_GENERATION, "sync with a wrong generation");
    struct gc_assignment asg[2] = { { ida, (const uint8_t *)"A", 1 },
                                    { idb, (const uint8_t *)"BB", 2 } };
    sync_("g", ida, 1, asg, 2, &sa);
    is_int(sa.done, 1, "leader's sync answered");
    is_str(sa.assignment, "A", "leader's assignment");
    is_int(sb.done, 1, "follower's sync answered");
    is_str(sb.assignment, "BB", "follower's assignment");
    is_int(grp("g")->state, CG_STABLE, "Stable");

    /* ---- heartbeats ---- */
    is_int(gc_heartbeat(&gc, "g", 1, ida, NULL), 0, "heartbeat ok");
    is_int(gc_heartbeat(&gc, "g", 2, ida, NULL), KP_ERR_ILLEGAL_GENERATION, "wrong generation");
    is_int(gc_heartbeat(&gc, "g", 1, "nobody", NULL), KP_ERR_UNKNOWN_MEMBER_ID, "unknown member");
    is_int(commit("g", ida, 1, "t", 5), 0, "member commits in Stable");
    is_int(commit("g", "", -1, "t", 5), KP_ERR_UNKNOWN_MEMBER_ID,
           "simple commit to a live group: UNKNOWN_MEMBER_ID");
    is_int((int)offset_store_get(&gc.offsets, "g", "t", 0)->offset, 5, "offset stored");

    /* ---- max size, inconsistent protocol ---- */
    gc.cfg.max_size = 2;
    join("g", "", NULL, &range, 1, 10000, &c, false);
    is_int(c.error, KP_ERR_GROUP_MAX_SIZE_REACHED, "third member: GROUP_MAX_SIZE_REACHED");
    gc.cfg.max_size = 100;
    join("g", ida, NULL, &rr, 1, 10000, &c, false);
    is_int(c.error, KP_ERR_INCONSISTENT_GROUP_PROTOCOL, "protocol nobody supports");
    is_int(grp("g")->state, CG_STABLE, "still Stable");

    /* ---- a follower rejoins with the same metadata: no rebalance ---- */
    join("g", idb, NULL, &range, 1, 10000, &b, false);
    is_int(b.error, 0, "follower rejoin with same metadata answered at once");
    is_int(b.generation, 1, "current generation");
    is_int(grp("g")->state, CG_STABLE, "no rebalance");

    /* ---- leave: the other member must rejoin ---- */
    struct gc_leave_member lm = { idb, NULL, "bye", 0 };
    is_int(gc_leave(&gc, "g", &lm, 1), 0, "leave accepted");
    is_int(lm.error, 0, "member left");
    is_int(grp("g")->state, CG_PREPARING_REBALANCE, "leave triggers a rebalance");
    is_int(gc_heartbeat(&gc, "g", 1, ida, NULL), KP_ERR_REBALANCE_IN_PROGRESS,
           "heartbeat says REBALANCE_IN_PROGRESS");
    is_int(commit("g", ida, 1, "t", 6), 0, "commit allowed while preparing");
    join("g", ida, NULL, &range, 1, 10000, &a, false);
    is_int(a.done, 1, "rejoin of the last member completes the join at once");
    is_int(a.generation, 2, "generation 2");
    is_int(a.nmembers, 1, "one member");
    struct gc_leave_member lm2 = { "ghost", NULL, NULL, 0 };
    gc_leave(&gc, "g", &lm2, 1);
    is_int(lm2.error, KP_ERR_UNKNOWN_MEMBER_ID, "leave of an unknown member");

    sync_("g", ida, 2, NULL, 0, &sa);
    is_int(sa.done, 1, "leader's sync without assignments answered");
    is_int(sa.error, 0, "with no error");
    is_str(sa.assignment, "", "and an empty assignment");
    is_int(grp("g")->state, CG_STABLE, "Stable");

    /* ---- delete refused for a live group ---- */
    is_int(gc_delete_group(&gc, "g"), KP_ERR_NON_EMPTY_GROUP, "delete of a live group");
    is_int(gc_delete_group(&gc, "nope"), KP_ERR_GROUP_ID_NOT_FOUND, "delete of unknown group");

    /* ---- session expiry: silence for the session timeout empties it ---- */
    struct classic_group *g = grp("g");
    struct cg_member *m = strmap_get(&g->members, ida);
    m->session_timeout_ms = 50;
    is_int(gc_heartbeat(&gc, "g", 2, ida, NULL), 0, "heartbeat rearms a 50 ms session");
    int never = 0;
    run_until(&never, 400);
    is_int(grp("g")->nmembers, 0, "member expired");
    is_int(grp("g")->state, CG_EMPTY, "group Empty after its last member expired");
    is_int(grp("g")->generation_id, 3, "empty generation 3");

    /* ---- static membership ---- */
    join("s", "", "inst-1", &range, 1, 10000, &a, true);
    join("s", "", "inst-2", &range, 1, 10000, &b, true);
    run_until(&b.done, 2000);
    is_int(a.error, 0, "static member 1 joins without MEMBER_ID_REQUIRED");
    is_int(b.error, 0, "static member 2 joins");
    ok(strncmp(a.member_id, "inst-1-", 7) == 0, "static member id starts with instance id");
    char s1[256], s2[256];
    snprintf(s1, sizeof s1, "%s", a.member_id);
    snprintf(s2, sizeof s2, "%s", b.member_id);
    struct gc_assignment sasg[2] = { { s1, (const uint8_t *)"P0", 2 },
                                     { s2, (const uint8_t *)"P1", 2 } };
    const char *leader = strcmp(a.leader, s1) == 0 ? s1 : s2;
    sync_("s", leader, 1, sasg, 2, &sa);
    is_int(grp("s")->state, CG_STABLE, "static group Stable");
    /* Member 2 restarts: unknown member id, same instance id. */
    join("s", "", "inst-2", &range, 1, 10000, &c, true);
    is_int(c.done, 1, "restarted static member answered at once");
    is_int(c.error, 0, "no error");
    is_int(c.generation, 1, "same generation: no rebalance");
    ok(strcmp(c.member_id, s2) != 0, "new member id");
    is_int(grp("s")->state, CG_STABLE, "group stays Stable");
    is_int(gc_heartbeat(&gc, "s", 1, s2, "inst-2"), KP_ERR_FENCED_INSTANCE_ID,
           "the old member id is fenced");
    is_int(gc_heartbeat(&gc, "s", 1, s1, "inst-1"), 0, "the other member is untouched");
    sync_("s", c.member_id, 1, NULL, 0, &sb);
    is_str(sb.assignment, "P1", "restarted static member gets its assignment back");
    join("s", "bogus", "inst-1", &range, 1, 10000, &c, true);
    is_int(c.error, KP_ERR_FENCED_INSTANCE_ID, "join with the wrong member id is fenced");

    /* ---- simple consumer offsets and expiry ---- */
    is_int(commit("simple", "", -1, "t", 10), 0, "simple commit creates a group");
    is_int(grp("simple")->state, CG_EMPTY, "simple group is Empty");
    is_int(commit("other", "m", 3, "t", 10), KP_ERR_ILLEGAL_GENERATION,
           "generation for a group that does not exist");
    gc_expire_offsets(&gc, fake_now + 30000);
    ok(offset_store_get(&gc.offsets, "simple", "t", 0) != NULL, "not expired before retention");
    gc_expire_offsets(&gc, fake_now + 60000);
    ok(offset_store_get(&gc.offsets, "simple", "t", 0) == NULL, "expired after retention");
    ok(gc_group(&gc, "simple") == NULL, "empty group without offsets removed");
    is_int(commit("del", "", -1, "t", 1), 0, "commit for deletion");
    is_int(gc_delete_group(&gc, "del"), 0, "empty group deleted");
    ok(offset_store_get(&gc.offsets, "del", "t", 0) == NULL, "its offsets are gone");

    /* ---- a deleted topic takes its offsets along ---- */
    is_int(commit("keep", "", -1, "t", 1), 0, "commit on t");
    is_int(commit("keep", "", -1, "u", 2), 0, "commit on u");
    gc_topic_deleted(&gc, "t");
    ok(offset_store_get(&gc.offsets, "keep", "t", 0) == NULL, "offsets of the deleted topic gone");
    ok(offset_store_get(&gc.offsets, "keep", "u", 0) != NULL, "other topics' offsets stay");

    gc_shutdown(&gc);
    is_int(a.done + b.done >= 2, 1, "callbacks ran");
    done_testing();
}
