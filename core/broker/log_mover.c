/* AlterReplicaLogDirs moves on a worker thread; see log_mover.h.
 *
 * Threading: a move is owned by the loop thread except while it sits in the
 * worker's queue or runs there (between submit() and its completion, which
 * runs back on the loop via ev_async).  The worker touches only the move's
 * own fields, the files, and — during a switch — the partition log the loop
 * handed over after it went idle (no flush or checkpoint write in flight,
 * no I/O error callback).
 *
 * Log cleaning is paused for the whole move (log_cleaner_pause): the copy
 * reads segment files by name, which a cleaner swap would replace under
 * it.  For the switch the cleaner lets go of the log (detach) and takes the
 * reopened one back (reattach), moving the partition's position to the
 * destination's cleaner-offset-checkpoint; it resumes when the move ends. */
#include "broker/log_mover.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/log_dirs.h"
#include "storage/dir_util.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"

enum job_kind { JOB_COPY, JOB_SWITCH, JOB_DISCARD };
enum move_state { MV_COPYING, MV_HANDOFF, MV_SWITCHING, MV_DISCARDING };

struct move {
    struct move *next;  /* m->moves, loop thread */
    struct move *qnext; /* worker queues */
    struct log_mover *m;
    char *topic;
    struct meta_uuid topic_id;
    int32_t partition;
    int src, dest;
    char src_path[PATH_MAX], future_path[PATH_MAX], final_path[PATH_MAX], delete_path[PATH_MAX];
    enum job_kind kind;
    enum move_state state;
    int64_t *bases; /* sealed segments at the start, copied while serving */
    size_t nbases;
    int64_t active_base;
    struct partition_log *pl; /* switch: in the log to close, out the log to serve */
    struct plog_config cfg;
    struct flusher *fl;
    int64_t now_ms;
    int redirect;   /* next destination requested meanwhile, or -1 */
    bool orphan;    /* the topic went away during the switch */
    bool deleted;   /* ... and its data is to be deleted */
    int cancel;     /* atomic: abandon the copy */
    int64_t copied; /* atomic: bytes in the future directory */
    int64_t future_leo; /* atomic */
    int err, err_dir;
    char what[128];
    bool switched;
    bool via_worker; /* queued to the thread: holds a loop reference */
    ev_timer wait;
};

struct log_mover {
    struct broker *b;
    struct move *moves;
    pthread_t thread;
    bool thread_ok, stopping;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct move *todo_h, *todo_t, *done_h, *done_t; /* guarded by mu */
    int stop;                                        /* guarded by mu */
    int pending;                                     /* loop thread */
    ev_async async;
};

static const char *exts[3] = { ".log", ".index", ".timeindex" };

/* ---- worker ------------------------------------------------------------ */

static void set_err(struct move *mv, int err, int dir, const char *what)
{
    if (mv->err)
        return;
    mv->err = err < 0 ? -err : err;
    mv->err_dir = dir;
    snprintf(mv->what, sizeof mv->what, "%s", what);
}

/* Copy the segments that were sealed when the move started. */
static void run_copy(struct move *mv)
{
    if (mkdir(mv->future_path, 0755) != 0 && errno != EEXIST) {
        set_err(mv, errno, mv->dest, "creating the future log of");
        return;
    }
    for (size_t i = 0; i < mv->nbases; i++) {
        if (__atomic_load_n(&mv->cancel, __ATOMIC_RELAXED))
            return;
        bool gone = false;
        for (int k = 0; k < 3 && !gone; k++) {
            char s[PATH_MAX + 32], d[PATH_MAX + 32];
            snprintf(s, sizeof s, "%s/%020" PRId64 "%s", mv->src_path, mv->bases[i], exts[k]);
            snprintf(d, sizeof d, "%s/%020" PRId64 "%s", mv->future_path, mv->bases[i], exts[k]);
            int on_dst;
            int rc = du_copy_file(s, d, &mv->copied, &on_dst);
            if (rc == -ENOENT && !on_dst) {
                /* Deleted by retention meanwhile (an index is only a
                 * cache: without one the log file still counts). */
                gone = k == 0;
                continue;
            }
            if (rc) {
                set_err(mv, rc, on_dst ? mv->dest : mv->src, "copying a segment of");
                return;
            }
        }
        __atomic_store_n(&mv->future_leo,
                         i + 1 < mv->nbases ? mv->bases[i + 1] : mv->active_base, __ATOMIC_RELAXED);
    }
    int rc = du_fsync_dir(mv->future_path);
    if (rc)
        set_err(mv, rc, mv->dest, "syncing the future log of");
}

static bool copied_in_phase1(const struct move *mv, const char *name)
{
    for (size_t i = 0; i < mv->nbases; i++)
        for (int k = 0; k < 3; k++) {
            char n[64];
            snprintf(n, sizeof n, "%020" PRId64 "%s", mv->bases[i], exts[k]);
            if (strcmp(n, name) == 0)
                return true;
        }
    return false;
}

static bool skip_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' ? strcmp(name, ".clean-shutdown") != 0
                          : (n > 8 && strcmp(name + n - 8, ".deleted") == 0) ||
                                strstr(name, ".tmp.") != NULL;
}

/* Make the future directory hold exactly the closed source's files. */
static int sync_rest(struct move *mv)
{
    DIR *d = opendir(mv->future_path);
    if (!d) {
        set_err(mv, errno, mv->dest, "listing the future log of");
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char s[PATH_MAX + 256];
        struct stat st;
        snprintf(s, sizeof s, "%s/%s", mv->src_path, e->d_name);
        if (stat(s, &st) != 0) { /* retention removed it meanwhile */
            snprintf(s, sizeof s, "%s/%s", mv->future_path, e->d_name);
            unlink(s);
        }
    }
    closedir(d);
    if (!(d = opendir(mv->src_path))) {
        set_err(mv, errno, mv->src, "listing");
        return -1;
    }
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || skip_name(e->d_name) ||
            copied_in_phase1(mv, e->d_name))
            continue;
        char s[PATH_MAX + 256], t[PATH_MAX + 256];
        snprintf(s, sizeof s, "%s/%s", mv->src_path, e->d_name);
        snprintf(t, sizeof t, "%s/%s", mv->future_path, e->d_name);
        int on_dst;
        rc = du_copy_file(s, t, &mv->copied, &on_dst);
        if (rc == -ENOENT && !on_dst)
            rc = 0;
        if (rc)
            set_err(mv, rc, on_dst ? mv->dest : mv->src, "copying");
    }
    closedir(d);
    if (!rc && (rc = du_fsync_dir(mv->future_path)) != 0)
        set_err(mv, rc, mv->dest, "syncing the future log of");
    return rc ? -1 : 0;
}

static void reopen_source(struct move *mv)
{
    char err[256];
    mv->pl = plog_open(mv->src_path, &mv->cfg, mv->fl, mv->now_ms, err, sizeof err);
    if (!mv->pl)
        set_err(mv, EIO, mv->src, "reopening");
}

static void run_switch(struct move *mv)
{
    plog_close(mv->pl);
    mv->pl = NULL;
    if (sync_rest(mv) != 0) {
        du_remove_tree(mv->future_path);
        reopen_source(mv);
        return;
    }
    if (rename(mv->src_path, mv->delete_path) != 0) {
        set_err(mv, errno, mv->src, "renaming the source log of");
        du_remove_tree(mv->future_path);
        reopen_source(mv);
        return;
    }
    du_fsync_parent(mv->src_path);
    if (rename(mv->future_path, mv->final_path) != 0) {
        set_err(mv, errno, mv->dest, "renaming the future log of");
        if (rename(mv->delete_path, mv->src_path) == 0)
            du_fsync_parent(mv->src_path);
        du_remove_tree(mv->future_path);
        reopen_source(mv);
        return;
    }
    int rc = du_fsync_parent(mv->final_path);
    if (rc)
        set_err(mv, rc, mv->dest, "syncing the new log directory of");
    mv->switched = true;
    du_remove_tree(mv->delete_path);
    char err[256];
    mv->pl = plog_open(mv->final_path, &mv->cfg, mv->fl, mv->now_ms, err, sizeof err);
    if (!mv->pl)
        set_err(mv, EIO, mv->dest, "opening the moved log of");
}

static void run_job(struct move *mv)
{
    switch (mv->kind) {
    case JOB_COPY: run_copy(mv); break;
    case JOB_SWITCH: run_switch(mv); break;
    case JOB_DISCARD: du_remove_tree(mv->future_path); break;
    }
}

static void *worker_main(void *arg)
{
    struct log_mover *m = arg;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->todo_h && !m->stop)
            pthread_cond_wait(&m->cond, &m->mu);
        struct move *mv = m->todo_h;
        if (!mv)
            break;
        m->todo_h = mv->qnext;
        if (!m->todo_h)
            m->todo_t = NULL;
        pthread_mutex_unlock(&m->mu);
        run_job(mv);
        pthread_mutex_lock(&m->mu);
        mv->qnext = NULL;
        if (m->done_t)
            m->done_t->qnext = mv;
        else
            m->done_h = mv;
        m->done_t = mv;
        if (!m->stop)
            ev_async_send(m->b->loop, &m->async);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- loop side ------------------------------------------------------- */

static void submit(struct log_mover *m, struct move *mv, enum job_kind kind)
{
    mv->kind = kind;
    if (!m->thread_ok) { /* shutting down: do it here */
        run_job(mv);
        pthread_mutex_lock(&m->mu);
    } else {
        if (m->pending++ == 0)
            ev_ref(m->b->loop);
        mv->via_worker = true;
        pthread_mutex_lock(&m->mu);
        mv->qnext = NULL;
        if (m->todo_t)
            m->todo_t->qnext = mv;
        else
            m->todo_h = mv;
        m->todo_t = mv;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->mu);
        return;
    }
    mv->qnext = NULL;
    if (m->done_t)
        m->done_t->qnext = mv;
    else
        m->done_h = mv;
    m->done_t = mv;
    pthread_mutex_unlock(&m->mu);
}

static struct move *find(const struct log_mover *m, const char *topic, int32_t p)
{
    for (struct move *mv = m->moves; mv; mv = mv->next)
        if (mv->partition == p && strcmp(mv->topic, topic) == 0)
            return mv;
    return NULL;
}

static struct broker_topic *topic_of(struct log_mover *m, const struct move *mv)
{
    struct broker_topic *t = broker_topic(m->b, mv->topic);
    if (!t || memcmp(t->id.b, mv->topic_id.b, 16) != 0 || mv->partition >= t->nparts)
        return NULL;
    return t;
}

static void unlink_move(struct log_mover *m, struct move *mv)
{
    for (struct move **pp = &m->moves; *pp; pp = &(*pp)->next)
        if (*pp == mv) {
            *pp = mv->next;
            break;
        }
    ev_timer_stop(m->b->loop, &mv->wait);
    free(mv->bases);
    free(mv->topic);
    free(mv);
}

static void handoff_cb(struct ev_loop *loop, ev_timer *w, int revents);

static int16_t start_move(struct log_mover *m, struct broker_topic *t, int32_t p, int dest)
{
    struct broker *b = m->b;
    struct partition_log *pl = t->logs[p];
    struct move *mv = calloc(1, sizeof *mv);
    int n = plog_segment_count(pl);
    if (!mv || !(mv->topic = strdup(t->name)) ||
        !(mv->bases = calloc((size_t)(n > 1 ? n - 1 : 1), sizeof *mv->bases))) {
        if (mv)
            free(mv->topic);
        free(mv);
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    mv->m = m;
    mv->topic_id = t->id;
    mv->partition = p;
    mv->src = t->replicas[p].dir;
    mv->dest = dest;
    mv->redirect = -1;
    mv->err_dir = -1;
    mv->fl = b->flusher;
    snprintf(mv->src_path, sizeof mv->src_path, "%s", plog_dir(pl));
    snprintf(mv->final_path, sizeof mv->final_path, "%s/%s-%d", b->dirs->v[dest].path, t->name, p);
    du_unique_name(mv->future_path, sizeof mv->future_path, mv->final_path, "-future");
    du_unique_name(mv->delete_path, sizeof mv->delete_path, mv->src_path, "-delete");
    for (int i = 0; i + 1 < n; i++)
        mv->bases[mv->nbases++] = plog_segment_base(pl, i);
    mv->active_base = plog_segment_base(pl, n - 1);
    mv->future_leo = n > 1 ? mv->bases[0] : mv->active_base;
    ev_timer_init(&mv->wait, handoff_cb, 0.005, 0.005);
    mv->wait.data = mv;
    mv->state = MV_COPYING;
    mv->next = m->moves;
    m->moves = mv;
    log_cleaner_pause(b->cleaner, pl);
    slog(b->log, SLOG_INFO, "log-mover", "moving %s-%d from %s to %s", t->name, p,
         b->dirs->v[mv->src].abs, b->dirs->v[dest].abs);
    submit(m, mv, JOB_COPY);
    return KP_ERR_NONE;
}

/* After a move ends: a redirect asked for meanwhile starts from where the
 * partition is now. */
static void finish(struct log_mover *m, struct move *mv)
{
    int next = mv->redirect;
    struct broker_topic *t = topic_of(m, mv);
    int32_t p = mv->partition;
    unlink_move(m, mv);
    if (t && t->logs[p])
        log_cleaner_resume(m->b->cleaner, t->logs[p]);
    if (next >= 0 && t && !m->stopping && t->logs[p] && t->replicas[p].dir != next &&
        !m->b->dirs->v[next].offline)
        start_move(m, t, p, next);
}

static void discard(struct log_mover *m, struct move *mv)
{
    mv->state = MV_DISCARDING;
    submit(m, mv, JOB_DISCARD);
}

static void handoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct move *mv = w->data;
    if (plog_busy(mv->pl))
        return;
    ev_timer_stop(mv->m->b->loop, w);
    struct broker_topic *t = topic_of(mv->m, mv);
    if (!t) { /* unreachable: log_mover_forget_topic gives the log back first */
        log_cleaner_remove(mv->m->b->cleaner, mv->pl, false);
        plog_abandon(mv->pl);
        mv->pl = NULL;
        discard(mv->m, mv);
        return;
    }
    broker_topic_plog_config(t, &mv->cfg);
    mv->now_ms = broker_now_ms(mv->m->b);
    /* The worker closes this log: the cleaner must not keep its pointer. */
    log_cleaner_detach(mv->m->b->cleaner, mv->pl);
    mv->state = MV_SWITCHING;
    submit(mv->m, mv, JOB_SWITCH);
}

static void copy_done(struct log_mover *m, struct move *mv)
{
    struct broker *b = m->b;
    struct broker_topic *t = topic_of(m, mv);
    int32_t p = mv->partition;
    if (mv->err) {
        char tp[300];
        snprintf(tp, sizeof tp, "%s-%d", mv->topic, p);
        log_dirs_report_failure(b, mv->err_dir, mv->err, mv->what, tp);
    }
    if (mv->err || __atomic_load_n(&mv->cancel, __ATOMIC_RELAXED) || m->stopping || !t ||
        !t->logs[p] || t->replicas[p].dir != mv->src || b->dirs->v[mv->dest].offline) {
        discard(m, mv);
        return;
    }
    /* The switch: the partition goes offline (retriable) until the log is
     * back, and waits for its in-flight flushes before the worker takes it. */
    mv->pl = t->logs[p];
    t->logs[p] = NULL;
    t->replicas[p].moving = true;
    plog_set_io_error_cb(mv->pl, NULL, NULL);
    mv->state = MV_HANDOFF;
    ev_timer_start(b->loop, &mv->wait);
    handoff_cb(b->loop, &mv->wait, 0);
}

static void switch_done(struct log_mover *m, struct move *mv)
{
    struct broker *b = m->b;
    struct broker_topic *t = mv->orphan ? NULL : topic_of(m, mv);
    int32_t p = mv->partition;
    int dir = mv->switched ? mv->dest : mv->src;
    char tp[300];
    snprintf(tp, sizeof tp, "%s-%d", mv->topic, p);
    if (mv->err)
        log_dirs_report_failure(b, mv->err_dir, mv->err, mv->what, tp);
    if (!t) {
        log_cleaner_reattach(b->cleaner, mv->topic, p, NULL, mv->deleted);
        if (mv->pl && mv->deleted)
            plog_delete(mv->pl);
        else if (mv->pl)
            plog_close(mv->pl); /* shutdown path only: the loop is stopping */
        unlink_move(m, mv);
        return;
    }
    t->replicas[p].moving = false;
    t->replicas[p].dir = (int16_t)dir;
    if (mv->pl && b->dirs->v[dir].offline) {
        plog_abandon(mv->pl);
        mv->pl = NULL;
    }
    log_cleaner_reattach(b->cleaner, mv->topic, p, mv->pl, false);
    t->logs[p] = mv->pl;
    if (mv->pl) {
        struct plog_config pc;
        broker_topic_plog_config(t, &pc);
        plog_set_config(mv->pl, &pc);
        plog_set_io_error_cb(mv->pl, log_dirs_io_error, b);
    }
    if (mv->switched)
        slog(b->log, SLOG_INFO, "log-mover", "moved %s from %s to %s (%lld bytes copied)", tp,
             b->dirs->v[mv->src].abs, b->dirs->v[mv->dest].abs, (long long)mv->copied);
    broker_fetch_wake(b);
    finish(m, mv);
}

static void run_completions(struct log_mover *m)
{
    pthread_mutex_lock(&m->mu);
    struct move *mv = m->done_h;
    m->done_h = m->done_t = NULL;
    pthread_mutex_unlock(&m->mu);
    while (mv) {
        struct move *next = mv->qnext;
        if (mv->via_worker) {
            /* The loop stays alive exactly while jobs are at the worker. */
            mv->via_worker = false;
            if (m->pending > 0 && --m->pending == 0)
                ev_unref(m->b->loop);
        }
        switch (mv->kind) {
        case JOB_COPY: copy_done(m, mv); break;
        case JOB_SWITCH: switch_done(m, mv); break;
        case JOB_DISCARD: finish(m, mv); break;
        }
        mv = next;
    }
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    run_completions(w->data);
}

struct log_mover *log_mover_new(struct broker *b)
{
    struct log_mover *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->b = b;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cond, NULL);
    ev_async_init(&m->async, async_cb);
    m->async.data = m;
    ev_async_start(b->loop, &m->async);
    ev_unref(b->loop);
    m->thread_ok = pthread_create(&m->thread, NULL, worker_main, m) == 0;
    return m;
}

void log_mover_free(struct log_mover *m)
{
    if (!m)
        return;
    m->stopping = true;
    for (struct move *mv = m->moves; mv; mv = mv->next) {
        __atomic_store_n(&mv->cancel, 1, __ATOMIC_RELAXED);
        mv->redirect = -1;
        if (mv->state == MV_HANDOFF) {
            /* Not handed over yet: the topic closes it as usual. */
            ev_timer_stop(m->b->loop, &mv->wait);
            struct broker_topic *t = topic_of(m, mv);
            if (t) {
                t->logs[mv->partition] = mv->pl;
                t->replicas[mv->partition].moving = false;
                plog_set_io_error_cb(mv->pl, log_dirs_io_error, m->b);
            } else {
                log_cleaner_remove(m->b->cleaner, mv->pl, false);
                plog_close(mv->pl);
            }
            mv->pl = NULL;
            mv->state = MV_DISCARDING;
            submit(m, mv, JOB_DISCARD);
        }
    }
    if (m->thread_ok) {
        pthread_mutex_lock(&m->mu);
        m->stop = 1;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->thread, NULL);
        m->thread_ok = false;
    }
    /* Jobs the worker did not start run here now; completions may queue
     * discards, which then also run here. */
    for (;;) {
        pthread_mutex_lock(&m->mu);
        struct move *todo = m->todo_h;
        m->todo_h = m->todo_t = NULL;
        pthread_mutex_unlock(&m->mu);
        for (struct move *mv = todo, *next; mv; mv = next) {
            next = mv->qnext;
            run_job(mv);
            pthread_mutex_lock(&m->mu);
            mv->qnext = NULL;
            if (m->done_t)
                m->done_t->qnext = mv;
            else
                m->done_h = mv;
            m->done_t = mv;
            pthread_mutex_unlock(&m->mu);
        }
        pthread_mutex_lock(&m->mu);
        bool more = m->done_h != NULL;
        pthread_mutex_unlock(&m->mu);
        if (!more)
            break;
        run_completions(m);
    }
    while (m->moves)
        unlink_move(m, m->moves);
    if (m->pending > 0)
        ev_unref(m->b->loop); /* the reference taken for jobs now gone */
    m->pending = 0;
    ev_ref(m->b->loop);
    ev_async_stop(m->b->loop, &m->async);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int16_t log_mover_request(struct log_mover *m, struct broker_topic *t, int32_t p, int dest)
{
    struct move *mv = find(m, t->name, p);
    if (mv && mv->state != MV_DISCARDING) {
        if (mv->dest == dest && mv->redirect < 0)
            return KP_ERR_NONE;
        /* Kafka drops the future replica when the destination changes. */
        mv->redirect = dest == mv->dest ? -1 : dest;
        if (mv->state == MV_COPYING && mv->redirect >= 0)
            __atomic_store_n(&mv->cancel, 1, __ATOMIC_RELAXED);
        return KP_ERR_NONE;
    }
    if (mv) { /* being discarded: start over from the current directory */
        mv->redirect = dest;
        return KP_ERR_NONE;
    }
    if (t->replicas[p].moving)
        return KP_ERR_NONE;
    if (!t->logs[p])
        return KP_ERR_KAFKA_STORAGE_ERROR;
    if (t->replicas[p].dir == dest)
        return KP_ERR_NONE;
    return start_move(m, t, p, dest);
}

bool log_mover_future(const struct log_mover *m, const struct broker_topic *t, int32_t p,
                      int *dir, int64_t *size, int64_t *leo)
{
    const struct move *mv = m ? find(m, t->name, p) : NULL;
    if (!mv || mv->state == MV_DISCARDING || __atomic_load_n(&mv->cancel, __ATOMIC_RELAXED))
        return false;
    *dir = mv->dest;
    *size = __atomic_load_n(&mv->copied, __ATOMIC_RELAXED);
    *leo = __atomic_load_n(&mv->future_leo, __ATOMIC_RELAXED);
    return true;
}

void log_mover_count_futures(const struct log_mover *m, size_t *count, size_t n)
{
    for (const struct move *mv = m ? m->moves : NULL; mv; mv = mv->next)
        if (mv->state != MV_DISCARDING && mv->dest >= 0 && (size_t)mv->dest < n)
            count[mv->dest]++;
}

void log_mover_dir_failed(struct log_mover *m, int dir)
{
    for (struct move *mv = m ? m->moves : NULL; mv; mv = mv->next) {
        if (mv->src != dir && mv->dest != dir)
            continue;
        mv->redirect = -1;
        __atomic_store_n(&mv->cancel, 1, __ATOMIC_RELAXED);
        if (mv->state != MV_HANDOFF)
            continue; /* a copy stops at its next file; a switch finishes */
        ev_timer_stop(m->b->loop, &mv->wait);
        struct broker_topic *t = topic_of(m, mv);
        if (t) {
            t->replicas[mv->partition].moving = false;
            if (mv->src == dir) {
                log_cleaner_remove(m->b->cleaner, mv->pl, false);
                plog_abandon(mv->pl);
            } else {
                t->logs[mv->partition] = mv->pl;
                plog_set_io_error_cb(mv->pl, log_dirs_io_error, m->b);
            }
        } else {
            log_cleaner_remove(m->b->cleaner, mv->pl, false);
            plog_abandon(mv->pl);
        }
        mv->pl = NULL;
        discard(m, mv);
    }
}

void log_mover_forget_topic(struct log_mover *m, struct broker_topic *t, bool delete_data)
{
    for (struct move *mv = m ? m->moves : NULL; mv; mv = mv->next) {
        if (strcmp(mv->topic, t->name) != 0 || memcmp(mv->topic_id.b, t->id.b, 16) != 0)
            continue;
        mv->redirect = -1;
        __atomic_store_n(&mv->cancel, 1, __ATOMIC_RELAXED);
        if (mv->state == MV_HANDOFF) {
            /* Give the log back so the topic closes or deletes it. */
            ev_timer_stop(m->b->loop, &mv->wait);
            t->logs[mv->partition] = mv->pl;
            t->replicas[mv->partition].moving = false;
            mv->pl = NULL;
            discard(m, mv);
        } else if (mv->state == MV_SWITCHING) {
            mv->orphan = true;
            mv->deleted = delete_data;
        }
    }
}

bool log_mover_has_topic(const struct log_mover *m, const char *topic)
{
    for (const struct move *mv = m ? m->moves : NULL; mv; mv = mv->next)
        if (strcmp(mv->topic, topic) == 0 && (mv->state == MV_SWITCHING || mv->orphan))
            return true;
    return false;
}
