#!/usr/bin/env bash
# transaction.timeout.ms: a producer that opens a transaction and then hangs
# is aborted by the coordinator once its timeout (2 s here) has passed,
# checked every transaction.abort.timed.out.transaction.cleanup.interval.ms:
# the coordinator bumps the epoch (fencing the stuck producer), writes
# ABORT markers and CompleteAbort.  read_committed consumers then get past
# the open records (the LSO moves) and never see them; a later producer
# with the same transactional.id works normally.  A timeout above
# transaction.max.timeout.ms is refused at InitProducerId.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
need_python_module confluent_kafka
need_python_module kafka
S=$T_CLIENTS/txn_suite.py

broker_start "transaction.state.log.num.partitions=3" \
    "transaction.abort.timed.out.transaction.cleanup.interval.ms=500" \
    "transaction.max.timeout.ms=60000"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" before "commit:tt=c1")" "commit ok" \
    "a committed record before the stuck transaction"
"$PY" "$S" hang "$BOOTSTRAP" stuck tt s1,s2,s3 2000 >"$T_TMP/hang.out" 2>"$T_TMP/hang.err" &
hang=$!
for _ in $(seq 1 300); do grep -q open "$T_TMP/hang.out" && break; sleep 0.1; done
is "$(cat "$T_TMP/hang.out")" "open" "a producer opened a transaction (2 s timeout) and hangs"
state=""
for _ in $(seq 1 100); do
    state=$(timeout 30 "$PY" "$T_CLIENTS/txn_state_tool.py" dump "$BROKER_DATA" | grep '^stuck ')
    case "$state" in *CompleteAbort*) break ;; esac
    sleep 0.2
done
like "$state" "^stuck CompleteAbort pid=[0-9]+ epoch=1 timeout=2000 " \
    "the coordinator aborted it after its timeout with the epoch bumped to 1"
kill "$hang" 2>/dev/null; wait "$hang" 2>/dev/null
rc() { timeout 90 "$PY" "$S" consume "$BOOTSTRAP" "$1" "$2" | tr '\n' ' '; }
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" after "commit:tt=c2")" "commit ok" \
    "another producer commits after the abort"
is "$(rc tt read_committed)" "c1 c2 " "read_committed: the aborted records are never seen"
is "$(rc tt read_uncommitted)" "c1 s1 s2 s3 c2 " "read_uncommitted: they are in the log"
is "$(timeout 90 "$PY" "$S" produce "$BOOTSTRAP" stuck "commit:tt=c3")" "commit ok" \
    "the timed-out transactional id is usable again"
like "$(timeout 30 "$PY" "$T_CLIENTS/txn_state_tool.py" dump "$BROKER_DATA" | grep '^stuck ')" \
    "^stuck CompleteCommit pid=[0-9]+ epoch=2 " "with the next epoch"
done_testing
