"""confluent-kafka transactional producers shared by txn_suite.py and
txn_log_e2e.py: the producer configuration of those tests and a
transaction left open with records on partition 0."""
from confluent_kafka import Producer


def producer(boot, txid, **extra):
    conf = {"bootstrap.servers": boot, "transactional.id": txid, "linger.ms": 5}
    conf.update(extra)
    return Producer(conf)


def open_transaction(boot, txid, topic, values, **extra):
    """A producer (extra: more config) in a begun transaction holding
    VALUES (comma-separated) on TOPIC partition 0, flushed."""
    p = producer(boot, txid, **extra)
    p.init_transactions(30)
    p.begin_transaction()
    for v in values.split(","):
        p.produce(topic, value=v.encode(), partition=0)
    p.flush(30)
    return p
