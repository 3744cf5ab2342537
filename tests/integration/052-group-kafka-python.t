#!/usr/bin/env bash
# kafka-python consumer groups (JoinGroup/SyncGroup/Heartbeat/LeaveGroup,
# OffsetCommit/OffsetFetch) and group admin (ListGroups, DescribeGroups,
# DeleteGroups).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module kafka

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false"
run_client "$PY" "$T_CLIENTS/kafka_python_groups.py" "$BOOTSTRAP"
broker_alive
ok $? "broker still running"
done_testing
