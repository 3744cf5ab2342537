#!/usr/bin/python3
"""Hand-framed Kafka requests (no client library) for 030-protocol-edge.t:
ApiVersions v0/v3, unsupported versions and api keys, oversized and
negative frame sizes, split frames, pipelining.
Usage: raw_protocol.py PORT MAX_REQUEST_BYTES"""
import socket
import sys
import time

import kwire
from kwire import Reader, i32, request, compact_string, uvarint
from taplib import Tap

PORT = int(sys.argv[1])
MAX_REQ = int(sys.argv[2])
T = Tap()
UNSUPPORTED_VERSION = 35


def api_versions_v0(sock, corr):
    sock.sendall(request(18, 0, corr, b""))
    r = Reader(kwire.recv_frame(sock))
    got_corr = r.i32()
    err, keys = kwire.api_versions_v0_body(r)
    return got_corr, err, keys, r.done()


def t_api_versions():
    s = kwire.connect(PORT)
    corr, err, keys, done = api_versions_v0(s, 11)
    T.is_((corr, err), (11, 0), "ApiVersions v0: correlation id 11, no error")
    ranges = {k: (lo, hi) for k, lo, hi in keys or []}
    T.ok(18 in ranges and ranges[18][0] == 0 and ranges[18][1] >= 3,
         "ApiVersions v0 lists ApiVersions (18) from v0 to at least v3")
    T.ok(all(k in ranges for k in (0, 1, 2, 3)),
         "ApiVersions v0 lists Produce, Fetch, ListOffsets, Metadata")
    T.ok(all(lo <= hi for lo, hi in ranges.values()), "every range has min <= max")
    T.ok(done, "ApiVersions v0 body has no trailing bytes")

    # v3 is flexible, but its response header stays v0 (no tag buffer), so
    # clients that do not know the broker's versions yet can parse it.
    body = compact_string("sluice-raw-test") + compact_string("1.0") + uvarint(0)
    s.sendall(request(18, 3, 12, body, flexible=True))
    r = Reader(kwire.recv_frame(s))
    corr = r.i32()
    err, keys3, throttle = kwire.api_versions_v3_body(r)
    T.is_((corr, err, throttle), (12, 0, 0), "ApiVersions v3: correlation id, no error, throttle 0")
    T.is_(sorted(keys3 or []), sorted(keys or []), "ApiVersions v3 lists the same ranges as v0")
    T.ok(r.done(), "ApiVersions v3 response parses exactly (header v0, compact body)")
    s.close()
    return ranges


def t_unsupported(ranges):
    # A too-new ApiVersions: Kafka answers UNSUPPORTED_VERSION in the v0
    # format so the client can retry with a version it supports.
    s = kwire.connect(PORT)
    s.sendall(request(18, 127, 21, b""))
    r = Reader(kwire.recv_frame(s))
    corr = r.i32()
    err, keys = kwire.api_versions_v0_body(r)
    T.is_((corr, err), (21, UNSUPPORTED_VERSION),
          "ApiVersions v127: UNSUPPORTED_VERSION (35) with the correlation id")
    T.ok(any(k == 18 for k, _, _ in keys or []),
         "the v0-format error body lists ApiVersions' supported range")
    corr, err, _, _ = api_versions_v0(s, 22)
    T.is_((corr, err), (22, 0), "the connection stays usable afterwards")
    s.close()

    # An api key nobody knows: Kafka cannot parse the header and closes.
    s = kwire.connect(PORT)
    s.sendall(request(9999, 0, 23, b""))
    closed = kwire.closed_by_peer(s)
    T.ok(closed, "unknown api key 9999: connection closed")
    s.close()

    # Another API at an unsupported version: Kafka closes the connection.
    hi = ranges.get(3, (0, 12))[1]
    s = kwire.connect(PORT)
    s.sendall(request(3, hi + 1, 24, i32(0)))
    T.ok(kwire.closed_by_peer(s), "Metadata v%d (one past the max): connection closed" % (hi + 1))
    s.close()


def t_frames():
    s = kwire.connect(PORT)
    try:
        s.sendall(i32(MAX_REQ + 1) + b"\0" * 64)
    except OSError:
        pass
    T.ok(kwire.closed_by_peer(s), "frame of socket.request.max.bytes+1 (%d): connection closed" % (MAX_REQ + 1))
    s.close()

    s = kwire.connect(PORT)
    s.sendall(i32(-5))
    T.ok(kwire.closed_by_peer(s), "negative frame size: connection closed")
    s.close()

    s = kwire.connect(PORT)
    s.sendall(i32(3) + b"\0\x12\0")  # shorter than a request header
    T.ok(kwire.closed_by_peer(s), "3-byte frame (truncated header): connection closed")
    s.close()

    # A request dribbled in small pieces is reassembled.
    s = kwire.connect(PORT)
    frame = request(18, 0, 31, b"")
    for b in frame:
        s.sendall(bytes([b]))
        time.sleep(0.01)
    r = Reader(kwire.recv_frame(s))
    T.is_((r.i32(), r.i16()), (31, 0), "request sent one byte at a time is answered")
    s.close()


def metadata_v1(corr):
    return request(3, 1, corr, i32(0))  # v1: empty topic list = no topics


def parse_metadata_v1(payload):
    r = Reader(payload)
    corr = r.i32()
    brokers = r.array(lambda: (r.i32(), r.string(), r.i32(), r.string()))
    controller = r.i32()
    topics = r.array(lambda: None)
    return corr, brokers, controller, topics, r.done()


def t_pipeline():
    s = kwire.connect(PORT)
    corrs = list(range(100, 105))
    s.sendall(b"".join(metadata_v1(c) for c in corrs))
    resps = [parse_metadata_v1(kwire.recv_frame(s)) for _ in corrs]
    T.is_([r[0] for r in resps], corrs, "5 pipelined Metadata v1: answered in order")
    b = resps[0][1] or []
    T.ok(len(b) == 1 and b[0][1] == "127.0.0.1" and b[0][2] == PORT,
         "Metadata v1 lists one broker at 127.0.0.1:%d" % PORT)
    if b:
        T.diag("broker: %r controller %r" % (b[0], resps[0][2]))
    T.ok(all(r[3] == [] and r[4] for r in resps), "no topics requested, none returned, exact parse")

    # Interleaved APIs in one write still come back in request order.
    s.sendall(metadata_v1(200) + request(18, 0, 201, b"") + metadata_v1(202)
              + request(18, 0, 203, b""))
    order = []
    for _ in range(4):
        order.append(Reader(kwire.recv_frame(s)).i32())
    T.is_(order, [200, 201, 202, 203], "interleaved Metadata/ApiVersions: in order")

    # 200 small requests in one go: back-pressure must not lose any.
    s.sendall(b"".join(request(18, 0, 1000 + i, b"") for i in range(200)))
    got = [Reader(kwire.recv_frame(s)).i32() for _ in range(200)]
    T.is_(got, list(range(1000, 1200)), "200 pipelined ApiVersions answered in order")
    s.close()


def t_alive():
    s = kwire.connect(PORT)
    corr, err, _, _ = api_versions_v0(s, 999)
    T.is_((corr, err), (999, 0), "broker still answers on a fresh connection")
    s.close()


ranges = T.run("ApiVersions", t_api_versions) or {}
T.run("unsupported versions", t_unsupported, ranges)
T.run("frames", t_frames)
T.run("pipelining", t_pipeline)
T.run("alive", t_alive)
