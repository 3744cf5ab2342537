"""__consumer_offsets read back with confluent-kafka and decoded with
Kafka's record formats (written here from the group-coordinator schemas,
independently of the broker's code).

usage: offsets_topic_suite.py BOOTSTRAP PHASE
  write   commit offsets for a simple group and for a static member group
  decode  read every partition of __consumer_offsets, decode every record,
          check the records, their partition (abs(hashCode) % 50) and that
          the group state matches
  after   (after kill -9 + restart) committed offsets and the group's
          members are back
"""
import struct
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from taplib import Tap

BOOT = sys.argv[1]
PHASE = sys.argv[2]
t = Tap()
TOPIC = "ot"
SIMPLE = "simple-g"
MEMBER = "member-g"


def java_hash(s):
    b = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(b), 2):
        h = (31 * h + int.from_bytes(b[i:i + 2], "big")) & 0xffffffff
    return h - (1 << 32) if h >= 1 << 31 else h


def partition_for(group, n=50):
    h = java_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % n


class R:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.p)
        self.p += struct.calcsize(fmt)
        return v[0]

    def string(self, nullable=False):
        n = self.take(">h")
        if n < 0:
            assert nullable
            return None
        s = self.b[self.p:self.p + n].decode()
        self.p += n
        return s

    def bytes_(self):
        n = self.take(">i")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v


def decode(key, value):
    r = R(key)
    kv = r.take(">h")
    if kv in (0, 1):
        k = ("offset", r.string(), r.string(), r.take(">i"))
        if value is None:
            return k, None
        v = R(value)
        vv = v.take(">h")
        off = v.take(">q")
        epoch = v.take(">i") if vv >= 3 else -1
        md = v.string()
        ts = v.take(">q")
        exp = v.take(">q") if vv == 1 else -1
        return k, {"version": vv, "offset": off, "epoch": epoch, "metadata": md,
                   "commit_ts": ts, "expire_ts": exp}
    if kv == 2:
        k = ("group", r.string())
        if value is None:
            return k, None
        v = R(value)
        vv = v.take(">h")
        g = {"version": vv, "protocol_type": v.string(), "generation": v.take(">i"),
             "protocol": v.string(True), "leader": v.string(True)}
        g["state_ts"] = v.take(">q") if vv >= 2 else -1
        members = []
        for _ in range(v.take(">i")):
            m = {"member_id": v.string()}
            m["instance"] = v.string(True) if vv >= 3 else None
            m["client_id"] = v.string()
            m["client_host"] = v.string()
            m["rebalance_timeout"] = v.take(">i") if vv >= 1 else -1
            m["session_timeout"] = v.take(">i")
            m["subscription"] = v.bytes_()
            m["assignment"] = v.bytes_()
            members.append(m)
        g["members"] = members
        t.is_(v.p, len(value), "group value v%d decodes to its last byte" % vv)
        return k, g
    return ("other", kv), value


def phase_write():
    a = AdminClient({"bootstrap.servers": BOOT})
    for f in a.create_topics([NewTopic(TOPIC, 3, 1)]).values():
        f.result(30)
    p = Producer({"bootstrap.servers": BOOT})
    for part in range(3):
        for i in range(5):
            p.produce(TOPIC, value=b"x", partition=part)
    t.is_(p.flush(30), 0, "records produced")
    # a simple (group-less) committer
    c = Consumer({"bootstrap.servers": BOOT, "group.id": SIMPLE, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(TOPIC, part, 2 + part) for part in range(3)],
             asynchronous=False)
    # librdkafka 2.0 cannot set commit metadata from python 1.7: check the
    # committed offsets only
    got = c.committed([TopicPartition(TOPIC, part) for part in range(3)], 10)
    t.is_([x.offset for x in got], [2, 3, 4], "simple group committed 2,3,4")
    c.close()
    # a static member that consumes everything, commits, and stays a member
    m = Consumer({"bootstrap.servers": BOOT, "group.id": MEMBER, "group.instance.id": "i-1",
                  "client.id": "offsets-suite", "session.timeout.ms": 45000,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    m.subscribe([TOPIC])
    n, end = 0, time.time() + 30
    while n < 15 and time.time() < end:
        msg = m.poll(0.5)
        if msg is not None and not msg.error():
            n += 1
    t.is_(n, 15, "member consumed all 15 records")
    m.commit(asynchronous=False)
    got = m.committed([TopicPartition(TOPIC, part) for part in range(3)], 10)
    t.is_([x.offset for x in got], [5, 5, 5], "member group committed 5,5,5")
    m.close()  # static: no LeaveGroup, the member stays until its session expires
    # clients cannot write into the coordinator's log
    errs = []
    pr = Producer({"bootstrap.servers": BOOT, "retries": 0})
    pr.produce("__consumer_offsets", value=b"junk", partition=0,
               on_delivery=lambda e, msg: errs.append(e))
    pr.flush(30)
    t.is_([e.code() if e else None for e in errs], [17],
          "produce to __consumer_offsets: INVALID_TOPIC_EXCEPTION")


def read_topic():
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "reader-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    md = c.list_topics("__consumer_offsets", 10).topics["__consumer_offsets"]
    nparts = len(md.partitions)
    c.assign([TopicPartition("__consumer_offsets", p, 0) for p in range(nparts)])
    recs, eof, end = [], set(), time.time() + 30
    while len(eof) < nparts and time.time() < end:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            eof.add(msg.partition())
            continue
        recs.append((msg.partition(), msg.offset(), msg.key(), msg.value()))
    c.close()
    return nparts, recs


def phase_decode():
    nparts, recs = read_topic()
    t.is_(nparts, 50, "__consumer_offsets has offsets.topic.num.partitions=50 partitions")
    offsets, groups, misplaced = {}, {}, []
    for part, off, key, value in recs:
        k, v = decode(key, value)
        if k[0] == "offset":
            offsets[(k[1], k[2], k[3])] = v
            if partition_for(k[1]) != part:
                misplaced.append(k)
        elif k[0] == "group":
            groups[k[1]] = v
            if partition_for(k[1]) != part:
                misplaced.append(k)
    t.is_(misplaced, [], "every record is in partition abs(hashCode(group)) % 50")
    simple = {k[2]: v["offset"] for k, v in offsets.items() if k[0] == SIMPLE and v}
    t.is_(simple, {0: 2, 1: 3, 2: 4}, "simple group's OffsetCommit records")
    sv = [v for k, v in offsets.items() if k[0] == SIMPLE and v]
    t.ok(all(v["version"] == 3 and v["metadata"] == "" and v["expire_ts"] == -1 and
             abs(v["commit_ts"] - time.time() * 1000) < 600000 for v in sv),
         "offset values are v3 with commit timestamps")
    member = {k[2]: v["offset"] for k, v in offsets.items() if k[0] == MEMBER and v}
    t.is_(member, {0: 5, 1: 5, 2: 5}, "member group's OffsetCommit records")
    g = groups.get(MEMBER)
    t.ok(g is not None, "GroupMetadata record for the member group")
    if g:
        t.is_((g["version"], g["protocol_type"], g["protocol"]), (3, "consumer", "range"),
              "group value v3, consumer protocol, range")
        t.ok(g["generation"] >= 1, "generation %d" % g["generation"])
        t.is_([(m["instance"], m["client_id"], m["client_host"], m["session_timeout"])
               for m in g["members"]],
              [("i-1", "offsets-suite", "/127.0.0.1", 45000)], "the static member")
        t.is_(g["leader"], g["members"][0]["member_id"] if g["members"] else None,
              "leader is the member")
        # ConsumerProtocolAssignment: version, [topic [partitions]], userdata
        a = R(g["members"][0]["assignment"]) if g["members"] else None
        if a:
            a.take(">h")
            topics = {}
            for _ in range(a.take(">i")):
                name = a.string()
                topics[name] = sorted(a.take(">i") for _ in range(a.take(">i")))
            t.is_(topics, {TOPIC: [0, 1, 2]}, "stored assignment: all of ot")


def phase_after():
    c = Consumer({"bootstrap.servers": BOOT, "group.id": SIMPLE, "enable.auto.commit": False})
    got = c.committed([TopicPartition(TOPIC, part) for part in range(3)], 10)
    t.is_([x.offset for x in got], [2, 3, 4], "simple group's offsets after kill -9")
    c.close()
    c = Consumer({"bootstrap.servers": BOOT, "group.id": MEMBER, "enable.auto.commit": False})
    got = c.committed([TopicPartition(TOPIC, part) for part in range(3)], 10)
    t.is_([x.offset for x in got], [5, 5, 5], "member group's offsets after kill -9")
    c.close()
    from kafka import KafkaAdminClient
    adm = KafkaAdminClient(bootstrap_servers=BOOT)
    d = adm.describe_consumer_groups([MEMBER])[0]
    t.is_((d.state, d.protocol_type, d.protocol), ("Stable", "consumer", "range"),
          "member group loaded as Stable")
    t.is_([(m.client_id, m.client_host) for m in d.members], [("offsets-suite", "/127.0.0.1")],
          "with its static member")
    t.is_(sorted(m.member_assignment.assignment[0][1] for m in d.members
                 if m.member_assignment)[0] if d.members else None,
          [0, 1, 2], "and its assignment")
    groups = sorted(g[0] for g in adm.list_consumer_groups())
    t.ok(SIMPLE in groups and MEMBER in groups, "ListGroups has both groups %r" % groups)
    adm.close()


{"write": phase_write, "decode": phase_decode, "after": phase_after}[PHASE]()
sys.exit(1 if t.failed else 0)
