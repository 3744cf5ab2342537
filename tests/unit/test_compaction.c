/* Log compaction on real partition logs: a full cleaning (latest value of
 * every key kept, offsets unchanged, tombstones until their horizon, small
 * segments merged), crash recovery after every file operation of the swap
 * (the cleaning runs in a forked child that _exit()s at that point, then
 * the log is reopened), stale swaps, the threaded log cleaner with its
 * checkpoint file and abort, keyless appends and retention on compacted
 * logs, pause/resume and log dir switches (AlterReplicaLogDirs) with the
 * per-dir checkpoint, log dir failure, I/O errors to the log's hook. */
#include "storage/cleaner.h"
#include "storage/flusher.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "storage/segment.h"
#include "cleaner_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <float.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NKEYS 50

static struct plog_config compact_cfg(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.segment_bytes = 2000;
    c.index_interval_bytes = 200;
    c.retention_ms = -1;
    c.cleanup_policy = PLOG_CLEANUP_COMPACT;
    c.min_cleanable_dirty_ratio = 0.01;
    c.message_timestamp_after_max_ms = INT64_MAX;
    c.file_delete_delay_ms = 0;
    return c;
}

/* The expected state: latest value per key ("" = tombstoned). */
struct expect {
    char val[NKEYS][32];
    int tomb[NKEYS];
    int present[NKEYS];
};

/* Append n updates (batches of 5) cycling over NKEYS keys: value "v<i>";
 * with tombstones, keys k%10==3 are deleted in every odd round (so after
 * 1000 or 2000 updates they end deleted).  Returns 0 or -1. */
static int produce(struct partition_log *pl, int from, int n, struct expect *e, int tombstones)
{
    for (int i = from; i < from + n; i += 5) {
        struct bb_record recs[5];
        char keys[5][16], vals[5][16];
        for (int j = 0; j < 5; j++) {
            int u = i + j, k = u % NKEYS;
            snprintf(keys[j], sizeof keys[j], "k%d", k);
            snprintf(vals[j], sizeof vals[j], "v%d", u);
            int tomb = tombstones && k % 10 == 3 && (u / NKEYS) % 2 == 1;
            struct bb_record r = BB_REC(keys[j], tomb ? NULL : vals[j], now_ms());
            recs[j] = r;
            e->present[k] = 1;
            e->tomb[k] = tomb;
            memcpy(e->val[k], tomb ? "" : vals[j], tomb ? 1 : strlen(vals[j]) + 1);
        }
        size_t len;
        uint8_t *b = bb_build(recs, 5, NULL, &len);
        struct plog_append_result res;
        int rc = plog_append(pl, b, len, 0, now_ms(), NULL, NULL, &res);
        free(b);
        if (rc) {
            diag("append: %s", res.errmsg);
            return -1;
        }
    }
    return 0;
}

/* Read the whole log; check offsets strictly increase and each key's last
 * record matches e.  *records gets the record count, *tombs the tombstones
 * seen.  Returns the number of problems. */
static int verify(struct partition_log *pl, const struct expect *e, int *records, int *tombs)
{
    int problems = 0, n = 0, nt = 0;
    char last[NKEYS][32];
    int seen[NKEYS], lastt[NKEYS];
    memset(seen, 0, sizeof seen);
    int64_t prev = -1, off = plog_log_start_offset(pl);
    int64_t leo = plog_log_end_offset(pl);
    while (off < leo) {
        struct plog_read_result rr;
        if (plog_read(pl, off, 1 << 20, -1, &rr) || rr.bytes == 0) {
            diag("read at %lld failed (err %d, %zu bytes)", (long long)off, rr.error, rr.bytes);
            return problems + 1;
        }
        uint8_t *buf = malloc(rr.bytes);
        size_t at = 0;
        for (int i = 0; i < rr.nspans; i++) {
            if (pread(rr.spans[i].fd, buf + at, rr.spans[i].len, rr.spans[i].off) !=
                (ssize_t)rr.spans[i].len)
                problems++;
            at += rr.spans[i].len;
        }
        size_t pos = 0;
        int64_t next = off;
        while (pos < at) {
            size_t bl = rb_batch_size(buf + pos, at - pos);
            char err[128];
            if (rb_validate(buf + pos, bl, 0, NULL, NULL, NULL, err, sizeof err)) {
                diag("invalid batch at %lld: %s", (long long)rb_get_i64(buf + pos), err);
                problems++;
                break;
            }
            struct rb_iter it;
            rb_iter_init(&it, buf + pos, bl, NULL, NULL);
            struct rb_record r;
            while (rb_iter_next(&it, &r) == 1) {
                if (r.offset < off)
                    continue;
                if (r.offset <= prev) {
                    diag("offset %lld after %lld", (long long)r.offset, (long long)prev);
                    problems++;
                }
                prev = r.offset;
                int k = atoi((const char *)r.key + 1);
                if (k < 0 || k >= NKEYS) {
                    problems++;
                    continue;
                }
                seen[k] = 1;
                lastt[k] = r.value_len < 0;
                snprintf(last[k], sizeof last[k], "%.*s", r.value_len < 0 ? 0 : r.value_len,
                         r.value_len < 0 ? "" : (const char *)r.value);
                n++;
                nt += r.value_len < 0;
            }
            rb_iter_free(&it);
            next = rb_get_i64(buf + pos) + rb_get_i32(buf + pos + RB_OFF_LAST_OFFSET_DELTA) + 1;
            pos += bl;
        }
        free(buf);
        off = next;
    }
    for (int k = 0; k < NKEYS; k++) {
        if (!e->present[k])
            continue;
        if (e->tomb[k]) {
            /* A tombstone may be gone after its horizon; no older value may
             * resurface. */
            if (seen[k] && !lastt[k]) {
                diag("k%d: deleted key has value %s", k, last[k]);
                problems++;
            }
        } else if (!seen[k] || lastt[k] || strcmp(last[k], e->val[k]) != 0) {
            diag("k%d: got %s, want %s", k, seen[k] ? last[k] : "(missing)", e->val[k]);
            problems++;
        }
    }
    if (records)
        *records = n;
    if (tombs)
        *tombs = nt;
    return problems;
}

/* ---- running the cleaner synchronously ------------------------------------- */

struct sync_ctx {
    struct partition_log *pl;
    int crash_at;   /* _exit(0) at this swap step (counted over all swaps); 0 never */
    int crash_before_swap; /* _exit(0) when the first cleaned segment is ready */
    int steps;
    int swaps, stale;
};

static void step_hook(void *ud, int step)
{
    (void)step;
    struct sync_ctx *c = ud;
    if (++c->steps == c->crash_at)
        _exit(0);
}

static int sync_swap(void *ud, struct segment *cleaned, const int64_t *bases, size_t n)
{
    struct sync_ctx *c = ud;
    if (c->crash_before_swap)
        _exit(0);
    int rc = plog_replace_segments(c->pl, cleaned, bases, n, step_hook, c);
    if (rc == -ESTALE) {
        c->stale++;
        seg_discard(cleaned);
        return 0;
    }
    c->swaps++;
    return rc;
}

/* One cleaning of pl from first_dirty up to its active segment, like the
 * log cleaner prepares it.  Returns cleaner_clean's result. */
static int clean_now(struct partition_log *pl, struct sync_ctx *c, int64_t first_dirty,
                     int64_t now, int64_t delete_retention, struct offset_map *map,
                     int64_t *end_offset, struct cleaner_stats *st)
{
    int n = plog_segment_count(pl);
    struct cleaner_segment *segs = calloc((size_t)n, sizeof *segs);
    size_t ns = cf_segments(pl, INT64_MAX, segs, (size_t)n);
    struct cleaner_params p;
    cf_params(pl, &p);
    p.first_dirty = first_dirty;
    p.first_uncleanable = plog_segment_base(pl, n - 1);
    p.now_ms = now;
    p.delete_retention_ms = delete_retention;
    p.swap = sync_swap;
    p.ud = c;
    c->pl = pl;
    char err[256];
    int rc = cleaner_clean(map, segs, ns, &p, end_offset, st, err, sizeof err);
    if (rc && rc != CLEANER_ABORTED)
        diag("cleaner_clean: %d %s", rc, err);
    cf_close_segments(segs, ns);
    free(segs);
    return rc;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_full_clean(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    ok(pl != NULL, "open compacted log");
    struct expect e;
    memset(&e, 0, sizeof e);
    ok(produce(pl, 0, 2000, &e, 1) == 0, "2000 updates over %d keys", NKEYS);
    int segs_before = plog_segment_count(pl);
    int64_t leo = plog_log_end_offset(pl);
    int recs0, tombs0;
    is_int(verify(pl, &e, &recs0, &tombs0), 0, "log consistent before cleaning");
    diag("%d segments, %d records, %d tombstones before cleaning", segs_before, recs0, tombs0);

    struct offset_map *map = offset_map_new(1 << 20, 0.9);
    struct sync_ctx c = { 0 };
    int64_t end;
    struct cleaner_stats st;
    int64_t t0 = now_ms();
    is_int(clean_now(pl, &c, 0, t0, 86400000, map, &end, &st), 0, "first cleaning");
    int64_t active_base = plog_segment_base(pl, plog_segment_count(pl) - 1);
    is_int(end, active_base, "cleaned up to the active segment");
    ok(c.swaps == st.groups && c.swaps > 0 && c.stale == 0, "%d group(s) swapped in", c.swaps);
    is_int(plog_log_end_offset(pl), leo, "log end offset unchanged");
    int recs1, tombs1;
    is_int(verify(pl, &e, &recs1, &tombs1), 0, "latest value of every key kept, offsets increasing");
    int active_recs = (int)(leo - active_base);
    ok(recs1 <= NKEYS + active_recs, "at most one record per key below the active segment (%d records, %d in the active segment)",
       recs1, active_recs);
    ok(tombs1 > 0, "tombstones kept before delete.retention.ms (%d)", tombs1);
    is_int(st.invalid_records, 0, "no keyless records");
    ok(cf_count_files(dir, ".cleaned") == 0 && cf_count_files(dir, ".swap") == 0,
       "no .cleaned or .swap files left");

    /* Second cleaning: the small cleaned segments merge into fewer. */
    int segs1 = plog_segment_count(pl);
    memset(&c, 0, sizeof c);
    is_int(clean_now(pl, &c, end, t0 + 1, 86400000, map, &end, &st), 0, "second cleaning");
    ok(plog_segment_count(pl) < segs1, "small cleaned segments merged (%d -> %d segments)", segs1,
       plog_segment_count(pl));
    int recs2, tombs2;
    is_int(verify(pl, &e, &recs2, &tombs2), 0, "still consistent after merging");
    is_int(tombs2, tombs1, "tombstones still there before the horizon");

    /* After delete.retention.ms: tombstones go, no deleted key resurfaces. */
    memset(&c, 0, sizeof c);
    is_int(clean_now(pl, &c, end, t0 + 86400000 + 10, 86400000, map, &end, &st), 0,
           "cleaning after the delete horizon");
    int recs3, tombs3;
    is_int(verify(pl, &e, &recs3, &tombs3), 0, "consistent after tombstone removal");
    int active_tombs = 0;
    {
        /* Tombstones in the active segment are never cleaned. */
        struct plog_read_result rr;
        plog_read(pl, active_base, 1 << 20, -1, &rr);
        uint8_t *buf = malloc(rr.bytes + 1);
        size_t at = 0;
        for (int i = 0; i < rr.nspans; i++) {
            if (pread(rr.spans[i].fd, buf + at, rr.spans[i].len, rr.spans[i].off) < 0)
                break;
            at += rr.spans[i].len;
        }
        for (size_t pos = 0; pos < at;) {
            size_t bl = rb_batch_size(buf + pos, at - pos);
            struct rb_iter it;
            rb_iter_init(&it, buf + pos, bl, NULL, NULL);
            struct rb_record r;
            while (rb_iter_next(&it, &r) == 1)
                active_tombs += r.value_len < 0;
            rb_iter_free(&it);
            pos += bl;
        }
        free(buf);
    }
    is_int(tombs3, active_tombs, "tombstones below the active segment removed after the horizon");

    /* Reopen (clean shutdown) and unclean reopen: the same log. */
    plog_close(pl);
    pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    int recs4;
    ok(pl && verify(pl, &e, &recs4, NULL) == 0 && recs4 == recs3, "same log after reopen");
    ok(produce(pl, 2000, 100, &e, 0) == 0 && verify(pl, &e, NULL, NULL) == 0,
       "appends continue after compaction");
    plog_close(pl);
    offset_map_free(map);
}

/* Template log for the crash tests (cleaned once, so groups merge). */
static char tmpl[512];
static struct expect tmpl_e;

static void make_template(void)
{
    char err[256];
    new_dir(tmpl, sizeof tmpl);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(tmpl, &cfg, NULL, now_ms(), err, sizeof err);
    memset(&tmpl_e, 0, sizeof tmpl_e);
    produce(pl, 0, 1000, &tmpl_e, 1);
    plog_close(pl);
}

static void copy_template(const char *to)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, tmpl, to);
    if (system(cmd) != 0)
        diag("copy failed");
}

/* Fork: clean the copy in a child that stops after file operation k.
 * Returns the child's exit status (0 crashed at k, 3 finished first). */
static int run_child(const char *dir, int k, int before_swap)
{
    pid_t pid = fork();
    if (pid == 0) {
        char err[256];
        struct plog_config cfg = compact_cfg();
        struct partition_log *pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
        if (!pl)
            _exit(2);
        struct offset_map *map = offset_map_new(1 << 20, 0.9);
        struct sync_ctx c = { 0 };
        c.crash_at = k;
        c.crash_before_swap = before_swap;
        int64_t end;
        struct cleaner_stats st;
        /* A crash does not run plog_close: no clean-shutdown marker. */
        _exit(clean_now(pl, &c, 0, now_ms(), 86400000, map, &end, &st) == 0 ? 3 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_crash_recovery(void)
{
    make_template();
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = compact_cfg();

    /* Crash with only .cleaned files written: rolled back. */
    copy_template(dir);
    is_int(run_child(dir, 0, 1), 0, "child stopped with a .cleaned segment written");
    ok(cf_count_files(dir, ".cleaned") == 3, "three .cleaned files left by the crash");
    struct partition_log *pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    int n0 = 0;
    ok(pl && verify(pl, &tmpl_e, &n0, NULL) == 0 && n0 == 1000,
       "rolled back: the original 1000 records, readable");
    ok(cf_count_files(dir, ".cleaned") == 0, ".cleaned files removed at open");
    plog_close(pl);

    int k, bad = 0, leftovers = 0, steps = 0, reclean_bad = 0;
    for (k = 1; k < 400; k++) {
        copy_template(dir);
        int st = run_child(dir, k, 0);
        if (st == 3)
            break; /* k is past the last file operation */
        if (st != 0) {
            diag("child for step %d exited %d", k, st);
            bad++;
            continue;
        }
        steps++;
        pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
        int recs = 0;
        if (!pl || verify(pl, &tmpl_e, &recs, NULL) != 0 || plog_log_end_offset(pl) != 1000) {
            diag("crash after file operation %d: log not complete (%s)", k, pl ? "verify" : err);
            bad++;
        }
        leftovers += cf_count_files(dir, ".cleaned") + cf_count_files(dir, ".swap") +
                     cf_count_files(dir, ".deleted");
        /* The recovered log cleans fine. */
        if (pl) {
            struct offset_map *map = offset_map_new(1 << 20, 0.9);
            struct sync_ctx c = { 0 };
            int64_t end;
            struct cleaner_stats cs;
            if (clean_now(pl, &c, 0, now_ms(), 86400000, map, &end, &cs) != 0 ||
                verify(pl, &tmpl_e, NULL, NULL) != 0)
                reclean_bad++;
            offset_map_free(map);
            plog_close(pl);
        }
    }
    ok(steps >= 9, "crash points covered: %d file operations", steps);
    is_int(bad, 0, "after a crash at every file operation the reopened log is complete");
    is_int(leftovers, 0, "no .cleaned/.swap/.deleted files after recovery");
    is_int(reclean_bad, 0, "every recovered log cleans again correctly");
}

static void test_stale_swap(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    struct expect e;
    memset(&e, 0, sizeof e);
    produce(pl, 0, 500, &e, 0);
    int64_t b1 = plog_segment_base(pl, 1);
    struct segment *s = seg_create_suffixed(dir, b1, ".cleaned", now_ms(), err, sizeof err);
    ok(s != NULL, "a .cleaned segment");
    int64_t wrong[2] = { b1, b1 + 1 };
    is_int(plog_replace_segments(pl, s, wrong, 2, NULL, NULL), -ESTALE,
           "bases that are not the log's segments: -ESTALE");
    int64_t active = plog_segment_base(pl, plog_segment_count(pl) - 1);
    int64_t withactive[1] = { active };
    struct segment *s2 = seg_create_suffixed(dir, active, ".cleaned", now_ms(), err, sizeof err);
    is_int(plog_replace_segments(pl, s2, withactive, 1, NULL, NULL), -ESTALE,
           "the active segment is never replaced");
    ok(cf_count_files(dir, ".cleaned") == 6 && verify(pl, &e, NULL, NULL) == 0,
       "nothing renamed, log intact");
    seg_discard(s);
    seg_discard(s2);
    ok(cf_count_files(dir, ".cleaned") == 0, "seg_discard removes the files");
    plog_close(pl);
}

static void test_keyless_and_retention(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    struct bb_record recs[3] = { BB_REC("a", "1", now_ms()), BB_REC(NULL, "2", now_ms()),
                                 BB_REC(NULL, "3", now_ms()) };
    size_t len;
    uint8_t *b = bb_build(recs, 3, NULL, &len);
    struct plog_append_result res;
    is_int(plog_append(pl, b, len, 0, now_ms(), NULL, NULL, &res), KP_ERR_INVALID_RECORD,
           "keyless records in a compacted log: INVALID_RECORD");
    is_int(res.null_key_records, 2, "two records without a key counted");
    is_str(res.errmsg, "Compacted topic cannot accept message without key", "Kafka's message");
    is_int(plog_log_end_offset(pl), 0, "nothing appended");
    free(b);

    struct expect e;
    memset(&e, 0, sizeof e);
    produce(pl, 0, 500, &e, 0);
    int segs = plog_segment_count(pl);
    cfg.retention_ms = 0;
    cfg.retention_bytes = 1;
    plog_set_config(pl, &cfg);
    is_int(plog_maintain(pl, now_ms() + 10000, true), 0, "compact only: retention deletes nothing");
    is_int(plog_segment_count(pl), segs, "segments kept");
    cfg.cleanup_policy = PLOG_CLEANUP_COMPACT | PLOG_CLEANUP_DELETE;
    plog_set_config(pl, &cfg);
    ok(plog_maintain(pl, now_ms() + 10000, true) > 0, "compact,delete: retention applies");
    cfg.cleanup_policy = PLOG_CLEANUP_DELETE;
    plog_set_config(pl, &cfg);
    b = bb_build(recs, 3, NULL, &len);
    is_int(plog_append(pl, b, len, 0, now_ms(), NULL, NULL, &res), 0,
           "delete policy: keyless records accepted");
    free(b);
    plog_close(pl);
}

/* ---- the threaded log cleaner ---------------------------------------------- */

struct wait_ctx {
    struct log_cleaner *lc;
    int64_t want_cleanings;
    const char *file;
};

static int cleaned_enough(void *ud)
{
    struct wait_ctx *w = ud;
    struct log_cleaner_stats st;
    log_cleaner_get_stats(w->lc, &st);
    return st.cleanings >= w->want_cleanings && !log_cleaner_busy(w->lc);
}

static int file_has_entry(void *ud)
{
    struct wait_ctx *w = ud;
    FILE *f = fopen(w->file, "r");
    if (!f)
        return 0;
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, "\nt 0 ") != NULL;
}

static void test_threaded(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    char base[512], dir[600], err[256];
    new_dir(base, sizeof base);
    mkdir(base, 0755);
    snprintf(dir, sizeof dir, "%s/t-0", base);
    struct log_cleaner_config lcfg;
    log_cleaner_config_default(&lcfg);
    lcfg.threads = 2;
    lcfg.backoff_ms = 20;
    lcfg.dedupe_buffer_size = 1 << 20;
    struct log_cleaner *lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err,
                                             sizeof err);
    ok(lc != NULL, "log cleaner with 2 threads (%s)", lc ? "" : err);

    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, fl, now_ms(), err, sizeof err);
    struct expect e;
    memset(&e, 0, sizeof e);
    produce(pl, 0, 3000, &e, 1);
    is_int(log_cleaner_add(lc, pl, "t", 0), 0, "log registered");
    struct wait_ctx w = { lc, 1, NULL };
    ok(cf_run_until(loop, cleaned_enough, &w, 10000), "cleaned by a worker thread");
    int64_t active = plog_segment_base(pl, plog_segment_count(pl) - 1);
    is_int(log_cleaner_checkpoint(lc, pl), active, "cleaner position = the active segment's base");
    int recs;
    is_int(verify(pl, &e, &recs, NULL), 0, "every key's latest value after the threaded clean");
    char ck[700];
    snprintf(ck, sizeof ck, "%s/cleaner-offset-checkpoint", base);
    w.file = ck;
    ok(cf_run_until(loop, file_has_entry, &w, 5000), "cleaner-offset-checkpoint written");
    FILE *f = fopen(ck, "r");
    char text[128] = "", want[128];
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = 0;
        fclose(f);
    }
    snprintf(want, sizeof want, "0\n1\nt 0 %lld\n", (long long)active);
    is_str(text, want, "checkpoint in Kafka's format");

    /* Nothing dirty: no more cleanings. */
    struct log_cleaner_stats st0, st1;
    log_cleaner_get_stats(lc, &st0);
    int64_t until = now_ms() + 200;
    while (now_ms() < until)
        ev_run(loop, EVRUN_NOWAIT), usleep(5000);
    log_cleaner_get_stats(lc, &st1);
    is_int(st1.cleanings, st0.cleanings, "a clean log is left alone");

    /* The position survives: a new cleaner reads it back. */
    log_cleaner_remove(lc, pl, false);
    log_cleaner_free(lc);
    lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err, sizeof err);
    log_cleaner_add(lc, pl, "t", 0);
    is_int(log_cleaner_checkpoint(lc, pl), active, "checkpoint loaded at registration");

    /* Abort: a throttled cleaning is stopped promptly by remove. */
    produce(pl, 3000, 20000, &e, 0);
    lcfg.io_max_bytes_per_second = 20000;
    log_cleaner_reconfigure(lc, &lcfg);
    log_cleaner_wakeup(lc);
    ok(log_cleaner_busy(lc), "a cleaning is running");
    usleep(400000);
    int64_t t0 = now_ms();
    log_cleaner_remove(lc, pl, true);
    int64_t took = now_ms() - t0;
    ok(took < 2000, "remove aborted the throttled cleaning in %lld ms", (long long)took);
    ok(cf_count_files(dir, ".cleaned") == 0, "the aborted cleaning left no .cleaned files");
    is_int(verify(pl, &e, NULL, NULL), 0, "log intact after the abort");
    struct log_cleaner_stats st2;
    log_cleaner_get_stats(lc, &st2);
    ok(st2.aborted >= 1, "counted as aborted");

    /* Free with a job in flight. */
    log_cleaner_add(lc, pl, "t", 0);
    log_cleaner_wakeup(lc);
    usleep(200000);
    t0 = now_ms();
    log_cleaner_free(lc);
    ok(now_ms() - t0 < 2000, "log_cleaner_free stops a throttled cleaning promptly");
    ok(cf_count_files(dir, ".cleaned") == 0, "no .cleaned files after free");
    is_int(verify(pl, &e, NULL, NULL), 0, "log intact after free");
    plog_close(pl);
    flusher_free(fl);
    ev_loop_destroy(loop);
}

/* ---- pause/resume, log dir switches and failures, I/O errors ------------- */

struct file_want {
    const char *file;
    const char *text;
};

static int file_is(void *ud)
{
    struct file_want *w = ud;
    FILE *f = fopen(w->file, "r");
    if (!f)
        return 0;
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strcmp(buf, w->text) == 0;
}

static void idle(struct ev_loop *loop, int ms)
{
    int64_t until = now_ms() + ms;
    while (now_ms() < until)
        ev_run(loop, EVRUN_NOWAIT), usleep(5000);
}

static void set_throttle(struct log_cleaner *lc, struct log_cleaner_config *c, double rate)
{
    c->io_max_bytes_per_second = rate;
    log_cleaner_reconfigure(lc, c);
}

static void test_pause_and_dirs(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    char base1[512], base2[512], dir1[600], dir2[600], ck1[700], ck2[700], err[256], cmd[2000];
    new_dir(base1, sizeof base1);
    new_dir(base2, sizeof base2);
    mkdir(base1, 0755);
    mkdir(base2, 0755);
    snprintf(dir1, sizeof dir1, "%s/t-0", base1);
    snprintf(dir2, sizeof dir2, "%s/t-0", base2);
    snprintf(ck1, sizeof ck1, "%s/cleaner-offset-checkpoint", base1);
    snprintf(ck2, sizeof ck2, "%s/cleaner-offset-checkpoint", base2);
    struct log_cleaner_config lcfg;
    log_cleaner_config_default(&lcfg);
    lcfg.threads = 1;
    lcfg.backoff_ms = 20;
    lcfg.dedupe_buffer_size = 1 << 20;
    struct log_cleaner *lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err,
                                             sizeof err);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir1, &cfg, fl, now_ms(), err, sizeof err);
    struct expect e;
    memset(&e, 0, sizeof e);
    produce(pl, 0, 3000, &e, 1);
    log_cleaner_add(lc, pl, "t", 0);

    /* Paused: a dirty log is not cleaned until resumed. */
    log_cleaner_pause(lc, pl);
    idle(loop, 300);
    struct log_cleaner_stats st;
    log_cleaner_get_stats(lc, &st);
    is_int(st.cleanings, 0, "a paused log is not cleaned");
    log_cleaner_resume(lc, pl);
    struct wait_ctx w = { lc, 1, NULL };
    ok(cf_run_until(loop, cleaned_enough, &w, 10000), "cleaned once resumed");
    int64_t cp1 = log_cleaner_checkpoint(lc, pl);
    char want[128];
    snprintf(want, sizeof want, "0\n1\nt 0 %lld\n", (long long)cp1);
    struct file_want fw = { ck1, want };
    ok(cf_run_until(loop, file_is, &fw, 5000), "position %lld in the first dir's checkpoint",
       (long long)cp1);

    /* Pause aborts a cleaning in progress (AlterReplicaLogDirs' copy). */
    produce(pl, 3000, 20000, &e, 0);
    set_throttle(lc, &lcfg, 20000);
    log_cleaner_wakeup(lc);
    ok(log_cleaner_busy(lc), "a throttled cleaning is running");
    usleep(300000);
    int64_t t0 = now_ms();
    log_cleaner_pause(lc, pl);
    ok(now_ms() - t0 < 2000 && !log_cleaner_busy(lc), "pause aborted it in %lld ms",
       (long long)(now_ms() - t0));
    ok(cf_count_files(dir1, ".cleaned") == 0, "no .cleaned files left by the aborted cleaning");
    is_int(log_cleaner_checkpoint(lc, pl), cp1, "position unchanged by the abort");
    set_throttle(lc, &lcfg, DBL_MAX);

    /* The switch to the other dir: the position moves with the log. */
    log_cleaner_detach(lc, pl);
    plog_close(pl);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && rm -rf '%s'", dir1, dir2, dir1);
    is_int(system(cmd), 0, "log directory moved");
    pl = plog_open(dir2, &cfg, fl, now_ms(), err, sizeof err);
    ok(pl != NULL, "reopened in the second dir");
    log_cleaner_reattach(lc, "t", 0, pl, false);
    is_int(log_cleaner_checkpoint(lc, pl), cp1, "reattached log keeps its position");
    struct file_want fw2 = { ck2, want };
    ok(cf_run_until(loop, file_is, &fw2, 5000), "position written to the second dir's checkpoint");
    struct file_want fw1 = { ck1, "0\n0\n" };
    ok(cf_run_until(loop, file_is, &fw1, 5000), "and dropped from the first dir's");
    idle(loop, 200);
    log_cleaner_get_stats(lc, &st);
    is_int(st.cleanings, 1, "still paused after the reattach");
    log_cleaner_resume(lc, pl);
    w.want_cleanings = 2;
    ok(cf_run_until(loop, cleaned_enough, &w, 20000), "cleaned in its new dir once resumed");
    int64_t cp2 = log_cleaner_checkpoint(lc, pl);
    ok(cp2 > cp1, "position advanced");
    char want2[128];
    snprintf(want2, sizeof want2, "0\n1\nt 0 %lld\n", (long long)cp2);
    struct file_want fw3 = { ck2, want2 };
    ok(cf_run_until(loop, file_is, &fw3, 5000), "new position in the second dir's checkpoint");
    is_int(verify(pl, &e, NULL, NULL), 0, "every key's latest value after the move");

    /* Reattach with no log (the topic went away during the switch). */
    struct partition_log *other = plog_open(dir1, &cfg, fl, now_ms(), err, sizeof err);
    log_cleaner_add(lc, other, "u", 0);
    log_cleaner_detach(lc, other);
    log_cleaner_reattach(lc, "u", 0, NULL, true);
    is_int(log_cleaner_checkpoint(lc, other), -1, "a log that went away is forgotten");
    plog_close(other);

    /* Dir failure: the running cleaning stops, the log is forgotten and
     * the dir's checkpoint is never written again. */
    produce(pl, 23000, 20000, &e, 0);
    set_throttle(lc, &lcfg, 20000);
    log_cleaner_wakeup(lc);
    ok(log_cleaner_busy(lc), "a throttled cleaning is running in the second dir");
    usleep(300000);
    unlink(ck2);
    t0 = now_ms();
    log_cleaner_dir_failed(lc, base2);
    ok(now_ms() - t0 < 2000 && !log_cleaner_busy(lc), "dir failure aborted it in %lld ms",
       (long long)(now_ms() - t0));
    is_int(log_cleaner_checkpoint(lc, pl), -1, "its logs are forgotten");
    log_cleaner_remove(lc, pl, true); /* no-op now */
    idle(loop, 200);
    ok(access(ck2, F_OK) != 0, "the failed dir's checkpoint is not written");
    log_cleaner_free(lc);
    plog_close(pl);
    flusher_free(fl);
    ev_loop_destroy(loop);
}

struct io_seen {
    int n, err;
    char what[64];
};

static void io_hook(void *ud, struct partition_log *pl, int err, const char *what)
{
    (void)pl;
    struct io_seen *s = ud;
    s->n++;
    s->err = err;
    snprintf(s->what, sizeof s->what, "%s", what);
}

static int hook_called(void *ud)
{
    return ((struct io_seen *)ud)->n > 0;
}

/* A directory where the cleaner wants a file: opening or renaming onto it
 * fails with a real errno (root ignores permissions, so no chmod). */
static void plant_dir(const char *dir, const char *name)
{
    char p[700], f[760];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    mkdir(p, 0755);
    snprintf(f, sizeof f, "%s/keep", p);
    close(open(f, O_WRONLY | O_CREAT, 0644));
}

static void test_io_errors(void)
{
    /* Worker thread: the cleaned segment cannot be created. */
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    char base[512], dir[600], err[256], cmd[700];
    new_dir(base, sizeof base);
    mkdir(base, 0755);
    snprintf(dir, sizeof dir, "%s/t-0", base);
    struct log_cleaner_config lcfg;
    log_cleaner_config_default(&lcfg);
    lcfg.backoff_ms = 20;
    lcfg.dedupe_buffer_size = 1 << 20;
    struct log_cleaner *lc = log_cleaner_new(loop, fl, NULL, &lcfg, NULL, NULL, NULL, err,
                                             sizeof err);
    struct plog_config cfg = compact_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, fl, now_ms(), err, sizeof err);
    struct io_seen seen = { 0, 0, "" };
    plog_set_io_error_cb(pl, io_hook, &seen);
    struct expect e;
    memset(&e, 0, sizeof e);
    produce(pl, 0, 3000, &e, 1);
    plant_dir(dir, "00000000000000000000.log.cleaned");
    log_cleaner_add(lc, pl, "t", 0);
    ok(cf_run_until(loop, hook_called, &seen, 10000), "an I/O error while cleaning reaches the log's "
                                                   "I/O error hook");
    is_int(seen.err, EISDIR, "with the errno");
    is_str(seen.what, "cleaning", "naming the operation");
    struct log_cleaner_stats st;
    log_cleaner_get_stats(lc, &st);
    ok(st.failed == 1 && st.cleanings == 0, "counted as a failed cleaning");
    is_int(verify(pl, &e, NULL, NULL), 0, "log intact");
    log_cleaner_remove(lc, pl, false);
    log_cleaner_free(lc);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/00000000000000000000.log.cleaned'", dir);
    if (system(cmd) != 0)
        diag("rm failed");

    /* Loop thread: the first rename of a swap fails. */
    plant_dir(dir, "00000000000000000000.index.swap");
    struct offset_map *map = offset_map_new(1 << 20, 0.9);
    struct sync_ctx c = { 0 };
    int64_t end;
    seen.n = 0;
    struct cleaner_stats cst;
    ok(clean_now(pl, &c, 0, now_ms(), 86400000, map, &end, &cst) != 0,
       "a cleaning whose swap cannot rename fails");
    is_int(seen.n, 1, "the failed rename reaches the I/O error hook");
    is_str(seen.what, "swapping cleaned segments into", "naming the swap");
    ok(cf_count_files(dir, ".cleaned") == 0, "the cleaned segment is discarded");
    is_int(verify(pl, &e, NULL, NULL), 0, "log intact, old segments in place");
    offset_map_free(map);
    plog_close(pl);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/00000000000000000000.index.swap'", dir);
    if (system(cmd) != 0)
        diag("rm failed");
    pl = plog_open(dir, &cfg, NULL, now_ms(), err, sizeof err);
    ok(pl && verify(pl, &e, NULL, NULL) == 0, "and after reopening");
    plog_close(pl);
    flusher_free(fl);
    ev_loop_destroy(loop);
}

int main(void)
{
    plf_begin("sluice-compaction");
    test_full_clean();
    test_crash_recovery();
    test_stale_swap();
    test_keyless_and_retention();
    test_threaded();
    test_pause_and_dirs();
    test_io_errors();
    plf_end();
    return done_testing();
}
