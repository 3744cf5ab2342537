#include "txn/txn_records.h"

#include <stdlib.h>
#include <string.h>

#include "proto/kp_codec.h"
#include "txn/txn_state.h"

int txn_record_decode(const uint8_t *key, int32_t klen, const uint8_t *val, int32_t vlen,
                      struct kp_arena *a, struct txn_record *out)
{
    memset(out, 0, sizeof *out);
    if (!key || klen < 2)
        return -1;
    struct wire_reader r;
    wire_reader_init(&r, key, (size_t)klen);
    int16_t kv = wire_read_i16(&r);
    if (kv != TXN_RECORD_KEY_VERSION)
        return 1;
    struct kp_TransactionLogKey k;
    memset(&k, 0, sizeof k);
    if (kp_decode(&kp_msg_TransactionLogKey, 0, &r, &k, a) < 0 || wire_remaining(&r) != 0 ||
        !k.TransactionalId.s)
        return -1;
    out->transactional_id = k.TransactionalId;
    if (!val || vlen < 0) {
        out->tombstone = true;
        out->value_version = -1;
        return 0;
    }
    if (vlen < 2)
        return -1;
    wire_reader_init(&r, val, (size_t)vlen);
    out->value_version = wire_read_i16(&r);
    const struct kp_message *vm = &kp_msg_TransactionLogValue;
    /* Kafka refuses value versions it does not know. */
    if (!kp_message_has_version(vm, out->value_version))
        return -1;
    kp_struct_defaults(vm->body, &out->value);
    if (kp_decode(vm, out->value_version, &r, &out->value, a) < 0 || wire_remaining(&r) != 0)
        return -1;
    if (out->value.TransactionStatus < 0 || out->value.TransactionStatus >= TXN_STATE_COUNT)
        return -1;
    return 0;
}

void txn_record_encode_key(struct wire_writer *w, const char *transactional_id)
{
    wire_write_i16(w, TXN_RECORD_KEY_VERSION);
    struct kp_TransactionLogKey k = { kp_str_c(transactional_id) };
    kp_encode(&kp_msg_TransactionLogKey, 0, &k, w);
}

int txn_record_encode_value(struct wire_writer *w, const struct txn_meta *m)
{
    if (m->state == TXN_EMPTY && m->parts.n)
        return -1;
    const struct kp_message *vm = &kp_msg_TransactionLogValue;
    struct kp_TransactionLogValue v;
    kp_struct_defaults(vm->body, &v);
    v.ProducerId = m->producer_id;
    v.ProducerEpoch = m->producer_epoch;
    v.TransactionTimeoutMs = m->timeout_ms;
    v.TransactionStatus = (int8_t)m->state;
    v.TransactionLastUpdateTimestampMs = m->last_update_ms;
    v.TransactionStartTimestampMs = m->start_ms;
    /* Grouped by topic; the set is sorted by topic, so runs are topics. */
    struct kp_TransactionLogValue_PartitionsSchema *topics = NULL;
    int32_t *ids = NULL;
    int32_t ntopics = 0;
    if (m->state == TXN_EMPTY) {
        v.TransactionPartitions.items = NULL;
        v.TransactionPartitions.count = -1;
    } else {
        topics = calloc(m->parts.n ? m->parts.n : 1, sizeof *topics);
        ids = calloc(m->parts.n ? m->parts.n : 1, sizeof *ids);
        if (!topics || !ids) {
            free(topics);
            free(ids);
            return -1;
        }
        for (size_t i = 0; i < m->parts.n; i++) {
            ids[i] = m->parts.v[i].partition;
            if (i == 0 || strcmp(m->parts.v[i].topic, m->parts.v[i - 1].topic) != 0) {
                topics[ntopics].Topic = kp_str_c(m->parts.v[i].topic);
                topics[ntopics].PartitionIds.items = &ids[i];
                topics[ntopics].PartitionIds.count = 0;
                ntopics++;
            }
            topics[ntopics - 1].PartitionIds.count++;
        }
        v.TransactionPartitions.items = topics;
        v.TransactionPartitions.count = ntopics;
    }
    wire_write_i16(w, TXN_RECORD_VALUE_VERSION);
    int rc = kp_encode(vm, TXN_RECORD_VALUE_VERSION, &v, w);
    free(topics);
    free(ids);
    return rc < 0 || w->err ? -1 : 0;
}
