#!/usr/bin/python3
"""Print "ERR ID NPARTS" for a topic via a raw Metadata v12 request (no
client library exposes topic ids).  Usage: topic_info.py PORT TOPIC"""
import sys

import kwire

port, topic = int(sys.argv[1]), sys.argv[2]
s = kwire.connect(port)
s.sendall(kwire.metadata_v12_request([topic], 7))
corr, brokers, cluster, controller, topics = kwire.metadata_v12_response(kwire.recv_frame(s))
assert corr == 7, corr
err, name, tid, parts = topics[0]
print(err, tid.hex(), len(parts or []))
