#!/usr/bin/python3
"""Produce one batch of KEY:VALUE lines ("-" as KEY = no key) to partition 0
in a raw ProduceRequest v8 and print the partition's answer as JSON:
error code, base offset, record errors and error message (kafka-python
builds the batch; the request goes over a plain socket so every field of
the response is seen).
With --v2 before the lines the records go as a message set of magic 1 in
a ProduceRequest v2 (which has no RecordErrors): error code and base
offset only.
Usage: keyless_produce.py PORT TOPIC [--v2] LINE..."""
import json
import sys
import time

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

import kwire

port, topic = int(sys.argv[1]), sys.argv[2]
legacy = sys.argv[3] == "--v2"
lines = sys.argv[4:] if legacy else sys.argv[3:]
if legacy:
    b = LegacyRecordBatchBuilder(magic=1, compression_type=0, batch_size=1 << 24)
else:
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 24)
now = int(time.time() * 1000)
for i, line in enumerate(lines):
    k, v = line.split(":", 1)
    key = None if k == "-" else k.encode()
    if legacy:
        b.append(i, timestamp=now, key=key, value=v.encode())
    else:
        b.append(i, timestamp=now, key=key, value=v.encode(), headers=[])
batch = bytes(b.build())

body = kwire.i16(-1) + kwire.i32(30000) + kwire.i32(1)  # v2: no transactional id
if not legacy:
    body = kwire.i16(-1) + body
body += kwire.string(topic) + kwire.i32(1) + kwire.i32(0) + kwire.i32(len(batch)) + batch
s = kwire.connect(port)
s.sendall(kwire.request(0, 2 if legacy else 8, 11, body))
r = kwire.Reader(kwire.recv_frame(s))
assert r.i32() == 11, "correlation id"
assert r.i32() == 1 and r.string() == topic and r.i32() == 1 and r.i32() == 0
out = {"error": r.i16(), "base_offset": r.i64()}
if legacy:
    print(json.dumps(out))
    sys.exit(0)
r.i64()
r.i64()
out["record_errors"] = r.array(lambda: [r.i32(), r.string()])
out["error_message"] = r.string()
print(json.dumps(out))
