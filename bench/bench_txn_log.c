/* Transactions on the partition log, in process (no client, no network):
 * append throughput side by side for plain, idempotent and transactional
 * batches (a marker every 10 or every 1,000 records, half of them
 * aborts; and 10 records/txn with --open-txns N producers each keeping a
 * transaction open, so every marker ends the earliest of N ongoing
 * transactions), the cost of a read_committed Fetch's AbortedTransactions
 * lookup, and recovery after a crash (kill -9: no clean-shutdown marker, no
 * snapshot of the tail), which replays the markers and rebuilds the
 * .txnindex files.
 *   make bench-txn-log BENCH_TXN_LOG_ARGS='--records 2000000 --open-txns 20000' */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "util/crc32c.h"
#include "util/wire.h"

#define BATCH_RECORDS 10
#define VALUE_SIZE 100

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One uncompressed batch of BATCH_RECORDS records with keys and values. */
static uint8_t *make_batch(int64_t pid, int32_t seq, int txn, size_t *len)
{
    struct wire_writer w;
    wire_writer_init(&w);
    char key[16], val[VALUE_SIZE];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < BATCH_RECORDS; i++) {
        int kl = snprintf(key, sizeof key, "key-%d", i);
        size_t body = 1 + 1 + wire_varlong_size(i) + wire_varlong_size(kl) + (size_t)kl +
                      wire_varlong_size(VALUE_SIZE) + VALUE_SIZE + 1;
        wire_write_varint(&w, (int32_t)body);
        wire_write_i8(&w, 0);
        wire_write_varlong(&w, 0);
        wire_write_varint(&w, i);
        wire_write_varint(&w, kl);
        wire_write_raw(&w, key, (size_t)kl);
        wire_write_varint(&w, VALUE_SIZE);
        wire_write_raw(&w, val, VALUE_SIZE);
        wire_write_varint(&w, 0);
    }
    size_t n = RB_HEADER_SIZE + w.len;
    uint8_t *b = calloc(1, n);
    rb_put_i32(b + RB_OFF_LENGTH, (int32_t)(n - RB_LOG_OVERHEAD));
    rb_put_i32(b + RB_OFF_LEADER_EPOCH, -1);
    b[RB_OFF_MAGIC] = RB_MAGIC;
    b[RB_OFF_ATTRIBUTES + 1] = txn ? RB_ATTR_TRANSACTIONAL : 0;
    rb_put_i32(b + RB_OFF_LAST_OFFSET_DELTA, BATCH_RECORDS - 1);
    rb_put_i64(b + RB_OFF_BASE_TIMESTAMP, 1700000000000);
    rb_put_i64(b + RB_OFF_MAX_TIMESTAMP, 1700000000000);
    rb_put_i64(b + RB_OFF_PRODUCER_ID, pid);
    b[RB_OFF_PRODUCER_EPOCH] = 0;
    b[RB_OFF_PRODUCER_EPOCH + 1] = pid >= 0 ? 0 : 0xff;
    if (pid < 0)
        b[RB_OFF_PRODUCER_EPOCH] = 0xff;
    rb_put_i32(b + RB_OFF_BASE_SEQUENCE, pid >= 0 ? seq : -1);
    rb_put_i32(b + RB_OFF_RECORD_COUNT, BATCH_RECORDS);
    memcpy(b + RB_HEADER_SIZE, w.buf, w.len);
    rb_put_i32(b + RB_OFF_CRC, (int32_t)rb_compute_crc(b, n));
    wire_writer_free(&w);
    *len = n;
    return b;
}

struct result {
    double append_s, open_s, lookup_us;
    int64_t records, markers, aborted;
};

/* mode 0 plain, 1 idempotent, else transactional with `mode` records per
 * transaction.  nopen > 1 (transactional only): producers 7.. 7+nopen-1 in
 * turn, each keeping one transaction open: producer p's marker is written
 * just before its next batch, so nopen transactions are always ongoing and
 * each marker ends the earliest of them. */
static int run(const char *root, int mode, int nopen, int64_t records, struct result *out)
{
    char dir[512], err[256];
    snprintf(dir, sizeof dir, "%s/m%d-%d", root, mode, nopen);
    struct plog_config cfg;
    plog_config_default(&cfg);
    cfg.segment_bytes = 64 << 20;
    cfg.retention_ms = -1;
    cfg.message_timestamp_after_max_ms = INT64_MAX;
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    if (!pl) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    memset(out, 0, sizeof *out);
    size_t len;
    uint8_t *tmpl = make_batch(mode == 0 ? -1 : 7, 0, mode > 1, &len);
    uint8_t *b = malloc(len);
    int32_t seq = 0;
    int in_txn = 0, txn_no = 0;
    int32_t *seqs = nopen > 1 ? calloc((size_t)nopen, sizeof *seqs) : NULL;
    double t0 = now_s();
    for (int64_t r = 0, k = 0; r < records; r += BATCH_RECORDS, k++) {
        memcpy(b, tmpl, len);
        if (seqs) {
            int64_t pid = 7 + k % nopen;
            int64_t off;
            if (k >= nopen) {
                bool commit = txn_no++ % 2 == 0;
                if (plog_append_txn_marker(pl, pid, 0, 0, commit, 1700000000000, &off) != 0)
                    return -1;
                out->markers++;
                out->aborted += !commit;
            }
            rb_put_i64(b + RB_OFF_PRODUCER_ID, pid);
            rb_put_i32(b + RB_OFF_BASE_SEQUENCE, seqs[k % nopen]);
            rb_put_i32(b + RB_OFF_CRC, (int32_t)rb_compute_crc(b, len));
            seqs[k % nopen] += BATCH_RECORDS;
        } else if (mode > 0) {
            rb_put_i32(b + RB_OFF_BASE_SEQUENCE, seq);
            rb_put_i32(b + RB_OFF_CRC, (int32_t)rb_compute_crc(b, len));
            seq += BATCH_RECORDS;
        }
        struct plog_append_result res;
        if (plog_append(pl, b, len, 0, 1700000000000, NULL, NULL, &res) != 0) {
            fprintf(stderr, "append: %s\n", res.errmsg);
            return -1;
        }
        in_txn += BATCH_RECORDS;
        if (mode > 1 && !seqs && in_txn >= mode) {
            bool commit = txn_no++ % 2 == 0;
            int64_t off;
            if (plog_append_txn_marker(pl, 7, 0, 0, commit, 1700000000000, &off) != 0)
                return -1;
            out->markers++;
            out->aborted += !commit;
            in_txn = 0;
        }
    }
    out->append_s = now_s() - t0;
    out->records = records;
    free(seqs);
    free(b);
    free(tmpl);

    /* read_committed lookups spread over the log. */
    int64_t leo = plog_log_end_offset(pl);
    int lookups = 2000;
    t0 = now_s();
    for (int i = 0; i < lookups; i++) {
        struct plog_read_result rr;
        int64_t at = leo * i / lookups;
        plog_read(pl, at, 1 << 20, plog_last_stable_offset(pl), &rr);
        struct txn_aborted *ab;
        size_t n;
        plog_aborted_txns(pl, at, &rr, &ab, &n);
        free(ab);
    }
    out->lookup_us = (now_s() - t0) * 1e6 / lookups;

    /* kill -9: no snapshot at close, no clean marker; the whole tail after
     * the last roll snapshot is replayed and its .txnindex rebuilt. */
    plog_abandon(pl);
    t0 = now_s();
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    out->open_s = now_s() - t0;
    if (!pl)
        return -1;
    plog_close(pl);
    return 0;
}

int main(int argc, char **argv)
{
    int64_t records = 1000000;
    int nopen = 10000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--records") && i + 1 < argc)
            records = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--open-txns") && i + 1 < argc)
            nopen = atoi(argv[++i]);
    }
    char root[] = "/tmp/bench-txn-log-XXXXXX";
    if (!mkdtemp(root))
        return 1;
    printf("bench_txn_log: %lld records of %d bytes, batches of %d, page cache only (no fsync)\n",
           (long long)records, VALUE_SIZE, BATCH_RECORDS);
    printf("%-26s %12s %10s %9s %12s %14s\n", "mode", "records/s", "MB/s", "markers",
           "recovery ms", "aborted-list us");
    char open_name[64];
    snprintf(open_name, sizeof open_name, "txn, 10 rec/txn, %d open", nopen);
    const struct { int mode, nopen; const char *name; } modes[] = {
        { 0, 1, "plain" }, { 1, 1, "idempotent" }, { 10, 1, "txn, 10 records/txn" },
        { 1000, 1, "txn, 1000 records/txn" }, { 10, nopen, open_name },
    };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        struct result r;
        if (modes[m].nopen > 1 && records / BATCH_RECORDS <= modes[m].nopen)
            continue; /* too few batches to keep that many open */
        if (run(root, modes[m].mode, modes[m].nopen, records, &r) != 0) {
            fprintf(stderr, "%s failed\n", modes[m].name);
            return 1;
        }
        double mb = (double)r.records * (VALUE_SIZE + 8) / 1e6;
        printf("%-26s %12.0f %10.1f %9lld %12.1f %14.1f\n", modes[m].name,
               (double)r.records / r.append_s, mb / r.append_s, (long long)r.markers,
               r.open_s * 1000, r.lookup_us);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : 1;
}
