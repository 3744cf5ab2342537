#!/usr/bin/python3
"""confluent-kafka (librdkafka) idempotent producer: N records "<tag>-<i>"
round-robin over P partitions (record i to partition i % P), small batches
so there are many Produce requests, then checks every delivery report:
no error, and per partition the offsets 0, 1, 2, ... in send order.
Prints TAP for run_client.

Usage: idempotent_producer.py BOOTSTRAP TOPIC N P TAG [PACE_EVERY PACE_MS]
(sleep PACE_MS after every PACE_EVERY records, so a test can act while the
producer is still running)."""
import sys
import time

from confluent_kafka import Producer

from taplib import Tap

boot, topic, n, nparts, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
pace_every = int(sys.argv[6]) if len(sys.argv) > 6 else 0
pace_ms = int(sys.argv[7]) if len(sys.argv) > 7 else 0
t = Tap()
t.plan(4)

reports = {}  # i -> (err, partition, offset)


def dr(err, msg):
    i = int(msg.value().decode().rsplit("-", 1)[1])
    reports[i] = (err, msg.partition(), msg.offset())


p = Producer({"bootstrap.servers": boot,
              "enable.idempotence": True,
              "linger.ms": 2,
              "batch.num.messages": 7,
              "retry.backoff.ms": 50,
              "reconnect.backoff.ms": 50,
              "reconnect.backoff.max.ms": 500,
              "message.timeout.ms": 90000,
              "socket.nagle.disable": True})
for i in range(n):
    while True:
        try:
            p.produce(topic, value=("%s-%d" % (tag, i)).encode(), partition=i % nparts,
                      on_delivery=dr)
            break
        except BufferError:
            p.poll(0.05)
    p.poll(0)
    if pace_every and i % pace_every == pace_every - 1:
        time.sleep(pace_ms / 1000.0)
left = p.flush(120)
t.is_(left, 0, "flush: every record of %s handed over" % tag)
t.is_(len(reports), n, "%d delivery reports" % n)
errs = [(i, str(r[0])) for i, r in sorted(reports.items()) if r[0] is not None]
t.ok(not errs, "no delivery errors (%s)" % (errs[:3],))
want = {}
bad = []
for i in range(n):
    r = reports.get(i)
    if r is None:
        continue
    part = i % nparts
    expect = want.get(part, 0)
    if r[1] != part or r[2] != expect:
        bad.append((i, r[1], r[2], part, expect))
    want[part] = expect + 1
t.ok(not bad, "each record acknowledged at the next offset of its partition, in send order "
     "(first mismatches: %s)" % (bad[:3],))
sys.exit(1 if t.failed else 0)
