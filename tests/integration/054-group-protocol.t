#!/usr/bin/env bash
# Group coordinator APIs at the versions the client libraries don't send
# (raw frames): batched FindCoordinator and OffsetFetch, transaction and
# unknown coordinator key types, JoinGroup v0/v9 (static, SkipAssignment),
# SyncGroup v5, OffsetCommit v0/v2/v9, LeaveGroup by instance id,
# ListGroups filters, DescribeGroups, OffsetDelete, DeleteGroups.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create t1 2)" NO_ERROR "topic t1 created"
run_client "$PY" "$T_CLIENTS/group_protocol.py" "$BROKER_PORT"
broker_alive
ok $? "broker still running"
done_testing
