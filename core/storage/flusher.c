/* fsync worker thread with a mutex/cond job queue; completions are handed
 * back to the loop through ev_async, which is the only libev call that is
 * safe from another thread. */
#include "storage/flusher.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct flush_job {
    struct flush_job *next;
    int fd;
    int err;
    flusher_cb cb;
    void *ud;
};

struct job_list {
    struct flush_job *head, *tail;
};

struct flusher {
    struct ev_loop *loop;
    ev_async async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct job_list todo; /* guarded by mu */
    struct job_list done; /* guarded by mu */
    int stop;             /* guarded by mu */
    int pending;          /* loop thread only */
};

static void list_push(struct job_list *l, struct flush_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void *flusher_main(void *arg)
{
    struct flusher *fl = (struct flusher *)arg;
    pthread_mutex_lock(&fl->mu);
    for (;;) {
        while (!fl->todo.head && !fl->stop)
            pthread_cond_wait(&fl->cond, &fl->mu);
        struct flush_job *j = fl->todo.head;
        if (!j)
            break; /* stop requested and queue drained */
        fl->todo.head = j->next;
        if (!fl->todo.head)
            fl->todo.tail = NULL;
        pthread_mutex_unlock(&fl->mu);

        j->err = fsync(j->fd) == 0 ? 0 : errno;
        close(j->fd);

        pthread_mutex_lock(&fl->mu);
        list_push(&fl->done, j);
        if (!fl->stop)
            ev_async_send(fl->loop, &fl->async);
    }
    pthread_mutex_unlock(&fl->mu);
    return NULL;
}

static void run_completions(struct flusher *fl)
{
    pthread_mutex_lock(&fl->mu);
    struct flush_job *j = fl->done.head;
    fl->done.head = fl->done.tail = NULL;
    pthread_mutex_unlock(&fl->mu);
    while (j) {
        struct flush_job *next = j->next;
        /* The loop stays alive exactly while jobs are in flight. */
        if (--fl->pending == 0)
            ev_unref(fl->loop);
        if (j->cb)
            j->cb(j->ud, j->err);
        free(j);
        j = next;
    }
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    run_completions((struct flusher *)w->data);
}

struct flusher *flusher_new(struct ev_loop *loop)
{
    struct flusher *fl = (struct flusher *)calloc(1, sizeof *fl);
    if (!fl)
        return NULL;
    fl->loop = loop;
    pthread_mutex_init(&fl->mu, NULL);
    pthread_cond_init(&fl->cond, NULL);
    ev_async_init(&fl->async, async_cb);
    fl->async.data = fl;
    ev_async_start(loop, &fl->async);
    /* The watcher alone must not keep ev_run() alive; submit takes a ref
     * while jobs are pending. */
    ev_unref(loop);
    if (pthread_create(&fl->thread, NULL, flusher_main, fl) != 0) {
        ev_ref(loop);
        ev_async_stop(loop, &fl->async);
        pthread_cond_destroy(&fl->cond);
        pthread_mutex_destroy(&fl->mu);
        free(fl);
        return NULL;
    }
    return fl;
}

int flusher_submit(struct flusher *fl, int fd, flusher_cb cb, void *ud)
{
    struct flush_job *j = (struct flush_job *)calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (j->fd < 0) {
        int e = errno;
        free(j);
        return -e;
    }
    j->cb = cb;
    j->ud = ud;
    if (fl->pending++ == 0)
        ev_ref(fl->loop);
    pthread_mutex_lock(&fl->mu);
    list_push(&fl->todo, j);
    pthread_cond_signal(&fl->cond);
    pthread_mutex_unlock(&fl->mu);
    return 0;
}

int flusher_pending(const struct flusher *fl)
{
    return fl->pending;
}

void flusher_free(struct flusher *fl)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->mu);
    fl->stop = 1;
    pthread_cond_signal(&fl->cond);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->thread, NULL);
    /* Callbacks may submit more work (e.g. a checkpoint rename chain); run
     * such jobs synchronously now that the thread is gone. */
    for (;;) {
        run_completions(fl);
        pthread_mutex_lock(&fl->mu);
        struct flush_job *j = fl->todo.head;
        fl->todo.head = fl->todo.tail = NULL;
        pthread_mutex_unlock(&fl->mu);
        if (!j)
            break;
        while (j) {
            struct flush_job *next = j->next;
            j->err = fsync(j->fd) == 0 ? 0 : errno;
            close(j->fd);
            pthread_mutex_lock(&fl->mu);
            list_push(&fl->done, j);
            pthread_mutex_unlock(&fl->mu);
            j = next;
        }
    }
    ev_ref(fl->loop);
    ev_async_stop(fl->loop, &fl->async);
    pthread_cond_destroy(&fl->cond);
    pthread_mutex_destroy(&fl->mu);
    free(fl);
}
