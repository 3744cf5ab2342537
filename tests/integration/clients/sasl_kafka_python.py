"""kafka-python 2.0.2 speaks SASL with the legacy unwrapped flow
(SaslHandshake v0, then raw length-prefixed tokens): produce and consume
with one mechanism.  usage: sasl_kafka_python.py BOOTSTRAP MECH USER PASSWORD TOPIC"""
import sys

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, NoBrokersAvailable

from taplib import Tap

bootstrap, mech, user, pw, topic = sys.argv[1:6]
t = Tap()
common = dict(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT",
              sasl_mechanism=mech, sasl_plain_username=user, sasl_plain_password=pw)


def main():
    p = KafkaProducer(**common)
    offs = [p.send(topic, ("kp %s %d" % (mech, i)).encode()).get(timeout=15).offset for i in range(5)]
    p.close()
    t.is_(offs, [0, 1, 2, 3, 4], "kafka-python %s (v0 flow): 5 records at offsets 0..4" % mech)
    c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=5000, **common)
    got = [m.value.decode() for m in c]
    c.close()
    t.is_(got, ["kp %s %d" % (mech, i) for i in range(5)],
          "kafka-python %s: consumed back in order" % mech)
    try:
        KafkaProducer(**dict(common, sasl_plain_password=pw + "x"), api_version_auto_timeout_ms=3000)
        t.ok(False, "kafka-python %s: a wrong password is refused" % mech)
    except (NoBrokersAvailable, KafkaError) as e:
        t.ok(True, "kafka-python %s: a wrong password is refused (%s)" % (mech, type(e).__name__))


t.run("kafka-python " + mech, main)
sys.exit(1 if t.failed else 0)
