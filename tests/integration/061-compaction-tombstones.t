#!/usr/bin/env bash
# Tombstones on a compacted topic: a null value deletes its key; the
# first cleaning keeps the tombstone and stamps the batch's delete horizon
# (now + delete.retention.ms, KIP-534), and the first cleaning after the
# horizon removes it, without any older value of the key coming back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_python_module confluent_kafka

broker_start "log.cleaner.backoff.ms=200"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create tomb 1 cleanup.policy=compact \
    segment.bytes=32768 min.cleanable.dirty.ratio=0.01 delete.retention.ms=4000)" NO_ERROR \
    "create compacted topic with delete.retention.ms=4000"

STATE=$T_TMP/state.json
# 20,000 updates of 500 keys; the last update of keys 0..99 is a tombstone.
run_client "$PY" "$CC" produce "$BOOTSTRAP" tomb 20000 500 "$STATE" 100
# Other keys afterwards, so the tombstones leave the active segment.
run_client "$PY" "$CC" produce "$BOOTSTRAP" tomb 5000 500 "$STATE" 0 1000
t_first=$(date +%s)
wait_cleaned tomb 60
ok $? "first cleaning done"
run_client "$PY" "$CC" verify "$BOOTSTRAP" tomb "$STATE" -1 0 100

# Past the horizon, more updates make the log dirty again.
sleep 5
run_client "$PY" "$CC" produce "$BOOTSTRAP" tomb 5000 500 "$STATE" 0 1000
wait_cleaned tomb 60
ok $? "cleaning after delete.retention.ms done"
hw=$(log_end tomb)
active=$(active_base tomb)
# 400 live keys 0-499 minus the 100 deleted, 500 filler keys, plus the active segment.
run_client "$PY" "$CC" verify "$BOOTSTRAP" tomb "$STATE" $((900 + hw - active)) 1 0
diag "horizon passed after $(( $(date +%s) - t_first )) s"

done_testing
