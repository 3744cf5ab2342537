#!/usr/bin/env bash
# Compaction of a topic written by transactional producers (confluent-kafka
# through the coordinator): the cleaner removes the records of aborted
# transactions and keeps the latest committed value of every key; consumers
# in both isolation levels then read the same records; the producer's state
# (epoch, last sequence) survives the cleaning and a restart, so its next
# transaction is accepted in sequence.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/compaction_lib.sh"
need_cmd kcat
need_python_module kafka
need_python_module confluent_kafka
export PYTHONPATH=$T_CLIENTS
TOOL=$T_CLIENTS/txn_log_tool.py
E2E=$T_CLIENTS/txn_log_e2e.py

broker_start "log.cleaner.backoff.ms=200"
is "$("$PY" "$T_CLIENTS/admin_tool.py" "$BOOTSTRAP" create txc 1 cleanup.policy=compact \
    segment.bytes=4096 min.cleanable.dirty.ratio=0.01 min.compaction.lag.ms=3600000)" NO_ERROR \
    "create compacted topic txc (min.compaction.lag.ms holds the cleaner back)"

# 20 transactions over keys k0..k9, even ones committed, odd ones aborted;
# round r writes value c<r>/a<r> to every key.
specs=()
for r in $(seq 0 19); do
    kind=commit; v=c$r
    [ $((r % 2)) -eq 1 ] && { kind=abort; v=a$r; }
    items=()
    for k in $(seq 0 9); do items+=("k$k=$v"); done
    specs+=("$kind:$(IFS=,; echo "${items[*]}")")
done
out=$(TXN_PAD=150 timeout 120 "$PY" "$E2E" run "$BOOTSTRAP" cmp-tx txc "${specs[@]}" 2>"$T_TMP/run.err")
is "$(echo "$out" | sort | uniq -c | awk '{ print $1, $2 }')" "$(printf '10 abort\n10 commit')" \
    "10 committed and 10 aborted transactions"
# More committed rounds so the rounds above leave the active segment.
more=()
for r in $(seq 20 27); do
    items=()
    for k in $(seq 10 19); do items+=("k$k=f$r"); done
    more+=("commit:$(IFS=,; echo "${items[*]}")")
done
TXN_PAD=150 timeout 120 "$PY" "$E2E" run "$BOOTSTRAP" cmp-tx txc "${more[@]}" >/dev/null 2>>"$T_TMP/run.err"
ok $? "8 more committed transactions on keys k10..k19"
read_both() { # read_both ISOLATION: "key value" lines of the whole log, dots stripped
    timeout 60 "$PY" "$TOOL" consume "$BOOTSTRAP" txc "$1" | awk '{ sub(/\.+$/, "", $2); print $2 }'
}
before_uncommitted=$(read_both read_uncommitted | grep -c '^a')
is "$before_uncommitted" 100 "before cleaning: read_uncommitted sees the 100 aborted records"
state_before=$("$PY" "$TOOL" state "$BROKER_PORT" txc | grep '^producer')
like "$("$PY" "$T_CLIENTS/log_tool.py" config "$BROKER_PORT" txc min.compaction.lag.ms=0)" '"error": 0' \
    "min.compaction.lag.ms=0: the cleaner may start"

wait_cleaned txc 60
ok $? "cleaned up to the active segment"
rc_vals=$(read_both read_committed)
ru_vals=$(read_both read_uncommitted)
is "$(echo "$ru_vals" | grep -c '^a')" 0 "after cleaning: no record of an aborted transaction is left"
is "$ru_vals" "$rc_vals" "read_committed and read_uncommitted read the same records"
like "$(echo "$rc_vals" | grep -c '^c18$')" "^10$" "every key k0..k9 keeps its latest committed value c18"
is "$(echo "$rc_vals" | grep -c '^c')" 10 "and no older committed value"
is "$("$PY" "$TOOL" state "$BROKER_PORT" txc | grep '^producer')" "$state_before" \
    "DescribeProducers: the producer's epoch, last sequence and coordinator epoch survive"

broker_restart
is "$("$PY" "$TOOL" state "$BROKER_PORT" txc | grep '^producer')" "$state_before" \
    "after a restart too"
TXN_PAD=0 timeout 60 "$PY" "$E2E" run "$BOOTSTRAP" cmp-tx txc commit:k0=z >/dev/null 2>>"$T_TMP/run.err"
ok $? "the producer's next transaction is accepted"
is "$(read_both read_committed | tail -1)" "z" "and read"
broker_stop_ok
done_testing
