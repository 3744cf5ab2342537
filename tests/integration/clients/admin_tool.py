#!/usr/bin/python3
"""Small confluent-kafka admin helper for the shell tests.
  admin_tool.py BOOT create TOPIC PARTITIONS [key=value...]   -> prints error name
  admin_tool.py BOOT describe TOPIC KEY                       -> "value source"
"""
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

boot, cmd, topic = sys.argv[1:4]
admin = AdminClient({"bootstrap.servers": boot})
if cmd == "create":
    cfg = dict(a.split("=", 1) for a in sys.argv[5:])
    f = admin.create_topics([NewTopic(topic, int(sys.argv[4]), 1, config=cfg)])[topic]
    try:
        f.result(timeout=30)
        print("NO_ERROR")
    except KafkaException as e:
        print(e.args[0].name())
elif cmd == "describe":
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    cfg = admin.describe_configs([res])[res].result(timeout=30)
    e = cfg.get(sys.argv[4])
    print("%s %d" % (e.value, int(getattr(e.source, "value", e.source))) if e else "MISSING")
else:
    sys.exit("unknown command " + cmd)
