/* Whole-directory and whole-file helpers for moving partition directories
 * between log directories.  They block on the disk: call them at start-up
 * or from a worker thread, never from the event loop. */
#ifndef SLUICE_DIR_UTIL_H
#define SLUICE_DIR_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "<base>.<32 hex digits><suffix>", Kafka's name for a partition directory
 * being created ("-future") or deleted ("-delete"). */
void du_unique_name(char *out, size_t len, const char *base, const char *suffix);

/* Remove a partition directory and the files in it.  0 or -errno. */
int du_remove_tree(const char *dir);

/* Copy src to dst (created or truncated) and fsync dst.  *copied, when
 * not NULL, grows atomically as bytes land (progress for other threads).
 * 0, -ENOENT when src does not exist, or -errno; *failed_dst tells whether
 * the error was on the destination side. */
int du_copy_file(const char *src, const char *dst, int64_t *copied, int *failed_dst);

/* fsync a directory.  0 or -errno. */
int du_fsync_dir(const char *dir);

/* fsync the directory containing path.  0 or -errno. */
int du_fsync_parent(const char *path);

#endif
