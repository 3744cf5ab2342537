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

#include "broker/broker.h"
#include "broker/internal_log.h"
#include "plugin/module_loader.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "txn/txn_coordinator.h"
#include "txn/txn_records.h"

struct broker_topic *txn_topic_ensure(struct broker *b, int16_t *err)
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
    err = KP_ERR_UNKNOWN_SERVER_ERROR;
    if (!kw.err && !vw.err) {
        struct internal_record r = { kw.buf, (int32_t)kw.len, m ? vw.buf : NULL,
                                     m ? (int32_t)vw.len : -1 };
        char where[64];
        snprintf(where, sizeof where, "%s-%d", TXN_TOPIC, p);
        err = internal_log_append(b, pl, "txn", where, &r, 1, -1, -1, done, ud);
    }
    wire_writer_free(&kw);
    wire_writer_free(&vw);
    return err;
}

struct append_wait {
    txn_done_cb done;
    void *ud;
};

static void appended(void *ud, int16_t err)
{
    struct append_wait *w = ud;
    w->done(w->ud, kp_coordinator_append_error(err, KP_ERR_UNKNOWN_SERVER_ERROR));
    free(w);
}

void txn_log_append(struct txn_coordinator *tc, const char *transactional_id,
                    const struct txn_meta *m, txn_done_cb done, void *ud)
{
    struct append_wait *w = malloc(sizeof *w);
    if (!w) {
        done(ud, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    w->done = done;
    w->ud = ud;
    int16_t err = append(tc, transactional_id, m, appended, w);
    if (err)
        appended(w, err);
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

struct load_ctx {
    struct txn_coordinator *tc;
    const char *where;
};

static int load_one(void *ud, const uint8_t *batch, size_t size, int64_t from, int64_t *next)
{
    struct load_ctx *lc = ud;
    return load_batch(lc->tc, batch, size, from, next, lc->where);
}

static int load_partition(struct txn_coordinator *tc, struct partition_log *pl, int32_t p)
{
    char where[64];
    snprintf(where, sizeof where, "%s-%d", TXN_TOPIC, p);
    struct load_ctx lc = { tc, where };
    return internal_log_replay(tc->b, pl, "txn", where, load_one, &lc);
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
