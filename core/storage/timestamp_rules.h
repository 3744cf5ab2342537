/* Record timestamp rules of a topic, as Kafka's LogValidator applies them
 * to produced records: under CreateTime every record timestamp other than
 * -1 must lie within [now - message.timestamp.before.max.ms,
 * now + message.timestamp.after.max.ms] (KIP-937); a producer may never
 * send a batch flagged LogAppendTime (except, under CreateTime, for records
 * whose timestamp passes the range check, which is how Kafka words it). */
#ifndef SLUICE_TIMESTAMP_RULES_H
#define SLUICE_TIMESTAMP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/record_batch.h"

struct ts_rules {
    bool log_append_time;  /* message.timestamp.type=LogAppendTime */
    int64_t before_max_ms; /* INT64_MAX: no bound */
    int64_t after_max_ms;
};

/* Kafka's recordHasInvalidTimestamp, with Java's wrapping arithmetic so the
 * INT64_MAX "no bound" values behave exactly as there. */
bool ts_out_of_range(int64_t ts, int64_t now, const struct ts_rules *r);

/* Cheap pre-check from a batch's validation facts: false means every record
 * is certainly fine; true means ts_check_batch must decide. */
bool ts_batch_suspect(const struct rb_info *info, int64_t now, const struct ts_rules *r);

/* Checks every record of one batch (LogValidator.validateTimestamp) and
 * calls fn(ud, record index in the batch, Kafka's message) for each one
 * refused (fn may be NULL).  Returns the number refused, or a negative Kafka
 * error code when the batch cannot be iterated. */
int ts_check_batch(const uint8_t *batch, size_t size, int64_t now, const struct ts_rules *r,
                   rb_decompress_fn dec, void *dec_ctx,
                   void (*fn)(void *ud, int32_t index, const char *msg), void *ud);

#endif
