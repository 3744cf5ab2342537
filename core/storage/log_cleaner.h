/* The log cleaner (Kafka's LogCleaner + LogCleanerManager): compacts the
 * logs whose cleanup.policy includes compact, on log.cleaner.threads
 * worker threads.
 *
 * Hand-off between the loop thread and the workers:
 *  - the loop thread owns every partition log.  Every backoff.ms (and
 *    whenever a cleaning finishes) it picks the dirtiest log (Kafka's
 *    grabFilthiestCompactedLog: dirty ratio above min.cleanable.dirty.ratio,
 *    or max.compaction.lag.ms exceeded) for each idle worker, snapshots the
 *    closed segments below the first uncleanable offset (active segment,
 *    high watermark, min.compaction.lag.ms) and dup()s their descriptors;
 *  - the worker reads those immutable segments through its own
 *    descriptors, builds its offset map and writes "<base>.*.cleaned"
 *    files (cleaner.h); it never touches the log's structures;
 *  - each finished group is posted back (ev_async) and the loop thread
 *    swaps it in (plog_replace_segments); replaced segments stay open in
 *    the log's graveyard for file.delete.delay.ms, so fetch responses
 *    already holding their (dup()ed) descriptors keep working;
 *  - when the job ends the loop thread records the new cleaner position in
 *    the log dir's "cleaner-offset-checkpoint" (Kafka's format: "0", count,
 *    then "topic partition offset" lines) and looks for more work.
 * An I/O error met while cleaning (reading the segments, writing or
 * fsyncing the cleaned files, a rename of the swap) goes to the log's I/O
 * error hook (plog_report_io_error), which takes the log dir offline as
 * for any other I/O error of the log; other failures (corrupt data) mark
 * the log uncleanable, as Kafka does.
 * Closing or deleting a log first calls log_cleaner_remove(), which aborts
 * its cleaning (the worker checks between batches, also while throttled)
 * and waits for the worker to let go, like Kafka's abortCleaning.
 *
 * Everything but the worker bodies runs on the loop thread. */
#ifndef SLUICE_LOG_CLEANER_H
#define SLUICE_LOG_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/batch_filter.h"

struct ev_loop;
struct flusher;
struct partition_log;
struct sluice_logger;
struct log_cleaner;

struct log_cleaner_config {
    bool enable;                    /* log.cleaner.enable */
    int32_t threads;                /* log.cleaner.threads */
    int64_t dedupe_buffer_size;     /* log.cleaner.dedupe.buffer.size, split across threads */
    int32_t io_buffer_size;         /* log.cleaner.io.buffer.size, split across threads */
    double io_buffer_load_factor;   /* log.cleaner.io.buffer.load.factor */
    double io_max_bytes_per_second; /* log.cleaner.io.max.bytes.per.second */
    int64_t backoff_ms;             /* log.cleaner.backoff.ms */
    /* Test hook: > 0 stops the loop thread for good right after that file
     * operation of a swap (so a test can kill -9 the broker there). */
    int test_pause_step;
};

void log_cleaner_config_default(struct log_cleaner_config *cfg);

/* dec/comp: the codecs (module registry), callable from any thread. */
struct log_cleaner *log_cleaner_new(struct ev_loop *loop, struct flusher *fl,
                                    struct sluice_logger *log,
                                    const struct log_cleaner_config *cfg, rb_decompress_fn dec,
                                    rb_compress_fn comp, void *codec_ctx, char *err,
                                    size_t errlen);

/* Dynamic reconfiguration: throttle and backoff apply at once; a new
 * thread count or buffer size restarts the workers once they are idle. */
void log_cleaner_reconfigure(struct log_cleaner *lc, const struct log_cleaner_config *cfg);

/* Make a log known to the cleaner (its compaction settings are read from
 * plog_get_config() each time).  topic/partition name it in the log dir's
 * checkpoint file.  0 or -1. */
int log_cleaner_add(struct log_cleaner *lc, struct partition_log *pl, const char *topic,
                    int32_t partition);

/* Before plog_close/plog_delete: abort any cleaning of pl and forget it;
 * deleted also drops its checkpoint entry. */
void log_cleaner_remove(struct log_cleaner *lc, struct partition_log *pl, bool deleted);

/* Kafka's abortAndPauseCleaning / resumeCleaning: pause aborts any
 * cleaning of pl (waiting for the worker to let go) and keeps it from
 * being scheduled until resumed; its checkpoint entry stays.  Used while
 * AlterReplicaLogDirs copies the log's files. */
void log_cleaner_pause(struct log_cleaner *lc, struct partition_log *pl);
void log_cleaner_resume(struct log_cleaner *lc, struct partition_log *pl);

/* The switch of a log to another log dir (Kafka's alterCheckpointDir):
 * detach pauses pl and forgets the pointer before the log is closed;
 * reattach gives topic/partition its reopened log new_pl, still paused,
 * and moves its cleaner position to new_pl's log dir checkpoint file
 * (dropped from the old one).  new_pl NULL: the log is gone (its dir failed,
 * or the topic went away: deleted also drops the checkpoint entry). */
void log_cleaner_detach(struct log_cleaner *lc, struct partition_log *pl);
void log_cleaner_reattach(struct log_cleaner *lc, const char *topic, int32_t partition,
                          struct partition_log *new_pl, bool deleted);

/* Kafka's handleLogDirFailure: log_dir (as in "<log_dir>/<topic>-<p>")
 * went offline.  Cleanings of its logs are aborted, its logs forgotten,
 * and its checkpoint file is never written again.  Call before its logs
 * are abandoned. */
void log_cleaner_dir_failed(struct log_cleaner *lc, const char *log_dir);

/* Look for work now (e.g. after a topic config change). */
void log_cleaner_wakeup(struct log_cleaner *lc);

/* Abort everything, join the threads, free.  Call before closing logs. */
void log_cleaner_free(struct log_cleaner *lc);

struct log_cleaner_stats {
    int64_t cleanings, aborted, failed, swaps, stale_swaps;
    uint64_t bytes_read, bytes_written;
    int64_t records_read, records_retained;
    double busy_seconds; /* sum of cleaning durations */
};

void log_cleaner_get_stats(const struct log_cleaner *lc, struct log_cleaner_stats *out);
/* The recorded cleaner position of pl, -1 when none; whether a job runs. */
int64_t log_cleaner_checkpoint(const struct log_cleaner *lc, const struct partition_log *pl);
bool log_cleaner_busy(const struct log_cleaner *lc);

/* Kafka's OffsetCheckpointFile text: calls cb for each entry.  Returns the
 * number of entries, or -1 when malformed (bounds-checked: fuzzed). */
int log_cleaner_checkpoint_parse(const char *text, size_t len,
                                 void (*cb)(void *ud, const char *topic, size_t topic_len,
                                            int32_t partition, int64_t offset),
                                 void *ud);

#endif
