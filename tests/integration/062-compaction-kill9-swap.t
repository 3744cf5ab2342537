#!/usr/bin/env bash
# kill -9 in the middle of a cleaner swap leaves a valid log.  The test
# hook SLUICE_TEST_CLEANER_SWAP_PAUSE=N stops the broker's loop thread right
# after file operation N of a swap (1-3: .cleaned -> .swap, 4-6: old
# segment -> .deleted, 7-9: .swap -> final names); the test kills it there,
# restarts without the hook and checks that the log is readable and
# complete (every key's latest value, increasing offsets) and still
# compacts and takes writes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_python_module confluent_kafka

CONF=("log.cleaner.backoff.ms=100" "auto.create.topics.enable=false")
for step in 1 2 3 4 5 6 7 8 9; do
    topic=k9swap$step
    STATE=$T_TMP/state.$step.json
    export SLUICE_TEST_CLEANER_SWAP_PAUSE=$step
    broker_start "${CONF[@]}"
    # Not compacted until the data is in, so the first swap is a big one.
    "$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create $topic 1 segment.bytes=32768 >/dev/null
    run_client "$PY" "$CC" produce "$BOOTSTRAP" $topic 20000 300 "$STATE" 30
    "$PY" - "$BOOTSTRAP" "$topic" <<'PYEOF'
import sys
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({"bootstrap.servers": sys.argv[1]})
r = ConfigResource(ConfigResource.Type.TOPIC, sys.argv[2],
                   set_config={"segment.bytes": "32768", "cleanup.policy": "compact",
                               "min.cleanable.dirty.ratio": "0.01"})
try:
    # The answer may never come: the broker stops mid-swap right after it.
    a.alter_configs([r])[r].result(10)
except Exception:
    pass
PYEOF
    paused=1
    for _ in $(seq 1 200); do
        grep -q "test pause after swap step $step " "$(broker_log)" && { paused=0; break; }
        sleep 0.05
    done
    ok $paused "step $step: the cleaner stopped after swap file operation $step"
    broker_kill9
    diag "step $step: files at the kill: $(ls "$BROKER_DATA/$topic-0" | grep -E 'cleaned|swap|deleted' | tr '\n' ' ')"
    unset SLUICE_TEST_CLEANER_SWAP_PAUSE
    # Recovery alone first (cleaner off, so no new .cleaned files appear).
    broker_start "${CONF[@]}" "log.cleaner.enable=false"
    leftovers=$(ls "$BROKER_DATA/$topic-0" | grep -cE '\.(cleaned|swap)$')
    is "$leftovers" 0 "step $step: no .cleaned/.swap files after recovery"
    is "$(log_end $topic)" 20000 "step $step: log end offset 20000 after recovery"
    run_client "$PY" "$CC" verify "$BOOTSTRAP" $topic "$STATE" -1
    broker_stop_ok "step $step: recovered broker exits 0"
    # Then it compacts to completion and takes writes.
    broker_start "${CONF[@]}"
    wait_cleaned $topic 60
    ok $? "step $step: compaction completes after the restart"
    run_client "$PY" "$CC" produce "$BOOTSTRAP" $topic 1000 300 "$STATE"
    run_client "$PY" "$CC" verify "$BOOTSTRAP" $topic "$STATE" -1
    broker_stop_ok "step $step: broker exits 0"
done

done_testing
