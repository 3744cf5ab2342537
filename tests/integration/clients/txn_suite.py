#!/usr/bin/python3
"""confluent-kafka (librdkafka) transactions for the txn-coord integration
tests.  Every command prints plain lines the test compares.

  txn_suite.py produce BOOT TXID SPEC...
      One transactional producer (transactional.id=TXID); each SPEC is
      "commit:TOPIC=v1,v2;TOPIC2=v3" or "abort:..." — one transaction per
      SPEC, its records produced then committed or aborted.  Prints
      "commit ok" / "abort ok" per transaction.
  txn_suite.py consume BOOT TOPIC ISOLATION [PARTITIONS]
      Reads TOPIC from the beginning to its end (the LSO under
      read_committed) with isolation.level=ISOLATION: "value" lines,
      partition by partition in offset order.
  txn_suite.py ctp BOOT GROUP IN OUT TXID N
      Consume-transform-produce: reads N records of IN in group GROUP,
      produces each upper-cased to OUT and commits the consumed offsets with
      send_offsets_to_transaction, one transaction per record.  Prints
      "ctp ok N".
  txn_suite.py committed BOOT GROUP TOPIC
      The group's committed offset of TOPIC partition 0 (RequireStable
      through librdkafka's committed()).
  txn_suite.py fence BOOT TXID TOPIC
      Producer A begins a transaction and produces; producer B with the
      same transactional.id runs init_transactions (which aborts A's
      transaction and fences A); A's commit then fails fatally.  Prints
      what A and B saw.
  txn_suite.py hang BOOT TXID TOPIC VALUES TIMEOUT_MS [GROUP:OFFSET]
      Begins a transaction with transaction.timeout.ms=TIMEOUT_MS, produces
      VALUES (comma-separated) and flushes, with GROUP:OFFSET also commits
      that offset of TOPIC-0 for GROUP in the transaction
      (send_offsets_to_transaction), prints "open", then sleeps until
      killed (a stuck producer).
  txn_suite.py many BOOT TXID TOPIC N PER_TXN
      N records "r-<i>" to partition 0 in transactions of PER_TXN, every
      one committed (through a fault-injecting proxy in 116).  Prints
      "committed N".
  txn_suite.py begin-only BOOT TXID TOPIC VALUES
      Begins a transaction, produces and flushes, prints "open", exits
      without ending it."""
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from txn_producer import open_transaction, producer


def parse_spec(spec):
    kind, _, rest = spec.partition(":")
    out = []
    for part in rest.split(";"):
        if part:
            topic, _, values = part.partition("=")
            out.append((topic, values.split(",")))
    return kind, out


def cmd_produce(boot, txid, *specs):
    p = producer(boot, txid)
    p.init_transactions(30)
    for spec in specs:
        kind, recs = parse_spec(spec)
        p.begin_transaction()
        for topic, values in recs:
            for v in values:
                p.produce(topic, value=v.encode(), partition=0)
        p.flush(30)
        if kind == "commit":
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
        print(kind, "ok", flush=True)


def consume_all(boot, topic, isolation, nparts=1, group=None):
    c = Consumer({"bootstrap.servers": boot, "group.id": group or "txn-reader",
                  "enable.auto.commit": False, "isolation.level": isolation,
                  "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    parts = [TopicPartition(topic, p, 0) for p in range(nparts)]
    c.assign(parts)
    out = {p: [] for p in range(nparts)}
    eof = set()
    deadline = time.time() + 60
    while len(eof) < nparts and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
                continue
            raise KafkaException(m.error())
        out[m.partition()].append(m.value().decode())
    c.close()
    return [v for p in range(nparts) for v in out[p]]


def cmd_consume(boot, topic, isolation, nparts="1"):
    for v in consume_all(boot, topic, isolation, int(nparts)):
        print(v)


def cmd_ctp(boot, group, src, dst, txid, n):
    n = int(n)
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False,
                  "isolation.level": "read_committed", "auto.offset.reset": "earliest"})
    c.subscribe([src])
    p = producer(boot, txid)
    p.init_transactions(30)
    done = 0
    deadline = time.time() + 90
    while done < n and time.time() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            continue
        p.begin_transaction()
        p.produce(dst, value=m.value().upper(), partition=0)
        p.send_offsets_to_transaction(
            [TopicPartition(m.topic(), m.partition(), m.offset() + 1)],
            c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
        done += 1
    c.close()
    print("ctp ok", done)


def cmd_committed(boot, group, topic):
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
    tp = c.committed([TopicPartition(topic, 0)], 30)[0]
    c.close()
    print(tp.offset)


def cmd_fence(boot, txid, topic):
    a = producer(boot, txid)
    a.init_transactions(30)
    a.begin_transaction()
    a.produce(topic, value=b"from-a", partition=0)
    a.flush(30)
    b = producer(boot, txid)
    b.init_transactions(60)
    print("b init ok", flush=True)
    try:
        a.commit_transaction(30)
        print("a commit ok")
    except KafkaException as e:
        err = e.args[0]
        print("a commit failed fatal=%s %s" % (err.fatal(), err.name()))
    b.begin_transaction()
    b.produce(topic, value=b"from-b", partition=0)
    b.commit_transaction(30)
    print("b commit ok")


def cmd_hang(boot, txid, topic, values, timeout_ms, offsets=None):
    p = open_transaction(boot, txid, topic, values,
                         **{"transaction.timeout.ms": int(timeout_ms)})
    if offsets:
        # GROUP:OFFSET of TOPIC partition 0, committed with the transaction.
        group, _, off = offsets.partition(":")
        c = Consumer({"bootstrap.servers": boot, "group.id": group})
        p.send_offsets_to_transaction([TopicPartition(topic, 0, int(off))],
                                      c.consumer_group_metadata(), 30)
    print("open", flush=True)
    while True:
        time.sleep(1)


def cmd_many(boot, txid, topic, n, per_txn):
    n, per_txn = int(n), int(per_txn)
    p = producer(boot, txid, **{"retry.backoff.ms": 50})
    p.init_transactions(60)
    for start in range(0, n, per_txn):
        p.begin_transaction()
        for i in range(start, min(n, start + per_txn)):
            p.produce(topic, value=("r-%d" % i).encode(), partition=0)
            p.poll(0)
        p.commit_transaction(60)
    print("committed", n)


def cmd_begin_only(boot, txid, topic, values):
    open_transaction(boot, txid, topic, values)
    print("open", flush=True)


if __name__ == "__main__":
    cmds = {"produce": cmd_produce, "consume": cmd_consume, "ctp": cmd_ctp,
            "committed": cmd_committed, "fence": cmd_fence, "hang": cmd_hang,
            "begin-only": cmd_begin_only, "many": cmd_many}
    cmds[sys.argv[1]](*sys.argv[2:])
