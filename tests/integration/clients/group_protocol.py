"""Raw group-coordinator requests for versions the client libraries do not
send: FindCoordinator v1/v4 (batched keys, transaction and unknown key
types), JoinGroup v0/v9, SyncGroup v5, LeaveGroup v5 by group.instance.id,
OffsetCommit v0/v2/v9, OffsetFetch v1 and v8 (batched groups), OffsetDelete,
ListGroups v5 filters, DescribeGroups v5, DeleteGroups v2.
usage: group_protocol.py PORT"""
import sys

from kwire import (Reader, compact_string, connect, i8, i16, i32, recv_frame, request, string,
                   uvarint)
import struct

from taplib import Tap

t = Tap()
PORT = int(sys.argv[1])
sock = connect(PORT)
corr = 0


def call(api, ver, body, flexible):
    global corr
    corr += 1
    sock.sendall(request(api, ver, corr, body, flexible))
    r = Reader(recv_frame(sock))
    assert r.i32() == corr
    if flexible:
        r.tags()
    return r


def i64(v): return struct.pack(">q", v)
def cbytes(b): return uvarint(len(b) + 1) + b
def carr(items): return uvarint(len(items) + 1) + b"".join(items)
def arr(items): return i32(len(items)) + b"".join(items)
def nbytes(b): return i32(len(b)) + b


# ---- FindCoordinator -------------------------------------------------------
r = call(10, 1, string("fc-group") + i8(0), False)
res = (r.i32(), r.i16(), r.string(), r.i32(), r.string(), r.i32())
t.is_(res[1:4], (0, "NONE", 1), "FindCoordinator v1 group: node 1, error message 'NONE' as Kafka")
t.is_(res[5], PORT, "FindCoordinator v1: this port")
r = call(10, 1, string("txn-1") + i8(1), False)
res = (r.i32(), r.i16(), r.string(), r.i32(), r.string(), r.i32())
t.is_(res[1:4], (0, "NONE", 1), "FindCoordinator v1 transaction key: this node (node 1)")
t.is_(res[5], PORT, "FindCoordinator v1 transaction key: this port")
r = call(10, 4, i8(0) + carr([compact_string("a"), compact_string("b")]) + uvarint(0), True)
r.i32()


def coord():
    c = (r.compact_string(), r.i32(), r.compact_string(), r.i32(), r.i16(), r.compact_string())
    r.tags()
    return c


cs = r.compact_array(coord)
t.is_([(c[0], c[1], c[3], c[4], c[5]) for c in cs], [("a", 1, PORT, 0, None), ("b", 1, PORT, 0, None)],
      "FindCoordinator v4: batched keys answered each")
r = call(10, 4, i8(5) + carr([compact_string("a")]) + uvarint(0), True)
r.i32()
cs = r.compact_array(coord)
t.is_([c[4] for c in cs], [42], "FindCoordinator v4 unknown key type: INVALID_REQUEST")

# ---- JoinGroup v0 (no rebalance timeout, no member id round) + SyncGroup v0
meta = b"\x00\x00\x00\x00\x00\x01\x00\x02t1\x00\x00\x00\x00"
r = call(11, 0, string("g0") + i32(30000) + string("") + string("consumer") +
         arr([string("range") + nbytes(meta)]), False)
j = dict(err=r.i16(), gen=r.i32(), proto=r.string(), leader=r.string(), member=r.string())
members = r.array(lambda: (r.string(), r.take(r.i32())))
t.is_((j["err"], j["gen"], j["proto"], j["leader"] == j["member"]), (0, 1, "range", True),
      "JoinGroup v0: joined without MEMBER_ID_REQUIRED, generation 1, leader")
t.is_(members, [(j["member"], meta)], "JoinGroup v0: leader sees its own metadata")
m0 = j["member"]
r = call(14, 0, string("g0") + i32(1) + string(m0) + arr([string(m0) + nbytes(b"ASG")]), False)
t.is_((r.i16(), r.take(r.i32())), (0, b"ASG"), "SyncGroup v0: assignment back")

# ---- OffsetCommit v2 with retention, OffsetFetch v1 -------------------------
r = call(8, 2, string("g0") + i32(1) + string(m0) + i64(3600000) +
         arr([string("t1") + arr([i32(0) + i64(7) + string("md")])]), False)
res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
t.is_(res, [("t1", [(0, 0)])], "OffsetCommit v2 by the member")
r = call(8, 2, string("g0") + i32(1) + string(m0) + i64(-1) +
         arr([string("nope") + arr([i32(0) + i64(7) + string("")])]), False)
res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
t.is_(res, [("nope", [(0, 3)])], "OffsetCommit to an unknown topic: UNKNOWN_TOPIC_OR_PARTITION")
r = call(8, 2, string("g0") + i32(9) + string(m0) + i64(-1) +
         arr([string("t1") + arr([i32(0) + i64(8) + string("")])]), False)
res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
t.is_(res, [("t1", [(0, 22)])], "OffsetCommit with a stale generation: ILLEGAL_GENERATION")
r = call(9, 1, string("g0") + arr([string("t1") + arr([i32(0), i32(1)])]), False)
res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i64(), r.string(), r.i16()))))
t.is_(res, [("t1", [(0, 7, "md", 0), (1, -1, "", 0)])],
      "OffsetFetch v1: committed offset and metadata, -1 where none")

# ---- OffsetCommit v0 (simple) and v9 (GROUP_ID_NOT_FOUND) -------------------
r = call(8, 0, string("simple0") + arr([string("t1") + arr([i32(1) + i64(4) + string(None)])]),
         False)
res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))
t.is_(res, [("t1", [(1, 0)])], "OffsetCommit v0: a simple group commit")
body = (compact_string("ghost") + i32(3) + compact_string("m") + compact_string(None) +
        carr([compact_string("t1") + carr([i32(0) + i64(1) + i32(-1) + compact_string(None) +
                                           uvarint(0)]) + uvarint(0)]) + uvarint(0))
r = call(8, 9, body, True)
r.i32()
res = r.compact_array(lambda: (r.compact_string(),
                               r.compact_array(lambda: (r.i32(), r.i16(), r.tags())[:2]),
                               r.tags())[:2])
t.is_(res, [("t1", [(0, 69)])], "OffsetCommit v9 for an unknown group: GROUP_ID_NOT_FOUND")

# ---- OffsetFetch v8: two groups at once --------------------------------------
body = carr([compact_string("g0") + carr([compact_string("t1") + carr([i32(0)]) + uvarint(0)]) +
             uvarint(0),
             compact_string("simple0") + uvarint(0) + uvarint(0)]) + i8(0) + uvarint(0)
r = call(9, 8, body, True)
r.i32()


def fpart():
    p = (r.i32(), r.i64(), r.i32(), r.compact_string(), r.i16())
    r.tags()
    return p


def ftopic():
    tp = (r.compact_string(), r.compact_array(fpart))
    r.tags()
    return tp


def fgroup():
    g = (r.compact_string(), r.compact_array(ftopic), r.i16())
    r.tags()
    return g


res = r.compact_array(fgroup)
t.is_(res, [("g0", [("t1", [(0, 7, -1, "md", 0)])], 0),
            ("simple0", [("t1", [(1, 4, -1, "", 0)])], 0)],
      "OffsetFetch v8: both groups, the second with all its topics")

# ---- JoinGroup v9 static member, SyncGroup v5, ListGroups v5, DescribeGroups v5
def join9(group, member, instance):
    body = (compact_string(group) + i32(6000) + i32(10000) + compact_string(member) +
            compact_string(instance) + compact_string("consumer") +
            carr([compact_string("range") + cbytes(meta) + uvarint(0)]) +
            compact_string("test") + uvarint(0))
    r = call(11, 9, body, True)
    out = dict(throttle=r.i32(), err=r.i16(), gen=r.i32(), ptype=r.compact_string(),
               proto=r.compact_string(), leader=r.compact_string(), skip=r.i8(),
               member=r.compact_string())

    def mem():
        m = (r.compact_string(), r.compact_string(), r.take(r.uvarint() - 1))
        r.tags()
        return m
    out["members"] = r.compact_array(mem)
    return out


j = join9("gs", "", "inst-a")
t.is_((j["err"], j["gen"], j["ptype"], j["proto"], j["skip"]), (0, 1, "consumer", "range", 0),
      "JoinGroup v9 static member: joined at once (no MEMBER_ID_REQUIRED for static members)")
ma = j["member"]
body = (compact_string("gs") + i32(1) + compact_string(ma) + compact_string("inst-a") +
        compact_string("consumer") + compact_string("range") +
        carr([compact_string(ma) + cbytes(b"X") + uvarint(0)]) + uvarint(0))
r = call(14, 5, body, True)
res = (r.i32(), r.i16(), r.compact_string(), r.compact_string(), r.take(r.uvarint() - 1))
t.is_(res[1:], (0, "consumer", "range", b"X"), "SyncGroup v5: protocol type/name and assignment")
j2 = join9("gs", "", "inst-a")
t.is_((j2["err"], j2["gen"], j2["leader"], j2["skip"], len(j2["members"] or [])),
      (0, 1, j2["member"], 1, 1),
      "JoinGroup v9 static rejoin of the leader: no rebalance, SkipAssignment with members")
j3 = join9("gs", ma, "inst-a")
t.is_(j3["err"], 82, "the replaced member id is fenced: FENCED_INSTANCE_ID")

body = carr([compact_string("stable")]) + carr([compact_string("CLASSIC")]) + uvarint(0)
r = call(16, 5, body, True)
r.i32()
err = r.i16()


def lg():
    g = (r.compact_string(), r.compact_string(), r.compact_string(), r.compact_string())
    r.tags()
    return g


res = r.compact_array(lg)
t.is_((err, sorted(res)), (0, [("g0", "consumer", "Stable", "classic"),
                               ("gs", "consumer", "Stable", "classic")]),
      "ListGroups v5 with state and type filters (case-insensitive)")
body = carr([compact_string("gs"), compact_string("missing")]) + i8(1) + uvarint(0)
r = call(15, 5, body, True)
r.i32()


def dmember():
    m = (r.compact_string(), r.compact_string(), r.compact_string(), r.compact_string(),
         r.take(r.uvarint() - 1), r.take(r.uvarint() - 1))
    r.tags()
    return m


def dgroup():
    g = (r.i16(), r.compact_string(), r.compact_string(), r.compact_string(),
         r.compact_string(), r.compact_array(dmember), r.i32())
    r.tags()
    return g


res = r.compact_array(dgroup)
t.is_([(g[0], g[1], g[2], g[3], g[4], [(m[1], m[2], m[3], m[4], m[5]) for m in g[5]])
       for g in res],
      [(0, "gs", "Stable", "consumer", "range",
        [("inst-a", "sluice-raw", "/127.0.0.1", meta, b"X")]),
       (0, "missing", "Dead", "", "", [])],
      "DescribeGroups v5: stable static group; unknown group is Dead")
t.is_(res[0][6], 3400, "DescribeGroups authorized operations (no authorizer: all group ops)")

# ---- LeaveGroup v5 by instance id, DeleteGroups v2, OffsetDelete -------------
body = (compact_string("gs") + carr([compact_string("") + compact_string("inst-a") +
                                     compact_string("admin") + uvarint(0),
                                     compact_string("") + compact_string("inst-zz") +
                                     compact_string(None) + uvarint(0)]) + uvarint(0))
r = call(13, 5, body, True)
r.i32()
err = r.i16()


def lmem():
    m = (r.compact_string(), r.compact_string(), r.i16())
    r.tags()
    return m


t.is_((err, r.compact_array(lmem)), (0, [("", "inst-a", 0), ("", "inst-zz", 25)]),
      "LeaveGroup v5 by group.instance.id: removed; unknown instance UNKNOWN_MEMBER_ID")
r = call(47, 0, string("g0") + arr([string("t1") + arr([i32(0)])]), False)
t.is_((r.i16(), r.i32(), r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))),
      (0, 0, [("t1", [(0, 86)])]),
      "OffsetDelete on a consumer group subscribed to the topic: GROUP_SUBSCRIBED_TO_TOPIC")
r = call(47, 0, string("simple0") + arr([string("t1") + arr([i32(1)])]), False)
t.is_((r.i16(), r.i32(), r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))),
      (0, 0, [("t1", [(1, 0)])]), "OffsetDelete on an empty group")
body = carr([compact_string("g0"), compact_string("gs"), compact_string("nope")]) + uvarint(0)
r = call(42, 2, body, True)
r.i32()


def dres():
    x = (r.compact_string(), r.i16())
    r.tags()
    return x


t.is_(r.compact_array(dres), [("g0", 68), ("gs", 0), ("nope", 69)],
      "DeleteGroups v2: NON_EMPTY_GROUP, deleted, GROUP_ID_NOT_FOUND")
sock.close()
sys.exit(1 if t.failed else 0)
