/* Log compaction building blocks: the offset map, segment grouping, the
 * batch filter (copy vs rebuild, offsets and gaps, KIP-534 tombstone
 * horizons, compressed batches, empty headers, control batches) and the
 * cleaner checkpoint file parser. */
#include "storage/batch_filter.h"
#include "storage/cleaner.h"
#include "storage/log_cleaner.h"
#include "storage/offset_map.h"
#include "batch_builder.h"
#include "tap.h"

#include <stdint.h>

/* ---- a fake codec: "FAKE" + bytes ^ 0x5a, under Kafka codec id 2 ------- */

static int compress_calls, decompress_calls;

static int fake_compress(void *ctx, int codec, int level, const uint8_t *in, size_t inlen,
                         uint8_t **out, size_t *outlen)
{
    (void)ctx;
    (void)level;
    if (codec != RB_CODEC_SNAPPY)
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    compress_calls++;
    *out = malloc(inlen + 4);
    memcpy(*out, "FAKE", 4);
    for (size_t i = 0; i < inlen; i++)
        (*out)[4 + i] = in[i] ^ 0x5a;
    *outlen = inlen + 4;
    return 0;
}

static int fake_decompress(void *ctx, int codec, const uint8_t *in, size_t inlen, uint8_t **out,
                           size_t *outlen)
{
    (void)ctx;
    if (codec != RB_CODEC_SNAPPY)
        return KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (inlen < 4 || memcmp(in, "FAKE", 4) != 0)
        return KP_ERR_CORRUPT_MESSAGE;
    decompress_calls++;
    *out = malloc(inlen - 4 + 1);
    for (size_t i = 4; i < inlen; i++)
        (*out)[i - 4] = in[i] ^ 0x5a;
    *outlen = inlen - 4;
    return 0;
}

/* A compressed batch of the given records (fake codec). */
static uint8_t *build_compressed(const struct bb_record *recs, int n, int64_t base_offset,
                                 size_t *len)
{
    struct wire_writer w;
    wire_writer_init(&w);
    int64_t base_ts = recs[0].timestamp, max_ts = -1;
    for (int i = 0; i < n; i++)
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    bb_encode_records(&w, recs, n, base_ts);
    uint8_t *z;
    size_t zlen;
    fake_compress(NULL, RB_CODEC_SNAPPY, 0, w.buf, w.len, &z, &zlen);
    compress_calls--;
    struct bb_opts o = bb_default_opts();
    o.base_offset = base_offset;
    o.attributes = RB_CODEC_SNAPPY;
    uint8_t *b = bb_build_raw(&o, z, zlen, n, n - 1, base_ts, max_ts, len);
    free(z);
    wire_writer_free(&w);
    return b;
}

/* ---- filter callbacks --------------------------------------------------- */

struct filt {
    enum bf_retention retention;
    int marker_for_empty_txn;
    const char *drop[8]; /* keys to drop */
    int64_t now;
    int apply_horizon;   /* drop tombstones whose horizon passed (cleaner rule) */
    int batches_seen;
};

static enum bf_retention f_check(void *ud, const struct rb_header *h, const uint8_t *b, size_t n,
                                 int *marker)
{
    (void)h;
    (void)b;
    (void)n;
    struct filt *f = ud;
    f->batches_seen++;
    *marker = f->marker_for_empty_txn;
    return f->retention;
}

static int f_retain(void *ud, const struct rb_header *h, const struct rb_record *r)
{
    struct filt *f = ud;
    for (int i = 0; i < 8 && f->drop[i]; i++)
        if (r->key_len == (int32_t)strlen(f->drop[i]) &&
            memcmp(r->key, f->drop[i], (size_t)r->key_len) == 0)
            return 0;
    if (f->apply_horizon && r->value_len < 0) {
        int64_t hz = rb_delete_horizon(h);
        return hz < 0 || f->now < hz;
    }
    return 1;
}

static struct bf_filter mkfilter(struct filt *f, int64_t now, int64_t retention)
{
    struct bf_filter bf = { now, retention, f_check, f_retain, f };
    return bf;
}

/* Records of a batch as "offset:key=value@ts" joined by ' ' ("~" = null). */
static void describe(const uint8_t *b, size_t len, rb_decompress_fn dec, char *out, size_t cap)
{
    struct rb_iter it;
    size_t at = 0;
    out[0] = 0;
    if (rb_iter_init(&it, b, len, dec, NULL) != 0) {
        snprintf(out, cap, "iter error %d", it.err);
        rb_iter_free(&it);
        return;
    }
    struct rb_record r;
    while (rb_iter_next(&it, &r) == 1 && at < cap)
        at += (size_t)snprintf(out + at, cap - at, "%s%lld:%.*s=%.*s@%lld", at ? " " : "",
                               (long long)r.offset, r.key_len < 0 ? 1 : r.key_len,
                               r.key_len < 0 ? "~" : (const char *)r.key,
                               r.value_len < 0 ? 1 : r.value_len,
                               r.value_len < 0 ? "~" : (const char *)r.value,
                               (long long)r.timestamp);
    if (it.err)
        snprintf(out + at, cap - at, " [err %d %s]", it.err, it.errmsg);
    rb_iter_free(&it);
}

static int valid(const uint8_t *b, size_t len, rb_decompress_fn dec)
{
    char err[128];
    struct rb_info info;
    int rc = rb_validate(b, len, 0, dec, NULL, &info, err, sizeof err);
    if (rc)
        diag("invalid batch: %s", err);
    return rc == 0 && info.size == len;
}

/* ---- offset map ------------------------------------------------------------- */

static void test_offset_map(void)
{
    struct offset_map *m = offset_map_new(1 << 20, 0.9);
    ok(m != NULL, "offset map created");
    is_int((long long)offset_map_slots(m), (1 << 20) / 24, "slots = memory / 24");
    is_int((long long)offset_map_max_entries(m), (long long)((double)((1 << 20) / 24) * 0.9),
           "max entries = slots * load factor");
    is_int(offset_map_latest_offset(m), -1, "empty map: latest offset -1");
    char k[32];
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        bad += offset_map_put(m, k, strlen(k), 1000 + i) != 0;
    }
    is_int(bad, 0, "20000 distinct keys stored (the table grew)");
    is_int((long long)offset_map_size(m), 20000, "size counts distinct keys");
    bad = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        bad += offset_map_get(m, k, strlen(k)) != 1000 + i;
    }
    is_int(bad, 0, "every key maps to its offset after growth");
    ok(offset_map_put(m, "key-7", 5, 50000) == 0 && offset_map_get(m, "key-7", 5) == 50000,
       "a later offset replaces the earlier one");
    is_int((long long)offset_map_size(m), 20000, "replacing does not grow the map");
    is_int(offset_map_get(m, "nope", 4), -1, "unknown key: -1");
    is_int(offset_map_get(m, "", 0), -1, "empty key unknown");
    ok(offset_map_put(m, "", 0, 60000) == 0 && offset_map_get(m, "", 0) == 60000,
       "an empty key is a key");
    is_int(offset_map_latest_offset(m), 60000, "latest offset follows puts");
    offset_map_update_latest_offset(m, 70000);
    is_int(offset_map_latest_offset(m), 70000, "latest offset can be moved past gaps");
    offset_map_clear(m);
    ok(offset_map_size(m) == 0 && offset_map_get(m, "key-1", 5) == -1 &&
           offset_map_latest_offset(m) == -1,
       "clear forgets entries and the latest offset");
    offset_map_free(m);

    /* Full: 100 slots at 0.9 = 90 keys. */
    m = offset_map_new(100 * 24, 0.9);
    is_int((long long)offset_map_max_entries(m), 90, "100 slots hold 90 entries");
    bad = 0;
    for (int i = 0; i < 90; i++) {
        snprintf(k, sizeof k, "f%d", i);
        bad += offset_map_put(m, k, strlen(k), i) != 0;
    }
    is_int(bad, 0, "90 keys fit");
    is_int(offset_map_put(m, "one-more", 8, 99), -1, "a new key beyond the load factor is refused");
    ok(offset_map_put(m, "f3", 2, 100) == 0 && offset_map_get(m, "f3", 2) == 100,
       "an existing key can still be updated when full");
    ok(offset_map_utilization(m) > 0.8999 && offset_map_utilization(m) < 0.9001,
       "utilization 0.9");
    offset_map_free(m);
    ok(offset_map_new(24, 0.9) == NULL, "one slot is not a map");

    uint64_t h1[2], h2[2], h3[2];
    offset_map_hash("abc", 3, h1);
    offset_map_hash("abc", 3, h2);
    offset_map_hash("abd", 3, h3);
    ok(h1[0] == h2[0] && h1[1] == h2[1], "hash is deterministic");
    ok(h1[0] != h3[0] && h1[1] != h3[1], "one byte changes both halves");
    offset_map_hash("", 0, h1);
    offset_map_hash("\0", 1, h2);
    ok(h1[0] != h2[0], "length is part of the hash");
    char longkey[100];
    memset(longkey, 'x', sizeof longkey);
    offset_map_hash(longkey, 100, h1);
    longkey[99] = 'y';
    offset_map_hash(longkey, 100, h2);
    ok(h1[0] != h2[0], "the tail bytes of a long key count");
}

/* ---- grouping ------------------------------------------------------------- */

static void test_grouping(void)
{
    struct cleaner_segment s[6];
    memset(s, 0, sizeof s);
    int64_t bases[6] = { 0, 100, 200, 300, 400, 500 };
    uint64_t sizes[6] = { 100, 100, 100, 250, 10, 300 };
    for (int i = 0; i < 6; i++) {
        s[i].base_offset = bases[i];
        s[i].size = sizes[i];
        s[i].index_bytes = 8;
        s[i].timeindex_bytes = 12;
    }
    size_t starts[6];
    size_t g = cleaner_group_segments(s, 6, 300, 1 << 20, 600, starts);
    is_int((long long)g, 3, "sizes 100,100,100,250,10,300 under 300: 3 groups");
    ok(starts[0] == 0 && starts[1] == 3 && starts[2] == 5, "groups [0-2] [3-4] [5]");

    g = cleaner_group_segments(s, 6, 1 << 20, 16, 600, starts);
    is_int((long long)g, 6, "time index limit 16 bytes: one segment per group (12+12 > 16)");
    g = cleaner_group_segments(s, 6, 1 << 20, 24, 600, starts);
    ok(g == 3 && starts[1] == 2 && starts[2] == 4, "index limit 24 bytes: pairs");

    /* Offsets must stay within 2^31-1 of the group's base. */
    s[0].base_offset = 0;
    s[1].base_offset = 10;
    s[2].base_offset = (int64_t)INT32_MAX + 5;
    s[3].base_offset = (int64_t)INT32_MAX + 10;
    g = cleaner_group_segments(s, 3, 1 << 20, 1 << 20, (int64_t)INT32_MAX + 10, starts);
    ok(g == 2 && starts[1] == 1, "segment 1 would end past 2^31-1 from base 0: new group");
    s[1].size = 0;
    g = cleaner_group_segments(s, 3, 1 << 20, 1 << 20, (int64_t)INT32_MAX + 10, starts);
    ok(g == 2 && starts[1] == 2, "an empty segment skips the offset check (Kafka)");
    is_int((long long)cleaner_group_segments(s, 0, 100, 100, 0, starts), 0, "no segments");
}

/* ---- batch filter ---------------------------------------------------------- */

static void test_filter_plain(void)
{
    struct bb_record recs[4] = { BB_REC("a", "1", 1000), BB_REC("b", "2", 1003),
                                 BB_REC("c", "3", 1001), BB_REC("d", "4", 1002) };
    struct bb_opts o = bb_default_opts();
    o.base_offset = 500;
    o.partition_leader_epoch = 7;
    o.producer_id = 42;
    o.producer_epoch = 3;
    o.base_sequence = 10;
    size_t len;
    uint8_t *b = bb_build(recs, 4, &o, &len);
    char desc[512], err[128];
    struct wire_writer out;
    struct bf_result res;

    struct filt f = { BF_DELETE_EMPTY, 0, { NULL }, 0, 0, 0 };
    struct bf_filter bf = mkfilter(&f, 5000, 100);
    wire_writer_init(&out);
    is_int(bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err), 0,
           "all kept: ok");
    ok(res.copied && !res.rebuilt && out.len == len && memcmp(out.buf, b, len) == 0,
       "all kept: the batch is copied byte for byte");
    ok(res.records_read == 4 && res.records_retained == 4 && res.max_offset == 503,
       "counts and max offset");
    wire_writer_free(&out);

    f.drop[0] = "b";
    f.drop[1] = "d";
    wire_writer_init(&out);
    is_int(bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err), 0,
           "two dropped: ok");
    ok(res.rebuilt && !res.copied && res.records_retained == 2, "rebuilt with 2 records");
    ok(valid(out.buf, out.len, NULL), "rebuilt batch is valid (CRC, framing)");
    struct rb_header h;
    rb_header_decode(out.buf, out.len, &h);
    ok(h.base_offset == 500 && h.last_offset_delta == 3 && h.record_count == 2,
       "base offset and last offset delta kept, count 2");
    ok(h.partition_leader_epoch == 7 && h.producer_id == 42 && h.producer_epoch == 3 &&
           h.base_sequence == 10,
       "leader epoch and producer id/epoch/sequence kept");
    ok(h.base_timestamp == 1000 && h.max_timestamp == 1001 && !(h.attributes & RB_ATTR_DELETE_HORIZON),
       "base timestamp = first kept record, max over kept records, no delete horizon");
    describe(out.buf, out.len, NULL, desc, sizeof desc);
    is_str(desc, "500:a=1@1000 502:c=3@1001", "kept records keep their offsets (gap at 501)");
    wire_writer_free(&out);

    /* Everything dropped: DELETE_EMPTY writes nothing, RETAIN_EMPTY an empty header. */
    f.drop[0] = "a"; f.drop[1] = "b"; f.drop[2] = "c"; f.drop[3] = "d";
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    ok(out.len == 0 && res.records_read == 4 && res.records_retained == 0,
       "all dropped under DELETE_EMPTY: nothing written");
    f.retention = BF_RETAIN_EMPTY;
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    ok(out.len == RB_HEADER_SIZE && valid(out.buf, out.len, NULL), "RETAIN_EMPTY: a valid 61-byte batch");
    rb_header_decode(out.buf, out.len, &h);
    ok(h.record_count == 0 && h.base_offset == 500 && h.last_offset_delta == 3 &&
           h.base_timestamp == -1 && h.max_timestamp == 1003 && h.producer_id == 42 &&
           h.base_sequence == 10,
       "empty header keeps offsets, max timestamp and producer fields (writeEmptyHeader)");
    wire_writer_free(&out);

    f.retention = BF_DELETE;
    f.batches_seen = 0;
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    ok(out.len == 0 && res.records_read == 0 && f.batches_seen == 1,
       "DELETE: batch dropped without reading its records");
    wire_writer_free(&out);
    free(b);

    /* LogAppendTime batch: the batch's maxTimestamp stays. */
    struct bb_record lat[3] = { BB_REC("x", "1", 10), BB_REC("y", "2", 11), BB_REC("z", "3", 12) };
    b = bb_build(lat, 3, NULL, &len);
    rb_set_max_timestamp(b, len, 777777, 1);
    struct filt f2 = { BF_DELETE_EMPTY, 0, { "y" }, 0, 0, 0 };
    bf = mkfilter(&f2, 5000, 100);
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    rb_header_decode(out.buf, out.len, &h);
    ok(valid(out.buf, out.len, NULL) && (h.attributes & RB_ATTR_LOG_APPEND_TIME) &&
           h.max_timestamp == 777777,
       "LogAppendTime kept with the original append time");
    describe(out.buf, out.len, NULL, desc, sizeof desc);
    is_str(desc, "0:x=1@777777 2:z=3@777777", "records report the append time");
    wire_writer_free(&out);
    free(b);
}

static void test_filter_tombstones(void)
{
    struct bb_record recs[3] = { BB_REC("a", "1", 1000), BB_REC("b", NULL, 1001),
                                 BB_REC("c", "3", 1002) };
    struct bb_opts o = bb_default_opts();
    o.base_offset = 10;
    size_t len;
    uint8_t *b = bb_build(recs, 3, &o, &len);
    char desc[512], err[128];
    struct wire_writer out;
    struct bf_result res;
    struct filt f = { BF_DELETE_EMPTY, 0, { NULL }, 5000, 1, 0 };
    struct bf_filter bf = mkfilter(&f, 5000, 86400000);

    /* First cleaning: nothing dropped, but the tombstone sets the horizon. */
    wire_writer_init(&out);
    is_int(bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err), 0,
           "tombstone batch filtered");
    struct rb_header h;
    rb_header_decode(out.buf, out.len, &h);
    ok(res.rebuilt && valid(out.buf, out.len, NULL), "rebuilt although every record stays (KIP-534)");
    ok((h.attributes & RB_ATTR_DELETE_HORIZON) && h.base_timestamp == 5000 + 86400000,
       "DELETE_HORIZON set, baseTimestamp = now + delete.retention.ms");
    is_int(rb_delete_horizon(&h), 5000 + 86400000, "rb_delete_horizon reads it back");
    describe(out.buf, out.len, NULL, desc, sizeof desc);
    is_str(desc, "10:a=1@1000 11:b=~@1001 12:c=3@1002",
           "record timestamps unchanged (deltas against the horizon)");
    ok(h.max_timestamp == 1002, "max timestamp unchanged");

    /* Second cleaning before the horizon: copied as is. */
    uint8_t *b2 = malloc(out.len);
    size_t len2 = out.len;
    memcpy(b2, out.buf, len2);
    wire_writer_free(&out);
    f.now = 5000 + 86400000 - 1;
    bf = mkfilter(&f, f.now, 86400000);
    wire_writer_init(&out);
    bf_filter_batch(b2, len2, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    ok(res.copied && out.len == len2 && memcmp(out.buf, b2, len2) == 0,
       "before the horizon: tombstone kept, batch copied unchanged");
    wire_writer_free(&out);

    /* After the horizon: the tombstone goes, the horizon stays on the batch. */
    f.now = 5000 + 86400000;
    bf = mkfilter(&f, f.now, 86400000);
    wire_writer_init(&out);
    bf_filter_batch(b2, len2, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    rb_header_decode(out.buf, out.len, &h);
    describe(out.buf, out.len, NULL, desc, sizeof desc);
    is_str(desc, "10:a=1@1000 12:c=3@1002", "at the horizon the tombstone is removed");
    ok(valid(out.buf, out.len, NULL) && rb_delete_horizon(&h) == 5000 + 86400000 &&
           h.last_offset_delta == 2,
       "the rebuilt batch keeps its horizon and last offset");
    wire_writer_free(&out);
    free(b2);
    free(b);

    /* A control batch of an empty transaction gets a horizon too. */
    struct bb_record ctl[1] = { { "\0\0\0\1", 4, "\0\0\0\0\0\0", 6, 2000, 0, NULL } };
    o = bb_default_opts();
    o.producer_id = 9;
    o.producer_epoch = 1;
    o.attributes = RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL;
    b = bb_build(ctl, 1, &o, &len);
    struct filt f3 = { BF_DELETE_EMPTY, 1, { NULL }, 3000, 0, 0 };
    bf = mkfilter(&f3, 3000, 500);
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    rb_header_decode(out.buf, out.len, &h);
    ok(valid(out.buf, out.len, NULL) && rb_delete_horizon(&h) == 3500 &&
           (h.attributes & (RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL)) ==
               (RB_ATTR_CONTROL | RB_ATTR_TRANSACTIONAL),
       "marker of an empty transaction: horizon set, control/transactional bits kept");
    wire_writer_free(&out);
    free(b);

    /* Overflow: delete.retention.ms = Long.MAX_VALUE saturates. */
    b = bb_build(recs, 3, NULL, &len);
    struct filt f4 = { BF_DELETE_EMPTY, 0, { NULL }, 5000, 1, 0 };
    bf = mkfilter(&f4, 5000, INT64_MAX);
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, NULL, NULL, NULL, NULL, &out, &res, err, sizeof err);
    rb_header_decode(out.buf, out.len, &h);
    ok(rb_delete_horizon(&h) == INT64_MAX, "horizon saturates at INT64_MAX");
    wire_writer_free(&out);
    free(b);
}

static void test_filter_compressed(void)
{
    struct bb_record recs[5] = { BB_REC("k1", "v1", 100), BB_REC("k2", "v2", 101),
                                 BB_REC("k3", "v3", 102), BB_REC("k1", "v4", 103),
                                 BB_REC("k5", "v5", 104) };
    size_t len;
    uint8_t *b = build_compressed(recs, 5, 1000, &len);
    ok(valid(b, len, fake_decompress), "compressed input batch valid");
    char desc[512], err[128];
    struct wire_writer out;
    struct bf_result res;
    struct filt f = { BF_DELETE_EMPTY, 0, { NULL }, 0, 0, 0 };
    struct bf_filter bf = mkfilter(&f, 9000, 100);

    compress_calls = 0;
    wire_writer_init(&out);
    bf_filter_batch(b, len, &bf, fake_decompress, NULL, fake_compress, NULL, &out, &res, err,
                    sizeof err);
    ok(res.copied && out.len == len && memcmp(out.buf, b, len) == 0 && compress_calls == 0,
       "compressed batch with every record kept: copied, not recompressed");
    wire_writer_free(&out);

    f.drop[0] = "k2";
    f.drop[1] = "k3";
    wire_writer_init(&out);
    is_int(bf_filter_batch(b, len, &bf, fake_decompress, NULL, fake_compress, NULL, &out, &res,
                           err, sizeof err),
           0, "compressed batch filtered");
    struct rb_header h;
    rb_header_decode(out.buf, out.len, &h);
    ok(res.rebuilt && compress_calls == 1, "rebuilt and compressed once");
    ok((h.attributes & RB_ATTR_COMPRESSION_MASK) == RB_CODEC_SNAPPY &&
           memcmp(out.buf + RB_HEADER_SIZE, "FAKE", 4) == 0,
       "the new batch uses the batch's own codec");
    ok(valid(out.buf, out.len, fake_decompress), "rebuilt compressed batch valid");
    describe(out.buf, out.len, fake_decompress, desc, sizeof desc);
    is_str(desc, "1000:k1=v1@100 1003:k1=v4@103 1004:k5=v5@104",
           "retained records inside, offsets kept");
    ok(h.record_count == 3 && h.last_offset_delta == 4, "count 3, last offset delta 4");
    wire_writer_free(&out);

    /* No compressor: the batch cannot be rewritten; out untouched. */
    wire_writer_init(&out);
    wire_write_raw(&out, "xyz", 3);
    int rc = bf_filter_batch(b, len, &bf, fake_decompress, NULL, NULL, NULL, &out, &res, err,
                             sizeof err);
    is_int(rc, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "no compressor: UNSUPPORTED_COMPRESSION_TYPE");
    is_int((long long)out.len, 3, "output unchanged on error");
    rc = bf_filter_batch(b, len, &bf, NULL, NULL, fake_compress, NULL, &out, &res, err, sizeof err);
    is_int(rc, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE, "no decompressor: UNSUPPORTED_COMPRESSION_TYPE");
    wire_writer_free(&out);

    /* Corrupt compressed payload. */
    b[RB_HEADER_SIZE] = 'X';
    bb_fix_crc(b, len);
    wire_writer_init(&out);
    rc = bf_filter_batch(b, len, &bf, fake_decompress, NULL, fake_compress, NULL, &out, &res, err,
                         sizeof err);
    is_int(rc, KP_ERR_CORRUPT_MESSAGE, "corrupt payload: CORRUPT_MESSAGE");
    ok(out.len == 0, "nothing written");
    wire_writer_free(&out);
    free(b);
}

/* ---- checkpoint parser ------------------------------------------------------ */

static char parsed[512];

static void cp_cb(void *ud, const char *t, size_t tl, int32_t p, int64_t off)
{
    (void)ud;
    size_t at = strlen(parsed);
    snprintf(parsed + at, sizeof parsed - at, "[%.*s %d %lld]", (int)tl, t, p, (long long)off);
}

static void test_checkpoint_parse(void)
{
    const char *good = "0\n2\nfoo 0 123\nbar.baz-1 7 0\n";
    parsed[0] = 0;
    is_int(log_cleaner_checkpoint_parse(good, strlen(good), cp_cb, NULL), 2, "two entries");
    is_str(parsed, "[foo 0 123][bar.baz-1 7 0]", "entries parsed");
    const char *empty = "0\n0\n";
    is_int(log_cleaner_checkpoint_parse(empty, strlen(empty), NULL, NULL), 0, "empty list");
    const char *nofinal = "0\n1\nfoo 0 5";
    is_int(log_cleaner_checkpoint_parse(nofinal, strlen(nofinal), NULL, NULL), 1,
           "last newline optional");
    const char *bad[] = { "", "1\n0\n", "0\n2\nfoo 0 1\n", "0\n1\nfoo 0\n", "0\n1\nfoo x 1\n",
                          "0\n1\nfoo 0 1 extra\n", "0\n-1\n", "0\n1\nfoo -1 1\n",
                          "0\n1\nfoo 0 99999999999999999999\n", "0\n0\ntrailing", "0\n1\n 0 1\n" };
    int rejected = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        rejected += log_cleaner_checkpoint_parse(bad[i], strlen(bad[i]), NULL, NULL) == -1;
    is_int(rejected, (int)(sizeof bad / sizeof bad[0]), "malformed checkpoint files rejected");
}

int main(void)
{
    test_offset_map();
    test_grouping();
    test_filter_plain();
    test_filter_tombstones();
    test_filter_compressed();
    test_checkpoint_parse();
    return done_testing();
}
