"""ACLs end to end with kafka-python over SASL_PLAINTEXT (PLAIN): the admin
(a super user) manages ACLs with CreateAcls/DescribeAcls/DeleteAcls, alice
and bob are checked per operation with Kafka's error codes.

usage: acl_suite.py PORT PHASE   (PHASE: main | after-restart)"""
import os
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ConfigResource,
                         ConfigResourceType, NewTopic, ResourcePattern, ResourcePatternFilter,
                         ResourceType, ACLResourcePatternType)
from kafka.errors import (ClusterAuthorizationFailedError, GroupAuthorizationFailedError,
                          KafkaError, TopicAuthorizationFailedError)

from taplib import Tap

PORT, PHASE = sys.argv[1], sys.argv[2]
t = Tap()
PW = {"admin": os.environ["PW_ADMIN"], "alice": os.environ["PW_ALICE"], "bob": os.environ["PW_BOB"]}


def common(user):
    return dict(bootstrap_servers="127.0.0.1:" + PORT, security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="PLAIN", sasl_plain_username=user, sasl_plain_password=PW[user],
                request_timeout_ms=15000, api_version_auto_timeout_ms=10000)


def admin(user="admin"):
    return KafkaAdminClient(**common(user))


def acl(user, op, perm, rtype, name, pattern=ACLResourcePatternType.LITERAL):
    return ACL("User:" + user, "*", op, perm, ResourcePattern(rtype, name, pattern))


def produce(user, topic, value):
    """The error class name, or 'ok'."""
    p = KafkaProducer(max_block_ms=10000, retries=0, **common(user))
    try:
        p.send(topic, value).get(timeout=15)
        return "ok"
    except KafkaError as e:
        return type(e).__name__
    finally:
        p.close(timeout=5)


def consume(user, topic, group=None, n=1):
    c = KafkaConsumer(group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=6000,
                      enable_auto_commit=False, **common(user))
    try:
        c.assign([TopicPartition(topic, 0)]) if group is None else c.subscribe([topic])
        got = []
        for m in c:
            got.append(m.value)
            if len(got) >= n:
                break
        if group is not None and got:
            c.commit()
        return got
    except KafkaError as e:
        return type(e).__name__
    finally:
        c.close()


def topic_error(fn, *args):
    """Error codes of a CreateTopics/DeleteTopics call (kafka-python raises
    on the first error)."""
    try:
        res = fn(*args)
    except KafkaError as e:
        return [e.errno]
    return [e[1] for e in getattr(res, "topic_errors", getattr(res, "topic_error_codes", []))]


def metadata_error(user, topic):
    """The error code of topic in a Metadata v1 response to user."""
    from kafka.protocol.metadata import MetadataRequest
    cli = KafkaAdminClient(**common(user))
    try:
        node = cli._client.least_loaded_node()
        fut = cli._client.send(node, MetadataRequest[1](topics=[topic]))
        cli._client.poll(future=fut, timeout_ms=10000)
        return fut.value.topics[0][0]
    finally:
        cli.close()


def err_name(e):
    return e.__name__ if isinstance(e, type) else type(e).__name__


def main():
    a = admin()
    t.is_(topic_error(a.create_topics, [NewTopic("orders", 1, 1), NewTopic("logs-app", 1, 1),
                                        NewTopic("logs-db", 1, 1)]),
          [0, 0, 0], "super user creates topics without any ACL")

    # Without ACLs (allow.everyone.if.no.acl.found=false) alice may do nothing.
    t.is_(metadata_error("alice", "orders"), 29,
          "Metadata for a topic without ACL: TOPIC_AUTHORIZATION_FAILED")
    ca = admin("alice")
    t.is_(sorted(ca.list_topics()), [], "Metadata hides every topic alice may not DESCRIBE")
    r = ca.create_acls([acl("alice", ACLOperation.ALL, ACLPermissionType.ALLOW,
                            ResourceType.TOPIC, "x")])
    t.is_([err_name(e) for _, e in r["failed"]], ["ClusterAuthorizationFailedError"],
          "CreateAcls by a non-super user: CLUSTER_AUTHORIZATION_FAILED")

    r = a.create_acls([
        acl("alice", ACLOperation.WRITE, ACLPermissionType.ALLOW, ResourceType.TOPIC, "orders"),
        acl("alice", ACLOperation.READ, ACLPermissionType.ALLOW, ResourceType.TOPIC, "logs-",
            ACLResourcePatternType.PREFIXED),
        acl("alice", ACLOperation.READ, ACLPermissionType.ALLOW, ResourceType.GROUP, "g-alice"),
        acl("alice", ACLOperation.DESCRIBE_CONFIGS, ACLPermissionType.ALLOW, ResourceType.TOPIC, "orders"),
        acl("bob", ACLOperation.ALL, ACLPermissionType.ALLOW, ResourceType.TOPIC, "*"),
        acl("bob", ACLOperation.WRITE, ACLPermissionType.DENY, ResourceType.TOPIC, "orders"),
        acl("bob", ACLOperation.CREATE, ACLPermissionType.ALLOW, ResourceType.CLUSTER, "kafka-cluster"),
    ])
    t.is_((len(r["succeeded"]), len(r["failed"])), (7, 0), "CreateAcls: seven ACLs created")
    r = a.create_acls([acl("alice", ACLOperation.READ, ACLPermissionType.ALLOW,
                           ResourceType.CLUSTER, "not-the-cluster")])
    t.is_([e.errno for _, e in r["failed"]], [42],
          "CreateAcls: a CLUSTER resource not named kafka-cluster is INVALID_REQUEST")

    t.is_(produce("alice", "orders", b"order-1"), "ok", "WRITE ACL: alice produces to orders")
    t.is_(produce("alice", "logs-app", b"nope"), "TopicAuthorizationFailedError",
          "READ-only prefixed ACL: produce to logs-app refused")
    t.is_(produce("admin", "logs-app", b"log-1"), "ok", "super user produces to logs-app")
    t.is_(consume("alice", "logs-app"), [b"log-1"], "prefixed READ ACL: alice fetches logs-app")
    t.is_(consume("alice", "orders"), "TopicAuthorizationFailedError",
          "no READ on orders: fetch refused with TOPIC_AUTHORIZATION_FAILED")
    t.is_(sorted(ca.list_topics()), ["logs-app", "logs-db", "orders"],
          "Metadata shows the topics alice may DESCRIBE (implied by READ/WRITE)")
    t.is_(consume("alice", "logs-db", group="g-alice"), [], "group with READ: join works (empty topic)")
    t.is_(produce("admin", "logs-db", b"db-1"), "ok", "super user produces to logs-db")
    t.is_(consume("alice", "logs-db", group="g-alice"), [b"db-1"],
          "READ on group and topic: join, fetch and commit")
    t.is_(consume("alice", "logs-db", group="g-other"), "GroupAuthorizationFailedError",
          "no READ on the group: GROUP_AUTHORIZATION_FAILED")
    # deny wins over bob's ALLOW ALL on '*'
    t.is_(produce("bob", "orders", b"bob"), "TopicAuthorizationFailedError",
          "DENY WRITE beats ALLOW ALL on '*': TOPIC_AUTHORIZATION_FAILED")
    t.is_(produce("bob", "logs-app", b"bob-log"), "ok", "ALLOW ALL on '*': bob writes logs-app")

    # create / delete topic
    cb = admin("bob")
    t.is_(topic_error(cb.create_topics, [NewTopic("bob-topic", 1, 1)]), [0],
          "CREATE on the cluster: bob creates a topic")
    t.is_(topic_error(ca.create_topics, [NewTopic("alice-topic", 1, 1)]), [29],
          "no CREATE: CreateTopics TOPIC_AUTHORIZATION_FAILED (29)")
    t.is_(topic_error(ca.delete_topics, ["logs-app"]), [29],
          "no DELETE: DeleteTopics TOPIC_AUTHORIZATION_FAILED (29)")
    t.is_(topic_error(cb.delete_topics, ["bob-topic"]), [0], "ALLOW ALL: bob deletes his topic")
    t.is_(topic_error(ca.delete_topics, ["ghost"]), [29],
          "deleting an unknown topic without DESCRIBE: TOPIC_AUTHORIZATION_FAILED (existence hidden)")
    t.is_(topic_error(a.delete_topics, ["ghost"]), [3],
          "the super user deleting it: UNKNOWN_TOPIC_OR_PARTITION")

    # describe configs
    r = ca.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "orders")])
    t.is_(r[0].resources[0][0], 0, "DESCRIBE_CONFIGS on orders: DescribeConfigs works")
    r = ca.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "logs-app")])
    t.is_(r[0].resources[0][0], 29, "no DESCRIBE_CONFIGS: TOPIC_AUTHORIZATION_FAILED (29)")
    r = ca.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])
    t.is_(r[0].resources[0][0], 31, "broker configs without cluster DESCRIBE_CONFIGS: 31")

    # DescribeAcls filters
    found = a.describe_acls(ACLFilter("User:alice", None, ACLOperation.ANY, ACLPermissionType.ANY,
                                      ResourcePatternFilter(ResourceType.ANY, None,
                                                            ACLResourcePatternType.ANY)))[0]
    t.is_(len(found), 4, "DescribeAcls by principal: alice's four ACLs")
    found = a.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                      ResourcePatternFilter(ResourceType.TOPIC, "logs-app",
                                                            ACLResourcePatternType.MATCH)))[0]
    t.is_(sorted((x.principal, x.resource_pattern.resource_name) for x in found),
          [("User:alice", "logs-"), ("User:bob", "*")],
          "DescribeAcls MATCH logs-app: the prefixed and the wildcard ACL")
    bob_admin = admin("bob")
    try:
        bob_admin.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                          ResourcePatternFilter(ResourceType.ANY, None,
                                                                ACLResourcePatternType.ANY)))
        t.ok(False, "DescribeAcls without cluster DESCRIBE is refused")
    except KafkaError as e:
        t.ok("ClusterAuthorization" in type(e).__name__ or "31" in str(e),
             "DescribeAcls without cluster DESCRIBE: CLUSTER_AUTHORIZATION_FAILED")
    # DeleteAcls: remove bob's deny, then bob writes orders
    r = a.delete_acls([ACLFilter("User:bob", None, ACLOperation.WRITE, ACLPermissionType.DENY,
                                 ResourcePatternFilter(ResourceType.TOPIC, "orders",
                                                       ACLResourcePatternType.LITERAL))])
    t.is_(len(r[0][1]), 1, "DeleteAcls removes bob's DENY")
    t.is_(produce("bob", "orders", b"bob-2"), "ok", "without the DENY, ALLOW ALL lets bob write")
    for x in (a, ca, cb, bob_admin):
        x.close()


def after_restart():
    a = admin()
    found = a.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                      ResourcePatternFilter(ResourceType.ANY, None,
                                                            ACLResourcePatternType.ANY)))[0]
    t.is_(len(found), 6, "after restart: the six remaining ACLs are back")
    t.is_(produce("alice", "orders", b"order-2"), "ok", "after restart: alice still writes orders")
    t.is_(produce("alice", "logs-app", b"nope"), "TopicAuthorizationFailedError",
          "after restart: alice still may not write logs-app")
    t.is_(consume("alice", "logs-app"), [b"log-1"], "after restart: prefixed READ still works")
    a.close()


t.run("acl suite", main if PHASE == "main" else after_restart)
sys.exit(1 if t.failed else 0)
