#!/usr/bin/python3
"""__consumer_offsets under the log cleaner (064-compaction-offsets-topic.t).
The broker runs with offsets.topic.num.partitions=1, so every group's
records are in partition 0.  Keys and values are decoded with Kafka's
record formats (written from the group-coordinator schemas).

  commit BOOT GROUP N       GROUP commits offsets 1..N for oc-0..oc-2, one
                            synchronous OffsetCommit each (N records per
                            partition); committed() must give N
  delete BOOT GROUP         DeleteGroups (kafka-python): tombstones
  decode BOOT ACTIVE GROUP N GONE MODE
                            reads partition 0: below offset ACTIVE (the
                            active segment's base) no key appears twice;
                            GROUP's latest offsets are N; GONE's records are
                            all tombstones (MODE=tombstones) or absent
                            (MODE=absent); prints the record count
  after BOOT GROUP N        committed() gives N (after a restart)
"""
import struct
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from taplib import Tap

t = Tap()
TOPIC = "oc"
OFFSETS = "__consumer_offsets"


def key_of(key):
    """("offset", group, topic, partition) or ("group", group)."""
    version = struct.unpack_from(">h", key, 0)[0]
    pos = 2

    def string():
        nonlocal pos
        n = struct.unpack_from(">h", key, pos)[0]
        s = key[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        return s
    if version in (0, 1):
        group, topic = string(), string()
        return ("offset", group, topic, struct.unpack_from(">i", key, pos)[0])
    if version == 2:
        return ("group", string())
    return ("other", version)


def committed_offset(value):
    # OffsetCommitValue: version int16, offset int64, ...
    return struct.unpack_from(">q", value, 2)[0]


def commit(boot, group, n):
    a = AdminClient({"bootstrap.servers": boot})
    for f in a.create_topics([NewTopic(TOPIC, 3, 1)]).values():
        try:
            f.result(30)
        except Exception:
            pass  # already there from an earlier phase
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
    for i in range(1, n + 1):
        c.commit(offsets=[TopicPartition(TOPIC, p, i) for p in range(3)], asynchronous=False)
    got = c.committed([TopicPartition(TOPIC, p) for p in range(3)], 10)
    t.is_([x.offset for x in got], [n] * 3, "%s committed offsets 1..%d (%d commits)" %
          (group, n, n))
    c.close()


def delete(boot, group):
    from kafka import KafkaAdminClient
    adm = KafkaAdminClient(bootstrap_servers=boot)
    res = adm.delete_consumer_groups([group])
    t.is_([(g, e.__name__ if isinstance(e, type) else type(e).__name__) for g, e in res],
          [(group, "NoError")], "DeleteGroups %s" % group)
    adm.close()


def read_partition(boot):
    c = Consumer({"bootstrap.servers": boot, "group.id": "oc-reader",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    lo, hi = c.get_watermark_offsets(TopicPartition(OFFSETS, 0), timeout=10)
    c.assign([TopicPartition(OFFSETS, 0, 0)])
    recs, end = [], time.time() + 60
    while hi > 0 and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise RuntimeError(str(m.error()))
        recs.append((m.offset(), m.key(), m.value()))
    c.close()
    return recs, hi


def decode(boot, active, group, n, gone, mode):
    recs, hi = read_partition(boot)
    seen, dups, latest = set(), [], {}
    prev, order = -1, True
    for off, key, value in recs:
        if off <= prev:
            order = False
        prev = off
        k = key_of(key)
        if off < active:
            if k in seen:
                dups.append((off, k))
            seen.add(k)
        latest[k] = value
    t.ok(order and recs and recs[-1][0] == hi - 1,
         "read %d records up to the high watermark %d in offset order" % (len(recs), hi))
    t.is_(dups[:3], [], "below the active segment (offset %d) no key appears twice" % active)
    mine = {k[3]: committed_offset(v) for k, v in latest.items()
            if k[0] == "offset" and k[1] == group and k[2] == TOPIC and v is not None}
    t.is_(mine, {0: n, 1: n, 2: n}, "%s's latest commits survive: %d on every partition" %
          (group, n))
    theirs = [(k, v) for k, v in latest.items() if k[1] == gone]
    if mode == "tombstones":
        t.ok(theirs and all(v is None for k, v in theirs),
             "deleted group %s: only tombstones left (%d)" % (gone, len(theirs)))
    else:
        t.is_(theirs, [], "deleted group %s: its tombstones are gone too" % gone)
    print("# records=%d hw=%d" % (len(recs), hi))


def after(boot, group, n):
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
    got = c.committed([TopicPartition(TOPIC, p) for p in range(3)], 10)
    t.is_([x.offset for x in got], [n] * 3, "%s's offsets after the restart: %d" % (group, n))
    c.close()


def main(argv):
    cmd, boot = argv[1], argv[2]
    if cmd == "commit":
        commit(boot, argv[3], int(argv[4]))
    elif cmd == "delete":
        delete(boot, argv[3])
    elif cmd == "decode":
        decode(boot, int(argv[3]), argv[4], int(argv[5]), argv[6], argv[7])
    elif cmd == "after":
        after(boot, argv[3], int(argv[4]))
    else:
        raise SystemExit("unknown command " + cmd)
    sys.exit(1 if t.failed else 0)


main(sys.argv)
