#!/usr/bin/env bash
# kafkajs consumer groups (read_committed) and group admin.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_node_module kafkajs

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false"
run_client node "$T_JS/kafkajs_groups.js" "$BOOTSTRAP"
broker_alive
ok $? "broker still running"
done_testing
