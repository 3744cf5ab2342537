#include "txn/txn_state.h"

#include <stdlib.h>
#include <string.h>

#include "proto/kafka_errors.h"

static const char *const state_names[TXN_STATE_COUNT] = {
    "Empty",         "Ongoing",      "PrepareCommit", "PrepareAbort",
    "CompleteCommit", "CompleteAbort", "Dead",          "PrepareEpochFence",
};

const char *txn_state_name(int state)
{
    return state >= 0 && state < TXN_STATE_COUNT ? state_names[state] : NULL;
}

int txn_state_from_name(const char *name, size_t len)
{
    for (int i = 0; i < TXN_STATE_COUNT; i++)
        if (strlen(state_names[i]) == len && memcmp(state_names[i], name, len) == 0)
            return i;
    return -1;
}

/* ---- partition sets ------------------------------------------------------ */

static int part_cmp(const char *t1, int32_t p1, const char *t2, int32_t p2)
{
    int c = strcmp(t1, t2);
    return c ? c : (p1 < p2 ? -1 : p1 > p2);
}

/* Index of the first element >= (topic, partition). */
static size_t part_lower(const struct txn_partitions *s, const char *topic, int32_t partition)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (part_cmp(s->v[mid].topic, s->v[mid].partition, topic, partition) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void txn_partitions_free(struct txn_partitions *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].topic);
    free(s->v);
    memset(s, 0, sizeof *s);
}

bool txn_partitions_contains(const struct txn_partitions *s, const char *topic, int32_t partition)
{
    size_t i = part_lower(s, topic, partition);
    return i < s->n && part_cmp(s->v[i].topic, s->v[i].partition, topic, partition) == 0;
}

int txn_partitions_add(struct txn_partitions *s, const char *topic, int32_t partition)
{
    size_t i = part_lower(s, topic, partition);
    if (i < s->n && part_cmp(s->v[i].topic, s->v[i].partition, topic, partition) == 0)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        struct txn_partition *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    char *t = strdup(topic);
    if (!t)
        return -1;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    s->v[i] = (struct txn_partition){ t, partition };
    s->n++;
    return 0;
}

int txn_partitions_copy(struct txn_partitions *dst, const struct txn_partitions *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++)
        if (txn_partitions_add(dst, src->v[i].topic, src->v[i].partition) < 0) {
            txn_partitions_free(dst);
            return -1;
        }
    return 0;
}

/* ---- metadata ------------------------------------------------------------ */

void txn_meta_free(struct txn_meta *m)
{
    txn_partitions_free(&m->parts);
}

int txn_meta_copy(struct txn_meta *dst, const struct txn_meta *src)
{
    *dst = *src;
    return txn_partitions_copy(&dst->parts, &src->parts);
}

struct txn_entry *txn_entry_new(const char *id, int64_t producer_id, int32_t timeout_ms,
                                int64_t now_ms)
{
    struct txn_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->id = strdup(id))) {
        free(e);
        return NULL;
    }
    e->cur.producer_id = producer_id;
    e->cur.prev_producer_id = TXN_NO_PRODUCER_ID;
    e->cur.producer_epoch = TXN_NO_PRODUCER_EPOCH;
    e->cur.last_producer_epoch = TXN_NO_PRODUCER_EPOCH;
    e->cur.timeout_ms = timeout_ms;
    e->cur.state = TXN_EMPTY;
    e->cur.start_ms = -1;
    e->cur.last_update_ms = now_ms;
    return e;
}

void txn_entry_free(struct txn_entry *e)
{
    if (!e)
        return;
    txn_meta_free(&e->cur);
    if (e->pending)
        txn_meta_free(&e->transit);
    free(e->id);
    free(e);
}

bool txn_epoch_exhausted(int16_t epoch)
{
    return epoch >= INT16_MAX - 1;
}

void txn_complete_transition(struct txn_entry *e)
{
    if (!e->pending)
        return;
    txn_meta_free(&e->cur);
    e->cur = e->transit;
    memset(&e->transit, 0, sizeof e->transit);
    e->pending = false;
}

void txn_abort_transition(struct txn_entry *e)
{
    if (!e->pending)
        return;
    txn_meta_free(&e->transit);
    e->pending = false;
}

/* prepareTransitionTo: the transit starts from the current metadata (its
 * partitions copied unless `parts` replaces them); lastProducerId is the
 * id before the transition. */
static int transit_to(struct txn_entry *e, int state, int64_t producer_id, int16_t epoch,
                      int16_t last_epoch, int32_t timeout_ms, bool keep_parts,
                      const struct txn_partitions *add, int64_t start_ms, int64_t update_ms)
{
    struct txn_meta t;
    memset(&t, 0, sizeof t);
    if (keep_parts && txn_partitions_copy(&t.parts, &e->cur.parts) < 0)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    for (size_t i = 0; add && i < add->n; i++)
        if (txn_partitions_add(&t.parts, add->v[i].topic, add->v[i].partition) < 0) {
            txn_partitions_free(&t.parts);
            return KP_ERR_UNKNOWN_SERVER_ERROR;
        }
    t.producer_id = producer_id;
    t.prev_producer_id = e->cur.producer_id;
    t.producer_epoch = epoch;
    t.last_producer_epoch = last_epoch;
    t.timeout_ms = timeout_ms;
    t.state = state;
    t.start_ms = start_ms;
    t.last_update_ms = update_ms;
    if (e->pending)
        txn_meta_free(&e->transit);
    e->transit = t;
    e->pending = true;
    e->pending_state = state;
    return 0;
}

/* prepareIncrementProducerEpoch */
static int prepare_increment_epoch(struct txn_entry *e, int32_t timeout_ms, bool has_expected,
                                   int16_t expected_epoch, int64_t now_ms)
{
    const struct txn_meta *m = &e->cur;
    int16_t bumped = (int16_t)(m->producer_epoch + 1);
    int16_t epoch, last;
    if (!has_expected) {
        epoch = bumped;
        last = TXN_NO_PRODUCER_EPOCH;
    } else if (m->producer_epoch == TXN_NO_PRODUCER_EPOCH || expected_epoch == m->producer_epoch) {
        epoch = bumped;
        last = m->producer_epoch;
    } else if (expected_epoch == m->last_producer_epoch) {
        /* A retry of a bump whose answer the producer never got. */
        epoch = m->producer_epoch;
        last = m->last_producer_epoch;
    } else {
        return KP_ERR_PRODUCER_FENCED;
    }
    return transit_to(e, TXN_EMPTY, m->producer_id, epoch, last, timeout_ms, false, NULL, -1,
                      now_ms);
}

int txn_prepare_init_pid(struct txn_entry *e, int32_t timeout_ms, int64_t expected_pid,
                         int16_t expected_epoch, int64_t new_producer_id, int64_t now_ms)
{
    const struct txn_meta *m = &e->cur;
    bool has_expected = expected_pid != TXN_NO_PRODUCER_ID;
    if (e->pending)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    /* isValidProducerId: a fresh entry, the current id, or a retry after a
     * rotation the producer never heard of. */
    if (has_expected && !(m->producer_epoch == TXN_NO_PRODUCER_EPOCH ||
                          expected_pid == m->producer_id ||
                          (expected_pid == m->prev_producer_id &&
                           txn_epoch_exhausted(expected_epoch))))
        return KP_ERR_PRODUCER_FENCED;
    switch (m->state) {
    case TXN_PREPARE_ABORT:
    case TXN_PREPARE_COMMIT:
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    case TXN_COMPLETE_ABORT:
    case TXN_COMPLETE_COMMIT:
    case TXN_EMPTY:
        if (txn_epoch_exhausted(m->producer_epoch) &&
            (!has_expected || expected_epoch == m->producer_epoch)) {
            /* prepareProducerIdRotation */
            if (new_producer_id < 0)
                return TXN_NEED_PRODUCER_ID;
            return transit_to(e, TXN_EMPTY, new_producer_id, 0,
                              has_expected ? m->producer_epoch : TXN_NO_PRODUCER_EPOCH,
                              timeout_ms, false, NULL, -1, now_ms);
        }
        return prepare_increment_epoch(e, timeout_ms, has_expected, expected_epoch, now_ms);
    case TXN_ONGOING:
        /* Abort the ongoing transaction under a bumped epoch first; the
         * producer retries and gets a second bump. */
        return txn_prepare_fence_epoch(e);
    default:
        /* Dead and PrepareEpochFence are only ever pending states. */
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
}

int txn_prepare_fence_epoch(struct txn_entry *e)
{
    const struct txn_meta *m = &e->cur;
    if (m->producer_epoch == INT16_MAX)
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    /* A fence whose write failed already bumped the epoch in memory. */
    int16_t bumped = e->failed_epoch_fence ? m->producer_epoch : (int16_t)(m->producer_epoch + 1);
    return transit_to(e, TXN_PREPARE_EPOCH_FENCE, m->producer_id, bumped, TXN_NO_PRODUCER_EPOCH,
                      m->timeout_ms, true, NULL, m->start_ms, m->last_update_ms);
}

static int check_producer(const struct txn_entry *e, int64_t pid, int16_t epoch)
{
    if (e->cur.producer_id != pid)
        return KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (e->cur.producer_epoch != epoch)
        return KP_ERR_PRODUCER_FENCED;
    return 0;
}

int txn_prepare_add_partitions(struct txn_entry *e, int64_t pid, int16_t epoch,
                               const struct txn_partitions *parts, int64_t now_ms)
{
    const struct txn_meta *m = &e->cur;
    int err = check_producer(e, pid, epoch);
    if (err)
        return err;
    if (e->pending || m->state == TXN_PREPARE_COMMIT || m->state == TXN_PREPARE_ABORT)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    if (m->state == TXN_ONGOING) {
        bool subset = true;
        for (size_t i = 0; i < parts->n && subset; i++)
            subset = txn_partitions_contains(&m->parts, parts->v[i].topic, parts->v[i].partition);
        if (subset)
            return TXN_NO_WRITE;
    }
    int64_t start = (m->state == TXN_EMPTY || m->state == TXN_COMPLETE_ABORT ||
                     m->state == TXN_COMPLETE_COMMIT)
                        ? now_ms
                        : m->start_ms;
    return transit_to(e, TXN_ONGOING, m->producer_id, m->producer_epoch, m->last_producer_epoch,
                      m->timeout_ms, true, parts, start, now_ms);
}

int txn_check_verify(const struct txn_entry *e, int64_t pid, int16_t epoch)
{
    int err = check_producer(e, pid, epoch);
    if (err)
        return err;
    /* The pending state is not checked: the append itself is validated. */
    if (e->cur.state == TXN_PREPARE_COMMIT || e->cur.state == TXN_PREPARE_ABORT)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    return 0;
}

int16_t txn_verify_partition(const struct txn_entry *e, const char *topic, int32_t partition)
{
    return txn_partitions_contains(&e->cur.parts, topic, partition) ? KP_ERR_NONE
                                                                     : KP_ERR_TRANSACTION_ABORTABLE;
}

int txn_prepare_end(struct txn_entry *e, int64_t pid, int16_t epoch, bool commit,
                    bool from_client, int64_t now_ms)
{
    struct txn_meta *m = &e->cur;
    if (m->producer_id != pid)
        return KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    /* Clients may not bump the epoch; the coordinator's own abort does. */
    if ((from_client && epoch != m->producer_epoch) || epoch < m->producer_epoch)
        return KP_ERR_PRODUCER_FENCED;
    if (e->pending && e->pending_state != TXN_PREPARE_EPOCH_FENCE)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    switch (m->state) {
    case TXN_ONGOING:
        if (!commit && e->pending && e->pending_state == TXN_PREPARE_EPOCH_FENCE) {
            /* The fence becomes the abort's epoch. */
            txn_abort_transition(e);
            m->producer_epoch = epoch;
            m->last_producer_epoch = TXN_NO_PRODUCER_EPOCH;
        }
        return transit_to(e, commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT, m->producer_id,
                          m->producer_epoch, m->last_producer_epoch, m->timeout_ms, true, NULL,
                          m->start_ms, now_ms);
    case TXN_COMPLETE_COMMIT:
        return commit ? TXN_NO_WRITE : KP_ERR_INVALID_TXN_STATE;
    case TXN_COMPLETE_ABORT:
        return !commit ? TXN_NO_WRITE : KP_ERR_INVALID_TXN_STATE;
    case TXN_PREPARE_COMMIT:
        return commit ? KP_ERR_CONCURRENT_TRANSACTIONS : KP_ERR_INVALID_TXN_STATE;
    case TXN_PREPARE_ABORT:
        return !commit ? KP_ERR_CONCURRENT_TRANSACTIONS : KP_ERR_INVALID_TXN_STATE;
    case TXN_EMPTY:
        return KP_ERR_INVALID_TXN_STATE;
    default:
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
}

int txn_prepare_complete(struct txn_entry *e, int64_t now_ms)
{
    const struct txn_meta *m = &e->cur;
    if (e->pending)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    if (m->state != TXN_PREPARE_COMMIT && m->state != TXN_PREPARE_ABORT)
        return KP_ERR_INVALID_TXN_STATE;
    e->failed_epoch_fence = false;
    return transit_to(e, m->state == TXN_PREPARE_COMMIT ? TXN_COMPLETE_COMMIT : TXN_COMPLETE_ABORT,
                      m->producer_id, m->producer_epoch, m->last_producer_epoch, m->timeout_ms,
                      false, NULL, m->start_ms, now_ms);
}

bool txn_prepare_dead(struct txn_entry *e, int64_t now_ms, int64_t expiration_ms)
{
    const struct txn_meta *m = &e->cur;
    if (e->pending)
        return false;
    if (m->state != TXN_EMPTY && m->state != TXN_COMPLETE_COMMIT && m->state != TXN_COMPLETE_ABORT)
        return false;
    if (m->last_update_ms > now_ms - expiration_ms)
        return false;
    return transit_to(e, TXN_DEAD, m->producer_id, m->producer_epoch, m->last_producer_epoch,
                      m->timeout_ms, false, NULL, m->start_ms, m->last_update_ms) == 0;
}

bool txn_timed_out(const struct txn_entry *e, int64_t now_ms)
{
    return !e->pending && e->cur.state == TXN_ONGOING &&
           e->cur.start_ms + e->cur.timeout_ms < now_ms;
}
