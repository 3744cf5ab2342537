#!/usr/bin/python3
"""Transactions under the ACL authorizer (117): the admin (super user)
grants alice WRITE on topic tacl and WRITE/DESCRIBE on transactional id
tx-alice (kafka-python); alice's confluent-kafka transactional producer
commits with tx-alice and is refused TRANSACTIONAL_ID_AUTHORIZATION_FAILED
with tx-other; the admin reads the committed record.  Prints TAP.
usage: txn_acl.py SASL_PORT"""
import os
import sys

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from kafka import KafkaAdminClient
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, NewTopic,
                         ResourcePattern, ResourceType)

from taplib import Tap

t = Tap()
PORT = sys.argv[1]
PW = {"admin": os.environ["PW_ADMIN"], "alice": os.environ["PW_ALICE"]}


def conf(user, **extra):
    c = {"bootstrap.servers": "127.0.0.1:" + PORT, "security.protocol": "SASL_PLAINTEXT",
         "sasl.mechanisms": "PLAIN", "sasl.username": user, "sasl.password": PW[user]}
    c.update(extra)
    return c


a = KafkaAdminClient(bootstrap_servers="127.0.0.1:" + PORT, security_protocol="SASL_PLAINTEXT",
                     sasl_mechanism="PLAIN", sasl_plain_username="admin",
                     sasl_plain_password=PW["admin"], request_timeout_ms=15000)


def acl(op, rtype, name):
    return ACL("User:alice", "*", op, ACLPermissionType.ALLOW,
               ResourcePattern(rtype, name, ACLResourcePatternType.LITERAL))


a.create_topics([NewTopic("tacl", 1, 1)])
r = a.create_acls([acl(ACLOperation.WRITE, ResourceType.TOPIC, "tacl"),
                   acl(ACLOperation.DESCRIBE, ResourceType.TOPIC, "tacl"),
                   acl(ACLOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "tx-alice"),
                   acl(ACLOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, "tx-alice")])
t.is_(len(r["succeeded"]), 4, "admin grants alice WRITE on tacl and WRITE/DESCRIBE on tx-alice")

p = Producer(conf("alice", **{"transactional.id": "tx-alice"}))
p.init_transactions(30)
p.begin_transaction()
p.produce("tacl", value=b"from-alice", partition=0)
p.commit_transaction(30)
t.ok(True, "alice commits a transaction with tx-alice")

q = Producer(conf("alice", **{"transactional.id": "tx-other"}))
try:
    q.init_transactions(20)
    t.ok(False, "tx-other must be refused")
except KafkaException as e:
    t.is_(e.args[0].code(), KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
          "alice with tx-other: TRANSACTIONAL_ID_AUTHORIZATION_FAILED (%s)" % e.args[0].name())

c = Consumer(conf("admin", **{"group.id": "txn-acl-reader", "isolation.level": "read_committed",
                              "enable.partition.eof": True, "auto.offset.reset": "earliest"}))
c.assign([TopicPartition("tacl", 0, 0)])
got = []
while True:
    m = c.poll(10)
    if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
        break
    if not m.error():
        got.append(m.value().decode())
c.close()
t.is_(got, ["from-alice"], "the admin reads alice's committed record (read_committed)")
