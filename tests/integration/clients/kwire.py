"""Just enough of the Kafka wire format to hand-craft requests in tests
(no client library): big-endian ints, (compact) strings and arrays,
unsigned varints, request headers v1/v2, size-prefixed frames."""
import socket
import struct


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def compact_string(s):
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def request(api_key, api_version, corr, body, flexible=False, client_id="sluice-raw"):
    """A framed request: header v1 (v2 with an empty tag buffer if flexible)."""
    hdr = i16(api_key) + i16(api_version) + i32(corr) + string(client_id)
    if flexible:
        hdr += uvarint(0)
    payload = hdr + body
    return i32(len(payload)) + payload


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError("short read: need %d at %d of %d" % (n, self.p, len(self.d)))
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def uuid(self): return self.take(16)

    def uvarint(self):
        v = shift = 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def array(self, fn):
        n = self.i32()
        return None if n < 0 else [fn() for _ in range(n)]

    def compact_array(self, fn):
        n = self.uvarint()
        return None if n == 0 else [fn() for _ in range(n - 1)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        return self.p == len(self.d)


def connect(port, host="127.0.0.1", timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Conn:
    """One connection sending requests with increasing correlation ids;
    rpc() checks the response's correlation id and skips its header tags
    (flexible versions; ApiVersions, key 18, answers with header v0)."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = connect(port, host, timeout)
        self.corr = 0

    def rpc(self, api, ver, body, flexible):
        self.corr += 1
        self.sock.sendall(request(api, ver, self.corr, body, flexible=flexible))
        r = Reader(recv_frame(self.sock))
        assert r.i32() == self.corr, "correlation id"
        if flexible and api != 18:
            r.tags()
        return r


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    """One response frame's payload (after the size)."""
    (n,) = struct.unpack(">i", recv_exact(sock, 4))
    return recv_exact(sock, n)


def closed_by_peer(sock, timeout=5.0):
    """True when the peer closes (EOF or reset) without sending anything."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


# ----------------------------------------------------------- messages
def api_versions_v0_body(r):
    """error_code, [(key, min, max)] of an ApiVersions v0 body."""
    err = r.i16()
    keys = r.array(lambda: (r.i16(), r.i16(), r.i16()))
    return err, keys


def api_versions_v3_body(r):
    err = r.i16()

    def one():
        k, lo, hi = r.i16(), r.i16(), r.i16()
        r.tags()
        return (k, lo, hi)
    keys = r.compact_array(one)
    throttle = r.i32()
    r.tags()
    return err, keys, throttle


def metadata_v12_request(topics, corr):
    body = uvarint(len(topics) + 1)
    for t in topics:
        body += b"\0" * 16 + compact_string(t) + uvarint(0)
    body += i8(0) + i8(0) + uvarint(0)  # no auto-create, no authorized ops
    return request(3, 12, corr, body, flexible=True)


def metadata_v12_response(payload):
    """(corr, brokers, cluster_id, controller, topics) where topics are
    (error, name, topic_id_bytes, [(err, index, leader)])."""
    r = Reader(payload)
    corr = r.i32()
    r.tags()
    r.i32()  # throttle

    def broker():
        b = (r.i32(), r.compact_string(), r.i32(), r.compact_string())
        r.tags()
        return b

    brokers = r.compact_array(broker)
    cluster = r.compact_string()
    controller = r.i32()

    def int_arr():
        return r.compact_array(r.i32)

    def part():
        p = (r.i16(), r.i32(), r.i32())
        r.i32()  # leader epoch
        int_arr(); int_arr(); int_arr()
        r.tags()
        return p

    def topic():
        t = (r.i16(), r.compact_string(), r.uuid())
        r.i8()
        parts = r.compact_array(part)
        r.i32()
        r.tags()
        return t + (parts,)

    topics = r.compact_array(topic)
    r.tags()
    return corr, brokers, cluster, controller, topics
