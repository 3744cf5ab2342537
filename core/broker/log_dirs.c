/* Log directories: probing, placement, failure handling; see log_dirs.h. */
#include "broker/log_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/log_mover.h"
#include "storage/dir_util.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Java's File.getAbsolutePath: relative paths are resolved against the
 * working directory, nothing else is normalised. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", cwd, path);
    return s;
}

/* Kafka only checks that a data directory can be created and read; a
 * write probe also catches a read-only or full filesystem before the
 * first append does. */
static int probe(const char *dir)
{
    int rc = mkdir_p(dir);
    if (rc)
        return rc;
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/.sluice-probe.tmp", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = 0;
    if (write(fd, "x", 1) != 1 || fsync(fd) != 0)
        rc = errno ? -errno : -EIO;
    close(fd);
    if (unlink(p) != 0 && !rc)
        rc = -errno;
    return rc;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

/* "<topic>-<p>.<id>-future" -> "<topic>-<p>" in out. */
static bool tp_of(const char *name, char *out, size_t len)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || (size_t)(dot - name) >= len)
        return false;
    memcpy(out, name, (size_t)(dot - name));
    out[dot - name] = '\0';
    return true;
}

struct leftover {
    int dir;
    char name[NAME_MAX + 1];
};

/* Finish or undo what a crash interrupted.  A future directory is complete
 * once its source was renamed to "-delete" (the mover renames only after
 * every copied file is fsynced); then it is promoted.  Otherwise it is
 * removed, and so is every "-delete" directory. */
static void recover_leftovers(struct broker *b)
{
    struct log_dirs *ds = b->dirs;
    struct leftover *fut = NULL, *del = NULL;
    size_t nfut = 0, ndel = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->v[i].offline)
            continue;
        DIR *d = opendir(ds->v[i].path);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            bool f = ends_with(e->d_name, "-future"), x = ends_with(e->d_name, "-delete");
            if (!f && !x)
                continue;
            struct leftover **arr = f ? &fut : &del;
            size_t *n = f ? &nfut : &ndel;
            struct leftover *na = realloc(*arr, (*n + 1) * sizeof *na);
            if (!na)
                break;
            *arr = na;
            na[*n].dir = (int)i;
            snprintf(na[*n].name, sizeof na[*n].name, "%s", e->d_name);
            (*n)++;
        }
        closedir(d);
    }
    for (size_t k = 0; k < nfut; k++) {
        char tp[NAME_MAX + 1], p[PATH_MAX], dst[PATH_MAX];
        const struct log_dir *d = &ds->v[fut[k].dir];
        snprintf(p, sizeof p, "%s/%s", d->path, fut[k].name);
        if (!tp_of(fut[k].name, tp, sizeof tp))
            continue;
        bool current = false, source_gone = false;
        for (size_t i = 0; i < ds->n && !current; i++) {
            char c[PATH_MAX];
            snprintf(c, sizeof c, "%s/%s", ds->v[i].path, tp);
            current = !ds->v[i].offline && is_dir(c);
        }
        for (size_t j = 0; j < ndel && !source_gone; j++) {
            char t2[NAME_MAX + 1];
            source_gone = tp_of(del[j].name, t2, sizeof t2) && strcmp(t2, tp) == 0;
        }
        snprintf(dst, sizeof dst, "%s/%s", d->path, tp);
        if (!current && source_gone && rename(p, dst) == 0) {
            du_fsync_dir(d->path);
            slog(b->log, SLOG_INFO, "log-dirs",
                 "completed the interrupted move of %s to log directory %s", tp, d->abs);
        } else {
            du_remove_tree(p);
            slog(b->log, SLOG_INFO, "log-dirs",
                 "removed the incomplete future log %s of an interrupted move", p);
        }
    }
    for (size_t j = 0; j < ndel; j++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", ds->v[del[j].dir].path, del[j].name);
        du_remove_tree(p);
        slog(b->log, SLOG_INFO, "log-dirs", "removed %s left by an interrupted deletion", p);
    }
    free(fut);
    free(del);
}

static void fail_cb(struct ev_loop *loop, ev_timer *w, int revents);

int log_dirs_init(struct broker *b, char *err, size_t errlen)
{
    const struct sluice_strlist *cfg = &b->cfg->log_dirs;
    struct log_dirs *ds = calloc(1, sizeof *ds);
    if (!ds || !(ds->v = calloc(cfg->n ? cfg->n : 1, sizeof *ds->v))) {
        free(ds);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->dirs = ds;
    ds->metadata = -1;
    ev_timer_init(&ds->fail_timer, fail_cb, 0, 0);
    ds->fail_timer.data = b;
    char meta_real[PATH_MAX] = "";
    mkdir_p(b->cfg->metadata_log_dir);
    if (!realpath(b->cfg->metadata_log_dir, meta_real))
        meta_real[0] = '\0';
    size_t online = 0;
    for (size_t i = 0; i < cfg->n; i++) {
        struct log_dir *d = &ds->v[ds->n];
        d->path = strdup(cfg->items[i]);
        d->abs = absolute(cfg->items[i]);
        if (!d->path || !d->abs) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        ds->n++;
        int rc = probe(d->path);
        char real[PATH_MAX];
        if (rc == 0 && realpath(d->path, real)) {
            for (size_t j = 0; j + 1 < ds->n; j++) {
                char other[PATH_MAX];
                if (realpath(ds->v[j].path, other) && strcmp(other, real) == 0) {
                    snprintf(err, errlen, "Duplicate log directory found: %s and %s",
                             ds->v[j].abs, d->abs);
                    return -1;
                }
            }
            if (meta_real[0] && strcmp(real, meta_real) == 0)
                ds->metadata = (int)i;
        }
        if (rc) {
            d->offline = true;
            slog(b->log, SLOG_ERROR, "log-dirs", "Failed to create or validate data directory %s: %s",
                 d->abs, strerror(-rc));
        } else {
            online++;
        }
    }
    if (online == 0) {
        int k = snprintf(err, errlen, "None of the specified log dirs from ");
        for (size_t i = 0; i < ds->n && k > 0 && (size_t)k < errlen; i++)
            k += snprintf(err + k, errlen - (size_t)k, "%s%s", i ? ", " : "", ds->v[i].abs);
        if (k > 0 && (size_t)k < errlen)
            snprintf(err + k, errlen - (size_t)k, " can be created or validated");
        return -1;
    }
    recover_leftovers(b);
    return 0;
}

void log_dirs_free(struct broker *b)
{
    struct log_dirs *ds = b->dirs;
    if (!ds)
        return;
    ev_timer_stop(b->loop, &ds->fail_timer);
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->v[i].path);
        free(ds->v[i].abs);
    }
    free(ds->v);
    free(ds);
    b->dirs = NULL;
}

int log_dirs_index_of(const struct broker *b, const char *pdir)
{
    const char *slash = strrchr(pdir, '/');
    if (!slash)
        return -1;
    size_t n = (size_t)(slash - pdir);
    for (size_t i = 0; i < b->dirs->n; i++) {
        const char *p = b->dirs->v[i].path;
        size_t m = strlen(p);
        while (m > 1 && p[m - 1] == '/')
            m--;
        if (m == n && strncmp(p, pdir, n) == 0)
            return (int)i;
    }
    return -1;
}

int log_dirs_find_abs(const struct broker *b, const char *abs)
{
    for (size_t i = 0; abs && i < b->dirs->n; i++)
        if (strcmp(b->dirs->v[i].abs, abs) == 0)
            return (int)i;
    return -1;
}

int log_dirs_pick(struct broker *b)
{
    struct log_dirs *ds = b->dirs;
    size_t *count = calloc(ds->n ? ds->n : 1, sizeof *count);
    if (!count)
        return -1;
    size_t it = 0;
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v)) {
        const struct broker_topic *t = v;
        for (int32_t p = 0; t->replicas && p < t->nparts; p++)
            if (t->replicas[p].dir >= 0 && (size_t)t->replicas[p].dir < ds->n)
                count[t->replicas[p].dir]++;
    }
    log_mover_count_futures(b->mover, count, ds->n);
    int best = -1;
    for (size_t i = 0; i < ds->n; i++)
        if (!ds->v[i].offline && !ds->v[i].failing && (best < 0 || count[i] < count[best]))
            best = (int)i;
    free(count);
    return best;
}

int log_dirs_locate(struct broker *b, const char *topic, int32_t partition, bool is_new)
{
    struct log_dirs *ds = b->dirs;
    int found = -1;
    bool any_offline = false;
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->v[i].offline || ds->v[i].failing) {
            /* A dead disk can hang a stat: an offline directory is never
             * searched. */
            any_offline = true;
            continue;
        }
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s-%d", ds->v[i].path, topic, partition);
        if (!is_dir(p))
            continue;
        if (found >= 0) {
            /* Kafka refuses to start; serving either copy could lose data,
             * so the partition stays offline until an operator removes one. */
            slog(b->log, SLOG_ERROR, "log-dirs",
                 "Duplicate log directories for %s-%d are found in both %s and %s; the "
                 "partition stays offline until one of them is removed",
                 topic, partition, ds->v[found].abs, ds->v[i].abs);
            return -1;
        }
        found = (int)i;
    }
    if (found >= 0)
        return found;
    if (!is_new && any_offline) {
        slog(b->log, SLOG_WARN, "log-dirs",
             "Can not create log for %s-%d because some log directories are offline; the "
             "partition stays offline",
             topic, partition);
        return -1;
    }
    return log_dirs_pick(b);
}

void log_dirs_report_failure(struct broker *b, int dir, int err, const char *what,
                             const char *partition)
{
    struct log_dirs *ds = b->dirs;
    if (dir < 0 || (size_t)dir >= ds->n)
        return;
    struct log_dir *d = &ds->v[dir];
    if (d->offline)
        return;
    slog(b->log, SLOG_ERROR, "log-dirs", "Error while %s %s in dir %s: %s", what,
         partition ? partition : "", d->abs, strerror(err));
    d->failing = true;
    /* Not from inside the failing call: the log must not be closed under
     * its own feet. */
    ev_timer_stop(b->loop, &ds->fail_timer);
    ev_timer_set(&ds->fail_timer, 0, 0);
    ev_timer_start(b->loop, &ds->fail_timer);
}

void log_dirs_io_error(void *ud, struct partition_log *pl, int err, const char *what)
{
    struct broker *b = ud;
    const char *pdir = plog_dir(pl);
    const char *slash = strrchr(pdir, '/');
    int dir = log_dirs_index_of(b, pdir);
    if (dir < 0) {
        /* The metadata log in its own metadata.log.dir. */
        slog(b->log, SLOG_ERROR, "log-dirs", "Error while %s %s: %s", what, pdir, strerror(err));
        slog(b->log, SLOG_ERROR, "log-dirs",
             "Shutdown broker because the metadata log dir %s has failed",
             b->cfg->metadata_log_dir);
        _exit(1);
    }
    log_dirs_report_failure(b, dir, err, what, slash ? slash + 1 : pdir);
}

static void take_offline(struct broker *b, int dir)
{
    struct log_dirs *ds = b->dirs;
    struct log_dir *d = &ds->v[dir];
    d->offline = true;
    d->failing = false;
    slog(b->log, SLOG_WARN, "log-dirs",
         "Stopping serving replicas in dir %s because the log directory has failed", d->abs);
    if (dir == ds->metadata) {
        /* Kafka halts: the metadata log cannot be served from elsewhere. */
        slog(b->log, SLOG_ERROR, "log-dirs",
             "Shutdown broker because the metadata log dir %s has failed", d->abs);
        _exit(1);
    }
    size_t online = 0;
    for (size_t i = 0; i < ds->n; i++)
        online += !ds->v[i].offline;
    if (online == 0) {
        char list[2048];
        int k = 0;
        for (size_t i = 0; i < ds->n && k >= 0 && (size_t)k < sizeof list; i++)
            k += snprintf(list + k, sizeof list - (size_t)k, "%s%s", i ? ", " : "", ds->v[i].abs);
        slog(b->log, SLOG_ERROR, "log-dirs", "Shutdown broker because all log dirs in %s have failed",
             list);
        _exit(1);
    }
    char names[2048] = "";
    size_t len = 0;
    /* Kafka's LogCleaner.handleLogDirFailure: cleanings of the dir's logs
     * stop before they are abandoned, and its checkpoint is left alone. */
    log_cleaner_dir_failed(b->cleaner, d->path);
    size_t it = 0;
    void *v;
    while (strmap_next(&b->topics, &it, NULL, &v)) {
        struct broker_topic *t = v;
        for (int32_t p = 0; p < t->nparts; p++) {
            if (t->replicas[p].dir != dir || !t->logs[p])
                continue;
            plog_abandon(t->logs[p]);
            t->logs[p] = NULL;
            if (len < sizeof names)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s-%d",
                                        len ? "," : "", t->name, p);
        }
    }
    log_mover_dir_failed(b->mover, dir);
    slog(b->log, SLOG_WARN, "log-dirs",
         "Logs for partitions %s are offline due to failure on log directory %s",
         names[0] ? names : "(none)", d->abs);
    broker_fetch_wake(b);
}

static void fail_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct broker *b = w->data;
    for (size_t i = 0; i < b->dirs->n; i++)
        if (b->dirs->v[i].failing && !b->dirs->v[i].offline)
            take_offline(b, (int)i);
}
