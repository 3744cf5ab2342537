"""Hand-made Kafka SASL client pieces (no library) for the SASL tests:
SaslHandshake, SaslAuthenticate v0-2, an RFC 5802 SCRAM client, PLAIN
tokens, Alter/DescribeUserScramCredentials.  init(port, env) first."""
import base64
import hashlib
import hmac
import os
import socket
import struct

from kwire import (Reader, compact_string, connect, i8, i32, recv_frame, request, string,
                   uvarint)

PORT = None
ADMIN = None
corr = [0]


def init(port, admin_pw):
    global PORT, ADMIN
    PORT, ADMIN = port, admin_pw


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


