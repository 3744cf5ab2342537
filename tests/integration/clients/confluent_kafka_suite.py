#!/usr/bin/python3
"""confluent-kafka (librdkafka) admin, producer and group-less consumer
checks for 011-confluent-kafka.t.  Usage: confluent_kafka_suite.py BOOTSTRAP

The broker runs with message.max.bytes=10000."""
import sys
import time

from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition, TIMESTAMP_CREATE_TIME)
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource,
                                   NewPartitions, NewTopic)

from taplib import Tap

BOOT = sys.argv[1]
T = Tap()
TOPIC = "cf1"
NPART = 4
# Recent (an hour ago, whole second) so retention.ms below does not delete
# the records, and fixed for the run so offsets_for_times has known answers.
BASE_TS = (int(time.time()) - 3600) * 1000

admin = AdminClient({"bootstrap.servers": BOOT})


def err_code(fut):
    """Result of an admin future as a KafkaError code (NO_ERROR on success)."""
    try:
        fut.result(timeout=30)
        return KafkaError.NO_ERROR
    except KafkaException as e:
        return e.args[0].code()


def topic_names():
    return set(admin.list_topics(timeout=30).topics.keys())


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


def src(e):
    """ConfigEntry.source is an int in some versions, an enum in others."""
    return int(getattr(e.source, "value", e.source))


def describe(topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return admin.describe_configs([res])[res].result(timeout=30)


# ------------------------------------------------------------- admin
def admin_checks():
    fs = admin.create_topics(
        [NewTopic(TOPIC, num_partitions=NPART, replication_factor=1,
                  config={"retention.ms": "86400000",
                          "segment.bytes": "1048576"})],
        operation_timeout=30)
    T.is_(err_code(fs[TOPIC]), KafkaError.NO_ERROR,
          "create_topics cf1 (4 partitions, retention.ms, segment.bytes)")

    fs = admin.create_topics([NewTopic("cf-validate", 2, 1)], validate_only=True)
    T.is_(err_code(fs["cf-validate"]), KafkaError.NO_ERROR,
          "create_topics validate_only succeeds")
    T.ok("cf-validate" not in topic_names(),
         "validate_only did not create the topic")

    fs = admin.create_topics([NewTopic(TOPIC, 1, 1)])
    T.is_(err_code(fs[TOPIC]), KafkaError.TOPIC_ALREADY_EXISTS,
          "creating an existing topic: TOPIC_ALREADY_EXISTS")

    fs = admin.create_topics([NewTopic("cf-rf3", 1, 3)])
    T.is_(err_code(fs["cf-rf3"]), KafkaError.INVALID_REPLICATION_FACTOR,
          "replication factor 3 on one broker: INVALID_REPLICATION_FACTOR")

    fs = admin.create_topics([NewTopic("cf-badcfg", 1, 1,
                                       config={"retention.ms": "soon"})])
    T.is_(err_code(fs["cf-badcfg"]), KafkaError.INVALID_CONFIG,
          "invalid topic config value: INVALID_CONFIG")

    md = admin.list_topics(timeout=30)
    t = md.topics.get(TOPIC)
    T.ok(t is not None and len(t.partitions) == NPART,
         "metadata shows cf1 with 4 partitions")
    T.ok(t is not None and all(p.leader == md.orig_broker_id or p.leader >= 0
                               for p in t.partitions.values()),
         "every partition has a leader")

    cfg = describe(TOPIC)
    e = cfg.get("retention.ms")
    T.ok(e is not None and e.value == "86400000"
         and src(e) == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
         "describe_configs: retention.ms=86400000 from DYNAMIC_TOPIC_CONFIG")
    if e is not None:
        T.diag("retention.ms: value=%r source=%r" % (e.value, e.source))
    e = cfg.get("segment.bytes")
    T.ok(e is not None and e.value == "1048576"
         and src(e) == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
         "describe_configs: segment.bytes=1048576 override")
    e = cfg.get("cleanup.policy")
    T.ok(e is not None and e.value == "delete" and e.is_default
         and src(e) == ConfigSource.DEFAULT_CONFIG.value,
         "describe_configs: cleanup.policy=delete is a default (DEFAULT_CONFIG)")
    e = cfg.get("max.message.bytes")
    T.ok(e is not None and e.value == "10000"
         and src(e) == ConfigSource.STATIC_BROKER_CONFIG.value,
         "describe_configs: max.message.bytes=10000 from the broker's "
         "message.max.bytes (STATIC_BROKER_CONFIG)")

    # AlterConfigs (non-incremental) replaces the whole override set.
    res = ConfigResource(ConfigResource.Type.TOPIC, TOPIC,
                         set_config={"retention.ms": "3600000"})
    T.is_(err_code(admin.alter_configs([res])[res]), KafkaError.NO_ERROR,
          "alter_configs retention.ms=3600000")
    cfg = describe(TOPIC)
    e = cfg.get("retention.ms")
    T.ok(e is not None and e.value == "3600000", "retention.ms is now 3600000")
    e = cfg.get("segment.bytes")
    T.ok(e is not None and e.value == "1073741824"
         and src(e) == ConfigSource.DEFAULT_CONFIG.value,
         "alter_configs dropped the segment.bytes override (back to default)")
    # Put the override back for the rest of the run (and 020's restart test
    # style checks).
    res = ConfigResource(ConfigResource.Type.TOPIC, TOPIC,
                         set_config={"retention.ms": "86400000",
                                     "segment.bytes": "1048576"})
    T.is_(err_code(admin.alter_configs([res])[res]), KafkaError.NO_ERROR,
          "alter_configs restores both overrides")

    fs = admin.create_topics([NewTopic("cf-grow", 2, 1)])
    T.is_(err_code(fs["cf-grow"]), KafkaError.NO_ERROR, "create_topics cf-grow")
    fs = admin.create_partitions([NewPartitions("cf-grow", 5)])
    T.is_(err_code(fs["cf-grow"]), KafkaError.NO_ERROR,
          "create_partitions cf-grow 2 -> 5")
    T.ok(wait_for(lambda: len(admin.list_topics("cf-grow", timeout=30)
                              .topics["cf-grow"].partitions) == 5),
         "metadata shows cf-grow with 5 partitions")
    fs = admin.create_partitions([NewPartitions("cf-grow", 3)])
    T.is_(err_code(fs["cf-grow"]), KafkaError.INVALID_PARTITIONS,
          "create_partitions 5 -> 3: INVALID_PARTITIONS")

    fs = admin.delete_topics(["cf-grow"], operation_timeout=30)
    T.is_(err_code(fs["cf-grow"]), KafkaError.NO_ERROR, "delete_topics cf-grow")
    T.ok(wait_for(lambda: "cf-grow" not in topic_names()),
         "cf-grow is gone from metadata")
    fs = admin.delete_topics(["cf-never-existed"], operation_timeout=30)
    T.is_(err_code(fs["cf-never-existed"]),
          KafkaError.UNKNOWN_TOPIC_OR_PART,
          "delete_topics of a missing topic: UNKNOWN_TOPIC_OR_PARTITION")


# ---------------------------------------------------------- produce
def record(p, i):
    key = b"k-%d-%03d" % (p, i)
    val = b"value-%d-%03d-" % (p, i) + bytes(range(256))[: (i * 7) % 256]
    hdrs = [("src", b"confluent"), ("seq", b"%d" % i), ("empty", b"")]
    return key, val, hdrs, BASE_TS + i * 1000


def produce_phase(acks, first, count):
    """Produce records first..first+count-1 to every partition; return the
    delivery reports per partition in delivery order."""
    prod = Producer({"bootstrap.servers": BOOT, "acks": acks,
                     "linger.ms": 5, "max.in.flight": 1})
    reports = {p: [] for p in range(NPART)}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            reports[msg.partition()].append((msg.offset(), msg.key()))

    for i in range(first, first + count):
        for p in range(NPART):
            k, v, h, ts = record(p, i)
            prod.produce(TOPIC, value=v, key=k, partition=p, headers=h,
                         timestamp=ts, on_delivery=on_delivery)
        prod.poll(0)
    left = prod.flush(30)
    T.ok(left == 0 and not errors,
         "acks=%s: %d records delivered without error" % (acks, count * NPART))
    if errors:
        T.diag("errors: %r" % errors[:5])
    return reports


def produce_checks():
    expected_end = 0
    for acks, count in (("all", 12), ("1", 6), ("0", 4)):
        reps = produce_phase(acks, expected_end, count)
        if acks == "0":
            # No response, so librdkafka cannot know the offsets.
            T.ok(all(len(reps[p]) == count for p in range(NPART)),
                 "acks=0: a delivery report for every record")
        else:
            good = all([o for o, _ in reps[p]] ==
                       list(range(expected_end, expected_end + count))
                       for p in range(NPART))
            T.ok(good, "acks=%s: offsets %d..%d contiguous on every partition"
                 % (acks, expected_end, expected_end + count - 1))
            if not good:
                T.diag(repr({p: [o for o, _ in reps[p]] for p in reps}))
            T.ok(all([k for _, k in reps[p]] ==
                     [record(p, i)[0] for i in range(expected_end, expected_end + count)]
                     for p in range(NPART)),
                 "acks=%s: delivery reports in produce order" % acks)
        expected_end += count
    return expected_end


# ----------------------------------------------------------- consume
def consume_all(n_per_part):
    cons = Consumer({"bootstrap.servers": BOOT,
                     "group.id": "unused-assign-only",
                     "enable.auto.commit": False,
                     "enable.auto.offset.store": False,
                     "enable.partition.eof": True,
                     "auto.offset.reset": "error"})
    cons.assign([TopicPartition(TOPIC, p, 0) for p in range(NPART)])
    got = {p: [] for p in range(NPART)}
    eof = set()
    other_errors = []
    end = time.time() + 60
    while len(eof) < NPART and time.time() < end:
        m = cons.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                if len(got[m.partition()]) >= n_per_part:
                    eof.add(m.partition())
            else:
                other_errors.append(m.error())
            continue
        got[m.partition()].append(m)
    T.ok(len(eof) == NPART, "consumer reached the end of all %d partitions" % NPART)
    if other_errors:
        T.diag("consumer errors: %r" % other_errors[:5])

    for p in range(NPART):
        msgs = got[p]
        T.is_([m.offset() for m in msgs], list(range(n_per_part)),
              "partition %d: offsets 0..%d in order" % (p, n_per_part - 1))
        want = [record(p, i) for i in range(n_per_part)]
        T.ok(len(msgs) == n_per_part and all(
            m.key() == k and m.value() == v and m.headers() == h
            and m.timestamp() == (TIMESTAMP_CREATE_TIME, ts)
            and m.topic() == TOPIC and m.partition() == p
            for m, (k, v, h, ts) in zip(msgs, want)),
            "partition %d: exact key, value, headers, timestamp" % p)
        if msgs and msgs[0].headers() != want[0][2]:
            T.diag("first headers: %r" % (msgs[0].headers(),))

    # A second assign from the middle.
    cons.assign([TopicPartition(TOPIC, 2, n_per_part - 3)])
    tail = []
    end = time.time() + 30
    while len(tail) < 3 and time.time() < end:
        m = cons.poll(1.0)
        if m is not None and not m.error():
            tail.append(m)
    T.is_([(m.offset(), m.key()) for m in tail],
          [(o, record(2, o)[0]) for o in range(n_per_part - 3, n_per_part)],
          "assign at offset %d reads the last 3 records" % (n_per_part - 3))

    # Watermarks and offsets_for_times.
    lo, hi = cons.get_watermark_offsets(TopicPartition(TOPIC, 1), timeout=30)
    T.is_((lo, hi), (0, n_per_part), "get_watermark_offsets(partition 1)")
    qs = [TopicPartition(TOPIC, 0, BASE_TS + 5 * 1000),        # exact hit
          TopicPartition(TOPIC, 1, BASE_TS + 7 * 1000 + 1),    # between
          TopicPartition(TOPIC, 2, BASE_TS - 1),               # before all
          TopicPartition(TOPIC, 3, BASE_TS + n_per_part * 1000)]  # after all
    res = cons.offsets_for_times(qs, timeout=30)
    T.is_([(r.partition, r.offset) for r in res],
          [(0, 5), (1, 8), (2, 0), (3, -1)],
          "offsets_for_times: first offset at or after the timestamp "
          "(-1 past the end)")
    cons.close()


def too_large():
    prod = Producer({"bootstrap.servers": BOOT, "acks": "all",
                     "message.max.bytes": 1000000})
    errs = []
    prod.produce(TOPIC, value=b"x" * 20000, key=b"big", partition=0,
                 on_delivery=lambda err, msg: errs.append(err))
    prod.flush(30)
    code = errs[0].code() if errs and errs[0] is not None else None
    T.is_(code, KafkaError.MSG_SIZE_TOO_LARGE,
          "20000-byte record over message.max.bytes=10000: MSG_SIZE_TOO_LARGE")
    lo, hi = Consumer({"bootstrap.servers": BOOT, "group.id": "unused"}) \
        .get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=30)
    return hi


def delete_records(n_per_part):
    if not hasattr(admin, "delete_records"):
        T.skip("delete_records", "confluent-kafka %s has no delete_records"
               % __import__("confluent_kafka").version()[0])
        return
    fs = admin.delete_records([TopicPartition(TOPIC, 3, 5)])
    ok = all(err_code(f) == KafkaError.NO_ERROR for f in fs.values())
    T.ok(ok, "delete_records before offset 5 on partition 3")


T.run("admin", admin_checks)
n = T.run("produce", produce_checks) or 22
T.run("consume", consume_all, n)
hi = T.run("message too large", too_large)
if hi is not None:
    T.is_(hi, n, "the rejected record did not change partition 0's end offset")
T.run("delete_records", delete_records, n)
sys.exit(0)
