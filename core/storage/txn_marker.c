/* Transaction marker control records.  See txn_marker.h. */
#include "storage/txn_marker.h"

#include <stdarg.h>
#include <stdio.h>

#include "proto/kafka_errors.h"
#include "storage/batch_builder.h"

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return KP_ERR_INVALID_RECORD; /* Kafka's InvalidRecordException */
}

/* ControlRecordType.parse + EndTransactionMarker.deserialize. */
int txn_marker_decode(const uint8_t *key, int32_t key_len, const uint8_t *value,
                      int32_t value_len, int *type, int32_t *coordinator_epoch, char *err,
                      size_t errlen)
{
    if (!key || key_len < TXN_MARKER_KEY_SIZE)
        return bad(err, errlen,
                   "Invalid value size found for control record key. Must have at least 4 "
                   "bytes, but found %d",
                   key_len < 0 ? 0 : key_len);
    int16_t kver = rb_get_i16(key);
    if (kver < 0)
        return bad(err, errlen, "Invalid version found for control record: %d", kver);
    int16_t t = rb_get_i16(key + 2);
    if (t != TXN_MARKER_ABORT && t != TXN_MARKER_COMMIT)
        return bad(err, errlen, "Invalid control record type for end transaction marker %d", t);
    if (!value || value_len < 2)
        return bad(err, errlen, "Invalid value size found for end transaction marker");
    int16_t vver = rb_get_i16(value);
    if (vver < 0)
        return bad(err, errlen, "Invalid version found for end transaction marker: %d", vver);
    if (value_len < TXN_MARKER_VALUE_SIZE)
        return bad(err, errlen,
                   "Invalid value size found for end transaction marker. Must have at least 6 "
                   "bytes, but found %d",
                   value_len);
    *type = t;
    *coordinator_epoch = rb_get_i32(value + 2);
    return 0;
}

int txn_marker_read_batch(const uint8_t *batch, size_t size, rb_decompress_fn dec, void *dec_ctx,
                          int *type, int32_t *coordinator_epoch)
{
    struct rb_iter it;
    int rc = rb_iter_init(&it, batch, size, dec, dec_ctx);
    if (rc) {
        rb_iter_free(&it);
        return -rc;
    }
    struct rb_record r;
    int got = rb_iter_next(&it, &r);
    if (got == 1)
        rc = txn_marker_decode(r.key, r.key_len, r.value, r.value_len, type, coordinator_epoch,
                               NULL, 0);
    else
        rc = it.err;
    rb_iter_free(&it);
    if (rc)
        return -rc;
    return got == 1;
}

uint8_t *txn_marker_build(int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                          int type, int64_t timestamp, size_t *len)
{
    uint8_t key[TXN_MARKER_KEY_SIZE], value[TXN_MARKER_VALUE_SIZE];
    key[0] = key[1] = 0; /* ControlRecordType key version 0 */
    key[2] = 0;
    key[3] = (uint8_t)type;
    value[0] = value[1] = 0; /* EndTransactionMarker version 0 */
    rb_put_i32(value + 2, coordinator_epoch);
    struct batch_builder bb;
    batch_builder_init(&bb);
    batch_builder_add(&bb, timestamp, key, sizeof key, value, sizeof value);
    return batch_builder_finish(&bb, RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL, producer_id,
                                producer_epoch, len);
}
