#!/usr/bin/python3
"""The transaction coordinator on the wire, with exact error codes, for
versions and forms the client libraries do not send: AddPartitionsToTxn v3
and the KIP-890 v4/v5 batched and verify-only forms, KIP-890 part 1
(a transactional Produce to a partition not in the transaction),
EndTxn state errors per version, DescribeTransactions, ListTransactions
v0/v1 filters, TxnOffsetCommit with OffsetFetch RequireStable
(UNSTABLE_OFFSET_COMMIT while pending) and WriteTxnMarkers.
usage: txn_protocol.py PORT TOPIC   (TOPIC has 3 partitions)"""
import sys

from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire
from kwire import compact_string, i8, i16, i32, i64, string, uvarint
from taplib import Tap

NONE, UNKNOWN_TOPIC, INVALID_REQUEST, INVALID_PRODUCER_EPOCH = 0, 3, 42, 47
INVALID_TXN_STATE, INVALID_PID_MAPPING, CONCURRENT, NOT_ATTEMPTED = 48, 49, 51, 55
UNSTABLE, FENCED, TXN_ID_NOT_FOUND, ABORTABLE = 88, 90, 105, 120

t = Tap()
PORT, TOPIC = int(sys.argv[1]), sys.argv[2]
rpc = kwire.Conn(PORT).rpc


def carr(items): return uvarint(len(items) + 1) + b"".join(items)
def tags(): return uvarint(0)


def init_pid(txn_id, ver=4, timeout=60000):
    r = rpc(22, ver, compact_string(txn_id) + i32(timeout) + i64(-1) + i16(-1) + tags(), True)
    r.i32()
    return r.i16(), r.i64(), r.i16()


def topics_body(topics):
    return carr([compact_string(n) + carr([i32(p) for p in ps]) + tags() for n, ps in topics])


def read_topic_results(r):
    def part():
        v = (r.i32(), r.i16())
        r.tags()
        return v

    def topic():
        name = r.compact_string()
        ps = r.compact_array(part)
        r.tags()
        return name, ps
    return r.compact_array(topic)


def add_v3(txn_id, pid, epoch, topics):
    r = rpc(24, 3, compact_string(txn_id) + i64(pid) + i16(epoch) + topics_body(topics) + tags(),
            True)
    r.i32()
    res = read_topic_results(r)
    r.tags()
    assert r.done()
    return {(n, p): e for n, ps in res for p, e in ps}


def add_batched(ver, txns):
    """txns: [(txn_id, pid, epoch, verify_only, topics)] -> (top error, {txn: {(t,p): err}})"""
    body = carr([compact_string(x) + i64(pid) + i16(ep) + i8(1 if vo else 0) + topics_body(tp) +
                 tags() for x, pid, ep, vo, tp in txns]) + tags()
    r = rpc(24, ver, body, True)
    r.i32()
    top = r.i16()

    def txn():
        x = r.compact_string()
        res = read_topic_results(r)
        r.tags()
        return x, {(n, p): e for n, ps in res for p, e in ps}
    out = dict(r.compact_array(txn))
    r.tags()
    assert r.done()
    return top, out


def end_txn(txn_id, pid, epoch, commit, ver=3):
    if ver >= 3:
        r = rpc(26, ver, compact_string(txn_id) + i64(pid) + i16(epoch) + i8(commit) + tags(), True)
    else:
        r = rpc(26, ver, string(txn_id) + i64(pid) + i16(epoch) + i8(commit), False)
    r.i32()
    return r.i16()


def describe(ids):
    r = rpc(65, 0, carr([compact_string(x) for x in ids]) + tags(), True)
    r.i32()

    def topic():
        n = r.compact_string()
        ps = r.compact_array(r.i32)
        r.tags()
        return n, ps

    def state():
        s = dict(err=r.i16(), id=r.compact_string(), state=r.compact_string(), timeout=r.i32(),
                 start=r.i64(), pid=r.i64(), epoch=r.i16(), topics=r.compact_array(topic))
        r.tags()
        return s
    return r.compact_array(state)


def list_txns(ver, states=(), pids=(), duration=None):
    body = carr([compact_string(s) for s in states]) + carr([i64(p) for p in pids])
    if ver >= 1:
        body += i64(-1 if duration is None else duration)
    r = rpc(66, ver, body + tags(), True)
    r.i32()
    err = r.i16()
    unknown = r.compact_array(r.compact_string)

    def st():
        v = (r.compact_string(), r.i64(), r.compact_string())
        r.tags()
        return v
    states = r.compact_array(st)
    return err, unknown, sorted(states)


def produce(ver, txn_id, pid, epoch, seq, partition, value):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=True,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    b.append(0, timestamp=None, key=None, value=value.encode(), headers=[])
    rec = bytes(b.build())
    body = (compact_string(txn_id) + i16(-1) + i32(30000) + uvarint(2) + compact_string(TOPIC) +
            uvarint(2) + i32(partition) + uvarint(len(rec) + 1) + rec + tags() + tags() + tags())
    r = rpc(0, ver, body, True)
    r.uvarint()
    r.compact_string()
    r.uvarint()
    r.i32()
    return r.i16()


def add_offsets(txn_id, pid, epoch, group):
    r = rpc(25, 3, compact_string(txn_id) + i64(pid) + i16(epoch) + compact_string(group) + tags(),
            True)
    r.i32()
    return r.i16()


def txn_offset_commit(txn_id, group, pid, epoch, partition, offset):
    part = i32(partition) + i64(offset) + i32(-1) + compact_string("m") + tags()
    body = (compact_string(txn_id) + compact_string(group) + i64(pid) + i16(epoch) + i32(-1) +
            compact_string("") + uvarint(0) + carr([compact_string(TOPIC) + carr([part]) + tags()]) +
            tags())
    r = rpc(28, 3, body, True)
    r.i32()
    return read_topic_results(r)[0][1][0][1]


def offset_fetch(group, partition, stable):
    body = (compact_string(group) + carr([compact_string(TOPIC) + carr([i32(partition)]) + tags()]) +
            i8(1 if stable else 0) + tags())
    r = rpc(9, 7, body, True)
    r.i32()

    def part():
        v = (r.i32(), r.i64(), r.i32(), r.compact_string(), r.i16())
        r.tags()
        return v

    def topic():
        r.compact_string()
        ps = r.compact_array(part)
        r.tags()
        return ps
    ps = r.compact_array(topic)[0]
    return ps[0][1], ps[0][4]


def offset_commit(group, partition, offset):
    part = i32(partition) + i64(offset) + i32(-1) + compact_string("") + tags()
    body = (compact_string(group) + i32(-1) + compact_string("") + uvarint(0) +
            carr([compact_string(TOPIC) + carr([part]) + tags()]) + tags())
    r = rpc(8, 8, body, True)
    r.i32()
    return read_topic_results(r)[0][1][0][1]


def write_markers(pid, epoch, commit, topics, coord_epoch=0):
    body = carr([i64(pid) + i16(epoch) + i8(commit) + topics_body(topics) + i32(coord_epoch) +
                 tags()]) + tags()
    r = rpc(27, 1, body, True)

    def marker():
        p = r.i64()
        res = read_topic_results(r)
        r.tags()
        return p, res
    ms = r.compact_array(marker)
    return {(n, p): e for _, res in ms for n, ps in res for p, e in ps}


# ---- ApiVersions ----------------------------------------------------------
err, keys = kwire.api_versions_v0_body(rpc(18, 0, b"", False))
ranges = {k: (lo, hi) for k, lo, hi in keys}
t.is_([ranges.get(k) for k in (24, 25, 26, 27, 28, 65, 66)],
      [(0, 5), (0, 4), (0, 4), (0, 1), (0, 4), (0, 0), (0, 1)],
      "ApiVersions: AddPartitionsToTxn 0-5, AddOffsetsToTxn 0-4, EndTxn 0-4, "
      "WriteTxnMarkers 0-1, TxnOffsetCommit 0-4, DescribeTransactions 0, ListTransactions 0-1")

# ---- InitProducerId and AddPartitionsToTxn v3 -----------------------------
err, pid, epoch = init_pid("raw-tx")
t.ok(err == NONE and pid >= 0 and epoch == 0, "InitProducerId raw-tx: id %d epoch %d" % (pid, epoch))
t.is_(add_v3("raw-tx", pid, epoch, [(TOPIC, [0])]), {(TOPIC, 0): NONE},
      "AddPartitionsToTxn v3: partition 0 added")
t.is_(add_v3("raw-tx", pid, epoch, [(TOPIC, [1]), ("no-such-topic", [0])]),
      {(TOPIC, 1): NOT_ATTEMPTED, ("no-such-topic", 0): UNKNOWN_TOPIC},
      "v3 with an unknown topic: UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED")
t.is_(add_v3("raw-tx", pid, epoch + 1, [(TOPIC, [1])]), {(TOPIC, 1): FENCED},
      "v3 with another epoch: PRODUCER_FENCED")
t.is_(add_v3("raw-tx", pid + 1000, epoch, [(TOPIC, [1])]), {(TOPIC, 1): INVALID_PID_MAPPING},
      "v3 with another producer id: INVALID_PRODUCER_ID_MAPPING")
t.is_(add_v3("nobody", pid, epoch, [(TOPIC, [1])]), {(TOPIC, 1): INVALID_PID_MAPPING},
      "v3 for an unknown transactional id: INVALID_PRODUCER_ID_MAPPING")

# ---- KIP-890 batched and verify-only forms --------------------------------
top, res = add_batched(4, [("raw-tx", pid, epoch, True, [(TOPIC, [0, 1])]),
                           ("nobody", 5, 0, True, [(TOPIC, [0])]),
                           ("raw-tx2", 0, 0, True, [(TOPIC, [0])])])
t.is_((top, res), (NONE, {"raw-tx": {(TOPIC, 0): NONE, (TOPIC, 1): INVALID_TXN_STATE},
                           "nobody": {(TOPIC, 0): INVALID_PID_MAPPING},
                           "raw-tx2": {(TOPIC, 0): INVALID_PID_MAPPING}}),
      "v4 verify-only, three transactions: in the txn NONE, not added INVALID_TXN_STATE, "
      "unknown ids INVALID_PRODUCER_ID_MAPPING")
top, res = add_batched(5, [("raw-tx", pid, epoch + 1, True, [(TOPIC, [0])])])
t.is_(res, {"raw-tx": {(TOPIC, 0): FENCED}}, "v5 verify-only with another epoch: PRODUCER_FENCED")
top, res = add_batched(5, [("raw-tx", pid, epoch, True, [(TOPIC, [1])])])
t.is_(res, {"raw-tx": {(TOPIC, 1): ABORTABLE}}, "v5 verify-only, partition not added: "
      "TRANSACTION_ABORTABLE")
top, res = add_batched(4, [("raw-tx", pid, epoch, False, [(TOPIC, [1])])])
t.is_((top, res), (NONE, {"raw-tx": {(TOPIC, 1): NONE}}), "v4 add (not verify-only): NONE")
top, res = add_batched(5, [("raw-tx", pid, epoch, True, [(TOPIC, [0, 1])])])
t.is_(res, {"raw-tx": {(TOPIC, 0): NONE, (TOPIC, 1): NONE}}, "verify-only now finds both")

# ---- KIP-890 part 1: Produce verification ---------------------------------
t.is_(produce(9, "raw-tx", pid, epoch, 0, 2, "x"), INVALID_TXN_STATE,
      "Produce v9, transactional batch to a partition not in the transaction: INVALID_TXN_STATE")
t.is_(produce(11, "raw-tx", pid, epoch, 0, 2, "x"), ABORTABLE,
      "Produce v11: TRANSACTION_ABORTABLE")
t.is_(produce(9, "raw-tx", pid, epoch, 0, 0, "in-txn"), NONE,
      "Produce to a partition in the transaction: stored")
t.is_(produce(11, "raw-tx", pid, epoch + 1, 1, 0, "x"), 47,
      "Produce with another epoch: INVALID_PRODUCER_EPOCH")

# ---- DescribeTransactions / ListTransactions ------------------------------
d = describe(["raw-tx", "nobody", ""])
t.is_([(x["err"], x["id"]) for x in d], [(NONE, "raw-tx"), (TXN_ID_NOT_FOUND, "nobody"),
                                          (INVALID_REQUEST, "")],
      "DescribeTransactions: found, TRANSACTIONAL_ID_NOT_FOUND, INVALID_REQUEST for ''")
t.is_((d[0]["state"], d[0]["pid"], d[0]["epoch"], d[0]["timeout"], d[0]["topics"]),
      ("Ongoing", pid, epoch, 60000, [(TOPIC, [0, 1])]),
      "DescribeTransactions raw-tx: Ongoing, its id, epoch, timeout and partitions")
t.ok(d[0]["start"] > 0, "and its start time")
err2, pid2, _ = init_pid("raw-idle")
t.is_(list_txns(0, ["Ongoing", "Bogus"]), (NONE, ["Bogus"], [("raw-tx", pid, "Ongoing")]),
      "ListTransactions v0 state filter: Ongoing only, the unknown filter echoed")
t.is_(list_txns(0, pids=[pid2]), (NONE, [], [("raw-idle", pid2, "Empty")]),
      "ListTransactions producer id filter")
t.is_(list_txns(0), (NONE, [], [("raw-idle", pid2, "Empty"), ("raw-tx", pid, "Ongoing")]),
      "ListTransactions without filters: every id")
t.is_(list_txns(1, ["Ongoing"], duration=3600000), (NONE, [], []),
      "ListTransactions v1 DurationFilter: no transaction is older than an hour")
t.is_(list_txns(1, ["Ongoing"], duration=0)[2], [("raw-tx", pid, "Ongoing")],
      "ListTransactions v1 DurationFilter 0: the running transaction")

# ---- TxnOffsetCommit and OffsetFetch RequireStable -------------------------
t.is_(txn_offset_commit("raw-tx", "raw-g", pid, epoch, 0, 7), INVALID_TXN_STATE,
      "TxnOffsetCommit v3 before AddOffsetsToTxn: INVALID_TXN_STATE (KIP-890 verification)")
t.is_(add_offsets("raw-tx", pid, epoch, "raw-g"), NONE, "AddOffsetsToTxn raw-g")
t.is_(txn_offset_commit("raw-tx", "raw-g", pid, epoch, 0, 7), NONE, "TxnOffsetCommit offset 7")
t.is_(offset_fetch("raw-g", 0, True), (-1, UNSTABLE), "OffsetFetch v7 RequireStable while "
      "the transaction is open: UNSTABLE_OFFSET_COMMIT")
t.is_(offset_fetch("raw-g", 0, False), (-1, NONE), "without RequireStable: no committed offset")

# ---- EndTxn ---------------------------------------------------------------
t.is_(end_txn("raw-tx", pid, epoch + 1, True), FENCED, "EndTxn v3 with another epoch: "
      "PRODUCER_FENCED")
t.is_(end_txn("raw-tx", pid, epoch + 1, True, ver=1), INVALID_PRODUCER_EPOCH,
      "EndTxn v1 with another epoch: INVALID_PRODUCER_EPOCH")
t.is_(end_txn("raw-idle", pid2, 0, True), INVALID_TXN_STATE, "EndTxn with no transaction: "
      "INVALID_TXN_STATE")
t.is_(end_txn("raw-tx", pid, epoch, True), NONE, "EndTxn commit")
t.is_(end_txn("raw-tx", pid, epoch, True), NONE, "EndTxn commit again (a retry): NONE")
t.is_(end_txn("raw-tx", pid, epoch, False), INVALID_TXN_STATE, "EndTxn abort after the commit: "
      "INVALID_TXN_STATE")
t.is_(offset_fetch("raw-g", 0, True), (7, NONE), "the committed transaction's offset is "
      "committed: 7")
t.is_(describe(["raw-tx"])[0]["state"], "CompleteCommit", "DescribeTransactions: CompleteCommit")


# A transactional commit is applied over the committed offset only if it
# was appended after it (Kafka compares the batches' log offsets).
t.is_(add_offsets("raw-tx", pid, epoch, "raw-g"), NONE, "a second transaction with offsets")
t.is_(txn_offset_commit("raw-tx", "raw-g", pid, epoch, 0, 20), NONE, "TxnOffsetCommit 20")
t.is_(offset_commit("raw-g", 0, 30), NONE, "then a plain OffsetCommit 30 of the same partition")
t.is_(end_txn("raw-tx", pid, epoch, True), NONE, "EndTxn commit")
t.is_(offset_fetch("raw-g", 0, True), (30, NONE),
      "the later plain commit stays: 30, not the transaction's 20")
t.is_(add_offsets("raw-tx", pid, epoch, "raw-g"), NONE, "a third transaction")
t.is_(txn_offset_commit("raw-tx", "raw-g", pid, epoch, 0, 40), NONE, "TxnOffsetCommit 40")
t.is_(end_txn("raw-tx", pid, epoch, False), NONE, "EndTxn abort")
t.is_(offset_fetch("raw-g", 0, True), (30, NONE), "an aborted transaction's offset is dropped")

# ---- WriteTxnMarkers ------------------------------------------------------
t.is_(write_markers(pid, epoch, False, [(TOPIC, [1]), ("no-such-topic", [0])]),
      {(TOPIC, 1): NONE, ("no-such-topic", 0): UNKNOWN_TOPIC},
      "WriteTxnMarkers v1: a marker written, UNKNOWN_TOPIC_OR_PARTITION for an unknown topic")
t.is_(write_markers(pid, epoch - 1, True, [(TOPIC, [0])]), {(TOPIC, 0): INVALID_PRODUCER_EPOCH},
      "WriteTxnMarkers with an older epoch: INVALID_PRODUCER_EPOCH")
