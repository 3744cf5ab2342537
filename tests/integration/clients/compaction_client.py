#!/usr/bin/python3
"""Changelog producer and checkers for the compaction tests (confluent-kafka).

  produce BOOT TOPIC N KEYS STATE [TOMBSTONE_KEYS [KEY_BASE]]
      N updates cycling over KEYS keys "key-<KEY_BASE+k>", value "<k>:<seq>" with
      seq counting every update (so a key's values increase); with
      TOMBSTONE_KEYS, the last update of keys 0..TOMBSTONE_KEYS-1 is a
      tombstone (null value).  STATE (JSON) is updated with each key's
      latest value (null for tombstones).  Prints TAP.
  verify BOOT TOPIC STATE MAX_RECORDS [GONE [TOMBSTONES]]
      Reads the partition from the beginning to the high watermark and
      checks: offsets strictly increase, each key's values increase, every
      key's last value is the one in STATE; at most MAX_RECORDS records
      (-1: no limit); with GONE=1 keys deleted in STATE must not appear at
      all (their tombstones were removed), else they may only end in a
      tombstone; TOMBSTONES: exactly that many tombstones read.  Prints TAP.
  reader BOOT TOPIC STATE SECONDS
      Reads the whole partition again and again for SECONDS while the
      cleaner works; every pass must be consistent as in verify.  Prints
      TAP (one assertion for all passes) and the number of passes.
"""
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition

import taplib

T = taplib.Tap()


def produce(boot, topic, n, keys, state_path, tomb_keys=0, key_base=0):
    try:
        with open(state_path) as f:
            state = json.load(f)
    except FileNotFoundError:
        state = {"seq": 0, "latest": {}}
    p = Producer({"bootstrap.servers": boot, "linger.ms": 20, "batch.size": 16384,
                  "acks": "all"})
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(err)
    seq = state["seq"]
    last_of = {}
    for i in range(n):
        last_of[i % keys] = i
    for i in range(n):
        k = i % keys
        key = "key-%d" % (key_base + k)
        if k < tomb_keys and last_of[k] == i:
            p.produce(topic, key=key.encode(), value=None, partition=0, on_delivery=cb)
            state["latest"][key] = None
        else:
            v = "%d:%d" % (k, seq)
            p.produce(topic, key=key.encode(), value=v.encode(), partition=0, on_delivery=cb)
            state["latest"][key] = v
        seq += 1
        if i % 5000 == 0:
            p.poll(0)
    left = p.flush(60)
    state["seq"] = seq
    with open(state_path, "w") as f:
        json.dump(state, f)
    T.ok(left == 0 and not errors,
              "produced %d updates over %d keys (%s)" % (n, keys, errors[:1] or "no errors"))


def read_all(boot, topic, group):
    """All records of partition 0 as (offset, key, value) up to the HW."""
    c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False,
                  "enable.partition.eof": True, "auto.offset.reset": "earliest",
                  "fetch.max.bytes": 1048576})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    out = []
    if hi <= lo:
        c.close()
        return out, hi
    c.assign([TopicPartition(topic, 0, 0)])
    done = False
    deadline = time.time() + 60
    while not done and time.time() < deadline:
        for m in c.consume(1000, timeout=1.0):
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    done = True
                    break
                raise RuntimeError(str(m.error()))
            out.append((m.offset(), m.key().decode() if m.key() is not None else None,
                        m.value().decode() if m.value() is not None else None))
            if m.offset() >= hi - 1:
                done = True
    c.close()
    return out, hi


def check(records, state, gone):
    """Problems in one read of the log (list of strings)."""
    problems = []
    prev = -1
    last = {}
    last_seq = {}
    for off, key, value in records:
        if off <= prev:
            problems.append("offset %d after %d" % (off, prev))
        prev = off
        if key is None:
            problems.append("record without a key at %d" % off)
            continue
        if value is not None:
            seq = int(value.split(":")[1])
            if key in last_seq and seq <= last_seq[key]:
                problems.append("%s: value %s after seq %d" % (key, value, last_seq[key]))
            last_seq[key] = seq
        last[key] = value
    for key, want in state["latest"].items():
        if want is None:
            if gone and key in last:
                problems.append("%s: deleted but still has %r" % (key, last[key]))
            elif key in last and last[key] is not None:
                problems.append("%s: deleted but its last record is %r" % (key, last[key]))
        elif last.get(key) != want:
            problems.append("%s: got %r, want %r" % (key, last.get(key), want))
    return problems


def main():
    cmd, boot, topic = sys.argv[1:4]
    if cmd == "produce":
        produce(boot, topic, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6],
                int(sys.argv[7]) if len(sys.argv) > 7 else 0,
                int(sys.argv[8]) if len(sys.argv) > 8 else 0)
    elif cmd == "verify":
        with open(sys.argv[4]) as f:
            state = json.load(f)
        limit = int(sys.argv[5])
        gone = len(sys.argv) > 6 and sys.argv[6] == "1"
        records, hi = read_all(boot, topic, "verify")
        problems = check(records, state, gone)
        T.ok(not problems, "read back %d records up to offset %d: consistent, every key's "
                  "latest value present%s" % (len(records), hi, "" if not problems else
                                                 ": " + "; ".join(problems[:5])))
        if limit >= 0:
            T.ok(len(records) <= limit, "%d records <= %d" % (len(records), limit))
        tombs = sum(1 for r in records if r[2] is None)
        if len(sys.argv) > 7:
            T.ok(tombs == int(sys.argv[7]), "%d tombstones read (want %s)" % (tombs, sys.argv[7]))
        print("# records=%d tombstones=%d hw=%d" % (len(records), tombs, hi))
    elif cmd == "reader":
        with open(sys.argv[4]) as f:
            state = json.load(f)
        until = time.time() + float(sys.argv[5])
        passes, problems, sizes = 0, [], []
        while time.time() < until or passes == 0:
            records, _ = read_all(boot, topic, "reader")
            problems += check(records, state, False)
            sizes.append(len(records))
            passes += 1
        T.ok(not problems, "%d passes while compacting (records per pass %s): all "
                  "consistent%s" % (passes, sizes[:3] + ["..."] + sizes[-3:] if len(sizes) > 6
                                    else sizes, "" if not problems else
                                    ": " + "; ".join(problems[:5])))
        print("# passes=%d first=%d last=%d" % (passes, sizes[0], sizes[-1]))
    else:
        sys.exit("unknown command " + cmd)


main()
