/* Produce (key 0): validate and append each partition's batches, then
 * acknowledge — after fsync when the partition's flush policy asks for it,
 * so log.flush.interval.messages=1 means an acknowledged write is on disk.
 *
 * Before the append, the records may be converted (Kafka's LogValidator):
 * message sets of magic 0/1 (Produce v0-v2) become one record batch v2,
 * and a batch whose codec is not the topic's compression.type is
 * re-compressed.  The conversion lives here rather than in plog_append
 * because it is a client-path policy that needs the topic config and the
 * codec modules, while the storage layer stores exactly what it is given
 * (internal writers — metadata, markers — must never be re-encoded; Kafka
 * does not compress control records either). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/broker_metrics.h"
#include "plugin/module_loader.h"
#include "storage/batch_recompress.h"
#include "storage/message_format_legacy.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "txn/txn_coordinator.h"

#include <stdbool.h>
#include <stdio.h>
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

struct record_error_list {
    struct request *rq;
    struct kp_ProduceResponse_BatchIndexAndErrorMessage *items;
    int32_t n, cap;
};

static void add_record_error(void *ud, int32_t index, const char *msg)
{
    struct record_error_list *l = ud;
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 8;
        struct kp_ProduceResponse_BatchIndexAndErrorMessage *n =
            rq_alloc(l->rq, sizeof *n, cap);
        if (!n)
            return;
        if (l->n)
            memcpy(n, l->items, (size_t)l->n * sizeof *n);
        l->items = n;
        l->cap = cap;
    }
    l->items[l->n].BatchIndex = index;
    l->items[l->n].BatchIndexErrorMessage = rq_str(l->rq, msg);
    l->n++;
}

/* Kafka's RecordErrors (v8+): every record of the refused batch whose
 * timestamp broke the topic's rules, by index within the batch. */
static void record_errors(struct broker *b, struct request *rq, struct partition_log *pl,
                          const uint8_t *records, size_t len, size_t pos, int64_t now,
                          struct kp_ProduceResponse_PartitionProduceResponse *out)
{
    struct record_error_list l = { rq, NULL, 0, 0 };
    plog_timestamp_errors(pl, records + pos, len - pos, now, module_registry_decompress,
                          b->modules, add_record_error, &l);
    out->RecordErrors.items = l.items;
    out->RecordErrors.count = l.n;
}

/* compression.<codec>.level of the topic for the codec the broker writes. */
static int codec_level(const struct topic_config *cfg, int codec)
{
    switch (codec) {
    case RB_CODEC_GZIP: return cfg->compression_gzip_level;
    case RB_CODEC_LZ4: return cfg->compression_lz4_level;
    case RB_CODEC_ZSTD: return cfg->compression_zstd_level;
    default: return SLUICE_CODEC_LEVEL_DEFAULT; /* snappy has no level */
    }
}

/* Up-convert a legacy message set and/or re-compress the batch to the
 * topic's codec.  On success records/len describe what to append and
 * owned is the malloc'd buffer behind them (NULL: the request's own
 * bytes, nothing changed).  Returns 0 or a Kafka error with detail in errmsg. */
static int16_t convert_records(struct broker *b, const struct broker_topic *t, int16_t version,
                               uint8_t **records, size_t *len, uint8_t **owned, char *errmsg,
                               size_t errlen)
{
    *owned = NULL;
    int source;
    if (version < 3 && legacy_is_message_set(*records, *len)) {
        struct legacy_opts lo = {
            .log_append_time = t->cfg.message_timestamp_type == SLUICE_TIMESTAMP_LOG_APPEND_TIME,
            .max_message_bytes = t->cfg.max_message_bytes,
        };
        struct legacy_result lr;
        int rc = legacy_upconvert(*records, *len, &lo, module_registry_decompress, b->modules, &lr,
                                  errmsg, errlen);
        if (rc)
            return (int16_t)rc;
        *owned = *records = lr.batch;
        *len = lr.size;
        source = lr.source_codec;
    } else if (rb_batch_size(*records, *len) == *len && *len >= RB_HEADER_SIZE &&
               (*records)[RB_OFF_MAGIC] == RB_MAGIC) {
        source = rb_get_i16(*records + RB_OFF_ATTRIBUTES) & RB_ATTR_COMPRESSION_MASK;
        /* LogValidator checks the batch as sent against max.message.bytes
         * before any conversion changes its size. */
        if (batch_target_codec(t->cfg.compression_type, source) != source &&
            (int64_t)*len > t->cfg.max_message_bytes) {
            snprintf(errmsg, errlen, "batch of %zu bytes exceeds max.message.bytes %d", *len,
                     t->cfg.max_message_bytes);
            return KP_ERR_MESSAGE_TOO_LARGE;
        }
    } else {
        return 0; /* malformed: plog_append refuses it with Kafka's code */
    }
    int target = batch_target_codec(t->cfg.compression_type, source);
    uint8_t *nb = NULL;
    size_t nlen = 0;
    int rc = batch_recompress(*records, *len, target, codec_level(&t->cfg, target),
                              module_registry_decompress, module_registry_compress, b->modules,
                              &nb, &nlen, errmsg, errlen);
    if (rc) {
        free(*owned);
        *owned = NULL;
        return (int16_t)rc;
    }
    if (nb) {
        free(*owned);
        *owned = *records = nb;
        *len = nlen;
    }
    return 0;
}

/* Kafka's LogValidator.validateKey: every record without a key in a
 * compacted topic is a RecordError, and the partition's ErrorMessage lists
 * the first three (RecordValidationException's message).  records are
 * those given to plog_append (after any up-conversion), so indexes count
 * records of the stored batch. */
static void keyless_errors(struct broker *b, struct request *rq, const char *topic,
                           int32_t partition, const uint8_t *records, size_t len,
                           struct kp_ProduceResponse_PartitionProduceResponse *out)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "Compacted topic cannot accept message without key in topic partition %s-%d", topic,
             partition);
    struct record_error_list l = { rq, NULL, 0, 0 };
    struct rb_iter it;
    if (rb_iter_init(&it, records, len, module_registry_decompress, b->modules) == 0) {
        struct rb_record r;
        for (int32_t i = 0; rb_iter_next(&it, &r) == 1; i++)
            if (r.key_len < 0)
                add_record_error(&l, i, msg);
    }
    rb_iter_free(&it);
    out->RecordErrors.items = l.items;
    out->RecordErrors.count = l.n;
    char list[2048];
    size_t at = 0;
    for (int32_t i = 0; i < l.n && i < 3; i++)
        if (at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at,
                                   "%sRecordError(batchIndex=%d, message='%s')", i ? ", " : "",
                                   l.items[i].BatchIndex, msg);
    if (at >= sizeof list)
        at = sizeof list - 1;
    list[at] = '\0';
    char full[2300];
    snprintf(full, sizeof full,
             "One or more records have been rejected due to %d record errors in total, and only "
             "showing the first three errors at most: [%s]",
             l.n, list);
    out->ErrorMessage = rq_str(rq, full);
}

static int16_t append_partition(struct broker *b, struct produce_wait *pw, const char *topic,
                                const struct kp_ProduceRequest_PartitionProduceData *pd,
                                struct kp_ProduceResponse_PartitionProduceResponse *out)
{
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, pd->Index, &err);
    if (!pl)
        return err;
    /* Internal topics are written by their coordinators only (Kafka lets
     * just its own admin client id through). */
    if (strcmp(topic, "__consumer_offsets") == 0 || strcmp(topic, "__transaction_state") == 0) {
        const char *cid = pw->rq->hdr.ClientId.s;
        if (!cid || strcmp(cid, "__admin_client") != 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "Cannot append to internal topic %s", topic);
            out->ErrorMessage = rq_str(pw->rq, msg);
            return KP_ERR_INVALID_TOPIC_EXCEPTION;
        }
    }
    if (pd->Records.len <= 0)
        return KP_ERR_INVALID_RECORD;
    int16_t version = pw->rq->hdr.ApiVersion;
    uint8_t *records = (uint8_t *)pd->Records.p;
    size_t len = (size_t)pd->Records.len;
    /* Produce v3+ carries exactly one batch per partition (Kafka's
     * ProduceRequest.validateRecords); v0-v2 may carry several messages,
     * which the legacy conversion checks itself. */
    size_t first = rb_batch_size(records, len);
    bool legacy = version < 3 && legacy_is_message_set(records, len);
    if (!legacy && first != 0 && first < len) {
        out->ErrorMessage =
            version >= 3 ? rq_str(pw->rq, "Produce requests with version 3 or above must "
                                          "contain exactly one record batch per partition")
                         : rq_str(pw->rq, "Compressed outer record has more than one batch");
        return KP_ERR_INVALID_RECORD;
    }
    /* KIP-110: zstd needs Produce v7+. */
    if (version >= 3 && version < 7 && len >= RB_HEADER_SIZE && records[RB_OFF_MAGIC] == RB_MAGIC &&
        (rb_get_i16(records + RB_OFF_ATTRIBUTES) & RB_ATTR_COMPRESSION_MASK) == RB_CODEC_ZSTD) {
        out->ErrorMessage = rq_str(pw->rq, "Produce requests with version below 7 are not "
                                           "allowed to use ZStandard compression");
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    /* One replica: acks=all can only be honoured if the topic asks no more. */
    const struct broker_topic *t = broker_topic(b, topic);
    if (((const struct kp_ProduceRequest *)pw->rq->body)->Acks == -1 &&
        t->cfg.min_insync_replicas > 1)
        return KP_ERR_NOT_ENOUGH_REPLICAS;

    /* KIP-890 part 1: a transactional batch needs its partition in the
     * producer's ongoing transaction. */
    if (len >= RB_HEADER_SIZE && records[RB_OFF_MAGIC] == RB_MAGIC &&
        (rb_get_i16(records + RB_OFF_ATTRIBUTES) & RB_ATTR_TRANSACTIONAL)) {
        const struct kp_ProduceRequest *req = pw->rq->body;
        int16_t verr = txn_verify_append(
            b, req->TransactionalId.s, rb_get_i64(records + RB_OFF_PRODUCER_ID),
            rb_get_i16(records + RB_OFF_PRODUCER_EPOCH), topic, pd->Index, version >= 11);
        if (verr) {
            out->LogStartOffset = plog_log_start_offset(pl);
            return verr;
        }
    }
    char errmsg[192] = "";
    uint8_t *owned = NULL;
    int16_t cerr = convert_records(b, t, version, &records, &len, &owned, errmsg, sizeof errmsg);
    if (cerr) {
        if (errmsg[0])
            out->ErrorMessage = rq_str(pw->rq, errmsg);
        slog(b->log, SLOG_DEBUG, "produce", "%s-%d: conversion refused: %s (%s)", topic,
             pd->Index, kp_error_name(cerr), errmsg);
        out->LogStartOffset = plog_log_start_offset(pl);
        return cerr;
    }
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    /* The records point into the request buffer, which this request owns,
     * or into the converted copy: offsets are assigned in place and the
     * bytes written as they are. */
    int64_t now = broker_now_ms(b);
    plog_append(pl, records, len, 0 /* leader epoch: single node, never changes yet */, now,
                module_registry_decompress, b->modules, &res);
    if (res.error) {
        /* Kafka answers a custom ErrorMessage only for record validation
         * errors; size, storage and producer state errors carry the code
         * alone (the detail goes to the log). */
        bool pstate_err = res.error == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
                          res.error == KP_ERR_INVALID_PRODUCER_EPOCH ||
                          res.error == KP_ERR_INVALID_TXN_STATE;
        if (res.null_key_records > 0)
            keyless_errors(b, pw->rq, topic, pd->Index, records, len, out);
        else if (res.errmsg[0] && !pstate_err && res.error != KP_ERR_MESSAGE_TOO_LARGE &&
                 res.error != KP_ERR_RECORD_LIST_TOO_LARGE && res.error != KP_ERR_KAFKA_STORAGE_ERROR)
            out->ErrorMessage = rq_str(pw->rq, res.errmsg);
        if (res.error == KP_ERR_INVALID_TIMESTAMP && res.bad_batch_pos >= 0)
            record_errors(b, pw->rq, pl, records, len, (size_t)res.bad_batch_pos, now, out);
        free(owned);
        slog(b->log, SLOG_DEBUG, "produce", "%s-%d: append refused: %s (%s)", topic, pd->Index,
             kp_error_name(res.error), res.errmsg);
        out->LogStartOffset = plog_log_start_offset(pl);
        return res.error;
    }
    /* The producer id is read from the batch that went to plog_append
     * (the converted copy keeps the request's producer fields). */
    if (res.duplicate)
        slog(b->log, SLOG_DEBUG, "produce",
             "%s-%d: retried batch of producer %lld already stored at offsets %lld..%lld",
             topic, pd->Index, (long long)rb_get_i64(records + RB_OFF_PRODUCER_ID),
             (long long)res.base_offset, (long long)res.last_offset);
    free(owned);
    /* Kafka's BytesInPerSec counts every accepted request's records,
     * retried duplicates included. */
    broker_metrics_bytes_in(b, (size_t)pd->Records.len);
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

/* ProduceRequest.hasTransactionalRecords: a partition's first batch has
 * the transactional attribute. */
static bool has_transactional_records(const struct kp_ProduceRequest *req)
{
    for (int32_t i = 0; i < req->TopicData.count; i++) {
        const struct kp_ProduceRequest_TopicProduceData *td = &req->TopicData.items[i];
        for (int32_t j = 0; j < td->PartitionData.count; j++) {
            const struct kp_ProduceRequest_PartitionProduceData *pd = &td->PartitionData.items[j];
            if (pd->Records.len >= RB_HEADER_SIZE && pd->Records.p[RB_OFF_MAGIC] == RB_MAGIC &&
                (rb_get_i16(pd->Records.p + RB_OFF_ATTRIBUTES) & RB_ATTR_TRANSACTIONAL))
                return true;
        }
    }
    return false;
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
    else if (has_transactional_records(req) &&
             (!req->TransactionalId.s || !authz_allowed(rq, SLUICE_ACL_OP_WRITE,
                                                        SLUICE_RES_TRANSACTIONAL_ID,
                                                        req->TransactionalId.s)))
        /* Kafka authorizes transactional batches by WRITE on their
         * TransactionalId. */
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
        bool writable = global || authz_allowed(rq, SLUICE_ACL_OP_WRITE, SLUICE_RES_TOPIC,
                                                td->Name.s);
        for (int32_t j = 0; j < td->PartitionData.count; j++) {
            struct kp_ProduceResponse_PartitionProduceResponse *pr =
                &tr->PartitionResponses.items[j];
            pr->Index = td->PartitionData.items[j].Index;
            pr->BaseOffset = -1;
            if (global || !writable) {
                pr->ErrorCode = global ? global : KP_ERR_TOPIC_AUTHORIZATION_FAILED;
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
