#!/usr/bin/python3
"""Produce the lines of a file (KEY:VALUE) to partition 0 as one gzip
record batch in a raw ProduceRequest v3, and print the partition's error
code and base offset ("0 0" on success).  kafka-python builds the batch;
the request goes over a plain socket so the exact error code is seen
(kafka-python 2.0.2 has no class for UNSUPPORTED_COMPRESSION_TYPE).
Usage: gzip_produce.py PORT TOPIC FILE"""
import sys

from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire

port, topic, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
b = DefaultRecordBatchBuilder(magic=2, compression_type=1, is_transactional=False,
                              producer_id=-1, producer_epoch=-1, base_sequence=-1,
                              batch_size=1 << 24)
with open(path, "rb") as f:
    for i, line in enumerate(f.read().splitlines()):
        k, v = line.split(b":", 1)
        b.append(i, timestamp=1700000000000 + i, key=k, value=v, headers=[])
batch = bytes(b.build())
assert batch[22] & 7 == 1, "batch is gzip-compressed"

body = (kwire.i16(-1) + kwire.i16(-1) + kwire.i32(30000) + kwire.i32(1) +
        kwire.string(topic) + kwire.i32(1) + kwire.i32(0) + kwire.i32(len(batch)) + batch)
s = kwire.connect(port)
s.sendall(kwire.request(0, 3, 7, body))
r = kwire.Reader(kwire.recv_frame(s))
assert r.i32() == 7, "correlation id"
assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == 0
print("%d %d" % (r.i16(), r.i64()))
