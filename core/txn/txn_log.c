/* __transaction_state: the coordinator's log, an internal compacted topic
 * (transaction.state.log.num.partitions partitions, segment.bytes =
 * transaction.state.log.segment.bytes, compression.type=uncompressed and
 * min.insync.replicas = transaction.state.log.min.isr, as Kafka's
 * TransactionStateManager.transactionTopicConfigs), created on the first
 * write.  A transition is acknowledged once durable by the topic's flush
 * policy, exactly like Produce; start-up replays it, the last record of an
 * id winning and a tombstone removing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "plugin/module_loader.h"
#include "storage/batch_builder.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "txn/txn_coordinator.h"
#include "txn/txn_records.h"

static struct broker_topic *txn_topic_ensure(struct broker *b, int16_t *err)
{
    struct broker_topic *t = broker_topic(b, TXN_TOPIC);
    if (t)
        return t;
    char isr[16];
    snprintf(isr, sizeof isr, "%d", b->cfg->transaction_state_log_min_isr);
    const struct kv extra[] = { { "compression.type", "uncompressed" },
                                { "min.insync.replicas", isr } };
    char msg[256];
    *err = broker_create_internal_topic(b, TXN_TOPIC, b->cfg->transaction_state_log_num_partitions,
                                        b->cfg->transaction_state_log_replication_factor,
                                        b->cfg->transaction_state_log_segment_bytes, extra,
                                        sizeof extra / sizeof extra[0], msg, sizeof msg);
    if (*err) {
        slog(b->log, SLOG_ERROR, "txn", "cannot create %s: %s (%s)", TXN_TOPIC,
             kp_error_name(*err), msg);
        return NULL;
    }
    return broker_topic(b, TXN_TOPIC);
}

/* appendTransactionToLog's mapping of append errors to the client's. */
static int16_t map_append_error(int16_t err)
{
    switch (err) {
    case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KP_ERR_NOT_ENOUGH_REPLICAS:
    case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case KP_ERR_REQUEST_TIMED_OUT:
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    case KP_ERR_NOT_LEADER_OR_FOLLOWER:
    case KP_ERR_KAFKA_STORAGE_ERROR:
        return KP_ERR_NOT_COORDINATOR;
    case KP_ERR_MESSAGE_TOO_LARGE:
    case KP_ERR_RECORD_LIST_TOO_LARGE:
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    default:
        return err;
    }
}

struct log_flush_wait {
    txn_done_cb done;
    void *ud;
};

static void log_flushed(void *ud, int err)
{
    struct log_flush_wait *fw = ud;
    fw->done(fw->ud, err ? map_append_error(KP_ERR_KAFKA_STORAGE_ERROR) : KP_ERR_NONE);
    free(fw);
}

static int16_t append(struct txn_coordinator *tc, const char *id, const struct txn_meta *m,
                      txn_done_cb done, void *ud)
{
    struct broker *b = tc->b;
    int16_t err = KP_ERR_NONE;
    if (!txn_topic_ensure(b, &err))
        return err;
    int32_t p = txn_partition_for(b, id);
    struct partition_log *pl = broker_partition(b, TXN_TOPIC, p, &err);
    if (!pl)
        return err;
    struct wire_writer kw, vw;
    wire_writer_init(&kw);
    wire_writer_init(&vw);
    txn_record_encode_key(&kw, id);
    if (m && txn_record_encode_value(&vw, m) < 0)
        kw.err = 1;
    int64_t now = broker_now_ms(b);
    struct batch_builder bb;
    batch_builder_init(&bb);
    batch_builder_add(&bb, now, kw.buf, (int32_t)kw.len, m ? vw.buf : NULL, m ? (int32_t)vw.len : -1);
    size_t len = 0;
    uint8_t *batch = kw.err || vw.err ? NULL : batch_builder_finish(&bb, 0, -1, -1, &len);
    if (!batch)
        batch_builder_free(&bb);
    wire_writer_free(&kw);
    wire_writer_free(&vw);
    if (!batch)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    struct plog_append_result res;
    memset(&res, 0, sizeof res);
    plog_append_ex(pl, batch, len, tc->coordinator_epoch, now, module_registry_decompress,
                   b->modules, 0, &res);
    free(batch);
    if (res.error) {
        slog(b->log, SLOG_WARN, "txn", "%s-%d: append refused: %s (%s)", TXN_TOPIC, p,
             kp_error_name(res.error), res.errmsg);
        return res.error;
    }
    broker_fetch_wake(b);
    if (!res.need_flush) {
        done(ud, KP_ERR_NONE);
        return KP_ERR_NONE;
    }
    struct log_flush_wait *fw = malloc(sizeof *fw);
    if (!fw)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    fw->done = done;
    fw->ud = ud;
    if (plog_flush(pl, log_flushed, fw) < 0) {
        free(fw);
        return KP_ERR_KAFKA_STORAGE_ERROR;
    }
    return KP_ERR_NONE;
}

void txn_log_append(struct txn_coordinator *tc, const char *transactional_id,
                    const struct txn_meta *m, txn_done_cb done, void *ud)
{
    int16_t err = append(tc, transactional_id, m, done, ud);
    if (err)
        done(ud, map_append_error(err));
}

/* ---- loading ------------------------------------------------------------ */

/* Applies one record: the latest value of an id replaces its metadata. */
static int load_record(struct txn_coordinator *tc, const struct txn_record *r)
{
    /* Decoded strings are NUL-terminated in the arena. */
    const char *id = r->transactional_id.s;
    struct txn_entry *old = strmap_get(&tc->ids, id);
    if (r->tombstone) {
        if (old) {
            strmap_del(&tc->ids, id);
            txn_entry_free(old);
        }
        return 0;
    }
    const struct kp_TransactionLogValue *v = &r->value;
    struct txn_entry *e = txn_entry_new(id, v->ProducerId, v->TransactionTimeoutMs,
                                        v->TransactionLastUpdateTimestampMs);
    if (!e)
        return -1;
    e->cur.prev_producer_id = v->PreviousProducerId;
    e->cur.producer_epoch = v->ProducerEpoch;
    e->cur.state = v->TransactionStatus;
    e->cur.start_ms = v->TransactionStartTimestampMs;
    if (e->cur.state != TXN_EMPTY)
        for (int32_t i = 0; i < v->TransactionPartitions.count; i++) {
            const struct kp_TransactionLogValue_PartitionsSchema *ps =
                &v->TransactionPartitions.items[i];
            const char *topic = ps->Topic.s ? ps->Topic.s : "";
            for (int32_t j = 0; j < ps->PartitionIds.count; j++)
                if (txn_partitions_add(&e->cur.parts, topic, ps->PartitionIds.items[j]) < 0) {
                    txn_entry_free(e);
                    return -1;
                }
        }
    if (strmap_put(&tc->ids, e->id, e) < 0) {
        txn_entry_free(e);
        return -1;
    }
    txn_entry_free(old);
    return 0;
}

static int load_batch(struct txn_coordinator *tc, const uint8_t *batch, size_t size, int64_t from,
                      int64_t *next, const char *where)
{
    struct broker *b = tc->b;
    struct rb_header h;
    if (rb_header_decode(batch, size, &h) < 0)
        return -1;
    *next = h.base_offset + h.last_offset_delta + 1;
    if (h.attributes & RB_ATTR_CONTROL)
        return 0;
    struct rb_iter it;
    if (rb_iter_init(&it, batch, size, module_registry_decompress, b->modules) != 0)
        return -1;
    struct rb_record rec;
    int rc = 0;
    while (rc == 0 && rb_iter_next(&it, &rec)) {
        if (rec.offset < from)
            continue;
        struct kp_arena a;
        kp_arena_init(&a);
        struct txn_record tr;
        int d = txn_record_decode(rec.key, rec.key_len, rec.value, rec.value_len, &a, &tr);
        if (d < 0)
            slog(b->log, SLOG_WARN, "txn", "%s offset %lld: record does not decode as a "
                 "transaction log record; skipped", where, (long long)rec.offset);
        else if (d == 0 && load_record(tc, &tr) < 0)
            rc = -1;
        kp_arena_free(&a);
    }
    if (it.err)
        rc = -1;
    rb_iter_free(&it);
    return rc;
}

static int load_partition(struct txn_coordinator *tc, struct partition_log *pl, int32_t p)
{
    struct broker *b = tc->b;
    char where[64];
    snprintf(where, sizeof where, "%s-%d", TXN_TOPIC, p);
    int64_t offset = plog_log_start_offset(pl), end = plog_high_watermark(pl);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (offset < end && rc == 0) {
        struct plog_read_result rr;
        memset(&rr, 0, sizeof rr);
        plog_read(pl, offset, 1 << 20, end, &rr);
        if (rr.error || rr.bytes == 0) {
            slog(b->log, SLOG_ERROR, "txn", "%s: read at offset %lld failed (%s)", where,
                 (long long)offset, kp_error_name(rr.error));
            rc = -1;
            break;
        }
        if (rr.bytes > cap) {
            uint8_t *nb = realloc(buf, rr.bytes);
            if (!nb) {
                rc = -1;
                break;
            }
            buf = nb;
            cap = rr.bytes;
        }
        size_t got = 0;
        for (int i = 0; i < rr.nspans && rc == 0; i++) {
            ssize_t n = pread(rr.spans[i].fd, buf + got, rr.spans[i].len, rr.spans[i].off);
            if (n != (ssize_t)rr.spans[i].len)
                rc = -1;
            else
                got += (size_t)n;
        }
        int64_t before = offset;
        for (size_t pos = 0; pos < got && rc == 0;) {
            size_t sz = rb_batch_size(buf + pos, got - pos);
            if (sz == 0 || sz > got - pos)
                break;
            int64_t next = offset;
            if (load_batch(tc, buf + pos, sz, offset, &next, where) < 0) {
                slog(b->log, SLOG_ERROR, "txn", "%s: cannot load the batch at offset %lld",
                     where, (long long)offset);
                rc = -1;
            }
            if (next > offset)
                offset = next;
            pos += sz;
        }
        if (rc == 0 && offset == before) {
            rc = -1;
            slog(b->log, SLOG_ERROR, "txn", "%s: no progress at offset %lld", where,
                 (long long)offset);
        }
    }
    free(buf);
    return rc;
}

int txn_log_load(struct txn_coordinator *tc, char *err, size_t errlen)
{
    struct broker_topic *t = broker_topic(tc->b, TXN_TOPIC);
    if (!t)
        return 0;
    for (int32_t p = 0; p < t->nparts; p++)
        if (t->logs[p] && load_partition(tc, t->logs[p], p) < 0) {
            snprintf(err, errlen, "cannot load %s-%d", TXN_TOPIC, p);
            return -1;
        }
    return 0;
}
