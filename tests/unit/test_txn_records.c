/* __transaction_state records: Kafka's TransactionLogKey v0 /
 * TransactionLogValue v0 exact bytes (as TransactionLog.keyToBytes /
 * valueToBytes write them, partitions null in Empty and grouped by topic
 * otherwise), the v1 (flexible, tagged fields) value Kafka 4 writes, and
 * the decoder's refusals. */
#include "txn/txn_records.h"
#include "txn/txn_state.h"
#include "proto/kp_codec.h"
#include "tap.h"

#include <string.h>

static void be64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

int main(void)
{
    is_int(kp_msg_TransactionLogValue.valid_max, 1, "the schema's TransactionLogValue goes to v1");
    is_int(kp_msg_TransactionLogKey.valid_max, 0, "and TransactionLogKey is v0 only");

    struct wire_writer k;
    wire_writer_init(&k);
    txn_record_encode_key(&k, "tx");
    static const uint8_t want_key[] = { 0, 0, 0, 2, 't', 'x' };
    is_int((int)k.len, (int)sizeof want_key, "key length");
    is_mem(k.buf, want_key, sizeof want_key, "key: version 0, TransactionalId");

    struct txn_meta m;
    memset(&m, 0, sizeof m);
    m.producer_id = 0x0102;
    m.producer_epoch = 3;
    m.timeout_ms = 60000;
    m.state = TXN_ONGOING;
    m.start_ms = 1000;
    m.last_update_ms = 2000;
    txn_partitions_add(&m.parts, "u", 1);
    txn_partitions_add(&m.parts, "t", 2);
    txn_partitions_add(&m.parts, "t", 0);
    txn_partitions_add(&m.parts, "t", 2); /* already there */
    struct wire_writer v;
    wire_writer_init(&v);
    is_int(txn_record_encode_value(&v, &m), 0, "Ongoing value encodes");
    uint8_t want[128];
    size_t n = 0;
    want[n++] = 0, want[n++] = 0;                     /* version 0 */
    be64(want + n, 0x0102), n += 8;                   /* ProducerId */
    want[n++] = 0, want[n++] = 3;                     /* ProducerEpoch */
    want[n++] = 0, want[n++] = 0, want[n++] = 0xea, want[n++] = 0x60; /* 60000 */
    want[n++] = 1;                                    /* Ongoing */
    const uint8_t parts[] = { 0, 0, 0, 2,             /* two topics */
                              0, 1, 't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,
                              0, 1, 'u', 0, 0, 0, 1, 0, 0, 0, 1 };
    memcpy(want + n, parts, sizeof parts), n += sizeof parts;
    be64(want + n, 2000), n += 8;                     /* last update */
    be64(want + n, 1000), n += 8;                     /* start */
    is_int((int)v.len, (int)n, "Ongoing value length");
    is_mem(v.buf, want, n, "Ongoing value v0: partitions grouped by topic, sorted");

    struct kp_arena a;
    kp_arena_init(&a);
    struct txn_record r;
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v.buf, (int32_t)v.len, &a, &r), 0, "decodes");
    is_str(r.transactional_id.s, "tx", "transactional id");
    is_int(r.value_version, 0, "value version 0");
    is_int((int)r.value.ProducerId, 0x0102, "producer id");
    is_int(r.value.ProducerEpoch, 3, "epoch");
    is_int(r.value.TransactionStatus, TXN_ONGOING, "status");
    is_int(r.value.TransactionPartitions.count, 2, "two topics");
    is_str(r.value.TransactionPartitions.items[1].Topic.s, "u", "second topic u");
    is_int((int)r.value.TransactionStartTimestampMs, 1000, "start");
    is_int((int)r.value.PreviousProducerId, -1, "v0: PreviousProducerId defaults to -1");

    /* Empty: null partitions; partitions in Empty are refused. */
    struct txn_meta e = m;
    memset(&e.parts, 0, sizeof e.parts);
    e.state = TXN_EMPTY;
    e.start_ms = -1;
    struct wire_writer ev;
    wire_writer_init(&ev);
    is_int(txn_record_encode_value(&ev, &e), 0, "Empty value encodes");
    static const uint8_t null_parts[] = { 0xff, 0xff, 0xff, 0xff };
    is_mem(ev.buf + 2 + 8 + 2 + 4 + 1, null_parts, 4, "Empty: TransactionPartitions null");
    e.parts = m.parts;
    struct wire_writer bad;
    wire_writer_init(&bad);
    is_int(txn_record_encode_value(&bad, &e), -1, "Empty with partitions is refused");
    wire_writer_free(&bad);

    /* A v1 value (Kafka 4 with transaction.version 2): compact fields and
     * tagged PreviousProducerId / ClientTransactionVersion. */
    uint8_t v1[128];
    n = 0;
    v1[n++] = 0, v1[n++] = 1;
    be64(v1 + n, 77), n += 8;
    v1[n++] = 0, v1[n++] = 5;
    v1[n++] = 0, v1[n++] = 0, v1[n++] = 0x03, v1[n++] = 0xe8;
    v1[n++] = TXN_PREPARE_COMMIT;
    v1[n++] = 2;                                      /* one topic */
    v1[n++] = 2, v1[n++] = 'q';                       /* "q" */
    v1[n++] = 2, v1[n++] = 0, v1[n++] = 0, v1[n++] = 0, v1[n++] = 4; /* [4] */
    v1[n++] = 0;                                      /* topic tags */
    be64(v1 + n, 9), n += 8;
    be64(v1 + n, 8), n += 8;
    v1[n++] = 2;                                      /* two tags */
    v1[n++] = 0, v1[n++] = 8, be64(v1 + n, 66), n += 8; /* PreviousProducerId */
    v1[n++] = 2, v1[n++] = 2, v1[n++] = 0, v1[n++] = 2; /* ClientTransactionVersion */
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v1, (int32_t)n, &a, &r), 0, "v1 decodes");
    is_int(r.value_version, 1, "value version 1");
    is_int((int)r.value.PreviousProducerId, 66, "tagged PreviousProducerId");
    is_int(r.value.ClientTransactionVersion, 2, "tagged ClientTransactionVersion");
    is_int(r.value.TransactionStatus, TXN_PREPARE_COMMIT, "PrepareCommit");
    is_int(r.value.TransactionPartitions.items[0].PartitionIds.items[0], 4, "partition 4 of q");

    /* Refusals. */
    is_int(txn_record_decode(k.buf, (int32_t)k.len, NULL, -1, &a, &r), 0, "tombstone decodes");
    ok(r.tombstone, "tombstone flagged");
    static const uint8_t other_key[] = { 0, 1, 0, 1, 'x' };
    is_int(txn_record_decode(other_key, sizeof other_key, v.buf, (int32_t)v.len, &a, &r), 1,
           "another key version: not a transaction record (skipped)");
    is_int(txn_record_decode(k.buf, (int32_t)k.len - 1, v.buf, (int32_t)v.len, &a, &r), -1,
           "truncated key");
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v.buf, (int32_t)v.len - 1, &a, &r), -1,
           "truncated value");
    uint8_t v2[256];
    memcpy(v2, v.buf, v.len);
    v2[1] = 2;
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v2, (int32_t)v.len, &a, &r), -1,
           "value version 2 (unknown) refused");
    v2[1] = 0;
    v2[2 + 8 + 2 + 4] = 9;
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v2, (int32_t)v.len, &a, &r), -1,
           "status 9 refused");
    memcpy(v2, v.buf, v.len);
    v2[v.len] = 0;
    is_int(txn_record_decode(k.buf, (int32_t)k.len, v2, (int32_t)v.len + 1, &a, &r), -1,
           "trailing bytes refused");

    kp_arena_free(&a);
    txn_meta_free(&m);
    wire_writer_free(&k);
    wire_writer_free(&v);
    wire_writer_free(&ev);
    return done_testing();
}
