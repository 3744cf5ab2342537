/* Produce (key 0): validate and append each partition's batches, then
 * acknowledge — after fsync when the partition's flush policy asks for it,
 * so log.flush.interval.messages=1 means an acknowledged write is on disk. */
#include "broker/broker.h"
#include "plugin/module_loader.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"

#include <stdlib.h>
#include <string.h>

/* A produce whose acknowledgement waits on fsyncs. */
struct produce_wait {
    struct request *rq;
    struct kp_ProduceResponse resp;
    int pending; /* flushes not yet done, +1 while appending */
    int16_t flush_error;
    struct kp_ProduceResponse_PartitionProduceResponse **flushed; /* to fail on fsync error */
    int nflushed;
};

static void produce_finish(struct produce_wait *pw)
{
    if (--pw->pending > 0)
        return;
    if (pw->flush_error)
        for (int i = 0; i < pw->nflushed; i++)
            pw->flushed[i]->ErrorCode = KP_ERR_KAFKA_STORAGE_ERROR;
    if (((struct kp_ProduceRequest *)pw->rq->body)->Acks == 0)
        rq_respond_none(pw->rq);
    else
        rq_respond(pw->rq, &pw->resp);
    free(pw->flushed);
    free(pw);
}

static void produce_flushed(void *ud, int err)
{
    struct produce_wait *pw = ud;
    if (err)
        pw->flush_error = 1;
    produce_finish(pw);
}

/* Kafka's LogValidator.validateKey: every record without a key in a
 * compacted topic is a RecordError, and the partition's ErrorMessage lists
 * the first three (RecordValidationException's message). */
static void keyless_errors(struct broker *b, struct request *rq, const char *topic,
                           int32_t partition, const uint8_t *records, size_t len,
                           struct kp_ProduceResponse_PartitionProduceResponse *out)
{
    const struct kp_message *rm = kp_response_message(KP_API_PRODUCE);
    const struct kp_struct *err_desc =
        kp_sub(kp_sub(kp_sub(rm->body, "Responses"), "PartitionResponses"), "RecordErrors");
    struct rb_iter it;
    int32_t n = 0, cap = 0;
    int32_t *idx = NULL;
    if (rb_iter_init(&it, records, len, module_registry_decompress, b->modules) == 0) {
        struct rb_record r;
        for (int32_t i = 0; rb_iter_next(&it, &r) == 1; i++) {
            if (r.key_len >= 0)
                continue;
            if (n == cap) {
                int32_t *ni = realloc(idx, (size_t)(cap ? cap * 2 : 16) * sizeof *ni);
                if (!ni)
                    break;
                idx = ni;
                cap = cap ? cap * 2 : 16;
            }
            idx[n++] = i;
        }
    }
    rb_iter_free(&it);
    char msg[512];
    snprintf(msg, sizeof msg,
             "Compacted topic cannot accept message without key in topic partition %s-%d", topic,
             partition);
    out->RecordErrors.items = n ? rq_items(rq, err_desc, n) : NULL;
    out->RecordErrors.count = out->RecordErrors.items ? n : 0;
    char list[2048];
    size_t at = 0;
    for (int32_t i = 0; i < out->RecordErrors.count; i++) {
        out->RecordErrors.items[i].BatchIndex = idx[i];
        out->RecordErrors.items[i].BatchIndexErrorMessage = rq_str(rq, msg);
        if (i < 3 && at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at,
                                   "%sRecordError(batchIndex=%d, message='%s')", i ? ", " : "",
                                   idx[i], msg);
    }
    if (at >= sizeof list)
        at = sizeof list - 1;
    list[at] = '\0';
    char full[2300];
    snprintf(full, sizeof full,
             "One or more records have been rejected due to %d record errors in total, and only "
             "showing the first three errors at most: [%s]",
             n, list);
    out->ErrorMessage = rq_str(rq, full);
    free(idx);
}

static int16_t append_partition(struct broker *b, struct produce_wait *pw, const char *topic,
                                const struct kp_ProduceRequest_PartitionProduceData *pd,
                                struct kp_ProduceResponse_PartitionProduceResponse *out)
{
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, pd->Index, &err);
    if (!pl)
        return err;
    if (pd->Records.len <= 0)
        return KP_ERR_INVALID_RECORD;
    /* Produce v3+ carries exactly one batch per partition (Kafka's
     * ProduceRequest.validateRecords). */
    size_t first = rb_batch_size(pd->Records.p, (size_t)pd->Records.len);
    if (first != 0 && first < (size_t)pd->Records.len) {
        out->ErrorMessage = rq_str(pw->rq, "Produce requests with version 3 or above must "
                                           "contain exactly one record batch per partition");
        return KP_ERR_INVALID_RECORD;
    }
    /* One replica: acks=all can only be honoured if the topic asks no more. */
    const struct broker_topic *t = broker_topic(b, topic);
    if (((const struct kp_ProduceRequest *)pw->rq->body)->Acks == -1 &&
        t->cfg.min_insync_replicas > 1)
        return KP_ERR_NOT_ENOUGH_REPLICAS;
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    /* The records point into the request buffer, which this request owns:
     * offsets are assigned in place and the bytes written as they are. */
    plog_append(pl, (uint8_t *)pd->Records.p, (size_t)pd->Records.len,
                0 /* leader epoch: single node, never changes yet */, broker_now_ms(b),
                module_registry_decompress, b->modules, &res);
    if (res.error) {
        if (res.null_key_records > 0)
            keyless_errors(b, pw->rq, topic, pd->Index, pd->Records.p, (size_t)pd->Records.len,
                           out);
        else if (res.errmsg[0])
            out->ErrorMessage = rq_str(pw->rq, res.errmsg);
        slog(b->log, SLOG_DEBUG, "produce", "%s-%d: append refused: %s (%s)", topic, pd->Index,
             kp_error_name(res.error), res.errmsg);
        out->LogStartOffset = plog_log_start_offset(pl);
        return res.error;
    }
    out->BaseOffset = res.base_offset;
    out->LogAppendTimeMs = res.log_append_time;
    out->LogStartOffset = res.log_start_offset;
    if (res.need_flush) {
        pw->pending++;
        pw->flushed[pw->nflushed++] = out;
        if (plog_flush(pl, produce_flushed, pw) < 0) {
            pw->pending--;
            return KP_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return KP_ERR_NONE;
}

void handle_produce(struct broker *b, struct request *rq)
{
    const struct kp_ProduceRequest *req = rq->body;
    const struct kp_message *rm = kp_response_message(KP_API_PRODUCE);
    const struct kp_struct *topic_desc = kp_sub(rm->body, "Responses");
    const struct kp_struct *part_desc = kp_sub(topic_desc, "PartitionResponses");

    struct produce_wait *pw = calloc(1, sizeof *pw);
    int nparts = 0;
    for (int32_t i = 0; i < req->TopicData.count; i++)
        nparts += req->TopicData.items[i].PartitionData.count;
    if (!pw || !(pw->flushed = calloc(nparts ? nparts : 1, sizeof *pw->flushed))) {
        free(pw);
        struct net_conn *c = net_request_conn(rq->nreq);
        rq_respond_none(rq);
        if (c)
            net_conn_close(c);
        return;
    }
    pw->rq = rq;
    pw->pending = 1;
    kp_struct_defaults(rm->body, &pw->resp);

    int16_t global = KP_ERR_NONE;
    if (req->Acks != 0 && req->Acks != 1 && req->Acks != -1)
        global = KP_ERR_INVALID_REQUIRED_ACKS;
    else if (req->TransactionalId.s)
        /* Transactions arrive with the exactly-once work; until then a
         * transactional producer is refused rather than half-served. */
        global = KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;

    pw->resp.Responses.count = req->TopicData.count;
    pw->resp.Responses.items = rq_items(rq, topic_desc, req->TopicData.count);
    bool appended = false;
    for (int32_t i = 0; i < req->TopicData.count; i++) {
        const struct kp_ProduceRequest_TopicProduceData *td = &req->TopicData.items[i];
        struct kp_ProduceResponse_TopicProduceResponse *tr = &pw->resp.Responses.items[i];
        tr->Name = td->Name;
        tr->PartitionResponses.count = td->PartitionData.count;
        tr->PartitionResponses.items = rq_items(rq, part_desc, td->PartitionData.count);
        for (int32_t j = 0; j < td->PartitionData.count; j++) {
            struct kp_ProduceResponse_PartitionProduceResponse *pr =
                &tr->PartitionResponses.items[j];
            pr->Index = td->PartitionData.items[j].Index;
            pr->BaseOffset = -1;
            if (global) {
                pr->ErrorCode = global;
                continue;
            }
            pr->ErrorCode = append_partition(b, pw, td->Name.s, &td->PartitionData.items[j], pr);
            appended |= pr->ErrorCode == KP_ERR_NONE;
        }
    }
    if (appended)
        broker_fetch_wake(b);
    produce_finish(pw);
}
