#!/usr/bin/env bash
# kafka-python: admin create/delete, keyed records with headers and
# timestamps, group-less consumer with assign/seek, offsets_for_times and
# beginning/end offsets.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka

broker_start "auto.create.topics.enable=false"
run_client "$PY" "$T_CLIENTS/kafka_python_suite.py" "$BOOTSTRAP"
broker_alive
ok $? "broker still running after the client suite"
done_testing
