"""confluent-kafka (librdkafka) consumer groups against sluiced.

usage: group_suite.py BOOTSTRAP PHASE
  PHASE assign     groups of 3 consumers on 6 partitions with the range,
                   roundrobin and cooperative-sticky client assignors: each
                   partition owned by exactly one member, hand-over when a
                   member leaves, every record consumed exactly once
  PHASE commit     a group consumes half of each partition and commits
  PHASE resume     after a broker restart the group resumes exactly at the
                   committed offsets: nothing lost, nothing re-delivered
  PHASE static     static members (group.instance.id): a restart within the
                   session timeout keeps its partitions, the others are not
                   revoked
"""
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from taplib import Tap

BOOT = sys.argv[1]
PHASE = sys.argv[2]
t = Tap()
NPART = 6
PER_PART = 20


def create_topic(name, nparts=NPART):
    a = AdminClient({"bootstrap.servers": BOOT})
    fs = a.create_topics([NewTopic(name, nparts, 1)])
    for f in fs.values():
        f.result(30)


def produce(topic, first, count):
    p = Producer({"bootstrap.servers": BOOT, "acks": "all", "linger.ms": 5})
    for part in range(NPART):
        for i in range(first, first + count):
            p.produce(topic, key=b"k-%d-%d" % (part, i), value=b"v-%d-%d" % (part, i),
                      partition=part)
    left = p.flush(30)
    t.is_(left, 0, "%s: %d records per partition produced" % (topic, count))


class Member:
    """One consumer polled on its own thread, recording what it owns and
    what it received (keys per partition, in order)."""

    def __init__(self, group, topic, strategy, instance=None, session_ms=6000, name="",
                 commit_each=False):
        conf = {
            "bootstrap.servers": BOOT,
            "group.id": group,
            "partition.assignment.strategy": strategy,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": session_ms,
            "heartbeat.interval.ms": 300,
            "client.id": name or "member",
        }
        if instance:
            conf["group.instance.id"] = instance
        self.c = Consumer(conf)
        self.cooperative = strategy == "cooperative-sticky"
        self.owned = set()
        self.revoked = 0
        self.assigned_events = 0
        self.got = {}
        self.lock = threading.Lock()
        self.stop = False
        self.closed = False
        # Set before the poll thread starts: a flag set later races the first
        # records (a loaded machine may read a whole partition before it).
        self.commit_each = commit_each
        self.c.subscribe([topic], on_assign=self._assign, on_revoke=self._revoke)
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _assign(self, c, parts):
        with self.lock:
            self.assigned_events += 1
            if self.cooperative:
                c.incremental_assign(parts)
                self.owned |= {p.partition for p in parts}
            else:
                c.assign(parts)
                self.owned = {p.partition for p in parts}

    def _revoke(self, c, parts):
        with self.lock:
            if parts:
                self.revoked += 1
            if self.cooperative:
                c.incremental_unassign(parts)
                self.owned -= {p.partition for p in parts}
            else:
                c.unassign()
                self.owned = set()

    def _run(self):
        while not self.stop:
            m = self.c.poll(0.1)
            if m is None or m.error():
                continue
            with self.lock:
                self.got.setdefault(m.partition(), []).append((m.offset(), m.key()))
            if self.commit_each:
                self.c.commit(message=m, asynchronous=False)

    def close(self):
        self.stop = True
        self.th.join(10)
        self.c.close()
        self.closed = True

    def snapshot(self):
        with self.lock:
            return set(self.owned)


def wait(pred, timeout=40.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def partitioned(members, nparts=NPART):
    """Every partition owned by exactly one of members."""
    owned = [m.snapshot() for m in members]
    allp = [p for o in owned for p in o]
    return sorted(allp) == list(range(nparts)) and all(owned)


def phase_assign():
    for strategy in ("range", "roundrobin", "cooperative-sticky"):
        topic = "grp-" + strategy.replace("-", "")
        group = "g-" + strategy
        create_topic(topic)
        ms = [Member(group, topic, strategy, name="%s-%d" % (strategy, i)) for i in range(3)]
        t.ok(wait(lambda: partitioned(ms)),
             "%s: 3 members own the 6 partitions exactly once %r" %
             (strategy, [sorted(m.snapshot()) for m in ms]))
        t.is_(sorted(len(m.snapshot()) for m in ms), [2, 2, 2],
              "%s: two partitions each" % strategy)
        # Produced once the group is stable, so each record has one owner.
        produce(topic, 0, PER_PART)

        def all_consumed():
            n = 0
            for m in ms:
                with m.lock:
                    n += sum(len(v) for v in m.got.values())
            return n >= NPART * PER_PART
        t.ok(wait(all_consumed), "%s: every record consumed" % strategy)
        # exactly once: no partition read by two members, offsets 0..19
        seen = {}
        dup = False
        for m in ms:
            with m.lock:
                for p, recs in m.got.items():
                    if p in seen:
                        dup = True
                    seen[p] = recs
        t.ok(not dup, "%s: no partition delivered to two members" % strategy)
        t.is_(sorted(seen), list(range(NPART)), "%s: all partitions delivered" % strategy)
        t.ok(all([o for o, _ in seen[p]] == list(range(PER_PART)) and
                 [k for _, k in seen[p]] == [b"k-%d-%d" % (p, i) for i in range(PER_PART)]
                 for p in seen),
             "%s: offsets 0..%d with their keys, in order" % (strategy, PER_PART - 1))
        # commit what was read, then one member leaves: hand-over
        for m in ms:
            with m.lock:
                offs = [TopicPartition(topic, p, recs[-1][0] + 1) for p, recs in m.got.items()]
            if offs:
                m.c.commit(offsets=offs, asynchronous=False)
        gone = ms[0].snapshot()
        ms[0].close()
        rest = ms[1:]
        t.ok(wait(lambda: partitioned(rest)),
             "%s: after a member left, the other two own all partitions %r" %
             (strategy, [sorted(m.snapshot()) for m in rest]))
        t.ok(gone <= (rest[0].snapshot() | rest[1].snapshot()),
             "%s: the leaver's partitions %r were handed over" % (strategy, sorted(gone)))
        # new records after the hand-over go to the new owners, exactly once
        before = {id(m): {p: len(v) for p, v in m.got.items()} for m in rest}
        produce(topic, PER_PART, 5)

        def new_consumed():
            n = 0
            for m in rest:
                with m.lock:
                    n += sum(len(v) - before[id(m)].get(p, 0) for p, v in m.got.items())
            return n >= NPART * 5
        t.ok(wait(new_consumed), "%s: records after hand-over consumed" % strategy)
        fresh = {}
        for m in rest:
            with m.lock:
                for p, v in m.got.items():
                    new = v[before[id(m)].get(p, 0):]
                    if new:
                        fresh.setdefault(p, []).extend(o for o, _ in new)
        t.is_({p: sorted(v) for p, v in fresh.items()},
              {p: list(range(PER_PART, PER_PART + 5)) for p in range(NPART)},
              "%s: new owners start at the committed offsets (20..24, nothing again)" % strategy)
        for m in rest:
            m.close()


RESUME_TOPIC = "grp-resume"
RESUME_GROUP = "g-resume"


def phase_commit():
    create_topic(RESUME_TOPIC)
    produce(RESUME_TOPIC, 0, PER_PART)
    # reads 10 records per partition, committing each one synchronously
    m = Member(RESUME_GROUP, RESUME_TOPIC, "range", name="resume-1", commit_each=True)
    t.ok(wait(lambda: partitioned([m])), "resume: one member owns all partitions")

    def ten_each():
        with m.lock:
            return all(len(m.got.get(p, [])) >= 10 for p in range(NPART))
    t.ok(wait(ten_each), "resume: 10 records per partition read")
    m.stop = True
    m.th.join(10)
    with m.lock:
        last = {p: m.got[p][-1][0] for p in range(NPART)}
    committed = m.c.committed([TopicPartition(RESUME_TOPIC, p) for p in range(NPART)], 10)
    t.is_({tp.partition: tp.offset for tp in committed}, {p: last[p] + 1 for p in range(NPART)},
          "resume: committed offsets are last read + 1")
    with open(sys.argv[3], "w") as f:
        for p in range(NPART):
            f.write("%d %d\n" % (p, last[p] + 1))
    m.c.close()


def phase_resume():
    want = {}
    with open(sys.argv[3]) as f:
        for line in f:
            p, o = line.split()
            want[int(p)] = int(o)
    c = Consumer({"bootstrap.servers": BOOT, "group.id": RESUME_GROUP,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    committed = c.committed([TopicPartition(RESUME_TOPIC, p) for p in range(NPART)], 10)
    t.is_({tp.partition: tp.offset for tp in committed}, want,
          "resume: committed offsets survived the broker restart")
    c.close()
    m = Member(RESUME_GROUP, RESUME_TOPIC, "range", name="resume-2")

    def rest():
        with m.lock:
            return all(len(m.got.get(p, [])) >= PER_PART - want[p] for p in range(NPART))
    t.ok(wait(rest), "resume: the rest of every partition read")
    time.sleep(0.5)
    with m.lock:
        got = {p: [o for o, _ in m.got.get(p, [])] for p in range(NPART)}
    t.is_(got, {p: list(range(want[p], PER_PART)) for p in range(NPART)},
          "resume: restarted exactly at the committed offsets, nothing lost or repeated")
    m.close()


def phase_static():
    topic, group = "grp-static", "g-static"
    create_topic(topic)
    ms = [Member(group, topic, "range", instance="inst-%d" % i, session_ms=15000,
                 name="static-%d" % i) for i in range(3)]
    t.ok(wait(lambda: partitioned(ms)), "static: 3 static members own the 6 partitions")
    before = [m.snapshot() for m in ms]
    revoked_before = [m.revoked for m in ms]
    assigned_before = [m.assigned_events for m in ms]
    # Restart member 2: close (a static member does not leave the group) and
    # come back with the same instance id within the session timeout.
    ms[2].close()
    time.sleep(1.0)
    t.is_([ms[0].snapshot(), ms[1].snapshot()], before[:2],
          "static: the others keep their partitions while member 2 is away")
    back = Member(group, topic, "range", instance="inst-2", session_ms=15000, name="static-2b")
    t.ok(wait(lambda: back.snapshot() == before[2], 20),
         "static: the restarted member gets its partitions %r back" % sorted(before[2]))
    time.sleep(2.0)
    t.is_([m.revoked for m in ms[:2]], revoked_before[:2],
          "static: the other members were not revoked")
    t.is_([m.assigned_events for m in ms[:2]], assigned_before[:2],
          "static: and not reassigned")
    t.is_([ms[0].snapshot(), ms[1].snapshot()], before[:2], "static: they keep their partitions")
    for m in (ms[0], ms[1], back):
        m.close()


{"assign": phase_assign, "commit": phase_commit, "resume": phase_resume,
 "static": phase_static}[PHASE]()
sys.exit(1 if t.failed else 0)
