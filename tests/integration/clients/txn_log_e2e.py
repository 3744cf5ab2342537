#!/usr/bin/python3
"""confluent-kafka transactional producers for the partition-side tests.

  txn_log_e2e.py run BOOT TXID TOPIC SPEC...
      One transactional producer; each SPEC "commit:v1,v2" or "abort:v3"
      is one transaction on partition 0 of TOPIC, produced, flushed, then
      committed or aborted.  Prints "<kind> ok" per transaction.  A value
      "K=V" is record V with key K (compacted topics); $TXN_PAD pads every
      value with that many dots.
  txn_log_e2e.py hang BOOT TXID TOPIC VALUES
      Begins a transaction (transaction.timeout.ms 120000), produces VALUES
      (comma-separated) to partition 0, flushes, prints "open" and sleeps
      until killed: a transaction that stays open.
  txn_log_e2e.py slow BOOT TXID TOPIC VALUES DELAY_MS
      Begins a transaction, produces VALUES to partition 0, flushes, prints
      "open", waits DELAY_MS, commits and prints "commit ok"."""
import os
import sys
import time

from txn_producer import open_transaction, producer


PAD = "." * int(os.environ.get("TXN_PAD", "0"))


def send(p, topic, item):
    key, eq, value = item.partition("=")
    if eq:
        p.produce(topic, key=key.encode(), value=(value + PAD).encode(), partition=0)
    else:
        p.produce(topic, value=(item + PAD).encode(), partition=0)


def run(boot, txid, topic, *specs):
    p = producer(boot, txid)
    p.init_transactions(30)
    for spec in specs:
        kind, _, values = spec.partition(":")
        p.begin_transaction()
        for v in values.split(","):
            send(p, topic, v)
        p.flush(30)
        if kind == "commit":
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
        print("%s ok" % kind, flush=True)


def hang(boot, txid, topic, values):
    # p stays referenced so the producer (and its transaction) lives until killed.
    p = open_transaction(boot, txid, topic, values, **{"transaction.timeout.ms": 120000})
    print("open", flush=True)
    while True:
        time.sleep(1)


def slow(boot, txid, topic, values, delay_ms):
    p = open_transaction(boot, txid, topic, values)
    print("open", flush=True)
    time.sleep(int(delay_ms) / 1000.0)
    p.commit_transaction(30)
    print("commit ok", flush=True)


def main(argv):
    cmd = argv[1]
    if cmd == "run":
        run(*argv[2:])
    elif cmd == "hang":
        hang(*argv[2:6])
    elif cmd == "slow":
        slow(*argv[2:7])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
