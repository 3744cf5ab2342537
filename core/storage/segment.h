/* One log segment: <base>.log holding record batches exactly as they go on
 * the wire, plus its sparse offset index (<base>.index) and time index
 * (<base>.timeindex) in Kafka's on-disk formats:
 *   .index      entries of { relative offset u32, file position u32 }, where the
 *               offset is the last offset of the batch starting at position;
 *   .timeindex  entries of { timestamp i64, relative offset u32 }: the largest
 *               timestamp so far and the last offset of its batch.
 * An entry is added when more than index.interval.bytes were appended since
 * the previous one (Kafka's LogSegment.append rule).
 *
 * Index files are grown entry by entry with pwrite (no preallocation, so
 * nothing to trim on close); the entries are also kept in memory for binary
 * search.  "Index full" (segment.index.bytes / entry size) still triggers a
 * roll, like Kafka.  The files are only a cache: recovery rebuilds them from
 * the log. */
#ifndef SLUICE_SEGMENT_H
#define SLUICE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/record_batch.h"
#include "storage/txn_index.h"

#define SEG_INDEX_ENTRY_SIZE 8
#define SEG_TIMEINDEX_ENTRY_SIZE 12

struct seg_index_entry {
    uint32_t rel; /* last offset of the batch - base_offset */
    uint32_t pos;
};

struct seg_time_entry {
    int64_t ts;
    uint32_t rel;
};

struct segment {
    int64_t base_offset;
    char *path;             /* "<dir>/<base %020lld>", without extension */
    int log_fd, idx_fd, tidx_fd;
    uint64_t size;          /* bytes of valid batches in .log */
    int64_t next_offset;    /* last offset + 1; base_offset while empty */
    struct seg_index_entry *idx;
    size_t nidx, idx_cap;
    struct seg_time_entry *tidx;
    size_t ntidx, tidx_cap;
    uint64_t bytes_since_index;
    int64_t max_ts;           /* largest batch maxTimestamp, -1 when none */
    int64_t offset_of_max_ts; /* last offset of the batch holding max_ts */
    int64_t first_batch_ts;   /* maxTimestamp of the first batch, -1 when none (segment.ms) */
    int64_t created_ms;
    int dirty;                /* appended since the last flush submission */
    int64_t delete_at_ms;     /* when renamed to .deleted: unlink time */
    char suffix[12];          /* after each extension: "" or ".cleaned"/".swap" (log cleaner) */
    /* Aborted transactions ending in this segment (txn_index.h): the
     * .txnindex file is opened if it exists, created with the first entry. */
    int txn_fd;               /* -1: no file */
    struct txn_aborted *txn;
    size_t ntxn, txn_cap;
    int txn_rebuild;          /* recovered or a bad .txnindex: the caller refills it */
};

/* Header fields of one batch found in a segment. */
struct seg_batch {
    uint64_t pos;
    size_t size;
    int64_t base_offset, last_offset, max_timestamp;
    int16_t attributes;
};

/* Create an empty segment (files truncated if they exist). */
struct segment *seg_create(const char *dir, int64_t base, int64_t now_ms, char *err, size_t errlen);

/* Open an existing segment.  recover=1: scan every batch, check framing and
 * CRC, truncate the file after the last valid batch and rebuild the indexes
 * (*truncated gets the bytes cut).  recover=0: trust the log, load the index
 * files (rebuilt if inconsistent) and scan only the tail after the last index
 * entry.  index_interval sets the index density for rebuilt entries. */
struct segment *seg_open(const char *dir, int64_t base, int recover, int64_t index_interval,
                         int64_t now_ms, uint64_t *truncated, char *err, size_t errlen);

/* Append len bytes of complete batches (offsets already assigned) at the end
 * of the log and index them.  Returns 0 or -errno (the file is cut back to
 * its previous size on a write error). */
int seg_append(struct segment *s, const uint8_t *data, size_t len, int64_t index_interval);

/* Find the first batch whose last offset >= offset, searching from the
 * offset index.  Returns 1 and fills *b, 0 if no such batch in the segment,
 * -errno on a read error. */
int seg_find_batch(const struct segment *s, int64_t offset, struct seg_batch *b);

/* Read the header of the batch at pos (pos < s->size).  1 / 0 / -errno. */
int seg_batch_at(const struct segment *s, uint64_t pos, struct seg_batch *b);

/* Position of the last offset-index entry whose offset < before_offset and
 * whose position <= max_pos, at or after min_pos; min_pos if none.  Lets a
 * reader jump over batches it knows fit. */
uint64_t seg_index_floor_pos(const struct segment *s, int64_t before_offset, uint64_t min_pos,
                             uint64_t max_pos);

/* Time index: the last offset recorded for the largest timestamp <= ts, or
 * base_offset when none. */
int64_t seg_time_lookup(const struct segment *s, int64_t ts);

int seg_index_full(const struct segment *s, int64_t index_bytes);

/* The segment stops being active: record its final max timestamp in the time
 * index (Kafka's onBecomeInactiveSegment). */
int seg_seal(struct segment *s);

/* Largest timestamp for retention: max_ts, else the log file's mtime. */
int64_t seg_largest_timestamp(const struct segment *s);

/* Rename the three files to *.deleted (they stay open for readers). */
int seg_rename_deleted(struct segment *s);

/* ---- log cleaner support (Kafka's file-suffix swap protocol) ---------- */

/* Create an empty segment whose files carry `suffix` after their extension
 * ("<base>.log.cleaned", ...): the cleaner's output, invisible to
 * recovery as a segment until renamed. */
struct segment *seg_create_suffixed(const char *dir, int64_t base, const char *suffix,
                                    int64_t now_ms, char *err, size_t errlen);

/* Rename the three files from the current suffix to `suffix` (Kafka's
 * changeFileSuffixes).  The index files go first and the .log last, so a
 * "<base>.log<suffix>" on disk implies its indexes were renamed before it.
 * step(ud) (may be NULL) runs after each rename: crash-point tests stop
 * the process there.  Returns 0 or -errno (files renamed so far stay). */
int seg_change_suffix(struct segment *s, const char *suffix, void (*step)(void *ud), void *ud);

/* Same for the rename to *.deleted of a segment being replaced. */
int seg_rename_deleted_steps(struct segment *s, void (*step)(void *ud), void *ud);

/* Close and unlink the files under their current names (a cleaned segment
 * that is not swapped in). */
void seg_discard(struct segment *s);

/* fsync the three files (worker threads only: the loop uses the flusher). */
int seg_fsync(struct segment *s);

/* Set the log file's modification time (Kafka keeps the replaced segments'
 * lastModified on a cleaned segment: retention of compact,delete logs). */
int seg_set_mtime(struct segment *s, int64_t ms);

/* Last modification time of the log file in ms (0 when unknown). */
int64_t seg_mtime(const struct segment *s);
/* ---- aborted-transaction index ---------------------------------------- */

/* Append an entry (memory and file, created if needed).  0 or -errno. */
int seg_txn_append(struct segment *s, const struct txn_aborted *e);
/* Drop every entry (the file is truncated, not removed). */
int seg_txn_reset(struct segment *s);

/* Close files; unlink them too if renamed to .deleted. */
void seg_close(struct segment *s, int unlink_deleted);

#endif
