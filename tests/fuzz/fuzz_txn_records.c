/* libFuzzer target: __transaction_state record decoding (key and value of
 * arbitrary bytes; the input is split at its first byte's offset).  A value
 * that decodes is turned into coordinator metadata, as the loader does,
 * encoded again and must decode to the same producer, epoch and state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txn/txn_records.h"
#include "txn/txn_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t klen = data[0] < size - 1 ? data[0] : size - 1;
    const uint8_t *key = data + 1, *val = data + 1 + klen;
    size_t vlen = size - 1 - klen;
    struct kp_arena a;
    kp_arena_init(&a);
    kp_arena_set_cap(&a, 1 << 20);
    struct txn_record r;
    txn_record_decode(key, (int32_t)klen, NULL, -1, &a, &r);
    if (txn_record_decode(key, (int32_t)klen, val, (int32_t)vlen, &a, &r) == 0 && !r.tombstone) {
        struct txn_meta m;
        memset(&m, 0, sizeof m);
        m.producer_id = r.value.ProducerId;
        m.producer_epoch = r.value.ProducerEpoch;
        m.timeout_ms = r.value.TransactionTimeoutMs;
        m.state = r.value.TransactionStatus;
        m.start_ms = r.value.TransactionStartTimestampMs;
        m.last_update_ms = r.value.TransactionLastUpdateTimestampMs;
        if (m.state != TXN_EMPTY)
            for (int32_t i = 0; i < r.value.TransactionPartitions.count; i++) {
                const struct kp_TransactionLogValue_PartitionsSchema *ps =
                    &r.value.TransactionPartitions.items[i];
                for (int32_t j = 0; j < ps->PartitionIds.count; j++)
                    txn_partitions_add(&m.parts, ps->Topic.s ? ps->Topic.s : "",
                                       ps->PartitionIds.items[j]);
            }
        struct wire_writer w;
        wire_writer_init(&w);
        if (txn_record_encode_value(&w, &m) == 0) {
            struct txn_record r2;
            if (txn_record_decode(key, (int32_t)klen, w.buf, (int32_t)w.len, &a, &r2) != 0 ||
                r2.value.ProducerId != m.producer_id || r2.value.ProducerEpoch != m.producer_epoch ||
                r2.value.TransactionStatus != m.state)
                abort();
        }
        wire_writer_free(&w);
        txn_meta_free(&m);
    }
    kp_arena_free(&a);
    return 0;
}
