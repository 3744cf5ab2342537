#!/usr/bin/python3
"""Raw protocol checks of the idempotent producer (no client library in the
way of the exact error codes): InitProducerId v0-5 and its request checks,
then hand-made idempotent batches (kafka-python's batch encoder) sent with
Produce v8 and v9: duplicates, OUT_OF_ORDER_SEQUENCE_NUMBER,
INVALID_PRODUCER_EPOCH, unknown producers, transactional batches without a
TransactionalId.  With GZ_TOPIC (a topic with compression.type=gzip): the
same duplicate rules on batches the broker re-compresses, and the timestamp
rules checked before the producer state.  Prints TAP.
Usage: raw_idempotence.py PORT TOPIC [GZ_TOPIC]"""
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire
from kwire import i8, i16, i32, i64, uvarint, string, compact_string
from taplib import Tap

PORT, TOPIC = int(sys.argv[1]), sys.argv[2]
GZ_TOPIC = sys.argv[3] if len(sys.argv) > 3 else None
t = Tap()
rpc = kwire.Conn(PORT).rpc

NONE, NOT_COORDINATOR, INVALID_REQUEST = 0, 16, 42
OUT_OF_ORDER, INVALID_PRODUCER_EPOCH, INVALID_TXN_TIMEOUT = 45, 47, 50
TXN_ID_AUTH_FAILED = 53
INVALID_TIMESTAMP = 32
TS_MSG = "One or more records have been rejected due to invalid timestamp"


def init_pid(ver, txn_id=None, timeout=60000, pid=-1, epoch=-1):
    flex = ver >= 2
    body = (compact_string(txn_id) if flex else string(txn_id)) + i32(timeout)
    if ver >= 3:
        body += i64(pid) + i16(epoch)
    if flex:
        body += uvarint(0)
    r = rpc(22, ver, body, flex)
    throttle, err, pid_, epoch_ = r.i32(), r.i16(), r.i64(), r.i16()
    if flex:
        r.tags()
    assert r.done(), "InitProducerId v%d response fully read" % ver
    return err, pid_, epoch_


def batch(pid, epoch, seq, n, txn=False, tag="r", ts=None):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=txn,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    for i in range(n):
        b.append(i, timestamp=ts, key=None, value=("%s-%d" % (tag, seq + i)).encode(),
                 headers=[])
    return bytes(b.build())


def produce(records, ver=8, txn_id=None, topic=None):
    """(error, base_offset, error_message) of partition 0."""
    topic = topic or TOPIC
    flex = ver >= 9
    if flex:
        body = (compact_string(txn_id) + i16(-1) + i32(30000) + uvarint(2) +
                compact_string(topic) + uvarint(2) + i32(0) + uvarint(len(records) + 1) +
                records + uvarint(0) + uvarint(0) + uvarint(0))
    else:
        body = (string(txn_id) + i16(-1) + i32(30000) + i32(1) + string(topic) + i32(1) +
                i32(0) + i32(len(records)) + records)
    r = rpc(0, ver, body, flex)
    ntopics = r.uvarint() - 1 if flex else r.i32()
    assert ntopics == 1
    name = r.compact_string() if flex else r.string()
    assert name == topic
    nparts = r.uvarint() - 1 if flex else r.i32()
    assert nparts == 1
    idx, err, base = r.i32(), r.i16(), r.i64()
    r.i64()  # log append time
    r.i64()  # log start offset
    nerr = r.uvarint() - 1 if flex else r.i32()
    for _ in range(max(nerr, 0)):
        r.i32()
        r.compact_string() if flex else r.string()
        if flex:
            r.tags()
    msg = r.compact_string() if flex else r.string()
    return err, base, msg


# ---- InitProducerId ----------------------------------------------------
err, keys = kwire.api_versions_v0_body(rpc(18, 0, b"", False))
ranges = {k: (lo, hi) for k, lo, hi in keys}
t.is_(ranges.get(22), (0, 5), "ApiVersions advertises InitProducerId 0-5")

pids = []
for ver in range(0, 6):
    err, pid, epoch = init_pid(ver)
    t.ok(err == NONE and pid >= 0 and epoch == 0,
         "InitProducerId v%d (null TransactionalId): a producer id with epoch 0 (got %d %d %d)"
         % (ver, err, pid, epoch))
    pids.append(pid)
t.is_(len(set(pids)), 6, "six distinct producer ids")
t.ok(pids == sorted(pids), "handed out in increasing order")

err, pid, epoch = init_pid(3, pid=pids[-1], epoch=0)
t.ok(err == NONE and pid not in pids and epoch == 0,
     "v3 with its current id/epoch (KIP-360): like Kafka, a null TransactionalId gets a new "
     "id with epoch 0 (got %d %d %d)" % (err, pid, epoch))
t.is_(init_pid(3, pid=pids[0], epoch=-1)[0], INVALID_REQUEST,
      "v3 with ProducerId set but ProducerEpoch -1: INVALID_REQUEST")
t.is_(init_pid(4, pid=-1, epoch=3)[0], INVALID_REQUEST,
      "v4 with ProducerEpoch set but ProducerId -1: INVALID_REQUEST")
err, tpid, tepoch = init_pid(4, txn_id="txn-a")[:3]
t.ok(err == NONE and tpid >= 0 and tepoch == 0,
     "transactional id: the transaction coordinator's producer id, epoch 0 (got %d %d %d)"
     % (err, tpid, tepoch))
t.is_(init_pid(1, txn_id="txn-a")[:3], (NONE, tpid, 1),
      "same id again on v1: the same producer id, epoch bumped to 1")
t.is_(init_pid(4, txn_id="")[0], INVALID_REQUEST, "empty transactional id: INVALID_REQUEST")
t.is_(init_pid(4, txn_id="txn-a", timeout=0)[0], INVALID_TXN_TIMEOUT,
      "transaction timeout 0: INVALID_TRANSACTION_TIMEOUT")
t.is_(init_pid(5, txn_id="txn-a", timeout=900001)[0], INVALID_TXN_TIMEOUT,
      "transaction timeout above transaction.max.timeout.ms: INVALID_TRANSACTION_TIMEOUT")

# ---- Produce -----------------------------------------------------------
pid = pids[0]
t.is_(produce(batch(pid, 0, 0, 3)), (NONE, 0, None), "seq 0..2 stored at offset 0")
t.is_(produce(batch(pid, 0, 3, 2)), (NONE, 3, None), "seq 3..4 stored at offset 3")
t.is_(produce(batch(pid, 0, 0, 3)), (NONE, 0, None),
      "retry of seq 0..2: success with its original base offset 0")
t.is_(produce(batch(pid, 0, 3, 2), ver=9), (NONE, 3, None),
      "retry of seq 3..4 over flexible Produce v9: original base offset 3")
t.is_(produce(batch(pid, 0, 7, 1)), (OUT_OF_ORDER, -1, None),
      "gap (seq 7 after 4): OUT_OF_ORDER_SEQUENCE_NUMBER, base offset -1, no message")
t.is_(produce(batch(pid, 0, 2, 3)), (OUT_OF_ORDER, -1, None),
      "overlapping range (seq 2..4): OUT_OF_ORDER_SEQUENCE_NUMBER")
t.is_(produce(batch(pid, 1, 3, 1)), (OUT_OF_ORDER, -1, None),
      "higher epoch not starting at seq 0: OUT_OF_ORDER_SEQUENCE_NUMBER")
t.is_(produce(batch(pid, 1, 0, 1)), (NONE, 5, None), "epoch bump to 1 at seq 0: stored at 5")
t.is_(produce(batch(pid, 0, 5, 1)), (INVALID_PRODUCER_EPOCH, -1, None),
      "stale epoch 0: INVALID_PRODUCER_EPOCH")
t.is_(produce(batch(pid, 0, 0, 3)), (INVALID_PRODUCER_EPOCH, -1, None),
      "retry of an epoch-0 batch after the bump: INVALID_PRODUCER_EPOCH, not a duplicate")
t.is_(produce(batch(987654321, 2, 77, 2)), (NONE, 6, None),
      "unknown producer id starting at seq 77: accepted (no UNKNOWN_PRODUCER_ID since KIP-360)")
t.is_(produce(batch(pids[1], 0, 0, 1, txn=True)), (TXN_ID_AUTH_FAILED, -1, None),
      "transactional batch without a TransactionalId: TRANSACTIONAL_ID_AUTHORIZATION_FAILED")
t.is_(produce(batch(pids[1], 0, -1, 1))[:2], (87, -1),
      "producer id with sequence -1: INVALID_RECORD (LogValidator)")

# ---- Re-compressed topic ----------------------------------------------
# The broker re-compresses these uncompressed batches to gzip before the
# append; the producer state must see the stored batch (same producer id,
# epoch and sequences) so a retry is still answered as a duplicate.
if GZ_TOPIC:
    gp = pids[2]

    def gz(records):
        return produce(records, topic=GZ_TOPIC)

    t.is_(gz(batch(gp, 0, 0, 3, tag="g")), (NONE, 0, None),
          "gzip topic: seq 0..2 (sent uncompressed) stored at offset 0")
    t.is_(gz(batch(gp, 0, 0, 3, tag="g")), (NONE, 0, None),
          "gzip topic: retry of seq 0..2 is a duplicate with its original offset 0, not re-appended")
    t.is_(gz(batch(gp, 0, 3, 2, tag="g")), (NONE, 3, None), "gzip topic: seq 3..4 stored at offset 3")
    t.is_(gz(batch(gp, 0, 3, 2, tag="g")), (NONE, 3, None),
          "gzip topic: retry of seq 3..4: original offset 3")
    t.is_(gz(batch(gp, 0, 9, 1, tag="g")), (OUT_OF_ORDER, -1, None),
          "gzip topic: gap after re-compression: OUT_OF_ORDER_SEQUENCE_NUMBER")
    # Timestamp rules (message.timestamp.after.max.ms, 1 hour by default)
    # run before the producer state, as Kafka's LogValidator runs before
    # analyzeAndValidateProducerState: a refused batch leaves no trace.
    future = int(time.time() * 1000) + 3 * 3600 * 1000
    t.is_(gz(batch(gp, 0, 5, 1, tag="g", ts=future)), (INVALID_TIMESTAMP, -1, TS_MSG),
          "gzip topic: next seq with a timestamp 3 h ahead: INVALID_TIMESTAMP")
    t.is_(gz(batch(gp, 0, 9, 1, tag="g", ts=future)), (INVALID_TIMESTAMP, -1, TS_MSG),
          "bad timestamp and a sequence gap: INVALID_TIMESTAMP (validation before producer state)")
    t.is_(gz(batch(gp, 0, 5, 1, tag="g")), (NONE, 5, None),
          "the refused seq 5 did not advance the producer state: seq 5 stored at offset 5")
sys.exit(1 if t.failed else 0)
