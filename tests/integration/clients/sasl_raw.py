"""The SASL framework on the wire, with a hand-made client (no library):
what is refused before authentication, SaslHandshake/SaslAuthenticate
versions, the legacy unwrapped tokens after SaslHandshake v0, failures
(error code, message, delay, close), KIP-368 re-authentication and expiry,
SCRAM computed here (RFC 5802) and Alter/DescribeUserScramCredentials with
Kafka's error codes.

usage: sasl_raw.py PORT REAUTH_MS FAIL_DELAY_MS"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

from kwire import (Reader, closed_by_peer, compact_string, connect, i8, i16, i32, recv_exact,
                   recv_frame, request, string, uvarint)
from taplib import Tap

PORT, REAUTH_MS, DELAY_MS = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
E = os.environ
ADMIN, ALICE, CAROL256, CAROL512 = E["PW_ADMIN"], E["PW_ALICE"], E["PW_CAROL256"], E["PW_CAROL512"]
t = Tap()
corr = [0]


def send(s, key, ver, body, flexible=False):
    corr[0] += 1
    s.sendall(request(key, ver, corr[0], body, flexible=flexible))
    r = Reader(recv_frame(s))
    assert r.i32() == corr[0]
    if flexible:
        r.tags()
    return r


def bytes_(b): return i32(len(b)) + b
def cbytes(b): return uvarint(len(b) + 1) + b


def handshake(s, mech, ver=1):
    r = send(s, 17, ver, string(mech))
    return r.i16(), r.array(r.string)


def authenticate(s, token, ver=2):
    """(error, message, server bytes, session lifetime)."""
    if ver >= 2:
        r = send(s, 36, ver, cbytes(token) + uvarint(0), flexible=True)
        err, msg = r.i16(), r.compact_string()
        n = r.uvarint()
        auth = r.take(n - 1) if n else None
    else:
        r = send(s, 36, ver, bytes_(token))
        err, msg = r.i16(), r.string()
        n = r.i32()
        auth = r.take(n) if n >= 0 else None
    life = r.i64() if ver >= 1 else 0
    return err, msg, auth, life


def metadata_ok(s):
    """A Metadata v1 request for no topic; True when it is answered."""
    try:
        r = send(s, 3, 1, i32(0))
        return r.i32() >= 0
    except (EOFError, ConnectionError, socket.timeout, AssertionError):
        return False


def plain(user, pw):
    return b"\0" + user.encode() + b"\0" + pw.encode()


def scram(mech, user, pw, exchange):
    """RFC 5802 client; exchange(bytes) -> server bytes.  Returns the result
    of the last exchange and whether the server signature verified."""
    hname = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}[mech]
    H = lambda b: hashlib.new(hname, b).digest()
    mac = lambda k, m: hmac.new(k, m, hname).digest()
    cnonce = base64.b64encode(os.urandom(18)).decode()
    bare = "n=%s,r=%s" % (user, cnonce)
    sf = exchange(("n,," + bare).encode())
    if sf is None:
        return None, False
    sf = sf.decode()
    at = dict(x.split("=", 1) for x in sf.split(","))
    if not at["r"].startswith(cnonce):
        return None, False
    salted = hashlib.pbkdf2_hmac(hname, pw.encode(), base64.b64decode(at["s"]), int(at["i"]))
    ck = mac(salted, b"Client Key")
    wo = "c=biws,r=" + at["r"]
    auth = (bare + "," + sf + "," + wo).encode()
    proof = bytes(a ^ b for a, b in zip(ck, mac(H(ck), auth)))
    final = exchange((wo + ",p=" + base64.b64encode(proof).decode()).encode())
    want = b"v=" + base64.b64encode(mac(mac(salted, b"Server Key"), auth))
    return final, final == want


def salted_password(mech, pw, salt, it):
    hname = {1: "sha256", 2: "sha512"}[mech]
    return hashlib.pbkdf2_hmac(hname, pw.encode(), salt, it)


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


def admin_conn():
    s = connect(PORT)
    handshake(s, "PLAIN")
    authenticate(s, plain("admin", ADMIN))
    return s


def alter(s, deletions, upsertions):
    body = uvarint(len(deletions) + 1)
    for name, mech in deletions:
        body += compact_string(name) + i8(mech) + uvarint(0)
    body += uvarint(len(upsertions) + 1)
    for name, mech, it, salt, salted in upsertions:
        body += compact_string(name) + i8(mech) + i32(it) + cbytes(salt) + cbytes(salted) + uvarint(0)
    body += uvarint(0)
    r = send(s, 51, 0, body, flexible=True)
    r.i32()

    def one():
        x = (r.compact_string(), r.i16(), r.compact_string())
        r.tags()
        return x
    return r.compact_array(one)


def describe(s, users):
    body = uvarint(0) if users is None else uvarint(len(users) + 1) + b"".join(
        compact_string(u) + uvarint(0) for u in users)
    r = send(s, 50, 0, body + uvarint(0), flexible=True)
    r.i32()
    top = (r.i16(), r.compact_string())

    def info():
        x = (r.i8(), r.i32())
        r.tags()
        return x

    def one():
        x = (r.compact_string(), r.i16(), r.compact_string(), r.compact_array(info))
        r.tags()
        return x
    return top, r.compact_array(one)


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


for name, fn in (("before authentication", before_auth), ("failures", failures),
                 ("v0 flow", v0_flow), ("SaslAuthenticate versions", scram_v1),
                 ("re-authentication", reauth), ("SCRAM credentials admin", scram_admin)):
    t.run(name, fn)
sys.exit(1 if t.failed else 0)
