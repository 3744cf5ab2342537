/* Record batch v2: validation, record iteration and the in-place rewrites
 * the broker applies on append.  See record_batch.h for the error choices. */
#include "storage/record_batch.h"

#include <stdarg.h>
#include <stdio.h>

#include "util/crc32c.h"

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

int rb_header_decode(const uint8_t *p, size_t len, struct rb_header *h)
{
    if (len < RB_HEADER_SIZE)
        return -1;
    h->base_offset = rb_get_i64(p + RB_OFF_BASE_OFFSET);
    h->batch_length = rb_get_i32(p + RB_OFF_LENGTH);
    h->partition_leader_epoch = rb_get_i32(p + RB_OFF_LEADER_EPOCH);
    h->magic = (int8_t)p[RB_OFF_MAGIC];
    h->crc = (uint32_t)rb_get_i32(p + RB_OFF_CRC);
    h->attributes = rb_get_i16(p + RB_OFF_ATTRIBUTES);
    h->last_offset_delta = rb_get_i32(p + RB_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = rb_get_i64(p + RB_OFF_BASE_TIMESTAMP);
    h->max_timestamp = rb_get_i64(p + RB_OFF_MAX_TIMESTAMP);
    h->producer_id = rb_get_i64(p + RB_OFF_PRODUCER_ID);
    h->producer_epoch = rb_get_i16(p + RB_OFF_PRODUCER_EPOCH);
    h->base_sequence = rb_get_i32(p + RB_OFF_BASE_SEQUENCE);
    h->record_count = rb_get_i32(p + RB_OFF_RECORD_COUNT);
    return 0;
}

size_t rb_batch_size(const uint8_t *p, size_t len)
{
    if (len < RB_LOG_OVERHEAD)
        return 0;
    int32_t bl = rb_get_i32(p + RB_OFF_LENGTH);
    if (bl < 0)
        return 0;
    return RB_LOG_OVERHEAD + (size_t)bl;
}

uint32_t rb_compute_crc(const uint8_t *batch, size_t size)
{
    return crc32c(0, batch + RB_OFF_ATTRIBUTES, size - RB_OFF_ATTRIBUTES);
}

int rb_validate(const uint8_t *p, size_t len, unsigned flags, rb_decompress_fn dec,
                void *dec_ctx, struct rb_info *info, char *err, size_t errlen)
{
    struct rb_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    info->max_record_timestamp = -1;
    info->min_record_timestamp = INT64_MAX;
    if (len < RB_LOG_OVERHEAD)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE, "truncated batch: %zu bytes", len);
    int32_t bl = rb_get_i32(p + RB_OFF_LENGTH);
    /* Magic sits at offset 16 in every message format, so it can be checked
     * before trusting the v2 layout. */
    if (len > RB_OFF_MAGIC && p[RB_OFF_MAGIC] != RB_MAGIC)
        return fail(err, errlen, KP_ERR_INVALID_RECORD,
                    "only record batches with magic version 2 are accepted (got %d)",
                    (int)(int8_t)p[RB_OFF_MAGIC]);
    if (bl < RB_HEADER_SIZE - RB_LOG_OVERHEAD)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "record batch size %d is less than the minimum %d", bl,
                    RB_HEADER_SIZE - RB_LOG_OVERHEAD);
    size_t size = RB_LOG_OVERHEAD + (size_t)bl;
    if (size > len)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "truncated record batch: needs %zu bytes, %zu present", size, len);
    struct rb_header *h = &info->h;
    rb_header_decode(p, size, h);
    info->size = size;
    uint32_t crc = rb_compute_crc(p, size);
    if (crc != h->crc)
        return fail(err, errlen, KP_ERR_CORRUPT_MESSAGE,
                    "record batch CRC mismatch: stored 0x%08x, computed 0x%08x", h->crc, crc);
    if (h->record_count < 0)
        return fail(err, errlen, KP_ERR_INVALID_RECORD, "invalid record count %d",
                    h->record_count);
    if (flags & RB_VALIDATE_PRODUCE) {
        if (h->record_count == 0)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "invalid reported count for record batch: 0");
        if (h->last_offset_delta != h->record_count - 1)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "inconsistent batch offset range (lastOffsetDelta %d) and record count %d",
                        h->last_offset_delta, h->record_count);
        if ((h->attributes & RB_ATTR_CONTROL) && !(flags & RB_VALIDATE_ALLOW_CONTROL))
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "clients are not allowed to write control records");
        if (!(flags & RB_VALIDATE_ALLOW_CONTROL) && h->producer_id >= 0 && h->base_sequence < 0)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "invalid sequence number %d for producer id %lld", h->base_sequence,
                        (long long)h->producer_id);
        if ((h->attributes & RB_ATTR_TRANSACTIONAL) && h->producer_id < 0)
            return fail(err, errlen, KP_ERR_INVALID_RECORD,
                        "transactional record batch without a producer id");
    } else if (h->record_count > 0 && h->last_offset_delta < h->record_count - 1) {
        return fail(err, errlen, KP_ERR_INVALID_RECORD,
                    "lastOffsetDelta %d too small for %d records", h->last_offset_delta,
                    h->record_count);
    }
    if (flags & RB_VALIDATE_SHALLOW)
        return 0;

    struct rb_iter it;
    int rc = rb_iter_init(&it, p, size, dec, dec_ctx);
    if (rc)
        return fail(err, errlen, rc, "%s", it.errmsg);
    it.strict = (flags & RB_VALIDATE_PRODUCE) != 0;
    struct rb_record rec;
    while (rb_iter_next(&it, &rec) == 1) {
        if (rec.timestamp > info->max_record_timestamp)
            info->max_record_timestamp = rec.timestamp;
        if (rec.timestamp != -1 && rec.timestamp < info->min_record_timestamp)
            info->min_record_timestamp = rec.timestamp;
        if ((flags & RB_VALIDATE_COUNT_NULL_KEYS) && rec.key_len < 0)
            info->null_keys++;
        info->records++;
    }
    rc = it.err;
    if (rc)
        fail(err, errlen, rc, "%s", it.errmsg);
    rb_iter_free(&it);
    return rc;
}

static int iter_fail(struct rb_iter *it, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int iter_fail(struct rb_iter *it, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->errmsg, sizeof it->errmsg, fmt, ap);
    va_end(ap);
    it->err = code;
    return code;
}

int rb_iter_init(struct rb_iter *it, const uint8_t *batch, size_t size, rb_decompress_fn dec,
                 void *dec_ctx)
{
    memset(it, 0, sizeof *it);
    it->prev_delta = -1;
    if (rb_header_decode(batch, size, &it->h) != 0)
        return iter_fail(it, KP_ERR_CORRUPT_MESSAGE, "batch shorter than its header");
    if (it->h.record_count < 0)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "invalid record count %d",
                         it->h.record_count);
    const uint8_t *recs = batch + RB_HEADER_SIZE;
    size_t recs_len = size - RB_HEADER_SIZE;
    int codec = it->h.attributes & RB_ATTR_COMPRESSION_MASK;
    if (codec != RB_CODEC_NONE) {
        if (!dec)
            return iter_fail(it, KP_ERR_UNSUPPORTED_COMPRESSION_TYPE,
                             "no decompressor for compression codec %d", codec);
        uint8_t *out = NULL;
        size_t outlen = 0;
        int rc = dec(dec_ctx, codec, recs, recs_len, &out, &outlen);
        if (rc) {
            free(out);
            return iter_fail(it, rc, "cannot decompress records (codec %d)", codec);
        }
        it->owned = out;
        recs = out;
        recs_len = outlen;
    }
    wire_reader_init(&it->r, recs, recs_len);
    return 0;
}

void rb_iter_free(struct rb_iter *it)
{
    free(it->owned);
    it->owned = NULL;
}

int rb_iter_next(struct rb_iter *it, struct rb_record *rec)
{
    if (it->err)
        return 0;
    if (it->index >= it->h.record_count) {
        if (wire_remaining(&it->r) != 0)
            iter_fail(it, KP_ERR_INVALID_RECORD,
                      "%zu bytes remain after the %d declared records",
                      wire_remaining(&it->r), it->h.record_count);
        return 0;
    }
    int32_t rlen = wire_read_varint(&it->r);
    if (it->r.err)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: bad length", it->index), 0;
    if (rlen <= 0 || (size_t)rlen > wire_remaining(&it->r))
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: invalid size %d (%zu left)",
                         it->index, rlen, wire_remaining(&it->r)),
               0;
    struct wire_reader b;
    wire_reader_init(&b, wire_read_raw(&it->r, (size_t)rlen), (size_t)rlen);

    memset(rec, 0, sizeof *rec);
    rec->attributes = wire_read_i8(&b);
    int64_t ts_delta = wire_read_varlong(&b);
    int32_t off_delta = wire_read_varint(&b);
    rec->key_len = wire_read_varint(&b);
    if (!b.err && rec->key_len < -1)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: invalid key size %d", it->index,
                         rec->key_len),
               0;
    if (rec->key_len >= 0)
        rec->key = wire_read_raw(&b, (size_t)rec->key_len);
    rec->value_len = wire_read_varint(&b);
    if (!b.err && rec->value_len < -1)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: invalid value size %d",
                         it->index, rec->value_len),
               0;
    if (rec->value_len >= 0)
        rec->value = wire_read_raw(&b, (size_t)rec->value_len);
    rec->header_count = wire_read_varint(&b);
    if (!b.err && rec->header_count < 0)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: invalid header count %d",
                         it->index, rec->header_count),
               0;
    size_t hstart = b.pos;
    for (int32_t i = 0; i < rec->header_count && !b.err; i++) {
        int32_t kl = wire_read_varint(&b);
        if (!b.err && kl < 0)
            return iter_fail(it, KP_ERR_INVALID_RECORD,
                             "record %d: invalid negative header key size %d", it->index, kl),
                   0;
        wire_read_raw(&b, (size_t)kl);
        int32_t vl = wire_read_varint(&b);
        if (!b.err && vl < -1)
            return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: invalid header value size %d",
                             it->index, vl),
                   0;
        if (vl > 0)
            wire_read_raw(&b, (size_t)vl);
    }
    if (b.err)
        return iter_fail(it, KP_ERR_INVALID_RECORD, "record %d: truncated record body",
                         it->index),
               0;
    if (wire_remaining(&b) != 0)
        return iter_fail(it, KP_ERR_INVALID_RECORD,
                         "record %d: size %d but %zu bytes unread", it->index, rlen,
                         wire_remaining(&b)),
               0;
    rec->headers = b.p + hstart;
    rec->headers_len = b.pos - hstart;

    if (it->strict ? off_delta != it->index
                   : (off_delta <= it->prev_delta || off_delta > it->h.last_offset_delta))
        return iter_fail(it, KP_ERR_INVALID_RECORD,
                         "record %d: offset delta %d out of sequence (previous %d, last %d)",
                         it->index, off_delta, it->prev_delta, it->h.last_offset_delta),
               0;
    it->prev_delta = off_delta;
    rec->offset_delta = off_delta;
    rec->offset = it->h.base_offset + off_delta;
    rec->timestamp = (it->h.attributes & RB_ATTR_LOG_APPEND_TIME)
                         ? it->h.max_timestamp
                         : (int64_t)((uint64_t)it->h.base_timestamp + (uint64_t)ts_delta);
    it->index++;
    return 1;
}

int rb_header_next(const struct rb_record *rec, size_t *pos, const uint8_t **key,
                   int32_t *key_len, const uint8_t **value, int32_t *value_len)
{
    struct wire_reader r;
    wire_reader_init(&r, rec->headers, rec->headers_len);
    r.pos = *pos;
    if (*pos >= rec->headers_len)
        return 0;
    *key_len = wire_read_varint(&r);
    if (r.err || *key_len < 0)
        return 0;
    *key = wire_read_raw(&r, (size_t)*key_len);
    *value_len = wire_read_varint(&r);
    if (r.err || *value_len < -1)
        return 0;
    *value = NULL;
    if (*value_len >= 0)
        *value = wire_read_raw(&r, (size_t)*value_len);
    if (r.err)
        return 0;
    *pos = r.pos;
    return 1;
}

void rb_set_base_offset(uint8_t *batch, int64_t base_offset)
{
    rb_put_i64(batch + RB_OFF_BASE_OFFSET, base_offset);
}

void rb_set_partition_leader_epoch(uint8_t *batch, int32_t epoch)
{
    rb_put_i32(batch + RB_OFF_LEADER_EPOCH, epoch);
}

void rb_set_max_timestamp(uint8_t *batch, size_t size, int64_t max_ts, int log_append_time)
{
    int16_t attrs = rb_get_i16(batch + RB_OFF_ATTRIBUTES);
    int16_t nattrs = log_append_time ? (int16_t)(attrs | RB_ATTR_LOG_APPEND_TIME)
                                     : (int16_t)(attrs & ~RB_ATTR_LOG_APPEND_TIME);
    if (nattrs == attrs && rb_get_i64(batch + RB_OFF_MAX_TIMESTAMP) == max_ts)
        return;
    batch[RB_OFF_ATTRIBUTES] = (uint8_t)((uint16_t)nattrs >> 8);
    batch[RB_OFF_ATTRIBUTES + 1] = (uint8_t)nattrs;
    rb_put_i64(batch + RB_OFF_MAX_TIMESTAMP, max_ts);
    rb_put_i32(batch + RB_OFF_CRC, (int32_t)rb_compute_crc(batch, size));
}
