/* KIP-848 consumer groups in process: ConsumerGroupHeartbeat requests are
 * encoded and decoded with the project's codec (as the broker receives
 * them), handed to the coordinator with the real assignor modules, and the
 * responses go back through the codec.  Three members join, leave and
 * rejoin; epochs, revocations (revoke before assign) and "no partition
 * owned twice" are checked step by step; then Kafka's errors, static
 * members, offsets with member epochs, ConsumerGroupDescribe, and the
 * records replayed into a fresh coordinator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group/consumer_group.h"
#include "group/coordinator.h"
#include "group/group_records.h"
#include "plugin/module_loader.h"
#include "proto/kafka_errors.h"
#include "proto/kp_codec.h"
#include "tap.h"

/* ---- fake topic metadata -------------------------------------------------- */

struct ftopic {
    const char *name;
    uint8_t id[16];
    int32_t nparts;
};
static struct ftopic topics[] = {
    { "orders", { 1 }, 6 },
    { "audit-1", { 2 }, 2 },
    { "audit-2", { 3 }, 2 },
    { "__consumer_offsets", { 4 }, 50 },
};
#define NTOPICS (sizeof topics / sizeof topics[0])

static void fill(const struct ftopic *t, struct gc_topic_info *o)
{
    memcpy(o->id, t->id, 16);
    o->name = t->name;
    o->nparts = t->nparts;
    o->internal = t->name[0] == '_';
}
static bool by_name(void *ctx, const char *name, struct gc_topic_info *o)
{
    (void)ctx;
    for (size_t i = 0; i < NTOPICS; i++)
        if (!strcmp(topics[i].name, name)) {
            fill(&topics[i], o);
            return true;
        }
    return false;
}
static bool by_id(void *ctx, const uint8_t id[16], struct gc_topic_info *o)
{
    (void)ctx;
    for (size_t i = 0; i < NTOPICS; i++)
        if (!memcmp(topics[i].id, id, 16)) {
            fill(&topics[i], o);
            return true;
        }
    return false;
}
static bool next_topic(void *ctx, size_t *it, struct gc_topic_info *o)
{
    (void)ctx;
    if (*it >= NTOPICS)
        return false;
    fill(&topics[(*it)++], o);
    return true;
}

/* ---- a writer that keeps every record (for the replay) ---------------------- */

struct saved {
    uint8_t *k, *v;
    int32_t kl, vl;
};
static struct saved *saved;
static size_t nsaved, capsaved;

static int16_t keep(void *ctx, const char *group_id, const struct gc_record *recs, size_t n,
                    gc_write_done done, void *ud)
{
    (void)ctx;
    (void)group_id;
    for (size_t i = 0; i < n; i++) {
        if (nsaved == capsaved) {
            capsaved = capsaved ? capsaved * 2 : 64;
            saved = realloc(saved, capsaved * sizeof *saved);
        }
        struct saved *s = &saved[nsaved++];
        s->kl = recs[i].klen;
        s->k = malloc((size_t)recs[i].klen);
        memcpy(s->k, recs[i].key, (size_t)recs[i].klen);
        s->vl = recs[i].value ? recs[i].vlen : -1;
        s->v = recs[i].value ? malloc((size_t)recs[i].vlen + 1) : NULL;
        if (s->v)
            memcpy(s->v, recs[i].value, (size_t)recs[i].vlen);
    }
    done(ud, KP_ERR_NONE);
    return KP_ERR_NONE;
}

/* ---- heartbeats through the codec ------------------------------------------- */

static struct group_coordinator gc;

struct hb {
    const char *member;
    int32_t epoch;
    const char *instance;
    const char *const *names; /* NULL: null (unchanged) */
    int nnames;
    const char *regex;
    const char *assignor;
    int32_t rebalance_ms;
    const int32_t *owned; /* partitions of "orders"; NULL with nowned < 0: null */
    int nowned;
    bool v0; /* ConsumerGroupHeartbeat v0 instead of v1 */
};

struct hb_res {
    int16_t err;
    char msg[512];
    char member[64];
    int32_t epoch, interval;
    bool has_assignment;
    int32_t parts[16]; /* of "orders", sorted */
    int nparts;
    int other; /* partitions of other topics */
};

static struct hb_res last;
static int called;

static void on_resp(void *ud, struct kp_ConsumerGroupHeartbeatResponse *resp)
{
    int16_t v = *(int16_t *)ud;
    /* Encode the response as the broker would, decode it as a client. */
    const struct kp_message *rm = kp_response_message(KP_API_CONSUMER_GROUP_HEARTBEAT);
    struct wire_writer w;
    wire_writer_init(&w);
    int rc = kp_encode(rm, v, resp, &w);
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_ConsumerGroupHeartbeatResponse d;
    memset(&d, 0, sizeof d);
    struct wire_reader r;
    wire_reader_init(&r, w.buf, w.len);
    if (rc < 0 || kp_decode(rm, v, &r, &d, &a) < 0)
        d.ErrorCode = -999;
    memset(&last, 0, sizeof last);
    last.err = d.ErrorCode;
    if (d.ErrorMessage.s)
        snprintf(last.msg, sizeof last.msg, "%.*s", (int)d.ErrorMessage.len, d.ErrorMessage.s);
    if (d.MemberId.s)
        snprintf(last.member, sizeof last.member, "%.*s", (int)d.MemberId.len, d.MemberId.s);
    last.epoch = d.MemberEpoch;
    last.interval = d.HeartbeatIntervalMs;
    if (d.Assignment) {
        last.has_assignment = true;
        for (int32_t i = 0; i < d.Assignment->TopicPartitions.count; i++) {
            const struct kp_ConsumerGroupHeartbeatResponse_TopicPartitions *tp =
                &d.Assignment->TopicPartitions.items[i];
            for (int32_t j = 0; j < tp->Partitions.count; j++) {
                if (!memcmp(tp->TopicId.b, topics[0].id, 16) && last.nparts < 16)
                    last.parts[last.nparts++] = tp->Partitions.items[j];
                else
                    last.other++;
            }
        }
        for (int i = 1; i < last.nparts; i++) /* insertion sort */
            for (int j = i; j > 0 && last.parts[j - 1] > last.parts[j]; j--) {
                int32_t t = last.parts[j];
                last.parts[j] = last.parts[j - 1];
                last.parts[j - 1] = t;
            }
    }
    kp_arena_free(&a);
    wire_writer_free(&w);
    called++;
}

static const struct hb_res *heartbeat(const struct hb *h)
{
    int16_t v = h->v0 ? 0 : 1;
    struct kp_ConsumerGroupHeartbeatRequest req;
    const struct kp_message *qm = kp_request_message(KP_API_CONSUMER_GROUP_HEARTBEAT);
    memset(&req, 0, sizeof req);
    kp_struct_defaults(qm->body, &req);
    req.GroupId = kp_str_c("g1");
    req.MemberId = kp_str_c(h->member ? h->member : "");
    req.MemberEpoch = h->epoch;
    req.InstanceId = kp_str_c(h->instance);
    req.RebalanceTimeoutMs = h->rebalance_ms ? h->rebalance_ms : -1;
    struct kp_str names[8];
    if (h->names) {
        for (int i = 0; i < h->nnames; i++)
            names[i] = kp_str_c(h->names[i]);
        req.SubscribedTopicNames.items = names;
        req.SubscribedTopicNames.count = h->nnames;
    } else {
        req.SubscribedTopicNames.count = -1;
    }
    req.SubscribedTopicRegex = kp_str_c(h->regex);
    req.ServerAssignor = kp_str_c(h->assignor);
    struct kp_ConsumerGroupHeartbeatRequest_TopicPartitions tp;
    int32_t owned[16];
    if (h->owned || h->nowned == 0) {
        memcpy(tp.TopicId.b, topics[0].id, 16);
        for (int i = 0; i < h->nowned; i++)
            owned[i] = h->owned[i];
        tp.Partitions.items = owned;
        tp.Partitions.count = h->nowned;
        req.TopicPartitions.items = h->nowned ? &tp : NULL;
        req.TopicPartitions.count = h->nowned ? 1 : 0;
    } else {
        req.TopicPartitions.count = -1;
    }
    /* Through the codec, as the broker decodes it. */
    struct wire_writer w;
    wire_writer_init(&w);
    kp_encode(qm, v, &req, &w);
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_ConsumerGroupHeartbeatRequest dec;
    memset(&dec, 0, sizeof dec);
    struct wire_reader r;
    wire_reader_init(&r, w.buf, w.len);
    int rc = kp_decode(qm, v, &r, &dec, &a);
    int before = called;
    if (rc == 0)
        gc_consumer_heartbeat(&gc, &dec, v, "client-x", "/127.0.0.1", &a, on_resp, &v);
    if (rc != 0 || called == before) {
        memset(&last, 0, sizeof last);
        last.err = -998;
    }
    kp_arena_free(&a);
    wire_writer_free(&w);
    return &last;
}

static const char *const ORDERS[] = { "orders" };

/* Join as a new dynamic member; returns the id the test generated. */
static struct hb_res join(const char *id, const char *assignor)
{
    struct hb h = { .member = id, .epoch = 0, .names = ORDERS, .nnames = 1,
                    .rebalance_ms = 30000, .nowned = 0, .assignor = assignor };
    return *heartbeat(&h);
}

static struct hb_res beat(const char *id, int32_t epoch, const int32_t *owned, int nowned)
{
    struct hb h = { .member = id, .epoch = epoch, .owned = owned, .nowned = nowned };
    if (!owned && nowned < 0)
        h.nowned = -1;
    return *heartbeat(&h);
}

/* The member-side view: what each member owns. */
struct sim {
    const char *id;
    int32_t epoch;
    int32_t owned[16];
    int nowned;
    bool active;
};

static bool owned_twice(struct sim *s, int n)
{
    int cnt[6] = { 0 };
    for (int i = 0; i < n; i++)
        for (int j = 0; s[i].active && j < s[i].nowned; j++)
            if (++cnt[s[i].owned[j]] > 1)
                return true;
    return false;
}

/* One heartbeat of member s reporting what it owns; the member adopts the
 * assignment (revocations immediately, as a client that revokes at once). */
static struct hb_res step(struct sim *s)
{
    struct hb_res r = beat(s->id, s->epoch, s->owned, s->nowned);
    if (!r.err) {
        s->epoch = r.epoch;
        if (r.has_assignment) {
            memcpy(s->owned, r.parts, sizeof r.parts);
            s->nowned = r.nparts;
        }
    }
    return r;
}

static void str_parts(const struct sim *s, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->nowned && o + 4 < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? "," : "", s->owned[i]);
}

static const char *parts_of(const struct sim *s)
{
    static char buf[64]; /* test-only scratch */
    str_parts(s, buf, sizeof buf);
    return buf;
}

/* Heartbeats all members round-robin until nothing changes, checking at
 * every step that no partition is owned twice. */
static int settle(struct sim *s, int n, bool *twice)
{
    int rounds = 0;
    for (; rounds < 20; rounds++) {
        bool changed = false;
        for (int i = 0; i < n; i++) {
            if (!s[i].active)
                continue;
            int32_t e = s[i].epoch;
            int before = s[i].nowned;
            int32_t snap[16];
            memcpy(snap, s[i].owned, sizeof snap);
            struct hb_res r = step(&s[i]);
            if (r.err)
                diag("member %s: error %d %s", s[i].id, r.err, r.msg);
            if (owned_twice(s, n))
                *twice = true;
            if (e != s[i].epoch || before != s[i].nowned || memcmp(snap, s[i].owned, sizeof snap))
                changed = true;
        }
        if (!changed)
            break;
    }
    return rounds;
}

static struct consumer_group *group(struct group_coordinator *c)
{
    struct group *g = gc_group(c, "g1");
    return g && g->type == GROUP_TYPE_CONSUMER ? (struct consumer_group *)g : NULL;
}

static void quiet(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    (void)msg;
}

struct commit_out {
    int done;
    int16_t err;
};
static void commit_cb(void *ud, struct gc_commit_part *parts, int n)
{
    struct commit_out *o = ud;
    o->done++;
    o->err = n ? parts[0].error : 0;
}
static int16_t commit(const char *member, int32_t epoch, int16_t version)
{
    struct gc_commit_part p = { "orders", 0, 42, -1, "", 1000, -1, 0 };
    struct gc_commit_req r = { "g1", member, NULL, epoch, version >= 9, version };
    struct commit_out o = { 0, 0 };
    gc_commit_offsets(&gc, &r, &p, 1, commit_cb, &o);
    return o.done ? o.err : 9999;
}

int main(void)
{
    const char *top = getenv("SLUICE_TOP_BUILDDIR");
    if (!top)
        skip_all("SLUICE_TOP_BUILDDIR not set (run via make check)");
    struct module_registry reg;
    char err[1024], dir[700];
    module_registry_init(&reg);
    module_registry_set_log(&reg, quiet, NULL);
    snprintf(dir, sizeof dir, "%s/modules/assignor_range/.libs", top);
    is_int(module_load(&reg, "assignor_range", dir, err, sizeof err), 0, "assignor_range %s", err);
    snprintf(dir, sizeof dir, "%s/modules/assignor_sticky/.libs", top);
    is_int(module_load(&reg, "assignor_sticky", dir, err, sizeof err), 0, "assignor_sticky %s", err);

    struct ev_loop *loop = ev_loop_new(0);
    struct gc_config cfg;
    gc_config_default(&cfg);
    cfg.consumer_max_size = 3;
    cfg.consumer_heartbeat_interval_ms = 700;
    struct gc_writer w = { keep, NULL };
    gc_init(&gc, loop, NULL, &cfg, &w);
    gc.meta = (struct gc_metadata){ by_name, by_id, next_topic, NULL };
    gc.modules = &reg;
    is_int(gc_check_assignors(&gc, err, sizeof err), 0, "uniform,range are registered");
    gc_start(&gc);

    /* ---- three members join one by one ---------------------------------- */
    struct sim s[4] = { { "member-a", 0, { 0 }, 0, false }, { "member-b", 0, { 0 }, 0, false },
                        { "member-c", 0, { 0 }, 0, false }, { "member-d", 0, { 0 }, 0, false } };
    struct hb_res r = join("member-a", NULL);
    is_int(r.err, 0, "a joins");
    is_int(r.epoch, 1, "a: member epoch 1 (group epoch bumped by the new subscription)");
    is_int(r.interval, 700, "heartbeat interval from group.consumer.heartbeat.interval.ms");
    is_int(r.nparts, 6, "a is assigned all 6 partitions at once (nobody owns them)");
    s[0].active = true;
    s[0].epoch = r.epoch;
    memcpy(s[0].owned, r.parts, sizeof r.parts);
    s[0].nowned = r.nparts;

    r = join("member-b", NULL);
    is_int(r.err, 0, "b joins");
    is_int(r.epoch, 2, "b: epoch 2 (group epoch 2)");
    ok(r.has_assignment && r.nparts == 0,
       "b gets nothing yet: its target partitions are still owned by a");
    s[1].active = true;
    s[1].epoch = r.epoch;
    is_str(cgrp_state_name(cgrp_state(group(&gc))), "Reconciling", "group is Reconciling");

    r = step(&s[0]);
    is_int(r.epoch, 1, "a stays at epoch 1 while it must revoke");
    is_int(r.nparts, 3, "a is told to keep 3 partitions (revoke before assign)");
    ok(!owned_twice(s, 2), "no partition owned twice after a's revocation");
    r = step(&s[1]);
    is_int(r.nparts, 0, "b still gets nothing until a acknowledged the revocation");
    r = step(&s[0]);
    is_int(r.epoch, 2, "a acknowledges with its 3 partitions: epoch 2");
    r = step(&s[1]);
    is_int(r.nparts, 3, "b now gets the 3 released partitions");
    ok(!owned_twice(s, 2), "no partition owned twice");
    bool twice = false;
    settle(s, 2, &twice);
    is_str(cgrp_state_name(cgrp_state(group(&gc))), "Stable", "two members: Stable");

    r = join("member-c", NULL);
    s[2].active = true;
    s[2].epoch = r.epoch;
    is_int(r.epoch, 3, "c joins at epoch 3");
    int rounds = settle(s, 3, &twice);
    ok(!twice, "three members reconcile without a partition owned twice (%d rounds)", rounds);
    is_int(s[0].nowned + s[1].nowned + s[2].nowned, 6, "all 6 partitions owned");
    ok(s[0].nowned == 2 && s[1].nowned == 2 && s[2].nowned == 2, "2 + 2 + 2 (a=%s)",
       parts_of(&s[0]));
    ok(s[0].epoch == 3 && s[1].epoch == 3 && s[2].epoch == 3, "everyone at epoch 3");

    /* Group full: a fourth member. */
    r = join("member-d", NULL);
    is_int(r.err, KP_ERR_GROUP_MAX_SIZE_REACHED, "a 4th member: GROUP_MAX_SIZE_REACHED");
    is_str(r.msg, "The consumer group has reached its maximum capacity of 3 members.",
           "Kafka's message");

    /* ---- leave and rejoin --------------------------------------------- */
    r = beat("member-c", -1, NULL, -1);
    is_int(r.err, 0, "c leaves (epoch -1)");
    is_int(r.epoch, -1, "leave answered with epoch -1");
    s[2].active = false;
    s[2].nowned = 0;
    rounds = settle(s, 3, &twice);
    ok(!twice && s[0].nowned == 3 && s[1].nowned == 3,
       "after c left a and b own 3 + 3 (%d rounds)", rounds);
    is_int(s[0].epoch, 4, "group epoch 4 after the leave");
    r = beat("member-c", 3, NULL, -1);
    is_int(r.err, KP_ERR_UNKNOWN_MEMBER_ID, "the departed member's heartbeat: UNKNOWN_MEMBER_ID");
    is_str(r.msg, "Member member-c is not a member of group g1.", "Kafka's message");
    r = join("member-c", NULL);
    s[2].active = true;
    s[2].epoch = r.epoch;
    s[2].nowned = r.nparts;
    is_int(r.epoch, 5, "c rejoins at epoch 5");
    rounds = settle(s, 3, &twice);
    ok(!twice && s[0].nowned == 2 && s[1].nowned == 2 && s[2].nowned == 2,
       "after the rejoin 2 + 2 + 2 again, never owned twice (%d rounds)", rounds);

    /* ---- Kafka's errors ------------------------------------------------ */
    r = beat("member-a", 99, s[0].owned, s[0].nowned);
    is_int(r.err, KP_ERR_FENCED_MEMBER_EPOCH, "a wrong member epoch: FENCED_MEMBER_EPOCH");
    r = beat("member-a", 4, s[0].owned, s[0].nowned);
    is_int(r.err, 0, "the previous epoch with a subset of the partitions is accepted");
    struct hb bad = { .member = "x", .epoch = 0, .names = ORDERS, .nnames = 1, .nowned = 0 };
    r = *heartbeat(&bad);
    is_str(r.msg, "RebalanceTimeoutMs must be provided in first request.", "INVALID_REQUEST: "
           "rebalance timeout");
    bad = (struct hb){ .member = "x", .epoch = 0, .rebalance_ms = 1000, .nowned = 0 };
    r = *heartbeat(&bad);
    is_int(r.err, KP_ERR_INVALID_REQUEST, "no subscription at all: INVALID_REQUEST");
    bad = (struct hb){ .member = "", .epoch = 0, .names = ORDERS, .nnames = 1,
                       .rebalance_ms = 1000, .nowned = 0 };
    r = *heartbeat(&bad);
    is_str(r.msg, "MemberId can't be empty.", "v1: MemberId can't be empty.");
    bad = (struct hb){ .member = "x", .epoch = -3, .nowned = -1 };
    r = *heartbeat(&bad);
    is_str(r.msg, "MemberEpoch is invalid.", "epoch -3: MemberEpoch is invalid.");
    bad = (struct hb){ .member = "x", .epoch = 0, .names = ORDERS, .nnames = 1,
                       .rebalance_ms = 1000, .nowned = 0, .assignor = "sticky-x" };
    r = *heartbeat(&bad);
    is_int(r.err, KP_ERR_UNSUPPORTED_ASSIGNOR, "unknown ServerAssignor: UNSUPPORTED_ASSIGNOR");
    is_str(r.msg, "ServerAssignor sticky-x is not supported. Supported assignors: uniform, range.",
           "Kafka's message");
    bad = (struct hb){ .member = "x", .epoch = 0, .names = ORDERS, .nnames = 1,
                       .rebalance_ms = 1000, .nowned = 0, .regex = "audit-(" };
    r = *heartbeat(&bad);
    is_int(r.err, 128, "a bad regex: INVALID_REGULAR_EXPRESSION");
    bad.v0 = true;
    bad.member = "";
    bad.regex = NULL;
    r = *heartbeat(&bad);
    if (r.err != KP_ERR_GROUP_MAX_SIZE_REACHED)
        diag("%s", r.msg);
    is_int(r.err, KP_ERR_GROUP_MAX_SIZE_REACHED, "v0: a new member without id is named by the "
           "coordinator, then refused (group full)");

    /* ---- offsets with member epochs ----------------------------------- */
    is_int(commit("member-a", s[0].epoch, 9), 0, "OffsetCommit v9 with the member epoch");
    is_int(commit("member-a", s[0].epoch - 1, 9), KP_ERR_STALE_MEMBER_EPOCH,
           "an old member epoch: STALE_MEMBER_EPOCH");
    is_int(commit("member-a", s[0].epoch, 8), KP_ERR_UNSUPPORTED_VERSION,
           "OffsetCommit v8 from a KIP-848 member: UNSUPPORTED_VERSION");
    is_int(commit("nobody", 1, 9), KP_ERR_UNKNOWN_MEMBER_ID, "unknown member: UNKNOWN_MEMBER_ID");
    is_int(commit("", -1, 9), KP_ERR_UNKNOWN_MEMBER_ID, "admin commit on a non-empty group refused");
    is_int(gc_validate_offset_fetch(&gc, "g1", "member-b", s[1].epoch), 0,
           "OffsetFetch v9 with the member epoch");
    is_int(gc_validate_offset_fetch(&gc, "g1", "member-b", 1), KP_ERR_STALE_MEMBER_EPOCH,
           "OffsetFetch with a stale epoch: STALE_MEMBER_EPOCH");

    /* ---- describe ----------------------------------------------------- */
    struct kp_arena a;
    kp_arena_init(&a);
    struct kp_ConsumerGroupDescribeResponse_DescribedGroup dg;
    memset(&dg, 0, sizeof dg);
    gc_consumer_describe(&gc, "g1", &dg, &a);
    is_int(dg.ErrorCode, 0, "ConsumerGroupDescribe g1");
    is_str(dg.GroupState.s, "Stable", "state Stable");
    is_int(dg.GroupEpoch, 5, "group epoch 5");
    is_int(dg.AssignmentEpoch, 5, "assignment epoch 5");
    is_str(dg.AssignorName.s, "uniform", "assignor uniform (the default)");
    is_int(dg.Members.count, 3, "3 members");
    ok(dg.Members.count == 3 && dg.Members.items[0].Assignment.TopicPartitions.count == 1 &&
           !strcmp(dg.Members.items[0].Assignment.TopicPartitions.items[0].TopicName.s, "orders"),
       "assignments carry topic names");
    memset(&dg, 0, sizeof dg);
    gc_consumer_describe(&gc, "nope", &dg, &a);
    is_int(dg.ErrorCode, KP_ERR_GROUP_ID_NOT_FOUND, "unknown group: GROUP_ID_NOT_FOUND");
    kp_arena_free(&a);

    /* ---- static members ------------------------------------------------ */
    r = beat("member-b", -1, NULL, -1);
    s[1].active = false;
    r = beat("member-c", -1, NULL, -1);
    s[2].active = false;
    settle(s, 3, &twice);
    struct hb st = { .member = "static-1", .epoch = 0, .instance = "inst", .names = ORDERS,
                     .nnames = 1, .rebalance_ms = 30000, .nowned = 0 };
    r = *heartbeat(&st);
    is_int(r.err, 0, "static member joins");
    struct sim ss = { "static-1", r.epoch, { 0 }, r.nparts, true };
    memcpy(ss.owned, r.parts, sizeof r.parts);
    struct sim all[2] = { s[0], ss };
    settle(all, 2, &twice);
    ok(!twice && all[1].nowned == 3, "the static member owns 3 partitions");
    st = (struct hb){ .member = "static-2", .epoch = 0, .instance = "inst", .names = ORDERS,
                      .nnames = 1, .rebalance_ms = 30000, .nowned = 0 };
    r = *heartbeat(&st);
    is_int(r.err, KP_ERR_UNRELEASED_INSTANCE_ID, "same instance id, other member, still in use: "
           "UNRELEASED_INSTANCE_ID");
    struct hb leave2 = { .member = "static-1", .epoch = -2, .instance = "inst", .nowned = -1 };
    r = *heartbeat(&leave2);
    is_int(r.epoch, -2, "static member leaves temporarily (epoch -2)");
    int32_t ge = group(&gc)->group_epoch;
    r = *heartbeat(&st);
    if (r.err)
        diag("%s", r.msg);
    is_int(r.err, 0, "the instance comes back under a new member id");
    is_int(group(&gc)->group_epoch, ge, "no group epoch bump for a static rejoin");
    is_int(r.nparts, 3, "it gets the partitions of its previous incarnation");

    /* ---- regex subscription -------------------------------------------- */
    struct hb rx = { .member = "rx", .epoch = 0, .regex = "audit-.*", .rebalance_ms = 30000,
                     .nowned = 0, .names = NULL };
    r = *heartbeat(&rx);
    is_int(r.err, 0, "a regex member joins");
    is_int(r.other, 4, "audit-.* resolves to audit-1 and audit-2 (4 partitions), not the "
           "internal topic");

    /* ---- replay ------------------------------------------------------- */
    struct group_coordinator gc2;
    gc_init(&gc2, loop, NULL, &cfg, NULL);
    gc2.meta = gc.meta;
    gc2.modules = &reg;
    int bad_recs = 0;
    for (size_t i = 0; i < nsaved; i++) {
        struct kp_arena ra;
        kp_arena_init(&ra);
        struct grec gr;
        if (grec_decode(saved[i].k, saved[i].kl, saved[i].v, saved[i].vl, &ra, &gr) < 0 ||
            gc_load_record(&gc2, &gr) < 0)
            bad_recs++;
        kp_arena_free(&ra);
    }
    is_int(bad_recs, 0, "%zu records decode and replay", nsaved);
    gc_start(&gc2);
    struct consumer_group *g1 = group(&gc), *g2 = group(&gc2);
    ok(g2 && g2->group_epoch == g1->group_epoch && g2->assignment_epoch == g1->assignment_epoch,
       "replayed group epoch %d and assignment epoch %d", g2 ? g2->group_epoch : -1,
       g2 ? g2->assignment_epoch : -1);
    bool same = g2 && g2->members.count == g1->members.count;
    size_t it = 0;
    void *v;
    while (same && strmap_next(&g1->members, &it, NULL, &v)) {
        struct cgrp_member *m1 = v, *m2 = strmap_get(&g2->members, m1->member_id);
        same = m2 && m2->a.member_epoch == m1->a.member_epoch && m2->a.state == m1->a.state &&
               cgr_set_equal(&m2->a.assigned, &m1->a.assigned) &&
               cgr_set_equal(&m2->target, &m1->target) &&
               (m1->instance_id ? m2->instance_id && !strcmp(m1->instance_id, m2->instance_id)
                                : !m2->instance_id);
    }
    ok(same, "every member comes back with its epoch, state, assignment and target");
    gc_shutdown(&gc2);

    gc_shutdown(&gc);
    ev_loop_destroy(loop);
    module_registry_free(&reg);
    for (size_t i = 0; i < nsaved; i++) {
        free(saved[i].k);
        free(saved[i].v);
    }
    free(saved);
    return done_testing();
}
