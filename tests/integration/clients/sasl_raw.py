"""The SASL framework on the wire, with a hand-made client (no library):
what is refused before authentication, SaslHandshake/SaslAuthenticate
versions, the legacy unwrapped tokens after SaslHandshake v0, failures
(error code, message, delay, close), KIP-368 re-authentication and expiry,
SCRAM computed here (RFC 5802) and Alter/DescribeUserScramCredentials with
Kafka's error codes.

usage: sasl_raw.py PORT REAUTH_MS FAIL_DELAY_MS   (passwords in PW_* env)"""
import os
import struct
import sys
import time

from kwire import closed_by_peer, compact_string, connect, i8, i32, recv_exact, string, uvarint
from sasl_raw_lib import (admin_conn, alter, authenticate, describe, handshake, init,
                          metadata_ok, plain, salted_password, scram, send)
import sasl_raw_lib
from taplib import Tap

PORT, REAUTH_MS, DELAY_MS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
E = os.environ
ADMIN, ALICE, CAROL256, CAROL512 = E["PW_ADMIN"], E["PW_ALICE"], E["PW_CAROL256"], E["PW_CAROL512"]
init(PORT, ADMIN)
t = Tap()


# ---------------------------------------------------------------- checks
def before_auth():
    s = connect(PORT)
    r = send(s, 18, 0, b"")
    err = r.i16()
    keys = {k: (lo, hi) for k, lo, hi in r.array(lambda: (r.i16(), r.i16(), r.i16()))}
    t.is_((err, keys.get(17), keys.get(36)), (0, (0, 1), (0, 2)),
          "ApiVersions before authentication: SaslHandshake 0-1, SaslAuthenticate 0-2")
    t.is_((keys.get(50), keys.get(51), keys.get(29), keys.get(30), keys.get(31)),
          ((0, 0), (0, 0), (0, 3), (0, 3), (0, 3)),
          "ApiVersions: Describe/AlterUserScramCredentials 0, Describe/Create/DeleteAcls 0-3")
    t.ok(not metadata_ok(s), "Metadata before SaslHandshake: the connection is closed")
    s = connect(PORT)
    err, mechs = handshake(s, "GSSAPI")
    t.is_((err, sorted(mechs)), (33, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
          "SaslHandshake with an unknown mechanism: UNSUPPORTED_SASL_MECHANISM and the list")
    t.ok(closed_by_peer(s), "... then the connection is closed")
    s = connect(PORT)
    t.is_(handshake(s, "PLAIN")[0], 0, "SaslHandshake v1 PLAIN accepted")
    t.ok(not metadata_ok(s), "Metadata between SaslHandshake and SaslAuthenticate: closed")


def failures():
    s = connect(PORT)
    handshake(s, "PLAIN")
    t0 = time.monotonic()
    err, msg, _, _ = authenticate(s, plain("alice", "wrong"))
    took = (time.monotonic() - t0) * 1000
    t.is_((err, msg), (58, "Authentication failed: Invalid username or password"),
          "wrong PLAIN password: SASL_AUTHENTICATION_FAILED with Kafka's message")
    t.ok(took >= DELAY_MS * 0.9,
         "the failure is answered after connection.failed.authentication.delay.ms (%d ms)" % took)
    t.ok(closed_by_peer(s), "... and the connection closed")
    s = connect(PORT)
    handshake(s, "SCRAM-SHA-256")
    err, msg, _, _ = authenticate(s, b"n,,n=nobody,r=abcdefgh")
    t.is_(err, 58, "SCRAM for an unknown user: SASL_AUTHENTICATION_FAILED")
    s = connect(PORT)
    handshake(s, "SCRAM-SHA-256")
    err, msg, _, _ = authenticate(s, b"garbage")
    t.is_(err, 58, "a malformed SCRAM message: SASL_AUTHENTICATION_FAILED")


def stray_authenticate():
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("alice", ALICE))
    err, msg, _, _ = authenticate(s, plain("alice", ALICE))
    t.is_((err, msg), (34, "SaslAuthenticate request received after successful authentication"),
          "SaslAuthenticate after authentication without SaslHandshake: ILLEGAL_SASL_STATE")
    t.ok(metadata_ok(s), "... and the connection keeps serving (KafkaApis does not close it)")


def v0_flow():
    s = connect(PORT)
    t.is_(handshake(s, "PLAIN", ver=0)[0], 0, "SaslHandshake v0 PLAIN")
    tok = plain("alice", ALICE)
    s.sendall(i32(len(tok)) + tok)  # a raw token, not a Kafka request
    (n,) = struct.unpack(">i", recv_exact(s, 4))
    t.is_(n, 0, "v0 flow: the raw PLAIN token is answered with an empty raw token")
    t.ok(metadata_ok(s), "v0 flow: authenticated, Metadata is served")
    # SCRAM over raw tokens
    s = connect(PORT)
    handshake(s, "SCRAM-SHA-512", ver=0)

    def raw(tok):
        s.sendall(i32(len(tok)) + tok)
        (n,) = struct.unpack(">i", recv_exact(s, 4))
        return recv_exact(s, n)
    _, verified = scram("SCRAM-SHA-512", "carol", CAROL512, raw)
    t.ok(verified, "v0 flow: SCRAM-SHA-512 over raw tokens, server signature verified")
    t.ok(metadata_ok(s), "v0 flow: SCRAM-authenticated connection serves Metadata")
    s = connect(PORT)
    handshake(s, "PLAIN", ver=0)
    tok = plain("alice", "bad")
    s.sendall(i32(len(tok)) + tok)
    t.ok(closed_by_peer(s, timeout=DELAY_MS / 1000 + 5),
         "v0 flow: a wrong password closes the connection (no error response exists)")


def scram_v1():
    for ver in (0, 1, 2):
        s = connect(PORT)
        handshake(s, "SCRAM-SHA-256")
        res = {}

        def ex(tok):
            err, msg, auth, life = authenticate(s, tok, ver)
            res["r"] = (err, life)
            return auth if err == 0 else None
        _, verified = scram("SCRAM-SHA-256", "carol", CAROL256, ex)
        t.ok(verified and res["r"][0] == 0,
             "SaslAuthenticate v%d: SCRAM-SHA-256 succeeds, server signature verified" % ver)
        t.ok(metadata_ok(s), "SaslAuthenticate v%d: Metadata served afterwards" % ver)


def reauth():
    s = connect(PORT)
    handshake(s, "PLAIN")
    err, _, _, life = authenticate(s, plain("alice", ALICE), 1)
    t.is_((err, life), (0, REAUTH_MS), "KIP-368: SessionLifetimeMs = connections.max.reauth.ms")
    time.sleep(REAUTH_MS / 2000)
    t.is_(handshake(s, "PLAIN")[0], 0, "re-authentication: SaslHandshake on the live connection")
    err, _, _, life = authenticate(s, plain("alice", ALICE), 2)
    t.is_((err, life), (0, REAUTH_MS), "re-authentication succeeds with a new lifetime")
    time.sleep(REAUTH_MS * 0.7 / 1000)
    t.ok(metadata_ok(s), "re-authenticated session still valid past the first expiry")
    time.sleep(REAUTH_MS * 0.6 / 1000)
    t.ok(not metadata_ok(s), "a request after the session expired closes the connection")
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("alice", ALICE), 2)
    handshake(s, "PLAIN")
    err, msg, _, _ = authenticate(s, plain("admin", ADMIN), 2)
    t.is_(err, 58, "re-authentication as another principal: SASL_AUTHENTICATION_FAILED")
    t.ok("Cannot change principals" in (msg or ""), "... with Kafka's message (%s)" % msg)


def scram_admin():
    s = admin_conn()
    salt = os.urandom(16)
    res = alter(s, [], [("dave", 1, 4096, salt, salted_password(1, "dave-pw", salt, 4096)),
                        ("dave", 2, 8192, salt, salted_password(2, "dave-512", salt, 8192)),
                        ("erin", 1, 1000, salt, salted_password(1, "x", salt, 1000)),
                        ("frank", 7, 4096, salt, b"x" * 32),
                        ("gina", 1, 20000, salt, b"x" * 32)])
    t.is_(res, [("dave", 0, None),
                ("erin", 93, "Too few iterations"),
                ("frank", 33, "Unknown SCRAM mechanism"),
                ("gina", 93, "Too many iterations")],
          "AlterUserScramCredentials: upserts, UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM")
    res = alter(s, [("nobody", 1)], [])
    t.is_(res, [("nobody", 91, "Attempt to delete a user credential that does not exist")],
          "deleting a missing credential: RESOURCE_NOT_FOUND")
    res = alter(s, [("dave", 1)], [("dave", 1, 4096, salt, salted_password(1, "p", salt, 4096))])
    t.is_([x[1] for x in res], [92], "the same credential altered twice: DUPLICATE_RESOURCE")
    top, res = describe(s, ["dave", "nobody", "dave"])
    t.is_(top[0], 0, "DescribeUserScramCredentials answers")
    t.is_(res, [("dave", 92, "Cannot describe SCRAM credentials for the same user twice in a "
                 "single request", []),
                ("nobody", 91, "Attempt to describe a user credential that does not exist", [])],
          "describe: duplicate user DUPLICATE_RESOURCE, unknown user RESOURCE_NOT_FOUND")
    top, res = describe(s, ["dave"])
    t.is_(res, [("dave", 0, None, [(1, 4096), (2, 8192)])],
          "describe dave: SCRAM-SHA-256/4096 and SCRAM-SHA-512/8192")
    top, res = describe(s, None)
    t.is_(sorted((u, tuple(i)) for u, _, _, i in res),
          [("carol", ((1, 4096), (2, 8192))), ("dave", ((1, 4096), (2, 8192)))],
          "describe all users: carol (add.scram) and dave")
    for mech, pw in (("SCRAM-SHA-256", "dave-pw"), ("SCRAM-SHA-512", "dave-512")):
        c = connect(PORT)
        handshake(c, mech)
        res = {}

        def ex(tok):
            err, msg, auth, life = authenticate(c, tok)
            res["e"] = err
            return auth if err == 0 else None
        _, ok = scram(mech, "dave", pw, ex)
        t.ok(ok, "dave authenticates with %s after AlterUserScramCredentials" % mech)
    a = connect(PORT)
    handshake(a, "PLAIN")
    authenticate(a, plain("alice", ALICE))
    res = alter(a, [("dave", 1)], [])
    t.is_([x[1] for x in res], [31], "alice (no ALTER on the cluster): CLUSTER_AUTHORIZATION_FAILED")
    top, _ = describe(a, None)
    t.is_(top[0], 31, "alice describing credentials: CLUSTER_AUTHORIZATION_FAILED")
    res = alter(s, [("dave", 2)], [])
    t.is_(res, [("dave", 0, None)], "admin deletes dave's SCRAM-SHA-512 credential")
    top, res = describe(s, ["dave"])
    t.is_(res, [("dave", 0, None, [(1, 4096)])], "only SCRAM-SHA-256 is left")


def metadata_ops(s, topic):
    """Metadata v12 for topic (auto-create allowed) with its authorized
    operations: (error, operations bitfield)."""
    body = uvarint(2) + b"\0" * 16 + compact_string(topic) + uvarint(0) + i8(1) + i8(1) + uvarint(0)
    r = send(s, 3, 12, body, flexible=True)
    r.i32()

    def broker():
        r.i32(), r.compact_string(), r.i32(), r.compact_string()
        r.tags()
    r.compact_array(broker)
    r.compact_string()
    r.i32()

    def part():
        r.i16(), r.i32(), r.i32(), r.i32()
        for _ in range(3):
            r.compact_array(r.i32)
        r.tags()

    def topic_():
        err, _, _, _ = r.i16(), r.compact_string(), r.uuid(), r.i8()
        r.compact_array(part)
        ops = r.i32()
        r.tags()
        return err, ops
    return r.compact_array(topic_)[0]


def describe_cluster_ops(s):
    r = send(s, 60, 0, i8(1) + uvarint(0), flexible=True)
    r.i32()
    err = r.i16()
    r.compact_string(), r.compact_string(), r.i32()

    def broker():
        r.i32(), r.compact_string(), r.i32(), r.compact_string()
        r.tags()
    r.compact_array(broker)
    return err, r.i32()


def init_pid(conn, txn):
    """InitProducerId v0; its error code."""
    r = send(conn, 22, 0, string(txn) + i32(60000))
    r.i32()
    return r.i16()


def authorized_operations():
    topic_ops = sum(1 << o for o in (3, 4, 5, 6, 7, 8, 10, 11))
    cluster_ops = sum(1 << o for o in (5, 7, 8, 9, 10, 11, 12))
    a = admin_conn()
    t.is_(metadata_ops(a, "ops-topic"), (0, topic_ops),
          "Metadata v12 TopicAuthorizedOperations for a super user: every topic operation")
    t.is_(describe_cluster_ops(a), (0, cluster_ops),
          "DescribeCluster ClusterAuthorizedOperations for a super user: every cluster operation")
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("alice", ALICE))
    t.is_(metadata_ops(s, "ops-topic")[0], 29,
          "Metadata for alice without ACLs: TOPIC_AUTHORIZATION_FAILED")
    t.is_(describe_cluster_ops(s)[0], 31,
          "DescribeCluster for alice without ACLs: CLUSTER_AUTHORIZATION_FAILED")

    t.is_(init_pid(a, None), 0, "InitProducerId (idempotent) for a super user")
    t.is_(init_pid(s, None), 31,
          "InitProducerId without IDEMPOTENT_WRITE nor WRITE on a topic: CLUSTER_AUTHORIZATION_FAILED")
    t.is_(init_pid(s, "tx-1"), 53,
          "InitProducerId with a transactional id without WRITE on it: TRANSACTIONAL_ID_AUTHORIZATION_FAILED")
    r = send(s, 10, 0, string("some-group"))
    t.is_(r.i16(), 30, "FindCoordinator for a group without DESCRIBE: GROUP_AUTHORIZATION_FAILED")
    hb = (compact_string("kip848-group") + compact_string("") + i32(0) + uvarint(0) + uvarint(0)
          + i32(30000) + uvarint(2) + compact_string("ops-topic") + uvarint(0) + uvarint(1)
          + uvarint(0))
    r = send(s, 68, 0, hb, flexible=True)
    r.i32()
    t.is_(r.i16(), 30, "ConsumerGroupHeartbeat without READ on the group: GROUP_AUTHORIZATION_FAILED")


def create_acl(s, rtype, name, principal, op, pattern=3, perm=3):
    """CreateAcls v3 of one binding (default LITERAL ALLOW); its error code."""
    body = (uvarint(2) + i8(rtype) + compact_string(name) + i8(pattern)
            + compact_string(principal) + compact_string("*") + i8(op) + i8(perm) + uvarint(0)
            + uvarint(0))
    r = send(s, 30, 3, body, flexible=True)
    r.i32()

    def one():
        err = r.i16()
        r.compact_string()
        r.tags()
        return err
    return r.compact_array(one)[0]


def create_topic_v7(s, name):
    """CreateTopics v7 of one topic (1 partition, replication 1): (error,
    TopicConfigErrorCode (tag 0), NumPartitions, ReplicationFactor, config names)."""
    body = (uvarint(2) + compact_string(name) + i32(1) + struct.pack(">h", 1) + uvarint(1)
            + uvarint(1) + uvarint(0) + i32(30000) + i8(0) + uvarint(0))
    r = send(s, 19, 7, body, flexible=True)
    r.i32()

    def topic():
        r.compact_string()
        r.uuid()
        err = r.i16()
        r.compact_string()
        nparts, rf = r.i32(), struct.unpack(">h", r.take(2))[0]

        def config():
            n = r.compact_string()
            r.compact_string(), r.i8(), r.i8(), r.i8()
            r.tags()
            return n
        names = r.compact_array(config) or []
        cfg_err = 0
        for _ in range(r.uvarint()):
            tag, size = r.uvarint(), r.uvarint()
            data = r.take(size)
            if tag == 0:
                cfg_err = struct.unpack(">h", data)[0]
        return err, cfg_err, nparts, rf, names
    return r.compact_array(topic)[0]


def create_topics_configs():
    """Kafka answers a creator without DESCRIBE_CONFIGS on the new topic
    no configs, -1 partitions and TopicConfigErrorCode 29."""
    a = admin_conn()
    for topic, ops in (("cfg-hidden", (5,)), ("cfg-shown", (5, 10))):
        for op in ops:
            t.is_(create_acl(a, 2, topic, "User:alice", op), 0,
                  "CreateAcls: alice may %s topic %s" % ({5: "CREATE", 10: "DESCRIBE_CONFIGS"}[op],
                                                        topic))
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("alice", ALICE))
    t.is_(create_topic_v7(s, "cfg-hidden"), (0, 29, -1, -1, []),
          "CreateTopics v7 with CREATE only: created, TopicConfigErrorCode 29, no partitions or "
          "configs shown")
    err, cfg_err, nparts, rf, names = create_topic_v7(s, "cfg-shown")
    t.is_((err, cfg_err, nparts, rf), (0, 0, 1, 1),
          "CreateTopics v7 with CREATE and DESCRIBE_CONFIGS: partitions and replication shown")
    t.ok("cleanup.policy" in names and "retention.ms" in names,
         "... and the topic's effective configs (%d entries)" % len(names))


def idempotent_by_topic_acl():
    """KIP-679: InitProducerId without a transactional id needs
    IDEMPOTENT_WRITE on the cluster or WRITE on any topic, existing or not
    (authorizeByResourceType); a DENY WRITE on the wildcard topic '*' takes
    that away.  No topic starting with 'kip679-' exists."""
    a = admin_conn()
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("alice", ALICE))
    t.is_(init_pid(s, None), 31, "alice without a WRITE ACL: CLUSTER_AUTHORIZATION_FAILED")
    t.is_(create_acl(a, 2, "kip679-", "User:alice", 4, pattern=4), 0,
          "CreateAcls: ALLOW alice WRITE on topics PREFIXED 'kip679-'")
    t.is_(init_pid(s, None), 0,
          "InitProducerId (idempotent) with WRITE on a prefix of no existing topic: allowed")
    t.is_(create_acl(a, 2, "*", "User:alice", 4, perm=2), 0,
          "CreateAcls: DENY alice WRITE on the wildcard topic '*'")
    t.is_(init_pid(s, None), 31,
          "... and with a DENY WRITE on '*' as well: CLUSTER_AUTHORIZATION_FAILED")
    t.is_(init_pid(a, None), 0, "the super user is still allowed")


for name, fn in (("authorized operations", authorized_operations),
                 ("before authentication", before_auth), ("failures", failures),
                 ("stray SaslAuthenticate", stray_authenticate), ("v0 flow", v0_flow),
                 ("SaslAuthenticate versions", scram_v1), ("re-authentication", reauth),
                 ("SCRAM credentials admin", scram_admin),
                 ("CreateTopics configs need DESCRIBE_CONFIGS", create_topics_configs),
                 ("KIP-679 idempotent producer by topic ACL", idempotent_by_topic_acl)):
    t.run(name, fn)
sys.exit(1 if t.failed else 0)
