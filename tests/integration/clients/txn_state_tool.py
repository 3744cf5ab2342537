#!/usr/bin/python3
"""Reads and writes __transaction_state log files the way Kafka's own tools
see them (TransactionLogKey v0 / TransactionLogValue v0-1, version-prefixed
as Kafka's TransactionLog writes them), for the txn-coord tests.

  txn_state_tool.py dump DATADIR
      The latest record of every transactional id over all partitions:
      "TXID STATE pid=P epoch=E timeout=T partitions=t-0,u-1" (sorted),
      or "TXID tombstone".
  txn_state_tool.py prepare DATADIR TXID STATE
      Append to the id's partition a copy of its latest value with
      TransactionStatus STATE (2 PrepareCommit, 3 PrepareAbort), as the
      coordinator writes it before the markers: what a broker killed right
      after the PrepareX record became durable leaves behind."""
import glob
import os
import struct
import sys
import time

from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

STATES = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
          "CompleteAbort", "Dead", "PrepareEpochFence"]


class R:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        v = self.b[self.p:self.p + n]
        if len(v) != n:
            raise ValueError("truncated")
        self.p += n
        return v

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()


def decode_key(k):
    r = R(k)
    if r.i16() != 0:
        return None
    return r.string()


def decode_value(v):
    r = R(v)
    version = r.i16()
    if version not in (0, 1):
        raise ValueError("value version %d" % version)
    if version != 0:
        raise ValueError("flexible value: not written by sluice")
    pid, epoch, timeout, status = r.i64(), r.i16(), r.i32(), r.i8()
    n = r.i32()
    parts = []
    for _ in range(max(n, 0)):
        topic = r.string()
        for _ in range(r.i32()):
            parts.append((topic, r.i32()))
    last_update, start = r.i64(), r.i64()
    if r.p != len(v):
        raise ValueError("trailing bytes")
    return dict(pid=pid, epoch=epoch, timeout=timeout, status=status,
                parts=None if n < 0 else sorted(parts), last_update=last_update, start=start)


def encode_value(d):
    out = struct.pack(">hqhib", 0, d["pid"], d["epoch"], d["timeout"], d["status"])
    if d["parts"] is None:
        out += struct.pack(">i", -1)
    else:
        by_topic = {}
        for t, p in d["parts"]:
            by_topic.setdefault(t, []).append(p)
        out += struct.pack(">i", len(by_topic))
        for t, ps in sorted(by_topic.items()):
            tb = t.encode()
            out += struct.pack(">h", len(tb)) + tb + struct.pack(">i", len(ps))
            out += b"".join(struct.pack(">i", p) for p in ps)
    return out + struct.pack(">qq", d["last_update"], d["start"])


def batches(path):
    data = open(path, "rb").read()
    pos = 0
    while pos + 12 <= len(data):
        base, length = struct.unpack(">qi", data[pos:pos + 12])
        end = pos + 12 + length
        if length <= 0 or end > len(data):
            break
        yield base, data[pos:end], end
        pos = end


def scan(datadir):
    """{txid: (partition dir, value dict or None)}, and the last offset per dir."""
    latest, next_offset = {}, {}
    for d in sorted(glob.glob(os.path.join(datadir, "__transaction_state-*"))):
        for log in sorted(glob.glob(os.path.join(d, "*.log"))):
            for base, raw, _ in batches(log):
                b = DefaultRecordBatch(raw)
                for rec in b:
                    next_offset[d] = rec.offset + 1
                    txid = decode_key(rec.key)
                    if txid is None:
                        continue
                    latest[txid] = (d, None if rec.value is None else decode_value(rec.value))
    return latest, next_offset


def cmd_dump(datadir):
    latest, _ = scan(datadir)
    for txid in sorted(latest):
        d, v = latest[txid]
        if v is None:
            print(txid, "tombstone")
            continue
        parts = ",".join("%s-%d" % tp for tp in (v["parts"] or []))
        print("%s %s pid=%d epoch=%d timeout=%d partitions=%s" % (
            txid, STATES[v["status"]], v["pid"], v["epoch"], v["timeout"], parts))


def cmd_prepare(datadir, txid, state):
    latest, next_offset = scan(datadir)
    d, v = latest[txid]
    v = dict(v)
    v["status"] = int(state)
    v["last_update"] = int(time.time() * 1000)
    key = struct.pack(">h", 0) + struct.pack(">h", len(txid)) + txid.encode()
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    b.append(0, timestamp=v["last_update"], key=key, value=encode_value(v), headers=[])
    raw = bytearray(b.build())
    raw[0:8] = struct.pack(">q", next_offset[d])
    logs = sorted(glob.glob(os.path.join(d, "*.log")))
    with open(logs[-1], "ab") as f:
        f.write(raw)
    print("appended", STATES[v["status"]], "at", next_offset[d], "to", os.path.basename(d))


if __name__ == "__main__":
    {"dump": cmd_dump, "prepare": cmd_prepare}[sys.argv[1]](*sys.argv[2:])
