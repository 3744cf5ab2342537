/* The coordinator: group map, offsets (OffsetCommit, OffsetDelete,
 * DeleteGroups, expiry) and loading, after Kafka's GroupCoordinator and
 * GroupMetadataManager. */
#include "group/coordinator.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group/classic_group.h"
#include "group/consumer_group.h"
#include "group/group_records.h"
#include "proto/kafka_errors.h"
#include "util/logger.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gc_config_default(struct gc_config *cfg)
{
    cfg->min_session_timeout_ms = 6000;
    cfg->max_session_timeout_ms = 1800000;
    cfg->max_size = INT32_MAX;
    cfg->initial_rebalance_delay_ms = 3000;
    cfg->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->retention_check_interval_ms = 600000;
    cfg->offset_metadata_max_bytes = 4096;
    cfg->consumer_session_timeout_ms = 45000;
    cfg->consumer_heartbeat_interval_ms = 5000;
    cfg->consumer_max_size = INT32_MAX;
    cfg->consumer_assignors = NULL; /* ASSIGNOR_DEFAULT_LIST */
}

static void expiry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct group_coordinator *gc = t->data;
    gc_expire_offsets(gc, gc->now_ms());
}

int gc_init(struct group_coordinator *gc, struct ev_loop *loop, struct sluice_logger *log,
            const struct gc_config *cfg, const struct gc_writer *writer)
{
    memset(gc, 0, sizeof *gc);
    gc->loop = loop;
    gc->log = log;
    gc->cfg = *cfg;
    if (writer)
        gc->writer = *writer;
    gc->now_ms = wall_ms;
    strmap_init(&gc->groups);
    offset_store_init(&gc->offsets);
    double period = (double)(cfg->retention_check_interval_ms > 0
                                 ? cfg->retention_check_interval_ms
                                 : 600000) / 1000.0;
    ev_timer_init(&gc->expiry, expiry_cb, period, period);
    gc->expiry.data = gc;
    return 0;
}

void gc_start(struct group_coordinator *gc)
{
    /* Groups known only through their offsets (simple consumers, or whose
     * metadata was removed) come back as Empty groups, as Kafka loads them. */
    size_t it = 0;
    const char *id;
    while ((id = offset_store_next_group(&gc->offsets, &it)))
        if (!gc_group(gc, id) && offset_store_count(&gc->offsets, id) > 0)
            cg_create(gc, id);
    it = 0;
    void *v;
    while (strmap_next(&gc->groups, &it, NULL, &v)) {
        struct group *g = v;
        if (g->type == GROUP_TYPE_CLASSIC)
            cg_start_loaded((struct classic_group *)g);
        else
            cgrp_start_loaded((struct consumer_group *)g);
    }
    ev_timer_start(gc->loop, &gc->expiry);
    gc->active = true;
}

void gc_remove_group(struct group_coordinator *gc, struct group *g)
{
    strmap_del(&gc->groups, g->id);
    if (g->type == GROUP_TYPE_CLASSIC)
        cg_free((struct classic_group *)g);
    else
        cgrp_free((struct consumer_group *)g);
}

void gc_shutdown(struct group_coordinator *gc)
{
    gc->active = false;
    ev_timer_stop(gc->loop, &gc->expiry);
    while (gc->groups.count) {
        size_t it = 0;
        void *v;
        if (!strmap_next(&gc->groups, &it, NULL, &v))
            break;
        gc_remove_group(gc, v);
    }
    strmap_free(&gc->groups);
    strmap_init(&gc->groups);
    offset_store_free(&gc->offsets);
    offset_store_init(&gc->offsets);
}

struct group *gc_group(struct group_coordinator *gc, const char *id)
{
    return id ? strmap_get(&gc->groups, id) : NULL;
}

int16_t gc_validate_group(struct group_coordinator *gc, const char *id, bool allow_empty)
{
    if (!id || (!allow_empty && !id[0]))
        return KP_ERR_INVALID_GROUP_ID;
    if (!gc->active)
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    return KP_ERR_NONE;
}

void gc_write(struct group_coordinator *gc, const char *group_id, const struct gc_record *recs,
              size_t n, gc_write_done done, void *ud)
{
    if (!gc->writer.append) {
        done(ud, KP_ERR_NONE);
        return;
    }
    int16_t err = gc->writer.append(gc->writer.ctx, group_id, recs, n, done, ud);
    if (err)
        done(ud, err);
}

/* ---- OffsetCommit ------------------------------------------------------ */

struct commit_ctx {
    struct group_coordinator *gc;
    char *group_id;
    uint64_t uid;
    uint64_t append_seq; /* the batch's place among the writes */
    struct gc_commit_part *parts;
    int n;
    gc_commit_cb cb;
    void *ud;
};

/* Marks a partition whose record is in the batch being written (no Kafka
 * error code is this negative). */
#define PART_WRITTEN INT16_MIN

int16_t gc_map_commit_error(int16_t err)
{
    return kp_coordinator_append_error(err, KP_ERR_INVALID_COMMIT_OFFSET_SIZE);
}

static void commit_done(void *ud, int16_t err)
{
    struct commit_ctx *c = ud;
    struct group_coordinator *gc = c->gc;
    err = gc_map_commit_error(err);
    struct group *g = gc->active ? gc_group(gc, c->group_id) : NULL;
    bool apply = !err && g && g->uid == c->uid;
    for (int i = 0; i < c->n; i++) {
        struct gc_commit_part *p = &c->parts[i];
        if (p->error != PART_WRITTEN)
            continue; /* refused before the write */
        p->error = err;
        if (!gc->active)
            continue;
        struct offset_slot *sl = offset_store_slot(&gc->offsets, c->group_id, p->topic,
                                                   p->partition, false);
        if (apply) {
            struct offset_entry e = { p->offset, p->leader_epoch, (char *)p->metadata,
                                      p->commit_ts, p->expire_ts, c->append_seq };
            if (offset_store_put(&gc->offsets, c->group_id, p->topic, p->partition, &e) < 0)
                p->error = KP_ERR_UNKNOWN_SERVER_ERROR;
            sl = offset_store_slot(&gc->offsets, c->group_id, p->topic, p->partition, false);
        }
        if (sl)
            offset_store_unpend(&gc->offsets, c->group_id, sl);
    }
    c->cb(c->ud, c->parts, c->n);
    free(c->group_id);
    free(c);
}

void gc_encode_commit(struct wire_writer *kw, struct wire_writer *vw, const char *group_id,
                      const struct gc_commit_part *p, struct gc_record *out)
{
    wire_writer_init(kw);
    wire_writer_init(vw);
    grec_encode_offset_key(kw, group_id, p->topic, p->partition);
    struct kp_OffsetCommitValue v = { p->offset, p->leader_epoch,
                                      kp_str_c(p->metadata ? p->metadata : ""), p->commit_ts,
                                      p->expire_ts };
    grec_encode_offset_value(vw, &v);
    *out = (struct gc_record){ kw->buf, (int32_t)kw->len, vw->buf, (int32_t)vw->len };
}

/* validateOffsetCommit */
static int16_t validate_offset_commit(struct classic_group *g, const struct gc_commit_req *req)
{
    const char *member = req->member_id ? req->member_id : "";
    if (g->state == CG_DEAD)
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    if (req->generation_id >= 0 || member[0] || req->group_instance_id) {
        int16_t err = cg_validate_member(g, member, req->group_instance_id);
        if (err)
            return err;
        return req->generation_id != g->generation_id ? KP_ERR_ILLEGAL_GENERATION : 0;
    }
    /* Without member id and generation, only an empty group takes commits. */
    return g->state != CG_EMPTY ? KP_ERR_UNKNOWN_MEMBER_ID : KP_ERR_NONE;
}

static void fail_parts(struct gc_commit_part *parts, int n, int16_t err)
{
    for (int i = 0; i < n; i++)
        if (!parts[i].error)
            parts[i].error = err;
}

void gc_commit_offsets(struct group_coordinator *gc, const struct gc_commit_req *req,
                       struct gc_commit_part *parts, int n, gc_commit_cb cb, void *ud)
{
    int16_t err = gc_validate_group(gc, req->group_id, true);
    struct group *base = err ? NULL : gc_group(gc, req->group_id);
    if (!err && !base) {
        if (req->generation_id < 0) {
            /* A consumer that uses Kafka only to store offsets: a simple
             * group is created for it. */
            if (!(base = (struct group *)cg_create(gc, req->group_id)))
                err = KP_ERR_UNKNOWN_SERVER_ERROR;
        } else {
            err = req->group_id_not_found ? KP_ERR_GROUP_ID_NOT_FOUND : KP_ERR_ILLEGAL_GENERATION;
        }
    }
    struct classic_group *g = NULL;
    if (!err && base->type == GROUP_TYPE_CONSUMER) {
        /* KIP-848: the generation is the member epoch. */
        err = cgrp_validate_commit((struct consumer_group *)base, req->member_id,
                                   req->generation_id, req->api_version);
    } else if (!err) {
        g = (struct classic_group *)base;
        err = validate_offset_commit(g, req);
        if (!err && g->state == CG_COMPLETING_REBALANCE)
            /* The member has its new generation but no assignment yet. */
            err = KP_ERR_REBALANCE_IN_PROGRESS;
    }
    if (err) {
        fail_parts(parts, n, err);
        cb(ud, parts, n);
        return;
    }
    if (g && (g->state == CG_STABLE || g->state == CG_PREPARING_REBALANCE)) {
        /* Commits count as liveness; during PreparingRebalance they are
         * still accepted and the heartbeat tells the member to rejoin. */
        struct cg_member *m = strmap_get(&g->members, req->member_id ? req->member_id : "");
        if (m)
            cg_member_activity(g, m);
    }
    struct commit_ctx *c = calloc(1, sizeof *c);
    struct gc_record *recs = calloc(n > 0 ? (size_t)n : 1, sizeof *recs);
    struct wire_writer *kw = calloc(n > 0 ? (size_t)n : 1, sizeof *kw);
    struct wire_writer *vw = calloc(n > 0 ? (size_t)n : 1, sizeof *vw);
    if (!c || !recs || !kw || !vw || !(c->group_id = strdup(req->group_id))) {
        free(c);
        free(recs);
        free(kw);
        free(vw);
        fail_parts(parts, n, KP_ERR_UNKNOWN_SERVER_ERROR);
        cb(ud, parts, n);
        return;
    }
    c->gc = gc;
    c->uid = base->uid;
    c->parts = parts;
    c->n = n;
    c->cb = cb;
    c->ud = ud;
    size_t nrec = 0;
    for (int i = 0; i < n; i++) {
        struct gc_commit_part *p = &parts[i];
        if (p->error)
            continue;
        if (p->metadata && (int64_t)strlen(p->metadata) > gc->cfg.offset_metadata_max_bytes) {
            p->error = KP_ERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        struct offset_slot *sl = offset_store_slot(&gc->offsets, req->group_id, p->topic,
                                                   p->partition, true);
        if (!sl) {
            p->error = KP_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        sl->pending++;
        gc_encode_commit(&kw[nrec], &vw[nrec], req->group_id, p, &recs[nrec]);
        nrec++;
        p->error = PART_WRITTEN;
    }
    if (nrec == 0) {
        commit_done(c, KP_ERR_NONE);
    } else {
        c->append_seq = offset_store_next_seq(&gc->offsets);
        gc_write(gc, req->group_id, recs, nrec, commit_done, c);
    }
    for (size_t i = 0; i < nrec; i++) {
        wire_writer_free(&kw[i]);
        wire_writer_free(&vw[i]);
    }
    free(kw);
    free(vw);
    free(recs);
}

/* ---- removal: OffsetDelete, DeleteGroups, expiry ---------------------- */

struct tombstones {
    struct wire_writer *keys;
    size_t n, cap;
};

static void tomb_add_offset(struct tombstones *t, const char *group, const char *topic,
                            int32_t partition)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 8;
        struct wire_writer *nk = realloc(t->keys, nc * sizeof *nk);
        if (!nk)
            return;
        t->keys = nk;
        t->cap = nc;
    }
    wire_writer_init(&t->keys[t->n]);
    grec_encode_offset_key(&t->keys[t->n++], group, topic, partition);
}

static void tomb_add_group(struct tombstones *t, const char *group)
{
    tomb_add_offset(t, group, "", 0); /* reserve a slot, then rewrite it */
    if (t->n && t->keys[t->n - 1].buf) {
        wire_writer_free(&t->keys[t->n - 1]);
        wire_writer_init(&t->keys[t->n - 1]);
        grec_encode_group_key(&t->keys[t->n - 1], group);
    }
}

static void tomb_done(void *ud, int16_t err)
{
    struct group_coordinator *gc = ud;
    if (err)
        slog(gc->log, SLOG_WARN, "group",
             "writing tombstones to __consumer_offsets failed (%s); the next expiry pass "
             "writes them again", kp_error_name(err));
}

/* Tombstones need no acknowledgement: a lost one is written again by the
 * next expiry pass (Kafka appends them with acks=0). */
static void tomb_flush(struct group_coordinator *gc, const char *group, struct tombstones *t)
{
    if (t->n) {
        struct gc_record *recs = calloc(t->n, sizeof *recs);
        if (recs) {
            for (size_t i = 0; i < t->n; i++)
                recs[i] = (struct gc_record){ t->keys[i].buf, (int32_t)t->keys[i].len, NULL, -1 };
            gc_write(gc, group, recs, t->n, tomb_done, gc);
            free(recs);
        }
    }
    for (size_t i = 0; i < t->n; i++)
        wire_writer_free(&t->keys[i]);
    free(t->keys);
    memset(t, 0, sizeof *t);
}

/* Drops a Dead group: tombstones for its offsets and, when it ever had a
 * generation (not only stored offsets), its metadata. */
static void remove_dead_group(struct group_coordinator *gc, struct classic_group *g,
                              struct tombstones *t)
{
    size_t it = 0;
    struct offset_slot *sl;
    while ((sl = offset_store_next(&gc->offsets, g->base.id, &it)))
        tomb_add_offset(t, g->base.id, sl->topic, sl->partition);
    offset_store_delete_group(&gc->offsets, g->base.id);
    if (g->generation_id > 0)
        tomb_add_group(t, g->base.id);
    gc_remove_group(gc, &g->base);
}

int16_t gc_delete_group(struct group_coordinator *gc, const char *group_id)
{
    int16_t err = gc_validate_group(gc, group_id, true);
    if (err)
        return err;
    struct group *base = gc_group(gc, group_id);
    if (!base)
        return KP_ERR_GROUP_ID_NOT_FOUND;
    if (base->type == GROUP_TYPE_CONSUMER) {
        struct consumer_group *cg = (struct consumer_group *)base;
        if (cg->members.count)
            return KP_ERR_NON_EMPTY_GROUP;
        struct tombstones t = { 0 };
        size_t it = 0;
        struct offset_slot *sl;
        while ((sl = offset_store_next(&gc->offsets, group_id, &it)))
            tomb_add_offset(&t, group_id, sl->topic, sl->partition);
        offset_store_delete_group(&gc->offsets, group_id);
        char *id = strdup(group_id);
        if (!id) {
            tomb_flush(gc, group_id, &t);
            return KP_ERR_UNKNOWN_SERVER_ERROR;
        }
        tomb_flush(gc, id, &t);
        cgrp_delete(gc, cg);
        slog(gc->log, SLOG_INFO, "group", "group %s deleted", id);
        free(id);
        return KP_ERR_NONE;
    }
    struct classic_group *g = (struct classic_group *)base;
    switch (g->state) {
    case CG_DEAD:
        return KP_ERR_GROUP_ID_NOT_FOUND;
    case CG_EMPTY: {
        char *id = strdup(group_id);
        if (!id)
            return KP_ERR_UNKNOWN_SERVER_ERROR;
        struct tombstones t = { 0 };
        cg_transition(g, CG_DEAD);
        remove_dead_group(gc, g, &t);
        tomb_flush(gc, id, &t);
        slog(gc->log, SLOG_INFO, "group", "group %s deleted", id);
        free(id);
        return KP_ERR_NONE;
    }
    default:
        return KP_ERR_NON_EMPTY_GROUP;
    }
}

int16_t gc_delete_offsets(struct group_coordinator *gc, const char *group_id,
                          struct gc_commit_part *parts, int n)
{
    int16_t err = gc_validate_group(gc, group_id, false);
    if (err)
        return err;
    struct group *base = gc_group(gc, group_id);
    if (!base)
        return KP_ERR_GROUP_ID_NOT_FOUND;
    if (base->type == GROUP_TYPE_CONSUMER) {
        /* ConsumerGroup: any state; subscribed topics are refused. */
        struct consumer_group *cg = (struct consumer_group *)base;
        struct tombstones t = { 0 };
        for (int i = 0; i < n; i++) {
            if (parts[i].error)
                continue;
            if (cgrp_is_subscribed(cg, parts[i].topic)) {
                parts[i].error = KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            if (offset_store_delete(&gc->offsets, group_id, parts[i].topic, parts[i].partition))
                tomb_add_offset(&t, group_id, parts[i].topic, parts[i].partition);
        }
        tomb_flush(gc, group_id, &t);
        return KP_ERR_NONE;
    }
    struct classic_group *g = (struct classic_group *)base;
    if (g->state == CG_DEAD)
        return KP_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != CG_EMPTY && !cg_is_consumer_group(g))
        return KP_ERR_NON_EMPTY_GROUP;
    struct tombstones t = { 0 };
    for (int i = 0; i < n; i++) {
        if (parts[i].error)
            continue;
        if (g->state != CG_EMPTY && cg_is_subscribed(g, parts[i].topic)) {
            parts[i].error = KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
            continue;
        }
        if (offset_store_delete(&gc->offsets, group_id, parts[i].topic, parts[i].partition))
            tomb_add_offset(&t, group_id, parts[i].topic, parts[i].partition);
    }
    tomb_flush(gc, group_id, &t);
    return KP_ERR_NONE;
}

void gc_topic_deleted(struct group_coordinator *gc, const char *topic)
{
    if (!gc->active)
        return;
    size_t git = 0;
    const char *gid;
    while ((gid = offset_store_next_group(&gc->offsets, &git))) {
        struct tombstones t = { 0 };
        char *id = strdup(gid);
        size_t it = 0;
        struct offset_slot *sl;
        while (id && (sl = offset_store_next(&gc->offsets, id, &it))) {
            if (strcmp(sl->topic, topic) != 0)
                continue;
            tomb_add_offset(&t, id, sl->topic, sl->partition);
            offset_store_delete(&gc->offsets, id, topic, sl->partition);
        }
        if (id)
            tomb_flush(gc, id, &t);
        free(id);
    }
}

/* ConsumerGroup's offset expiration: by commit time (or explicit expire
 * time), never for a topic a member subscribes to; an Empty group without
 * offsets is deleted. */
static void expire_consumer_group(struct group_coordinator *gc, struct consumer_group *g,
                                  int64_t now, size_t *expired_total, size_t *groups_removed)
{
    struct tombstones t = { 0 };
    size_t oit = 0;
    struct offset_slot *sl;
    while ((sl = offset_store_next(&gc->offsets, g->base.id, &oit))) {
        if (sl->pending > 0 || cgrp_is_subscribed(g, sl->topic))
            continue;
        bool expired = sl->e.expire_ts >= 0 ? now >= sl->e.expire_ts
                                            : now - sl->e.commit_ts >= gc->cfg.offsets_retention_ms;
        if (expired) {
            tomb_add_offset(&t, g->base.id, sl->topic, sl->partition);
            offset_store_delete(&gc->offsets, g->base.id, sl->topic, sl->partition);
            (*expired_total)++;
        }
    }
    char *id = strdup(g->base.id);
    if (id)
        tomb_flush(gc, id, &t);
    if (id && g->members.count == 0 && offset_store_count(&gc->offsets, id) == 0) {
        cgrp_delete(gc, g);
        (*groups_removed)++;
    }
    free(id);
}

/* GroupMetadata.removeExpiredOffsets + cleanupGroupMetadata */
void gc_expire_offsets(struct group_coordinator *gc, int64_t now)
{
    if (!gc->active)
        return;
    int64_t retention = gc->cfg.offsets_retention_ms;
    size_t it = 0;
    void *v;
    size_t expired_total = 0, groups_removed = 0;
    while (strmap_next(&gc->groups, &it, NULL, &v)) {
        struct group *base = v;
        if (base->type == GROUP_TYPE_CONSUMER) {
            expire_consumer_group(gc, (struct consumer_group *)base, now, &expired_total,
                                  &groups_removed);
            continue;
        }
        struct classic_group *g = (struct classic_group *)base;
        /* Which clock an offset's age runs on depends on the group: since
         * it became Empty, since its commit for a stable consumer group
         * (only topics no member subscribes to), since its commit for a
         * simple group; never for other live groups. */
        int mode;
        if (g->protocol_type && g->state == CG_EMPTY)
            mode = 0;
        else if (g->protocol_type && cg_is_consumer_group(g) && g->subscribed_known &&
                 g->state == CG_STABLE)
            mode = 1;
        else if (!g->protocol_type)
            mode = 2;
        else
            mode = -1;
        struct tombstones t = { 0 };
        if (mode >= 0) {
            size_t oit = 0;
            struct offset_slot *sl;
            while ((sl = offset_store_next(&gc->offsets, g->base.id, &oit))) {
                if (sl->pending > 0)
                    continue;
                if (mode == 1 && cg_is_subscribed(g, sl->topic))
                    continue;
                bool expired;
                if (sl->e.expire_ts >= 0) {
                    expired = now >= sl->e.expire_ts;
                } else {
                    int64_t base_ts = mode == 0 && g->current_state_ts >= 0
                                          ? g->current_state_ts
                                          : sl->e.commit_ts;
                    expired = now - base_ts >= retention;
                }
                if (expired) {
                    tomb_add_offset(&t, g->base.id, sl->topic, sl->partition);
                    offset_store_delete(&gc->offsets, g->base.id, sl->topic, sl->partition);
                    expired_total++;
                }
            }
        }
        char *id = strdup(g->base.id);
        if (g->state == CG_EMPTY && offset_store_count(&gc->offsets, g->base.id) == 0) {
            cg_transition(g, CG_DEAD);
            remove_dead_group(gc, g, &t);
            groups_removed++;
        }
        if (id)
            tomb_flush(gc, id, &t);
        free(id);
    }
    if (expired_total || groups_removed)
        slog(gc->log, SLOG_INFO, "group", "removed %zu expired offsets and %zu empty groups",
             expired_total, groups_removed);
}

/* ---- loading ------------------------------------------------------------ */

/* An offset record; producer_id >= 0: from a transactional batch of that
 * producer, pending until its marker is replayed. */
static int load_offset(struct group_coordinator *gc, const struct grec *rec, int64_t producer_id,
                       int32_t offsets_partition)
{
    const struct kp_OffsetCommitKey *k = &rec->okey;
    if (!k->group.s || !k->topic.s)
        return 0;
    if (rec->tombstone) {
        offset_store_delete(&gc->offsets, k->group.s, k->topic.s, k->partition);
        return 0;
    }
    const struct kp_OffsetCommitValue *ov = &rec->oval;
    struct offset_entry e = {
        ov->offset,
        rec->value_version >= 3 ? ov->leaderEpoch : -1,
        (char *)(ov->metadata.s ? ov->metadata.s : ""),
        ov->commitTimestamp,
        rec->value_version == 1 ? ov->expireTimestamp : -1,
        offset_store_next_seq(&gc->offsets), /* replayed in log order */
    };
    if (producer_id < 0)
        return offset_store_put(&gc->offsets, k->group.s, k->topic.s, k->partition, &e);
    struct offset_txn_pending *p = offset_store_txn_add(&gc->offsets, k->group.s, k->topic.s,
                                                        k->partition, producer_id,
                                                        offsets_partition, &e);
    if (!p)
        return -1;
    p->appended = true;
    return 0;
}

int gc_load_txn_offset(struct group_coordinator *gc, const struct grec *rec, int64_t producer_id,
                       int32_t offsets_partition)
{
    if (rec->type != GREC_OFFSET)
        return gc_load_record(gc, rec);
    return load_offset(gc, rec, producer_id, offsets_partition);
}

int gc_load_record(struct group_coordinator *gc, const struct grec *rec)
{
    if (rec->type == GREC_OFFSET)
        return load_offset(gc, rec, -1, -1);
    if (rec->type == GREC_GROUP) {
        const char *id = rec->gkey.group.s;
        if (!id)
            return 0;
        if (rec->tombstone) {
            struct group *g = gc_group(gc, id);
            if (g)
                gc_remove_group(gc, g);
            return 0;
        }
        return cg_load(gc, id, &rec->gval) ? 0 : -1;
    }
    if (rec->type >= GREC_CG_METADATA && rec->type <= GREC_CG_CURRENT)
        return cgrp_load_record(gc, rec);
    return 0;
}
