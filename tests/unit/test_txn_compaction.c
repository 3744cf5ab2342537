/* Compaction of a log with transactions, through the threaded log cleaner
 * (Kafka's Cleaner with CleanedTransactionMetadata): records of an aborted
 * transaction go while its ABORT marker stays (with its .txnindex entry in
 * the cleaned segment) as long as the round saw data of it; the marker goes
 * once its delete horizon (delete.retention.ms) passed; committed records
 * are compacted like any other; the last batch of every active producer
 * stays (empty if need be) so producer state survives; nothing at or past
 * the first unstable offset (an open transaction) is cleaned.  A crash at
 * every file operation of a swap whose cleaned segment carries a .txnindex
 * leaves a log whose aborted data is always indexed. */
#include "storage/cleaner.h"
#include "storage/flusher.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "storage/txn_marker.h"
#include "cleaner_fixture.h"

#include <dirent.h>
#include <ev.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* n records key "k<key0+i>" value "<tag>-<i>" from pid (txn or not). */
static int64_t produce(struct partition_log *pl, int64_t pid, int32_t seq, int key0, int n,
                       int txn, const char *tag)
{
    struct bb_record recs[16];
    char keys[16][16], vals[16][32];
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", key0 + i);
        snprintf(vals[i], sizeof vals[i], "%s-%d", tag, i);
        struct bb_record r = BB_REC(keys[i], vals[i], now_ms());
        recs[i] = r;
    }
    struct bb_opts o = bb_default_opts();
    o.producer_id = pid;
    o.producer_epoch = pid >= 0 ? 0 : -1;
    o.base_sequence = pid >= 0 ? seq : -1;
    o.attributes = txn ? RB_ATTR_TRANSACTIONAL : 0;
    size_t len;
    uint8_t *b = bb_build(recs, n, &o, &len);
    struct plog_append_result r;
    int rc = plog_append(pl, b, len, 0, now_ms(), NULL, NULL, &r);
    free(b);
    return rc ? -1 : r.base_offset;
}

/* What the log holds now, batch by batch. */
struct seen {
    int batches, data_records_of[8], markers_of[8], empty_batches_of[8];
    int64_t last_batch_of[8];
    int committed_k0; /* records of key k0 with a "commit" value */
    int k0_records;   /* records of key k0 */
    int aborted_values; /* records with an "abort" value */
};

static void scan(struct partition_log *pl, struct seen *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 8; i++)
        s->last_batch_of[i] = -1;
    struct plog_read_result rr;
    plog_read(pl, plog_log_start_offset(pl), 64 << 20, -1, &rr);
    for (int k = 0; k < rr.nspans; k++) {
        uint8_t *buf = malloc(rr.spans[k].len);
        if (pread(rr.spans[k].fd, buf, rr.spans[k].len, rr.spans[k].off) !=
            (ssize_t)rr.spans[k].len) {
            free(buf);
            continue;
        }
        for (size_t p = 0; p + RB_HEADER_SIZE <= rr.spans[k].len;) {
            size_t sz = rb_batch_size(buf + p, rr.spans[k].len - p);
            struct rb_header h;
            rb_header_decode(buf + p, sz, &h);
            s->batches++;
            int pid = h.producer_id >= 0 && h.producer_id < 8 ? (int)h.producer_id : 0;
            if (h.record_count == 0)
                s->empty_batches_of[pid]++;
            s->last_batch_of[pid] = h.base_offset + h.last_offset_delta;
            struct rb_iter it;
            rb_iter_init(&it, buf + p, sz, NULL, NULL);
            struct rb_record r;
            while (rb_iter_next(&it, &r) == 1) {
                if (h.attributes & RB_ATTR_CONTROL) {
                    s->markers_of[pid]++;
                    continue;
                }
                s->data_records_of[pid]++;
                if (r.key_len == 2 && memcmp(r.key, "k0", 2) == 0)
                    s->k0_records++;
                if (r.value_len >= 5 && memcmp(r.value, "abort", 5) == 0)
                    s->aborted_values++;
                if (r.key_len == 2 && memcmp(r.key, "k0", 2) == 0 && r.value_len >= 6 &&
                    memcmp(r.value, "commit", 6) == 0)
                    s->committed_k0++;
            }
            rb_iter_free(&it);
            p += sz;
        }
        free(buf);
    }
}

struct wait_ctx {
    struct log_cleaner *lc;
    int64_t want;
};

static int cleaned_enough(void *ud)
{
    struct wait_ctx *w = ud;
    struct log_cleaner_stats st;
    log_cleaner_get_stats(w->lc, &st);
    return st.cleanings >= w->want && !log_cleaner_busy(w->lc);
}

static size_t aborted_entries_of(struct partition_log *pl, int64_t pid)
{
    size_t total = 0;
    for (int i = 0; i < plog_segment_count(pl); i++) {
        size_t n;
        const struct txn_aborted *a = plog_segment_aborted(pl, i, &n);
        for (size_t k = 0; k < n; k++)
            total += a[k].producer_id == pid;
    }
    return total;
}

static void fill(struct partition_log *pl, int rounds, int key0)
{
    for (int i = 0; i < rounds; i++)
        produce(pl, -1, -1, key0 + (i % 5) * 10, 10, 0, "fill");
}

/* ---- crash at every file operation of a swap -------------------------- */

struct crash_ctx {
    struct partition_log *pl;
    int crash_at, steps;
};

static void crash_step(void *ud, int step)
{
    (void)step;
    struct crash_ctx *c = ud;
    if (++c->steps == c->crash_at)
        _exit(0);
}

static int crash_swap(void *ud, struct segment *cleaned, const int64_t *bases, size_t n)
{
    struct crash_ctx *c = ud;
    return plog_replace_segments(c->pl, cleaned, bases, n, crash_step, c);
}

static int active_of(void *ud, int64_t pid, int64_t *last, int16_t *epoch)
{
    const struct pstate_entry *e = pstate_get(plog_producer_state(ud), pid);
    if (!e)
        return 0;
    *last = e->nbatches ? e->b[e->nbatches - 1].last_offset : -1;
    *epoch = e->epoch;
    return 1;
}

static struct partition_log *active_log; /* for active_producer in the child */

static int active_hook(void *ud, int64_t pid, int64_t *last, int16_t *epoch)
{
    (void)ud;
    return active_of(active_log, pid, last, epoch);
}

/* One synchronous cleaning of everything below the LSO's segment, wired
 * like log_cleaner.c's make_job. */
static int clean_sync(struct partition_log *pl, struct crash_ctx *c)
{
    int n = plog_segment_count(pl);
    int64_t lso = plog_last_stable_offset(pl), unc = plog_segment_base(pl, n - 1);
    for (int i = n - 1; i >= 0; i--)
        if (plog_segment_base(pl, i) <= lso) {
            unc = plog_segment_base(pl, i);
            break;
        }
    struct cleaner_segment segs[64];
    size_t ns = cf_segments(pl, unc, segs, 64);
    struct txn_aborted *ab;
    size_t nab;
    plog_collect_aborted(pl, 0, unc, &ab, &nab);
    struct cleaner_aborted_txn cab[64];
    for (size_t i = 0; i < nab && i < 64; i++) {
        struct cleaner_aborted_txn a = { ab[i].producer_id, ab[i].first_offset,
                                         ab[i].last_offset, ab[i].last_stable_offset };
        cab[i] = a;
    }
    free(ab);
    struct cleaner_params p;
    cf_params(pl, &p);
    p.first_uncleanable = unc;
    p.now_ms = now_ms();
    p.delete_retention_ms = plog_get_config(pl)->delete_retention_ms;
    p.aborted = cab;
    p.naborted = nab;
    active_log = pl;
    p.active_producer = active_hook;
    p.swap = crash_swap;
    p.ud = c;
    c->pl = pl;
    struct offset_map *map = offset_map_new(1 << 20, 0.9);
    int64_t end;
    struct cleaner_stats st;
    char err[256];
    int rc = cleaner_clean(map, segs, ns, &p, &end, &st, err, sizeof err);
    offset_map_free(map);
    cf_close_segments(segs, ns);
    return rc;
}

static void test_swap_crashes(const struct plog_config *cfg)
{
    char tmpl[600], dir[600], err[256], cmd[2000];
    snprintf(tmpl, sizeof tmpl, "%s/crash-template", root);
    snprintf(dir, sizeof dir, "%s/crash", root);
    struct partition_log *pl = plog_open(tmpl, cfg, NULL, now_ms(), err, sizeof err);
    int64_t off;
    produce(pl, 1, 0, 0, 5, 1, "abort");
    plog_append_txn_marker(pl, 1, 0, 0, false, now_ms(), &off);
    produce(pl, 2, 0, 0, 5, 1, "commit");
    plog_append_txn_marker(pl, 2, 0, 0, true, now_ms(), &off);
    fill(pl, 8, 0);
    int64_t open_first = produce(pl, 5, 0, 0, 5, 1, "open");
    fill(pl, 3, 100);
    int64_t leo = plog_log_end_offset(pl);
    plog_close(pl);

    int steps = 0, bad = 0, leftovers = 0, k;
    for (k = 1; k < 200; k++) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, tmpl, dir);
        if (system(cmd) != 0)
            break;
        pid_t child = fork();
        if (child == 0) {
            struct partition_log *cp = plog_open(dir, cfg, NULL, now_ms(), err, sizeof err);
            struct crash_ctx c = { NULL, k, 0 };
            _exit(cp && clean_sync(cp, &c) == 0 ? 3 : 4);
        }
        int status = 0;
        waitpid(child, &status, 0);
        int st = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (st == 3)
            break; /* past the last file operation */
        if (st != 0) {
            diag("child for step %d exited %d", k, st);
            bad++;
            continue;
        }
        steps++;
        pl = plog_open(dir, cfg, NULL, now_ms(), err, sizeof err);
        if (!pl) {
            diag("step %d: reopen failed: %s", k, err);
            bad++;
            continue;
        }
        struct seen s;
        scan(pl, &s);
        size_t entries = aborted_entries_of(pl, 1);
        /* Aborted records still in the log must have their index entry;
         * the LSO and the log end never change. */
        if (plog_log_end_offset(pl) != leo || plog_last_stable_offset(pl) != open_first ||
            (s.aborted_values > 0 && entries != 1) || entries > 1) {
            diag("step %d: leo %lld lso %lld, %d aborted records, %zu index entries", k,
                 (long long)plog_log_end_offset(pl), (long long)plog_last_stable_offset(pl),
                 s.aborted_values, entries);
            bad++;
        }
        leftovers += cf_count_files(dir, ".swap") + cf_count_files(dir, ".cleaned") +
                     cf_count_files(dir, ".deleted");
        plog_close(pl);
    }
    ok(steps >= 8, "crash points covered: %d file operations of the swap", steps);
    is_int(bad, 0, "after a crash at each of them: LEO, LSO kept; aborted data always indexed");
    is_int(leftovers, 0, "no .cleaned/.swap/.deleted file left after recovery");
}

int main(void)
{
    plf_begin("sluice-txncompact");
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    char dir[600], err[256];
    snprintf(dir, sizeof dir, "%s/t-0", root);
    struct log_cleaner_config lcfg;
    log_cleaner_config_default(&lcfg);
    lcfg.threads = 1;
    lcfg.backoff_ms = 20;
    lcfg.dedupe_buffer_size = 1 << 20;
    struct log_cleaner *lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err,
                                             sizeof err);
    ok(lc != NULL, "log cleaner (%s)", lc ? "" : err);

    struct plog_config cfg;
    plog_config_default(&cfg);
    cfg.segment_bytes = 1500;
    cfg.retention_ms = -1;
    cfg.cleanup_policy = PLOG_CLEANUP_COMPACT;
    cfg.min_cleanable_dirty_ratio = 0.01;
    cfg.message_timestamp_after_max_ms = INT64_MAX;
    cfg.file_delete_delay_ms = 0;
    cfg.delete_retention_ms = 3600000; /* markers stay in the first rounds */
    struct partition_log *pl = plog_open(dir, &cfg, fl, now_ms(), err, sizeof err);

    /* pid 1 aborts k0..k4, pid 2 commits k0..k4, pid 3 is idempotent only. */
    produce(pl, 1, 0, 0, 5, 1, "abort");
    produce(pl, 2, 0, 0, 5, 1, "commit");
    produce(pl, 3, 0, 20, 3, 0, "idem");
    produce(pl, 3, 3, 20, 3, 0, "idem2");
    int rc;
    int64_t off;
    rc = plog_append_txn_marker(pl, 1, 0, 0, false, now_ms(), &off);
    ok(rc == 0, "ABORT of producer 1 at %lld", (long long)off);
    rc = plog_append_txn_marker(pl, 2, 0, 0, true, now_ms(), &off);
    ok(rc == 0, "COMMIT of producer 2 at %lld", (long long)off);
    fill(pl, 8, 0);      /* overwrites k0..k49 with plain values, rolls segments */
    produce(pl, 2, 5, 0, 5, 1, "commit"); /* pid 2: a second committed txn, newest k0 */
    rc = plog_append_txn_marker(pl, 2, 0, 0, true, now_ms(), &off);
    fill(pl, 3, 100);
    int64_t open_first = produce(pl, 5, 0, 0, 5, 1, "open"); /* stays open */
    fill(pl, 6, 200);
    is_int(plog_last_stable_offset(pl), open_first, "LSO at producer 5's open transaction");
    ok(plog_segment_count(pl) >= 4, "%d segments", plog_segment_count(pl));
    is_int((int)aborted_entries_of(pl, 1), 1, "aborted index: producer 1's transaction");

    is_int(log_cleaner_add(lc, pl, "t", 0), 0, "log registered");
    struct wait_ctx w = { lc, 1 };
    ok(cf_run_until(loop, cleaned_enough, &w, 10000), "cleaned once");
    ok(log_cleaner_checkpoint(lc, pl) <= open_first,
       "cleaned up to %lld, not past the first unstable offset %lld",
       (long long)log_cleaner_checkpoint(lc, pl), (long long)open_first);
    struct seen s;
    scan(pl, &s);
    is_int(s.aborted_values, 0, "no record of the aborted transaction is left");
    is_int(s.markers_of[1], 1, "its ABORT marker stays (the round removed its data)");
    is_int((int)aborted_entries_of(pl, 1), 1,
           "and its .txnindex entry moved to the cleaned segment");
    is_int(s.data_records_of[5], 5, "producer 5's open transaction untouched");
    is_int(s.committed_k0, 1, "k0: the newest committed value only");
    ok(s.last_batch_of[3] >= 0, "producer 3's last batch kept (producer state survives)");
    ok(s.last_batch_of[1] >= 0 && s.empty_batches_of[1] >= 1,
       "producer 1's last data batch kept empty (Kafka keeps active producers' last batch)");

    /* Restart: producer state and LSO come back from the cleaned log. */
    log_cleaner_remove(lc, pl, false);
    plog_close(pl);
    pl = plog_open(dir, &cfg, fl, now_ms(), err, sizeof err);
    is_int(plog_last_stable_offset(pl), open_first, "LSO after restart");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 3);
    ok(e && e->nbatches >= 1 && e->b[e->nbatches - 1].last_seq == 5,
       "producer 3's last sequence (5) survives compaction");

    /* As in Kafka, the marker stays while the aborted batch is kept as
     * producer 1's last batch.  Once producer 1 writes again, the batch
     * goes, then the marker once its delete horizon passed
     * (delete.retention.ms 0 now). */
    cfg.delete_retention_ms = 0;
    plog_set_config(pl, &cfg);
    log_cleaner_add(lc, pl, "t", 0);
    ok(produce(pl, 1, 5, 60, 2, 0, "later") > 0, "producer 1 writes an idempotent batch");
    is_int(plog_append_txn_marker(pl, 5, 0, 0, true, now_ms(), &off), 0,
           "producer 5 commits");
    for (int round = 0; round < 3; round++) {
        fill(pl, 6, 300 + round * 100);
        struct log_cleaner_stats st;
        log_cleaner_get_stats(lc, &st);
        w.want = st.cleanings + 1;
        log_cleaner_wakeup(lc);
        cf_run_until(loop, cleaned_enough, &w, 10000);
        usleep(5000);
    }
    scan(pl, &s);
    is_int(s.markers_of[1], 0, "producer 1's ABORT marker removed after its delete horizon");
    is_int((int)aborted_entries_of(pl, 1), 0, "no index entry left for it");
    is_int(s.aborted_values, 0, "still no aborted record");

    log_cleaner_remove(lc, pl, false);
    plog_close(pl);

    /* A producer whose aborted transaction lies in the cleaned part (its
     * index entry still there: the first cleaning saw its data) writes a
     * new committed transaction: the next cleaning's offset map must count
     * it as committed, as the old abort's marker is outside its range. */
    snprintf(dir, sizeof dir, "%s/t-1", root);
    cfg.delete_retention_ms = 3600000;
    pl = plog_open(dir, &cfg, fl, now_ms(), err, sizeof err);
    produce(pl, 6, 0, 0, 5, 1, "abort");
    plog_append_txn_marker(pl, 6, 0, 0, false, now_ms(), &off);
    fill(pl, 8, 0);
    log_cleaner_add(lc, pl, "t", 1);
    struct log_cleaner_stats st;
    log_cleaner_get_stats(lc, &st);
    w.want = st.cleanings + 1;
    cf_run_until(loop, cleaned_enough, &w, 10000);
    ok(aborted_entries_of(pl, 6) == 1, "first cleaning: producer 6's abort still indexed");
    ok(produce(pl, 6, 5, 0, 1, 1, "late") > 0, "producer 6 writes k0 in a new transaction");
    is_int(plog_append_txn_marker(pl, 6, 0, 0, true, now_ms(), &off), 0, "and commits it");
    fill(pl, 8, 100);
    log_cleaner_get_stats(lc, &st);
    w.want = st.cleanings + 1;
    log_cleaner_wakeup(lc);
    cf_run_until(loop, cleaned_enough, &w, 10000);
    scan(pl, &s);
    is_int(s.k0_records, 1, "k0: only producer 6's committed value is left");
    log_cleaner_remove(lc, pl, false);
    plog_close(pl);
    cfg.delete_retention_ms = 3600000;
    test_swap_crashes(&cfg);
    log_cleaner_free(lc);
    flusher_free(fl);
    ev_loop_destroy(loop);
    plf_end();
    return done_testing();
}
