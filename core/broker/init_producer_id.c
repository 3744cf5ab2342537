/* InitProducerId (key 22), v0-5.
 *
 * Non-transactional (idempotent) producers: like Kafka's
 * TransactionCoordinator.handleInitProducerId with a null TransactionalId,
 * every request gets a fresh producer id with epoch 0, whatever
 * ProducerId/ProducerEpoch (v3+) it carries: the broker keeps no state per
 * idempotent producer id beyond the partitions' producer state, and a
 * KIP-360 client recovers either by bumping its epoch itself (the
 * partitions accept the higher epoch at sequence 0) or by asking for a new
 * id here.
 *
 * Ids come from blocks of 1000 reserved in the metadata log with Kafka's
 * ProducerIdsRecord (NextProducerId = first id of the following block), as
 * Kafka's controller does for AllocateProducerIds.  A block is used only
 * once its record is durable, so an id is never handed out twice, even
 * after a crash; a restart starts a new block, abandoning the rest of the
 * old one, as a Kafka broker does.
 *
 * Transactional ids go to the transaction coordinator (txn/txn_api.c),
 * which takes its ids from the same blocks (broker_alloc_producer_id). */
#include "broker/authz.h"
#include "broker/broker.h"
#include "txn/txn_api.h"

#include <stdlib.h>
#include <string.h>

#define PRODUCER_ID_BLOCK_SIZE 1000 /* Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE */

/* An id waiting for its block's ProducerIdsRecord to be fsynced. */
struct pid_wait {
    struct broker *b;
    broker_pid_cb cb;
    void *ud;
    int64_t producer_id;
    uint64_t block;
};

static void respond(struct request *rq, int16_t error, int64_t producer_id, int16_t epoch)
{
    struct kp_InitProducerIdResponse resp;
    kp_struct_defaults(kp_response_message(KP_API_INIT_PRODUCER_ID)->body, &resp);
    resp.ThrottleTimeMs = 0;
    resp.ErrorCode = error;
    resp.ProducerId = error ? -1 : producer_id;
    resp.ProducerEpoch = error ? -1 : epoch;
    rq_respond(rq, &resp);
}

static void block_synced(void *ud, int err)
{
    struct pid_wait *w = ud;
    struct broker *b = w->b;
    struct broker_producer_ids *p = &b->producer_ids;
    if (err) {
        /* The block may not survive a crash: abandon it, so the next
         * request reserves a new one.  Kafka answers "no block yet" with
         * the retriable COORDINATOR_LOAD_IN_PROGRESS. */
        if (w->block == p->block) {
            p->next = p->end;
            slog(b->log, SLOG_ERROR, "producer-ids",
                 "fsync of the producer id block record failed; block abandoned");
        }
        w->cb(w->ud, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, -1);
    } else {
        if (w->block == p->block)
            p->durable = true;
        w->cb(w->ud, KP_ERR_NONE, w->producer_id);
    }
    free(w);
}

/* Reserve the next block in the metadata log (Kafka's
 * ProducerIdControlManager.generateNextProducerId). */
static int16_t reserve_block(struct broker *b)
{
    struct broker_producer_ids *p = &b->producer_ids;
    int64_t first = meta_store_image(b->meta)->next_producer_id;
    if (first > INT64_MAX - PRODUCER_ID_BLOCK_SIZE) {
        slog(b->log, SLOG_ERROR, "producer-ids", "exhausted all producer ids");
        return KP_ERR_UNKNOWN_SERVER_ERROR;
    }
    struct kp_ProducerIdsRecord rec;
    kp_struct_defaults(kp_metadata_record(META_REC_PRODUCER_IDS)->body, &rec);
    rec.BrokerId = b->cfg->node_id;
    rec.NextProducerId = first + PRODUCER_ID_BLOCK_SIZE;
    struct meta_record mr = { META_REC_PRODUCER_IDS, 0, &rec };
    char err[256];
    if (meta_store_append(b->meta, &mr, 1, broker_now_ms(b), err, sizeof err) < 0) {
        slog(b->log, SLOG_ERROR, "producer-ids", "cannot reserve a producer id block: %s", err);
        return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    }
    p->next = first;
    p->end = first + PRODUCER_ID_BLOCK_SIZE;
    p->durable = false;
    p->block++;
    slog(b->log, SLOG_INFO, "producer-ids", "reserved producer ids %lld..%lld",
         (long long)first, (long long)(p->end - 1));
    return KP_ERR_NONE;
}

static void id_allocated(void *ud, int16_t err, int64_t id)
{
    respond(ud, err, id, 0);
}

void handle_init_producer_id(struct broker *b, struct request *rq)
{
    const struct kp_InitProducerIdRequest *req = rq->body;

    /* KafkaApis: ProducerId and ProducerEpoch (v3+) are both set or both
     * -1.  (Absent below v3, they decode as -1.) */
    if ((req->ProducerId == -1) != (req->ProducerEpoch == -1)) {
        respond(rq, KP_ERR_INVALID_REQUEST, -1, -1);
        return;
    }
    if (req->TransactionalId.s) {
        /* KafkaApis: WRITE on the transactional id. */
        if (req->TransactionalId.len > 0 &&
            !authz_allowed(rq, SLUICE_ACL_OP_WRITE, SLUICE_RES_TRANSACTIONAL_ID,
                           req->TransactionalId.s)) {
            respond(rq, KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, -1);
            return;
        }
        txn_handle_init_producer_id(b, rq);
        return;
    }

    /* KIP-679: IDEMPOTENT_WRITE on the cluster or WRITE on any topic. */
    if (!authz_idempotent_write(rq)) {
        respond(rq, KP_ERR_CLUSTER_AUTHORIZATION_FAILED, -1, -1);
        return;
    }
    broker_alloc_producer_id(b, id_allocated, rq);
}

void broker_alloc_producer_id(struct broker *b, broker_pid_cb cb, void *ud)
{
    struct broker_producer_ids *p = &b->producer_ids;
    if (p->next >= p->end) {
        int16_t e = reserve_block(b);
        if (e) {
            cb(ud, e, -1);
            return;
        }
    }
    int64_t id = p->next++;
    if (p->durable) {
        cb(ud, KP_ERR_NONE, id);
        return;
    }
    struct pid_wait *w = malloc(sizeof *w);
    if (!w) {
        p->next--;
        cb(ud, KP_ERR_COORDINATOR_LOAD_IN_PROGRESS, -1);
        return;
    }
    w->b = b;
    w->cb = cb;
    w->ud = ud;
    w->producer_id = id;
    w->block = p->block;
    if (meta_store_sync(b->meta, block_synced, w) < 0)
        block_synced(w, -1);
}
