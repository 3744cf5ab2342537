"""kafka-python 2.0 consumer groups and group admin against sluiced.

Two KafkaConsumers share a 4-partition topic (each partition owned once),
read every record exactly once and commit; when one closes (LeaveGroup)
the other takes over at the committed offsets.  The admin client lists,
describes and deletes groups, with Kafka's errors for a live group.
usage: kafka_python_groups.py BOOTSTRAP"""
import sys
import threading
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from taplib import Tap

BOOT = sys.argv[1]
t = Tap()
TOPIC, GROUP, NPART = "kp-groups", "kp-g", 4


class Member:
    def __init__(self, name):
        self.c = KafkaConsumer(bootstrap_servers=BOOT, group_id=GROUP, client_id=name,
                               auto_offset_reset="earliest", enable_auto_commit=False,
                               heartbeat_interval_ms=300, session_timeout_ms=6000,
                               max_poll_interval_ms=30000)
        self.c.subscribe([TOPIC])
        self.got = {}
        self.lock = threading.Lock()
        self.stop = False
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        while not self.stop:
            batch = self.c.poll(timeout_ms=100)
            for tp, msgs in batch.items():
                with self.lock:
                    self.got.setdefault(tp.partition, []).extend(m.offset for m in msgs)
            if batch:
                self.c.commit()

    def owned(self):
        with self.lock:
            return {tp.partition for tp in self.c.assignment()}

    def close(self):
        self.stop = True
        self.th.join(10)
        self.c.close()


def wait(pred, timeout=40):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def main():
    adm = KafkaAdminClient(bootstrap_servers=BOOT)
    adm.create_topics([NewTopic(TOPIC, NPART, 1)])
    a, b = Member("kp-a"), Member("kp-b")
    t.ok(wait(lambda: sorted(a.owned() | b.owned()) == list(range(NPART)) and
              not (a.owned() & b.owned()) and a.owned() and b.owned()),
         "two consumers own the 4 partitions exactly once: %r %r" %
         (sorted(a.owned()), sorted(b.owned())))
    p = KafkaProducer(bootstrap_servers=BOOT, acks="all")
    for part in range(NPART):
        for i in range(10):
            p.send(TOPIC, value=b"v%d" % i, partition=part)
    p.flush()

    def total(ms):
        n = 0
        for m in ms:
            with m.lock:
                n += sum(len(v) for v in m.got.values())
        return n
    t.ok(wait(lambda: total([a, b]) >= 40), "all 40 records consumed")
    time.sleep(0.5)
    merged = {}
    for m in (a, b):
        with m.lock:
            for part, offs in m.got.items():
                merged.setdefault(part, []).extend(offs)
    t.is_({k: sorted(v) for k, v in merged.items()}, {part: list(range(10)) for part in range(NPART)},
          "every partition read once, offsets 0..9")

    d = adm.describe_consumer_groups([GROUP])[0]
    t.is_((d.state, d.protocol_type, d.protocol), ("Stable", "consumer", "range"),
          "describe: Stable consumer group using range")
    t.is_(sorted(m.client_id for m in d.members), ["kp-a", "kp-b"], "describe: both members")
    t.ok(all(m.client_host == "/127.0.0.1" for m in d.members), "client hosts are /127.0.0.1")
    listed = dict(adm.list_consumer_groups())
    t.is_(listed.get(GROUP), "consumer", "list_consumer_groups: kp-g (consumer)")
    offs = adm.list_consumer_group_offsets(GROUP)
    t.is_({tp.partition: om.offset for tp, om in offs.items()}, {part: 10 for part in range(NPART)},
          "list_consumer_group_offsets: 10 on every partition")

    res = dict(adm.delete_consumer_groups([GROUP]))
    t.ok(getattr(res.get(GROUP), "errno", None) == 68,
         "deleting a live group: NON_EMPTY_GROUP (%r)" % (res.get(GROUP),))

    # a leaves: b takes everything and continues at the committed offsets
    a.close()
    t.ok(wait(lambda: sorted(b.owned()) == list(range(NPART))),
         "after kp-a left, kp-b owns all partitions")
    with b.lock:
        before = {k: len(v) for k, v in b.got.items()}
    for part in range(NPART):
        p.send(TOPIC, value=b"late", partition=part)
    p.flush()

    def late():
        with b.lock:
            return sum(len(v) - before.get(k, 0) for k, v in b.got.items()) >= NPART
    t.ok(wait(late), "the new records reach kp-b")
    time.sleep(0.5)
    with b.lock:
        new = {k: v[before.get(k, 0):] for k, v in b.got.items() if v[before.get(k, 0):]}
    t.is_(new, {part: [10] for part in range(NPART)},
          "kp-b resumed at the committed offsets: only offset 10 is new")
    b.close()
    t.ok(wait(lambda: adm.describe_consumer_groups([GROUP])[0].state == "Empty", 10),
         "the group is Empty after both left")
    res = dict(adm.delete_consumer_groups([GROUP]))
    t.ok(res.get(GROUP) is not None and getattr(res.get(GROUP), "errno", 0) == 0,
         "deleting the empty group succeeds (%r)" % (res.get(GROUP),))
    t.ok(GROUP not in dict(adm.list_consumer_groups()), "the group is gone")
    t.is_(adm.list_consumer_group_offsets(GROUP), {}, "and its offsets")
    p.close()
    adm.close()


main()
sys.exit(1 if t.failed else 0)
