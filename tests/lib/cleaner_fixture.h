/* Test helper: running the log cleaner on partition logs of a test (on top
 * of plog_fixture.h).  cf_segments() and cf_params() set up a synchronous
 * cleaner_clean() call the way log_cleaner.c's make_job does;
 * cf_run_until() drives a libev loop until a condition holds (threaded
 * cleaner); cf_count_files() counts a log dir's files by suffix. */
#ifndef SLUICE_CLEANER_FIXTURE_H
#define SLUICE_CLEANER_FIXTURE_H

#include <dirent.h>
#include <ev.h>
#include <string.h>
#include <unistd.h>

#include "storage/cleaner.h"
#include "plog_fixture.h"

/* The closed segments of pl (all but the active one) whose base offset is
 * below `below`, at most max, with dup'ed fds (cf_close_segments). */
static inline size_t cf_segments(struct partition_log *pl, int64_t below,
                                 struct cleaner_segment *segs, size_t max)
{
    int n = plog_segment_count(pl);
    size_t ns = 0;
    for (int i = 0; i + 1 < n && ns < max; i++) {
        struct plog_segment_info si;
        plog_segment_info(pl, i, &si);
        if (si.base_offset >= below)
            break;
        segs[ns].base_offset = si.base_offset;
        segs[ns].size = si.size;
        segs[ns].fd = dup(si.log_fd);
        segs[ns].last_modified_ms = si.last_modified_ms;
        segs[ns].index_bytes = si.index_bytes;
        segs[ns].timeindex_bytes = si.timeindex_bytes;
        ns++;
    }
    return ns;
}

static inline void cf_close_segments(struct cleaner_segment *segs, size_t ns)
{
    for (size_t i = 0; i < ns; i++)
        close(segs[i].fd);
}

/* Cleaner parameters from pl's dir and config; the caller sets the
 * offsets, time, retention and hooks. */
static inline void cf_params(struct partition_log *pl, struct cleaner_params *p)
{
    const struct plog_config *cfg = plog_get_config(pl);
    memset(p, 0, sizeof *p);
    p->dir = plog_dir(pl);
    p->segment_bytes = cfg->segment_bytes;
    p->max_index_bytes = cfg->segment_index_bytes;
    p->index_interval_bytes = cfg->index_interval_bytes;
    p->io_buffer_size = 4096;
}

/* Run loop until cond(ud) or ms milliseconds passed; returns cond(ud). */
static inline int cf_run_until(struct ev_loop *loop, int (*cond)(void *), void *ud, int ms)
{
    int64_t until = now_ms() + ms;
    while (!cond(ud) && now_ms() < until)
        ev_run(loop, EVRUN_NOWAIT), usleep(2000);
    return cond(ud);
}

/* Files of dir whose name ends in suffix. */
static inline int cf_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    size_t k = strlen(suffix);
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        n += l >= k && strcmp(e->d_name + l - k, suffix) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

#endif
