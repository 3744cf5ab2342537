/* Record timestamp validation; see timestamp_rules.h. */
#include "storage/timestamp_rules.h"

#include <inttypes.h>
#include <stdio.h>

#define NO_TIMESTAMP (-1)

bool ts_out_of_range(int64_t ts, int64_t now, const struct ts_rules *r)
{
    /* timestampDiff = now - ts; invalid when diff > before || -diff > after,
     * all in two's-complement wrap-around like Java longs. */
    int64_t diff = (int64_t)((uint64_t)now - (uint64_t)ts);
    int64_t neg = (int64_t)(0 - (uint64_t)diff);
    return diff > r->before_max_ms || neg > r->after_max_ms;
}

bool ts_batch_suspect(const struct rb_info *info, int64_t now, const struct ts_rules *r)
{
    if (info->h.attributes & RB_ATTR_LOG_APPEND_TIME)
        return true; /* refused unless CreateTime and the record passes */
    if (r->log_append_time || info->records == 0)
        return false;
    /* Range checks are monotonic in the timestamp except near the int64
     * limits, where the exact check is cheap insurance. */
    if (info->min_record_timestamp < 0)
        return true;
    return (info->min_record_timestamp != INT64_MAX &&
            ts_out_of_range(info->min_record_timestamp, now, r)) ||
           (info->max_record_timestamp != NO_TIMESTAMP &&
            ts_out_of_range(info->max_record_timestamp, now, r));
}

int ts_check_batch(const uint8_t *batch, size_t size, int64_t now, const struct ts_rules *r,
                   rb_decompress_fn dec, void *dec_ctx,
                   void (*fn)(void *ud, int32_t index, const char *msg), void *ud)
{
    struct rb_iter it;
    int rc = rb_iter_init(&it, batch, size, dec, dec_ctx);
    if (rc) {
        rb_iter_free(&it);
        return -rc;
    }
    bool lat_batch = (it.h.attributes & RB_ATTR_LOG_APPEND_TIME) != 0;
    struct rb_record rec;
    int bad = 0;
    int32_t index = 0;
    char msg[256];
    while (rb_iter_next(&it, &rec) == 1) {
        msg[0] = '\0';
        if (!r->log_append_time && rec.timestamp != NO_TIMESTAMP) {
            if (ts_out_of_range(rec.timestamp, now, r))
                snprintf(msg, sizeof msg,
                         "Timestamp %" PRId64 " of message with offset %" PRId64
                         " is out of range. The timestamp should be within [%" PRId64
                         ", %" PRId64 "]",
                         rec.timestamp, rec.offset,
                         (int64_t)((uint64_t)now - (uint64_t)r->before_max_ms),
                         (int64_t)((uint64_t)now + (uint64_t)r->after_max_ms));
        } else if (lat_batch) {
            /* Kafka prints the record with DefaultRecord.toString(). */
            snprintf(msg, sizeof msg,
                     "Invalid timestamp type in message DefaultRecord(offset=%" PRId64
                     ", timestamp=%" PRId64 ", key=%d bytes, value=%d bytes). Producer should "
                     "not set timestamp type to LogAppendTime.",
                     rec.offset, rec.timestamp, rec.key_len < 0 ? 0 : (int)rec.key_len,
                     rec.value_len < 0 ? 0 : (int)rec.value_len);
        }
        if (msg[0]) {
            bad++;
            if (fn)
                fn(ud, index, msg);
        }
        index++;
    }
    rc = it.err;
    rb_iter_free(&it);
    return rc ? -rc : bad;
}
