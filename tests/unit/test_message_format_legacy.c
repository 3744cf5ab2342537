/* Up-conversion of magic 0/1 message sets to a record batch v2: plain and
 * gzip/lz4-wrapped sets, relative and absolute inner offsets, timestamps,
 * and every refusal with Kafka's error code. */
#include "storage/message_format_legacy.h"

#include <lz4frame.h>

#include "tap.h"
#include "test_codecs.h"

/* ---- building legacy messages -------------------------------------------- */

struct lm {
    int64_t offset;
    int magic;
    int attributes;
    int64_t ts;
    const char *key;   /* NULL: null */
    const char *value; /* NULL: null */
    int32_t value_len; /* -2: strlen */
};

static void put_msg(struct wire_writer *w, const struct lm *m)
{
    struct wire_writer b;
    wire_writer_init(&b);
    wire_write_i8(&b, (int8_t)m->magic);
    wire_write_i8(&b, (int8_t)m->attributes);
    if (m->magic == 1)
        wire_write_i64(&b, m->ts);
    int32_t kl = m->key ? (int32_t)strlen(m->key) : -1;
    wire_write_i32(&b, kl);
    if (kl > 0)
        wire_write_raw(&b, m->key, (size_t)kl);
    int32_t vl = !m->value ? -1 : m->value_len == -2 ? (int32_t)strlen(m->value) : m->value_len;
    wire_write_i32(&b, vl);
    if (vl > 0)
        wire_write_raw(&b, m->value, (size_t)vl);
    wire_write_i64(w, m->offset);
    wire_write_i32(w, (int32_t)(4 + b.len));
    wire_write_u32(w, (uint32_t)crc32(0L, b.buf, (uInt)b.len));
    wire_write_raw(w, b.buf, b.len);
    wire_writer_free(&b);
}

/* A wrapper of `magic` around inner messages compressed with codec. */
static void put_wrapper(struct wire_writer *w, struct tc_ctx *c, int magic, int codec,
                        int attrs_extra, int64_t offset, int64_t ts, const struct lm *inner,
                        int n)
{
    struct wire_writer set;
    wire_writer_init(&set);
    for (int i = 0; i < n; i++)
        put_msg(&set, &inner[i]);
    uint8_t *z = NULL;
    size_t zl = 0;
    tc_compress(c, codec, codec == RB_CODEC_GZIP ? -1 : 1, set.buf, set.len, &z, &zl);
    struct lm wm = {offset, magic, codec | attrs_extra, ts, NULL, (const char *)z, (int32_t)zl};
    put_msg(w, &wm);
    free(z);
    wire_writer_free(&set);
}

static struct legacy_opts create_time(void)
{
    struct legacy_opts o = {false, 1048588};
    return o;
}

/* Convert and check the result is a valid v2 batch; returns its records. */
static int convert(const struct wire_writer *w, const struct legacy_opts *o, struct tc_ctx *c,
                   struct legacy_result *res, char *err, size_t errlen)
{
    return legacy_upconvert(w->buf, w->len, o, tc_decompress, c, res, err, errlen);
}

struct got {
    int n;
    int64_t ts[8], off_delta[8];
    char key[8][32], value[8][64];
    int key_null[8], value_null[8];
};

static int read_back(const struct legacy_result *r, struct got *g)
{
    memset(g, 0, sizeof *g);
    struct tc_ctx c = tc_ctx_all();
    char err[128];
    struct rb_info info;
    if (rb_validate(r->batch, r->size, RB_VALIDATE_PRODUCE, tc_decompress, &c, &info, err,
                    sizeof err) != 0) {
        diag("converted batch does not validate: %s", err);
        return -1;
    }
    struct rb_iter it;
    rb_iter_init(&it, r->batch, r->size, tc_decompress, &c);
    struct rb_record rec;
    while (g->n < 8 && rb_iter_next(&it, &rec) == 1) {
        g->ts[g->n] = rec.timestamp;
        g->off_delta[g->n] = rec.offset_delta;
        g->key_null[g->n] = rec.key_len < 0;
        g->value_null[g->n] = rec.value_len < 0;
        if (rec.key_len > 0)
            snprintf(g->key[g->n], 32, "%.*s", rec.key_len, rec.key);
        if (rec.value_len > 0)
            snprintf(g->value[g->n], 64, "%.*s", rec.value_len, rec.value);
        if (rec.header_count != 0)
            return -1;
        g->n++;
    }
    rb_iter_free(&it);
    return 0;
}

static void test_v0_plain(void)
{
    struct wire_writer w;
    wire_writer_init(&w);
    struct lm msgs[] = {
        {0, 0, 0, 0, "k0", "v0", -2},
        {0, 0, 0, 0, NULL, "v1", -2},
        {0, 0, 0, 0, "k2", "", -2},
        {0, 0, 0, 0, "k3", NULL, -2},
    };
    for (int i = 0; i < 4; i++)
        put_msg(&w, &msgs[i]);
    struct tc_ctx c = tc_ctx_all();
    struct legacy_opts o = create_time();
    struct legacy_result r;
    char err[200] = "";
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v0 plain set of 4 converts (%s)", err);
    is_int(r.magic, 0, "magic 0 reported");
    is_int(r.source_codec, RB_CODEC_NONE, "uncompressed source");
    is_int(r.records, 4, "4 records");
    struct got g;
    is_int(read_back(&r, &g), 0, "converted batch validates as a produce batch v2");
    is_int(g.n, 4, "4 records read back");
    ok(!strcmp(g.key[0], "k0") && !strcmp(g.value[0], "v0"), "record 0 key/value");
    ok(g.key_null[1] && !strcmp(g.value[1], "v1"), "record 1 null key kept");
    ok(!g.value_null[2] && g.value[2][0] == 0, "record 2 empty value stays empty, not null");
    ok(g.value_null[3], "record 3 null value kept");
    ok(g.ts[0] == -1 && g.ts[3] == -1, "magic 0 has no timestamps: -1 (NO_TIMESTAMP)");
    ok(g.off_delta[0] == 0 && g.off_delta[3] == 3, "offset deltas 0..3");
    is_int(rb_get_i16(r.batch + RB_OFF_ATTRIBUTES), 0, "batch attributes 0 (uncompressed, CreateTime)");
    ok(rb_get_i64(r.batch + RB_OFF_PRODUCER_ID) == -1 &&
           rb_get_i16(r.batch + RB_OFF_PRODUCER_EPOCH) == -1 &&
           rb_get_i32(r.batch + RB_OFF_BASE_SEQUENCE) == -1,
       "no producer id, epoch or sequence");
    ok(rb_get_i64(r.batch + RB_OFF_MAX_TIMESTAMP) == -1, "max timestamp -1");
    free(r.batch);
    wire_writer_free(&w);
}

static void test_v1_plain(void)
{
    struct wire_writer w;
    wire_writer_init(&w);
    struct lm msgs[] = {
        {7, 1, 0, 1700000000100, "a", "first", -2},
        {9, 1, 0, 1700000000050, "b", "second", -2},
        {3, 1, 0, -1, "c", "third", -2},
    };
    for (int i = 0; i < 3; i++)
        put_msg(&w, &msgs[i]);
    struct tc_ctx c = tc_ctx_all();
    struct legacy_opts o = create_time();
    struct legacy_result r;
    char err[200] = "";
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v1 plain set converts (%s)", err);
    struct got g;
    is_int(read_back(&r, &g), 0, "validates");
    ok(g.n == 3 && g.ts[0] == 1700000000100 && g.ts[1] == 1700000000050 && g.ts[2] == -1,
       "v1 timestamps kept per record (including -1)");
    ok(g.off_delta[0] == 0 && g.off_delta[2] == 2, "producer's offsets 7,9,3 replaced by 0..2");
    ok(rb_get_i64(r.batch + RB_OFF_MAX_TIMESTAMP) == 1700000000100, "max timestamp is the largest");
    free(r.batch);

    /* A LogAppendTime bit set by the producer on an uncompressed v1
     * message: accepted on a CreateTime topic with a real timestamp,
     * refused on a LogAppendTime topic (LogValidator.validateTimestamp). */
    wire_writer_free(&w);
    wire_writer_init(&w);
    struct lm lat = {0, 1, LEGACY_ATTR_LOG_APPEND_TIME, 1700000000000, "k", "v", -2};
    put_msg(&w, &lat);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "LAT bit, CreateTime topic: accepted");
    free(r.batch);
    struct legacy_opts olat = {true, 1048588};
    is_int(convert(&w, &olat, &c, &r, err, sizeof err), KP_ERR_INVALID_TIMESTAMP,
           "LAT bit, LogAppendTime topic: INVALID_TIMESTAMP");
    ok(r.batch == NULL, "no batch on error");
    wire_writer_free(&w);
}

static void test_gzip_wrapped(void)
{
    struct tc_ctx c = tc_ctx_all();
    struct legacy_opts o = create_time();
    struct legacy_result r;
    struct got g;
    char err[200] = "";
    struct wire_writer w;

    /* v0: inner offsets absolute (whatever the producer put). */
    struct lm in0[] = {
        {100, 0, 0, 0, "k0", "zero", -2},
        {101, 0, 0, 0, "k1", "one", -2},
        {102, 0, 0, 0, NULL, "two", -2},
    };
    wire_writer_init(&w);
    put_wrapper(&w, &c, 0, RB_CODEC_GZIP, 0, 102, 0, in0, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v0 gzip wrapper converts (%s)", err);
    is_int(r.source_codec, RB_CODEC_GZIP, "source codec gzip (for compression.type=producer)");
    is_int(read_back(&r, &g), 0, "validates");
    ok(g.n == 3 && !strcmp(g.value[0], "zero") && !strcmp(g.value[2], "two") && g.key_null[2],
       "v0 inner records in order");
    ok(g.ts[0] == -1 && g.ts[2] == -1, "v0 inner timestamps -1");
    is_int(rb_get_i16(r.batch + RB_OFF_ATTRIBUTES) & 7, 0,
           "converted batch is uncompressed (re-compression is batch_recompress's job)");
    free(r.batch);
    wire_writer_free(&w);

    /* v1: relative inner offsets 0..2, wrapper offset = last (2). */
    struct lm in1[] = {
        {0, 1, 0, 1700000000001, "k0", "zero", -2},
        {1, 1, 0, 1700000000002, "k1", "one", -2},
        {2, 1, 0, 1700000000003, "k2", "two", -2},
    };
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 2, 1700000000003, in1, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v1 gzip, relative offsets (%s)", err);
    is_int(read_back(&r, &g), 0, "validates");
    ok(g.n == 3 && g.ts[0] == 1700000000001 && g.ts[2] == 1700000000003,
       "v1 CreateTime wrapper: inner timestamps kept");
    free(r.batch);
    wire_writer_free(&w);

    /* v1: wrapper offset 0 (some librdkafka versions). */
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 0, 1700000000003, in1, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v1 wrapper offset 0 accepted");
    free(r.batch);
    wire_writer_free(&w);

    /* v1: absolute inner offsets 100..102, wrapper offset 102. */
    struct lm in1abs[3];
    memcpy(in1abs, in1, sizeof in1);
    for (int i = 0; i < 3; i++)
        in1abs[i].offset = 100 + i;
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 102, 1700000000003, in1abs, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v1 absolute inner offsets accepted");
    is_int(read_back(&r, &g), 0, "validates");
    ok(g.n == 3 && g.off_delta[0] == 0 && g.off_delta[2] == 2, "reassigned to deltas 0..2");
    free(r.batch);
    wire_writer_free(&w);

    /* v1: wrapper offset below the last inner offset and not zero. */
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 1, 1700000000003, in1, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), KP_ERR_INVALID_RECORD,
           "v1 wrapper offset 1 < last inner 2: INVALID_RECORD");
    wire_writer_free(&w);

    /* v1 LogAppendTime wrapper: inner records take the wrapper timestamp. */
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, LEGACY_ATTR_LOG_APPEND_TIME, 2, 1690000000000, in1, 3);
    is_int(convert(&w, &o, &c, &r, err, sizeof err), 0, "v1 LAT wrapper, CreateTime topic");
    is_int(read_back(&r, &g), 0, "validates");
    ok(g.n == 3 && g.ts[0] == 1690000000000 && g.ts[2] == 1690000000000,
       "every inner record has the wrapper's timestamp");
    free(r.batch);
    struct legacy_opts olat = {true, 1048588};
    is_int(convert(&w, &olat, &c, &r, err, sizeof err), KP_ERR_INVALID_TIMESTAMP,
           "v1 LAT wrapper on a LogAppendTime topic: INVALID_TIMESTAMP");
    wire_writer_free(&w);
}

static void expect(const struct wire_writer *w, const struct legacy_opts *o, struct tc_ctx *c,
                   int code, const char *what)
{
    struct legacy_result r;
    char err[200] = "";
    int rc = convert(w, o, c, &r, err, sizeof err);
    is_int(rc, code, "%s (%s)", what, err);
    ok(r.batch == NULL && (rc == 0 || err[0]), "%s: no batch, a message", what);
    free(r.batch);
}

static void test_errors(void)
{
    struct tc_ctx c = tc_ctx_all();
    struct legacy_opts o = create_time();
    struct wire_writer w;
    struct lm m0 = {0, 0, 0, 0, "key", "value", -2};
    struct lm m1 = {0, 1, 0, 1700000000000, "key", "value", -2};

    wire_writer_init(&w);
    put_msg(&w, &m1);
    w.buf[20] ^= 1; /* in the timestamp, covered by the CRC */
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "outer CRC mismatch: CORRUPT_MESSAGE");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_msg(&w, &m0);
    put_msg(&w, &m0);
    w.len -= 1;
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "last message truncated by one byte");
    w.len -= 10;
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "last message cut inside its log header");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_msg(&w, &m0);
    rb_put_i32(w.buf + 8, 13);
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "size 13 < minimum overhead 14");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_msg(&w, &m0);
    put_msg(&w, &m0);
    w.buf[w.len / 2 + 16] = 3;
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "second message with magic 3");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_msg(&w, &m0);
    put_msg(&w, &m1);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "magic 0 then magic 1: INVALID_RECORD");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_msg(&w, &m0);
    struct legacy_opts small = {false, 20};
    expect(&w, &small, &c, KP_ERR_MESSAGE_TOO_LARGE, "message above max.message.bytes");
    wire_writer_free(&w);

    /* Key length -5 and a key length beyond the message, CRC valid. */
    {
        uint8_t body[] = {0, 0, 0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 1, 'v'};
        wire_writer_init(&w);
        wire_write_i64(&w, 0);
        wire_write_i32(&w, 4 + (int32_t)sizeof body);
        wire_write_u32(&w, (uint32_t)crc32(0L, body, sizeof body));
        wire_write_raw(&w, body, sizeof body);
        expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "key length -5: CORRUPT_MESSAGE");
        wire_writer_free(&w);
        body[2] = body[3] = body[4] = 0;
        body[5] = 9;
        wire_writer_init(&w);
        wire_write_i64(&w, 0);
        wire_write_i32(&w, 4 + (int32_t)sizeof body);
        wire_write_u32(&w, (uint32_t)crc32(0L, body, sizeof body));
        wire_write_raw(&w, body, sizeof body);
        expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "key length past the end: CORRUPT_MESSAGE");
        wire_writer_free(&w);
    }

    struct lm neg = {0, 1, 0, -5, "k", "v", -2};
    wire_writer_init(&w);
    put_msg(&w, &neg);
    expect(&w, &o, &c, KP_ERR_INVALID_TIMESTAMP, "timestamp -5: INVALID_TIMESTAMP");
    wire_writer_free(&w);

    /* Wrappers. */
    struct lm in[] = {{0, 1, 0, 1700000000000, "a", "x", -2}, {1, 1, 0, 1700000000000, "b", "y", -2}};
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 1, 0, in, 2);
    put_msg(&w, &m1);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "compressed wrapper plus another message");
    wire_writer_free(&w);

    struct lm inner_bad[2];
    memcpy(inner_bad, in, sizeof in);
    inner_bad[1].attributes = RB_CODEC_GZIP;
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 1, 0, inner_bad, 2);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "compressed inner message: INVALID_RECORD");
    wire_writer_free(&w);

    memcpy(inner_bad, in, sizeof in);
    inner_bad[1].magic = 0;
    wire_writer_init(&w);
    put_wrapper(&w, &c, 1, RB_CODEC_GZIP, 0, 1, 0, inner_bad, 2);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "inner magic 0 in a v1 wrapper: INVALID_RECORD");
    wire_writer_free(&w);

    /* Inner CRC broken: build the inner set by hand, flip a value byte. */
    {
        struct wire_writer set;
        wire_writer_init(&set);
        put_msg(&set, &in[0]);
        set.buf[set.len - 1] ^= 0x20;
        uint8_t *z;
        size_t zl;
        tc_compress(&c, RB_CODEC_GZIP, 6, set.buf, set.len, &z, &zl);
        struct lm wm = {0, 1, RB_CODEC_GZIP, 0, NULL, (const char *)z, (int32_t)zl};
        wire_writer_init(&w);
        put_msg(&w, &wm);
        expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "inner CRC mismatch: CORRUPT_MESSAGE");
        wire_writer_free(&w);
        free(z);
        /* Inner set truncated: drop the last 3 bytes before compressing. */
        wire_writer_free(&set);
        wire_writer_init(&set);
        put_msg(&set, &in[0]);
        put_msg(&set, &in[1]);
        tc_compress(&c, RB_CODEC_GZIP, 6, set.buf, set.len - 3, &z, &zl);
        wm.value = (const char *)z;
        wm.value_len = (int32_t)zl;
        wire_writer_init(&w);
        put_msg(&w, &wm);
        expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "truncated inner message: CORRUPT_MESSAGE");
        wire_writer_free(&w);
        free(z);
        /* No inner messages at all. */
        tc_compress(&c, RB_CODEC_GZIP, 6, set.buf, 0, &z, &zl);
        wm.value = (const char *)z;
        wm.value_len = (int32_t)zl;
        wire_writer_init(&w);
        put_msg(&w, &wm);
        expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "empty inner set: INVALID_RECORD");
        wire_writer_free(&w);
        free(z);
        wire_writer_free(&set);
    }

    struct lm nullv = {0, 1, RB_CODEC_GZIP, 0, NULL, NULL, -2};
    wire_writer_init(&w);
    put_msg(&w, &nullv);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "wrapper with a null value: INVALID_RECORD");
    wire_writer_free(&w);

    struct lm garbage = {0, 1, RB_CODEC_GZIP, 0, NULL, "definitely not gzip", -2};
    wire_writer_init(&w);
    put_msg(&w, &garbage);
    expect(&w, &o, &c, KP_ERR_CORRUPT_MESSAGE, "undecodable gzip value: CORRUPT_MESSAGE");
    wire_writer_free(&w);

    struct lm zstdw = {0, 1, RB_CODEC_ZSTD, 0, NULL, "whatever", -2};
    wire_writer_init(&w);
    put_msg(&w, &zstdw);
    expect(&w, &o, &c, KP_ERR_INVALID_RECORD, "zstd wrapper (never allowed in v0/v1): INVALID_RECORD");
    wire_writer_free(&w);

    struct lm codec6 = {0, 0, 6, 0, NULL, "whatever", -2};
    wire_writer_init(&w);
    put_msg(&w, &codec6);
    expect(&w, &o, &c, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "codec id 6: UNSUPPORTED_COMPRESSION_TYPE");
    wire_writer_free(&w);

    wire_writer_init(&w);
    put_wrapper(&w, &c, 0, RB_CODEC_SNAPPY, 0, 0, 0, in, 1);
    c.available &= ~(1u << RB_CODEC_SNAPPY);
    expect(&w, &o, &c, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
           "snappy wrapper without a snappy module: UNSUPPORTED_COMPRESSION_TYPE");
    wire_writer_free(&w);
}

/* Magic 0 LZ4 frames from old clients carry a descriptor checksum computed
 * over the wrong bytes; Kafka ignores it for magic 0, so must we. */
static void test_lz4_magic0(void)
{
    struct tc_ctx c = tc_ctx_all();
    /* Our XXH32 against the checksum liblz4 writes. */
    uint8_t *z;
    size_t zl;
    tc_compress(&c, RB_CODEC_LZ4, 1, (const uint8_t *)"hello", 5, &z, &zl);
    size_t desc = 2 + ((z[4] & 0x08) ? 8 : 0) + ((z[4] & 0x01) ? 4 : 0);
    is_int(z[4 + desc], (legacy_xxh32_small(z + 4, desc, 0) >> 8) & 0xff,
           "XXH32-derived header checksum matches liblz4's");
    is_int(legacy_xxh32_small((const uint8_t *)"", 0, 0), 0x02CC5D05u, "XXH32(\"\") reference value");
    free(z);

    struct lm in[] = {{0, 0, 0, 0, "a", "lz4 one", -2}, {1, 0, 0, 0, "b", "lz4 two", -2}};
    struct wire_writer set;
    wire_writer_init(&set);
    put_msg(&set, &in[0]);
    put_msg(&set, &in[1]);
    tc_compress(&c, RB_CODEC_LZ4, 1, set.buf, set.len, &z, &zl);
    /* The old Kafka bug: hash from the frame magic on. */
    z[4 + desc] = (uint8_t)(legacy_xxh32_small(z, 4 + desc, 0) >> 8);
    uint8_t *tmp;
    size_t tl;
    ok(tc_decompress(&c, RB_CODEC_LZ4, z, zl, &tmp, &tl) != 0,
       "a standard LZ4 decoder rejects the old checksum");
    free(tmp);
    struct lm wm = {1, 0, RB_CODEC_LZ4, 0, NULL, (const char *)z, (int32_t)zl};
    struct wire_writer w;
    wire_writer_init(&w);
    put_msg(&w, &wm);
    struct legacy_opts o = create_time();
    struct legacy_result r;
    char err[200] = "";
    is_int(legacy_upconvert(w.buf, w.len, &o, tc_decompress, &c, &r, err, sizeof err), 0,
           "magic 0 LZ4 wrapper with the old checksum converts (%s)", err);
    struct got g;
    ok(r.batch && read_back(&r, &g) == 0 && g.n == 2 && !strcmp(g.value[1], "lz4 two"),
       "its records read back");
    free(r.batch);
    wire_writer_free(&w);

    /* Magic 1 keeps the strict check (Kafka verifies it there). */
    wm.magic = 1;
    wm.offset = 1;
    wire_writer_init(&w);
    struct lm in1[] = {{0, 1, 0, 5, "a", "x", -2}};
    (void)in1;
    put_msg(&w, &wm);
    is_int(legacy_upconvert(w.buf, w.len, &o, tc_decompress, &c, &r, err, sizeof err),
           KP_ERR_CORRUPT_MESSAGE, "magic 1 LZ4 wrapper with a bad checksum: CORRUPT_MESSAGE");
    wire_writer_free(&w);
    wire_writer_free(&set);
    free(z);
}

int main(void)
{
    test_v0_plain();
    test_v1_plain();
    test_gzip_wrapped();
    test_errors();
    test_lz4_magic0();
    return done_testing();
}
