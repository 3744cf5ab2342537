/* batch_recompress: every codec direction keeps the records byte for byte,
 * the header fields, and sets the new codec and CRC; nothing happens when
 * the codec already matches; levels reach the codec; corrupt input and a
 * missing codec are refused with Kafka's codes. */
#include "storage/batch_recompress.h"

#include "batch_builder.h"
#include "tap.h"
#include "test_codecs.h"

static const int codecs[] = {RB_CODEC_NONE, RB_CODEC_GZIP, RB_CODEC_SNAPPY, RB_CODEC_LZ4,
                             RB_CODEC_ZSTD};
static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

/* The plain records section of test batches: headers, null key, empty
 * value, repetitive data so compression matters. */
static void plain_records(struct wire_writer *w, int64_t *base_ts)
{
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    static const struct bb_header hdrs[] = {{"h1", "v1", -2}, {"h2", NULL, -1}};
    struct bb_record recs[] = {
        {"k0", -2, "value zero", -2, 1700000000000, 2, hdrs},
        {NULL, -2, "", -2, 1700000000005, 0, NULL},
        {"k2", -2, NULL, -2, 1700000000001, 0, NULL},
        {"k3", -2, big, -2, 1700000000009, 1, hdrs},
    };
    *base_ts = 1700000000000;
    bb_encode_records(w, recs, 4, *base_ts);
}

/* A batch of 4 records compressed with codec (through tc_compress). */
static uint8_t *make_batch(struct tc_ctx *c, int codec, int16_t extra_attrs,
                           const struct wire_writer *plain, size_t *len)
{
    struct bb_opts o = bb_default_opts();
    o.producer_id = 4242;
    o.producer_epoch = 3;
    o.base_sequence = 17;
    o.attributes = (int16_t)(codec | extra_attrs);
    uint8_t *sec = NULL;
    size_t seclen = 0;
    if (codec == RB_CODEC_NONE) {
        sec = malloc(plain->len);
        memcpy(sec, plain->buf, plain->len);
        seclen = plain->len;
    } else if (tc_compress(c, codec, codec == RB_CODEC_GZIP ? -1 : codec == RB_CODEC_LZ4 ? 9 : 3,
                           plain->buf, plain->len, &sec, &seclen) != 0) {
        return NULL;
    }
    uint8_t *b = bb_build_raw(&o, sec, seclen, 4, 3, 1700000000000, 1700000000009, len);
    free(sec);
    return b;
}

static void test_target_codec(void)
{
    /* enum sluice_compression: uncompressed, zstd, lz4, snappy, gzip, producer */
    is_int(batch_target_codec(0, RB_CODEC_GZIP), RB_CODEC_NONE, "uncompressed -> none");
    is_int(batch_target_codec(1, RB_CODEC_NONE), RB_CODEC_ZSTD, "zstd -> 4");
    is_int(batch_target_codec(2, RB_CODEC_NONE), RB_CODEC_LZ4, "lz4 -> 3");
    is_int(batch_target_codec(3, RB_CODEC_NONE), RB_CODEC_SNAPPY, "snappy -> 2");
    is_int(batch_target_codec(4, RB_CODEC_NONE), RB_CODEC_GZIP, "gzip -> 1");
    is_int(batch_target_codec(5, RB_CODEC_LZ4), RB_CODEC_LZ4, "producer keeps the batch's codec");
    is_int(batch_target_codec(5, RB_CODEC_NONE), RB_CODEC_NONE, "producer keeps uncompressed");
}

static void test_all_directions(void)
{
    struct wire_writer plain;
    wire_writer_init(&plain);
    int64_t base_ts;
    plain_records(&plain, &base_ts);
    for (size_t s = 0; s < sizeof codecs / sizeof codecs[0]; s++) {
        for (size_t d = 0; d < sizeof codecs / sizeof codecs[0]; d++) {
            struct tc_ctx c = tc_ctx_all();
            size_t len;
            uint8_t *b = make_batch(&c, codecs[s], RB_ATTR_TRANSACTIONAL, &plain, &len);
            const char *sn = codec_names[s], *dn = codec_names[d];
            c.compress_calls = c.decompress_calls = 0;
            uint8_t *out = NULL;
            size_t outlen = 0;
            char err[160] = "";
            int level = codecs[d] == RB_CODEC_GZIP ? 9 : codecs[d] == RB_CODEC_ZSTD ? 7 : 5;
            int rc = batch_recompress(b, len, codecs[d], level, tc_decompress, tc_compress, &c,
                                      &out, &outlen, err, sizeof err);
            is_int(rc, 0, "%s -> %s: accepted (%s)", sn, dn, err);
            if (s == d) {
                ok(out == NULL && c.compress_calls == 0 && c.decompress_calls == 0,
                   "%s -> %s: nothing done when the codec already matches", sn, dn);
                free(b);
                continue;
            }
            if (!out) {
                ok(0, "%s -> %s: produced a batch", sn, dn);
                free(b);
                continue;
            }
            int16_t attrs = rb_get_i16(out + RB_OFF_ATTRIBUTES);
            ok((attrs & RB_ATTR_COMPRESSION_MASK) == codecs[d] &&
                   (attrs & ~RB_ATTR_COMPRESSION_MASK) == RB_ATTR_TRANSACTIONAL,
               "%s -> %s: attributes 0x%x carry the new codec and keep the other bits", sn, dn,
               attrs);
            ok(memcmp(out + RB_OFF_LAST_OFFSET_DELTA, b + RB_OFF_LAST_OFFSET_DELTA,
                      RB_HEADER_SIZE - RB_OFF_LAST_OFFSET_DELTA) == 0 &&
                   memcmp(out, b, RB_OFF_LENGTH) == 0 &&
                   memcmp(out + RB_OFF_LEADER_EPOCH, b + RB_OFF_LEADER_EPOCH, 5) == 0,
               "%s -> %s: offsets, timestamps, producer id/epoch/sequence, count unchanged", sn,
               dn);
            is_int((size_t)rb_get_i32(out + RB_OFF_LENGTH) + RB_LOG_OVERHEAD, outlen,
                   "%s -> %s: batchLength matches", sn, dn);
            struct rb_info info;
            rc = rb_validate(out, outlen, RB_VALIDATE_PRODUCE, tc_decompress, &c, &info, err,
                             sizeof err);
            is_int(rc, 0, "%s -> %s: new batch validates (CRC, records) %s", sn, dn, err);
            is_int(info.records, 4, "%s -> %s: 4 records", sn, dn);
            /* Decompressed records section byte-identical to the original. */
            const uint8_t *sec = out + RB_HEADER_SIZE;
            size_t seclen = outlen - RB_HEADER_SIZE;
            uint8_t *dp = NULL;
            size_t dlen = seclen;
            if (codecs[d] != RB_CODEC_NONE) {
                if (tc_decompress(&c, codecs[d], sec, seclen, &dp, &dlen) != 0)
                    dlen = 0;
                sec = dp;
            }
            ok(dlen == plain.len && memcmp(sec, plain.buf, dlen) == 0,
               "%s -> %s: records byte-identical after decompression", sn, dn);
            free(dp);
            if (codecs[d] != RB_CODEC_NONE)
                is_int(c.last_level, level, "%s -> %s: level %d passed to the codec", sn, dn,
                       level);
            free(out);
            free(b);
        }
    }
    wire_writer_free(&plain);
}

static void test_gzip_levels(void)
{
    struct wire_writer plain;
    wire_writer_init(&plain);
    int64_t base_ts;
    plain_records(&plain, &base_ts);
    struct tc_ctx c = tc_ctx_all();
    size_t len;
    uint8_t *b = make_batch(&c, RB_CODEC_NONE, 0, &plain, &len);
    uint8_t *o1, *o9;
    size_t l1, l9;
    char err[128];
    is_int(batch_recompress(b, len, RB_CODEC_GZIP, 1, tc_decompress, tc_compress, &c, &o1, &l1,
                            err, sizeof err),
           0, "gzip level 1");
    is_int(batch_recompress(b, len, RB_CODEC_GZIP, 9, tc_decompress, tc_compress, &c, &o9, &l9,
                            err, sizeof err),
           0, "gzip level 9");
    /* The gzip header's XFL byte records the deflate level class. */
    is_int(o1[RB_HEADER_SIZE + 8], 4, "level 1 stream is marked fastest (XFL 4)");
    is_int(o9[RB_HEADER_SIZE + 8], 2, "level 9 stream is marked maximum compression (XFL 2)");
    free(o1);
    free(o9);
    free(b);
    wire_writer_free(&plain);
}

static void test_errors(void)
{
    struct wire_writer plain;
    wire_writer_init(&plain);
    int64_t base_ts;
    plain_records(&plain, &base_ts);
    struct tc_ctx c = tc_ctx_all();
    size_t len;
    char err[160];
    uint8_t *out = (uint8_t *)1;
    size_t outlen;

    uint8_t *b = make_batch(&c, RB_CODEC_NONE, 0, &plain, &len);
    b[len - 1] ^= 0x55; /* payload flipped, CRC stale */
    is_int(batch_recompress(b, len, RB_CODEC_GZIP, -1, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_CORRUPT_MESSAGE, "stale CRC: CORRUPT_MESSAGE, no fresh CRC given to bad data");
    ok(out == NULL, "no output on error");
    ok(strstr(err, "CRC") != NULL, "message names the CRC: %s", err);
    free(b);

    /* Valid CRC over a gzip payload that is not gzip. */
    struct bb_opts o = bb_default_opts();
    o.attributes = RB_CODEC_GZIP;
    b = bb_build_raw(&o, (const uint8_t *)"not gzip at all", 15, 1, 0, 0, 0, &len);
    is_int(batch_recompress(b, len, RB_CODEC_NONE, 0, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_CORRUPT_MESSAGE, "undecodable gzip payload: CORRUPT_MESSAGE");
    free(b);

    /* Target codec without a module. */
    b = make_batch(&c, RB_CODEC_NONE, 0, &plain, &len);
    c.available &= ~(1u << RB_CODEC_ZSTD);
    is_int(batch_recompress(b, len, RB_CODEC_ZSTD, 3, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "target codec not loaded: UNSUPPORTED_COMPRESSION_TYPE");
    ok(strstr(err, "not loaded") != NULL, "message says the module is not loaded: %s", err);
    free(b);

    /* Source codec without a module. */
    c = tc_ctx_all();
    b = make_batch(&c, RB_CODEC_SNAPPY, 0, &plain, &len);
    c.available &= ~(1u << RB_CODEC_SNAPPY);
    is_int(batch_recompress(b, len, RB_CODEC_GZIP, 6, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "source codec not loaded: UNSUPPORTED_COMPRESSION_TYPE");
    free(b);

    /* Truncated and non-v2 input. */
    c = tc_ctx_all();
    b = make_batch(&c, RB_CODEC_NONE, 0, &plain, &len);
    is_int(batch_recompress(b, len - 1, RB_CODEC_GZIP, 6, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_CORRUPT_MESSAGE, "truncated batch: CORRUPT_MESSAGE");
    is_int(batch_recompress(b, 30, RB_CODEC_GZIP, 6, tc_decompress, tc_compress, &c, &out,
                            &outlen, err, sizeof err),
           KP_ERR_CORRUPT_MESSAGE, "header cut short: CORRUPT_MESSAGE");
    free(b);
    wire_writer_free(&plain);
}

int main(void)
{
    test_target_codec();
    test_all_directions();
    test_gzip_levels();
    test_errors();
    return done_testing();
}
