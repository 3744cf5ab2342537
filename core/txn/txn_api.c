/* InitProducerId (transactional), AddPartitionsToTxn (24) v0-5,
 * AddOffsetsToTxn (25) v0-4, EndTxn (26) v0-4, WriteTxnMarkers (27) v0-1,
 * TxnOffsetCommit (28) v0-4, DescribeTransactions (65) v0,
 * ListTransactions (66) v0-1: request checks
 * and answers as KafkaApis does them, the logic in txn_coordinator.c. */
#include "txn/txn_api.h"

#include <stdlib.h>
#include <string.h>

#include "broker/authz.h"
#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/offsets_topic.h"
#include "txn/txn_coordinator.h"

/* Versions that predate PRODUCER_FENCED get INVALID_PRODUCER_EPOCH. */
static int16_t fenced_for(int16_t err, int16_t version, int16_t fenced_min)
{
    return err == KP_ERR_PRODUCER_FENCED && version < fenced_min ? KP_ERR_INVALID_PRODUCER_EPOCH
                                                                  : err;
}

static char *rq_cstr(struct request *rq, struct kp_str s)
{
    if (!s.s)
        return NULL;
    char *c = rq_alloc(rq, 1, s.len + 1);
    if (c)
        memcpy(c, s.s, (size_t)s.len);
    return c;
}

/* KafkaApis: WRITE on the transactional id (null: let the coordinator
 * answer INVALID_REQUEST). */
static bool may_write_txn(struct request *rq, const char *id)
{
    return !id || authz_allowed(rq, SLUICE_ACL_OP_WRITE, SLUICE_RES_TRANSACTIONAL_ID, id);
}

/* ---- InitProducerId ------------------------------------------------------ */

static void init_done(void *ud, int16_t err, int64_t pid, int16_t epoch)
{
    struct request *rq = ud;
    struct kp_InitProducerIdResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_INIT_PRODUCER_ID)->body, &resp);
    resp.ErrorCode = fenced_for(err, rq->hdr.ApiVersion, 4);
    resp.ProducerId = err ? -1 : pid;
    resp.ProducerEpoch = err ? -1 : epoch;
    rq_respond(rq, &resp);
}

void txn_handle_init_producer_id(struct broker *b, struct request *rq)
{
    const struct kp_InitProducerIdRequest *req = rq->body;
    char *id = rq_cstr(rq, req->TransactionalId);
    if (!id) {
        init_done(rq, KP_ERR_UNKNOWN_SERVER_ERROR, -1, -1);
        return;
    }
    txn_init_producer_id(b->txns, id, req->TransactionTimeoutMs, req->ProducerId,
                         req->ProducerEpoch, init_done, rq);
}

/* ---- AddPartitionsToTxn -------------------------------------------------- */

struct add_wait {
    struct request *rq;
    struct kp_AddPartitionsToTxnResponse resp;
    int pending;
};

struct add_one {
    struct add_wait *w;
    struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *topics;
    int32_t ntopics;
};

static void add_wait_finish(struct add_wait *w)
{
    if (--w->pending > 0)
        return;
    rq_respond(w->rq, &w->resp);
    free(w);
}

/* Sets err on every partition not refused already. */
static void set_all(struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *topics,
                    int32_t n, int16_t err, bool only_none)
{
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < topics[i].ResultsByPartition.count; j++) {
            int16_t *pe = &topics[i].ResultsByPartition.items[j].PartitionErrorCode;
            if (!only_none || *pe == KP_ERR_NONE)
                *pe = err;
        }
}

static void add_done(void *ud, int16_t err)
{
    struct add_one *o = ud;
    int16_t v = o->w->rq->hdr.ApiVersion;
    err = fenced_for(err, v, 2);
    if (err == KP_ERR_TRANSACTION_ABORTABLE && v < 5)
        err = KP_ERR_INVALID_TXN_STATE;
    set_all(o->topics, o->ntopics, err, false);
    add_wait_finish(o->w);
    free(o);
}

/* One transaction of the request: results in topics (allocated here). */
static void add_one_txn(struct broker *b, struct add_wait *w, struct kp_str txn_id, int64_t pid,
                        int16_t epoch, bool verify_only,
                        const struct kp_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic *topics,
                        int32_t ntopics,
                        struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult **out)
{
    struct request *rq = w->rq;
    const struct kp_struct *td = &kp_desc_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult;
    const struct kp_struct *pd =
        &kp_desc_AddPartitionsToTxnResponse_AddPartitionsToTxnPartitionResult;
    int32_t nt = ntopics > 0 ? ntopics : 0;
    struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *res = rq_items(rq, td, nt);
    *out = res;
    struct txn_partitions parts;
    memset(&parts, 0, sizeof parts);
    bool missing = false, oom = !res && nt > 0;
    for (int32_t i = 0; i < nt && !oom; i++) {
        const struct kp_AddPartitionsToTxnRequest_AddPartitionsToTxnTopic *t = &topics[i];
        res[i].Name = t->Name;
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        res[i].ResultsByPartition.count = np;
        res[i].ResultsByPartition.items = rq_items(rq, pd, np);
        if (np && !res[i].ResultsByPartition.items) {
            oom = true;
            break;
        }
        char *name = rq_cstr(rq, t->Name);
        struct broker_topic *bt = name ? broker_topic(b, name) : NULL;
        /* Brokers' v4+ requests are authorized as CLUSTER_ACTION instead. */
        bool allowed = rq->hdr.ApiVersion >= 4 ||
                       (name && authz_allowed(rq, SLUICE_ACL_OP_WRITE, SLUICE_RES_TOPIC, name));
        for (int32_t j = 0; j < np; j++) {
            int32_t p = t->Partitions.items[j];
            res[i].ResultsByPartition.items[j].PartitionIndex = p;
            if (!allowed) {
                res[i].ResultsByPartition.items[j].PartitionErrorCode =
                    KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                missing = true;
            } else if (!bt || p < 0 || p >= bt->nparts) {
                res[i].ResultsByPartition.items[j].PartitionErrorCode =
                    KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                missing = true;
            } else if (txn_partitions_add(&parts, name, p) < 0) {
                oom = true;
            }
        }
    }
    char *id = rq_cstr(rq, txn_id);
    if (oom || !id) {
        set_all(res, nt, KP_ERR_UNKNOWN_SERVER_ERROR, false);
    } else if (rq->hdr.ApiVersion < 4 && !may_write_txn(rq, id)) {
        set_all(res, nt, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false);
    } else if (missing) {
        /* Nothing is added when a topic is unknown: the others are
         * OPERATION_NOT_ATTEMPTED. */
        set_all(res, nt, KP_ERR_OPERATION_NOT_ATTEMPTED, true);
    } else if (verify_only) {
        const struct txn_entry *e;
        int16_t err = txn_verify(b->txns, id, pid, epoch, &e);
        for (int32_t i = 0; i < nt; i++)
            for (int32_t j = 0; j < res[i].ResultsByPartition.count; j++) {
                int16_t pe = err;
                if (!err)
                    pe = txn_verify_partition(e, res[i].Name.s ? res[i].Name.s : "",
                                              res[i].ResultsByPartition.items[j].PartitionIndex);
                if (pe == KP_ERR_TRANSACTION_ABORTABLE && rq->hdr.ApiVersion < 5)
                    pe = KP_ERR_INVALID_TXN_STATE;
                res[i].ResultsByPartition.items[j].PartitionErrorCode = pe;
            }
    } else {
        struct add_one *o = malloc(sizeof *o);
        if (!o) {
            set_all(res, nt, KP_ERR_UNKNOWN_SERVER_ERROR, false);
        } else {
            o->w = w;
            o->topics = res;
            o->ntopics = nt;
            w->pending++;
            txn_add_partitions(b->txns, id, pid, epoch, &parts, add_done, o);
        }
    }
    txn_partitions_free(&parts);
}

void handle_add_partitions_to_txn(struct broker *b, struct request *rq)
{
    const struct kp_AddPartitionsToTxnRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_ADD_PARTITIONS_TO_TXN);
    struct add_wait *w = calloc(1, sizeof *w);
    if (!w) {
        struct net_conn *c = net_request_conn(rq->nreq);
        rq_respond_none(rq);
        if (c)
            net_conn_close(c);
        return;
    }
    w->rq = rq;
    w->pending = 1;
    kp_struct_defaults(rm->body, &w->resp);
    if (rq->hdr.ApiVersion < 4) {
        struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *res = NULL;
        add_one_txn(b, w, req->V3AndBelowTransactionalId, req->V3AndBelowProducerId,
                    req->V3AndBelowProducerEpoch, false, req->V3AndBelowTopics.items,
                    req->V3AndBelowTopics.count, &res);
        w->resp.ResultsByTopicV3AndBelow.items = res;
        w->resp.ResultsByTopicV3AndBelow.count =
            req->V3AndBelowTopics.count > 0 ? req->V3AndBelowTopics.count : 0;
    } else {
        /* Brokers' batched form (KIP-890): CLUSTER_ACTION on the cluster. */
        if (!authz_cluster(rq, SLUICE_ACL_OP_CLUSTER_ACTION)) {
            w->resp.ErrorCode = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
            add_wait_finish(w);
            return;
        }
        int32_t n = req->Transactions.count > 0 ? req->Transactions.count : 0;
        struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnResult *txr =
            rq_items(rq, &kp_desc_AddPartitionsToTxnResponse_AddPartitionsToTxnResult, n);
        w->resp.ResultsByTransaction.items = txr;
        w->resp.ResultsByTransaction.count = txr ? n : 0;
        for (int32_t i = 0; txr && i < n; i++) {
            const struct kp_AddPartitionsToTxnRequest_AddPartitionsToTxnTransaction *t =
                &req->Transactions.items[i];
            struct kp_AddPartitionsToTxnResponse_AddPartitionsToTxnTopicResult *res = NULL;
            txr[i].TransactionalId = t->TransactionalId;
            add_one_txn(b, w, t->TransactionalId, t->ProducerId, t->ProducerEpoch, t->VerifyOnly,
                        t->Topics.items, t->Topics.count, &res);
            txr[i].TopicResults.items = res;
            txr[i].TopicResults.count = t->Topics.count > 0 ? t->Topics.count : 0;
        }
    }
    add_wait_finish(w);
}

/* ---- AddOffsetsToTxn ----------------------------------------------------- */

static void add_offsets_done(void *ud, int16_t err)
{
    struct request *rq = ud;
    struct kp_AddOffsetsToTxnResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_ADD_OFFSETS_TO_TXN)->body, &resp);
    resp.ErrorCode = fenced_for(err, rq->hdr.ApiVersion, 2);
    rq_respond(rq, &resp);
}

void handle_add_offsets_to_txn(struct broker *b, struct request *rq)
{
    const struct kp_AddOffsetsToTxnRequest *req = rq->body;
    char *id = rq_cstr(rq, req->TransactionalId), *group = rq_cstr(rq, req->GroupId);
    if (!id || !group) {
        add_offsets_done(rq, id && !group ? KP_ERR_INVALID_REQUEST : KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    /* KafkaApis: WRITE on the transactional id, READ on the group. */
    if (!may_write_txn(rq, id)) {
        add_offsets_done(rq, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        return;
    }
    if (!authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, group)) {
        add_offsets_done(rq, KP_ERR_GROUP_AUTHORIZATION_FAILED);
        return;
    }
    /* The markers go to the group's __consumer_offsets partition, which
     * must exist by then. */
    int16_t err = KP_ERR_NONE;
    if (!offsets_topic_ensure(b, &err)) {
        add_offsets_done(rq, KP_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    struct txn_partitions parts;
    memset(&parts, 0, sizeof parts);
    if (txn_partitions_add(&parts, OFFSETS_TOPIC, offsets_topic_partition_for(b, group)) < 0) {
        add_offsets_done(rq, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    txn_add_partitions(b->txns, id, req->ProducerId, req->ProducerEpoch, &parts,
                       add_offsets_done, rq);
    txn_partitions_free(&parts);
}

/* ---- EndTxn -------------------------------------------------------------- */

static void end_done(void *ud, int16_t err)
{
    struct request *rq = ud;
    struct kp_EndTxnResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_END_TXN)->body, &resp);
    resp.ErrorCode = fenced_for(err, rq->hdr.ApiVersion, 2);
    rq_respond(rq, &resp);
}

void handle_end_txn(struct broker *b, struct request *rq)
{
    const struct kp_EndTxnRequest *req = rq->body;
    char *id = rq_cstr(rq, req->TransactionalId);
    if (!id) {
        end_done(rq, KP_ERR_INVALID_REQUEST);
        return;
    }
    if (!may_write_txn(rq, id)) {
        end_done(rq, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        return;
    }
    txn_end(b->txns, id, req->ProducerId, req->ProducerEpoch, req->Committed, end_done, rq);
}

/* ---- WriteTxnMarkers ------------------------------------------------------ */

void handle_write_txn_markers(struct broker *b, struct request *rq)
{
    const struct kp_WriteTxnMarkersRequest *req = rq->body;
    struct kp_WriteTxnMarkersResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_WRITE_TXN_MARKERS)->body, &resp);
    int32_t n = req->Markers.count > 0 ? req->Markers.count : 0;
    resp.Markers.count = n;
    resp.Markers.items =
        rq_items(rq, &kp_desc_WriteTxnMarkersResponse_WritableTxnMarkerResult, n);
    /* KafkaApis: CLUSTER_ACTION on the cluster, else every partition
     * CLUSTER_AUTHORIZATION_FAILED. */
    bool allowed = authz_cluster(rq, SLUICE_ACL_OP_CLUSTER_ACTION);
    bool appended = false;
    for (int32_t i = 0; resp.Markers.items && i < n; i++) {
        const struct kp_WriteTxnMarkersRequest_WritableTxnMarker *m = &req->Markers.items[i];
        struct kp_WriteTxnMarkersResponse_WritableTxnMarkerResult *mr = &resp.Markers.items[i];
        mr->ProducerId = m->ProducerId;
        int32_t nt = m->Topics.count > 0 ? m->Topics.count : 0;
        mr->Topics.count = nt;
        mr->Topics.items =
            rq_items(rq, &kp_desc_WriteTxnMarkersResponse_WritableTxnMarkerTopicResult, nt);
        for (int32_t j = 0; mr->Topics.items && j < nt; j++) {
            const struct kp_WriteTxnMarkersRequest_WritableTxnMarkerTopic *t = &m->Topics.items[j];
            struct kp_WriteTxnMarkersResponse_WritableTxnMarkerTopicResult *tr = &mr->Topics.items[j];
            tr->Name = t->Name;
            int32_t np = t->PartitionIndexes.count > 0 ? t->PartitionIndexes.count : 0;
            tr->Partitions.count = np;
            tr->Partitions.items = rq_items(
                rq, &kp_desc_WriteTxnMarkersResponse_WritableTxnMarkerPartitionResult, np);
            char *name = rq_cstr(rq, t->Name);
            for (int32_t k = 0; tr->Partitions.items && k < np; k++) {
                int32_t p = t->PartitionIndexes.items[k];
                tr->Partitions.items[k].PartitionIndex = p;
                int16_t err = !allowed ? KP_ERR_CLUSTER_AUTHORIZATION_FAILED
                              : name   ? txn_write_marker(b, name, p, m->ProducerId,
                                                          m->ProducerEpoch, m->CoordinatorEpoch,
                                                          m->TransactionResult)
                                       : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                tr->Partitions.items[k].ErrorCode = err;
                appended |= err == KP_ERR_NONE;
            }
        }
    }
    (void)appended;
    rq_respond(rq, &resp);
}

/* ---- DescribeTransactions / ListTransactions ----------------------------- */

static void describe_one(struct broker *b, struct request *rq, struct kp_str id,
                         struct kp_DescribeTransactionsResponse_TransactionState *out)
{
    out->TransactionalId = id;
    char *cid = rq_cstr(rq, id);
    struct txn_coordinator *tc = b->txns;
    if (!tc || !tc->active) {
        out->ErrorCode = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    if (!cid || !cid[0]) {
        out->ErrorCode = KP_ERR_INVALID_REQUEST;
        return;
    }
    if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TRANSACTIONAL_ID, cid)) {
        out->ErrorCode = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return;
    }
    struct txn_entry *e = txn_lookup(tc, cid);
    if (!e || e->cur.state == TXN_DEAD) {
        out->ErrorCode = KP_ERR_TRANSACTIONAL_ID_NOT_FOUND;
        return;
    }
    const struct txn_meta *m = &e->cur;
    out->ErrorCode = KP_ERR_NONE;
    out->ProducerId = m->producer_id;
    out->ProducerEpoch = m->producer_epoch;
    out->TransactionState = rq_str(rq, txn_state_name(m->state));
    out->TransactionTimeoutMs = m->timeout_ms;
    out->TransactionStartTimeMs = m->start_ms;
    /* Topics in the order of the (sorted) set, partitions grouped; only
     * the topics the principal may describe, as KafkaApis filters them. */
    bool *shown = rq_alloc(rq, sizeof(bool), (int32_t)m->parts.n);
    int32_t nt = 0;
    for (size_t i = 0; shown && i < m->parts.n; i++) {
        bool first = i == 0 || strcmp(m->parts.v[i].topic, m->parts.v[i - 1].topic);
        shown[i] = first ? authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TOPIC,
                                         m->parts.v[i].topic)
                         : shown[i - 1];
        nt += first && shown[i];
    }
    struct kp_DescribeTransactionsResponse_TopicData *td =
        rq_items(rq, &kp_desc_DescribeTransactionsResponse_TopicData, nt);
    int32_t *ids = rq_alloc(rq, sizeof(int32_t), (int32_t)m->parts.n);
    if ((nt && !td) || (m->parts.n && (!ids || !shown))) {
        out->ErrorCode = KP_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    int32_t t = -1;
    for (size_t i = 0; i < m->parts.n; i++) {
        if (!shown[i])
            continue;
        if (i == 0 || strcmp(m->parts.v[i].topic, m->parts.v[i - 1].topic)) {
            t++;
            td[t].Topic = rq_str(rq, m->parts.v[i].topic);
            td[t].Partitions.items = &ids[i];
            td[t].Partitions.count = 0;
        }
        ids[i] = m->parts.v[i].partition;
        td[t].Partitions.count++;
    }
    out->Topics.items = td;
    out->Topics.count = nt;
}

void handle_describe_transactions(struct broker *b, struct request *rq)
{
    const struct kp_DescribeTransactionsRequest *req = rq->body;
    struct kp_DescribeTransactionsResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_DESCRIBE_TRANSACTIONS)->body, &resp);
    int32_t n = req->TransactionalIds.count > 0 ? req->TransactionalIds.count : 0;
    resp.TransactionStates.items =
        rq_items(rq, &kp_desc_DescribeTransactionsResponse_TransactionState, n);
    resp.TransactionStates.count = resp.TransactionStates.items ? n : 0;
    for (int32_t i = 0; resp.TransactionStates.items && i < n; i++)
        describe_one(b, rq, req->TransactionalIds.items[i], &resp.TransactionStates.items[i]);
    rq_respond(rq, &resp);
}

void handle_list_transactions(struct broker *b, struct request *rq)
{
    const struct kp_ListTransactionsRequest *req = rq->body;
    struct kp_ListTransactionsResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_LIST_TRANSACTIONS)->body, &resp);
    struct txn_coordinator *tc = b->txns;
    if (!tc || !tc->active) {
        resp.ErrorCode = KP_ERR_COORDINATOR_NOT_AVAILABLE;
        rq_respond(rq, &resp);
        return;
    }
    /* State filters: known names select, unknown ones are echoed back. */
    bool want[TXN_STATE_COUNT] = { false };
    int32_t nstates = req->StateFilters.count > 0 ? req->StateFilters.count : 0;
    struct kp_str *unknown = rq_alloc(rq, sizeof(struct kp_str), nstates);
    int32_t nunknown = 0, nknown = 0;
    for (int32_t i = 0; i < nstates; i++) {
        struct kp_str s = req->StateFilters.items[i];
        int st = s.s ? txn_state_from_name(s.s, (size_t)s.len) : -1;
        if (st < 0) {
            if (unknown)
                unknown[nunknown++] = s;
        } else {
            want[st] = true;
            nknown++;
        }
    }
    resp.UnknownStateFilters.items = unknown;
    resp.UnknownStateFilters.count = nunknown;
    int64_t now = broker_now_ms(b);
    int64_t duration = rq->hdr.ApiVersion >= 1 ? req->DurationFilter : -1;
    struct kp_ListTransactionsResponse_TransactionState *out =
        rq_items(rq, &kp_desc_ListTransactionsResponse_TransactionState, (int32_t)tc->ids.count);
    int32_t n = 0;
    size_t it = 0;
    void *v;
    while (out && strmap_next(&tc->ids, &it, NULL, &v)) {
        const struct txn_entry *e = v;
        const struct txn_meta *m = &e->cur;
        if (m->state == TXN_DEAD)
            continue;
        if (nstates > 0 && !want[m->state])
            continue;
        if (req->ProducerIdFilters.count > 0) {
            bool found = false;
            for (int32_t i = 0; i < req->ProducerIdFilters.count && !found; i++)
                found = req->ProducerIdFilters.items[i] == m->producer_id;
            if (!found)
                continue;
        }
        if (duration >= 0 && now - m->start_ms <= duration)
            continue;
        if (!authz_allowed(rq, SLUICE_ACL_OP_DESCRIBE, SLUICE_RES_TRANSACTIONAL_ID, e->id))
            continue;
        out[n].TransactionalId = rq_str(rq, e->id);
        out[n].ProducerId = m->producer_id;
        out[n].TransactionState = rq_str(rq, txn_state_name(m->state));
        n++;
    }
    (void)nknown;
    resp.TransactionStates.items = out;
    resp.TransactionStates.count = n;
    rq_respond(rq, &resp);
}

/* ---- TxnOffsetCommit (28) v0-4 ------------------------------------------ */

static void txn_commit_answer(void *ud, struct gc_commit_part *parts, int n)
{
    struct request *rq = ud;
    const struct kp_TxnOffsetCommitRequest *req = rq->body;
    struct kp_TxnOffsetCommitResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_TXN_OFFSET_COMMIT)->body, &resp);
    int32_t nt = req->Topics.count > 0 ? req->Topics.count : 0;
    resp.Topics.count = nt;
    resp.Topics.items =
        rq_items(rq, &kp_desc_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic, nt);
    int k = 0;
    for (int32_t i = 0; resp.Topics.items && i < nt; i++) {
        const struct kp_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic *t = &req->Topics.items[i];
        struct kp_TxnOffsetCommitResponse_TxnOffsetCommitResponseTopic *rt = &resp.Topics.items[i];
        rt->Name = t->Name;
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        rt->Partitions.count = np;
        rt->Partitions.items = rq_items(
            rq, &kp_desc_TxnOffsetCommitResponse_TxnOffsetCommitResponsePartition, np);
        for (int32_t j = 0; rt->Partitions.items && j < np && k < n; j++, k++) {
            rt->Partitions.items[j].PartitionIndex = parts[k].partition;
            rt->Partitions.items[j].ErrorCode = fenced_for(parts[k].error, rq->hdr.ApiVersion, 2);
        }
    }
    rq_respond(rq, &resp);
}

void handle_txn_offset_commit(struct broker *b, struct request *rq)
{
    const struct kp_TxnOffsetCommitRequest *req = rq->body;
    int16_t v = rq->hdr.ApiVersion;
    int n = 0;
    for (int32_t i = 0; i < req->Topics.count; i++)
        n += req->Topics.items[i].Partitions.count > 0 ? req->Topics.items[i].Partitions.count : 0;
    struct gc_commit_part *parts = rq_alloc(rq, sizeof *parts, n);
    char *group = rq_cstr(rq, req->GroupId), *id = rq_cstr(rq, req->TransactionalId);
    if ((n && !parts) || !group || !id) {
        struct net_conn *c = net_request_conn(rq->nreq);
        rq_respond_none(rq);
        if (c)
            net_conn_close(c);
        return;
    }
    int64_t now = broker_now_ms(b);
    int k = 0;
    bool any = false;
    /* KafkaApis: WRITE on the transactional id and READ on the group, or
     * every partition fails; then READ on each topic. */
    int16_t denied = !may_write_txn(rq, id) ? KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                     : !authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_GROUP, group)
                         ? KP_ERR_GROUP_AUTHORIZATION_FAILED
                         : KP_ERR_NONE;
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_TxnOffsetCommitRequest_TxnOffsetCommitRequestTopic *t = &req->Topics.items[i];
        char *name = rq_cstr(rq, t->Name);
        struct broker_topic *bt = name ? broker_topic(b, name) : NULL;
        int16_t topic_denied =
            denied ? denied
                   : name && authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_TOPIC, name)
                         ? KP_ERR_NONE
                         : KP_ERR_TOPIC_AUTHORIZATION_FAILED;
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            const struct kp_TxnOffsetCommitRequest_TxnOffsetCommitRequestPartition *p =
                &t->Partitions.items[j];
            struct gc_commit_part *cp = &parts[k];
            cp->topic = name ? name : "";
            cp->partition = p->PartitionIndex;
            cp->offset = p->CommittedOffset;
            cp->leader_epoch = v >= 2 ? p->CommittedLeaderEpoch : -1;
            cp->metadata = p->CommittedMetadata.s ? rq_cstr(rq, p->CommittedMetadata) : "";
            cp->commit_ts = now;
            cp->expire_ts = -1;
            cp->error = topic_denied ? topic_denied
                        : bt && p->PartitionIndex >= 0 && p->PartitionIndex < bt->nparts
                            ? KP_ERR_NONE
                            : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            any |= cp->error == KP_ERR_NONE;
        }
    }
    if (!any) {
        txn_commit_answer(rq, parts, n);
        return;
    }
    int16_t err = KP_ERR_NONE;
    if (!offsets_topic_ensure(b, &err))
        err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
    int32_t op = offsets_topic_partition_for(b, group);
    /* KIP-890: the group's partition must be in the transaction
     * (AddOffsetsToTxn), like a transactional Produce. */
    if (!err)
        err = txn_verify_append(b, id, req->ProducerId, req->ProducerEpoch, OFFSETS_TOPIC, op,
                                v >= 4);
    if (err == KP_ERR_NOT_ENOUGH_REPLICAS)
        err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
    if (err) {
        for (int i = 0; i < n; i++)
            if (!parts[i].error)
                parts[i].error = err;
        txn_commit_answer(rq, parts, n);
        return;
    }
    struct gc_txn_commit_req cr = {
        .group_id = group,
        .member_id = v >= 3 && req->MemberId.s ? rq_cstr(rq, req->MemberId) : "",
        .group_instance_id = v >= 3 && req->GroupInstanceId.s ? rq_cstr(rq, req->GroupInstanceId)
                                                              : NULL,
        .generation_id = v >= 3 ? req->GenerationId : -1,
        .producer_id = req->ProducerId,
        .producer_epoch = req->ProducerEpoch,
        .offsets_partition = op,
    };
    gc_txn_commit_offsets(b->groups, &cr, parts, n, txn_commit_answer, rq);
}
