/* Fetch (key 1): reads whole batches as file ranges (sent with sendfile),
 * honours MaxBytes/PartitionMaxBytes with Kafka's "at least one batch"
 * rule (KIP-74), read_committed bounds reads at the last stable offset,
 * and long-polls until MinBytes arrive or MaxWaitMs passes.
 *
 * Fetch sessions (KIP-227): this broker never creates one — it answers
 * SessionId 0, which tells the client to keep sending full fetch requests,
 * and refuses an incremental fetch against an unknown session with
 * FETCH_SESSION_ID_NOT_FOUND, as Kafka does when its session cache is full. */
#include "broker/authz.h"
#include "broker/broker.h"
#include "storage/partition_log.h"
#include "storage/txn_index.h"

#include <stdlib.h>
#include <string.h>

struct fetch_waiter {
    struct broker *b;
    struct request *rq;
    ev_timer timer;
    struct fetch_waiter *next;
};

enum { ISOLATION_READ_UNCOMMITTED = 0, ISOLATION_READ_COMMITTED = 1 };

static const char *topic_name_of(struct broker *b, struct request *rq,
                                 const struct kp_FetchRequest_FetchTopic *ft,
                                 struct broker_topic **t)
{
    if (rq->hdr.ApiVersion >= 13) {
        *t = broker_topic_by_id(b, &ft->TopicId);
        return *t ? (*t)->name : NULL;
    }
    *t = broker_topic(b, ft->Topic.s);
    return ft->Topic.s;
}

/* The aborted transactions a read_committed consumer needs to drop the
 * aborted data among the batches returned (Kafka's addAbortedTransactions). */
static void fill_aborted(struct request *rq, struct partition_log *pl, int64_t fetch_offset,
                         const struct plog_read_result *rr,
                         struct kp_FetchResponse_PartitionData *pd,
                         const struct kp_struct *part_desc)
{
    struct txn_aborted *ab;
    size_t n;
    if (plog_aborted_txns(pl, fetch_offset, rr, &ab, &n) != 0 || n == 0)
        return;
    pd->AbortedTransactions.items =
        rq_items(rq, kp_sub(part_desc, "AbortedTransactions"), (int32_t)n);
    if (!pd->AbortedTransactions.items) {
        free(ab);
        return;
    }
    pd->AbortedTransactions.count = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        pd->AbortedTransactions.items[i].ProducerId = ab[i].producer_id;
        pd->AbortedTransactions.items[i].FirstOffset = ab[i].first_offset;
    }
    free(ab);
}

/* Builds the response.  Returns the record bytes it holds, so the caller
 * can decide whether MinBytes is met. */
static size_t fetch_build(struct broker *b, struct request *rq, struct kp_FetchResponse *resp)
{
    const struct kp_FetchRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_FETCH);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Responses");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "Partitions");
    memset(resp, 0, sizeof *resp);
    kp_struct_defaults(rm->body, resp);
    resp->SessionId = 0;

    int64_t remaining = req->MaxBytes > 0 ? req->MaxBytes : 0;
    size_t total = 0;
    resp->Responses.count = req->Topics.count;
    resp->Responses.items = rq_items(rq, topic_desc, req->Topics.count);
    for (int32_t i = 0; i < req->Topics.count; i++) {
        const struct kp_FetchRequest_FetchTopic *ft = &req->Topics.items[i];
        struct kp_FetchResponse_FetchableTopicResponse *tr = &resp->Responses.items[i];
        struct broker_topic *t;
        const char *name = topic_name_of(b, rq, ft, &t);
        tr->Topic = ft->Topic;
        tr->TopicId = ft->TopicId;
        tr->Partitions.count = ft->Partitions.count;
        tr->Partitions.items = rq_items(rq, part_desc, ft->Partitions.count);
        /* READ on the topic (KafkaApis.handleFetchRequest); by id only once
         * the id resolved, by name always. */
        const char *authz_name = name ? name : rq->hdr.ApiVersion < 13 ? ft->Topic.s : NULL;
        bool readable = !authz_name ||
                        authz_allowed(rq, SLUICE_ACL_OP_READ, SLUICE_RES_TOPIC, authz_name);
        for (int32_t j = 0; j < ft->Partitions.count; j++) {
            const struct kp_FetchRequest_FetchPartition *fp = &ft->Partitions.items[j];
            struct kp_FetchResponse_PartitionData *pd = &tr->Partitions.items[j];
            pd->PartitionIndex = fp->Partition;
            pd->HighWatermark = -1;
            pd->Records.len = 0;
            if (!readable) {
                pd->ErrorCode = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            if (!t) {
                pd->ErrorCode = rq->hdr.ApiVersion >= 13 ? KP_ERR_UNKNOWN_TOPIC_ID
                                                         : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int16_t err = KP_ERR_NONE;
            struct partition_log *pl = broker_partition(b, name, fp->Partition, &err);
            if (!pl) {
                pd->ErrorCode = err;
                continue;
            }
            /* KafkaApis: fetches below v10 (KIP-110) may not read a
             * partition whose topic stores zstd, decided by the topic's
             * compression.type rather than by the batches found. */
            if (rq->hdr.ApiVersion < 10 && t->cfg.compression_type == SLUICE_COMPRESSION_ZSTD) {
                pd->ErrorCode = KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
                continue;
            }
            /* Leader epoch fencing: the only epoch so far is 0. */
            if (fp->CurrentLeaderEpoch > 0) {
                pd->ErrorCode = KP_ERR_UNKNOWN_LEADER_EPOCH;
                continue;
            }
            int64_t hw = plog_high_watermark(pl), lso = plog_last_stable_offset(pl);
            pd->HighWatermark = hw;
            pd->LastStableOffset = lso;
            pd->LogStartOffset = plog_log_start_offset(pl);
            if (rq->hdr.ApiVersion >= 4) {
                /* read_committed: a list (filled below when data is
                 * returned); read_uncommitted: null, as Kafka answers. */
                pd->AbortedTransactions.count =
                    req->IsolationLevel == ISOLATION_READ_COMMITTED ? 0 : -1;
            }
            int64_t limit = fp->PartitionMaxBytes;
            if (limit > remaining)
                limit = remaining;
            struct plog_read_result rr;
            memset(&rr, 0, sizeof rr);
            int64_t upto = req->IsolationLevel == ISOLATION_READ_COMMITTED ? lso : hw;
            plog_read(pl, fp->FetchOffset, limit > 0 ? (size_t)limit : 0, upto, &rr);
            if (rr.error) {
                pd->ErrorCode = rr.error;
                continue;
            }
            /* KIP-74: the first partition with data may exceed the limits by
             * one batch so a consumer can always make progress; later ones
             * must fit. */
            if (rr.bytes == 0 || (total > 0 && (int64_t)rr.bytes > limit))
                continue;
            struct wire_filespan *spans = rq_alloc(rq, sizeof *spans, rr.nspans);
            for (int k = 0; k < rr.nspans; k++) {
                spans[k].fd = rr.spans[k].fd;
                spans[k].off = rr.spans[k].off;
                spans[k].len = rr.spans[k].len;
            }
            pd->Records.spans = spans;
            pd->Records.nspans = rr.nspans;
            pd->Records.len = (int32_t)rr.bytes;
            if (rq->hdr.ApiVersion >= 4 && req->IsolationLevel == ISOLATION_READ_COMMITTED)
                fill_aborted(rq, pl, fp->FetchOffset, &rr, pd, part_desc);
            total += rr.bytes;
            remaining -= (int64_t)rr.bytes;
            if (remaining < 0)
                remaining = 0;
        }
    }
    return total;
}

static void waiter_unlink(struct broker *b, struct fetch_waiter *w)
{
    for (struct fetch_waiter **pp = &b->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            return;
        }
    }
}

static void waiter_complete(struct fetch_waiter *w)
{
    struct broker *b = w->b;
    struct kp_FetchResponse resp;
    ev_timer_stop(b->loop, &w->timer);
    waiter_unlink(b, w);
    fetch_build(b, w->rq, &resp);
    rq_respond(w->rq, &resp);
    free(w);
}

static void waiter_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    waiter_complete(t->data);
}

void broker_fetch_wake(struct broker *b)
{
    /* Re-evaluate every waiting fetch; those whose MinBytes is now met are
     * answered.  Building into the request arena again is the price of not
     * tracking per-partition interest; appends are batched by clients, so
     * wake-ups are far rarer than records. */
    struct fetch_waiter *w = b->waiters, *next;
    for (; w; w = next) {
        next = w->next;
        if (!net_request_conn(w->rq->nreq)) {
            waiter_complete(w); /* client gone: release it now */
            continue;
        }
        struct kp_FetchResponse resp;
        const struct kp_FetchRequest *req = w->rq->body;
        size_t bytes = fetch_build(b, w->rq, &resp);
        if ((int64_t)bytes >= req->MinBytes && bytes > 0) {
            ev_timer_stop(b->loop, &w->timer);
            waiter_unlink(b, w);
            rq_respond(w->rq, &resp);
            free(w);
        }
    }
}

void broker_fetch_release_all(struct broker *b)
{
    while (b->waiters)
        waiter_complete(b->waiters);
}

void handle_fetch(struct broker *b, struct request *rq)
{
    const struct kp_FetchRequest *req = rq->body;
    struct kp_FetchResponse resp;
    if (rq->hdr.ApiVersion >= 7 && req->SessionId != 0) {
        memset(&resp, 0, sizeof resp);
        kp_struct_defaults(kp_response_message(KP_API_FETCH)->body, &resp);
        resp.ErrorCode = KP_ERR_FETCH_SESSION_ID_NOT_FOUND;
        rq_respond(rq, &resp);
        return;
    }
    size_t bytes = fetch_build(b, rq, &resp);
    if (req->MaxWaitMs <= 0 || (int64_t)bytes >= req->MinBytes || b->stopping ||
        (bytes > 0 && req->MinBytes <= 0)) {
        rq_respond(rq, &resp);
        return;
    }
    struct fetch_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        rq_respond(rq, &resp);
        return;
    }
    w->b = b;
    w->rq = rq;
    ev_timer_init(&w->timer, waiter_timeout, req->MaxWaitMs / 1000.0, 0);
    w->timer.data = w;
    ev_timer_start(b->loop, &w->timer);
    w->next = b->waiters;
    b->waiters = w;
}
