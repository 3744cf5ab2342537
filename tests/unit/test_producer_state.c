/* Idempotent producer state: the sequence/epoch state machine through
 * plog_append (in order, duplicates of each of the last 5 batches, the 6th
 * oldest, gaps, epoch fencing, unknown producers, wrap-around at
 * INT32_MAX, multi-batch appends), Kafka's snapshot format and its round
 * trip, snapshots at roll/close and their deletion by retention, recovery
 * rebuild after a truncated tail, corrupt snapshots, and expiry. */
#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "util/crc32c.h"
#include "plog_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

/* A batch of n records from producer pid/epoch starting at sequence seq;
 * values "p<pid>-s<seq+i>". */
static uint8_t *pbatch(int64_t pid, int16_t epoch, int32_t seq, int n, size_t *len)
{
    return plf_producer_batch(pid, epoch, seq, n, 0, NULL, "s", len);
}

struct res {
    int rc;
    int64_t base, last, lat;
};

static struct res produce(struct partition_log *pl, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    size_t len;
    uint8_t *b = pbatch(pid, epoch, seq, n, &len);
    struct plog_append_result r;
    int rc = plog_append(pl, b, len, 0, 5000, NULL, NULL, &r);
    free(b);
    struct res out = { rc, r.base_offset, r.last_offset, r.log_append_time };
    return out;
}

static void test_state_machine(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "open: %s", pl ? "" : err);

    /* In order: 8 batches of 3 records, seq 0, 3, ... 21. */
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        struct res r = produce(pl, 1000, 0, 3 * i, 3);
        bad += r.rc != 0 || r.base != 3 * i || r.last != 3 * i + 2;
    }
    is_int(bad, 0, "8 in-order batches appended at offsets 0, 3, ... 21");
    is_int(plog_log_end_offset(pl), 24, "LEO 24");

    /* Each of the last 5 batches retried: original offsets, nothing written. */
    for (int i = 3; i < 8; i++) {
        struct res r = produce(pl, 1000, 0, 3 * i, 3);
        ok(r.rc == 0 && r.base == 3 * i && r.last == 3 * i + 2,
           "duplicate of batch %d (seq %d..%d) answers its original offsets %d..%d (got rc %d, %lld..%lld)",
           i, 3 * i, 3 * i + 2, 3 * i, 3 * i + 2, r.rc, (long long)r.base, (long long)r.last);
        is_int(r.lat, 1002, "duplicate %d: log append time is the stored batch's max timestamp", i);
    }
    is_int(plog_log_end_offset(pl), 24, "duplicates wrote nothing (LEO still 24)");

    struct res r = produce(pl, 1000, 0, 6, 3);
    is_int(r.rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
           "6th-oldest batch retried: OUT_OF_ORDER_SEQUENCE_NUMBER (outside the 5 kept)");
    r = produce(pl, 1000, 0, 25, 1);
    is_int(r.rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "gap: seq 25 after last seq 23");
    r = produce(pl, 1000, 0, 24, 1);
    ok(r.rc == 0 && r.base == 24, "seq 24 continues at offset 24");
    plog_close(pl);
}

/* Written separately so each assertion states exactly one rule. */
static void test_rules(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);

    struct res r = produce(pl, 7, 0, 0, 2); /* seq 0..1, offsets 0..1 */
    is_int(r.rc, 0, "first batch of producer 7 accepted");
    r = produce(pl, 7, 0, 3, 1);
    is_int(r.rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "gap: seq 3 after last seq 1");
    r = produce(pl, 7, 0, 1, 1);
    is_int(r.rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
           "overlapping range (seq 1, not a stored batch's exact range)");
    is_int(plog_log_end_offset(pl), 2, "rejected batches wrote nothing");
    r = produce(pl, 7, 0, 2, 1);
    ok(r.rc == 0 && r.base == 2, "seq 2 continues the sequence at offset 2");

    /* Epoch bump (KIP-360 idempotent bump): new epoch must restart at 0. */
    r = produce(pl, 7, 1, 5, 1);
    is_int(r.rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "new epoch with seq 5: OUT_OF_ORDER");
    r = produce(pl, 7, 1, 0, 1);
    ok(r.rc == 0 && r.base == 3, "new epoch 1 at seq 0 accepted at offset 3");
    r = produce(pl, 7, 0, 3, 1);
    is_int(r.rc, KP_ERR_INVALID_PRODUCER_EPOCH, "stale epoch 0 after epoch 1: INVALID_PRODUCER_EPOCH");
    r = produce(pl, 7, 0, 2, 1);
    is_int(r.rc, KP_ERR_INVALID_PRODUCER_EPOCH,
           "retry of an old-epoch batch is not a duplicate: INVALID_PRODUCER_EPOCH");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 7);
    ok(e && e->epoch == 1 && e->nbatches == 1 && e->b[0].last_seq == 0 && e->b[0].last_offset == 3,
       "producer 7: epoch 1, its old-epoch batches forgotten");

    /* Unknown producer: any first sequence (no UNKNOWN_PRODUCER_ID since KIP-360). */
    r = produce(pl, 8, 3, 42, 2);
    ok(r.rc == 0 && r.base == 4, "unknown producer 8 starting at seq 42 accepted");
    r = produce(pl, 8, 3, 44, 1);
    ok(r.rc == 0 && r.base == 6, "producer 8 continues at seq 44");

    /* Wrap-around at INT32_MAX. */
    r = produce(pl, 9, 0, INT32_MAX - 1, 2); /* seq MAX-1..MAX */
    ok(r.rc == 0 && r.base == 7, "producer 9 batch ending at INT32_MAX");
    r = produce(pl, 9, 0, 0, 2);
    ok(r.rc == 0 && r.base == 9, "next batch wraps to seq 0");
    r = produce(pl, 9, 0, 2, 3);
    ok(r.rc == 0 && r.base == 11, "and continues at 2");
    r = produce(pl, 10, 0, INT32_MAX - 1, 4); /* spans the wrap: MAX-1, MAX, 0, 1 */
    ok(r.rc == 0 && r.base == 14, "a batch spanning the wrap (MAX-1 .. 1)");
    e = pstate_get(plog_producer_state(pl), 10);
    ok(e && e->b[0].last_seq == 1 && pstate_batch_first_seq(&e->b[0]) == INT32_MAX - 1,
       "its sequence range is MAX-1 .. 1");
    r = produce(pl, 10, 0, INT32_MAX - 1, 4);
    ok(r.rc == 0 && r.base == 14 && r.last == 17, "its retry is a duplicate at 14..17");
    r = produce(pl, 10, 0, 2, 1);
    ok(r.rc == 0 && r.base == 18, "seq 2 follows the wrapped batch");
    r = produce(pl, 9, 0, INT32_MAX - 1, 2);
    ok(r.rc == 0 && r.base == 7, "producer 9's pre-wrap batch retried: duplicate at 7");

    /* Non-idempotent batches are untouched by all this. */
    r = produce(pl, -1, -1, -1, 2);
    ok(r.rc == 0 && r.base == 19, "plain batch (no producer id) appended");
    r = produce(pl, -1, -1, -1, 2);
    ok(r.rc == 0 && r.base == 21, "the same plain batch again is appended again");
    is_int((int)pstate_count(plog_producer_state(pl)), 4, "4 producers tracked");
    plog_close(pl);
}

/* Two batches of one producer in one append (internal writers may batch). */
static void test_multi_batch(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    size_t l1, l2;
    uint8_t *b1 = pbatch(5, 0, 0, 2, &l1), *b2 = pbatch(5, 0, 2, 2, &l2);
    uint8_t *both = malloc(l1 + l2);
    memcpy(both, b1, l1);
    memcpy(both + l1, b2, l2);
    struct plog_append_result res;
    int rc = plog_append(pl, both, l1 + l2, 0, 5000, NULL, NULL, &res);
    ok(rc == 0 && res.base_offset == 0 && res.last_offset == 3,
       "two in-sequence batches in one append: offsets 0..3");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 5);
    ok(e && e->nbatches == 2 && e->b[1].last_seq == 3 && e->b[1].last_offset == 3,
       "both batches recorded");
    free(b1);
    free(b2);
    b1 = pbatch(5, 0, 4, 2, &l1);
    b2 = pbatch(5, 0, 7, 2, &l2); /* gap after the first */
    memcpy(both, b1, l1);
    memcpy(both + l1, b2, l2);
    rc = plog_append(pl, both, l1 + l2, 0, 5000, NULL, NULL, &res);
    is_int(rc, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "second batch out of order: append refused");
    is_int(plog_log_end_offset(pl), 4, "nothing of it written");
    e = pstate_get(plog_producer_state(pl), 5);
    ok(e && e->nbatches == 2 && e->b[1].last_seq == 3, "state unchanged by the refused append");
    free(b1);
    free(b2);
    free(both);
    plog_close(pl);
}

static void test_log_append_time(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.timestamp_type = 1;
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    struct res r = produce(pl, 3, 0, 0, 2);
    is_int(r.lat, 5000, "LogAppendTime: append time 5000");
    size_t len;
    uint8_t *b = pbatch(3, 0, 0, 2, &len);
    struct plog_append_result res;
    plog_append(pl, b, len, 0, 9000, NULL, NULL, &res);
    free(b);
    ok(res.error == 0 && res.base_offset == 0 && res.log_append_time == 5000,
       "duplicate under LogAppendTime: the original offset and append time (5000, not 9000)");
    plog_close(pl);
}

/* ---- snapshots ---------------------------------------------------------- */

static int file_exists(const char *dir, int64_t off)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%020lld.snapshot", dir, (long long)off);
    return access(p, F_OK) == 0;
}

static void test_snapshot_format(void)
{
    struct producer_state *ps = pstate_new();
    /* Build state through the public append path. */
    struct pstate_txn tx;
    pstate_txn_init(&tx);
    size_t len;
    uint8_t *b = pbatch(0x0102030405060708LL, 0x0a0b, 0x11223344, 2, &len);
    int64_t ts[1] = { 0x55 };
    struct pstate_batch dup;
    char msg[200];
    ok(pstate_check_append(ps, &tx, b, len, 77, ts, 1, &dup, msg, sizeof msg) == 0,
       "staged one batch");
    pstate_commit(ps, &tx, 79);
    pstate_txn_free(&tx);
    free(b);
    uint8_t *buf;
    size_t n;
    ok(pstate_snapshot_encode(ps, &buf, &n) == 0, "encode");
    is_int((int)n, 10 + 46, "one producer, one batch: 10-byte header + one 46-byte entry");
    static const uint8_t want_entry[46] = {
        1, 2, 3, 4, 5, 6, 7, 8,             /* producer_id */
        0x0a, 0x0b,                         /* epoch */
        0x11, 0x22, 0x33, 0x45,             /* last_sequence = base + 1 */
        0, 0, 0, 0, 0, 0, 0, 78,            /* last_offset */
        0, 0, 0, 1,                         /* offset_delta */
        0, 0, 0, 0, 0, 0, 0, 0x55,          /* timestamp */
        0xff, 0xff, 0xff, 0xff,             /* coordinator_epoch -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* current_txn_first_offset -1 */
    };
    ok(buf[0] == 0 && buf[1] == 1, "version 1 (int16)");
    ok(buf[6] == 0 && buf[7] == 0 && buf[8] == 0 && buf[9] == 1, "entry count 1 (int32)");
    is_mem(buf + 10, want_entry, 46, "entry fields in Kafka's order and widths");
    uint32_t crc = crc32c(0, buf + 6, n - 6);
    ok(((uint32_t)buf[2] << 24 | (uint32_t)buf[3] << 16 | (uint32_t)buf[4] << 8 | buf[5]) == crc,
       "crc = CRC-32C of everything after the crc field");

    struct producer_state *back = pstate_new();
    ok(pstate_snapshot_decode(back, buf, n, 79, msg, sizeof msg) == 0, "decode");
    const struct pstate_entry *e = pstate_get(back, 0x0102030405060708LL);
    ok(e && e->epoch == 0x0a0b && e->nbatches == 1 && e->b[0].last_seq == 0x11223345 &&
           e->b[0].last_offset == 78 && e->b[0].offset_delta == 1 && e->last_timestamp == 0x55,
       "round trip restores the entry");
    buf[20] ^= 1;
    ok(pstate_snapshot_decode(back, buf, n, 79, msg, sizeof msg) != 0 && pstate_count(back) == 0,
       "flipped bit: CRC mismatch rejected, state empty");
    buf[20] ^= 1;
    buf[1] = 2;
    ok(pstate_snapshot_decode(back, buf, n, 79, msg, sizeof msg) != 0, "unknown version rejected");
    buf[1] = 1;
    ok(pstate_snapshot_decode(back, buf, n - 1, 79, msg, sizeof msg) != 0, "truncated file rejected");
    free(buf);
    pstate_free(back);
    pstate_free(ps);
}

static void test_snapshot_files(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.segment_bytes = 400; /* a few batches per segment */
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int bad = 0;
    for (int i = 0; i < 12; i++) {
        struct res r = produce(pl, 1, 0, 2 * i, 2);
        bad += r.rc != 0 || r.base != 3 * i;
        r = produce(pl, 2, 4, 100 + i, 1);
        bad += r.rc != 0;
    }
    is_int(bad, 0, "24 batches from 2 producers");
    ok(plog_segment_count(pl) >= 3, "rolled into %d segments", plog_segment_count(pl));
    int snaps = 0;
    for (int i = 1; i < plog_segment_count(pl); i++)
        snaps += file_exists(dir, plog_segment_base(pl, i));
    is_int(snaps, plog_segment_count(pl) - 1, "a snapshot at every rolled-to segment base");
    int64_t leo = plog_log_end_offset(pl);
    plog_close(pl);
    ok(file_exists(dir, leo), "clean close wrote a snapshot at the log end");

    /* Clean reopen: the state (all 5 batches) comes from that snapshot. */
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 1);
    ok(e && e->nbatches == 5 && e->b[4].last_seq == 23, "reopen: producer 1 with its last 5 batches");
    bad = 0;
    for (int i = 7; i < 12; i++) {
        /* Offsets of producer 1's batch i: 3 * i (2 records + 1 of producer 2 per round). */
        struct res r = produce(pl, 1, 0, 2 * i, 2);
        bad += r.rc != 0 || r.base != 3 * i;
    }
    is_int(bad, 0, "after a clean restart each of the last 5 batches is still a duplicate");
    is_int(plog_log_end_offset(pl), leo, "and nothing was written");

    /* Retention deletes the snapshot with its segment. */
    int64_t second = plog_segment_base(pl, 1);
    ok(file_exists(dir, second), "snapshot of segment 1 exists");
    int64_t ls;
    plog_delete_records(pl, plog_segment_base(pl, 2), &ls);
    ok(!file_exists(dir, second), "DeleteRecords past segment 1 deleted its snapshot too");
    plog_close(pl);
}

static void test_recovery_rebuild(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.segment_bytes = 400;
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    for (int i = 0; i < 10; i++)
        produce(pl, 1, 0, 2 * i, 2); /* offsets 2i..2i+1 */
    int nseg = plog_segment_count(pl);
    int64_t active_base = plog_segment_base(pl, nseg - 1);
    int64_t leo = plog_log_end_offset(pl);
    char logp[700], p[700];
    snprintf(logp, sizeof logp, "%s/%020lld.log", dir, (long long)active_base);
    plog_close(pl);
    /* kill -9 before close: no marker, no snapshot at the log end, and the
     * last batch torn. */
    snprintf(p, sizeof p, "%s/.clean-shutdown", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/%020lld.snapshot", dir, (long long)leo);
    unlink(p);
    struct stat st;
    stat(logp, &st);
    ok(truncate(logp, st.st_size - 5) == 0, "tear the last batch");

    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "reopen after the crash");
    is_int(plog_log_end_offset(pl), leo - 2, "log end lost the torn batch");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 1);
    ok(e && e->b[e->nbatches - 1].last_seq == 17 && e->b[e->nbatches - 1].last_offset == leo - 3,
       "state rebuilt from the roll snapshot plus the surviving tail: last seq 17");
    ok(e && e->nbatches == 5, "with 5 batches (snapshot entries + replay)");
    struct res r = produce(pl, 1, 0, 16, 2);
    ok(r.rc == 0 && r.base == 16, "retry of the last surviving batch: duplicate at its offset 16");
    r = produce(pl, 1, 0, 18, 2);
    ok(r.rc == 0 && r.base == 18 && plog_log_end_offset(pl) == 20,
       "retry of the torn batch: appended anew at 18");
    r = produce(pl, 1, 0, 18, 2);
    ok(r.rc == 0 && r.base == 18 && plog_log_end_offset(pl) == 20, "and then deduplicated");
    plog_close(pl);

    /* A corrupt newest snapshot falls back to an older one plus replay. */
    snprintf(p, sizeof p, "%s/.clean-shutdown", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/%020lld.snapshot", dir, (long long)20);
    FILE *f = fopen(p, "r+b");
    ok(f != NULL, "open the close snapshot");
    if (f) {
        fseek(f, 12, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
    }
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    e = pl ? pstate_get(plog_producer_state(pl), 1) : NULL;
    ok(e && e->b[e->nbatches - 1].last_seq == 19 && e->b[e->nbatches - 1].last_offset == 19,
       "corrupt snapshot skipped: state replayed up to seq 19");
    ok(!file_exists(dir, 20), "the corrupt snapshot was deleted at open");
    plog_close(pl);

    /* A crash with no snapshot at all: the whole log is replayed. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.snapshot %s/.clean-shutdown", dir, dir);
    ok(system(cmd) == 0, "remove every snapshot and the marker");
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    e = pl ? pstate_get(plog_producer_state(pl), 1) : NULL;
    ok(e && e->nbatches == 5 && e->b[4].last_seq == 19 && pstate_batch_first_seq(&e->b[0]) == 10,
       "no snapshot: full replay restores the last 5 batches (seq 10..19)");
    plog_close(pl);
}

static void test_expiry(void)
{
    struct producer_state *ps = pstate_new();
    for (int64_t pid = 0; pid < 200; pid++) {
        struct pstate_txn tx;
        pstate_txn_init(&tx);
        size_t len;
        uint8_t *b = pbatch(pid, 0, 0, 1, &len);
        int64_t ts[1] = { pid < 100 ? 1000 : 50000 };
        struct pstate_batch dup;
        pstate_check_append(ps, &tx, b, len, pid, ts, 1, &dup, NULL, 0);
        pstate_commit(ps, &tx, pid + 1);
        pstate_txn_free(&tx);
        free(b);
    }
    is_int((int)pstate_count(ps), 200, "200 producers");
    is_int((int)pstate_remove_expired(ps, 60000, 59000), 100,
           "expiry (now - lastTimestamp >= producer.id.expiration.ms) removes the 100 idle ones");
    int found = 0, gone = 0;
    for (int64_t pid = 0; pid < 200; pid++) {
        found += pid >= 100 && pstate_get(ps, pid) != NULL;
        gone += pid < 100 && pstate_get(ps, pid) == NULL;
    }
    ok(found == 100 && gone == 100, "exactly the recent ones remain findable");
    is_int((int)pstate_remove_expired(ps, 60000, 10001), 0, "boundary: 10000 ms idle < 10001 kept");
    is_int((int)pstate_remove_expired(ps, 60000, 10000), 100, "10000 ms idle >= 10000 expired");
    pstate_free(ps);
}

int main(void)
{
    plf_begin("sluice-pstate");
    test_state_machine();
    test_rules();
    test_multi_batch();
    test_log_append_time();
    test_snapshot_format();
    test_snapshot_files();
    test_recovery_rebuild();
    test_expiry();
    plf_end();
    return done_testing();
}
