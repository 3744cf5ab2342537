/* The transaction state machine (txn_state.c) against Kafka's
 * TransactionCoordinator rules (transaction.version 1). */
#include "txn/txn_state.h"
#include "proto/kafka_errors.h"
#include "tap.h"

#include <string.h>

static struct txn_partitions one(const char *t, int32_t p)
{
    struct txn_partitions s;
    memset(&s, 0, sizeof s);
    txn_partitions_add(&s, t, p);
    return s;
}

int main(void)
{
    struct txn_entry *e = txn_entry_new("tx", 100, 60000, 1000);
    is_int(e->cur.producer_epoch, -1, "a new id starts at epoch -1, Empty");

    /* InitProducerId */
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 1001), 0, "first InitProducerId: transit");
    ok(e->pending && e->transit.producer_epoch == 0 && e->transit.timeout_ms == 30000,
       "epoch 0, the new timeout");
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 1001), KP_ERR_CONCURRENT_TRANSACTIONS,
           "while it is written: CONCURRENT_TRANSACTIONS");
    txn_complete_transition(e);
    ok(!e->pending && e->cur.producer_epoch == 0 && e->cur.state == TXN_EMPTY, "applied");
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 1002), 0, "again without an expected epoch");
    txn_complete_transition(e);
    is_int(e->cur.producer_epoch, 1, "epoch bumped to 1");
    is_int(e->cur.last_producer_epoch, -1, "no last epoch recorded without an expected one");

    /* KIP-360 */
    is_int(txn_prepare_init_pid(e, 30000, 100, 1, -1, 1003), 0, "KIP-360 with the current epoch");
    txn_complete_transition(e);
    ok(e->cur.producer_epoch == 2 && e->cur.last_producer_epoch == 1, "epoch 2, last epoch 1");
    is_int(txn_prepare_init_pid(e, 30000, 100, 1, -1, 1004), 0, "a retry with the old epoch");
    txn_complete_transition(e);
    is_int(e->cur.producer_epoch, 2, "answered with the same epoch 2");
    is_int(txn_prepare_init_pid(e, 30000, 100, 0, -1, 1005), KP_ERR_PRODUCER_FENCED,
           "an older epoch: PRODUCER_FENCED");
    is_int(txn_prepare_init_pid(e, 30000, 999, 2, -1, 1005), KP_ERR_PRODUCER_FENCED,
           "another producer id: PRODUCER_FENCED");

    /* AddPartitionsToTxn */
    struct txn_partitions p0 = one("t", 0), p1 = one("t", 1);
    is_int(txn_prepare_add_partitions(e, 100, 1, &p0, 2000), KP_ERR_PRODUCER_FENCED,
           "add with an old epoch: PRODUCER_FENCED");
    is_int(txn_prepare_add_partitions(e, 101, 2, &p0, 2000), KP_ERR_INVALID_PRODUCER_ID_MAPPING,
           "add with another id: INVALID_PRODUCER_ID_MAPPING");
    is_int(txn_prepare_add_partitions(e, 100, 2, &p0, 2000), 0, "add t-0");
    is_int(e->transit.state, TXN_ONGOING, "transit Ongoing");
    is_int((int)e->transit.start_ms, 2000, "the transaction starts now");
    txn_complete_transition(e);
    is_int(txn_prepare_add_partitions(e, 100, 2, &p0, 2100), TXN_NO_WRITE,
           "t-0 again: answered at once, nothing written");
    is_int(txn_prepare_add_partitions(e, 100, 2, &p1, 2200), 0, "add t-1");
    is_int((int)e->transit.start_ms, 2000, "the start time stays");
    txn_complete_transition(e);
    is_int((int)e->cur.parts.n, 2, "two partitions");
    is_int(txn_check_verify(e, 100, 2), 0, "verify: the producer is current");
    is_int(txn_verify_partition(e, "t", 1), KP_ERR_NONE, "t-1 is in the transaction");
    is_int(txn_verify_partition(e, "t", 2), KP_ERR_TRANSACTION_ABORTABLE,
           "t-2 is not: TRANSACTION_ABORTABLE");
    ok(!txn_timed_out(e, 2000 + 30000), "not timed out at exactly its timeout");
    ok(txn_timed_out(e, 2000 + 30001), "timed out after it");

    /* A new producer while the transaction is open: fence, then abort. */
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 3000), 0, "InitProducerId while Ongoing");
    is_int(e->pending_state, TXN_PREPARE_EPOCH_FENCE, "PrepareEpochFence pending");
    is_int(e->transit.producer_epoch, 3, "with the bumped epoch 3");
    is_int(txn_prepare_end(e, 100, 3, false, false, 3001), 0, "the coordinator's abort");
    is_int(e->transit.state, TXN_PREPARE_ABORT, "PrepareAbort");
    is_int(e->transit.producer_epoch, 3, "under epoch 3");
    is_int(e->cur.producer_epoch, 3, "the fence is the current epoch");
    txn_complete_transition(e);
    is_int(txn_prepare_end(e, 100, 2, true, true, 3002), KP_ERR_PRODUCER_FENCED,
           "the old producer's EndTxn: PRODUCER_FENCED");
    is_int(txn_prepare_end(e, 100, 3, false, true, 3002), KP_ERR_CONCURRENT_TRANSACTIONS,
           "EndTxn abort while PrepareAbort: CONCURRENT_TRANSACTIONS");
    is_int(txn_prepare_end(e, 100, 3, true, true, 3002), KP_ERR_INVALID_TXN_STATE,
           "EndTxn commit while PrepareAbort: INVALID_TXN_STATE");
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 3003), KP_ERR_CONCURRENT_TRANSACTIONS,
           "InitProducerId while PrepareAbort: CONCURRENT_TRANSACTIONS");
    is_int(txn_prepare_complete(e, 3004), 0, "markers written: CompleteAbort transit");
    ok(e->transit.state == TXN_COMPLETE_ABORT && e->transit.parts.n == 0,
       "CompleteAbort without partitions");
    txn_complete_transition(e);
    is_int(txn_prepare_end(e, 100, 3, false, true, 3005), TXN_NO_WRITE,
           "EndTxn abort again: NONE (a retry)");
    is_int(txn_prepare_end(e, 100, 3, true, true, 3005), KP_ERR_INVALID_TXN_STATE,
           "EndTxn commit after an abort: INVALID_TXN_STATE");
    is_int(txn_prepare_init_pid(e, 30000, -1, -1, -1, 3006), 0, "the new producer's retry");
    txn_complete_transition(e);
    is_int(e->cur.producer_epoch, 4, "gets epoch 4");
    is_int(txn_prepare_end(e, 100, 4, true, true, 3007), KP_ERR_INVALID_TXN_STATE,
           "EndTxn in Empty: INVALID_TXN_STATE");

    /* Commit path */
    txn_prepare_add_partitions(e, 100, 4, &p0, 4000);
    txn_complete_transition(e);
    is_int(txn_prepare_end(e, 100, 4, true, true, 4001), 0, "EndTxn commit");
    txn_complete_transition(e);
    is_int(txn_check_verify(e, 100, 4), KP_ERR_CONCURRENT_TRANSACTIONS,
           "verify while PrepareCommit: CONCURRENT_TRANSACTIONS");
    is_int(txn_prepare_add_partitions(e, 100, 4, &p1, 4002), KP_ERR_CONCURRENT_TRANSACTIONS,
           "add while PrepareCommit: CONCURRENT_TRANSACTIONS");
    txn_prepare_complete(e, 4003);
    txn_complete_transition(e);
    is_int(e->cur.state, TXN_COMPLETE_COMMIT, "CompleteCommit");

    /* Timeout abort: fence then abort, the epoch bumped once. */
    txn_prepare_add_partitions(e, 100, 4, &p1, 5000);
    txn_complete_transition(e);
    is_int(txn_prepare_fence_epoch(e), 0, "timeout: fence");
    is_int(txn_prepare_end(e, 100, 5, false, false, 40000), 0, "abort with epoch 5");
    txn_abort_transition(e); /* the write failed */
    e->failed_epoch_fence = true;
    is_int(txn_prepare_fence_epoch(e), 0, "fence again after the failed write");
    is_int(e->transit.producer_epoch, 5, "without bumping a second time");
    txn_abort_transition(e);

    /* Epoch exhaustion: a new producer id. */
    struct txn_entry *x = txn_entry_new("ex", 7, 1000, 0);
    x->cur.producer_epoch = INT16_MAX - 1;
    is_int(txn_prepare_init_pid(x, 1000, -1, -1, -1, 1), TXN_NEED_PRODUCER_ID,
           "exhausted epoch: a new producer id is needed");
    is_int(txn_prepare_init_pid(x, 1000, 7, INT16_MAX - 1, 8, 1), 0,
           "KIP-360 bump of the exhausted epoch: rotation to id 8");
    ok(x->transit.producer_id == 8 && x->transit.producer_epoch == 0 &&
       x->transit.prev_producer_id == 7 && x->transit.last_producer_epoch == INT16_MAX - 1,
       "id 8, epoch 0, previous id 7 and its last epoch recorded");
    txn_complete_transition(x);
    is_int(txn_prepare_init_pid(x, 1000, 7, INT16_MAX - 1, -1, 2), 0,
           "a retry with the previous id and exhausted epoch is accepted");
    ok(x->transit.producer_id == 8 && x->transit.producer_epoch == 0,
       "and answered with id 8 epoch 0 again");
    txn_abort_transition(x);
    is_int(txn_prepare_init_pid(x, 1000, 7, 5, -1, 2), KP_ERR_PRODUCER_FENCED,
           "the previous id with an unexhausted epoch: PRODUCER_FENCED");

    /* Expiry */
    ok(!txn_prepare_dead(x, 1000, 1000), "not idle long enough");
    ok(txn_prepare_dead(x, 5000, 1000), "idle: Dead pending");
    is_int(x->pending_state, TXN_DEAD, "Dead");
    ok(!txn_prepare_dead(x, 5000, 1000), "not twice");

    /* Names */
    is_str(txn_state_name(TXN_PREPARE_EPOCH_FENCE), "PrepareEpochFence", "state names");
    is_int(txn_state_from_name("CompleteAbort", 13), TXN_COMPLETE_ABORT, "name lookup");
    is_int(txn_state_from_name("Bogus", 5), -1, "unknown name");

    txn_partitions_free(&p0);
    txn_partitions_free(&p1);
    txn_entry_free(e);
    txn_entry_free(x);
    return done_testing();
}
