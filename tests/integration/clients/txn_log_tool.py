#!/usr/bin/python3
"""Transactions on the partition side, for the txn-log integration tests.

  txn_log_tool.py write PARTDIR
      Replace the partition's log by a hand-made one (record batches v2 as a
      transactional producer and the coordinator write them, transaction
      markers included) and leave it to crash recovery: no index, no
      producer snapshot, no clean-shutdown marker.
  txn_log_tool.py txnindex FILE
      Print the entries of a .txnindex file (Kafka's AbortedTxn format):
      "version pid first last lso" per line.
  txn_log_tool.py check PORT TOPIC
      TAP: ListOffsets latest per isolation level, raw Fetch v4 and v12
      (read_committed: records up to the LSO and the AbortedTransactions
      list; read_uncommitted: everything and a null list).
  txn_log_tool.py state PORT TOPIC
      One line per fact of partition 0, for before/after comparisons:
      "lso N", "hw N", "committed-batches B1 B2 ..." (read_committed Fetch
      v12 from 0), "aborted PID FIRST ..." (its AbortedTransactions),
      "producer PID EPOCH LASTSEQ COORD TXNSTART" (DescribeProducers).
  txn_log_tool.py wait PORT TOPIC OFFSET MAX_WAIT_MS
      A read_committed Fetch v12 long poll (MinBytes 1) from OFFSET:
      "<elapsed ms> <base offsets of the batches returned>".
  txn_log_tool.py consume BOOT TOPIC ISOLATION
      confluent-kafka consumer with isolation.level=ISOLATION from the
      beginning to the end it sees (the LSO under read_committed):
      "offset value" lines.

The scenario (offsets):
  0-2  c-0..c-2   producer 1000, transactional     committed at 6
  3-4  a-0, a-1   producer 2000, transactional     aborted at 10
  5    p-0        plain (no producer id)
  6    COMMIT marker of producer 1000 (coordinator epoch 4)
  7-8  o-0, o-1   producer 3000, transactional     left open
  9    a-2        producer 2000, transactional
  10   ABORT marker of producer 2000 (coordinator epoch 4)
  11   p-1        plain (timestamp base + 10, the log's largest)
  12   i-0        producer 4000, idempotent (not transactional)
LSO 7 (producer 3000's transaction), HW 13; the aborted index holds
{2000, first 3, last 10, LSO 7}."""
import json
import os
import struct
import sys

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

import kwire
from kwire import i8, i32, i64, string, compact_string, uvarint

COMMITTED_VALUES = ["c-0", "c-1", "c-2", "p-0"]
ALL_VALUES = ["c-0", "c-1", "c-2", "a-0", "a-1", "p-0", "o-0", "o-1", "a-2", "p-1", "i-0"]
LSO, HW = 7, 13
ABORTED = [(2000, 3)]


def batch(base, values, pid=-1, epoch=-1, seq=-1, txn=False, control=None, ts=1700000000000):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=txn,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    if control is not None:
        kind, coord = control
        b.append(0, timestamp=ts, key=struct.pack(">hh", 0, kind),
                 value=struct.pack(">hi", 0, coord), headers=[])
    else:
        for i, v in enumerate(values):
            b.append(i, timestamp=ts + i, key=b"k", value=v.encode(), headers=[])
    raw = bytearray(b.build())
    raw[0:8] = i64(base)
    raw[12:16] = i32(0)  # partition leader epoch
    if control is not None:
        attrs = struct.unpack(">h", raw[21:23])[0] | 0x20
        raw[21:23] = struct.pack(">h", attrs)
    raw[17:21] = struct.pack(">I", calc_crc32c(bytes(raw[21:])))
    return bytes(raw)


def scenario():
    out = []
    out.append(batch(0, ["c-0", "c-1", "c-2"], 1000, 0, 0, txn=True))
    out.append(batch(3, ["a-0", "a-1"], 2000, 0, 0, txn=True))
    out.append(batch(5, ["p-0"]))
    out.append(batch(6, [], 1000, 0, control=(1, 4), txn=True))
    out.append(batch(7, ["o-0", "o-1"], 3000, 0, 0, txn=True))
    out.append(batch(9, ["a-2"], 2000, 0, 2, txn=True))
    out.append(batch(10, [], 2000, 0, control=(0, 4), txn=True))
    out.append(batch(11, ["p-1"], ts=1700000000010))
    out.append(batch(12, ["i-0"], 4000, 0, 0))
    return b"".join(out)


def write(partdir):
    for name in os.listdir(partdir):
        if name.endswith((".index", ".timeindex", ".txnindex", ".snapshot", ".log")) or \
                name in (".clean-shutdown", "recovery-point-offset"):
            os.unlink(os.path.join(partdir, name))
    with open(os.path.join(partdir, "%020d.log" % 0), "wb") as f:
        f.write(scenario())
        f.flush()
        os.fsync(f.fileno())


def txnindex(path):
    data = open(path, "rb").read()
    for p in range(0, len(data) - len(data) % 34, 34):
        print("%d %d %d %d %d" % struct.unpack(">hqqqq", data[p:p + 34]))
    if len(data) % 34:
        print("partial %d" % (len(data) % 34))


def call(port, api, version, body, flexible=False):
    """One request on a new connection; the response after its header."""
    return kwire.Conn(port).rpc(api, version, body, flexible)


def list_offsets(port, topic, isolation, ts):
    """ListOffsets v2: (error, timestamp, offset)."""
    body = i32(-1) + i8(isolation) + i32(1) + string(topic) + i32(1) + i32(0) + i64(ts)
    r = call(port, 2, 2, body)
    r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    r.i32()
    return r.i16(), r.i64(), r.i64()


def list_latest(port, topic, isolation):
    err, _ts, off = list_offsets(port, topic, isolation, -1)
    return err, off


def batches(records):
    """(base offset, attributes, producer id, values) of each batch."""
    out, p = [], 0
    while p + 61 <= len(records):
        base, blen = struct.unpack(">qi", records[p:p + 12])
        end = p + 12 + blen
        if end > len(records):
            break
        attrs = struct.unpack(">h", records[p + 21:p + 23])[0]
        pid = struct.unpack(">q", records[p + 43:p + 51])[0]
        out.append((base, attrs, pid))
        p = end
    return out


def fetch(port, topic, isolation, version, offset=0, wait_ms=0):
    flex = version >= 12
    min_bytes = 1 if wait_ms else 0
    if flex:
        body = i32(-1) + i32(wait_ms) + i32(min_bytes) + i32(1 << 20) + i8(isolation) + i32(0) + i32(-1)
        body += uvarint(2) + compact_string(topic) + uvarint(2)
        body += i32(0) + i32(-1) + i64(offset) + i32(-1) + i64(-1) + i32(1 << 20) + uvarint(0)
        body += uvarint(0) + uvarint(1) + compact_string("") + uvarint(0)
    else:
        body = i32(-1) + i32(0) + i32(0) + i32(1 << 20) + i8(isolation) + i32(1) + string(topic)
        body += i32(1) + i32(0) + i64(offset) + i32(1 << 20)
    r = call(port, 1, version, body, flexible=flex)
    r.i32()
    if flex:
        r.i16(), r.i32()
        assert r.uvarint() == 2 and r.compact_string() == topic and r.uvarint() == 2
    else:
        assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    out = {"p": r.i32(), "error": r.i16(), "hw": r.i64(), "lso": r.i64()}
    if flex:
        out["log_start"] = r.i64()
        out["aborted"] = r.compact_array(lambda: (r.i64(), r.i64(), r.tags())[:2])
        r.i32()
        n = r.uvarint() - 1
    else:
        out["aborted"] = r.array(lambda: (r.i64(), r.i64()))
        n = r.i32()
    recs = r.take(n) if n > 0 else b""
    out["batches"] = [b[0] for b in batches(recs)]
    out["aborted"] = [list(a) for a in out["aborted"]] if out["aborted"] is not None else None
    return out


def describe_producers(port, topics):
    """{(topic, partition): (error, message, [(pid, epoch, lastSeq, lastTs, coord, txnStart)])}"""
    body = uvarint(len(topics) + 1)
    for name, parts in topics:
        body += compact_string(name) + uvarint(len(parts) + 1)
        for p in parts:
            body += i32(p)
        body += uvarint(0)
    body += uvarint(0)
    r = call(port, 61, 0, body, flexible=True)
    r.i32()
    out = {}

    def producer():
        v = (r.i64(), r.i32(), r.i32(), r.i64(), r.i32(), r.i64())
        r.tags()
        return v

    def partition(name):
        idx, err, msg = r.i32(), r.i16(), r.compact_string()
        prods = r.compact_array(producer)
        r.tags()
        out[(name, idx)] = (err, msg, prods)

    def topic():
        name = r.compact_string()
        r.compact_array(lambda: partition(name))
        r.tags()

    r.compact_array(topic)
    r.tags()
    assert r.done(), "DescribeProducers response fully read"
    return out


def produce_v8(port, topic, records):
    """Produce v8, acks -1, to partition 0: (error, base offset, error message)."""
    body = string(None) + struct.pack(">h", -1) + i32(30000) + i32(1) + string(topic)
    body += i32(1) + i32(0) + i32(len(records)) + records
    r = call(port, 0, 8, body)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    r.i32()
    err, base = r.i16(), r.i64()
    r.i64(), r.i64()
    r.array(lambda: (r.i32(), r.string()))
    return err, base, r.string()


def check(port, topic):
    from taplib import Tap
    t = Tap()
    t.is_(list_latest(port, topic, 1), (0, LSO), "ListOffsets v2 latest, read_committed: the LSO %d" % LSO)
    t.is_(list_latest(port, topic, 0), (0, HW), "ListOffsets v2 latest, read_uncommitted: the HW %d" % HW)
    late = 1700000000005
    t.is_(list_offsets(port, topic, 0, late), (0, late + 5, 11),
          "ListOffsets by timestamp, read_uncommitted: p-1 at 11")
    t.is_(list_offsets(port, topic, 1, late), (0, -1, -1),
          "ListOffsets by timestamp, read_committed: none below the LSO")
    t.is_(list_offsets(port, topic, 0, -3), (0, late + 5, 11),
          "ListOffsets max timestamp, read_uncommitted: p-1 at 11")
    t.is_(list_offsets(port, topic, 1, -3), (0, -1, -1),
          "ListOffsets max timestamp, read_committed: above the LSO, so none")
    for v in (4, 12):
        rc = fetch(port, topic, 1, v)
        t.is_((rc["error"], rc["hw"], rc["lso"]), (0, HW, LSO),
              "Fetch v%d read_committed: HW %d, LastStableOffset %d" % (v, HW, LSO))
        t.is_(rc["batches"], [0, 3, 5, 6], "Fetch v%d read_committed: the batches below the LSO" % v)
        t.is_(rc["aborted"], [list(a) for a in ABORTED],
              "Fetch v%d read_committed: AbortedTransactions [(2000, 3)]" % v)
        ru = fetch(port, topic, 0, v)
        t.is_(ru["batches"], [0, 3, 5, 6, 7, 9, 10, 11, 12],
              "Fetch v%d read_uncommitted: every batch up to the HW" % v)
        t.is_(ru["aborted"], None, "Fetch v%d read_uncommitted: AbortedTransactions null" % v)
        rc = fetch(port, topic, 1, v, offset=5)
        t.is_((rc["batches"], rc["aborted"]), ([5, 6], [[2000, 3]]),
              "Fetch v%d read_committed from 5: batches 5, 6 and producer 2000's abort" % v)
        rc = fetch(port, topic, 1, v, offset=LSO)
        t.is_((rc["error"], rc["batches"], rc["aborted"]), (0, [], []),
              "Fetch v%d read_committed at the LSO: nothing yet, empty list" % v)
    # A client's control batch (not transactional, so past the
    # TransactionalId check): LogValidator refuses it.
    t.is_(produce_v8(port, topic, batch(0, [], control=(1, 0))),
          (87, -1, "Clients are not allowed to write control records in topic partition %s-0" % topic),
          "Produce of a control batch: INVALID_RECORD with Kafka's message")
    ts = 1700000000000
    d = describe_producers(port, [(topic, [0, 5]), ("no-such-topic", [0]), ("bad/name", [1])])
    t.is_(d[(topic, 0)], (0, None, [(1000, 0, 2, ts, 4, -1), (2000, 0, 2, ts, 4, -1),
                                    (3000, 0, 1, ts + 1, -1, 7), (4000, 0, 0, ts, -1, -1)]),
          "DescribeProducers: producers 1000 and 2000 ended by markers (coordinator epoch 4), "
          "3000 with its transaction open at 7, idempotent 4000")
    t.is_(d[(topic, 5)], (3, None, []), "DescribeProducers: unknown partition 5")
    t.is_(d[("no-such-topic", 0)],
          (3, "This server does not host this topic-partition.", []),
          "DescribeProducers: unknown topic, with the error's message")
    t.is_(d[("bad/name", 1)][0], 17, "DescribeProducers: invalid topic name")
    return t.failed


def state(port, topic):
    print("lso %d" % list_latest(port, topic, 1)[1])
    print("hw %d" % list_latest(port, topic, 0)[1])
    rc = fetch(port, topic, 1, 12)
    print("committed-batches " + " ".join(str(b) for b in rc["batches"]))
    print("aborted " + " ".join("%d %d" % (a[0], a[1]) for a in rc["aborted"] or []))
    for pid, epoch, seq, _ts, coord, start in describe_producers(port, [(topic, [0])])[(topic, 0)][2]:
        print("producer %d %d %d %d %d" % (pid, epoch, seq, coord, start))


def consume(boot, topic, isolation):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": boot, "group.id": "txn-log-%s" % isolation,
                  "isolation.level": isolation, "enable.partition.eof": True,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    import time
    deadline = time.time() + 30
    while time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            print("error %s" % m.error(), file=sys.stderr)
            continue
        print("%d %s" % (m.offset(), m.value().decode()))
    c.close()


def main(argv):
    cmd = argv[1]
    if cmd == "write":
        write(argv[2])
    elif cmd == "txnindex":
        txnindex(argv[2])
    elif cmd == "check":
        sys.exit(1 if check(int(argv[2]), argv[3]) else 0)
    elif cmd == "wait":
        import time
        t0 = time.time()
        rc = fetch(int(argv[2]), argv[3], 1, 12, offset=int(argv[4]), wait_ms=int(argv[5]))
        print("%d %s" % ((time.time() - t0) * 1000, " ".join(str(b) for b in rc["batches"])))
    elif cmd == "state":
        state(int(argv[2]), argv[3])
    elif cmd == "consume":
        consume(argv[2], argv[3], argv[4])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
