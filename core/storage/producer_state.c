/* Producer state of one partition (idempotent producers): the state
 * machine, Kafka's snapshot format and the open-time rebuild.  See
 * producer_state.h. */
#include "storage/producer_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/kafka_errors.h"
#include "storage/checkpoint.h"
#include "storage/record_batch.h"
#include "storage/segment.h"
#include "storage/txn_marker.h"
#include "util/crc32c.h"

#define EMPTY_PID (-1) /* producer ids are >= 0; -1 marks a free slot */

/* An ongoing transaction in the min-heap: (first offset, producer). */
struct txn_start {
    int64_t first_offset, producer_id;
};

/* Open-addressing table (linear probing, backward-shift deletion) with the
 * entries inline: one cache-friendly array, no per-producer allocation.
 *
 * Ongoing transactions are also in a binary min-heap by first offset
 * (Kafka's sorted ongoingTxns map), so the first unstable offset costs
 * O(log n) per transaction instead of a scan of every producer.  Ended
 * transactions leave the heap lazily: an item is live while its producer's
 * txn_first_offset still equals it (a producer's transactions start at
 * distinct offsets); stale items are popped when they reach the top and
 * the heap is rebuilt when they outnumber the live ones. */
struct producer_state {
    struct pstate_entry *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
    size_t ongoing; /* entries with txn_first_offset >= 0 */
    int64_t map_end;
    struct txn_start *heap;
    size_t nheap, heap_cap;
    int heap_lost; /* a push ran out of memory: rebuild from the table */
};

/* Where an append comes from (Kafka's AppendOrigin). */
enum origin { ORIGIN_COORDINATOR = 0, ORIGIN_CLIENT = 1, ORIGIN_REPLICATION = 2 };

/* ---- sequences -------------------------------------------------------- */

/* DefaultRecordBatch.incrementSequence / decrementSequence. */
int32_t pstate_seq_add(int32_t seq, int32_t n)
{
    if (seq > INT32_MAX - n)
        return n - (INT32_MAX - seq) - 1;
    return seq + n;
}

int32_t pstate_seq_sub(int32_t seq, int32_t n)
{
    if (seq < n)
        return INT32_MAX - (n - seq) + 1;
    return seq - n;
}

static int in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

static int32_t entry_last_seq(const struct pstate_entry *e)
{
    return e->nbatches ? e->b[e->nbatches - 1].last_seq : -1;
}

/* ProducerStateEntry.maybeUpdateProducerEpoch: a new epoch forgets the
 * batches of the old one. */
static void entry_set_epoch(struct pstate_entry *e, int16_t epoch)
{
    if (e->epoch != epoch) {
        e->nbatches = 0;
        e->epoch = epoch;
    }
}

static void entry_add_batch_meta(struct pstate_entry *e, const struct pstate_batch *b)
{
    if (e->nbatches == PSTATE_NUM_BATCHES) {
        memmove(e->b, e->b + 1, (PSTATE_NUM_BATCHES - 1) * sizeof e->b[0]);
        e->nbatches--;
    }
    e->b[e->nbatches++] = *b;
}

static void entry_init(struct pstate_entry *e, int64_t pid)
{
    memset(e, 0, sizeof *e);
    e->producer_id = pid;
    e->epoch = -1;
    e->last_timestamp = -1;
    e->coordinator_epoch = -1;
    e->txn_first_offset = -1;
}

/* ---- table ------------------------------------------------------------ */

static uint64_t hash_pid(int64_t pid)
{
    uint64_t x = (uint64_t)pid + 0x9e3779b97f4a7c15ull; /* splitmix64 */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

struct producer_state *pstate_new(void)
{
    return (struct producer_state *)calloc(1, sizeof(struct producer_state));
}

void pstate_free(struct producer_state *ps)
{
    if (!ps)
        return;
    free(ps->slots);
    free(ps->heap);
    free(ps);
}

size_t pstate_count(const struct producer_state *ps) { return ps->count; }
int64_t pstate_map_end_offset(const struct producer_state *ps) { return ps->map_end; }

static struct pstate_entry *find(const struct producer_state *ps, int64_t pid)
{
    if (!ps->cap || pid < 0)
        return NULL;
    size_t mask = ps->cap - 1;
    for (size_t i = hash_pid(pid) & mask;; i = (i + 1) & mask) {
        if (ps->slots[i].producer_id == pid)
            return &ps->slots[i];
        if (ps->slots[i].producer_id == EMPTY_PID)
            return NULL;
    }
}

const struct pstate_entry *pstate_get(const struct producer_state *ps, int64_t producer_id)
{
    return find(ps, producer_id);
}

const struct pstate_entry *pstate_next(const struct producer_state *ps, size_t *iter)
{
    while (*iter < ps->cap) {
        const struct pstate_entry *e = &ps->slots[(*iter)++];
        if (e->producer_id != EMPTY_PID)
            return e;
    }
    return NULL;
}

static int grow(struct producer_state *ps)
{
    size_t ncap = ps->cap ? ps->cap * 2 : 16;
    struct pstate_entry *n = (struct pstate_entry *)malloc(ncap * sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < ncap; i++)
        n[i].producer_id = EMPTY_PID;
    for (size_t i = 0; i < ps->cap; i++) {
        if (ps->slots[i].producer_id == EMPTY_PID)
            continue;
        size_t j = hash_pid(ps->slots[i].producer_id) & (ncap - 1);
        while (n[j].producer_id != EMPTY_PID)
            j = (j + 1) & (ncap - 1);
        n[j] = ps->slots[i];
    }
    free(ps->slots);
    ps->slots = n;
    ps->cap = ncap;
    return 0;
}

/* The entry of pid, created empty (epoch -1) if missing; NULL on ENOMEM. */
static struct pstate_entry *find_or_add(struct producer_state *ps, int64_t pid)
{
    struct pstate_entry *e = find(ps, pid);
    if (e)
        return e;
    if ((ps->count + 1) * 2 > ps->cap && grow(ps) != 0)
        return NULL;
    size_t mask = ps->cap - 1, i = hash_pid(pid) & mask;
    while (ps->slots[i].producer_id != EMPTY_PID)
        i = (i + 1) & mask;
    entry_init(&ps->slots[i], pid);
    ps->count++;
    return &ps->slots[i];
}

static void remove_slot(struct producer_state *ps, size_t i)
{
    size_t mask = ps->cap - 1;
    ps->slots[i].producer_id = EMPTY_PID;
    ps->count--;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; ps->slots[j].producer_id != EMPTY_PID; j = (j + 1) & mask) {
        size_t home = hash_pid(ps->slots[j].producer_id) & mask;
        /* Movable when its home is not in the cyclic range (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            ps->slots[i] = ps->slots[j];
            ps->slots[j].producer_id = EMPTY_PID;
            i = j;
        }
    }
}

/* ---- ongoing transactions (min-heap) ---------------------------------- */

static int txn_less(const struct txn_start *a, const struct txn_start *b)
{
    return a->first_offset < b->first_offset ||
           (a->first_offset == b->first_offset && a->producer_id < b->producer_id);
}

static void heap_sift_up(struct txn_start *h, size_t i)
{
    struct txn_start x = h[i];
    while (i > 0 && txn_less(&x, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static void heap_sift_down(struct txn_start *h, size_t n, size_t i)
{
    struct txn_start x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && txn_less(&h[c + 1], &h[c]))
            c++;
        if (!txn_less(&h[c], &x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static struct txn_start heap_pop(struct producer_state *ps)
{
    struct txn_start top = ps->heap[0];
    ps->heap[0] = ps->heap[--ps->nheap];
    if (ps->nheap)
        heap_sift_down(ps->heap, ps->nheap, 0);
    return top;
}

static int heap_live(const struct producer_state *ps, const struct txn_start *t)
{
    const struct pstate_entry *e = find(ps, t->producer_id);
    return e && e->txn_first_offset == t->first_offset;
}

/* Keep only the live items (O(n), when stale ones outnumber them). */
static void heap_rebuild(struct producer_state *ps)
{
    size_t n = 0;
    for (size_t i = 0; i < ps->nheap; i++)
        if (heap_live(ps, &ps->heap[i]))
            ps->heap[n++] = ps->heap[i];
    ps->nheap = n;
    for (size_t i = n / 2; i-- > 0;)
        heap_sift_down(ps->heap, n, i);
}

/* A transaction of pid started at first_offset.  On ENOMEM the heap is
 * rebuilt from the table at the next query. */
static void heap_push(struct producer_state *ps, int64_t pid, int64_t first_offset)
{
    if (ps->nheap > 2 * ps->ongoing + 64)
        heap_rebuild(ps);
    if (ps->nheap == ps->heap_cap) {
        size_t nc = ps->heap_cap ? ps->heap_cap * 2 : 16;
        struct txn_start *n = (struct txn_start *)realloc(ps->heap, nc * sizeof *n);
        if (!n) {
            ps->heap_lost = 1;
            return;
        }
        ps->heap = n;
        ps->heap_cap = nc;
    }
    ps->heap[ps->nheap].first_offset = first_offset;
    ps->heap[ps->nheap].producer_id = pid;
    heap_sift_up(ps->heap, ps->nheap++);
}

/* Rebuild the heap from the table (snapshot load). */
static void heap_from_table(struct producer_state *ps)
{
    ps->nheap = 0;
    ps->heap_lost = 0;
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].producer_id != EMPTY_PID && ps->slots[i].txn_first_offset >= 0)
            heap_push(ps, ps->slots[i].producer_id, ps->slots[i].txn_first_offset);
}

static void clear(struct producer_state *ps)
{
    for (size_t i = 0; i < ps->cap; i++)
        ps->slots[i].producer_id = EMPTY_PID;
    ps->count = 0;
    ps->ongoing = 0;
    ps->nheap = 0;
    ps->heap_lost = 0;
}

size_t pstate_ongoing(const struct producer_state *ps) { return ps->ongoing; }

int64_t pstate_first_unstable(struct producer_state *ps, int64_t exclude_pid)
{
    if (!ps->ongoing)
        return -1;
    if (ps->heap_lost)
        heap_from_table(ps);
    while (ps->nheap && !heap_live(ps, &ps->heap[0]))
        heap_pop(ps);
    if (!ps->nheap)
        return -1; /* unreachable unless a push ran out of memory */
    if (ps->heap[0].producer_id != exclude_pid)
        return ps->heap[0].first_offset;
    /* A producer has at most one ongoing transaction: the answer is the
     * next live item once the excluded one is set aside. */
    struct txn_start top = heap_pop(ps);
    while (ps->nheap && !heap_live(ps, &ps->heap[0]))
        heap_pop(ps);
    int64_t first = ps->nheap ? ps->heap[0].first_offset : -1;
    ps->heap[ps->nheap] = top; /* the pop left room */
    heap_sift_up(ps->heap, ps->nheap++);
    return first;
}

int64_t pstate_completed_lso(struct producer_state *ps, const struct pstate_completed *c,
                             const struct pstate_completed *later, size_t nlater)
{
    int64_t first = pstate_first_unstable(ps, c->producer_id);
    for (size_t i = 0; i < nlater; i++)
        if (later[i].producer_id != c->producer_id &&
            (first < 0 || later[i].first_offset < first))
            first = later[i].first_offset;
    return first >= 0 ? first : c->last_offset + 1;
}

size_t pstate_remove_expired(struct producer_state *ps, int64_t now_ms, int64_t expiration_ms)
{
    size_t removed = 0;
    for (size_t i = 0; i < ps->cap;) {
        struct pstate_entry *e = &ps->slots[i];
        if (e->producer_id != EMPTY_PID && e->txn_first_offset < 0 &&
            now_ms - e->last_timestamp >= expiration_ms) {
            /* The backward shift may move an unvisited entry into slot i:
             * look at i again. */
            remove_slot(ps, i);
            removed++;
            continue;
        }
        i++;
    }
    return removed;
}

/* ---- appends ---------------------------------------------------------- */

void pstate_txn_init(struct pstate_txn *tx)
{
    tx->v = &tx->one;
    tx->n = 0;
    tx->cap = 1;
    tx->done = &tx->done_one;
    tx->ndone = 0;
    tx->done_cap = 1;
}

void pstate_txn_free(struct pstate_txn *tx)
{
    if (tx->v != &tx->one)
        free(tx->v);
    if (tx->done != &tx->done_one)
        free(tx->done);
    pstate_txn_init(tx);
}

static int push_done(struct pstate_txn *tx, const struct pstate_completed *c)
{
    if (tx->ndone == tx->done_cap) {
        size_t nc = tx->done_cap * 4;
        struct pstate_completed *n = (struct pstate_completed *)malloc(nc * sizeof *n);
        if (!n)
            return -1;
        memcpy(n, tx->done, tx->ndone * sizeof *n);
        if (tx->done != &tx->done_one)
            free(tx->done);
        tx->done = n;
        tx->done_cap = nc;
    }
    tx->done[tx->ndone++] = *c;
    return 0;
}

static struct pstate_staged *staged_for(const struct producer_state *ps, struct pstate_txn *tx,
                                        int64_t pid)
{
    for (size_t i = 0; i < tx->n; i++)
        if (tx->v[i].upd.producer_id == pid)
            return &tx->v[i];
    if (tx->n == tx->cap) {
        size_t nc = tx->cap * 4;
        struct pstate_staged *n = (struct pstate_staged *)malloc(nc * sizeof *n);
        if (!n)
            return NULL;
        memcpy(n, tx->v, tx->n * sizeof *n);
        if (tx->v != &tx->one)
            free(tx->v);
        tx->v = n;
        tx->cap = nc;
    }
    struct pstate_staged *s = &tx->v[tx->n++];
    const struct pstate_entry *cur = find(ps, pid);
    /* Kafka's currentEntry.withProducerId: current epoch, coordinator
     * epoch, timestamp and transaction, but none of its batches. */
    entry_init(&s->upd, pid);
    s->cur_epoch = -1;
    s->cur_last_seq = -1;
    if (cur) {
        s->upd.epoch = cur->epoch;
        s->upd.last_timestamp = cur->last_timestamp;
        s->upd.coordinator_epoch = cur->coordinator_epoch;
        s->upd.txn_first_offset = cur->txn_first_offset;
        s->cur_epoch = cur->epoch;
        s->cur_last_seq = entry_last_seq(cur);
    }
    return s;
}

static int fail(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *msg, size_t msglen, int code, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ProducerAppendInfo.appendEndTxnMarker: size bytes of the control batch
 * at h (the caller made sure the whole batch is there). */
static int stage_marker(struct pstate_staged *s, struct pstate_txn *tx, const uint8_t *h,
                        size_t size, int64_t offset, int64_t ts, enum origin origin, char *msg,
                        size_t msglen)
{
    struct pstate_entry *u = &s->upd;
    int16_t epoch = rb_get_i16(h + RB_OFF_PRODUCER_EPOCH);
    int64_t pid = u->producer_id;
    int type = 0;
    int32_t coord = -1;
    int got = txn_marker_read_batch(h, size, NULL, NULL, &type, &coord);
    if (got < 0 && origin != ORIGIN_REPLICATION)
        return fail(msg, msglen, -got, "invalid transaction marker of producer %" PRId64
                    " at offset %" PRId64, pid, offset);
    if (got <= 0)
        return 0; /* emptied by the cleaner: its transaction is gone from the log */
    if (epoch < u->epoch && origin != ORIGIN_REPLICATION)
        return fail(msg, msglen, KP_ERR_INVALID_PRODUCER_EPOCH,
                    "epoch of producer %" PRId64 " at offset %" PRId64 " is %d, which is "
                    "smaller than the last seen epoch %d",
                    pid, offset, epoch, u->epoch);
    if (u->coordinator_epoch > coord && origin != ORIGIN_REPLICATION)
        return fail(msg, msglen, KP_ERR_TRANSACTION_COORDINATOR_FENCED,
                    "Invalid coordinator epoch for producerId %" PRId64 " at offset %" PRId64
                    ": %d (zombie), %d (current)",
                    pid, offset, coord, u->coordinator_epoch);
    if (u->txn_first_offset >= 0) {
        struct pstate_completed c = { pid, u->txn_first_offset, offset, type == TXN_MARKER_ABORT };
        if (push_done(tx, &c) != 0)
            return fail(msg, msglen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
    }
    entry_set_epoch(u, epoch);
    u->coordinator_epoch = coord;
    u->txn_first_offset = -1;
    u->last_timestamp = ts;
    return 0;
}

/* ProducerAppendInfo.appendDataBatch / appendEndTxnMarker for one batch. */
static int stage_batch(struct pstate_staged *s, struct pstate_txn *tx, const uint8_t *h,
                       size_t size, int64_t first_offset, int64_t ts, enum origin origin,
                       char *msg, size_t msglen)
{
    struct pstate_entry *u = &s->upd;
    int16_t epoch = rb_get_i16(h + RB_OFF_PRODUCER_EPOCH);
    int16_t attrs = rb_get_i16(h + RB_OFF_ATTRIBUTES);
    int32_t delta = rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
    int32_t first_seq = rb_get_i32(h + RB_OFF_BASE_SEQUENCE);
    int64_t pid = u->producer_id;

    if (attrs & RB_ATTR_CONTROL)
        return stage_marker(s, tx, h, size, first_offset, ts, origin, msg, msglen);
    /* checkProducerEpoch: since Kafka 2.7 a stale epoch is
     * INVALID_PRODUCER_EPOCH (not PRODUCER_FENCED) in Produce responses. */
    if (epoch < u->epoch)
        return fail(msg, msglen, KP_ERR_INVALID_PRODUCER_EPOCH,
                    "epoch of producer %" PRId64 " at offset %" PRId64 " is %d, which is "
                    "smaller than the last seen epoch %d",
                    pid, first_offset, epoch, u->epoch);
    if (origin == ORIGIN_CLIENT) {
        if (epoch != u->epoch) {
            if (first_seq != 0 && u->epoch != -1)
                return fail(msg, msglen, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            "invalid sequence number for new epoch of producer %" PRId64
                            " at offset %" PRId64 ": %d (request epoch), %d (seq. number), "
                            "%d (current producer epoch)",
                            pid, first_offset, epoch, first_seq, u->epoch);
        } else {
            int32_t last;
            if (u->nbatches)
                last = entry_last_seq(u);
            else if (epoch == s->cur_epoch)
                last = s->cur_last_seq;
            else
                last = -1;
            /* An unknown producer (never seen, expired, or its state lost
             * with deleted segments) may start at any sequence (KIP-360). */
            if (!(s->cur_epoch == -1 || in_sequence(last, first_seq)))
                return fail(msg, msglen, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            "out of order sequence number for producer %" PRId64
                            " at offset %" PRId64 ": %d (incoming seq. number), %d (current "
                            "end sequence number)",
                            pid, first_offset, first_seq, last);
        }
    }
    struct pstate_batch b = {
        .last_seq = first_seq < 0 ? -1 : pstate_seq_add(first_seq, delta),
        .offset_delta = delta,
        .last_offset = first_offset + delta,
        .timestamp = ts,
    };
    entry_set_epoch(u, epoch);
    entry_add_batch_meta(u, &b);
    u->last_timestamp = ts;
    int txnl = (attrs & RB_ATTR_TRANSACTIONAL) != 0;
    if (u->txn_first_offset >= 0 && !txnl)
        return fail(msg, msglen, KP_ERR_INVALID_TXN_STATE,
                    "expected transactional write from producer %" PRId64 " at offset %" PRId64,
                    pid, first_offset);
    if (u->txn_first_offset < 0 && txnl)
        u->txn_first_offset = first_offset;
    return 0;
}

/* ProducerStateEntry.findDuplicateBatch against the current entry. */
static const struct pstate_batch *find_duplicate(const struct producer_state *ps, const uint8_t *h)
{
    const struct pstate_entry *e = find(ps, rb_get_i64(h + RB_OFF_PRODUCER_ID));
    if (!e || rb_get_i16(h + RB_OFF_PRODUCER_EPOCH) != e->epoch)
        return NULL;
    int32_t first = rb_get_i32(h + RB_OFF_BASE_SEQUENCE);
    int32_t last = first < 0 ? -1 : pstate_seq_add(first, rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA));
    for (int i = 0; i < e->nbatches; i++)
        if (pstate_batch_first_seq(&e->b[i]) == first && e->b[i].last_seq == last)
            return &e->b[i];
    return NULL;
}

int pstate_check_append(const struct producer_state *ps, struct pstate_txn *tx,
                        const uint8_t *records, size_t len, int64_t first_offset,
                        const int64_t *batch_ts, int client, struct pstate_batch *dup, char *msg,
                        size_t msglen)
{
    int64_t offset = first_offset;
    size_t off = 0;
    for (size_t i = 0; off + RB_HEADER_SIZE <= len; i++) {
        const uint8_t *h = records + off;
        size_t size = rb_batch_size(h, len - off);
        int64_t pid = rb_get_i64(h + RB_OFF_PRODUCER_ID);
        int32_t delta = rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
        if (pid >= 0) {
            const struct pstate_batch *d;
            if (client && (d = find_duplicate(ps, h)) != NULL) {
                *dup = *d;
                tx->n = 0;
                return PSTATE_DUPLICATE;
            }
            struct pstate_staged *s = staged_for(ps, tx, pid);
            if (!s)
                return fail(msg, msglen, KP_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
            int rc = stage_batch(s, tx, h, size, offset, batch_ts[i],
                                 client ? ORIGIN_CLIENT : ORIGIN_COORDINATOR, msg, msglen);
            if (rc)
                return rc;
        }
        if (size < RB_HEADER_SIZE)
            break; /* validated input never gets here */
        offset += (int64_t)delta + 1;
        off += size;
    }
    return 0;
}

/* ProducerStateEntry.update(nextEntry). */
static void apply_update(struct producer_state *ps, struct pstate_entry *e,
                         const struct pstate_entry *u)
{
    entry_set_epoch(e, u->epoch);
    for (int i = 0; i < u->nbatches; i++)
        entry_add_batch_meta(e, &u->b[i]);
    e->coordinator_epoch = u->coordinator_epoch;
    ps->ongoing += (size_t)(u->txn_first_offset >= 0) - (size_t)(e->txn_first_offset >= 0);
    if (u->txn_first_offset >= 0 && u->txn_first_offset != e->txn_first_offset)
        heap_push(ps, e->producer_id, u->txn_first_offset);
    e->txn_first_offset = u->txn_first_offset;
    e->last_timestamp = u->last_timestamp;
}

void pstate_commit(struct producer_state *ps, struct pstate_txn *tx, int64_t end)
{
    for (size_t i = 0; i < tx->n; i++) {
        struct pstate_entry *e = find_or_add(ps, tx->v[i].upd.producer_id);
        if (e)
            apply_update(ps, e, &tx->v[i].upd);
    }
    tx->n = 0;
    if (end > ps->map_end)
        ps->map_end = end;
}

void pstate_replay_batch(struct producer_state *ps, const uint8_t *h, size_t avail,
                         pstate_completed_fn cb, void *ud)
{
    int64_t base = rb_get_i64(h + RB_OFF_BASE_OFFSET);
    int64_t last = base + rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA);
    if (last + 1 > ps->map_end)
        ps->map_end = last + 1;
    int64_t pid = rb_get_i64(h + RB_OFF_PRODUCER_ID);
    if (pid < 0)
        return;
    struct pstate_entry *e = find_or_add(ps, pid);
    if (!e)
        return;
    /* Replication origin: stage without checks, then apply as update()
     * would, so replay and live appends build the same entries. */
    struct pstate_staged s;
    entry_init(&s.upd, pid);
    s.upd.epoch = e->epoch;
    s.upd.last_timestamp = e->last_timestamp;
    s.upd.coordinator_epoch = e->coordinator_epoch;
    s.upd.txn_first_offset = e->txn_first_offset;
    s.cur_epoch = e->epoch;
    s.cur_last_seq = entry_last_seq(e);
    int16_t epoch = rb_get_i16(h + RB_OFF_PRODUCER_EPOCH);
    if (epoch < s.upd.epoch)
        s.upd.epoch = epoch; /* Kafka only warns on replication; keep the log's order */
    size_t size = rb_batch_size(h, avail);
    if (size > avail)
        size = RB_HEADER_SIZE; /* not all there: an unreadable marker counts as empty */
    struct pstate_txn tx;
    pstate_txn_init(&tx);
    stage_batch(&s, &tx, h, size, base, rb_get_i64(h + RB_OFF_MAX_TIMESTAMP), ORIGIN_REPLICATION,
                NULL, 0);
    if (tx.ndone && cb)
        cb(ud, &tx.done[0], pstate_completed_lso(ps, &tx.done[0], NULL, 0));
    pstate_txn_free(&tx);
    apply_update(ps, e, &s.upd);
}

/* ---- snapshot format -------------------------------------------------- */

static void put16(uint8_t *p, int16_t v)
{
    p[0] = (uint8_t)((uint16_t)v >> 8);
    p[1] = (uint8_t)v;
}

static uint8_t *put_entry(uint8_t *p, const struct pstate_entry *e, int32_t last_seq,
                          int64_t last_offset, int32_t delta, int64_t ts)
{
    rb_put_i64(p, e->producer_id);
    put16(p + 8, e->epoch);
    rb_put_i32(p + 10, last_seq);
    rb_put_i64(p + 14, last_offset);
    rb_put_i32(p + 22, delta);
    rb_put_i64(p + 26, ts);
    rb_put_i32(p + 34, e->coordinator_epoch);
    rb_put_i64(p + 38, e->txn_first_offset);
    return p + PSTATE_SNAPSHOT_ENTRY;
}

int pstate_snapshot_encode(const struct producer_state *ps, uint8_t **out, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].producer_id != EMPTY_PID)
            n += ps->slots[i].nbatches ? (size_t)ps->slots[i].nbatches : 1;
    if (n > INT32_MAX)
        return -1;
    size_t total = PSTATE_SNAPSHOT_HEADER + n * PSTATE_SNAPSHOT_ENTRY;
    uint8_t *buf = (uint8_t *)malloc(total);
    if (!buf)
        return -1;
    put16(buf, PSTATE_SNAPSHOT_VERSION);
    rb_put_i32(buf + 6, (int32_t)n);
    uint8_t *p = buf + PSTATE_SNAPSHOT_HEADER;
    for (size_t i = 0; i < ps->cap; i++) {
        const struct pstate_entry *e = &ps->slots[i];
        if (e->producer_id == EMPTY_PID)
            continue;
        if (e->nbatches == 0) {
            /* Kafka's empty entry: no sequence, no offset. */
            p = put_entry(p, e, -1, -1, 0, e->last_timestamp);
            continue;
        }
        /* Oldest first: Kafka's reader keeps the last entry per producer,
         * which is then the newest batch with the entry's timestamp. */
        for (int k = 0; k < e->nbatches; k++) {
            const struct pstate_batch *b = &e->b[k];
            int newest = k + 1 == e->nbatches;
            p = put_entry(p, e, b->last_seq, b->last_offset, b->offset_delta,
                          newest ? e->last_timestamp : b->timestamp);
        }
    }
    /* CRC-32C over everything after the crc field (Kafka's
     * PRODUCER_ENTRIES_OFFSET = 6). */
    rb_put_i32(buf + 2, (int32_t)crc32c(0, buf + 6, total - 6));
    *out = buf;
    *len = total;
    return 0;
}

static int snap_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int snap_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int pstate_snapshot_decode(struct producer_state *ps, const uint8_t *buf, size_t len,
                           int64_t map_end, char *err, size_t errlen)
{
    clear(ps);
    ps->map_end = map_end;
    if (len < PSTATE_SNAPSHOT_HEADER)
        return snap_err(err, errlen, "snapshot of %zu bytes is too short", len);
    int16_t version = rb_get_i16(buf);
    if (version != PSTATE_SNAPSHOT_VERSION)
        return snap_err(err, errlen, "unknown snapshot version %d", version);
    uint32_t crc = (uint32_t)rb_get_i32(buf + 2);
    uint32_t computed = crc32c(0, buf + 6, len - 6);
    if (crc != computed)
        return snap_err(err, errlen, "snapshot CRC mismatch (stored %08x, computed %08x)", crc,
                        computed);
    int32_t n = rb_get_i32(buf + 6);
    if (n < 0 || (size_t)n != (len - PSTATE_SNAPSHOT_HEADER) / PSTATE_SNAPSHOT_ENTRY ||
        (len - PSTATE_SNAPSHOT_HEADER) % PSTATE_SNAPSHOT_ENTRY != 0)
        return snap_err(err, errlen, "snapshot entry count %d does not match its %zu bytes", n,
                        len);
    const uint8_t *p = buf + PSTATE_SNAPSHOT_HEADER;
    for (int32_t i = 0; i < n; i++, p += PSTATE_SNAPSHOT_ENTRY) {
        int64_t pid = rb_get_i64(p);
        int16_t epoch = rb_get_i16(p + 8);
        struct pstate_batch b = {
            .last_seq = rb_get_i32(p + 10),
            .last_offset = rb_get_i64(p + 14),
            .offset_delta = rb_get_i32(p + 22),
            .timestamp = rb_get_i64(p + 26),
        };
        int32_t coord = rb_get_i32(p + 34);
        int64_t txn = rb_get_i64(p + 38);
        if (pid < 0 || (b.last_offset >= 0 && (b.offset_delta < 0 || b.offset_delta > b.last_offset))) {
            clear(ps);
            return snap_err(err, errlen, "snapshot entry %d is invalid", i);
        }
        int existed = find(ps, pid) != NULL;
        struct pstate_entry *e = find_or_add(ps, pid);
        if (!e) {
            clear(ps);
            return snap_err(err, errlen, "out of memory");
        }
        /* Several entries of one producer: its batches, oldest first. */
        if (!existed || e->epoch != epoch) {
            entry_init(e, pid);
            e->epoch = epoch;
        }
        if (b.last_offset >= 0)
            entry_add_batch_meta(e, &b);
        e->last_timestamp = b.timestamp;
        e->coordinator_epoch = coord;
        e->txn_first_offset = txn >= 0 ? txn : -1;
    }
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].producer_id != EMPTY_PID && ps->slots[i].txn_first_offset >= 0)
            ps->ongoing++;
    heap_from_table(ps);
    return 0;
}

/* ---- snapshot files --------------------------------------------------- */

#define SNAP_SUFFIX ".snapshot"

static void snap_name(char *buf, size_t n, int64_t offset)
{
    snprintf(buf, n, "%020" PRId64 SNAP_SUFFIX, offset);
}

int pstate_snapshot_write(const struct producer_state *ps, const char *dir, int64_t offset,
                          struct flusher *fl)
{
    uint8_t *buf;
    size_t len;
    if (pstate_snapshot_encode(ps, &buf, &len) != 0)
        return -ENOMEM;
    char name[64];
    snap_name(name, sizeof name, offset);
    struct ckpt_file *c = ckpt_new(dir, name);
    int rc = c ? ckpt_write(c, fl, (const char *)buf, len, 1) : -ENOMEM;
    ckpt_release(c);
    free(buf);
    return rc;
}

void pstate_snapshot_delete(const char *dir, int64_t offset)
{
    char name[64], path[4096];
    snap_name(name, sizeof name, offset);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static int is_snapshot(const char *name, int64_t *offset)
{
    if (strlen(name) != 20 + sizeof SNAP_SUFFIX - 1 || strcmp(name + 20, SNAP_SUFFIX) != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *offset = v;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int list_snapshots(const char *dir, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t off;
        if (!is_snapshot(de->d_name, &off))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *v = (int64_t *)realloc(*out, cap * sizeof *v);
            if (!v) {
                closedir(d);
                return -1;
            }
            *out = v;
        }
        (*out)[(*n)++] = off;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_i64);
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t *buf = size >= 0 ? (uint8_t *)malloc((size_t)size + 1) : NULL;
    size_t got = 0;
    while (buf && got < (size_t)size) {
        ssize_t r = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

/* Replay the batch headers of segment s from the first batch whose last
 * offset >= from, reading in large chunks (recovery reads whole tails). */
static int replay_segment(struct producer_state *ps, const struct segment *s, int64_t from,
                          uint8_t *buf, size_t bufsize, pstate_completed_fn cb, void *ud)
{
    struct seg_batch first;
    int rc = seg_find_batch(s, from, &first);
    if (rc <= 0)
        return rc;
    uint64_t pos = first.pos, chunk_pos = 0;
    size_t chunk_len = 0;
    while (pos + RB_HEADER_SIZE <= s->size) {
        if (pos < chunk_pos || pos + RB_HEADER_SIZE > chunk_pos + chunk_len) {
            size_t want = s->size - pos < bufsize ? (size_t)(s->size - pos) : bufsize;
            ssize_t r;
            do
                r = pread(s->log_fd, buf, want, (off_t)pos);
            while (r < 0 && errno == EINTR);
            if (r < (ssize_t)RB_HEADER_SIZE)
                return r < 0 ? -errno : -EIO;
            chunk_pos = pos;
            chunk_len = (size_t)r;
        }
        const uint8_t *h = buf + (pos - chunk_pos);
        size_t size = rb_batch_size(h, RB_HEADER_SIZE);
        if (size < RB_HEADER_SIZE)
            return -EIO; /* recovery validated the log: the file changed */
        if ((rb_get_i16(h + RB_OFF_ATTRIBUTES) & RB_ATTR_CONTROL) &&
            pos + size > chunk_pos + chunk_len && size <= bufsize && chunk_pos != pos) {
            chunk_len = 0; /* a marker is read whole: refill from its start */
            continue;
        }
        if (rb_get_i64(h + RB_OFF_BASE_OFFSET) + rb_get_i32(h + RB_OFF_LAST_OFFSET_DELTA) >= from)
            pstate_replay_batch(ps, h, (size_t)(chunk_pos + chunk_len - pos), cb, ud);
        pos += size;
    }
    return 0;
}

int pstate_load(struct producer_state *ps, const char *dir, struct segment *const *segs,
                size_t nsegs, int64_t log_start, int64_t log_end, int clean,
                int64_t rebuild_from, pstate_completed_fn cb, void *ud, char *err,
                size_t errlen)
{
    clear(ps);
    ps->map_end = log_start;
    int64_t *snaps;
    size_t nsnaps;
    if (list_snapshots(dir, &snaps, &nsnaps) != 0)
        return snap_err(err, errlen, "cannot list snapshots in %s: %s", dir, strerror(errno));

    /* removeStraySnapshots: keep snapshots at segment bases, plus the
     * largest other one if it is above every base (the clean-shutdown
     * snapshot); then drop everything past the log end (truncated tail). */
    int64_t max_base = nsegs ? segs[nsegs - 1]->base_offset : 0;
    size_t keep = 0;
    for (size_t i = 0; i < nsnaps; i++) {
        int at_base = 0;
        for (size_t k = 0; k < nsegs && !at_base; k++)
            at_base = segs[k]->base_offset == snaps[i];
        int newest_stray = !at_base && snaps[i] > max_base && i + 1 == nsnaps;
        if (snaps[i] > log_end || snaps[i] > rebuild_from || (!at_base && !newest_stray)) {
            pstate_snapshot_delete(dir, snaps[i]);
            continue;
        }
        snaps[keep++] = snaps[i];
    }
    nsnaps = keep;

    int loaded = 0;
    while (nsnaps > 0 && !loaded) {
        int64_t off = snaps[--nsnaps];
        char name[64], path[4096], why[160];
        snap_name(name, sizeof name, off);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len = 0;
        uint8_t *buf = read_file(path, &len);
        if (buf && pstate_snapshot_decode(ps, buf, len, off, why, sizeof why) == 0)
            loaded = 1;
        else
            unlink(path); /* Kafka: CorruptSnapshotException → delete, try older */
        free(buf);
    }
    int had_snapshots = keep > 0;
    free(snaps);
    if (!loaded) {
        clear(ps);
        ps->map_end = log_start;
        if (clean && !had_snapshots && rebuild_from == INT64_MAX) {
            ps->map_end = log_end;
            return 0;
        }
    }

    int64_t from = ps->map_end > log_start ? ps->map_end : log_start;
    size_t bufsize = 1 << 20;
    uint8_t *buf = (uint8_t *)malloc(bufsize);
    if (!buf)
        return snap_err(err, errlen, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < nsegs && rc == 0; i++) {
        if (segs[i]->next_offset <= from)
            continue;
        rc = replay_segment(ps, segs[i], from, buf, bufsize, cb, ud);
    }
    free(buf);
    if (rc < 0)
        return snap_err(err, errlen, "producer state replay in %s: %s", dir, strerror(-rc));
    ps->map_end = log_end;
    return 0;
}
