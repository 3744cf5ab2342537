"""confluent-kafka over SSL: produce and consume with a client certificate,
and the failures a client without one (ssl.client.auth=required) or one
trusting an unrelated CA sees.

usage: tls_confluent.py SSL_BOOTSTRAP CERT_DIR TOPIC"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from taplib import Tap

t = Tap()
t.plan(8)
bootstrap, certs, topic = sys.argv[1], sys.argv[2], sys.argv[3]
base = {"bootstrap.servers": bootstrap, "security.protocol": "SSL",
        "ssl.ca.location": certs + "/ca.pem"}
with_cert = dict(base, **{"ssl.certificate.location": certs + "/client.pem",
                          "ssl.key.location": certs + "/client.key"})


def produce_consume():
    p = Producer(dict(with_cert, **{"acks": "all", "linger.ms": 5}))
    errs = []
    for i in range(200):
        p.produce(topic, key=b"k%d" % i, value=b"ssl value %d" % i,
                  headers=[("h", b"%d" % i)],
                  on_delivery=lambda e, m: e and errs.append(e))
    left = p.flush(30)
    t.ok(left == 0 and not errs, "200 records delivered over SSL with a client cert (%r)" % errs[:1])
    c = Consumer(dict(with_cert, **{"group.id": "tls-g", "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 30
    while len(got) < 200 and time.time() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            continue
        got.append((m.offset(), m.key(), m.value(), m.headers()))
    c.close()
    want = [(i, b"k%d" % i, b"ssl value %d" % i, [("h", b"%d" % i)]) for i in range(200)]
    t.is_(got, want, "consumed over SSL: offsets, keys, values, headers in order")


def failing(conf, desc, want_codes, want_text):
    errors = []
    p = Producer(dict(conf, **{"error_cb": errors.append, "socket.timeout.ms": 3000,
                               "reconnect.backoff.max.ms": 500}))
    deadline = time.time() + 4
    while time.time() < deadline and not errors:
        p.poll(0.2)
    listed = None
    try:
        listed = p.list_topics(timeout=2)
    except Exception as e:  # noqa: BLE001 - the failure is the point
        errors.append(e.args[0] if e.args else e)
    t.ok(listed is None, desc + ": metadata request fails")
    texts = " | ".join(str(e) for e in errors)
    codes = {e.code() for e in errors if isinstance(e, KafkaError)}
    good = bool(codes & want_codes) and want_text in texts
    t.ok(good, "%s: error %s mentioning %r" % (desc, "/".join(sorted(map(str, want_codes))),
                                                want_text))
    if not good:
        t.diag(texts[:600])


t.run("produce/consume with a client certificate", produce_consume)
ssl_or_transport = {KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN}
t.run("no client certificate", failing, base, "no client certificate (ssl.client.auth=required)",
      ssl_or_transport, "certificate required")
t.run("wrong CA", failing, dict(with_cert, **{"ssl.ca.location": certs + "/other-ca.pem"}),
      "trusting an unrelated CA", ssl_or_transport, "certificate verify failed")
other = dict(base, **{"ssl.certificate.location": certs + "/other-client.pem",
                      "ssl.key.location": certs + "/other-client.key"})
t.run("client cert from another CA", failing, other, "client certificate of an unrelated CA",
      ssl_or_transport, "unknown ca")
sys.exit(1 if t.failed else 0)
