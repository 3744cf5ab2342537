#!/usr/bin/python3
"""Raw requests for the log-management tests, printing JSON.  The Debian
clients lack these APIs (kafka-python 2.0.2 and confluent-kafka 1.7.0 have
no DescribeLogDirs/AlterReplicaLogDirs) or hide the exact codes.

  log_tool.py describe PORT VERSION [TOPIC:PART ...]      DescribeLogDirs
  log_tool.py alter PORT VERSION DIR TOPIC:PART ...       AlterReplicaLogDirs
  log_tool.py metadata PORT TOPIC                         Metadata v12 partitions
  log_tool.py produce PORT TOPIC PART VERSION TS [TS ...] one batch, a record per TS
  log_tool.py fetch PORT TOPIC PART OFFSET                Fetch v5
  log_tool.py offsets PORT TOPIC PART TIMESTAMP           ListOffsets v1
  log_tool.py config PORT TOPIC KEY=VALUE|KEY= ...        IncrementalAlterConfigs v0
  log_tool.py delete_records PORT TOPIC PART OFFSET       DeleteRecords v0
  log_tool.py fill PORT TOPIC PART COUNT SIZE [TS_OFFSET] COUNT one-record batches

Produced values are "v<index>" padded to $LOG_TOOL_VALUE_SIZE bytes if set.

Timestamps "now", "now-N" and "now+N" (ms) are relative to this clock;
"lat:TS" sets the batch's LogAppendTime attribute."""
import json
import os
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire
from kwire import i8, i16, i32, i64, string, compact_string, uvarint


def call(port, api, version, body, flexible=False):
    """One request on a new connection; the response after its header."""
    return kwire.Conn(port).rpc(api, version, body, flexible)


def tps(args):
    out = {}
    for a in args:
        t, p = a.rsplit(":", 1)
        out.setdefault(t, []).append(int(p))
    return out


def describe(port, version, args):
    flex = version >= 2
    sel = tps(args) if args else None
    arr = (lambda n: uvarint(n + 1)) if flex else i32
    st = compact_string if flex else string
    tag = uvarint(0) if flex else b""
    if sel is None:
        body = uvarint(0) if flex else i32(-1)
    else:
        body = arr(len(sel))
        for t, ps in sel.items():
            body += st(t) + arr(len(ps)) + b"".join(i32(p) for p in ps) + tag
    body += tag
    r = call(port, 35, version, body, flex)
    rarr = r.compact_array if flex else r.array
    rstr = r.compact_string if flex else r.string
    out = {"throttle": r.i32()}
    if version >= 3:
        out["error"] = r.i16()

    def part():
        p = {"p": r.i32(), "size": r.i64(), "lag": r.i64(), "future": bool(r.i8())}
        if flex:
            r.tags()
        return p

    def topic():
        name = rstr()
        ps = rarr(part)
        if flex:
            r.tags()
        return name, ps

    def result():
        d = {"error": r.i16(), "path": rstr()}
        d["topics"] = dict(rarr(topic) or [])
        if version >= 4:
            d["total"] = r.i64()
            d["usable"] = r.i64()
        if flex:
            r.tags()
        return d

    out["dirs"] = rarr(result)
    if flex:
        r.tags()
    assert r.done(), "trailing bytes"
    return out


def alter(port, version, path, args):
    flex = version >= 2
    sel = tps(args)
    arr = (lambda n: uvarint(n + 1)) if flex else i32
    st = compact_string if flex else string
    tag = uvarint(0) if flex else b""
    body = arr(1) + st(path) + arr(len(sel))
    for t, ps in sel.items():
        body += st(t) + arr(len(ps)) + b"".join(i32(p) for p in ps) + tag
    body += tag + tag
    r = call(port, 34, version, body, flex)
    rarr = r.compact_array if flex else r.array
    rstr = r.compact_string if flex else r.string
    r.i32()

    def part():
        p = (r.i32(), r.i16())
        if flex:
            r.tags()
        return p

    def topic():
        name = rstr()
        ps = rarr(part)
        if flex:
            r.tags()
        return [[name, p, e] for p, e in ps]

    res = []
    for t in rarr(topic):
        res += t
    if flex:
        r.tags()
    assert r.done(), "trailing bytes"
    return res


def metadata(port, topic):
    body = uvarint(2) + b"\0" * 16 + compact_string(topic) + uvarint(0)
    body += i8(0) + i8(0) + uvarint(0)
    r = call(port, 3, 12, body, True)
    r.i32()

    def broker():
        r.i32(); r.compact_string(); r.i32(); r.compact_string(); r.tags()

    r.compact_array(broker)
    r.compact_string()
    r.i32()

    def part():
        p = {"err": r.i16(), "p": r.i32(), "leader": r.i32(), "epoch": r.i32(),
             "replicas": r.compact_array(r.i32), "isr": r.compact_array(r.i32),
             "offline": r.compact_array(r.i32)}
        r.tags()
        return p

    def t():
        d = {"err": r.i16(), "name": r.compact_string()}
        r.uuid()
        r.i8()
        d["parts"] = r.compact_array(part)
        r.i32()
        r.tags()
        return d

    topics = r.compact_array(t)
    return topics[0]


def parse_ts(s, now):
    if s == "now":
        return now
    if s.startswith("now"):
        return now + int(s[3:])
    return int(s)


def produce(port, topic, part, version, stamps):
    now = int(time.time() * 1000)
    lat = any(s.startswith("lat:") for s in stamps)
    stamps = [s[4:] if s.startswith("lat:") else s for s in stamps]
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 24)
    size = int(os.environ.get("LOG_TOOL_VALUE_SIZE", "0"))
    for i, s in enumerate(stamps):
        v = (b"v%d" % i).ljust(size, b".")
        b.append(i, timestamp=parse_ts(s, now), key=b"k%d" % i, value=v, headers=[])
    batch = bytearray(b.build())
    if lat:
        # attributes (offset 21..22) bit 3, then the CRC-32C over attributes..end
        from kafka.record.util import calc_crc32c
        batch[22] |= 0x08
        batch[17:21] = kwire.struct.pack(">I", calc_crc32c(bytes(batch[21:])))
    body = i16(-1) + i16(-1) + i32(30000) + i32(1) + string(topic) + i32(1) + i32(part)
    body += i32(len(batch)) + bytes(batch)
    r = call(port, 0, version, body)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    out = {"p": r.i32(), "error": r.i16(), "base": r.i64()}
    if version >= 2:
        out["append_time"] = r.i64()
    if version >= 5:
        out["log_start"] = r.i64()
    if version >= 8:
        out["record_errors"] = r.array(lambda: [r.i32(), r.string()])
        out["message"] = r.string()
    out["now"] = now
    return out


def fetch(port, topic, part, offset):
    body = i32(-1) + i32(0) + i32(0) + i32(1 << 20) + i8(0) + i32(1) + string(topic) + i32(1)
    body += i32(part) + i64(offset) + i64(-1) + i32(1 << 20)
    r = call(port, 1, 5, body)
    r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    out = {"p": r.i32(), "error": r.i16(), "hw": r.i64(), "lso": r.i64(), "log_start": r.i64()}
    r.array(lambda: (r.i64(), r.i64()))
    n = r.i32()
    out["bytes"] = max(n, 0)
    return out


def offsets(port, topic, part, ts):
    body = i32(-1) + i32(1) + string(topic) + i32(1) + i32(part) + i64(ts)
    r = call(port, 2, 1, body)
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    return {"p": r.i32(), "error": r.i16(), "ts": r.i64(), "offset": r.i64()}


def config(port, topic, kvs):
    body = i32(1) + i8(2) + string(topic) + i32(len(kvs))
    for kv in kvs:
        k, v = kv.split("=", 1)
        body += string(k) + (i8(0) + string(v) if v else i8(1) + string(None))
    body += i8(0)
    r = call(port, 44, 0, body)
    r.i32()
    res = r.array(lambda: {"error": r.i16(), "message": r.string(), "type": r.i8(),
                           "name": r.string()})
    return res[0]


def delete_records(port, topic, part, offset):
    body = i32(1) + string(topic) + i32(1) + i32(part) + i64(offset) + i32(30000)
    r = call(port, 21, 0, body)
    r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    return {"p": r.i32(), "low": r.i64(), "error": r.i16()}


def fill(port, topic, part, count, size, ts_offset=0):
    """count single-record batches in one connection, timestamps now +
    ts_offset; returns how many got each error code."""
    s = kwire.connect(port)
    errors = {}
    for n in range(count):
        b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                      producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                      batch_size=1 << 24)
        b.append(0, timestamp=int(time.time() * 1000) + ts_offset, key=b"k%d" % n,
                 value=(b"r%06d" % n).ljust(size, b"."), headers=[])
        batch = bytes(b.build())
        body = i16(-1) + i16(-1) + i32(30000) + i32(1) + string(topic) + i32(1) + i32(part)
        body += i32(len(batch)) + batch
        s.sendall(kwire.request(0, 3, n, body))
        r = kwire.Reader(kwire.recv_frame(s))
        r.i32()
        r.i32(); r.string(); r.i32(); r.i32()
        e = r.i16()
        errors[e] = errors.get(e, 0) + 1
    return {str(k): v for k, v in errors.items()}


def main(argv):
    cmd, port = argv[1], int(argv[2])
    if cmd == "describe":
        res = describe(port, int(argv[3]), argv[4:])
    elif cmd == "alter":
        res = alter(port, int(argv[3]), argv[4], argv[5:])
    elif cmd == "metadata":
        res = metadata(port, argv[3])
    elif cmd == "produce":
        res = produce(port, argv[3], int(argv[4]), int(argv[5]), argv[6:])
    elif cmd == "fetch":
        res = fetch(port, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "offsets":
        res = offsets(port, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "config":
        res = config(port, argv[3], argv[4:])
    elif cmd == "delete_records":
        res = delete_records(port, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == "fill":
        res = fill(port, argv[3], int(argv[4]), int(argv[5]), int(argv[6]),
                   int(argv[7]) if len(argv) > 7 else 0)
    else:
        raise SystemExit("unknown command " + cmd)
    print(json.dumps(res, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
