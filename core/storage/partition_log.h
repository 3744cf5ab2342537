/* The log of one partition: a directory <log.dir>/<topic>-<partition> of
 * segments (see segment.h) plus small state files:
 *   leader-epoch-checkpoint   Kafka's text format: "0\n<count>\n<epoch> <startOffset>\n..."
 *   log-start-offset          "0\n<offset>\n" (Kafka keeps one file per log dir)
 *   recovery-point-offset     "0\n<offset>\n": everything below is known fsynced
 *   .clean-shutdown           present only between plog_close and the next open
 *   <offset>.snapshot         producer state below <offset> (Kafka's format, see
 *                             producer_state.h): written at each roll and at close,
 *                             deleted with the segment starting at <offset>
 *
 * Threading: every function runs on the event-loop thread that owns the log.
 * Appends write() to the page cache; every fsync goes to the flusher thread.
 *
 * Batches are stored exactly as given (the produce path has already
 * up-converted v0/v1 message sets and re-compressed to the topic codec,
 * see storage/batch_recompress.h) once the broker has set
 * baseOffset, partitionLeaderEpoch and maxTimestamp (LogAppendTime), so
 * plog_read answers with file ranges for sendfile().  This layer never
 * re-encodes: compressed batches are only decompressed to validate them.
 *
 * Error results are Kafka error codes (KP_ERR_*). */
#ifndef SLUICE_PARTITION_LOG_H
#define SLUICE_PARTITION_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/record_batch.h"
#include "storage/txn_index.h"

struct flusher;
struct partition_log;

struct plog_config {
    int64_t segment_bytes;          /* segment.bytes (1 GiB) */
    int64_t segment_ms;             /* segment.ms (7 days) */
    int64_t segment_jitter_ms;      /* segment.jitter.ms (0) */
    int64_t segment_index_bytes;    /* segment.index.bytes (10 MiB) */
    int64_t index_interval_bytes;   /* index.interval.bytes (4096) */
    int64_t retention_ms;           /* retention.ms (7 days), -1 = forever */
    int64_t retention_bytes;        /* retention.bytes, -1 = unlimited */
    int64_t flush_interval_messages; /* flush.messages (INT64_MAX = never) */
    int64_t flush_interval_ms;      /* flush.ms (INT64_MAX = never) */
    int64_t max_message_bytes;      /* max.message.bytes (1048588) */
    int64_t file_delete_delay_ms;   /* file.delete.delay.ms (60000) */
    int timestamp_type;             /* 0 CreateTime, 1 LogAppendTime */
    /* message.timestamp.{before,after}.max.ms for CreateTime records
     * (defaults INT64_MAX and 3600000, as in Kafka 4.0); INT64_MAX or
     * negative = no check.  Violations → INVALID_TIMESTAMP. */
    int64_t message_timestamp_before_max_ms;
    int64_t message_timestamp_after_max_ms;
    /* cleanup.policy bits (PLOG_CLEANUP_*): retention by time and size only
     * with DELETE; COMPACT makes the log cleaner compact it and appends
     * refuse records without a key.  Default DELETE. */
    unsigned cleanup_policy;
    /* Compaction (read by the log cleaner). */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio (0.5) */
    int64_t min_compaction_lag_ms;    /* min.compaction.lag.ms (0) */
    int64_t max_compaction_lag_ms;    /* max.compaction.lag.ms (INT64_MAX) */
    int64_t delete_retention_ms;      /* delete.retention.ms (86400000) */
};

/* Same values as SLUICE_CLEANUP_* (config/broker_config.h). */
enum { PLOG_CLEANUP_DELETE = 1, PLOG_CLEANUP_COMPACT = 2 };

/* Called (on the loop thread, from inside plog_* functions) when the log
 * meets an I/O error: write, fsync, open, rename, read.  err is an errno,
 * what names the operation.  The broker takes the log's directory offline
 * (Kafka's LogDirFailureChannel); it must not close the log from inside
 * the callback. */
typedef void (*plog_io_error_fn)(void *ud, struct partition_log *pl, int err, const char *what);

/* Kafka's defaults. */
void plog_config_default(struct plog_config *cfg);

/* Open (creating if needed) the partition directory `dir` and recover it: a
 * missing .clean-shutdown marker means every segment at or after the
 * recovery point is scanned, batch by batch (length, magic, CRC-32C, offset
 * order), the tail after the last valid batch is truncated and its indexes
 * rebuilt.  fl may be NULL: flushes are then synchronous (tests, tools). */
struct partition_log *plog_open(const char *dir, const struct plog_config *cfg, struct flusher *fl,
                                int64_t now_ms, char *err, size_t errlen);

/* New topic config; applies from the next append/maintain. */
void plog_set_config(struct partition_log *pl, const struct plog_config *cfg);

void plog_set_io_error_cb(struct partition_log *pl, plog_io_error_fn fn, void *ud);
/* An I/O error on the log's files met outside plog_* calls (the log
 * cleaner's threads, reported on the loop thread): the hook runs as for
 * the log's own errors.  err is an errno. */
void plog_report_io_error(struct partition_log *pl, int err, const char *what);

/* Decompressor used when reading compressed batches (timestamp lookups). */
void plog_set_decompressor(struct partition_log *pl, rb_decompress_fn dec, void *dec_ctx);

struct plog_append_result {
    int16_t error;
    /* INVALID_TIMESTAMP: byte position of the refused batch in `records`
     * (plog_timestamp_errors lists its records); -1 otherwise. */
    ssize_t bad_batch_pos;
    int64_t base_offset;
    int64_t last_offset;
    int64_t log_append_time; /* -1 unless LogAppendTime */
    int64_t log_start_offset;
    int need_flush;          /* flush.messages reached: call plog_flush, ack on done */
    int duplicate;           /* a producer's retry of stored batches: nothing written,
                                the offsets are the stored ones (producer_state.h) */
    /* INVALID_RECORD because this many records of a compacted log have no
     * key; the caller builds Kafka's per-record errors. */
    int32_t null_key_records;
    char errmsg[128];
};

enum {
    /* Broker-originated data (transaction markers): control batches allowed. */
    PLOG_APPEND_ALLOW_CONTROL = 1,
};

/* Append a Produce "records" blob of one or more complete batches.  Every
 * batch is validated before anything is written (nothing is appended on
 * error); offsets, leader epoch and timestamps are assigned in place in
 * `records`.  Returns res->error (0 or a Kafka code).
 * Note: Kafka's Produce v3+ additionally requires exactly one batch per
 * partition (INVALID_RECORD otherwise); the produce handler enforces that,
 * this layer accepts several so internal writers can batch. */
int plog_append(struct partition_log *pl, uint8_t *records, size_t len, int32_t leader_epoch,
                int64_t now_ms, rb_decompress_fn dec, void *dec_ctx,
                struct plog_append_result *res);
int plog_append_ex(struct partition_log *pl, uint8_t *records, size_t len, int32_t leader_epoch,
                   int64_t now_ms, rb_decompress_fn dec, void *dec_ctx, unsigned flags,
                   struct plog_append_result *res);

/* Appends a transaction marker: a control batch (attributes: transactional + control,
 * one record with key {version 0, type 0=ABORT/1=COMMIT} and value {version 0,
 * coordinator_epoch}, Kafka's EndTransactionMarker format) for producer_id/producer_epoch.
 * Ends that producer's ongoing transaction on this partition (if any): the last stable
 * offset advances; an ABORT adds an entry to the aborted-transaction index.
 * Returns 0 or a Kafka error code (e.g. INVALID_PRODUCER_EPOCH when producer_epoch is older
 * than the partition's current epoch for that producer). *offset_out = marker offset.
 * Durability: like plog_append (flush settings); callers needing fsync use plog_flush.
 *
 * Other errors: TRANSACTION_COORDINATOR_FENCED when coordinator_epoch is
 * older than the one of the producer's last marker (Kafka's
 * checkCoordinatorEpoch), KAFKA_STORAGE_ERROR on I/O failure.  A marker for
 * a producer without an ongoing transaction is written too (Kafka does)
 * but changes neither the LSO nor the index.  The LSO may move: the caller
 * wakes fetch long-polls (broker_fetch_wake) as after a produce. */
int plog_append_txn_marker(struct partition_log *pl, int64_t producer_id,
                           int16_t producer_epoch, int32_t coordinator_epoch, bool commit,
                           int64_t now_ms, int64_t *offset_out);

/* Kafka's per-record RecordErrors for a batch refused with INVALID_TIMESTAMP:
 * fn(ud, index of the record in the batch, Kafka's message) for each
 * offending record, under the log's current timestamp rules.  Returns the
 * number reported. */
int plog_timestamp_errors(struct partition_log *pl, const uint8_t *batch, size_t len,
                          int64_t now_ms, rb_decompress_fn dec, void *dec_ctx,
                          void (*fn)(void *ud, int32_t index, const char *msg), void *ud);

#define PLOG_MAX_SPANS 8

struct plog_read_result {
    int16_t error;
    int64_t high_watermark, log_start_offset, last_stable_offset;
    int nspans;
    struct {
        int fd; /* borrowed; see plog_read */
        off_t off;
        size_t len;
    } spans[PLOG_MAX_SPANS];
    size_t bytes;
    /* The offset after the last batch returned (when bytes > 0), in
     * whichever segment it was: the exclusive end of the data read. */
    int64_t next_offset;
};

/* Whole batches starting with the one containing fetch_offset, up to
 * max_bytes (but always the first batch, KIP-74), only batches whose base
 * offset < max_offset_exclusive (-1: the log end), possibly spanning
 * segments.  OFFSET_OUT_OF_RANGE when fetch_offset is outside
 * [log start, log end].  Span fds stay valid until the segment is closed:
 * at least file.delete.delay.ms after it was deleted by retention, or at
 * plog_close/plog_delete; a send that may outlive that must dup() them. */
int plog_read(struct partition_log *pl, int64_t fetch_offset, size_t max_bytes,
              int64_t max_offset_exclusive, struct plog_read_result *out);

int64_t plog_log_start_offset(const struct partition_log *pl);
int64_t plog_log_end_offset(const struct partition_log *pl);
int64_t plog_high_watermark(const struct partition_log *pl);
/* Kafka's LSO: min(high watermark, first unstable offset), the first
 * unstable offset being the first offset of the earliest ongoing
 * transaction (never below the log start). */
int64_t plog_last_stable_offset(const struct partition_log *pl);
/* First offset of the earliest ongoing transaction, -1 when none. */
int64_t plog_first_unstable_offset(const struct partition_log *pl);

/* The AbortedTransactions of a read_committed Fetch that read `rr` from
 * fetch_offset: plog_collect_aborted(fetch_offset, rr->next_offset), i.e.
 * every aborted transaction overlapping the offsets returned, gathered
 * over all the segments the read crossed.  Kafka's addAbortedTransactions
 * bounds a read of one segment by that segment's sparse offset index
 * (which can list transactions past the data returned); a Sluice read may
 * cross segments, so the bound is the exact end of the data instead.
 * *out is malloc'd (NULL when none).  Returns 0 or -ENOMEM. */
int plog_aborted_txns(const struct partition_log *pl, int64_t fetch_offset,
                      const struct plog_read_result *rr, struct txn_aborted **out, size_t *n);
/* Kafka's UnifiedLog.collectAbortedTransactions(start, upper): the index
 * entries with lastOffset >= start and firstOffset < upper, from the
 * segment holding start on, until one's lastStableOffset >= upper.  *out
 * malloc'd (NULL when none).  Returns 0 or -ENOMEM. */
int plog_collect_aborted(const struct partition_log *pl, int64_t start, int64_t upper,
                         struct txn_aborted **out, size_t *n);
/* All aborted-transaction entries of segment i (tests, tools). */
const struct txn_aborted *plog_segment_aborted(const struct partition_log *pl, int i, size_t *n);

/* First offset >= log start whose record timestamp >= ts (time index, then a
 * scan); *offset = *timestamp = -1 when none.  Returns 0 or a Kafka code. */
int plog_offset_for_timestamp(struct partition_log *pl, int64_t ts, int64_t *offset,
                              int64_t *timestamp);

/* ListOffsets MAX_TIMESTAMP (-3): the record with the largest timestamp
 * (first such record); -1/-1 on an empty log. */
int plog_max_timestamp(struct partition_log *pl, int64_t *offset, int64_t *timestamp);

/* DeleteRecords: offset -1 means the high watermark.  Moves the log start
 * offset (never backwards), persists it and deletes the segments entirely
 * below it.  OFFSET_OUT_OF_RANGE above the high watermark. */
int plog_delete_records(struct partition_log *pl, int64_t offset, int64_t *new_log_start);

/* Timer work: deletion of segments whose delay expired, flush by flush.ms,
 * and — when `retention` is set, which the
 * broker does every log.retention.check.interval.ms — retention by time and
 * size (Kafka's rules: oldest segments first, stopping at the first one to
 * keep; if every segment goes, a new empty active segment is rolled first).
 * No roll by segment.ms here: like Kafka, that happens on the next append.
 * Returns the number of segments deleted, or -1 on error. */
int plog_maintain(struct partition_log *pl, int64_t now_ms, bool retention);

/* Queue fsync of every segment written since the last flush; done(ud, err)
 * runs later on the loop thread (before return when the log has no flusher).
 * err is 0 or an errno. */
int plog_flush(struct partition_log *pl, void (*done)(void *ud, int err), void *ud);

/* Shutdown: seal, fsync synchronously, write the clean-shutdown marker, close. */
void plog_close(struct partition_log *pl);

/* A failed log directory: close the files without writing anything (no
 * seal, no checkpoint, no clean-shutdown marker), like Kafka's
 * closeHandlers(); recovery runs when the directory comes back. */
void plog_abandon(struct partition_log *pl);

/* True while flushes or checkpoint writes of this log are in flight on the
 * flusher; a log must be idle before another thread may take it over. */
bool plog_busy(const struct partition_log *pl);

/* Topic deletion: close and remove the directory (renamed first to
 * "<dir>.<uuid>-delete" like Kafka, so a crash mid-removal is recognisable).
 * Returns 0 or -errno; the log is gone either way. */
int plog_delete(struct partition_log *pl);

/* The partition's idempotent-producer state (producer_state.h): checked
 * by every append, snapshotted at roll and close, rebuilt at open. */
struct producer_state *plog_producer_state(struct partition_log *pl);
/* Sum of the segment sizes (Kafka's log.size, DescribeLogDirs). */
int64_t plog_size(const struct partition_log *pl);
/* ---- log cleaner interface ---------------------------------------------
 * The cleaner (log_cleaner.h) runs on worker threads and never touches the
 * log itself: on the loop thread it reads the segment list below, dup()s
 * the closed segments' descriptors (closed segments never change) and later
 * asks, again on the loop thread, to swap a cleaned segment in. */

/* The partition directory given to plog_open. */
const char *plog_dir(const struct partition_log *pl);
const struct plog_config *plog_get_config(const struct partition_log *pl);

struct plog_segment_info {
    int64_t base_offset;
    int64_t next_offset;      /* last offset + 1 (base when empty) */
    uint64_t size;
    int64_t largest_timestamp; /* max timestamp, else the file's mtime (retention) */
    int64_t first_batch_timestamp; /* -1 when empty (max.compaction.lag.ms) */
    int64_t last_modified_ms;
    uint64_t index_bytes, timeindex_bytes;
    int log_fd;               /* borrowed: dup() it to keep it */
};

/* Segment i (0 oldest; plog_segment_count()-1 is the active one). */
void plog_segment_info(const struct partition_log *pl, int i, struct plog_segment_info *out);

struct segment;

/* Called after each file operation of a swap with a running step number
 * (crash-point tests stop the process there). */
typedef void (*plog_swap_step_fn)(void *ud, int step);

/* Replace the consecutive closed segments with bases old_bases[0..n) by
 * `cleaned`, whose files "<base>.{log,index,timeindex}.cleaned" are
 * complete and fsynced (base == old_bases[0]).  Kafka's protocol, one file
 * at a time: cleaned → .swap, old segments → .deleted (kept open for
 * readers and removed after file.delete.delay.ms), .swap → final names;
 * plog_open completes or rolls back an interrupted swap.  Returns 0 (the
 * log owns `cleaned`), -ESTALE when the old segments are no longer exactly
 * those (retention removed some meanwhile; nothing was renamed and the
 * caller still owns `cleaned`), or -errno from a rename (also given to the
 * I/O error hook; `cleaned` is consumed): when the first rename fails
 * nothing changed, after a later one the swap is completed in memory and
 * on disk at the next open. */
int plog_replace_segments(struct partition_log *pl, struct segment *cleaned,
                          const int64_t *old_bases, size_t n, plog_swap_step_fn step, void *ud);
/* Sum of the segment sizes (Kafka's log.size, DescribeLogDirs). */
int64_t plog_size(const struct partition_log *pl);

/* Diagnostics for tests and tools. */
int plog_segment_count(const struct partition_log *pl);
int64_t plog_segment_base(const struct partition_log *pl, int i);
/* Leader epoch cache: number of entries, and entry i. */
int plog_epoch_count(const struct partition_log *pl);
void plog_epoch_entry(const struct partition_log *pl, int i, int32_t *epoch, int64_t *start);

#endif
