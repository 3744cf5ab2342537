#!/usr/bin/python3
"""Produce COUNT records (acks=all) round-robin over PARTITIONS partitions
and append "partition offset index" to ACKED for each acknowledged one, as
soon as it is acknowledged.  Used by 021-kill9.t, which kills the broker
mid-stream.  Usage: acked_producer.py BOOT TOPIC PARTITIONS COUNT ACKED"""
import sys

from confluent_kafka import Producer

boot, topic, nparts, count, acked = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
out = open(acked, "a", buffering=1)


def value(i):
    return (b"rec-%06d-" % i) + b"abcdefghij" * (i % 20)


def on_delivery(err, msg):
    if err is None:
        out.write("%d %d %s\n" % (msg.partition(), msg.offset(), msg.key().decode()))


p = Producer({"bootstrap.servers": boot, "acks": "all", "linger.ms": 1,
              "message.timeout.ms": 6000, "retries": 2,
              "max.in.flight": 5, "batch.num.messages": 20})
for i in range(count):
    while True:
        try:
            p.produce(topic, key=b"%d" % i, value=value(i), partition=i % nparts,
                      on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.05)
    # Paced (~2.5 s for 2000 records) so the test can kill the broker in
    # the middle of the stream even when the broker is fast.
    p.poll(0.0125 if i % 10 == 9 else 0)
p.flush(30)
out.close()
