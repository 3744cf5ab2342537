/* The log cleaner's threads, scheduling, swaps and checkpoints; see
 * log_cleaner.h. */
#include "storage/log_cleaner.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/checkpoint.h"
#include "storage/cleaner.h"
#include "storage/offset_map.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "util/logger.h"

#define CHECKPOINT_FILE "cleaner-offset-checkpoint"
#define COMPONENT "log-cleaner"

/* ---- state ------------------------------------------------------------- */

struct lc_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
};

/* One log dir's checkpoint file. */
struct lc_dir {
    struct lc_dir *next;
    char *path;
    bool offline; /* log_cleaner_dir_failed: never written again */
    struct ckpt_file *ck;
    struct lc_entry *loaded; /* as read at start-up */
    size_t nloaded;
};

struct lc_job;

struct lc_log {
    struct lc_log *next;
    struct partition_log *pl; /* NULL while detached (a log dir switch) */
    char *topic;
    int32_t partition;
    struct lc_dir *dir;
    int64_t checkpoint; /* first dirty offset recorded, -1 none */
    bool uncleanable;   /* a cleaning failed: skipped until restart or reconfig */
    bool paused;        /* log_cleaner_pause: never scheduled */
    struct lc_job *job;
};

/* An active producer's last data offset (-1: its last entry is a marker)
 * and epoch: Kafka's lastRecordsOfActiveProducers. */
struct lc_producer {
    int64_t producer_id, last_data_offset;
    int16_t epoch;
};

struct lc_job {
    struct lc_job *next; /* in the todo queue */
    struct log_cleaner *lc;
    struct lc_log *log;  /* loop thread only; NULL once the log went away */
    char name[300];      /* "topic-partition" */
    char *dir;
    struct cleaner_segment *segs;
    size_t nsegs;
    struct cleaner_params p;
    atomic_int abort;
    int worker_done;     /* guarded by lc->mu */
    int worker_id;
    int rc;
    int64_t end_offset;
    struct cleaner_stats st;
    char err[256];
    double seconds;
    struct lc_msg *done_msg; /* allocated up front so finishing cannot fail */
    /* Taken on the loop thread for the worker: the aborted transactions of
     * the range and the active producers (sorted by id). */
    struct cleaner_aborted_txn *aborted;
    struct lc_producer *producers;
    size_t nproducers;
};

enum { MSG_SWAP, MSG_DONE };

struct lc_msg {
    struct lc_msg *next;
    int type;
    struct lc_job *job;
    struct segment *cleaned;
    int64_t *bases;
    size_t n;
};

struct lc_worker {
    struct log_cleaner *lc;
    pthread_t thread;
    int id;
    struct offset_map *map;
    size_t io_buffer;
    bool started;
};

struct log_cleaner {
    struct ev_loop *loop;
    struct flusher *fl;
    struct sluice_logger *log;
    struct log_cleaner_config cfg;
    rb_decompress_fn dec;
    rb_compress_fn comp;
    void *codec_ctx;
    ev_timer tick;
    ev_async async;

    pthread_mutex_t mu;
    pthread_cond_t work_cond; /* todo queue non-empty / stop */
    pthread_cond_t wake_cond; /* throttled sleepers: abort / stop */
    pthread_cond_t done_cond; /* a job's worker finished */
    struct lc_job *todo_head, *todo_tail; /* mu */
    struct lc_msg *msg_head, *msg_tail;   /* mu */
    atomic_int stop;

    struct lc_worker *workers;
    int nworkers;
    bool restart_pending; /* thread count/buffers changed: restart when idle */
    int running;          /* jobs dispatched, DONE not handled yet */

    struct lc_log *logs;
    struct lc_dir *dirs;

    /* Kafka's Throttler, shared by all threads. */
    pthread_mutex_t tmu;
    double rate;
    int64_t period_start_ns;
    double observed;

    struct log_cleaner_stats stats;
};

void log_cleaner_config_default(struct log_cleaner_config *c)
{
    c->enable = true;
    c->threads = 1;
    c->dedupe_buffer_size = 134217728;
    c->io_buffer_size = 524288;
    c->io_buffer_load_factor = 0.9;
    c->io_max_bytes_per_second = DBL_MAX;
    c->backoff_ms = 15000;
    c->test_pause_step = 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- checkpoint file -------------------------------------------------- */

static void load_entry(void *ud, const char *topic, size_t tlen, int32_t partition, int64_t offset)
{
    struct lc_dir *d = (struct lc_dir *)ud;
    struct lc_entry *n = (struct lc_entry *)realloc(d->loaded, (d->nloaded + 1) * sizeof *n);
    if (!n)
        return;
    d->loaded = n;
    char *t = strndup(topic, tlen);
    if (!t)
        return;
    d->loaded[d->nloaded].topic = t;
    d->loaded[d->nloaded].partition = partition;
    d->loaded[d->nloaded].offset = offset;
    d->nloaded++;
}

static struct lc_dir *get_dir(struct log_cleaner *lc, const char *log_dir)
{
    const char *slash = strrchr(log_dir, '/');
    char path[4096];
    if (!slash)
        snprintf(path, sizeof path, ".");
    else if (slash == log_dir)
        snprintf(path, sizeof path, "/");
    else
        snprintf(path, sizeof path, "%.*s", (int)(slash - log_dir), log_dir);
    for (struct lc_dir *d = lc->dirs; d; d = d->next)
        if (strcmp(d->path, path) == 0)
            return d;
    struct lc_dir *d = (struct lc_dir *)calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path)) || !(d->ck = ckpt_new(path, CHECKPOINT_FILE))) {
        if (d)
            free(d->path);
        free(d);
        return NULL;
    }
    char *text = ckpt_read(path, CHECKPOINT_FILE);
    if (text && log_cleaner_checkpoint_parse(text, strlen(text), load_entry, d) < 0) {
        slog(lc->log, SLOG_WARN, COMPONENT, "%s/%s is malformed: every compacted log there is "
             "cleaned from its start", path, CHECKPOINT_FILE);
        for (size_t i = 0; i < d->nloaded; i++)
            free(d->loaded[i].topic);
        d->nloaded = 0;
    }
    free(text);
    d->next = lc->dirs;
    lc->dirs = d;
    return d;
}

/* Kafka's updateCheckpoints: every known log of the dir with a position. */
static void write_checkpoint(struct log_cleaner *lc, struct lc_dir *d)
{
    if (d->offline)
        return;
    size_t n = 0, cap = 64;
    for (struct lc_log *l = lc->logs; l; l = l->next)
        if (l->dir == d && l->checkpoint >= 0) {
            n++;
            cap += strlen(l->topic) + 48;
        }
    char *buf = (char *)malloc(cap);
    if (!buf)
        return;
    size_t len = (size_t)snprintf(buf, cap, "0\n%zu\n", n);
    for (struct lc_log *l = lc->logs; l; l = l->next)
        if (l->dir == d && l->checkpoint >= 0)
            len += (size_t)snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n", l->topic,
                                    l->partition, l->checkpoint);
    int rc = ckpt_write(d->ck, lc->fl, buf, len, 1);
    if (rc)
        slog(lc->log, SLOG_WARN, COMPONENT, "cannot write %s/%s: %s", d->path, CHECKPOINT_FILE,
             strerror(-rc));
    free(buf);
}

/* ---- throttling (Kafka's Throttler) ------------------------------------ */

/* Sleep until deadline unless the job is aborted or the cleaner stops. */
static void sleep_interruptible(struct log_cleaner *lc, struct lc_job *job, int64_t ns)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ns / 1000000000;
    dl.tv_nsec += ns % 1000000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&lc->mu);
    while (!atomic_load(&job->abort) && !atomic_load(&lc->stop))
        if (pthread_cond_timedwait(&lc->wake_cond, &lc->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&lc->mu);
}

static void job_throttle(void *ud, size_t bytes)
{
    struct lc_job *job = (struct lc_job *)ud;
    struct log_cleaner *lc = job->lc;
    int64_t sleep_ns = 0;
    pthread_mutex_lock(&lc->tmu);
    if (lc->rate > 0 && lc->rate < DBL_MAX / 2) {
        int64_t now = mono_ns();
        lc->observed += (double)bytes;
        int64_t elapsed = now - lc->period_start_ns;
        /* Checked every 300 ms, as Kafka does. */
        if (elapsed > 300000000 && lc->observed > 0) {
            double rate = lc->observed * 1e9 / (double)elapsed;
            if (rate > lc->rate)
                sleep_ns = (int64_t)(lc->observed / lc->rate * 1e9) - elapsed;
            /* The next period starts when this sleep ends, so bytes other
             * threads move meanwhile count against it. */
            lc->period_start_ns = now + (sleep_ns > 0 ? sleep_ns : 0);
            lc->observed = 0;
        }
    }
    pthread_mutex_unlock(&lc->tmu);
    if (sleep_ns > 0)
        sleep_interruptible(lc, job, sleep_ns);
}

/* ---- worker threads ----------------------------------------------------- */

static void post(struct log_cleaner *lc, struct lc_msg *m)
{
    m->next = NULL;
    pthread_mutex_lock(&lc->mu);
    if (lc->msg_tail)
        lc->msg_tail->next = m;
    else
        lc->msg_head = m;
    lc->msg_tail = m;
    pthread_mutex_unlock(&lc->mu);
    ev_async_send(lc->loop, &lc->async);
}

static int job_should_abort(void *ud)
{
    struct lc_job *job = (struct lc_job *)ud;
    return atomic_load(&job->abort) || atomic_load(&job->lc->stop);
}

static int job_swap(void *ud, struct segment *cleaned, const int64_t *bases, size_t n)
{
    struct lc_job *job = (struct lc_job *)ud;
    struct lc_msg *m = (struct lc_msg *)calloc(1, sizeof *m);
    int64_t *b = (int64_t *)malloc(n * sizeof *b);
    if (!m || !b) {
        free(m);
        free(b);
        seg_discard(cleaned);
        return -ENOMEM;
    }
    memcpy(b, bases, n * sizeof *b);
    m->type = MSG_SWAP;
    m->job = job;
    m->cleaned = cleaned;
    m->bases = b;
    m->n = n;
    post(job->lc, m);
    return 0;
}

static void *worker_main(void *arg)
{
    struct lc_worker *w = (struct lc_worker *)arg;
    struct log_cleaner *lc = w->lc;
    pthread_mutex_lock(&lc->mu);
    for (;;) {
        while (!lc->todo_head && !atomic_load(&lc->stop))
            pthread_cond_wait(&lc->work_cond, &lc->mu);
        if (atomic_load(&lc->stop))
            break;
        struct lc_job *job = lc->todo_head;
        lc->todo_head = job->next;
        if (!lc->todo_head)
            lc->todo_tail = NULL;
        pthread_mutex_unlock(&lc->mu);

        job->worker_id = w->id;
        job->p.io_buffer_size = w->io_buffer;
        int64_t t0 = mono_ns();
        if (job_should_abort(job))
            job->rc = CLEANER_ABORTED;
        else if (!w->map)
            job->rc = -ENOMEM;
        else
            job->rc = cleaner_clean(w->map, job->segs, job->nsegs, &job->p, &job->end_offset,
                                    &job->st, job->err, sizeof job->err);
        job->seconds = (double)(mono_ns() - t0) / 1e9;

        pthread_mutex_lock(&lc->mu);
        struct lc_msg *m = job->done_msg;
        job->done_msg = NULL; /* the queue owns it now */
        job->worker_done = 1;
        m->type = MSG_DONE;
        m->job = job;
        m->next = NULL;
        if (lc->msg_tail)
            lc->msg_tail->next = m;
        else
            lc->msg_head = m;
        lc->msg_tail = m;
        pthread_cond_broadcast(&lc->done_cond);
        pthread_mutex_unlock(&lc->mu);
        ev_async_send(lc->loop, &lc->async);
        pthread_mutex_lock(&lc->mu);
    }
    pthread_mutex_unlock(&lc->mu);
    return NULL;
}

static void stop_workers(struct log_cleaner *lc)
{
    pthread_mutex_lock(&lc->mu);
    atomic_store(&lc->stop, 1);
    pthread_cond_broadcast(&lc->work_cond);
    pthread_cond_broadcast(&lc->wake_cond);
    pthread_mutex_unlock(&lc->mu);
    for (int i = 0; i < lc->nworkers; i++) {
        if (lc->workers[i].started)
            pthread_join(lc->workers[i].thread, NULL);
        offset_map_free(lc->workers[i].map);
    }
    free(lc->workers);
    lc->workers = NULL;
    lc->nworkers = 0;
}

static int start_workers(struct log_cleaner *lc, char *err, size_t errlen)
{
    atomic_store(&lc->stop, 0);
    int n = lc->cfg.enable ? lc->cfg.threads : 0;
    if (n <= 0)
        return 0;
    lc->workers = (struct lc_worker *)calloc((size_t)n, sizeof *lc->workers);
    if (!lc->workers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    lc->nworkers = n;
    /* Kafka: the dedupe buffer and the I/O buffer are split across threads
     * (the I/O buffer also between reading and writing). */
    int64_t per_map = lc->cfg.dedupe_buffer_size / n;
    if (per_map > INT32_MAX)
        per_map = INT32_MAX;
    size_t io = (size_t)lc->cfg.io_buffer_size / (size_t)n / 2;
    for (int i = 0; i < n; i++) {
        struct lc_worker *w = &lc->workers[i];
        w->lc = lc;
        w->id = i;
        w->io_buffer = io < 4096 ? 4096 : io;
        w->map = offset_map_new((size_t)per_map, lc->cfg.io_buffer_load_factor);
        if (!w->map) {
            snprintf(err, errlen,
                     "log.cleaner.dedupe.buffer.size %" PRId64 " is too small for %d cleaner "
                     "thread(s): an offset map must hold at least one entry (%d bytes each)",
                     lc->cfg.dedupe_buffer_size, n, OFFSET_MAP_SLOT_BYTES);
            stop_workers(lc);
            return -1;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, errlen, "cannot start log cleaner thread %d", i);
            stop_workers(lc);
            return -1;
        }
        w->started = true;
    }
    return 0;
}

/* ---- jobs ---------------------------------------------------------------- */

static void job_free(struct lc_job *job)
{
    for (size_t i = 0; i < job->nsegs; i++)
        if (job->segs[i].fd >= 0)
            close(job->segs[i].fd);
    free(job->segs);
    free(job->dir);
    free(job->done_msg);
    free(job->aborted);
    free(job->producers);
    free(job);
}

static int cmp_producer(const void *a, const void *b)
{
    int64_t x = ((const struct lc_producer *)a)->producer_id;
    int64_t y = ((const struct lc_producer *)b)->producer_id;
    return x < y ? -1 : x > y;
}

static int cmp_aborted_first(const void *a, const void *b)
{
    const struct cleaner_aborted_txn *x = (const struct cleaner_aborted_txn *)a;
    const struct cleaner_aborted_txn *y = (const struct cleaner_aborted_txn *)b;
    if (x->first_offset != y->first_offset)
        return x->first_offset < y->first_offset ? -1 : 1;
    return x->last_offset < y->last_offset ? -1 : x->last_offset > y->last_offset;
}

/* cleaner_params.active_producer on the job's snapshot (worker thread). */
static int job_active_producer(void *ud, int64_t producer_id, int64_t *last_data_offset,
                               int16_t *epoch)
{
    struct lc_job *job = (struct lc_job *)ud;
    struct lc_producer key = { producer_id, 0, 0 };
    const struct lc_producer *p = (const struct lc_producer *)bsearch(
        &key, job->producers, job->nproducers, sizeof key, cmp_producer);
    if (!p)
        return 0;
    *last_data_offset = p->last_data_offset;
    *epoch = p->epoch;
    return 1;
}

/* The transaction facts the worker needs, copied from the log. */
static int job_take_txn_state(struct lc_job *job, struct partition_log *pl)
{
    const struct producer_state *ps = plog_producer_state(pl);
    size_t np = pstate_count(ps);
    if (np) {
        job->producers = (struct lc_producer *)malloc(np * sizeof *job->producers);
        if (!job->producers)
            return -1;
        const struct pstate_entry *e;
        for (size_t it = 0; job->nproducers < np && (e = pstate_next(ps, &it));) {
            struct lc_producer *p = &job->producers[job->nproducers++];
            p->producer_id = e->producer_id;
            p->last_data_offset = e->nbatches ? e->b[e->nbatches - 1].last_offset : -1;
            p->epoch = e->epoch;
        }
        qsort(job->producers, job->nproducers, sizeof *job->producers, cmp_producer);
    }
    struct txn_aborted *ab;
    size_t n;
    int64_t start = job->nsegs ? job->segs[0].base_offset : job->p.first_uncleanable;
    if (plog_collect_aborted(pl, start, job->p.first_uncleanable, &ab, &n) != 0)
        return -1;
    if (n) {
        job->aborted = (struct cleaner_aborted_txn *)malloc(n * sizeof *job->aborted);
        if (!job->aborted) {
            free(ab);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            job->aborted[i].producer_id = ab[i].producer_id;
            job->aborted[i].first_offset = ab[i].first_offset;
            job->aborted[i].last_offset = ab[i].last_offset;
            job->aborted[i].last_stable_offset = ab[i].last_stable_offset;
        }
        qsort(job->aborted, n, sizeof *job->aborted, cmp_aborted_first);
    }
    free(ab);
    job->p.aborted = job->aborted;
    job->p.naborted = n;
    return 0;
}

static void hold(struct log_cleaner *lc)
{
    /* While jobs are out the loop must keep running to take them back. */
    if (lc->running++ == 0)
        ev_ref(lc->loop);
}

static void release(struct log_cleaner *lc)
{
    if (--lc->running == 0)
        ev_unref(lc->loop);
}

/* Kafka's LogToClean for one log; 1 when it should be cleaned now. */
struct candidate {
    struct lc_log *log;
    int64_t first_dirty, first_uncleanable;
    double ratio;
    bool force_checkpoint;
};

static int evaluate(struct lc_log *l, int64_t now, struct candidate *out)
{
    struct partition_log *pl = l->pl;
    if (!pl || l->paused)
        return 0;
    const struct plog_config *cfg = plog_get_config(pl);
    if (!(cfg->cleanup_policy & PLOG_CLEANUP_COMPACT) || l->uncleanable || l->job)
        return 0;
    int n = plog_segment_count(pl);
    struct plog_segment_info *si = (struct plog_segment_info *)malloc((size_t)n * sizeof *si);
    if (!si)
        return 0;
    for (int i = 0; i < n; i++)
        plog_segment_info(pl, i, &si[i]);
    int64_t ls = plog_log_start_offset(pl), leo = plog_log_end_offset(pl);
    int64_t active_base = si[n - 1].base_offset;

    /* cleanableOffsets */
    int64_t cp = l->checkpoint >= 0 ? l->checkpoint : ls;
    int64_t first_dirty = cp;
    bool force = false;
    if (cp < ls || cp > leo) {
        first_dirty = ls;
        force = true;
    }
    int64_t unc = plog_last_stable_offset(pl);
    if (active_base < unc)
        unc = active_base;
    if (cfg->min_compaction_lag_ms > 0) {
        for (int i = 0; i + 1 < n; i++) {
            if (si[i + 1].base_offset <= first_dirty)
                continue; /* wholly below the dirty section */
            if (si[i].largest_timestamp > now - cfg->min_compaction_lag_ms) {
                if (si[i].base_offset < unc)
                    unc = si[i].base_offset;
                break;
            }
        }
    }
    if (unc < first_dirty)
        unc = first_dirty;

    /* calculateCleanableBytes: the uncleanable offset rounds down to its
     * segment's base (the active segment when none). */
    int64_t fuo = active_base;
    if (unc < active_base)
        for (int i = n - 2; i >= 0; i--)
            if (si[i].base_offset <= unc) {
                fuo = si[i].base_offset;
                break;
            }
    int64_t from = first_dirty < fuo ? first_dirty : fuo;
    int64_t clean_bytes = 0, cleanable_bytes = 0;
    for (int i = 0; i < n; i++) {
        int64_t next = i + 1 < n ? si[i + 1].base_offset : INT64_MAX;
        if (si[i].base_offset < first_dirty)
            clean_bytes += (int64_t)si[i].size;
        /* Segments overlapping [from, fuo). */
        if (from < fuo && si[i].base_offset < fuo && next > from)
            cleanable_bytes += (int64_t)si[i].size;
    }
    int64_t total = clean_bytes + cleanable_bytes;

    /* maxCompactionDelay over the dirty closed segments. */
    int64_t earliest = INT64_MAX;
    for (int i = 0; i + 1 < n; i++) {
        int64_t next = si[i + 1].base_offset;
        if (next <= first_dirty)
            continue;
        if (si[i].first_batch_timestamp > 0 && si[i].first_batch_timestamp < earliest)
            earliest = si[i].first_batch_timestamp;
    }
    free(si);
    int64_t max_lag = cfg->max_compaction_lag_ms > 0 ? cfg->max_compaction_lag_ms : 0;
    int64_t clean_until = now - max_lag;
    bool need_now = earliest < clean_until;

    if (total <= 0)
        return 0;
    double ratio = (double)cleanable_bytes / (double)total;
    out->log = l;
    out->first_dirty = first_dirty;
    out->first_uncleanable = fuo;
    out->ratio = ratio;
    out->force_checkpoint = force;
    return (need_now && cleanable_bytes > 0) || ratio > cfg->min_cleanable_dirty_ratio;
}

static struct lc_job *make_job(struct log_cleaner *lc, const struct candidate *c, int64_t now)
{
    struct lc_log *l = c->log;
    struct partition_log *pl = l->pl;
    const struct plog_config *cfg = plog_get_config(pl);
    struct lc_job *job = (struct lc_job *)calloc(1, sizeof *job);
    if (!job)
        return NULL;
    int n = plog_segment_count(pl);
    job->segs = (struct cleaner_segment *)calloc((size_t)n, sizeof *job->segs);
    job->dir = strdup(plog_dir(pl));
    job->done_msg = (struct lc_msg *)calloc(1, sizeof *job->done_msg);
    if (!job->segs || !job->dir || !job->done_msg) {
        job_free(job);
        return NULL;
    }
    for (int i = 0; i + 1 < n; i++) {
        struct plog_segment_info si;
        plog_segment_info(pl, i, &si);
        if (si.base_offset >= c->first_uncleanable)
            break;
        struct cleaner_segment *cs = &job->segs[job->nsegs];
        cs->fd = fcntl(si.log_fd, F_DUPFD_CLOEXEC, 0);
        if (cs->fd < 0) {
            job_free(job);
            return NULL;
        }
        job->nsegs++;
        cs->base_offset = si.base_offset;
        cs->size = si.size;
        cs->last_modified_ms = si.last_modified_ms;
        cs->index_bytes = si.index_bytes;
        cs->timeindex_bytes = si.timeindex_bytes;
    }
    job->lc = lc;
    job->log = l;
    snprintf(job->name, sizeof job->name, "%s-%" PRId32, l->topic, l->partition);
    atomic_init(&job->abort, 0);
    struct cleaner_params *p = &job->p;
    p->dir = job->dir;
    p->first_dirty = c->first_dirty;
    p->first_uncleanable = c->first_uncleanable;
    p->now_ms = now;
    p->delete_retention_ms = cfg->delete_retention_ms;
    p->segment_bytes = cfg->segment_bytes;
    p->max_index_bytes = cfg->segment_index_bytes;
    p->index_interval_bytes = cfg->index_interval_bytes;
    p->dec = lc->dec;
    p->dec_ctx = lc->codec_ctx;
    p->comp = lc->comp;
    p->comp_ctx = lc->codec_ctx;
    /* Transactions: aborted ones from the .txnindex files, and the last
     * batch of every active producer kept (producer state survives). */
    p->active_producer = job_active_producer;
    p->should_abort = job_should_abort;
    p->throttle = job_throttle;
    p->swap = job_swap;
    p->ud = job;
    if (job_take_txn_state(job, pl) != 0) {
        job_free(job);
        return NULL;
    }
    return job;
}

static void schedule(struct log_cleaner *lc)
{
    if (!lc->cfg.enable || lc->nworkers == 0 || lc->restart_pending)
        return;
    int64_t now = wall_ms();
    while (lc->running < lc->nworkers) {
        struct candidate best = { 0 }, c;
        bool found = false;
        for (struct lc_log *l = lc->logs; l; l = l->next)
            if (evaluate(l, now, &c) && (!found || c.ratio > best.ratio)) {
                best = c;
                found = true;
            }
        if (!found)
            return;
        struct lc_log *l = best.log;
        if (best.force_checkpoint) {
            l->checkpoint = best.first_dirty;
            write_checkpoint(lc, l->dir);
        }
        struct lc_job *job = make_job(lc, &best, now);
        if (!job) {
            slog(lc->log, SLOG_WARN, COMPONENT, "%s-%" PRId32 ": cannot prepare a cleaning: %s",
                 l->topic, l->partition, strerror(errno ? errno : ENOMEM));
            return;
        }
        /* INFO like Kafka's "Beginning cleaning of log": one line per
         * cleaning, and it pairs with the "cleaned log" summary. */
        slog(lc->log, SLOG_INFO, COMPONENT,
             "Beginning cleaning of log %s: dirty section [%" PRId64 ", %" PRId64
             "), dirty ratio %.3f, %zu segment(s)",
             job->name, best.first_dirty, best.first_uncleanable, best.ratio, job->nsegs);
        l->job = job;
        hold(lc);
        pthread_mutex_lock(&lc->mu);
        job->next = NULL;
        if (lc->todo_tail)
            lc->todo_tail->next = job;
        else
            lc->todo_head = job;
        lc->todo_tail = job;
        pthread_cond_signal(&lc->work_cond);
        pthread_mutex_unlock(&lc->mu);
    }
}

/* ---- results, on the loop thread ---------------------------------------- */

static void swap_step(void *ud, int step)
{
    struct log_cleaner *lc = (struct log_cleaner *)ud;
    if (lc->cfg.test_pause_step > 0 && step == lc->cfg.test_pause_step) {
        slog(lc->log, SLOG_INFO, COMPONENT,
             "test pause after swap step %d (SLUICE_TEST_CLEANER_SWAP_PAUSE): the loop "
             "thread stops here",
             step);
        for (;;)
            pause();
    }
}

static void handle_swap(struct log_cleaner *lc, struct lc_msg *m)
{
    struct lc_job *job = m->job;
    if (!job->log) {
        seg_discard(m->cleaned);
        return;
    }
    int rc = plog_replace_segments(job->log->pl, m->cleaned, m->bases, m->n, swap_step, lc);
    if (rc == -ESTALE) {
        /* Retention or DeleteRecords removed some of the segments. */
        lc->stats.stale_swaps++;
        slog(lc->log, SLOG_DEBUG, COMPONENT,
             "%s: segments from %" PRId64 " changed during cleaning: cleaned segment dropped",
             job->name, m->bases[0]);
        seg_discard(m->cleaned);
        return;
    }
    lc->stats.swaps++;
    if (rc)
        slog(lc->log, SLOG_WARN, COMPONENT,
             "%s: swapping in the cleaned segment %" PRId64 " failed part way (%s): it is "
             "completed when the log is opened again",
             job->name, m->bases[0], strerror(-rc));
    else
        slog(lc->log, SLOG_DEBUG, COMPONENT,
             "%s: swapped in cleaned segment %" PRId64 " for %zu segment(s)", job->name,
             m->bases[0], m->n);
}

static void handle_done(struct log_cleaner *lc, struct lc_job *job)
{
    struct lc_log *l = job->log;
    if (l) {
        l->job = NULL;
        if (job->rc == 0) {
            lc->stats.cleanings++;
            lc->stats.bytes_read += job->st.bytes_read;
            lc->stats.bytes_written += job->st.bytes_written;
            lc->stats.records_read += job->st.records_read;
            lc->stats.records_retained += job->st.records_retained;
            lc->stats.busy_seconds += job->seconds;
            l->checkpoint = job->end_offset;
            write_checkpoint(lc, l->dir);
            double mb = (double)job->st.bytes_read / 1048576.0;
            slog(lc->log, SLOG_INFO, COMPONENT,
                 "thread %d cleaned log %s (dirty section = [%" PRId64 ", %" PRId64 "]): "
                 "%.1f MB of log processed in %.2f s (%.1f MB/s), %.1f MB written, %" PRId64
                 " of %" PRId64 " records kept, %d segment group(s), buffer utilization %.1f%%",
                 job->worker_id, job->name, job->p.first_dirty, job->end_offset, mb,
                 job->seconds, job->seconds > 0 ? mb / job->seconds : 0.0,
                 (double)job->st.bytes_written / 1048576.0, job->st.records_retained,
                 job->st.records_read, job->st.groups, job->st.map_utilization * 100.0);
        } else if (job->rc == CLEANER_ABORTED) {
            lc->stats.aborted++;
        } else {
            lc->stats.failed++;
            l->uncleanable = true;
            slog(lc->log, SLOG_WARN, COMPONENT,
                 "cleaning %s failed: %s; the partition is marked uncleanable", job->name,
                 job->err[0] ? job->err : strerror(job->rc < 0 ? -job->rc : EIO));
            /* Kafka's LogCleaner: an IOException takes the log dir offline
             * (LogDirFailureChannel) — the same hook as the log's own I/O
             * errors; corrupt data (a positive Kafka code) only makes the
             * log uncleanable. */
            if (job->rc < 0 && job->rc != -ENOMEM && l->pl)
                plog_report_io_error(l->pl, -job->rc, "cleaning");
        }
    }
    job_free(job);
    release(lc);
}

static void free_msg(struct lc_msg *m)
{
    free(m->bases);
    free(m);
}

static void async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    struct log_cleaner *lc = (struct log_cleaner *)w->data;
    pthread_mutex_lock(&lc->mu);
    struct lc_msg *m = lc->msg_head;
    lc->msg_head = lc->msg_tail = NULL;
    pthread_mutex_unlock(&lc->mu);
    int done = 0;
    while (m) {
        struct lc_msg *next = m->next;
        if (m->type == MSG_SWAP) {
            handle_swap(lc, m);
        } else {
            handle_done(lc, m->job);
            done = 1;
        }
        free_msg(m);
        m = next;
    }
    if (done) {
        if (lc->restart_pending && lc->running == 0) {
            char err[256];
            lc->restart_pending = false;
            stop_workers(lc);
            if (start_workers(lc, err, sizeof err) != 0)
                slog(lc->log, SLOG_ERROR, COMPONENT, "cannot restart the cleaner threads: %s",
                     err);
        }
        schedule(lc); /* Kafka cleans again at once after a cleaning */
    }
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    schedule((struct log_cleaner *)w->data);
}

/* ---- public ---------------------------------------------------------------- */

static void set_rate(struct log_cleaner *lc)
{
    pthread_mutex_lock(&lc->tmu);
    lc->rate = lc->cfg.io_max_bytes_per_second;
    lc->period_start_ns = mono_ns();
    lc->observed = 0;
    pthread_mutex_unlock(&lc->tmu);
}

static void arm_tick(struct log_cleaner *lc)
{
    double period = (double)(lc->cfg.backoff_ms > 0 ? lc->cfg.backoff_ms : 1) / 1000.0;
    if (ev_is_active(&lc->tick)) {
        ev_ref(lc->loop);
        ev_timer_stop(lc->loop, &lc->tick);
    }
    ev_timer_set(&lc->tick, period, period);
    ev_timer_start(lc->loop, &lc->tick);
    ev_unref(lc->loop); /* the timer alone must not keep the loop running */
}

struct log_cleaner *log_cleaner_new(struct ev_loop *loop, struct flusher *fl,
                                    struct sluice_logger *log,
                                    const struct log_cleaner_config *cfg, rb_decompress_fn dec,
                                    rb_compress_fn comp, void *codec_ctx, char *err,
                                    size_t errlen)
{
    struct log_cleaner *lc = (struct log_cleaner *)calloc(1, sizeof *lc);
    if (!lc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lc->loop = loop;
    lc->fl = fl;
    lc->log = log;
    lc->cfg = *cfg;
    lc->dec = dec;
    lc->comp = comp;
    lc->codec_ctx = codec_ctx;
    pthread_mutex_init(&lc->mu, NULL);
    pthread_mutex_init(&lc->tmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lc->wake_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&lc->work_cond, NULL);
    pthread_cond_init(&lc->done_cond, NULL);
    atomic_init(&lc->stop, 0);
    set_rate(lc);
    ev_async_init(&lc->async, async_cb);
    lc->async.data = lc;
    ev_async_start(loop, &lc->async);
    ev_unref(loop);
    ev_init(&lc->tick, tick_cb);
    lc->tick.data = lc;
    arm_tick(lc);
    if (start_workers(lc, err, errlen) != 0) {
        log_cleaner_free(lc);
        return NULL;
    }
    return lc;
}

void log_cleaner_reconfigure(struct log_cleaner *lc, const struct log_cleaner_config *cfg)
{
    struct log_cleaner_config old = lc->cfg;
    lc->cfg = *cfg;
    lc->cfg.enable = old.enable; /* read-only, like Kafka */
    if (old.io_max_bytes_per_second != cfg->io_max_bytes_per_second)
        set_rate(lc);
    if (old.backoff_ms != cfg->backoff_ms)
        arm_tick(lc);
    if (old.threads != cfg->threads || old.dedupe_buffer_size != cfg->dedupe_buffer_size ||
        old.io_buffer_size != cfg->io_buffer_size ||
        old.io_buffer_load_factor != cfg->io_buffer_load_factor) {
        if (lc->running == 0) {
            char err[256];
            stop_workers(lc);
            if (start_workers(lc, err, sizeof err) != 0)
                slog(lc->log, SLOG_ERROR, COMPONENT, "cannot restart the cleaner threads: %s",
                     err);
        } else {
            lc->restart_pending = true;
        }
    }
    /* A changed topic or broker config may make logs cleanable again. */
    for (struct lc_log *l = lc->logs; l; l = l->next)
        l->uncleanable = false;
}

int log_cleaner_add(struct log_cleaner *lc, struct partition_log *pl, const char *topic,
                    int32_t partition)
{
    struct lc_log *l = (struct lc_log *)calloc(1, sizeof *l);
    if (!l || !(l->topic = strdup(topic))) {
        free(l);
        return -1;
    }
    l->pl = pl;
    l->partition = partition;
    l->checkpoint = -1;
    l->dir = get_dir(lc, plog_dir(pl));
    if (!l->dir) {
        free(l->topic);
        free(l);
        return -1;
    }
    for (size_t i = 0; i < l->dir->nloaded; i++)
        if (l->dir->loaded[i].partition == partition && strcmp(l->dir->loaded[i].topic, topic) == 0)
            l->checkpoint = l->dir->loaded[i].offset;
    l->next = lc->logs;
    lc->logs = l;
    return 0;
}

/* Kafka's abortCleaning: flag the job, wake a throttled worker, wait for
 * the worker to let go of the files, drop its unhandled results. */
static void abort_job(struct log_cleaner *lc, struct lc_log *l)
{
    struct lc_job *job = l->job;
    if (job) {
        /* Kafka's abortCleaning: flag it, wake a throttled worker, wait
         * for the worker to let go of the files. */
        atomic_store(&job->abort, 1);
        struct lc_msg *mine = NULL, **tail = &mine;
        pthread_mutex_lock(&lc->mu);
        struct lc_job **jp = &lc->todo_head, *prev = NULL;
        while (*jp && *jp != job) {
            prev = *jp;
            jp = &(*jp)->next;
        }
        int queued = *jp == job;
        if (queued) {
            *jp = job->next;
            if (lc->todo_tail == job)
                lc->todo_tail = prev;
            job->worker_done = 1;
        }
        pthread_cond_broadcast(&lc->wake_cond);
        while (!job->worker_done)
            pthread_cond_wait(&lc->done_cond, &lc->mu);
        /* Its results not handled yet are dropped now, while the log
         * directory still exists. */
        struct lc_msg **mp = &lc->msg_head, *m;
        lc->msg_tail = NULL;
        while ((m = *mp)) {
            if (m->job == job) {
                *mp = m->next;
                m->next = NULL;
                *tail = m;
                tail = &m->next;
            } else {
                lc->msg_tail = m;
                mp = &m->next;
            }
        }
        pthread_mutex_unlock(&lc->mu);
        for (struct lc_msg *n; mine; mine = n) {
            n = mine->next;
            if (mine->type == MSG_SWAP)
                seg_discard(mine->cleaned);
            free_msg(mine);
        }
        lc->stats.aborted++;
        job_free(job);
        release(lc);
        l->job = NULL;
    }
}

static struct lc_log **find_log(struct log_cleaner *lc, const struct partition_log *pl)
{
    struct lc_log **pp = &lc->logs;
    while (*pp && (*pp)->pl != pl)
        pp = &(*pp)->next;
    return pp;
}

static void drop_log(struct lc_log **pp)
{
    struct lc_log *l = *pp;
    *pp = l->next;
    free(l->topic);
    free(l);
}

void log_cleaner_remove(struct log_cleaner *lc, struct partition_log *pl, bool deleted)
{
    if (!lc || !pl)
        return;
    struct lc_log **pp = find_log(lc, pl), *l = *pp;
    if (!l)
        return;
    abort_job(lc, l);
    struct lc_dir *d = l->dir;
    drop_log(pp);
    if (deleted)
        write_checkpoint(lc, d);
}

void log_cleaner_pause(struct log_cleaner *lc, struct partition_log *pl)
{
    if (!lc || !pl)
        return;
    struct lc_log *l = *find_log(lc, pl);
    if (!l)
        return;
    bool running = l->job != NULL;
    abort_job(lc, l);
    l->paused = true;
    /* Kafka's LogCleanerManager messages. */
    slog(lc->log, SLOG_INFO, COMPONENT, "The cleaning for partition %s-%" PRId32 " is %s",
         l->topic, l->partition, running ? "aborted and paused" : "paused");
}

void log_cleaner_resume(struct log_cleaner *lc, struct partition_log *pl)
{
    if (!lc || !pl)
        return;
    struct lc_log *l = *find_log(lc, pl);
    if (!l || !l->paused)
        return;
    l->paused = false;
    slog(lc->log, SLOG_INFO, COMPONENT, "Compaction for partition %s-%" PRId32 " is resumed",
         l->topic, l->partition);
}

void log_cleaner_detach(struct log_cleaner *lc, struct partition_log *pl)
{
    if (!lc || !pl)
        return;
    struct lc_log *l = *find_log(lc, pl);
    if (!l)
        return;
    abort_job(lc, l);
    l->paused = true;
    l->pl = NULL;
}

void log_cleaner_reattach(struct log_cleaner *lc, const char *topic, int32_t partition,
                          struct partition_log *new_pl, bool deleted)
{
    if (!lc)
        return;
    struct lc_log **pp = &lc->logs, *l;
    while ((l = *pp) && (l->pl || l->partition != partition || strcmp(l->topic, topic) != 0))
        pp = &l->next;
    if (!l) {
        /* Forgotten meanwhile (its old dir failed): start afresh, paused
         * like a reattached log until the caller resumes it. */
        if (new_pl && log_cleaner_add(lc, new_pl, topic, partition) == 0)
            log_cleaner_pause(lc, new_pl);
        return;
    }
    struct lc_dir *old = l->dir;
    if (!new_pl) {
        drop_log(pp);
        if (deleted)
            write_checkpoint(lc, old);
        return;
    }
    struct lc_dir *nd = get_dir(lc, plog_dir(new_pl));
    if (!nd) {
        drop_log(pp);
        write_checkpoint(lc, old);
        return;
    }
    l->pl = new_pl;
    if (nd != old) {
        l->dir = nd;
        write_checkpoint(lc, old);
        if (l->checkpoint >= 0)
            write_checkpoint(lc, nd);
    }
}

/* "a/b/" and "a/b" name the same dir. */
static bool same_dir(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    while (n > 1 && a[n - 1] == '/')
        n--;
    while (m > 1 && b[m - 1] == '/')
        m--;
    return n == m && strncmp(a, b, n) == 0;
}

void log_cleaner_dir_failed(struct log_cleaner *lc, const char *log_dir)
{
    if (!lc)
        return;
    for (struct lc_dir *d = lc->dirs; d; d = d->next) {
        if (!same_dir(d->path, log_dir))
            continue;
        d->offline = true;
        struct lc_log **pp = &lc->logs;
        while (*pp) {
            if ((*pp)->dir == d) {
                abort_job(lc, *pp);
                drop_log(pp);
            } else {
                pp = &(*pp)->next;
            }
        }
    }
}

void log_cleaner_wakeup(struct log_cleaner *lc)
{
    if (!lc)
        return;
    for (struct lc_log *l = lc->logs; l; l = l->next)
        l->uncleanable = false;
    schedule(lc);
}

void log_cleaner_free(struct log_cleaner *lc)
{
    if (!lc)
        return;
    pthread_mutex_lock(&lc->mu);
    for (struct lc_log *l = lc->logs; l; l = l->next)
        if (l->job)
            atomic_store(&l->job->abort, 1);
    pthread_mutex_unlock(&lc->mu);
    stop_workers(lc);
    /* Workers are gone: drop what they left. */
    struct lc_msg *m = lc->msg_head;
    lc->msg_head = lc->msg_tail = NULL;
    while (m) {
        struct lc_msg *next = m->next;
        if (m->type == MSG_SWAP)
            seg_discard(m->cleaned);
        free_msg(m);
        m = next;
    }
    for (struct lc_log *l = lc->logs, *next; l; l = next) {
        next = l->next;
        if (l->job) {
            job_free(l->job);
            release(lc);
        }
        free(l->topic);
        free(l);
    }
    for (struct lc_dir *d = lc->dirs, *next; d; d = next) {
        next = d->next;
        for (size_t i = 0; i < d->nloaded; i++)
            free(d->loaded[i].topic);
        free(d->loaded);
        ckpt_release(d->ck);
        free(d->path);
        free(d);
    }
    ev_ref(lc->loop);
    ev_async_stop(lc->loop, &lc->async);
    if (ev_is_active(&lc->tick)) {
        ev_ref(lc->loop);
        ev_timer_stop(lc->loop, &lc->tick);
    }
    pthread_cond_destroy(&lc->work_cond);
    pthread_cond_destroy(&lc->wake_cond);
    pthread_cond_destroy(&lc->done_cond);
    pthread_mutex_destroy(&lc->mu);
    pthread_mutex_destroy(&lc->tmu);
    free(lc);
}

void log_cleaner_get_stats(const struct log_cleaner *lc, struct log_cleaner_stats *out)
{
    *out = lc->stats;
}

int64_t log_cleaner_checkpoint(const struct log_cleaner *lc, const struct partition_log *pl)
{
    for (const struct lc_log *l = lc->logs; l; l = l->next)
        if (l->pl == pl)
            return l->checkpoint;
    return -1;
}

bool log_cleaner_busy(const struct log_cleaner *lc)
{
    return lc->running > 0;
}
