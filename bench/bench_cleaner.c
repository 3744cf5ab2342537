/* Log cleaner benchmark (make bench-cleaner).
 *
 * 1. Throughput: a compacted partition log of --mb MB of keyed updates
 *    (--keys distinct keys, --value-bytes values, batches of 100 records,
 *    segment.bytes 16 MiB) is cleaned by the cleaner core on this thread,
 *    swaps included; reported in MB of log cleaned per second (bytes read
 *    by the copy pass / wall time of the whole cleaning, offset map
 *    included), like Kafka's cleaner summary line.
 * 2. Produce latency with and without the cleaner: an event loop appends a
 *    batch (10 records of 100 B) to a second log every millisecond for
 *    --seconds, first with the log cleaner idle, then while its threads
 *    compact another --mb MB log.  Latency = from the moment the append was
 *    due to the moment it returned, so time the loop thread spends on the
 *    cleaner's behalf (scheduling, swaps) and disk contention both count.
 *
 * Everything runs in-process on the real storage code (partition_log,
 * flusher, log_cleaner); no broker or client is involved. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/cleaner.h"
#include "storage/flusher.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "storage/segment.h"
#include "util/wire.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One uncompressed batch of n records with random keys below nkeys. */
static uint8_t *make_batch(int n, long nkeys, int value_bytes, size_t *len)
{
    struct wire_writer w;
    wire_writer_init(&w);
    char key[32], val[4096];
    int64_t ts = now_ms();
    for (int i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "key-%ld", (long)(xorshift() % (uint64_t)nkeys));
        for (int j = 0; j < value_bytes && j < (int)sizeof val; j++)
            val[j] = (char)('a' + (xorshift() % 26));
        struct wire_writer r;
        wire_writer_init(&r);
        wire_write_i8(&r, 0);
        wire_write_varlong(&r, 0);
        wire_write_varint(&r, i);
        wire_write_varint(&r, kl);
        wire_write_raw(&r, key, (size_t)kl);
        wire_write_varint(&r, value_bytes);
        wire_write_raw(&r, val, (size_t)value_bytes);
        wire_write_varint(&r, 0);
        wire_write_varint(&w, (int32_t)r.len);
        wire_write_raw(&w, r.buf, r.len);
        wire_writer_free(&r);
    }
    size_t total = RB_HEADER_SIZE + w.len;
    uint8_t *b = calloc(1, total);
    rb_put_i32(b + RB_OFF_LENGTH, (int32_t)(total - RB_LOG_OVERHEAD));
    rb_put_i32(b + RB_OFF_LEADER_EPOCH, -1);
    b[RB_OFF_MAGIC] = RB_MAGIC;
    rb_put_i32(b + RB_OFF_LAST_OFFSET_DELTA, n - 1);
    rb_put_i64(b + RB_OFF_BASE_TIMESTAMP, ts);
    rb_put_i64(b + RB_OFF_MAX_TIMESTAMP, ts);
    rb_put_i64(b + RB_OFF_PRODUCER_ID, -1);
    b[RB_OFF_PRODUCER_EPOCH] = 0xff;
    b[RB_OFF_PRODUCER_EPOCH + 1] = 0xff;
    rb_put_i32(b + RB_OFF_BASE_SEQUENCE, -1);
    rb_put_i32(b + RB_OFF_RECORD_COUNT, n);
    memcpy(b + RB_HEADER_SIZE, w.buf, w.len);
    rb_put_i32(b + RB_OFF_CRC, (int32_t)rb_compute_crc(b, total));
    wire_writer_free(&w);
    *len = total;
    return b;
}

static struct plog_config log_cfg(int compact)
{
    struct plog_config c;
    plog_config_default(&c);
    c.segment_bytes = 16 << 20;
    c.retention_ms = -1;
    c.message_timestamp_after_max_ms = INT64_MAX;
    c.file_delete_delay_ms = 0;
    if (compact) {
        c.cleanup_policy = PLOG_CLEANUP_COMPACT;
        c.min_cleanable_dirty_ratio = 0.01;
    }
    return c;
}

static struct partition_log *fill(const char *dir, struct flusher *fl, double mb, long keys,
                                  int value_bytes)
{
    char err[256];
    struct plog_config c = log_cfg(1);
    struct partition_log *pl = plog_open(dir, &c, fl, now_ms(), err, sizeof err);
    if (!pl) {
        fprintf(stderr, "open %s: %s\n", dir, err);
        exit(1);
    }
    uint64_t bytes = 0, want = (uint64_t)(mb * 1048576.0);
    while (bytes < want) {
        size_t len;
        uint8_t *b = make_batch(100, keys, value_bytes, &len);
        struct plog_append_result res;
        if (plog_append(pl, b, len, 0, now_ms(), NULL, NULL, &res) != 0) {
            fprintf(stderr, "append: %s\n", res.errmsg);
            exit(1);
        }
        bytes += len;
        free(b);
    }
    return pl;
}

/* ---- 1. throughput ---------------------------------------------------- */

static int sync_swap(void *ud, struct segment *cleaned, const int64_t *bases, size_t n)
{
    int rc = plog_replace_segments((struct partition_log *)ud, cleaned, bases, n, NULL, NULL);
    if (rc == -ESTALE)
        seg_discard(cleaned);
    return rc == -ESTALE ? 0 : rc;
}

static void throughput(const char *root, double mb, long keys, int value_bytes,
                       int64_t dedupe)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tp-0", root);
    struct partition_log *pl = fill(dir, NULL, mb, keys, value_bytes);
    int n = plog_segment_count(pl);
    struct cleaner_segment *segs = calloc((size_t)n, sizeof *segs);
    size_t ns = 0;
    uint64_t total = 0;
    for (int i = 0; i + 1 < n; i++) {
        struct plog_segment_info si;
        plog_segment_info(pl, i, &si);
        segs[ns].base_offset = si.base_offset;
        segs[ns].size = si.size;
        segs[ns].fd = dup(si.log_fd);
        segs[ns].index_bytes = si.index_bytes;
        segs[ns].timeindex_bytes = si.timeindex_bytes;
        segs[ns].last_modified_ms = si.last_modified_ms;
        total += si.size;
        ns++;
    }
    sync();
    /* Cold cache: the cleaner reads segments written long ago. */
    for (size_t i = 0; i < ns; i++)
        posix_fadvise(segs[i].fd, 0, 0, POSIX_FADV_DONTNEED);
    struct offset_map *map = offset_map_new((size_t)dedupe, 0.9);
    const struct plog_config *cfg = plog_get_config(pl);
    struct cleaner_params p;
    memset(&p, 0, sizeof p);
    p.dir = dir;
    p.first_dirty = 0;
    p.first_uncleanable = plog_segment_base(pl, n - 1);
    p.now_ms = now_ms();
    p.delete_retention_ms = 86400000;
    p.segment_bytes = cfg->segment_bytes;
    p.max_index_bytes = cfg->segment_index_bytes;
    p.index_interval_bytes = cfg->index_interval_bytes;
    p.io_buffer_size = 262144;
    p.swap = sync_swap;
    p.ud = pl;
    int64_t end;
    struct cleaner_stats st;
    char err[256];
    double t0 = mono_s();
    int rc = cleaner_clean(map, segs, ns, &p, &end, &st, err, sizeof err);
    double secs = mono_s() - t0;
    if (rc) {
        fprintf(stderr, "cleaning failed: %d %s\n", rc, err);
        exit(1);
    }
    double read_mb = (double)st.bytes_read / 1048576.0;
    printf("throughput: %zu closed segments, %.1f MB, %ld keys, %d-byte values\n", ns,
           (double)total / 1048576.0, keys, value_bytes);
    printf("  cleaned %.1f MB in %.2f s = %.1f MB/s (offset map pass %.1f MB, copy pass %.1f MB "
           "read / %.1f MB written)\n",
           read_mb, secs, read_mb / secs, (double)st.map_bytes_read / 1048576.0, read_mb,
           (double)st.bytes_written / 1048576.0);
    printf("  records %" PRId64 " -> %" PRId64 ", %d groups, %" PRId64 " batches copied, %" PRId64
           " rebuilt, map utilization %.2f%%\n",
           st.records_read, st.records_retained, st.groups, st.batches_copied,
           st.batches_rebuilt, st.map_utilization * 100);
    for (size_t i = 0; i < ns; i++)
        close(segs[i].fd);
    free(segs);
    offset_map_free(map);
    plog_close(pl);
}

/* ---- 2. produce latency ---------------------------------------------------- */

struct lat {
    struct partition_log *pl;
    double *samples;
    size_t n, cap;
    double next_due, until;
    uint8_t *batch;
    size_t len;
    ev_timer t;
    struct log_cleaner *lc;
    int stop_when_cleaned;
    double busy_s;
};

static void produce_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct lat *l = w->data;
    double now = mono_s();
    /* Every due append runs (a stalled loop catches up), each timed from
     * when it was due. */
    while (l->next_due <= now) {
        struct plog_append_result res;
        plog_append(l->pl, l->batch, l->len, 0, now_ms(), NULL, NULL, &res);
        double done = mono_s();
        if (l->n < l->cap)
            l->samples[l->n++] = (done - l->next_due) * 1000.0;
        l->next_due += 0.001;
        now = done;
    }
    if (l->lc && log_cleaner_busy(l->lc))
        l->busy_s += 0.001;
    int cleaned = 0;
    if (l->lc && l->stop_when_cleaned) {
        struct log_cleaner_stats st;
        log_cleaner_get_stats(l->lc, &st);
        cleaned = st.cleanings > 0 && !log_cleaner_busy(l->lc);
    }
    if (now >= l->until || cleaned) {
        ev_timer_stop(loop, w);
        ev_break(loop, EVBREAK_ONE);
        return;
    }
    w->repeat = l->next_due - now > 0 ? l->next_due - now : 0.0001;
    ev_timer_again(loop, w);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, struct lat *l)
{
    qsort(l->samples, l->n, sizeof *l->samples, cmp_d);
    double p50 = l->samples[l->n / 2], p99 = l->samples[(size_t)((double)l->n * 0.99)];
    double max = l->samples[l->n - 1];
    printf("  %-26s %6zu appends  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", name, l->n, p50, p99,
           max);
}

static double run_latency(struct ev_loop *loop, struct lat *l, double seconds)
{
    double t0 = mono_s();
    l->n = 0;
    l->next_due = mono_s() + 0.001;
    l->until = mono_s() + seconds;
    ev_timer_init(&l->t, produce_cb, 0.001, 0.001);
    l->t.data = l;
    ev_timer_start(loop, &l->t);
    ev_run(loop, 0);
    return mono_s() - t0;
}

static void latency(const char *root, double mb, long keys, int value_bytes, double seconds,
                    int threads)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    char dir[600], err[256];
    snprintf(dir, sizeof dir, "%s/prod-0", root);
    struct plog_config pc = log_cfg(0);
    struct lat l;
    memset(&l, 0, sizeof l);
    l.pl = plog_open(dir, &pc, fl, now_ms(), err, sizeof err);
    l.cap = (size_t)(seconds * 1000 * 2 + 1000);
    l.samples = calloc(l.cap, sizeof *l.samples);
    l.batch = make_batch(10, 1000000, 100, &l.len);

    snprintf(dir, sizeof dir, "%s/dirty-0", root);
    struct partition_log *dirty = fill(dir, fl, mb, keys, value_bytes);
    sync(); /* the fill's writeback must not pollute the idle baseline */
    struct log_cleaner_config lcfg;
    log_cleaner_config_default(&lcfg);
    lcfg.threads = threads;
    lcfg.backoff_ms = 10;
    l.lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err, sizeof err);
    if (!l.lc) {
        fprintf(stderr, "log cleaner: %s\n", err);
        exit(1);
    }
    printf("produce latency: one 10-record batch (%zu B) appended every 1 ms\n", l.len);

    /* Without the cleaner: the dirty log is not registered yet. */
    run_latency(loop, &l, seconds);
    report("cleaner idle:", &l);

    /* With the cleaner compacting the dirty log meanwhile. */
    log_cleaner_add(l.lc, dirty, "dirty", 0);
    log_cleaner_wakeup(l.lc);
    l.busy_s = 0;
    l.stop_when_cleaned = 1; /* measured while the cleaning lasts (up to 120 s) */
    double took = run_latency(loop, &l, 120);
    report("cleaner running:", &l);
    struct log_cleaner_stats st;
    log_cleaner_get_stats(l.lc, &st);
    printf("  the cleaner was busy %.0f%% of that time; %" PRId64 " cleaning(s), %.1f MB read, "
           "%.1f MB written, %.1f MB/s while busy\n",
           100.0 * st.busy_seconds / took, st.cleanings, (double)st.bytes_read / 1048576.0,
           (double)st.bytes_written / 1048576.0,
           st.busy_seconds > 0 ? (double)st.bytes_read / 1048576.0 / st.busy_seconds : 0.0);

    log_cleaner_remove(l.lc, dirty, false);
    log_cleaner_free(l.lc);
    plog_close(dirty);
    plog_close(l.pl);
    flusher_free(fl);
    ev_loop_destroy(loop);
    free(l.samples);
    free(l.batch);
}

int main(int argc, char **argv)
{
    double mb = 256, seconds = 5;
    long keys = 100000;
    int value_bytes = 100, threads = 1, keep = 0;
    int64_t dedupe = 134217728;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    static const struct option opts[] = {
        { "mb", required_argument, NULL, 'm' },      { "keys", required_argument, NULL, 'k' },
        { "value-bytes", required_argument, NULL, 'v' }, { "seconds", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' }, { "dir", required_argument, NULL, 'd' },
        { "dedupe-bytes", required_argument, NULL, 'b' }, { "quick", no_argument, NULL, 'q' },
        { "keep", no_argument, NULL, 'K' },          { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': mb = atof(optarg); break;
        case 'k': keys = atol(optarg); break;
        case 'v': value_bytes = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'd': base = optarg; break;
        case 'b': dedupe = atoll(optarg); break;
        case 'q': mb = 32; seconds = 2; break;
        case 'K': keep = 1; break;
        default:
            printf("usage: bench_cleaner [--mb N (256)] [--keys K (100000)] [--value-bytes B "
                   "(100)] [--seconds S (5)] [--threads T (1)] [--dedupe-bytes N] [--dir D] "
                   "[--quick] [--keep]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (value_bytes < 0 || value_bytes > 4096 || keys < 1 || mb <= 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    char root[512];
    snprintf(root, sizeof root, "%s/bench-cleaner.%d", base, (int)getpid());
    mkdir(root, 0755);
    throughput(root, mb, keys, value_bytes, dedupe);
    latency(root, mb, keys, value_bytes, seconds, threads);
    if (!keep) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", root);
    } else {
        printf("kept %s\n", root);
    }
    return 0;
}
