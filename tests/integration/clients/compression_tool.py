#!/usr/bin/python3
"""Helpers for the compression and legacy-format tests (05x-*.t).  Data
files hold one KEY:VALUE record per line.

  compression_tool.py consume-ck BOOT TOPIC N [ts]   confluent-kafka, partition 0 from 0:
                                                     prints KEY:VALUE lines (N records),
                                                     "TIMESTAMP KEY:VALUE" with ts
  compression_tool.py consume-kp BOOT TOPIC N        same with kafka-python
  compression_tool.py produce-kp BOOT TOPIC FILE CODEC API   kafka-python producer
      (CODEC none|gzip|..., API e.g. 0.9 / 0.10 or auto) -> "ok N" or the error;
      with KP_DEBUG_LOG=FILE kafka-python's debug log (requests sent) goes to FILE
  compression_tool.py produce-ck BOOT TOPIC FILE CODEC [k=v...]  confluent-kafka
      producer -> "ok N" or the error
  compression_tool.py batches LOGDIR                 stored batches of one partition
      directory, read from its segment files: "BASEOFFSET COUNT CODEC ATTRS" lines
  compression_tool.py batch-records LOGDIR N         records of the N-th stored batch
      (gzip or uncompressed only): KEY:VALUE lines
  compression_tool.py fetch-error PORT TOPIC VERSION raw Fetch of partition 0 at
      version 4..11: prints the partition's error code
  compression_tool.py api-max PORT KEY               max version the broker advertises
      for an API key (-1 when absent)
  compression_tool.py raw-produce PORT TOPIC VERSION KIND [TS]   one hand-built Produce
      of partition 0 at VERSION (0..11); prints "ERROR BASEOFFSET LOGAPPENDTIME"
      (LOGAPPENDTIME -1 below v2).  KIND: see RAW_KINDS below.
"""
import glob
import os
import struct
import sys
import time
import zlib

import kwire

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def records_of(path):
    with open(path, "rb") as f:
        return [tuple(line.split(b":", 1)) for line in f.read().splitlines()]


def consume_ck(boot, topic, n, with_ts=False):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": boot, "group.id": "unused-assign-only",
                  "enable.auto.commit": False, "enable.partition.eof": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got, end = [], time.time() + 30
    while len(got) < n and time.time() < end:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            print("ERROR %s" % m.error(), file=sys.stderr)
            continue
        line = (m.key() or b"") + b":" + (m.value() or b"")
        if with_ts:
            line = b"%d %s" % (m.timestamp()[1], line)
        got.append(line)
    c.close()
    sys.stdout.buffer.write(b"".join(g + b"\n" for g in got))


def consume_kp(boot, topic, n):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=boot, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=30000)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    got, end = [], time.time() + 30
    while len(got) < n and time.time() < end:
        for recs in c.poll(timeout_ms=1000).values():
            got.extend((r.key or b"") + b":" + (r.value or b"") for r in recs)
    c.close()
    sys.stdout.buffer.write(b"".join(g + b"\n" for g in got))


def produce_kp(boot, topic, path, codec, api):
    from kafka import KafkaProducer
    if os.environ.get("KP_DEBUG_LOG"):
        # kafka.conn logs every request it sends, e.g. "ProduceRequest_v2".
        import logging
        logging.basicConfig(filename=os.environ["KP_DEBUG_LOG"], level=logging.DEBUG)
    p = KafkaProducer(bootstrap_servers=boot,
                      api_version=None if api == "auto" else tuple(int(x) for x in api.split(".")),
                      compression_type=None if codec == "none" else codec,
                      linger_ms=200, batch_size=1 << 20, retries=0, acks=1)
    futs = [p.send(topic, key=k, value=v, partition=0) for k, v in records_of(path)]
    p.flush(30)
    try:
        for f in futs:
            f.get(timeout=30)
        print("ok %d" % len(futs))
    except Exception as e:  # noqa: BLE001 - the error is the result
        print("error %s" % type(e).__name__)
    p.close(10)


def produce_ck(boot, topic, path, codec, extra):
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": boot, "compression.codec": codec, "linger.ms": 200,
            "batch.num.messages": 100000}
    conf.update(dict(a.split("=", 1) for a in extra))
    p = Producer(conf)
    errs = []

    def cb(err, msg):
        if err:
            errs.append(err)
    recs = records_of(path)
    for k, v in recs:
        p.produce(topic, key=k, value=v, partition=0, on_delivery=cb)
    left = p.flush(30)
    if errs or left:
        print("error %s" % (errs[0].name() if errs else "undelivered %d" % left))
    else:
        print("ok %d" % len(recs))


def segment_batches(logdir):
    """(base_offset, count, attributes, records bytes) of every stored batch."""
    out = []
    for seg in sorted(glob.glob(os.path.join(logdir, "*.log"))):
        with open(seg, "rb") as f:
            data = f.read()
        pos = 0
        while pos + 61 <= len(data):
            base, blen = struct.unpack_from(">qi", data, pos)
            if blen <= 0:
                break
            attrs, = struct.unpack_from(">h", data, pos + 21)
            count, = struct.unpack_from(">i", data, pos + 57)
            out.append((base, count, attrs, data[pos + 61:pos + 12 + blen]))
            pos += 12 + blen
    return out


def batches(logdir):
    # For gzip the header's XFL byte tells the deflate level class: 2 for
    # level 9, 4 for level 1, 0 otherwise (zlib).
    for base, count, attrs, recs in segment_batches(logdir):
        xfl = " xfl=%d" % recs[8] if attrs & 7 == 1 else ""
        print("%d %d %s 0x%x%s" % (base, count, CODECS.get(attrs & 7, attrs & 7), attrs, xfl))


def varint(d, p):
    v = shift = 0
    while True:
        b = d[p]
        p += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return (v >> 1) ^ -(v & 1), p
        shift += 7


def batch_records(logdir, n):
    base, count, attrs, recs = segment_batches(logdir)[n]
    if attrs & 7 == 1:
        recs = zlib.decompress(recs, 47)
    elif attrs & 7:
        sys.exit("codec %d not decodable here" % (attrs & 7))
    p, lines = 0, []
    for _ in range(count):
        ln, p = varint(recs, p)
        q = p + 1  # attributes
        _, q = varint(recs, q)  # timestamp delta
        _, q = varint(recs, q)  # offset delta
        kl, q = varint(recs, q)
        k = recs[q:q + kl] if kl >= 0 else b""
        q += max(kl, 0)
        vl, q = varint(recs, q)
        v = recs[q:q + vl] if vl >= 0 else b""
        lines.append(k + b":" + v)
        p += ln
    sys.stdout.buffer.write(b"".join(x + b"\n" for x in lines))


def fetch_error(port, topic, version):
    # Fetch v4..v11 share this layout up to the partition fields.
    body = kwire.i32(-1) + kwire.i32(100) + kwire.i32(1) + kwire.i32(1 << 20) + kwire.i8(0)
    if version >= 7:
        body += kwire.i32(0) + kwire.i32(-1)
    body += kwire.i32(1) + kwire.string(topic) + kwire.i32(1) + kwire.i32(0)
    if version >= 9:
        body += kwire.i32(-1)  # current leader epoch
    body += struct.pack(">q", 0)
    if version >= 5:
        body += struct.pack(">q", -1)
    body += kwire.i32(1 << 20)
    if version >= 7:
        body += kwire.i32(0)  # forgotten topics
    if version >= 11:
        body += kwire.string("")
    s = kwire.connect(port)
    s.sendall(kwire.request(1, version, 9, body))
    r = kwire.Reader(kwire.recv_frame(s))
    assert r.i32() == 9
    r.i32()  # throttle
    if version >= 7:
        r.i16()
        r.i32()
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1
    assert r.i32() == 0
    print(r.i16())


def api_max(port, key):
    s = kwire.connect(port)
    s.sendall(kwire.request(18, 0, 3, b""))
    r = kwire.Reader(kwire.recv_frame(s))
    assert r.i32() == 3
    err, keys = kwire.api_versions_v0_body(r)
    print(max([hi for k, lo, hi in keys if k == key] or [-1]))


# ---- hand-built records --------------------------------------------------
def legacy_msg(magic, key, value, ts=None, attrs=0, offset=0, bad_crc=False):
    """One magic 0/1 message with its log header."""
    body = struct.pack(">bb", magic, attrs)
    if magic == 1:
        body += struct.pack(">q", ts if ts is not None else -1)
    for f in (key, value):
        body += struct.pack(">i", -1) if f is None else struct.pack(">i", len(f)) + f
    crc = zlib.crc32(body) & 0xFFFFFFFF
    if bad_crc:
        crc ^= 0x5A5A
    return struct.pack(">qiI", offset, 4 + len(body), crc) + body


def gzip_bytes(b):
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    return z.compress(b) + z.flush()


def legacy_wrapper(magic, codec, inner, ts=None, offset=None, payload=None):
    """A compressed wrapper around inner messages [(key, value, ts)], with
    v1 relative inner offsets (wrapper offset = last) or v0 absolute ones."""
    data = b"".join(legacy_msg(magic, k, v, t, offset=i) for i, (k, v, t) in enumerate(inner))
    if payload is None:
        payload = gzip_bytes(data)
    return legacy_msg(magic, None, payload, ts, attrs=codec,
                      offset=len(inner) - 1 if offset is None else offset)


def v2_batch(records, codec=0, payload=None, bad_crc=False, base_ts=None):
    """Record batch v2; records [(key, value, ts)]; payload replaces the
    (compressed) records section."""
    from kafka.record.util import encode_varint, calc_crc32c

    def vi(n):
        out = bytearray()
        encode_varint(n, out.append)
        return bytes(out)
    base_ts = records[0][2] if base_ts is None else base_ts
    recs = b""
    for i, (k, v, ts) in enumerate(records):
        body = b"\0" + vi(ts - base_ts) + vi(i)
        body += vi(-1) if k is None else vi(len(k)) + k
        body += vi(-1) if v is None else vi(len(v)) + v
        body += vi(0)
        recs += vi(len(body)) + body
    if payload is not None:
        recs = payload
    elif codec == 1:
        recs = gzip_bytes(recs)
    n = len(records)
    after_crc = struct.pack(">hiqqqhii", codec, n - 1, base_ts, max(r[2] for r in records),
                            -1, -1, -1, n) + recs
    crc = calc_crc32c(after_crc) ^ (0x1234 if bad_crc else 0)
    return struct.pack(">qiib", 0, 4 + 1 + 4 + len(after_crc), -1, 2) + \
        struct.pack(">I", crc) + after_crc


def raw_records(kind, ts):
    recs = [(b"k%d" % i, b"legacy value %d" % i, ts + i) for i in range(3)]
    if kind == "v0-plain":
        return b"".join(legacy_msg(0, k, v) for k, v, _ in recs)
    if kind == "v1-plain":
        return b"".join(legacy_msg(1, k, v, t, offset=i) for i, (k, v, t) in enumerate(recs))
    if kind == "v0-gzip":
        return legacy_wrapper(0, 1, recs)
    if kind == "v1-gzip":
        return legacy_wrapper(1, 1, recs, ts=ts + 2)
    if kind == "v1-gzip-lat":
        return legacy_wrapper(1, 1 | 8, recs, ts=ts + 2)
    if kind == "v1-gzip-bad-offset":
        return legacy_wrapper(1, 1, recs, ts=ts + 2, offset=1)
    if kind == "v1-bad-crc":
        return legacy_msg(1, b"k", b"v", ts) + legacy_msg(1, b"k2", b"v2", ts, bad_crc=True)
    if kind == "v1-gzip-corrupt":
        return legacy_wrapper(1, 1, recs, ts=ts + 2, payload=b"\x1f\x8b not really gzip")
    if kind == "v1-truncated":
        return (legacy_msg(1, b"k", b"v", ts) + legacy_msg(1, b"k2", b"v2", ts))[:-3]
    if kind == "v1-mixed-magic":
        return legacy_msg(1, b"k", b"v", ts) + legacy_msg(0, b"k2", b"v2")
    if kind == "v2-plain":
        return v2_batch(recs)
    if kind == "v2-gzip":
        return v2_batch(recs, codec=1)
    if kind == "v2-gzip-corrupt":
        return v2_batch(recs, codec=1, payload=b"\x1f\x8b\x08\x00 garbage, not deflate")
    if kind == "v2-bad-crc":
        return v2_batch(recs, bad_crc=True)
    if kind == "v2-snappy-fake":
        return v2_batch(recs, codec=2, payload=b"\x82SNAPPY\x00 not checked: no module")
    if kind == "v2-zstd-fake":
        return v2_batch(recs, codec=4, payload=b"\x28\xb5\x2f\xfd not checked")
    sys.exit("unknown kind " + kind)


def raw_produce(port, topic, version, kind, ts):
    records = raw_records(kind, ts)
    body = b""
    if version >= 3:
        body += kwire.string(None)
    body += kwire.i16(1) + kwire.i32(30000) + kwire.i32(1) + kwire.string(topic) + \
        kwire.i32(1) + kwire.i32(0) + kwire.i32(len(records)) + records
    s = kwire.connect(port)
    s.sendall(kwire.request(0, version, 11, body))
    r = kwire.Reader(kwire.recv_frame(s))
    assert r.i32() == 11
    assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == 0
    err, base = r.i16(), r.i64()
    lat = r.i64() if version >= 2 else -1
    if version >= 5:
        r.i64()  # log start offset
    if version >= 8:
        r.array(lambda: (r.i32(), r.string()))
        r.string()
    if version >= 1:
        r.i32()  # throttle
    assert r.done(), "trailing bytes in ProduceResponse v%d" % version
    print("%d %d %d" % (err, base, lat))


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "consume-ck":
        consume_ck(a[0], a[1], int(a[2]), len(a) > 3 and a[3] == "ts")
    elif cmd == "consume-kp":
        consume_kp(a[0], a[1], int(a[2]))
    elif cmd == "produce-kp":
        produce_kp(a[0], a[1], a[2], a[3], a[4])
    elif cmd == "produce-ck":
        produce_ck(a[0], a[1], a[2], a[3], a[4:])
    elif cmd == "batches":
        batches(a[0])
    elif cmd == "batch-records":
        batch_records(a[0], int(a[1]))
    elif cmd == "api-max":
        api_max(int(a[0]), int(a[1]))
    elif cmd == "raw-produce":
        raw_produce(int(a[0]), a[1], int(a[2]), a[3],
                    int(a[4]) if len(a) > 4 else (int(time.time()) - 60) * 1000)
    elif cmd == "fetch-error":
        fetch_error(int(a[0]), a[1], int(a[2]))
    else:
        sys.exit("unknown command " + cmd)


main()
