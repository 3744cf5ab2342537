#!/usr/bin/python3
"""Produce the lines of a file (KEY:VALUE) to partition 0 as ONE compressed
record batch in a raw ProduceRequest v7 and print the partition's error
code and base offset ("0 0" on success).  The compressed bytes come from
producers other than Sluice's modules:
  snappy-xerial  kafka-python's builder (xerial framing, like the Java client)
  snappy-raw     python3-snappy raw block (librdkafka's form)
  lz4            the lz4 CLI (LZ4 frame; content checksum on)
  zstd           the zstd CLI from a pipe (frame without content size, like
                 the Java client's zstd-jni stream)
MODE "corrupt" cuts the last 5 bytes off the compressed records (length
and CRC recomputed, so only decompression can notice; a cut is used rather
than a flipped byte because raw snappy has no checksum and a flip may still
decode, to garbage records).
Usage: codec_produce.py PORT TOPIC FILE CODEC [corrupt]"""
import struct
import subprocess
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

import kwire

port, topic, path, codec = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
corrupt = len(sys.argv) > 5 and sys.argv[5] == "corrupt"
CODEC_ID = {"snappy-xerial": 2, "snappy-raw": 2, "lz4": 3, "zstd": 4}[codec]


def build(compression_type):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=compression_type,
                                  is_transactional=False, producer_id=-1, producer_epoch=-1,
                                  base_sequence=-1, batch_size=1 << 24)
    now = int(time.time() * 1000)
    with open(path, "rb") as f:
        for i, line in enumerate(f.read().splitlines()):
            k, v = line.split(b":", 1)
            b.append(i, timestamp=now + i, key=k, value=v, headers=[])
    return bytearray(b.build())


HEADER = 61  # record batch v2 header; the records follow
if codec == "snappy-xerial":
    batch = build(2)
    assert batch[HEADER:HEADER + 8] == b"\x82SNAPPY\x00", "kafka-python wrote xerial framing"
else:
    plain = build(0)
    records = bytes(plain[HEADER:])
    if codec == "snappy-raw":
        import snappy
        payload = snappy.compress(records)
    else:
        payload = subprocess.run([codec, "-q", "-c"], input=records, stdout=subprocess.PIPE,
                                 check=True).stdout
    batch = plain[:HEADER] + payload
    struct.pack_into(">i", batch, 8, len(batch) - 12)          # batchLength
    attrs = struct.unpack_from(">h", batch, 21)[0]
    struct.pack_into(">h", batch, 21, (attrs & ~7) | CODEC_ID)  # compression bits
if corrupt:
    del batch[-5:]
    struct.pack_into(">i", batch, 8, len(batch) - 12)
struct.pack_into(">I", batch, 17, calc_crc32c(bytes(batch[21:])))
assert batch[22] & 7 == CODEC_ID

body = (kwire.i16(-1) + kwire.i16(-1) + kwire.i32(30000) + kwire.i32(1) +
        kwire.string(topic) + kwire.i32(1) + kwire.i32(0) + kwire.i32(len(batch)) + bytes(batch))
s = kwire.connect(port)
# v7: zstd needs Produce v7+ (KIP-110); the layout is the same as v3.
s.sendall(kwire.request(0, 7, 7, body))
r = kwire.Reader(kwire.recv_frame(s))
assert r.i32() == 7, "correlation id"
assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == 0
print("%d %d" % (r.i16(), r.i64()))
