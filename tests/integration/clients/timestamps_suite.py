#!/usr/bin/python3
"""Record timestamps and sizes per topic, through confluent-kafka and raw
Produce v8 (log_tool) for the exact error codes, messages and RecordErrors:
message.timestamp.type=LogAppendTime, message.timestamp.before/after.max.ms
(KIP-937), the deprecated message.timestamp.difference.max.ms, the 1-hour
after.max.ms default, and max.message.bytes changed live.
Usage: timestamps_suite.py BOOTSTRAP PORT"""
import re
import sys
import time

from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME,
                             Consumer, KafkaError, Producer, TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

import log_tool
from taplib import Tap

T = Tap()
BOOT, PORT = sys.argv[1], int(sys.argv[2])
admin = AdminClient({"bootstrap.servers": BOOT})
now_ms = lambda: int(time.time() * 1000)  # noqa: E731


def create(name, **cfg):
    f = admin.create_topics([NewTopic(name, 1, 1, config={k.replace("_", "."): str(v)
                                                           for k, v in cfg.items()})])[name]
    f.result(timeout=30)


def produce_one(topic, value=b"v", ts=None):
    """(error code or None, (timestamp type, timestamp)) of one record."""
    p = Producer({"bootstrap.servers": BOOT, "acks": "all", "linger.ms": 0,
                  "message.timeout.ms": 10000, "retries": 0})
    out = []
    kw = {"timestamp": ts} if ts is not None else {}
    p.produce(topic, value=value, key=b"k", partition=0,
              on_delivery=lambda err, msg: out.append((err, msg.timestamp())), **kw)
    p.flush(30)
    err, tst = out[0]
    return (err.code() if err is not None else None), tst


def consume_all(topic):
    # assign(), not subscribe(): no group coordinator is involved.
    c = Consumer({"bootstrap.servers": BOOT, "group.id": "unused",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    msgs, end = [], time.time() + 20
    while time.time() < end:
        m = c.poll(0.5)
        if m is None:
            if msgs:
                break
            continue
        if m.error():
            continue
        msgs.append(m)
    c.close()
    return msgs


def latest(topic):
    return log_tool.offsets(PORT, topic, 0, -1)["offset"]


def log_append_time():
    create("lat", message_timestamp_type="LogAppendTime")
    create("ct")
    t0 = now_ms()
    err, (ttype, ts) = produce_one("lat", ts=1600000000000)
    t1 = now_ms()
    T.is_(err, None, "LogAppendTime topic: record with an old CreateTime accepted")
    T.is_(ttype, TIMESTAMP_LOG_APPEND_TIME, "delivery report: timestamp type LOG_APPEND_TIME")
    T.ok(t0 - 5 <= ts <= t1 + 5, "delivery report: the broker's append time (%d in [%d, %d])"
         % (ts, t0, t1))
    msgs = consume_all("lat")
    T.is_([(m.timestamp()[0], m.timestamp()[1]) for m in msgs], [(TIMESTAMP_LOG_APPEND_TIME, ts)],
          "consumer sees LOG_APPEND_TIME and the same append time, not the producer's")
    err, (ttype, ts2) = produce_one("ct", ts=1600000000000)
    T.is_((err, ttype, ts2), (None, TIMESTAMP_CREATE_TIME, 1600000000000),
          "CreateTime topic keeps the producer's timestamp")
    msgs = consume_all("ct")
    T.is_([m.timestamp() for m in msgs], [(TIMESTAMP_CREATE_TIME, 1600000000000)],
          "consumer sees CREATE_TIME with the producer's timestamp")
    r = log_tool.produce(PORT, "lat", 0, 8, ["now-5000", "now"])
    T.is_((r["error"], r["base"]), (0, 1), "raw Produce v8 to the LogAppendTime topic: offset 1")
    T.ok(r["now"] - 5 <= r["append_time"] <= now_ms() + 5,
         "Produce response LogAppendTimeMs is the append time (%d)" % r["append_time"])
    r = log_tool.produce(PORT, "ct", 0, 8, ["now"])
    T.is_((r["error"], r["append_time"]), (0, -1), "CreateTime topic: LogAppendTimeMs -1")
    # A producer may not claim LogAppendTime (LogValidator.validateTimestamp).
    r = log_tool.produce(PORT, "lat", 0, 8, ["lat:now"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP,
          "batch flagged LogAppendTime by the producer: INVALID_TIMESTAMP")
    want = ("Invalid timestamp type in message DefaultRecord(offset=0, timestamp=%d, key=2 bytes, "
            "value=2 bytes). Producer should not set timestamp type to LogAppendTime." % r["now"])
    T.is_(r["record_errors"], [[0, want]], "RecordErrors carries Kafka's message for record 0")
    r = log_tool.produce(PORT, "ct", 0, 8, ["lat:now"])
    T.is_(r["error"], 0, "on a CreateTime topic the flag passes when the timestamp is in range "
          "(Kafka checks the range first)")


def timestamp_bounds():
    create("tsv", message_timestamp_before_max_ms=60000, message_timestamp_after_max_ms=60000)
    hw = latest("tsv")
    r = log_tool.produce(PORT, "tsv", 0, 8, ["now", "now-120000", "now+120000", "now+30000"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP, "records 2 min off: INVALID_TIMESTAMP")
    T.is_(r["message"], "One or more records have been rejected due to invalid timestamp",
          "ErrorMessage is Kafka's")
    errs = r["record_errors"] or []
    T.is_([e[0] for e in errs], [1, 2], "RecordErrors name records 1 and 2 of the batch")
    pat = re.compile(r"^Timestamp (-?\d+) of message with offset (\d+) is out of range\. "
                     r"The timestamp should be within \[(-?\d+), (-?\d+)\]$")
    ms = [pat.match(e[1] or "") for e in errs]
    T.ok(all(ms), "each message is Kafka's wording: %r" % [e[1] for e in errs][:1])
    if all(ms) and len(ms) == 2:
        T.is_([(int(m.group(1)), int(m.group(2))) for m in ms],
              [(r["now"] - 120000, 1), (r["now"] + 120000, 2)],
              "messages give each record's timestamp and offset in the batch")
        lo, hi = int(ms[0].group(3)), int(ms[0].group(4))
        T.ok(hi - lo == 120000 and abs(lo - (r["now"] - 60000)) < 5000,
             "window is [now - before.max.ms, now + after.max.ms] = [%d, %d]" % (lo, hi))
    T.is_(latest("tsv"), hw, "nothing of the refused batch was appended")
    err, _ = produce_one("tsv", ts=now_ms() - 3600000)
    T.is_(err, KafkaError.INVALID_TIMESTAMP, "confluent-kafka: an hour old -> INVALID_TIMESTAMP")
    err, _ = produce_one("tsv", ts=now_ms() + 3600000)
    T.is_(err, KafkaError.INVALID_TIMESTAMP, "confluent-kafka: an hour ahead -> INVALID_TIMESTAMP")
    err, _ = produce_one("tsv", ts=now_ms() - 30000)
    T.is_(err, None, "confluent-kafka: 30 s old is accepted")
    # The deprecated single bound applies to both sides when they are unset.
    create("tsd", message_timestamp_difference_max_ms=60000)
    r = log_tool.produce(PORT, "tsd", 0, 8, ["now-120000"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP,
          "message.timestamp.difference.max.ms=60000: 2 min old refused")
    r = log_tool.produce(PORT, "tsd", 0, 8, ["now+120000"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP, "... and 2 min ahead refused")
    r = log_tool.produce(PORT, "tsd", 0, 8, ["now-30000", "now+30000"])
    T.is_(r["error"], 0, "... 30 s either way accepted")
    # Defaults (Kafka 4.0): no lower bound, one hour ahead at most.
    create("tsdef")
    r = log_tool.produce(PORT, "tsdef", 0, 8, ["now+7200000"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP, "default after.max.ms: 2 h ahead refused")
    r = log_tool.produce(PORT, "tsdef", 0, 8, ["now+1800000", "now-2592000000"])
    T.is_(r["error"], 0, "default: 30 min ahead and 30 days old accepted")
    # Changed live.
    res = log_tool.config(PORT, "tsdef", ["message.timestamp.before.max.ms=86400000"])
    T.is_(res["error"], 0, "IncrementalAlterConfigs message.timestamp.before.max.ms=1 day")
    r = log_tool.produce(PORT, "tsdef", 0, 8, ["now-2592000000"])
    T.is_(r["error"], KafkaError.INVALID_TIMESTAMP, "now a 30-day-old record is refused")


def max_message_bytes():
    create("mm", max_message_bytes=1000)
    err, _ = produce_one("mm", value=b"x" * 2000)
    T.is_(err, KafkaError.MSG_SIZE_TOO_LARGE,
          "confluent-kafka: 2000-byte record over max.message.bytes=1000: MSG_SIZE_TOO_LARGE")
    err, _ = produce_one("mm", value=b"x" * 500)
    T.is_(err, None, "a 500-byte record fits")
    import os
    os.environ["LOG_TOOL_VALUE_SIZE"] = "2000"
    r = log_tool.produce(PORT, "mm", 0, 8, ["now"])
    T.is_((r["error"], r["message"], r["record_errors"]), (KafkaError.MSG_SIZE_TOO_LARGE, None, []),
          "raw Produce v8: MESSAGE_TOO_LARGE with no ErrorMessage (as Kafka)")
    T.is_(latest("mm"), 1, "only the 500-byte record is in the log")
    res = log_tool.config(PORT, "mm", ["max.message.bytes=5000"])
    T.is_(res["error"], 0, "IncrementalAlterConfigs max.message.bytes=5000")
    r = log_tool.produce(PORT, "mm", 0, 8, ["now"])
    T.is_((r["error"], r["base"]), (0, 1), "the 2000-byte batch is accepted at once")
    del os.environ["LOG_TOOL_VALUE_SIZE"]


T.run("LogAppendTime", log_append_time)
T.run("timestamp bounds", timestamp_bounds)
T.run("max.message.bytes", max_message_bytes)
sys.exit(0)
