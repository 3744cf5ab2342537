/* Transaction markers, after TransactionMarkerChannelManager and
 * TransactionMarkerRequestCompletionHandler: once a transaction's
 * PrepareCommit/PrepareAbort is durable, a commit or abort control batch
 * goes into every partition of the transaction; partitions refused with a
 * retriable error are tried again every MARKER_RETRY_MS; when none is
 * left, the CompleteCommit/CompleteAbort transition is written to
 * __transaction_state.  On one node the "send" is a direct call of the
 * code path that serves WriteTxnMarkers (txn_write_marker). */
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "group/coordinator.h"
#include "group/offsets_topic.h"
#include "storage/partition_log.h"
#include "txn/txn_coordinator.h"

#define MARKER_RETRY_MS 100 /* Kafka's marker send thread retries on its next poll */

struct marker_job {
    struct marker_job *next;
    struct txn_coordinator *tc;
    char *id;
    int64_t producer_id;
    int16_t producer_epoch;
    bool commit;
    struct txn_partitions remaining;
    bool completing; /* the Complete record is being written */
    int flushing;    /* marker fsyncs outstanding (logs with flush.messages set) */
};

int16_t txn_write_marker(struct broker *b, const char *topic, int32_t partition,
                         int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch,
                         bool commit)
{
    int16_t err = KP_ERR_NONE;
    struct partition_log *pl = broker_partition(b, topic, partition, &err);
    if (!pl)
        return err;
    int64_t offset = -1;
    err = (int16_t)plog_append_txn_marker(pl, producer_id, producer_epoch, coordinator_epoch,
                                          commit, broker_now_ms(b), &offset);
    if (err)
        return err;
    broker_fetch_wake(b);
    /* KafkaApis.handleWriteTxnMarkersRequest: the group coordinator
     * completes the producer's transactional offset commits. */
    if (strcmp(topic, OFFSETS_TOPIC) == 0 && b->groups)
        gc_txn_complete(b->groups, partition, producer_id, commit);
    return KP_ERR_NONE;
}

static void job_free(struct marker_job *j)
{
    txn_partitions_free(&j->remaining);
    free(j->id);
    free(j);
}

static void job_unlink(struct txn_coordinator *tc, struct marker_job *j)
{
    for (struct marker_job **pp = &tc->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            return;
        }
}

static void schedule_retry(struct txn_coordinator *tc)
{
    if (!ev_is_active(&tc->marker_retry)) {
        ev_timer_set(&tc->marker_retry, MARKER_RETRY_MS / 1000.0, 0.0);
        ev_timer_start(tc->b->loop, &tc->marker_retry);
    }
}

static void complete_written(void *ud, int16_t err);

/* Every marker is written: write the Complete transition. */
static void job_complete(struct txn_coordinator *tc, struct marker_job *j)
{
    struct txn_entry *e = txn_lookup(tc, j->id);
    if (!e || !e->pending) {
        job_unlink(tc, j);
        job_free(j);
        return;
    }
    j->completing = true;
    txn_log_append(tc, e->id, &e->transit, complete_written, j);
}

static void complete_written(void *ud, int16_t err)
{
    struct marker_job *j = ud;
    struct txn_coordinator *tc = j->tc;
    struct txn_entry *e = txn_lookup(tc, j->id);
    j->completing = false;
    if (!tc->active || !e) {
        /* Shut down meanwhile (txn_markers_stop left this job to us). */
        if (tc->active)
            job_unlink(tc, j);
        job_free(j);
        return;
    }
    if (err == KP_ERR_NOT_COORDINATOR || err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS) {
        /* The log is not writable here: give up, like Kafka. */
        slog(tc->b->log, SLOG_WARN, "txn", "%s: writing the completion failed (%s)", j->id,
             kp_error_name(err));
        txn_abort_transition(e);
        job_unlink(tc, j);
        job_free(j);
        return;
    }
    if (err) {
        schedule_retry(tc); /* written again on the next pass */
        return;
    }
    txn_complete_transition(e);
    slog(tc->b->log, SLOG_DEBUG, "txn", "%s: %s", e->id, txn_state_name(e->cur.state));
    job_unlink(tc, j);
    job_free(j);
}

static void marker_flushed(void *ud, int err)
{
    struct marker_job *j = ud;
    struct txn_coordinator *tc = j->tc;
    if (err)
        /* The marker stays in the page cache; Kafka's acks=all write would
         * not be acknowledged either: the completion waits for a restart. */
        slog(tc->b->log, SLOG_ERROR, "txn", "%s: fsync of a marker failed", j->id);
    if (--j->flushing > 0)
        return;
    if (!tc->active || err) {
        if (!tc->active)
            job_free(j);
        return;
    }
    if (!j->remaining.n)
        job_complete(tc, j);
    else
        schedule_retry(tc);
}

/* A log with flush.messages set fsyncs its markers before the transaction
 * is recorded complete, so the Complete record never outlives them. */
static void flush_marker(struct marker_job *j, struct broker *b, const char *topic,
                         int32_t partition)
{
    int16_t err;
    struct partition_log *pl = broker_partition(b, topic, partition, &err);
    if (!pl || plog_get_config(pl)->flush_interval_messages == INT64_MAX)
        return;
    j->flushing++;
    if (plog_flush(pl, marker_flushed, j) < 0)
        j->flushing--;
}

/* Writes the markers still missing, then the completion. */
static void job_run(struct txn_coordinator *tc, struct marker_job *j)
{
    struct broker *b = tc->b;
    size_t keep = 0;
    bool abort_sending = false;
    for (size_t i = 0; i < j->remaining.n; i++) {
        struct txn_partition *p = &j->remaining.v[i];
        struct broker_topic *t = broker_topic(b, p->topic);
        int16_t err;
        if (!t || p->partition < 0 || p->partition >= t->nparts) {
            /* No leader: the topic was deleted, nothing to mark. */
            slog(b->log, SLOG_INFO, "txn", "%s: %s-%d no longer exists; no marker written",
                 j->id, p->topic, p->partition);
            err = KP_ERR_NONE;
        } else {
            err = txn_write_marker(b, p->topic, p->partition, j->producer_id, j->producer_epoch,
                                   tc->coordinator_epoch, j->commit);
        }
        switch (err) {
        case KP_ERR_NONE:
            if (t)
                flush_marker(j, b, p->topic, p->partition);
            free(p->topic);
            continue;
        case KP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
            free(p->topic);
            continue;
        case KP_ERR_INVALID_PRODUCER_EPOCH:
        case KP_ERR_TRANSACTION_COORDINATOR_FENCED:
            /* The producer or coordinator epoch moved on: this
             * transaction's markers are no longer ours to write. */
            slog(b->log, SLOG_WARN, "txn", "%s: marker for %s-%d refused (%s); giving up",
                 j->id, p->topic, p->partition, kp_error_name(err));
            abort_sending = true;
            free(p->topic);
            continue;
        case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
        case KP_ERR_NOT_LEADER_OR_FOLLOWER:
        case KP_ERR_NOT_ENOUGH_REPLICAS:
        case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case KP_ERR_REQUEST_TIMED_OUT:
        case KP_ERR_KAFKA_STORAGE_ERROR:
            j->remaining.v[keep++] = *p;
            continue;
        default:
            slog(b->log, SLOG_ERROR, "txn", "%s: marker for %s-%d failed: %s", j->id, p->topic,
                 p->partition, kp_error_name(err));
            free(p->topic);
            continue;
        }
    }
    j->remaining.n = keep;
    if (abort_sending) {
        struct txn_entry *e = txn_lookup(tc, j->id);
        if (e)
            txn_abort_transition(e);
        job_unlink(tc, j);
        job_free(j);
        return;
    }
    if (keep)
        schedule_retry(tc);
    else if (!j->flushing)
        job_complete(tc, j);
}

static void retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    struct txn_coordinator *tc = t->data;
    if (!tc->active)
        return;
    struct marker_job *j = tc->jobs, *next;
    for (; j; j = next) {
        next = j->next;
        if (j->completing || j->flushing)
            continue;
        if (j->remaining.n)
            job_run(tc, j);
        else
            job_complete(tc, j);
    }
}

void txn_markers_send(struct txn_coordinator *tc, struct txn_entry *e)
{
    struct marker_job *j = calloc(1, sizeof *j);
    if (!j || !(j->id = strdup(e->id)) || txn_partitions_copy(&j->remaining, &e->cur.parts) < 0) {
        if (j)
            free(j->id);
        free(j);
        /* Left in PrepareX with its Complete transit pending: a restart
         * finishes it. */
        slog(tc->b->log, SLOG_ERROR, "txn", "%s: out of memory writing markers", e->id);
        return;
    }
    if (!tc->marker_retry.data) {
        ev_timer_init(&tc->marker_retry, retry_cb, MARKER_RETRY_MS / 1000.0, 0.0);
        tc->marker_retry.data = tc;
    }
    j->tc = tc;
    j->producer_id = e->cur.producer_id;
    j->producer_epoch = e->cur.producer_epoch;
    j->commit = e->cur.state == TXN_PREPARE_COMMIT;
    j->next = tc->jobs;
    tc->jobs = j;
    job_run(tc, j);
}

void txn_markers_stop(struct txn_coordinator *tc)
{
    if (tc->marker_retry.data)
        ev_timer_stop(tc->b->loop, &tc->marker_retry);
    struct marker_job *j = tc->jobs, *next;
    tc->jobs = NULL;
    for (; j; j = next) {
        next = j->next;
        if (!j->completing && !j->flushing) /* callbacks in flight free their job */
            job_free(j);
    }
}
