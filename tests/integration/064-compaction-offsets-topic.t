#!/usr/bin/env bash
# __consumer_offsets is compacted by the log cleaner: it is created with
# Kafka's internal-topic configs (cleanup.policy=compact, segment.bytes =
# offsets.topic.segment.bytes, compression.type=producer); thousands of
# commits of one group shrink to its latest commit per partition, the
# tombstones of a deleted group stay until delete.retention.ms after the
# first cleaning and then go, and the coordinator loads the compacted log
# after a restart (committed offsets read back with confluent-kafka).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_python_module confluent_kafka
need_python_module kafka

OC="$T_CLIENTS/offsets_compaction.py"
LT="timeout 60 $PY $T_CLIENTS/log_tool.py"
AT="$PY $T_CLIENTS/admin_tool.py"
T=__consumer_offsets

cfg_err() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)["error"])'; }

broker_start "log.cleaner.backoff.ms=200" "offsets.topic.num.partitions=1" \
    "offsets.topic.segment.bytes=16384" "group.initial.rebalance.delay.ms=0"
run_client "$PY" "$OC" commit "$BOOTSTRAP" oc-g 3000
is "$($AT "$BOOTSTRAP" describe $T cleanup.policy)" "compact 1" "$T: cleanup.policy=compact"
is "$($AT "$BOOTSTRAP" describe $T segment.bytes)" "16384 1" \
    "$T: segment.bytes = offsets.topic.segment.bytes"
is "$($AT "$BOOTSTRAP" describe $T compression.type)" "producer 1" "$T: compression.type=producer"
is "$(log_end $T)" 9000 "3000 commits of 3 partitions: 9000 records in $T-0"
# The internal topic takes config changes like any other: a short
# delete.retention.ms so the tombstones' horizon passes during the test.
is "$($LT config "$BROKER_PORT" $T delete.retention.ms=8000 | cfg_err)" 0 \
    "IncrementalAlterConfigs delete.retention.ms=8000 on $T"

# A deleted group leaves tombstones; later commits push them out of the
# active segment.
run_client "$PY" "$OC" commit "$BOOTSTRAP" oc-gone 5
run_client "$PY" "$OC" delete "$BOOTSTRAP" oc-gone
run_client "$PY" "$OC" commit "$BOOTSTRAP" oc-g 400
wait_cleaned $T 60
ok $? "the cleaner compacted $T up to its active segment"
run_client "$PY" "$OC" decode "$BOOTSTRAP" "$(active_base $T)" oc-g 400 oc-gone tombstones
like "$(grep -m1 "cleaned log $T-0" "$(broker_log)")" "cleaned log $T-0 \\(dirty section" \
    "the cleaner logs its work on $T-0"

# The coordinator replays the compacted log.
broker_restart
run_client "$PY" "$OC" after "$BOOTSTRAP" oc-g 400

# Past the tombstones' horizon (first cleaning + delete.retention.ms, KIP-534)
# the next cleaning removes them.
sleep 9
run_client "$PY" "$OC" commit "$BOOTSTRAP" oc-g 500
wait_cleaned $T 60
ok $? "cleaned again after the horizon"
run_client "$PY" "$OC" decode "$BOOTSTRAP" "$(active_base $T)" oc-g 500 oc-gone absent
broker_restart
run_client "$PY" "$OC" after "$BOOTSTRAP" oc-g 500

done_testing
