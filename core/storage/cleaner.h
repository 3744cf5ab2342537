/* The log cleaner's work on one log (Kafka's Cleaner): build the offset map
 * over the dirty section, group the segments below the end of the mapped
 * range (groupSegmentsBySize), and rewrite each group into one new segment
 * "<base>.log.cleaned" keeping the latest record of every key, then hand
 * it to a swap callback.
 *
 * It only reads closed segments, through file descriptors of its own taken
 * when the job was prepared (closed segments never change), and it only
 * writes new files, so it runs on a worker thread without touching the
 * partition log; the swap callback decides how the new segment reaches the
 * log (log_cleaner.c posts it to the loop thread, tests swap directly).
 *
 * Record rules (Kafka's Cleaner.shouldRetainRecord / checkBatchRetention):
 *  - a record above the map's latest offset is kept (not mapped yet);
 *  - a keyed record is kept when it is the latest for its key and has a
 *    value, or is a tombstone whose batch's delete horizon has not passed
 *    (KIP-534; the horizon is set by batch_filter when first cleaned);
 *  - a record without a key is removed (counted as invalid);
 *  - control batches are kept until their transaction has no data left and
 *    their own delete horizon passed; batches of aborted transactions go
 *    (the aborted transactions come from the log's .txnindex files; the
 *    cleaned range never reaches the first unstable offset);
 *  - the last batch of the cleaning round and the last batch of an active
 *    producer (hook) stay, empty if need be, to keep offsets and sequences. */
#ifndef SLUICE_CLEANER_H
#define SLUICE_CLEANER_H

#include <stddef.h>
#include <stdint.h>

#include "storage/batch_filter.h"
#include "storage/offset_map.h"
#include "storage/segment.h"

/* A closed segment as the job sees it (snapshot taken on the loop thread). */
struct cleaner_segment {
    int64_t base_offset;
    uint64_t size;        /* bytes of valid batches */
    int fd;               /* readable descriptor of the .log; owned by the caller */
    int64_t last_modified_ms;
    uint64_t index_bytes, timeindex_bytes; /* for grouping (segment.index.bytes) */
};

/* An aborted transaction in the cleaned range (Kafka's AbortedTxn, as in
 * the log's .txnindex files). */
struct cleaner_aborted_txn {
    int64_t producer_id, first_offset, last_offset;
    int64_t last_stable_offset;
};

struct cleaner_params {
    const char *dir;            /* partition directory: the .cleaned files go here */
    int64_t first_dirty;        /* Kafka's firstDirtyOffset (the checkpoint) */
    int64_t first_uncleanable;  /* exclusive upper bound, a segment base offset */
    int64_t now_ms;
    int64_t delete_retention_ms;
    int64_t segment_bytes;      /* group limit for the log data */
    int64_t max_index_bytes;    /* group limit for each index */
    int64_t index_interval_bytes;
    size_t io_buffer_size;      /* read chunk (log.cleaner.io.buffer.size) */
    rb_decompress_fn dec;
    void *dec_ctx;
    rb_compress_fn comp;
    void *comp_ctx;

    /* Transactions: the aborted ones overlapping the cleaned range, sorted
     * by first offset (Kafka's collectAbortedTransactions).  An ABORT
     * marker kept while its transaction still had data in this round gets
     * its entry in the cleaned segment's .txnindex. */
    const struct cleaner_aborted_txn *aborted;
    size_t naborted;
    /* 1 and the producer's last data offset (-1: its last entry is a
     * marker) and epoch when the producer is active; 0 otherwise. */
    int (*active_producer)(void *ud, int64_t producer_id, int64_t *last_data_offset,
                           int16_t *epoch);

    /* Hooks, called on the cleaning thread. */
    int (*should_abort)(void *ud);          /* nonzero: stop (Kafka's checkDone) */
    void (*throttle)(void *ud, size_t bytes); /* I/O done, may sleep */
    /* A group's cleaned segment is written, sealed and fsynced: replace the
     * segments old_bases[0..n) with it.  Takes ownership of `cleaned`.
     * Non-zero stops the cleaning. */
    int (*swap)(void *ud, struct segment *cleaned, const int64_t *old_bases, size_t n);
    void *ud;
};

struct cleaner_stats {
    uint64_t map_bytes_read;
    int64_t map_records_read;
    uint64_t bytes_read, bytes_written;
    int64_t records_read, records_retained;
    int64_t invalid_records;   /* keyless records removed */
    int64_t batches_copied, batches_rebuilt;
    double map_utilization;
    int groups;
};

enum { CLEANER_ABORTED = 1 };

/* Clean the log whose closed segments below p->first_uncleanable are
 * segs[0..n) (oldest first, from the log's first segment).  *end_offset
 * gets the first offset not cleaned (the new checkpoint).  Returns 0,
 * CLEANER_ABORTED (should_abort said so; no group after the last swapped
 * one was touched and its .cleaned files are gone), or a negative errno /
 * positive Kafka error code with detail in err. */
int cleaner_clean(struct offset_map *map, const struct cleaner_segment *segs, size_t n,
                  const struct cleaner_params *p, int64_t *end_offset, struct cleaner_stats *st,
                  char *err, size_t errlen);

/* Kafka's groupSegmentsBySize over segs[0..n): consecutive segments whose
 * total log size <= max_size, each index total <= max_index_size, and
 * whose offsets stay within 2^31-1 of the group's base.  starts[g] is the
 * first segment of group g (starts has room for n); returns the number of
 * groups (a group ends where the next starts, the last at n). */
size_t cleaner_group_segments(const struct cleaner_segment *segs, size_t n, int64_t max_size,
                              int64_t max_index_size, int64_t first_uncleanable, size_t *starts);

#endif
