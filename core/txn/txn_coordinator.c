/* The coordinator's request logic: TransactionCoordinator's handlers on
 * top of the state machine of txn_state.c. */
#include "txn/txn_coordinator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "group/partitioner.h"
#include "storage/partition_log.h"
#include "storage/producer_state.h"

int32_t txn_partition_for(struct broker *b, const char *transactional_id)
{
    struct broker_topic *t = broker_topic(b, TXN_TOPIC);
    return group_partition_for(transactional_id,
                               t ? t->nparts : b->cfg->transaction_state_log_num_partitions);
}

struct txn_entry *txn_lookup(struct txn_coordinator *tc, const char *transactional_id)
{
    return tc && tc->active ? strmap_get(&tc->ids, transactional_id) : NULL;
}

/* getTransactionState: the coordinator must be loaded. */
static int16_t coordinator_error(struct txn_coordinator *tc)
{
    return tc && tc->active ? KP_ERR_NONE : KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* getTransactionState for a request on an existing id: INVALID_REQUEST
 * for an empty id, the coordinator's state, INVALID_PRODUCER_ID_MAPPING
 * for an unknown id. */
static int16_t find_entry(struct txn_coordinator *tc, const char *transactional_id,
                          struct txn_entry **out)
{
    *out = NULL;
    if (!transactional_id || !transactional_id[0])
        return KP_ERR_INVALID_REQUEST;
    int16_t err = coordinator_error(tc);
    if (err)
        return err;
    *out = txn_lookup(tc, transactional_id);
    return *out ? KP_ERR_NONE : KP_ERR_INVALID_PRODUCER_ID_MAPPING;
}

/* ---- writing a transit ------------------------------------------------ */

/* A transition of one id on its way to the log. */
struct transit_write {
    struct txn_coordinator *tc;
    char *id;
    int64_t pid;
    int16_t epoch;
    bool commit, epoch_fence;
    void (*then)(struct transit_write *w, struct txn_entry *e, int16_t err);
    union {
        txn_pid_cb pid_cb;
        txn_done_cb done_cb;
    };
    void *ud;
};

static struct transit_write *transit_write_new(struct txn_coordinator *tc, const char *id)
{
    struct transit_write *w = calloc(1, sizeof *w);
    if (w && !(w->id = strdup(id))) {
        free(w);
        return NULL;
    }
    if (w)
        w->tc = tc;
    return w;
}

static void transit_written(void *ud, int16_t err)
{
    struct transit_write *w = ud;
    struct txn_entry *e = txn_lookup(w->tc, w->id);
    if (!e)
        err = KP_ERR_NOT_COORDINATOR;
    else if (err)
        txn_abort_transition(e);
    else
        txn_complete_transition(e);
    w->then(w, e, err);
    free(w->id);
    free(w);
}

/* Writes e's pending transit; w->then runs once it is durable or failed. */
static void write_transit(struct transit_write *w, struct txn_entry *e)
{
    txn_log_append(w->tc, e->id, &e->transit, transit_written, w);
}

/* ---- EndTxn and the coordinator's own aborts ---------------------------- */

static void end_written(struct transit_write *w, struct txn_entry *e, int16_t err)
{
    struct txn_coordinator *tc = w->tc;
    if (err) {
        /* A failed epoch fence already bumped the epoch in memory: the
         * next attempt must not bump it again. */
        if (e && w->epoch_fence)
            e->failed_epoch_fence = true;
        w->done_cb(w->ud, err);
        return;
    }
    /* sendTxnMarkersCallback: the metadata must still be this transaction's. */
    int want = w->commit ? TXN_PREPARE_COMMIT : TXN_PREPARE_ABORT;
    if (e->cur.producer_id != w->pid)
        err = KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    else if (e->cur.producer_epoch != w->epoch)
        err = KP_ERR_PRODUCER_FENCED;
    else if (e->pending)
        err = KP_ERR_CONCURRENT_TRANSACTIONS;
    else if (e->cur.state != want)
        err = KP_ERR_INVALID_TXN_STATE;
    else
        err = (int16_t)txn_prepare_complete(e, broker_now_ms(tc->b));
    /* The client is answered once PrepareX is durable; the markers and
     * the Complete record follow. */
    w->done_cb(w->ud, err);
    if (!err)
        txn_markers_send(tc, e);
}

static void end_transaction(struct txn_coordinator *tc, struct txn_entry *e, int64_t pid,
                            int16_t epoch, bool commit, bool from_client, txn_done_cb cb, void *ud)
{
    bool fence_pending = e->pending && e->pending_state == TXN_PREPARE_EPOCH_FENCE;
    int rc = txn_prepare_end(e, pid, epoch, commit, from_client, broker_now_ms(tc->b));
    if (rc != 0) {
        if (fence_pending && e->pending && e->pending_state == TXN_PREPARE_EPOCH_FENCE)
            txn_abort_transition(e);
        cb(ud, rc == TXN_NO_WRITE ? KP_ERR_NONE : (int16_t)rc);
        return;
    }
    struct transit_write *w = transit_write_new(tc, e->id);
    if (!w) {
        txn_abort_transition(e);
        cb(ud, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    w->pid = pid;
    w->epoch = e->transit.producer_epoch;
    w->commit = commit;
    w->epoch_fence = fence_pending && !commit;
    w->then = end_written;
    w->done_cb = cb;
    w->ud = ud;
    slog(tc->b->log, SLOG_DEBUG, "txn", "%s: %s (producer %lld epoch %d)", e->id,
         commit ? "PrepareCommit" : "PrepareAbort", (long long)pid, e->transit.producer_epoch);
    write_transit(w, e);
}

void txn_end(struct txn_coordinator *tc, const char *transactional_id, int64_t pid, int16_t epoch,
             bool commit, txn_done_cb cb, void *ud)
{
    struct txn_entry *e;
    int16_t err = find_entry(tc, transactional_id, &e);
    if (err) {
        cb(ud, err);
        return;
    }
    end_transaction(tc, e, pid, epoch, commit, true, cb, ud);
}

/* ---- InitProducerId ----------------------------------------------------- */

struct init_req {
    struct txn_coordinator *tc;
    char *id;
    int32_t timeout_ms;
    int64_t expected_pid;
    int16_t expected_epoch;
    txn_pid_cb cb;
    void *ud;
};

static void init_finish(struct init_req *r, int16_t err, int64_t pid, int16_t epoch)
{
    if (err)
        r->cb(r->ud, err, -1, -1);
    else
        r->cb(r->ud, KP_ERR_NONE, pid, epoch);
    free(r->id);
    free(r);
}

static void init_step(struct init_req *r, int64_t new_pid);

static void init_pid_allocated(void *ud, int16_t err, int64_t id)
{
    struct init_req *r = ud;
    if (err) {
        init_finish(r, err, -1, -1);
        return;
    }
    init_step(r, id);
}

static void init_written(struct transit_write *w, struct txn_entry *e, int16_t err)
{
    (void)e;
    w->pid_cb(w->ud, err, err ? -1 : w->pid, err ? -1 : w->epoch);
}

/* sendRetriableErrorCallback: the fenced transaction's abort is durable,
 * the producer retries InitProducerId. */
static void init_fence_done(void *ud, int16_t err)
{
    struct init_req *r = ud;
    init_finish(r, err ? err : KP_ERR_CONCURRENT_TRANSACTIONS, -1, -1);
}

static void init_step(struct init_req *r, int64_t new_pid)
{
    struct txn_coordinator *tc = r->tc;
    int16_t err = coordinator_error(tc);
    if (err) {
        init_finish(r, err, -1, -1);
        return;
    }
    int64_t now = broker_now_ms(tc->b);
    struct txn_entry *e = txn_lookup(tc, r->id);
    if (!e) {
        if (new_pid < 0) {
            broker_alloc_producer_id(tc->b, init_pid_allocated, r);
            return;
        }
        e = txn_entry_new(r->id, new_pid, r->timeout_ms, now);
        if (!e || strmap_put(&tc->ids, e->id, e) < 0) {
            txn_entry_free(e);
            init_finish(r, KP_ERR_UNKNOWN_SERVER_ERROR, -1, -1);
            return;
        }
        new_pid = -1;
    }
    int rc = txn_prepare_init_pid(e, r->timeout_ms, r->expected_pid, r->expected_epoch, new_pid,
                                  now);
    if (rc == TXN_NEED_PRODUCER_ID) {
        broker_alloc_producer_id(tc->b, init_pid_allocated, r);
        return;
    }
    if (rc != 0) {
        init_finish(r, (int16_t)rc, -1, -1);
        return;
    }
    if (e->pending_state == TXN_PREPARE_EPOCH_FENCE) {
        slog(tc->b->log, SLOG_INFO, "txn",
             "%s: InitProducerId while a transaction is ongoing: aborting it with epoch %d",
             e->id, e->transit.producer_epoch);
        end_transaction(tc, e, e->transit.producer_id, e->transit.producer_epoch, false, false,
                        init_fence_done, r);
        return;
    }
    struct transit_write *w = transit_write_new(tc, e->id);
    if (!w) {
        txn_abort_transition(e);
        init_finish(r, KP_ERR_UNKNOWN_SERVER_ERROR, -1, -1);
        return;
    }
    w->pid = e->transit.producer_id;
    w->epoch = e->transit.producer_epoch;
    w->then = init_written;
    w->pid_cb = r->cb;
    w->ud = r->ud;
    free(r->id);
    free(r);
    write_transit(w, e);
}

void txn_init_producer_id(struct txn_coordinator *tc, const char *transactional_id,
                          int32_t timeout_ms, int64_t expected_pid, int16_t expected_epoch,
                          txn_pid_cb cb, void *ud)
{
    if (!transactional_id[0]) {
        cb(ud, KP_ERR_INVALID_REQUEST, -1, -1);
        return;
    }
    if (timeout_ms <= 0 || timeout_ms > tc->b->cfg->transaction_max_timeout_ms) {
        cb(ud, KP_ERR_INVALID_TRANSACTION_TIMEOUT, -1, -1);
        return;
    }
    struct init_req *r = calloc(1, sizeof *r);
    if (!r || !(r->id = strdup(transactional_id))) {
        free(r);
        cb(ud, KP_ERR_UNKNOWN_SERVER_ERROR, -1, -1);
        return;
    }
    r->tc = tc;
    r->timeout_ms = timeout_ms;
    r->expected_pid = expected_pid;
    r->expected_epoch = expected_epoch;
    r->cb = cb;
    r->ud = ud;
    init_step(r, -1);
}

/* ---- AddPartitionsToTxn -------------------------------------------------- */

static void add_written(struct transit_write *w, struct txn_entry *e, int16_t err)
{
    (void)e;
    w->done_cb(w->ud, err);
}

void txn_add_partitions(struct txn_coordinator *tc, const char *transactional_id, int64_t pid,
                        int16_t epoch, const struct txn_partitions *parts, txn_done_cb cb,
                        void *ud)
{
    struct txn_entry *e;
    int16_t err = find_entry(tc, transactional_id, &e);
    if (err) {
        cb(ud, err);
        return;
    }
    int rc = txn_prepare_add_partitions(e, pid, epoch, parts, broker_now_ms(tc->b));
    if (rc != 0) {
        cb(ud, rc == TXN_NO_WRITE ? KP_ERR_NONE : (int16_t)rc);
        return;
    }
    struct transit_write *w = transit_write_new(tc, e->id);
    if (!w) {
        txn_abort_transition(e);
        cb(ud, KP_ERR_UNKNOWN_SERVER_ERROR);
        return;
    }
    w->then = add_written;
    w->done_cb = cb;
    w->ud = ud;
    write_transit(w, e);
}

int16_t txn_verify(struct txn_coordinator *tc, const char *transactional_id, int64_t pid,
                   int16_t epoch, const struct txn_entry **out)
{
    struct txn_entry *e;
    int16_t err = find_entry(tc, transactional_id, &e);
    *out = NULL;
    if (err)
        return err;
    err = (int16_t)txn_check_verify(e, pid, epoch);
    if (!err)
        *out = e;
    return err;
}

int16_t txn_verify_append(struct broker *b, const char *transactional_id, int64_t pid,
                          int16_t epoch, const char *topic, int32_t partition,
                          bool transaction_abortable)
{
    if (!b->cfg->transaction_partition_verification_enable)
        return KP_ERR_NONE;
    /* Kafka asks the coordinator only when the partition has no ongoing
     * transaction of this producer yet (its first batch in the txn). */
    int16_t perr = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, partition, &perr);
    if (pl) {
        const struct pstate_entry *pe = pstate_get(plog_producer_state(pl), pid);
        if (pe && pe->epoch == epoch && pe->txn_first_offset >= 0)
            return KP_ERR_NONE;
    }
    const struct txn_entry *e;
    int16_t err = txn_verify(b->txns, transactional_id, pid, epoch, &e);
    if (!err)
        err = txn_verify_partition(e, topic, partition);
    switch (err) {
    case KP_ERR_NONE:
        return KP_ERR_NONE;
    case KP_ERR_TRANSACTION_ABORTABLE:
    case KP_ERR_INVALID_TXN_STATE:
        return transaction_abortable ? KP_ERR_TRANSACTION_ABORTABLE : KP_ERR_INVALID_TXN_STATE;
    case KP_ERR_CONCURRENT_TRANSACTIONS:
    case KP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case KP_ERR_COORDINATOR_NOT_AVAILABLE:
    case KP_ERR_NOT_COORDINATOR:
        /* Retriable for the coordinator, but older producers would not
         * retry them on Produce: Kafka answers NOT_ENOUGH_REPLICAS. */
        return KP_ERR_NOT_ENOUGH_REPLICAS;
    case KP_ERR_PRODUCER_FENCED:
    case KP_ERR_INVALID_PRODUCER_ID_MAPPING:
        return KP_ERR_INVALID_PRODUCER_EPOCH;
    default:
        return err;
    }
}

/* ---- timers -------------------------------------------------------------- */

/* The ids whose entry passes `want` (all when NULL), copied: what a pass
 * then does may complete synchronously and change the map. */
static char **collect_ids(struct txn_coordinator *tc, int64_t now_ms,
                          bool (*want)(const struct txn_entry *, int64_t), size_t *n)
{
    size_t cap = 0, it = 0;
    char **ids = NULL;
    void *v;
    *n = 0;
    while (strmap_next(&tc->ids, &it, NULL, &v)) {
        struct txn_entry *e = v;
        if (want && !want(e, now_ms))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **ni = realloc(ids, nc * sizeof *ni);
            if (!ni)
                break;
            ids = ni;
            cap = nc;
        }
        if (!(ids[*n] = strdup(e->id)))
            break;
        (*n)++;
    }
    return ids;
}

static void timeout_abort_done(void *ud, int16_t err)
{
    struct txn_coordinator *tc = ud;
    if (err)
        slog(tc->b->log, SLOG_INFO, "txn", "aborting a timed-out transaction failed (%s); "
             "retried on the next pass", kp_error_name(err));
}

void txn_abort_timed_out(struct txn_coordinator *tc, int64_t now_ms)
{
    if (!tc->active)
        return;
    size_t n;
    char **ids = collect_ids(tc, now_ms, txn_timed_out, &n);
    for (size_t i = 0; i < n; i++) {
        struct txn_entry *e = txn_lookup(tc, ids[i]);
        if (e && txn_timed_out(e, now_ms) && txn_prepare_fence_epoch(e) == 0) {
            slog(tc->b->log, SLOG_INFO, "txn",
                 "%s: transaction of producer %lld timed out after %d ms; aborting it with "
                 "epoch %d", e->id, (long long)e->cur.producer_id, e->cur.timeout_ms,
                 e->transit.producer_epoch);
            end_transaction(tc, e, e->transit.producer_id, e->transit.producer_epoch, false, false,
                            timeout_abort_done, tc);
        }
        free(ids[i]);
    }
    free(ids);
}

struct expire_ctx {
    struct txn_coordinator *tc;
    char *id;
};

static void expired_written(void *ud, int16_t err)
{
    struct expire_ctx *x = ud;
    struct txn_entry *e = txn_lookup(x->tc, x->id);
    if (e && e->pending && e->pending_state == TXN_DEAD) {
        if (err) {
            txn_abort_transition(e);
        } else {
            strmap_del(&x->tc->ids, x->id);
            txn_entry_free(e);
            slog(x->tc->b->log, SLOG_INFO, "txn", "transactional id %s expired", x->id);
        }
    }
    free(x->id);
    free(x);
}

void txn_expire_ids(struct txn_coordinator *tc, int64_t now_ms)
{
    if (!tc->active)
        return;
    int64_t expiration = tc->b->cfg->transactional_id_expiration_ms;
    size_t n;
    char **ids = collect_ids(tc, now_ms, NULL, &n);
    for (size_t i = 0; i < n; i++) {
        struct txn_entry *e = txn_lookup(tc, ids[i]);
        struct expire_ctx *x;
        if (e && txn_prepare_dead(e, now_ms, expiration)) {
            if (!(x = malloc(sizeof *x)) || !(x->id = strdup(e->id))) {
                free(x);
                txn_abort_transition(e);
            } else {
                x->tc = tc;
                txn_log_append(tc, e->id, NULL, expired_written, x);
            }
        }
        free(ids[i]);
    }
    free(ids);
}

static void abort_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct txn_coordinator *tc = t->data;
    txn_abort_timed_out(tc, broker_now_ms(tc->b));
}

static void expire_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct txn_coordinator *tc = t->data;
    txn_expire_ids(tc, broker_now_ms(tc->b));
}

/* ---- life cycle ---------------------------------------------------------- */

int txn_coordinator_start(struct broker *b, char *err, size_t errlen)
{
    struct txn_coordinator *tc = calloc(1, sizeof *tc);
    if (!tc) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    tc->b = b;
    strmap_init(&tc->ids);
    b->txns = tc;
    int64_t t0 = broker_now_ms(b);
    if (txn_log_load(tc, err, errlen) < 0)
        return -1;
    tc->active = true;
    size_t it = 0, pending = 0;
    void *v;
    /* Transactions that were completing when the broker stopped: their
     * markers are written again (loadTransactionsForTxnTopicPartition). */
    while (strmap_next(&tc->ids, &it, NULL, &v)) {
        struct txn_entry *e = v;
        if ((e->cur.state == TXN_PREPARE_COMMIT || e->cur.state == TXN_PREPARE_ABORT) &&
            txn_prepare_complete(e, t0) == 0) {
            txn_markers_send(tc, e);
            pending++;
        }
    }
    if (broker_topic(b, TXN_TOPIC))
        slog(b->log, SLOG_INFO, "txn",
             "loaded %zu transactional ids from %s in %lld ms (%zu transactions completing)",
             tc->ids.count, TXN_TOPIC, (long long)(broker_now_ms(b) - t0), pending);
    double ai = b->cfg->transaction_abort_timed_out_transaction_cleanup_interval_ms / 1000.0;
    double ei = b->cfg->transaction_remove_expired_transaction_cleanup_interval_ms / 1000.0;
    ev_timer_init(&tc->abort_timer, abort_timer_cb, ai, ai);
    tc->abort_timer.data = tc;
    ev_timer_start(b->loop, &tc->abort_timer);
    ev_timer_init(&tc->expire_timer, expire_timer_cb, ei, ei);
    tc->expire_timer.data = tc;
    ev_timer_start(b->loop, &tc->expire_timer);
    return 0;
}

void txn_coordinator_stop(struct broker *b)
{
    struct txn_coordinator *tc = b->txns;
    if (!tc)
        return;
    tc->active = false;
    ev_timer_stop(b->loop, &tc->abort_timer);
    ev_timer_stop(b->loop, &tc->expire_timer);
    txn_markers_stop(tc);
    size_t it = 0;
    void *v;
    while (strmap_next(&tc->ids, &it, NULL, &v))
        txn_entry_free(v);
    strmap_free(&tc->ids);
    strmap_init(&tc->ids);
    /* tc itself stays: writes still in flight complete against it. */
}
