#!/usr/bin/env bash
# Per-topic record timestamps and sizes end to end: LogAppendTime seen by a
# real client (confluent-kafka reports TIMESTAMP_LOG_APPEND_TIME), Kafka's
# INVALID_TIMESTAMP errors with their exact messages and RecordErrors
# (before/after.max.ms, difference.max.ms, the Kafka 4.0 defaults, changes
# applied live), and max.message.bytes per topic (MESSAGE_TOO_LARGE).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka
need_python_module confluent_kafka
need_cmd timeout

broker_start
run_client "$PY" "$T_CLIENTS/timestamps_suite.py" "$BOOTSTRAP" "$BROKER_PORT"
done_testing
