#!/usr/bin/python3
"""kafka-python checks for 012-kafka-python.t: admin create/delete topics,
keyed records with headers, a group-less consumer (group_id=None, assign,
seek_to_beginning), offsets_for_times and beginning/end offsets.
Usage: kafka_python_suite.py BOOTSTRAP"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from taplib import Tap

BOOT = sys.argv[1]
T = Tap()
TOPIC = "kp1"
NPART = 3
N = 15
# Recent, so the topic's retention.ms does not delete the records.
BASE_TS = (int(time.time()) - 300) * 1000


def create(topic):
    """Error code of creating one topic (kafka-python 2.0.2 raises on a
    topic error, older versions return it in the response)."""
    try:
        resp = admin.create_topics([topic], timeout_ms=30000)
    except KafkaError as e:
        return e.errno
    for t in resp.topic_errors:
        if t[0] == topic.name:
            return t[1]
    return None


def record(p, i):
    return (b"kp-%d-%02d" % (p, i),
            ("v\u00e9-%d-%02d-" % (p, i)).encode() + b"\x00\xff" * i,
            [("n", b"%d" % i), ("p", b"%d" % p)],
            BASE_TS + i * 10)


admin = KafkaAdminClient(bootstrap_servers=BOOT, request_timeout_ms=30000)


def admin_checks():
    T.is_(create(NewTopic(TOPIC, NPART, 1,
                          topic_configs={"retention.ms": "3600000"})), 0,
          "create_topics kp1 with 3 partitions")
    T.is_(create(NewTopic(TOPIC, NPART, 1)), 36,
          "create again: TOPIC_ALREADY_EXISTS (36)")
    T.is_(create(NewTopic("kp-zero", 0, 1)), 37,
          "0 partitions: INVALID_PARTITIONS (37)")
    T.is_(create(NewTopic("kp-neg-rf", 1, 0)), 38,
          "replication factor 0: INVALID_REPLICATION_FACTOR (38)")
    T.ok(TOPIC in admin.list_topics() and "kp-zero" not in admin.list_topics(),
         "list_topics has kp1 and not kp-zero")


def produce_checks():
    prod = KafkaProducer(bootstrap_servers=BOOT, acks="all", linger_ms=5,
                         max_in_flight_requests_per_connection=1)
    futs = []
    for i in range(N):
        for p in range(NPART):
            k, v, h, ts = record(p, i)
            futs.append((p, i, prod.send(TOPIC, key=k, value=v, headers=h,
                                         partition=p, timestamp_ms=ts)))
    prod.flush(30)
    metas = [(p, i, f.get(timeout=30)) for p, i, f in futs]
    T.ok(all(m.topic == TOPIC and m.partition == p and m.offset == i
             for p, i, m in metas),
         "RecordMetadata: partition p, offset i for the i-th record")
    T.ok(all(m.timestamp == record(p, i)[3] for p, i, m in metas),
         "RecordMetadata timestamps are the CreateTime sent")
    prod.close(10)


def consume_checks():
    cons = KafkaConsumer(bootstrap_servers=BOOT, group_id=None,
                         enable_auto_commit=False, consumer_timeout_ms=2000)
    tps = [TopicPartition(TOPIC, p) for p in range(NPART)]
    cons.assign(tps)
    cons.seek_to_beginning()
    got = {p: [] for p in range(NPART)}
    end = time.time() + 60
    while sum(len(v) for v in got.values()) < N * NPART and time.time() < end:
        for tp, recs in cons.poll(timeout_ms=1000).items():
            got[tp.partition].extend(recs)
    for p in range(NPART):
        recs = got[p]
        T.is_([r.offset for r in recs], list(range(N)),
              "partition %d: offsets 0..%d in order" % (p, N - 1))
        want = [record(p, i) for i in range(N)]
        good = len(recs) == N and all(
            r.key == k and r.value == v and list(r.headers) == h
            and r.timestamp == ts and r.timestamp_type == 0
            for r, (k, v, h, ts) in zip(recs, want))
        T.ok(good, "partition %d: exact keys, values, headers, timestamps" % p)
        if not good and recs:
            T.diag("first: %r" % (recs[0],))

    T.is_(cons.beginning_offsets(tps), {tp: 0 for tp in tps},
          "beginning_offsets are 0")
    T.is_(cons.end_offsets(tps), {tp: N for tp in tps},
          "end_offsets are %d" % N)
    q = {tps[0]: BASE_TS + 40, tps[1]: BASE_TS + 41, tps[2]: BASE_TS + N * 10}
    r = cons.offsets_for_times(q)
    got = {tp.partition: (v.offset, v.timestamp) if v else None
           for tp, v in r.items()}
    T.is_(got, {0: (4, BASE_TS + 40), 1: (5, BASE_TS + 50), 2: None},
          "offsets_for_times: exact, in-between and past-the-end timestamps")

    cons.seek(tps[1], 10)
    recs = []
    end = time.time() + 30
    while len(recs) < N - 10 and time.time() < end:
        for tp, rs in cons.poll(timeout_ms=1000).items():
            recs.extend(r for r in rs if tp.partition == 1)
    T.is_([r.offset for r in recs], list(range(10, N)), "seek(partition 1, 10)")
    cons.close()


def delete_checks():
    try:
        r = admin.delete_topics([TOPIC], timeout_ms=30000)
        errs = [e for _, e in r.topic_error_codes]
    except KafkaError as e:
        errs = [e.errno]
    T.is_(errs, [0], "delete_topics kp1")
    end = time.time() + 10
    while TOPIC in admin.list_topics() and time.time() < end:
        time.sleep(0.2)
    T.ok(TOPIC not in admin.list_topics(), "kp1 is gone")


T.run("admin", admin_checks)
T.run("produce", produce_checks)
T.run("consume", consume_checks)
T.run("delete", delete_checks)
admin.close()
