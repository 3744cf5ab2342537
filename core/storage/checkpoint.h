/* Small state files replaced atomically (leader-epoch-checkpoint,
 * log-start-offset, recovery-point-offset): write "<name>.tmp.<seq>", fsync
 * it, rename over <name>, fsync the directory.
 *
 * With a flusher the fsyncs run on its thread and the rename happens in the
 * completion callback on the loop thread; writes complete in order, and a
 * completion whose content was superseded by a newer rename just removes its
 * temporary file.  The object is reference counted so jobs still queued when
 * the owner goes away remain safe. */
#ifndef SLUICE_CHECKPOINT_H
#define SLUICE_CHECKPOINT_H

#include <stddef.h>

struct flusher;
struct ckpt_file;

struct ckpt_file *ckpt_new(const char *dir, const char *name);

/* durable=0 skips the fsyncs (still atomic through rename); used for hints
 * whose loss only costs work (recovery point).  fl == NULL: synchronous.
 * Returns 0 or -errno for the part done before returning. */
int ckpt_write(struct ckpt_file *c, struct flusher *fl, const char *content, size_t len,
               int durable);

/* Writes still queued on the flusher hold a reference: true until they
 * have completed. */
int ckpt_busy(const struct ckpt_file *c);

/* Drop the owner's reference. */
void ckpt_release(struct ckpt_file *c);

/* Read a whole small file into a NUL-terminated malloc'd string, NULL if
 * missing. */
char *ckpt_read(const char *dir, const char *name);

/* fsync a directory synchronously (startup/shutdown paths only). */
int ckpt_fsync_dir(const char *dir);

#endif
