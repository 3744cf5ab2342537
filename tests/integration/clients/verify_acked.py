#!/usr/bin/python3
"""Check a post-crash dump ("partition offset key value" lines from kcat)
against the producer's acknowledged records.
Usage: verify_acked.py ACKED DUMP PARTITIONS"""
import sys

from taplib import Tap

T = Tap()
acked_path, dump_path, nparts = sys.argv[1], sys.argv[2], int(sys.argv[3])


def value(i):
    return "rec-%06d-" % i + "abcdefghij" * (i % 20)


acked = [tuple(map(int, l.split())) for l in open(acked_path) if l.strip()]
dump = {}
bad = []
for line in open(dump_path, encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if not line:
        continue
    parts = line.split(" ", 3)
    if len(parts) != 4:
        bad.append(line)
        continue
    p, o, k, v = int(parts[0]), int(parts[1]), parts[2], parts[3]
    dump.setdefault(p, []).append((o, k, v))

T.ok(len(acked) > 0, "the producer had %d records acknowledged before/after the kill" % len(acked))
T.ok(not bad, "every dumped line is well formed")
contiguous = all([o for o, _, _ in dump.get(p, [])] == list(range(len(dump.get(p, []))))
                 for p in range(nparts))
T.ok(contiguous, "offsets are contiguous from 0 on every partition")
intact = all(v == value(int(k)) and int(k) % nparts == p
             for p in dump for _, k, v in dump[p] if k.isdigit())
T.ok(intact and all(k.isdigit() for p in dump for _, k, _ in dump[p]),
     "every stored record is intact (key matches value and partition)")
index = {(p, o): k for p in dump for o, k, _ in dump[p]}
missing = [(p, o, i) for p, o, i in acked if index.get((p, o)) != str(i)]
T.ok(not missing, "all %d acknowledged records are present at their offsets" % len(acked))
if missing:
    T.diag("missing or different (partition, offset, index): %r" % missing[:10])
T.diag("stored per partition: %r" % {p: len(dump[p]) for p in sorted(dump)})
