#!/usr/bin/python3
"""Produce one batch of KEY:VALUE lines ("-" as KEY = no key) to partition 0
in a raw ProduceRequest v8 and print the partition's answer as JSON:
error code, base offset, record errors and error message (kafka-python
builds the batch; the request goes over a plain socket so every field of
the response is seen).
Usage: keyless_produce.py PORT TOPIC LINE..."""
import json
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire

port, topic = int(sys.argv[1]), sys.argv[2]
b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                              producer_id=-1, producer_epoch=-1, base_sequence=-1,
                              batch_size=1 << 24)
now = int(time.time() * 1000)
for i, line in enumerate(sys.argv[3:]):
    k, v = line.split(":", 1)
    b.append(i, timestamp=now, key=None if k == "-" else k.encode(), value=v.encode(), headers=[])
batch = bytes(b.build())

body = (kwire.i16(-1) + kwire.i16(-1) + kwire.i32(30000) + kwire.i32(1) +
        kwire.string(topic) + kwire.i32(1) + kwire.i32(0) + kwire.i32(len(batch)) + batch)
s = kwire.connect(port)
s.sendall(kwire.request(0, 8, 11, body))
r = kwire.Reader(kwire.recv_frame(s))
assert r.i32() == 11, "correlation id"
assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == 0
out = {"error": r.i16(), "base_offset": r.i64()}
r.i64()
r.i64()
out["record_errors"] = r.array(lambda: [r.i32(), r.string()])
out["error_message"] = r.string()
print(json.dumps(out))
