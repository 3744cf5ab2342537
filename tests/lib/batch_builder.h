/* Test helper: build record batches v2 the way a producer would.
 *
 *   struct bb_record recs[] = { BB_REC("k1", "v1", 1000), BB_REC(NULL, "v2", 1001) };
 *   size_t len;
 *   uint8_t *b = bb_build(recs, 2, NULL, &len);   // malloc'd, free() it
 *
 * bb_opts (optional) sets producer id/epoch/sequence, attributes (e.g.
 * transactional/control bits) and the base offset.  bb_build_raw() wraps an
 * already encoded (e.g. compressed) records section in a batch header. */
#ifndef SLUICE_BATCH_BUILDER_H
#define SLUICE_BATCH_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/record_batch.h"
#include "util/crc32c.h"
#include "util/wire.h"

struct bb_header {
    const char *key;
    const void *value; /* NULL: null value */
    int32_t value_len; /* -2: strlen(value) */
};

struct bb_record {
    const void *key;   /* NULL: null key */
    int32_t key_len;   /* -2: strlen(key) */
    const void *value; /* NULL: null value */
    int32_t value_len; /* -2: strlen(value) */
    int64_t timestamp;
    int nheaders;
    const struct bb_header *headers;
};

#define BB_REC(k, v, ts) { (k), -2, (v), -2, (ts), 0, NULL }

struct bb_opts {
    int64_t base_offset;
    int64_t producer_id; /* -1 */
    int16_t producer_epoch;
    int32_t base_sequence;
    int16_t attributes;
    int32_t partition_leader_epoch;
};

static inline struct bb_opts bb_default_opts(void)
{
    struct bb_opts o = { 0, -1, -1, -1, 0, -1 };
    return o;
}

static inline int32_t bb_len_(const void *p, int32_t len)
{
    if (!p)
        return -1;
    return len == -2 ? (int32_t)strlen((const char *)p) : len;
}

/* Encode just the records section (what a producer would compress). */
static inline void bb_encode_records(struct wire_writer *w, const struct bb_record *recs, int n,
                                     int64_t base_ts)
{
    for (int i = 0; i < n; i++) {
        struct wire_writer r;
        wire_writer_init(&r);
        wire_write_i8(&r, 0);
        wire_write_varlong(&r, recs[i].timestamp - base_ts);
        wire_write_varint(&r, i);
        int32_t kl = bb_len_(recs[i].key, recs[i].key_len);
        wire_write_varint(&r, kl);
        if (kl > 0)
            wire_write_raw(&r, recs[i].key, (size_t)kl);
        int32_t vl = bb_len_(recs[i].value, recs[i].value_len);
        wire_write_varint(&r, vl);
        if (vl > 0)
            wire_write_raw(&r, recs[i].value, (size_t)vl);
        wire_write_varint(&r, recs[i].nheaders);
        for (int h = 0; h < recs[i].nheaders; h++) {
            const struct bb_header *hd = &recs[i].headers[h];
            int32_t hkl = (int32_t)strlen(hd->key);
            wire_write_varint(&r, hkl);
            wire_write_raw(&r, hd->key, (size_t)hkl);
            int32_t hvl = bb_len_(hd->value, hd->value_len);
            wire_write_varint(&r, hvl);
            if (hvl > 0)
                wire_write_raw(&r, hd->value, (size_t)hvl);
        }
        wire_write_varint(w, (int32_t)r.len);
        wire_write_raw(w, r.buf, r.len);
        wire_writer_free(&r);
    }
}

/* Wrap an encoded records section into a full batch with a valid CRC. */
static inline uint8_t *bb_build_raw(const struct bb_opts *o, const uint8_t *records,
                                    size_t records_len, int32_t count, int32_t last_offset_delta,
                                    int64_t base_ts, int64_t max_ts, size_t *len_out)
{
    size_t len = RB_HEADER_SIZE + records_len;
    uint8_t *b = (uint8_t *)calloc(1, len);
    rb_put_i64(b + RB_OFF_BASE_OFFSET, o->base_offset);
    rb_put_i32(b + RB_OFF_LENGTH, (int32_t)(len - RB_LOG_OVERHEAD));
    rb_put_i32(b + RB_OFF_LEADER_EPOCH, o->partition_leader_epoch);
    b[RB_OFF_MAGIC] = RB_MAGIC;
    b[RB_OFF_ATTRIBUTES] = (uint8_t)((uint16_t)o->attributes >> 8);
    b[RB_OFF_ATTRIBUTES + 1] = (uint8_t)o->attributes;
    rb_put_i32(b + RB_OFF_LAST_OFFSET_DELTA, last_offset_delta);
    rb_put_i64(b + RB_OFF_BASE_TIMESTAMP, base_ts);
    rb_put_i64(b + RB_OFF_MAX_TIMESTAMP, max_ts);
    rb_put_i64(b + RB_OFF_PRODUCER_ID, o->producer_id);
    b[RB_OFF_PRODUCER_EPOCH] = (uint8_t)((uint16_t)o->producer_epoch >> 8);
    b[RB_OFF_PRODUCER_EPOCH + 1] = (uint8_t)o->producer_epoch;
    rb_put_i32(b + RB_OFF_BASE_SEQUENCE, o->base_sequence);
    rb_put_i32(b + RB_OFF_RECORD_COUNT, count);
    if (records_len)
        memcpy(b + RB_HEADER_SIZE, records, records_len);
    rb_put_i32(b + RB_OFF_CRC, (int32_t)crc32c(0, b + RB_OFF_ATTRIBUTES, len - RB_OFF_ATTRIBUTES));
    *len_out = len;
    return b;
}

/* Recompute the CRC after a test modified a batch on purpose. */
static inline void bb_fix_crc(uint8_t *b, size_t len)
{
    rb_put_i32(b + RB_OFF_CRC, (int32_t)crc32c(0, b + RB_OFF_ATTRIBUTES, len - RB_OFF_ATTRIBUTES));
}

static inline uint8_t *bb_build(const struct bb_record *recs, int n, const struct bb_opts *opts,
                                size_t *len_out)
{
    struct bb_opts o = opts ? *opts : bb_default_opts();
    int64_t base_ts = n ? recs[0].timestamp : -1, max_ts = -1;
    for (int i = 0; i < n; i++) {
        if (recs[i].timestamp < base_ts)
            base_ts = recs[i].timestamp;
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    }
    struct wire_writer w;
    wire_writer_init(&w);
    bb_encode_records(&w, recs, n, base_ts);
    uint8_t *b = bb_build_raw(&o, w.buf, w.len, n, n - 1, base_ts, max_ts, len_out);
    wire_writer_free(&w);
    return b;
}

/* n records with values "<prefix><i>", keys NULL, timestamps ts0 + i. */
static inline uint8_t *bb_build_values(const char *prefix, int n, int64_t ts0, size_t *len_out)
{
    struct bb_record *recs = (struct bb_record *)calloc((size_t)n, sizeof *recs);
    char (*vals)[64] = (char (*)[64])calloc((size_t)n, 64);
    for (int i = 0; i < n; i++) {
        snprintf(vals[i], 64, "%s%d", prefix, i);
        recs[i].key = NULL;
        recs[i].key_len = -2;
        recs[i].value = vals[i];
        recs[i].value_len = -2;
        recs[i].timestamp = ts0 + i;
    }
    uint8_t *b = bb_build(recs, n, NULL, len_out);
    free(recs);
    free(vals);
    return b;
}

#endif
