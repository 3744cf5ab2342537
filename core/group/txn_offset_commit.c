/* TxnOffsetCommit on the group side, after Kafka's
 * GroupCoordinator.handleTxnOffsetCommit and GroupMetadataManager's
 * pending transactional offsets: the commit is written to
 * __consumer_offsets in a transactional batch of the producer and kept
 * apart from the committed offsets until the transaction's marker lands on
 * that partition (gc_txn_complete), which makes it committed or drops it. */
#include <stdlib.h>
#include <string.h>

#include "group/classic_group.h"
#include "group/consumer_group.h"
#include "group/coordinator.h"
#include "group/group_records.h"
#include "proto/kafka_errors.h"

/* A partition whose record is in the batch being written. */
#define PART_WRITTEN INT16_MIN

struct txn_commit_ctx {
    struct group_coordinator *gc;
    struct gc_commit_part *parts;
    struct offset_txn_pending **pending; /* per part, NULL when not written */
    int n;
    gc_commit_cb cb;
    void *ud;
};

static void txn_commit_done(void *ud, int16_t err)
{
    struct txn_commit_ctx *c = ud;
    err = gc_map_commit_error(err);
    for (int i = 0; i < c->n; i++) {
        struct gc_commit_part *p = &c->parts[i];
        if (p->error != PART_WRITTEN)
            continue;
        p->error = err;
        if (!c->gc->active || !c->pending[i])
            continue;
        if (err)
            offset_store_txn_fail(&c->gc->offsets, c->pending[i]);
        else
            c->pending[i]->appended = true;
    }
    c->cb(c->ud, c->parts, c->n);
    free(c->pending);
    free(c);
}

/* validateOffsetCommit with isTransactional: a commit without member id
 * and generation is accepted whatever the group's state. */
static int16_t validate(struct group_coordinator *gc, struct group *base,
                        const struct gc_txn_commit_req *req)
{
    const char *member = req->member_id ? req->member_id : "";
    bool identified = req->generation_id >= 0 || member[0] || req->group_instance_id;
    if (base->type == GROUP_TYPE_CONSUMER)
        return identified ? cgrp_validate_commit((struct consumer_group *)base, member,
                                                 req->generation_id, 9)
                          : KP_ERR_NONE;
    struct classic_group *g = (struct classic_group *)base;
    (void)gc;
    if (g->state == CG_DEAD)
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!identified)
        return KP_ERR_NONE;
    int16_t err = cg_validate_member(g, member, req->group_instance_id);
    if (err)
        return err;
    return req->generation_id != g->generation_id ? KP_ERR_ILLEGAL_GENERATION : KP_ERR_NONE;
}

void gc_txn_commit_offsets(struct group_coordinator *gc, const struct gc_txn_commit_req *req,
                           struct gc_commit_part *parts, int n, gc_commit_cb cb, void *ud)
{
    int16_t err = gc_validate_group(gc, req->group_id, false);
    struct group *base = err ? NULL : gc_group(gc, req->group_id);
    if (!err && !base && !(base = (struct group *)cg_create(gc, req->group_id)))
        err = KP_ERR_UNKNOWN_SERVER_ERROR;
    if (!err)
        err = validate(gc, base, req);
    if (!err && !gc->writer.append_txn && gc->writer.append)
        err = KP_ERR_UNKNOWN_SERVER_ERROR;
    struct txn_commit_ctx *c = err ? NULL : calloc(1, sizeof *c);
    if (c)
        c->pending = calloc(n > 0 ? (size_t)n : 1, sizeof *c->pending);
    struct gc_record *recs = c ? calloc(n > 0 ? (size_t)n : 1, sizeof *recs) : NULL;
    struct wire_writer *kw = recs ? calloc(n > 0 ? (size_t)n : 1, sizeof *kw) : NULL;
    struct wire_writer *vw = kw ? calloc(n > 0 ? (size_t)n : 1, sizeof *vw) : NULL;
    if (!err && (!c || !c->pending || !vw)) {
        err = KP_ERR_UNKNOWN_SERVER_ERROR;
        if (c)
            free(c->pending);
        free(c);
        free(recs);
        free(kw);
        c = NULL;
    }
    if (err) {
        for (int i = 0; i < n; i++)
            if (!parts[i].error)
                parts[i].error = err;
        cb(ud, parts, n);
        return;
    }
    c->gc = gc;
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
        /* Pending from now on (prepareTxnOffsetCommit), so a RequireStable
         * fetch already sees the commit in flight. */
        struct offset_entry e = { p->offset, p->leader_epoch, (char *)p->metadata, p->commit_ts,
                                  p->expire_ts };
        c->pending[i] = offset_store_txn_add(&gc->offsets, req->group_id, p->topic, p->partition,
                                             req->producer_id, req->offsets_partition, &e);
        if (!c->pending[i]) {
            p->error = KP_ERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        gc_encode_commit(&kw[nrec], &vw[nrec], req->group_id, p, &recs[nrec]);
        nrec++;
        p->error = PART_WRITTEN;
    }
    if (nrec == 0 || !gc->writer.append_txn) {
        txn_commit_done(c, KP_ERR_NONE);
    } else {
        int16_t werr = gc->writer.append_txn(gc->writer.ctx, req->group_id, recs, nrec,
                                             req->producer_id, req->producer_epoch,
                                             txn_commit_done, c);
        if (werr)
            txn_commit_done(c, werr);
    }
    for (size_t i = 0; i < nrec; i++) {
        wire_writer_free(&kw[i]);
        wire_writer_free(&vw[i]);
    }
    free(kw);
    free(vw);
    free(recs);
}

void gc_txn_complete(struct group_coordinator *gc, int32_t offsets_partition,
                     int64_t producer_id, bool commit)
{
    offset_store_txn_complete(&gc->offsets, offsets_partition, producer_id, commit);
}

int gc_load_txn_offset(struct group_coordinator *gc, const struct grec *rec, int64_t producer_id,
                       int32_t offsets_partition)
{
    if (rec->type != GREC_OFFSET || rec->tombstone)
        return gc_load_record(gc, rec);
    const struct kp_OffsetCommitKey *k = &rec->okey;
    if (!k->group.s || !k->topic.s)
        return 0;
    const struct kp_OffsetCommitValue *ov = &rec->oval;
    struct offset_entry e = {
        ov->offset,
        rec->value_version >= 3 ? ov->leaderEpoch : -1,
        (char *)(ov->metadata.s ? ov->metadata.s : ""),
        ov->commitTimestamp,
        rec->value_version == 1 ? ov->expireTimestamp : -1,
    };
    struct offset_txn_pending *p = offset_store_txn_add(&gc->offsets, k->group.s, k->topic.s,
                                                        k->partition, producer_id,
                                                        offsets_partition, &e);
    if (!p)
        return -1;
    p->appended = true;
    return 0;
}
