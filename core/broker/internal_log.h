/* I/O of the coordinators' internal topics (__consumer_offsets,
 * __transaction_state): one batch of coordinator records appended and
 * acknowledged once durable per the topic's flush policy, exactly like
 * Produce; and the start-up replay of a partition, batch by batch. */
#ifndef SLUICE_BROKER_INTERNAL_LOG_H
#define SLUICE_BROKER_INTERNAL_LOG_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct partition_log;

struct internal_record {
    const uint8_t *key;
    int32_t klen;
    const uint8_t *value; /* NULL: tombstone */
    int32_t vlen;
};

typedef void (*internal_write_done)(void *ud, int16_t err);

/* Appends recs as one batch to pl (producer_id >= 0: a transactional batch
 * of that producer, checked against the producer state by epoch only, as
 * Kafka appends coordinator batches).  done(ud, err) once durable
 * (possibly before returning); returns 0, or a Kafka error code when
 * nothing was written (done not called).  area/where name the log lines. */
int16_t internal_log_append(struct broker *b, struct partition_log *pl, const char *area,
                            const char *where, const struct internal_record *recs, size_t n,
                            int64_t producer_id, int16_t producer_epoch,
                            internal_write_done done, void *ud);

/* Replays pl from its log start to its high watermark: fn(ud, batch,
 * size, from, &next) for every batch (from: the first offset not yet
 * applied; *next: where the following batch starts).  0 or -1. */
typedef int (*internal_batch_fn)(void *ud, const uint8_t *batch, size_t size, int64_t from,
                                 int64_t *next);
int internal_log_replay(struct broker *b, struct partition_log *pl, const char *area,
                        const char *where, internal_batch_fn fn, void *ud);

#endif
