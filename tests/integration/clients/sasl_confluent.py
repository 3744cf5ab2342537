"""confluent-kafka (librdkafka) over SASL_PLAINTEXT: produce then consume
with one mechanism; a wrong password must fail with an authentication
error.  usage: sasl_confluent.py BOOTSTRAP MECH USER PASSWORD TOPIC"""
import sys

from confluent_kafka import Consumer, KafkaError, Producer

from taplib import Tap

bootstrap, mech, user, pw, topic = sys.argv[1:6]
t = Tap()
conf = {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": mech, "sasl.username": user, "sasl.password": pw}


def main():
    p = Producer(dict(conf))
    sent = [("k%d" % i, "%s value %d" % (mech, i)) for i in range(20)]
    for k, v in sent:
        p.produce(topic, v.encode(), k.encode())
    t.is_(p.flush(20), 0, "%s: 20 records produced and acknowledged" % mech)
    c = Consumer(dict(conf, **{"group.id": "g-" + topic, "auto.offset.reset": "earliest"}))
    c.subscribe([topic])
    got = []
    for _ in range(60):
        m = c.poll(1.0)
        if m is not None and not m.error():
            got.append((m.key().decode(), m.value().decode(), m.offset()))
        if len(got) >= len(sent):
            break
    c.close()
    t.is_(got, [(k, v, i) for i, (k, v) in enumerate(sent)],
          "%s: consumed back in order with offsets 0..19 (group join over SASL)" % mech)
    errs = []
    bad = Producer(dict(conf, **{"sasl.password": pw + "-wrong",
                                 "error_cb": lambda e: errs.append(e)}))
    bad.produce(topic, b"never")
    bad.flush(5)
    codes = {e.code() for e in errs}
    t.ok(KafkaError._AUTHENTICATION in codes,
         "%s: wrong password is an authentication error (%s)" % (mech, sorted(codes)))
    t.ok(any("invalid" in e.str().lower() or "authentication" in e.str().lower() for e in errs),
         "%s: the error carries the broker's message" % mech)


t.run("confluent-kafka " + mech, main)
sys.exit(1 if t.failed else 0)
