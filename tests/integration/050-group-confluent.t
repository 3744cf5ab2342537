#!/usr/bin/env bash
# Consumer groups with confluent-kafka (librdkafka): range, roundrobin and
# cooperative-sticky client assignors on 6 partitions, hand-over when a
# member leaves, resume at the committed offsets after a broker restart,
# static membership (KIP-345) across a member restart.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false"
run_client "$PY" "$T_CLIENTS/group_suite.py" "$BOOTSTRAP" assign
run_client "$PY" "$T_CLIENTS/group_suite.py" "$BOOTSTRAP" commit "$T_TMP/committed"
broker_restart
run_client "$PY" "$T_CLIENTS/group_suite.py" "$BOOTSTRAP" resume "$T_TMP/committed"
run_client "$PY" "$T_CLIENTS/group_suite.py" "$BOOTSTRAP" static
broker_alive
ok $? "broker still running"
done_testing
