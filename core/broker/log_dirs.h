/* The broker's log directories (log.dirs, Kafka's JBOD): which are online,
 * where partitions live, where new ones go, and what happens when one
 * fails.
 *
 * Placement follows Kafka's LogManager.nextLogDirs: a new partition goes to
 * the online directory holding the fewest partitions (current and future
 * logs), ties broken by configuration order.  An existing partition is
 * found again wherever it is; one that is in no online directory while
 * some directory is offline stays offline rather than being recreated
 * empty (Kafka's "Can not create log ... because log directories ... are
 * offline").
 *
 * Failure (Kafka's LogDirFailureChannel + ReplicaManager.handleLogDirFailure):
 * an I/O error on any log of a directory — or a failed write probe at
 * start-up — takes the whole directory offline without stopping the broker:
 * its logs are closed without writing, their partitions answer
 * KAFKA_STORAGE_ERROR and show as offline in Metadata, the other
 * directories keep serving, and the log names the directory.  The broker
 * halts (exit status 1) when the directory holding the metadata log fails
 * or when no directory is left, as Kafka does.
 *
 * Start-up also finishes or undoes an AlterReplicaLogDirs switch that a
 * crash interrupted (see log_mover.h) and removes "-delete" leftovers. */
#ifndef SLUICE_LOG_DIRS_H
#define SLUICE_LOG_DIRS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct partition_log;

struct log_dir {
    char *path;   /* as configured: partition directories are <path>/<topic>-<p> */
    char *abs;    /* absolute path, as DescribeLogDirs reports it */
    bool offline;
    bool failing; /* an I/O error was reported; taken offline on the next loop turn */
};

struct log_dirs {
    struct log_dir *v;
    size_t n;
    int metadata; /* index of the directory that holds the metadata log, -1: separate */
    ev_timer fail_timer;
};

/* Creates and probes every directory (a failed probe = offline, logged),
 * finishes interrupted moves, removes "-delete" directories.  Fails only
 * when no directory is usable or the metadata log's directory is not. */
int log_dirs_init(struct broker *b, char *err, size_t errlen);
void log_dirs_free(struct broker *b);

/* Index of the configured directory that contains partition directory
 * pdir ("<path>/<topic>-<p>"), or -1. */
int log_dirs_index_of(const struct broker *b, const char *pdir);
/* Index of a configured directory given by absolute path (AlterReplicaLogDirs), or -1. */
int log_dirs_find_abs(const struct broker *b, const char *abs);

/* Where a partition's log lives: the online directory already holding it,
 * else (a new partition, or no directory offline) the least loaded online
 * one.  -1 when it can only be in an offline directory, or none is online. */
int log_dirs_locate(struct broker *b, const char *topic, int32_t partition, bool is_new);

/* Partition logs (current and future) per directory, for placement. */
int log_dirs_pick(struct broker *b);

/* plog_io_error_fn for every partition log (ud = the broker): logs the
 * error naming the directory and schedules taking it offline. */
void log_dirs_io_error(void *ud, struct partition_log *pl, int err, const char *what);
/* The same for a directory known by index (mover errors). */
void log_dirs_report_failure(struct broker *b, int dir, int err, const char *what,
                             const char *partition);

#endif
