/* Transactions on the partition log: plog_append_txn_marker (Kafka's
 * EndTransactionMarker batch), ongoing transactions and the last stable
 * offset, the aborted-transaction index (.txnindex) and its rebuild after
 * a crash, the AbortedTransactions list of a read_committed fetch (also
 * across several segments), the heap of ongoing transactions against a
 * brute-force scan, marker
 * fencing by producer and coordinator epoch, client control batches
 * refused, and producer expiry sparing producers with an open transaction. */
#include "storage/partition_log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "storage/txn_index.h"
#include "storage/txn_marker.h"
#include "util/crc32c.h"
#include "batch_builder.h"
#include "tap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static int dir_seq;

static void new_dir(char *buf, size_t n)
{
    snprintf(buf, n, "%s/t-%d", root, dir_seq++);
}

static struct plog_config cfg_big(void)
{
    struct plog_config c;
    plog_config_default(&c);
    c.retention_ms = -1;
    c.message_timestamp_after_max_ms = INT64_MAX;
    return c;
}

/* n records from pid/epoch at sequence seq, transactional or not. */
static int64_t produce(struct partition_log *pl, int64_t pid, int16_t epoch, int32_t seq, int n,
                       int txn, int *rc_out)
{
    struct bb_record recs[8];
    char vals[8][32];
    for (int i = 0; i < n; i++) {
        snprintf(vals[i], sizeof vals[i], "p%lld-%d", (long long)pid, seq + i);
        struct bb_record r = BB_REC("k", vals[i], 1000 + i);
        recs[i] = r;
    }
    struct bb_opts o = bb_default_opts();
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.attributes = txn ? RB_ATTR_TRANSACTIONAL : 0;
    size_t len;
    uint8_t *b = bb_build(recs, n, &o, &len);
    struct plog_append_result r;
    int rc = plog_append(pl, b, len, 0, 5000, NULL, NULL, &r);
    free(b);
    if (rc_out)
        *rc_out = rc;
    return rc ? -1 : r.base_offset;
}

static int64_t marker(struct partition_log *pl, int64_t pid, int16_t epoch, int32_t coord,
                      bool commit, int *rc_out)
{
    int64_t off = -7;
    int rc = plog_append_txn_marker(pl, pid, epoch, coord, commit, 6000, &off);
    if (rc_out)
        *rc_out = rc;
    return off;
}

static size_t aborted_count(struct partition_log *pl)
{
    size_t total = 0, n;
    for (int i = 0; i < plog_segment_count(pl); i++) {
        plog_segment_aborted(pl, i, &n);
        total += n;
    }
    return total;
}

static off_t file_size(const char *dir, int64_t base, const char *ext)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%020lld%s", dir, (long long)base, ext);
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static void test_marker_batch_format(void)
{
    size_t len;
    uint8_t *b = txn_marker_build(42, 3, 7, TXN_MARKER_ABORT, 1234, &len);
    ok(b != NULL, "marker batch built");
    struct rb_info info;
    char err[128];
    is_int(rb_validate(b, len, 0, NULL, NULL, &info, err, sizeof err), 0, "valid batch (CRC)");
    is_int(info.h.attributes, RB_ATTR_TRANSACTIONAL | RB_ATTR_CONTROL,
           "attributes: transactional + control");
    ok(info.h.producer_id == 42 && info.h.producer_epoch == 3 && info.h.base_sequence == -1 &&
           info.h.record_count == 1,
       "producer 42 epoch 3, base sequence -1, one record");
    struct rb_iter it;
    struct rb_record r;
    rb_iter_init(&it, b, len, NULL, NULL);
    ok(rb_iter_next(&it, &r) == 1 && r.key_len == 4 && r.value_len == 6 && r.timestamp == 1234,
       "one record: 4-byte key, 6-byte value, timestamp");
    static const uint8_t key[4] = { 0, 0, 0, 0 }, val[6] = { 0, 0, 0, 0, 0, 7 };
    ok(memcmp(r.key, key, 4) == 0 && memcmp(r.value, val, 6) == 0,
       "key {version 0, type 0 ABORT}, value {version 0, coordinatorEpoch 7}");
    rb_iter_free(&it);
    int type;
    int32_t ce;
    is_int(txn_marker_read_batch(b, len, NULL, NULL, &type, &ce), 1, "read back");
    ok(type == TXN_MARKER_ABORT && ce == 7, "type ABORT, coordinator epoch 7");
    free(b);

    /* Decoder rules (EndTransactionMarker.deserialize). */
    static const uint8_t k_commit[4] = { 0, 0, 0, 1 }, k_v1[6] = { 0, 1, 0, 1, 9, 9 },
                         k_neg[4] = { 0xff, 0xff, 0, 1 }, k_type2[4] = { 0, 0, 0, 2 };
    static const uint8_t v_ok[6] = { 0, 0, 0, 0, 1, 0 }, v_v1[8] = { 0, 1, 0, 0, 0, 5, 1, 1 },
                         v_short[5] = { 0, 0, 0, 0, 1 }, v_neg[6] = { 0x80, 0, 0, 0, 0, 1 };
    ok(txn_marker_decode(k_commit, 4, v_ok, 6, &type, &ce, err, sizeof err) == 0 &&
           type == TXN_MARKER_COMMIT && ce == 256,
       "COMMIT, coordinator epoch 256");
    ok(txn_marker_decode(k_v1, 6, v_v1, 8, &type, &ce, err, sizeof err) == 0 && ce == 5,
       "newer key/value versions with extra bytes are read");
    is_int(txn_marker_decode(k_commit, 3, v_ok, 6, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "3-byte key refused");
    is_int(txn_marker_decode(NULL, -1, v_ok, 6, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "null key refused");
    is_int(txn_marker_decode(k_neg, 4, v_ok, 6, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "negative key version refused");
    is_int(txn_marker_decode(k_type2, 4, v_ok, 6, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "control type 2 is not a transaction marker");
    is_int(txn_marker_decode(k_commit, 4, v_short, 5, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "5-byte value refused");
    is_int(txn_marker_decode(k_commit, 4, v_neg, 6, &type, &ce, err, sizeof err),
           KP_ERR_INVALID_RECORD, "negative value version refused");
}

static void test_txnindex_codec(void)
{
    struct txn_aborted in[2] = { { 5, 10, 20, 21 }, { 6, 12, 30, 31 } };
    uint8_t buf[2 * TXN_INDEX_ENTRY_SIZE];
    txn_index_encode(&in[0], buf);
    txn_index_encode(&in[1], buf + TXN_INDEX_ENTRY_SIZE);
    static const uint8_t want0[34] = { 0, 0,                      /* version */
                                       0, 0, 0, 0, 0, 0, 0, 5,    /* producerId */
                                       0, 0, 0, 0, 0, 0, 0, 10,   /* firstOffset */
                                       0, 0, 0, 0, 0, 0, 0, 20,   /* lastOffset */
                                       0, 0, 0, 0, 0, 0, 0, 21 }; /* lastStableOffset */
    ok(memcmp(buf, want0, sizeof want0) == 0,
       "entry: version 0, producerId, firstOffset, lastOffset, lastStableOffset (34 bytes)");
    struct txn_aborted *out;
    size_t n;
    char err[128];
    ok(txn_index_decode(buf, sizeof buf, 0, &out, &n, err, sizeof err) == 0 && n == 2 &&
           memcmp(out, in, sizeof in) == 0,
       "round trip");
    free(out);
    is_int(txn_index_decode(buf, sizeof buf - 1, 0, &out, &n, err, sizeof err), -1,
           "partial entry refused");
    is_int(txn_index_decode(buf, sizeof buf, 25, &out, &n, err, sizeof err), -1,
           "entry ending below the segment base refused");
    uint8_t swapped[2 * TXN_INDEX_ENTRY_SIZE];
    memcpy(swapped, buf + TXN_INDEX_ENTRY_SIZE, TXN_INDEX_ENTRY_SIZE);
    memcpy(swapped + TXN_INDEX_ENTRY_SIZE, buf, TXN_INDEX_ENTRY_SIZE);
    is_int(txn_index_decode(swapped, sizeof swapped, 0, &out, &n, err, sizeof err), -1,
           "decreasing last offsets refused");
    buf[1] = 1;
    is_int(txn_index_decode(buf, sizeof buf, 0, &out, &n, err, sizeof err), -1,
           "unknown version refused");

    /* collectAbortedTxns: overlap and the early stop on lastStableOffset. */
    struct txn_aborted v[3] = { { 1, 0, 4, 5 }, { 2, 6, 9, 10 }, { 3, 11, 15, 16 } };
    struct txn_aborted *acc = NULL;
    size_t nacc = 0, cap = 0;
    is_int(txn_index_collect(v, 3, 5, 11, &acc, &nacc, &cap), 1, "complete at an LSO >= 11");
    ok(nacc == 1 && acc[0].producer_id == 2, "only the transaction overlapping [5, 11)");
    nacc = 0;
    is_int(txn_index_collect(v, 3, 0, 100, &acc, &nacc, &cap), 0,
           "not complete: the next segment may hold more");
    is_int((int)nacc, 3, "all three overlap [0, 100)");
    free(acc);
}

static void test_lso_and_index(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "open");
    int rc;
    is_int(produce(pl, 10, 0, 0, 3, 1, &rc), 0, "txn of producer 10 at 0..2");
    is_int(plog_last_stable_offset(pl), 0, "LSO 0: producer 10's transaction is open");
    is_int(plog_high_watermark(pl), 3, "HW 3");
    is_int(produce(pl, 20, 0, 0, 2, 0, &rc), 3, "idempotent (non-transactional) batch at 3..4");
    is_int(produce(pl, 11, 0, 0, 2, 1, &rc), 5, "txn of producer 11 at 5..6");
    is_int(produce(pl, 10, 0, 3, 1, 1, &rc), 7, "producer 10's txn continues at 7");
    is_int(plog_last_stable_offset(pl), 0, "LSO still 0");
    is_int(plog_first_unstable_offset(pl), 0, "first unstable offset 0");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 10);
    ok(e && e->txn_first_offset == 0, "producer 10: currentTxnFirstOffset 0");

    is_int(marker(pl, 10, 0, 1, true, &rc), 8, "COMMIT marker of producer 10 at offset 8");
    is_int(rc, 0, "marker accepted");
    is_int(plog_last_stable_offset(pl), 5, "LSO 5: producer 11's transaction is the earliest open");
    is_int((int)aborted_count(pl), 0, "a commit adds nothing to the aborted index");
    e = pstate_get(plog_producer_state(pl), 10);
    ok(e && e->txn_first_offset == -1 && e->coordinator_epoch == 1,
       "producer 10: no open txn, coordinator epoch 1");

    is_int(produce(pl, 12, 0, 0, 1, 1, &rc), 9, "txn of producer 12 at 9");
    is_int(marker(pl, 11, 0, 1, false, &rc), 10, "ABORT marker of producer 11 at offset 10");
    is_int(plog_last_stable_offset(pl), 9, "LSO 9 (producer 12 still open)");
    size_t n;
    const struct txn_aborted *ab = plog_segment_aborted(pl, 0, &n);
    ok(n == 1 && ab[0].producer_id == 11 && ab[0].first_offset == 5 && ab[0].last_offset == 10 &&
           ab[0].last_stable_offset == 9,
       "aborted index: {pid 11, first 5, last 10, LSO 9 = producer 12's first offset}");
    is_int((int)file_size(dir, 0, ".txnindex"), 34, ".txnindex holds one 34-byte entry");

    is_int(marker(pl, 12, 0, 1, false, &rc), 11, "ABORT marker of producer 12 at 11");
    ab = plog_segment_aborted(pl, 0, &n);
    ok(n == 2 && ab[1].producer_id == 12 && ab[1].first_offset == 9 &&
           ab[1].last_stable_offset == 12,
       "second entry: {pid 12, first 9, last 11, LSO 12 = marker + 1}");
    is_int(plog_last_stable_offset(pl), 12, "nothing open: LSO = HW = 12");

    /* A marker without an open transaction: written, nothing else changes. */
    is_int(marker(pl, 20, 0, 1, true, &rc), 12, "marker of a producer with no txn is written");
    is_int((int)aborted_count(pl), 2, "and indexes nothing");
    is_int(plog_last_stable_offset(pl), 13, "LSO follows the HW");

    /* Fencing. */
    is_int(produce(pl, 10, 2, 0, 1, 1, &rc), 13, "producer 10 bumps to epoch 2 in a new txn");
    marker(pl, 10, 1, 1, true, &rc);
    is_int(rc, KP_ERR_INVALID_PRODUCER_EPOCH, "marker with epoch 1 < 2: INVALID_PRODUCER_EPOCH");
    marker(pl, 10, 2, 0, true, &rc);
    is_int(rc, KP_ERR_TRANSACTION_COORDINATOR_FENCED,
           "coordinator epoch 0 < 1: TRANSACTION_COORDINATOR_FENCED");
    is_int(plog_log_end_offset(pl), 14, "refused markers wrote nothing");
    is_int(plog_last_stable_offset(pl), 13, "producer 10's txn still open at 13");

    /* Data after a marker without the transactional bit while a txn is
     * open: Kafka's InvalidTxnStateException. */
    produce(pl, 10, 2, 1, 1, 0, &rc);
    is_int(rc, KP_ERR_INVALID_TXN_STATE, "non-transactional write in an open txn refused");

    /* Clients may not write control batches. */
    size_t len;
    uint8_t *cb = txn_marker_build(10, 2, 1, TXN_MARKER_COMMIT, 1000, &len);
    struct plog_append_result r;
    is_int(plog_append(pl, cb, len, 0, 5000, NULL, NULL, &r), KP_ERR_INVALID_RECORD,
           "a producer's control batch: INVALID_RECORD");
    char want[200];
    snprintf(want, sizeof want,
             "Clients are not allowed to write control records in topic partition %s",
             strrchr(dir, '/') + 1);
    is_str(r.errmsg, want, "with LogValidator's message");
    free(cb);

    /* Markers read back from the log as stored. */
    struct plog_read_result rr;
    plog_read(pl, 10, 1 << 20, -1, &rr);
    uint8_t hdr[RB_HEADER_SIZE + 32];
    ssize_t got = pread(rr.spans[0].fd, hdr, sizeof hdr, rr.spans[0].off);
    int type;
    int32_t ce;
    size_t bsz = rb_batch_size(hdr, (size_t)got);
    ok(got > RB_HEADER_SIZE && bsz <= (size_t)got &&
           txn_marker_read_batch(hdr, bsz, NULL, NULL, &type, &ce) == 1 &&
           type == TXN_MARKER_ABORT && ce == 1 && rb_get_i64(hdr) == 10,
       "offset 10 holds producer 11's ABORT marker");

    is_int(marker(pl, 10, 2, 1, false, &rc), 14, "ABORT of producer 10's epoch-2 txn");
    plog_close(pl);

    /* Clean restart: index and producer state from the files. */
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "reopen after a clean close");
    ab = plog_segment_aborted(pl, 0, &n);
    ok(n == 3 && ab[2].producer_id == 10 && ab[2].first_offset == 13 && ab[2].last_offset == 14,
       "three aborted txns loaded from .txnindex");
    is_int(plog_last_stable_offset(pl), 15, "LSO 15");
    plog_close(pl);
}

/* read_committed fetches: the aborted list for the data returned. */
static void test_fetch_aborted(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.segment_bytes = 400; /* a few batches per segment */
    cfg.index_interval_bytes = 1;
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int rc;
    /* pid 1: txn 0..1 aborted; pid 2: txn open across pid 1's abort. */
    produce(pl, 1, 0, 0, 2, 1, &rc);
    produce(pl, 2, 0, 0, 1, 1, &rc);          /* 2 */
    int64_t m1 = marker(pl, 1, 0, 0, false, &rc); /* 3 */
    produce(pl, 3, 0, 0, 1, 0, &rc);          /* 4 */
    is_int(plog_last_stable_offset(pl), 2, "LSO 2: producer 2 open");
    struct plog_read_result rr;
    plog_read(pl, 0, 1 << 20, plog_last_stable_offset(pl), &rr);
    struct txn_aborted *ab;
    size_t n;
    plog_aborted_txns(pl, 0, &rr, &ab, &n);
    ok(n == 1 && ab[0].producer_id == 1 && ab[0].first_offset == 0 && ab[0].last_offset == m1,
       "fetch from 0 up to the LSO lists producer 1's aborted txn");
    free(ab);
    int64_t m2 = marker(pl, 2, 0, 0, false, &rc);
    produce(pl, 4, 0, 0, 1, 1, &rc);
    int64_t m3 = marker(pl, 4, 0, 0, true, &rc);
    for (int i = 0; i < 6; i++)
        produce(pl, 5, 0, i, 2, 0, &rc);
    ok(plog_segment_count(pl) > 2, "several segments (%d)", plog_segment_count(pl));
    plog_read(pl, 0, 1 << 20, plog_last_stable_offset(pl), &rr);
    plog_aborted_txns(pl, 0, &rr, &ab, &n);
    ok(n == 2 && ab[0].producer_id == 1 && ab[1].producer_id == 2 && ab[1].first_offset == 2 &&
           ab[1].last_offset == m2,
       "whole log: both aborted txns, in index order");
    free(ab);
    plog_read(pl, m2 + 1, 1 << 20, -1, &rr);
    plog_aborted_txns(pl, m2 + 1, &rr, &ab, &n);
    is_int((int)n, 0, "fetch after the last abort marker: none");
    free(ab);
    plog_read(pl, m3 + 1, 1, -1, &rr); /* one batch only */
    plog_aborted_txns(pl, m3 + 1, &rr, &ab, &n);
    is_int((int)n, 0, "fetch past everything aborted: empty");
    free(ab);
    plog_read(pl, 1, 1, -1, &rr); /* one batch: 0..1 */
    plog_aborted_txns(pl, 1, &rr, &ab, &n);
    ok(n >= 1 && ab[0].producer_id == 1, "one-batch fetch at 1 lists producer 1");
    free(ab);
    plog_close(pl);
}

/* The last offset of the data a read returned, read back from its spans
 * (independent of plog_read's own bookkeeping). */
static int64_t last_returned_offset(const struct plog_read_result *rr)
{
    int64_t last = -1;
    for (int k = 0; k < rr->nspans; k++) {
        uint8_t *buf = malloc(rr->spans[k].len);
        if (!buf || pread(rr->spans[k].fd, buf, rr->spans[k].len, rr->spans[k].off) !=
                        (ssize_t)rr->spans[k].len) {
            free(buf);
            return -2;
        }
        for (size_t pos = 0; pos + RB_HEADER_SIZE <= rr->spans[k].len;) {
            last = rb_get_i64(buf + pos + RB_OFF_BASE_OFFSET) +
                   rb_get_i32(buf + pos + RB_OFF_LAST_OFFSET_DELTA);
            pos += (size_t)rb_get_i32(buf + pos + RB_OFF_LENGTH) + RB_LOG_OVERHEAD;
        }
        free(buf);
    }
    return last;
}

/* What the list must be: every aborted transaction of every segment that
 * overlaps [fetch_offset, last returned offset], in index order. */
static int aborted_list_exact(struct partition_log *pl, int64_t fetch_offset,
                              const struct plog_read_result *rr, const char *what)
{
    int64_t last = last_returned_offset(rr);
    struct txn_aborted *ab;
    size_t n;
    if (plog_aborted_txns(pl, fetch_offset, rr, &ab, &n) != 0)
        return ok(0, "%s: lookup failed", what);
    size_t want = 0, bad = 0;
    for (int i = 0; i < plog_segment_count(pl); i++) {
        size_t ns;
        const struct txn_aborted *v = plog_segment_aborted(pl, i, &ns);
        for (size_t j = 0; j < ns; j++) {
            if (v[j].last_offset < fetch_offset || v[j].first_offset > last)
                continue;
            if (want >= n || ab[want].producer_id != v[j].producer_id ||
                ab[want].first_offset != v[j].first_offset)
                bad++;
            want++;
        }
    }
    int r = ok(last >= fetch_offset && want == n && bad == 0,
               "%s: %zu aborted txns over [%lld, %lld], as expected (%zu)", what, n,
               (long long)fetch_offset, (long long)last, want);
    free(ab);
    return r;
}

static int seg_of(struct partition_log *pl, int64_t offset)
{
    int i = plog_segment_count(pl) - 1;
    while (i > 0 && plog_segment_base(pl, i) > offset)
        i--;
    return i;
}

/* A fetch whose data crosses several small segments: the aborted
 * transactions in earlier segments than the last one read are all listed,
 * and none past the data returned (default sparse offset index). */
static void test_fetch_aborted_across_segments(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.segment_bytes = 300; /* two or three batches per segment */
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int rc, seq5 = 0;
    produce(pl, 1, 0, 0, 2, 1, &rc);        /* pid 1: 0..1 */
    produce(pl, 2, 0, 0, 1, 1, &rc);        /* pid 2: 2 */
    int64_t m1 = marker(pl, 1, 0, 0, false, &rc);
    for (int i = 0; i < 3; i++, seq5 += 2)
        produce(pl, 5, 0, seq5, 2, 0, &rc);
    int64_t m2 = marker(pl, 2, 0, 0, false, &rc);
    int64_t p3 = produce(pl, 3, 0, 0, 1, 1, &rc);
    int64_t m3 = marker(pl, 3, 0, 0, false, &rc);
    for (int i = 0; i < 8; i++, seq5 += 2)
        produce(pl, 5, 0, seq5, 2, 0, &rc);
    int64_t p4 = produce(pl, 4, 0, 0, 1, 1, &rc);
    marker(pl, 4, 0, 0, false, &rc);
    int nseg = plog_segment_count(pl);
    ok(nseg > 5 && rc == 0, "%d segments", nseg);

    struct plog_read_result rr;
    /* Up to a little past producer 3's abort: 1, 2, 3 listed, not 4. */
    int64_t lso = plog_last_stable_offset(pl);
    size_t budget = 0;
    for (int64_t want_end = m3 + 4; budget < 100000; budget += 20) {
        plog_read(pl, 0, budget, lso, &rr);
        if (rr.bytes && rr.next_offset > want_end)
            break;
    }
    ok(rr.nspans > 2 && rr.next_offset < p4, "read of %d segments ends at %lld, before %lld",
       rr.nspans, (long long)rr.next_offset, (long long)p4);
    int last_seg = seg_of(pl, rr.next_offset - 1);
    ok(seg_of(pl, m1) < last_seg && seg_of(pl, m2) < last_seg,
       "aborts in segments %d and %d, before the last one read (%d)", seg_of(pl, m1),
       seg_of(pl, m2), last_seg);
    aborted_list_exact(pl, 0, &rr, "from 0 across segments");
    struct txn_aborted *ab;
    size_t n;
    plog_aborted_txns(pl, 0, &rr, &ab, &n);
    ok(n == 3 && ab[0].producer_id == 1 && ab[1].producer_id == 2 && ab[2].producer_id == 3 &&
           ab[2].first_offset == p3,
       "producers 1, 2 and 3 (earlier segments), not 4 (past the data)");
    free(ab);
    ok(rr.next_offset == last_returned_offset(&rr) + 1, "next_offset follows the last batch");

    /* Every fetch offset and byte budget: the list is exact. */
    int all = 1;
    for (int64_t at = 0; at < plog_log_end_offset(pl) && all; at += 3)
        for (size_t mb = 1; mb < 2000 && all; mb += 137) {
            plog_read(pl, at, mb, lso, &rr);
            if (!rr.bytes)
                continue;
            int64_t last = last_returned_offset(&rr);
            size_t want = 0;
            for (int i = 0; i < plog_segment_count(pl); i++) {
                size_t ns;
                const struct txn_aborted *v = plog_segment_aborted(pl, i, &ns);
                for (size_t j = 0; j < ns; j++)
                    want += v[j].last_offset >= at && v[j].first_offset <= last;
            }
            plog_aborted_txns(pl, at, &rr, &ab, &n);
            all = n == want && rr.next_offset == last + 1;
            if (!all)
                diag("fetch %lld max %zu: %zu listed, %zu expected", (long long)at, mb, n, want);
            free(ab);
        }
    ok(all, "every fetch offset and size: exactly the overlapping aborted txns");

    /* read_committed stops at an open transaction: an abort whose data
     * starts past the LSO is not listed even though its marker is in a
     * segment before the log end. */
    int64_t p6 = produce(pl, 6, 0, 0, 1, 1, &rc); /* stays open */
    produce(pl, 7, 0, 0, 1, 1, &rc);
    marker(pl, 7, 0, 0, false, &rc);
    for (int i = 0; i < 4; i++, seq5 += 2)
        produce(pl, 5, 0, seq5, 2, 0, &rc);
    lso = plog_last_stable_offset(pl);
    ok(lso == p6, "LSO at producer 6's open transaction");
    plog_read(pl, m2 - 1, 1 << 20, lso, &rr);
    ok(rr.next_offset == p6, "read_committed read ends at the LSO");
    aborted_list_exact(pl, m2 - 1, &rr, "read_committed up to the LSO");
    plog_aborted_txns(pl, m2 - 1, &rr, &ab, &n);
    ok(n == 3 && ab[0].producer_id == 2 && ab[2].producer_id == 4, "2, 3, 4 but not 7");
    free(ab);
    plog_close(pl);
}

/* Brute force: the earliest ongoing transaction of another producer. */
static int64_t brute_first_unstable(const struct producer_state *ps, int64_t exclude)
{
    int64_t first = -1;
    const struct pstate_entry *e;
    for (size_t it = 0; (e = pstate_next(ps, &it));)
        if (e->producer_id != exclude && e->txn_first_offset >= 0 &&
            (first < 0 || e->txn_first_offset < first))
            first = e->txn_first_offset;
    return first;
}

/* One batch at `offset` through the live path (coordinator origin) and
 * through recovery's replay. */
static int apply_both(struct producer_state *live, struct producer_state *replay, uint8_t *b,
                      size_t len, int64_t offset)
{
    rb_set_base_offset(b, offset);
    int64_t ts = 1000;
    struct pstate_txn tx;
    struct pstate_batch dup;
    char msg[200];
    pstate_txn_init(&tx);
    int rc = pstate_check_append(live, &tx, b, len, offset, &ts, 0, &dup, msg, sizeof msg);
    if (rc == 0)
        pstate_commit(live, &tx, offset + 1);
    pstate_txn_free(&tx);
    pstate_replay_batch(replay, b, len, NULL, NULL);
    return rc;
}

/* The heap of ongoing transactions against a scan of every producer over
 * a random sequence of starts, continuations and ends of thousands of
 * producers' transactions, through appends, replay and snapshot load. */
static void test_first_unstable_randomized(void)
{
    enum { NPID = 3000, OPS = 40000 };
    struct producer_state *live = pstate_new(), *replay = pstate_new(), *snap = pstate_new();
    int32_t *seq = calloc(NPID, sizeof *seq);
    uint64_t rnd = 0x2545F4914F6CDD1Dull;
    int64_t offset = 0;
    int mismatch = 0, rcs = 0, checks = 0, max_open = 0;
    for (int op = 0; op < OPS && !mismatch; op++) {
        rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
        int64_t pid = 100 + (int64_t)(rnd % NPID);
        const struct pstate_entry *e = pstate_get(live, pid);
        int open = e && e->txn_first_offset >= 0;
        size_t len;
        uint8_t *b;
        /* Starts outnumber ends early on, so many stay open at once. */
        if (open && (rnd >> 20) % 100 < (op < OPS / 2 ? 25u : 60u)) {
            b = txn_marker_build(pid, 0, 0, (rnd >> 40) & 1 ? TXN_MARKER_ABORT : TXN_MARKER_COMMIT,
                                 1000, &len);
        } else {
            struct bb_record r = BB_REC("k", "v", 1000);
            struct bb_opts o = bb_default_opts();
            o.producer_id = pid;
            o.producer_epoch = 0;
            o.base_sequence = seq[pid - 100]++;
            o.attributes = RB_ATTR_TRANSACTIONAL;
            b = bb_build(&r, 1, &o, &len);
        }
        rcs |= apply_both(live, replay, b, len, offset++);
        free(b);
        int64_t want = brute_first_unstable(live, -1);
        mismatch |= pstate_first_unstable(live, -1) != want ||
                    pstate_first_unstable(replay, -1) != want;
        if ((int)pstate_ongoing(live) > max_open)
            max_open = (int)pstate_ongoing(live);
        if (op % 7 == 0) {
            /* Excluding the earliest producer, or a random one. */
            int64_t ex = pid;
            const struct pstate_entry *x;
            for (size_t it = 0; op % 14 == 0 && (x = pstate_next(live, &it));)
                if (x->txn_first_offset == want)
                    ex = x->producer_id;
            int64_t w2 = brute_first_unstable(live, ex);
            mismatch |= pstate_first_unstable(live, ex) != w2 ||
                        pstate_first_unstable(replay, ex) != w2;
            mismatch |= pstate_first_unstable(live, -1) != want; /* unchanged by the query */
            checks++;
        }
        if (op % 2000 == 1999) {
            uint8_t *buf;
            size_t blen;
            char err[128];
            mismatch |= pstate_snapshot_encode(live, &buf, &blen) != 0 ||
                        pstate_snapshot_decode(snap, buf, blen, offset, err, sizeof err) != 0 ||
                        pstate_first_unstable(snap, -1) != want;
            free(buf);
        }
        if (mismatch)
            diag("op %d: pid %lld, brute force %lld, heap %lld", op, (long long)pid,
                 (long long)want, (long long)pstate_first_unstable(live, -1));
    }
    is_int(rcs, 0, "every batch accepted");
    ok(!mismatch, "%d ops over %d producers (up to %d open, %d exclusion checks): heap == scan",
       OPS, NPID, max_open, checks);
    ok(max_open > 1000, "thousands of producers had a transaction open at once (%d)", max_open);
    pstate_free(live);
    pstate_free(replay);
    pstate_free(snap);
    free(seq);
}

/* kill -9: the log is abandoned without a clean close; the reopen rebuilds
 * ongoing transactions and the aborted index from the log (markers
 * replayed), identical to what was there. */
static void test_crash_recovery(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    cfg.segment_bytes = 300;
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int rc;
    for (int t = 0; t < 6; t++) {
        produce(pl, 100 + t, 0, 0, 2, 1, &rc);
        produce(pl, 200, 0, t, 1, 0, &rc);
        if (t > 0)
            marker(pl, 100 + t - 1, 0, 3, (t % 2) == 0, &rc);
    }
    /* producer 105's txn stays open. */
    int64_t lso = plog_last_stable_offset(pl), leo = plog_log_end_offset(pl);
    size_t before = aborted_count(pl);
    struct txn_aborted saved[16];
    size_t ns = 0;
    for (int i = 0; i < plog_segment_count(pl); i++) {
        size_t n;
        const struct txn_aborted *a = plog_segment_aborted(pl, i, &n);
        for (size_t k = 0; k < n && ns < 16; k++)
            saved[ns++] = a[k];
    }
    ok(before == 3 && plog_segment_count(pl) > 1, "3 aborted txns over %d segments",
       plog_segment_count(pl));
    plog_abandon(pl); /* no seal, no snapshot, no clean-shutdown marker */

    /* Damage the active segment's index file; recovery must rebuild it. */
    for (int64_t b = 0; b < leo; b++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%020lld.txnindex", dir, (long long)b);
        if (access(p, F_OK) == 0)
            truncate(p, 33);
    }
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    ok(pl != NULL, "reopen after the crash: %s", pl ? "" : err);
    is_int(plog_log_end_offset(pl), leo, "LEO unchanged");
    is_int(plog_last_stable_offset(pl), lso, "LSO rebuilt (producer 105 open)");
    const struct pstate_entry *e = pstate_get(plog_producer_state(pl), 105);
    ok(e && e->txn_first_offset == lso, "producer 105's currentTxnFirstOffset restored");
    size_t ns2 = 0;
    int same = 1;
    for (int i = 0; i < plog_segment_count(pl); i++) {
        size_t n;
        const struct txn_aborted *a = plog_segment_aborted(pl, i, &n);
        for (size_t k = 0; k < n; k++, ns2++)
            same &= ns2 < ns && memcmp(&a[k], &saved[ns2], sizeof a[k]) == 0;
    }
    ok(same && ns2 == ns, "aborted index identical after the rebuild (%zu entries)", ns2);
    /* The snapshot round trip carries the open transaction too. */
    plog_close(pl);
    pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    e = pstate_get(plog_producer_state(pl), 105);
    ok(e && e->txn_first_offset == lso && plog_last_stable_offset(pl) == lso,
       "clean restart from the snapshot: txn and LSO kept");
    is_int((int)aborted_count(pl), 3, "index loaded from the files");
    int64_t m = marker(pl, 105, 0, 3, false, &rc);
    ok(rc == 0 && plog_last_stable_offset(pl) == m + 1, "its abort after restart moves the LSO");
    plog_close(pl);
}

/* The snapshot carries currentTxnFirstOffset and the coordinator epoch in
 * Kafka's entry fields; the LSO never goes below the log start. */
static void test_snapshot_fields_and_log_start(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int rc;
    produce(pl, 9, 0, 0, 2, 1, &rc);                 /* 0..1 */
    marker(pl, 9, 0, 6, true, &rc);                  /* 2 */
    int64_t first = produce(pl, 9, 0, 2, 1, 1, &rc); /* 3: open again */
    uint8_t *buf;
    size_t len;
    ok(pstate_snapshot_encode(plog_producer_state(pl), &buf, &len) == 0 &&
           len == PSTATE_SNAPSHOT_HEADER + PSTATE_SNAPSHOT_ENTRY * 2,
       "snapshot: producer 9's two batches");
    const uint8_t *last = buf + PSTATE_SNAPSHOT_HEADER + PSTATE_SNAPSHOT_ENTRY;
    ok(rb_get_i32(last + 34) == 6 && rb_get_i64(last + 38) == first,
       "entry: coordinatorEpoch 6 at byte 34, currentTxnFirstOffset %lld at byte 38",
       (long long)first);
    free(buf);
    produce(pl, 8, 0, 0, 1, 0, &rc); /* 4 */
    is_int(plog_last_stable_offset(pl), 3, "LSO 3");
    int64_t ls;
    is_int(plog_delete_records(pl, 4, &ls), 0, "DeleteRecords up to 4 (past the open txn's start)");
    is_int(plog_last_stable_offset(pl), 4, "LSO = max(first unstable offset, log start) = 4");
    plog_close(pl);
}

static void test_expiry_keeps_open_txn(void)
{
    char dir[512], err[256];
    struct plog_config cfg = cfg_big();
    new_dir(dir, sizeof dir);
    struct partition_log *pl = plog_open(dir, &cfg, NULL, 0, err, sizeof err);
    int rc;
    produce(pl, 1, 0, 0, 1, 1, &rc); /* open txn */
    produce(pl, 2, 0, 0, 1, 0, &rc); /* idempotent only */
    struct producer_state *ps = plog_producer_state(pl);
    is_int((int)pstate_remove_expired(ps, 1000000, 1000), 1, "one producer expired");
    ok(pstate_get(ps, 1) && !pstate_get(ps, 2), "the one with an open transaction stays");
    marker(pl, 1, 0, 0, true, &rc);
    is_int((int)pstate_remove_expired(ps, 1000000, 1000), 1, "after its commit it expires too");
    plog_close(pl);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/sluice-txnlog-XXXXXX");
    if (!mkdtemp(root))
        skip_all("mkdtemp failed");
    test_marker_batch_format();
    test_txnindex_codec();
    test_lso_and_index();
    test_fetch_aborted();
    test_fetch_aborted_across_segments();
    test_first_unstable_randomized();
    test_crash_recovery();
    test_expiry_keeps_open_txn();
    test_snapshot_fields_and_log_start();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        diag("cleanup failed");
    return done_testing();
}
