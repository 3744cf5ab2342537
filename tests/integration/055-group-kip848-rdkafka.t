#!/usr/bin/env bash
# KIP-848 consumer groups end to end with node-rdkafka's bundled librdkafka
# 2.12 (group.protocol=consumer, ConsumerGroupHeartbeat v1): members share a
# topic with every partition owned once, hand over on leave, resume from
# committed offsets after a broker restart (the group and its offsets are
# replayed from __consumer_offsets), group.remote.assignor=range vs uniform,
# and a regex subscription.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_node_module node-rdkafka

broker_start "group.initial.rebalance.delay.ms=0" "auto.create.topics.enable=false" \
    "unstable.api.versions.enable=true" "group.consumer.heartbeat.interval.ms=300" \
    "group.consumer.session.timeout.ms=10000"
run_client node "$T_JS/rdkafka_consumer_protocol.js" "$BOOTSTRAP" share
broker_restart
like "$(cat "$(broker_log)")" 'loaded [0-9]+ groups from __consumer_offsets' \
    "the restarted broker replays the groups from __consumer_offsets"
run_client node "$T_JS/rdkafka_consumer_protocol.js" "$BOOTSTRAP" resume
run_client node "$T_JS/rdkafka_consumer_protocol.js" "$BOOTSTRAP" assignors
broker_alive
ok $? "broker still running"
done_testing
