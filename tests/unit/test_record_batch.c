/* Record batch v2: validation error codes, record iteration, in-place rewrites. */
#include "storage/record_batch.h"
#include "batch_builder.h"
#include "tap.h"

static int validate(const uint8_t *b, size_t len, unsigned flags, struct rb_info *info)
{
    char err[256] = "";
    int rc = rb_validate(b, len, flags, NULL, NULL, info, err, sizeof err);
    if (rc)
        diag("rb_validate: %d %s", rc, err);
    return rc;
}

/* A fake codec for tests: "compressed" bytes are the records XOR 0x5a. */
static int xor_dec(void *ctx, int codec, const uint8_t *in, size_t inlen, uint8_t **out,
                   size_t *outlen)
{
    int *calls = (int *)ctx;
    (*calls)++;
    if (codec != RB_CODEC_LZ4)
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (inlen == 0)
        return KP_ERR_CORRUPT_MESSAGE;
    *out = (uint8_t *)malloc(inlen);
    for (size_t i = 0; i < inlen; i++)
        (*out)[i] = in[i] ^ 0x5a;
    *outlen = inlen;
    return 0;
}

static void test_roundtrip(void)
{
    struct bb_header hdrs[] = { { "h1", "x", -2 }, { "h2", NULL, -2 } };
    struct bb_record recs[] = {
        { "k0", -2, "value-0", -2, 1000, 2, hdrs },
        { NULL, -2, "value-1", -2, 1005, 0, NULL },
        { "k2", -2, NULL, -2, 990, 0, NULL },
    };
    size_t len;
    uint8_t *b = bb_build(recs, 3, NULL, &len);
    struct rb_info info;
    is_int(validate(b, len, RB_VALIDATE_PRODUCE, &info), 0, "valid 3-record batch");
    is_int(info.size, len, "size is the whole batch");
    is_int(info.h.record_count, 3, "record count");
    is_int(info.records, 3, "3 records iterated");
    is_int(info.h.base_timestamp, 990, "base timestamp is the minimum");
    is_int(info.max_record_timestamp, 1005, "max record timestamp");
    is_int(rb_batch_size(b, len), len, "rb_batch_size");

    rb_set_base_offset(b, 100);
    rb_set_partition_leader_epoch(b, 7);
    is_int(validate(b, len, RB_VALIDATE_PRODUCE, &info), 0, "still valid after offset/epoch rewrite");
    is_int(info.h.base_offset, 100, "base offset rewritten");
    is_int(info.h.partition_leader_epoch, 7, "leader epoch rewritten");

    struct rb_iter it;
    struct rb_record r;
    is_int(rb_iter_init(&it, b, len, NULL, NULL), 0, "iter init");
    is_int(rb_iter_next(&it, &r), 1, "record 0");
    is_int(r.offset, 100, "record 0 offset");
    is_int(r.timestamp, 1000, "record 0 timestamp");
    ok(r.key_len == 2 && memcmp(r.key, "k0", 2) == 0, "record 0 key");
    ok(r.value_len == 7 && memcmp(r.value, "value-0", 7) == 0, "record 0 value");
    is_int(r.header_count, 2, "record 0 has 2 headers");
    size_t pos = 0;
    const uint8_t *hk, *hv;
    int32_t hkl, hvl;
    ok(rb_header_next(&r, &pos, &hk, &hkl, &hv, &hvl) && hkl == 2 && !memcmp(hk, "h1", 2) &&
           hvl == 1 && hv[0] == 'x',
       "header 1");
    ok(rb_header_next(&r, &pos, &hk, &hkl, &hv, &hvl) && hkl == 2 && !memcmp(hk, "h2", 2) &&
           hvl == -1 && hv == NULL,
       "header 2 with null value");
    is_int(rb_header_next(&r, &pos, &hk, &hkl, &hv, &hvl), 0, "no third header");
    is_int(rb_iter_next(&it, &r), 1, "record 1");
    ok(r.offset == 101 && r.key_len == -1 && r.key == NULL && r.timestamp == 1005,
       "record 1: offset 101, null key, ts 1005");
    is_int(rb_iter_next(&it, &r), 1, "record 2");
    ok(r.offset == 102 && r.value_len == -1 && r.value == NULL && r.timestamp == 990,
       "record 2: offset 102, null value, ts 990");
    is_int(rb_iter_next(&it, &r), 0, "end");
    is_int(it.err, 0, "no error at end");
    rb_iter_free(&it);

    /* LogAppendTime: attribute bit 3, maxTimestamp replaced, CRC recomputed. */
    rb_set_max_timestamp(b, len, 5555, 1);
    is_int(validate(b, len, RB_VALIDATE_PRODUCE, &info), 0, "valid after LogAppendTime rewrite");
    ok(info.h.attributes & RB_ATTR_LOG_APPEND_TIME, "LogAppendTime attribute set");
    is_int(info.h.max_timestamp, 5555, "maxTimestamp = append time");
    is_int(info.max_record_timestamp, 5555, "records report the append time");
    free(b);
}

static void test_errors(void)
{
    size_t len;
    uint8_t *b = bb_build_values("v", 3, 1000, &len);
    uint8_t *c = malloc(len);

    memcpy(c, b, len);
    c[len - 1] ^= 1;
    is_int(validate(c, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_CORRUPT_MESSAGE, "CRC mismatch");

    memcpy(c, b, len);
    c[RB_OFF_MAGIC] = 1;
    is_int(validate(c, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD, "magic 1 refused");
    c[RB_OFF_MAGIC] = 0;
    is_int(validate(c, len, 0, NULL), KP_ERR_INVALID_RECORD, "magic 0 refused");

    is_int(validate(b, len - 1, 0, NULL), KP_ERR_CORRUPT_MESSAGE, "truncated batch");
    is_int(validate(b, 10, 0, NULL), KP_ERR_CORRUPT_MESSAGE, "shorter than log overhead");

    memcpy(c, b, len);
    rb_put_i32(c + RB_OFF_LENGTH, 48);
    is_int(validate(c, len, 0, NULL), KP_ERR_CORRUPT_MESSAGE, "batchLength below minimum");

    memcpy(c, b, len);
    rb_put_i32(c + RB_OFF_LAST_OFFSET_DELTA, 5);
    bb_fix_crc(c, len);
    is_int(validate(c, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "lastOffsetDelta != count-1 refused for produce");

    memcpy(c, b, len);
    rb_put_i32(c + RB_OFF_RECORD_COUNT, 4);
    rb_put_i32(c + RB_OFF_LAST_OFFSET_DELTA, 3);
    bb_fix_crc(c, len);
    is_int(validate(c, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "count larger than the records present");

    memcpy(c, b, len);
    rb_put_i32(c + RB_OFF_RECORD_COUNT, 2);
    rb_put_i32(c + RB_OFF_LAST_OFFSET_DELTA, 1);
    bb_fix_crc(c, len);
    is_int(validate(c, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "bytes left after the declared records");

    memcpy(c, b, len);
    rb_put_i32(c + RB_OFF_RECORD_COUNT, -1);
    bb_fix_crc(c, len);
    is_int(validate(c, len, 0, NULL), KP_ERR_INVALID_RECORD, "negative count");

    /* Control batches are for the broker itself. */
    struct bb_opts o = bb_default_opts();
    o.attributes = RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL;
    o.producer_id = 9;
    o.producer_epoch = 1;
    o.base_sequence = -1;
    struct bb_record one[] = { BB_REC("\0\0\0\0", "\0\0\0\0\0\0", 5) };
    one[0].key_len = 4;
    one[0].value_len = 6;
    size_t clen;
    uint8_t *ctl = bb_build(one, 1, &o, &clen);
    is_int(validate(ctl, clen, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "client control batch refused");
    struct rb_info info;
    is_int(validate(ctl, clen, RB_VALIDATE_PRODUCE | RB_VALIDATE_ALLOW_CONTROL, &info), 0,
           "control batch allowed for the broker");
    ok((info.h.attributes & (RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL)) ==
           (RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL),
       "control and transactional bits kept");
    free(ctl);

    o = bb_default_opts();
    o.producer_id = 9;
    o.base_sequence = -1;
    ctl = bb_build(one, 1, &o, &clen);
    is_int(validate(ctl, clen, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "producer id with a negative sequence refused");
    free(ctl);

    /* Empty batch (count 0) is legal on disk (compaction) but not from a producer. */
    o = bb_default_opts();
    uint8_t *empty = bb_build_raw(&o, NULL, 0, 0, 0, -1, -1, &clen);
    is_int(validate(empty, clen, 0, NULL), 0, "empty batch is well-formed");
    is_int(validate(empty, clen, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "empty batch refused for produce");
    free(empty);
    free(c);
    free(b);
}

/* Hand-encoded records to test record-level checks. */
static uint8_t *records_with(int32_t d0, int32_t d1, int32_t key_len_override, size_t *len)
{
    struct wire_writer w;
    wire_writer_init(&w);
    int32_t deltas[2] = { d0, d1 };
    for (int i = 0; i < 2; i++) {
        struct wire_writer r;
        wire_writer_init(&r);
        wire_write_i8(&r, 0);
        wire_write_varlong(&r, 0);
        wire_write_varint(&r, deltas[i]);
        wire_write_varint(&r, i == 1 && key_len_override != 0 ? key_len_override : -1);
        wire_write_varint(&r, 1);
        wire_write_u8(&r, 'v');
        wire_write_varint(&r, 0);
        wire_write_varint(&w, (int32_t)r.len);
        wire_write_raw(&w, r.buf, r.len);
        wire_writer_free(&r);
    }
    struct bb_opts o = bb_default_opts();
    int32_t last = d1 > d0 ? d1 : 1;
    uint8_t *b = bb_build_raw(&o, w.buf, w.len, 2, last, 10, 10, len);
    wire_writer_free(&w);
    return b;
}

static void test_records(void)
{
    size_t len;
    uint8_t *b = records_with(0, 1, 0, &len);
    is_int(validate(b, len, RB_VALIDATE_PRODUCE, NULL), 0, "hand-built deltas 0,1 valid");
    free(b);
    b = records_with(0, 3, 0, &len);
    is_int(validate(b, len, RB_VALIDATE_PRODUCE, NULL), KP_ERR_INVALID_RECORD,
           "gap in offset deltas refused for produce");
    is_int(validate(b, len, 0, NULL), 0, "gap accepted on disk (compacted batch)");
    free(b);
    b = records_with(1, 0, 0, &len);
    is_int(validate(b, len, 0, NULL), KP_ERR_INVALID_RECORD, "decreasing offset deltas refused");
    free(b);
    b = records_with(0, 1, 50, &len);
    is_int(validate(b, len, 0, NULL), KP_ERR_INVALID_RECORD, "key length past the record refused");
    free(b);
    b = records_with(0, 1, -7, &len);
    is_int(validate(b, len, 0, NULL), KP_ERR_INVALID_RECORD, "key length < -1 refused");
    free(b);
}

static void test_compressed(void)
{
    struct bb_record recs[] = { BB_REC("a", "one", 100), BB_REC("b", "two", 200) };
    struct wire_writer w;
    wire_writer_init(&w);
    bb_encode_records(&w, recs, 2, 100);
    for (size_t i = 0; i < w.len; i++)
        w.buf[i] ^= 0x5a;
    struct bb_opts o = bb_default_opts();
    o.attributes = RB_CODEC_LZ4;
    size_t len;
    uint8_t *b = bb_build_raw(&o, w.buf, w.len, 2, 1, 100, 200, &len);
    wire_writer_free(&w);

    char err[128];
    is_int(rb_validate(b, len, RB_VALIDATE_PRODUCE, NULL, NULL, NULL, err, sizeof err),
           KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "compressed batch without decompressor");
    int calls = 0;
    struct rb_info info;
    is_int(rb_validate(b, len, RB_VALIDATE_PRODUCE, xor_dec, &calls, &info, err, sizeof err), 0,
           "compressed batch validated through the decompressor");
    is_int(calls, 1, "decompressor called once");
    is_int(info.records, 2, "inner records counted");
    is_int(info.max_record_timestamp, 200, "inner max timestamp");

    struct rb_iter it;
    struct rb_record r;
    is_int(rb_iter_init(&it, b, len, xor_dec, &calls), 0, "iter over compressed batch");
    ok(rb_iter_next(&it, &r) == 1 && r.value_len == 3 && !memcmp(r.value, "one", 3) &&
           r.timestamp == 100,
       "inner record 0");
    ok(rb_iter_next(&it, &r) == 1 && r.value_len == 3 && !memcmp(r.value, "two", 3) &&
           r.offset == 1,
       "inner record 1");
    is_int(rb_iter_next(&it, &r), 0, "inner end");
    rb_iter_free(&it);

    b[RB_OFF_ATTRIBUTES + 1] = RB_CODEC_ZSTD;
    bb_fix_crc(b, len);
    is_int(rb_validate(b, len, RB_VALIDATE_PRODUCE, xor_dec, &calls, NULL, err, sizeof err),
           KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "decompressor error code propagated");
    free(b);
}

static void test_shallow(void)
{
    size_t len;
    uint8_t *b = records_with(1, 0, 0, &len);
    is_int(validate(b, len, RB_VALIDATE_SHALLOW, NULL), 0, "shallow validation skips records");
    free(b);
}

int main(void)
{
    test_roundtrip();
    test_errors();
    test_records();
    test_compressed();
    test_shallow();
    return done_testing();
}
