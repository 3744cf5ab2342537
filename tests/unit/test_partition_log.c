/* Partition log: append/read across segment rolls, index lookups,
 * timestamps, retention, DeleteRecords, recovery of torn/corrupt tails,
 * clean reopen, leader epochs and the flusher with a real ev_loop. */
#include "storage/partition_log.h"
#include "storage/flusher.h"
#include "plog_fixture.h"

#include <ev.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct plog_config small_cfg(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.segment_bytes = 500;
    c.index_interval_bytes = 100;
    c.retention_ms = -1;
    return c;
}

/* Batch i of a test: 3 records "b<i>-r<j>", timestamps 1000 + 10*i + j. */
static uint8_t *make_batch(int i, size_t *len)
{
    struct bb_record recs[3];
    char vals[3][32];
    for (int j = 0; j < 3; j++) {
        snprintf(vals[j], sizeof vals[j], "b%d-r%d", i, j);
        struct bb_record r = BB_REC(NULL, vals[j], 1000 + 10 * i + j);
        recs[j] = r;
    }
    return bb_build(recs, 3, NULL, len);
}

static int append_batches(struct partition_log *pl, int from, int to, int32_t epoch)
{
    int bad = 0;
    for (int i = from; i < to; i++) {
        size_t len;
        uint8_t *b = make_batch(i, &len);
        struct plog_append_result res;
        int rc = plog_append(pl, b, len, epoch, 5000, NULL, NULL, &res);
        if (rc || res.base_offset != 3 * i || res.last_offset != 3 * i + 2) {
            diag("append %d: rc %d base %lld last %lld %s", i, rc, (long long)res.base_offset,
                 (long long)res.last_offset, res.errmsg);
            bad++;
        }
        free(b);
    }
    return bad;
}

/* Read the spans of a result into memory. */
static uint8_t *collect(const struct plog_read_result *r)
{
    uint8_t *buf = malloc(r->bytes + 1);
    size_t at = 0;
    for (int i = 0; i < r->nspans; i++) {
        if (pread(r->spans[i].fd, buf + at, r->spans[i].len, r->spans[i].off) !=
            (ssize_t)r->spans[i].len)
            diag("short pread");
        at += r->spans[i].len;
    }
    return buf;
}

/* Check every record from `from` to the end against make_batch(); returns
 * the number of records verified, -1 on mismatch. */
static int verify_all(struct partition_log *pl, int64_t from, size_t max_bytes)
{
    int64_t off = from, leo = plog_log_end_offset(pl);
    int count = 0;
    while (off < leo) {
        struct plog_read_result r;
        if (plog_read(pl, off, max_bytes, -1, &r) != 0 || r.bytes == 0)
            return -1;
        uint8_t *buf = collect(&r);
        size_t pos = 0;
        while (pos < r.bytes) {
            struct rb_info info;
            char err[128];
            if (rb_validate(buf + pos, r.bytes - pos, 0, NULL, NULL, &info, err, sizeof err)) {
                diag("stored batch invalid: %s", err);
                free(buf);
                return -1;
            }
            struct rb_iter it;
            struct rb_record rec;
            rb_iter_init(&it, buf + pos, info.size, NULL, NULL);
            while (rb_iter_next(&it, &rec) == 1) {
                char want[32];
                snprintf(want, sizeof want, "b%d-r%d", (int)(rec.offset / 3), (int)(rec.offset % 3));
                if (rec.offset < off) /* first batch may start before the fetch offset */
                    continue;
                if (rec.offset != off || rec.value_len != (int32_t)strlen(want) ||
                    memcmp(rec.value, want, strlen(want)) != 0 ||
                    rec.timestamp != 1000 + 10 * (rec.offset / 3) + rec.offset % 3) {
                    diag("record at %lld: expected offset %lld value %s", (long long)rec.offset,
                         (long long)off, want);
                    rb_iter_free(&it);
                    free(buf);
                    return -1;
                }
                off++;
                count++;
            }
            rb_iter_free(&it);
            pos += info.size;
        }
        free(buf);
    }
    return count;
}

static void test_roundtrip(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 5000, err, sizeof err);
    ok(pl != NULL, "open new log (%s)", pl ? "" : err);
    is_int(plog_log_end_offset(pl), 0, "empty log: LEO 0");
    is_int(append_batches(pl, 0, 50, 0), 0, "50 batches appended with exact offsets");
    is_int(plog_log_end_offset(pl), 150, "LEO 150");
    is_int(plog_high_watermark(pl), 150, "HW = LEO");
    ok(plog_segment_count(pl) >= 10, "rolled into %d segments", plog_segment_count(pl));
    is_int(plog_segment_base(pl, 1) % 3, 0, "segments start on batch boundaries");
    is_int(verify_all(pl, 0, 1 << 20), 150, "read back all 150 records (large fetches)");
    is_int(verify_all(pl, 0, 200), 150, "read back all 150 records (small fetches)");
    is_int(verify_all(pl, 77, 300), 73, "read from the middle of a batch");

    /* Index lookup: every offset finds its containing batch, alone. */
    int bad = 0;
    for (int64_t o = 0; o < 150; o++) {
        struct plog_read_result r;
        if (plog_read(pl, o, 1, -1, &r) != 0 || r.nspans != 1) {
            bad++;
            continue;
        }
        uint8_t *buf = collect(&r);
        if (rb_get_i64(buf) != o - o % 3 || rb_batch_size(buf, r.bytes) != r.bytes)
            bad++;
        free(buf);
    }
    is_int(bad, 0, "each offset returns exactly its containing batch (KIP-74 one batch)");

    struct plog_read_result r;
    is_int(plog_read(pl, 0, 1 << 20, 7, &r), 0, "read bounded by max offset");
    uint8_t *buf = collect(&r);
    size_t pos = 0;
    int64_t last_base = -1;
    while (pos < r.bytes) {
        last_base = rb_get_i64(buf + pos);
        pos += rb_batch_size(buf + pos, r.bytes - pos);
    }
    is_int(last_base, 6, "batches up to the one holding offset 6 (base < 7)");
    free(buf);
    ok(plog_read(pl, 0, 1 << 20, 0, &r) == 0 && r.bytes == 0, "max offset 0: empty");
    is_int(plog_read(pl, 151, 100, -1, &r), KP_ERR_OFFSET_OUT_OF_RANGE, "fetch past LEO");
    is_int(plog_read(pl, -1, 100, -1, &r), KP_ERR_OFFSET_OUT_OF_RANGE, "negative fetch offset");
    ok(plog_read(pl, 150, 100, -1, &r) == 0 && r.bytes == 0 && r.high_watermark == 150,
       "fetch at LEO: empty, no error");

    /* Spans never exceed the limit and several segments are covered. */
    ok(plog_read(pl, 0, 1 << 20, -1, &r) == 0 && r.nspans == PLOG_MAX_SPANS,
       "a big fetch spans %d segments", r.nspans);

    /* Timestamps. */
    int64_t o, ts;
    ok(plog_offset_for_timestamp(pl, 0, &o, &ts) == 0 && o == 0 && ts == 1000, "ts 0 -> offset 0");
    ok(plog_offset_for_timestamp(pl, 1011, &o, &ts) == 0 && o == 4 && ts == 1011,
       "ts 1011 -> offset 4 (got %lld/%lld)", (long long)o, (long long)ts);
    ok(plog_offset_for_timestamp(pl, 1013, &o, &ts) == 0 && o == 6 && ts == 1020,
       "ts 1013 -> offset 6 ts 1020");
    ok(plog_offset_for_timestamp(pl, 1401, &o, &ts) == 0 && o == 121 && ts == 1401,
       "ts 1401 -> offset 121 (got %lld)", (long long)o);
    ok(plog_offset_for_timestamp(pl, 1493, &o, &ts) == 0 && o == -1 && ts == -1,
       "ts after the last -> -1");
    ok(plog_max_timestamp(pl, &o, &ts) == 0 && o == 149 && ts == 1492,
       "max timestamp: offset 149 ts 1492 (got %lld/%lld)", (long long)o, (long long)ts);

    /* Refused appends change nothing. */
    size_t l1, l2;
    uint8_t *good = make_batch(50, &l1), *bad_b = make_batch(51, &l2);
    bad_b[l2 - 1] ^= 0x40;
    uint8_t *both = malloc(l1 + l2);
    memcpy(both, good, l1);
    memcpy(both + l1, bad_b, l2);
    struct plog_append_result res;
    is_int(plog_append(pl, both, l1 + l2, 0, 5000, NULL, NULL, &res), KP_ERR_CORRUPT_MESSAGE,
           "good+corrupt blob refused");
    is_int(plog_log_end_offset(pl), 150, "nothing appended");
    both[RB_OFF_MAGIC] = 1;
    is_int(plog_append(pl, both, l1, 0, 5000, NULL, NULL, &res), KP_ERR_INVALID_RECORD,
           "magic 1 refused");
    struct plog_config c2 = cfg;
    c2.max_message_bytes = 50;
    plog_set_config(pl, &c2);
    is_int(plog_append(pl, good, l1, 0, 5000, NULL, NULL, &res), KP_ERR_MESSAGE_TOO_LARGE,
           "batch over max.message.bytes");
    c2 = cfg;
    c2.segment_bytes = 60;
    plog_set_config(pl, &c2);
    is_int(plog_append(pl, good, l1, 0, 5000, NULL, NULL, &res), KP_ERR_RECORD_LIST_TOO_LARGE,
           "records over segment.bytes");
    c2 = cfg;
    c2.message_timestamp_after_max_ms = 100;
    plog_set_config(pl, &c2);
    is_int(plog_append(pl, good, l1, 0, 0, NULL, NULL, &res), KP_ERR_INVALID_TIMESTAMP,
           "timestamp too far in the future");
    is_int(plog_log_end_offset(pl), 150, "still nothing appended");
    plog_set_config(pl, &cfg);
    free(both);
    free(bad_b);
    free(good);
    plog_close(pl);
}

static void test_log_append_time(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    cfg.timestamp_type = 1;
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    size_t len;
    uint8_t *b = make_batch(0, &len);
    struct plog_append_result res;
    is_int(plog_append(pl, b, len, 3, 777777, NULL, NULL, &res), 0, "append with LogAppendTime");
    is_int(res.log_append_time, 777777, "log_append_time reported");
    struct plog_read_result r;
    plog_read(pl, 0, 4096, -1, &r);
    uint8_t *buf = collect(&r);
    struct rb_info info;
    char e[128];
    is_int(rb_validate(buf, r.bytes, 0, NULL, NULL, &info, e, sizeof e), 0, "stored batch valid (CRC recomputed)");
    ok((info.h.attributes & RB_ATTR_LOG_APPEND_TIME) && info.h.max_timestamp == 777777 &&
           info.h.partition_leader_epoch == 3,
       "stored with LogAppendTime attribute, maxTimestamp and leader epoch");
    ok(memcmp(buf, b, r.bytes) == 0, "stored bytes are exactly the (rewritten) input");
    int64_t o, ts;
    ok(plog_offset_for_timestamp(pl, 777000, &o, &ts) == 0 && o == 0 && ts == 777777,
       "timestamp lookup uses the append time");
    free(buf);
    free(b);
    plog_close(pl);
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static void crash_prepare(const char *dir, int drop_recovery_point)
{
    char p[600];
    snprintf(p, sizeof p, "%s/.clean-shutdown", dir);
    unlink(p);
    if (drop_recovery_point) {
        snprintf(p, sizeof p, "%s/recovery-point-offset", dir);
        unlink(p);
    }
}

static void last_log(struct partition_log *pl, const char *dir, char *p, size_t n)
{
    snprintf(p, n, "%s/%020lld.log", dir, (long long)plog_segment_base(pl, plog_segment_count(pl) - 1));
}

static void test_recovery(void)
{
    char dir[512], err[256], logp[700];
    struct plog_config cfg = small_cfg();
    cfg.segment_bytes = 100000;

    /* Torn tail: cut the last batch in the middle. */
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 20, 0);
    last_log(pl, dir, logp, sizeof logp);
    plog_close(pl);
    crash_prepare(dir, 0);
    off_t sz = file_size(logp);
    ok(truncate(logp, sz - 10) == 0, "truncate .log mid-batch");
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "reopen after torn write");
    is_int(plog_log_end_offset(pl), 57, "LEO = end of the last complete batch (19 batches)");
    is_int(verify_all(pl, 0, 1 << 20), 57, "exactly the 57 surviving records read back");
    is_int(append_batches(pl, 19, 21, 0), 0, "appends continue at the recovered LEO");
    is_int(verify_all(pl, 0, 1 << 20), 63, "63 records after re-append");
    plog_close(pl);

    /* Corrupt byte in the last batch (CRC mismatch), no recovery point. */
    new_dir(dir, sizeof dir);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 20, 0);
    last_log(pl, dir, logp, sizeof logp);
    plog_close(pl);
    crash_prepare(dir, 1);
    sz = file_size(logp);
    int fd = open(logp, O_RDWR);
    uint8_t byte;
    pread(fd, &byte, 1, sz - 3);
    byte ^= 0xff;
    pwrite(fd, &byte, 1, sz - 3);
    close(fd);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_log_end_offset(pl), 57, "corrupt last batch dropped: LEO 57");
    is_int(verify_all(pl, 0, 1 << 20), 57, "survivors read back intact");
    ok(file_size(logp) < sz, "file truncated at the last valid batch");
    plog_close(pl);

    /* Garbage appended after valid batches, and a stale index. */
    new_dir(dir, sizeof dir);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 20, 0);
    last_log(pl, dir, logp, sizeof logp);
    plog_close(pl);
    crash_prepare(dir, 1);
    fd = open(logp, O_WRONLY | O_APPEND);
    write(fd, "\0\0\0\0\0\0\0\0\0\0\0\x40garbage", 19);
    close(fd);
    char idxp[700];
    snprintf(idxp, sizeof idxp, "%.*s.index", (int)(strlen(logp) - 4), logp);
    truncate(idxp, 5);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_log_end_offset(pl), 60, "trailing garbage cut, all 20 batches kept");
    is_int(file_size(idxp) % 8, 0, "index rebuilt");
    is_int(verify_all(pl, 0, 1 << 20), 60, "all records read back");
    plog_close(pl);

    /* Clean reopen keeps everything and does not rescan. */
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_log_end_offset(pl), 60, "clean reopen: LEO 60");
    is_int(verify_all(pl, 31, 1 << 20), 29, "clean reopen: read from the middle");
    int64_t o, ts;
    ok(plog_max_timestamp(pl, &o, &ts) == 0 && o == 59 && ts == 1192, "max timestamp after reopen");
    plog_close(pl);
}

static void test_retention(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 40, 0);
    int nseg = plog_segment_count(pl);
    size_t len;
    uint8_t *b = make_batch(0, &len);
    free(b);
    /* Keep about three segments' worth of bytes. */
    cfg.retention_bytes = 2500;
    plog_set_config(pl, &cfg);
    int del = plog_maintain(pl, 6000, true);
    ok(del > 0, "retention.bytes deleted %d segments", del);
    is_int(plog_segment_count(pl), nseg - del, "segment count reduced");
    is_int(plog_log_start_offset(pl), plog_segment_base(pl, 0), "log start = first segment base");
    struct plog_read_result r;
    is_int(plog_read(pl, plog_log_start_offset(pl) - 1, 100, -1, &r), KP_ERR_OFFSET_OUT_OF_RANGE,
           "below log start is out of range");
    is_int(verify_all(pl, plog_log_start_offset(pl), 4096),
           (int)(120 - plog_log_start_offset(pl)), "the rest reads back");
    ok(plog_read(pl, 0, 100, -1, &r) == KP_ERR_OFFSET_OUT_OF_RANGE && r.log_start_offset > 0,
           "read result reports the new log start");

    /* Retention by time: everything is older than 1 s at now = 10 s, so the
     * active segment goes too, after rolling an empty one. */
    cfg.retention_bytes = -1;
    cfg.retention_ms = 1000;
    plog_set_config(pl, &cfg);
    del = plog_maintain(pl, 10000, true);
    ok(del > 0, "retention.ms deleted %d segments", del);
    is_int(plog_segment_count(pl), 1, "one (new, empty) segment left");
    is_int(plog_log_start_offset(pl), 120, "log start = LEO");
    is_int(plog_log_end_offset(pl), 120, "LEO unchanged");
    is_int(append_batches(pl, 40, 41, 0), 0, "append continues at 120");
    cfg.retention_ms = -1;
    plog_set_config(pl, &cfg);
    plog_close(pl);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_log_start_offset(pl), 120, "log start persisted");
    is_int(plog_log_end_offset(pl), 123, "LEO after reopen");
    plog_close(pl);
}

static void test_delete_records(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 30, 0);
    int nseg = plog_segment_count(pl);
    int64_t ls;
    is_int(plog_delete_records(pl, 40, &ls), 0, "delete records below 40");
    is_int(ls, 40, "log start 40");
    ok(plog_segment_count(pl) < nseg && plog_segment_base(pl, 0) <= 40,
       "segments entirely below 40 deleted");
    struct plog_read_result r;
    is_int(plog_read(pl, 39, 100, -1, &r), KP_ERR_OFFSET_OUT_OF_RANGE, "39 out of range");
    ok(plog_read(pl, 40, 1, -1, &r) == 0 && r.nspans == 1, "40 readable");
    uint8_t *buf = collect(&r);
    is_int(rb_get_i64(buf), 39, "returns the batch containing 40 (base 39)");
    free(buf);
    is_int(plog_delete_records(pl, 10, &ls), 0, "lower offset: no-op");
    is_int(ls, 40, "log start stays 40");
    is_int(plog_delete_records(pl, 91, &ls), KP_ERR_OFFSET_OUT_OF_RANGE, "beyond HW refused");
    is_int(plog_delete_records(pl, -1, &ls), 0, "-1 = high watermark");
    is_int(ls, 90, "log start = HW");
    int64_t o, ts;
    ok(plog_offset_for_timestamp(pl, 0, &o, &ts) == 0 && o == -1, "no timestamps below log start");
    plog_close(pl);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_log_start_offset(pl), 90, "log start persisted across reopen");
    ok(plog_delete(pl) == 0 && access(dir, F_OK) != 0, "plog_delete removes the directory");
}

static void test_epochs(void)
{
    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    append_batches(pl, 0, 2, 0);
    append_batches(pl, 2, 4, 5);
    append_batches(pl, 4, 5, 5);
    is_int(plog_epoch_count(pl), 2, "two epochs");
    int32_t e;
    int64_t s;
    plog_epoch_entry(pl, 1, &e, &s);
    ok(e == 5 && s == 6, "epoch 5 starts at 6");
    char p[600];
    snprintf(p, sizeof p, "%s/leader-epoch-checkpoint", dir);
    FILE *f = fopen(p, "r");
    char content[128] = "";
    if (f) {
        size_t n = fread(content, 1, sizeof content - 1, f);
        content[n] = 0;
        fclose(f);
    }
    is_str(content, "0\n2\n0 0\n5 6\n", "leader-epoch-checkpoint in Kafka's format");
    plog_close(pl);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    is_int(plog_epoch_count(pl), 2, "epochs reloaded");
    plog_close(pl);
}

struct flush_wait {
    int called, err;
};

static void on_flushed(void *ud, int err)
{
    struct flush_wait *w = ud;
    w->called++;
    w->err = err;
}

static void test_flusher(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct flusher *fl = flusher_new(loop);
    ok(fl != NULL, "flusher started");

    char p[600];
    snprintf(p, sizeof p, "%s/raw", root);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    write(fd, "x", 1);
    struct flush_wait w = { 0, -1 };
    is_int(flusher_submit(fl, fd, on_flushed, &w), 0, "submit raw fd");
    close(fd); /* the flusher holds its own dup */
    is_int(w.called, 0, "callback not run synchronously");
    ev_run(loop, 0);
    ok(w.called == 1 && w.err == 0, "callback ran on the loop with err 0");

    char dir[512], err[256];
    new_dir(dir, sizeof dir);
    struct plog_config cfg = small_cfg();
    cfg.flush_interval_messages = 1;
    struct partition_log *pl = plog_open(dir, &cfg, fl, 0, err, sizeof err);
    size_t len;
    uint8_t *b = make_batch(0, &len);
    struct plog_append_result res;
    plog_append(pl, b, len, 0, 5000, NULL, NULL, &res);
    free(b);
    is_int(res.need_flush, 1, "flush.messages=1: need_flush");
    struct flush_wait w2 = { 0, -1 };
    is_int(plog_flush(pl, on_flushed, &w2), 0, "plog_flush queued");
    is_int(w2.called, 0, "done not called before the loop runs");
    ev_run(loop, 0);
    ok(w2.called == 1 && w2.err == 0, "done called once on the loop, err 0");
    snprintf(p, sizeof p, "%s/recovery-point-offset", dir);
    FILE *f = fopen(p, "r");
    char content[64] = "";
    if (f) {
        size_t n = fread(content, 1, sizeof content - 1, f);
        content[n] = 0;
        fclose(f);
    }
    is_str(content, "0\n3\n", "recovery point advanced to the flushed LEO");

    /* Many segments and a roll, with the async checkpoint writes. */
    is_int(append_batches(pl, 1, 30, 2), 0, "appends with a flusher attached");
    struct flush_wait w3 = { 0, -1 };
    plog_flush(pl, on_flushed, &w3);
    ev_run(loop, 0);
    ok(w3.called == 1 && w3.err == 0, "second flush done");
    snprintf(p, sizeof p, "%s/leader-epoch-checkpoint", dir);
    f = fopen(p, "r");
    content[0] = 0;
    if (f) {
        size_t n = fread(content, 1, sizeof content - 1, f);
        content[n] = 0;
        fclose(f);
    }
    is_str(content, "0\n2\n0 0\n2 3\n", "epoch checkpoint renamed in place after its fsync");
    /* A flush still in flight when the log closes must stay safe. */
    struct flush_wait w4 = { 0, -1 };
    plog_flush(pl, on_flushed, &w4);
    plog_close(pl);
    flusher_free(fl);
    is_int(w4.called, 1, "in-flight flush completed by flusher_free after close");
    ev_loop_destroy(loop);
}

int main(void)
{
    plf_begin("sluice-plog");
    test_roundtrip();
    test_log_append_time();
    test_recovery();
    test_retention();
    test_delete_records();
    test_epochs();
    test_flusher();
    plf_end();
    return done_testing();
}
