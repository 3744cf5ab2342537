#!/usr/bin/env bash
# Exactly-once consume-transform-produce with confluent-kafka: a
# read_committed consumer in group ctp-g reads "in", a transactional
# producer writes each record upper-cased to "out" and commits the consumed
# offset with send_offsets_to_transaction (AddOffsetsToTxn +
# TxnOffsetCommit), one transaction per record.  The output and the group's
# committed offset must match exactly, also after a kill -9 (the offsets
# come back from __consumer_offsets, where they were written in
# transactional batches completed by their COMMIT markers).  Then fencing:
# a second producer with the same transactional.id aborts the first one's
# open transaction and fences it (PRODUCER_FENCED, fatal in librdkafka).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
S=$T_CLIENTS/txn_suite.py

broker_start "transaction.state.log.num.partitions=3" "offsets.topic.num.partitions=3"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" ctp-src "commit:in=m1,m2,m3,m4,m5")" \
    "commit ok" "five input records committed"
is "$(timeout 120 "$PY" "$S" ctp "$BOOTSTRAP" ctp-g in out ctp-tx 5)" "ctp ok 5" \
    "consume-transform-produce: five transactions with their offsets"
rc() { timeout 90 "$PY" "$S" consume "$BOOTSTRAP" "$1" "$2" | tr '\n' ' '; }
is "$(rc out read_committed)" "M1 M2 M3 M4 M5 " "out holds the transformed records, in order"
is "$(timeout 60 "$PY" "$S" committed "$BOOTSTRAP" ctp-g in)" "5" \
    "the group's committed offset of in-0 is 5 (committed by the transactions)"

broker_kill9
_broker_spawn
is "$(timeout 60 "$PY" "$S" committed "$BOOTSTRAP" ctp-g in)" "5" \
    "after kill -9 the transactional offset commits are still committed"
is "$(rc out read_committed)" "M1 M2 M3 M4 M5 " "and out reads the same"

fence=$(timeout 120 "$PY" "$S" fence "$BOOTSTRAP" fence-tx fenced 2>/dev/null)
is "$fence" "$(printf 'b init ok\na commit failed fatal=True _FENCED\nb commit ok')" \
    "the second producer fences the first: its commit fails with a fatal fenced error"
is "$(rc fenced read_committed)" "from-b " "only the second producer's record is committed"
is "$(rc fenced read_uncommitted)" "from-a from-b " \
    "the first producer's record is in the log, aborted"
state=$(timeout 30 "$PY" "$T_CLIENTS/txn_state_tool.py" dump "$BROKER_DATA")
like "$state" "fence-tx CompleteCommit pid=[0-9]+ epoch=2 " \
    "fencing bumped the epoch twice (abort of the open transaction, then the new producer)"
done_testing
