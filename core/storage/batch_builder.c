#include "storage/batch_builder.h"

#include <stdlib.h>
#include <string.h>

#include "storage/record_batch.h"
#include "util/crc32c.h"

void batch_builder_init(struct batch_builder *bb)
{
    memset(bb, 0, sizeof *bb);
    wire_writer_init(&bb->records);
}

void batch_builder_free(struct batch_builder *bb)
{
    wire_writer_free(&bb->records);
}

void batch_builder_add(struct batch_builder *bb, int64_t ts, const void *key, int32_t klen,
                       const void *value, int32_t vlen)
{
    if (bb->count == 0)
        bb->base_ts = bb->max_ts = ts;
    if (ts > bb->max_ts)
        bb->max_ts = ts;
    int64_t ts_delta = ts - bb->base_ts;
    size_t body = 1 + wire_varlong_size(ts_delta) + wire_varlong_size(bb->count) +
                  wire_varlong_size(klen) + (klen > 0 ? (size_t)klen : 0) +
                  wire_varlong_size(vlen) + (vlen > 0 ? (size_t)vlen : 0) + 1;
    struct wire_writer *w = &bb->records;
    wire_write_varint(w, (int32_t)body);
    wire_write_i8(w, 0); /* record attributes: unused */
    wire_write_varlong(w, ts_delta);
    wire_write_varint(w, bb->count);
    wire_write_varint(w, klen);
    if (klen > 0)
        wire_write_raw(w, key, (size_t)klen);
    wire_write_varint(w, vlen);
    if (vlen > 0)
        wire_write_raw(w, value, (size_t)vlen);
    wire_write_varint(w, 0); /* no headers */
    bb->count++;
}

uint8_t *batch_builder_finish(struct batch_builder *bb, int16_t attributes, int64_t producer_id,
                              int16_t producer_epoch, size_t *len)
{
    if (bb->records.err || bb->count == 0) {
        batch_builder_free(bb);
        return NULL;
    }
    size_t n = RB_HEADER_SIZE + bb->records.len;
    uint8_t *b = calloc(1, n);
    if (!b) {
        batch_builder_free(bb);
        return NULL;
    }
    rb_put_i64(b + RB_OFF_BASE_OFFSET, 0);
    rb_put_i32(b + RB_OFF_LENGTH, (int32_t)(n - RB_LOG_OVERHEAD));
    rb_put_i32(b + RB_OFF_LEADER_EPOCH, -1);
    b[RB_OFF_MAGIC] = RB_MAGIC;
    b[RB_OFF_ATTRIBUTES] = (uint8_t)((uint16_t)attributes >> 8);
    b[RB_OFF_ATTRIBUTES + 1] = (uint8_t)attributes;
    rb_put_i32(b + RB_OFF_LAST_OFFSET_DELTA, bb->count - 1);
    rb_put_i64(b + RB_OFF_BASE_TIMESTAMP, bb->base_ts);
    rb_put_i64(b + RB_OFF_MAX_TIMESTAMP, bb->max_ts);
    rb_put_i64(b + RB_OFF_PRODUCER_ID, producer_id);
    b[RB_OFF_PRODUCER_EPOCH] = (uint8_t)((uint16_t)producer_epoch >> 8);
    b[RB_OFF_PRODUCER_EPOCH + 1] = (uint8_t)producer_epoch;
    rb_put_i32(b + RB_OFF_BASE_SEQUENCE, -1);
    rb_put_i32(b + RB_OFF_RECORD_COUNT, bb->count);
    memcpy(b + RB_HEADER_SIZE, bb->records.buf, bb->records.len);
    rb_put_i32(b + RB_OFF_CRC, (int32_t)crc32c(0, b + RB_OFF_ATTRIBUTES, n - RB_OFF_ATTRIBUTES));
    *len = n;
    batch_builder_free(bb);
    return b;
}
