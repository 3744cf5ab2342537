/* The fsync thread.  The event loop must never block on the disk beyond a
 * page-cache write, so every fsync goes through here: the loop submits a
 * file descriptor, a background thread fsyncs it, and the completion
 * callback runs back on the loop thread (via an ev_async watcher).
 *
 * One flusher per event loop.  Jobs complete in submission order. */
#ifndef SLUICE_FLUSHER_H
#define SLUICE_FLUSHER_H

struct ev_loop;
struct flusher;

/* err is 0 or an errno value from fsync. */
typedef void (*flusher_cb)(void *ud, int err);

struct flusher *flusher_new(struct ev_loop *loop);

/* Queue an fsync of fd.  The fd is dup'd here, so the caller may close its
 * own descriptor (e.g. a deleted segment) before the job runs.  cb (may be
 * NULL) runs later on the loop thread.  Returns 0 or -errno (then cb is not
 * called). */
int flusher_submit(struct flusher *fl, int fd, flusher_cb cb, void *ud);

/* Jobs submitted and not yet reported to their callback. */
int flusher_pending(const struct flusher *fl);

/* Finish every queued job, run the remaining callbacks on the calling (loop)
 * thread, stop the thread and free.  NULL is a no-op. */
void flusher_free(struct flusher *fl);

#endif
