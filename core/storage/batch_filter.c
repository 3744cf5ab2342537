/* Record batch filtering for the log cleaner; see batch_filter.h. */
#include "storage/batch_filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int64_t rb_delete_horizon(const struct rb_header *h)
{
    return (h->attributes & RB_ATTR_DELETE_HORIZON) ? h->base_timestamp : -1;
}

static void write_header(struct wire_writer *out, const struct rb_header *h, int16_t attributes,
                         int64_t base_ts, int64_t max_ts, int32_t count, const uint8_t *records,
                         size_t records_len)
{
    uint8_t hdr[RB_HEADER_SIZE];
    rb_put_i64(hdr + RB_OFF_BASE_OFFSET, h->base_offset);
    rb_put_i32(hdr + RB_OFF_LENGTH, (int32_t)(RB_HEADER_SIZE - RB_LOG_OVERHEAD + records_len));
    rb_put_i32(hdr + RB_OFF_LEADER_EPOCH, h->partition_leader_epoch);
    hdr[RB_OFF_MAGIC] = RB_MAGIC;
    hdr[RB_OFF_ATTRIBUTES] = (uint8_t)((uint16_t)attributes >> 8);
    hdr[RB_OFF_ATTRIBUTES + 1] = (uint8_t)attributes;
    rb_put_i32(hdr + RB_OFF_LAST_OFFSET_DELTA, h->last_offset_delta);
    rb_put_i64(hdr + RB_OFF_BASE_TIMESTAMP, base_ts);
    rb_put_i64(hdr + RB_OFF_MAX_TIMESTAMP, max_ts);
    rb_put_i64(hdr + RB_OFF_PRODUCER_ID, h->producer_id);
    hdr[RB_OFF_PRODUCER_EPOCH] = (uint8_t)((uint16_t)h->producer_epoch >> 8);
    hdr[RB_OFF_PRODUCER_EPOCH + 1] = (uint8_t)h->producer_epoch;
    rb_put_i32(hdr + RB_OFF_BASE_SEQUENCE, h->base_sequence);
    rb_put_i32(hdr + RB_OFF_RECORD_COUNT, count);
    /* The CRC covers attributes..end: header tail then the records. */
    size_t at = out->len;
    rb_put_i32(hdr + RB_OFF_CRC, 0);
    wire_write_raw(out, hdr, sizeof hdr);
    wire_write_raw(out, records, records_len);
    if (out->err)
        return;
    uint32_t crc = rb_compute_crc(out->buf + at, RB_HEADER_SIZE + records_len);
    rb_put_i32(out->buf + at + RB_OFF_CRC, (int32_t)crc);
}

void bf_write_empty_header(struct wire_writer *out, const struct rb_header *h)
{
    /* Kafka: no compression, baseTimestamp NO_TIMESTAMP, maxTimestamp and
     * the timestamp type, transactional and control bits kept. */
    int16_t attrs = (int16_t)(h->attributes & (RB_ATTR_LOG_APPEND_TIME | RB_ATTR_TRANSACTIONAL |
                                               RB_ATTR_CONTROL));
    write_header(out, h, attrs, -1, h->max_timestamp, 0, NULL, 0);
}

static void encode_record(struct wire_writer *w, const struct rb_record *r, int64_t base_ts)
{
    size_t klen = r->key_len > 0 ? (size_t)r->key_len : 0;
    size_t vlen = r->value_len > 0 ? (size_t)r->value_len : 0;
    int64_t ts_delta = (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts);
    size_t body = 1 + wire_varlong_size(ts_delta) + wire_varlong_size(r->offset_delta) +
                  wire_varlong_size(r->key_len) + klen + wire_varlong_size(r->value_len) + vlen +
                  wire_varlong_size(r->header_count) + r->headers_len;
    wire_write_varint(w, (int32_t)body);
    wire_write_i8(w, r->attributes);
    wire_write_varlong(w, ts_delta);
    wire_write_varint(w, r->offset_delta);
    wire_write_varint(w, r->key_len);
    if (klen)
        wire_write_raw(w, r->key, klen);
    wire_write_varint(w, r->value_len);
    if (vlen)
        wire_write_raw(w, r->value, vlen);
    wire_write_varint(w, r->header_count);
    if (r->headers_len)
        wire_write_raw(w, r->headers, r->headers_len);
}

/* Kafka's buildRetainedRecordsInto. */
static int rebuild(const struct rb_header *h, const struct rb_record *recs, int32_t n,
                   int64_t delete_horizon, rb_compress_fn comp, void *comp_ctx,
                   struct wire_writer *out, char *err, size_t errlen)
{
    int lat = (h->attributes & RB_ATTR_LOG_APPEND_TIME) != 0;
    int64_t base_ts = delete_horizon >= 0 ? delete_horizon : recs[0].timestamp;
    int64_t max_ts = lat ? h->max_timestamp : -1;
    struct wire_writer w;
    wire_writer_init(&w);
    for (int32_t i = 0; i < n; i++) {
        encode_record(&w, &recs[i], base_ts);
        if (!lat && recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    }
    if (w.err) {
        wire_writer_free(&w);
        return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    }
    int codec = h->attributes & RB_ATTR_COMPRESSION_MASK;
    const uint8_t *payload = w.buf;
    size_t plen = w.len;
    uint8_t *z = NULL;
    if (codec != RB_CODEC_NONE) {
        size_t zlen = 0;
        int rc = comp ? comp(comp_ctx, codec, BF_CODEC_LEVEL_DEFAULT, w.buf, w.len, &z, &zlen)
                      : KP_ERR_UNSUPPORTED_COMPRESSION_TYPE;
        if (rc) {
            free(z);
            wire_writer_free(&w);
            return fail(err, errlen, rc, "cannot re-compress %d retained records with codec %d",
                        n, codec);
        }
        payload = z;
        plen = zlen;
    }
    int16_t attrs = (int16_t)(h->attributes & (RB_ATTR_COMPRESSION_MASK | RB_ATTR_LOG_APPEND_TIME |
                                               RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL));
    if (delete_horizon >= 0)
        attrs |= RB_ATTR_DELETE_HORIZON;
    write_header(out, h, attrs, base_ts, max_ts, n, payload, plen);
    free(z);
    wire_writer_free(&w);
    if (out->err)
        return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    return 0;
}

int bf_filter_batch(const uint8_t *batch, size_t size, const struct bf_filter *f,
                    rb_decompress_fn dec, void *dec_ctx, rb_compress_fn comp, void *comp_ctx,
                    struct wire_writer *out, struct bf_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->max_offset = -1;
    struct rb_header h;
    if (size < RB_HEADER_SIZE || rb_header_decode(batch, size, &h) != 0)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "batch shorter than its header");
    int marker_empty = 0;
    enum bf_retention ret = f->check_batch(f->ud, &h, batch, size, &marker_empty);
    if (ret == BF_DELETE)
        return 0;

    struct rb_iter it;
    if (rb_iter_init(&it, batch, size, dec, dec_ctx) != 0) {
        int code = it.err;
        fail(err, errlen, code, "%s", it.errmsg);
        rb_iter_free(&it);
        return code;
    }
    int32_t cap = h.record_count > 0 && h.record_count < 65536 ? h.record_count : 64;
    struct rb_record *kept = (struct rb_record *)malloc((size_t)cap * sizeof *kept);
    if (!kept) {
        rb_iter_free(&it);
        return fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    }
    int32_t n = 0;
    int write_original = 1, tombstones = 0, rc = 0;
    struct rb_record r;
    while (rb_iter_next(&it, &r) == 1) {
        res->records_read++;
        if (!f->retain_record(f->ud, &h, &r)) {
            write_original = 0;
            continue;
        }
        if (n == cap) {
            struct rb_record *nk = (struct rb_record *)realloc(kept, (size_t)cap * 2 * sizeof *nk);
            if (!nk) {
                rc = fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
                break;
            }
            kept = nk;
            cap *= 2;
        }
        kept[n++] = r;
        if (r.offset > res->max_offset)
            res->max_offset = r.offset;
        if (r.value_len < 0)
            tombstones = 1;
    }
    if (!rc && it.err)
        rc = fail(err, errlen, it.err, "%s", it.errmsg);
    size_t before = out->len;
    if (!rc && n > 0) {
        int need_horizon = (tombstones || marker_empty) && !(h.attributes & RB_ATTR_DELETE_HORIZON);
        if (write_original && !need_horizon) {
            wire_write_raw(out, batch, size);
            res->copied = 1;
            if (out->err)
                rc = fail(err, errlen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
        } else {
            int64_t horizon = rb_delete_horizon(&h);
            if (need_horizon)
                horizon = f->delete_retention_ms > INT64_MAX - f->now_ms
                              ? INT64_MAX
                              : f->now_ms + f->delete_retention_ms;
            rc = rebuild(&h, kept, n, horizon, comp, comp_ctx, out, err, errlen);
            res->rebuilt = rc == 0;
        }
    } else if (!rc && ret == BF_RETAIN_EMPTY) {
        bf_write_empty_header(out, &h);
        res->rebuilt = 1;
    }
    if (rc)
        out->len = before;
    else {
        res->records_retained = n;
        res->bytes_written = out->len - before;
    }
    free(kept);
    rb_iter_free(&it);
    return rc;
}
