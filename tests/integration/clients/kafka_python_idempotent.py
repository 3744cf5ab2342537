#!/usr/bin/python3
"""kafka-python idempotent writes.  kafka-python 2.0.2 (Debian 12) has no
idempotent producer (enable_idempotence came in 2.1), so this plays one
with its own pieces: a producer id from InitProducerId (sent raw: 2.0.2
has no class for it), batches from its DefaultRecordBatchBuilder with
producer id/epoch/sequence, sent by its KafkaClient as ProduceRequest v7,
every third batch sent twice (a retry after a lost response) and, at the
end, an older batch still among the last 5 resent.  Then its KafkaConsumer
reads the partition back: every record once, in order.  Prints TAP.
Usage: kafka_python_idempotent.py PORT TOPIC N_BATCHES"""
import struct
import sys

from kafka import KafkaConsumer, TopicPartition
from kafka.client_async import KafkaClient
from kafka.protocol.produce import ProduceRequest
from kafka.record.default_records import DefaultRecordBatchBuilder

import kwire
from taplib import Tap

PORT, TOPIC, NB = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
PER = 4
t = Tap()
t.plan(6)

# InitProducerId v1 over a plain socket.
s = kwire.connect(PORT)
s.sendall(kwire.request(22, 1, 1, kwire.string(None) + kwire.i32(60000)))
r = kwire.Reader(kwire.recv_frame(s))
r.i32()
r.i32()
err, pid, epoch = r.i16(), r.i64(), r.i16()
s.close()
t.ok(err == 0 and pid >= 0 and epoch == 0, "InitProducerId: producer id %d epoch %d" % (pid, epoch))


def batch(i):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=i * PER,
                                  batch_size=1 << 20)
    for k in range(PER):
        b.append(k, timestamp=None, key=None, value=b"kp-%d" % (i * PER + k), headers=[])
    return bytes(b.build())


client = KafkaClient(bootstrap_servers="127.0.0.1:%d" % PORT, client_id="kp-idempotent",
                     api_version=(2, 1, 0))
client.add_topic(TOPIC)
client.poll(future=client.cluster.request_update())
node = client.cluster.leader_for_partition(TopicPartition(TOPIC, 0))
while not client.ready(node):
    client.poll(timeout_ms=100)


def send(records):
    f = client.send(node, ProduceRequest[7](transactional_id=None, required_acks=-1,
                                            timeout=30000, topics=[(TOPIC, [(0, records)])]))
    client.poll(future=f)
    part = f.value.topics[0][1][0]
    return part[1], part[2]  # error, base offset


bad, retried = [], 0
for i in range(NB):
    b = batch(i)
    got = send(b)
    if got != (0, i * PER):
        bad.append((i, got))
    if i % 3 == 1:
        retried += 1
        again = send(b)
        if again != (0, i * PER):
            bad.append((i, "retry", again))
t.ok(not bad, "%d batches stored at offsets 0, %d, ...; %d retries answered with the original "
     "offsets (mismatches: %s)" % (NB, PER, retried, bad[:3]))
old = NB - 4
t.is_(send(batch(old)), (0, old * PER), "batch %d (4th newest) resent: its original offset" % old)
t.is_(send(batch(NB - 6))[0], 45, "batch %d (6th newest) resent: OUT_OF_ORDER_SEQUENCE_NUMBER" % (NB - 6))
client.close()

c = KafkaConsumer(bootstrap_servers="127.0.0.1:%d" % PORT, enable_auto_commit=False,
                  consumer_timeout_ms=3000, api_version=(2, 1, 0))
tp = TopicPartition(TOPIC, 0)
c.assign([tp])
c.seek_to_beginning(tp)
got = [(m.offset, m.value.decode()) for m in c]
c.close()
t.is_(len(got), NB * PER, "kafka-python consumer reads %d records" % (NB * PER))
t.ok(got == [(o, "kp-%d" % o) for o in range(NB * PER)],
     "each record once, in order, at contiguous offsets")
sys.exit(1 if t.failed else 0)
