#!/usr/bin/python3
"""Prints the API keys a broker advertises in ApiVersions v0, one
"KEY MIN MAX" line each, or "error CODE" when the response carries an error.
Usage: api_keys.py PORT"""
import sys

import kwire
from kwire import Reader, request

sock = kwire.connect(int(sys.argv[1]))
sock.sendall(request(18, 0, 1, b""))
r = Reader(kwire.recv_frame(sock))
r.i32()  # correlation id
err, keys = kwire.api_versions_v0_body(r)
if err:
    print("error %d" % err)
for key, lo, hi in keys:
    print("%d %d %d" % (key, lo, hi))
