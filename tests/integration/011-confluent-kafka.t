#!/usr/bin/env bash
# confluent-kafka-python (librdkafka): admin (create/validate/describe/alter
# configs, partitions, delete), acks=all/1/0 producers with keys, headers and
# timestamps, group-less consumer reading everything back exactly,
# watermarks, offsets_for_times and the message.max.bytes limit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka

broker_start "message.max.bytes=10000" "auto.create.topics.enable=false"
run_client "$PY" "$T_CLIENTS/confluent_kafka_suite.py" "$BOOTSTRAP"
broker_alive
ok $? "broker still running after the client suite"
done_testing
