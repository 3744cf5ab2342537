/* Moving a partition's log to another log directory (AlterReplicaLogDirs,
 * KIP-113), on one worker thread so the event loop never waits on the copy.
 *
 * Like Kafka, the move builds a future log "<topic>-<p>.<id>-future" in the
 * destination while the partition keeps serving, then switches:
 *   1. copy: the sealed segments (immutable) are copied and fsynced while
 *      the current log keeps taking appends and fetches;
 *   2. switch: the partition goes briefly offline (produce and fetch get
 *      the retriable NOT_LEADER_OR_FOLLOWER), its log is handed to the
 *      worker once no flush is in flight, closed cleanly there, the rest
 *      (active segment, indexes, state files) copied and fsynced; then the
 *      source is renamed "<topic>-<p>.<id>-delete", the future renamed to
 *      "<topic>-<p>", both parents fsynced, the source removed, and the
 *      new log opened and handed back to the loop, which serves it again.
 * A crash between the two renames is finished at start-up (log_dirs.h):
 * the presence of the "-delete" source proves the future was complete.
 *
 * A second request for a partition already moving redirects it: a move
 * still copying is abandoned (its future removed) and the new one starts
 * from the partition's current directory.  An I/O error takes the
 * directory where it happened offline, as for any log. */
#ifndef SLUICE_LOG_MOVER_H
#define SLUICE_LOG_MOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct broker_topic;
struct log_mover;

struct log_mover *log_mover_new(struct broker *b);
/* Shutdown: abandons copies in progress, waits for a switch in progress,
 * hands every log back to its topic.  NULL is a no-op. */
void log_mover_free(struct log_mover *m);

/* Start moving partition p of t to log directory dest, or redirect a
 * move in progress.  Returns a Kafka error code (NONE when accepted). */
int16_t log_mover_request(struct log_mover *m, struct broker_topic *t, int32_t p, int dest);

/* The future log of t/p, if one is being built: its directory, bytes so
 * far and log end offset so far.  False when none. */
bool log_mover_future(const struct log_mover *m, const struct broker_topic *t, int32_t p,
                      int *dir, int64_t *size, int64_t *leo);

/* Adds the future logs per directory to count[0..n) (placement). */
void log_mover_count_futures(const struct log_mover *m, size_t *count, size_t n);

/* A directory went offline: moves into or out of it are abandoned. */
void log_mover_dir_failed(struct log_mover *m, int dir);

/* The topic is being deleted or closed: moves of it stop; a log not yet
 * handed to the worker goes back to the topic, one being switched is
 * deleted (delete_data) or closed when the switch ends. */
void log_mover_forget_topic(struct log_mover *m, struct broker_topic *t, bool delete_data);

/* A switch of some partition of this topic name is still running (a topic
 * of that name must not be created until it ends). */
bool log_mover_has_topic(const struct log_mover *m, const char *topic);

#endif
