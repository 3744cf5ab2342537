#!/usr/bin/env bash
# __consumer_offsets holds Kafka's record formats: a Python decoder written
# from the group-coordinator schemas reads every record back (offsets,
# group metadata, partition = abs(hashCode(group)) % 50), and offsets and
# group state come back after kill -9 and a restart.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
need_python_module kafka

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false"
run_client "$PY" "$T_CLIENTS/offsets_topic_suite.py" "$BOOTSTRAP" write
run_client "$PY" "$T_CLIENTS/offsets_topic_suite.py" "$BOOTSTRAP" decode
broker_kill9
_broker_spawn
run_client "$PY" "$T_CLIENTS/offsets_topic_suite.py" "$BOOTSTRAP" decode
run_client "$PY" "$T_CLIENTS/offsets_topic_suite.py" "$BOOTSTRAP" after
like "$(grep -c 'loaded .* groups from __consumer_offsets' "$(broker_log)")" '^1$' \
    "the restarted broker loaded the groups"
broker_alive
ok $? "broker still running"
done_testing
